//! Reading an OCI image layout (`oci:` folders and `oci-archive:` tars).

use std::collections::HashMap;
use std::collections::hash_map::Entry;

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

    let chosen = select(&index, name, &reference, &format!("{where_}: index.json"))?.clone();
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
    // containers/image's `OCI1IndexPublic.chooseInstance`
    // (internal/manifest/oci_index.go; `ChooseInstance` in
    // manifest/oci_index.go of the c/image skopeo 1.9 vendors): an entry
    // whose platform matches wins, and failing that the first entry with no
    // platform at all. The spec makes `platform` optional ("SHOULD be
    // present if its target is platform-specific"), so an index of one
    // unlabelled manifest is that image, whatever platform was asked for.
    let matching = index
        .manifests()
        .iter()
        .find(|d| {
            d.platform()
                .as_ref()
                .is_some_and(|p| platform_matches(p, platform))
        })
        .or_else(|| index.manifests().iter().find(|d| d.platform().is_none()));
    match matching {
        Some(d) => pick_manifest(store, d, platform, json_max, depth + 1),
        None if index.manifests().is_empty() => Err(Error::malformed(
            format!("index {digest}"),
            "lists no manifests",
        )),
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

fn platform_matches(have: &oci_spec::image::Platform, want: &Platform) -> bool {
    have.os().to_string() == want.os
        && have.architecture().to_string() == want.architecture
        && (want.variant.is_none() || have.variant() == &want.variant)
}

/// How many candidates an error lists before "and N more": index.json
/// comes from the image, and the error is one line.
const MAX_LISTED: usize = 8;

/// Picks the entry of a layout's `index.json` that `name` names.
///
/// The rules are containers/image's (`ociReference.getManifestDescriptor`,
/// oci/layout/oci_transport.go), what skopeo, podman and buildah read under
/// the same reference, with pare's additions marked:
///
/// - `@N` is the entry at position N, from 0 (skopeo's `oci:DIR:@N`).
/// - A name equal to an entry's `org.opencontainers.image.ref.name` is the
///   first such entry, in index order, whose media type is a manifest or
///   an index, even when later entries carry the same name (c/image reads
///   the first; its own writer removes the name from the older entry).
///   Only unsupported media types under that name is an error.
/// - (pare) `sha256:<hex>` is the entry with that manifest digest.
/// - (pare) Otherwise containerd's full name (`io.containerd.image.name`)
///   and the tail of a name (`busybox:1` for `docker.io/library/busybox:1`)
///   match too. When they match several different manifests the name is
///   ambiguous: refused, listing each one's position and digest, the ways
///   to name one alone.
/// - No name: the one image the index lists (one manifest listed under
///   several names is one image). Several are refused the same way
///   (skopeo: "more than one image in oci, choose an image").
fn select<'a>(
    index: &'a ImageIndex,
    name: Option<&str>,
    reference: &ImageRef,
    context: &str,
) -> Result<&'a Descriptor> {
    let manifests = index.manifests();
    let Some(name) = name else {
        if manifests.is_empty() {
            return Err(Error::malformed(context, "lists no manifests"));
        }
        return only_one(
            manifests.iter().enumerate().collect(),
            reference,
            context,
            |n| format!("holds {n} images"),
        );
    };
    if let Some(position) = name.strip_prefix('@') {
        let at: usize = position.parse().map_err(|_| {
            Error::malformed(
                context,
                format!("bad image position {name:?}: expected @N, counting from @0"),
            )
        })?;
        return manifests.get(at).ok_or_else(|| {
            Error::malformed(
                context,
                format!("no image @{at}: it lists {} (from @0)", manifests.len()),
            )
        });
    }
    let exact: Vec<&Descriptor> = manifests
        .iter()
        .filter(|d| ref_name(d) == Some(name))
        .collect();
    if let Some(first) = exact.iter().find(|d| is_manifest_or_index(d)) {
        return Ok(*first);
    }
    if !exact.is_empty() {
        let types: Vec<String> = exact.iter().map(|d| d.media_type().to_string()).collect();
        return Err(Error::unsupported(
            context,
            format!("{name:?} names only unsupported media types {types:?}"),
        ));
    }
    if let Ok(digest) = Digest::parse(name) {
        let digest = digest.to_string();
        return manifests
            .iter()
            .find(|d| d.digest().to_string() == digest)
            .ok_or_else(|| Error::malformed(context, format!("no image with digest {digest}")));
    }
    let loose: Vec<(usize, &Descriptor)> = manifests
        .iter()
        .enumerate()
        .filter(|(_, d)| names_of(d).iter().any(|have| matches_name(have, name)))
        .collect();
    if loose.is_empty() {
        return Err(Error::malformed(
            context,
            format!("no image named {name:?}"),
        ));
    }
    only_one(loose, reference, context, |n| {
        format!("the name {name:?} is ambiguous: it names {n} images")
    })
}

