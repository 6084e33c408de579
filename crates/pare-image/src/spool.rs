//! The bytes of chosen files, copied out of their layers into one temporary
//! file, so a new layer can be written in sorted order while the source
//! layers are still read only as streams (and never extracted to paths).

use std::collections::{HashMap, HashSet};
use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom, Write};

use crate::error::{Error, Result};
use crate::image::Image;

/// Copies of file contents, keyed by where they live in the source layers.
pub struct Spool {
    file: File,
    /// (layer, offset in its tar stream) → (offset in the spool, size).
    at: HashMap<(usize, u64), (u64, u64)>,
}

impl Spool {
    /// Streams the layers of `image` that hold any of `wanted` (layer,
    /// offset, size) and copies those files' bytes out.
    pub fn fill(image: &Image, wanted: &[(usize, u64, u64)]) -> Result<Spool> {
        let mut file = tempfile::tempfile().map_err(|e| Error::io("spool", e))?;
        let mut at = HashMap::new();
        let layers: HashSet<usize> = wanted.iter().map(|w| w.0).collect();
        let mut layers: Vec<usize> = layers.into_iter().collect();
        layers.sort_unstable();
        for layer in layers {
            let here: HashMap<u64, u64> = wanted
                .iter()
                .filter(|w| w.0 == layer)
                .map(|w| (w.1, w.2))
                .collect();
            let context = image.layer_context(layer);
            image.with_layer(layer, |reader| {
                let mut archive = tar::Archive::new(reader);
                let entries = archive.entries().map_err(|e| Error::io(&context, e))?;
                for entry in entries {
                    let entry = entry.map_err(|e| Error::io(&context, e))?;
                    let offset = entry.raw_file_position();
                    let Some(&size) = here.get(&offset) else {
                        continue;
                    };
                    let start = file.stream_position().map_err(|e| Error::io("spool", e))?;
                    let copied = io::copy(&mut entry.take(size), &mut file)
                        .map_err(|e| Error::io(&context, e))?;
                    if copied != size {
                        return Err(Error::malformed(
                            &context,
                            "file shorter than its header says",
                        ));
                    }
                    at.insert((layer, offset), (start, size));
                }
                Ok(())
            })?;
        }
        file.flush().map_err(|e| Error::io("spool", e))?;
        Ok(Spool { file, at })
    }

    /// The bytes of the file at `offset` in `layer`'s stream.
    pub fn open(&self, layer: usize, offset: u64, context: &str) -> Result<Box<dyn Read>> {
        let (start, size) = *self
            .at
            .get(&(layer, offset))
            .ok_or_else(|| Error::malformed(context, "file bytes were not read from the layers"))?;
        let mut file = self.file.try_clone().map_err(|e| Error::io("spool", e))?;
        file.seek(SeekFrom::Start(start))
            .map_err(|e| Error::io("spool", e))?;
        Ok(Box::new(
            io::BufReader::with_capacity(256 * 1024, file).take(size),
        ))
    }
}
