//! Streaming regex search over a file's bytes, and the libraries an ELF
//! file imports, both fed chunk by chunk as the file streams past.
//!
//! The search keeps a window of at most `overlap + step` bytes (by default
//! 1 MiB + 7 MiB) and searches it each time it fills: a match that starts
//! before the last `overlap` bytes of the window is final, the rest is kept
//! and searched again with the next bytes. The bound: every match no longer
//! than `overlap` (1 MiB) is found exactly where Go finds it in the whole
//! file (the leftmost, and with the same groups); a longer match — only
//! Syft's unbounded `.*` patterns (redis, mysql) can make one — may be
//! missed or end early. Syft's version strings are a few dozen bytes.
//! Memory per scanned file is the window; time is linear in the bytes read
//! (the `regex` crate never backtracks), re-reading `overlap / step` (1/7)
//! of them, and a file is read no further than [`MAX_SCANNED`].
//!
//! Many regexes over one file (an executable searched for every
//! classifier, see `binary::plan`) are first run together as one
//! [`regex::bytes::RegexSet`]: one pass over the window says which of them
//! match at all, and only those are run alone for their groups. On a
//! 1.2 MB `bash` and Syft's 62 classifier regexes that is 2.5 ms instead
//! of 38. The answers are the same: a regex the set finds no match for
//! has none for its own search either.

use std::collections::HashMap;
use std::sync::{Arc, LazyLock, Mutex};

use regex::bytes::{RegexSet, RegexSetBuilder};

use crate::binary::rules::LeafId;

/// Matches longer than this may be missed (see the module docs).
pub const OVERLAP: usize = 1 << 20;
/// New bytes gathered before each search.
pub const STEP: usize = 7 << 20;
/// Bytes of one file searched at most: a bigger file is searched in its
/// first 1 GiB only (real binaries are well under; Syft reads them whole).
pub const MAX_SCANNED: u64 = 1 << 30;
/// From this many regexes on, a search runs them as one set first.
const SET_FROM: usize = 8;
/// Sets kept for reuse (the same list of regexes recurs file after file);
/// past this many distinct lists, sets are built per search.
const SETS_CACHED: usize = 64;

/// Named groups of a match: (name, value).
pub type Groups = Vec<(String, String)>;

/// What to look for: a leaf and its regex (a path template rendered).
pub struct Probe {
    pub leaf: LeafId,
    pub regex: regex::bytes::Regex,
    /// Only whether it matches (exclusions); else the first match with a
    /// non-empty named group, as Syft's `MatchNamedCaptureGroups`.
    pub exists_only: bool,
}

struct Pending {
    probe: Probe,
    /// Where the next search starts, in the window.
    pos: usize,
    result: Option<Option<Groups>>,
}

/// The search of several regexes over one stream.
pub struct Search {
    pending: Vec<Pending>,
    /// All the probes' regexes, in order, as one set (see the module docs).
    set: Option<Arc<RegexSet>>,
    window: Vec<u8>,
    overlap: usize,
    step: usize,
    scanned: u64,
}

impl Search {
    pub fn new(probes: Vec<Probe>) -> Search {
        Search::with_window(probes, OVERLAP, STEP)
    }

    /// A search with a chosen window (tests use small ones).
    pub fn with_window(probes: Vec<Probe>, overlap: usize, step: usize) -> Search {
        let set = (probes.len() >= SET_FROM)
            .then(|| {
                regex_set(
                    probes
                        .iter()
                        .map(|p| p.regex.as_str().to_string())
                        .collect(),
                )
            })
            .flatten();
        Search {
            set,
            pending: probes
                .into_iter()
                .map(|probe| Pending {
                    probe,
                    pos: 0,
                    result: None,
                })
                .collect(),
            window: Vec::new(),
            overlap,
            step: step.max(1),
            scanned: 0,
        }
    }

