//! Traced minify on real workloads, with probes and no `--include`: each
//! result is verified by pare in its own sandbox (the same probes run on
//! the minified image), then `docker run` and answers real requests with
//! the right content, and holds no package manager, base64, wget, curl or
//! perl (a shell only where a kept script needs it).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::common::*;
use crate::require;

/// `pare minify IMAGE -o docker-archive:OUT:TAG EXTRA… --report R`;
/// returns the report.
fn traced_minify(image: &Path, out: &Path, tag: &str, extra: &[&str]) -> Value {
    let report = out.with_extension("report.json");
    let source = format!("docker-archive:{}", image.display());
    let dest = format!("docker-archive:{}:{tag}", out.display());
    let mut args = vec!["minify", &source, "-o", &dest, "--report"];
    let report_arg = report.display().to_string();
    args.push(&report_arg);
    args.extend_from_slice(extra);
    pare_ok(&args);
    serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap()
}

/// The result was verified: every probe passed on the minified image.
fn assert_verified(report: &Value) {
    let trace = &report["trace"];
    let verified = trace["verified"].as_array().expect("verified probes");
    assert!(!verified.is_empty(), "no probe ran: {trace}");
    for probe in verified {
        assert_eq!(probe["passed"], true, "{probe}");
    }
}

/// No package manager, base64, wget, curl or perl; a shell only if
/// `shell_allowed`.
fn assert_no_attack_tools(archive: &Path, shell_allowed: bool) {
    let audit: Value = serde_json::from_str(&pare_ok(&[
        "audit",
        "--format",
        "json",
        &format!("docker-archive:{}", archive.display()),
    ]))
    .unwrap();
    for finding in audit["findings"].as_array().unwrap() {
        let kind = finding["kind"].as_str().unwrap();
        let name = finding["name"].as_str().unwrap_or_default();
        assert!(kind != "package-manager" && kind != "busybox", "{finding}");
        assert!(
            !["base64", "wget", "curl", "perl"].contains(&name),
            "{finding}"
        );
        assert!(shell_allowed || kind != "shell", "{finding}");
    }
}

/// `docker load`s the archive; runs it with `-p 127.0.0.1:PORT:INNER`.
fn docker_run(archive: &Path, tag: &str, inner: u16, options: &[&str]) -> (Container, u16) {
    run("docker", &["load", "-i", archive.to_str().unwrap()]);
    let port = test_port();
    let mapping = format!("127.0.0.1:{port}:{inner}");
    let mut all = vec!["-p", &mapping];
    all.extend_from_slice(options);
    let mut command = vec!["run", "-d"];
    command.extend_from_slice(&all);
    command.push(tag);
    let id = run("docker", &command);
    (
        Container(String::from_utf8_lossy(&id.stdout).trim().to_string()),
        port,
    )
}

