use std::io::Read;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

use super::*;

const ALIVE: &dyn Fn() -> bool = &|| true;

#[test]
fn http_probes_parse_from_port_and_path() {
    let cases: &[(&str, u16, &str, &str)] = &[
        ("80", 80, "/", "80"),
        ("8080/healthz", 8080, "/healthz", "8080/healthz"),
        ("8080/", 8080, "/", "8080"),
        (
            "65535/a/b?c=d&e=%20f",
            65535,
            "/a/b?c=d&e=%20f",
            "65535/a/b?c=d&e=%20f",
        ),
        ("1", 1, "/", "1"),
    ];
    for (text, port, path, shown) in cases {
        let probe: HttpProbe = text.parse().unwrap_or_else(|e| panic!("{text}: {e}"));
        assert_eq!((probe.port, probe.path.as_str()), (*port, *path), "{text}");
        assert_eq!(probe.to_string(), *shown);
    }
}

#[test]
fn bad_http_probes_say_what_is_wrong() {
    let cases: &[(&str, &str)] = &[
        ("", "no port"),
        ("/healthz", "no port"),
        ("0", "port 0"),
        ("65536", "over 65535"),
        ("99999999999999999999", "over 65535"),
        ("http", "not a number"),
        ("80x", "not a number"),
        ("+80", "not a number"),
        ("-1", "not a number"),
        (":80", "not a number"),
        ("localhost:80/x", "not a number"),
        (" 80", "not a number"),
        ("80/a b", "space"),
        ("80/a\tb", "space"),
        ("80/a\nb", "control character"),
        ("80/a\u{7f}", "control character"),
        ("80/é", "non-ASCII"),
        ("80/a#top", "fragment"),
    ];
    for (text, want) in cases {
        let err = text.parse::<HttpProbe>().unwrap_err().to_string();
        assert!(err.contains(want), "{text:?}: {err}");
        assert!(err.contains("expected PORT[/PATH]"), "{text:?}: {err}");
    }
}

#[test]
fn command_and_lambda_probes_parse() {
    assert_eq!(
        Probe::cmd("redis-cli ping").unwrap(),
        Probe::Cmd(CmdProbe("redis-cli ping".into()))
    );
    for text in ["", "   ", "\t"] {
        let err = Probe::cmd(text).unwrap_err();
        assert!(matches!(err, ProbeParseError::EmptyCommand), "{text:?}");
    }
    assert!(matches!(
        Probe::cmd("a\0b").unwrap_err(),
        ProbeParseError::NulInCommand(_)
    ));

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("event.json");
    std::fs::write(&file, br#"{"from": "file"}"#).unwrap();
    let at_file = format!("@{}", file.display());
    let cases: &[(&str, Value)] = &[
        (r#"{"key": "value"}"#, serde_json::json!({"key": "value"})),
        ("[1, 2]", serde_json::json!([1, 2])),
        ("\"text\"", serde_json::json!("text")),
        ("null", Value::Null),
        (&at_file, serde_json::json!({"from": "file"})),
    ];
    for (text, want) in cases {
        let Probe::Lambda(probe) = Probe::lambda(text).unwrap() else {
            panic!("{text}: not a lambda probe");
        };
        assert_eq!(probe.event, *want, "{text}");
        assert_eq!(probe.source, *text);
    }

    let missing = format!("@{}", dir.path().join("nope.json").display());
    let big = dir.path().join("big.json");
    std::fs::write(&big, vec![b' '; crate::lambda::MAX_PAYLOAD as usize + 1]).unwrap();
    let big = format!("@{}", big.display());
    let bad: &[(&str, &str)] = &[
        ("{", "not JSON"),
        ("", "not JSON"),
        ("{'single': 1}", "not JSON"),
        (&missing, "No such file"),
        (&big, "over Lambda's limit"),
    ];
    for (text, want) in bad {
        let err = Probe::lambda(text).unwrap_err().to_string();
        assert!(err.contains(want), "{text}: {err}");
        assert!(err.starts_with("--probe-lambda"), "{err}");
    }
}

#[test]
fn probes_describe_themselves_as_written() {
    let cases: &[(Probe, &str)] = &[
        (
            Probe::http("8080/healthz").unwrap(),
            "--probe-http 8080/healthz",
        ),
        (Probe::http("80").unwrap(), "--probe-http 80"),
        (
            Probe::cmd("redis-cli ping").unwrap(),
            "--probe-cmd redis-cli ping",
        ),
        (
            Probe::lambda(r#"{"a": 1}"#).unwrap(),
            r#"--probe-lambda {"a": 1}"#,
        ),
    ];
    for (probe, want) in cases {
        assert_eq!(probe.describe(), *want);
    }
}

/// A loopback server whose every connection gets `handler` (detached: it
/// lives as long as the test process).
fn server(handler: impl Fn(TcpStream) + Send + Sync + 'static) -> u16 {
    let listener = Loopback.listen().unwrap();
    let port = listener.local_addr().unwrap().port();
    let handler = Arc::new(handler);
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let handler = Arc::clone(&handler);
            thread::spawn(move || handler(stream));
        }
    });
    port
}

