#![no_main]
//! Go build info: an executable streamed through the scanner in chunks
//! (build-info header, varints, version-in-contents search), then the
//! module list it found; input that is not ELF is read as module-info
//! text directly.

use libfuzzer_sys::fuzz_target;
use pare_image::scan::ContentScanner;
use pare_sbom::executables::{Embedded, ExecutableScanner, GoEmbedded};

fuzz_target!(|data: &[u8]| {
    if !data.starts_with(b"\x7fELF") {
        let parts = pare_fuzz::split(data, 3);
        let go = GoEmbedded {
            go_version: String::from_utf8_lossy(parts[0]).into_owned(),
            modinfo: String::from_utf8_lossy(parts.get(1).copied().unwrap_or_default())
                .into_owned(),
            legacy: false,
            version_in_contents: parts
                .get(2)
                .map(|v| String::from_utf8_lossy(v).into_owned()),
        };
        let _ = pare_sbom::golang::packages(&go, "/bin/x", Some(0));
        return;
    }
    let Some(mut scan) = ExecutableScanner.start("bin/x", data.len() as u64, 0o755) else {
        return;
    };
    for piece in data.chunks(pare_fuzz::chunk_size(data)) {
        if !scan.feed(piece) {
            break;
        }
    }
    if let Some(found) = scan.finish()
        && let Ok(embedded) = found.downcast::<Embedded>()
        && let Some(go) = &embedded.go
    {
        let _ = pare_sbom::golang::packages(go, "/bin/x", Some(0));
    }
});
