use std::collections::BTreeSet;
use std::process::ExitCode;

use anyhow::{Context, Result, bail};
use pare_elf::image::{ElfScanner, ImageRoot};
use pare_elf::{LdCache, Loader};
use pare_image::source::FlattenOptions;
use pare_image::spool::Spool;
use pare_image::write::{WriteOptions, write_built_image};
use pare_image::{ImageRef, Platform, Source};
use pare_minify::build::{add_new_files, kept_tree, totals};
use pare_minify::entry::DEFAULT_PATH;
use pare_minify::resolve_entry;

use crate::cli::MinifyArgs;
use crate::output;

pub fn run(args: MinifyArgs, platform: &Platform) -> Result<ExitCode> {
    if !args.static_only {
        bail!("only --static-only is built yet (the traced run is still to come)");
    }
    let destination = ImageRef::parse(&args.output)?;
    let source = super::open_source(&args.image, platform)?;
    let config = source.config().clone();
    let runtime = config.config().clone().unwrap_or_default();
    let env = runtime.env().clone().unwrap_or_default();
    let var = |name: &str| {
        env.iter()
            .find_map(|e| e.strip_prefix(name)?.strip_prefix('=').map(str::to_string))
    };
    let path = var("PATH").unwrap_or_else(|| DEFAULT_PATH.to_string());
    let workdir = runtime.working_dir().clone().unwrap_or_else(|| "/".into());
    let entrypoint = match &args.entrypoint {
        Some(e) => vec![e.clone()],
        None => runtime.entrypoint().clone().unwrap_or_default(),
    };
    let cmd = if args.cmd.is_empty() && args.entrypoint.is_none() {
        runtime.cmd().clone().unwrap_or_default()
    } else {
        args.cmd.clone()
    };
    let argv: Vec<String> = entrypoint.into_iter().chain(cmd).collect();

    let flat = source
        .flatten_with(FlattenOptions {
            capture: Some({
                // The loader's cache, and what sbom reads (package databases).
                let sbom = pare_sbom::capture_predicate();
                Box::new(move |p: &str, size| {
                    p == "etc/ld.so.cache" || pare_minify::rules::wants(p) || sbom(p, size)
                })
            }),
            scanners: vec![Box::new(ElfScanner)],
        })
        .with_context(|| format!("reading {}", source.reference()))?;
    let root = ImageRoot { flat: &flat };
    let mut programs: Vec<String> = resolve_entry(&root, &argv, &path, &workdir, args.keep_shell)?
        .into_iter()
        .map(|p| p.path)
        .collect();
    for extra in &args.include_bin {
        let found = resolve_entry(
            &root,
            std::slice::from_ref(extra),
            &path,
            &workdir,
            args.keep_shell,
        )
        .with_context(|| format!("--include-bin {extra}"))?;
        programs.extend(found.into_iter().map(|p| p.path));
    }
    let cache = match flat.read("etc/ld.so.cache")? {
        Some(bytes) => match LdCache::parse(&bytes) {
            Ok(cache) => Some(cache),
            Err(e) => {
                eprintln!("pare: warning: /etc/ld.so.cache: {e}; searching the default folders");
                None
            }
        },
        None => None,
    };
    let library_path: Vec<String> = var("LD_LIBRARY_PATH")
        .map(|p| {
            p.split(':')
                .filter(|d| !d.is_empty())
                .map(str::to_string)
                .collect()
        })
        .unwrap_or_default();
    let closure = Loader::new(&root, cache, library_path, Vec::new()).closure(&programs);
    if let Some(missing) = closure.missing.first()
        && !args.allow_missing
    {
        bail!(
            "{} needed by {} is not in the image (--allow-missing writes the image anyway)",
            missing.name,
            missing.needed_by
        );
    }
    for missing in &closure.missing {
        eprintln!(
            "pare: warning: {} needed by {} is missing",
            missing.name, missing.needed_by
        );
    }
    let mut keep: BTreeSet<String> = closure.keep.keys().cloned().collect();
    // The OS's identity, so scanners still know the distribution.
    for release in ["etc/os-release", "usr/lib/os-release"] {
        if let Ok((real, links)) = flat.tree.resolve_traced(release)
            && flat.tree.get(&real).is_some()
        {
            keep.insert(format!("/{real}"));
            keep.extend(links.iter().map(|l| format!("/{l}")));
        }
    }
    // CA certificates, when a TLS library is kept.
    if keep.iter().any(|p| pare_minify::rules::is_tls_library(p)) {
        for bundle in pare_minify::rules::CA_CERTIFICATES {
            if let Ok((real, links)) = flat.tree.resolve_traced(bundle)
                && flat.tree.get(&real).is_some()
            {
                let real_node = flat.tree.get(&real);
                if real_node.is_some_and(|n| n.is_dir()) {
                    // A folder of certificates: everything in it.
                    keep.extend(flat.tree.descendants(&real).map(|(p, _)| format!("/{p}")));
                }
                keep.insert(format!("/{real}"));
                keep.extend(links.iter().map(|l| format!("/{l}")));
            }
        }
    }
    let mut kept = kept_tree(&flat, &keep, std::slice::from_ref(&workdir));
    let users = pare_minify::rules::users_and_groups(&flat, &kept.tree, runtime.user().as_deref());
    let status_d = pare_minify::metadata::dpkg_status_d(&flat, &keep);
    let scratch = tempfile::tempdir().context("a temporary folder")?;
    let status_mtime = flat.tree.get("var/lib/dpkg/status").map_or(0, |n| n.mtime);
    let mut new_files = status_d;
    new_files.extend(users);
    add_new_files(
        &mut kept.tree,
        &flat,
        &new_files,
        scratch.path(),
        status_mtime,
    )
    .context("writing package metadata and users")?;
    let spool = match &source {
        Source::Image(image) => Some(Spool::fill(image, &kept.from_layers)?),
        Source::Root { .. } => None,
    };
    let mut new_config = config.clone();
    new_config.set_history(Some(vec![
        oci_spec::image::HistoryBuilder::default()
            .created_by(format!("pare minify --static-only {}", args.image))
            .comment("rebuilt FROM scratch with what the entry point loads")
            .build()
            .expect("all fields optional"),
    ]));
    let clamp = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|v| v.parse().ok());
    let written = write_built_image(
        &kept.tree,
        spool.as_ref(),
        &new_config,
        clamp,
        &destination,
        &WriteOptions::default(),
    )
    .with_context(|| format!("writing {destination}"))?;
    let (before_bytes, before_files) = totals(&flat.tree);
    let (after_bytes, after_files) = totals(&kept.tree);
    let rows = vec![
        vec![
            "size".to_string(),
            output::human_bytes(before_bytes),
            output::human_bytes(after_bytes),
        ],
        vec![
            "files".to_string(),
            before_files.to_string(),
            after_files.to_string(),
        ],
    ];
    let mut text = output::table(&["", "BEFORE", "AFTER"], &rows);
    text.push_str(&format!(
        "\nwrote {} ({})\n",
        written.destination, written.manifest_digest
    ));
    output::print_text(&text)?;
    Ok(ExitCode::SUCCESS)
}
