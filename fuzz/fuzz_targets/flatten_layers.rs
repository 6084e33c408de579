#![no_main]
//! Layers applied in order: the input is cut into 2 to 4 parts, each a
//! layer tar (plain or compressed), flattened through pare-image's public
//! API with the capture and scanners `pare sbom` and `pare minify` use;
//! then every symlink of the result is resolved.

use libfuzzer_sys::fuzz_target;
use pare_image::flatten::Flattener;
use pare_image::tree::NodeKind;

fuzz_target!(|data: &[u8]| {
    let parts = pare_fuzz::split(data, 4);
    let mut flattener = Flattener::with_capture(pare_sbom::capture_predicate())
        .scanning(Box::new(pare_sbom::executables::ExecutableScanner))
        .scanning(Box::new(pare_elf::image::ElfScanner));
    for (i, layer) in parts.iter().enumerate() {
        if flattener
            .apply_layer(*layer, &format!("layer {}", i + 1))
            .is_err()
        {
            return;
        }
    }
    let (tree, _layers) = flattener.finish();
    let links: Vec<String> = tree
        .iter()
        .filter(|(_, node)| matches!(node.kind, NodeKind::Symlink(_)))
        .map(|(path, _)| path.to_string())
        .collect();
    for path in links {
        let _ = tree.resolve(&path, true);
        let _ = tree.resolve_traced(&path);
    }
});
