//! The hostile corpus: small images an attacker could hand pare, each built
//! here by the test (nothing hostile is stored or downloaded), each run
//! through the real binary for `inspect`, `sbom`, `audit`, `copy` and
//! `minify`, under a harness in the spirit of moby's breakout tests.
//!
//! Every case lives in a scratch folder holding a "host" folder of victim
//! files with known content, the image, an empty destination and an empty
//! TMPDIR. After each command:
//! - nothing outside the destination was created, changed or deleted
//!   (names, content, mode and mtime of the whole scratch folder, the image
//!   itself included), and TMPDIR is empty again;
//! - no victim content appears on stdout, on stderr or in any file written
//!   at the destination (copies and minified images are written as
//!   uncompressed docker archives, so their layers are searchable);
//! - the command finished in under 10 s wall time with a peak RSS under
//!   256 MB (GNU time), under a hard `timeout` so a hang is a failure and
//!   never a stuck suite, and under an address-space cap so a runaway
//!   allocation aborts instead of taking the machine down;
//! - the exit status is 0 or 1, never a signal and never a panic; on 1
//!   stderr is exactly one line `pare: error: …` naming what the case
//!   expects, and the destination is left empty;
//! - the outcome is the one the case expects for that command.

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::common::*;
use crate::require;

/// Per command: wall time and peak memory every case must stay under.
const WALL_LIMIT_SECS: f64 = 10.0;
const RSS_LIMIT_KB: u64 = 256 * 1024;
/// A command still running after this is killed and counted as a hang.
const HARD_TIMEOUT_SECS: u32 = 20;
/// Address-space cap: far above the RSS bound (threads and allocator
/// arenas reserve address space), far below what a runaway takes.
const ADDRESS_SPACE_CAP: u64 = 4 << 30;
/// What every victim file holds; it must never show up in any output.
const VICTIM: &str = "VICTIM-7f3a9c-host-content-pare-must-never-read";

// ---------------------------------------------------------------------------
// Expectations

/// What one command must do on one case.
#[derive(Clone, Debug)]
enum Want {
    /// Exit 0: the image is handled safely.
    Ok,
    /// Exit 1 with one line saying one of these (case-insensitive).
    Err(Vec<String>),
    /// Either of the above: the contract leaves the choice to the reader
    /// (for example a budget that may refuse or may skip with a warning).
    OkOrErr(Vec<String>),
}

fn ok() -> Want {
    Want::Ok
}

fn err(needles: &[&str]) -> Want {
    Want::Err(needles.iter().map(|s| s.to_string()).collect())
}

fn ok_or_err(needles: &[&str]) -> Want {
    Want::OkOrErr(needles.iter().map(|s| s.to_string()).collect())
}

/// `trace` runs the image's `/app` in pare's sandbox (materialising the
/// hostile root first): whatever the image, it ends in one line or
/// success, within the bounds, touching no victim.
/// `scan` catalogs as `sbom` does and then looks every package up in a
/// small database (the Debian tracker reference records).
const COMMANDS: [&str; 7] = [
    "inspect", "sbom", "audit", "copy", "minify", "trace", "scan",
];

/// The expected outcome per command, in [`COMMANDS`] order.
#[derive(Clone, Debug)]
struct Expect([Want; 7]);

impl Expect {
    /// `want` for every command but `trace`, which may fail or succeed
    /// (an image's `/app` may run or not) but must keep every promise.
    fn all(want: Want) -> Self {
        let mut expect = Expect(std::array::from_fn(|_| want.clone()));
        let trace = COMMANDS.iter().position(|c| *c == "trace").unwrap();
        expect.0[trace] = ok_or_err(&[]);
        expect
    }
    /// `want` for `command`; for `sbom`, for `scan` too, which reads the
    /// image the same way.
    fn but(mut self, command: &str, want: Want) -> Self {
        let i = COMMANDS.iter().position(|c| *c == command).unwrap();
        if command == "sbom" {
            let scan = COMMANDS.iter().position(|c| *c == "scan").unwrap();
            self.0[scan] = want.clone();
        }
        self.0[i] = want;
        self
    }
}

// ---------------------------------------------------------------------------
// The scratch folder

/// One case's scratch folder: `host/` (victims), `image/`, `dest/`, `tmp/`;
/// GNU time's report goes to a folder of its own, outside it.
struct Ctx {
    _dir: tempfile::TempDir,
    root: PathBuf,
    measurements: tempfile::TempDir,
}

impl Ctx {
    fn new() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().to_path_buf();
        for sub in ["host/etc", "host/data", "image", "dest", "tmp"] {
            std::fs::create_dir_all(root.join(sub)).unwrap();
        }
        for (name, mode) in [
            ("host/victim.txt", 0o644),
            ("host/etc/passwd", 0o644),
            ("host/data/keep", 0o600),
            ("host/data/app", 0o755),
        ] {
            let path = root.join(name);
            std::fs::write(&path, format!("{VICTIM}\n{name}\n")).unwrap();
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode)).unwrap();
        }
        std::os::unix::fs::symlink("victim.txt", root.join("host/victim-link")).unwrap();
        Ctx {
            _dir: dir,
            root,
            measurements: tempfile::tempdir().unwrap(),
        }
    }
    fn host(&self) -> PathBuf {
        self.root.join("host")
    }
    /// The host folder as a link target, without its leading `/`.
    fn host_abs(&self) -> String {
        self.host().display().to_string()
    }
    fn image(&self) -> PathBuf {
        self.root.join("image")
    }
    fn dest(&self) -> PathBuf {
        self.root.join("dest")
    }
    fn tmp(&self) -> PathBuf {
        self.root.join("tmp")
    }
}

/// What a path is, for the snapshot: kind, mode, mtime and content hash
/// (or link target). FIFOs are never opened.
fn describe(path: &Path) -> String {
    let meta = std::fs::symlink_metadata(path).unwrap();
    let kind = meta.file_type();
    let what = if kind.is_symlink() {
        format!("-> {}", std::fs::read_link(path).unwrap().display())
    } else if kind.is_file() {
        let mut sha = Sha256::new();
        let mut file = std::fs::File::open(path).unwrap();
        std::io::copy(&mut file, &mut sha).unwrap();
        format!("file {}", hex::encode(sha.finalize()))
    } else if kind.is_dir() {
        "dir".to_string()
    } else {
        "special".to_string()
    };
    format!(
        "{what} mode {:o} mtime {}.{}",
        meta.mode(),
        meta.mtime(),
        meta.mtime_nsec()
    )
}

/// Every path under the scratch folder but `dest/` and `tmp/`, described.
fn snapshot(ctx: &Ctx) -> BTreeMap<PathBuf, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![ctx.root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path == ctx.dest() || path == ctx.tmp() {
                continue;
            }
            let desc = describe(&path);
            if desc.starts_with("dir") {
                stack.push(path.clone());
            }
            out.insert(path, desc);
        }
    }
    out.insert(ctx.root.clone(), describe(&ctx.root));
    out
}

/// Every file under `dir` (recursively), relative name → bytes.
fn files_under(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for entry in std::fs::read_dir(&d).unwrap() {
            let path = entry.unwrap().path();
            let meta = std::fs::symlink_metadata(&path).unwrap();
            if meta.is_dir() {
                stack.push(path);
            } else if meta.is_file() {
                out.push((path.clone(), std::fs::read(&path).unwrap()));
            } else {
                out.push((path, Vec::new()));
            }
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn clear(dir: &Path) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if std::fs::symlink_metadata(&path).unwrap().is_dir() {
            std::fs::remove_dir_all(&path).unwrap();
        } else {
            std::fs::remove_file(&path).unwrap();
        }
    }
}

// ---------------------------------------------------------------------------
// Running a command under bounds

/// One bounded run of pare.
struct Run {
    code: Option<i32>,
    stdout: Vec<u8>,
    stderr: String,
    wall: f64,
    rss_kb: u64,
}

