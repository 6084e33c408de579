//! Renderings of a [`Scan`]: Grype's table, JSON, SARIF 2.1.0 for code
//! scanning, CycloneDX 1.6 with `vulnerabilities`, and an OpenVEX 0.2.0
//! document stating what minification removed.
//!
//! Every renderer is a pure function of its arguments (OpenVEX takes its
//! timestamp as one), so the same scan renders to the same bytes.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use pare_sbom::cyclonedx::{self, Subject};
use pare_sbom::model::Catalog;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use crate::scan::{Finding, FixState, Scan, Severity};

fn fixed_cell(f: &Finding) -> &str {
    match (&f.fixed_version, f.state) {
        (Some(v), _) => v,
        (None, FixState::WontFix) => "(won't fix)",
        (None, _) => "",
    }
}

/// The one-line totals: `12 vulnerabilities (1 critical, …), 5 fixable, 2 ignored`.
pub fn summary_line(scan: &Scan) -> String {
    let s = &scan.summary;
    let counts: Vec<String> = Severity::ALL
        .iter()
        .map(|sev| {
            format!(
                "{} {}",
                s.by_severity.get(*sev),
                sev.as_str().to_ascii_lowercase()
            )
        })
        .collect();
    let mut line = format!(
        "{} vulnerabilit{} ({}), {} fixable, {} ignored; {} packages, {} matched, {} not matched",
        s.total,
        if s.total == 1 { "y" } else { "ies" },
        counts.join(", "),
        s.fixable,
        s.ignored,
        s.packages,
        s.packages_matched,
        s.packages_not_matched,
    );
    if !scan.expired_rules.is_empty() {
        let ids: Vec<&str> = scan.expired_rules.iter().map(|r| r.id.as_str()).collect();
        let _ = write!(line, "; expired ignore rules: {}", ids.join(", "));
    }
    line
}

/// Grype's table: `NAME INSTALLED FIXED-IN TYPE VULNERABILITY SEVERITY`,
/// columns aligned on display characters, then the summary line. A
/// finding the distribution will not fix shows `(won't fix)`; one without
/// a fix yet an empty cell, as Grype does.
pub fn table(scan: &Scan) -> String {
    let header = [
        "NAME",
        "INSTALLED",
        "FIXED-IN",
        "TYPE",
        "VULNERABILITY",
        "SEVERITY",
    ];
    let rows: Vec<[&str; 6]> = scan
        .findings
        .iter()
        .map(|f| {
            [
                f.package.as_str(),
                f.installed_version.as_str(),
                fixed_cell(f),
                f.package_type.as_str(),
                f.id.as_str(),
                f.severity.as_str(),
            ]
        })
        .collect();
    let mut widths = header.map(|h| h.chars().count());
    for r in &rows {
        for (w, cell) in widths.iter_mut().zip(r) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: &[&str; 6]| {
        let mut l = String::new();
        for (i, (cell, w)) in cells.iter().zip(widths).enumerate() {
            // Control characters from package metadata must not reach a
            // terminal.
            let clean: String = cell
                .chars()
                .map(|c| if c.is_control() { '?' } else { c })
                .collect();
            l.push_str(&clean);
            if i + 1 < cells.len() {
                l.extend(std::iter::repeat_n(' ', w - cell.chars().count() + 2));
            }
        }
        out.push_str(l.trim_end());
        out.push('\n');
    };
    line(&header);
    for r in &rows {
        line(r);
    }
    if scan.findings.is_empty() {
        out.clear();
        out.push_str("No vulnerabilities found\n");
    }
    out.push_str(&summary_line(scan));
    out.push('\n');
    out
}

fn subject_json(subject: &Subject<'_>) -> Value {
    json!({"name": subject.name, "digest": subject.digest})
}

/// pare's JSON report. `findings[].{id, aliases, package,
/// installed_version, fixed_version, severity, source, path}`,
/// `ignored[].{finding, reason}` and `summary` are a contract: fields may
/// be added, never renamed. `findings[].upstream` appears only on the
/// finding of a DSA/DLA standing for CVEs no other finding covers (see
/// [`crate::scan::Finding::upstream`]).
pub fn json(scan: &Scan, subject: &Subject<'_>) -> Value {
    json!({
        "subject": subject_json(subject),
        "findings": scan.findings,
        "ignored": scan.ignored,
        "summary": scan.summary,
        "expired_rules": scan.expired_rules,
    })
}

/// GitHub's `security-severity` (a score 0.0–10.0 as text): the CVSS
/// score when there is one, else Grype's stand-in for the severity.
fn security_severity(f: &Finding) -> f64 {
    f.cvss_score.unwrap_or(match f.severity {
        Severity::Critical => 9.0,
        Severity::High => 7.0,
        Severity::Medium => 4.0,
        Severity::Low => 1.0,
        Severity::Negligible | Severity::Unknown => 0.0,
    })
}

fn level(s: Severity) -> &'static str {
    match s {
        Severity::Critical | Severity::High => "error",
        Severity::Medium => "warning",
        _ => "note",
    }
}

