//! `update` against a tiny HTTP/1.1 server on 127.0.0.1 written here: it
//! serves fixture bytes with ETag, Range/If-Range, If-None-Match and GCS's
//! `x-goog-hash`, and can be told to fail a request (a status, or a body
//! cut off halfway). It handles a bounded number of connections, one at a
//! time, and every request is logged for the assertions.

mod common;

use std::collections::{HashMap, VecDeque};
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use common::{data, osv_zip, pypa_dir, zip_of};
use md5::{Digest, Md5};
use pare_vuln::advisories::Advisories;
use pare_vuln::store::{Status, Store};
use pare_vuln::update::{Outcome, UpdateError, UpdateOptions, UpdateSource, update};

#[derive(Clone, Copy, Debug)]
enum Fault {
    Status(u16),
    /// Headers announce the whole body; half of it is sent, then the
    /// connection closes.
    CutHalfway,
    /// Nothing is sent for this long, then the connection closes.
    Stall(Duration),
}

struct Resource {
    body: Vec<u8>,
    etag: String,
    /// The md5 to announce in `x-goog-hash` (the body's unless a test lies).
    md5: Option<Vec<u8>>,
}

#[derive(Debug, Clone)]
struct Logged {
    path: String,
    headers: HashMap<String, String>,
    status: u16,
}

#[derive(Default)]
struct State {
    resources: HashMap<String, Resource>,
    faults: HashMap<String, VecDeque<Fault>>,
    log: Vec<Logged>,
}

struct Server {
    base: String,
    state: Arc<Mutex<State>>,
}

