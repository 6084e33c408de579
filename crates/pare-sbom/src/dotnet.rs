//! .NET packages, as Syft 1.18's two .NET catalogers report them
//! (anchore/syft v1.18.1, `syft/pkg/cataloger/dotnet/`; which one runs
//! where is decided in `internal/task/package_tasks.go` and
//! `syft/create_sbom_config.go` `findDefaultTag`):
//!
//! - `dotnet-portable-executable-cataloger`, globs `**/*.dll` and
//!   `**/*.exe`, tagged for image **and** directory scans: the version
//!   resource of each PE file ([`pe`]) gives one package, named and
//!   versioned by [`identity`]'s rules, type `dotnet`, PURL
//!   `pkg:nuget/NAME@VERSION`. Any PE file with version strings counts (a
//!   native Windows DLL too); a file that is not PE, or has no name or
//!   version in its strings, gives nothing.
//! - `dotnet-deps-cataloger`, glob `**/*.deps.json`, tagged *declared*
//!   and for directory scans only: Syft reads `*.deps.json` for `dir:`
//!   sources and never for images. pare does the same: [`deps`] is read
//!   for root folders (`dir:`), the equivalent of Syft's directory scan,
//!   and not in images.
//!
//! **Streaming.** A PE file's version resource lives in its resource
//! section, usually near the end, found through headers at its start.
//! [`PeScanner`] keeps the first [`HEAD_BYTES`] of each `*.dll`/`*.exe`
//! while the layer streams, reads the headers from them, then keeps the
//! bytes from the resource directory on, at most [`WINDOW_BYTES`], and
//! stops reading the file there; at the file's end only the package (or
//! the reason there is none) is kept. A read the walk needs outside what
//! was kept is reported as a warning rather than guessed (saferwall reads
//! the whole file). Root folders' files are read the same way with seeks.
//!
//! Like Syft's globs, names match case-sensitively (`X.DLL` is not read)
//! and a link named `*.dll` counts at its target, once; a target not
//! itself named `*.dll`/`*.exe` is not read (it was not kept while
//! streaming; Syft reads it).

pub mod deps;
pub mod identity;
pub mod pe;
#[cfg(test)]
#[path = "../tests/common/pe_build.rs"]
mod pe_build;

use std::io::{self, Read, Seek, SeekFrom};

use pare_image::Flattened;
use pare_image::paths::file_name;
use pare_image::scan::{ContentScanner, FileScan, Finding};
use pare_image::tree::NodeKind;

use crate::model::{Catalog, Distro, Package, PackageType};
use crate::purl;
use crate::read::{layer_of, read_bytes};

/// Bytes kept from the start of each PE file: its headers and section
/// table (`e_lfanew` is under 4 KiB in every linker's output).
pub const HEAD_BYTES: usize = 64 << 10;
/// Bytes kept from the resource directory on. A .NET assembly's resource
/// section is a few KiB; native programs with large icons reach a few MiB.
pub const WINDOW_BYTES: u64 = 16 << 20;

/// Whether Syft's globs `**/*.dll`, `**/*.exe` match the file name.
pub fn is_pe_name(path: &str) -> bool {
    let name = file_name(path);
    name.ends_with(".dll") || name.ends_with(".exe")
}

/// Whether Syft's glob `**/*.deps.json` matches the file name.
pub fn is_deps_name(path: &str) -> bool {
    file_name(path).ends_with(".deps.json")
}

/// Nothing is captured: PE files are scanned, and deps files are read
/// only from root folders, where they are read from disk.
pub fn wants(_path: &str) -> bool {
    false
}

/// What the scan of one PE file found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PeFinding {
    /// Syft's package for it: (name, version).
    Package(String, String),
    /// No package, for a reason worth a warning (the file could not be read
    /// within pare's bounds, or Syft itself fails on it).
    Unread(pe::Error),
}

/// Reads the version resource of each `*.dll`/`*.exe` as it streams.
pub struct PeScanner;

impl ContentScanner for PeScanner {
    fn start(&self, path: &str, size: u64, _mode: u32) -> Option<Box<dyn FileScan>> {
        is_pe_name(path).then(|| Box::new(PeScan::new(size)) as Box<dyn FileScan>)
    }

