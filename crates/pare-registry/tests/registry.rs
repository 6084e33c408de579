//! The client against real registries started here: Debian's
//! `docker-registry` plain, behind TLS with htpasswd basic auth, and behind
//! a token server; proxies that cut connections; corrupted storage.

mod support;

use std::io::{self, Read};
use std::time::Duration;

use pare_registry::{
    Client, ClientOptions, Credentials, Digest, Error, PushOutcome, Reference, Repository,
};
use support::{Cut, Proxy, Registry, TestImage};

/// Pushes every blob of `image` to `repo` (mounting from `from` when given),
/// then its manifest as `tag`.
fn push_image(
    client: &Client,
    repo: &Repository,
    image: &TestImage,
    tag: &str,
    from: Option<&Repository>,
) -> Result<Vec<PushOutcome>, Error> {
    let mut outcomes = Vec::new();
    for blob in image.blobs() {
        let open = || Ok(Box::new(io::Cursor::new(blob.to_vec())) as Box<dyn Read>);
        outcomes.push(client.push_blob(repo, &Digest::of(blob), blob.len() as u64, &open, from)?);
    }
    client.put_manifest(
        &Reference::with_tag(repo.clone(), tag),
        &image.manifest,
        pare_registry::DOCKER_MANIFEST,
    )?;
    Ok(outcomes)
}

/// Pulls `reference` back and checks every byte against `image`.
fn assert_pulls_back(client: &Client, reference: &Reference, image: &TestImage) {
    let manifest = client.get_manifest(reference).unwrap();
    assert_eq!(manifest.bytes, image.manifest, "manifest bytes kept");
    assert_eq!(manifest.digest, Digest::of(&image.manifest));
    assert_eq!(manifest.media_type, pare_registry::DOCKER_MANIFEST);
    for blob in image.blobs() {
        let mut reader = client
            .get_blob(
                reference.repository(),
                &Digest::of(blob),
                Some(blob.len() as u64),
            )
            .unwrap();
        let mut got = Vec::new();
        reader.read_to_end(&mut got).unwrap();
        assert!(got == blob, "blob {} differs", Digest::of(blob));
    }
}

fn repo(host: &str, name: &str) -> Repository {
    Repository::new(host, name)
}

/// The error carried by a failed blob read.
fn read_error(mut reader: impl Read) -> Error {
    let mut sink = Vec::new();
    let err = reader
        .read_to_end(&mut sink)
        .expect_err("the read must fail");
    let inner = err
        .into_inner()
        .expect("an error of pare-registry")
        .downcast::<Error>()
        .expect("an error of pare-registry");
    *inner
}

fn one_line(error: &Error) -> String {
    let text = error.to_string();
    assert!(!text.contains('\n'), "one line: {text}");
    eprintln!("error line: {text}");
    text
}

#[test]
fn plain_push_then_pull_is_byte_identical() {
    let Some(registry) = Registry::plain() else {
        return;
    };
    let client = Client::new(support::options());
    let image = TestImage::new(1);
    let r = repo(&registry.host(), "pare/plain");
    let outcomes = push_image(&client, &r, &image, "v1", None).unwrap();
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, PushOutcome::Uploaded { attempts: 1 })),
        "{outcomes:?}"
    );

    let tagged = Reference::parse(&format!("{}/pare/plain:v1", registry.host())).unwrap();
    assert_pulls_back(&client, &tagged, &image);
    let by_digest = Reference::with_digest(r.clone(), Digest::of(&image.manifest));
    assert_pulls_back(&client, &by_digest, &image);

    let head = client
        .head_manifest(&tagged)
        .unwrap()
        .expect("manifest exists");
    assert_eq!(head.digest, Some(Digest::of(&image.manifest)));
    assert_eq!(head.size, Some(image.manifest.len() as u64));
    let layer = &image.layers[0];
    assert_eq!(
        client.blob_exists(&r, &Digest::of(layer)).unwrap(),
        Some(layer.len() as u64)
    );
    assert_eq!(
        client.blob_exists(&r, &Digest::of(b"absent")).unwrap(),
        None
    );
    let missing_tag = Reference::with_tag(r.clone(), "nope");
    assert_eq!(client.head_manifest(&missing_tag).unwrap(), None);
    // Monolithic: one PUT per blob, no PATCH.
    assert_eq!(registry.requests("PUT", "/v2/pare/plain/blobs/uploads/"), 3);
    assert_eq!(
        registry.requests("PATCH", "/v2/pare/plain/blobs/uploads/"),
        0
    );
}

