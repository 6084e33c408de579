#![no_main]
//! rpm's Berkeley DB `Packages` and the header blobs in it; also the whole
//! input as one header blob.

use libfuzzer_sys::fuzz_target;
use pare_sbom::rpm;

fuzz_target!(|data: &[u8]| {
    if let Ok(blobs) = rpm::values(data) {
        let total: usize = blobs.iter().map(Vec::len).sum();
        assert!(
            total <= data.len(),
            "{total} bytes of values from {} bytes",
            data.len()
        );
        for blob in &blobs {
            let _ = rpm::parse_header(blob);
        }
    }
    let _ = rpm::parse_header(data);
});
