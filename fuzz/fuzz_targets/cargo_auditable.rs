#![no_main]
//! cargo-auditable data: an executable streamed through the scanner in
//! chunks and read from a file through its section table (the `dir:`
//! path), then the JSON it inflated; input starting with `{` is read as
//! the JSON directly.

use std::io::Write as _;

use libfuzzer_sys::fuzz_target;
use pare_image::scan::ContentScanner;
use pare_sbom::executables::{Embedded, ExecutableScanner};

fn packages(found: Option<pare_image::scan::Finding>) {
    if let Some(found) = found
        && let Ok(embedded) = found.downcast::<Embedded>()
        && let Some(json) = &embedded.rust_audit
    {
        let _ = pare_sbom::rust::packages(json, "/bin/x", None);
    }
}

fuzz_target!(|data: &[u8]| {
    if data.first() == Some(&b'{') {
        let _ = pare_sbom::rust::packages(data, "/bin/x", None);
        return;
    }
    let size = data.len() as u64;
    let Some(mut scan) = ExecutableScanner.start("bin/x", size, 0o755) else {
        return;
    };
    for piece in data.chunks(pare_fuzz::chunk_size(data)) {
        if !scan.feed(piece) {
            break;
        }
    }
    packages(scan.finish());
    let Ok(mut file) = tempfile::tempfile() else {
        return;
    };
    if file.write_all(data).is_err() {
        return;
    }
    if let Some(scan) = ExecutableScanner.start("bin/x", size, 0o755)
        && let Ok(found) = ExecutableScanner.scan_file(file, scan)
    {
        packages(found);
    }
});