#[test]
fn second_push_uploads_no_blob() {
    let Some(registry) = Registry::plain() else {
        return;
    };
    let client = Client::new(support::options());
    let image = TestImage::new(2);
    let r = repo(&registry.host(), "pare/again");
    push_image(&client, &r, &image, "v1", None).unwrap();
    let uploads = registry.requests("POST", "/v2/pare/again/blobs/uploads/");
    assert_eq!(uploads, 3);

    // A new client: nothing cached, the registry alone says what exists.
    let client = Client::new(support::options());
    let outcomes = push_image(&client, &r, &image, "v2", None).unwrap();
    assert_eq!(outcomes, vec![PushOutcome::Exists; 3]);
    assert_eq!(
        registry.requests("POST", "/v2/pare/again/blobs/uploads/"),
        uploads
    );
    assert_eq!(registry.requests("PUT", "/v2/pare/again/blobs/uploads/"), 3);
}

#[test]
fn chunked_upload_round_trips() {
    let Some(registry) = Registry::plain() else {
        return;
    };
    let client = Client::new(support::options().chunk_size(Some(256 << 10)));
    let image = TestImage::new(3);
    let r = repo(&registry.host(), "pare/chunked");
    push_image(&client, &r, &image, "v1", None).unwrap();
    // 1.5 MB in 256 KiB chunks is 6 PATCHes, 300 kB is 2, the config 1.
    assert_eq!(
        registry.requests("PATCH", "/v2/pare/chunked/blobs/uploads/"),
        9
    );
    assert_pulls_back(&client, &Reference::with_tag(r, "v1"), &image);
}

#[test]
fn mount_on_plain_registry_and_refused_mount_uploads() {
    let Some(registry) = Registry::plain() else {
        return;
    };
    let client = Client::new(support::options());
    let image = TestImage::new(4);
    let src = repo(&registry.host(), "pare/src");
    let dst = repo(&registry.host(), "pare/dst");
    push_image(&client, &src, &image, "v1", None).unwrap();
    let outcomes = push_image(&client, &dst, &image, "v1", Some(&src)).unwrap();
    assert_eq!(outcomes, vec![PushOutcome::Mounted; 3]);
    assert_pulls_back(&client, &Reference::with_tag(dst, "v1"), &image);

    // The source lacks these blobs: the registry answers 202 and the
    // upload goes on in the session the mount opened.
    let other = TestImage::new(5);
    let dst2 = repo(&registry.host(), "pare/dst2");
    let outcomes = push_image(&client, &dst2, &other, "v1", Some(&src)).unwrap();
    assert!(
        outcomes
            .iter()
            .all(|o| matches!(o, PushOutcome::Uploaded { .. })),
        "{outcomes:?}"
    );
    // Three mount attempts, no other upload session opened.
    assert_eq!(
        registry.requests("POST", "/v2/pare/dst2/blobs/uploads/?mount="),
        3
    );
    assert_eq!(registry.requests("POST", "/v2/pare/dst2/blobs/uploads/"), 3);
    assert_pulls_back(&client, &Reference::with_tag(dst2, "v1"), &other);
}

#[test]
fn unknown_repository_is_a_clean_not_found() {
    let Some(registry) = Registry::plain() else {
        return;
    };
    let client = Client::new(support::options());
    let reference = Reference::parse(&format!("{}/no/such:tag", registry.host())).unwrap();
    let err = client.get_manifest(&reference).unwrap_err();
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
    let text = one_line(&err);
    // distribution 2.8 says MANIFEST_UNKNOWN for a repository it never saw.
    assert!(
        text.contains("no/such:tag") && text.contains("_UNKNOWN"),
        "{text}"
    );

    let err = client
        .get_blob(reference.repository(), &Digest::of(b"x"), None)
        .err()
        .expect("no such blob");
    assert!(matches!(err, Error::NotFound { .. }), "{err:?}");
}