    /// A root folder's file: the head, then a seek to the resource
    /// directory.
    fn scan_file(
        &self,
        mut file: std::fs::File,
        _scan: Box<dyn FileScan>,
    ) -> io::Result<Option<Finding>> {
        let size = file.metadata()?.len();
        let mut scan = PeScan::new(size);
        let mut head = Vec::with_capacity(HEAD_BYTES.min(size as usize));
        (&mut file).take(HEAD_BYTES as u64).read_to_end(&mut head)?;
        if scan.feed(&head) {
            if scan.window_at > scan.pos {
                file.seek(SeekFrom::Start(scan.window_at))?;
                scan.pos = scan.window_at;
            }
            let mut buf = vec![0u8; 64 << 10];
            loop {
                let n = match file.read(&mut buf) {
                    Ok(0) => break,
                    Ok(n) => n,
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                    Err(e) => return Err(e),
                };
                if !scan.feed(&buf[..n]) {
                    break;
                }
            }
        }
        Ok(Box::new(scan).finish())
    }
}

/// One PE file's head and resource window, as its bytes stream past.
struct PeScan {
    len: u64,
    /// Offset of the next byte fed.
    pos: u64,
    head: Vec<u8>,
    /// Whether the headers were read and the window chosen.
    planned: bool,
    window_at: u64,
    window_end: u64,
    window: Vec<u8>,
    /// Not a PE file (no `MZ`): nothing more to read.
    not_pe: bool,
}

impl PeScan {
    fn new(len: u64) -> PeScan {
        PeScan {
            len,
            pos: 0,
            head: Vec::new(),
            planned: false,
            window_at: 0,
            window_end: 0,
            window: Vec::new(),
            not_pe: false,
        }
    }

    fn bytes(&self) -> pe::Bytes<'_> {
        pe::Bytes {
            len: self.len,
            head: &self.head,
            window_at: self.window_at,
            window: &self.window,
        }
    }

    /// Chooses the window from the headers: from the resource directory
    /// to the end of the file, at most [`WINDOW_BYTES`].
    fn plan(&mut self) {
        self.planned = true;
        let Ok(layout) = pe::layout(self.bytes()) else {
            return;
        };
        if layout.resource_rva == 0 {
            return;
        }
        let at = u64::from(layout.offset_of(layout.resource_rva));
        if at >= self.len {
            return;
        }
        self.window_at = at;
        self.window_end = self.len.min(at + WINDOW_BYTES);
        if at < self.head.len() as u64 {
            let end = (self.head.len() as u64).min(self.window_end) as usize;
            self.window.extend_from_slice(&self.head[at as usize..end]);
        }
    }
}

impl FileScan for PeScan {
    fn feed(&mut self, mut chunk: &[u8]) -> bool {
        if !self.planned {
            let take = (HEAD_BYTES - self.head.len()).min(chunk.len());
            self.head.extend_from_slice(&chunk[..take]);
            self.pos += take as u64;
            chunk = &chunk[take..];
            if self.head.len() >= 2 && !matches!(&self.head[..2], b"MZ" | b"ZM") {
                self.not_pe = true;
                return false;
            }
            if self.head.len() < HEAD_BYTES && self.pos < self.len {
                return true;
            }
            self.plan();
        }
        let (start, end) = (self.pos, self.pos + chunk.len() as u64);
        let from = start
            .max(self.window_at)
            .max(self.window_at + self.window.len() as u64);
        let to = end.min(self.window_end);
        if from < to {
            self.window
                .extend_from_slice(&chunk[(from - start) as usize..(to - start) as usize]);
        }
        self.pos = end;
        self.pos < self.window_end
    }

    fn finish(mut self: Box<Self>) -> Option<Finding> {
        if self.not_pe || self.head.len() < 2 {
            return None;
        }
        if !self.planned {
            self.plan();
        }
        let finding = match pe::version_strings(self.bytes()) {
            Ok(strings) => {
                let name = identity::name(&strings)?;
                let version = identity::version(&strings)?;
                PeFinding::Package(name, version)
            }
            // Syft's parser fails on these too, and only logs it.
            Err(pe::Error::NotPe(_) | pe::Error::Malformed(_)) => return None,
            Err(e) => PeFinding::Unread(e),
        };
        Some(Box::new(finding))
    }
}

