//! The matcher kinds over in-memory files: each file is scanned as the
//! flattening pass scans it (in small chunks), then classified.

use super::*;
use crate::binary::search::tests::elf_importing;

struct Memory {
    evidence: HashMap<String, Evidence>,
}

impl Image for Memory {
    fn evidence_at(&self, path: &str) -> Option<&Evidence> {
        self.evidence.get(path)
    }
    fn files_named(&self, name: &str) -> Vec<String> {
        let mut found: Vec<String> = self
            .evidence
            .keys()
            .filter(|p| pare_image::paths::file_name(p) == name)
            .cloned()
            .collect();
        found.sort();
        found
    }
}

/// What the scanner keeps of `bytes` at `path`, fed `chunk` bytes at a time.
fn scan(path: &str, bytes: &[u8], chunk: usize) -> Option<Evidence> {
    let mut scan = ClassifierScanner::default().start(path, bytes.len() as u64, 0o755)?;
    for piece in bytes.chunks(chunk) {
        if !scan.feed(piece) {
            break;
        }
    }
    scan.finish()?.downcast::<Evidence>().ok().map(|e| *e)
}

/// (package, version, locations) for each package found among `files`.
fn classified(
    files: &[(&str, Vec<u8>)],
    links: &[(&str, &str)],
    chunk: usize,
) -> Vec<(String, String, Vec<String>)> {
    let rules = rules();
    let evidence: HashMap<String, Evidence> = files
        .iter()
        .filter_map(|(path, bytes)| Some((path.to_string(), scan(path, bytes, chunk)?)))
        .collect();
    let image = Memory { evidence };
    let mut paths: Vec<(String, String, &Evidence)> = image
        .evidence
        .iter()
        .map(|(p, e)| (p.clone(), p.clone(), e))
        .collect();
    // Links: (link path, target path).
    for (link, target) in links {
        if let Some(e) = image.evidence.get(*target) {
            paths.push((link.to_string(), target.to_string(), e));
        }
    }
    paths.sort_by(|a, b| a.0.cmp(&b.0));
    let mut out: Vec<(String, String, Vec<String>)> = classify(rules, &paths, &image)
        .into_iter()
        .map(|c| {
            (
                rules.classifiers[c.classifier].package.clone(),
                c.found.version,
                c.found.locations,
            )
        })
        .collect();
    out.sort();
    out
}

fn bytes(parts: &[&[u8]]) -> Vec<u8> {
    let mut out = vec![0x90u8; 100];
    for part in parts {
        out.extend_from_slice(part);
        out.extend_from_slice(&[0x90; 50]);
    }
    out
}

fn python_elf(lib: &str) -> Vec<u8> {
    elf_importing(&[lib, "libc.so.6"], 0x3000)
}

