//! The AWS Lambda runtime API, served by pare to a function running in the
//! sandbox, so `--probe-lambda EVENT_JSON` can invoke a serverless image
//! (`python3 -m awslambdaric app.handler`, a `bootstrap` custom runtime)
//! the way Lambda does: the function's environment gets
//! `AWS_LAMBDA_RUNTIME_API=127.0.0.1:PORT` ([`RuntimeApi::address`]), it
//! asks for the next event, runs its handler and posts the result.
//!
//! The protocol is version 2018-06-01 of AWS's "Using the Lambda runtime
//! API for custom runtimes" (docs.aws.amazon.com/lambda/latest/dg/runtimes-api.html):
//!
//! - `GET /2018-06-01/runtime/invocation/next` blocks until there is an
//!   event and answers it with `Lambda-Runtime-Aws-Request-Id`,
//!   `Lambda-Runtime-Deadline-Ms`, `Lambda-Runtime-Invoked-Function-Arn`
//!   and `Lambda-Runtime-Trace-Id`;
//! - `POST /2018-06-01/runtime/invocation/{id}/response` (202);
//! - `POST /2018-06-01/runtime/invocation/{id}/error` with
//!   `{"errorMessage", "errorType", "stackTrace"}` and the
//!   `Lambda-Runtime-Function-Error-Type` header (202);
//! - `POST /2018-06-01/runtime/init/error`, the same, when the function
//!   cannot start (202);
//! - 400 `InvalidRequestID`, 403 `InvalidStateTransition`, 413
//!   `RequestEntityTooLarge` (payloads over 6,291,556 bytes, Lambda's own
//!   limit), with a JSON `{"errorMessage", "errorType"}` body.
//!
//! Events are handed out one at a time, in order, as Lambda does without
//! concurrency: a `next` while an event is out waits for its answer. After
//! the last event is answered, `next` blocks until the server is dropped,
//! which closes every connection: the runtime client then fails and the
//! function exits. Connections are HTTP/1.1 keep-alive (awslambdaric's
//! client is libcurl, which reuses one), with Content-Length or chunked
//! request bodies and `Expect: 100-continue`.

use std::collections::HashMap;
use std::collections::hash_map::RandomState;
use std::fmt;
use std::hash::{BuildHasher, Hasher};
use std::io;
use std::net::{Shutdown, SocketAddr, TcpListener, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::probe::wire::{self, Framing, Head, Reader, WireError};
use crate::probe::{ProbeOutcome, abbreviate, secs};

/// Lambda's limit on an invocation's payload, request and response alike:
/// "6 MB", which Lambda's own error messages spell 6291556 bytes.
pub const MAX_PAYLOAD: u64 = 6_291_556;

/// The function's ARN as the runtime sees it. Nothing checks it; handlers
/// that log `context.invoked_function_arn` see that pare invoked them.
pub const FUNCTION_ARN: &str = "arn:aws:lambda:us-east-1:000000000000:function:pare-probe";

/// Connections served at once: a runtime uses one or two; more is junk.
const MAX_CONNECTIONS: usize = 32;

/// How often the accept loop looks for a shutdown, and `wait_while` at
/// `is_alive`.
const POLL: Duration = Duration::from_millis(50);

/// How long after the function died its last answer may still be in
/// flight on a connection.
const EXIT_GRACE: Duration = Duration::from_millis(500);

/// What became of one event.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    /// The handler returned: its result (JSON; a body that is not JSON is
    /// kept as a string).
    Response(Value),
    /// The handler failed: `…/error`.
    Error {
        error_type: String,
        error_message: String,
    },
    /// The function could not start: `…/init/error`.
    InitError {
        error_type: String,
        error_message: String,
    },
    /// The function took the event and did not answer in time.
    NoResponse { waited: Duration },
    /// The event never reached an answer for another reason: the function
    /// never asked for it, exited, or an earlier event stopped the run.
    Unanswered(String),
}

impl Outcome {
    /// Whether the handler returned a result.
    pub fn passed(&self) -> bool {
        matches!(self, Outcome::Response(_))
    }
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Response(v) => write!(f, "response {}", abbreviate(&v.to_string())),
            Outcome::Error {
                error_type,
                error_message,
            } => write!(f, "error {error_type}: {}", abbreviate(error_message)),
            Outcome::InitError {
                error_type,
                error_message,
            } => write!(f, "init error: {error_type}: {}", abbreviate(error_message)),
            Outcome::NoResponse { waited } => write!(f, "no response within {}", secs(*waited)),
            Outcome::Unanswered(why) => f.write_str(why),
        }
    }
}