/// GNU time, timeout and prlimit, or a skip.
fn bounds_tools() -> Option<()> {
    if !Path::new("/usr/bin/time").is_file() {
        missing("GNU time at /usr/bin/time (Debian package time)")?;
    }
    tool("timeout")?;
    tool("prlimit")
}

fn run_bounded(ctx: &Ctx, args: &[String]) -> Run {
    let measured = ctx.measurements.path().join("time.out");
    let started = Instant::now();
    let out = Command::new("/usr/bin/time")
        .arg("-o")
        .arg(&measured)
        .args(["-f", "%e %M"])
        .args(["timeout", "-k", "5", &HARD_TIMEOUT_SECS.to_string()])
        .args(["prlimit", &format!("--as={ADDRESS_SPACE_CAP}"), "--"])
        .arg(env!("CARGO_BIN_EXE_pare"))
        .args(args)
        .env("TMPDIR", ctx.tmp())
        .env("NO_COLOR", "1")
        .stdin(std::process::Stdio::null())
        .output()
        .expect("GNU time runs");
    let elapsed = started.elapsed().as_secs_f64();
    let text = std::fs::read_to_string(&measured).unwrap_or_default();
    std::fs::remove_file(&measured).ok();
    // The last line is ours; "Command exited with non-zero status" or
    // "Command terminated by signal" may come before it.
    let (wall, rss_kb) = text
        .lines()
        .last()
        .and_then(|l| l.split_once(' '))
        .and_then(|(w, m)| Some((w.parse().ok()?, m.parse().ok()?)))
        .unwrap_or((elapsed, 0));
    Run {
        code: out.status.code(),
        stdout: out.stdout,
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        wall,
        rss_kb,
    }
}

/// The argument list of `command` on `source`.
fn command_args(ctx: &Ctx, command: &str, source: &str) -> Vec<String> {
    let dest = ctx.dest();
    let mut args = vec![command.to_string(), source.to_string()];
    match command {
        "copy" => args.push(format!(
            "docker-archive:{}",
            dest.join("copy.tar").display()
        )),
        "minify" => args.extend([
            "--static-only".to_string(),
            "--entrypoint".to_string(),
            "/app".to_string(),
            "-o".to_string(),
            format!("docker-archive:{}", dest.join("min.tar").display()),
            "--dockerfile".to_string(),
            dest.join("Dockerfile").display().to_string(),
        ]),
        "trace" => args.extend([
            "--entrypoint".to_string(),
            "/app".to_string(),
            "--probe-duration".to_string(),
            "1".to_string(),
        ]),
        "scan" => args.extend(["--db".to_string(), scan_database().display().to_string()]),
        _ => {}
    }
    args
}

/// The database `scan` runs with: the Debian tracker reference records,
/// imported once into cargo's scratch folder for integration tests (each
/// case is its own process: one imports under a name of its own and
/// renames, so a concurrent case never sees half a database).
fn scan_database() -> PathBuf {
    let db = Path::new(env!("CARGO_TARGET_TMPDIR")).join("hostile-scan.db");
    if !db.exists() {
        let own = db.with_extension(format!("db.{}", std::process::id()));
        let records = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../pare-vuln/tests/data/debian-tracker/records");
        pare_ok(&[
            "db",
            "import",
            "--db",
            own.to_str().unwrap(),
            records.to_str().unwrap(),
        ]);
        std::fs::rename(&own, &db).unwrap();
    }
    db
}

/// A case: how to build its image, what each command must do, and an
/// optional extra check on a successful run's stdout and destination.
struct Case {
    name: &'static str,
    build: fn(&Ctx) -> String,
    expect: Expect,
    check: Option<Check>,
}

/// Given the scratch folder, the source, the command and its run.
type Check = fn(&Ctx, &str, &str, &Run);

impl Case {
    fn new(name: &'static str, build: fn(&Ctx) -> String, expect: Expect) -> Self {
        Case {
            name,
            build,
            expect,
            check: None,
        }
    }
    fn check(mut self, check: Check) -> Self {
        self.check = Some(check);
        self
    }

    /// Builds the image, runs every command, and fails with the list of
    /// every broken promise (all commands are run, so one report says all).
    fn run(self) {
        require!(bounds_tools());
        let ctx = Ctx::new();
        let built = Instant::now();
        let source = (self.build)(&ctx);
        let build_secs = built.elapsed().as_secs_f64();
        let before = snapshot(&ctx);
        let mut failures = Vec::new();
        for (command, want) in COMMANDS.iter().zip(&self.expect.0) {
            if failures.iter().any(|f: &String| f.contains(": hung: ")) {
                // One hang is enough to know; the others would only wait.
                failures.push(format!("{command}: not run after a hang"));
                continue;
            }
            let args = command_args(&ctx, command, &source);
            let run = run_bounded(&ctx, &args);
            eprintln!(
                "{}: {command}: exit {:?} in {:.2} s, {} MB peak (image built in {build_secs:.1} s)",
                self.name,
                run.code,
                run.wall,
                run.rss_kb / 1024
            );
            for problem in judge(&ctx, &before, want, &run) {
                failures.push(format!("{command}: {problem}"));
            }
            if run.code == Some(0)
                && *command != "trace"
                && let Some(check) = self.check
            {
                let caught = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                    check(&ctx, &source, command, &run)
                }));
                if let Err(e) = caught {
                    let msg = e
                        .downcast_ref::<String>()
                        .cloned()
                        .or_else(|| e.downcast_ref::<&str>().map(|s| s.to_string()))
                        .unwrap_or_default();
                    failures.push(format!("{command}: check failed: {msg}"));
                }
            }
            clear(&ctx.dest());
            clear(&ctx.tmp());
        }
        assert!(
            failures.is_empty(),
            "{}: {} broken promise(s):\n  {}",
            self.name,
            failures.len(),
            failures.join("\n  ")
        );
    }
}

/// Every way `run` breaks the harness's promises or the case's `want`.
fn judge(ctx: &Ctx, before: &BTreeMap<PathBuf, String>, want: &Want, run: &Run) -> Vec<String> {
    let mut problems = Vec::new();
    let stderr_tail: String = run
        .stderr
        .chars()
        .rev()
        .take(600)
        .collect::<Vec<_>>()
        .into_iter()
        .rev()
        .collect();
    match run.code {
        Some(0) | Some(1) => {}
        Some(124) | Some(137) => problems.push(format!(
            "hung: killed after {HARD_TIMEOUT_SECS} s; stderr: {stderr_tail}"
        )),
        other => problems.push(format!(
            "exit status {other:?} (a signal or a crash); stderr: {stderr_tail}"
        )),
    }
    if run.stderr.contains("panicked") {
        problems.push(format!("panicked: {stderr_tail}"));
    }
    if run.wall >= WALL_LIMIT_SECS {
        problems.push(format!("took {:.2} s, over {WALL_LIMIT_SECS} s", run.wall));
    }
    if run.rss_kb >= RSS_LIMIT_KB {
        problems.push(format!(
            "peak RSS {} MB, over {} MB",
            run.rss_kb / 1024,
            RSS_LIMIT_KB / 1024
        ));
    }
    // Nothing outside the destination created, changed or deleted.
    let after = snapshot(ctx);
    for (path, was) in before {
        match after.get(path) {
            None => problems.push(format!("deleted {}", path.display())),
            Some(now) if now != was => {
                problems.push(format!("changed {}: {was} → {now}", path.display()))
            }
            _ => {}
        }
    }
    for path in after.keys().filter(|p| !before.contains_key(*p)) {
        problems.push(format!(
            "created {} outside the destination",
            path.display()
        ));
    }
    let left_in_tmp: Vec<_> = std::fs::read_dir(ctx.tmp()).unwrap().collect();
    if !left_in_tmp.is_empty() {
        problems.push(format!("left {} entries in TMPDIR", left_in_tmp.len()));
    }
    // No host content anywhere pare wrote.
    if contains(&run.stdout, VICTIM.as_bytes()) || run.stderr.contains(VICTIM) {
        problems.push("victim content in stdout or stderr".to_string());
    }
    let written = files_under(&ctx.dest());
    for (path, bytes) in &written {
        if contains(bytes, VICTIM.as_bytes()) {
            problems.push(format!("victim content in {}", path.display()));
        }
    }
    // The outcome.
    let lines: Vec<&str> = run.stderr.trim_end().lines().collect();
    let clean_error = |needles: &[String]| -> Option<String> {
        if run.code != Some(1) {
            return Some(format!(
                "wanted exit 1 saying one of {needles:?}, got {:?}; stderr: {stderr_tail}",
                run.code
            ));
        }
        if lines.len() != 1 || !lines[0].starts_with("pare: error: ") {
            return Some(format!(
                "wanted one line `pare: error: …`, got {} lines: {stderr_tail:?}",
                lines.len()
            ));
        }
        let line = lines[0].to_lowercase();
        // No needles: any one clear line will do (`trace` of an image whose
        // `/app` may or may not run).
        if !needles.is_empty() && !needles.iter().any(|n| line.contains(&n.to_lowercase())) {
            return Some(format!("{:?} does not say any of {needles:?}", lines[0]));
        }
        if !written.is_empty() {
            return Some(format!(
                "failed but left {:?} at the destination",
                written.iter().map(|(p, _)| p).collect::<Vec<_>>()
            ));
        }
        None
    };
    match want {
        Want::Ok => {
            if run.code != Some(0) {
                problems.push(format!("wanted exit 0, got {:?}: {stderr_tail}", run.code));
            }
        }
        Want::Err(needles) => problems.extend(clean_error(needles)),
        Want::OkOrErr(needles) => {
            if run.code != Some(0) {
                problems.extend(clean_error(needles));
            }
        }
    }
    problems
}