/// Reads a request head (or what comes within a second).
fn read_request(stream: &mut TcpStream) -> Vec<u8> {
    stream
        .set_read_timeout(Some(Duration::from_secs(1)))
        .unwrap();
    let mut got = Vec::new();
    let mut buf = [0; 1024];
    while !got.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => got.extend_from_slice(&buf[..n]),
        }
    }
    got
}

/// A server answering every request with `answer`, then closing.
fn answering(answer: &'static [u8]) -> u16 {
    server(move |mut s| {
        if !read_request(&mut s).is_empty() {
            let _ = s.write_all(answer);
        }
    })
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    let listener = Loopback.listen().unwrap();
    listener.local_addr().unwrap().port()
}

#[test]
fn http_get_reads_answers_of_every_framing() {
    // (the answer sent, status, reason, body, truncated)
    type Case<'a> = (&'a [u8], u16, &'a str, &'a [u8], bool);
    let cases: &[Case] = &[
        (b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 200, "OK", b"hello", false),
        (b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n", 404, "Not Found", b"", false),
        (b"HTTP/1.0 200 OK\r\n\r\nuntil close", 200, "OK", b"until close", false),
        (
            b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n",
            200,
            "OK",
            b"abcde",
            false,
        ),
        (b"HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n", 204, "No Content", b"", false),
        (b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\n\r\ndown", 503, "Service Unavailable", b"down", false),
        (b"HTTP/1.1 200\r\nContent-Length: 2\r\n\r\nok", 200, "", b"ok", false),
    ];
    for (answer, status, reason, body, truncated) in cases {
        let port = answering(answer);
        let got = http_get(&Loopback, port, "/", Duration::from_secs(5))
            .unwrap_or_else(|e| panic!("{:?}: {e}", String::from_utf8_lossy(answer)));
        assert_eq!(
            (
                got.status,
                got.reason.as_str(),
                got.body.as_slice(),
                got.truncated
            ),
            (*status, *reason, *body, *truncated)
        );
    }
}

#[test]
fn http_get_sends_a_minimal_http_1_1_request() {
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    let port = server(move |mut s| {
        let request = read_request(&mut s);
        *record.lock().unwrap() = request;
        let _ = s.write_all(b"HTTP/1.1 200 OK\r\nX-Answer: yes\r\nContent-Length: 0\r\n\r\n");
    });
    let answer = http_get(&Loopback, port, "/healthz?x=1", Duration::from_secs(5)).unwrap();
    assert_eq!(answer.header("x-answer"), Some("yes"));
    let request = String::from_utf8(seen.lock().unwrap().clone()).unwrap();
    let lines: Vec<&str> = request.split("\r\n").collect();
    assert_eq!(lines[0], "GET /healthz?x=1 HTTP/1.1");
    assert!(
        lines.contains(&format!("Host: localhost:{port}").as_str()),
        "{request}"
    );
    assert!(lines.contains(&"Connection: close"), "{request}");
}

#[test]
fn http_get_caps_the_body_and_keeps_a_streaming_answer() {
    static BIG: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    let big = BIG.get_or_init(|| {
        let mut m = b"HTTP/1.1 200 OK\r\n\r\n".to_vec();
        m.extend(std::iter::repeat_n(b'x', 200 * 1024));
        m
    });
    let port = answering(big);
    let got = http_get(&Loopback, port, "/", Duration::from_secs(5)).unwrap();
    assert_eq!(got.body.len() as u64, BODY_CAP);
    assert!(got.truncated);

    // Head, a little body, then nothing more for longer than the deadline.
    let port = server(|mut s| {
        read_request(&mut s);
        let _ =
            s.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\ndata: 1\n\n");
        thread::sleep(Duration::from_secs(5));
    });
    let start = Instant::now();
    let got = http_get(&Loopback, port, "/events", Duration::from_millis(500)).unwrap();
    assert!(start.elapsed() < Duration::from_secs(3));
    assert_eq!(
        (got.status, got.body.as_slice(), got.truncated),
        (200, &b"data: 1\n\n"[..], true)
    );
}

#[test]
fn http_get_failures_are_clear() {
    let silent = server(|mut s| {
        read_request(&mut s);
        thread::sleep(Duration::from_secs(5));
    });
    let trickle = server(|mut s| {
        read_request(&mut s);
        for b in b"HTTP/1.1 200 OK\r\n" {
            if s.write_all(&[*b]).is_err() {
                return;
            }
            thread::sleep(Duration::from_millis(100));
        }
    });
    let hangs_up = server(|mut s| {
        read_request(&mut s);
    });
    let redis = answering(b"-ERR wrong number of arguments for 'get' command\r\n");
    let binary = answering(b"\x00\x01\x02\xff");
    let garbled = answering(b"HTTP/1.1 OK\r\n\r\n");
    let short = answering(b"HTT");
    let closed = closed_port();
    let timeout = Duration::from_millis(700);
    let cases: &[(u16, &str)] = &[
        (silent, "GET / on port SILENT: no answer within 700ms"),
        (trickle, "no answer within 700ms"),
        (hangs_up, "closed the connection without answering"),
        (
            redis,
            "the answer is not HTTP (it begins \"-ERR wrong number of arguments for 'get'\"…)",
        ),
        (binary, "not HTTP (it begins \"\\x00\\x01\\x02\\xff\")"),
        (garbled, "malformed HTTP answer: bad status line"),
        (short, "closed in the middle of the status line"),
        (closed, "could not connect to port"),
    ];
    for (port, want) in cases {
        let want = want.replace("SILENT", &silent.to_string());
        let start = Instant::now();
        let err = http_get(&Loopback, *port, "/", timeout)
            .unwrap_err()
            .to_string();
        assert!(err.contains(&want), "port {port}: {err}");
        assert!(
            start.elapsed() < timeout + Duration::from_secs(1),
            "{err}: took {:?}",
            start.elapsed()
        );
    }
}

#[test]
fn speaks_http_tells_http_from_other_protocols() {
    let http = answering(b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
    let redis = answering(b"-ERR unknown command\r\n");
    let silent = server(|mut s| {
        read_request(&mut s);
        thread::sleep(Duration::from_secs(5));
    });
    let timeout = Duration::from_millis(500);
    let cases: &[(u16, bool)] = &[
        (http, true),
        (redis, false),
        (silent, false),
        (closed_port(), false),
    ];
    for (port, want) in cases {
        let start = Instant::now();
        assert_eq!(speaks_http(&Loopback, *port, timeout), *want, "port {port}");
        assert!(start.elapsed() < timeout + Duration::from_secs(1));
    }
}

#[test]
fn loopback_reaches_a_server_on_either_address() {
    let v4 = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).unwrap();
    let port = v4.local_addr().unwrap().port();
    assert!(Loopback.connect(port, Duration::from_secs(1)).is_ok());
    // Where the host has IPv6 on its loopback: a server only on ::1.
    if let Ok(v6) = TcpListener::bind((Ipv6Addr::LOCALHOST, 0)) {
        let port = v6.local_addr().unwrap().port();
        if TcpListener::bind((Ipv4Addr::LOCALHOST, port)).is_err() {
            return; // the port is taken on 127.0.0.1: nothing to learn
        }
        let stream = Loopback.connect(port, Duration::from_secs(1)).unwrap();
        assert!(stream.peer_addr().unwrap().is_ipv6());
    }
    let err = Loopback
        .connect(closed_port(), Duration::from_secs(1))
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::ConnectionRefused);
}

