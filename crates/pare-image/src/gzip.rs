//! A gzip reader that skips the CRC-32 check.
//!
//! Every byte pare inflates is already covered twice by sha256 (the blob
//! digest of the compressed stream and the diff_id of the uncompressed
//! one), so gzip's own CRC-32 (about a tenth of the time spent reading a
//! gzip layer) buys nothing. The header and trailer are parsed here per
//! RFC 1952 and each member's raw deflate stream is inflated by flate2;
//! multi-member streams are read to the end, as `gunzip` does. The trailer's
//! ISIZE is still checked, so a truncated member is noticed.

use std::io::{self, BufRead, Read};

use flate2::bufread::DeflateDecoder;

const FHCRC: u8 = 0x02;
const FEXTRA: u8 = 0x04;
const FNAME: u8 = 0x08;
const FCOMMENT: u8 = 0x10;

pub(crate) struct GzipReader<R: BufRead> {
    state: State<R>,
}

enum State<R: BufRead> {
    /// Before a member header (the inner reader is positioned there).
    Header(R),
    Body(DeflateDecoder<R>),
    Done,
    Poisoned,
}

impl<R: BufRead> GzipReader<R> {
    pub(crate) fn new(inner: R) -> Self {
        GzipReader {
            state: State::Header(inner),
        }
    }
}

fn bad(message: &str) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, format!("gzip: {message}"))
}

fn read_u8(r: &mut impl Read) -> io::Result<u8> {
    let mut b = [0u8; 1];
    r.read_exact(&mut b)?;
    Ok(b[0])
}

/// Reads one member header; false at a clean end of stream.
fn read_header(r: &mut impl BufRead, first: bool) -> io::Result<bool> {
    let head = r.fill_buf()?;
    if head.is_empty() {
        return if first {
            Err(bad("empty stream"))
        } else {
            Ok(false)
        };
    }
    if !first && head[0] == 0 {
        // Some tools pad a blob to a block size with NUL bytes; GNU gzip
        // ignores them too. Nothing else may follow them.
        skip_zero_padding(r)?;
        return Ok(false);
    }
    let mut fixed = [0u8; 10];
    r.read_exact(&mut fixed)
        .map_err(|_| bad("truncated header"))?;
    if fixed[0] != 0x1f || fixed[1] != 0x8b {
        return Err(bad("not a gzip member"));
    }
    if fixed[2] != 8 {
        return Err(bad("unknown compression method"));
    }
    let flags = fixed[3];
    if flags & FEXTRA != 0 {
        let len = u16::from(read_u8(r)?) | (u16::from(read_u8(r)?) << 8);
        io::copy(&mut r.take(u64::from(len)), &mut io::sink())?;
    }
    for flag in [FNAME, FCOMMENT] {
        if flags & flag != 0 {
            // A NUL-terminated string; bounded so a hostile header ends.
            let mut skipped = 0u32;
            while read_u8(r)? != 0 {
                skipped += 1;
                if skipped > 1 << 20 {
                    return Err(bad("header string too long"));
                }
            }
        }
    }
    if flags & FHCRC != 0 {
        let mut crc = [0u8; 2];
        r.read_exact(&mut crc)?;
    }
    Ok(true)
}

/// Reads NUL bytes to the end of the stream; anything else is garbage.
fn skip_zero_padding(r: &mut impl BufRead) -> io::Result<()> {
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Ok(());
        }
        if buf.iter().any(|&b| b != 0) {
            return Err(bad("trailing garbage after the zero padding"));
        }
        let n = buf.len();
        r.consume(n);
    }
}

impl<R: BufRead> Read for GzipReader<R> {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            match std::mem::replace(&mut self.state, State::Poisoned) {
                State::Header(mut inner) => {
                    if !read_header(&mut inner, true)? {
                        self.state = State::Done;
                        continue;
                    }
                    self.state = State::Body(DeflateDecoder::new(inner));
                }
                State::Body(mut decoder) => {
                    let n = decoder.read(out)?;
                    if n > 0 || out.is_empty() {
                        self.state = State::Body(decoder);
                        return Ok(n);
                    }
                    let size = decoder.total_out();
                    let mut inner = decoder.into_inner();
                    let mut trailer = [0u8; 8];
                    inner
                        .read_exact(&mut trailer)
                        .map_err(|_| bad("truncated trailer"))?;
                    let isize = u32::from_le_bytes(trailer[4..].try_into().expect("4 bytes"));
                    if isize != size as u32 {
                        return Err(bad("length in trailer does not match"));
                    }
                    // Another member may follow.
                    self.state = if read_header(&mut inner, false)? {
                        State::Body(DeflateDecoder::new(inner))
                    } else {
                        State::Done
                    };
                }
                State::Done => {
                    self.state = State::Done;
                    return Ok(0);
                }
                State::Poisoned => return Err(bad("reader used after an error")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;

    fn gz(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    #[test]
    fn reads_single_and_multi_member_streams() {
        let a = b"first member ".repeat(5000);
        let b = b"second".repeat(3);
        let mut both = gz(&a);
        both.extend(gz(&b));
        let mut out = Vec::new();
        GzipReader::new(&both[..]).read_to_end(&mut out).unwrap();
        assert_eq!(out, [a.clone(), b].concat());
        let mut named = flate2::GzBuilder::new()
            .filename("layer.tar")
            .comment("c")
            .extra(vec![1, 2, 3])
            .write(Vec::new(), flate2::Compression::fast());
        named.write_all(&a).unwrap();
        let named = named.finish().unwrap();
        let mut out = Vec::new();
        GzipReader::new(&named[..]).read_to_end(&mut out).unwrap();
        assert_eq!(out, a);
    }

    /// Issue 10: gzip blobs padded with NUL bytes to a block size (as some
    /// tools write them) were refused as "not a gzip member".
    #[test]
    fn gzip_trailing_zero_padding_is_accepted_and_garbage_is_not() {
        let data = b"padded layer ".repeat(3000);
        let good = gz(&data);
        let with = |tail: &[u8]| [good.clone(), tail.to_vec()].concat();
        let cases: &[(&str, Vec<u8>, bool)] = &[
            ("one NUL", with(&[0]), true),
            (
                "to a 512-byte block",
                with(&vec![0; 512 - good.len() % 512]),
                true,
            ),
            ("a megabyte of NULs", with(&vec![0; 1 << 20]), true),
            ("NULs then garbage", with(&[0, 0, 0, 7]), false),
            (
                "NULs then a member",
                with(&[vec![0; 8], gz(b"x")].concat()),
                false,
            ),
            ("garbage", with(b"trailing"), false),
            ("a lone NUL is no gzip", vec![0; 64], false),
        ];
        for (name, input, ok) in cases {
            // Read through a tiny buffer too: padding split across fills.
            for capacity in [1, 7, 8192] {
                let mut out = Vec::new();
                let got = GzipReader::new(io::BufReader::with_capacity(capacity, &input[..]))
                    .read_to_end(&mut out);
                assert_eq!(got.is_ok(), *ok, "{name} (buffer {capacity}): {got:?}");
                if *ok {
                    assert_eq!(out, data, "{name}");
                }
            }
        }
    }

    #[test]
    fn refuses_truncated_and_garbage_streams() {
        let good = gz(&b"x".repeat(100_000));
        for bad_input in [
            &good[..good.len() - 3],
            &good[..20],
            &b"\x1f\x8bnope"[..],
            &b""[..],
        ] {
            let mut out = Vec::new();
            assert!(GzipReader::new(bad_input).read_to_end(&mut out).is_err());
        }
    }
}
