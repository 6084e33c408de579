//! What compilers write into executables, found while the bytes stream past
//! during flattening (nothing is extracted or held whole):
//!
//! * a Go binary's build info: the `\xff Go buildinf:` header (16-byte
//!   aligned, as Go's `debug/buildinfo` requires) with the Go version and
//!   module list inline, the layout of Go 1.18 and later;
//! * for Go binaries, the first NUL-terminated version-looking string, which
//!   Syft uses as the main module's version when the build info has none;
//! * a Rust binary's dependency list from cargo-auditable: zlib-compressed
//!   JSON in the `.dep-v0` section. The section table sits at the end of the
//!   file, after the section, so instead of seeking the scan tries each zlib
//!   header it meets and keeps the stream that inflates to the format's
//!   `{"packages":[` opening; the full JSON must then parse as that format.
//!
//! Parsing what was found lives in [`crate::golang`] and [`crate::rust`].

use std::fs::File;
use std::io::{self, Seek, SeekFrom};

use flate2::{Decompress, FlushDecompress, Status};
use object::read::ReadCache;
use object::{Object, ObjectSection};
use pare_image::scan::{ContentScanner, FileScan, Finding};

const ELF_MAGIC: &[u8] = b"\x7fELF";
const GO_BUILDINFO_MAGIC: &[u8] = b"\xff Go buildinf:";
const GO_BUILDINFO_ALIGN: u64 = 16;
const GO_BUILDINFO_HEADER: usize = 32;
/// Go 1.18+: version and module info follow the header inline.
const GO_FLAG_INLINE: u8 = 0x2;
/// Sentinels Go puts around the module info text.
const GO_MODINFO_SENTINEL: usize = 16;
const AUDIT_JSON_OPENING: &[u8] = b"{\"packages\":[";
/// Bytes looked ahead of a candidate position (zlib opening, version strings).
const LOOKAHEAD: usize = 4096;
/// The Go build-id note sits in the first page of a Go ELF binary.
const HEAD: usize = 8192;
const MAX_GO_BUILDINFO: usize = 1 << 20;
const MAX_AUDIT_JSON: usize = 8 << 20;
/// Bytes kept before the scanned position for the version search to look
/// back: the digits before a dot, `v`, `L`, a rune and a separator.
const LOOKBEHIND: usize = 96;
const MAX_LEADING_DIGITS: usize = 64;

/// What was found embedded in one executable.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Embedded {
    pub go: Option<GoEmbedded>,
    /// cargo-auditable's JSON, inflated.
    pub rust_audit: Option<Vec<u8>>,
    /// `Some("PE")` or `Some("Mach-O")` for a file that is not ELF: its
    /// build info is found (the magic and the zlib stream are the same in
    /// every format) but not cataloged, only warned about.
    pub foreign: Option<&'static str>,
}

/// The executable formats besides ELF whose Go build info or Rust
/// dependency list is noticed: PE (Windows) and Mach-O (macOS, fat too).
fn foreign_format(head: &[u8]) -> Option<&'static str> {
    const MACHO: [[u8; 4]; 5] = [
        [0xfe, 0xed, 0xfa, 0xce],
        [0xfe, 0xed, 0xfa, 0xcf],
        [0xce, 0xfa, 0xed, 0xfe],
        [0xcf, 0xfa, 0xed, 0xfe],
        [0xca, 0xfe, 0xba, 0xbe],
    ];
    if head.starts_with(b"MZ") {
        Some("PE")
    } else if MACHO.iter().any(|m| head.starts_with(m)) {
        Some("Mach-O")
    } else {
        None
    }
}

/// A Go binary's build info as written by the linker.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct GoEmbedded {
    /// e.g. `go1.19.8`; empty for the pre-1.18 layout, which is not read.
    pub go_version: String,
    /// The module info text (`path`, `mod`, `dep`, `=>`, `build` lines).
    pub modinfo: String,
    /// Pre-1.18 layout (pointers into the data segment): not read.
    pub legacy: bool,
    /// The first `\0`-or-invalid-byte-led, NUL-terminated `vX.Y.Z…` string.
    pub version_in_contents: Option<String>,
}

