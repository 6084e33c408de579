//! The one place that prints: JSON for machines, aligned text for people.
//!
//! Text is made terminal-safe here and only here: every string that may
//! come from an image (names, paths, config fields, warnings and errors
//! quoting them) is passed through [`escape`] by the functions below —
//! [`table`] escapes every cell, [`inspection_text`] every field,
//! [`warning`] and [`error_line`] their whole message. Callers hand them
//! raw strings and never escape themselves (that would double the
//! backslashes). JSON keeps every value exactly: `serde_json` escapes C0
//! controls, and [`json_text`] writes the few it leaves raw as `\uXXXX`.

use std::fmt::Write as _;
use std::io::{self, Write};

use anyhow::Result;
use pare_image::inspect::{Inspection, PathSize};
use serde::Serialize;

use crate::escape::{escape, json_for_terminal};

/// Pretty JSON on stdout. A closed pipe (`| head`) is not an error.
pub fn print_json(value: &impl Serialize) -> Result<()> {
    print_text(&json_text(value)?)
}

/// Pretty JSON with a final newline. `serde_json` escapes C0 controls;
/// DEL, C1 and bidi controls, which JSON allows raw, are written as
/// `\uXXXX` too, so JSON on a terminal is as safe as text (the values a
/// parser reads are the same).
pub fn json_text(value: &impl Serialize) -> Result<String> {
    let mut text = json_for_terminal(&serde_json::to_string_pretty(value)?).into_owned();
    text.push('\n');
    Ok(text)
}

/// Writes `bytes` to a temporary file beside `path`, then renames it.
pub fn write_file_atomically(path: &std::path::Path, bytes: &[u8]) -> Result<()> {
    use anyhow::Context;
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => std::path::Path::new("."),
    };
    let mut tmp = tempfile::Builder::new()
        .prefix(".pare-tmp-")
        .tempfile_in(dir)
        .with_context(|| format!("{}", dir.display()))?;
    tmp.write_all(bytes)
        .with_context(|| format!("{}", path.display()))?;
    tmp.persist(path)
        .with_context(|| format!("{}", path.display()))?;
    Ok(())
}

/// Packages as Syft's table: NAME, VERSION, TYPE.
pub fn packages_table(catalog: &pare_sbom::Catalog) -> String {
    let rows: Vec<Vec<String>> = catalog
        .packages
        .iter()
        .map(|p| {
            vec![
                p.name.clone(),
                p.version.clone(),
                p.kind.as_str().to_string(),
            ]
        })
        .collect();
    if rows.is_empty() {
        return "No packages discovered\n".to_string();
    }
    table(&["NAME", "VERSION", "TYPE"], &rows)
}

/// Audit findings: one row each (most severe first), then counts by kind.
pub fn findings_table(report: &pare_audit::Report) -> String {
    if report.findings.is_empty() {
        return "No findings\n".to_string();
    }
    let mut findings: Vec<&pare_audit::Finding> = report.findings.iter().collect();
    findings.sort_by_key(|f| std::cmp::Reverse(f.severity));
    let rows: Vec<Vec<String>> = findings
        .iter()
        .map(|f| {
            vec![
                f.severity.as_str().to_uppercase(),
                f.kind.as_str().to_string(),
                f.name.clone(),
                f.path.clone(),
                f.via
                    .as_deref()
                    .map(|v| format!("via {v}"))
                    .unwrap_or_default(),
            ]
        })
        .collect();
    let mut text = table(&["SEVERITY", "KIND", "NAME", "PATH", ""], &rows);
    let counts: Vec<String> = report
        .summary
        .iter()
        .map(|(kind, n)| format!("{n} {}", kind.as_str()))
        .collect();
    text.push_str(&format!(
        "\n{} findings: {}\n",
        report.findings.len(),
        counts.join(", ")
    ));
    text
}

/// One line of text for stdout, escaped: for lines that quote names
/// outside [`table`] and [`inspection_text`].
pub fn escaped(line: &str) -> String {
    escape(line).into_owned()
}

/// `pare: warning: MESSAGE` on stderr, the message escaped.
pub fn warning(message: impl std::fmt::Display) {
    eprintln!("pare: warning: {}", escape(&message.to_string()));
}

/// A note on stderr (`pare: MESSAGE`), escaped like a warning.
pub fn note(message: impl std::fmt::Display) {
    eprintln!("pare: {}", escape(&message.to_string()));
}

/// The one line a failed run prints on stderr: `pare: error: ` and the
/// error's context chain joined with ": ", escaped (a line feed in an
/// image-supplied name shows as `\n` and cannot start a second line).
pub fn error_line(err: &anyhow::Error) -> String {
    format!("pare: error: {}", escape(&format!("{err:#}")))
}

/// Text on stdout, as given: callers build it with the escaping helpers
/// of this module. A closed pipe (`| head`) is not an error.
pub fn print_text(text: &str) -> Result<()> {
    let mut out = io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => Ok(()),
        other => Ok(other?),
    }
}

