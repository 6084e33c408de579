//! Reading an OCI image layout (`oci:` folders and `oci-archive:` tars).

use oci_spec::image::{Descriptor, ImageIndex, ImageManifest, MediaType};

use crate::compression::known_layer_media_type;
use crate::digest::Digest;
use crate::error::{Error, Result};
use crate::image::{
    Image, Layer, Platform, check_layer_count, check_repeated_blobs, diff_ids, parse_config,
    read_blob,
};
use crate::limits::Limits;
use crate::reference::{ImageRef, read_bounded};
use crate::store::Store;

/// The annotation that names an image in an OCI layout's index.
pub const REF_NAME: &str = "org.opencontainers.image.ref.name";
/// containerd's (and Docker's) annotation with the full image name.
pub const CONTAINERD_NAME: &str = "io.containerd.image.name";
/// How deep nested indexes may go.
const MAX_INDEX_DEPTH: usize = 4;

pub(crate) const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
pub(crate) const DOCKER_MANIFEST_LIST: &str =
    "application/vnd.docker.distribution.manifest.list.v2+json";
pub(crate) const DOCKER_CONFIG: &str = "application/vnd.docker.container.image.v1+json";

pub(crate) fn open(
    reference: ImageRef,
    store: Box<dyn Store>,
    name: Option<&str>,
    platform: &Platform,
    limits: &Limits,
) -> Result<Image> {
    let where_ = store.describe();
    let (reader, _) = store.open("index.json")?;
    let bytes = read_bounded(reader, limits.json_bytes, &format!("{where_}: index.json"))?;
    let index: ImageIndex = serde_json::from_slice(&bytes).map_err(|e| {
        Error::malformed(
            format!("{where_}: index.json"),
            format!("invalid JSON: {e}"),
        )
    })?;

    let mut candidates: Vec<&Descriptor> = index
        .manifests()
        .iter()
        .filter(|d| name.is_none_or(|n| names_of(d).iter().any(|have| matches_name(have, n))))
        .collect();
    if candidates.is_empty() {
        return Err(Error::malformed(
            format!("{where_}: index.json"),
            match name {
                Some(n) => format!("no image named {n:?}"),
                None => "lists no manifests".to_string(),
            },
        ));
    }
    // The same manifest listed under several names is one image.
    candidates.dedup_by(|a, b| a.digest() == b.digest());
    if candidates.len() > 1 {
        let distinct: std::collections::BTreeSet<String> =
            candidates.iter().map(|d| d.digest().to_string()).collect();
        if distinct.len() > 1 {
            return Err(Error::malformed(
                format!("{where_}: index.json"),
                format!(
                    "holds {} images; name one, e.g. {}:{}",
                    distinct.len(),
                    reference,
                    candidates
                        .iter()
                        .flat_map(|d| names_of(d))
                        .next()
                        .unwrap_or_else(|| "NAME".into())
                ),
            ));
        }
    }
    let chosen = candidates[0].clone();
    let names = names_of(&chosen);
    let manifest_descriptor =
        pick_manifest(store.as_ref(), &chosen, platform, limits.json_bytes, 0)?;
    let manifest_digest = descriptor_digest(&manifest_descriptor)?;
    let manifest_bytes = read_blob(
        store.as_ref(),
        &manifest_digest,
        manifest_descriptor.size(),
        limits.json_bytes,
    )?;
    let manifest: ImageManifest = serde_json::from_slice(&manifest_bytes).map_err(|e| {
        Error::malformed(
            format!("manifest {manifest_digest}"),
            format!("invalid JSON: {e}"),
        )
    })?;

    let config_media = manifest.config().media_type().to_string();
    if config_media != MediaType::ImageConfig.to_string() && config_media != DOCKER_CONFIG {
        return Err(Error::unsupported(
            format!("manifest {manifest_digest}"),
            format!("config media type {config_media:?}: not a container image"),
        ));
    }
    check_layer_count(
        manifest.layers().len(),
        limits,
        &format!("manifest {manifest_digest}"),
    )?;
    let config_digest = descriptor_digest(manifest.config())?;
    let config_bytes = read_blob(
        store.as_ref(),
        &config_digest,
        manifest.config().size(),
        limits.json_bytes,
    )?;
    let config = parse_config(&config_bytes, &config_digest)?;
    let diff_ids = diff_ids(&config, &config_digest, manifest.layers().len())?;

    let mut layers = Vec::new();
    for (i, (layer, diff_id)) in manifest.layers().iter().zip(diff_ids).enumerate() {
        let media_type = layer.media_type().to_string();
        if !known_layer_media_type(&media_type) {
            return Err(Error::unsupported(
                format!("manifest {manifest_digest}: layer {}", i + 1),
                format!("unknown media type {media_type:?}"),
            ));
        }
        let digest = descriptor_digest(layer)?;
        layers.push(Layer {
            member: digest.blob_path(),
            digest: Some(digest),
            diff_id,
            size: layer.size(),
            media_type: Some(media_type),
        });
    }
    check_repeated_blobs(store.as_ref(), &layers, &config_digest)?;
    Ok(Image {
        reference,
        store,
        manifest_digest: Some(manifest_digest),
        config_bytes,
        config_digest,
        config,
        layers,
        names,
        limits: limits.clone(),
    })
}