/// Picks executable files (any `x` bit) and scans them.
pub struct ExecutableScanner;

impl ContentScanner for ExecutableScanner {
    fn start(&self, _path: &str, size: u64, mode: u32) -> Option<Box<dyn FileScan>> {
        (mode & 0o111 != 0 && size >= 64).then(|| Box::new(ElfScan::default()) as Box<dyn FileScan>)
    }

    /// A file on disk: read its section table and only the sections that
    /// matter. A Go binary is still read whole (Syft's version-in-contents
    /// search needs every byte); a file with no section table is streamed.
    fn scan_file(&self, file: File, scan: Box<dyn FileScan>) -> io::Result<Option<Finding>> {
        let cache = ReadCache::new(file);
        let sections = match object::read::File::parse(&cache) {
            Ok(binary) if binary.format() == object::BinaryFormat::Elf => {
                let has_sections = binary.sections().next().is_some();
                // Only the audit data is read; Go's is streamed below anyway.
                let is_go = binary.section_by_name(".go.buildinfo").is_some();
                let audit = binary
                    .section_by_name(".dep-v0")
                    .and_then(|section| section.data().ok().map(<[u8]>::to_vec));
                Some((has_sections, is_go, audit))
            }
            // Not ELF, or not one `object` can read: let the stream decide.
            _ => None,
        };
        match sections {
            Some((true, false, None)) => Ok(None),
            Some((true, false, Some(compressed))) => {
                let mut json = Vec::new();
                let mut inflater = Decompress::new(true);
                Ok(match inflate_more(&mut inflater, &mut json, &compressed) {
                    Some(true) => Some(Box::new(Embedded {
                        go: None,
                        rust_audit: Some(json),
                        foreign: None,
                    })),
                    _ => None,
                })
            }
            _ => {
                let mut file = cache.into_inner();
                file.seek(SeekFrom::Start(0))?;
                pare_image::scan::scan_reader(file, scan)
            }
        }
    }
}

#[derive(Default)]
enum GoState {
    #[default]
    Searching,
    Collecting {
        bytes: Vec<u8>,
        next: u64,
    },
    Done(GoEmbedded),
    Failed,
}

#[derive(Default)]
enum RustState {
    #[default]
    Searching,
    Inflating {
        inflater: Box<Decompress>,
        json: Vec<u8>,
        next: u64,
    },
    Done(Vec<u8>),
}

/// Streaming scan of one file; see the module docs.
#[derive(Default)]
pub struct ElfScan {
    /// Unprocessed bytes (plus lookahead), starting at file offset `start`.
    window: Vec<u8>,
    start: u64,
    /// Whether the head was checked, and what it said.
    checked: bool,
    is_go: bool,
    foreign: Option<&'static str>,
    go: GoState,
    rust: RustState,
    /// File offset up to which the searches have looked.
    scanned: u64,
    /// Contents search (Go only): the first match.
    version_in_contents: Option<String>,
    /// One inflater for every zlib candidate, reset between them: most
    /// candidates fail within a few bytes, and allocating one each time
    /// dominated the scan.
    probe: Option<Box<Decompress>>,
}

impl FileScan for ElfScan {
    fn feed(&mut self, bytes: &[u8]) -> bool {
        self.window.extend_from_slice(bytes);
        if !self.checked {
            if self.window.len() < HEAD {
                return true;
            }
            if !self.check_head() {
                return false;
            }
        }
        self.process(false);
        !self.finished()
    }