/// One event and what became of it.
#[derive(Clone, Debug, PartialEq)]
pub struct Invocation {
    /// `Lambda-Runtime-Aws-Request-Id` (a UUID, as Lambda's).
    pub request_id: String,
    pub event: Value,
    pub outcome: Outcome,
}

impl Invocation {
    /// The report's line for the `--probe-lambda` that gave this event.
    pub fn probe_outcome(&self, probe: &str) -> ProbeOutcome {
        ProbeOutcome {
            probe: probe.to_string(),
            passed: self.outcome.passed(),
            detail: self.outcome.to_string(),
        }
    }
}

/// The runtime API, serving until dropped.
pub struct RuntimeApi {
    shared: Arc<Shared>,
    address: SocketAddr,
    acceptor: Option<JoinHandle<()>>,
    started: Instant,
}

struct Shared {
    state: Mutex<State>,
    changed: Condvar,
    timeout: Duration,
    /// Clones of open connections, to shut them down on drop.
    connections: Mutex<HashMap<u64, TcpStream>>,
    handlers: Mutex<Vec<JoinHandle<()>>>,
}

struct State {
    slots: Vec<Slot>,
    /// The next event to hand out.
    next: usize,
    init_error: Option<(String, String)>,
    /// Why no more events are handed out (a timeout, the function died).
    stopped: Option<String>,
    shutdown: bool,
}

struct Slot {
    request_id: String,
    event: Value,
    handed_out: Option<Instant>,
    answered: Option<Instant>,
    outcome: Option<Outcome>,
}

impl RuntimeApi {
    /// Serves `events` on `listener` (bound in the function's network
    /// namespace, [`crate::probe::Connector::listen`]), each to be answered
    /// within `timeout` of being handed out; the first must also be asked
    /// for within `timeout` of now (the function's start-up), each later
    /// one within `timeout` of its predecessor's answer.
    pub fn serve(
        listener: TcpListener,
        events: Vec<Value>,
        timeout: Duration,
    ) -> io::Result<RuntimeApi> {
        let address = listener.local_addr()?;
        listener.set_nonblocking(true)?;
        let slots = events
            .into_iter()
            .map(|event| Slot {
                request_id: request_id(),
                event,
                handed_out: None,
                answered: None,
                outcome: None,
            })
            .collect();
        let shared = Arc::new(Shared {
            state: Mutex::new(State {
                slots,
                next: 0,
                init_error: None,
                stopped: None,
                shutdown: false,
            }),
            changed: Condvar::new(),
            timeout,
            connections: Mutex::new(HashMap::new()),
            handlers: Mutex::new(Vec::new()),
        });
        let for_acceptor = Arc::clone(&shared);
        let acceptor = thread::Builder::new()
            .name("lambda-api".into())
            .spawn(move || accept_loop(&for_acceptor, &listener))?;
        Ok(RuntimeApi {
            shared,
            address,
            acceptor: Some(acceptor),
            started: Instant::now(),
        })
    }

    /// Where the API listens: `AWS_LAMBDA_RUNTIME_API`'s value is this
    /// address as `host:port`.
    pub fn address(&self) -> SocketAddr {
        self.address
    }

    /// Waits for every event's outcome, then stops serving.
    pub fn wait(self) -> Vec<Invocation> {
        self.wait_while(&|| true)
    }