#[test]
fn corrupted_blob_fails_its_digest_check() {
    let Some(registry) = Registry::plain() else {
        return;
    };
    let client = Client::new(support::options());
    let image = TestImage::new(6);
    let r = repo(&registry.host(), "pare/corrupt");
    push_image(&client, &r, &image, "v1", None).unwrap();
    let layer = &image.layers[1];
    let digest = Digest::of(layer);
    // Flip one byte where the registry keeps the blob: it serves it as is.
    let file = registry.blob_file(&digest);
    let mut bytes = std::fs::read(&file).unwrap();
    bytes[1000] ^= 0x40;
    std::fs::write(&file, bytes).unwrap();

    let reader = client
        .get_blob(&r, &digest, Some(layer.len() as u64))
        .unwrap();
    let err = read_error(reader);
    assert!(matches!(err, Error::DigestMismatch { .. }), "{err:?}");
    let text = one_line(&err);
    assert!(text.contains(&digest.to_string()), "{text}");
}

#[test]
fn connection_cut_mid_blob_fails_the_pull() {
    let Some(registry) = Registry::plain() else {
        return;
    };
    let client = Client::new(support::options());
    let image = TestImage::new(7);
    let r = repo(&registry.host(), "pare/cut");
    push_image(&client, &r, &image, "v1", None).unwrap();

    let proxy = Proxy::start(registry.port, Cut::Download(400_000), usize::MAX);
    let client = Client::new(support::options());
    let through = repo(&proxy.host(), "pare/cut");
    let layer = &image.layers[0];
    let reader = client
        .get_blob(&through, &Digest::of(layer), Some(layer.len() as u64))
        .unwrap();
    let err = read_error(reader);
    assert!(
        matches!(err, Error::Dropped { .. } | Error::SizeMismatch { .. }),
        "{err:?}"
    );
    let text = one_line(&err);
    assert!(text.contains(&proxy.host()), "{text}");
    assert!(proxy.cuts.load(std::sync::atomic::Ordering::SeqCst) >= 1);
}

#[test]
fn connection_cut_mid_upload_is_retried() {
    let Some(registry) = Registry::plain() else {
        return;
    };
    // The first upload carrying more than 500 kB is cut; the retry passes.
    let proxy = Proxy::start(registry.port, Cut::Upload(500_000), 1);
    let client = Client::new(support::options());
    let image = TestImage::new(8);
    let through = repo(&proxy.host(), "pare/retry");
    let outcomes = push_image(&client, &through, &image, "v1", None).unwrap();
    assert_eq!(
        outcomes[1],
        PushOutcome::Uploaded { attempts: 2 },
        "{outcomes:?}"
    );
    assert_eq!(proxy.cuts.load(std::sync::atomic::Ordering::SeqCst), 1);
    assert!(
        client
            .stats()
            .retries
            .load(std::sync::atomic::Ordering::Relaxed)
            >= 1
    );
    let direct = Client::new(support::options());
    assert_pulls_back(
        &direct,
        &Reference::parse(&format!("{}/pare/retry:v1", registry.host())).unwrap(),
        &image,
    );
}

#[test]
fn a_source_that_does_not_match_its_digest_is_refused() {
    let Some(registry) = Registry::plain() else {
        return;
    };
    let client = Client::new(support::options());
    let r = repo(&registry.host(), "pare/liar");
    let bytes = support::blob(100_000, 9);
    let claimed = Digest::of(b"something else");
    let open = || Ok(Box::new(io::Cursor::new(bytes.clone())) as Box<dyn Read>);
    let err = client
        .push_blob(&r, &claimed, bytes.len() as u64, &open, None)
        .unwrap_err();
    assert!(matches!(err, Error::DigestMismatch { .. }), "{err:?}");
    assert_eq!(client.blob_exists(&r, &claimed).unwrap(), None);

    // A source shorter than the size it was announced with.
    let short = || Ok(Box::new(io::Cursor::new(bytes[..50_000].to_vec())) as Box<dyn Read>);
    let err = client
        .push_blob(&r, &Digest::of(&bytes), bytes.len() as u64, &short, None)
        .unwrap_err();
    one_line(&err);
    assert!(!err.is_transient(), "{err:?}");
}