    fn finish(mut self: Box<Self>) -> Option<Finding> {
        if !self.checked && !self.check_head() {
            return None;
        }
        self.process(true);
        let go = match std::mem::take(&mut self.go) {
            GoState::Done(mut go) => {
                go.version_in_contents = self.version_in_contents.take();
                Some(go)
            }
            _ => None,
        };
        let rust_audit = match std::mem::take(&mut self.rust) {
            RustState::Done(json) => Some(json),
            _ => None,
        };
        if go.is_none() && rust_audit.is_none() {
            return None;
        }
        Some(Box::new(Embedded {
            go,
            rust_audit,
            foreign: self.foreign,
        }))
    }
}

impl ElfScan {
    fn check_head(&mut self) -> bool {
        self.checked = true;
        if !self.window.starts_with(ELF_MAGIC) {
            self.foreign = foreign_format(&self.window);
            return self.foreign.is_some();
        }
        let head = &self.window[..self.window.len().min(HEAD)];
        self.is_go = has_go_note(head);
        true
    }

    /// Nothing more to learn from the rest of the file.
    fn finished(&self) -> bool {
        let rust_done = matches!(self.rust, RustState::Done(_));
        let go_done = matches!(self.go, GoState::Done(_) | GoState::Failed)
            && self.version_in_contents.is_some();
        rust_done || go_done
    }

    fn process(&mut self, eof: bool) {
        let limit = if eof {
            self.window.len()
        } else {
            self.window.len().saturating_sub(LOOKAHEAD)
        };
        let from = (self.scanned - self.start) as usize;
        if limit <= from {
            return;
        }
        self.feed_collectors();
        if matches!(self.go, GoState::Searching) {
            self.find_go_buildinfo(from, limit);
        }
        if self.is_go && self.version_in_contents.is_none() {
            self.find_version_in_contents(from, limit);
        }
        if matches!(self.rust, RustState::Searching) && !self.is_go {
            self.find_audit_json(from, limit);
        }
        self.scanned = self.start + limit as u64;
        // Keep a little of what was scanned: the version search looks back.
        let keep_from = limit.saturating_sub(LOOKBEHIND);
        self.window.drain(..keep_from);
        self.start += keep_from as u64;
    }

    /// Gives running collectors the bytes they have not seen yet.
    fn feed_collectors(&mut self) {
        let end = self.start + self.window.len() as u64;
        if let GoState::Collecting { bytes, next } = &mut self.go {
            let from = (*next - self.start) as usize;
            bytes.extend_from_slice(&self.window[from..]);
            *next = end;
            self.go = match parse_go_buildinfo(bytes) {
                Parse::Done(go) => GoState::Done(go),
                Parse::Invalid => GoState::Failed,
                Parse::NeedMore if bytes.len() > MAX_GO_BUILDINFO => GoState::Failed,
                Parse::NeedMore => return,
            };
        }
        if let RustState::Inflating {
            inflater,
            json,
            next,
        } = &mut self.rust
        {
            let from = (*next - self.start) as usize;
            *next = end;
            match inflate_more(inflater, json, &self.window[from..]) {
                Some(true) => self.rust = RustState::Done(std::mem::take(json)),
                Some(false) => {}
                // Not the audit data after all: look again further on.
                None => self.rust = RustState::Searching,
            }
        }
    }

    fn find_go_buildinfo(&mut self, from: usize, limit: usize) {
        let finder = memchr::memmem::Finder::new(GO_BUILDINFO_MAGIC);
        for at in finder.find_iter(&self.window[from..]).map(|at| at + from) {
            if at >= limit {
                break;
            }
            if !(self.start + at as u64).is_multiple_of(GO_BUILDINFO_ALIGN) {
                continue;
            }
            self.go = GoState::Collecting {
                bytes: Vec::new(),
                next: self.start + at as u64,
            };
            self.feed_collectors();
            return;
        }
    }

