//! gzip written on every core, the way pigz does it: the input is cut into
//! fixed-size blocks, each deflated on a worker thread with the previous
//! block's last 32 KiB as its dictionary and ended with a sync flush, so
//! the pieces join into one ordinary deflate stream in one gzip member;
//! the CRC-32 is computed over the input in order on the caller's thread.
//!
//! The bytes depend only on the input, the level and the block size, never
//! on how many threads ran or how the input was handed over, so written
//! images stay reproducible from one machine to another.
//!
//! Hand-written because the crate that does this (gzp) needs a `'static`
//! writer it keeps, and layers are written into a borrowed hashing writer
//! whose digest is wanted afterwards.

use std::collections::VecDeque;
use std::io::{self, Write};
use std::sync::mpsc::{Receiver, Sender, SyncSender, channel, sync_channel};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;

use flate2::{Compress, FlushCompress, Status};

/// Input bytes per block: big enough that the sync flush markers cost
/// nothing (5 bytes a MiB), small enough to keep every core busy.
pub const BLOCK: usize = 1 << 20;
/// Deflate's window: what a block may refer back to.
const WINDOW: usize = 32 * 1024;
/// gzip header: magic, deflate, no flags, no time, no extra flags, OS unknown.
const HEADER: [u8; 10] = [0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 255];

struct Job {
    input: Vec<u8>,
    dictionary: Vec<u8>,
    last: bool,
    level: u32,
    reply: SyncSender<io::Result<Vec<u8>>>,
}

/// The worker threads; dropping it stops and joins them.
struct Pool {
    jobs: Option<Sender<Job>>,
    workers: Vec<JoinHandle<()>>,
}

impl Pool {
    fn new(workers: usize) -> Pool {
        let (jobs, queue) = channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        let workers = (0..workers.max(1))
            .map(|_| {
                let queue = queue.clone();
                std::thread::spawn(move || {
                    loop {
                        // The lock is held only to take the next job.
                        let job = match queue.lock() {
                            Ok(queue) => queue.recv(),
                            Err(_) => return,
                        };
                        let Ok(job) = job else { return };
                        let _ = job.reply.send(deflate_block(&job));
                    }
                })
            })
            .collect();
        Pool {
            jobs: Some(jobs),
            workers,
        }
    }

    fn send(&self, job: Job) -> io::Result<()> {
        self.jobs
            .as_ref()
            .and_then(|jobs| jobs.send(job).ok())
            .ok_or_else(|| io::Error::other("compression workers stopped"))
    }
}

impl Drop for Pool {
    fn drop(&mut self) {
        drop(self.jobs.take());
        for worker in self.workers.drain(..) {
            let _ = worker.join();
        }
    }
}

/// A gzip writer compressing on `workers` threads; call
/// [`ParallelGzip::finish`] to write the end of the stream.
pub struct ParallelGzip<W: Write> {
    inner: W,
    level: u32,
    block: Vec<u8>,
    dictionary: Vec<u8>,
    crc: crc32fast::Hasher,
    size: u64,
    pool: Pool,
    /// Compressed blocks in input order, not yet written.
    pending: VecDeque<Receiver<io::Result<Vec<u8>>>>,
    max_pending: usize,
    header_written: bool,
}

impl<W: Write> ParallelGzip<W> {
    pub fn new(inner: W, level: u32, workers: usize) -> Self {
        ParallelGzip {
            inner,
            level,
            block: Vec::with_capacity(BLOCK),
            dictionary: Vec::new(),
            crc: crc32fast::Hasher::new(),
            size: 0,
            pool: Pool::new(workers),
            pending: VecDeque::new(),
            max_pending: 2 * workers.max(1),
            header_written: false,
        }
    }

    /// Hands the current block to a worker; writes out the oldest results
    /// once enough are in flight (memory stays a few blocks per worker).
    fn submit(&mut self, last: bool) -> io::Result<()> {
        let input = std::mem::replace(&mut self.block, Vec::with_capacity(BLOCK));
        let tail = input[input.len().saturating_sub(WINDOW)..].to_vec();
        let dictionary = std::mem::replace(&mut self.dictionary, tail);
        let (reply, result) = sync_channel(1);
        self.pool.send(Job {
            input,
            dictionary,
            last,
            level: self.level,
            reply,
        })?;
        self.pending.push_back(result);
        while self.pending.len() > self.max_pending {
            self.write_oldest()?;
        }
        Ok(())
    }

    fn write_oldest(&mut self) -> io::Result<()> {
        let Some(result) = self.pending.pop_front() else {
            return Ok(());
        };
        if !self.header_written {
            self.inner.write_all(&HEADER)?;
            self.header_written = true;
        }
        let compressed = result
            .recv()
            .map_err(|_| io::Error::other("a compression worker stopped"))??;
        self.inner.write_all(&compressed)
    }

