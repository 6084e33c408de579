//! A bounded in-memory pipe between two threads, so one core can read,
//! hash and inflate a layer blob while the other hashes the uncompressed
//! stream and parses the tar. Chunks are 256 KiB and at most eight are in
//! flight, so memory stays bounded whatever the layer's size.

use std::io::{self, Read, Write};
use std::sync::mpsc::{Receiver, SyncSender, sync_channel};

const CHUNK: usize = 256 * 1024;
const IN_FLIGHT: usize = 8;

/// A connected writer and reader.
pub(crate) fn pipe() -> (PipeWriter, PipeReader) {
    let (tx, rx) = sync_channel(IN_FLIGHT);
    (
        PipeWriter {
            tx,
            buf: Vec::with_capacity(CHUNK),
        },
        PipeReader {
            rx,
            chunk: Vec::new(),
            pos: 0,
        },
    )
}

pub(crate) struct PipeWriter {
    tx: SyncSender<Vec<u8>>,
    buf: Vec<u8>,
}

impl Write for PipeWriter {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        let n = data.len().min(CHUNK - self.buf.len());
        self.buf.extend_from_slice(&data[..n]);
        if self.buf.len() == CHUNK {
            self.flush()?;
        }
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let full = std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK));
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
    chunk: Vec<u8>,
    pos: usize,
}

impl Read for PipeReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        while self.pos == self.chunk.len() {
            match self.rx.recv() {
                Ok(chunk) => {
                    self.chunk = chunk;
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
    fn writer_learns_when_reader_is_gone() {
        let (mut w, r) = pipe();
        drop(r);
        let err = w.write_all(&vec![0; CHUNK * 2]).unwrap_err();
        assert_eq!(err.kind(), io::ErrorKind::BrokenPipe);
    }
}