    fn find_audit_json(&mut self, from: usize, limit: usize) {
        let mut out = [0u8; AUDIT_JSON_OPENING.len()];
        for at in memchr::memchr_iter(0x78, &self.window[from..limit]).map(|at| at + from) {
            let Some(&flags) = self.window.get(at + 1) else {
                break;
            };
            // A zlib header: CM 8, window ≤ 32K, no preset dictionary.
            if !(0x7800u16 | u16::from(flags)).is_multiple_of(31) || flags & 0x20 != 0 {
                continue;
            }
            // Deflate block type 3 is invalid: no need to try.
            if self
                .window
                .get(at + 2)
                .is_some_and(|b| (b >> 1) & 0b11 == 0b11)
            {
                continue;
            }
            let ahead = &self.window[at..self.window.len().min(at + LOOKAHEAD)];
            let probe = self
                .probe
                .get_or_insert_with(|| Box::new(Decompress::new(true)));
            probe.reset(true);
            let inflated = probe
                .decompress(ahead, &mut out, FlushDecompress::None)
                .is_ok()
                && probe.total_out() as usize == out.len()
                && out == AUDIT_JSON_OPENING;
            if inflated {
                self.rust = RustState::Inflating {
                    inflater: Box::new(Decompress::new(true)),
                    json: Vec::new(),
                    next: self.start + at as u64,
                };
                self.feed_collectors();
                return;
            }
        }
    }

    /// Syft's `(\x00|\x{FFFD})(.L)?(v?\d+\.\d+\.\d+[-\w]*[+\w]*)\x00` over
    /// the file read as UTF-8 (each invalid byte a U+FFFD), first match
    /// only. Every match has a `digit.digit`, so only dots are visited; and
    /// whether a byte is a U+FFFD can be told from the few bytes before it,
    /// because a UTF-8 lead byte always starts a rune in Go's decoding.
    fn find_version_in_contents(&mut self, from: usize, limit: usize) {
        let window = &self.window;
        for dot in memchr::memchr_iter(b'.', &window[from..limit]).map(|at| at + from) {
            if let Some(version) = version_around_dot(window, dot) {
                self.version_in_contents = Some(version);
                return;
            }
        }
    }
}

/// The match of Syft's version pattern whose first `.` is at `dot`.
fn version_around_dot(bytes: &[u8], dot: usize) -> Option<String> {
    let digits = bytes[..dot]
        .iter()
        .rev()
        .take_while(|b| b.is_ascii_digit())
        .count();
    if digits == 0 || digits > MAX_LEADING_DIGITS || !bytes.get(dot + 1)?.is_ascii_digit() {
        return None;
    }
    let mut start = dot - digits;
    if start > 0 && bytes[start - 1] == b'v' {
        start -= 1;
    }
    let version = version_at(&bytes[start..])?;
    let direct = separator_ends_at(bytes, start);
    let after_any_then_l = || {
        start >= 1
            && bytes[start - 1] == b'L'
            && rune_ending_at(bytes, start - 1)
                .is_some_and(|(from, newline)| !newline && separator_ends_at(bytes, from))
    };
    (direct || after_any_then_l()).then_some(version)
}

/// Whether the rune ending at `end` is NUL or U+FFFD (a real one, or an
/// invalid byte). `bytes[end]` must be ASCII, so `end` is a rune boundary.
fn separator_ends_at(bytes: &[u8], end: usize) -> bool {
    match rune_ending_at(bytes, end) {
        None => false,
        Some((from, _)) => {
            let rune = &bytes[from..end];
            rune == [0] || rune == "\u{fffd}".as_bytes() || (rune.len() == 1 && rune[0] >= 0x80)
        }
    }
}

/// Where the rune ending at `end` starts, and whether it is a newline: a
/// valid multi-byte sequence that closes exactly at `end`, else one byte.
fn rune_ending_at(bytes: &[u8], end: usize) -> Option<(usize, bool)> {
    let last = *bytes.get(end.checked_sub(1)?)?;
    if last < 0x80 {
        return Some((end - 1, last == b'\n'));
    }
    for width in 2..=4 {
        let Some(from) = end.checked_sub(width) else {
            break;
        };
        if bytes[from] >= 0xc0 {
            let valid = decode_rune(&bytes[from..end]).1 == width;
            return Some((if valid { from } else { end - 1 }, false));
        }
    }
    Some((end - 1, false))
}