    /// Compresses what is left, writes the trailer, and returns the writer.
    pub fn finish(mut self) -> io::Result<W> {
        self.submit(true)?;
        while !self.pending.is_empty() {
            self.write_oldest()?;
        }
        let ParallelGzip {
            mut inner,
            crc,
            size,
            ..
        } = self;
        inner.write_all(&crc.finalize().to_le_bytes())?;
        // ISIZE: the input size modulo 2^32, as the format says.
        inner.write_all(&(size as u32).to_le_bytes())?;
        Ok(inner)
    }
}

impl<W: Write> Write for ParallelGzip<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = buf.len().min(BLOCK - self.block.len());
        self.block.extend_from_slice(&buf[..n]);
        self.crc.update(&buf[..n]);
        self.size += n as u64;
        if self.block.len() == BLOCK {
            self.submit(false)?;
        }
        Ok(n)
    }

    /// Blocks are cut at fixed sizes, so a flush writes nothing early:
    /// flushing mid-block would change the bytes.
    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// Deflates one block: raw deflate, primed with the previous block's tail,
/// ending on a byte boundary (sync flush) or, for the last block, with the
/// final block marker.
fn deflate_block(job: &Job) -> io::Result<Vec<u8>> {
    let mut deflate = Compress::new(flate2::Compression::new(job.level), false);
    if !job.dictionary.is_empty() {
        deflate
            .set_dictionary(&job.dictionary)
            .map_err(io::Error::other)?;
    }
    let flush = if job.last {
        FlushCompress::Finish
    } else {
        FlushCompress::Sync
    };
    let mut out = Vec::with_capacity(job.input.len() / 2 + 1024);
    let mut consumed = 0;
    loop {
        if out.capacity() - out.len() < 1024 {
            out.reserve(out.capacity().max(64 * 1024));
        }
        let before = deflate.total_in();
        let status = deflate
            .compress_vec(&job.input[consumed..], &mut out, flush)
            .map_err(io::Error::other)?;
        consumed += (deflate.total_in() - before) as usize;
        let done = if job.last {
            status == Status::StreamEnd
        } else {
            // zlib's rule: a flush is complete once all input is taken and
            // the output was not filled to the brim.
            consumed == job.input.len() && out.len() < out.capacity()
        };
        if done {
            break;
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Read;

    /// Bytes that compress somewhat, like a layer: text and binary runs.
    fn sample(size: usize) -> Vec<u8> {
        let mut state = 0x2545_f491_u32;
        (0..size)
            .map(|i| {
                state ^= state << 13;
                state ^= state >> 17;
                state ^= state << 5;
                if (i / 4096) % 2 == 0 {
                    b"layer bytes, "[i % 13]
                } else {
                    (state % 64) as u8
                }
            })
            .collect()
    }

    fn compress(data: &[u8], workers: usize, piece: usize) -> Vec<u8> {
        let mut gz = ParallelGzip::new(Vec::new(), 6, workers);
        for chunk in data.chunks(piece.max(1)) {
            gz.write_all(chunk).unwrap();
        }
        gz.flush().unwrap();
        gz.finish().unwrap()
    }

    #[test]
    fn round_trips_and_never_depends_on_threads_or_write_sizes() {
        for size in [0, 1, WINDOW, BLOCK - 1, BLOCK, 3 * BLOCK + 5] {
            let data = sample(size);
            let want = compress(&data, 1, 64 * 1024);
            for (workers, piece) in [(2, 7), (4, BLOCK), (3, 1 << 22)] {
                assert_eq!(
                    compress(&data, workers, piece),
                    want,
                    "{size} bytes, {workers} workers"
                );
            }
            let mut back = Vec::new();
            flate2::read::GzDecoder::new(&want[..])
                .read_to_end(&mut back)
                .unwrap();
            assert_eq!(back, data, "{size} bytes");
        }
    }

    #[test]
    fn gzip_itself_accepts_the_stream() {
        let Ok(status) = std::process::Command::new("gzip").arg("--version").output() else {
            return; // gzip is part of every Debian system; not this one
        };
        assert!(status.status.success());
        let data = sample(2 * BLOCK + 100);
        let packed = compress(&data, 2, 1000);
        let mut gzip = std::process::Command::new("gzip")
            .arg("-dc")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .spawn()
            .unwrap();
        let mut stdin = gzip.stdin.take().unwrap();
        let writer = std::thread::spawn(move || stdin.write_all(&packed));
        let out = gzip.wait_with_output().unwrap();
        writer.join().unwrap().unwrap();
        assert!(out.status.success());
        assert_eq!(out.stdout, data);
    }
}