/// The harness itself: each promise it checks, broken on purpose, is
/// reported; and a bounded run really measures.
#[test]
fn hostile_harness_notices_every_broken_promise() {
    require!(bounds_tools());
    let ctx = Ctx::new();
    let before = snapshot(&ctx);
    let measured = run_bounded(&ctx, &["--version".to_string()]);
    assert_eq!(measured.code, Some(0), "{}", measured.stderr);
    assert!(measured.rss_kb > 0 && measured.wall < WALL_LIMIT_SECS);
    assert!(judge(&ctx, &before, &ok(), &measured).is_empty());

    std::fs::write(ctx.host().join("victim.txt"), "changed").unwrap();
    std::fs::remove_file(ctx.host().join("etc/passwd")).unwrap();
    std::fs::write(ctx.image().join("new"), "x").unwrap();
    std::fs::write(ctx.tmp().join("left"), "x").unwrap();
    std::fs::write(ctx.dest().join("out"), VICTIM).unwrap();
    let broken = Run {
        code: Some(1),
        stdout: VICTIM.as_bytes().to_vec(),
        stderr: "pare: error: one\nthread 'main' panicked at x\n".into(),
        wall: WALL_LIMIT_SECS + 1.0,
        rss_kb: RSS_LIMIT_KB + 1,
    };
    let problems = judge(&ctx, &before, &err(&["absent"]), &broken).join("\n");
    for said in [
        "changed ",
        "deleted ",
        "created ",
        "TMPDIR",
        "victim content in stdout",
        "victim content in /",
        "panicked",
        "over 10 s",
        "over 256 MB",
        "one line",
    ] {
        assert!(problems.contains(said), "{said:?} not in:\n{problems}");
    }
    let mut signalled = broken;
    signalled.code = None;
    assert!(
        judge(&ctx, &before, &ok(), &signalled)
            .join("\n")
            .contains("a signal")
    );
    signalled.code = Some(124);
    assert!(
        judge(&ctx, &before, &ok(), &signalled)
            .join("\n")
            .contains("hung")
    );
    let one_line = Run {
        code: Some(1),
        stdout: Vec::new(),
        stderr: "pare: error: something else\n".into(),
        wall: 0.1,
        rss_kb: 1,
    };
    let problems = judge(&ctx, &before, &err(&["absent"]), &one_line).join("\n");
    assert!(problems.contains("does not say"), "{problems}");
}

// ---------------------------------------------------------------------------
// Building layers

fn sha(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// Passes bytes through, hashing and counting them (the diff_id of a tar
/// stream that is never held whole).
struct Hashing<W> {
    inner: W,
    sha: Sha256,
}

impl<W: Write> Write for Hashing<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.sha.update(&buf[..n]);
        Ok(n)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

#[derive(Clone, Copy)]
enum Comp {
    None,
    Gzip,
    Zstd,
}

/// A layer blob as stored, its media type and its diff_id.
#[derive(Clone)]
struct Layer {
    blob: Vec<u8>,
    media_type: &'static str,
    diff_id: String,
}

/// A tar stream written by hand, header by header, so that names and
/// headers can be anything an attacker writes.
struct Tar<'a> {
    w: &'a mut dyn Write,
}

const BLOCK: usize = 512;

impl Tar<'_> {
    /// A ustar header with raw name and link name (each at most 100 bytes).
    fn header(&mut self, name: &[u8], kind: u8, size: u64, mode: u32, link: &[u8]) {
        let mut h = tar::Header::new_ustar();
        let old = h.as_old_mut();
        old.name[..name.len()].copy_from_slice(name);
        old.linkname[..link.len()].copy_from_slice(link);
        h.set_size(size);
        h.set_mode(mode);
        h.set_uid(0);
        h.set_gid(0);
        h.set_mtime(1_700_000_000);
        h.set_entry_type(tar::EntryType::new(kind));
        h.set_cksum();
        self.w.write_all(h.as_bytes()).unwrap();
    }
    fn pad(&mut self, size: u64) {
        let rest = (BLOCK - (size % BLOCK as u64) as usize) % BLOCK;
        self.w.write_all(&[0; BLOCK][..rest]).unwrap();
    }
    fn entry(&mut self, name: &str, kind: u8, data: &[u8], mode: u32, link: &str) {
        self.header(
            name.as_bytes(),
            kind,
            data.len() as u64,
            mode,
            link.as_bytes(),
        );
        self.w.write_all(data).unwrap();
        self.pad(data.len() as u64);
    }
    fn file(&mut self, name: &str, data: &[u8]) {
        self.entry(name, b'0', data, 0o644, "");
    }
    fn exe(&mut self, name: &str, data: &[u8]) {
        self.entry(name, b'0', data, 0o755, "");
    }
    fn dir(&mut self, name: &str) {
        self.entry(name, b'5', b"", 0o755, "");
    }
    fn symlink(&mut self, name: &str, target: &str) {
        self.entry(name, b'2', b"", 0o777, target);
    }
    fn hardlink(&mut self, name: &str, target: &str) {
        self.entry(name, b'1', b"", 0o644, target);
    }
    /// A PAX extended (`x`) or global (`g`) header holding `records`.
    fn pax(&mut self, kind: u8, records: &[(&str, &[u8])]) {
        let mut body = Vec::new();
        for (key, value) in records {
            let rest = key.len() + value.len() + 3; // ' ', '=', '\n'
            let mut len = rest + 1;
            while len.to_string().len() + rest > len {
                len += 1;
            }
            let len = len.to_string().len() + rest;
            body.extend_from_slice(format!("{len} {key}=").as_bytes());
            body.extend_from_slice(value);
            body.push(b'\n');
        }
        self.entry("PaxHeader", kind, &body, 0o644, "");
    }
    /// A regular file of `size` bytes streamed from `data`.
    fn stream(&mut self, name: &str, mode: u32, size: u64, data: &mut dyn Read) {
        self.header(name.as_bytes(), b'0', size, mode, b"");
        let copied = std::io::copy(&mut data.take(size), &mut self.w).unwrap();
        assert_eq!(copied, size);
        self.pad(size);
    }
    /// The program minify starts from in every case that has one: not ELF,
    /// so minify keeps it as it is.
    fn app(&mut self) {
        self.exe("app", b"an entry point made of plain bytes\n");
    }
}