    /// How many regexes still search.
    pub fn pending(&self) -> usize {
        self.pending.iter().filter(|p| p.result.is_none()).count()
    }

    /// Whether every regex has its answer.
    pub fn done(&self) -> bool {
        self.pending.iter().all(|p| p.result.is_some())
    }

    /// Takes the next bytes of the file.
    pub fn feed(&mut self, mut bytes: &[u8]) {
        if self.done() {
            return;
        }
        let room = MAX_SCANNED.saturating_sub(self.scanned);
        if (bytes.len() as u64) > room {
            bytes = &bytes[..room as usize];
        }
        self.scanned += bytes.len() as u64;
        while !bytes.is_empty() {
            let take = bytes.len().min(
                (self.overlap + self.step)
                    .saturating_sub(self.window.len())
                    .max(1),
            );
            self.window.extend_from_slice(&bytes[..take]);
            bytes = &bytes[take..];
            if self.window.len() >= self.overlap + self.step {
                self.search(false);
            }
        }
    }

    /// Searches what is left; each leaf's result: `Some(groups)` when it
    /// matched, `None` when not.
    pub fn finish(mut self) -> Vec<(LeafId, Option<Groups>)> {
        self.search(true);
        self.pending
            .into_iter()
            .map(|p| (p.probe.leaf, p.result.flatten()))
            .collect()
    }

    fn search(&mut self, eof: bool) {
        let window = &self.window;
        let limit = if eof {
            window.len()
        } else {
            window.len().saturating_sub(self.overlap)
        };
        // Which regexes match anywhere from the first place one still
        // searches from; the others cannot match from their own place.
        let start = self
            .pending
            .iter()
            .filter(|p| p.result.is_none())
            .map(|p| p.pos)
            .min()
            .unwrap_or(0);
        let hits = self
            .set
            .as_ref()
            .filter(|_| start <= window.len())
            .map(|set| set.matches_at(window, start));
        for (index, p) in self.pending.iter_mut().enumerate() {
            if p.result.is_some() {
                continue;
            }
            if hits.as_ref().is_some_and(|hits| !hits.matched(index)) {
                p.pos = p.pos.max(limit);
                if eof {
                    p.result = Some(None);
                }
                continue;
            }
            loop {
                let Some(caps) = (p.pos <= window.len())
                    .then(|| p.probe.regex.captures_at(window, p.pos))
                    .flatten()
                else {
                    p.pos = p.pos.max(limit);
                    break;
                };
                let whole = caps.get(0).expect("group 0 is the match");
                if !eof && whole.start() >= limit {
                    // Searched again with the next bytes, which may lengthen it.
                    p.pos = p.pos.max(limit);
                    break;
                }
                if p.probe.exists_only {
                    p.result = Some(Some(Vec::new()));
                    break;
                }
                let groups: Groups = p
                    .probe
                    .regex
                    .capture_names()
                    .flatten()
                    .map(|name| {
                        let value = caps.name(name).map_or(&[][..], |m| m.as_bytes());
                        (
                            name.to_string(),
                            String::from_utf8_lossy(value).into_owned(),
                        )
                    })
                    .collect();
                if groups.iter().any(|(_, v)| !v.is_empty()) {
                    p.result = Some(Some(groups));
                    break;
                }
                // Go's FindAll: the next match starts after this one.
                p.pos = if whole.end() > whole.start() {
                    whole.end()
                } else {
                    whole.end() + 1
                };
            }
            if eof && p.result.is_none() {
                p.result = Some(None);
            }
        }
        if eof || self.done() {
            self.window = Vec::new();
            return;
        }
        self.window.drain(..limit);
        for p in &mut self.pending {
            p.pos = p.pos.saturating_sub(limit);
        }
    }
}

