//! HTTP/1.1 message framing over a blocking stream, shared by the probes'
//! client and the Lambda runtime API's server: a message head (start line
//! and headers, bounded), and a body framed by Content-Length, chunked
//! transfer coding, or the end of the connection, bounded too.
//!
//! Written by hand rather than with a crate: pare needs about two hundred
//! lines of it, blocking and bounded everywhere, and the small well-kept
//! parsers (httparse) leave the framing, the bounds and the keep-alive
//! buffering to the caller anyway, which is most of this file; the full
//! clients and servers (ureq, hyper, tiny_http) bring TLS, pools or an
//! async runtime pare does not want in its sandbox path.

use std::io::{self, Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

/// The largest message head read: start line and headers together.
pub(crate) const MAX_HEAD: usize = 64 * 1024;
/// The most header lines a head may have.
const MAX_HEADERS: usize = 128;
/// The longest chunk-size line of a chunked body (size and extensions).
const MAX_CHUNK_LINE: usize = 4096;

/// Why a message could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum WireError {
    #[error("{0}")]
    Io(#[from] io::Error),
    #[error("the connection closed in the middle of a message")]
    Truncated,
    #[error("the message head is larger than {MAX_HEAD} bytes")]
    HeadTooLarge,
    #[error("the body is larger than {0} bytes")]
    BodyTooLarge(u64),
    #[error("{0}")]
    Malformed(String),
}

impl WireError {
    /// A read that ran out of time (a socket timeout).
    pub(crate) fn is_timeout(&self) -> bool {
        matches!(self, WireError::Io(e) if is_timeout(e))
    }
}

/// Whether an I/O error is a socket timeout (Linux says WouldBlock).
pub(crate) fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
    )
}

/// A message's start line and headers.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Head {
    pub(crate) line: String,
    pub(crate) headers: Vec<(String, String)>,
}

/// How a body ends.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Framing {
    Length(u64),
    Chunked,
    UntilClose,
}

impl Head {
    /// The first header of that name (names compare without case).
    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Whether a comma-separated header (Connection, Expect…) holds `token`.
    pub(crate) fn has_token(&self, name: &str, token: &str) -> bool {
        self.headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name))
            .flat_map(|(_, v)| v.split(','))
            .any(|t| t.trim().eq_ignore_ascii_case(token))
    }

    /// The body's framing by RFC 9112 §6.3: chunked wins over a length;
    /// lengths that disagree, or a transfer coding other than chunked,
    /// are refused (they are how requests get smuggled). Without either,
    /// `otherwise` (no body for a request, until close for a response).
    pub(crate) fn framing(&self, otherwise: Framing) -> Result<Framing, WireError> {
        if let Some(te) = self.header("transfer-encoding") {
            let codings: Vec<&str> = te.split(',').map(str::trim).collect();
            if codings
                .last()
                .is_some_and(|c| c.eq_ignore_ascii_case("chunked"))
                && codings.iter().all(|c| c.eq_ignore_ascii_case("chunked"))
            {
                return Ok(Framing::Chunked);
            }
            return Err(WireError::Malformed(format!(
                "unsupported transfer coding {te:?}"
            )));
        }
        let mut length = None;
        for (name, value) in &self.headers {
            if !name.eq_ignore_ascii_case("content-length") {
                continue;
            }
            for part in value.split(',') {
                let part = part.trim();
                let n = parse_decimal(part)
                    .ok_or_else(|| WireError::Malformed(format!("bad Content-Length {value:?}")))?;
                if length.is_some_and(|l| l != n) {
                    return Err(WireError::Malformed(
                        "Content-Length headers that disagree".into(),
                    ));
                }
                length = Some(n);
            }
        }
        Ok(length.map(Framing::Length).unwrap_or(otherwise))
    }
}