/// Builds a layer: `write` fills the tar, which is ended, hashed and
/// compressed as it streams (never held whole before compression).
fn layer(comp: Comp, write: impl FnOnce(&mut Tar)) -> Layer {
    fn body<W: Write>(w: W, write: impl FnOnce(&mut Tar)) -> (W, String) {
        let mut h = Hashing {
            inner: std::io::BufWriter::with_capacity(1 << 20, w),
            sha: Sha256::new(),
        };
        {
            let mut t = Tar { w: &mut h };
            write(&mut t);
            t.w.write_all(&[0; 2 * BLOCK]).unwrap();
        }
        let diff_id = format!("sha256:{}", hex::encode(h.sha.finalize()));
        (h.inner.into_inner().ok().unwrap(), diff_id)
    }
    let (blob, diff_id, media_type) = match comp {
        Comp::None => {
            let (blob, d) = body(Vec::new(), write);
            (blob, d, "application/vnd.oci.image.layer.v1.tar")
        }
        Comp::Gzip => {
            let e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
            let (e, d) = body(e, write);
            (
                e.finish().unwrap(),
                d,
                "application/vnd.oci.image.layer.v1.tar+gzip",
            )
        }
        Comp::Zstd => {
            let e = zstd::stream::write::Encoder::new(Vec::new(), 1).unwrap();
            let (e, d) = body(e, write);
            (
                e.finish().unwrap(),
                d,
                "application/vnd.oci.image.layer.v1.tar+zstd",
            )
        }
    };
    Layer {
        blob,
        media_type,
        diff_id,
    }
}

// ---------------------------------------------------------------------------
// Writing images

fn config_for(layers: &[Layer]) -> Value {
    json!({
        "architecture": "amd64",
        "os": "linux",
        "config": {"Entrypoint": ["/app"], "Env": ["PATH=/usr/bin:/bin"]},
        "rootfs": {
            "type": "layers",
            "diff_ids": layers.iter().map(|l| l.diff_id.clone()).collect::<Vec<_>>(),
        },
    })
}

/// Where an OCI layout's parts were written.
struct Written {
    index: PathBuf,
    config: PathBuf,
    layers: Vec<PathBuf>,
}

/// Writes an OCI image layout of `layers` and `config` in `dir`.
fn write_oci(dir: &Path, layers: &[Layer], config: &Value) -> Written {
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let mut seen = std::collections::HashSet::new();
    let mut put = |bytes: &[u8], media_type: &str| {
        let hex = sha(bytes);
        if seen.insert(hex.clone()) {
            std::fs::write(blobs.join(&hex), bytes).unwrap();
        }
        (
            json!({"mediaType": media_type, "digest": format!("sha256:{hex}"), "size": bytes.len()}),
            blobs.join(hex),
        )
    };
    let mut layer_descs = Vec::new();
    let mut layer_paths = Vec::new();
    for l in layers {
        let (desc, path) = put(&l.blob, l.media_type);
        layer_descs.push(desc);
        layer_paths.push(path);
    }
    let (config_desc, config_path) = put(
        config.to_string().as_bytes(),
        "application/vnd.oci.image.config.v1+json",
    );
    let manifest = json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": config_desc,
        "layers": layer_descs,
    });
    let (manifest_desc, _) = put(
        manifest.to_string().as_bytes(),
        "application/vnd.oci.image.manifest.v1+json",
    );
    let index = dir.join("index.json");
    std::fs::write(
        &index,
        json!({"schemaVersion": 2, "manifests": [manifest_desc]}).to_string(),
    )
    .unwrap();
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    Written {
        index,
        config: config_path,
        layers: layer_paths,
    }
}

/// An `oci:` source of `layers` in the case's image folder.
fn oci_of(ctx: &Ctx, layers: &[Layer]) -> String {
    write_oci(&ctx.image(), layers, &config_for(layers));
    format!("oci:{}", ctx.image().display())
}

/// A member of an archive written by [`write_tar_members`].
enum Member {
    File(String, Vec<u8>),
    Symlink(String, String),
}

fn write_tar_members(path: &Path, members: &[Member]) {
    let mut file = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    {
        let mut t = Tar { w: &mut file };
        for m in members {
            match m {
                Member::File(name, data) => t.file(name, data),
                Member::Symlink(name, target) => t.symlink(name, target),
            }
        }
        t.w.write_all(&[0; 2 * BLOCK]).unwrap();
    }
    file.flush().unwrap();
}

/// The members of a docker archive of `layers` (layers stored as they are,
/// named by digest) and the manifest; `edit` may change any of them.
fn docker_members(
    layers: &[Layer],
    edit: impl FnOnce(&mut Value, &mut Vec<Member>),
) -> Vec<Member> {
    let config = config_for(layers).to_string().into_bytes();
    let config_name = format!("blobs/sha256/{}", sha(&config));
    let mut members = vec![Member::File(config_name.clone(), config)];
    let mut names = Vec::new();
    for l in layers {
        let name = format!("blobs/sha256/{}", sha(&l.blob));
        members.push(Member::File(name.clone(), l.blob.clone()));
        names.push(name);
    }
    let mut manifest = json!([{"Config": config_name, "RepoTags": ["hostile:1"], "Layers": names}]);
    edit(&mut manifest, &mut members);
    members.push(Member::File(
        "manifest.json".into(),
        manifest.to_string().into_bytes(),
    ));
    members
}

/// A `docker-archive:` source of `layers`, with `edit` applied.
fn docker_archive_of(
    ctx: &Ctx,
    layers: &[Layer],
    edit: impl FnOnce(&mut Value, &mut Vec<Member>),
) -> String {
    let path = ctx.image().join("image.tar");
    write_tar_members(&path, &docker_members(layers, edit));
    format!("docker-archive:{}", path.display())
}

/// A one-layer image holding `/app` and what `write` adds.
fn simple(comp: Comp, write: impl FnOnce(&mut Tar)) -> Vec<Layer> {
    vec![layer(comp, |t| {
        t.app();
        write(t);
    })]
}

// ---------------------------------------------------------------------------
// Tampered archives and manifests

/// The baseline every tampered case starts from must itself work.
fn build_baseline(ctx: &Ctx) -> String {
    oci_of(
        ctx,
        &simple(Comp::Gzip, |t| {
            t.dir("etc");
            t.file("etc/hello", b"hello\n");
        }),
    )
}

#[test]
fn hostile_baseline() {
    Case::new("baseline", build_baseline, Expect::all(ok())).run();
}

fn build_dot_dot_member(ctx: &Ctx) -> String {
    oci_of(
        ctx,
        &simple(Comp::Gzip, |t| {
            t.file("../../../../../../../../tmp/pare-evil", b"x\n");
        }),
    )
}

#[test]
fn hostile_dot_dot_member() {
    Case::new(
        "dot-dot member",
        build_dot_dot_member,
        Expect::all(err(&["escapes the root"])),
    )
    .run();
}

fn build_absolute_member(ctx: &Ctx) -> String {
    let victim = format!("{}/victim.txt", ctx.host_abs());
    docker_archive_of(
        ctx,
        &simple(Comp::None, |t| t.file(&victim, b"overwritten\n")),
        |_, _| {},
    )
}

#[test]
fn hostile_absolute_member() {
    Case::new(
        "absolute member",
        build_absolute_member,
        Expect::all(err(&["escapes the root"])),
    )
    .run();
}

fn build_layer_digest_mismatch(ctx: &Ctx) -> String {
    let layers = simple(Comp::Gzip, |t| t.file("etc-hello", b"hello\n"));
    let written = write_oci(&ctx.image(), &layers, &config_for(&layers));
    let mut bytes = std::fs::read(&written.layers[0]).unwrap();
    let at = bytes.len() - 10;
    bytes[at] ^= 0xff;
    std::fs::write(&written.layers[0], bytes).unwrap();
    format!("oci:{}", ctx.image().display())
}

#[test]
fn hostile_layer_digest_mismatch() {
    Case::new(
        "layer digest mismatch",
        build_layer_digest_mismatch,
        Expect::all(err(&["digest mismatch"])),
    )
    .run();
}