#[test]
fn nothing_listening_is_a_clean_connect_error() {
    let port = support::free_port();
    let client = Client::new(support::options());
    let reference = Reference::parse(&format!("127.0.0.1:{port}/a:b")).unwrap();
    let err = client.get_manifest(&reference).unwrap_err();
    assert!(matches!(err, Error::Connect { .. }), "{err:?}");
    assert!(one_line(&err).contains(&format!("127.0.0.1:{port}")));
}

#[test]
fn token_auth_push_pull_and_cross_repository_mount() {
    let Some(registry) = Registry::token() else {
        return;
    };
    let client = Client::new(support::options().credentials(support::alice()));
    let image = TestImage::new(10);
    let src = repo(&registry.host(), "pare/tsrc");
    let dst = repo(&registry.host(), "pare/tdst");
    push_image(&client, &src, &image, "v1", None).unwrap();
    assert_pulls_back(&client, &Reference::with_tag(src.clone(), "v1"), &image);

    let outcomes = push_image(&client, &dst, &image, "v1", Some(&src)).unwrap();
    assert_eq!(outcomes, vec![PushOutcome::Mounted; 3]);
    assert_pulls_back(&client, &Reference::with_tag(dst, "v1"), &image);

    let support::Auth::Token(server) = &registry.auth else {
        unreachable!()
    };
    let requests = server.requests();
    // One token request carried both scopes of the mount.
    assert!(
        requests.iter().any(|r| r
            .scopes
            .contains(&"repository:pare/tdst:pull,push".to_string())
            && r.scopes.contains(&"repository:pare/tsrc:pull".to_string())),
        "{requests:?}"
    );
    assert!(
        requests
            .iter()
            .all(|r| r.account.as_deref() == Some(support::USER))
    );
    // Tokens are cached: far fewer token requests than registry requests.
    assert!(requests.len() <= 4, "{requests:?}");
}

#[test]
fn token_auth_wrong_password_is_a_clean_error() {
    let Some(registry) = Registry::token() else {
        return;
    };
    let client = Client::new(support::options().credentials(Some(Credentials::Basic {
        username: support::USER.into(),
        password: "wrong".into(),
    })));
    let reference = Reference::parse(&format!("{}/pare/x:1", registry.host())).unwrap();
    let err = client.get_manifest(&reference).unwrap_err();
    assert!(matches!(err, Error::Unauthorized { .. }), "{err:?}");
    let text = one_line(&err);
    assert!(
        text.contains("refused the credentials") && text.contains("bad credentials"),
        "{text}"
    );
}

#[test]
fn token_auth_anonymous_push_is_refused() {
    let Some(registry) = Registry::token() else {
        return;
    };
    let client = Client::new(support::options());
    let r = repo(&registry.host(), "pare/anon");
    let bytes = support::blob(1000, 11);
    let open = || Ok(Box::new(io::Cursor::new(bytes.clone())) as Box<dyn Read>);
    let err = client
        .push_blob(&r, &Digest::of(&bytes), 1000, &open, None)
        .unwrap_err();
    assert!(matches!(err, Error::Unauthorized { .. }), "{err:?}");
    one_line(&err);
}

#[test]
fn tls_basic_auth_with_a_cert_dir_round_trips() {
    let Some(registry) = Registry::tls_basic() else {
        return;
    };
    let support::Auth::TlsBasic(pki) = &registry.auth else {
        unreachable!()
    };
    let client = Client::new(
        support::options()
            .cert_dir(Some(pki.cert_dir()))
            .credentials(support::alice()),
    );
    let image = TestImage::new(12);
    let r = repo(&registry.host(), "pare/tls");
    push_image(&client, &r, &image, "v1", None).unwrap();
    assert_pulls_back(&client, &Reference::with_tag(r, "v1"), &image);
}

#[test]
fn tls_without_the_ca_names_the_unknown_issuer() {
    let Some(registry) = Registry::tls_basic() else {
        return;
    };
    let client = Client::new(support::options().credentials(support::alice()));
    let reference = Reference::parse(&format!("{}/pare/tls:v1", registry.host())).unwrap();
    let err = client.get_manifest(&reference).unwrap_err();
    assert!(matches!(err, Error::Tls { .. }), "{err:?}");
    let text = one_line(&err);
    assert!(
        text.contains("UnknownIssuer") && text.contains(&registry.host()),
        "{text}"
    );
}

