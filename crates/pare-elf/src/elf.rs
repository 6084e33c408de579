//! What the dynamic loader reads from an ELF file: its class and machine,
//! `PT_INTERP`, and the dynamic section's `DT_NEEDED`, `DT_RPATH`,
//! `DT_RUNPATH` and `DT_SONAME`, found through the program headers (the
//! loader's view; section headers may be stripped).
//!
//! [`parse_prefix`] works on the first bytes of a file and says how many it
//! needs when they are not enough, so a caller streaming a layer keeps only
//! a bounded prefix of each ELF file instead of the whole file.

use object::elf;
use object::read::elf::{Dyn as _, FileHeader, ProgramHeader as _};
use object::{Endianness, FileKind};

/// Everything the loader needs from one ELF object.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ElfInfo {
    pub is_64: bool,
    /// `e_machine` (62 is x86-64, 183 AArch64).
    pub machine: u16,
    /// `PT_INTERP`: the program interpreter (the dynamic loader) to run.
    pub interpreter: Option<String>,
    pub needed: Vec<String>,
    /// `DT_RPATH` entries (used only when there is no `DT_RUNPATH`).
    pub rpath: Vec<String>,
    pub runpath: Vec<String>,
    pub soname: Option<String>,
    /// Whether it has a dynamic section at all (static programs do not).
    pub dynamic: bool,
    /// The [`WATCHED_SYMBOLS`] named in the dynamic string table (imported
    /// or defined): functions that load data by name at run time, which
    /// no `DT_NEEDED` shows.
    pub watched_symbols: Vec<String>,
}

/// glibc functions that load files by name at run time: `iconv_open`
/// loads gconv modules (`gconv-modules` names them), `setlocale` and
/// `newlocale` read locale data, `dlopen` loads libraries (plugins) the
/// loader finds by name.
pub const WATCHED_SYMBOLS: &[&str] = &["iconv_open", "setlocale", "newlocale", "dlopen"];

/// The result of looking at a prefix of a file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Parsed {
    Elf(ElfInfo),
    /// The first `n` bytes of the file are needed (more than were given).
    NeedBytes(u64),
    NotElf,
    Invalid(ElfError),
}