fn parse_decimal(text: &str) -> Option<u64> {
    if text.is_empty() || text.len() > 19 || !text.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

/// A buffered reader that keeps what it read past one message for the next
/// (keep-alive), and can look at the first bytes before parsing them.
pub(crate) struct Reader<R> {
    inner: R,
    buf: Vec<u8>,
    pos: usize,
}

impl<R: Read> Reader<R> {
    pub(crate) fn new(inner: R) -> Reader<R> {
        Reader {
            inner,
            buf: Vec::with_capacity(8192),
            pos: 0,
        }
    }

    /// Bytes read and not yet consumed.
    pub(crate) fn buffered(&self) -> &[u8] {
        &self.buf[self.pos..]
    }

    /// Reads more; the count read, 0 at the end of the stream.
    fn fill(&mut self) -> io::Result<usize> {
        if self.pos > 0 && self.pos == self.buf.len() {
            self.buf.clear();
            self.pos = 0;
        } else if self.pos > 64 * 1024 {
            self.buf.drain(..self.pos);
            self.pos = 0;
        }
        let start = self.buf.len();
        self.buf.resize(start + 8192, 0);
        let n = loop {
            match self.inner.read(&mut self.buf[start..]) {
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                other => break other,
            }
        };
        self.buf.truncate(start + *n.as_ref().unwrap_or(&0));
        n
    }

    /// Reads until at least `n` bytes are buffered or the stream ends;
    /// whether `n` were reached.
    pub(crate) fn fill_to(&mut self, n: usize) -> io::Result<bool> {
        while self.buffered().len() < n {
            if self.fill()? == 0 {
                return Ok(false);
            }
        }
        Ok(true)
    }

    /// The next message head; `None` when the stream ends cleanly before
    /// one starts (a keep-alive peer that hung up).
    pub(crate) fn read_head(&mut self) -> Result<Option<Head>, WireError> {
        // RFC 9112 §2.2: ignore empty lines before a request line.
        let mut scanned = 0;
        loop {
            loop {
                let data = self.buffered();
                let blank = if data.starts_with(b"\r\n") {
                    2
                } else if data.starts_with(b"\n") {
                    1
                } else {
                    break;
                };
                self.pos += blank;
                scanned = 0;
            }
            let data = self.buffered();
            if let Some(end) = head_end(data, scanned) {
                let head = parse_head(&data[..end])?;
                self.pos += end;
                return Ok(Some(head));
            }
            if data.len() >= MAX_HEAD {
                return Err(WireError::HeadTooLarge);
            }
            scanned = data.len().saturating_sub(3);
            if self.fill()? == 0 {
                return if self.buffered().is_empty() {
                    Ok(None)
                } else {
                    Err(WireError::Truncated)
                };
            }
        }
    }

    /// The body, bounded by `cap`. Over the cap, with `truncate` the first
    /// `cap` bytes are kept and reading stops (`Ok(true)`); without, it is
    /// `BodyTooLarge`. Bytes read before an error stay in `out`.
    pub(crate) fn read_body(
        &mut self,
        framing: Framing,
        cap: u64,
        truncate: bool,
        out: &mut Vec<u8>,
    ) -> Result<bool, WireError> {
        match framing {
            Framing::Length(n) => {
                if n > cap && !truncate {
                    return Err(WireError::BodyTooLarge(cap));
                }
                let take = n.min(cap);
                self.read_exact_into(take, out)?;
                Ok(n > cap)
            }
            Framing::UntilClose => loop {
                let room = cap.saturating_sub(out.len() as u64);
                let data = self.buffered();
                let take = (data.len() as u64).min(room) as usize;
                out.extend_from_slice(&data[..take]);
                self.pos += take;
                if (out.len() as u64) >= cap {
                    if !self.buffered().is_empty() || self.fill()? > 0 {
                        return if truncate {
                            Ok(true)
                        } else {
                            Err(WireError::BodyTooLarge(cap))
                        };
                    }
                    return Ok(false);
                }
                if self.fill()? == 0 {
                    return Ok(false);
                }
            },
            Framing::Chunked => loop {
                let line = self.read_line(MAX_CHUNK_LINE)?;
                let size_text = line.split(';').next().unwrap_or("").trim();
                if size_text.is_empty()
                    || size_text.len() > 15
                    || !size_text.bytes().all(|b| b.is_ascii_hexdigit())
                {
                    return Err(WireError::Malformed(format!("bad chunk size {line:?}")));
                }
                let size = u64::from_str_radix(size_text, 16)
                    .map_err(|_| WireError::Malformed(format!("bad chunk size {line:?}")))?;
                if size == 0 {
                    // Trailer fields, then the empty line.
                    let mut lines = 0;
                    while !self.read_line(MAX_CHUNK_LINE)?.is_empty() {
                        lines += 1;
                        if lines > MAX_HEADERS {
                            return Err(WireError::HeadTooLarge);
                        }
                    }
                    return Ok(false);
                }
                let room = cap.saturating_sub(out.len() as u64);
                if size > room {
                    if !truncate {
                        return Err(WireError::BodyTooLarge(cap));
                    }
                    self.read_exact_into(room, out)?;
                    return Ok(true);
                }
                self.read_exact_into(size, out)?;
                if !self.read_line(2)?.is_empty() {
                    return Err(WireError::Malformed(
                        "chunk data longer than its size".into(),
                    ));
                }
            },
        }
    }

    fn read_exact_into(&mut self, mut n: u64, out: &mut Vec<u8>) -> Result<(), WireError> {
        while n > 0 {
            if self.buffered().is_empty() && self.fill()? == 0 {
                return Err(WireError::Truncated);
            }
            let data = self.buffered();
            let take = (data.len() as u64).min(n) as usize;
            out.extend_from_slice(&data[..take]);
            self.pos += take;
            n -= take as u64;
        }
        Ok(())
    }

    /// One line without its CRLF (or bare LF), at most `max` bytes.
    fn read_line(&mut self, max: usize) -> Result<String, WireError> {
        loop {
            let data = self.buffered();
            if let Some(i) = data.iter().position(|&b| b == b'\n') {
                let line = &data[..i];
                let line = line.strip_suffix(b"\r").unwrap_or(line);
                if line.len() > max {
                    return Err(WireError::Malformed("a line too long".into()));
                }
                let text = String::from_utf8_lossy(line).into_owned();
                self.pos += i + 1;
                return Ok(text);
            }
            if data.len() > max + 2 {
                return Err(WireError::Malformed("a line too long".into()));
            }
            if self.fill()? == 0 {
                return Err(WireError::Truncated);
            }
        }
    }
}

/// Where the head ends (after its blank line), searching from `from`.
fn head_end(data: &[u8], from: usize) -> Option<usize> {
    let mut i = from;
    while i < data.len() {
        if data[i] == b'\n' {
            if data.get(i + 1) == Some(&b'\n') {
                return Some(i + 2);
            }
            if data.get(i + 1) == Some(&b'\r') && data.get(i + 2) == Some(&b'\n') {
                return Some(i + 3);
            }
        }
        i += 1;
    }
    None
}

fn parse_head(bytes: &[u8]) -> Result<Head, WireError> {
    let mut lines = bytes
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let first = lines.next().unwrap_or_default();
    if first.iter().any(|&b| b.is_ascii_control() && b != b'\t') {
        return Err(WireError::Malformed(
            "control characters in the start line".into(),
        ));
    }
    let line = String::from_utf8_lossy(first).into_owned();
    let mut headers = Vec::new();
    for raw in lines {
        if raw.is_empty() {
            continue;
        }
        if raw[0] == b' ' || raw[0] == b'\t' {
            return Err(WireError::Malformed("folded header lines".into()));
        }
        let colon = raw
            .iter()
            .position(|&b| b == b':')
            .ok_or_else(|| WireError::Malformed("a header line without a colon".into()))?;
        let name = &raw[..colon];
        if name.is_empty() || !name.iter().all(|&b| is_token(b)) {
            return Err(WireError::Malformed(format!(
                "bad header name {:?}",
                String::from_utf8_lossy(name)
            )));
        }
        let value = &raw[colon + 1..];
        if value.iter().any(|&b| b == 0 || b == b'\r') {
            return Err(WireError::Malformed(
                "control characters in a header".into(),
            ));
        }
        headers.push((
            String::from_utf8_lossy(name).into_owned(),
            String::from_utf8_lossy(value.trim_ascii()).into_owned(),
        ));
        if headers.len() > MAX_HEADERS {
            return Err(WireError::HeadTooLarge);
        }
    }
    Ok(Head { line, headers })
}

/// RFC 9110 tchar.
fn is_token(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~".contains(&b)
}

/// A TcpStream read under one deadline for the whole exchange, so a peer
/// that answers a byte at a time cannot stretch the wait past it.
pub(crate) struct Deadlined<'a> {
    pub(crate) stream: &'a TcpStream,
    pub(crate) deadline: Instant,
}

