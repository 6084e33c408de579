#![no_main]
//! The ELF prefix parser pare-elf streams layers through: parsing growing
//! prefixes on request must end where parsing the whole file ends, and
//! the scanner fed in chunks must agree; nothing may panic.

use libfuzzer_sys::fuzz_target;
use pare_elf::elf::{Parsed, parse, parse_prefix};
use pare_image::scan::ContentScanner;

fuzz_target!(|data: &[u8]| {
    let size = data.len() as u64;
    let whole = parse(data);
    let mut have = 0u64;
    let streamed = loop {
        match parse_prefix(&data[..have as usize], size) {
            Parsed::NeedBytes(n) => {
                assert!(n > have && n <= size, "asked for {n} with {have} of {size}");
                have = n;
            }
            other => break other,
        }
    };
    assert_eq!(streamed, whole, "streamed and whole parses disagree");

    let scanner = pare_elf::image::ElfScanner;
    if let Some(mut scan) = scanner.start("f", size, 0o755) {
        for piece in data.chunks(pare_fuzz::chunk_size(data)) {
            if !scan.feed(piece) {
                break;
            }
        }
        let _ = scan.finish();
    }
});