fn build_diff_id_mismatch(ctx: &Ctx) -> String {
    let layers = simple(Comp::Gzip, |t| t.file("etc-hello", b"hello\n"));
    let mut config = config_for(&layers);
    config["rootfs"]["diff_ids"][0] = json!(format!("sha256:{}", "0".repeat(64)));
    write_oci(&ctx.image(), &layers, &config);
    format!("oci:{}", ctx.image().display())
}

#[test]
fn hostile_diff_id_mismatch() {
    Case::new(
        "diff_id mismatch",
        build_diff_id_mismatch,
        Expect::all(err(&["diff_id"])),
    )
    .run();
}

fn build_manifest_layer_escapes(ctx: &Ctx) -> String {
    docker_archive_of(ctx, &simple(Comp::None, |_| {}), |manifest, _| {
        manifest[0]["Layers"] = json!(["../host/victim.txt"]);
    })
}

#[test]
fn hostile_docker_archive_layer_path_escapes() {
    Case::new(
        "docker-archive layer path ../",
        build_manifest_layer_escapes,
        Expect::all(err(&["escapes the root"])),
    )
    .run();
}

fn build_manifest_config_absolute(ctx: &Ctx) -> String {
    let victim = format!("{}/victim.txt", ctx.host_abs());
    docker_archive_of(ctx, &simple(Comp::None, |_| {}), |manifest, _| {
        manifest[0]["Config"] = json!(victim);
    })
}

#[test]
fn hostile_docker_archive_config_path_absolute() {
    Case::new(
        "docker-archive config path absolute",
        build_manifest_config_absolute,
        Expect::all(err(&["escapes the root"])),
    )
    .run();
}

fn build_manifest_config_escapes(ctx: &Ctx) -> String {
    docker_archive_of(ctx, &simple(Comp::None, |_| {}), |manifest, _| {
        manifest[0]["Config"] = json!("../x");
    })
}

#[test]
fn hostile_docker_archive_config_path_escapes() {
    Case::new(
        "docker-archive config path ../x",
        build_manifest_config_escapes,
        Expect::all(err(&["escapes the root"])),
    )
    .run();
}

/// An `oci:` layout whose `which` part is a symlink to a host victim file.
fn symlinked_out(ctx: &Ctx, which: fn(&Written) -> PathBuf) -> String {
    let layers = simple(Comp::Gzip, |t| t.file("etc-hello", b"hello\n"));
    let written = write_oci(&ctx.image(), &layers, &config_for(&layers));
    let path = which(&written);
    std::fs::remove_file(&path).unwrap();
    std::os::unix::fs::symlink(ctx.host().join("victim.txt"), &path).unwrap();
    format!("oci:{}", ctx.image().display())
}

fn build_index_symlinked_out(ctx: &Ctx) -> String {
    symlinked_out(ctx, |w| w.index.clone())
}

#[test]
fn hostile_index_json_symlinked_out_of_the_layout() {
    Case::new(
        "index.json symlinked to a host file",
        build_index_symlinked_out,
        Expect::all(err(&["symlink"])),
    )
    .run();
}

fn build_config_symlinked_out(ctx: &Ctx) -> String {
    symlinked_out(ctx, |w| w.config.clone())
}

#[test]
fn hostile_config_blob_symlinked_out_of_the_layout() {
    Case::new(
        "config blob symlinked to a host file",
        build_config_symlinked_out,
        Expect::all(err(&["symlink"])),
    )
    .run();
}

// ---------------------------------------------------------------------------
// Classics: escapes through links, whiteouts, special files

fn build_symlink_out_same_layer(ctx: &Ctx) -> String {
    let host = ctx.host_abs();
    oci_of(
        ctx,
        &simple(Comp::Gzip, |t| {
            t.symlink("evil", &host);
            t.file("evil/victim.txt", b"overwritten\n");
        }),
    )
}

/// A file written through a link that leaves the root lands inside the
/// root, where the link resolves when the root is the whole world (as a
/// runtime's chroot has it): `/<host>/victim.txt` in the image.
fn check_written_inside(ctx: &Ctx, source: &str, command: &str, _: &Run) {
    if command == "inspect" {
        let files = file_list(source);
        let inside = format!("{}/victim.txt", ctx.host_abs());
        let what = files.get(&inside).map(String::as_str).unwrap_or("");
        assert!(
            what.starts_with("file 12 "),
            "{inside}: {what:?} in {files:?}"
        );
    }
}

#[test]
fn hostile_symlink_out_of_the_root_written_through_in_the_same_layer() {
    Case::new(
        "symlink out, written through (same layer)",
        build_symlink_out_same_layer,
        Expect::all(ok()),
    )
    .check(check_written_inside)
    .run();
}

fn build_symlink_out_later_layer(ctx: &Ctx) -> String {
    let host = ctx.host_abs();
    let first = layer(Comp::Gzip, |t| {
        t.app();
        t.symlink("evil", &host);
    });
    let second = layer(Comp::Gzip, |t| t.file("evil/victim.txt", b"overwritten\n"));
    oci_of(ctx, &[first, second])
}

#[test]
fn hostile_symlink_out_of_the_root_written_through_in_a_later_layer() {
    Case::new(
        "symlink out, written through (later layer)",
        build_symlink_out_later_layer,
        Expect::all(ok()),
    )
    .check(check_written_inside)
    .run();
}

fn build_symlinked_folder_relative(ctx: &Ctx) -> String {
    let host = ctx.host_abs();
    let first = layer(Comp::Gzip, |t| {
        t.app();
        t.symlink("up", "../../../../../../../../../../../..");
    });
    let second = layer(Comp::Gzip, |t| {
        t.file(&format!("up{host}/victim.txt"), b"overwritten\n");
    });
    oci_of(ctx, &[first, second])
}

#[test]
fn hostile_symlinked_folder_climbing_out_written_through() {
    Case::new(
        "relative symlinked folder out, written through",
        build_symlinked_folder_relative,
        Expect::all(ok()),
    )
    .check(check_written_inside)
    .run();
}

/// Two layers: the first has `etc/keep` and `etc/sub/x`, the second the
/// given whiteout name.
fn whiteout_image(ctx: &Ctx, name: &str) -> String {
    let first = layer(Comp::Gzip, |t| {
        t.app();
        t.dir("etc");
        t.file("etc/keep", b"keep\n");
        t.dir("etc/sub");
        t.file("etc/sub/x", b"x\n");
    });
    let second = layer(Comp::Gzip, |t| t.file(name, b""));
    oci_of(ctx, &[first, second])
}

fn build_whiteout_dot(ctx: &Ctx) -> String {
    whiteout_image(ctx, "etc/.wh..")
}

fn build_whiteout_dot_dot(ctx: &Ctx) -> String {
    whiteout_image(ctx, "etc/.wh...")
}

fn build_whiteout_empty(ctx: &Ctx) -> String {
    whiteout_image(ctx, "etc/.wh.")
}

/// Whiteouts of `.`, `..` or nothing name no entry: refused with one line,
/// or ignored, leaving the lower layer's folder whole.
fn check_whiteout_ignored(_: &Ctx, source: &str, command: &str, _: &Run) {
    if command == "inspect" {
        let files = file_list(source);
        for path in ["/app", "/etc", "/etc/keep", "/etc/sub", "/etc/sub/x"] {
            assert!(files.contains_key(path), "{path} is gone: {files:?}");
        }
    }
}

fn whiteout_case(name: &'static str, build: fn(&Ctx) -> String) {
    Case::new(name, build, Expect::all(ok_or_err(&["whiteout"])))
        .check(check_whiteout_ignored)
        .run();
}

#[test]
fn hostile_whiteout_of_dot() {
    whiteout_case("whiteout .wh..", build_whiteout_dot);
}

#[test]
fn hostile_whiteout_of_dot_dot() {
    whiteout_case("whiteout .wh...", build_whiteout_dot_dot);
}

#[test]
fn hostile_whiteout_of_nothing() {
    whiteout_case("whiteout .wh.", build_whiteout_empty);
}