/// Adds the packages of PE files and, in root folders, of deps files.
pub fn catalog(flat: &Flattened, _distro: Option<&Distro>, out: &mut Catalog) {
    executables(flat, out);
    deps_files(flat, out);
}

fn content_of(flat: &Flattened, path: &str) -> Option<usize> {
    match flat.tree.get(path)?.kind {
        NodeKind::File(id) => Some(id),
        _ => None,
    }
}

fn executables(flat: &Flattened, out: &mut Catalog) {
    for (_, path) in crate::ruby::located::files(flat, is_pe_name, is_pe_name) {
        let Some(id) = content_of(flat, &path) else {
            continue;
        };
        let at = format!("/{path}");
        match flat.found::<PeFinding>(id) {
            Some(PeFinding::Package(name, version)) => out.packages.push(Package::in_binary(
                PackageType::Dotnet,
                name.clone(),
                version.clone(),
                purl::build("nuget", None, name, version, &[]),
                Vec::new(),
                Vec::new(),
                None,
                &at,
                layer_of(flat, &path),
            )),
            Some(PeFinding::Unread(e)) => out.warnings.push(format!("{at}: {e}")),
            None => {}
        }
    }
}

/// Whether the file at `path` is a root folder's (a `dir:` source), where
/// Syft's directory catalogers apply.
fn in_root_folder(flat: &Flattened, path: &str) -> bool {
    content_of(flat, path).is_some_and(|id| {
        matches!(
            flat.tree.content(id).source,
            pare_image::DataSource::Host(_)
        )
    })
}

fn deps_files(flat: &Flattened, out: &mut Catalog) {
    for (_, path) in crate::ruby::located::files(flat, is_deps_name, is_deps_name) {
        if !in_root_folder(flat, &path) {
            continue;
        }
        let Some(bytes) = read_bytes(flat, &path, out) else {
            continue;
        };
        let at = format!("/{path}");
        match deps::packages(&at, &bytes) {
            Ok(found) => {
                for (name, version) in found {
                    let Some(identity) = crate::npm::compliant_identity(&name, &version, |n, v| {
                        purl::build("nuget", None, n, v, &[])
                    }) else {
                        continue;
                    };
                    out.packages.push(Package::declared_in(
                        PackageType::Dotnet,
                        identity,
                        Vec::new(),
                        at.clone(),
                        None,
                    ));
                }
            }
            Err(e) => out.warnings.push(format!("{at}: {e}")),
        }
    }
}

#[cfg(test)]
mod tests {
    use pare_image::scan::scan_reader;
    use proptest::prelude::*;

    use super::*;
    use crate::dotnet::pe_build::{Version, pe_with_blocks_after, version_block};

    const STRINGS: &[(&str, &str)] = &[
        ("CompanyName", "Mono development team"),
        ("FileDescription", "System.dll"),
        ("FileVersion", "4.6.57.0"),
        ("ProductName", "Mono Common Language Infrastructure"),
        ("ProductVersion", "4.6.57.0"),
    ];

    fn file(gap: usize) -> Vec<u8> {
        pe_with_blocks_after(&[version_block(&Version::strings(STRINGS))], false, gap).0
    }

    fn found(f: Option<Finding>) -> Option<PeFinding> {
        f.map(|f| f.downcast_ref::<PeFinding>().unwrap().clone())
    }

    /// Feeds `bytes` in chunks of the given sizes (cycled).
    fn scan_chunked(bytes: &[u8], sizes: &[usize]) -> Option<PeFinding> {
        let mut scan = PeScanner.start("x.dll", bytes.len() as u64, 0o644).unwrap();
        let mut at = 0;
        for size in sizes.iter().cycle() {
            if at >= bytes.len() {
                break;
            }
            let end = (at + size.max(&1)).min(bytes.len());
            if !scan.feed(&bytes[at..end]) {
                break;
            }
            at = end;
        }
        found(scan.finish())
    }

    fn mono() -> PeFinding {
        PeFinding::Package(
            "Mono Common Language Infrastructure".into(),
            "4.6.57.0".into(),
        )
    }

    #[test]
    fn names_are_syfts_globs() {
        for (path, want) in [
            ("usr/lib/mono/4.5/System.dll", true),
            ("app/tool.exe", true),
            ("app/TOOL.EXE", false),
            ("app/x.dll.config", false),
            ("app/dll", false),
        ] {
            assert_eq!(is_pe_name(path), want, "{path}");
        }
        assert!(is_deps_name("app/App.deps.json"));
        assert!(!is_deps_name("app/App.runtimeconfig.json"));
    }

