//! Times a store import: `cargo run --release -p pare-vuln --example
//! import_timing [SOURCE…]` (default: the whole PyPA advisory database in
//! `tests/data/pypa-osv`), into a fresh database in a temporary folder.

use std::path::PathBuf;
use std::time::Instant;

use pare_vuln::advisories::Advisories;
use pare_vuln::store::Store;

fn main() -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let mut sources: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    if sources.is_empty() {
        sources.push(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/data/pypa-osv"));
    }
    let dir = std::env::temp_dir().join(format!("pare-import-timing-{}", std::process::id()));
    let db = dir.join("pare.sqlite");
    let mut store = Store::open(&db)?;
    let started = Instant::now();
    let summary = store.import(&sources)?;
    let import = started.elapsed();
    let started = Instant::now();
    let again = store.import(&sources)?;
    let reimport = started.elapsed();
    let started = Instant::now();
    let found = store.osv("PyPI", "urllib3")?.len() + store.osv("PyPI", "jinja2")?.len();
    let lookup = started.elapsed();
    let size = std::fs::metadata(&db)?.len()
        + std::fs::metadata(dir.join("pare.sqlite-wal")).map_or(0, |m| m.len());
    println!(
        "import: {} OSV records, {} tracker CVEs, {} advisories in {import:.2?}; \
         re-import {reimport:.2?} ({} records); 2 lookups ({found} records) in {lookup:.2?}; \
         database {:.1} MiB",
        summary.osv_records,
        summary.debian_cves,
        summary.debian_advisories,
        again.osv_records + again.debian_cves + again.debian_advisories,
        size as f64 / (1 << 20) as f64
    );
    drop(store);
    std::fs::remove_dir_all(&dir)?;
    Ok(())
}