#[test]
fn basic_auth_wrong_or_missing_credentials_are_clean_errors() {
    let Some(registry) = Registry::tls_basic() else {
        return;
    };
    let support::Auth::TlsBasic(pki) = &registry.auth else {
        unreachable!()
    };
    let reference = Reference::parse(&format!("{}/pare/tls:v1", registry.host())).unwrap();
    let wrong = Client::new(
        support::options()
            .cert_dir(Some(pki.cert_dir()))
            .credentials(Some(Credentials::parse_user_pass("alice:wrong").unwrap())),
    );
    let err = wrong.get_manifest(&reference).unwrap_err();
    assert!(matches!(err, Error::Unauthorized { .. }), "{err:?}");
    one_line(&err);

    let none = Client::new(support::options().cert_dir(Some(pki.cert_dir())));
    let err = none.get_manifest(&reference).unwrap_err();
    assert!(matches!(err, Error::Unauthorized { .. }), "{err:?}");
    assert!(one_line(&err).contains("none were found"), "{err}");
}

#[test]
fn credentials_come_from_a_docker_config_file() {
    let Some(registry) = Registry::tls_basic() else {
        return;
    };
    let support::Auth::TlsBasic(pki) = &registry.auth else {
        unreachable!()
    };
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.json");
    let auth = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, "alice:s3cret");
    std::fs::write(
        &config,
        format!(
            r#"{{"auths":{{"https://{}":{{"auth":"{auth}"}}}}}}"#,
            registry.host()
        ),
    )
    .unwrap();
    let client = Client::new(
        ClientOptions::default()
            .certs_d(vec![])
            .cert_dir(Some(pki.cert_dir()))
            .credential_store(pare_registry::CredentialStore::with_files(vec![config]))
            .retries(2, Duration::from_millis(50)),
    );
    let image = TestImage::new(13);
    let r = repo(&registry.host(), "pare/cfg");
    push_image(&client, &r, &image, "v1", None).unwrap();
    assert_pulls_back(&client, &Reference::with_tag(r, "v1"), &image);
}

#[test]
fn client_certificate_from_the_cert_dir_is_presented() {
    let Some(registry) = Registry::tls_client_cert() else {
        return;
    };
    let support::Auth::TlsClientCert(pki) = &registry.auth else {
        unreachable!()
    };
    let reference = Reference::parse(&format!("{}/pare/mtls:v1", registry.host())).unwrap();
    // The CA alone: the registry wants a client certificate.
    let without = Client::new(support::options().cert_dir(Some(pki.cert_dir())));
    let err = without.get_manifest(&reference).unwrap_err();
    assert!(matches!(err, Error::Tls { .. }), "{err:?}");
    one_line(&err);

    let dir = pki.cert_dir();
    pki.client_pair(&dir);
    let client = Client::new(support::options().cert_dir(Some(dir)));
    let image = TestImage::new(14);
    push_image(&client, reference.repository(), &image, "v1", None).unwrap();
    assert_pulls_back(&client, &reference, &image);
}