#[test]
fn wait_for_port_waits_gives_up_and_notices_a_dead_app() {
    // Opens after a while.
    let port = closed_port();
    let opener = thread::spawn(move || {
        thread::sleep(Duration::from_millis(300));
        let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, port)).unwrap();
        thread::sleep(Duration::from_secs(2));
        drop(listener);
    });
    let waited = wait_for_port(&Loopback, port, Duration::from_secs(5), ALIVE).unwrap();
    assert!(waited >= Duration::from_millis(250), "{waited:?}");
    opener.join().unwrap();

    // Never opens.
    let port = closed_port();
    let start = Instant::now();
    let err = wait_for_port(&Loopback, port, Duration::from_millis(400), ALIVE).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!("port {port} never accepted a connection within 400ms")
    );
    assert!(start.elapsed() < Duration::from_secs(2));
    let err = ProbeError::PortNeverOpened {
        port: 80,
        waited: Duration::from_secs(10),
    };
    assert_eq!(
        err.to_string(),
        "port 80 never accepted a connection within 10s"
    );

    // The app dies while we wait: said at once, not at the deadline.
    let dead = AtomicBool::new(false);
    let killer = thread::scope(|scope| {
        scope.spawn(|| {
            thread::sleep(Duration::from_millis(200));
            dead.store(true, Ordering::SeqCst);
        });
        let start = Instant::now();
        let err = wait_for_port(&Loopback, port, Duration::from_secs(30), &|| {
            !dead.load(Ordering::SeqCst)
        })
        .unwrap_err();
        (err.to_string(), start.elapsed())
    });
    assert_eq!(
        killer.0,
        format!("the app exited before port {port} accepted a connection")
    );
    assert!(killer.1 < Duration::from_secs(2), "{:?}", killer.1);
}

