//! The bytes of chosen files, copied out of their layers into temporary
//! files, so a new layer can be written in sorted order while the source
//! layers are still read only as streams (and never extracted to paths).
//!
//! Two ways in: [`SpoolScanner`] copies candidate files (any ELF file, and
//! paths a predicate picks) while the one verifying flatten pass streams
//! them past, before anyone knows which will be kept; [`Spool::fill`] reads
//! again, verifying again, the layers holding kept files that were not
//! copied then.

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::sync::{Arc, Mutex};

use crate::error::{Error, Result};
use crate::image::Image;
use crate::scan::{ContentScanner, FileScan, Finding};
use crate::source::Flattened;
use crate::tree::DataSource;

/// Where a copy lives: (spool file, offset in it, size).
type Place = (usize, u64, u64);

/// Copies of file contents, keyed by where they live in the source layers.
pub struct Spool {
    files: Vec<File>,
    /// (layer, offset in its tar stream) → where the copy is.
    at: HashMap<(usize, u64), Place>,
}

impl Spool {
    /// Streams the layers of `image` that hold any of `wanted` (layer,
    /// offset, size) and copies those files' bytes out.
    pub fn fill(image: &Image, wanted: &[(usize, u64, u64)]) -> Result<Spool> {
        let mut spool = Spool {
            files: Vec::new(),
            at: HashMap::new(),
        };
        spool.fill_missing(image, wanted)?;
        Ok(spool)
    }

    /// Like [`Spool::fill`], for the files of `wanted` not copied yet; the
    /// layers holding none of them are not read.
    pub fn fill_missing(&mut self, image: &Image, wanted: &[(usize, u64, u64)]) -> Result<()> {
        let missing: Vec<&(usize, u64, u64)> = wanted
            .iter()
            .filter(|w| !self.at.contains_key(&(w.0, w.1)))
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let mut file = tempfile::tempfile().map_err(|e| Error::io("spool", e))?;
        let index = self.files.len();
        // A blob the manifest lists more than once is read once, at its
        // first listing, for the files wanted from any of its listings
        // (the same offset in the same stream is the same bytes).
        let first = image.first_listings()?;
        let sources: HashSet<usize> = missing.iter().map(|w| first[w.0]).collect();
        let mut sources: Vec<usize> = sources.into_iter().collect();
        sources.sort_unstable();
        for source in sources {
            let mut here: HashMap<u64, (u64, Vec<usize>)> = HashMap::new();
            for &&(layer, offset, size) in missing.iter().filter(|w| first[w.0] == source) {
                here.entry(offset)
                    .or_insert((size, Vec::new()))
                    .1
                    .push(layer);
            }
            let context = image.layer_context(source);
            image.with_layer(source, |reader| {
                let mut archive = tar::Archive::new(reader);
                let entries = archive.entries().map_err(|e| Error::io(&context, e))?;
                for entry in entries {
                    let entry = entry.map_err(|e| Error::io(&context, e))?;
                    let offset = entry.raw_file_position();
                    let Some((size, layers)) = here.get(&offset) else {
                        continue;
                    };
                    let size = *size;
                    let start = file.stream_position().map_err(|e| Error::io("spool", e))?;
                    let copied = io::copy(&mut entry.take(size), &mut file)
                        .map_err(|e| Error::io(&context, e))?;
                    if copied != size {
                        return Err(Error::malformed(
                            &context,
                            "file shorter than its header says",
                        ));
                    }
                    for &layer in layers {
                        self.at.insert((layer, offset), (index, start, size));
                    }
                }
                Ok(())
            })?;
        }
        file.flush().map_err(|e| Error::io("spool", e))?;
        self.files.push(file);
        Ok(())
    }

    /// The bytes of the file at `offset` in `layer`'s stream.
    pub fn open(&self, layer: usize, offset: u64, context: &str) -> Result<Box<dyn Read>> {
        let (index, start, size) = *self
            .at
            .get(&(layer, offset))
            .ok_or_else(|| Error::malformed(context, "file bytes were not read from the layers"))?;
        let mut file = self.files[index]
            .try_clone()
            .map_err(|e| Error::io("spool", e))?;
        file.seek(SeekFrom::Start(start))
            .map_err(|e| Error::io("spool", e))?;
        Ok(Box::new(
            io::BufReader::with_capacity(256 * 1024, file).take(size),
        ))
    }

