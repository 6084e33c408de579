use std::io::Write;

use super::*;
use crate::probe::{Connector, Loopback};

/// The function's side of the protocol over one keep-alive connection, as
/// a runtime client speaks it.
struct Function {
    stream: TcpStream,
    reader: Reader<TcpStream>,
}

struct Answer {
    status: u16,
    head: Head,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
}

impl Function {
    fn connect(api: &RuntimeApi) -> Function {
        let stream = TcpStream::connect(api.address()).unwrap();
        stream
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let reader = Reader::new(stream.try_clone().unwrap());
        Function { stream, reader }
    }

    fn send(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).unwrap();
    }

    /// The next answer on the connection; `None` when the server closed it.
    fn answer(&mut self) -> Option<Answer> {
        let head = match self.reader.read_head() {
            Ok(Some(head)) => head,
            Ok(None) => return None,
            Err(WireError::Io(e)) if e.kind() == io::ErrorKind::ConnectionReset => return None,
            Err(e) => panic!("reading an answer: {e}"),
        };
        let status = head.line.split(' ').nth(1).unwrap().parse().unwrap();
        let mut body = Vec::new();
        if status != 100 {
            let framing = head.framing(Framing::Length(0)).unwrap();
            self.reader
                .read_body(framing, MAX_PAYLOAD, false, &mut body)
                .unwrap();
        }
        Some(Answer { status, head, body })
    }

    fn request(&mut self, method: &str, path: &str, headers: &[&str], body: &[u8]) -> Answer {
        let mut message = format!("{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n");
        for header in headers {
            message.push_str(header);
            message.push_str("\r\n");
        }
        if !headers.iter().any(|h| h.starts_with("Transfer-Encoding")) {
            message.push_str(&format!("Content-Length: {}\r\n", body.len()));
        }
        message.push_str("\r\n");
        let mut bytes = message.into_bytes();
        bytes.extend_from_slice(body);
        self.send(&bytes);
        self.answer().expect("an answer")
    }

    fn next(&mut self) -> Answer {
        self.request("GET", "/2018-06-01/runtime/invocation/next", &[], b"")
    }

    fn respond(&mut self, id: &str, body: &[u8]) -> Answer {
        let path = format!("/2018-06-01/runtime/invocation/{id}/response");
        self.request("POST", &path, &[], body)
    }
}

fn serve(events: Vec<Value>, timeout: Duration) -> RuntimeApi {
    RuntimeApi::serve(Loopback.listen().unwrap(), events, timeout).unwrap()
}

fn id_of(answer: &Answer) -> String {
    answer
        .head
        .header("Lambda-Runtime-Aws-Request-Id")
        .expect("a request id")
        .to_string()
}

