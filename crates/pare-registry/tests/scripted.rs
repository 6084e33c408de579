//! What a real registry cannot be made to do on demand, against a scripted
//! HTTP server: 503 and 429 answers, blob redirects to storage on another
//! host, a lying digest header, an oversized manifest, a 401 without a
//! challenge. Everything else is tested against docker-registry itself
//! (tests/registry.rs).

mod support;

use std::io::Read;
use std::sync::atomic::Ordering;

use base64::Engine as _;
use pare_registry::{Client, Digest, Error, Reference, Repository};
use support::{Answer, FakeServer};

const MANIFEST: &str = r#"{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json","config":{"mediaType":"application/vnd.oci.image.config.v1+json","size":2,"digest":"sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},"layers":[]}"#;

fn manifest_answer() -> Answer {
    Answer::new(200)
        .header("Content-Type", pare_registry::OCI_MANIFEST)
        .header(
            "Docker-Content-Digest",
            Digest::of(MANIFEST.as_bytes()).to_string(),
        )
        .body(MANIFEST)
}

fn is_manifest(seen: &support::Seen) -> bool {
    seen.target.contains("/manifests/")
}

#[test]
fn transient_statuses_are_retried_then_succeed() {
    // The script depends on how many manifest requests came before.
    let count = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let c = count.clone();
    let server = FakeServer::start(move |seen, _| {
        if !is_manifest(seen) {
            return Answer::new(200).body("{}");
        }
        match c.fetch_add(1, Ordering::SeqCst) {
            0 => Answer::new(503)
                .body(r#"{"errors":[{"code":"UNAVAILABLE","message":"try later"}]}"#),
            1 => Answer::new(429).header("Retry-After", "0"),
            _ => manifest_answer(),
        }
    });
    let client = Client::new(support::options());
    let reference = Reference::parse(&format!("{}/a/b:1", server.host())).unwrap();
    let manifest = client.get_manifest(&reference).unwrap();
    assert_eq!(manifest.bytes, MANIFEST.as_bytes());
    assert_eq!(count.load(Ordering::SeqCst), 3);
    assert_eq!(client.stats().retries.load(Ordering::Relaxed), 2);
}

#[test]
fn persistent_5xx_gives_up_after_the_attempts_with_a_clean_error() {
    let server = FakeServer::start(|seen, _| {
        if is_manifest(seen) {
            Answer::new(502).body("<html>\nBad Gateway\n</html>")
        } else {
            Answer::new(200).body("{}")
        }
    });
    let client = Client::new(support::options());
    let reference = Reference::parse(&format!("{}/a/b:1", server.host())).unwrap();
    let err = client.get_manifest(&reference).unwrap_err();
    assert!(matches!(err, Error::Status { status: 502, .. }), "{err:?}");
    let line = err.to_string();
    assert!(
        !line.contains('\n') && line.contains("GET /v2/a/b/manifests/1"),
        "{line}"
    );
    let tries = server.seen().iter().filter(|s| is_manifest(s)).count();
    assert_eq!(tries, 4, "the configured attempts");
}

#[test]
fn blob_redirect_to_another_host_gets_no_credentials() {
    let blob = support::blob(200_000, 21);
    let digest = Digest::of(&blob);
    let storage = {
        let blob = blob.clone();
        FakeServer::start(move |_, _| Answer::new(200).body(blob.clone()))
    };
    let storage_port = storage.port;
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("alice:s3cret")
    );
    let registry = FakeServer::start(move |seen, _| {
        if seen.header("authorization") != Some(expected.as_str()) {
            return Answer::new(401).header("WWW-Authenticate", r#"Basic realm="fake""#);
        }
        if seen.target.contains("/blobs/") {
            // Another authority (localhost, not 127.0.0.1), as S3 would be.
            Answer::new(307).header(
                "Location",
                format!("http://localhost:{storage_port}/bucket/data?X-Amz-Signature=abc"),
            )
        } else {
            Answer::new(200).body("{}")
        }
    });
    let client = Client::new(support::options().credentials(support::alice()));
    let repo = Repository::new(registry.host(), "a/b");
    let mut reader = client
        .get_blob(&repo, &digest, Some(blob.len() as u64))
        .unwrap();
    let mut got = Vec::new();
    reader.read_to_end(&mut got).unwrap();
    assert!(got == blob);
    let at_storage = storage.seen();
    assert_eq!(at_storage.len(), 1);
    assert_eq!(at_storage[0].target, "/bucket/data?X-Amz-Signature=abc");
    assert_eq!(
        at_storage[0].header("authorization"),
        None,
        "credentials leaked to storage"
    );
    assert!(
        registry
            .seen()
            .iter()
            .any(|s| s.target.contains("/blobs/") && s.header("authorization").is_some())
    );
}

#[test]
fn manifest_whose_digest_header_lies_is_refused() {
    let server = FakeServer::start(|seen, _| {
        if is_manifest(seen) {
            Answer::new(200)
                .header("Content-Type", pare_registry::OCI_MANIFEST)
                .header("Docker-Content-Digest", Digest::of(b"other").to_string())
                .body(MANIFEST)
        } else {
            Answer::new(200).body("{}")
        }
    });
    let client = Client::new(support::options());
    let by_tag = Reference::parse(&format!("{}/a/b:1", server.host())).unwrap();
    let err = client.get_manifest(&by_tag).unwrap_err();
    assert!(matches!(err, Error::DigestMismatch { .. }), "{err:?}");
    // By digest, the reference's digest is the one checked.
    let wanted = Digest::of(b"wanted");
    let by_digest = Reference::parse(&format!("{}/a/b@{wanted}", server.host())).unwrap();
    let err = client.get_manifest(&by_digest).unwrap_err();
    assert!(
        matches!(err, Error::DigestMismatch { ref expected, .. } if *expected == wanted.to_string()),
        "{err:?}"
    );
}

#[test]
fn oversized_manifest_is_refused() {
    let huge = vec![b' '; (pare_registry::MAX_MANIFEST_BYTES + 10) as usize];
    let server = FakeServer::start(move |seen, _| {
        if is_manifest(seen) {
            Answer::new(200)
                .header("Content-Type", pare_registry::OCI_MANIFEST)
                .body(huge.clone())
        } else {
            Answer::new(200).body("{}")
        }
    });
    let client = Client::new(support::options());
    let reference = Reference::parse(&format!("{}/a/b:1", server.host())).unwrap();
    let err = client.get_manifest(&reference).unwrap_err();
    assert!(matches!(err, Error::TooLarge { .. }), "{err:?}");
}

#[test]
fn a_401_without_a_usable_challenge_is_a_clean_error() {
    let server = FakeServer::start(|_, _| Answer::new(401).header("WWW-Authenticate", "Negotiate"));
    let client = Client::new(support::options());
    let reference = Reference::parse(&format!("{}/a/b:1", server.host())).unwrap();
    let err = client.get_manifest(&reference).unwrap_err();
    assert!(matches!(err, Error::InvalidResponse { .. }), "{err:?}");
}

#[test]
fn an_open_v2_endpoint_with_a_private_repository_learns_basic_auth() {
    let expected = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("alice:s3cret")
    );
    let server = FakeServer::start(move |seen, _| {
        if !is_manifest(seen) {
            return Answer::new(200).body("{}");
        }
        if seen.header("authorization") == Some(expected.as_str()) {
            manifest_answer()
        } else {
            Answer::new(401).header("WWW-Authenticate", r#"Basic realm="private""#)
        }
    });
    let client = Client::new(support::options().credentials(support::alice()));
    let reference = Reference::parse(&format!("{}/a/b:1", server.host())).unwrap();
    assert_eq!(
        client.get_manifest(&reference).unwrap().bytes,
        MANIFEST.as_bytes()
    );
    // Anonymous: the same 401 is the answer, as a clean error.
    let anonymous = Client::new(support::options());
    let err = anonymous.get_manifest(&reference).unwrap_err();
    assert!(matches!(err, Error::Unauthorized { .. }), "{err:?}");
}
