//! Probes: what exercises the app while it is traced, and proves the
//! minified image still works when run again (`--verify`).
//!
//! A probe reaches the app from outside, over its loopback: `--probe-http
//! PORT[/PATH]` sends a GET, the default for exposed ports waits until each
//! accepts connections and sends `GET /` where the port speaks HTTP,
//! `--probe-cmd` runs a client (the sandbox runs it), `--probe-lambda`
//! hands the function an event through pare's own Lambda runtime API
//! ([`crate::lambda`]).
//!
//! The app's loopback is its own network namespace's, which the host's
//! sockets cannot reach, so every socket a probe makes comes from a
//! [`Connector`]: the sandbox's makes them inside that namespace,
//! [`Loopback`] on the host's (tests, and apps run without a sandbox).

pub(crate) mod wire;

use std::fmt;
use std::io::{self, Write};
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::str::FromStr;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use serde_json::Value;

use wire::{Deadlined, Framing, Reader, WireError};

/// The most of an answer's body [`http_get`] keeps: enough to show in a
/// report what a server said, not to store what it serves.
pub const BODY_CAP: u64 = 64 * 1024;

/// Makes the sockets probes use, where the app's loopback is.
pub trait Connector: Sync {
    /// A TCP connection to `port` on the app's loopback (127.0.0.1, or
    /// ::1 for an app that listens only there), given up after `timeout`.
    fn connect(&self, port: u16, timeout: Duration) -> io::Result<TcpStream>;

    /// A listener bound on 127.0.0.1:0 of the app's loopback, for servers
    /// pare runs for the app (the Lambda runtime API).
    fn listen(&self) -> io::Result<TcpListener>;
}

/// The host's own loopback: for tests, and for an app that shares the
/// host's network.
#[derive(Clone, Copy, Debug, Default)]
pub struct Loopback;

impl Connector for Loopback {
    fn connect(&self, port: u16, timeout: Duration) -> io::Result<TcpStream> {
        // connect_timeout refuses a zero timeout.
        let timeout = timeout.max(Duration::from_millis(1));
        let v4 = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        match TcpStream::connect_timeout(&v4, timeout) {
            // A refusal is immediate, so trying ::1 costs nothing.
            Err(e) if e.kind() == io::ErrorKind::ConnectionRefused => {
                let v6 = SocketAddr::from((Ipv6Addr::LOCALHOST, port));
                TcpStream::connect_timeout(&v6, timeout).map_err(|_| e)
            }
            other => other,
        }
    }

    fn listen(&self) -> io::Result<TcpListener> {
        TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
    }
}

/// Why a probe's text on the command line is not a probe.
#[derive(Debug, thiserror::Error)]
pub enum ProbeParseError {
    #[error("--probe-http {text:?}: {reason} (expected PORT[/PATH], e.g. 80 or 8080/healthz)")]
    Http { text: String, reason: &'static str },
    #[error("--probe-cmd needs a command, e.g. --probe-cmd 'redis-cli ping'")]
    EmptyCommand,
    #[error("--probe-cmd {0:?}: a command cannot hold a NUL byte")]
    NulInCommand(String),
    #[error(
        "--probe-lambda {text}: not JSON ({reason}); expected the event as JSON text, or @FILE"
    )]
    Event { text: String, reason: String },
    #[error("--probe-lambda @{}: {source}", path.display())]
    EventFile { path: PathBuf, source: io::Error },
    #[error(
        "--probe-lambda {text}: the event is {size} bytes, over Lambda's limit of {} bytes",
        crate::lambda::MAX_PAYLOAD
    )]
    EventTooLarge { text: String, size: u64 },
}

/// `--probe-http PORT[/PATH]`: a GET of PATH (default `/`) on PORT.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpProbe {
    pub port: u16,
    /// Starts with `/`; visible ASCII only, as it goes on the request line.
    pub path: String,
}

impl FromStr for HttpProbe {
    type Err = ProbeParseError;