    /// Waits as [`RuntimeApi::wait`], but gives up on the events not yet
    /// answered once `is_alive` says the function died (after a short grace
    /// for an answer still on its way).
    pub fn wait_while(self, is_alive: &dyn Fn() -> bool) -> Vec<Invocation> {
        let timeout = self.shared.timeout;
        let mut died_at: Option<Instant> = None;
        let mut state = self.shared.lock();
        while let Some(index) = state.slots.iter().position(|s| s.outcome.is_none()) {
            if let Some((error_type, error_message)) = state.init_error.clone() {
                state.finish_all(Outcome::InitError {
                    error_type,
                    error_message,
                });
                break;
            }
            if let Some(why) = state.stopped.clone() {
                state.finish_all(Outcome::Unanswered(why));
                break;
            }
            let now = Instant::now();
            let slot = &state.slots[index];
            let since = match slot.handed_out {
                Some(t) => t,
                None if index == 0 => self.started,
                None => state.slots[index - 1].answered.unwrap_or(self.started),
            };
            let deadline = since + timeout;
            if now >= deadline {
                let number = index + 1;
                if slot.handed_out.is_some() {
                    state.time_out(index, timeout);
                } else {
                    state.slots[index].outcome = Some(Outcome::Unanswered(format!(
                        "the function did not ask for event {number} within {}",
                        secs(timeout)
                    )));
                    state.stopped = Some(format!(
                        "not delivered: the function did not ask for event {number}"
                    ));
                }
                self.shared.changed.notify_all();
                continue;
            }
            if died_at.is_none() && !is_alive() {
                died_at = Some(now);
            }
            if let Some(died) = died_at
                && now >= died + EXIT_GRACE
            {
                state.stopped = Some("the function exited before answering".into());
                continue;
            }
            let wake = deadline.min(now + POLL) - now;
            state = self
                .shared
                .changed
                .wait_timeout(state, wake)
                .unwrap_or_else(|e| e.into_inner())
                .0;
        }
        let invocations = state
            .slots
            .iter()
            .map(|s| Invocation {
                request_id: s.request_id.clone(),
                event: s.event.clone(),
                outcome: s
                    .outcome
                    .clone()
                    .unwrap_or_else(|| Outcome::Unanswered("not delivered".into())),
            })
            .collect();
        drop(state);
        invocations
    }
}

impl Drop for RuntimeApi {
    fn drop(&mut self) {
        self.shared.lock().shutdown = true;
        self.shared.changed.notify_all();
        // The acceptor first, so no connection is registered after the
        // shutdown below.
        if let Some(acceptor) = self.acceptor.take() {
            let _ = acceptor.join();
        }
        for stream in self
            .shared
            .connections
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .values()
        {
            let _ = stream.shutdown(Shutdown::Both);
        }
        let handlers = std::mem::take(
            &mut *self
                .shared
                .handlers
                .lock()
                .unwrap_or_else(|e| e.into_inner()),
        );
        for handler in handlers {
            let _ = handler.join();
        }
    }
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A handler thread that panicked must not take the API down.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

impl State {
    /// The event at `index` was handed out and not answered within
    /// `timeout`: so recorded, and nothing more is handed out, since a
    /// function stuck in one invocation would not take the next.
    fn time_out(&mut self, index: usize, timeout: Duration) {
        self.slots[index].outcome = Some(Outcome::NoResponse { waited: timeout });
        self.stopped = Some(format!(
            "not delivered: event {} got no response within {}",
            index + 1,
            secs(timeout)
        ));
    }