/// GET on a published port: the whole answer (status line, headers,
/// body), retried while the server starts.
fn get(port: u16, path: &str) -> String {
    use std::io::{Read, Write};
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let attempt = std::net::TcpStream::connect(("127.0.0.1", port)).and_then(|mut s| {
            s.set_read_timeout(Some(Duration::from_secs(5)))?;
            write!(s, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n")?;
            let mut answer = String::new();
            s.read_to_string(&mut answer)?;
            Ok(answer)
        });
        match attempt {
            Ok(answer) if !answer.is_empty() => return answer,
            _ if Instant::now() > deadline => panic!("nothing answered on {port}"),
            _ => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

/// One inline PING on a fresh connection: true on +PONG.
fn redis_pongs(port: u16) -> bool {
    use std::io::{BufRead, BufReader, Write};
    let Ok(mut stream) = std::net::TcpStream::connect(("127.0.0.1", port)) else {
        return false;
    };
    let _ = stream.set_read_timeout(Some(Duration::from_secs(2)));
    if stream.write_all(b"PING\r\n").is_err() {
        return false;
    }
    let mut line = String::new();
    BufReader::new(stream).read_line(&mut line).is_ok() && line.starts_with("+PONG")
}

fn untag(tag: &str) {
    let _ = Command::new("docker").args(["rmi", "-f", tag]).output();
}

#[test]
fn traced_nginx_serves_under_docker_with_its_own_seccomp_profile() {
    require!(root());
    require!(docker());
    let image = require!(test_image("nginx"));
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("nginx.tar");
    let profile = work.path().join("seccomp.json");
    let tag = "pare-test/nginx-traced:it";
    // No probe: the exposed port 80 is waited for and asked for /.
    let report = traced_minify(&image, &out, tag, &["--seccomp", profile.to_str().unwrap()]);
    assert_verified(&report);
    assert_eq!(report["trace"]["probes"][0]["probe"], "port 80 (exposed)");
    assert_no_attack_tools(&out, false);
    let before = report["before"]["size_bytes"].as_u64().unwrap();
    let after = report["after"]["size_bytes"].as_u64().unwrap();
    assert!(after * 10 < before, "{after} of {before} bytes");

    let seccomp = format!("seccomp={}", profile.display());
    let (_container, port) = docker_run(&out, tag, 80, &["--security-opt", &seccomp]);
    let answer = get(port, "/");
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    assert!(answer.contains("nginx"), "{answer}");
    // A path the probe never asked for is still served (the folder kept).
    let missing = get(port, "/no-such-page");
    assert!(missing.starts_with("HTTP/1.1 404"), "{missing}");
    drop(_container);
    untag(tag);
}

#[test]
fn traced_python_app_keeps_ssl_sqlite_and_zoneinfo_and_a_fifth_of_the_bytes() {
    require!(root());
    require!(docker());
    let image = require!(test_image("python"));
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("python.tar");
    let tag = "pare-test/python-traced:it";
    let report = traced_minify(&image, &out, tag, &["--probe-http", "8080/probe"]);
    assert_verified(&report);
    assert_no_attack_tools(&out, false);
    let before = report["before"]["size_bytes"].as_u64().unwrap();
    let after = report["after"]["size_bytes"].as_u64().unwrap();
    assert!(
        after * 5 <= before,
        "{after} of {before} bytes: more than a fifth"
    );

    let (_container, port) = docker_run(&out, tag, 8080, &[]);
    let answer = get(port, "/hello");
    let body: Value = serde_json::from_str(answer.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(body["path"], "/hello");
    assert!(body["ca_certs"].as_u64().unwrap() > 100, "{body}");
    assert_eq!(body["paris_utc_offset"], 7200.0);
    assert!(body["sqlite"].as_str().unwrap().starts_with('3'), "{body}");
    drop(_container);
    untag(tag);
}

#[test]
fn traced_node_app_keeps_full_icu() {
    require!(root());
    require!(docker());
    let image = require!(test_image("node"));
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("node.tar");
    let tag = "pare-test/node-traced:it";
    let report = traced_minify(&image, &out, tag, &[]);
    assert_verified(&report);
    assert_no_attack_tools(&out, false);
    let (_container, port) = docker_run(&out, tag, 8085, &[]);
    let answer = get(port, "/");
    assert!(answer.contains("März"), "{answer}");
    assert!(answer.contains("2024年3月1日金曜日"), "{answer}");
    drop(_container);
    untag(tag);
}

#[test]
fn traced_redis_behind_an_entrypoint_script_keeps_the_script_its_shell_and_gosu() {
    require!(root());
    require!(docker());
    let image = require!(test_image("redis-gosu"));
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("redis-gosu.tar");
    let tag = "pare-test/redis-gosu-traced:it";
    // redis-cli runs from the original image: the result needs none of it.
    let report = traced_minify(
        &image,
        &out,
        tag,
        &["--probe-cmd", "redis-cli ping", "--explain"],
    );
    assert_verified(&report);
    assert_no_attack_tools(&out, true);
    let files = file_list(&format!("docker-archive:{}", out.display()));
    for kept in [
        "/usr/local/bin/docker-entrypoint.sh",
        "/usr/sbin/gosu",
        "/usr/bin/dash",
        "/usr/bin/chown",
    ] {
        assert!(files.contains_key(kept), "{kept} missing");
    }
    assert!(
        !files.contains_key("/usr/bin/redis-cli"),
        "the probe's client was kept"
    );
    // The user gosu switched to is still known.
    let passwd = file_from_docker_archive(&out, "etc/passwd");
    assert!(
        String::from_utf8_lossy(&passwd).contains("redis:"),
        "no redis user"
    );
    // The kept shell is explained by the script that needs it.
    let kept = report["kept"].as_array().unwrap();
    let entry = kept
        .iter()
        .find(|k| k["path"] == "/usr/local/bin/docker-entrypoint.sh")
        .unwrap();
    assert!(
        entry["reasons"].to_string().contains("executed by"),
        "{entry}"
    );

    let (_container, port) = docker_run(&out, tag, 6379, &[]);
    // Docker's proxy accepts before redis listens: wait for a PONG.
    let deadline = Instant::now() + Duration::from_secs(20);
    while !redis_pongs(port) {
        assert!(Instant::now() < deadline, "redis never answered PING");
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut redis = connect(port);
    assert_eq!(redis_call(&mut redis, &["PING"]), "+PONG");
    assert_eq!(redis_call(&mut redis, &["SET", "k", "v"]), "+OK");
    drop(_container);
    untag(tag);
}

#[test]
fn traced_lambda_function_answers_pares_runtime_api() {
    require!(root());
    let image = require!(test_image("lambda"));
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("lambda.tar");
    let report = traced_minify(
        &image,
        &out,
        "pare-test/lambda-traced:it",
        &["--probe-lambda", r#"{"name": "pare"}"#],
    );
    assert_verified(&report);
    let verified = &report["trace"]["verified"][0]["detail"];
    assert!(
        verified.to_string().contains(r#"\"hello\":\"pare\""#),
        "{verified}"
    );
    assert_no_attack_tools(&out, false);
    let files = file_list(&format!("docker-archive:{}", out.display()));
    assert!(
        files
            .keys()
            .any(|f| f.starts_with("/var/task/awslambdaric/"))
    );
    assert!(!files.keys().any(|f| f.contains("/pip/")), "pip was kept");
}

#[test]
fn traced_server_keeps_the_plugin_it_dlopens_by_name() {
    require!(root());
    require!(docker());
    let image = require!(test_image("cplugins"));
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("plugind.tar");
    let tag = "pare-test/plugind-traced:it";
    let report = traced_minify(&image, &out, tag, &["--probe-http", "8086"]);
    assert_verified(&report);
    assert_no_attack_tools(&out, false);
    let (_container, port) = docker_run(&out, tag, 8086, &[]);
    let answer = get(port, "/");
    assert!(answer.contains("hello from libgreet (zlib"), "{answer}");
    drop(_container);
    untag(tag);
}

#[test]
fn traced_iconv_and_setlocale_keep_gconv_modules_and_the_locale() {
    require!(root());
    require!(docker());
    let image = require!(test_image("cplugins"));
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("convd.tar");
    let tag = "pare-test/convd-traced:it";
    let report = traced_minify(
        &image,
        &out,
        tag,
        &["--entrypoint", "convd", "--probe-http", "8087"],
    );
    assert_verified(&report);
    assert_no_attack_tools(&out, false);
    let (_container, port) = docker_run(&out, tag, 8087, &[]);
    let answer = get(port, "/");
    assert!(answer.contains("1.234.567,89"), "{answer}");
    assert!(answer.contains("c799dc5985"), "{answer}");
    assert!(answer.contains("März"), "{answer}");
    drop(_container);
    untag(tag);
}

#[test]
fn traced_minify_says_when_nothing_exercised_the_app() {
    require!(root());
    let image = require!(test_image("busybox"));
    let work = tempfile::tempdir().unwrap();
    let out = work.path().join("min.tar");
    let output = pare()
        .args([
            "minify",
            &format!("docker-archive:{}", image.display()),
            "-o",
            &format!("docker-archive:{}", out.display()),
            "--entrypoint",
            "/bin/sh",
            "--cmd",
            "-c",
            "--cmd",
            "cat /etc/os-release >/dev/null; sleep 60",
            "--probe-duration",
            "1",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{stderr}");
    assert!(stderr.contains("nothing exercised the app"), "{stderr}");
}

#[test]
fn a_probe_that_never_answers_ends_with_a_clear_message_within_its_timeout() {
    require!(root());
    let image = require!(test_image("busybox"));
    let work = tempfile::tempdir().unwrap();
    let source = format!("docker-archive:{}", image.display());
    let dest = format!("docker-archive:{}", work.path().join("min.tar").display());
    // A port nobody opens, and one that accepts but never answers.
    for (script, probe, says) in [
        ("sleep 60", "9998", "never accepted a connection within 2s"),
        (
            "busybox nc -ll -p 9999 -e /bin/sleep 60",
            "9999",
            "no answer within 2s",
        ),
    ] {
        let started = Instant::now();
        let output = pare()
            .args([
                "minify",
                &source,
                "-o",
                &dest,
                "--entrypoint",
                "/bin/sh",
                "--cmd",
                "-c",
                "--cmd",
                script,
                "--probe-http",
                probe,
                "--probe-timeout",
                "2",
            ])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{stderr}");
        assert!(stderr.contains(says), "{stderr}");
        assert_eq!(stderr.trim().lines().count(), 1, "{stderr}");
        assert!(
            started.elapsed() < Duration::from_secs(20),
            "{:?}",
            started.elapsed()
        );
        assert!(
            !work.path().join("min.tar").exists(),
            "a half-made image was left"
        );
    }
}

#[test]
fn verify_names_what_broke_when_an_exclude_removes_what_the_app_needs() {
    require!(root());
    let image = require!(test_image("python"));
    let work = tempfile::tempdir().unwrap();
    let output = pare()
        .args([
            "minify",
            &format!("docker-archive:{}", image.display()),
            "-o",
            &format!("docker-archive:{}", work.path().join("min.tar").display()),
            "--exclude",
            "/usr/lib/python3.11/sqlite3/**",
        ])
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("--verify: port 8080 (exposed) fails"),
        "{stderr}"
    );
    assert!(
        stderr.contains("ModuleNotFoundError"),
        "the app's own words are shown: {stderr}"
    );
}
