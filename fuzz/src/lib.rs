//! Helpers shared by the fuzz targets: splitting one input into parts,
//! and turning files into a flattened image the catalogers can read.

use pare_image::Flattened;
use pare_image::flatten::{Extracts, Flattener};
use pare_image::rootfs::RootWarnings;

/// Separates the parts of one fuzz input (files, layers, blobs). Seeds
/// are written with it; libFuzzer learns it from the comparisons.
pub const SEP: &[u8] = b"\n--pare-fuzz--\n";

/// `data` cut at every [`SEP`] (at most `max` parts; the last keeps the rest).
pub fn split(data: &[u8], max: usize) -> Vec<&[u8]> {
    let mut parts = Vec::new();
    let mut rest = data;
    while parts.len() + 1 < max {
        match find(rest, SEP) {
            Some(at) => {
                parts.push(&rest[..at]);
                rest = &rest[at + SEP.len()..];
            }
            None => break,
        }
    }
    parts.push(rest);
    parts
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

/// One uncompressed layer holding `files` (path, bytes, mode); paths the
/// tar crate refuses are left out.
pub fn layer(files: &[(String, &[u8], u32)]) -> Vec<u8> {
    let mut builder = tar::Builder::new(Vec::new());
    for (path, bytes, mode) in files {
        let mut header = tar::Header::new_gnu();
        header.set_size(bytes.len() as u64);
        header.set_mode(*mode);
        header.set_entry_type(tar::EntryType::Regular);
        let _ = builder.append_data(&mut header, path, *bytes);
    }
    builder.into_inner().unwrap_or_default()
}

/// `files` flattened as one layer with what `pare sbom` captures and
/// scans, as the catalogers see an image.
pub fn flattened(files: &[(String, &[u8], u32)]) -> Option<Flattened> {
    let tar = layer(files);
    let mut flattener = Flattener::with_capture(pare_sbom::capture_predicate())
        .scanning(Box::new(pare_sbom::executables::ExecutableScanner))
        .scanning(Box::new(pare_elf::image::ElfScanner));
    flattener.apply_layer(&tar[..], "fuzz layer").ok()?;
    let (tree, layers, Extracts { captured, found }) = flattener.finish_with_extracts();
    Some(Flattened {
        tree,
        layers,
        warnings: RootWarnings::default(),
        captured,
        found,
    })
}

/// A chunk size picked from the input, for streaming it in pieces.
pub fn chunk_size(data: &[u8]) -> usize {
    1 + data.iter().fold(0usize, |h, b| {
        h.wrapping_mul(31).wrapping_add(usize::from(*b))
    }) % 9000
}