/// The set of `patterns` (each already a whole regex as the probes built
/// it), from the cache when it was built before; `None` when it cannot be
/// built within the compiler's bounds (the regexes then run one by one).
fn regex_set(patterns: Vec<String>) -> Option<Arc<RegexSet>> {
    static SETS: LazyLock<Mutex<HashMap<Vec<String>, Arc<RegexSet>>>> =
        LazyLock::new(Default::default);
    let mut sets = SETS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(set) = sets.get(&patterns) {
        return Some(set.clone());
    }
    let set = Arc::new(
        RegexSetBuilder::new(&patterns)
            // The probes' own bound (`rules::bytes_regex`), for them all.
            .size_limit(patterns.len().saturating_mul(16 << 20))
            .build()
            .ok()?,
    );
    if sets.len() < SETS_CACHED {
        sets.insert(patterns, set.clone());
    }
    Some(set)
}

/// The start of a file kept for its ELF headers and dynamic string table
/// (which linkers put in the first segment, near the start).
const HEAD_MAX: usize = 4 << 20;
/// A dynamic segment bigger than this is not read.
const DYNAMIC_MAX: u64 = 1 << 16;
const PT_LOAD: u32 = 1;
const PT_DYNAMIC: u32 = 2;
const DT_NEEDED: u64 = 1;
const DT_STRTAB: u64 = 5;
const DT_STRSZ: u64 = 10;

/// The libraries an ELF file imports (`DT_NEEDED`), read from a stream.
/// Hand-written because `object` needs the whole file at hand: this keeps
/// the file's first [`HEAD_MAX`] bytes and its dynamic segment only. A
/// string table beyond the head, or a file that is not ELF, gives `None`.
#[derive(Default)]
pub struct ElfImports {
    head: Vec<u8>,
    seen: u64,
    layout: Option<Option<Layout>>,
    dynamic: Vec<u8>,
}

#[derive(Clone, Copy)]
struct Elf {
    is64: bool,
    le: bool,
}

struct Layout {
    elf: Elf,
    loads: Vec<(u64, u64, u64)>,
    dynamic: Option<(u64, u64)>,
}

impl ElfImports {
    pub fn feed(&mut self, bytes: &[u8]) {
        let start = self.seen;
        self.seen += bytes.len() as u64;
        if self.head.len() < HEAD_MAX {
            let take = bytes.len().min(HEAD_MAX - self.head.len());
            self.head.extend_from_slice(&bytes[..take]);
        }
        if self.layout.is_none() {
            match parse_layout(&self.head) {
                Parsed::Done(layout) => self.layout = Some(layout),
                Parsed::NeedMore if self.head.len() >= HEAD_MAX => self.layout = Some(None),
                Parsed::NeedMore => {}
            }
        }
        if let Some(Some(Layout {
            dynamic: Some((offset, size)),
            ..
        })) = &self.layout
        {
            // The part of the dynamic segment in these bytes.
            let (from, to) = (*offset, offset + size);
            let lo = from.max(start);
            let hi = to.min(self.seen);
            if lo < hi && (self.dynamic.len() as u64) < *size {
                self.dynamic
                    .extend_from_slice(&bytes[(lo - start) as usize..(hi - start) as usize]);
            }
        }
    }

