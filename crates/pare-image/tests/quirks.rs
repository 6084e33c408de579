//! Issue 14: image quirks that skopeo accepts and pare refused, checked on
//! other tools' own test layouts (`tests/data`, origins in its README) and
//! on archives packed the way `tar -C layout -cf img.tar .` packs them.
//! What skopeo reads from the same inputs is noted with each test; the
//! `pare` crate's `tests/it/quirks.rs` runs skopeo and GNU tar themselves.

use std::path::{Path, PathBuf};

use pare_image::{Image, ImageRef, Platform};

/// ggcr's image `1`: a Docker schema 2 manifest, listed as OCI.
const GGCR_MANIFEST: &str =
    "sha256:eebff607b1628d67459b0596643fc07de70d702eccf030f0bc7bb6fc2b278650";
const GGCR_CONFIG: &str = "sha256:6e0b05049ed9c17d02e1a55e80d6599dbfcce7f4f4b022e3c673e685789c470e";
const GGCR_LAYER: &str = "sha256:dc52c6e48a1d51a96047b059f16889bc889c4b4c28f3b36b3f93187f62fc0b2b";
/// The two manifests containers/image's fixture names `1.0.0`, in order.
const CIMAGE_FIRST: &str =
    "sha256:49d1584496c6e196f512c4a9f52b17b187642269d84c044538523c5b69a660b3";
const CIMAGE_SECOND: &str =
    "sha256:ecfa463536cb5472e238aadc4df81d4785d5d6373027c488a2db8a6e76fe88ed";

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn open(reference: &str) -> pare_image::Result<Image> {
    Image::open(&ImageRef::parse(reference)?, &Platform::default())
}

fn manifest(image: &Image) -> String {
    image.manifest_digest.as_ref().unwrap().to_string()
}

/// Issue 14, an index entry with no platform: ggcr's `3` (an OCI index)
/// and `4` (a Docker manifest list) each list one manifest without a
/// `platform`, and gave "no image for linux/amd64 (has: )". `skopeo copy
/// oci:…:3` copies that manifest (`chooseInstance` falls back to an entry
/// without a platform); pare reads it, for any platform asked.
#[test]
fn index_entry_without_platform_opens_ggcr_test_index() {
    let layout = data("ggcr-test_index");
    for name in ["1", "3", "4"] {
        for platform in ["linux/amd64", "linux/arm64"] {
            let reference = ImageRef::parse(&format!("oci:{}:{name}", layout.display())).unwrap();
            let image = Image::open(&reference, &Platform::parse(platform).unwrap())
                .unwrap_or_else(|e| panic!("{name} for {platform}: {e}"));
            assert_eq!(manifest(&image), GGCR_MANIFEST, "{name}");
            assert_eq!(image.config_digest.to_string(), GGCR_CONFIG);
            assert_eq!(image.names, [name.to_string()]);
            let (tree, changes) = image.flatten().unwrap();
            assert_eq!(changes.len(), 1);
            assert!(tree.non_dir_count() > 0, "{name}: empty tree");
        }
    }
    // `2` is a descriptor of no image type (skopeo: "matches unsupported
    // manifest MIME types").
    let err = open(&format!("oci:{}:2", layout.display()))
        .err()
        .unwrap()
        .to_string();
    assert!(
        err.contains("\"2\" names only unsupported media types")
            && err.contains("application/vnd.oci.descriptor.v1+json"),
        "{err}"
    );
}