/// A Go build-id ELF note (`namesz` 4, type 4, name `Go\0\0`) in `head`.
fn has_go_note(head: &[u8]) -> bool {
    memchr::memmem::find_iter(head, b"Go\0\0").any(|at| {
        at >= 12 && {
            let note = &head[at - 12..at];
            (note[..4] == [4, 0, 0, 0] && note[8..] == [4, 0, 0, 0])
                || (note[..4] == [0, 0, 0, 4] && note[8..] == [0, 0, 0, 4])
        }
    })
}

enum Parse {
    Done(GoEmbedded),
    NeedMore,
    Invalid,
}

/// Parses the build info blob starting at its magic.
fn parse_go_buildinfo(bytes: &[u8]) -> Parse {
    if bytes.len() < GO_BUILDINFO_HEADER {
        return Parse::NeedMore;
    }
    let flags = bytes[15];
    if flags & GO_FLAG_INLINE == 0 {
        return Parse::Done(GoEmbedded {
            legacy: true,
            ..GoEmbedded::default()
        });
    }
    let mut rest = &bytes[GO_BUILDINFO_HEADER..];
    let mut strings = Vec::new();
    for _ in 0..2 {
        let Some((len, used)) = uvarint(rest) else {
            return if rest.len() < 10 {
                Parse::NeedMore
            } else {
                Parse::Invalid
            };
        };
        let Some(text) = rest.get(used..used.saturating_add(len as usize)) else {
            return if len as usize > MAX_GO_BUILDINFO {
                Parse::Invalid
            } else {
                Parse::NeedMore
            };
        };
        strings.push(text);
        rest = &rest[used + len as usize..];
    }
    let (go_version, modinfo) = (strings[0], strings[1]);
    // Go's debug/buildinfo keeps the text only if framed by the sentinels
    // (binary bytes: strip them before reading the text as UTF-8).
    let framed = modinfo.len() > 2 * GO_MODINFO_SENTINEL
        && modinfo[modinfo.len() - GO_MODINFO_SENTINEL - 1] == b'\n';
    let modinfo = if framed {
        String::from_utf8_lossy(&modinfo[GO_MODINFO_SENTINEL..modinfo.len() - GO_MODINFO_SENTINEL])
            .into_owned()
    } else {
        String::new()
    };
    Parse::Done(GoEmbedded {
        go_version: String::from_utf8_lossy(go_version).into_owned(),
        modinfo,
        legacy: false,
        version_in_contents: None,
    })
}

/// Go's unsigned varint: the value and the bytes it took.
fn uvarint(bytes: &[u8]) -> Option<(u64, usize)> {
    let mut value = 0u64;
    for (i, &b) in bytes.iter().enumerate().take(10) {
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Some((value, i + 1));
        }
    }
    None
}

/// Feeds `input` to the inflater: `Some(true)` at the stream's end,
/// `Some(false)` for more, `None` when it is not valid audit data.
fn inflate_more(inflater: &mut Decompress, json: &mut Vec<u8>, mut input: &[u8]) -> Option<bool> {
    let mut buf = [0u8; 16 * 1024];
    while !input.is_empty() {
        let before_in = inflater.total_in();
        let before_out = inflater.total_out();
        let status = inflater
            .decompress(input, &mut buf, FlushDecompress::None)
            .ok()?;
        let used = (inflater.total_in() - before_in) as usize;
        let made = (inflater.total_out() - before_out) as usize;
        json.extend_from_slice(&buf[..made]);
        input = &input[used..];
        if json.len() > MAX_AUDIT_JSON {
            return None;
        }
        match status {
            Status::StreamEnd => return Some(true),
            Status::Ok | Status::BufError if used == 0 && made == 0 => return Some(false),
            Status::Ok | Status::BufError => {}
        }
    }
    Some(false)
}