/// Sizes the way `docker images` shows them (powers of 1000).
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit + 1 < UNITS.len() {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

/// A simple left-aligned table with a header row. Cells are raw strings:
/// each is escaped here.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> String {
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|row| row.iter().map(|c| escape(c).into_owned()).collect())
        .collect();
    let mut widths: Vec<usize> = header.iter().map(|h| h.len()).collect();
    for row in &rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<String>| {
        let mut text = String::new();
        for (i, (cell, w)) in cells.iter().zip(&widths).enumerate() {
            if i + 1 == cells.len() {
                text.push_str(cell);
            } else {
                let _ = write!(text, "{cell:<w$}  ");
            }
        }
        out.push_str(text.trim_end());
        out.push('\n');
    };
    line(header.iter().map(|h| h.to_string()).collect());
    for row in rows {
        line(row);
    }
    out
}

/// A JSON array as one terminal-safe line, `-` for none.
fn list(items: &Option<Vec<String>>) -> String {
    match items {
        Some(v) => json_for_terminal(&serde_json::to_string(v).unwrap_or_default()).into_owned(),
        None => "-".into(),
    }
}

fn short(digest: &str) -> String {
    let hex = digest.strip_prefix("sha256:").unwrap_or(digest);
    hex.chars().take(12).collect()
}

/// `inspect`'s text report; every image-supplied field escaped.
pub fn inspection_text(r: &Inspection) -> String {
    let mut out = String::new();
    let names = if r.names.is_empty() {
        String::new()
    } else {
        format!("  ({})", escape(&r.names.join(", ")))
    };
    let _ = writeln!(out, "Image       {}{names}", escape(&r.reference));
    let _ = writeln!(
        out,
        "Platform    {}",
        escape(&format!("{}/{}", r.os, r.architecture))
    );
    if let Some(d) = &r.manifest_digest {
        let _ = writeln!(out, "Manifest    {}", escape(&d.to_string()));
    }
    if let Some(d) = &r.config_digest {
        let _ = writeln!(out, "Config      {}", escape(&d.to_string()));
    }
    let c = &r.config;
    let _ = writeln!(out, "Entrypoint  {}", list(&c.entrypoint));
    let _ = writeln!(out, "Cmd         {}", list(&c.cmd));
    let _ = writeln!(
        out,
        "User        {}",
        escape(c.user.as_deref().unwrap_or("-"))
    );
    let _ = writeln!(
        out,
        "Workdir     {}",
        escape(c.workdir.as_deref().unwrap_or("-"))
    );
    if !c.exposed_ports.is_empty() {
        let _ = writeln!(out, "Ports       {}", escape(&c.exposed_ports.join(", ")));
    }
    for (i, env) in c.env.iter().enumerate() {
        let label = if i == 0 { "Env" } else { "" };
        let _ = writeln!(out, "{label:<11} {}", escape(env));
    }
    let _ = writeln!(
        out,
        "Contents    {} files, {} folders, {} in regular files",
        r.files,
        r.directories,
        human_bytes(r.size_bytes)
    );
    if !r.layers.is_empty() {
        let _ = writeln!(
            out,
            "Wasted      {} in layers, hidden by later ones",
            human_bytes(r.wasted_bytes)
        );
        out.push('\n');
        let rows: Vec<Vec<String>> = r
            .layers
            .iter()
            .enumerate()
            .map(|(i, l)| {
                let created = l.created_by.as_deref().unwrap_or("");
                let created: String = created.chars().take(60).collect();
                vec![
                    (i + 1).to_string(),
                    short(&l.diff_id.to_string()),
                    human_bytes(l.size),
                    l.files.to_string(),
                    l.added.to_string(),
                    l.changed.to_string(),
                    l.removed.to_string(),
                    human_bytes(l.wasted_bytes),
                    created,
                ]
            })
            .collect();
        out.push_str(&table(
            &[
                "LAYER",
                "DIFF_ID",
                "SIZE",
                "FILES",
                "ADDED",
                "CHANGED",
                "REMOVED",
                "WASTED",
                "CREATED BY",
            ],
            &rows,
        ));
    }
    let sizes = |title: &str, items: &[PathSize], out: &mut String| {
        if items.is_empty() {
            return;
        }
        let _ = writeln!(out, "\n{title}");
        for item in items {
            let _ = writeln!(
                out,
                "  {:>9}  {}",
                human_bytes(item.size),
                escape(&item.path)
            );
        }
    };
    sizes("Largest files", &r.largest_files, &mut out);
    sizes("Largest folders", &r.largest_directories, &mut out);
    if !r.warnings.is_empty() {
        let _ = writeln!(out, "\nSkipped");
        for w in &r.warnings {
            let _ = writeln!(out, "  {}", escape(w));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_bytes_table() {
        for (n, want) in [
            (0, "0 B"),
            (999, "999 B"),
            (1000, "1.0 kB"),
            (1_500_000, "1.5 MB"),
        ] {
            assert_eq!(human_bytes(n), want);
        }
    }
}
