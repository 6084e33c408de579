//! Reading `docker save` archives.
//!
//! Hand-written because no crate reads this layout: a top-level
//! `manifest.json` lists, per image, the config member, the layer members
//! and the tags. Docker before 25 names members `<id>/layer.tar` and
//! `<config-hex>.json`; Docker 25 and later use `blobs/sha256/<hex>` (the
//! archive is also an OCI layout). skopeo writes `<hex>.tar`. All three are
//! read through `manifest.json`; a member whose name carries a digest is
//! checked against it, and every layer is checked against its diff_id.

use serde::Deserialize;

use crate::digest::{Digest, VerifyingReader};
use crate::error::{Error, Result};
use crate::image::{Image, Layer, check_layer_count, check_repeated_blobs, diff_ids, parse_config};
use crate::limits::{self, Limits};
use crate::reference::{ImageRef, read_bounded};
use crate::store::{Store, checked_name};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct ManifestEntry {
    config: String,
    #[serde(default)]
    repo_tags: Option<Vec<String>>,
    layers: Vec<String>,
}

pub(crate) fn open(
    reference: ImageRef,
    store: Box<dyn Store>,
    name: Option<&str>,
    limits: &Limits,
) -> Result<Image> {
    let where_ = store.describe();
    let context = format!("{where_}: manifest.json");
    let (reader, _) = store
        .open("manifest.json")
        .map_err(|_| Error::malformed(&where_, "no manifest.json: not a docker archive"))?;
    let bytes = read_bounded(reader, limits.json_bytes, &context)?;
    let entries: Vec<ManifestEntry> = serde_json::from_slice(&bytes)
        .map_err(|e| Error::malformed(&context, format!("invalid JSON: {e}")))?;
    let entry = select(&entries, name, &context)?;
    check_layer_count(entry.layers.len(), limits, &context)?;

    let config_member = checked_name(&entry.config, &context)?;
    let (reader, size) = store.open(&config_member)?;
    limits::check(|| &config_member, "json-bytes", size, limits.json_bytes)?;
    let named = digest_in_name(&config_member);
    let verifying = VerifyingReader::new(reader, &config_member, named.clone(), Some(size));
    let config_bytes = read_bounded(verifying, limits.json_bytes, &config_member)?;
    let config_digest = named.unwrap_or_else(|| Digest::of(&config_bytes));
    let config = parse_config(&config_bytes, &config_digest)?;
    let diff_ids = diff_ids(&config, &config_digest, entry.layers.len())?;

    let mut layers = Vec::new();
    for (member, diff_id) in entry.layers.iter().zip(diff_ids) {
        let member = checked_name(member, &context)?;
        let (_, size) = store.open(&member)?;
        layers.push(Layer {
            digest: digest_in_name(&member),
            member,
            diff_id,
            size,
            media_type: None,
        });
    }
    check_repeated_blobs(store.as_ref(), &layers, &config_digest)?;
    Ok(Image {
        reference,
        store,
        manifest_digest: None,
        config_bytes,
        config_digest,
        config,
        layers,
        names: entry.repo_tags.clone().unwrap_or_default(),
        limits: limits.clone(),
    })
}

fn select<'a>(
    entries: &'a [ManifestEntry],
    name: Option<&str>,
    context: &str,
) -> Result<&'a ManifestEntry> {
    match name {
        Some(n) if n.starts_with('@') => {
            let index: usize = n[1..]
                .parse()
                .map_err(|_| Error::malformed(context, format!("bad image index {n:?}")))?;
            entries
                .get(index)
                .ok_or_else(|| Error::malformed(context, format!("no image {n}")))
        }
        Some(n) => {
            let want = if n.contains(':') {
                n.to_string()
            } else {
                format!("{n}:latest")
            };
            entries
                .iter()
                .find(|e| {
                    e.repo_tags
                        .iter()
                        .flatten()
                        .any(|t| *t == want || t.strip_prefix("docker.io/library/") == Some(&want))
                })
                .ok_or_else(|| Error::malformed(context, format!("no image tagged {n:?}")))
        }
        None => match entries {
            [one] => Ok(one),
            [] => Err(Error::malformed(context, "lists no images")),
            many => Err(Error::malformed(
                context,
                format!(
                    "holds {} images; pick one with docker-archive:PATH:NAME:TAG or :@INDEX",
                    many.len()
                ),
            )),
        },
    }
}

/// `blobs/sha256/<hex>`, `<hex>.json` and `<hex>.tar` carry their digest.
fn digest_in_name(member: &str) -> Option<Digest> {
    if let Some(hex) = member.strip_prefix("blobs/sha256/") {
        return Digest::from_hex(hex);
    }
    let stem = member
        .strip_suffix(".json")
        .or_else(|| member.strip_suffix(".tar"))?;
    Digest::from_hex(stem)
}