/// Decodes one rune as Go's `utf8.DecodeRune` does: `None` with width 1
/// for an invalid or truncated sequence.
fn decode_rune(bytes: &[u8]) -> (Option<char>, usize) {
    let Some(&first) = bytes.first() else {
        return (None, 1);
    };
    if first < 0x80 {
        return (Some(first as char), 1);
    }
    // The allowed range of the second byte, and the sequence width.
    let (second, width) = match first {
        0xc2..=0xdf => (0x80..=0xbf, 2),
        0xe0 => (0xa0..=0xbf, 3),
        0xe1..=0xec | 0xee..=0xef => (0x80..=0xbf, 3),
        0xed => (0x80..=0x9f, 3),
        0xf0 => (0x90..=0xbf, 4),
        0xf1..=0xf3 => (0x80..=0xbf, 4),
        0xf4 => (0x80..=0x8f, 4),
        _ => return (None, 1),
    };
    let Some(tail) = bytes.get(1..width) else {
        return (None, 1);
    };
    if !second.contains(&tail[0]) || tail[1..].iter().any(|b| !(0x80..=0xbf).contains(b)) {
        return (None, 1);
    }
    let lead = u32::from(first) & (0x7f >> width);
    let code = tail
        .iter()
        .fold(lead, |code, b| (code << 6) | (u32::from(*b) & 0x3f));
    (char::from_u32(code), width)
}

