//! Every Debian tracker record in `tests/data/debian-tracker/` gets the
//! bookworm verdict `SOURCES.md` gives it. The expectations are read from
//! SOURCES.md's own tables, not retyped here:
//!
//! * sections `(a)`, `(b)`, `(c)`: file, source package, bookworm status
//!   (text), bookworm fixed version (`-` for none);
//! * "Bookworm source versions used for the implicit rows": the source
//!   versions SOURCES.md states for the bookworm image (6 packages).
//!
//! SOURCES.md states installed versions only for those 6 packages; its other
//! verdicts are release statuses that hold for any installed version at or
//! after the release's fix. So a row without a stated version is checked at
//! the boundary (installed = the fixed version → fixed; installed `0` → open
//! with that fix available), and open / not-affected rows at both `0` and
//! `99:99` (their verdict must not depend on the version).

use std::collections::HashMap;
use std::fs;
use std::path::{Path, PathBuf};

use pare_vuln::debian::{
    Entry, FixedVia, NotAffectedReason, OpenStatus, Urgency, Verdict, parse_cve, parse_dsa, verdict,
};

const RELEASE: &str = "bookworm";

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/debian-tracker")
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Case {
    Fixed,
    Open,
    NotAffected,
}

struct Row {
    file: String,
    package: String,
    status: String,
    fixed: Option<String>,
    case: Case,
}

struct Sources {
    rows: Vec<Row>,
    /// DSA file → (covered CVE IDs, bookworm line "pkg version").
    dsas: Vec<(String, Vec<String>, String)>,
    bookworm: HashMap<String, String>,
    totals: (usize, usize, usize),
}

fn cells(line: &str) -> Vec<String> {
    let t = line.trim();
    t.trim_start_matches('|')
        .trim_end_matches('|')
        .split('|')
        .map(|c| c.trim().trim_matches('`').to_owned())
        .collect()
}

fn read_sources() -> Sources {
    let text = fs::read_to_string(data().join("SOURCES.md")).expect("SOURCES.md");
    let mut section = "";
    let (mut rows, mut dsas, mut bookworm) = (Vec::new(), Vec::new(), HashMap::new());
    let mut totals = None;
    for line in text.lines() {
        if let Some(rest) = line.strip_prefix("Totals: ") {
            // "46 CVE records: (a) 21, (b) 20, (c) 5. Plus 6 DSA records in `dsa/`."
            let n: Vec<usize> = rest
                .split(|c: char| !c.is_ascii_digit())
                .filter_map(|s| s.parse().ok())
                .collect();
            assert_eq!(n.len(), 5, "Totals line: {line}");
            assert_eq!(n[0], n[1] + n[2] + n[3], "Totals add up");
            totals = Some((n[1], n[2], n[3]));
        }
        if let Some(h) = line.strip_prefix("## ") {
            section = if h.starts_with("(a)") {
                "a"
            } else if h.starts_with("(b)") {
                "b"
            } else if h.starts_with("(c)") {
                "c"
            } else if h.starts_with("DSA records") {
                "dsa"
            } else if h.starts_with("Bookworm source versions") {
                "versions"
            } else {
                ""
            };
            continue;
        }
        if !line.starts_with('|') || line.starts_with("|---") {
            continue;
        }
        let c = cells(line);
        match section {
            "a" | "b" | "c" if c[0].starts_with("records/") => {
                assert_eq!(c.len(), 7, "row shape: {line}");
                rows.push(Row {
                    file: c[0].clone(),
                    package: c[3].clone(),
                    status: c[4].clone(),
                    fixed: (c[5] != "-").then(|| c[5].clone()),
                    case: match section {
                        "a" => Case::Fixed,
                        "b" => Case::Open,
                        _ => Case::NotAffected,
                    },
                });
            }
            "dsa" if c[0].starts_with("dsa/") => {
                assert_eq!(c.len(), 5, "row shape: {line}");
                let covers = c[3].split_whitespace().map(str::to_owned).collect();
                dsas.push((c[0].clone(), covers, c[4].clone()));
            }
            "versions" if c[0] != "source pkg" => {
                bookworm.insert(c[0].clone(), c[1].clone());
            }
            _ => {}
        }
    }
    Sources {
        rows,
        dsas,
        bookworm,
        totals: totals.expect("a Totals line"),
    }
}

fn files_in(dir: &str) -> Vec<String> {
    let mut v: Vec<String> = fs::read_dir(data().join(dir))
        .expect(dir)
        .map(|e| format!("{dir}/{}", e.expect("entry").file_name().to_string_lossy()))
        .collect();
    v.sort();
    v
}

fn load_dsas() -> Vec<Entry> {
    files_in("dsa")
        .iter()
        .map(|f| {
            parse_dsa(&fs::read(data().join(f)).expect(f)).unwrap_or_else(|e| panic!("{f}: {e}"))
        })
        .collect()
}

#[test]
fn sources_tables_cover_every_file_once() {
    let s = read_sources();
    let count = |c| s.rows.iter().filter(|r| r.case == c).count();
    assert_eq!(
        (
            count(Case::Fixed),
            count(Case::Open),
            count(Case::NotAffected)
        ),
        s.totals
    );
    let mut listed: Vec<String> = s.rows.iter().map(|r| r.file.clone()).collect();
    listed.sort();
    assert_eq!(listed, files_in("records"));
    let mut listed: Vec<String> = s.dsas.iter().map(|d| d.0.clone()).collect();
    listed.sort();
    assert_eq!(listed, files_in("dsa"));
    assert_eq!(s.bookworm.len(), 6, "{:?}", s.bookworm);
}

