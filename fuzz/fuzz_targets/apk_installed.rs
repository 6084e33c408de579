#![no_main]
//! Alpine's `lib/apk/db/installed`, straight and through the cataloger.

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let mut warnings = Vec::new();
    let text = String::from_utf8_lossy(data);
    let _ = pare_sbom::apk::parse(&text, None, &mut warnings);
    let files = [("lib/apk/db/installed".to_string(), data, 0o644)];
    if let Some(flat) = pare_fuzz::flattened(&files) {
        let _ = pare_sbom::catalog(&flat);
    }
});
