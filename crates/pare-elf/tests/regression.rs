//! Regression tests for hostile ELF headers (issue 10, "Arithmetic on file
//! values"): every sum or product of values read from the file is checked,
//! and one that overflows is a malformed file, never a panic (debug) or a
//! wrapped offset (release). The hostile files are built here.

use pare_elf::{ElfError, Parsed, parse, parse_prefix};

const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
const PT_INTERP: u32 = 3;
const DT_STRTAB: u64 = 5;
const DT_STRSZ: u64 = 10;
const DT_NEEDED: u64 = 1;

/// One program header: type, offset, vaddr, filesz.
type Ph = (u32, u64, u64, u64);

/// A little-endian ELF64 x86-64 file: the header, `phdrs` right after it
/// (unless `phoff`/`phnum` override), then `tail`.
fn elf64(phoff: Option<u64>, phnum: Option<u16>, phdrs: &[Ph], tail: &[u8]) -> Vec<u8> {
    let mut d = vec![0x7f, b'E', b'L', b'F', 2, 1, 1, 0];
    d.resize(16, 0);
    d.extend(3u16.to_le_bytes()); // ET_DYN
    d.extend(62u16.to_le_bytes());
    d.extend(1u32.to_le_bytes());
    d.extend(0u64.to_le_bytes()); // e_entry
    d.extend(phoff.unwrap_or(64).to_le_bytes());
    d.extend(0u64.to_le_bytes()); // e_shoff
    d.extend(0u32.to_le_bytes());
    d.extend(64u16.to_le_bytes());
    d.extend(56u16.to_le_bytes());
    d.extend(phnum.unwrap_or(phdrs.len() as u16).to_le_bytes());
    d.extend(64u16.to_le_bytes());
    d.extend(0u16.to_le_bytes());
    d.extend(0u16.to_le_bytes());
    assert_eq!(d.len(), 64);
    for (kind, offset, vaddr, filesz) in phdrs {
        d.extend(kind.to_le_bytes());
        d.extend(4u32.to_le_bytes());
        d.extend(offset.to_le_bytes());
        d.extend(vaddr.to_le_bytes());
        d.extend(vaddr.to_le_bytes());
        d.extend(filesz.to_le_bytes());
        d.extend(filesz.to_le_bytes());
        d.extend(8u64.to_le_bytes());
    }
    d.extend_from_slice(tail);
    d
}

fn dynamic(entries: &[(u64, u64)]) -> Vec<u8> {
    entries
        .iter()
        .flat_map(|(tag, val)| [tag.to_le_bytes(), val.to_le_bytes()])
        .flatten()
        .collect()
}

fn overflow(parsed: &Parsed) -> Option<&'static str> {
    match parsed {
        Parsed::Invalid(ElfError::Overflow { what }) => Some(what),
        _ => None,
    }
}

#[test]
fn program_header_table_end_overflowing_is_malformed_not_a_panic() {
    // e_phoff + e_phnum * e_phentsize past 2^64.
    let data = elf64(Some(u64::MAX - 100), Some(3), &[], &[0; 64]);
    for parsed in [parse(&data), parse_prefix(&data[..64], u64::MAX)] {
        assert_eq!(
            overflow(&parsed),
            Some("e_phoff + program header table size"),
            "{parsed:?}"
        );
    }
}

#[test]
fn dynamic_segment_end_overflowing_is_malformed_not_a_panic() {
    // p_offset + p_filesz of PT_DYNAMIC (and PT_INTERP) past 2^64: this
    // used to saturate and be reported as "past the end"; it is an overflow.
    for kind in [PT_DYNAMIC, PT_INTERP] {
        let data = elf64(None, None, &[(kind, u64::MAX - 8, 0, 64)], &[]);
        assert_eq!(overflow(&parse(&data)), Some("p_offset + p_filesz"));
    }
}

/// A file whose dynamic section names its string table at `strtab` inside
/// a PT_LOAD at file offset `load_offset`, address `vaddr`, size `filesz`.
fn with_strtab(load_offset: u64, vaddr: u64, filesz: u64, strtab: u64) -> Vec<u8> {
    let dynamic_at = 64 + 2 * 56;
    let table = dynamic(&[(DT_STRTAB, strtab), (DT_STRSZ, 8), (DT_NEEDED, 0)]);
    elf64(
        None,
        None,
        &[
            (PT_DYNAMIC, dynamic_at, 0, table.len() as u64),
            (PT_LOAD, load_offset, vaddr, filesz),
        ],
        &table,
    )
}

#[test]
fn strtab_file_offset_overflowing_is_malformed_not_a_panic() {
    // p_offset + (DT_STRTAB - p_vaddr) past 2^64: a panic in debug builds
    // and a wrapped (wrong) offset in release builds before the fix.
    let data = with_strtab(u64::MAX - 4, 0x1000, 0x100, 0x1010);
    assert_eq!(
        overflow(&parse(&data)),
        Some("p_offset + (DT_STRTAB - p_vaddr)")
    );
    // p_vaddr + p_filesz past 2^64.
    let data = with_strtab(0, u64::MAX - 4, 0x100, 0x1010);
    assert_eq!(overflow(&parse(&data)), Some("p_vaddr + p_filesz"));
}

#[test]
fn strtab_end_overflowing_is_malformed_not_a_panic() {
    let dynamic_at = 64 + 56 * 2;
    let table = dynamic(&[(DT_STRTAB, 0x10), (DT_STRSZ, u64::MAX), (DT_NEEDED, 0)]);
    let data = elf64(
        None,
        None,
        &[
            (PT_DYNAMIC, dynamic_at, 0, table.len() as u64),
            (PT_LOAD, 0, 0, 0x1000),
        ],
        &table,
    );
    assert_eq!(
        overflow(&parse(&data)),
        Some("string table offset + DT_STRSZ")
    );
}