    fn from_str(text: &str) -> Result<HttpProbe, ProbeParseError> {
        let fail = |reason| ProbeParseError::Http {
            text: text.to_string(),
            reason,
        };
        let (port_text, path) = match text.find('/') {
            Some(i) => (&text[..i], &text[i..]),
            None => (text, "/"),
        };
        if port_text.is_empty() {
            return Err(fail("no port"));
        }
        if !port_text.bytes().all(|b| b.is_ascii_digit()) {
            return Err(fail("the port is not a number"));
        }
        let port = match port_text.parse::<u32>() {
            Ok(0) => return Err(fail("port 0 is no port a server listens on")),
            Ok(p) if p <= u32::from(u16::MAX) => p as u16,
            _ => return Err(fail("the port is over 65535")),
        };
        if path.bytes().any(|b| b == b' ' || b == b'\t') {
            return Err(fail("the path has a space (percent-encode it as %20)"));
        }
        if path.bytes().any(|b| b.is_ascii_control()) {
            return Err(fail("the path has a control character"));
        }
        if !path.is_ascii() {
            return Err(fail(
                "the path has non-ASCII characters (percent-encode them)",
            ));
        }
        if path.contains('#') {
            return Err(fail(
                "the path has a #fragment, which is never sent to a server",
            ));
        }
        Ok(HttpProbe {
            port,
            path: path.to_string(),
        })
    }
}

impl fmt::Display for HttpProbe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path == "/" {
            write!(f, "{}", self.port)
        } else {
            write!(f, "{}{}", self.port, self.path)
        }
    }
}

/// `--probe-cmd CMD`: a client command the sandbox runs from the original
/// image's root in the app's network namespace (`redis-cli ping`).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CmdProbe(pub String);

impl FromStr for CmdProbe {
    type Err = ProbeParseError;

    fn from_str(text: &str) -> Result<CmdProbe, ProbeParseError> {
        if text.trim().is_empty() {
            return Err(ProbeParseError::EmptyCommand);
        }
        if text.contains('\0') {
            return Err(ProbeParseError::NulInCommand(text.to_string()));
        }
        Ok(CmdProbe(text.to_string()))
    }
}

/// `--probe-lambda EVENT_JSON`: one event for the function, inline JSON
/// or `@FILE`. The file is read when parsed, so a missing one is an error
/// before anything runs.
#[derive(Clone, Debug, PartialEq)]
pub struct LambdaProbe {
    pub event: Value,
    /// As written: the JSON text, or `@FILE`.
    pub source: String,
}

impl FromStr for LambdaProbe {
    type Err = ProbeParseError;

    fn from_str(text: &str) -> Result<LambdaProbe, ProbeParseError> {
        let limit = crate::lambda::MAX_PAYLOAD;
        let bytes = match text.strip_prefix('@') {
            Some(file) => {
                let path = PathBuf::from(file);
                let read = std::fs::File::open(&path).and_then(|f| {
                    let mut bytes = Vec::new();
                    io::Read::read_to_end(&mut io::Read::take(f, limit + 1), &mut bytes)?;
                    Ok(bytes)
                });
                read.map_err(|source| ProbeParseError::EventFile { path, source })?
            }
            None => text.as_bytes().to_vec(),
        };
        if bytes.len() as u64 > limit {
            return Err(ProbeParseError::EventTooLarge {
                text: abbreviate(text),
                size: bytes.len() as u64,
            });
        }
        let event = serde_json::from_slice(&bytes).map_err(|e| ProbeParseError::Event {
            text: abbreviate(text),
            reason: e.to_string(),
        })?;
        Ok(LambdaProbe {
            event,
            source: text.to_string(),
        })
    }
}

/// What exercises the app, as given on the command line.
#[derive(Clone, Debug, PartialEq)]
pub enum Probe {
    Http(HttpProbe),
    Cmd(CmdProbe),
    Lambda(LambdaProbe),
}

impl Probe {
    /// `--probe-http`'s argument.
    pub fn http(text: &str) -> Result<Probe, ProbeParseError> {
        text.parse().map(Probe::Http)
    }

    /// `--probe-cmd`'s argument.
    pub fn cmd(text: &str) -> Result<Probe, ProbeParseError> {
        text.parse().map(Probe::Cmd)
    }

    /// `--probe-lambda`'s argument.
    pub fn lambda(text: &str) -> Result<Probe, ProbeParseError> {
        text.parse().map(Probe::Lambda)
    }