fn advice(f: &Finding) -> String {
    match (&f.fixed_version, f.state) {
        (Some(v), _) => format!("upgrade {} to {v}", f.package),
        (None, FixState::WontFix) => "the distribution will not fix it".to_owned(),
        (None, _) => "no fix available".to_owned(),
    }
}

fn advisory_url(f: &Finding) -> String {
    if f.source == "debian-security-tracker" {
        format!("https://security-tracker.debian.org/tracker/{}", f.id)
    } else {
        format!("https://osv.dev/vulnerability/{}", f.id)
    }
}

/// SARIF 2.1.0: one rule per vulnerability id (its highest severity over
/// the findings), one result per finding located at the package's
/// metadata file.
pub fn sarif(scan: &Scan, subject: &Subject<'_>) -> Value {
    // id → (index of the finding giving the rule its text, highest score, severity)
    let mut rules: BTreeMap<&str, (usize, f64, Severity)> = BTreeMap::new();
    for (i, f) in scan.findings.iter().enumerate() {
        let score = security_severity(f);
        let e = rules.entry(f.id.as_str()).or_insert((i, score, f.severity));
        if score > e.1 {
            e.1 = score;
        }
        if f.severity > e.2 {
            e.2 = f.severity;
        }
    }
    let index: BTreeMap<&str, usize> = rules.keys().enumerate().map(|(i, k)| (*k, i)).collect();
    let rules_json: Vec<Value> = rules
        .iter()
        .map(|(id, (i, score, sev))| {
            let f = &scan.findings[*i];
            let short = f.summary.clone().unwrap_or_else(|| (*id).to_owned());
            let mut aliases = if f.aliases.is_empty() {
                String::new()
            } else {
                format!(" Also known as {}.", f.aliases.join(", "))
            };
            if !f.upstream.is_empty() {
                aliases.push_str(&format!(" Covers {}.", f.upstream.join(", ")));
            }
            let help = format!(
                "{id} ({} severity).{aliases} Advisory: {}",
                sev.as_str(),
                advisory_url(f)
            );
            json!({
                "id": id,
                "name": "KnownVulnerability",
                "shortDescription": {"text": short},
                "fullDescription": {"text": short},
                "helpUri": advisory_url(f),
                "help": {"text": help, "markdown": format!("**{id}** ({} severity).{aliases}\n\nAdvisory: <{}>", sev.as_str(), advisory_url(f))},
                "properties": {
                    "security-severity": format!("{score:.1}"),
                    "tags": ["security", "vulnerability", sev.as_str().to_ascii_lowercase()],
                },
            })
        })
        .collect();
    let results: Vec<Value> = scan
        .findings
        .iter()
        .map(|f| {
            let uri = f.path.trim_start_matches('/');
            json!({
                "ruleId": f.id,
                "ruleIndex": index[f.id.as_str()],
                "level": level(f.severity),
                "message": {"text": format!(
                    "{} {} ({}) in {} is vulnerable to {}: {}.",
                    f.package, f.installed_version, f.package_type.as_str(), subject.name, f.id, advice(f)
                )},
                "locations": [{
                    "physicalLocation": {"artifactLocation": {"uri": if uri.is_empty() { "." } else { uri }}},
                    "logicalLocations": [{"name": f.package, "fullyQualifiedName": f.purl, "kind": "package"}],
                }],
                "partialFingerprints": {"pareFinding/v1": fingerprint(&[&f.id, &f.purl, &f.path])},
            })
        })
        .collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "pare",
                "version": env!("CARGO_PKG_VERSION"),
                "rules": rules_json,
            }},
            "properties": {"subject": subject_json(subject)},
            "results": results,
        }],
    })
}

fn fingerprint(parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in parts {
        h.update(p.as_bytes());
        h.update([0]);
    }
    hex::encode(&h.finalize()[..16])
}