    /// How many files have a copy.
    pub fn len(&self) -> usize {
        self.at.len()
    }

    pub fn is_empty(&self) -> bool {
        self.at.is_empty()
    }
}

/// Which files a [`SpoolScanner`] copies besides ELF files: given the path
/// (relative to the root) and size.
pub type SpoolPredicate = dyn Fn(&str, u64) -> bool + Send + Sync;

/// A content scanner that copies every ELF file, and every file its
/// predicate picks, into spool files while flattening streams them past.
/// Each parsing thread takes a spool file from a pool for one file at a
/// time, so every copy is contiguous.
pub struct SpoolScanner {
    pool: Arc<Pool>,
    wants: Box<SpoolPredicate>,
}

/// Where the copies went; turned into a [`Spool`] once flattening is done.
pub struct SpoolHandle {
    pool: Arc<Pool>,
}

#[derive(Default)]
struct Pool {
    /// Spool files not being written to, and every file made so far.
    idle: Mutex<Vec<Slot>>,
    made: Mutex<usize>,
    broken: Mutex<HashSet<usize>>,
}

struct Slot {
    index: usize,
    file: File,
    len: u64,
}

/// Where one file was copied.
#[derive(Clone, Copy, Debug)]
struct Spooled {
    file: usize,
    start: u64,
    size: u64,
}

impl SpoolScanner {
    pub fn new(wants: Box<SpoolPredicate>) -> (SpoolScanner, SpoolHandle) {
        let pool = Arc::new(Pool::default());
        let handle = SpoolHandle { pool: pool.clone() };
        (SpoolScanner { pool, wants }, handle)
    }
}

impl ContentScanner for SpoolScanner {
    fn start(&self, path: &str, size: u64, _mode: u32) -> Option<Box<dyn FileScan>> {
        if size == 0 {
            return None;
        }
        Some(Box::new(SpoolScan {
            pool: self.pool.clone(),
            wanted_by_path: (self.wants)(path, size),
            size,
            head: Vec::new(),
            slot: None,
            start: 0,
            written: 0,
            failed: false,
        }))
    }
}

struct SpoolScan {
    pool: Arc<Pool>,
    wanted_by_path: bool,
    size: u64,
    /// The first bytes, until there are enough to tell an ELF file.
    head: Vec<u8>,
    slot: Option<Slot>,
    start: u64,
    written: u64,
    failed: bool,
}

const ELF_MAGIC: &[u8; 4] = b"\x7fELF";

impl SpoolScan {
    fn write(&mut self, bytes: &[u8]) -> bool {
        let slot = self.slot.as_mut().expect("a slot is taken before writing");
        match slot.file.write_all(bytes) {
            Ok(()) => {
                slot.len += bytes.len() as u64;
                self.written += bytes.len() as u64;
                true
            }
            Err(_) => {
                // Its end is unknown now: never hand this file out again.
                self.failed = true;
                self.pool.broken.lock().expect("pool").insert(slot.index);
                false
            }
        }
    }

    fn take_slot(&mut self) -> bool {
        let idle = self.pool.idle.lock().expect("pool").pop();
        let slot = match idle {
            Some(slot) => slot,
            None => {
                let Ok(file) = tempfile::tempfile() else {
                    self.failed = true;
                    return false;
                };
                let mut made = self.pool.made.lock().expect("pool");
                *made += 1;
                Slot {
                    index: *made - 1,
                    file,
                    len: 0,
                }
            }
        };
        self.start = slot.len;
        self.slot = Some(slot);
        true
    }
}

impl FileScan for SpoolScan {
    fn feed(&mut self, bytes: &[u8]) -> bool {
        if self.failed {
            return false;
        }
        if self.slot.is_none() {
            self.head.extend_from_slice(bytes);
            let short = (self.head.len() as u64) < self.size.min(ELF_MAGIC.len() as u64);
            if short {
                return true;
            }
            if !self.wanted_by_path && !self.head.starts_with(ELF_MAGIC) {
                return false;
            }
            if !self.take_slot() {
                return false;
            }
            let head = std::mem::take(&mut self.head);
            return self.write(&head);
        }
        self.write(bytes)
    }