    /// The probe as the user wrote it, for reports: `--probe-http 8080/healthz`.
    pub fn describe(&self) -> String {
        match self {
            Probe::Http(p) => format!("--probe-http {p}"),
            Probe::Cmd(p) => format!("--probe-cmd {}", p.0),
            Probe::Lambda(p) => format!("--probe-lambda {}", abbreviate(&p.source)),
        }
    }
}

/// How one probe went, for the minify report and `--verify`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProbeOutcome {
    /// The probe as the user wrote it (or `port 80 (exposed)` for a default).
    pub probe: String,
    pub passed: bool,
    /// What happened: the status, the answer, or why it failed.
    pub detail: String,
}

/// Why a probe got no usable answer.
#[derive(Debug, thiserror::Error)]
pub enum ProbeError {
    #[error("port {port} never accepted a connection within {}", secs(*waited))]
    PortNeverOpened { port: u16, waited: Duration },
    #[error("the app exited before port {port} accepted a connection")]
    AppExited { port: u16 },
    #[error("could not connect to port {port}: {source}")]
    Connect { port: u16, source: io::Error },
    #[error("GET {path} on port {port}: no answer within {}", secs(*waited))]
    NoAnswer {
        port: u16,
        path: String,
        waited: Duration,
    },
    #[error("GET {path} on port {port}: the server closed the connection without answering")]
    Closed { port: u16, path: String },
    #[error("GET {path} on port {port}: the answer is not HTTP (it begins {start})")]
    NotHttp {
        port: u16,
        path: String,
        start: String,
    },
    #[error("GET {path} on port {port}: malformed HTTP answer: {reason}")]
    Malformed {
        port: u16,
        path: String,
        reason: String,
    },
    #[error("GET {path} on port {port}: {source}")]
    Io {
        port: u16,
        path: String,
        source: io::Error,
    },
}

/// A server's answer to a GET.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct HttpAnswer {
    pub status: u16,
    pub reason: String,
    pub headers: Vec<(String, String)>,
    /// At most [`BODY_CAP`] bytes.
    pub body: Vec<u8>,
    /// The body went on past the cap (or past the deadline, for a server
    /// that streams): `body` is its beginning.
    pub truncated: bool,
}