#[test]
fn bad_cert_dirs_are_clean_errors() {
    // (files in the directory, what the error says)
    let rows: &[(&[(&str, &str)], &str)] = &[
        (&[("ca.crt", "not a certificate")], "no PEM certificate"),
        (&[("client.cert", "x")], "has no key"),
        (&[("client.key", "x")], "has no certificate"),
        (
            &[(
                "ca.crt",
                "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
            )],
            "ca.crt",
        ),
    ];
    for (files, says) in rows {
        let dir = tempfile::tempdir().unwrap();
        for (name, text) in *files {
            std::fs::write(dir.path().join(name), text).unwrap();
        }
        let client = Client::new(support::options().cert_dir(Some(dir.path().to_path_buf())));
        let reference =
            Reference::parse(&format!("127.0.0.1:{}/a:b", support::free_port())).unwrap();
        let err = client.get_manifest(&reference).unwrap_err();
        assert!(matches!(err, Error::CertDir { .. }), "{files:?}: {err:?}");
        assert!(one_line(&err).contains(says), "{files:?}: {err}");
    }
    // A client certificate with another certificate's key.
    let dir = tempfile::tempdir().unwrap();
    let a = rcgen::generate_simple_self_signed(vec!["a".to_string()]).unwrap();
    let b = rcgen::generate_simple_self_signed(vec!["b".to_string()]).unwrap();
    std::fs::write(dir.path().join("client.cert"), a.cert.pem()).unwrap();
    std::fs::write(dir.path().join("client.key"), b.signing_key.serialize_pem()).unwrap();
    let client = Client::new(support::options().cert_dir(Some(dir.path().to_path_buf())));
    let err = client
        .get_manifest(&Reference::parse("127.0.0.1:1/a:b").unwrap())
        .unwrap_err();
    assert!(
        one_line(&err).contains("do not form a client certificate"),
        "{err}"
    );

    let missing = Client::new(support::options().cert_dir(Some("/nonexistent/certs".into())));
    let reference = Reference::parse("127.0.0.1:1/a:b").unwrap();
    assert!(matches!(
        missing.get_manifest(&reference),
        Err(Error::CertDir { .. })
    ));
}

#[test]
fn token_auth_with_an_identity_token_uses_the_oauth2_refresh_grant() {
    let Some(registry) = Registry::token() else {
        return;
    };
    let token = Credentials::IdentityToken(support::REFRESH_TOKEN.into());
    let client = Client::new(support::options().credentials(Some(token)));
    let image = TestImage::new(15);
    let r = repo(&registry.host(), "pare/idtoken");
    push_image(&client, &r, &image, "v1", None).unwrap();
    assert_pulls_back(&client, &Reference::with_tag(r.clone(), "v1"), &image);

    let wrong = Client::new(
        support::options().credentials(Some(Credentials::IdentityToken("nope".into()))),
    );
    let err = wrong
        .get_manifest(&Reference::with_tag(r, "v1"))
        .unwrap_err();
    assert!(matches!(err, Error::Unauthorized { .. }), "{err:?}");
    one_line(&err);
}

/// Pseudo-random bytes made as they are read: a large blob never in memory.
struct Generated {
    x: u64,
    left: u64,
}

impl Read for Generated {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = buf.len().min(self.left as usize);
        for b in &mut buf[..n] {
            self.x ^= self.x << 13;
            self.x ^= self.x >> 7;
            self.x ^= self.x << 17;
            *b = (self.x >> 24) as u8;
        }
        self.left -= n as u64;
        Ok(n)
    }
}

fn peak_rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

/// A 256 MiB blob pushed (in one streamed PUT and in 16 MiB chunks) and
/// pulled back with its digest checked, in a process whose peak memory
/// stays far below the blob: nothing is held whole. (Speeds are measured
/// by hand, not checked: see BENCHMARKS.md.)
#[test]
fn a_large_blob_streams_through_push_and_pull_in_bounded_memory() {
    let Some(registry) = Registry::plain() else {
        return;
    };
    let size: u64 = 256 << 20;
    let open = || {
        Ok(Box::new(Generated {
            x: 0x9E37_79B9_7F4A_7C15,
            left: size,
        }) as Box<dyn Read>)
    };
    let mut hasher = <sha2::Sha256 as sha2::Digest>::new();
    io::copy(&mut open().unwrap(), &mut hasher).unwrap();
    let digest = Digest::parse(&format!(
        "sha256:{}",
        hex::encode(sha2::Digest::finalize(hasher))
    ))
    .unwrap();
    for chunk in [None, Some(16 << 20)] {
        let client = Client::new(support::options().chunk_size(chunk));
        let r = repo(
            &registry.host(),
            &format!("pare/big-{}", chunk.unwrap_or(0)),
        );
        client.push_blob(&r, &digest, size, &open, None).unwrap();
        let mut reader = client.get_blob(&r, &digest, Some(size)).unwrap();
        assert_eq!(io::copy(&mut reader, &mut io::sink()).unwrap(), size);
    }
    let peak_mib = peak_rss_kib() >> 10;
    assert!(peak_mib > 0, "VmHWM not read");
    assert!(peak_mib < 96, "peak RSS {peak_mib} MiB for a 256 MiB blob");
}