/// `v?\d+\.\d+\.\d+[-\w]*[+\w]*` followed by NUL, at the start of `bytes`.
fn version_at(bytes: &[u8]) -> Option<String> {
    let is_word = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut at = usize::from(bytes.first() == Some(&b'v'));
    for part in 0..3 {
        let digits = bytes[at..]
            .iter()
            .take_while(|b| b.is_ascii_digit())
            .count();
        if digits == 0 {
            return None;
        }
        at += digits;
        if part < 2 {
            if bytes.get(at) != Some(&b'.') {
                return None;
            }
            at += 1;
        }
    }
    at += bytes[at..]
        .iter()
        .take_while(|&&b| b == b'-' || is_word(b))
        .count();
    at += bytes[at..]
        .iter()
        .take_while(|&&b| b == b'+' || is_word(b))
        .count();
    (bytes.get(at) == Some(&0)).then(|| String::from_utf8_lossy(&bytes[..at]).into_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan_in_chunks(data: &[u8], chunk: usize) -> Option<Embedded> {
        let mut scan: Box<dyn FileScan> = Box::new(ElfScan::default());
        for piece in data.chunks(chunk) {
            if !scan.feed(piece) {
                break;
            }
        }
        scan.finish().map(|f| *f.downcast::<Embedded>().unwrap())
    }

    /// A fake ELF file: head with a Go note, filler, build info at `at`.
    fn go_binary(at: usize, go_version: &str, modinfo: &str, tail: &[u8]) -> Vec<u8> {
        let mut data = ELF_MAGIC.to_vec();
        data.resize(0x100, 0);
        data.extend_from_slice(&[4, 0, 0, 0, 0x53, 0, 0, 0, 4, 0, 0, 0]);
        data.extend_from_slice(b"Go\0\0");
        data.resize(at, 0x90);
        data.extend_from_slice(GO_BUILDINFO_MAGIC);
        data.extend_from_slice(&[8, GO_FLAG_INLINE]);
        data.resize(at + GO_BUILDINFO_HEADER, 0);
        // Go's real sentinels, which are not UTF-8.
        let mut framed = hex::decode("3077af0c9274080241e1c107e6d618e6").unwrap();
        framed.extend_from_slice(modinfo.as_bytes());
        framed.extend(hex::decode("f932433186182072008242104116d8f2").unwrap());
        for text in [go_version.as_bytes(), &framed] {
            data.push(text.len() as u8);
            data.extend_from_slice(text);
        }
        data.extend_from_slice(tail);
        data.resize(data.len() + 20_000, 0x90);
        data
    }

    #[test]
    fn go_build_info_is_found_whatever_the_chunking() {
        let modinfo = "path\tex.com/a\nmod\tex.com/a\t(devel)\t\n";
        let data = go_binary(0x4000, "go1.21.0", modinfo, b"\0\x01L1.2.3+x\0");
        for chunk in [1, 7, 4096, 65536] {
            let found = scan_in_chunks(&data, chunk).expect("found");
            let go = found.go.expect("go");
            assert_eq!(go.go_version, "go1.21.0", "chunk {chunk}");
            assert_eq!(go.modinfo, modinfo, "chunk {chunk}");
            assert_eq!(go.version_in_contents.as_deref(), Some("1.2.3+x"));
        }
    }

    #[test]
    fn unaligned_go_magic_is_not_build_info() {
        let data = go_binary(0x4001, "go1.21.0", "path\tx\n", b"");
        assert_eq!(scan_in_chunks(&data, 4096), None);
    }

    #[test]
    fn files_that_are_not_elf_are_left_at_once() {
        let mut scan = ElfScan::default();
        assert!(!scan.feed(&[b'#'; HEAD]));
    }

    #[test]
    fn a_pe_go_binary_is_a_warning_naming_it_not_packages() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let exe = dir.path().join("app.exe");
        let mut data = go_binary(0x4000, "go1.22.1", "path\tex.com/a\n", b"");
        data[..4].copy_from_slice(b"MZ\x90\x00");
        std::fs::write(&exe, data).unwrap();
        std::fs::set_permissions(&exe, std::fs::Permissions::from_mode(0o755)).unwrap();
        let reference = pare_image::reference::ImageRef::Dir {
            path: dir.path().to_path_buf(),
        };
        let flat = pare_image::source::Source::open(&reference, &Default::default())
            .unwrap()
            .flatten_with(crate::flatten_options())
            .unwrap();
        let catalog = crate::catalog(&flat);
        assert!(catalog.packages.is_empty(), "{:?}", catalog.packages);
        assert_eq!(
            catalog.warnings,
            ["/app.exe: PE executable with Go build info: not read (pare reads ELF only)"]
        );
    }

    #[test]
    fn pe_and_mach_o_build_info_is_found_and_marked_foreign() {
        let modinfo = "path\tex.com/a\nmod\tex.com/a\tv1.0.0\t\n";
        let cases: &[(&[u8], Option<Option<&str>>)] = &[
            (b"MZ\x90\x00", Some(Some("PE"))),
            (&[0xcf, 0xfa, 0xed, 0xfe], Some(Some("Mach-O"))),
            (&[0xca, 0xfe, 0xba, 0xbe], Some(Some("Mach-O"))),
            (ELF_MAGIC, Some(None)),
            (b"#!/bin/sh", None),
        ];
        for (magic, want) in cases {
            let mut data = go_binary(0x4000, "go1.22.1", modinfo, b"");
            data[..4].fill(0);
            data[..magic.len()].copy_from_slice(magic);
            let found = scan_in_chunks(&data, 4096);
            assert_eq!(found.as_ref().map(|e| e.foreign), *want, "{magic:?}");
            if let Some(found) = found {
                assert_eq!(found.go.unwrap().go_version, "go1.22.1");
            }
        }
    }

    /// The first match in `bytes`, as the streaming search finds it.
    fn first_version(bytes: &[u8]) -> Option<String> {
        memchr::memchr_iter(b'.', bytes).find_map(|dot| version_around_dot(bytes, dot))
    }

    #[test]
    fn syft_version_pattern_cases() {
        let cases: &[(&[u8], Option<&str>)] = &[
            (b"x\x001.2.3\0", Some("1.2.3")),
            (b"\x00v2.8.2+ds1\0", Some("v2.8.2+ds1")),
            // An invalid byte is a U+FFFD, so it leads a version too ...
            (b"\xff1.2.3\0", Some("1.2.3")),
            (b"\xe2\x821.2.3\0", Some("1.2.3")),
            // ... but the end of a valid multi-byte rune does not.
            (b"\xc3\xa91.2.3\0", None),
            (b"\xef\xbf\xbd1.2.3\0", Some("1.2.3")),
            (b"\x001.2.3-rc.1\0", None),
            (b"\x001.2.3-rc1+meta\0", Some("1.2.3-rc1+meta")),
            (b"\x001.2\0", None),
            (b"\x001.2.3", None),
            (b"a1.2.3\0", None),
            (b"\x00xL4.5.6\0", Some("4.5.6")),
            (b"\x00\xc3\xa9L4.5.6\0", Some("4.5.6")),
            (b"\x00\nL4.5.6\0", None),
            (b"\x00vL1.2.3\0", Some("1.2.3")),
            (b"\x001.2.3.4\0\x009.8.7\0", Some("9.8.7")),
            (b"\x005.5.5\0\x001.0.0\0", Some("5.5.5")),
        ];
        for (bytes, want) in cases {
            assert_eq!(
                first_version(bytes).as_deref(),
                *want,
                "{:?}",
                String::from_utf8_lossy(bytes)
            );
        }
    }

    #[test]
    fn rune_decoding_matches_go_for_invalid_bytes() {
        assert_eq!(decode_rune(b"\xff1"), (None, 1));
        assert_eq!(decode_rune(b"\xc3\xa9"), (Some('é'), 2));
        assert_eq!(decode_rune(b"\xe2\x82"), (None, 1));
        assert_eq!(decode_rune(b"\xef\xbf\xbd"), (Some('\u{fffd}'), 3));
    }

    proptest::proptest! {
        /// Hostile executables: whatever the bytes and however they are
        /// chunked, the scan ends without panicking.
        #[test]
        fn hostile_bytes_never_panic(
            noise in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..6000),
            magic_at in 0usize..6000,
            chunk in 1usize..9000,
        ) {
            let modinfo = "path\tex.com/a\nmod\tex.com/a\t(devel)\t\n";
            let mut data = go_binary(0x2000, "go1.21.0", modinfo, b"");
            // Overwrite part of the file: a broken header, a huge length ...
            let at = (0x2000 + magic_at).min(data.len());
            let end = (at + noise.len()).min(data.len());
            data[at..end].copy_from_slice(&noise[..end - at]);
            // ... and a zlib opening that inflates to the audit opening.
            let mut audit = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
            std::io::Write::write_all(&mut audit, b"{\"packages\":[{\"name\":1").unwrap();
            let audit = audit.finish().unwrap();
            let mut rust_like = ELF_MAGIC.to_vec();
            rust_like.resize(HEAD, 0);
            rust_like.extend_from_slice(&audit[..audit.len().min(noise.len() / 2 + 3)]);
            rust_like.extend_from_slice(&noise);
            let _ = scan_in_chunks(&data, chunk);
            let _ = scan_in_chunks(&rust_like, chunk);
        }
    }

    #[test]
    fn truncated_build_info_is_not_found_and_does_not_panic() {
        let modinfo = "path\tex.com/a\nmod\tex.com/a\t(devel)\t\n";
        let data = go_binary(0x2000, "go1.21.0", modinfo, b"");
        let end_of_info = 0x2000 + GO_BUILDINFO_HEADER + 10 + modinfo.len() + 32;
        for cut in 0x2000..end_of_info {
            let found = scan_in_chunks(&data[..cut], 512);
            assert!(found.is_none_or(|f| f.go.is_none()), "cut at {cut}");
        }
        assert!(
            scan_in_chunks(&data[..end_of_info], 512)
                .unwrap()
                .go
                .is_some()
        );
    }
}