impl HttpAnswer {
    /// The first header of that name (names compare without case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// Waits until `port` accepts a connection, polling; how long it took.
///
/// Stops early when `is_alive` says the app died: a server that crashed at
/// start-up will not open its port later, and saying so at once (with the
/// app's output, which the sandbox shows) beats a timeout.
pub fn wait_for_port(
    connector: &dyn Connector,
    port: u16,
    timeout: Duration,
    is_alive: &dyn Fn() -> bool,
) -> Result<Duration, ProbeError> {
    let start = Instant::now();
    let mut pause = Duration::from_millis(10);
    loop {
        if !is_alive() {
            return Err(ProbeError::AppExited { port });
        }
        let left = timeout.saturating_sub(start.elapsed());
        if left.is_zero() {
            return Err(ProbeError::PortNeverOpened {
                port,
                waited: timeout,
            });
        }
        if connector
            .connect(port, left.min(Duration::from_secs(1)))
            .is_ok()
        {
            return Ok(start.elapsed());
        }
        let left = timeout.saturating_sub(start.elapsed());
        std::thread::sleep(pause.min(left));
        pause = (pause * 2).min(Duration::from_millis(200));
    }
}

/// GET `path` on `port` with HTTP/1.1 (`Host: localhost`, `Connection:
/// close`), everything within `timeout`.
pub fn http_get(
    connector: &dyn Connector,
    port: u16,
    path: &str,
    timeout: Duration,
) -> Result<HttpAnswer, ProbeError> {
    let deadline = Instant::now() + timeout;
    let no_answer = || ProbeError::NoAnswer {
        port,
        path: path.to_string(),
        waited: timeout,
    };
    let io_error = |source: io::Error| {
        if wire::is_timeout(&source) {
            no_answer()
        } else {
            ProbeError::Io {
                port,
                path: path.to_string(),
                source,
            }
        }
    };
    let stream = connector.connect(port, timeout).map_err(|source| {
        if wire::is_timeout(&source) {
            no_answer()
        } else {
            ProbeError::Connect { port, source }
        }
    })?;
    send_get(&stream, port, path, deadline).map_err(io_error)?;

    let mut reader = Reader::new(Deadlined {
        stream: &stream,
        deadline,
    });
    // The first bytes tell HTTP from anything else (redis says -ERR).
    let got_prefix = reader.fill_to(5).map_err(io_error);
    let start = reader.buffered();
    let looks_http = b"HTTP/".starts_with(&start[..start.len().min(5)]);
    if !start.is_empty() && !looks_http {
        return Err(ProbeError::NotHttp {
            port,
            path: path.to_string(),
            start: abbreviate_bytes(start),
        });
    }
    if !got_prefix? {
        return Err(if start.is_empty() {
            ProbeError::Closed {
                port,
                path: path.to_string(),
            }
        } else {
            ProbeError::Malformed {
                port,
                path: path.to_string(),
                reason: "the connection closed in the middle of the status line".into(),
            }
        });
    }

    let malformed = |reason: String| ProbeError::Malformed {
        port,
        path: path.to_string(),
        reason,
    };
    let wire_error = |e: WireError| match e {
        WireError::Io(source) => io_error(source),
        other => malformed(other.to_string()),
    };
    // Interim 1xx answers come before the real one.
    let (head, status, reason) = loop {
        let head = reader
            .read_head()
            .map_err(wire_error)?
            .ok_or_else(|| malformed("the connection closed before the answer".into()))?;
        let (status, reason) = status_line(&head.line)
            .ok_or_else(|| malformed(format!("bad status line {:?}", abbreviate(&head.line))))?;
        if (100..200).contains(&status) && status != 101 {
            continue;
        }
        break (head, status, reason);
    };
    let framing = if (100..200).contains(&status) || status == 204 || status == 304 {
        Framing::Length(0)
    } else {
        head.framing(Framing::UntilClose).map_err(wire_error)?
    };
    let mut body = Vec::new();
    let truncated = match reader.read_body(framing, BODY_CAP, true, &mut body) {
        Ok(cut) => cut,
        // A server that streams (or stalls) after its head still answered.
        Err(e) if e.is_timeout() => true,
        Err(e) => return Err(wire_error(e)),
    };
    Ok(HttpAnswer {
        status,
        reason,
        headers: head.headers,
        body,
        truncated,
    })
}

fn send_get(stream: &TcpStream, port: u16, path: &str, deadline: Instant) -> io::Result<()> {
    let left = deadline.saturating_duration_since(Instant::now());
    if left.is_zero() {
        return Err(io::ErrorKind::TimedOut.into());
    }
    stream.set_write_timeout(Some(left))?;
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: localhost:{port}\r\nUser-Agent: pare-probe\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    );
    (&*stream).write_all(request.as_bytes())
}

/// `HTTP/1.1 404 Not Found` → (404, "Not Found").
fn status_line(line: &str) -> Option<(u16, String)> {
    let rest = line.strip_prefix("HTTP/")?;
    let (version, rest) = rest.split_once(' ')?;
    if !version.bytes().all(|b| b.is_ascii_digit() || b == b'.') {
        return None;
    }
    let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
    if code.len() != 3 || !code.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let status: u16 = code.parse().ok()?;
    (100..600)
        .contains(&status)
        .then(|| (status, reason.trim().to_string()))
}

/// Whether `port` speaks HTTP: a GET / there is answered with `HTTP/`
/// within `timeout`. Only the first bytes count, so a server that answers
/// and then streams, or closes early, still speaks it; redis, which
/// answers `-ERR` and hangs up, does not.
pub fn speaks_http(connector: &dyn Connector, port: u16, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    let Ok(stream) = connector.connect(port, timeout) else {
        return false;
    };
    if send_get(&stream, port, "/", deadline).is_err() {
        return false;
    }
    let mut reader = Reader::new(Deadlined {
        stream: &stream,
        deadline,
    });
    let _ = reader.fill_to(5);
    reader.buffered().starts_with(b"HTTP/")
}