/// Why an ELF file's headers cannot be read. Every offset, size and count
/// comes from the file, so every sum and product of them is checked: one
/// that overflows is a malformed file, never a panic or a wrapped value.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
pub enum ElfError {
    #[error("{0}")]
    Header(#[from] object::read::Error),
    #[error("{what} overflows 64 bits: malformed headers")]
    Overflow { what: &'static str },
    #[error("a header points past the end of the file ({end} > {size})")]
    PastEnd { end: u64, size: u64 },
    #[error("{0} outside the file")]
    Outside(&'static str),
    #[error("DT_STRTAB is not in any loaded segment")]
    StrtabNotLoaded,
    #[error("string offset {0} outside the string table")]
    StringOffset(u64),
    #[error("e_phnum is PN_XNUM (0xffff) but there is no section header 0 to hold the real count")]
    NoSectionZero,
    #[error(
        "dynamic section beyond the first {max} bytes, over the elf-bytes limit \
         (raise it with --limits elf-bytes=N)"
    )]
    BeyondPrefix { max: u64 },
}

/// `a + b` of values read from the file.
fn add(a: u64, b: u64, what: &'static str) -> Result<u64, ElfError> {
    a.checked_add(b).ok_or(ElfError::Overflow { what })
}

/// `a * b` of values read from the file.
fn mul(a: u64, b: u64, what: &'static str) -> Result<u64, ElfError> {
    a.checked_mul(b).ok_or(ElfError::Overflow { what })
}

/// Reads the loader's view of an ELF file from its first `data.len()`
/// bytes (`file_size` is the whole file's size).
pub fn parse_prefix(data: &[u8], file_size: u64) -> Parsed {
    if data.len() < 64 && (data.len() as u64) < file_size {
        return Parsed::NeedBytes(64.min(file_size));
    }
    let kind = match FileKind::parse(data) {
        Ok(FileKind::Elf32) => false,
        Ok(FileKind::Elf64) => true,
        _ => return Parsed::NotElf,
    };
    let result = if kind {
        parse_as::<elf::FileHeader64<Endianness>>(data, file_size)
    } else {
        parse_as::<elf::FileHeader32<Endianness>>(data, file_size)
    };
    result.unwrap_or_else(Parsed::Invalid)
}

/// A whole file's bytes.
pub fn parse(data: &[u8]) -> Parsed {
    parse_prefix(data, data.len() as u64)
}

/// The number of program headers, `Ok(Err(need))` when more bytes are
/// needed to tell. With more than 0xfffe of them `e_phnum` is `PN_XNUM`
/// and the real count is section header 0's `sh_info`, which usually sits
/// at the end of the file: the whole file up to it is then needed.
fn program_header_count<H: FileHeader<Endian = Endianness>>(
    header: &H,
    endian: Endianness,
    data: &[u8],
    file_size: u64,
) -> Result<Result<u64, Parsed>, ElfError> {
    let phnum = header.e_phnum(endian);
    if phnum != elf::PN_XNUM {
        return Ok(Ok(u64::from(phnum)));
    }
    let shoff: u64 = header.e_shoff(endian).into();
    if shoff == 0 {
        return Err(ElfError::NoSectionZero);
    }
    let shend = add(
        shoff,
        std::mem::size_of::<H::SectionHeader>() as u64,
        "e_shoff + section header size",
    )?;
    if let Some(need) = needs(data, shend, file_size)? {
        return Ok(Err(need));
    }
    // object reads section 0 itself (and checks e_shentsize).
    Ok(Ok(header.phnum(endian, data)? as u64))
}

fn parse_as<H: FileHeader<Endian = Endianness>>(
    data: &[u8],
    file_size: u64,
) -> Result<Parsed, ElfError> {
    let header = H::parse(data)?;
    let endian = header.endian()?;
    let phoff: u64 = header.e_phoff(endian).into();
    let phnum = match program_header_count(header, endian, data, file_size)? {
        Ok(phnum) => phnum,
        Err(need) => return Ok(need),
    };
    let phsize = mul(
        phnum,
        u64::from(header.e_phentsize(endian)),
        "e_phnum * e_phentsize",
    )?;
    let phend = add(phoff, phsize, "e_phoff + program header table size")?;
    if let Some(need) = needs(data, phend, file_size)? {
        return Ok(need);
    }
    let headers = header.program_headers(endian, data)?;
    let range = |ph: &H::ProgramHeader| -> Result<(u64, u64), ElfError> {
        let offset: u64 = ph.p_offset(endian).into();
        let size: u64 = ph.p_filesz(endian).into();
        Ok((offset, add(offset, size, "p_offset + p_filesz")?))
    };
    let mut info = ElfInfo {
        is_64: header.is_type_64(),
        machine: header.e_machine(endian),
        ..ElfInfo::default()
    };
    // The interpreter and the dynamic segment must be in hand first.
    let mut furthest = 0;
    for ph in headers {
        if matches!(ph.p_type(endian), elf::PT_INTERP | elf::PT_DYNAMIC) {
            furthest = furthest.max(range(ph)?.1);
        }
    }
    if let Some(need) = needs(data, furthest, file_size)? {
        return Ok(need);
    }
    let slice = |(start, end): (u64, u64)| {
        data.get(usize::try_from(start).ok()?..usize::try_from(end).ok()?)
    };
    for ph in headers {
        match ph.p_type(endian) {
            elf::PT_INTERP => {
                let bytes = slice(range(ph)?).ok_or(ElfError::Outside("PT_INTERP"))?;
                info.interpreter = Some(c_string(bytes));
            }
            elf::PT_DYNAMIC => info.dynamic = true,
            _ => {}
        }
    }
    let Some(dynamic) = headers
        .iter()
        .find(|ph| ph.p_type(endian) == elf::PT_DYNAMIC)
    else {
        return Ok(Parsed::Elf(info));
    };
    let entries = dynamic.dynamic(endian, data)?.unwrap_or_default();
    let tag = |d: &H::Dyn| -> u64 { d.d_tag(endian).into() };
    let val = |d: &H::Dyn| -> u64 { d.d_val(endian).into() };
    let strtab = entries
        .iter()
        .find(|d| tag(d) == u64::from(elf::DT_STRTAB))
        .map(val);
    let strsz = entries
        .iter()
        .find(|d| tag(d) == u64::from(elf::DT_STRSZ))
        .map(val);
    let (Some(strtab), Some(strsz)) = (strtab, strsz) else {
        return Ok(Parsed::Elf(info)); // nothing named: no strings
    };
    // DT_STRTAB is an address: map it to a file offset through PT_LOAD.
    let mut offset = None;
    for ph in headers
        .iter()
        .filter(|ph| ph.p_type(endian) == elf::PT_LOAD)
    {
        let vaddr: u64 = ph.p_vaddr(endian).into();
        let filesz: u64 = ph.p_filesz(endian).into();
        let vend = add(vaddr, filesz, "p_vaddr + p_filesz")?;
        if strtab >= vaddr && strtab < vend {
            let start: u64 = ph.p_offset(endian).into();
            // strtab >= vaddr was just checked: the subtraction cannot wrap.
            offset = Some(add(
                start,
                strtab - vaddr,
                "p_offset + (DT_STRTAB - p_vaddr)",
            )?);
            break;
        }
    }
    let offset = offset.ok_or(ElfError::StrtabNotLoaded)?;
    let end = add(offset, strsz, "string table offset + DT_STRSZ")?;
    if let Some(need) = needs(data, end, file_size)? {
        return Ok(need);
    }
    let strings = slice((offset, end)).ok_or(ElfError::Outside("string table"))?;
    let string_at = |at: u64| -> Result<String, ElfError> {
        usize::try_from(at)
            .ok()
            .and_then(|at| strings.get(at..))
            .map(c_string)
            .ok_or(ElfError::StringOffset(at))
    };
    for d in entries {
        match u32::try_from(tag(d)).unwrap_or(u32::MAX) {
            elf::DT_NEEDED => info.needed.push(string_at(val(d))?),
            elf::DT_RPATH => info.rpath.extend(split_path(&string_at(val(d))?)),
            elf::DT_RUNPATH => info.runpath.extend(split_path(&string_at(val(d))?)),
            elf::DT_SONAME => info.soname = Some(string_at(val(d))?),
            _ => {}
        }
    }
    info.watched_symbols = watched_symbols(strings);
    Ok(Parsed::Elf(info))
}

/// The [`WATCHED_SYMBOLS`] in a string table. A name can be the tail of a
/// longer one (linkers merge `g_iconv_open` and `iconv_open`), so any
/// string ending with it counts: the longer name is then a wrapper of the
/// same function.
fn watched_symbols(strings: &[u8]) -> Vec<String> {
    WATCHED_SYMBOLS
        .iter()
        .filter(|name| {
            let mut needle = name.as_bytes().to_vec();
            needle.push(0);
            strings
                .windows(needle.len())
                .any(|w| w == needle.as_slice())
        })
        .map(|name| name.to_string())
        .collect()
}

/// `Some(NeedBytes)` when `end` lies past the prefix but inside the file.
fn needs(data: &[u8], end: u64, file_size: u64) -> Result<Option<Parsed>, ElfError> {
    if end <= data.len() as u64 {
        Ok(None)
    } else if end <= file_size {
        Ok(Some(Parsed::NeedBytes(end)))
    } else {
        Err(ElfError::PastEnd {
            end,
            size: file_size,
        })
    }
}

fn c_string(bytes: &[u8]) -> String {
    let end = bytes.iter().position(|b| *b == 0).unwrap_or(bytes.len());
    String::from_utf8_lossy(&bytes[..end]).into_owned()
}

/// `DT_RPATH`/`DT_RUNPATH` hold colon-separated folders.
fn split_path(text: &str) -> Vec<String> {
    text.split(':')
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// This test binary itself is a real dynamically linked ELF file.
    fn own_binary() -> Vec<u8> {
        std::fs::read(std::env::current_exe().unwrap()).unwrap()
    }

    #[test]
    fn reads_a_real_binary_and_asks_for_exactly_the_bytes_it_needs() {
        let data = own_binary();
        let Parsed::Elf(whole) = parse(&data) else {
            panic!("not read")
        };
        assert!(whole.dynamic);
        assert!(
            whole.needed.iter().any(|n| n.starts_with("libc.so")),
            "{whole:?}"
        );
        assert!(
            whole
                .interpreter
                .as_deref()
                .is_some_and(|i| i.contains("ld-linux"))
        );
        // Feed growing prefixes as a streaming reader would.
        let mut have = 0u64;
        let info = loop {
            match parse_prefix(&data[..have as usize], data.len() as u64) {
                Parsed::NeedBytes(n) => {
                    assert!(n > have, "progress");
                    have = n;
                }
                Parsed::Elf(info) => break info,
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(info, whole);
        assert!(have < data.len() as u64, "a prefix was enough");
    }

    #[test]
    fn watched_symbols_are_found_whole_or_as_a_merged_tail() {
        let cases: &[(&[u8], &[&str])] = &[
            (
                b"\0libc.so.6\0iconv_open\0setlocale\0",
                &["iconv_open", "setlocale"],
            ),
            (b"\0g_iconv_open\0", &["iconv_open"]),
            // A longer name that merely starts with one is another symbol.
            (b"\0iconv_open_into\0setlocale_r\0", &[]),
            (b"newlocale", &[]),
            (b"", &[]),
        ];
        for (table, want) in cases {
            assert_eq!(watched_symbols(table), *want, "{table:?}");
        }
    }

    #[test]
    fn hostile_prefixes_never_panic() {
        let data = own_binary();
        assert_eq!(parse(b"#!/bin/sh\n"), Parsed::NotElf);
        for cut in [0, 3, 16, 63, 64, 65, 200, 4096] {
            let _ = parse(&data[..cut.min(data.len())]);
        }
        // Flip bytes in the headers: errors, never a panic.
        for at in 0..256 {
            let mut bad = data[..8192.min(data.len())].to_vec();
            bad[at] ^= 0xff;
            let _ = parse_prefix(&bad, data.len() as u64);
            let _ = parse(&bad);
        }
    }
}