impl Server {
    fn start() -> Server {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let base = format!("http://{}", listener.local_addr().unwrap());
        let state = Arc::new(Mutex::new(State::default()));
        let shared = Arc::clone(&state);
        std::thread::spawn(move || {
            // Bounded: a test makes a few dozen requests at most.
            for stream in listener.incoming().take(200) {
                let Ok(stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                serve(stream, &shared);
            }
        });
        Server { base, state }
    }

    fn put(&self, path: &str, body: Vec<u8>, etag: &str) {
        let md5 = Md5::digest(&body).to_vec();
        self.state.lock().unwrap().resources.insert(
            path.to_owned(),
            Resource {
                body,
                etag: etag.to_owned(),
                md5: Some(md5),
            },
        );
    }

    fn lie_about_md5(&self, path: &str) {
        if let Some(r) = self.state.lock().unwrap().resources.get_mut(path) {
            r.md5 = Some(vec![0; 16]);
        }
    }

    fn fail(&self, path: &str, faults: &[Fault]) {
        self.state
            .lock()
            .unwrap()
            .faults
            .entry(path.to_owned())
            .or_default()
            .extend(faults);
    }

    fn log(&self) -> Vec<Logged> {
        std::mem::take(&mut self.state.lock().unwrap().log)
    }

    fn source(&self, name: &str, path: &str) -> UpdateSource {
        UpdateSource {
            name: name.to_owned(),
            url: format!("{}{path}", self.base),
        }
    }
}

fn serve(stream: TcpStream, state: &Mutex<State>) {
    let mut reader = BufReader::new(stream.try_clone().unwrap());
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let path = request_line
        .split_whitespace()
        .nth(1)
        .unwrap_or("")
        .to_owned();
    let mut headers = HashMap::new();
    for _ in 0..100 {
        let mut line = String::new();
        if reader.read_line(&mut line).unwrap_or(0) == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = line.split_once(':') {
            headers.insert(k.trim().to_ascii_lowercase(), v.trim().to_owned());
        }
    }
    let mut state = state.lock().unwrap();
    let fault = state.faults.get_mut(&path).and_then(VecDeque::pop_front);
    if let Some(Fault::Stall(time)) = fault {
        state.log.push(Logged {
            path,
            headers,
            status: 0,
        });
        drop(state);
        std::thread::sleep(time);
        return;
    }
    let mut out = stream;
    let (status, head, body): (u16, Vec<String>, Vec<u8>) = match state.resources.get(&path) {
        None => (404, vec![], vec![]),
        Some(_) if matches!(fault, Some(Fault::Status(_))) => {
            let Some(Fault::Status(s)) = fault else {
                unreachable!()
            };
            (s, vec![], vec![])
        }
        Some(r) => {
            let mut head = vec![format!("ETag: {}", r.etag)];
            if let Some(md5) = &r.md5 {
                head.push(format!("x-goog-hash: crc32c=AAAAAA==, md5={}", base64(md5)));
            }
            let range_start = headers
                .get("range")
                .and_then(|v| v.strip_prefix("bytes="))
                .and_then(|v| v.strip_suffix('-'))
                .and_then(|v| v.parse::<usize>().ok())
                .filter(|_| headers.get("if-range").is_none_or(|v| *v == r.etag));
            if headers.get("if-none-match") == Some(&r.etag) {
                (304, head, vec![])
            } else if range_start == Some(r.body.len()) {
                head.push(format!("Content-Range: bytes */{}", r.body.len()));
                (416, head, vec![])
            } else if let Some(start) = range_start.filter(|&s| s < r.body.len()) {
                head.push(format!(
                    "Content-Range: bytes {start}-{}/{}",
                    r.body.len() - 1,
                    r.body.len()
                ));
                (206, head, r.body[start..].to_vec())
            } else {
                (200, head, r.body.clone())
            }
        }
    };
    state.log.push(Logged {
        path,
        headers,
        status,
    });
    drop(state);
    let reason = match status {
        200 => "OK",
        206 => "Partial Content",
        304 => "Not Modified",
        416 => "Range Not Satisfiable",
        404 => "Not Found",
        _ => "Error",
    };
    let mut response = format!("HTTP/1.1 {status} {reason}\r\nConnection: close\r\n");
    if status != 304 {
        response.push_str(&format!("Content-Length: {}\r\n", body.len()));
    }
    for h in head {
        response.push_str(&h);
        response.push_str("\r\n");
    }
    response.push_str("\r\n");
    let _ = out.write_all(response.as_bytes());
    let sent = if matches!(fault, Some(Fault::CutHalfway)) {
        &body[..body.len() / 2]
    } else {
        &body[..]
    };
    let _ = out.write_all(sent);
    let _ = out.flush();
    let _ = out.shutdown(std::net::Shutdown::Both);
}

fn base64(bytes: &[u8]) -> String {
    const A: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(A[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

fn options(retries: u32) -> UpdateOptions {
    UpdateOptions {
        connect_timeout: Duration::from_secs(5),
        read_timeout: Duration::from_secs(5),
        retries,
        backoff: Duration::from_millis(10),
        ..UpdateOptions::default()
    }
}

struct Setup {
    _dir: tempfile::TempDir,
    db: PathBuf,
    cache: PathBuf,
    server: Server,
    sources: Vec<UpdateSource>,
}

const ZIP: &str = "/PyPI/all.zip";
const DUMP: &str = "/tracker/data/json";

fn dump_bytes() -> Vec<u8> {
    std::fs::read(data().join("debian-tracker-json/dump.json")).unwrap()
}

/// A server with a zip of the urllib3 and jinja2 records and the dump
/// fixture, and a database already holding the requests records (so an
/// unchanged database is not merely an empty one).
fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("db/pare.sqlite");
    Store::open(&db)
        .unwrap()
        .import(&[pypa_dir().join("vulns/requests")])
        .unwrap();
    let server = Server::start();
    server.put(ZIP, osv_zip(&["urllib3", "jinja2"]), "\"zip-1\"");
    server.put(DUMP, dump_bytes(), "\"dump-1\"");
    let sources = vec![
        server.source("osv-pypi.zip", ZIP),
        server.source("debian-tracker.json", DUMP),
    ];
    Setup {
        cache: dir.path().join("cache"),
        _dir: dir,
        db,
        server,
        sources,
    }
}

fn status(db: &Path) -> Status {
    Store::open_existing(db).unwrap().status().unwrap()
}

fn assert_full_database(db: &Path) {
    let store = Store::open_existing(db).unwrap();
    assert_eq!(store.osv("PyPI", "urllib3").unwrap().len(), 11);
    assert!(!store.osv("PyPI", "jinja2").unwrap().is_empty());
    assert!(!store.osv("PyPI", "requests").unwrap().is_empty());
    assert_eq!(store.debian_cves("glibc").unwrap().len(), 3);
}

#[test]
fn fresh_download_imports_and_a_rerun_gets_304() {
    let s = setup();
    let summary = update(&s.db, &s.sources, &s.cache, &options(3)).unwrap();
    for d in &summary.sources {
        assert!(
            matches!(
                d.outcome,
                Outcome::Downloaded {
                    resumed_from: 0,
                    attempts: 1,
                    ..
                }
            ),
            "{d:?}"
        );
        assert!(d.path.is_file());
    }
    let import = summary.import.unwrap();
    assert_eq!(import.sources.len(), 2);
    assert_eq!(import.debian_cves, 9);
    assert_full_database(&s.db);
    assert!(!s.cache.join("osv-pypi.zip.part").exists());
    let log = s.server.log();
    assert_eq!(log.len(), 2);
    assert!(
        log.iter()
            .all(|r| r.status == 200 && !r.headers.contains_key("if-none-match"))
    );

    let before = status(&s.db);
    let again = update(&s.db, &s.sources, &s.cache, &options(3)).unwrap();
    assert!(again.import.is_none());
    assert!(
        again
            .sources
            .iter()
            .all(|d| d.outcome == Outcome::NotModified)
    );
    let log = s.server.log();
    assert_eq!(log.len(), 2);
    for r in &log {
        assert_eq!(r.status, 304);
        assert!(r.headers["if-none-match"].starts_with("\""));
    }
    assert_eq!(status(&s.db), before);
}

#[test]
fn an_interrupted_download_resumes_with_a_range_request() {
    let s = setup();
    let before = status(&s.db);
    let zip_len = osv_zip(&["urllib3", "jinja2"]).len() as u64;
    s.server.fail(ZIP, &[Fault::CutHalfway]);
    let err = update(&s.db, &s.sources, &s.cache, &options(0)).unwrap_err();
    assert!(
        matches!(err, UpdateError::Io { .. } | UpdateError::Http { .. }),
        "{err}"
    );
    assert_eq!(status(&s.db), before, "a failed update changes nothing");
    let part = s.cache.join("osv-pypi.zip.part");
    let half = std::fs::metadata(&part).unwrap().len();
    assert_eq!(half, zip_len / 2);
    s.server.log();

    let summary = update(&s.db, &s.sources, &s.cache, &options(0)).unwrap();
    let log = s.server.log();
    let zip_request = log.iter().find(|r| r.path == ZIP).unwrap();
    assert_eq!(zip_request.headers["range"], format!("bytes={half}-"));
    assert_eq!(zip_request.headers["if-range"], "\"zip-1\"");
    assert_eq!(zip_request.status, 206);
    assert_eq!(
        summary.sources[0].outcome,
        Outcome::Downloaded {
            bytes: zip_len,
            resumed_from: half,
            attempts: 1
        }
    );
    assert_full_database(&s.db);
}

/// One source downloaded whole, another failing: nothing is imported; the
/// next update finds the first part whole (416 with its length) instead of
/// downloading it again.
#[test]
fn a_whole_part_left_by_a_failed_update_is_not_downloaded_again() {
    let s = setup();
    let before = status(&s.db);
    s.server.fail(DUMP, &[Fault::Status(500)]);
    let err = update(&s.db, &s.sources, &s.cache, &options(0)).unwrap_err();
    assert!(
        matches!(err, UpdateError::Status { status: 500, .. }),
        "{err}"
    );
    assert_eq!(status(&s.db), before);
    s.server.log();
    let zip_len = osv_zip(&["urllib3", "jinja2"]).len() as u64;
    let summary = update(&s.db, &s.sources, &s.cache, &options(0)).unwrap();
    assert_eq!(
        summary.sources[0].outcome,
        Outcome::Downloaded {
            bytes: zip_len,
            resumed_from: zip_len,
            attempts: 1
        }
    );
    let zip_request = s.server.log().into_iter().find(|r| r.path == ZIP).unwrap();
    assert_eq!(zip_request.status, 416);
    assert_full_database(&s.db);
}

#[test]
fn a_cut_off_body_is_resumed_within_one_update() {
    let s = setup();
    s.server.fail(ZIP, &[Fault::CutHalfway]);
    let summary = update(&s.db, &s.sources, &s.cache, &options(3)).unwrap();
    assert!(matches!(
        summary.sources[0].outcome,
        Outcome::Downloaded { resumed_from, attempts: 2, .. } if resumed_from > 0
    ));
    assert_full_database(&s.db);
}

#[test]
fn server_errors_are_retried_with_backoff() {
    let s = setup();
    s.server.fail(ZIP, &[Fault::Status(503)]);
    let summary = update(&s.db, &s.sources, &s.cache, &options(3)).unwrap();
    assert!(matches!(
        summary.sources[0].outcome,
        Outcome::Downloaded { attempts: 2, .. }
    ));
    let statuses: Vec<u16> = s
        .server
        .log()
        .iter()
        .filter(|r| r.path == ZIP)
        .map(|r| r.status)
        .collect();
    assert_eq!(statuses, [503, 200]);
    assert_full_database(&s.db);

    // Always failing: 1 + 3 attempts, then the error; a 404 is not retried.
    let t = setup();
    let before = status(&t.db);
    t.server.fail(ZIP, &[Fault::Status(503); 10]);
    let err = update(&t.db, &t.sources, &t.cache, &options(3)).unwrap_err();
    assert!(
        matches!(err, UpdateError::Status { status: 503, .. }),
        "{err}"
    );
    assert_eq!(t.server.log().iter().filter(|r| r.path == ZIP).count(), 4);
    let missing = [t.server.source("missing", "/nothing")];
    let err = update(&t.db, &missing, &t.cache, &options(3)).unwrap_err();
    assert!(
        matches!(err, UpdateError::Status { status: 404, .. }),
        "{err}"
    );
    assert_eq!(t.server.log().len(), 1);
    assert_eq!(status(&t.db), before);
}

/// Each bad download is refused and the database stays as it was.
#[test]
fn bad_downloads_are_refused_and_change_nothing() {
    let record = serde_json::to_vec(
        &pare_vuln::osv::parse(
            &std::fs::read(pypa_dir().join("vulns/urllib3/PYSEC-2021-108.yaml")).unwrap(),
            pare_vuln::osv::Format::Yaml,
        )
        .unwrap(),
    )
    .unwrap();
    let mut bad_crc = zip_of(
        &[("PYSEC-2021-108.json".into(), record)],
        zip::CompressionMethod::Stored,
    );
    let at = bad_crc.windows(4).position(|w| w == b"\"id\"").unwrap();
    bad_crc[at + 1] = b'I';
    let dump = dump_bytes();
    let cut_dump = dump[..dump.len() / 2].to_vec();

    // (what, path, served bytes, lie about md5, text the error must contain)
    let cases: Vec<(&str, &str, Vec<u8>, bool, &str)> = vec![
        (
            "zip member with a bad CRC",
            ZIP,
            bad_crc,
            false,
            "PYSEC-2021-108.json",
        ),
        (
            "truncated tracker dump",
            DUMP,
            cut_dump,
            false,
            "debian-tracker.json",
        ),
        (
            "md5 differs from x-goog-hash",
            ZIP,
            osv_zip(&["urllib3"]),
            true,
            "x-goog-hash",
        ),
    ];
    for (what, path, body, lie, needle) in cases {
        let s = setup();
        // A first good update, so that a refused one has something to keep.
        update(&s.db, &s.sources, &s.cache, &options(0)).unwrap();
        let before = status(&s.db);
        s.server.put(path, body, "\"changed\"");
        if lie {
            s.server.lie_about_md5(path);
        }
        let err = update(&s.db, &s.sources, &s.cache, &options(0)).expect_err(what);
        assert!(err.to_string().contains(needle), "{what}: {err}");
        assert_eq!(status(&s.db), before, "{what}");
        assert_full_database(&s.db);
        // A refused download leaves no part to resume.
        let name = if path == ZIP {
            "osv-pypi.zip"
        } else {
            "debian-tracker.json"
        };
        assert!(!s.cache.join(format!("{name}.part")).exists(), "{what}");
    }
}

#[test]
fn source_names_must_be_plain_file_names() {
    let dir = tempfile::tempdir().unwrap();
    for name in ["", "../x", "a/b", ".hidden", "x.part", "x.meta"] {
        let sources = [UpdateSource {
            name: name.into(),
            url: "http://127.0.0.1:9/x".into(),
        }];
        let err = update(&dir.path().join("db"), &sources, dir.path(), &options(0)).unwrap_err();
        assert!(matches!(err, UpdateError::BadName(_)), "{name}");
    }
    assert_eq!(pare_vuln::update::default_sources().len(), 8);
}

fn remove_database(db: &Path) {
    for suffix in ["", "-wal", "-shm", "-journal"] {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        let _ = std::fs::remove_file(p);
    }
}

/// Regression: the validators in `<cache>/NAME.meta` were trusted without
/// looking at the database, so after the database was deleted every source
/// got a 304 and `pare db update` never recreated it. A 304 now imports the
/// cached copy again when the database lacks it (or holds another digest of
/// it, as an older restored copy does).
#[test]
fn db_update_recreates_a_deleted_database_from_the_cache() {
    let s = setup();
    update(&s.db, &s.sources, &s.cache, &options(0)).unwrap();
    let before = status(&s.db);
    s.server.log();

    remove_database(&s.db);
    let summary = update(&s.db, &s.sources, &s.cache, &options(0)).unwrap();
    assert!(
        summary
            .sources
            .iter()
            .all(|d| d.outcome == Outcome::Reimported),
        "{summary:?}"
    );
    // Asked whether anything changed, and nothing downloaded again.
    for r in s.server.log() {
        assert_eq!(r.status, 304, "{r:?}");
    }
    let after = status(&s.db);
    // The requests records were imported by hand before, not by update.
    let without_requests = |st: &Status| {
        st.sources
            .iter()
            .filter(|x| !x.location.contains("requests"))
            .map(|x| {
                (
                    x.location.clone(),
                    x.kind.clone(),
                    x.records,
                    x.sha256.clone(),
                )
            })
            .collect::<Vec<_>>()
    };
    assert_eq!(without_requests(&after), without_requests(&before));
    assert_eq!(after.debian_cves, before.debian_cves);
    let store = Store::open_existing(&s.db).unwrap();
    assert_eq!(store.osv("PyPI", "urllib3").unwrap().len(), 11);
    assert_eq!(store.debian_cves("glibc").unwrap().len(), 3);
    drop(store);

    // A third run: the database holds both again, so 304 imports nothing.
    let again = update(&s.db, &s.sources, &s.cache, &options(0)).unwrap();
    assert!(again.import.is_none());
    assert!(
        again
            .sources
            .iter()
            .all(|d| d.outcome == Outcome::NotModified)
    );

    // An older database restored: the tracker source is missing from it
    // (an empty store), so the 304 imports the cached copy again.
    remove_database(&s.db);
    Store::open(&s.db)
        .unwrap()
        .import(&[pypa_dir().join("vulns/requests")])
        .unwrap();
    let summary = update(&s.db, &s.sources, &s.cache, &options(0)).unwrap();
    assert!(
        summary
            .sources
            .iter()
            .all(|d| d.outcome == Outcome::Reimported)
    );
    assert_full_database(&s.db);

    // A cached copy that changed since its import is not trusted: no
    // conditional request, a fresh download.
    let mut zip = std::fs::read(s.cache.join("osv-pypi.zip")).unwrap();
    zip.push(0);
    std::fs::write(s.cache.join("osv-pypi.zip"), zip).unwrap();
    s.server.log();
    let summary = update(&s.db, &s.sources, &s.cache, &options(0)).unwrap();
    assert!(matches!(
        summary.sources[0].outcome,
        Outcome::Downloaded { .. }
    ));
    let log = s.server.log();
    let zip_request = log.iter().find(|r| r.path == ZIP).unwrap();
    assert!(!zip_request.headers.contains_key("if-none-match"));
    assert_full_database(&s.db);
}

/// With the database intact, a 304 imports nothing and leaves the database
/// file exactly as it was (it is only read, and read-only).
#[test]
fn a_304_with_an_intact_database_imports_nothing() {
    let s = setup();
    update(&s.db, &s.sources, &s.cache, &options(0)).unwrap();
    let bytes = std::fs::read(&s.db).unwrap();
    let mtime = std::fs::metadata(&s.db).unwrap().modified().unwrap();
    s.server.log();
    let summary = update(&s.db, &s.sources, &s.cache, &options(0)).unwrap();
    assert!(summary.import.is_none());
    assert!(
        summary
            .sources
            .iter()
            .all(|d| d.outcome == Outcome::NotModified)
    );
    assert!(s.server.log().iter().all(|r| r.status == 304));
    assert_eq!(std::fs::read(&s.db).unwrap(), bytes);
    assert_eq!(std::fs::metadata(&s.db).unwrap().modified().unwrap(), mtime);
}

/// A server that stalls is given up on at the per-source deadline, however
/// many retries are left, and the database is unchanged.
#[test]
fn a_stalling_server_is_given_up_on_at_the_deadline() {
    let s = setup();
    let before = status(&s.db);
    s.server
        .fail(ZIP, &[Fault::Stall(Duration::from_secs(3)); 3]);
    let opts = UpdateOptions {
        deadline: Duration::from_millis(500),
        ..options(10)
    };
    let started = std::time::Instant::now();
    let err = update(&s.db, &s.sources, &s.cache, &opts).unwrap_err();
    let elapsed = started.elapsed();
    assert!(matches!(err, UpdateError::Deadline { .. }), "{err}");
    assert!(err.to_string().contains("deadline"), "{err}");
    assert!(elapsed < Duration::from_secs(3), "{elapsed:?}");
    assert_eq!(status(&s.db), before);
}