    /// The imported library names, in order.
    pub fn finish(mut self) -> Option<Vec<String>> {
        if self.layout.is_none()
            && let Parsed::Done(layout) = parse_layout(&self.head)
        {
            self.layout = Some(layout);
        }
        let layout = self.layout??;
        let (_, size) = layout.dynamic?;
        if (self.dynamic.len() as u64) < size {
            return None;
        }
        let elf = layout.elf;
        let entry = if elf.is64 { 16 } else { 8 };
        let mut needed = Vec::new();
        let (mut strtab, mut strsz) = (None, None);
        for chunk in self.dynamic.chunks_exact(entry) {
            let (tag, value) = if elf.is64 {
                (read(elf, chunk, 0, 8)?, read(elf, chunk, 8, 8)?)
            } else {
                (read(elf, chunk, 0, 4)?, read(elf, chunk, 4, 4)?)
            };
            match tag {
                0 => break,
                DT_NEEDED => needed.push(value),
                DT_STRTAB => strtab = Some(value),
                DT_STRSZ => strsz = Some(value),
                _ => {}
            }
        }
        let vaddr = strtab?;
        let offset = layout
            .loads
            .iter()
            .find(|(_, va, filesz)| vaddr >= *va && vaddr - va < *filesz)
            .map(|(off, va, _)| off + (vaddr - va))?;
        let table_end = offset.checked_add(strsz?)?.min(self.head.len() as u64);
        let table = self.head.get(offset as usize..table_end as usize)?;
        Some(
            needed
                .into_iter()
                .filter_map(|at| {
                    let name = table.get(at as usize..)?;
                    let end = memchr::memchr(0, name)?;
                    Some(String::from_utf8_lossy(&name[..end]).into_owned())
                })
                .collect(),
        )
    }
}

enum Parsed {
    Done(Option<Layout>),
    NeedMore,
}

fn read(elf: Elf, bytes: &[u8], at: usize, size: usize) -> Option<u64> {
    let b = bytes.get(at..at.checked_add(size)?)?;
    Some(match (size, elf.le) {
        (2, true) => u16::from_le_bytes(b.try_into().ok()?) as u64,
        (2, false) => u16::from_be_bytes(b.try_into().ok()?) as u64,
        (4, true) => u32::from_le_bytes(b.try_into().ok()?) as u64,
        (4, false) => u32::from_be_bytes(b.try_into().ok()?) as u64,
        (8, true) => u64::from_le_bytes(b.try_into().ok()?),
        (8, false) => u64::from_be_bytes(b.try_into().ok()?),
        _ => return None,
    })
}

