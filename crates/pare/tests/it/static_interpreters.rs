//! `pare minify --static-only` with no `--include` on interpreted
//! workloads (issue 12): the interpreter rules must find the library,
//! the script and what the script runs by themselves. The oracle is the
//! source image: run side by side, both must give the same answer.

use crate::common::*;
use crate::require;

/// The source image of test image `image`, loaded and run with
/// `container_port` published on a loopback port Docker picks; the
/// answer's body to `GET path`.
fn original_answer(image: &str, container_port: u16, path: &str) -> String {
    let archive = test_image(image).expect("checked by serve_static_minified");
    let loaded = run("docker", &["load", "-i", archive.to_str().unwrap()]);
    let loaded = String::from_utf8_lossy(&loaded.stdout);
    let tag = loaded
        .lines()
        .find_map(|l| l.strip_prefix("Loaded image: "))
        .unwrap_or_else(|| panic!("docker load named no image: {loaded}"))
        .trim()
        .to_string();
    let mapping = format!("127.0.0.1::{container_port}");
    let id = run("docker", &["run", "-d", "-p", &mapping, &tag]);
    let container = Container(String::from_utf8_lossy(&id.stdout).trim().to_string());
    let published = run(
        "docker",
        &["port", &container.0, &container_port.to_string()],
    );
    let published = String::from_utf8_lossy(&published.stdout);
    let port: u16 = published
        .lines()
        .find_map(|l| l.rsplit_once(':')?.1.trim().parse().ok())
        .unwrap_or_else(|| panic!("no published port: {published}"));
    body(&answer(port, path)).to_string()
}

/// The whole answer to `GET path` on a loopback port.
fn answer(port: u16, path: &str) -> String {
    http_answer(port, path).unwrap_or_else(|| panic!("no answer to GET {path} on {port}"))
}

/// The body of a whole HTTP answer.
fn body(answer: &str) -> &str {
    let (head, body) = answer.split_once("\r\n\r\n").unwrap_or((answer, ""));
    assert!(head.starts_with("HTTP/1.0 200"), "{answer}");
    body
}

/// The minified image is much smaller than the source archive; the sizes
/// are printed for BENCHMARKS.md.
fn assert_smaller(image: &str, served: &ServedImage) {
    let before = std::fs::metadata(test_image(image).unwrap()).unwrap().len();
    eprintln!("{image}: {before} -> {} bytes", served.bytes);
    assert!(
        served.bytes * 3 <= before,
        "{image}: {} of {before} bytes, more than a third",
        served.bytes
    );
}

#[test]
fn static_python_app_with_ssl_sqlite_and_zoneinfo_answers_as_the_source() {
    let served = require!(serve_static_minified(
        "python",
        "pare-test/python-static:it",
        8080,
        &[],
        &[],
    ));
    let minified = served.get("/interp");
    let line = served.explained("/usr/lib/python3.11/os.py");
    assert!(line.contains("standard library (prefix /usr)"), "{line}");
    assert_eq!(body(&minified), original_answer("python", 8080, "/interp"));
    // What the app reads must really be there, not errors in both.
    let answer: serde_json::Value = serde_json::from_str(body(&minified)).unwrap();
    assert!(answer["ca_certs"].as_u64().unwrap() > 0, "{answer}");
    assert_smaller("python", &served);
}

#[test]
fn static_python_from_source_layout_finds_its_prefix_in_usr_local() {
    let served = require!(serve_static_minified(
        "pylocal",
        "pare-test/pylocal-static:it",
        8088,
        &[],
        &[],
    ));
    let minified = served.get("/interp");
    let line = served.explained("/usr/local/lib/python3.11/os.py");
    assert!(
        line.contains("standard library (prefix /usr/local)"),
        "{line}"
    );
    let original = original_answer("pylocal", 8088, "/interp");
    assert_eq!(body(&minified), original);
    let answer: serde_json::Value = serde_json::from_str(&original).unwrap();
    assert_eq!(answer["prefix"], "/usr/local", "the image's own layout");
    assert_smaller("pylocal", &served);
}

#[test]
fn static_perl_app_keeps_the_program_its_script_runs() {
    let served = require!(serve_static_minified(
        "perl",
        "pare-test/perl-static:it",
        8089,
        &[],
        &[],
    ));
    let minified = served.get("/");
    let line = served.explained("/usr/bin/id");
    assert!(line.contains("run by /app/app.pl as `id`"), "{line}");
    assert!(
        !served.explained.contains("/bin/sh"),
        "a shell kept:\n{}",
        served.explained
    );
    assert!(body(&minified).contains("uid="), "{minified}");
    assert_eq!(body(&minified), original_answer("perl", 8089, "/"));
    assert_smaller("perl", &served);
}
