#![no_main]
//! rpm's `rpmdb.sqlite`, opened as pare opens one from an image (a
//! private temporary copy, defensive and untrusted-schema SQLite).

use libfuzzer_sys::fuzz_target;
use pare_sbom::rpm;

fuzz_target!(|data: &[u8]| {
    if let Ok(blobs) = rpm::sqlite_values(data) {
        for blob in &blobs {
            let _ = rpm::parse_header(blob);
        }
    }
});