/// Issue 14, two manifests under one ref name: containers/image's own
/// fixture. `skopeo inspect oci:…:1.0.0` reads the first (49d15844…);
/// so does pare. `@1` is the other; no name lists both.
#[test]
fn duplicate_ref_name_reads_the_first_of_cimage_fixture() {
    let layout = data("cimage-two_identical_references");
    let shown = layout.display();
    let first = open(&format!("oci:{shown}:1.0.0")).unwrap();
    assert_eq!(manifest(&first), CIMAGE_FIRST);
    assert_eq!(
        first.config_digest.to_string(),
        "sha256:a527179158cd5cebc11c152b8637b47ce96c838ba2aa0de66d14f45cedc11423"
    );
    // Its layer is placeholder text: reading it fails, on the first
    // image's layer, not the second's (fa00bb4e…).
    let err = first.flatten().err().unwrap().to_string();
    assert!(err.contains("sha256:0c8b263642b5"), "{err}");
    for (name, want) in [("@0", CIMAGE_FIRST), ("@1", CIMAGE_SECOND)] {
        let image = open(&format!("oci:{shown}:{name}")).unwrap();
        assert_eq!(manifest(&image), want, "{name}");
    }
    let image = open(&format!("oci:{shown}:{CIMAGE_SECOND}")).unwrap();
    assert_eq!(manifest(&image), CIMAGE_SECOND);
    let err = open(&format!("oci:{shown}")).err().unwrap().to_string();
    assert_eq!(
        err,
        format!(
            "{shown}: index.json: holds 2 images: @0 {CIMAGE_FIRST} (1.0.0), \
             @1 {CIMAGE_SECOND} (1.0.0); pick one by position or digest, \
             e.g. oci:{shown}:@0 or oci:{shown}:{CIMAGE_FIRST}"
        )
    );
}

/// One member of an archive: a folder, or a file and its bytes.
enum Member {
    Dir(String),
    File(String, Vec<u8>),
}

/// Writes a tar whose member names are exactly as given (the `tar` crate
/// would rewrite `./`), GNU tar's way: folders before what they hold.
fn write_tar(path: &Path, members: &[Member]) {
    let mut builder = tar::Builder::new(Vec::new());
    for member in members {
        let (name, kind, data): (&str, _, &[u8]) = match member {
            Member::Dir(name) => (name, tar::EntryType::Directory, b""),
            Member::File(name, data) => (name, tar::EntryType::Regular, data),
        };
        let mut header = tar::Header::new_gnu();
        header.set_entry_type(kind);
        header.set_mode(if kind.is_dir() { 0o755 } else { 0o644 });
        header.set_size(data.len() as u64);
        header.as_old_mut().name[..name.len()].copy_from_slice(name.as_bytes());
        header.set_cksum();
        builder.append(&header, data).unwrap();
    }
    std::fs::write(path, builder.into_inner().unwrap()).unwrap();
}

/// The members `tar -C layout -cf img.tar .` writes: `./`, then every
/// folder and file below it as `./NAME`.
fn dot_slash_members(root: &Path) -> Vec<Member> {
    fn walk(root: &Path, dir: &Path, out: &mut Vec<Member>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            let name = format!("./{}", path.strip_prefix(root).unwrap().display());
            if path.is_dir() {
                out.push(Member::Dir(format!("{name}/")));
                walk(root, &path, out);
            } else {
                out.push(Member::File(name, std::fs::read(&path).unwrap()));
            }
        }
    }
    let mut out = vec![Member::Dir("./".into())];
    walk(root, root, &mut out);
    out
}

/// Issue 14, `./` members: an OCI layout packed with `tar -C layout -cf
/// img.tar .` (members `./`, `./index.json`, `./blobs/sha256/…`) reads as
/// the layout does, detected or named, by every name the layout has.
/// (containers/image untars an `oci-archive:` into a folder, so `./` is
/// no different there.)
#[test]
fn dot_slash_members_of_an_oci_archive_are_read() {
    let work = tempfile::tempdir().unwrap();
    for (fixture, names) in [
        ("ggcr-test_index", &["1", "3", "4"][..]),
        ("cimage-two_identical_references", &["1.0.0", "@1"][..]),
    ] {
        let layout = data(fixture);
        let archive = work.path().join(format!("{fixture}.tar"));
        write_tar(&archive, &dot_slash_members(&layout));
        let shown = archive.display();
        assert!(matches!(
            ImageRef::parse(&shown.to_string()).unwrap(),
            ImageRef::OciArchive { .. }
        ));
        for name in names {
            let from_tar = open(&format!("oci-archive:{shown}:{name}")).unwrap();
            let from_dir = open(&format!("oci:{}:{name}", layout.display())).unwrap();
            assert_eq!(manifest(&from_tar), manifest(&from_dir), "{fixture}:{name}");
            assert_eq!(from_tar.config_digest, from_dir.config_digest);
        }
    }
}