fn build_whiteout_through_symlink(ctx: &Ctx) -> String {
    let host = ctx.host_abs();
    let first = layer(Comp::Gzip, |t| {
        t.app();
        t.dir("etc");
        t.file("etc/keep", b"keep\n");
        t.symlink("link", "etc");
        t.symlink("hostlink", &host);
    });
    let second = layer(Comp::Gzip, |t| {
        t.file("link/.wh.keep", b"");
        t.file("hostlink/.wh.victim.txt", b"");
        t.file("hostlink/.wh..wh..opq", b"");
    });
    oci_of(ctx, &[first, second])
}

#[test]
fn hostile_whiteouts_through_symlinks() {
    Case::new(
        "whiteouts through symlinks",
        build_whiteout_through_symlink,
        Expect::all(ok()),
    )
    .run();
}

fn build_opaque(ctx: &Ctx) -> String {
    let first = layer(Comp::Gzip, |t| {
        t.app();
        t.dir("d");
        t.file("d/a", b"a\n");
        t.file("d/b", b"b\n");
    });
    let second = layer(Comp::Gzip, |t| {
        t.file("d/.wh..wh..opq", b"");
        t.file("d/c", b"c\n");
    });
    oci_of(ctx, &[first, second])
}

/// The opaque marker hides what the lower layer had in `d`, and nothing else.
fn check_opaque(_: &Ctx, source: &str, command: &str, _: &Run) {
    if command == "inspect" {
        let files = file_list(source);
        let names: Vec<&str> = files.keys().map(String::as_str).collect();
        assert!(
            names.contains(&"/d/c") && !names.contains(&"/d/a") && !names.contains(&"/d/b"),
            "{names:?}"
        );
    }
}

#[test]
fn hostile_opaque_marker() {
    Case::new("opaque marker", build_opaque, Expect::all(ok()))
        .check(check_opaque)
        .run();
}

fn build_hardlink_to_symlink(ctx: &Ctx) -> String {
    let victim = format!("{}/victim.txt", ctx.host_abs());
    oci_of(
        ctx,
        &simple(Comp::Gzip, |t| {
            t.symlink("s", &victim);
            t.hardlink("h", "s");
        }),
    )
}

#[test]
fn hostile_hardlink_to_a_symlink() {
    Case::new(
        "hardlink to a symlink",
        build_hardlink_to_symlink,
        Expect::all(ok()),
    )
    .run();
}

fn build_hardlink_out_of_root(ctx: &Ctx) -> String {
    let victim = format!("../../../../../../../..{}/victim.txt", ctx.host_abs());
    oci_of(ctx, &simple(Comp::Gzip, |t| t.hardlink("h", &victim)))
}

#[test]
fn hostile_hardlink_out_of_the_root() {
    Case::new(
        "hardlink out of the root",
        build_hardlink_out_of_root,
        Expect::all(err(&["escapes the root"])),
    )
    .run();
}

fn build_hardlink_absolute(ctx: &Ctx) -> String {
    let victim = format!("{}/victim.txt", ctx.host_abs());
    oci_of(ctx, &simple(Comp::Gzip, |t| t.hardlink("h", &victim)))
}

#[test]
fn hostile_hardlink_to_an_absolute_host_path() {
    // Not in the image: a hardlink's target must be an earlier entry.
    Case::new(
        "hardlink to an absolute host path",
        build_hardlink_absolute,
        Expect::all(err(&["victim.txt"])),
    )
    .run();
}

fn build_device_nodes(ctx: &Ctx) -> String {
    oci_of(
        ctx,
        &simple(Comp::Zstd, |t| {
            t.dir("dev");
            for (name, kind, major, minor) in [
                ("dev/null", b'3', 1, 3),
                ("dev/sda", b'4', 8, 0),
                ("dev/mem", b'3', 1, 1),
            ] {
                let mut h = tar::Header::new_ustar();
                h.set_path(name).unwrap();
                h.set_entry_type(tar::EntryType::new(kind));
                h.set_mode(0o666);
                h.set_size(0);
                h.set_device_major(major).unwrap();
                h.set_device_minor(minor).unwrap();
                h.set_cksum();
                t.w.write_all(h.as_bytes()).unwrap();
            }
            t.entry("dev/fifo", b'6', b"", 0o644, "");
        }),
    )
}

#[test]
fn hostile_device_nodes() {
    Case::new("device nodes", build_device_nodes, Expect::all(ok())).run();
}

fn build_xattrs(ctx: &Ctx) -> String {
    oci_of(
        ctx,
        &simple(Comp::Zstd, |t| {
            // security.capability: cap_net_raw+ep, as setcap writes it.
            let cap: &[u8] = &[
                1, 0, 0, 2, 0, 0x20, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
            ];
            t.pax(
                b'x',
                &[
                    ("SCHILY.xattr.security.capability", cap),
                    ("SCHILY.xattr.user.comment", b"hello"),
                    ("SCHILY.xattr.trusted.overlay.opaque", b"y"),
                ],
            );
            t.exe("ping", b"not really ping\n");
        }),
    )
}

#[test]
fn hostile_xattrs() {
    Case::new("xattrs", build_xattrs, Expect::all(ok())).run();
}

// ---------------------------------------------------------------------------
// Budgets: small blobs that expand, and work repeated

fn build_deep_path(ctx: &Ctx) -> String {
    oci_of(
        ctx,
        &simple(Comp::Gzip, |t| {
            let deep = format!("{}f", "a/".repeat(100_000));
            t.pax(b'x', &[("path", deep.as_bytes())]);
            t.file("f", b"deep\n");
        }),
    )
}

#[test]
fn hostile_path_100000_levels_deep() {
    Case::new(
        "path 100,000 levels deep",
        build_deep_path,
        Expect::all(err(&["path-depth", "path-bytes"])),
    )
    .run();
}

/// A PAX header of `kind` claiming `size` bytes of zeros, streamed into
/// zstd (the blob stays small; nothing that size is ever held).
fn build_huge_pax(ctx: &Ctx, kind: u8, size: u64) -> String {
    oci_of(
        ctx,
        &simple(Comp::Zstd, |t| {
            t.header(b"PaxHeader", kind, size, 0o644, b"");
            let copied = std::io::copy(&mut std::io::repeat(0).take(size), &mut t.w).unwrap();
            assert_eq!(copied, size);
            t.pad(size);
            t.file("after", b"after\n");
        }),
    )
}

fn build_pax_1_5_gib(ctx: &Ctx) -> String {
    build_huge_pax(ctx, b'x', 1536 << 20)
}

#[test]
fn hostile_pax_header_of_1_5_gib() {
    Case::new(
        "1.5 GiB PAX header",
        build_pax_1_5_gib,
        Expect::all(err(&["header-bytes"])),
    )
    .run();
}

fn build_pax_global_200_mb(ctx: &Ctx) -> String {
    build_huge_pax(ctx, b'g', 200 << 20)
}

#[test]
fn hostile_global_pax_header_of_200_mb() {
    Case::new(
        "200 MB global PAX header",
        build_pax_global_200_mb,
        Expect::all(err(&["header-bytes"])),
    )
    .run();
}

fn build_million_entries(ctx: &Ctx) -> String {
    oci_of(
        ctx,
        &simple(Comp::Zstd, |t| {
            // With /app: exactly 1,000,000 entries, the default limit.
            for i in 0..999_999 {
                t.header(format!("{i:06}").as_bytes(), b'0', 0, 0o644, b"");
            }
        }),
    )
}

#[test]
fn hostile_one_million_empty_entries() {
    // At the entries limit, so accepted; within the bounds all the same.
    Case::new(
        "one million empty entries",
        build_million_entries,
        Expect::all(ok()),
    )
    .run();
}

fn build_fifo(ctx: &Ctx, which: fn(&Written) -> PathBuf) -> String {
    let layers = simple(Comp::Gzip, |t| t.file("etc-hello", b"hello\n"));
    let written = write_oci(&ctx.image(), &layers, &config_for(&layers));
    let path = which(&written);
    std::fs::remove_file(&path).unwrap();
    run("mkfifo", &[path.to_str().unwrap()]);
    format!("oci:{}", ctx.image().display())
}