type Case = (
    &'static str,
    Vec<(&'static str, Vec<u8>)>,
    Vec<(&'static str, &'static str, Vec<&'static str>)>,
);

#[test]
fn matcher_kinds_work_as_syfts() {
    let cases: Vec<Case> = vec![
        (
            "contents: the first version-bearing match",
            vec![(
                "bin/busybox",
                bytes(&[b"BusyBox  v1.36.1 (2023)", b"BusyBox v9.9.9"]),
            )],
            vec![("busybox", "1.36.1", vec!["bin/busybox"])],
        ),
        (
            "contents: a file the globs do not pick is not read",
            vec![("bin/busybox.bak", bytes(&[b"BusyBox v1.36.1"]))],
            vec![],
        ),
        (
            "path_template: the version in the name picks the string",
            vec![(
                "usr/local/bin/python3.11",
                bytes(&[b"\x003.12.0\x00", b"\x003.11.2\x00", b"\x003.11.9+\x00"]),
            )],
            vec![("python", "3.11.2", vec!["usr/local/bin/python3.11"])],
        ),
        (
            "path_template: dots in the name are literal dots",
            vec![("usr/local/bin/python3.11", bytes(&[b"\x003x11.2\x00"]))],
            vec![],
        ),
        (
            "path_template: no version in the name, nothing",
            vec![("usr/local/bin/python3", bytes(&[b"\x003.11.2\x00"]))],
            vec![],
        ),
        (
            "path_template: php-cli needs a bare php name",
            vec![
                ("usr/local/bin/php", bytes(&[b"X-Powered-By: PHP/8.2.7"])),
                (
                    "usr/local/bin/php-config",
                    bytes(&[b"X-Powered-By: PHP/8.2.7"]),
                ),
            ],
            vec![("php-cli", "8.2.7", vec!["usr/local/bin/php"])],
        ),
        (
            "any: the first matcher that finds something wins",
            vec![(
                "usr/local/bin/node",
                bytes(&[b"node.js/v22.9.0", b"\x00v6.17.1\x00"]),
            )],
            vec![("node", "6.17.1", vec!["usr/local/bin/node"])],
        ),
        (
            "any: else the next",
            vec![("usr/local/bin/node", bytes(&[b"node.js/v22.9.0"]))],
            vec![("node", "22.9.0", vec!["usr/local/bin/node"])],
        ),
        (
            "excluding: a veto pattern anywhere drops the match",
            vec![(
                "opt/graal/bin/java",
                bytes(&[
                    b"\x00openjdk\x00java\x0017\x0017.0.7+7\x00",
                    b"\x0017.0.7+7-jvmci-23.0-b12\x00",
                ]),
            )],
            vec![(
                "java/graalvm",
                "17.0.7+7-jvmci-23.0-b12",
                vec!["opt/graal/bin/java"],
            )],
        ),
        (
            "excluding: no veto, the match stands (oracle's vetoed by openjdk)",
            vec![(
                "usr/local/openjdk-17/bin/java",
                bytes(&[b"\x00openjdk\x00java\x000.0\x0017.0.19+10-1-deb12u2-Debian\x00"]),
            )],
            vec![(
                "java/jre",
                "17.0.19+10-1-deb12u2-Debian",
                vec!["usr/local/openjdk-17/bin/java"],
            )],
        ),
        (
            "shared_library: the version from the imported library",
            vec![
                ("usr/local/bin/python3", python_elf("libpython3.11.so.1.0")),
                (
                    "usr/local/lib/libpython3.11.so.1.0",
                    bytes(&[b"\x003.11.4\x00"]),
                ),
            ],
            vec![(
                "python",
                "3.11.4",
                vec![
                    "usr/local/bin/python3",
                    "usr/local/lib/libpython3.11.so.1.0",
                ],
            )],
        ),
        (
            "shared_library: a library the binary does not import is not followed",
            vec![
                ("usr/local/bin/ruby", python_elf("libruby-3.1.so.3.1")),
                (
                    "usr/lib/libruby-3.1.so.3.1",
                    bytes(&[b"ruby 3.1.2p20 (2022-04-12 revision 4491bb740a) "]),
                ),
            ],
            vec![],
        ),
        (
            "shared_library: ruby's own contents first, then libruby.so",
            vec![
                ("usr/local/bin/ruby", python_elf("libruby.so.3.3")),
                (
                    "usr/local/lib/libruby.so.3.3",
                    bytes(&[b"ruby 3.3.0rc1 (2023-12-11 master a49643340e) [x86_64-linux]"]),
                ),
            ],
            vec![(
                "ruby",
                "3.3.0rc1",
                vec!["usr/local/bin/ruby", "usr/local/lib/libruby.so.3.3"],
            )],
        ),
        (
            "merging: the same name and version is one package",
            vec![
                ("bin/busybox", bytes(&[b"BusyBox v1.36.1"])),
                ("usr/bin/busybox", bytes(&[b"BusyBox v1.36.1"])),
                ("opt/busybox", bytes(&[b"BusyBox v1.35.0"])),
            ],
            vec![
                ("busybox", "1.35.0", vec!["opt/busybox"]),
                ("busybox", "1.36.1", vec!["bin/busybox", "usr/bin/busybox"]),
            ],
        ),
    ];
    for (name, files, want) in cases {
        let want: Vec<(String, String, Vec<String>)> = want
            .into_iter()
            .map(|(p, v, l)| {
                (
                    p.to_string(),
                    v.to_string(),
                    l.into_iter().map(String::from).collect(),
                )
            })
            .collect();
        for chunk in [3, 64, 1 << 20] {
            assert_eq!(
                classified(&files, &[], chunk),
                want,
                "{name} (chunks of {chunk})"
            );
        }
    }
}

#[test]
fn versions_come_from_version_or_major_minor_patch() {
    let g = |pairs: &[(&str, &str)]| -> Groups {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    type Case = (Groups, bool, Option<(&'static str, &'static str)>);
    let cases: Vec<Case> = vec![
        (g(&[("version", "1.2.3")]), true, Some(("1.2.3", ""))),
        (
            g(&[("version", "1.2"), ("update", "u5")]),
            false,
            Some(("1.2", "u5")),
        ),
        (
            g(&[("major", "01"), ("minor", "2"), ("patch", "3")]),
            true,
            Some(("1.2.3", "")),
        ),
        (
            g(&[("major", "1"), ("minor", "2"), ("patch", "3")]),
            false,
            None,
        ),
        (
            g(&[("major", "1"), ("minor", "x"), ("patch", "3")]),
            true,
            None,
        ),
        (g(&[("release", "17")]), true, None),
    ];
    for (groups, compose, want) in cases {
        let got = version_of(&groups, compose);
        assert_eq!(
            got.as_ref().map(|(v, u)| (v.as_str(), u.as_str())),
            want,
            "{groups:?}"
        );
    }
}

#[test]
fn cpes_get_the_version_escaped() {
    let cases = [
        (
            "cpe:2.3:a:oracle:openjdk:*:*:*:*:*:*:*:*",
            "17.0.19+10",
            "",
            "cpe:2.3:a:oracle:openjdk:17.0.19\\+10:*:*:*:*:*:*:*",
        ),
        (
            "cpe:2.3:a:helm:helm:*:*:*:*:*:*:*",
            "3.1.0",
            "",
            "cpe:2.3:a:helm:helm:3.1.0:*:*:*:*:*:*:*",
        ),
        (
            "cpe:2.3:a:x:y:*:*:*:*:*:*:*:*",
            "1",
            "u2",
            "cpe:2.3:a:x:y:1:u2:*:*:*:*:*:*",
        ),
    ];
    for (template, version, update, want) in cases {
        assert_eq!(cpe(template, version, update), want);
    }
}

#[test]
fn files_no_classifier_wants_are_not_scanned() {
    for path in ["usr/bin/ls", "etc/passwd", "usr/share/doc/python3/README"] {
        assert!(
            ClassifierScanner::default()
                .start(path, 10, 0o755)
                .is_none(),
            "{path}"
        );
    }
    // A library name a shared-library matcher follows is scanned.
    assert!(
        ClassifierScanner::default()
            .start("usr/lib/libruby.so.3.3", 10, 0o644)
            .is_some()
    );
}

#[test]
fn links_are_classified_by_their_name_with_their_targets_bytes() {
    // BusyBox's gzip applet link: Syft's gzip classifier reads busybox.
    let busybox = bytes(&[b"BusyBox v1.35.0 (Debian)", b"\x001.0\x00"]);
    let files = [("bin/busybox", busybox.clone())];
    let got = classified(&files, &[("bin/gzip", "bin/busybox")], 64);
    let want = |v: &[(&str, &str)]| -> Vec<(String, String, Vec<String>)> {
        v.iter()
            .map(|(n, ver)| {
                (
                    n.to_string(),
                    ver.to_string(),
                    vec!["bin/busybox".to_string()],
                )
            })
            .collect()
    };
    assert_eq!(got, want(&[("busybox", "1.35.0"), ("gzip", "1.0")]));
    // Not executable: only its own classifiers were searched for.
    let mut scan = ClassifierScanner::default()
        .start("bin/busybox", 10, 0o644)
        .unwrap();
    scan.feed(&busybox);
    let evidence = scan.finish().unwrap().downcast::<Evidence>().unwrap();
    assert_eq!(evidence.leaves.len(), 1);
}

#[test]
fn the_search_budget_is_shared_and_cuts_scans_short() {
    let scanner = ClassifierScanner::with_budget(10_000);
    let busybox = bytes(&[b"BusyBox v1.35.0"]);
    // Not executable: one regex, 250 bytes: paid.
    let mut scan = scanner.start("bin/busybox", 0, 0o644).unwrap();
    scan.feed(&busybox);
    let e = scan.finish().unwrap().downcast::<Evidence>().unwrap();
    assert!(!e.cut_short);
    assert!(e.leaves[0].1.is_some());
    // Executable: every regex over 10 000 bytes is more than what is left.
    let mut scan = scanner.start("bin/busybox", 0, 0o755).unwrap();
    assert!(!scan.feed(&[0u8; 10_000]));
    let e = scan.finish().unwrap().downcast::<Evidence>().unwrap();
    assert!(e.cut_short);
    // Spent for the next file too.
    let mut scan = scanner.start("bin/busybox", 0, 0o644).unwrap();
    assert!(!scan.feed(&busybox));
}
