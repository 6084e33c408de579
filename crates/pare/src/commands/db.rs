use std::path::{Path, PathBuf};
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use pare_vuln::store::Store;
use pare_vuln::update::Outcome;

use crate::cli::{DbAction, DbArgs, TextOrJson};
use crate::output;

/// The database `pare scan`, `pare db` and `pare minify` use: `--db`, else
/// `$PARE_DB`, else `vulnerabilities.db` in the user's cache folder
/// (`$XDG_CACHE_HOME/pare`, `~/.cache/pare`), where Grype and Trivy keep
/// theirs too.
pub fn database_path(given: Option<&Path>) -> Result<PathBuf> {
    if let Some(path) = given {
        return Ok(path.to_path_buf());
    }
    let env = |name: &str| std::env::var_os(name).filter(|v| !v.is_empty());
    if let Some(path) = env("PARE_DB") {
        return Ok(PathBuf::from(path));
    }
    let cache = match (env("XDG_CACHE_HOME"), env("HOME")) {
        (Some(cache), _) => PathBuf::from(cache),
        (None, Some(home)) => Path::new(&home).join(".cache"),
        (None, None) => {
            bail!("no cache folder for the vulnerability database: set --db, PARE_DB or HOME")
        }
    };
    Ok(cache.join("pare").join("vulnerabilities.db"))
}

/// Opens the database for reading, saying how to make one when there is none
/// or when it holds nothing (a scan against an empty database would report
/// no vulnerabilities, which reads as a clean bill of health).
pub fn open_existing(given: Option<&Path>) -> Result<Store> {
    let store = open_for_status(given)?;
    if store.is_empty()? {
        bail!(
            "vulnerability database {} holds no advisories: run `pare db import SOURCE…` or \
             `pare db update`",
            output::escaped(&store.path().display().to_string())
        );
    }
    Ok(store)
}

/// Opens the database read-only, empty or not (`pare db status` shows an
/// empty one as such).
fn open_for_status(given: Option<&Path>) -> Result<Store> {
    let path = database_path(given)?;
    if !path.exists() {
        bail!(
            "no vulnerability database at {}: run `pare db import SOURCE…` or `pare db update`",
            output::escaped(&path.display().to_string())
        );
    }
    Store::open_existing(&path)
        .with_context(|| format!("opening the vulnerability database {}", path.display()))
}

pub fn run(args: DbArgs) -> Result<ExitCode> {
    let path = database_path(args.db.as_deref())?;
    match args.action {
        DbAction::Import { sources } => {
            let mut store = Store::open(&path).with_context(|| {
                format!("opening the vulnerability database {}", path.display())
            })?;
            let summary = store.import(&sources)?;
            output::print_text(&import_text(&summary, &path))?;
        }
        DbAction::Status { format } => {
            let store = open_for_status(Some(&path))?;
            let status = store.status()?;
            match format {
                TextOrJson::Json => output::print_json(&status)?,
                TextOrJson::Text => output::print_text(&status_text(&status))?,
            }
        }
        DbAction::Update { source } => {
            let sources = if source.is_empty() {
                pare_vuln::update::default_sources()
            } else {
                source
                    .iter()
                    .map(|s| parse_source(s))
                    .collect::<Result<Vec<_>>>()?
            };
            // Downloads are kept beside the database: the next update
            // resumes a cut-off one, or asks whether it changed.
            let mut cache = path.clone().into_os_string();
            cache.push(".downloads");
            let summary = pare_vuln::update::update(
                &path,
                &sources,
                Path::new(&cache),
                &pare_vuln::update::UpdateOptions::default(),
            )?;
            let mut text = String::new();
            for source in &summary.sources {
                let line = match &source.outcome {
                    Outcome::Downloaded {
                        bytes,
                        resumed_from: 0,
                        ..
                    } => format!(
                        "{}: downloaded {}",
                        source.name,
                        output::human_bytes(*bytes)
                    ),
                    Outcome::Downloaded {
                        bytes,
                        resumed_from,
                        ..
                    } => format!(
                        "{}: downloaded {} (resumed after {})",
                        source.name,
                        output::human_bytes(*bytes),
                        output::human_bytes(*resumed_from)
                    ),
                    Outcome::NotModified => format!("{}: unchanged", source.name),
                    Outcome::Reimported => format!(
                        "{}: unchanged, but missing from the database: imported again from {}",
                        source.name,
                        source.path.display()
                    ),
                };
                text.push_str(&output::escaped(&line));
                text.push('\n');
            }
            match &summary.import {
                Some(import) => text.push_str(&import_text(import, &path)),
                None => text.push_str("nothing new to import\n"),
            }
            output::print_text(&text)?;
        }
    }
    Ok(ExitCode::SUCCESS)
}

fn import_text(summary: &pare_vuln::store::ImportSummary, path: &Path) -> String {
    output::escaped(&format!(
        "imported {} OSV records, {} Debian tracker CVEs and {} Debian advisories from {} \
         sources into {}",
        summary.osv_records,
        summary.debian_cves,
        summary.debian_advisories,
        summary.sources.len(),
        path.display()
    )) + "\n"
}

fn parse_source(text: &str) -> Result<pare_vuln::update::UpdateSource> {
    let Some((name, url)) = text.split_once('=') else {
        bail!("--source {text:?}: expected NAME=URL");
    };
    Ok(pare_vuln::update::UpdateSource {
        name: name.to_string(),
        url: url.to_string(),
    })
}

fn status_text(status: &pare_vuln::store::Status) -> String {
    let rows: Vec<Vec<String>> = status
        .sources
        .iter()
        .map(|s| {
            vec![
                s.location.clone(),
                s.kind.clone(),
                s.records.to_string(),
                age(s.imported_at),
            ]
        })
        .collect();
    let mut text = output::table(&["SOURCE", "KIND", "RECORDS", "IMPORTED"], &rows);
    text.push_str(&format!(
        "\n{} OSV records, {} Debian tracker CVEs, {} Debian advisories in {}\n",
        status.osv_records,
        status.debian_cves,
        status.debian_advisories,
        status.path.display()
    ));
    text
}

/// `3 h ago`, from a Unix time.
fn age(imported_at: i64) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let seconds = (now - imported_at).max(0);
    match seconds {
        s if s < 120 => format!("{s} s ago"),
        s if s < 7200 => format!("{} min ago", s / 60),
        s if s < 172_800 => format!("{} h ago", s / 3600),
        s => format!("{} days ago", s / 86_400),
    }
}
