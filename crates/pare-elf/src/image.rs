//! The loader's view of an image: ELF headers read while the layers stream
//! past (a bounded prefix of each ELF file, nothing extracted), and a
//! [`Root`] over the flattened tree.

use pare_image::Flattened;
use pare_image::scan::{ContentScanner, FileScan, Finding};
use pare_image::tree::NodeKind;

use crate::elf::{ElfInfo, Parsed, parse_prefix};
use crate::search::Root;

/// An ELF file whose dynamic section lies further in than this is not
/// read (no real object comes close; a hostile one could ask for more).
pub const MAX_PREFIX: u64 = 64 * 1024 * 1024;

/// What the scan made of one ELF file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ElfFinding(pub Result<ElfInfo, String>);

/// Reads the loader's view of every regular ELF file.
pub struct ElfScanner;

impl ContentScanner for ElfScanner {
    fn start(&self, _path: &str, size: u64, _mode: u32) -> Option<Box<dyn FileScan>> {
        (size >= 52).then(|| {
            Box::new(PrefixScan {
                size,
                prefix: Vec::new(),
                want: 64,
                result: None,
            }) as Box<dyn FileScan>
        })
    }
}

struct PrefixScan {
    size: u64,
    prefix: Vec<u8>,
    /// Bytes needed before parsing again.
    want: u64,
    result: Option<Result<ElfInfo, String>>,
}

impl PrefixScan {
    /// Parses what is buffered; false once there is an answer.
    fn step(&mut self) -> bool {
        match parse_prefix(&self.prefix, self.size) {
            Parsed::NeedBytes(n) if n > MAX_PREFIX => {
                self.result = Some(Err(format!(
                    "dynamic section beyond the first {MAX_PREFIX} bytes"
                )));
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
        // Not ELF: stop at the magic, before buffering anything more.
        if !self.prefix.starts_with(b"\x7fELF") {
            return false;
        }
        let more = self.step();
        if more && room < bytes.len() {
            // The rest of this chunk is part of what is wanted next.
            return self.feed(&bytes[room..]);
        }
        more
    }

    fn finish(mut self: Box<Self>) -> Option<Finding> {
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
        assert_eq!(
            scan(
                b"#!/bin/sh\nexit 0\n#########################################",
                8
            ),
            None
        );
    }
}
