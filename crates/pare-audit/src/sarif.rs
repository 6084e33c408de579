//! SARIF 2.1.0 output, for code-scanning dashboards (GitHub, GitLab, Azure):
//! one rule per finding kind, one result per finding, located at the file's
//! path inside the image (relative, under the `IMAGEROOT` base).

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
                    "uri": finding.path.trim_start_matches('/'),
                    "uriBaseId": "IMAGEROOT",
                },
            },
        }],
        "partialFingerprints": {"pareFinding/v1": format!("{}:{}", finding.kind.as_str(), finding.path)},
        "properties": {"severity": finding.severity.as_str()},
    })
}