    fn finish(mut self: Box<Self>) -> Option<Finding> {
        let slot = self.slot.take()?;
        let index = slot.index;
        let complete = !self.failed && self.written == self.size;
        if !self.failed {
            self.pool.idle.lock().expect("pool").push(slot);
        }
        complete.then(|| {
            Box::new(Spooled {
                file: index,
                start: self.start,
                size: self.size,
            }) as Finding
        })
    }
}

impl Drop for SpoolScan {
    /// A scan dropped unfinished (its layer failed) gives its file back,
    /// marked broken: what it holds at the end is partial.
    fn drop(&mut self) {
        if let Some(slot) = self.slot.take() {
            self.pool.broken.lock().expect("pool").insert(slot.index);
            self.pool.idle.lock().expect("pool").push(slot);
        }
    }
}

impl SpoolHandle {
    /// The copies made while `flat` was flattened, by layer and offset.
    /// Copies in a spool file a failed write or an unfinished scan broke
    /// are left out ([`Spool::fill_missing`] reads them again).
    pub fn into_spool(self, flat: &Flattened) -> Spool {
        let mut slots: Vec<Slot> = std::mem::take(&mut *self.pool.idle.lock().expect("pool"));
        slots.sort_by_key(|s| s.index);
        let broken = self.pool.broken.lock().expect("pool").clone();
        // Index in the pool → index in the spool's file list.
        let mut renumbered = HashMap::new();
        let mut files = Vec::new();
        for slot in slots {
            if broken.contains(&slot.index) {
                continue;
            }
            renumbered.insert(slot.index, files.len());
            let mut file = slot.file;
            if file.flush().is_ok() {
                files.push(file);
            }
        }
        let mut at = HashMap::new();
        for (id, content) in flat.tree.contents().iter().enumerate() {
            let DataSource::Layer { layer, offset } = content.source else {
                continue;
            };
            let Some(spooled) = flat.found::<Spooled>(id) else {
                continue;
            };
            if let Some(&file) = renumbered.get(&spooled.file)
                && file < files.len()
            {
                at.insert((layer, offset), (file, spooled.start, spooled.size));
            }
        }
        Spool { files, at }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::scan_all;

    fn scan(scanner: &SpoolScanner, path: &str, bytes: &[u8], chunk: usize) -> Option<Finding> {
        let scans: Vec<Box<dyn FileScan>> = scanner
            .start(path, bytes.len() as u64, 0o755)
            .into_iter()
            .collect();
        // Fed in small pieces, as a layer stream may hand them over.
        struct Trickle<'a>(&'a [u8], usize);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.0.len().min(self.1).min(buf.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        scan_all(Trickle(bytes, chunk), scans).unwrap().pop()
    }

    #[test]
    fn copies_elf_files_and_picked_paths_whole_and_nothing_else() {
        let (scanner, _handle) = SpoolScanner::new(Box::new(|p: &str, _| p.starts_with("etc/")));
        let elf: Vec<u8> = b"\x7fELF"
            .iter()
            .copied()
            .chain((0..100_000u32).map(|i| i as u8))
            .collect();
        let cases: &[(&str, &[u8], bool)] = &[
            ("usr/bin/tool", &elf, true),
            ("etc/passwd", b"root:x:0:0::/root:/bin/sh\n", true),
            ("usr/share/doc/readme", b"plain text, not wanted", false),
            ("usr/bin/ab", b"\x7fE", false),
            ("etc/x", b"ab", true),
        ];
        for chunk in [1, 3, 4096] {
            for (path, bytes, copied) in cases {
                let found = scan(&scanner, path, bytes, chunk);
                assert_eq!(found.is_some(), *copied, "{path} in chunks of {chunk}");
                if let Some(found) = found {
                    let spooled = found.downcast::<Spooled>().unwrap();
                    assert_eq!(spooled.size, bytes.len() as u64);
                    let pool = scanner.pool.idle.lock().unwrap();
                    let slot = pool.iter().find(|s| s.index == spooled.file).unwrap();
                    let mut file = slot.file.try_clone().unwrap();
                    file.seek(SeekFrom::Start(spooled.start)).unwrap();
                    let mut back = vec![0; bytes.len()];
                    file.read_exact(&mut back).unwrap();
                    assert_eq!(&back, bytes, "{path}");
                }
            }
        }
    }

    #[test]
    fn copies_made_while_flattening_and_a_second_read_for_the_rest() {
        use crate::source::FlattenOptions;
        use crate::testutil::{E, layer, oci_layout};
        use crate::{Platform, Source};
        let elf: &'static [u8] = b"\x7fELF and then the rest of a program";
        let layers = vec![
            layer(&[E::File("bin/tool", elf), E::File("data/a", b"first data")]),
            layer(&[E::File("data/b", b"second data"), E::File("bin/other", elf)]),
        ];
        let dir = tempfile::tempdir().unwrap();
        let reference = oci_layout(dir.path(), &layers);
        let source = Source::open(&reference, &Platform::default()).unwrap();
        let (scanner, handle) = SpoolScanner::new(Box::new(|_: &str, _| false));
        let flat = source
            .flatten_with(FlattenOptions {
                capture: None,
                scanners: vec![Box::new(scanner)],
            })
            .unwrap();
        let place = |path: &str| {
            let node = flat.tree.get(path).unwrap();
            let crate::NodeKind::File(id) = node.kind else {
                panic!()
            };
            let content = flat.tree.content(id);
            let DataSource::Layer { layer, offset } = content.source else {
                panic!()
            };
            (layer, offset, content.size)
        };
        let mut spool = handle.into_spool(&flat);
        assert_eq!(spool.len(), 2, "the two ELF files, copied in the one pass");
        let Source::Image(image) = &source else {
            panic!()
        };
        let wanted: Vec<_> = ["bin/tool", "data/b"].iter().map(|p| place(p)).collect();
        spool.fill_missing(image, &wanted).unwrap();
        assert_eq!(spool.len(), 3, "data/b read again; data/a never wanted");
        for (path, want) in [
            ("bin/tool", elf),
            ("bin/other", elf),
            ("data/b", b"second data"),
        ] {
            let (layer, offset, _) = place(path);
            let mut got = Vec::new();
            spool
                .open(layer, offset, path)
                .unwrap()
                .read_to_end(&mut got)
                .unwrap();
            assert_eq!(got, want, "{path}");
        }
        let (layer, offset, _) = place("data/a");
        assert!(spool.open(layer, offset, "data/a").is_err());
    }

    /// A blob the manifest lists twice is read once for the files wanted
    /// from either listing.
    #[test]
    fn fill_reads_a_repeated_blob_once() {
        use crate::image::tests::count_opens;
        use crate::testutil::{E, layer, oci_layout};
        use crate::{Platform, Source};
        let blob = layer(&[E::File("data/a", b"first"), E::File("data/b", b"second")]);
        let other = layer(&[E::File("data/c", b"third")]);
        let dir = tempfile::tempdir().unwrap();
        let reference = oci_layout(dir.path(), &[blob.clone(), other, blob]);
        let Source::Image(mut image) = Source::open(&reference, &Platform::default()).unwrap()
        else {
            panic!("an OCI layout is an image")
        };
        let (tree, _) = image.flatten().unwrap();
        let place = |path: &str| {
            let crate::NodeKind::File(id) = tree.get(path).unwrap().kind else {
                panic!("{path} is a file")
            };
            let DataSource::Layer { layer, offset } = tree.content(id).source else {
                panic!("{path} is in a layer")
            };
            (layer, offset, tree.content(id).size)
        };
        let (a, b) = (place("data/a"), place("data/b"));
        assert_eq!(a.0, 2, "the last listing is visible");
        // The same file wanted from the first listing and `b` from the last.
        let wanted = [(0, a.1, a.2), (2, a.1, a.2), b];
        let opens = count_opens(&mut image);
        let spool = Spool::fill(&image, &wanted).unwrap();
        assert_eq!(spool.len(), 3);
        for ((layer, offset, _), want) in wanted.iter().zip([&b"first"[..], b"first", b"second"]) {
            let mut got = Vec::new();
            spool
                .open(*layer, *offset, "t")
                .unwrap()
                .read_to_end(&mut got)
                .unwrap();
            assert_eq!(got, want);
        }
        let opens = opens.lock().unwrap();
        assert_eq!(opens.values().sum::<usize>(), 1, "{opens:?}");
    }

    #[test]
    fn an_unfinished_copy_breaks_its_spool_file() {
        let (scanner, handle) = SpoolScanner::new(Box::new(|_: &str, _| true));
        let mut scan = scanner.start("etc/a", 10, 0o644).unwrap();
        assert!(scan.feed(b"12345"));
        drop(scan);
        assert!(handle.pool.broken.lock().unwrap().contains(&0));
    }
}
