//! Recognises multi-call binaries (BusyBox, toybox) by their content, so a
//! copy renamed or moved anywhere is still found. Each is known by two
//! strings its own help text always holds; both must be present.

use pare_image::scan::{ContentScanner, FileScan, Finding};

const ELF_MAGIC: &[u8] = b"\x7fELF";

/// A multi-call binary found by content.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MultiCall {
    /// `busybox` or `toybox`: the catalog name it is reported under.
    pub name: &'static str,
}

struct Signature {
    name: &'static str,
    markers: [&'static [u8]; 2],
}

const SIGNATURES: [Signature; 2] = [
    Signature {
        name: "busybox",
        markers: [b"BusyBox v", b"BusyBox is a multi-call binary"],
    },
    Signature {
        name: "toybox",
        markers: [b"usage: toybox [", b" multicall binary"],
    },
];

/// Bytes carried from one chunk to the next so a marker split across them
/// is still seen.
const OVERLAP: usize = 64;

/// Scans executables (any `x` bit) for multi-call signatures.
pub struct MultiCallScanner;

impl ContentScanner for MultiCallScanner {
    fn start(&self, _path: &str, size: u64, mode: u32) -> Option<Box<dyn FileScan>> {
        (mode & 0o111 != 0 && size >= 1024)
            .then(|| Box::new(MultiCallScan::default()) as Box<dyn FileScan>)
    }
}

#[derive(Default)]
struct MultiCallScan {
    checked: bool,
    buffer: Vec<u8>,
    seen: [[bool; 2]; 2],
}

impl MultiCallScan {
    fn found(&self) -> Option<&'static str> {
        SIGNATURES
            .iter()
            .zip(self.seen)
            .find(|(_, seen)| seen[0] && seen[1])
            .map(|(signature, _)| signature.name)
    }
}

impl FileScan for MultiCallScan {
    fn feed(&mut self, bytes: &[u8]) -> bool {
        self.buffer.extend_from_slice(bytes);
        if !self.checked {
            if self.buffer.len() < ELF_MAGIC.len() {
                return true;
            }
            self.checked = true;
            if !self.buffer.starts_with(ELF_MAGIC) {
                return false;
            }
        }
        for (signature, seen) in SIGNATURES.iter().zip(self.seen.iter_mut()) {
            for (marker, seen) in signature.markers.iter().zip(seen.iter_mut()) {
                if !*seen {
                    *seen = memchr::memmem::find(&self.buffer, marker).is_some();
                }
            }
        }
        let keep_from = self.buffer.len().saturating_sub(OVERLAP);
        self.buffer.drain(..keep_from);
        self.found().is_none()
    }

    fn finish(self: Box<Self>) -> Option<Finding> {
        self.found()
            .map(|name| Box::new(MultiCall { name }) as Finding)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scan(data: &[u8], chunk: usize) -> Option<&'static str> {
        let scans: Vec<Box<dyn FileScan>> = vec![Box::new(MultiCallScan::default())];
        let _ = chunk;
        let mut found = pare_image::scan::scan_all(ChunkedReader { data, chunk }, scans).unwrap();
        found.pop().map(|f| f.downcast::<MultiCall>().unwrap().name)
    }

    /// Hands out at most `chunk` bytes per read.
    struct ChunkedReader<'a> {
        data: &'a [u8],
        chunk: usize,
    }

    impl std::io::Read for ChunkedReader<'_> {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            let n = self.chunk.min(buf.len()).min(self.data.len());
            buf[..n].copy_from_slice(&self.data[..n]);
            self.data = &self.data[n..];
            Ok(n)
        }
    }

    #[test]
    fn signatures_are_found_across_chunk_boundaries() {
        let mut data = ELF_MAGIC.to_vec();
        data.extend(vec![0u8; 5000]);
        data.extend_from_slice(b"BusyBox v1.35.0 (Debian)\0");
        data.extend(vec![1u8; 3000]);
        data.extend_from_slice(b"\tBusyBox is a multi-call binary that combines");
        for chunk in [1, 3, 17, 4096, 1 << 20] {
            assert_eq!(scan(&data, chunk), Some("busybox"), "chunk {chunk}");
        }
    }

    #[test]
    fn one_marker_alone_or_a_script_is_not_a_multicall_binary() {
        let mut one = ELF_MAGIC.to_vec();
        one.extend_from_slice(b"...BusyBox v1.35.0 in a version banner only...");
        assert_eq!(scan(&one, 4096), None);
        let script = b"#!/bin/sh\necho 'BusyBox v1.2 BusyBox is a multi-call binary'\n";
        assert_eq!(scan(script, 4096), None);
    }
}
