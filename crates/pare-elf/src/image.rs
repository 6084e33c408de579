//! The loader's view of an image: ELF headers read while the layers stream
//! past (a bounded prefix of each ELF file, nothing extracted), and a
//! [`Root`] over the flattened tree.

use pare_image::Flattened;
use pare_image::scan::{ContentScanner, FileScan, Finding};
use pare_image::tree::NodeKind;

use crate::elf::{ElfError, ElfInfo, Parsed, parse_prefix};
use crate::search::Root;

/// An ELF file whose dynamic section lies further in than this is not
/// read (no real object comes close; a hostile one could ask for more).
/// The image's `elf-bytes` limit replaces it when the scan runs within
/// limits ([`ContentScanner::start_within`]).
pub const MAX_PREFIX: u64 = 64 * 1024 * 1024;

/// What the scan made of one ELF file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElfFinding(pub Result<ElfInfo, ElfError>);

/// A script's `#!` line (without the `#!`), for files that start with one.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Shebang(pub String);

/// How much of a `#!` line is read (Linux reads 256 bytes too).
const SHEBANG_MAX: usize = 256;

/// Reads the loader's view of every regular ELF file.
pub struct ElfScanner;

impl ContentScanner for ElfScanner {
    fn start(&self, path: &str, size: u64, mode: u32) -> Option<Box<dyn FileScan>> {
        let limits = pare_image::Limits {
            elf_bytes: MAX_PREFIX,
            ..Default::default()
        };
        self.start_within(path, size, mode, &limits)
    }

    fn start_within(
        &self,
        _path: &str,
        size: u64,
        _mode: u32,
        limits: &pare_image::Limits,
    ) -> Option<Box<dyn FileScan>> {
        (size >= 3).then(|| {
            Box::new(PrefixScan {
                max: limits.elf_bytes,
                size,
                prefix: Vec::new(),
                want: 64,
                result: None,
                shebang: None,
            }) as Box<dyn FileScan>
        })
    }
}

struct PrefixScan {
    /// The most bytes buffered (the elf-bytes limit).
    max: u64,
    size: u64,
    prefix: Vec<u8>,
    /// Bytes needed before parsing again.
    want: u64,
    result: Option<Result<ElfInfo, ElfError>>,
    shebang: Option<String>,
}

impl PrefixScan {
    /// Reads the `#!` line once enough is buffered; false when done.
    fn step_script(&mut self) -> bool {
        let line = &self.prefix[2..];
        let end = line.iter().position(|b| *b == b'\n');
        let complete = end.is_some()
            || self.prefix.len() >= SHEBANG_MAX
            || self.prefix.len() as u64 >= self.size;
        if !complete {
            self.want = (SHEBANG_MAX as u64).min(self.size);
            return true;
        }
        let line = &line[..end.unwrap_or(line.len())];
        self.shebang = Some(String::from_utf8_lossy(line).trim().to_string());
        false
    }

    /// Parses what is buffered; false once there is an answer.
    fn step(&mut self) -> bool {
        match parse_prefix(&self.prefix, self.size) {
            Parsed::NeedBytes(n) if n > self.max => {
                self.result = Some(Err(ElfError::BeyondPrefix { max: self.max }));
                false
            }
            Parsed::NeedBytes(n) => {
                self.want = n;
                true
            }
            Parsed::Elf(info) => {
                self.result = Some(Ok(info));
                false
            }
            Parsed::NotElf => false,
            Parsed::Invalid(why) => {
                self.result = Some(Err(why));
                false
            }
        }
    }
}

impl FileScan for PrefixScan {
    fn feed(&mut self, bytes: &[u8]) -> bool {
        let room = (self.want as usize).saturating_sub(self.prefix.len());
        self.prefix
            .extend_from_slice(&bytes[..room.min(bytes.len())]);
        if (self.prefix.len() as u64) < self.want {
            return true;
        }
        let more = if self.prefix.starts_with(b"#!") {
            self.step_script()
        } else if self.prefix.starts_with(b"\x7fELF") {
            self.step()
        } else {
            return false; // neither: stop before buffering anything more
        };
        if more && room < bytes.len() {
            // The rest of this chunk is part of what is wanted next.
            return self.feed(&bytes[room..]);
        }
        more
    }