#[test]
fn a_function_takes_events_in_turn_over_one_keep_alive_connection() {
    let events = vec![json!({"n": 1}), json!({"n": 2}), json!({"n": 3})];
    let api = serve(events.clone(), Duration::from_secs(30));
    let mut function = Function::connect(&api);

    // Event 1: the headers Lambda sends, and a plain response.
    let before = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let first = function.next();
    assert_eq!(first.status, 200);
    assert_eq!(first.json(), json!({"n": 1}));
    assert_eq!(first.head.header("content-type"), Some("application/json"));
    assert_eq!(first.head.header("connection"), None, "keep-alive");
    let deadline: u128 = first
        .head
        .header("Lambda-Runtime-Deadline-Ms")
        .unwrap()
        .parse()
        .unwrap();
    assert!(
        (before + 29_000..before + 31_000).contains(&deadline),
        "{deadline} vs {before}"
    );
    assert_eq!(
        first.head.header("Lambda-Runtime-Invoked-Function-Arn"),
        Some(FUNCTION_ARN)
    );
    let trace = first.head.header("Lambda-Runtime-Trace-Id").unwrap();
    assert!(
        trace.starts_with("Root=1-") && trace.ends_with(";Sampled=0"),
        "{trace}"
    );
    let answered = function.respond(&id_of(&first), br#"{"ok": 1}"#);
    assert_eq!(
        (answered.status, answered.json()),
        (202, json!({"status": "OK"}))
    );

    // Event 2: an error report, JSON body and header.
    let second = function.next();
    assert_eq!(second.json(), json!({"n": 2}));
    assert_ne!(id_of(&second), id_of(&first));
    let path = format!("/2018-06-01/runtime/invocation/{}/error", id_of(&second));
    let error =
        br#"{"errorMessage": "boom", "errorType": "ValueError", "stackTrace": ["  File x"]}"#;
    let answered = function.request(
        "POST",
        &path,
        &["Lambda-Runtime-Function-Error-Type: Unhandled"],
        error,
    );
    assert_eq!(answered.status, 202);

    // Event 3: a chunked response, sent after a 100 Continue.
    let third = function.next();
    assert_eq!(third.json(), json!({"n": 3}));
    let path = format!("/2018-06-01/runtime/invocation/{}/response", id_of(&third));
    function.send(
        format!(
            "POST {path} HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nExpect: 100-continue\r\n\r\n"
        )
        .as_bytes(),
    );
    assert_eq!(function.answer().unwrap().status, 100);
    function.send(b"6\r\n\"three\r\n1\r\n\"\r\n0\r\n\r\n");
    assert_eq!(function.answer().unwrap().status, 202);

    // All answered: another next blocks until the server goes.
    let blocked = thread::spawn(move || {
        let start = Instant::now();
        function.send(b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nHost: x\r\n\r\n");
        let answer = function.answer();
        (answer.map(|a| a.status), start.elapsed())
    });
    thread::sleep(Duration::from_millis(300));
    assert!(
        !blocked.is_finished(),
        "next after the last event must block"
    );

    let invocations = api.wait();
    let (status, waited) = blocked.join().unwrap();
    assert_eq!(status, None, "closed when the server is dropped");
    assert!(waited >= Duration::from_millis(250));
    let outcomes: Vec<&Outcome> = invocations.iter().map(|i| &i.outcome).collect();
    assert_eq!(
        outcomes,
        [
            &Outcome::Response(json!({"ok": 1})),
            &Outcome::Error {
                error_type: "ValueError".into(),
                error_message: "boom".into()
            },
            &Outcome::Response(json!("three")),
        ]
    );
    let events_back: Vec<&Value> = invocations.iter().map(|i| &i.event).collect();
    assert_eq!(events_back, events.iter().collect::<Vec<_>>());
    assert_eq!(invocations[0].request_id, id_of(&first));
}

#[test]
fn an_init_error_answers_every_event() {
    let api = serve(vec![json!(1), json!(2)], Duration::from_secs(30));
    let mut function = Function::connect(&api);
    let body = br#"{"errorMessage": "Unable to import module 'app': No module named 'app'", "errorType": "Runtime.ImportModuleError", "stackTrace": []}"#;
    let answer = function.request("POST", "/2018-06-01/runtime/init/error", &[], body);
    assert_eq!(answer.status, 202);
    // Only once.
    let answer = function.request("POST", "/2018-06-01/runtime/init/error", &[], body);
    assert_eq!(answer.status, 403);
    assert_eq!(answer.json()["errorType"], "InvalidStateTransition");

    let invocations = api.wait();
    let want = Outcome::InitError {
        error_type: "Runtime.ImportModuleError".into(),
        error_message: "Unable to import module 'app': No module named 'app'".into(),
    };
    assert!(
        invocations.iter().all(|i| i.outcome == want),
        "{invocations:?}"
    );
    assert_eq!(
        want.to_string(),
        "init error: Runtime.ImportModuleError: Unable to import module 'app': No module named 'app'"
    );
}

#[test]
fn events_not_answered_in_time_say_so_and_stop_the_run() {
    let timeout = Duration::from_millis(300);
    let api = serve(vec![json!(1), json!(2)], timeout);
    let mut function = Function::connect(&api);
    let first = function.next();
    let start = Instant::now();
    let invocations = api.wait();
    assert!(
        start.elapsed() < Duration::from_secs(2),
        "{:?}",
        start.elapsed()
    );
    let outcomes: Vec<String> = invocations.iter().map(|i| i.outcome.to_string()).collect();
    assert_eq!(
        outcomes,
        [
            "no response within 300ms",
            "not delivered: event 1 got no response within 300ms"
        ]
    );
    drop(first);

    // A function that never asks.
    let api = serve(vec![json!(1), json!(2)], Duration::from_millis(200));
    let outcomes: Vec<String> = api.wait().iter().map(|i| i.outcome.to_string()).collect();
    assert_eq!(
        outcomes,
        [
            "the function did not ask for event 1 within 200ms",
            "not delivered: the function did not ask for event 1"
        ]
    );
}

#[test]
fn a_late_answer_is_refused() {
    let api = serve(vec![json!(1), json!(2)], Duration::from_millis(200));
    let mut function = Function::connect(&api);
    let first = function.next();
    thread::sleep(Duration::from_millis(400));
    let late = function.respond(&id_of(&first), b"{}");
    assert_eq!(
        (late.status, late.json()["errorType"].clone()),
        (403, json!("InvalidStateTransition"))
    );
    let outcomes: Vec<Outcome> = api.wait().into_iter().map(|i| i.outcome).collect();
    assert_eq!(
        outcomes,
        [
            Outcome::NoResponse {
                waited: Duration::from_millis(200)
            },
            Outcome::Unanswered("not delivered: event 1 got no response within 200ms".into()),
        ]
    );
}

#[test]
fn a_function_that_dies_ends_the_wait() {
    let api = serve(vec![json!(1), json!(2)], Duration::from_secs(60));
    let mut function = Function::connect(&api);
    let _first = function.next();
    let dead = std::sync::atomic::AtomicBool::new(false);
    let start = Instant::now();
    let invocations = thread::scope(|scope| {
        scope.spawn(|| {
            thread::sleep(Duration::from_millis(200));
            dead.store(true, Ordering::SeqCst);
        });
        api.wait_while(&|| !dead.load(Ordering::SeqCst))
    });
    assert!(
        start.elapsed() < Duration::from_secs(3),
        "{:?}",
        start.elapsed()
    );
    for invocation in &invocations {
        assert_eq!(
            invocation.outcome,
            Outcome::Unanswered("the function exited before answering".into())
        );
    }
}

#[test]
fn junk_gets_an_error_and_the_api_goes_on() {
    let api = serve(vec![json!({"after": "junk"})], Duration::from_secs(30));
    let big_head = format!(
        "GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\nX: {}\r\n\r\n",
        "a".repeat(wire::MAX_HEAD)
    );
    let too_large = format!(
        "POST /2018-06-01/runtime/invocation/x/response HTTP/1.1\r\nContent-Length: {}\r\n\r\n",
        MAX_PAYLOAD + 1
    );
    // (what is sent, the status and errorType answered)
    type Case<'a> = (&'a [u8], Option<(u16, &'a str)>);
    let cases: &[Case] = &[
        (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03\r\n\r\n", Some((400, "InvalidRequest"))),
        (b"GET\r\n\r\n", Some((400, "InvalidRequest"))),
        (b"GET / HTTP/2.0\r\n\r\n", Some((400, "InvalidRequest"))),
        (b"GET /2018-06-01/runtime/invocation/next HTTP/1.1\r\n bad: fold\r\n\r\n", Some((400, "InvalidRequest"))),
        (big_head.as_bytes(), Some((400, "InvalidRequest"))),
        (b"POST /2018-06-01/runtime/invocation/next HTTP/1.1\r\nContent-Length: 0\r\n\r\n", Some((405, "MethodNotAllowed"))),
        (b"GET /2018-06-01/runtime/invocation/x/response HTTP/1.1\r\n\r\n", Some((405, "MethodNotAllowed"))),
        (b"GET /index.html HTTP/1.1\r\n\r\n", Some((404, "NotFound"))),
        (b"POST /2018-06-01/runtime/invocation/nope/response HTTP/1.1\r\nContent-Length: 2\r\n\r\n{}", Some((400, "InvalidRequestID"))),
        (b"POST /2018-06-01/runtime/invocation//response HTTP/1.1\r\nContent-Length: 0\r\n\r\n", Some((404, "NotFound"))),
        (too_large.as_bytes(), Some((413, "RequestEntityTooLarge"))),
        (b"POST /2018-06-01/runtime/invocation/x/error HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", Some((400, "InvalidRequest"))),
        (b"POST /2018-06-01/runtime/init/error HTTP/1.1\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n", Some((400, "InvalidRequest"))),
        (b"POST /2018-06-01/runtime/init/error HTTP/1.1\r\nContent-Length: 10\r\n\r\nshort", Some((400, "InvalidRequest"))),
        (b"", None),
    ];
    for (junk, want) in cases {
        let mut function = Function::connect(&api);
        function.send(junk);
        // Hang up after the junk: a message cut short is answered (400),
        // nothing at all is not.
        function.stream.shutdown(Shutdown::Write).unwrap();
        let answer = function.answer();
        match (want, answer) {
            (Some((status, error_type)), Some(answer)) => {
                assert_eq!(
                    answer.status,
                    *status,
                    "{:?}",
                    String::from_utf8_lossy(junk)
                );
                assert_eq!(answer.json()["errorType"], *error_type);
            }
            (None, None) => {}
            (want, got) => panic!(
                "{:?}: wanted {want:?}, got {:?}",
                String::from_utf8_lossy(&junk[..junk.len().min(80)]),
                got.map(|a| a.status)
            ),
        }
    }
    // A response to an event not handed out yet has no such invocation.
    let mut function = Function::connect(&api);
    let state_ids: Vec<String> = api
        .shared
        .lock()
        .slots
        .iter()
        .map(|s| s.request_id.clone())
        .collect();
    let early = function.respond(&state_ids[0], b"{}");
    assert_eq!(
        (early.status, early.json()["errorType"].clone()),
        (400, json!("InvalidRequestID"))
    );

    // Then a real function still gets its event.
    let event = function.next();
    assert_eq!(event.json(), json!({"after": "junk"}));
    assert_eq!(function.respond(&id_of(&event), b"true").status, 202);
    let invocations = api.wait();
    assert_eq!(invocations[0].outcome, Outcome::Response(json!(true)));
}

#[test]
fn a_response_over_the_limit_fails_the_invocation() {
    let api = serve(vec![json!(1)], Duration::from_secs(30));
    let mut function = Function::connect(&api);
    let event = function.next();
    let path = format!("/2018-06-01/runtime/invocation/{}/response", id_of(&event));
    let body = vec![b'x'; MAX_PAYLOAD as usize + 1];
    // Chunked, so the size is only known once read.
    let mut message =
        format!("POST {path} HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n").into_bytes();
    for chunk in body.chunks(1 << 20) {
        message.extend_from_slice(format!("{:x}\r\n", chunk.len()).as_bytes());
        message.extend_from_slice(chunk);
        message.extend_from_slice(b"\r\n");
    }
    message.extend_from_slice(b"0\r\n\r\n");
    // The server may stop reading once over: send from another thread.
    let mut writer = function.stream.try_clone().unwrap();
    let sender = thread::spawn(move || {
        let _ = writer.write_all(&message);
    });
    let answer = function.answer().expect("an answer");
    assert_eq!(answer.status, 413);
    assert_eq!(answer.head.header("connection"), Some("close"));
    let invocations = api.wait();
    let _ = sender.join();
    assert_eq!(
        invocations[0].outcome,
        Outcome::Error {
            error_type: "Function.ResponseSizeTooLarge".into(),
            error_message: format!(
                "Response payload size exceeded maximum allowed payload size ({MAX_PAYLOAD} bytes)."
            ),
        }
    );
}

#[test]
fn routes() {
    let cases: &[(&str, &str, Route)] = &[
        ("GET", "/2018-06-01/runtime/invocation/next", Route::Next),
        (
            "GET",
            "/2018-06-01/runtime/invocation/next?x=1",
            Route::Next,
        ),
        (
            "GET",
            "http://127.0.0.1:9001/2018-06-01/runtime/invocation/next",
            Route::Next,
        ),
        (
            "POST",
            "/2018-06-01/runtime/invocation/abc-1/response",
            Route::Response("abc-1".into()),
        ),
        (
            "POST",
            "/2018-06-01/runtime/invocation/abc-1/error",
            Route::Error("abc-1".into()),
        ),
        ("POST", "/2018-06-01/runtime/init/error", Route::InitError),
        ("PUT", "/2018-06-01/runtime/init/error", Route::WrongMethod),
        (
            "GET",
            "/2018-06-01/runtime/invocation/abc/response",
            Route::WrongMethod,
        ),
        (
            "POST",
            "/2018-06-01/runtime/invocation//response",
            Route::Unknown,
        ),
        (
            "POST",
            "/2018-06-01/runtime/invocation/a/b/response",
            Route::Unknown,
        ),
        ("GET", "/2018-06-01/runtime/restore/next", Route::Unknown),
        ("GET", "/2020-01-01/runtime/invocation/next", Route::Unknown),
        ("GET", "/", Route::Unknown),
        ("GET", "*", Route::Unknown),
    ];
    for (method, target, want) in cases {
        assert_eq!(route(method, target), *want, "{method} {target}");
    }
}

#[test]
fn error_reports_from_body_or_header() {
    let with_header = Head {
        line: "POST / HTTP/1.1".into(),
        headers: vec![(
            "Lambda-Runtime-Function-Error-Type".into(),
            "Runtime.Crash".into(),
        )],
    };
    let bare = Head {
        line: "POST / HTTP/1.1".into(),
        headers: vec![],
    };
    let cases: &[(&Head, &[u8], (&str, &str))] = &[
        (
            &bare,
            br#"{"errorMessage": "m", "errorType": "T"}"#,
            ("T", "m"),
        ),
        (
            &with_header,
            br#"{"errorMessage": "m", "errorType": "T"}"#,
            ("T", "m"),
        ),
        (
            &with_header,
            br#"{"errorMessage": "m"}"#,
            ("Runtime.Crash", "m"),
        ),
        (
            &with_header,
            b"segfault in handler\n",
            ("Runtime.Crash", "segfault in handler"),
        ),
        (&bare, b"", ("Unknown", "")),
        (&bare, br#"{"errorType": 5}"#, ("Unknown", "")),
        (&bare, b"\xff\xfe", ("Unknown", "\u{fffd}\u{fffd}")),
    ];
    for (head, body, (error_type, message)) in cases {
        let got = error_report(head, body);
        assert_eq!(
            (got.0.as_str(), got.1.as_str()),
            (*error_type, *message),
            "{:?}",
            String::from_utf8_lossy(body)
        );
    }
}

#[test]
fn request_ids_are_distinct_version_4_uuids() {
    let ids: std::collections::HashSet<String> = (0..2000).map(|_| request_id()).collect();
    assert_eq!(ids.len(), 2000);
    for id in ids.iter().take(50) {
        let groups: Vec<&str> = id.split('-').collect();
        let lengths: Vec<usize> = groups.iter().map(|g| g.len()).collect();
        assert_eq!(lengths, [8, 4, 4, 4, 12], "{id}");
        assert!(groups[2].starts_with('4'), "{id}");
        assert!(
            matches!(groups[3].as_bytes()[0], b'8' | b'9' | b'a' | b'b'),
            "{id}"
        );
        assert!(
            id.bytes().all(|b| b == b'-' || b.is_ascii_hexdigit()),
            "{id}"
        );
    }
}

#[test]
fn outcomes_read_well_in_a_report() {
    let cases: &[(Outcome, &str, bool)] = &[
        (
            Outcome::Response(json!({"statusCode": 200})),
            r#"response {"statusCode":200}"#,
            true,
        ),
        (
            Outcome::Error {
                error_type: "KeyError".into(),
                error_message: "'name'".into(),
            },
            "error KeyError: 'name'",
            false,
        ),
        (
            Outcome::NoResponse {
                waited: Duration::from_secs(10),
            },
            "no response within 10s",
            false,
        ),
        (
            Outcome::Unanswered("the function exited before answering".into()),
            "the function exited before answering",
            false,
        ),
    ];
    for (outcome, text, passed) in cases {
        let invocation = Invocation {
            request_id: "id".into(),
            event: json!({}),
            outcome: outcome.clone(),
        };
        let report = invocation.probe_outcome("--probe-lambda @event.json");
        assert_eq!(
            report,
            ProbeOutcome {
                probe: "--probe-lambda @event.json".into(),
                passed: *passed,
                detail: text.to_string()
            }
        );
    }
}