#[test]
fn a_wellformed_hand_built_file_still_reads() {
    // The same shape with sane values: the checks refuse only overflow.
    let dynamic_at = 64 + 56 * 2;
    let table = dynamic(&[(DT_STRTAB, 0x2000), (DT_STRSZ, 12), (DT_NEEDED, 0)]);
    let strings_at = dynamic_at + table.len() as u64;
    let mut tail = table.clone();
    tail.extend_from_slice(b"libc.so.6\0\0\0");
    let data = elf64(
        None,
        None,
        &[
            (PT_DYNAMIC, dynamic_at, 0, table.len() as u64),
            (PT_LOAD, strings_at, 0x2000, 12),
        ],
        &tail,
    );
    let Parsed::Elf(info) = parse(&data) else {
        panic!("{:?}", parse(&data))
    };
    assert_eq!(info.needed, ["libc.so.6"]);
}

/// This test binary with `e_phnum` = PN_XNUM and the real count moved to
/// section header 0's `sh_info`, as linkers write files with more than
/// 0xfffe program headers.
fn own_binary_with_pn_xnum() -> (Vec<u8>, Vec<u8>) {
    let data = std::fs::read(std::env::current_exe().unwrap()).unwrap();
    assert_eq!(
        &data[..6],
        b"\x7fELF\x02\x01",
        "a little-endian ELF64 test binary"
    );
    let u16_at = |at: usize| u16::from_le_bytes([data[at], data[at + 1]]);
    let shoff = u64::from_le_bytes(data[40..48].try_into().unwrap()) as usize;
    assert!(shoff != 0, "the test binary has section headers");
    let phnum = u16_at(56);
    let mut extended = data.clone();
    extended[56..58].copy_from_slice(&0xffffu16.to_le_bytes());
    extended[shoff + 44..shoff + 48].copy_from_slice(&u32::from(phnum).to_le_bytes());
    (data, extended)
}

#[test]
fn pn_xnum_program_header_count_is_read_from_section_zero() {
    let (data, extended) = own_binary_with_pn_xnum();
    let whole = parse(&data);
    assert!(
        matches!(whole, Parsed::Elf(ref i) if !i.needed.is_empty()),
        "{whole:?}"
    );
    assert_eq!(parse(&extended), whole);
    // Streamed, the reader asks for the bytes up to section header 0.
    let size = extended.len() as u64;
    let mut have = 0u64;
    let streamed = loop {
        match parse_prefix(&extended[..have as usize], size) {
            Parsed::NeedBytes(n) => {
                assert!(n > have && n <= size);
                have = n;
            }
            other => break other,
        }
    };
    assert_eq!(streamed, whole);
}

#[test]
fn pn_xnum_without_section_headers_is_refused_clearly() {
    let data = elf64(None, Some(0xffff), &[], &[0; 64]);
    assert_eq!(parse(&data), Parsed::Invalid(ElfError::NoSectionZero));
    assert!(
        ElfError::NoSectionZero.to_string().contains("PN_XNUM"),
        "the message names the cause"
    );
}

/// `etc/ld.so.conf` (absolute path → text) as `conf_dirs` reads it, with a
/// count of the reads.
fn conf_dirs_counting(
    files: &std::collections::BTreeMap<String, String>,
    reads: &std::cell::Cell<usize>,
) -> Vec<String> {
    let read = |p: &str| {
        reads.set(reads.get() + 1);
        files.get(p).cloned()
    };
    let list = |dir: &str| -> Vec<String> {
        files
            .keys()
            .filter_map(|p| p.strip_prefix(&format!("{dir}/")))
            .filter(|rest| !rest.contains('/'))
            .map(str::to_string)
            .collect()
    };
    pare_elf::ldconf::conf_dirs(&read, &list)
}

#[test]
fn ld_so_conf_including_itself_many_times_reads_each_file_once() {
    // Twenty includes of itself per file, eight deep, was 20⁸ reads.
    let mut text = "/lib/a\n".to_string();
    for _ in 0..20 {
        text.push_str("include /etc/ld.so.conf /etc/ld.so.conf.d/*.conf\n");
    }
    let files = [
        ("/etc/ld.so.conf".to_string(), text.clone()),
        ("/etc/ld.so.conf.d/x.conf".to_string(), text + "/lib/b\n"),
    ]
    .into_iter()
    .collect();
    let reads = std::cell::Cell::new(0);
    let started = std::time::Instant::now();
    assert_eq!(conf_dirs_counting(&files, &reads), ["/lib/a", "/lib/b"]);
    assert_eq!(reads.get(), 2, "each file read once");
    assert!(started.elapsed() < std::time::Duration::from_secs(2));
}

#[test]
fn ld_so_conf_include_pattern_with_many_stars_matches_in_polynomial_time() {
    // `*a*a…*a*b` against a long name of `a`s backtracked through every
    // way of splitting the name among the stars: exponential.
    let pattern = format!("/etc/d/{}b", "*a".repeat(30));
    let name = "a".repeat(250);
    let files = [
        (
            "/etc/ld.so.conf".to_string(),
            format!("include {pattern}\n"),
        ),
        (format!("/etc/d/{name}"), "/never\n".to_string()),
        (format!("/etc/d/{name}b"), "/matched\n".to_string()),
    ]
    .into_iter()
    .collect();
    let reads = std::cell::Cell::new(0);
    let started = std::time::Instant::now();
    assert_eq!(conf_dirs_counting(&files, &reads), ["/matched"]);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(2),
        "{:?}",
        started.elapsed()
    );
}
