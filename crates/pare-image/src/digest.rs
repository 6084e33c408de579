//! Content digests and the readers that check them while streaming.

use std::fmt;
use std::io::{self, Read, Write};

use sha2::{Digest as _, Sha256};

use crate::error::{Error, Result};

/// A `sha256:<64 hex>` content digest, the only algorithm images use in practice.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    hex: String,
}

impl Digest {
    /// Parses `sha256:<64 lowercase hex digits>`.
    pub fn parse(text: &str) -> Result<Self> {
        let Some((algorithm, hex)) = text.split_once(':') else {
            return Err(Error::malformed(
                format!("digest {text:?}"),
                "missing algorithm prefix",
            ));
        };
        if algorithm != "sha256" {
            return Err(Error::unsupported(
                format!("digest {text:?}"),
                format!("algorithm {algorithm:?} (only sha256)"),
            ));
        }
        Self::from_hex(hex).ok_or_else(|| {
            Error::malformed(
                format!("digest {text:?}"),
                "expected 64 lowercase hex digits",
            )
        })
    }

    /// Accepts exactly 64 lowercase hex digits.
    pub fn from_hex(hex: &str) -> Option<Self> {
        let valid = hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        valid.then(|| Digest {
            hex: hex.to_string(),
        })
    }

    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self::from_hasher(Sha256::new_with_prefix(bytes))
    }

    fn from_hasher(hasher: Sha256) -> Self {
        Digest {
            hex: hex::encode(hasher.finalize()),
        }
    }

    /// The 64 hex digits without the algorithm.
    pub fn hex(&self) -> &str {
        &self.hex
    }

    /// Where a blob with this digest lives in an OCI layout.
    pub fn blob_path(&self) -> String {
        format!("blobs/sha256/{}", self.hex)
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.hex)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

impl serde::Serialize for Digest {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl std::str::FromStr for Digest {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::parse(s)
    }
}

/// Wraps a reader, hashing and counting what passes through, and fails the
/// read that reaches end of stream when the bytes do not match what was
/// promised. Reading past the promised size fails at once, so a hostile blob
/// cannot make us read more than its descriptor admits.
pub struct VerifyingReader<R> {
    inner: R,
    name: String,
    expected_digest: Option<Digest>,
    expected_size: Option<u64>,
    hasher: Hashing,
    count: u64,
    outcome: Option<Outcome>,
    /// The first read error of the inner stream (a dropped connection):
    /// every later read fails with it, so a check after a failed read
    /// reports the failure instead of the short count it left.
    read_error: Option<(io::ErrorKind, String)>,
}

/// What a finished stream turned out to be. Kept (not the `Error` itself,
/// which cannot be cloned) so every later read can report the same failure.
#[derive(Clone)]
enum Outcome {
    /// The right size, and the digest (`None` when hashing was off).
    Verified(Option<Digest>),
    WrongSize {
        expected: u64,
        actual: u64,
    },
    WrongDigest {
        expected: Digest,
        actual: Digest,
    },
}

/// Chunks in flight to a helper hashing thread (each at most one read).
const HASH_QUEUE: usize = 32;

/// Where a verifying reader computes its sha256: on the reading thread, or
/// on a helper thread fed copies of the bytes, which frees the reading
/// thread for other work (inflating a gzip layer).
enum Hashing {
    /// Nothing to check the digest against and nobody wants it.
    Off,
    Here(Sha256),
    Helper {
        chunks: Option<std::sync::mpsc::SyncSender<Vec<u8>>>,
        worker: Option<std::thread::JoinHandle<Sha256>>,
    },
}

impl Hashing {
    fn helper() -> Hashing {
        let (chunks, received) = std::sync::mpsc::sync_channel::<Vec<u8>>(HASH_QUEUE);
        let worker = std::thread::spawn(move || {
            let mut hasher = Sha256::new();
            for chunk in received {
                hasher.update(&chunk);
            }
            hasher
        });
        Hashing::Helper {
            chunks: Some(chunks),
            worker: Some(worker),
        }
    }

    fn update(&mut self, bytes: &[u8]) {
        match self {
            Hashing::Off => {}
            Hashing::Here(hasher) => hasher.update(bytes),
            Hashing::Helper {
                chunks: Some(chunks),
                ..
            } => {
                // The worker only stops when the sender is dropped.
                let _ = chunks.send(bytes.to_vec());
            }
            Hashing::Helper { chunks: None, .. } => {}
        }
    }