    #[test]
    fn resources_past_the_head_are_read_through_the_window() {
        for gap in [0, HEAD_BYTES, 3 * HEAD_BYTES + 7] {
            let bytes = file(gap);
            assert_eq!(scan_chunked(&bytes, &[4096]), Some(mono()), "gap {gap}");
            assert_eq!(
                found(
                    scan_reader(
                        &bytes[..],
                        PeScanner.start("a.exe", bytes.len() as u64, 0).unwrap()
                    )
                    .unwrap()
                ),
                Some(mono())
            );
        }
    }

    #[test]
    fn a_scan_stops_reading_after_the_window() {
        let mut bytes = file(0);
        let len = bytes.len();
        bytes.resize(len + (1 << 20), 0);
        let mut scan = PeScan::new(bytes.len() as u64);
        assert!(!scan.feed(&bytes), "one chunk holding all: done");
        assert_eq!(scan.window_end, bytes.len() as u64);
        let mut scan = PeScan::new(bytes.len() as u64);
        // Not PE: the first chunk is enough to stop.
        assert!(!scan.feed(b"\x7fELF and so on"));
        assert!(Box::new(scan).finish().is_none());
    }

    #[test]
    fn resources_beyond_the_window_are_a_warning() {
        // The resource directory is at its start, the version block
        // beyond WINDOW_BYTES: move the block's data entry far out.
        let (mut bytes, at) =
            pe_with_blocks_after(&[version_block(&Version::strings(STRINGS))], false, 0);
        let block = at.blocks[0];
        let far = WINDOW_BYTES as usize + 4096;
        let data = bytes[block..].to_vec();
        let rsrc_rva = 0x2000usize;
        bytes.resize(at.resources + far + data.len(), 0);
        bytes[at.resources + far..].copy_from_slice(&data);
        // Grow the section so the RVA maps into it, and aim the data entry.
        let section = 0x80 + 24 + 224;
        let raw = (bytes.len() - at.resources) as u32;
        bytes[section + 8..section + 12].copy_from_slice(&raw.to_le_bytes());
        bytes[section + 16..section + 20].copy_from_slice(&raw.to_le_bytes());
        let entry = at.resources + 3 * 24;
        bytes[entry..entry + 4].copy_from_slice(&((rsrc_rva + far) as u32).to_le_bytes());
        let whole = pe::version_strings(pe::Bytes {
            len: bytes.len() as u64,
            head: &bytes,
            window_at: 0,
            window: &[],
        });
        assert_eq!(whole.map(|m| m.len()), Ok(STRINGS.len()));
        match scan_chunked(&bytes, &[65536]) {
            Some(PeFinding::Unread(pe::Error::Clipped(_))) => {}
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn root_folder_files_are_read_with_seeks() {
        let dir = tempfile::tempdir().unwrap();
        for gap in [0, 5 * HEAD_BYTES] {
            let path = dir.path().join("a.dll");
            std::fs::write(&path, file(gap)).unwrap();
            let scan = PeScanner.start("a.dll", 0, 0).unwrap();
            let got = PeScanner
                .scan_file(std::fs::File::open(&path).unwrap(), scan)
                .unwrap();
            assert_eq!(found(got), Some(mono()), "gap {gap}");
        }
        std::fs::write(
            dir.path().join("b.dll"),
            b"bogus .dll (portable executable)",
        )
        .unwrap();
        let scan = PeScanner.start("b.dll", 0, 0).unwrap();
        let got = PeScanner
            .scan_file(std::fs::File::open(dir.path().join("b.dll")).unwrap(), scan)
            .unwrap();
        assert!(got.is_none());
    }

    proptest! {
        /// However the layer's bytes are cut into chunks, the scan finds
        /// what reading the whole file finds.
        #[test]
        fn chunking_does_not_change_the_result(
            sizes in proptest::collection::vec(1usize..70_000, 1..8),
            gap in prop_oneof![Just(0usize), 1usize..200_000],
        ) {
            let bytes = file(gap);
            prop_assert_eq!(scan_chunked(&bytes, &sizes), Some(mono()));
        }
    }
}