/// The needle a FIFO case's error line must hold: the FIFO's file name.
fn fifo_case(name: &'static str, build: fn(&Ctx) -> String, which: fn(&Written) -> PathBuf) {
    // Build once to learn the (deterministic) file name the error must say.
    let probe = Ctx::new();
    let layers = simple(Comp::Gzip, |t| t.file("etc-hello", b"hello\n"));
    let written = write_oci(&probe.image(), &layers, &config_for(&layers));
    let file_name = which(&written)
        .file_name()
        .unwrap()
        .to_string_lossy()
        .into_owned();
    let needle: &'static str = Box::leak(file_name.into_boxed_str());
    Case::new(name, build, Expect::all(err(&[needle]))).run();
}

fn build_fifo_index(ctx: &Ctx) -> String {
    build_fifo(ctx, |w| w.index.clone())
}

#[test]
fn hostile_fifo_as_index_json() {
    fifo_case("FIFO as index.json", build_fifo_index, |w| w.index.clone());
}

fn build_fifo_config(ctx: &Ctx) -> String {
    build_fifo(ctx, |w| w.config.clone())
}

#[test]
fn hostile_fifo_as_config_blob() {
    fifo_case("FIFO as config blob", build_fifo_config, |w| {
        w.config.clone()
    });
}

fn build_fifo_layer(ctx: &Ctx) -> String {
    build_fifo(ctx, |w| w.layers[0].clone())
}

#[test]
fn hostile_fifo_as_layer_blob() {
    fifo_case("FIFO as layer blob", build_fifo_layer, |w| {
        w.layers[0].clone()
    });
}

fn build_50000_references(ctx: &Ctx) -> String {
    let one = simple(Comp::Gzip, |t| t.file("etc-hello", b"hello\n"));
    let layers = vec![one[0].clone(); 50_000];
    oci_of(ctx, &layers)
}

#[test]
fn hostile_50000_references_to_one_layer() {
    Case::new(
        "50,000 references to one layer blob",
        build_50000_references,
        Expect::all(err(&["layers"])),
    )
    .run();
}

