#![no_main]
//! dpkg's database as the catalogers read it from a flattened image: the
//! first part is `var/lib/dpkg/status`; each further part is a file whose
//! first line is its path (`var/lib/dpkg/status.d/x`,
//! `var/lib/dpkg/info/x.list`, `usr/share/doc/x/copyright` ...).

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let parts = pare_fuzz::split(data, 8);
    let mut files = vec![("var/lib/dpkg/status".to_string(), parts[0], 0o644)];
    for part in &parts[1..] {
        let (path, bytes) = match part.iter().position(|b| *b == b'\n') {
            Some(at) => (&part[..at], &part[at + 1..]),
            None => (*part, &[][..]),
        };
        files.push((String::from_utf8_lossy(path).into_owned(), bytes, 0o644));
    }
    if let Some(flat) = pare_fuzz::flattened(&files) {
        let _ = pare_sbom::catalog(&flat);
    }
});