#[test]
fn http_probes_pass_below_500_and_record_the_status() {
    let not_found = answering(b"HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found");
    let broken =
        answering(b"HTTP/1.1 502 Bad Gateway\r\nContent-Length: 14\r\n\r\nupstream down\n");
    let ok = answering(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
    let timeout = Duration::from_secs(3);
    let cases: &[(u16, &str, bool, &str)] = &[
        (ok, "/", true, "GET / on port OK: 200 OK (2 bytes)"),
        (
            not_found,
            "/healthz",
            true,
            "GET /healthz on port NF: 404 Not Found (9 bytes)",
        ),
        (
            broken,
            "/",
            false,
            "GET / on port BR: 502 Bad Gateway (14 bytes): a server error: upstream down",
        ),
    ];
    for (port, path, passed, detail) in cases {
        let probe = HttpProbe {
            port: *port,
            path: path.to_string(),
        };
        let outcome = run_http_probe(&Loopback, &probe, timeout, ALIVE);
        let detail = detail
            .replace("OK:", &format!("{ok}:"))
            .replace("NF", &not_found.to_string())
            .replace("BR", &broken.to_string());
        assert_eq!(
            outcome,
            ProbeOutcome {
                probe: Probe::Http(probe.clone()).describe(),
                passed: *passed,
                detail
            }
        );
    }

    let probe = HttpProbe {
        port: closed_port(),
        path: "/".into(),
    };
    let outcome = run_http_probe(&Loopback, &probe, timeout, &|| false);
    assert!(!outcome.passed);
    assert!(
        outcome.detail.contains("the app exited"),
        "{}",
        outcome.detail
    );
}

#[test]
fn exposed_ports_pass_by_accepting_and_get_where_they_speak_http() {
    let http = answering(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    let redis = answering(b"-ERR unknown command\r\n");
    let timeout = Duration::from_secs(2);
    let outcome = run_port_probe(&Loopback, http, timeout, ALIVE);
    assert!(outcome.passed, "{outcome:?}");
    assert_eq!(outcome.probe, format!("port {http} (exposed)"));
    assert!(outcome.detail.starts_with("GET / on port"), "{outcome:?}");
    let outcome = run_port_probe(&Loopback, redis, timeout, ALIVE);
    assert!(outcome.passed, "{outcome:?}");
    assert!(
        outcome.detail.contains("does not speak HTTP"),
        "{outcome:?}"
    );
    let outcome = run_port_probe(&Loopback, closed_port(), Duration::from_millis(300), ALIVE);
    assert!(!outcome.passed);
    assert!(
        outcome
            .detail
            .contains("never accepted a connection within 300ms"),
        "{outcome:?}"
    );
}

#[test]
fn durations_read_as_people_write_them() {
    let cases: &[(Duration, &str)] = &[
        (Duration::from_secs(10), "10s"),
        (Duration::from_millis(2500), "2.5s"),
        (Duration::from_millis(250), "250ms"),
        (Duration::ZERO, "0ms"),
    ];
    for (d, want) in cases {
        assert_eq!(secs(*d), *want);
    }
}