    /// The digest of everything seen. A helper that died (it cannot, short
    /// of running out of memory) gives the empty digest: a mismatch.
    fn finish(&mut self) -> Option<Digest> {
        let hasher = match self {
            Hashing::Off => return None,
            Hashing::Here(hasher) => std::mem::take(hasher),
            Hashing::Helper { chunks, worker } => {
                drop(chunks.take());
                worker
                    .take()
                    .and_then(|w| w.join().ok())
                    .unwrap_or_default()
            }
        };
        Some(Digest::from_hasher(hasher))
    }
}

impl<R: Read> VerifyingReader<R> {
    /// `name` is how errors refer to the stream (usually the blob's digest or path).
    pub fn new(
        inner: R,
        name: impl Into<String>,
        expected_digest: Option<Digest>,
        expected_size: Option<u64>,
    ) -> Self {
        VerifyingReader {
            inner,
            name: name.into(),
            expected_digest,
            expected_size,
            hasher: Hashing::Here(Sha256::new()),
            count: 0,
            outcome: None,
            read_error: None,
        }
    }

    /// Hashes on a helper thread instead of the reading one (before any
    /// byte is read).
    pub fn hashing_on_helper_thread(mut self) -> Self {
        if self.count == 0 {
            self.hasher = Hashing::helper();
        }
        self
    }

    /// Checks only the size: for a stream with no expected digest whose
    /// bytes are verified another way (a legacy `<id>/layer.tar` is checked
    /// against its diff_id as it is parsed), so they are not hashed twice.
    /// [`VerifyingReader::finish`] then fails; use [`VerifyingReader::check`].
    pub fn size_only(mut self) -> Self {
        if self.expected_digest.is_none() && self.count == 0 {
            self.hasher = Hashing::Off;
        }
        self
    }

    /// Reads whatever is left and checks size and digest.
    pub fn check(&mut self) -> Result<()> {
        io::copy(self, &mut io::sink()).map_err(|e| Error::io(&self.name, e))?;
        match &self.outcome {
            Some(Outcome::Verified(_)) => Ok(()),
            _ => Err(self
                .failure()
                .unwrap_or_else(|| Error::malformed(self.name.clone(), "stream did not end"))),
        }
    }

    /// Bytes seen so far.
    pub fn count(&self) -> u64 {
        self.count
    }

    /// Reads whatever is left and returns the verified digest.
    pub fn finish(&mut self) -> Result<Digest> {
        io::copy(self, &mut io::sink()).map_err(|e| Error::io(&self.name, e))?;
        match &self.outcome {
            Some(Outcome::Verified(Some(digest))) => Ok(digest.clone()),
            Some(Outcome::Verified(None)) => Err(Error::malformed(
                self.name.clone(),
                "the digest was not computed (size_only)",
            )),
            _ => Err(self
                .failure()
                .unwrap_or_else(|| Error::malformed(self.name.clone(), "stream did not end"))),
        }
    }

    /// If the stream has already shown itself to be wrong (too long, too
    /// short, or the wrong digest), that error: report it in preference to
    /// whatever a decoder reading from this stream complained about.
    pub fn failure(&self) -> Option<Error> {
        match &self.outcome {
            Some(Outcome::WrongSize { expected, actual }) => Some(Error::SizeMismatch {
                blob: self.name.clone(),
                expected: *expected,
                actual: *actual,
            }),
            Some(Outcome::WrongDigest { expected, actual }) => Some(Error::DigestMismatch {
                blob: self.name.clone(),
                expected: expected.to_string(),
                actual: actual.to_string(),
            }),
            Some(Outcome::Verified(_)) | None => None,
        }
    }

    fn conclude(&mut self) -> Outcome {
        if let Some(expected) = self.expected_size
            && expected != self.count
        {
            return Outcome::WrongSize {
                expected,
                actual: self.count,
            };
        }
        let Some(actual) = self.hasher.finish() else {
            return Outcome::Verified(None);
        };
        match &self.expected_digest {
            Some(expected) if *expected != actual => Outcome::WrongDigest {
                expected: expected.clone(),
                actual,
            },
            _ => Outcome::Verified(Some(actual)),
        }
    }
}