/// Follows nested indexes down to the manifest for `platform`.
fn pick_manifest(
    store: &dyn Store,
    descriptor: &Descriptor,
    platform: &Platform,
    json_max: u64,
    depth: usize,
) -> Result<Descriptor> {
    let media = descriptor.media_type().to_string();
    let is_index = media == MediaType::ImageIndex.to_string() || media == DOCKER_MANIFEST_LIST;
    if !is_index {
        if media != MediaType::ImageManifest.to_string() && media != DOCKER_MANIFEST {
            return Err(Error::unsupported(
                format!("descriptor {}", descriptor.digest()),
                format!("unknown manifest media type {media:?}"),
            ));
        }
        return Ok(descriptor.clone());
    }
    if depth >= MAX_INDEX_DEPTH {
        return Err(Error::malformed(
            format!("index {}", descriptor.digest()),
            "indexes nested too deep",
        ));
    }
    let digest = descriptor_digest(descriptor)?;
    let bytes = read_blob(store, &digest, descriptor.size(), json_max)?;
    let index: ImageIndex = serde_json::from_slice(&bytes)
        .map_err(|e| Error::malformed(format!("index {digest}"), format!("invalid JSON: {e}")))?;
    let matching = index.manifests().iter().find(|d| {
        d.platform().as_ref().is_some_and(|p| {
            p.os().to_string() == platform.os
                && p.architecture().to_string() == platform.architecture
                && (platform.variant.is_none() || p.variant() == &platform.variant)
        })
    });
    match matching {
        Some(d) => pick_manifest(store, d, platform, json_max, depth + 1),
        None => {
            let offered: Vec<String> = index
                .manifests()
                .iter()
                .filter_map(|d| d.platform().as_ref())
                .map(|p| format!("{}/{}", p.os(), p.architecture()))
                .collect();
            Err(Error::malformed(
                format!("index {digest}"),
                format!("no image for {platform} (has: {})", offered.join(", ")),
            ))
        }
    }
}

fn descriptor_digest(descriptor: &Descriptor) -> Result<Digest> {
    Digest::parse(descriptor.digest().as_ref())
}

fn names_of(descriptor: &Descriptor) -> Vec<String> {
    let mut names = Vec::new();
    if let Some(annotations) = descriptor.annotations() {
        for key in [CONTAINERD_NAME, REF_NAME] {
            if let Some(v) = annotations.get(key) {
                names.push(v.clone());
            }
        }
    }
    names
}

fn matches_name(have: &str, want: &str) -> bool {
    have == want || have.ends_with(&format!(":{want}")) || have.ends_with(&format!("/{want}"))
}