/// Runs `--probe-http`: waits for the port (up to `timeout`, stopping if
/// the app dies), then GETs the path (again up to `timeout`).
///
/// Any status under 500 passes: a 404 or a 401 still proves that the server
/// started, read its configuration, accepted the connection and answered —
/// what minifying can break — while which path exists is the app's
/// business. A 5xx is the server saying it is broken (a missing module, an
/// upstream it cannot reach), so it fails. The status is recorded either way.
pub fn run_http_probe(
    connector: &dyn Connector,
    probe: &HttpProbe,
    timeout: Duration,
    is_alive: &dyn Fn() -> bool,
) -> ProbeOutcome {
    let name = Probe::Http(probe.clone()).describe();
    if let Err(e) = wait_for_port(connector, probe.port, timeout, is_alive) {
        return failed(name, e.to_string());
    }
    get_outcome(connector, name, probe.port, &probe.path, timeout)
}

/// The default probe of an exposed port: wait until it accepts
/// connections, then `GET /` if it speaks HTTP (passing as
/// [`run_http_probe`] does); a port that does not speak HTTP passes by
/// accepting connections.
pub fn run_port_probe(
    connector: &dyn Connector,
    port: u16,
    timeout: Duration,
    is_alive: &dyn Fn() -> bool,
) -> ProbeOutcome {
    let name = format!("port {port} (exposed)");
    let waited = match wait_for_port(connector, port, timeout, is_alive) {
        Ok(waited) => waited,
        Err(e) => return failed(name, e.to_string()),
    };
    if speaks_http(connector, port, timeout) {
        return get_outcome(connector, name, port, "/", timeout);
    }
    ProbeOutcome {
        probe: name,
        passed: true,
        detail: format!(
            "accepts connections (after {}); does not speak HTTP",
            secs(waited)
        ),
    }
}

fn get_outcome(
    connector: &dyn Connector,
    name: String,
    port: u16,
    path: &str,
    timeout: Duration,
) -> ProbeOutcome {
    match http_get(connector, port, path, timeout) {
        Ok(answer) => {
            let passed = answer.status < 500;
            let mut detail = format!("GET {path} on port {port}: {}", answer.status);
            if !answer.reason.is_empty() {
                detail.push(' ');
                detail.push_str(&answer.reason);
            }
            detail.push_str(&format!(
                " ({}{} bytes)",
                answer.body.len(),
                if answer.truncated { "+" } else { "" }
            ));
            if !passed {
                detail.push_str(": a server error");
                let text = String::from_utf8_lossy(&answer.body);
                let text = text.trim();
                if !text.is_empty() {
                    detail.push_str(&format!(": {}", abbreviate(text)));
                }
            }
            ProbeOutcome {
                probe: name,
                passed,
                detail,
            }
        }
        Err(e) => failed(name, e.to_string()),
    }
}

fn failed(probe: String, detail: String) -> ProbeOutcome {
    ProbeOutcome {
        probe,
        passed: false,
        detail,
    }
}

/// `10s`, `2.5s`, `250ms`.
pub(crate) fn secs(d: Duration) -> String {
    if d < Duration::from_secs(1) {
        format!("{}ms", d.as_millis())
    } else if d.subsec_millis() == 0 {
        format!("{}s", d.as_secs())
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

/// Text short enough for a one-line message.
pub(crate) fn abbreviate(text: &str) -> String {
    const MAX: usize = 80;
    let line: String = text
        .chars()
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect();
    if line.chars().count() <= MAX {
        line
    } else {
        let cut: String = line.chars().take(MAX).collect();
        format!("{cut}…")
    }
}

/// The first bytes of an answer, quoted, with anything not printable
/// escaped as Rust would (`\r`, `\x00`).
fn abbreviate_bytes(bytes: &[u8]) -> String {
    let shown = &bytes[..bytes.len().min(40)];
    let mut text = String::from("\"");
    for &b in shown {
        match b {
            b'"' | b'\\' => {
                text.push('\\');
                text.push(b as char);
            }
            b' '..=b'~' => text.push(b as char),
            _ => text.extend(std::ascii::escape_default(b).map(char::from)),
        }
    }
    text.push('"');
    if bytes.len() > shown.len() {
        text.push('…');
    }
    text
}

#[cfg(test)]
mod tests;
