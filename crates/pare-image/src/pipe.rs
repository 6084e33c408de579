//! A bounded in-memory pipe between two threads, so one core can read,
//! hash and inflate a layer blob while the other hashes the uncompressed
//! stream and parses the tar. Chunks are 256 KiB, at most eight are in
//! flight and the reader hands each back to be filled again, so a pipe
//! holds at most eleven (under 3 MiB) whatever the layer's size.
//!
//! [`PipeWriter::fill_from`] lets the producer decode straight into the
//! chunk it will send: an inflater handed 256 KiB of room at a time runs
//! its fast loop longer than one fed 8 KiB by `io::copy`, and no bounce
//! buffer copies every byte once more (together a fifth of the inflating
//! thread's time on a 160 MB layer).

use std::io::{self, Read, Write};
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};

const CHUNK: usize = 256 * 1024;
const IN_FLIGHT: usize = 8;

/// A connected writer and reader.
pub(crate) fn pipe() -> (PipeWriter, PipeReader) {
    let (tx, rx) = sync_channel(IN_FLIGHT);
    let (give_back, returned) = channel();
    (
        PipeWriter {
            tx,
            returned,
            buf: Vec::new(),
            filled: 0,
        },
        PipeReader {
            rx,
            give_back,
            chunk: Vec::new(),
            pos: 0,
        },
    )
}

pub(crate) struct PipeWriter {
    tx: SyncSender<Vec<u8>>,
    /// Chunks the reader is done with, to fill again: a chunk is allocated
    /// and zeroed only while fewer than `IN_FLIGHT` + 2 exist.
    returned: Receiver<Vec<u8>>,
    /// The chunk being filled: `CHUNK` bytes long once in use, of which
    /// the first `filled` are data.
    buf: Vec<u8>,
    filled: usize,
}

impl PipeWriter {
    /// Room for the next bytes: the unfilled part of the current chunk.
    fn room(&mut self) -> &mut [u8] {
        if self.buf.is_empty() {
            self.buf = self.returned.try_recv().unwrap_or_default();
            // A returned chunk may be a short last one; a new one is empty.
            self.buf.resize(CHUNK, 0);
        }
        &mut self.buf[self.filled..]
    }

    /// Reads `source` to its end straight into the chunks sent, and sends
    /// the last partial chunk. Returns the bytes carried.
    pub(crate) fn fill_from(&mut self, source: &mut dyn Read) -> io::Result<u64> {
        let mut total = 0u64;
        loop {
            match source.read(self.room()) {
                Ok(0) => {
                    self.flush()?;
                    return Ok(total);
                }
                Ok(n) => {
                    self.filled += n;
                    total += n as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
            if self.filled == CHUNK {
                self.flush()?;
            }
        }
    }
}

impl Write for PipeWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let room = self.room();
        let n = data.len().min(room.len());
        room[..n].copy_from_slice(&data[..n]);
        self.filled += n;
        if self.filled == CHUNK {
            self.flush()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.filled == 0 {
            return Ok(());
        }
        let mut full = std::mem::take(&mut self.buf);
        full.truncate(std::mem::take(&mut self.filled));
        self.tx
            .send(full)
            .map_err(|_| io::Error::new(io::ErrorKind::BrokenPipe, "reader stopped"))
    }
}

impl Drop for PipeWriter {
    fn drop(&mut self) {
        let _ = self.flush();
    }
}

pub(crate) struct PipeReader {
    rx: Receiver<Vec<u8>>,
    give_back: Sender<Vec<u8>>,
    chunk: Vec<u8>,
    pos: usize,
}

impl Read for PipeReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.chunk.len() {
            match self.rx.recv() {
                Ok(chunk) => {
                    let used = std::mem::replace(&mut self.chunk, chunk);
                    if used.capacity() > 0 {
                        // The writer may be gone: then the chunk is freed.
                        let _ = self.give_back.send(used);
                    }
                    self.pos = 0;
                }
                // The writer is gone: end of stream (its own result says
                // whether that end was clean).
                Err(_) => return Ok(0),
            }
        }
        let n = out.len().min(self.chunk.len() - self.pos);
        out[..n].copy_from_slice(&self.chunk[self.pos..self.pos + n]);
        self.pos += n;
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn carries_every_byte_in_order() {
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 251) as u8).collect();
        let (mut w, mut r) = pipe();
        let sent = data.clone();
        let t = std::thread::spawn(move || {
            for piece in sent.chunks(7777) {
                w.write_all(piece).unwrap();
            }
        });
        let mut got = Vec::new();
        r.read_to_end(&mut got).unwrap();
        t.join().unwrap();
        assert_eq!(got, data);
    }

    #[test]
    fn fill_from_carries_every_byte_in_order() {
        // Odd-sized reads and interruptions, as a decoder gives them.
        struct Uneven {
            data: Vec<u8>,
            at: usize,
            calls: usize,
        }
        impl Read for Uneven {
            fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
                self.calls += 1;
                if self.calls.is_multiple_of(5) {
                    return Err(io::ErrorKind::Interrupted.into());
                }
                let n = out
                    .len()
                    .min(self.data.len() - self.at)
                    .min(1 + self.calls * 997 % 300_000);
                out[..n].copy_from_slice(&self.data[self.at..self.at + n]);
                self.at += n;
                Ok(n)
            }
        }
        let data: Vec<u8> = (0..3_000_000u32).map(|i| (i % 253) as u8).collect();
        let (mut w, mut r) = pipe();
        let mut source = Uneven {
            data: data.clone(),
            at: 0,
            calls: 0,
        };
        let t = std::thread::spawn(move || w.fill_from(&mut source).unwrap());
        let mut got = Vec::new();
        r.read_to_end(&mut got).unwrap();
        assert_eq!(t.join().unwrap(), data.len() as u64);
        assert_eq!(got, data);
    }

    #[test]
    fn fill_from_passes_on_the_source_error() {
        struct Failing;
        impl Read for Failing {
            fn read(&mut self, _: &mut [u8]) -> io::Result<usize> {
                Err(io::Error::other("bad stream"))
            }
        }
        let (mut w, _r) = pipe();
        assert_eq!(
            w.fill_from(&mut Failing).unwrap_err().to_string(),
            "bad stream"
        );
    }

    #[test]
    fn writer_learns_when_reader_is_gone() {
        let (mut w, r) = pipe();
        drop(r);
        let err = w.write_all(&vec![0; CHUNK * 2]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
    }
}