impl Read for Deadlined<'_> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err(io::ErrorKind::TimedOut.into());
        }
        self.stream
            .set_read_timeout(Some(left.max(Duration::from_millis(1))))?;
        self.stream.read(buf)
    }
}

/// Writes a response with a Content-Length body.
pub(crate) fn write_response(
    out: &mut impl Write,
    status: u16,
    reason: &str,
    headers: &[(&str, &str)],
    body: &[u8],
    close: bool,
) -> io::Result<()> {
    let mut head = format!("HTTP/1.1 {status} {reason}\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {}\r\n", body.len()));
    if close {
        head.push_str("Connection: close\r\n");
    }
    head.push_str("\r\n");
    let mut message = head.into_bytes();
    message.extend_from_slice(body);
    out.write_all(&message)?;
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A stream that hands out its bytes a few at a time, as a network does.
    struct Trickle<'a>(&'a [u8], usize);
    impl Read for Trickle<'_> {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            let n = self.0.len().min(buf.len()).min(self.1);
            buf[..n].copy_from_slice(&self.0[..n]);
            self.0 = &self.0[n..];
            Ok(n)
        }
    }

    fn message(
        input: &[u8],
        step: usize,
        otherwise: Framing,
        cap: u64,
        truncate: bool,
    ) -> Result<(Head, Vec<u8>, bool), String> {
        let mut r = Reader::new(Trickle(input, step));
        let head = r.read_head().map_err(|e| e.to_string())?.ok_or("no head")?;
        let framing = head.framing(otherwise).map_err(|e| e.to_string())?;
        let mut body = Vec::new();
        let cut = r
            .read_body(framing, cap, truncate, &mut body)
            .map_err(|e| e.to_string())?;
        Ok((head, body, cut))
    }

    #[test]
    fn bodies_by_each_framing_at_any_read_size() {
        let cases: &[(&[u8], &[u8], bool)] = &[
            (b"POST / HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", b"hello", false),
            (b"POST / HTTP/1.1\r\ncontent-length: 0\r\n\r\n", b"", false),
            (b"GET / HTTP/1.1\r\nHost: x\r\n\r\n", b"", false),
            (b"POST / HTTP/1.1\nContent-Length: 2\n\nhi", b"hi", false),
            (
                b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nTrailer: x\r\n\r\n",
                b"hello world",
                false,
            ),
            (b"\r\n\r\nPOST / HTTP/1.1\r\nContent-Length: 1\r\n\r\nx", b"x", false),
            (b"POST / HTTP/1.1\r\nContent-Length: 3, 3\r\n\r\nabc", b"abc", false),
        ];
        for (input, want, cut) in cases {
            for step in [1, 3, 7, 8192] {
                let (_, body, got_cut) = message(input, step, Framing::Length(0), 1 << 20, false)
                    .unwrap_or_else(|e| {
                        panic!("{:?} step {step}: {e}", String::from_utf8_lossy(input))
                    });
                assert_eq!(
                    body,
                    *want,
                    "{:?} step {step}",
                    String::from_utf8_lossy(input)
                );
                assert_eq!(got_cut, *cut);
            }
        }
    }

    #[test]
    fn bad_and_oversized_messages_are_errors() {
        let cases: &[(&[u8], u64, bool, &str)] = &[
            (b"POST / HTTP/1.1\r\nContent-Length: 11\r\n\r\nhello world", 5, false, "larger than 5"),
            (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nb\r\nhello world\r\n0\r\n\r\n", 5, false, "larger than 5"),
            (b"POST / HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\nxx", 9, false, "disagree"),
            (b"POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 9, false, "bad Content-Length"),
            (b"POST / HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n", 9, false, "transfer coding"),
            (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 9, false, "chunk size"),
            (b"POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nabc\r\n0\r\n\r\n", 9, false, "longer than its size"),
            (b"POST / HTTP/1.1\r\nContent-Length: 10\r\n\r\nshort", 99, false, "closed in the middle"),
            (b"POST / HTTP/1.1\r\n folded: x\r\n\r\n", 9, false, "folded"),
            (b"POST / HTTP/1.1\r\nno colon\r\n\r\n", 9, false, "without a colon"),
            (b"POST / HTTP/1.1\r\nbad name: x\r\n\r\n", 9, false, "bad header name"),
            (b"POST / HTTP/1.1\r\nHost: x", 9, false, "closed in the middle"),
        ];
        for (input, cap, truncate, want) in cases {
            let err = message(input, 4, Framing::Length(0), *cap, *truncate).unwrap_err();
            assert!(
                err.contains(want),
                "{:?}: {err}",
                String::from_utf8_lossy(input)
            );
        }
    }

    #[test]
    fn a_truncating_reader_keeps_the_first_bytes() {
        let cases: &[(&[u8], Framing, &[u8])] = &[
            (b"HTTP/1.1 200 OK\r\n\r\nhello world", Framing::UntilClose, b"hello"),
            (b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nhello world", Framing::UntilClose, b"hello"),
            (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nhel\r\n8\r\nlo world\r\n0\r\n\r\n", Framing::UntilClose, b"hello"),
        ];
        for (input, otherwise, want) in cases {
            let (_, body, cut) = message(input, 2, *otherwise, 5, true).unwrap();
            assert_eq!(body, *want);
            assert!(cut);
        }
        // Exactly at the cap is not cut.
        let (_, body, cut) = message(
            b"HTTP/1.1 200 OK\r\n\r\nhello",
            2,
            Framing::UntilClose,
            5,
            true,
        )
        .unwrap();
        assert_eq!((body.as_slice(), cut), (&b"hello"[..], false));
    }

    #[test]
    fn keep_alive_reads_messages_one_after_another() {
        let input = b"GET /a HTTP/1.1\r\n\r\nPOST /b HTTP/1.1\r\nContent-Length: 2\r\n\r\nokGET /c HTTP/1.1\r\n\r\n";
        let mut r = Reader::new(Trickle(input, 5));
        let mut lines = Vec::new();
        while let Some(head) = r.read_head().unwrap() {
            let mut body = Vec::new();
            r.read_body(
                head.framing(Framing::Length(0)).unwrap(),
                10,
                false,
                &mut body,
            )
            .unwrap();
            lines.push((head.line, body));
        }
        assert_eq!(
            lines,
            [
                ("GET /a HTTP/1.1".to_string(), vec![]),
                ("POST /b HTTP/1.1".to_string(), b"ok".to_vec()),
                ("GET /c HTTP/1.1".to_string(), vec![]),
            ]
        );
    }

    #[test]
    fn heads_are_bounded() {
        let mut big = b"GET / HTTP/1.1\r\n".to_vec();
        while big.len() <= MAX_HEAD {
            big.extend_from_slice(b"X-Filler: aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\r\n");
        }
        let err = Reader::new(Trickle(&big, 4096)).read_head().unwrap_err();
        assert!(
            matches!(err, WireError::HeadTooLarge | WireError::Malformed(_)),
            "{err}"
        );
        let mut many = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..=MAX_HEADERS {
            many.extend_from_slice(format!("X-{i}: 1\r\n").as_bytes());
        }
        many.extend_from_slice(b"\r\n");
        let err = Reader::new(Trickle(&many, 4096)).read_head().unwrap_err();
        assert!(matches!(err, WireError::HeadTooLarge), "{err}");
    }

    #[test]
    fn header_lookups() {
        let head = parse_head(
            b"GET / HTTP/1.1\r\nConnection: keep-alive, Upgrade\r\nEXPECT: 100-continue\r\n",
        )
        .unwrap();
        assert_eq!(head.header("expect"), Some("100-continue"));
        assert!(head.has_token("connection", "upgrade"));
        assert!(!head.has_token("connection", "close"));
        assert_eq!(head.header("missing"), None);
    }
}