impl<R: Read> Read for VerifyingReader<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if let Some((kind, message)) = &self.read_error {
            return Err(io::Error::new(*kind, message.clone()));
        }
        if self.outcome.is_none() {
            let n = match self.inner.read(buf) {
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => return Err(e),
                Err(e) => {
                    // A verdict of a reader below (its own mismatch) is
                    // reported as before, typed; a transport failure is
                    // remembered.
                    if !e.get_ref().is_some_and(|inner| inner.is::<Error>()) {
                        self.read_error = Some((e.kind(), e.to_string()));
                    }
                    return Err(e);
                }
            };
            self.hasher.update(&buf[..n]);
            self.count += n as u64;
            let too_long = self.expected_size.is_some_and(|size| self.count > size);
            if n > 0 && !too_long {
                return Ok(n);
            }
            self.outcome = Some(self.conclude());
        }
        match self.failure() {
            None => Ok(0),
            Some(err) => Err(io::Error::new(io::ErrorKind::InvalidData, err)),
        }
    }
}

/// A writer that hashes and counts what it passes on.
pub struct HashingWriter<W> {
    inner: W,
    hasher: Sha256,
    count: u64,
}

impl<W: Write> HashingWriter<W> {
    pub fn new(inner: W) -> Self {
        HashingWriter {
            inner,
            hasher: Sha256::new(),
            count: 0,
        }
    }

    /// The digest and size of everything written, and the inner writer.
    pub fn finish(self) -> (Digest, u64, W) {
        (Digest::from_hasher(self.hasher), self.count, self.inner)
    }
}

impl<W: Write> Write for HashingWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.hasher.update(&buf[..n]);
        self.count += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_only_well_formed_sha256() {
        let good = format!("sha256:{}", "a".repeat(64));
        assert_eq!(Digest::parse(&good).unwrap().to_string(), good);
        for bad in [
            "sha256:abc",
            "md5:0123",
            "nocolon",
            &format!("sha256:{}", "A".repeat(64)),
            &format!("sha256:../{}", "a".repeat(61)),
        ] {
            assert!(Digest::parse(bad).is_err(), "{bad} accepted");
        }
    }

    #[test]
    fn verifying_reader_accepts_matching_stream() {
        let data = b"hello world";
        let mut r = VerifyingReader::new(&data[..], "x", Some(Digest::of(data)), Some(11));
        assert_eq!(r.finish().unwrap(), Digest::of(data));
    }

    #[test]
    fn verifying_reader_rejects_wrong_digest_size_and_overlong() {
        let data = b"hello world";
        let mut r = VerifyingReader::new(&data[..], "x", Some(Digest::of(b"other")), None);
        assert!(matches!(r.finish(), Err(Error::DigestMismatch { .. })));
        let mut r = VerifyingReader::new(&data[..], "x", None, Some(12));
        assert!(matches!(r.finish(), Err(Error::SizeMismatch { .. })));
        let mut r = VerifyingReader::new(&data[..], "x", None, Some(5));
        assert!(matches!(r.finish(), Err(Error::SizeMismatch { .. })));
    }

    #[test]
    fn size_only_still_checks_the_size_and_never_skips_an_expected_digest() {
        let data = b"hello world";
        let size_only = |size| VerifyingReader::new(&data[..], "x", None, Some(size)).size_only();
        assert!(size_only(11).check().is_ok());
        assert!(matches!(
            size_only(12).check(),
            Err(Error::SizeMismatch { .. })
        ));
        // Nobody asked for the digest, so it is not there to be had.
        assert!(size_only(11).finish().is_err());
        // With a digest to check, size_only changes nothing.
        let mut r =
            VerifyingReader::new(&data[..], "x", Some(Digest::of(b"other")), None).size_only();
        assert!(matches!(r.check(), Err(Error::DigestMismatch { .. })));
    }

    #[test]
    fn hashing_on_a_helper_thread_gives_the_same_verdicts() {
        let data: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        let helper = |expected| {
            VerifyingReader::new(&data[..], "x", Some(expected), Some(data.len() as u64))
                .hashing_on_helper_thread()
        };
        assert_eq!(
            helper(Digest::of(&data)).finish().unwrap(),
            Digest::of(&data)
        );
        assert!(matches!(
            helper(Digest::of(b"other")).finish(),
            Err(Error::DigestMismatch { .. })
        ));
        // Dropped half-read: the helper thread ends on its own.
        let mut half = helper(Digest::of(&data));
        let mut buf = [0u8; 1000];
        std::io::Read::read(&mut half, &mut buf).unwrap();
        drop(half);
    }
}
