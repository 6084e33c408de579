//! A guard under the `tar` crate that bounds what a layer can make it hold.
//!
//! The `tar` crate reads PAX extended headers (`x`, `g`) and GNU long names
//! (`L`, `K`) into memory whole, whatever size their header claims: a 55 KB
//! zstd blob can declare a 1.5 GiB PAX header. No option of the crate bounds
//! that, so [`TarGuard`] watches the tar framing as the bytes go by (header
//! blocks, and how many data blocks follow each) and fails the read *before*
//! such a record's data is handed over when it is over the header-bytes
//! limit. It also counts every uncompressed byte against the image-wide
//! uncompressed-bytes limit. It never changes the bytes it passes on.
//!
//! Hand-written because it must sit below the tar parser; it understands
//! only what it needs to keep in step: ustar sizes (octal or base-256), the
//! PAX `size` record that overrides the next entry's size, and the
//! end-of-archive zero block, after which it stops looking.

use std::io::{self, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::Error;
use crate::limits;

const BLOCK: u64 = 512;

/// Passes a tar stream through, failing reads that would hand the `tar`
/// crate an oversized header record or go over the image's byte budget.
pub struct TarGuard<R> {
    inner: R,
    context: String,
    header_bytes: u64,
    uncompressed_max: u64,
    /// Uncompressed bytes of the whole image so far, shared by the layers.
    uncompressed: Arc<AtomicU64>,
    state: State,
    /// A header block being gathered.
    header: Box<[u8; BLOCK as usize]>,
    filled: usize,
    /// Bytes of the current PAX record kept to find its `size` key.
    pax: Vec<u8>,
    /// `size` from the last PAX `x` record, for the next entry.
    size_override: Option<u64>,
}

enum State {
    /// Expecting (part of) a header block.
    Header,
    /// Passing `left` bytes of data (padding included); `pax` when they are
    /// a PAX `x` record to look into.
    Data { left: u64, pax: bool },
    /// After the end of the archive, or once the framing is not one this
    /// guard understands (the tar crate will report it): pass through.
    Done,
}

impl<R: Read> TarGuard<R> {
    pub fn new(
        inner: R,
        context: impl Into<String>,
        header_bytes: u64,
        uncompressed_max: u64,
        uncompressed: Arc<AtomicU64>,
    ) -> Self {
        TarGuard {
            inner,
            context: context.into(),
            header_bytes,
            uncompressed_max,
            uncompressed,
            state: State::Header,
            header: Box::new([0; BLOCK as usize]),
            filled: 0,
            pax: Vec::new(),
            size_override: None,
        }
    }

    fn observe(&mut self, mut bytes: &[u8]) -> Result<(), Error> {
        while !bytes.is_empty() {
            match self.state {
                State::Done => return Ok(()),
                State::Data { left, pax } => {
                    let take = (left.min(bytes.len() as u64)) as usize;
                    if pax {
                        self.pax.extend_from_slice(&bytes[..take]);
                    }
                    bytes = &bytes[take..];
                    let left = left - take as u64;
                    if left == 0 {
                        if pax {
                            self.size_override = pax_size(&self.pax);
                            self.pax = Vec::new();
                        }
                        self.state = State::Header;
                    } else {
                        self.state = State::Data { left, pax };
                    }
                }
                State::Header => {
                    let take = (BLOCK as usize - self.filled).min(bytes.len());
                    self.header[self.filled..self.filled + take].copy_from_slice(&bytes[..take]);
                    self.filled += take;
                    bytes = &bytes[take..];
                    if self.filled == BLOCK as usize {
                        self.filled = 0;
                        self.state = self.next_state()?;
                    }
                }
            }
        }
        Ok(())
    }

    /// What follows the header block just gathered.
    fn next_state(&mut self) -> Result<State, Error> {
        let header = &self.header[..];
        if header.iter().all(|&b| b == 0) || !checksum_ok(header) {
            return Ok(State::Done);
        }
        let Some(size) = header_size(&header[124..136]) else {
            return Ok(State::Done);
        };
        let kind = header[156];
        let record = matches!(kind, b'x' | b'g' | b'L' | b'K');
        if record {
            limits::check(
                || format!("{}: tar header record", self.context),
                "header-bytes",
                size,
                self.header_bytes,
            )?;
        }
        if kind == b'S' && header[482] != 0 {
            // Old GNU sparse headers continue in extension blocks the tar
            // crate reads; sparse files are refused above it anyway.
            return Ok(State::Done);
        }
        let size = match kind {
            b'x' | b'g' | b'L' | b'K' => size,
            _ => self.size_override.take().unwrap_or(size),
        };
        // Hardlinks, symlinks, folders and the like carry no data whatever
        // their size field says, as the tar crate reads them.
        let size = if matches!(kind, b'1' | b'2' | b'3' | b'4' | b'5' | b'6') {
            0
        } else {
            size
        };
        let padded = size.div_ceil(BLOCK).saturating_mul(BLOCK);
        Ok(if padded == 0 {
            State::Header
        } else {
            State::Data {
                left: padded,
                pax: kind == b'x',
            }
        })
    }
}

impl<R: Read> Read for TarGuard<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        let total = self.uncompressed.fetch_add(n as u64, Ordering::Relaxed) + n as u64;
        let checked = limits::check(
            || "image layers, uncompressed",
            "uncompressed-bytes",
            total,
            self.uncompressed_max,
        )
        .and_then(|()| self.observe(&buf[..n]));
        match checked {
            Ok(()) => Ok(n),
            Err(err) => {
                self.state = State::Done;
                Err(io::Error::other(err))
            }
        }
    }
}

