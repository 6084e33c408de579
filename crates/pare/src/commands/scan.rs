use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result};
use pare_image::OpenOptions;
use pare_vuln::ignore::IgnoreRules;
use pare_vuln::scan::{ScanOptions, Severity};

use crate::cli::{ScanArgs, ScanFormat};
use crate::output;

/// The ignore file read when none is named, as Trivy reads `.trivyignore`.
pub const DEFAULT_IGNORE_FILE: &str = ".pare-ignore.yaml";

pub fn run(args: ScanArgs, options: &OpenOptions) -> Result<ExitCode> {
    let store = super::db::open_existing(args.db.as_deref())?;
    let ignore = read_ignore_file(args.ignore_file.as_deref())?;
    let (source, digest, catalog) = super::catalog_of(&args.image, options)?;
    let scan_options = ScanOptions {
        ignore_unfixed: args.ignore_unfixed,
        ignore,
        today: pare_vuln::ignore::Date::today(),
    };
    let scan = pare_vuln::scan::scan(&catalog, &store, &scan_options)
        .with_context(|| format!("scanning {}", source.reference()))?;
    expired_rule_warnings(&scan);
    let subject = pare_sbom::cyclonedx::Subject {
        name: &args.image,
        digest: digest.as_deref(),
    };
    let text = match args.format {
        ScanFormat::Table => pare_vuln::report::table(&escaped_for_text(&scan)),
        ScanFormat::Json => output::json_text(&pare_vuln::report::json(&scan, &subject))?,
        ScanFormat::Sarif => output::json_text(&pare_vuln::report::sarif(&scan, &subject))?,
        ScanFormat::CyclonedxJson => {
            output::json_text(&pare_vuln::report::cyclonedx(&catalog, &scan, &subject))?
        }
    };
    match &args.output {
        Some(path) => output::write_file_atomically(path, text.as_bytes())?,
        None => output::print_text(&text)?,
    }
    Ok(fail_on(args.fail_on, &scan))
}

/// The scan with every image-supplied string escaped as the other text
/// outputs escape names (`ls -b`): a package name with ESC or a line feed
/// read from a hostile package database cannot drive the terminal or
/// forge a row.
fn escaped_for_text(scan: &pare_vuln::scan::Scan) -> pare_vuln::scan::Scan {
    let escape = |s: &mut String| *s = crate::escape::escape(s).into_owned();
    let mut scan = scan.clone();
    for finding in scan
        .findings
        .iter_mut()
        .chain(scan.ignored.iter_mut().map(|i| &mut i.finding))
    {
        escape(&mut finding.id);
        escape(&mut finding.package);
        escape(&mut finding.installed_version);
        escape(&mut finding.path);
        if let Some(fixed) = &mut finding.fixed_version {
            escape(fixed);
        }
    }
    scan
}

/// One warning per ignore rule whose expiry day has come: its findings
/// count again, and the rule wants a decision.
pub fn expired_rule_warnings(scan: &pare_vuln::scan::Scan) {
    for rule in &scan.expired_rules {
        let expires = rule.expires.map(|d| d.to_string()).unwrap_or_default();
        output::warning(format_args!(
            "ignore rule for {} ({}) expired on {expires}: its findings are reported again",
            rule.id, rule.origin
        ));
    }
}

/// Status 3 when a reported finding is at or above `threshold`.
fn fail_on(threshold: Option<Severity>, scan: &pare_vuln::scan::Scan) -> ExitCode {
    match threshold {
        Some(t) if scan.findings.iter().any(|f| f.severity >= t) => ExitCode::from(3),
        _ => ExitCode::SUCCESS,
    }
}

/// The rules of `--ignore-file`, else of `.pare-ignore.yaml` in the
/// current folder when there is one.
pub fn read_ignore_file(given: Option<&Path>) -> Result<Option<IgnoreRules>> {
    let path: PathBuf = match given {
        Some(path) => path.to_path_buf(),
        None => {
            let default = PathBuf::from(DEFAULT_IGNORE_FILE);
            if !default.exists() {
                return Ok(None);
            }
            default
        }
    };
    let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
    // A name that says nothing (`ignore.txt`) is read as YAML when it
    // parses as YAML with rules, else in Trivy's line format.
    let kind = pare_vuln::ignore::Kind::from_path(&path).unwrap_or(
        if bytes.starts_with(b"ignore:") || bytes.starts_with(b"vulnerabilities:") {
            pare_vuln::ignore::Kind::Yaml
        } else {
            pare_vuln::ignore::Kind::TrivyIgnore
        },
    );
    let rules = IgnoreRules::parse(&bytes, kind)
        .with_context(|| format!("reading ignore rules {}", path.display()))?;
    Ok(Some(rules))
}