    fn finish_all(&mut self, outcome: Outcome) {
        for slot in &mut self.slots {
            if slot.outcome.is_none() {
                slot.outcome = Some(outcome.clone());
            }
        }
    }
}

fn accept_loop(shared: &Arc<Shared>, listener: &TcpListener) {
    let mut ids = 0u64;
    loop {
        if shared.lock().shutdown {
            return;
        }
        match listener.accept() {
            Ok((stream, _)) => {
                let mut connections = shared.connections.lock().unwrap_or_else(|e| e.into_inner());
                let clone = stream.try_clone();
                if connections.len() >= MAX_CONNECTIONS || stream.set_nonblocking(false).is_err() {
                    continue;
                }
                let Ok(clone) = clone else { continue };
                ids += 1;
                let id = ids;
                connections.insert(id, clone);
                drop(connections);
                let _ = stream.set_nodelay(true);
                let for_handler = Arc::clone(shared);
                let spawned =
                    thread::Builder::new()
                        .name("lambda-api-conn".into())
                        .spawn(move || {
                            serve_connection(&for_handler, &stream);
                            let _ = stream.shutdown(Shutdown::Both);
                            for_handler
                                .connections
                                .lock()
                                .unwrap_or_else(|e| e.into_inner())
                                .remove(&id);
                        });
                let mut handlers = shared.handlers.lock().unwrap_or_else(|e| e.into_inner());
                handlers.retain(|h| !h.is_finished());
                match spawned {
                    Ok(handle) => handlers.push(handle),
                    Err(_) => {
                        shared
                            .connections
                            .lock()
                            .unwrap_or_else(|e| e.into_inner())
                            .remove(&id);
                    }
                }
            }
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => thread::sleep(POLL),
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            // ECONNABORTED, EMFILE: wait and go on rather than stop serving.
            Err(_) => thread::sleep(POLL),
        }
    }
}

/// What a request asks for.
#[derive(Debug, PartialEq, Eq)]
enum Route {
    Next,
    Response(String),
    Error(String),
    InitError,
    /// A path of the API with another method.
    WrongMethod,
    Unknown,
}

fn route(method: &str, target: &str) -> Route {
    // Absolute-form targets (http://host/path) name the same resource.
    let target = match target.split_once("://") {
        Some((_, rest)) => rest.find('/').map_or("/", |i| &rest[i..]),
        None => target,
    };
    let path = target.split(['?', '#']).next().unwrap_or("");
    let Some(rest) = path.strip_prefix("/2018-06-01/runtime/") else {
        return Route::Unknown;
    };
    let parts: Vec<&str> = rest.split('/').collect();
    let (wanted, found) = match parts.as_slice() {
        ["invocation", "next"] => ("GET", Route::Next),
        ["invocation", id, "response"] if !id.is_empty() => {
            ("POST", Route::Response(id.to_string()))
        }
        ["invocation", id, "error"] if !id.is_empty() => ("POST", Route::Error(id.to_string())),
        ["init", "error"] => ("POST", Route::InitError),
        _ => return Route::Unknown,
    };
    if method == wanted {
        found
    } else {
        Route::WrongMethod
    }
}

/// An answer to one request.
struct Reply {
    status: u16,
    reason: &'static str,
    headers: Vec<(&'static str, String)>,
    body: Vec<u8>,
    /// Close the connection after it (the request's body was not read).
    close: bool,
}

impl Reply {
    fn json(status: u16, reason: &'static str, body: &Value) -> Reply {
        Reply {
            status,
            reason,
            headers: vec![("Content-Type", "application/json".into())],
            body: body.to_string().into_bytes(),
            close: false,
        }
    }

    fn accepted() -> Reply {
        Reply::json(202, "Accepted", &json!({"status": "OK"}))
    }

    fn error(status: u16, reason: &'static str, error_type: &str, message: &str) -> Reply {
        Reply::json(
            status,
            reason,
            &json!({"errorMessage": message, "errorType": error_type}),
        )
    }