/// The program headers, once the head holds them.
fn parse_layout(head: &[u8]) -> Parsed {
    if head.len() < 64 {
        return Parsed::NeedMore;
    }
    if &head[..4] != b"\x7fELF" {
        return Parsed::Done(None);
    }
    let elf = match (head[4], head[5]) {
        (1, 1) => Elf {
            is64: false,
            le: true,
        },
        (1, 2) => Elf {
            is64: false,
            le: false,
        },
        (2, 1) => Elf {
            is64: true,
            le: true,
        },
        (2, 2) => Elf {
            is64: true,
            le: false,
        },
        _ => return Parsed::Done(None),
    };
    let fields = if elf.is64 {
        (
            read(elf, head, 0x20, 8),
            read(elf, head, 0x36, 2),
            read(elf, head, 0x38, 2),
        )
    } else {
        (
            read(elf, head, 0x1C, 4),
            read(elf, head, 0x2A, 2),
            read(elf, head, 0x2C, 2),
        )
    };
    let (Some(phoff), Some(phentsize), Some(phnum)) = fields else {
        return Parsed::Done(None);
    };
    let min_entry = if elf.is64 { 56 } else { 32 };
    if phentsize < min_entry || phnum == 0 {
        return Parsed::Done(None);
    }
    let Some(end) = phoff
        .checked_add(phentsize * phnum)
        .filter(|end| *end <= HEAD_MAX as u64)
    else {
        return Parsed::Done(None);
    };
    if (head.len() as u64) < end {
        return Parsed::NeedMore;
    }
    let mut layout = Layout {
        elf,
        loads: Vec::new(),
        dynamic: None,
    };
    for i in 0..phnum {
        let at = (phoff + i * phentsize) as usize;
        let ph = &head[at..at + phentsize as usize];
        let fields = if elf.is64 {
            (
                read(elf, ph, 0, 4),
                read(elf, ph, 8, 8),
                read(elf, ph, 16, 8),
                read(elf, ph, 32, 8),
            )
        } else {
            (
                read(elf, ph, 0, 4),
                read(elf, ph, 4, 4),
                read(elf, ph, 8, 4),
                read(elf, ph, 16, 4),
            )
        };
        let (Some(kind), Some(offset), Some(vaddr), Some(filesz)) = fields else {
            return Parsed::Done(None);
        };
        match kind as u32 {
            PT_LOAD => layout.loads.push((offset, vaddr, filesz)),
            PT_DYNAMIC if filesz <= DYNAMIC_MAX => layout.dynamic = Some((offset, filesz)),
            _ => {}
        }
    }
    Parsed::Done(Some(layout))
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::binary::rules::bytes_regex;

    fn probe(re: &str) -> Probe {
        Probe {
            leaf: 0,
            regex: bytes_regex(re).unwrap(),
            exists_only: false,
        }
    }

    fn search(re: &str, data: &[u8], chunk: usize, overlap: usize, step: usize) -> Option<Groups> {
        let mut s = Search::with_window(vec![probe(re)], overlap, step);
        for piece in data.chunks(chunk.max(1)) {
            s.feed(piece);
        }
        s.finish().pop().unwrap().1
    }

    fn version(groups: Option<Groups>) -> Option<String> {
        groups?
            .into_iter()
            .find(|(k, _)| k == "version")
            .map(|(_, v)| v)
    }

    #[test]
    fn finds_the_first_match_whatever_the_chunking() {
        let mut data = vec![0xffu8; 3000];
        data.extend_from_slice(b"\0BusyBox v1.35.0 (Debian)\0");
        data.extend(vec![0x41u8; 5000]);
        data.extend_from_slice(b"\0BusyBox v9.9.9\0");
        let re = r"(?m)BusyBox\s+v(?P<version>[0-9]+\.[0-9]+\.[0-9]+)";
        for chunk in [1, 7, 64, 1000, 3010, 100_000] {
            for (overlap, step) in [(64, 1), (64, 100), (1 << 20, 7 << 20)] {
                assert_eq!(
                    version(search(re, &data, chunk, overlap, step)).as_deref(),
                    Some("1.35.0"),
                    "chunk {chunk}, window {overlap}+{step}"
                );
            }
        }
    }

    #[test]
    fn a_match_straddling_the_window_is_not_cut_short() {
        // The match ends right at a window edge with a short window: the
        // longer version must win, as in the whole file.
        let mut data = vec![b'x'; 90];
        data.extend_from_slice(b"\x0017.0.13+11-Debian-2deb12u1\x00");
        let re = r"(?m)\x00(?P<version>[0-9]+[.0-9]+[+][-0-9]+)\x00";
        let whole = version(search(re, &data, data.len(), 1 << 20, 1 << 20));
        for chunk in 1..40 {
            assert_eq!(
                version(search(re, &data, chunk, 32, 8)),
                whole,
                "chunk {chunk}"
            );
        }
    }

    #[test]
    fn empty_named_groups_move_on_to_the_next_match() {
        // Syft's MatchNamedCaptureGroups: the first match whose named groups
        // are not all empty.
        let re = r"a(?P<version>[0-9]*)";
        let cases: &[(&[u8], Option<&str>)] = &[
            (b"a a a12 a3", Some("12")),
            (b"aaa", None),
            (b"", None),
            (b"xyz a7", Some("7")),
        ];
        for (data, want) in cases {
            assert_eq!(version(search(re, data, 2, 4, 2)).as_deref(), *want);
            let whole = search(re, data, data.len().max(1), 1 << 20, 1 << 20);
            assert_eq!(version(whole).as_deref(), *want);
        }
    }

    #[test]
    fn dot_and_negated_classes_match_any_byte_as_in_go() {
        let cases: &[(&str, &[u8], Option<&str>)] = &[
            (
                r"(?s)payload %5.*?(?P<version>\d\.\d)",
                b"payload %5\xff\xfe\x00\n1.2",
                Some("1.2"),
            ),
            (
                r"\x00(?P<version>[0-9]+[^\x00]+)\x00",
                b"\x001\xc3\x28\x00",
                Some("1\u{fffd}("),
            ),
            (r"(?P<version>\d+)", "١٢3".as_bytes(), Some("3")),
        ];
        for (re, data, want) in cases {
            assert_eq!(
                version(search(re, data, 3, 64, 4)).as_deref(),
                *want,
                "{re}"
            );
        }
    }

    #[test]
    fn exclusions_only_need_a_match() {
        let mut s = Search::with_window(
            vec![Probe {
                leaf: 3,
                regex: bytes_regex("-jvmci-").unwrap(),
                exists_only: true,
            }],
            8,
            4,
        );
        s.feed(b"abc-jv");
        assert!(!s.done());
        s.feed(b"mci-def");
        assert_eq!(s.finish(), vec![(3, Some(Vec::new()))]);
    }

    #[test]
    fn many_regexes_searched_as_a_set_answer_as_each_alone() {
        // Twelve regexes (over SET_FROM): some match once, some twice
        // (the first with an empty group), some never, some across a
        // window edge; the set must change no answer.
        let res = [
            r"(?m)BusyBox\s+v(?P<version>[0-9]+\.[0-9]+\.[0-9]+)",
            r"a(?P<version>[0-9]*)z",
            r"\x00(?P<version>[0-9]+\.[0-9]+)\x00",
            r"never(?P<version>[0-9]+)",
            r"(?m)^go(?P<version>[0-9]+\.[0-9]+)",
            r"(?s)payload %5.*?(?P<version>\d\.\d)",
            r"-jvmci-",
            r"OpenSSL (?P<version>[0-9]+\.[0-9]+\.[0-9]+[a-z]?)",
            r"nothing here",
            r"(?P<version>[0-9]+\.[0-9]+\.[0-9]+)-MariaDB",
            r"\x00v(?P<version>[0-9]+\.[0-9]+\.[0-9]+)\x00",
            r"curl/(?P<version>[0-9]+\.[0-9]+\.[0-9]+)",
        ];
        assert!(res.len() >= SET_FROM);
        let mut data = vec![0xffu8; 700];
        data.extend_from_slice(b"az a12z \x003.11\x00\ngo1.21 payload %5\xfe\xff9.8");
        data.extend(vec![b'.'; 300]);
        data.extend_from_slice(
            b"\x00BusyBox v1.36.1\x00 OpenSSL 3.0.15 10.11.6-MariaDB\x00v20.1.0\x00",
        );
        data.extend(vec![0u8; 200]);
        data.extend_from_slice(b"-jvmci- curl/8.5.0");
        let all = |chunk: usize, overlap: usize, step: usize| {
            let probes: Vec<Probe> = res.iter().map(|re| probe(re)).collect();
            let mut s = Search::with_window(probes, overlap, step);
            assert!(s.set.is_some());
            for piece in data.chunks(chunk) {
                s.feed(piece);
            }
            s.finish().into_iter().map(|(_, g)| g).collect::<Vec<_>>()
        };
        let alone = |chunk: usize, overlap: usize, step: usize| {
            res.iter()
                .map(|re| search(re, &data, chunk, overlap, step))
                .collect::<Vec<_>>()
        };
        let whole = alone(data.len(), 1 << 20, 1 << 20);
        // `-jvmci-` has no group to fill: no answer, as in Syft.
        assert_eq!(whole.iter().filter(|g| g.is_some()).count(), 9);
        for chunk in [1, 5, 64, 333, data.len()] {
            for (overlap, step) in [(64, 16), (48, 100), (1 << 20, 7 << 20)] {
                assert_eq!(
                    all(chunk, overlap, step),
                    whole,
                    "chunk {chunk}, {overlap}+{step}"
                );
                assert_eq!(
                    alone(chunk, overlap, step),
                    whole,
                    "chunk {chunk}, {overlap}+{step}"
                );
            }
        }
    }

    #[test]
    fn a_search_stops_at_the_cap() {
        let mut s = Search::with_window(vec![probe("x")], 4, 4);
        s.scanned = MAX_SCANNED - 2;
        s.feed(b"abx");
        assert_eq!(s.finish().pop().unwrap().1, None);
    }

    /// A minimal little-endian ELF64 file importing `libs`: header, two
    /// program headers, string table at 0x1000, dynamic segment at `dyn_at`.
    pub(crate) fn elf_importing(libs: &[&str], dyn_at: usize) -> Vec<u8> {
        let mut strtab = vec![0u8];
        let mut offsets = Vec::new();
        for lib in libs {
            offsets.push(strtab.len() as u64);
            strtab.extend_from_slice(lib.as_bytes());
            strtab.push(0);
        }
        let mut dynamic = Vec::new();
        for off in &offsets {
            dynamic.extend_from_slice(&DT_NEEDED.to_le_bytes());
            dynamic.extend_from_slice(&off.to_le_bytes());
        }
        for (tag, value) in [
            (DT_STRTAB, 0x401000u64),
            (DT_STRSZ, strtab.len() as u64),
            (0, 0),
        ] {
            dynamic.extend_from_slice(&tag.to_le_bytes());
            dynamic.extend_from_slice(&value.to_le_bytes());
        }
        let mut file = vec![0u8; dyn_at + dynamic.len()];
        file[..4].copy_from_slice(b"\x7fELF");
        file[4] = 2;
        file[5] = 1;
        file[0x20..0x28].copy_from_slice(&64u64.to_le_bytes());
        file[0x36..0x38].copy_from_slice(&56u16.to_le_bytes());
        file[0x38..0x3a].copy_from_slice(&2u16.to_le_bytes());
        let mut ph = |at: usize, kind: u32, offset: u64, vaddr: u64, size: u64| {
            file[at..at + 4].copy_from_slice(&kind.to_le_bytes());
            file[at + 8..at + 16].copy_from_slice(&offset.to_le_bytes());
            file[at + 16..at + 24].copy_from_slice(&vaddr.to_le_bytes());
            file[at + 32..at + 40].copy_from_slice(&size.to_le_bytes());
        };
        ph(
            64,
            PT_LOAD,
            0,
            0x400000,
            dyn_at as u64 + dynamic.len() as u64,
        );
        ph(
            120,
            PT_DYNAMIC,
            dyn_at as u64,
            0x400000 + dyn_at as u64,
            dynamic.len() as u64,
        );
        file[0x1000..0x1000 + strtab.len()].copy_from_slice(&strtab);
        file[dyn_at..].copy_from_slice(&dynamic);
        file
    }

    fn imports(data: &[u8], chunk: usize) -> Option<Vec<String>> {
        let mut e = ElfImports::default();
        for piece in data.chunks(chunk) {
            e.feed(piece);
        }
        e.finish()
    }

    #[test]
    fn imported_libraries_are_read_from_the_stream() {
        let libs = ["libpython3.11.so.1.0", "libc.so.6"];
        for dyn_at in [0x2000, HEAD_MAX + 4096] {
            let file = elf_importing(&libs, dyn_at);
            for chunk in [1usize << 16, 17, 1 << 22] {
                assert_eq!(imports(&file, chunk).unwrap(), libs, "dynamic at {dyn_at}");
            }
        }
        let cases: &[&[u8]] = &[b"", b"#!/bin/sh\n", &[0x7f, b'E', b'L', b'F', 9, 9]];
        for data in cases {
            assert_eq!(imports(data, 4), None);
        }
        // Truncated anywhere: no panic, and no imports once the dynamic
        // segment is cut.
        let file = elf_importing(&libs, 0x2000);
        for cut in (0..file.len()).step_by(97) {
            let _ = imports(&file[..cut], 64);
        }
        assert_eq!(imports(&file[..file.len() - 1], 64), None);
    }
}
