//! Credential lookup across auth files and real `docker-credential-*`
//! helper programs (shell scripts speaking the helper protocol).

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use base64::Engine as _;
use pare_registry::{CredentialStore, Credentials, Error};

fn basic(u: &str, p: &str) -> Option<Credentials> {
    Some(Credentials::Basic {
        username: u.into(),
        password: p.into(),
    })
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

/// A helper script: `docker-credential-NAME` in `dir`, running `body`.
fn helper(dir: &Path, name: &str, body: &str) {
    let path = dir.join(format!("docker-credential-{name}"));
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[test]
fn lookup_table() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // (files' contents in order, registry, repository, expected)
    let rows: Vec<(Vec<String>, &str, &str, Option<Credentials>)> = vec![
        (
            vec![format!(
                r#"{{"auths":{{"https://index.docker.io/v1/":{{"auth":"{}"}}}}}}"#,
                b64("hub:pw")
            )],
            "docker.io",
            "library/nginx",
            basic("hub", "pw"),
        ),
        (
            // Padding-less base64, as some tools write it.
            vec![format!(
                r#"{{"auths":{{"r.io":{{"auth":"{}"}}}}}}"#,
                b64("u:p").trim_end_matches('=')
            )],
            "r.io",
            "a",
            basic("u", "p"),
        ),
        (
            // The most specific containers-style key wins.
            vec![format!(
                r#"{{"auths":{{"r.io":{{"auth":"{}"}},"r.io/team":{{"auth":"{}"}},"r.io/team/app":{{"auth":"{}"}}}}}}"#,
                b64("host:1"),
                b64("ns:2"),
                b64("repo:3")
            )],
            "r.io",
            "team/other",
            basic("ns", "2"),
        ),
        (
            vec![r#"{"auths":{"r.io:5000":{"username":"u","password":"p"}}}"#.to_string()],
            "r.io:5000",
            "a",
            basic("u", "p"),
        ),
        (
            vec![r#"{"auths":{"r.io":{"identitytoken":"refresh"}}}"#.to_string()],
            "r.io",
            "a",
            Some(Credentials::IdentityToken("refresh".into())),
        ),
        (
            // The first file that knows the registry wins.
            vec![
                format!(r#"{{"auths":{{"r.io":{{"auth":"{}"}}}}}}"#, b64("first:1")),
                format!(r#"{{"auths":{{"r.io":{{"auth":"{}"}}}}}}"#, b64("second:2")),
            ],
            "r.io",
            "a",
            basic("first", "1"),
        ),
        (
            // An empty entry (Docker's, when a store holds the secret) is skipped.
            vec![
                r#"{"auths":{"r.io":{}}}"#.to_string(),
                format!(r#"{{"auths":{{"r.io":{{"auth":"{}"}}}}}}"#, b64("second:2")),
            ],
            "r.io",
            "a",
            basic("second", "2"),
        ),
        (
            vec![
                r#"{"auths":{"other.io":{"auth":"eDp5"}}}"#.to_string(),
                String::new(),
            ],
            "r.io",
            "a",
            None,
        ),
    ];
    for (i, (files, registry, repository, want)) in rows.into_iter().enumerate() {
        let paths: Vec<PathBuf> = files
            .iter()
            .enumerate()
            .map(|(j, text)| write(d, &format!("{i}-{j}.json"), text))
            .chain([d.join("missing.json")])
            .collect();
        let got = CredentialStore::with_files(paths)
            .lookup(registry, repository)
            .unwrap();
        assert_eq!(got, want, "row {i}");
    }
}

#[test]
fn broken_files_are_clean_errors() {
    let dir = tempfile::tempdir().unwrap();
    for (name, text, says) in [
        ("notjson", "{", "not a credentials file"),
        (
            "badb64",
            r#"{"auths":{"r.io":{"auth":"!!!"}}}"#,
            "not base64",
        ),
        (
            "nocolon",
            &*format!(r#"{{"auths":{{"r.io":{{"auth":"{}"}}}}}}"#, b64("nocolon")),
            "USER:PASSWORD",
        ),
    ] {
        let path = write(dir.path(), name, text);
        let err = CredentialStore::with_files(vec![path])
            .lookup("r.io", "a")
            .unwrap_err();
        assert!(matches!(err, Error::Credentials { .. }), "{name}: {err:?}");
        let line = err.to_string();
        assert!(
            line.contains(says) && !line.contains('\n'),
            "{name}: {line}"
        );
    }
}

#[test]
fn helpers_cred_helpers_then_auths_then_creds_store() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // The helper echoes the server it was asked about, so the test sees it.
    helper(
        d,
        "echo",
        r#"read server; printf '{"ServerURL":"%s","Username":"via-helper","Secret":"%s"}' "$server" "$server""#,
    );
    helper(
        d,
        "token",
        r#"printf '{"Username":"<token>","Secret":"idtok"}'"#,
    );
    helper(
        d,
        "none",
        "echo 'credentials not found in native keychain'; exit 1",
    );
    let config = write(
        d,
        "config.json",
        &format!(
            r#"{{"credsStore":"echo","credHelpers":{{"h.io":"token","n.io":"none"}},"auths":{{"a.io":{{"auth":"{}"}}}}}}"#,
            b64("file:pw")
        ),
    );
    let store = CredentialStore::with_files(vec![config]).helper_dirs(vec![d.to_path_buf()]);
    assert_eq!(
        store.lookup("h.io", "x").unwrap(),
        Some(Credentials::IdentityToken("idtok".into()))
    );
    assert_eq!(store.lookup("a.io", "x").unwrap(), basic("file", "pw"));
    assert_eq!(
        store.lookup("s.io:5000", "x").unwrap(),
        basic("via-helper", "s.io:5000")
    );
    // Docker Hub is asked for under its v1 URL.
    assert_eq!(
        store.lookup("docker.io", "library/x").unwrap(),
        basic("via-helper", "https://index.docker.io/v1/")
    );
    assert_eq!(store.lookup("n.io", "x").unwrap(), None);
}

#[test]
fn failing_slow_noisy_and_missing_helpers_are_bounded_clean_errors() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    helper(d, "fail", "echo 'keychain locked' >&2; exit 3");
    helper(d, "slow", "exec sleep 30");
    helper(d, "noisy", "head -c 10000000 /dev/zero | tr '\\0' a");
    helper(d, "garbage", "echo not-json");
    let config = write(
        d,
        "config.json",
        r#"{"credHelpers":{"f.io":"fail","s.io":"slow","n.io":"noisy","g.io":"garbage","m.io":"missing","e.io":"../../bin/sh"}}"#,
    );
    let store = CredentialStore::with_files(vec![config])
        .helper_dirs(vec![d.to_path_buf()])
        .helper_timeout(Duration::from_millis(500));
    for (registry, says) in [
        ("f.io", "keychain locked"),
        ("s.io", "no answer within"),
        ("n.io", "more than"),
        ("g.io", "invalid answer"),
        ("m.io", "not found"),
        ("e.io", "invalid helper name"),
    ] {
        let start = Instant::now();
        let err = store.lookup(registry, "x").unwrap_err();
        assert!(
            start.elapsed() < Duration::from_secs(10),
            "{registry} took {:?}",
            start.elapsed()
        );
        let line = err.to_string();
        assert!(
            line.contains(says) && !line.contains('\n'),
            "{registry}: {line}"
        );
    }
}