    fn closing(mut self) -> Reply {
        self.close = true;
        self
    }
}

fn serve_connection(shared: &Shared, stream: &TcpStream) {
    let mut reader = Reader::new(stream);
    loop {
        let head = match reader.read_head() {
            Ok(Some(head)) => head,
            Ok(None) | Err(WireError::Io(_)) => return,
            Err(e) => {
                let reply = Reply::error(400, "Bad Request", "InvalidRequest", &e.to_string());
                let _ = send(stream, reply.closing(), true);
                return;
            }
        };
        let Some((method, target, keep_alive)) = request_line(&head) else {
            let reply = Reply::error(400, "Bad Request", "InvalidRequest", "bad request line");
            let _ = send(stream, reply.closing(), true);
            return;
        };
        let reply = match handle(shared, &mut reader, stream, &head, &method, &target) {
            Some(reply) => reply,
            // Shut down while waiting for an event.
            None => return,
        };
        let close = reply.close || !keep_alive;
        if send(stream, reply, close).is_err() || close {
            return;
        }
    }
}

/// Method, target, and whether the connection stays open after this
/// request (HTTP/1.1 unless `Connection: close`; HTTP/1.0 only with
/// `Connection: keep-alive`).
fn request_line(head: &Head) -> Option<(String, String, bool)> {
    let mut parts = head.line.split(' ');
    let (method, target, version) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || method.is_empty() || target.is_empty() {
        return None;
    }
    let keep_alive = match version {
        "HTTP/1.1" => !head.has_token("connection", "close"),
        "HTTP/1.0" => head.has_token("connection", "keep-alive"),
        _ => return None,
    };
    Some((method.to_string(), target.to_string(), keep_alive))
}

fn send(stream: &TcpStream, reply: Reply, close: bool) -> io::Result<()> {
    let headers: Vec<(&str, &str)> = reply
        .headers
        .iter()
        .map(|(n, v)| (*n, v.as_str()))
        .collect();
    let mut out = stream;
    wire::write_response(
        &mut out,
        reply.status,
        reply.reason,
        &headers,
        &reply.body,
        close,
    )
}

/// Reads the request's body and answers it; `None` when the server shut
/// down while the request waited.
fn handle(
    shared: &Shared,
    reader: &mut Reader<&TcpStream>,
    stream: &TcpStream,
    head: &Head,
    method: &str,
    target: &str,
) -> Option<Reply> {
    let route = route(method, target);
    let framing = match head.framing(Framing::Length(0)) {
        Ok(f) => f,
        Err(e) => {
            return Some(
                Reply::error(400, "Bad Request", "InvalidRequest", &e.to_string()).closing(),
            );
        }
    };
    let too_large = || {
        Reply::error(
            413,
            "Payload Too Large",
            "RequestEntityTooLarge",
            &format!("Exceeded maximum allowed payload size ({MAX_PAYLOAD} bytes)."),
        )
        .closing()
    };
    let has_body = !matches!(framing, Framing::Length(0));
    if matches!(framing, Framing::Length(n) if n > MAX_PAYLOAD) {
        record_too_large(shared, &route);
        return Some(too_large());
    }
    if has_body && head.has_token("expect", "100-continue") {
        let mut out = stream;
        if io::Write::write_all(&mut out, b"HTTP/1.1 100 Continue\r\n\r\n").is_err() {
            return Some(Reply::error(400, "Bad Request", "InvalidRequest", "").closing());
        }
    }
    let mut body = Vec::new();
    match reader.read_body(framing, MAX_PAYLOAD, false, &mut body) {
        Ok(_) => {}
        Err(WireError::BodyTooLarge(_)) => {
            record_too_large(shared, &route);
            return Some(too_large());
        }
        Err(e) => {
            return Some(
                Reply::error(400, "Bad Request", "InvalidRequest", &e.to_string()).closing(),
            );
        }
    }
    let reply = match route {
        Route::Next => return next_event(shared),
        Route::Response(id) => answer(shared, &id, || {
            Outcome::Response(
                serde_json::from_slice(&body)
                    .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&body).into_owned())),
            )
        }),
        Route::Error(id) => answer(shared, &id, || {
            let (error_type, error_message) = error_report(head, &body);
            Outcome::Error {
                error_type,
                error_message,
            }
        }),
        Route::InitError => init_error(shared, head, &body),
        Route::WrongMethod => Reply::error(
            405,
            "Method Not Allowed",
            "MethodNotAllowed",
            &format!("{method} is not allowed on {target}"),
        ),
        Route::Unknown => Reply::error(
            404,
            "Not Found",
            "NotFound",
            &format!("no such runtime API resource: {}", abbreviate(target)),
        ),
    };
    Some(reply)
}

/// Blocks until the next event can be handed out, and hands it out.
fn next_event(shared: &Shared) -> Option<Reply> {
    let mut state = shared.lock();
    loop {
        if state.shutdown {
            return None;
        }
        let next = state.next;
        let ready = state.init_error.is_none()
            && state.stopped.is_none()
            && next < state.slots.len()
            && (next == 0 || state.slots[next - 1].outcome.is_some());
        if ready {
            let now = Instant::now();
            let slot = &mut state.slots[next];
            slot.handed_out = Some(now);
            let deadline = SystemTime::now() + shared.timeout;
            let deadline_ms = deadline
                .duration_since(UNIX_EPOCH)
                .map_or(0, |d| d.as_millis());
            let reply = Reply {
                status: 200,
                reason: "OK",
                headers: vec![
                    ("Content-Type", "application/json".into()),
                    ("Lambda-Runtime-Aws-Request-Id", slot.request_id.clone()),
                    ("Lambda-Runtime-Deadline-Ms", deadline_ms.to_string()),
                    ("Lambda-Runtime-Invoked-Function-Arn", FUNCTION_ARN.into()),
                    ("Lambda-Runtime-Trace-Id", trace_id()),
                ],
                body: slot.event.to_string().into_bytes(),
                close: false,
            };
            state.next += 1;
            shared.changed.notify_all();
            return Some(reply);
        }
        state = shared
            .changed
            .wait(state)
            .unwrap_or_else(|e| e.into_inner());
    }
}

