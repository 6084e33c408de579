//! Content scanners: look at the bytes of chosen regular files as they
//! stream past during flattening and keep only what they find (a Go
//! binary's build info, a Rust binary's dependency list), so a file's bytes
//! are never held whole and layers are still read once.

use std::any::Any;
use std::io::Read;

/// What a scan found; the scanner's owner downcasts it to its own type.
pub type Finding = Box<dyn Any + Send + Sync>;

/// Chooses files to scan and starts a scan of each.
pub trait ContentScanner: Send + Sync {
    /// A new scan of the regular file at `path` (`mode` holds its
    /// permission bits), or `None` to let it pass unread.
    fn start(&self, path: &str, size: u64, mode: u32) -> Option<Box<dyn FileScan>>;

    /// [`ContentScanner::start`] within the image's limits (a scanner that
    /// buffers part of a file bounds it by them). By default the limits
    /// are not needed.
    fn start_within(
        &self,
        path: &str,
        size: u64,
        mode: u32,
        limits: &crate::Limits,
    ) -> Option<Box<dyn FileScan>> {
        let _ = limits;
        self.start(path, size, mode)
    }

    /// Scans a file that can be read at any offset (a root folder's file),
    /// where a scanner may read only the parts it needs. By default the
    /// file is streamed like a layer entry.
    fn scan_file(
        &self,
        file: std::fs::File,
        scan: Box<dyn FileScan>,
    ) -> std::io::Result<Option<Finding>> {
        scan_reader(file, scan)
    }
}

/// A shared scanner scans as itself, so its owner can keep a handle on it
/// (to read what it counted) while a flattener holds the other.
impl<T: ContentScanner + ?Sized> ContentScanner for std::sync::Arc<T> {
    fn start(&self, path: &str, size: u64, mode: u32) -> Option<Box<dyn FileScan>> {
        (**self).start(path, size, mode)
    }

    fn start_within(
        &self,
        path: &str,
        size: u64,
        mode: u32,
        limits: &crate::Limits,
    ) -> Option<Box<dyn FileScan>> {
        (**self).start_within(path, size, mode, limits)
    }

    fn scan_file(
        &self,
        file: std::fs::File,
        scan: Box<dyn FileScan>,
    ) -> std::io::Result<Option<Finding>> {
        (**self).scan_file(file, scan)
    }
}

/// One file's scan, fed the file's bytes in order.
pub trait FileScan: Send {
    /// Takes the next bytes; returns false once it needs no more.
    fn feed(&mut self, bytes: &[u8]) -> bool;
    /// What the scan found, if anything.
    fn finish(self: Box<Self>) -> Option<Finding>;
}

/// Chunk size used to feed scans from a reader.
const CHUNK: usize = 64 * 1024;

/// Feeds `reader` to `scan` until it ends or the scan has seen enough.
pub fn scan_reader(reader: impl Read, scan: Box<dyn FileScan>) -> std::io::Result<Option<Finding>> {
    Ok(scan_all(reader, vec![scan])?.pop())
}

/// Feeds `reader` to every scan in one pass, until it ends or every scan
/// has seen enough; what the scans found, in no particular order.
pub fn scan_all(
    mut reader: impl Read,
    mut scans: Vec<Box<dyn FileScan>>,
) -> std::io::Result<Vec<Finding>> {
    let mut buf = vec![0u8; CHUNK];
    let mut done = Vec::new();
    while !scans.is_empty() {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        feed(&buf[..n], &mut scans, &mut done);
    }
    done.extend(scans);
    Ok(done.into_iter().filter_map(|scan| scan.finish()).collect())
}

/// Feeds a whole file's bytes, already in memory, to every scan.
pub fn scan_bytes(bytes: &[u8], mut scans: Vec<Box<dyn FileScan>>) -> Vec<Finding> {
    let mut done = Vec::new();
    feed(bytes, &mut scans, &mut done);
    done.extend(scans);
    done.into_iter().filter_map(|scan| scan.finish()).collect()
}

/// Gives `bytes` to each open scan, moving those that have enough to `done`.
fn feed(bytes: &[u8], scans: &mut Vec<Box<dyn FileScan>>, done: &mut Vec<Box<dyn FileScan>>) {
    let mut i = 0;
    while i < scans.len() {
        if scans[i].feed(bytes) {
            i += 1;
        } else {
            done.push(scans.swap_remove(i));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Counts bytes until it has seen `limit`.
    struct Count {
        seen: usize,
        limit: usize,
    }

    impl FileScan for Count {
        fn feed(&mut self, bytes: &[u8]) -> bool {
            self.seen += bytes.len();
            self.seen < self.limit
        }
        fn finish(self: Box<Self>) -> Option<Finding> {
            Some(Box::new(self.seen))
        }
    }

    #[test]
    fn several_scans_share_one_read_and_stop_on_their_own() {
        let data = vec![7u8; 3 * CHUNK + 5];
        let scans: Vec<Box<dyn FileScan>> = vec![
            Box::new(Count { seen: 0, limit: 1 }),
            Box::new(Count {
                seen: 0,
                limit: usize::MAX,
            }),
        ];
        let mut seen: Vec<usize> = scan_all(&data[..], scans)
            .unwrap()
            .into_iter()
            .map(|f| *f.downcast::<usize>().unwrap())
            .collect();
        seen.sort();
        assert_eq!(seen, [CHUNK, data.len()]);
    }

    #[test]
    fn a_scan_stops_reading_once_it_has_enough() {
        let data = vec![7u8; 3 * CHUNK + 5];
        let found = scan_reader(
            &data[..],
            Box::new(Count {
                seen: 0,
                limit: CHUNK + 1,
            }),
        )
        .unwrap()
        .unwrap();
        assert_eq!(*found.downcast::<usize>().unwrap(), 2 * CHUNK);
        let found = scan_reader(
            &data[..],
            Box::new(Count {
                seen: 0,
                limit: usize::MAX,
            }),
        )
        .unwrap()
        .unwrap();
        assert_eq!(*found.downcast::<usize>().unwrap(), data.len());
    }
}
