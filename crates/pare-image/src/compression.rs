//! Layer compression: detected from the stream's first bytes (as containerd
//! does), never trusted from a media type alone.

use std::io::{self, Read, Write};

use crate::error::{Error, Result};

/// How a layer blob is compressed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum Compression {
    /// A plain tar.
    None,
    /// gzip (the default of every registry).
    #[default]
    Gzip,
    /// zstd.
    Zstd,
}

impl Compression {
    /// Recognises gzip and zstd by their magic numbers; anything else is
    /// taken as plain tar (the tar reader will then complain if it is not).
    pub fn sniff(head: &[u8]) -> Result<Self, &'static str> {
        match head {
            [0x1f, 0x8b, ..] => Ok(Compression::Gzip),
            [0x28, 0xb5, 0x2f, 0xfd, ..] => Ok(Compression::Zstd),
            [b'B', b'Z', b'h', ..] => Err("bzip2 layers"),
            [0xfd, b'7', b'z', b'X', b'Z', ..] => Err("xz layers"),
            _ => Ok(Compression::None),
        }
    }

    /// The OCI layer media type for this compression.
    pub fn oci_layer_media_type(self) -> &'static str {
        match self {
            Compression::None => "application/vnd.oci.image.layer.v1.tar",
            Compression::Gzip => "application/vnd.oci.image.layer.v1.tar+gzip",
            Compression::Zstd => "application/vnd.oci.image.layer.v1.tar+zstd",
        }
    }

    /// Parses a `--compression` value.
    /// The levels a compressor of this kind takes: gzip's 1 (fastest) to
    /// 9 (smallest), zstd's 1 to 19 (its ultra levels need a bigger window
    /// than every reader allows); `None` for no compression.
    pub fn levels(self) -> Option<std::ops::RangeInclusive<u32>> {
        match self {
            Compression::None => None,
            Compression::Gzip => Some(1..=9),
            Compression::Zstd => Some(1..=19),
        }
    }

    /// Whether `level` is one of [`Compression::levels`].
    pub fn has_level(self, level: u32) -> bool {
        self.levels().is_some_and(|levels| levels.contains(&level))
    }

    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "none" | "uncompressed" => Some(Compression::None),
            "gzip" => Some(Compression::Gzip),
            "zstd" => Some(Compression::Zstd),
            _ => None,
        }
    }
}

/// Layer media types pare reads; anything else in a manifest is refused.
pub fn known_layer_media_type(media_type: &str) -> bool {
    matches!(
        media_type,
        "application/vnd.oci.image.layer.v1.tar"
            | "application/vnd.oci.image.layer.v1.tar+gzip"
            | "application/vnd.oci.image.layer.v1.tar+zstd"
            | "application/vnd.oci.image.layer.nondistributable.v1.tar"
            | "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip"
            | "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd"
            | "application/vnd.docker.image.rootfs.diff.tar"
            | "application/vnd.docker.image.rootfs.diff.tar.gzip"
            | "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"
    )
}

/// Reads the first bytes of a stream and tells how it is compressed; the
/// bytes read are returned so the caller can put them back in front.
pub fn sniff_stream(reader: &mut impl Read, context: &str) -> Result<(Compression, Vec<u8>)> {
    let mut head = [0u8; 6];
    let mut filled = 0;
    while filled < head.len() {
        match reader.read(&mut head[filled..]) {
            Ok(0) => break,
            Ok(n) => filled += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(Error::io(context, e)),
        }
    }
    let head = head[..filled].to_vec();
    let kind = Compression::sniff(&head).map_err(|what| Error::unsupported(context, what))?;
    Ok((kind, head))
}

/// Reads the first bytes of `reader` and returns a reader of the
/// decompressed stream (those bytes put back in front).
pub fn decompress<'a>(mut reader: impl Read + 'a, context: &str) -> Result<Box<dyn Read + 'a>> {
    let (kind, head) = sniff_stream(&mut reader, context)?;
    let stream = io::Cursor::new(head).chain(reader);
    Ok(match kind {
        Compression::None => Box::new(stream),
        Compression::Gzip => Box::new(crate::gzip::GzipReader::new(io::BufReader::with_capacity(
            256 * 1024,
            stream,
        ))),
        Compression::Zstd => {
            Box::new(zstd::stream::read::Decoder::new(stream).map_err(|e| Error::io(context, e))?)
        }
    })
}

