//! SARIF 2.1.0 output, for code-scanning dashboards (GitHub, GitLab, Azure):
//! one rule per finding kind, one result per finding, located at the file's
//! path inside the image (relative, under the `IMAGEROOT` base).

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, utf8_percent_encode};
use serde_json::{Value, json};

use crate::catalog::{Catalog, Kind, Severity};
use crate::{Finding, Report};

/// GitHub sorts code-scanning alerts by this 0–10 score.
fn security_severity(severity: Severity) -> &'static str {
    match severity {
        Severity::High => "8.0",
        Severity::Medium => "5.0",
        Severity::Low => "2.0",
    }
}

fn level(severity: Severity) -> &'static str {
    match severity {
        Severity::High => "error",
        Severity::Medium => "warning",
        Severity::Low => "note",
    }
}

/// The default severity and description of each kind: the catalog's for
/// tools, fixed ones for the file rules.
fn rule_text(kind: Kind, catalog: &Catalog) -> (Severity, String) {
    if let Some(info) = catalog.kinds.get(&kind) {
        return (info.severity, info.reason.clone());
    }
    match kind {
        Kind::Setuid => (
            Severity::High,
            "a set-user-ID file: runs as its owner".into(),
        ),
        Kind::Setgid => (
            Severity::Medium,
            "a set-group-ID file: runs with its group".into(),
        ),
        Kind::FileCapability => (
            Severity::High,
            "a file that gains capabilities when run".into(),
        ),
        Kind::WorldWritable => (
            Severity::Medium,
            "a file, or a folder without the sticky bit, every user can write".into(),
        ),
        other => (Severity::Medium, other.as_str().to_string()),
    }
}

/// The SARIF log of a report about `image` (its reference as given).
pub fn document(report: &Report, catalog: &Catalog, image: &str, version: &str) -> Value {
    let rules: Vec<Value> = Kind::ALL
        .iter()
        .map(|kind| {
            let (severity, text) = rule_text(*kind, catalog);
            json!({
                "id": kind.as_str(),
                "name": kind.as_str(),
                "shortDescription": {"text": text},
                "defaultConfiguration": {"level": level(severity)},
                "properties": {
                    "tags": ["security", "container", "attack-surface"],
                    "security-severity": security_severity(severity),
                },
            })
        })
        .collect();
    let results: Vec<Value> = report.findings.iter().map(result).collect();
    json!({
        "$schema": "https://json.schemastore.org/sarif-2.1.0.json",
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {
                "name": "pare",
                "version": version,
                "rules": rules,
            }},
            "originalUriBaseIds": {
                "IMAGEROOT": {
                    "uri": "file:///",
                    "description": {"text": format!("the root of the image {image}")},
                },
            },
            "properties": {"image": image},
            "results": results,
        }],
    })
}

/// What a path inside the image may keep unencoded in a relative URI:
/// RFC 3986's unreserved characters and the `/` between segments.
/// Everything else is percent-encoded as UTF-8, including the characters
/// that would end or change a path (`#`, `?`, `%`, `:` in a first segment
/// would even read as a scheme), spaces and control characters.
const PATH_KEEPS: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~')
    .remove(b'/');

/// The relative URI (under `IMAGEROOT`) of an absolute path in the image:
/// `/usr/bin/my tool#1` is `usr/bin/my%20tool%231`.
pub fn path_uri(path: &str) -> String {
    utf8_percent_encode(path.trim_start_matches('/'), PATH_KEEPS).to_string()
}

fn result(finding: &Finding) -> Value {
    let rule_index = Kind::ALL
        .iter()
        .position(|k| *k == finding.kind)
        .unwrap_or(0);
    let mut message = format!("{} ({}): {}", finding.path, finding.name, finding.reason);
    if let Some(via) = &finding.via {
        message.push_str(&format!("; runs {via}"));
    }
    json!({
        "ruleId": finding.kind.as_str(),
        "ruleIndex": rule_index,
        "level": level(finding.severity),
        "message": {"text": message},
        "locations": [{
            "physicalLocation": {
                "artifactLocation": {
                    "uri": path_uri(&finding.path),
                    "uriBaseId": "IMAGEROOT",
                },
            },
        }],
        "partialFingerprints": {"pareFinding/v1": format!("{}:{}", finding.kind.as_str(), finding.path)},
        "properties": {"severity": finding.severity.as_str()},
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_become_percent_encoded_relative_uris() {
        for (path, uri) in [
            ("/usr/bin/su", "usr/bin/su"),
            ("/usr/bin/my tool#1", "usr/bin/my%20tool%231"),
            ("/opt/a?b%c", "opt/a%3Fb%25c"),
            ("/x:y/z", "x%3Ay/z"),
            ("/usr/lib/libc++.so.6", "usr/lib/libc%2B%2B.so.6"),
            ("/bin/\u{1b}[31mred\r", "bin/%1B%5B31mred%0D"),
            ("/caf\u{e9}", "caf%C3%A9"),
            ("/a~b_c-d.e", "a~b_c-d.e"),
        ] {
            assert_eq!(path_uri(path), uri, "{path:?}");
        }
    }
}