fn cdx_severity(s: Severity) -> &'static str {
    match s {
        Severity::Critical => "critical",
        Severity::High => "high",
        Severity::Medium => "medium",
        Severity::Low => "low",
        Severity::Negligible => "info",
        Severity::Unknown => "unknown",
    }
}

/// The SBOM of `catalog` ([`cyclonedx::document`]) with a CycloneDX 1.6
/// `vulnerabilities` entry per finding, affecting the package's component
/// (by its bom-ref).
pub fn cyclonedx(catalog: &Catalog, scan: &Scan, subject: &Subject<'_>) -> Value {
    let mut doc = cyclonedx::document(catalog, subject);
    let vulns: Vec<Value> = scan
        .findings
        .iter()
        .map(|f| {
            let bom_ref = catalog
                .packages
                .iter()
                .find(|p| p.purl == f.purl && p.found_at == f.path)
                .map_or_else(|| format!("{}#{}", f.purl, f.path), cyclonedx::bom_ref);
            let source = if f.source == "debian-security-tracker" {
                json!({"name": "Debian Security Tracker", "url": advisory_url(f)})
            } else {
                json!({"name": "OSV", "url": advisory_url(f)})
            };
            let mut rating = json!({"source": source, "severity": cdx_severity(f.severity)});
            match (&f.cvss_score, &f.cvss_vector) {
                (Some(score), Some(vector)) => {
                    rating["score"] = json!(score);
                    rating["vector"] = json!(vector);
                    rating["method"] = json!(if vector.starts_with("CVSS:3.1/") {
                        "CVSSv31"
                    } else {
                        "CVSSv3"
                    });
                }
                _ => rating["method"] = json!("other"),
            }
            let mut v = json!({
                "id": f.id,
                "source": source,
                "ratings": [rating],
                "affects": [{
                    "ref": bom_ref,
                    "versions": [{"version": f.installed_version, "status": "affected"}],
                }],
                "recommendation": match &f.fixed_version {
                    Some(fixed) => format!("Upgrade {} to {fixed}", f.package),
                    None if f.state == FixState::WontFix => format!("No fix planned for {} (won't fix)", f.package),
                    None => format!("No fix available for {}", f.package),
                },
                "properties": [
                    {"name": "pare:fix-state", "value": serde_json::to_value(f.state).unwrap_or_default()},
                    {"name": "pare:advisory-source", "value": f.source},
                ],
            });
            if let Some(s) = &f.summary {
                v["description"] = json!(s);
            }
            // Aliases and, for a DSA/DLA standing for several CVEs, those
            // (CycloneDX references are "related", not "the same").
            if !f.aliases.is_empty() || !f.upstream.is_empty() {
                v["references"] = json!(f.aliases.iter().chain(&f.upstream).map(|a| json!({
                    "id": a,
                    "source": {"name": "OSV", "url": format!("https://osv.dev/vulnerability/{a}")},
                })).collect::<Vec<_>>());
            }
            v
        })
        .collect();
    doc["vulnerabilities"] = json!(vulns);
    doc
}

/// A PURL for the image when `subject.name` is not one already:
/// `pkg:oci/<name>@<digest>?repository_url=<repository>&tag=<tag>`.
pub fn image_purl(subject: &Subject<'_>) -> String {
    let reference = subject.name.trim();
    if reference.starts_with("pkg:") {
        return reference.to_owned();
    }
    let (repo, digest_in_ref) = match reference.split_once('@') {
        Some((r, d)) => (r, Some(d)),
        None => (reference, None),
    };
    // A tag is after the last ':' of the last path segment (not a port).
    let last_slash = repo.rfind('/').map_or(0, |i| i + 1);
    let (repository, tag) = match repo[last_slash..].rfind(':') {
        Some(i) => (&repo[..last_slash + i], Some(&repo[last_slash + i + 1..])),
        None => (repo, None),
    };
    let name = repository.rsplit('/').next().unwrap_or(repository);
    let enc = |s: &str| -> String {
        s.chars()
            .map(|c| match c {
                'a'..='z' | 'A'..='Z' | '0'..='9' | '.' | '-' | '_' | '~' | '/' => c.to_string(),
                c => {
                    let mut b = [0; 4];
                    c.encode_utf8(&mut b)
                        .bytes()
                        .map(|x| format!("%{x:02X}"))
                        .collect()
                }
            })
            .collect()
    };
    let mut purl = format!("pkg:oci/{}", enc(&name.to_ascii_lowercase()));
    if let Some(d) = subject.digest.or(digest_in_ref) {
        let _ = write!(purl, "@{}", enc(d));
    }
    let mut q = vec![format!("repository_url={}", enc(repository))];
    if let Some(t) = tag {
        q.push(format!("tag={}", enc(t)));
    }
    purl.push('?');
    purl.push_str(&q.join("&"));
    purl
}