#[test]
fn dsa_records_match_their_table() {
    let s = read_sources();
    for (file, covers, line) in &s.dsas {
        let e = parse_dsa(&fs::read(data().join(file)).expect(file)).expect(file);
        let xref: Vec<String> = e.annotations.iter().flat_map(|a| a.bugs.clone()).collect();
        assert_eq!(&xref, covers, "{file}");
        let bw: Vec<String> = e
            .annotations
            .iter()
            .filter(|a| a.release.as_deref() == Some(RELEASE))
            .map(|a| {
                format!(
                    "{} {}",
                    a.package.as_deref().unwrap_or(""),
                    a.version.as_deref().unwrap_or("")
                )
            })
            .collect();
        assert_eq!(bw, vec![line.clone()], "{file}");
    }
}

/// What SOURCES.md's status text says about how the verdict comes about.
fn expected_via(row: &Row) -> FixedVia {
    if let Some(rest) = row.status.split("via ").nth(1) {
        FixedVia::Advisory(rest.split_whitespace().next().unwrap_or("").to_owned())
    } else if row.status.contains("implicit") {
        FixedVia::Unstable
    } else {
        assert!(row.status.contains("[bookworm] line"), "{}", row.status);
        FixedVia::ReleaseLine
    }
}

fn expected_open_status(row: &Row) -> fn(&OpenStatus) -> bool {
    let s = row.status.as_str();
    if s.contains("<no-dsa>") {
        |o| matches!(o, OpenStatus::NoDsa(Some(_)))
    } else if s.contains("<ignored>") {
        |o| matches!(o, OpenStatus::Ignored(Some(_)))
    } else if s.contains("<postponed>") {
        |o| matches!(o, OpenStatus::Postponed(Some(_)))
    } else if s.contains("implicit") {
        |o| matches!(o, OpenStatus::FixedOnlyInUnstable(_))
    } else {
        assert!(s.contains("sid <unfixed>"), "{s}");
        |o| matches!(o, OpenStatus::Unfixed)
    }
}

#[test]
fn every_record_gets_its_sources_verdict() {
    let s = read_sources();
    let dsas = load_dsas();
    let mut checked = [0usize; 3];
    for row in &s.rows {
        let path = data().join(&row.file);
        let cve = parse_cve(&fs::read(&path).expect(&row.file))
            .unwrap_or_else(|e| panic!("{}: {e}", row.file));
        assert!(row.file.contains(&cve.header.id), "{}", row.file);
        let stated = s.bookworm.get(&row.package).map(String::as_str);
        let at = |installed: &str| verdict(&cve, &dsas, &row.package, installed, RELEASE);
        let ctx = format!("{} ({}, {})", row.file, row.package, row.status);
        match row.case {
            Case::Fixed => {
                let v = row
                    .fixed
                    .as_deref()
                    .unwrap_or_else(|| panic!("{ctx}: no fixed version"));
                let via = expected_via(row);
                if via == FixedVia::Unstable {
                    assert!(
                        stated.is_some(),
                        "{ctx}: implicit row without a stated version"
                    );
                }
                let installed = stated.unwrap_or(v);
                assert_eq!(
                    at(installed),
                    Verdict::Fixed {
                        version: v.to_owned(),
                        via: via.clone()
                    },
                    "{ctx} at {installed}"
                );
                let old = at("0");
                match via {
                    FixedVia::Unstable => assert!(
                        matches!(&old, Verdict::Open { fixed_in: None, unfixed: true, status: OpenStatus::FixedOnlyInUnstable(f), .. } if f == v),
                        "{ctx} at 0: {old:?}"
                    ),
                    _ => assert!(
                        matches!(&old, Verdict::Open { fixed_in: Some(f), unfixed: false, status: OpenStatus::UpdateAvailable, .. } if f == v),
                        "{ctx} at 0: {old:?}"
                    ),
                }
                checked[0] += 1;
            }
            Case::Open => {
                assert_eq!(row.fixed, None, "{ctx}");
                let status_ok = expected_open_status(row);
                let versions: Vec<&str> = match stated {
                    Some(b) => vec![b],
                    None => vec!["0", "99:99"],
                };
                for installed in versions {
                    let got = at(installed);
                    let Verdict::Open {
                        fixed_in,
                        unfixed,
                        status,
                        urgency,
                    } = &got
                    else {
                        panic!("{ctx} at {installed}: {got:?}");
                    };
                    assert!(fixed_in.is_none() && *unfixed, "{ctx}: {got:?}");
                    assert!(status_ok(status), "{ctx}: {got:?}");
                    if row.status.contains("severity unimportant") {
                        assert_eq!(*urgency, Urgency::Unimportant, "{ctx}");
                    }
                }
                checked[1] += 1;
            }
            Case::NotAffected => {
                for installed in ["0", "99:99"] {
                    let got = at(installed);
                    assert!(
                        matches!(
                            got,
                            Verdict::NotAffected {
                                reason: NotAffectedReason::NotAffected(Some(_))
                            }
                        ),
                        "{ctx} at {installed}: {got:?}"
                    );
                }
                checked[2] += 1;
            }
        }
    }
    assert_eq!((checked[0], checked[1], checked[2]), s.totals);
    eprintln!(
        "checked: {} fixed, {} open, {} not affected",
        checked[0], checked[1], checked[2]
    );
}

#[test]
fn other_packages_in_a_record_are_not_matched_by_name() {
    // CVE-2023-45853 names zlib and minizip: a package not in the file is not listed.
    let cve = parse_cve(&fs::read(data().join("records/CVE-2023-45853.json")).expect("file"))
        .expect("parse");
    assert_eq!(
        verdict(&cve, &[], "zlib1g", "1:1.2.13.dfsg-1", RELEASE),
        Verdict::NotAffected {
            reason: NotAffectedReason::NotListed
        }
    );
}