/// The one manifest `candidates` (position, entry) list, or an error that
/// lists the different ones by position, digest and names, and shows how
/// to pick one.
fn only_one<'a>(
    candidates: Vec<(usize, &'a Descriptor)>,
    reference: &ImageRef,
    context: &str,
    what: impl Fn(usize) -> String,
) -> Result<&'a Descriptor> {
    // (first position, entry, every name it has among the candidates), in
    // index order; an index.json may list many, so looked up by digest.
    let mut images: Vec<(usize, &Descriptor, Vec<String>)> = Vec::new();
    let mut by_digest: HashMap<String, usize> = HashMap::new();
    for (at, d) in candidates {
        match by_digest.entry(d.digest().to_string()) {
            Entry::Occupied(seen) => {
                let names = &mut images[*seen.get()].2;
                for n in names_of(d) {
                    // Shown, not used: a few per image are enough.
                    if names.len() < MAX_LISTED && !names.contains(&n) {
                        names.push(n);
                    }
                }
            }
            Entry::Vacant(slot) => {
                slot.insert(images.len());
                images.push((at, d, names_of(d)));
            }
        }
    }
    if let [(_, one, _)] = images.as_slice() {
        return Ok(*one);
    }
    let mut listed: Vec<String> = images
        .iter()
        .take(MAX_LISTED)
        .map(|(at, d, names)| match names.as_slice() {
            [] => format!("@{at} {}", d.digest()),
            names => format!("@{at} {} ({})", d.digest(), names.join(", ")),
        })
        .collect();
    if images.len() > MAX_LISTED {
        listed.push(format!("and {} more", images.len() - MAX_LISTED));
    }
    let (at, first, _) = &images[0];
    Err(Error::malformed(
        context,
        format!(
            "{}: {}; pick one by position or digest, e.g. {} or {}",
            what(images.len()),
            listed.join(", "),
            named(reference, &format!("@{at}")),
            named(reference, first.digest().as_ref()),
        ),
    ))
}

/// `reference` naming `name` instead of whatever it named.
fn named(reference: &ImageRef, name: &str) -> String {
    let name = Some(name.to_string());
    match reference {
        ImageRef::Oci { dir, .. } => ImageRef::Oci {
            dir: dir.clone(),
            name,
        },
        ImageRef::OciArchive { path, .. } => ImageRef::OciArchive {
            path: path.clone(),
            name,
        },
        other => other.clone(),
    }
    .to_string()
}

/// An image manifest or an index, OCI or Docker: what a name may select
/// (the media types c/image's `getManifestDescriptor` accepts).
fn is_manifest_or_index(descriptor: &Descriptor) -> bool {
    let media = descriptor.media_type().to_string();
    media == MediaType::ImageManifest.to_string()
        || media == MediaType::ImageIndex.to_string()
        || media == DOCKER_MANIFEST
        || media == DOCKER_MANIFEST_LIST
}