/// OpenVEX 0.2.0: what minifying `before` into `after` did to each
/// vulnerability. A vulnerability of a package that is gone after
/// minification is `not_affected` / `component_not_present` for the
/// minified image; one still found (reported or ignored) after is
/// `affected`, with the fixed version (or "no fix available") as the
/// action. Presence is judged from the scans: the same advisories applied
/// to the same package yield the same finding, so a finding absent from
/// `after` means its package is. `@id` is a hash of the content, so the
/// same inputs give the same document.
pub fn openvex(
    before: &Scan,
    after: &Scan,
    subject_before: &Subject<'_>,
    subject_after: &Subject<'_>,
    author: &str,
    timestamp: &str,
) -> Value {
    let product = image_purl(subject_after);
    let after_all: Vec<&Finding> = after
        .findings
        .iter()
        .chain(after.ignored.iter().map(|i| &i.finding))
        .collect();
    let still = |f: &Finding| -> Option<&Finding> {
        after_all
            .iter()
            .copied()
            .find(|a| a.purl == f.purl && a.ids().any(|x| f.ids().any(|y| x == y)))
    };
    // (vulnerability, purl) → statement; BTreeMap for a stable order.
    let mut statements: BTreeMap<(String, String), Value> = BTreeMap::new();
    let vulnerability = |f: &Finding| {
        let mut v = json!({"name": f.id});
        let mut aliases: Vec<&str> = f.aliases.iter().map(String::as_str).collect();
        aliases.sort_unstable();
        aliases.dedup();
        if !aliases.is_empty() {
            v["aliases"] = json!(aliases);
        }
        v
    };
    let products = |purl: &str| json!([{"@id": product, "subcomponents": [{"@id": purl}]}]);
    let affected = |f: &Finding| {
        json!({
            "vulnerability": vulnerability(f),
            "products": products(&f.purl),
            "status": "affected",
            "action_statement": match &f.fixed_version {
                Some(v) => format!("Upgrade {} to {v}", f.package),
                None => format!("No fix available for {}", f.package),
            },
        })
    };
    for f in &before.findings {
        let key = (f.id.clone(), f.purl.clone());
        let st = match still(f) {
            Some(a) => affected(a),
            None => json!({
                "vulnerability": vulnerability(f),
                "products": products(&f.purl),
                "status": "not_affected",
                "justification": "component_not_present",
                "impact_statement": format!(
                    "{} {} is not in the minified image (present in {})",
                    f.package, f.installed_version, subject_before.name
                ),
            }),
        };
        statements.entry(key).or_insert(st);
    }
    for f in &after.findings {
        let covered = statements
            .keys()
            .any(|(id, purl)| *purl == f.purl && f.ids().any(|x| x == id));
        if !covered {
            statements.insert((f.id.clone(), f.purl.clone()), affected(f));
        }
    }
    let statements: Vec<Value> = statements.into_values().collect();
    let content = json!({"author": author, "timestamp": timestamp, "statements": statements});
    let id = hex::encode(Sha256::digest(content.to_string().as_bytes()));
    json!({
        "@context": "https://openvex.dev/ns/v0.2.0",
        "@id": format!("https://openvex.dev/docs/public/vex-{id}"),
        "author": author,
        "timestamp": timestamp,
        "version": 1,
        "tooling": format!("pare {}", env!("CARGO_PKG_VERSION")),
        "statements": statements,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn image_purls() {
        let s = |name, digest| Subject { name, digest };
        for (subject, want) in [
            (
                s("docker.io/library/nginx:1.25", Some("sha256:abc")),
                "pkg:oci/nginx@sha256%3Aabc?repository_url=docker.io/library/nginx&tag=1.25",
            ),
            (
                s("localhost:5000/app", None),
                "pkg:oci/app?repository_url=localhost%3A5000/app",
            ),
            (
                s("ghcr.io/o/App@sha256:def", None),
                "pkg:oci/app@sha256%3Adef?repository_url=ghcr.io/o/App",
            ),
            (s("pkg:oci/x@sha256%3A1", None), "pkg:oci/x@sha256%3A1"),
        ] {
            assert_eq!(image_purl(&subject), want, "{}", subject.name);
        }
    }
}