    fn finish(mut self: Box<Self>) -> Option<Finding> {
        if self.prefix.starts_with(b"#!") {
            if self.shebang.is_none() {
                self.step_script();
            }
            return self.shebang.map(|line| Box::new(Shebang(line)) as Finding);
        }
        if self.result.is_none() && self.prefix.starts_with(b"\x7fELF") {
            self.step();
        }
        self.result.map(|r| Box::new(ElfFinding(r)) as Finding)
    }
}

/// A flattened image (flattened with [`ElfScanner`]) as the loader sees it.
pub struct ImageRoot<'a> {
    pub flat: &'a Flattened,
}

impl ImageRoot<'_> {
    /// The `#!` line of the script at real path `path`.
    pub fn shebang(&self, path: &str) -> Option<&str> {
        let node = self.flat.tree.get(path.trim_start_matches('/'))?;
        let NodeKind::File(id) = node.kind else {
            return None;
        };
        self.flat.found::<Shebang>(id).map(|s| s.0.as_str())
    }

    /// Whether the regular file at real path `path` has an `x` bit.
    pub fn is_executable(&self, path: &str) -> bool {
        self.flat
            .tree
            .get(path.trim_start_matches('/'))
            .is_some_and(|n| matches!(n.kind, NodeKind::File(_)) && n.mode & 0o111 != 0)
    }
}

impl Root for ImageRoot<'_> {
    fn resolve(&self, path: &str) -> Option<(String, Vec<String>)> {
        let (real, links) = self.flat.tree.resolve_traced(path).ok()?;
        self.flat.tree.get(&real)?;
        let absolute = |p: &str| format!("/{p}");
        Some((absolute(&real), links.iter().map(|l| absolute(l)).collect()))
    }

    fn elf(&self, path: &str) -> Option<ElfInfo> {
        let node = self.flat.tree.get(path.trim_start_matches('/'))?;
        let NodeKind::File(id) = node.kind else {
            return None;
        };
        match self.flat.found::<ElfFinding>(id) {
            Some(ElfFinding(Ok(info))) => Some(info.clone()),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(data: &[u8], chunk: usize) -> Option<ElfFinding> {
        let mut scan = ElfScanner.start("x", data.len() as u64, 0o755).unwrap();
        for piece in data.chunks(chunk) {
            if !scan.feed(piece) {
                break;
            }
        }
        scan.finish().map(|f| *f.downcast::<ElfFinding>().unwrap())
    }

    #[test]
    fn streamed_in_any_chunking_it_reads_what_the_whole_file_says() {
        let data = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let Parsed::Elf(whole) = crate::elf::parse(&data) else {
            panic!()
        };
        for chunk in [1, 7, 4096, 65536, 1 << 22] {
            assert_eq!(
                scan(&data, chunk),
                Some(ElfFinding(Ok(whole.clone()))),
                "chunk {chunk}"
            );
        }
        let script = b"#!/usr/bin/env python3 -u\nprint('hi')\n##############################";
        for chunk in [1, 5, 4096] {
            let mut scan = ElfScanner.start("x", script.len() as u64, 0o755).unwrap();
            for piece in script.chunks(chunk) {
                if !scan.feed(piece) {
                    break;
                }
            }
            let found = scan.finish().unwrap().downcast::<Shebang>().unwrap();
            assert_eq!(found.0, "/usr/bin/env python3 -u", "chunk {chunk}");
        }
        let text = b"plain text, not a program at all ..............................";
        assert_eq!(scan(text, 8), None);
    }

    #[test]
    fn the_elf_bytes_limit_bounds_what_is_buffered() {
        let data = std::fs::read(std::env::current_exe().unwrap()).unwrap();
        let limits = pare_image::Limits {
            elf_bytes: 32,
            ..Default::default()
        };
        let mut scan = ElfScanner
            .start_within("x", data.len() as u64, 0o755, &limits)
            .unwrap();
        for piece in data.chunks(4096) {
            if !scan.feed(piece) {
                break;
            }
        }
        let found = scan.finish().unwrap().downcast::<ElfFinding>().unwrap();
        let err = found.0.unwrap_err().to_string();
        assert!(err.contains("--limits elf-bytes=N"), "{err}");
    }
}