fn build_package_json_budget(ctx: &Ctx) -> String {
    oci_of(
        ctx,
        &simple(Comp::Zstd, |t| {
            for i in 0..8 {
                let head = format!(r#"{{"name":"p{i}","version":"1.0.0","description":""#);
                let tail = "\"}\n";
                let size: u64 = 64 << 20;
                let fill = size - (head.len() + tail.len()) as u64;
                let mut body = head
                    .as_bytes()
                    .chain(std::io::repeat(b'A').take(fill))
                    .chain(tail.as_bytes());
                t.stream(
                    &format!("usr/lib/node_modules/p{i}/package.json"),
                    0o644,
                    size,
                    &mut body,
                );
            }
        }),
    )
}

#[test]
fn hostile_eight_package_json_files_of_64_mib() {
    // 512 MiB of captured metadata: over the metadata budget for sbom.
    // minify reads it too today (653 MB peak): it may refuse the same way
    // or leave package.json alone; inspect, audit and copy never read it.
    let budget = ["metadata-bytes", "metadata-file-bytes"];
    Case::new(
        "8 × 64 MiB package.json",
        build_package_json_budget,
        Expect::all(ok())
            .but("sbom", err(&budget))
            .but("minify", ok_or_err(&budget)),
    )
    .run();
}

/// A 1 MiB Berkeley DB hash database (rpm's `Packages`) in which every
/// value is an off-page item pointing at the same overflow chain: reading
/// each value on its own costs the square of the file's size.
fn shared_overflow_bdb() -> Vec<u8> {
    const PAGE: usize = 4096;
    const PAGES: usize = 256;
    const HASH_PAGES: usize = 128;
    const HEADER: usize = 26;
    let mut db = vec![0u8; PAGE * PAGES];
    let put16 = |db: &mut [u8], at: usize, v: u16| db[at..at + 2].copy_from_slice(&v.to_le_bytes());
    let put32 = |db: &mut [u8], at: usize, v: u32| db[at..at + 4].copy_from_slice(&v.to_le_bytes());
    // Metadata page: hash magic and page size.
    put32(&mut db, 12, 0x0006_1561);
    put32(&mut db, 20, PAGE as u32);
    db[25] = 8; // hash metadata page
    let chain_start = HASH_PAGES + 1;
    let chain_len = PAGES - chain_start;
    let total = (chain_len * (PAGE - HEADER)) as u32;
    let mut record = 1u32;
    for n in 1..=HASH_PAGES {
        let p = n * PAGE;
        db[p + 25] = 13; // hash page
        let pairs = (PAGE - HEADER) / (2 * 2 + 5 + 12);
        put16(&mut db, p + 20, (2 * pairs) as u16);
        let mut cursor = PAGE;
        for j in 0..pairs {
            // Key: the record number; value: the shared overflow chain.
            cursor -= 5;
            let key = cursor;
            db[p + key] = 1;
            put32(&mut db, p + key + 1, record);
            record += 1;
            cursor -= 12;
            let value = cursor;
            db[p + value] = 3;
            put32(&mut db, p + value + 4, chain_start as u32);
            put32(&mut db, p + value + 8, total);
            put16(&mut db, p + HEADER + 4 * j, key as u16);
            put16(&mut db, p + HEADER + 4 * j + 2, value as u16);
        }
    }
    for n in chain_start..PAGES {
        let p = n * PAGE;
        db[p + 25] = 7; // overflow page
        let next = if n + 1 < PAGES { n + 1 } else { 0 };
        put32(&mut db, p + 16, next as u32);
        put16(&mut db, p + 22, (PAGE - HEADER) as u16);
    }
    db
}

fn build_bdb_shared_overflow(ctx: &Ctx) -> String {
    let db = shared_overflow_bdb();
    oci_of(
        ctx,
        &simple(Comp::Gzip, |t| {
            t.file("var/lib/rpm/Packages", &db);
        }),
    )
}

#[test]
fn hostile_berkeley_db_sharing_one_overflow_chain() {
    // sbom and minify read the database: a budget may refuse it, or the
    // reader may read the shared chain once and warn; never 10 GiB.
    let either = ok_or_err(&["limit", "overflow"]);
    Case::new(
        "Berkeley DB Packages sharing one overflow chain",
        build_bdb_shared_overflow,
        Expect::all(ok())
            .but("sbom", either.clone())
            .but("minify", either),
    )
    .run();
}

// ---------------------------------------------------------------------------
// Quirks that look hostile but are not

fn build_docker_archive_top_level_symlink(ctx: &Ctx) -> String {
    let layers = simple(Comp::None, |t| t.file("etc-hello", b"hello\n"));
    let blob = format!("blobs/sha256/{}", sha(&layers[0].blob));
    docker_archive_of(ctx, &layers, |manifest, members| {
        members.push(Member::Symlink("layer.tar".into(), blob));
        manifest[0]["Layers"] = json!(["layer.tar"]);
    })
}

#[test]
fn quirk_top_level_relative_symlink_in_a_docker_archive() {
    Case::new(
        "docker-archive with a top-level relative symlink member",
        build_docker_archive_top_level_symlink,
        Expect::all(ok()),
    )
    .run();
}

fn build_oci_archive_top_level_symlink(ctx: &Ctx) -> String {
    let layers = simple(Comp::Gzip, |t| t.file("etc-hello", b"hello\n"));
    let layout = ctx.root.join("layout");
    write_oci(&layout, &layers, &config_for(&layers));
    let mut members = Vec::new();
    for (path, bytes) in files_under(&layout) {
        let name = path.strip_prefix(&layout).unwrap().display().to_string();
        members.push(Member::File(name, bytes));
    }
    members.sort_by_key(|m| match m {
        Member::File(n, _) | Member::Symlink(n, _) => n != "oci-layout",
    });
    members.push(Member::Symlink("current".into(), "index.json".into()));
    std::fs::remove_dir_all(&layout).unwrap();
    let path = ctx.image().join("image.oci.tar");
    write_tar_members(&path, &members);
    format!("oci-archive:{}", path.display())
}

#[test]
fn quirk_top_level_relative_symlink_in_an_oci_archive() {
    Case::new(
        "oci-archive with a top-level relative symlink member",
        build_oci_archive_top_level_symlink,
        Expect::all(ok()),
    )
    .run();
}

/// The sparse file's data: one block of "hello…" at 0, "world" at 8192.
/// Every region but the last is whole blocks, as GNU tar writes them (its
/// reader starts each region on a block boundary; Python's does not).
fn sparse_regions() -> [(usize, Vec<u8>); 2] {
    let mut first = b"hello".to_vec();
    first.resize(BLOCK, b'h');
    [(0, first), (8192, b"world".to_vec())]
}

/// The sparse file's real content: its regions, zeros between.
fn sparse_content() -> Vec<u8> {
    let mut real = vec![0u8; 8192 + 5];
    for (offset, data) in sparse_regions() {
        real[offset..offset + data.len()].copy_from_slice(&data);
    }
    real
}

fn build_pax_sparse(ctx: &Ctx) -> String {
    let layers = [layer(Comp::Gzip, |t| {
        let real = sparse_content();
        t.pax(
            b'x',
            &[
                ("GNU.sparse.major", b"1"),
                ("GNU.sparse.minor", b"0"),
                ("GNU.sparse.name", b"app"),
                ("GNU.sparse.realsize", real.len().to_string().as_bytes()),
            ],
        );
        // The map (entries, then offset and size of each), padded to a
        // block, then the data of each entry.
        let regions = sparse_regions();
        let mut stored = format!("{}\n", regions.len()).into_bytes();
        for (offset, data) in &regions {
            stored.extend_from_slice(format!("{offset}\n{}\n", data.len()).as_bytes());
        }
        stored.resize(BLOCK, 0);
        for (_, data) in &regions {
            stored.extend_from_slice(data);
        }
        t.entry("GNUSparseFile.0/app", b'0', &stored, 0o755, "");
    })];
    // The fixture is a real sparse file: GNU tar extracts it whole.
    let mut tar = Vec::new();
    flate2::read::GzDecoder::new(&layers[0].blob[..])
        .read_to_end(&mut tar)
        .unwrap();
    let check = tempfile::tempdir().unwrap();
    let archive = check.path().join("layer.tar");
    std::fs::write(&archive, &tar).unwrap();
    let into = check.path().join("x");
    std::fs::create_dir(&into).unwrap();
    run(
        "tar",
        &[
            "-xf",
            archive.to_str().unwrap(),
            "-C",
            into.to_str().unwrap(),
        ],
    );
    assert!(std::fs::read(into.join("app")).unwrap() == sparse_content());
    oci_of(ctx, &layers)
}

fn check_sparse(ctx: &Ctx, _: &str, command: &str, run: &Run) {
    let out = String::from_utf8_lossy(&run.stdout);
    assert!(!out.contains("GNUSparseFile"), "{command} shows {out}");
    if command == "minify" {
        let app = file_from_docker_archive(&ctx.dest().join("min.tar"), "app");
        assert!(
            app == sparse_content(),
            "minified /app is not the sparse file's content"
        );
    }
}

#[test]
fn quirk_pax_sparse_file() {
    Case::new(
        "PAX sparse file (GNU.sparse 1.0)",
        build_pax_sparse,
        Expect::all(ok_or_err(&["sparse"])),
    )
    .check(check_sparse)
    .run();
}

fn build_dot_slash_symlink(ctx: &Ctx) -> String {
    oci_of(
        ctx,
        &simple(Comp::Gzip, |t| {
            t.file("etc-hello", b"hello\n");
            t.symlink("./", "etc");
        }),
    )
}

#[test]
fn quirk_dot_slash_symlink_entry() {
    Case::new(
        "`./` symlink entry",
        build_dot_slash_symlink,
        Expect::all(err(&["root", "./"])),
    )
    .run();
}

fn build_gzip_trailing_zeros(ctx: &Ctx) -> String {
    let mut layers = simple(Comp::Gzip, |t| t.file("etc-hello", b"hello\n"));
    layers[0].blob.extend_from_slice(&[0; 1024]);
    oci_of(ctx, &layers)
}

#[test]
fn quirk_gzip_blob_with_trailing_zero_padding() {
    Case::new(
        "gzip blob with trailing zeros",
        build_gzip_trailing_zeros,
        Expect::all(ok()),
    )
    .run();
}

fn build_self_symlink_entry(ctx: &Ctx) -> String {
    oci_of(
        ctx,
        &[layer(Comp::Gzip, |t| {
            t.symlink("app", "app");
        })],
    )
}

#[test]
fn quirk_minify_entry_point_that_is_a_symlink_loop() {
    Case::new(
        "entry point symlink to itself",
        build_self_symlink_entry,
        Expect::all(ok()).but("minify", err(&["loop"])),
    )
    .run();
}

// ---------------------------------------------------------------------------
// Names that reach a terminal or become paths

fn build_control_characters(ctx: &Ctx) -> String {
    oci_of(
        ctx,
        &simple(Comp::Gzip, |t| {
            t.dir("etc");
            t.file("etc/\x1b[2J\x1b]0;pwned\x07title", &[b'e'; 3000]);
            t.dir("usr");
            t.dir("usr/bin");
            // A setuid file whose name returns to the line's start: raw,
            // it would overwrite its own HIGH finding.
            t.entry("usr/bin/\rsu", b'0', &[b's'; 2000], 0o4755, "");
            t.dir("tmp");
            t.file("tmp/line\nbreak", &[b'l'; 1000]);
        }),
    )
}

/// Text output escapes control characters in names (JSON would be
/// unaffected; only text is asked for here).
fn check_escaped(_: &Ctx, _: &str, command: &str, run: &Run) {
    for byte in [0x1b, 0x07, b'\r'] {
        assert!(
            !run.stdout.contains(&byte),
            "{command} printed a raw {byte:#04x}: {:?}",
            String::from_utf8_lossy(&run.stdout)
        );
    }
    assert!(
        !contains(&run.stdout, b"line\nbreak"),
        "{command} printed a raw line feed inside a name"
    );
}

#[test]
fn hostile_control_characters_in_names() {
    Case::new(
        "ESC, BEL, CR and LF in names",
        build_control_characters,
        Expect::all(ok()),
    )
    .check(check_escaped)
    .run();
}

/// A dpkg status entry whose `Package:` climbs out of `status.d` towards
/// the host folder, owning `/app` so that minify keeps it: its
/// `info/<name>.md5sums`, `..` clamped at the image root, is a symlink
/// back to a real md5sums file that lists `/app`.
fn build_package_name_path(ctx: &Ctx) -> String {
    let climb = format!("../../../../../../../../../..{}/pwned", ctx.host_abs());
    let md5sums_link = format!("{}/pwned.md5sums", &ctx.host_abs()[1..]);
    let status = format!(
        "Package: {climb}\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.0\n\n"
    );
    oci_of(
        ctx,
        &simple(Comp::Gzip, |t| {
            t.file("var/lib/dpkg/status", status.as_bytes());
            t.file(
                "var/lib/dpkg/info/real.md5sums",
                b"d41d8cd98f00b204e9800998ecf8427e  /app\n",
            );
            t.symlink(&md5sums_link, "/var/lib/dpkg/info/real.md5sums");
        }),
    )
}

#[test]
fn hostile_package_name_that_is_a_path() {
    // The harness proves nothing is written beside the destination (the
    // --dockerfile context included); the name must be refused where it
    // is read, in one line, or the package skipped.
    let either = ok_or_err(&["package"]);
    Case::new(
        "dpkg Package: climbing out of status.d",
        build_package_name_path,
        Expect::all(ok())
            .but("sbom", either.clone())
            .but("minify", either),
    )
    .run();
}