/// Records the answer to the event `id`, once.
fn answer(shared: &Shared, id: &str, outcome: impl FnOnce() -> Outcome) -> Reply {
    let mut state = shared.lock();
    let Some(index) = state
        .slots
        .iter()
        .position(|s| s.request_id == id && s.handed_out.is_some())
    else {
        return Reply::error(
            400,
            "Bad Request",
            "InvalidRequestID",
            &format!("no invocation {} is waiting for an answer", abbreviate(id)),
        );
    };
    // Past its deadline the answer comes too late, as in Lambda, whether
    // or not the waiter has noticed yet.
    let late = state.slots[index]
        .handed_out
        .is_some_and(|t| t.elapsed() > shared.timeout);
    if late && state.slots[index].outcome.is_none() {
        state.time_out(index, shared.timeout);
        shared.changed.notify_all();
    }
    let slot = &mut state.slots[index];
    if slot.outcome.is_some() {
        return Reply::error(
            403,
            "Forbidden",
            "InvalidStateTransition",
            &format!("invocation {id} was already answered or timed out"),
        );
    }
    slot.outcome = Some(outcome());
    slot.answered = Some(Instant::now());
    shared.changed.notify_all();
    Reply::accepted()
}

/// A response over the limit is the invocation's failure, as in Lambda.
fn record_too_large(shared: &Shared, route: &Route) {
    if let Route::Response(id) = route {
        answer(shared, id, || Outcome::Error {
            error_type: "Function.ResponseSizeTooLarge".into(),
            error_message: format!(
                "Response payload size exceeded maximum allowed payload size ({MAX_PAYLOAD} bytes)."
            ),
        });
    }
}

fn init_error(shared: &Shared, head: &Head, body: &[u8]) -> Reply {
    let mut state = shared.lock();
    if state.init_error.is_some() || state.next > 0 {
        return Reply::error(
            403,
            "Forbidden",
            "InvalidStateTransition",
            "an init error is only accepted once, before the first invocation",
        );
    }
    state.init_error = Some(error_report(head, body));
    shared.changed.notify_all();
    Reply::accepted()
}

/// The error type and message of an error report: the JSON body's
/// `errorType` and `errorMessage`, else the
/// `Lambda-Runtime-Function-Error-Type` header and the body as text.
fn error_report(head: &Head, body: &[u8]) -> (String, String) {
    let header_type = head
        .header("lambda-runtime-function-error-type")
        .filter(|t| !t.is_empty())
        .map(str::to_string);
    let parsed: Option<Value> = serde_json::from_slice(body).ok();
    let field = |name: &str| {
        parsed
            .as_ref()
            .and_then(|v| v.get(name))
            .and_then(Value::as_str)
            .map(str::to_string)
    };
    let error_type = field("errorType")
        .or(header_type)
        .unwrap_or_else(|| "Unknown".into());
    let error_message = field("errorMessage").unwrap_or_else(|| {
        if parsed.is_some() {
            String::new()
        } else {
            String::from_utf8_lossy(body).trim().to_string()
        }
    });
    (error_type, error_message)
}

/// 64 bits that differ between calls and runs (std's hasher keys are
/// random per process and per call).
fn random_u64() -> u64 {
    static COUNTER: AtomicU64 = AtomicU64::new(0);
    let mut hasher = RandomState::new().build_hasher();
    hasher.write_u64(COUNTER.fetch_add(1, Ordering::Relaxed));
    hasher.write_u128(
        SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    hasher.finish()
}

/// A version-4 UUID, the form of Lambda's request ids.
fn request_id() -> String {
    let (a, b) = (random_u64(), random_u64());
    let bits = (u128::from(a) << 64 | u128::from(b)) & !(0xf << 76) & !(0x3 << 62);
    let bits = bits | (0x4 << 76) | (0x2 << 62);
    let hex = format!("{bits:032x}");
    format!(
        "{}-{}-{}-{}-{}",
        &hex[..8],
        &hex[8..12],
        &hex[12..16],
        &hex[16..20],
        &hex[20..]
    )
}

/// An X-Ray trace header: `Root=1-{epoch seconds}-{96 random bits}`, not
/// sampled (nothing collects it).
fn trace_id() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format!(
        "Root=1-{:08x}-{:08x}{:016x};Parent={:016x};Sampled=0",
        secs as u32,
        random_u64() as u32,
        random_u64(),
        random_u64()
    )
}

#[cfg(test)]
mod tests;