/// A writer that compresses into `inner`; `finish` flushes the trailer.
pub enum Compressor<W: Write> {
    None(W),
    Gzip(crate::pgzip::ParallelGzip<W>),
    Zstd(zstd::stream::write::Encoder<'static, W>),
}

impl<W: Write> Compressor<W> {
    pub fn new(inner: W, kind: Compression) -> io::Result<Self> {
        Self::with_level(inner, kind, None)
    }

    /// A compressor at `level` (see [`Compression::levels`]); `None` is the
    /// default: gzip 6, zstd 3 (what `gzip` and `zstd` use).
    pub fn with_level(inner: W, kind: Compression, level: Option<u32>) -> io::Result<Self> {
        if let Some(level) = level
            && !kind.has_level(level)
        {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("compression level {level} is not one {kind:?} has"),
            ));
        }
        Ok(match kind {
            Compression::None => Compressor::None(inner),
            // Level 6 is gzip's own default: what `docker push` and skopeo
            // use. Written on every core, pigz-style (the bytes do not
            // depend on how many there are).
            Compression::Gzip => Compressor::Gzip(crate::pgzip::ParallelGzip::new(
                inner,
                level.unwrap_or(6),
                std::thread::available_parallelism().map_or(1, |n| n.get()),
            )),
            Compression::Zstd => Compressor::Zstd(zstd::stream::write::Encoder::new(
                inner,
                level.unwrap_or(3) as i32,
            )?),
        })
    }

    pub fn finish(self) -> io::Result<W> {
        match self {
            Compressor::None(w) => Ok(w),
            Compressor::Gzip(w) => w.finish(),
            Compressor::Zstd(w) => w.finish(),
        }
    }
}

impl<W: Write> Write for Compressor<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        match self {
            Compressor::None(w) => w.write(buf),
            Compressor::Gzip(w) => w.write(buf),
            Compressor::Zstd(w) => w.write(buf),
        }
    }

    fn flush(&mut self) -> io::Result<()> {
        match self {
            Compressor::None(w) => w.flush(),
            Compressor::Gzip(w) => w.flush(),
            Compressor::Zstd(w) => w.flush(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_every_kind() {
        let data = b"layer bytes ".repeat(1000);
        for kind in [Compression::None, Compression::Gzip, Compression::Zstd] {
            let mut c = Compressor::new(Vec::new(), kind).unwrap();
            c.write_all(&data).unwrap();
            let packed = c.finish().unwrap();
            assert_eq!(Compression::sniff(&packed).unwrap(), kind);
            let mut out = Vec::new();
            decompress(&packed[..], "t")
                .unwrap()
                .read_to_end(&mut out)
                .unwrap();
            assert_eq!(out, data, "{kind:?}");
        }
    }

    #[test]
    fn levels_trade_size_for_time_and_bad_ones_are_refused() {
        let data: Vec<u8> = (0..400_000u32)
            .flat_map(|i| format!("line {} of {}\n", i % 977, i % 13).into_bytes())
            .collect();
        for kind in [Compression::Gzip, Compression::Zstd] {
            let size = |level| {
                let mut c = Compressor::with_level(Vec::new(), kind, Some(level)).unwrap();
                c.write_all(&data).unwrap();
                let packed = c.finish().unwrap();
                let mut out = Vec::new();
                decompress(&packed[..], "t")
                    .unwrap()
                    .read_to_end(&mut out)
                    .unwrap();
                assert_eq!(out, data, "{kind:?} level {level}");
                packed.len()
            };
            let levels = kind.levels().unwrap();
            let (fast, small) = (size(*levels.start()), size(*levels.end()));
            assert!(small < fast, "{kind:?}: {small} !< {fast}");
            for bad in [0, levels.end() + 1] {
                let err = Compressor::with_level(Vec::new(), kind, Some(bad))
                    .err()
                    .unwrap();
                assert!(err.to_string().contains("compression level"), "{err}");
            }
        }
        assert!(Compressor::with_level(Vec::new(), Compression::None, Some(1)).is_err());
    }
}