fn ref_name(descriptor: &Descriptor) -> Option<&str> {
    descriptor
        .annotations()
        .as_ref()
        .and_then(|a| a.get(REF_NAME))
        .map(String::as_str)
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

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use super::*;
    use crate::testutil::{E, layer, oci_layout};

    /// Blobs of `count` different images in `dir/blobs`, and the manifest
    /// descriptor of each (without names or platforms).
    fn images(dir: &std::path::Path, count: usize) -> Vec<Value> {
        (0..count)
            .map(|i| {
                let name: &'static str = Box::leak(format!("image{i}").into_boxed_str());
                oci_layout(dir, &[layer(&[E::File(name, b"x")])]);
                let index: Value =
                    serde_json::from_slice(&std::fs::read(dir.join("index.json")).unwrap())
                        .unwrap();
                index["manifests"][0].clone()
            })
            .collect()
    }

    fn with(descriptor: &Value, name: Option<&str>, platform: Option<&str>) -> Value {
        let mut d = descriptor.clone();
        if let Some(name) = name {
            d["annotations"] = json!({ REF_NAME: name });
        }
        if let Some(platform) = platform {
            let (os, architecture) = platform.split_once('/').unwrap();
            d["platform"] = json!({"os": os, "architecture": architecture});
        }
        d
    }

    fn write_index(dir: &std::path::Path, manifests: &[Value]) {
        let index = json!({"schemaVersion": 2, "manifests": manifests});
        std::fs::write(dir.join("index.json"), index.to_string()).unwrap();
    }

    /// A nested index blob listing `manifests`; its descriptor.
    fn nested_index(dir: &std::path::Path, manifests: &[Value]) -> Value {
        let bytes = json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "manifests": manifests,
        })
        .to_string();
        let digest = Digest::of(bytes.as_bytes());
        std::fs::write(dir.join(digest.blob_path()), &bytes).unwrap();
        json!({
            "mediaType": "application/vnd.oci.image.index.v1+json",
            "digest": digest.to_string(), "size": bytes.len(),
        })
    }

    fn open_named(dir: &std::path::Path, name: Option<&str>, platform: &str) -> Result<Image> {
        let reference = ImageRef::Oci {
            dir: dir.to_path_buf(),
            name: name.map(str::to_string),
        };
        Image::open(&reference, &Platform::parse(platform).unwrap())
    }

    fn digest_of(descriptor: &Value) -> String {
        descriptor["digest"].as_str().unwrap().to_string()
    }

    fn manifest_of(image: Result<Image>) -> String {
        image.unwrap().manifest_digest.unwrap().to_string()
    }

    /// Issue 14: an index entry with no `platform` gave "no image for
    /// linux/amd64 (has: )". Like containers/image's `chooseInstance`, an
    /// entry whose platform matches wins, and failing that the first entry
    /// with no platform.
    #[test]
    fn index_entry_without_platform_is_read_when_none_matches() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let m = images(d, 3);
        // (nested index entries, platform asked, Ok(image) or an error piece)
        let cases: Vec<(Vec<Value>, &str, Result<usize, &str>)> = vec![
            (vec![with(&m[0], None, None)], "linux/amd64", Ok(0)),
            (vec![with(&m[0], None, None)], "linux/arm64", Ok(0)),
            (
                vec![
                    with(&m[0], None, Some("linux/arm64")),
                    with(&m[1], None, None),
                ],
                "linux/amd64",
                Ok(1),
            ),
            (
                vec![
                    with(&m[0], None, Some("linux/arm64")),
                    with(&m[1], None, None),
                ],
                "linux/arm64",
                Ok(0),
            ),
            // A match beats an earlier entry without a platform.
            (
                vec![
                    with(&m[0], None, None),
                    with(&m[1], None, Some("linux/amd64")),
                ],
                "linux/amd64",
                Ok(1),
            ),
            // The first of several entries without a platform.
            (
                vec![
                    with(&m[2], None, Some("linux/s390x")),
                    with(&m[1], None, None),
                    with(&m[0], None, None),
                ],
                "linux/amd64",
                Ok(1),
            ),
            (
                vec![with(&m[0], None, Some("linux/arm64"))],
                "linux/amd64",
                Err("no image for linux/amd64 (has: linux/arm64)"),
            ),
            (vec![], "linux/amd64", Err("lists no manifests")),
        ];
        for (entries, platform, want) in cases {
            let index = nested_index(d, &entries);
            write_index(d, &[index]);
            match (open_named(d, None, platform), want) {
                (Ok(image), Ok(i)) => assert_eq!(
                    image.manifest_digest.unwrap().to_string(),
                    digest_of(&m[i]),
                    "{entries:?} for {platform}"
                ),
                (Err(e), Err(piece)) => assert!(e.to_string().contains(piece), "{e}"),
                (Ok(_), Err(piece)) => panic!("{entries:?}: opened, want {piece}"),
                (Err(e), Ok(_)) => panic!("{entries:?} for {platform}: {e}"),
            }
        }
    }

    /// Issue 14: two manifests under one ref name. containers/image
    /// (`getManifestDescriptor`) reads the first in index order, and so
    /// does pare; an entry of a media type no image has is passed over.
    #[test]
    fn duplicate_ref_name_reads_the_first_entry_like_skopeo() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let m = images(d, 2);
        write_index(
            d,
            &[with(&m[0], Some("v1"), None), with(&m[1], Some("v1"), None)],
        );
        assert_eq!(
            manifest_of(open_named(d, Some("v1"), "linux/amd64")),
            digest_of(&m[0])
        );
        write_index(
            d,
            &[with(&m[1], Some("v1"), None), with(&m[0], Some("v1"), None)],
        );
        assert_eq!(
            manifest_of(open_named(d, Some("v1"), "linux/amd64")),
            digest_of(&m[1])
        );
        let mut odd = with(&m[0], Some("v1"), None);
        odd["mediaType"] = "application/vnd.oci.descriptor.v1+json".into();
        write_index(d, &[odd.clone(), with(&m[1], Some("v1"), None)]);
        assert_eq!(
            manifest_of(open_named(d, Some("v1"), "linux/amd64")),
            digest_of(&m[1])
        );
        write_index(d, &[odd]);
        let err = open_named(d, Some("v1"), "linux/amd64")
            .err()
            .unwrap()
            .to_string();
        assert!(err.contains("unsupported media types"), "{err}");
        // An exact ref name wins over pare's looser matches of the name.
        write_index(
            d,
            &[
                with(&m[0], Some("x/v1"), None),
                with(&m[1], Some("v1"), None),
            ],
        );
        assert_eq!(
            manifest_of(open_named(d, Some("v1"), "linux/amd64")),
            digest_of(&m[1])
        );
    }

    /// Issue 14: a name matching several images got the hint "name one,
    /// e.g. oci:DIR:NAME:NAME" (the name doubled). The error now says the
    /// name is ambiguous, lists each image's position and digest, and
    /// shows `@N` and the digest as the ways out, which work.
    #[test]
    fn ambiguous_name_lists_the_images_and_the_way_out() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let m = images(d, 3);
        write_index(
            d,
            &[
                with(&m[0], Some("a/app:1"), None),
                with(&m[2], Some("other"), None),
                with(&m[1], Some("b/app:1"), None),
            ],
        );
        let err = open_named(d, Some("app:1"), "linux/amd64")
            .err()
            .unwrap()
            .to_string();
        let shown = d.display();
        let want = format!(
            "{shown}: index.json: the name \"app:1\" is ambiguous: it names 2 images: \
             @0 {} (a/app:1), @2 {} (b/app:1); pick one by position or digest, \
             e.g. oci:{shown}:@0 or oci:{shown}:{}",
            digest_of(&m[0]),
            digest_of(&m[1]),
            digest_of(&m[0]),
        );
        assert_eq!(err, want);
        assert!(!err.contains("app:1:app:1"), "{err}");
        for (name, want) in [
            ("@2".to_string(), &m[1]),
            ("@0".to_string(), &m[0]),
            (digest_of(&m[1]), &m[1]),
            ("a/app:1".to_string(), &m[0]),
        ] {
            let image = open_named(d, Some(&name), "linux/amd64");
            assert_eq!(manifest_of(image), digest_of(want), "{name}");
        }
        for (name, piece) in [
            ("@3", "no image @3: it lists 3 (from @0)"),
            ("@x", "bad image position \"@x\""),
            ("@-1", "bad image position \"@-1\""),
            ("nothing", "no image named \"nothing\""),
        ] {
            let err = open_named(d, Some(name), "linux/amd64").err().unwrap();
            assert!(err.to_string().contains(piece), "{name}: {err}");
        }
        let missing = format!("sha256:{}", "0".repeat(64));
        let err = open_named(d, Some(&missing), "linux/amd64").err().unwrap();
        assert!(
            err.to_string()
                .ends_with(&format!("no image with digest {missing}"))
        );
    }

    /// No name and several images: refused (as skopeo does), listing them
    /// and the ways to pick one; one manifest listed under several names
    /// is one image, and long lists are cut short.
    #[test]
    fn several_images_and_no_name_lists_them() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let m = images(d, 10);
        write_index(
            d,
            &[
                with(&m[0], Some("1.0"), None),
                with(&m[0], Some("latest"), None),
            ],
        );
        assert_eq!(
            manifest_of(open_named(d, None, "linux/amd64")),
            digest_of(&m[0])
        );
        write_index(
            d,
            &[
                with(&m[0], Some("1.0"), None),
                with(&m[1], None, None),
                with(&m[0], Some("latest"), None),
            ],
        );
        let err = open_named(d, None, "linux/amd64")
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains(&format!(
                "holds 2 images: @0 {} (1.0, latest), @1 {}; pick one by position or digest",
                digest_of(&m[0]),
                digest_of(&m[1])
            )),
            "{err}"
        );
        let all: Vec<Value> = m.iter().map(|d| with(d, None, None)).collect();
        write_index(d, &all);
        let err = open_named(d, None, "linux/amd64")
            .err()
            .unwrap()
            .to_string();
        assert!(
            err.contains("holds 10 images: @0 ") && err.contains("@7 "),
            "{err}"
        );
        assert!(
            err.contains(", and 2 more; ") && !err.contains("@8 "),
            "{err}"
        );
    }

    /// `@N` reads an image by position; as the name of an image to write
    /// it would read back as a position, so it is refused there.
    #[test]
    fn position_is_refused_as_a_destination_name() {
        use crate::write::{WriteOptions, write_image};
        let src = tempfile::tempdir().unwrap();
        let image = Image::open(
            &oci_layout(src.path(), &[layer(&[E::File("a", b"1")])]),
            &Platform::default(),
        )
        .unwrap();
        let source = crate::Source::Image(image);
        let out = tempfile::tempdir().unwrap();
        for transport in ["oci", "oci-archive", "docker-archive"] {
            let target = ImageRef::parse(&format!(
                "{transport}:{}:@0",
                out.path().join("x").display()
            ))
            .unwrap();
            let err = write_image(&source, &target, &WriteOptions::default())
                .err()
                .unwrap()
                .to_string();
            assert!(
                err.contains("@0: a position picks an image to read"),
                "{err}"
            );
            assert!(!out.path().join("x").exists());
        }
    }
}