fn checksum_ok(header: &[u8]) -> bool {
    let Some(stored) = octal(&header[148..156]) else {
        return false;
    };
    // The checksum field itself counts as eight spaces.
    let all: u64 = header.iter().map(|&b| u64::from(b)).sum();
    let field: u64 = header[148..156].iter().map(|&b| u64::from(b)).sum();
    all - field + 8 * 32 == stored
}

/// A ustar numeric field: octal text, or GNU base-256 when the high bit of
/// the first byte is set.
fn header_size(field: &[u8]) -> Option<u64> {
    if field[0] & 0x80 != 0 {
        let mut value: u64 = u64::from(field[0] & 0x7f);
        for &b in &field[1..] {
            value = value.checked_mul(256)?.checked_add(u64::from(b))?;
        }
        return Some(value);
    }
    octal(field)
}

fn octal(field: &[u8]) -> Option<u64> {
    let text = field
        .iter()
        .copied()
        .skip_while(|&b| b == b' ')
        .take_while(|&b| b != 0 && b != b' ');
    let mut value: u64 = 0;
    let mut any = false;
    for b in text {
        if !(b'0'..=b'7').contains(&b) {
            return None;
        }
        value = value.checked_mul(8)?.checked_add(u64::from(b - b'0'))?;
        any = true;
    }
    any.then_some(value)
}

/// The `size` key of a PAX record set (`"%d size=%d\n"` records).
fn pax_size(mut data: &[u8]) -> Option<u64> {
    let mut size = None;
    // Stops at the first malformed record, as the tar crate's own reader
    // does; what came before still counts.
    while let Some(space) = data.iter().position(|&b| b == b' ') {
        let Some(len) = std::str::from_utf8(&data[..space])
            .ok()
            .and_then(|text| text.parse::<usize>().ok())
            .filter(|&len| len > space && len <= data.len())
        else {
            break;
        };
        let record = &data[space + 1..len];
        if let Some(value) = record.strip_prefix(b"size=") {
            let value = value.strip_suffix(b"\n").unwrap_or(value);
            size = std::str::from_utf8(value).ok().and_then(|v| v.parse().ok());
        }
        data = &data[len..];
    }
    size
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(kind: u8, size: u64) -> [u8; 512] {
        let mut h = tar::Header::new_ustar();
        h.set_path("x").unwrap();
        h.set_size(size);
        h.set_entry_type(tar::EntryType::new(kind));
        h.set_cksum();
        *h.as_bytes()
    }

    fn guard(bytes: &[u8], header_bytes: u64) -> io::Result<Vec<u8>> {
        let mut out = Vec::new();
        TarGuard::new(bytes, "layer 1", header_bytes, u64::MAX, Arc::default())
            .read_to_end(&mut out)?;
        Ok(out)
    }

    #[test]
    fn refuses_oversized_header_records_before_their_data() {
        for kind in [b'x', b'g', b'L', b'K'] {
            let mut tar = header(kind, 4096).to_vec();
            tar.extend(vec![b'a'; 4096]);
            let err = guard(&tar, 1024).unwrap_err().to_string();
            assert!(err.contains("over the header-bytes limit of 1024"), "{err}");
            assert_eq!(guard(&tar, 4096).unwrap(), tar, "passes bytes unchanged");
        }
    }

    #[test]
    fn keeps_in_step_across_file_data_and_pax_size_overrides() {
        // A file whose data looks like an oversized PAX header: the guard
        // must know it is data, also when a PAX record gave its size.
        let fake = header(b'x', 1 << 40);
        let mut tar = Vec::new();
        tar.extend(header(b'0', 512));
        tar.extend(fake);
        let record = b"15 size=000512\n\0";
        let mut pax = header(b'x', record.len() as u64).to_vec();
        pax.extend(record);
        pax.resize(1024, 0);
        tar.extend(pax);
        tar.extend(header(b'0', 0)); // size 0 in ustar, 512 by PAX
        tar.extend(fake);
        tar.extend(header(b'x', 1 << 40)); // a real one: refused
        let err = guard(&tar, 1024).unwrap_err().to_string();
        assert!(
            err.contains("1099511627776, over the header-bytes"),
            "{err}"
        );
    }

    #[test]
    fn stops_at_the_end_of_the_archive() {
        let mut tar = vec![0u8; 1024];
        tar.extend(header(b'x', 1 << 40));
        assert_eq!(guard(&tar, 1024).unwrap().len(), tar.len());
    }

    #[test]
    fn counts_uncompressed_bytes_across_layers() {
        let shared = Arc::new(AtomicU64::new(0));
        let tar = vec![0u8; 4096];
        let mut out = Vec::new();
        TarGuard::new(&tar[..], "l1", 1024, 6000, shared.clone())
            .read_to_end(&mut out)
            .unwrap();
        let err = TarGuard::new(&tar[..], "l2", 1024, 6000, shared)
            .read_to_end(&mut out)
            .unwrap_err();
        assert!(err.to_string().contains("uncompressed-bytes"), "{err}");
    }

    #[test]
    fn numeric_fields() {
        assert_eq!(octal(b"0000644\0"), Some(0o644));
        assert_eq!(octal(b"   12 \0"), Some(0o12));
        assert_eq!(octal(b"\0\0\0"), None);
        assert_eq!(octal(b"9"), None);
        let mut big = [0u8; 12];
        big[0] = 0x80;
        big[11] = 5;
        big[10] = 1;
        assert_eq!(header_size(&big), Some(261));
        assert_eq!(pax_size(b"20 path=abcdefghijk\n11 size=77\n"), Some(77));
        assert_eq!(pax_size(b"99 size=1\n"), None);
        assert_eq!(pax_size(b"10 size=5\n\0\0"), Some(5));
    }
}