/// Issue 14, `./` members: a docker archive packed the same way (`tar -C
/// extracted -cf img.tar .`; containers/image's `findTarComponent`
/// compares `path.Clean` of each member name) reads as if packed without.
#[test]
fn dot_slash_members_of_a_docker_archive_are_read() {
    let layout = data("ggcr-test_index");
    let blob = |digest: &str| {
        let path = format!("blobs/sha256/{}", digest.strip_prefix("sha256:").unwrap());
        (path.clone(), std::fs::read(layout.join(&path)).unwrap())
    };
    let (config_path, config) = blob(GGCR_CONFIG);
    let (layer_path, layer) = blob(GGCR_LAYER);
    let manifest_json = serde_json::json!([{
        "Config": config_path,
        "RepoTags": ["ggcr/test:1"],
        "Layers": [layer_path],
    }])
    .to_string();
    let work = tempfile::tempdir().unwrap();
    for prefix in ["./", ""] {
        let archive = work.path().join(format!("docker{}.tar", prefix.len()));
        let mut members = Vec::new();
        if !prefix.is_empty() {
            members.push(Member::Dir(prefix.into()));
        }
        members.extend([
            Member::Dir(format!("{prefix}blobs/")),
            Member::Dir(format!("{prefix}blobs/sha256/")),
            Member::File(format!("{prefix}{config_path}"), config.clone()),
            Member::File(format!("{prefix}{layer_path}"), layer.clone()),
            Member::File(
                format!("{prefix}manifest.json"),
                manifest_json.clone().into_bytes(),
            ),
        ]);
        write_tar(&archive, &members);
        let reference = ImageRef::parse(&archive.display().to_string()).unwrap();
        assert!(matches!(reference, ImageRef::DockerArchive { .. }));
        for reference in [
            reference,
            ImageRef::parse(&format!("docker-archive:{}:ggcr/test:1", archive.display())).unwrap(),
        ] {
            let image = Image::open(&reference, &Platform::default())
                .unwrap_or_else(|e| panic!("{prefix:?}: {e}"));
            assert_eq!(image.config_digest.to_string(), GGCR_CONFIG);
            assert_eq!(
                image.layers[0].digest.as_ref().unwrap().to_string(),
                GGCR_LAYER
            );
            let (tree, _) = image.flatten().unwrap();
            assert!(tree.non_dir_count() > 0);
        }
    }
}

/// skopeo also reads a compressed archive (`tar -czf`); pare cannot read
/// members in place in one yet, and said "corrupt or truncated tar:
/// numeric field did not have utf-8 text". It now says what it is.
#[test]
fn compressed_archive_is_refused_by_name() {
    use std::io::Write;
    let work = tempfile::tempdir().unwrap();
    let plain = work.path().join("plain.tar");
    write_tar(&plain, &dot_slash_members(&data("ggcr-test_index")));
    let bytes = std::fs::read(&plain).unwrap();
    let gzipped = work.path().join("img.tar.gz");
    let mut encoder = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    encoder.write_all(&bytes).unwrap();
    std::fs::write(&gzipped, encoder.finish().unwrap()).unwrap();
    let zstded = work.path().join("img.tar.zst");
    std::fs::write(&zstded, zstd::encode_all(&bytes[..], 1).unwrap()).unwrap();
    for (path, kind) in [(&gzipped, "gzip"), (&zstded, "zstd")] {
        let shown = path.display();
        let want =
            format!("{shown}: unsupported: a {kind}-compressed archive; decompress it first");
        for reference in [
            format!("oci-archive:{shown}:1"),
            format!("docker-archive:{shown}"),
            shown.to_string(),
        ] {
            let err = open(&reference).err().unwrap().to_string();
            assert_eq!(err, want, "{reference}");
        }
    }
}
