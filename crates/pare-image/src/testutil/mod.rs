//! Builds small layer tars in memory for tests, including the names a
//! well-behaved tar writer refuses to produce (`../x`, `/x`), by writing
//! header bytes directly.

/// One entry of a test layer.
#[derive(Clone, Debug)]
pub enum E {
    File(&'static str, &'static [u8]),
    Dir(&'static str),
    Sym(&'static str, &'static str),
    Hard(&'static str, &'static str),
    /// `.wh.NAME` for this path.
    Whiteout(&'static str),
    /// `.wh..wh..opq` in this folder.
    Opaque(&'static str),
    Char(&'static str, u32, u32),
    Fifo(&'static str),
    /// A regular file with one xattr.
    WithXattr(&'static str, &'static str, &'static [u8]),
}

/// Writes `entries` as an uncompressed tar.
pub fn layer(entries: &[E]) -> Vec<u8> {
    let mut b = tar::Builder::new(Vec::new());
    for e in entries {
        match e {
            E::File(p, data) => raw(&mut b, p, tar::EntryType::Regular, data, None),
            E::Dir(p) => raw(&mut b, p, tar::EntryType::Directory, b"", None),
            E::Sym(p, t) => raw(&mut b, p, tar::EntryType::Symlink, b"", Some(t)),
            E::Hard(p, t) => raw(&mut b, p, tar::EntryType::Link, b"", Some(t)),
            E::Whiteout(p) => {
                let (dir, name) = p.rsplit_once('/').unwrap_or(("", p));
                let wh = if dir.is_empty() {
                    format!(".wh.{name}")
                } else {
                    format!("{dir}/.wh.{name}")
                };
                raw(&mut b, &wh, tar::EntryType::Regular, b"", None)
            }
            E::Opaque(dir) => raw(
                &mut b,
                &format!("{dir}/.wh..wh..opq"),
                tar::EntryType::Regular,
                b"",
                None,
            ),
            E::Char(p, major, minor) => {
                let mut h = header(p, tar::EntryType::Char, 0, None);
                h.set_device_major(*major).unwrap();
                h.set_device_minor(*minor).unwrap();
                h.set_cksum();
                b.append(&h, &b""[..]).unwrap();
            }
            E::Fifo(p) => raw(&mut b, p, tar::EntryType::Fifo, b"", None),
            E::WithXattr(p, key, value) => {
                let key = format!("SCHILY.xattr.{key}");
                b.append_pax_extensions([(key.as_str(), *value)]).unwrap();
                raw(&mut b, p, tar::EntryType::Regular, b"x", None)
            }
        }
    }
    b.into_inner().unwrap()
}

fn header(name: &str, kind: tar::EntryType, size: u64, link: Option<&str>) -> tar::Header {
    let mut h = tar::Header::new_gnu();
    let bytes = name.as_bytes();
    assert!(bytes.len() < 100, "test names stay short");
    h.as_old_mut().name[..bytes.len()].copy_from_slice(bytes);
    if let Some(link) = link {
        let l = link.as_bytes();
        h.as_old_mut().linkname[..l.len()].copy_from_slice(l);
    }
    h.set_entry_type(kind);
    h.set_size(size);
    h.set_mode(if kind == tar::EntryType::Directory {
        0o755
    } else {
        0o644
    });
    h.set_mtime(1);
    h.set_cksum();
    h
}

fn raw(
    b: &mut tar::Builder<Vec<u8>>,
    name: &str,
    kind: tar::EntryType,
    data: &[u8],
    link: Option<&str>,
) {
    let h = header(name, kind, data.len() as u64, link);
    b.append(&h, data).unwrap();
}

/// Writes an OCI image layout in `dir` whose layers are the given
/// uncompressed tars, and returns its reference.
pub fn oci_layout(dir: &std::path::Path, layers: &[Vec<u8>]) -> crate::ImageRef {
    use crate::Digest;
    let blobs = dir.join("blobs/sha256");
    std::fs::create_dir_all(&blobs).unwrap();
    let put = |bytes: &[u8]| {
        let digest = Digest::of(bytes);
        std::fs::write(blobs.join(digest.hex()), bytes).unwrap();
        (digest.to_string(), bytes.len())
    };
    let layer_descriptors: Vec<_> = layers
        .iter()
        .map(|tar| {
            let (digest, size) = put(tar);
            serde_json::json!({
                "mediaType": "application/vnd.oci.image.layer.v1.tar",
                "digest": digest, "size": size,
            })
        })
        .collect();
    let diff_ids: Vec<_> = layer_descriptors
        .iter()
        .map(|d| d["digest"].clone())
        .collect();
    let config = serde_json::json!({
        "architecture": "amd64", "os": "linux",
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
    });
    let (config_digest, config_size) = put(config.to_string().as_bytes());
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {
            "mediaType": "application/vnd.oci.image.config.v1+json",
            "digest": config_digest, "size": config_size,
        },
        "layers": layer_descriptors,
    });
    let (manifest_digest, manifest_size) = put(manifest.to_string().as_bytes());
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{
            "mediaType": "application/vnd.oci.image.manifest.v1+json",
            "digest": manifest_digest, "size": manifest_size,
        }],
    });
    std::fs::write(dir.join("index.json"), index.to_string()).unwrap();
    std::fs::write(dir.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).unwrap();
    crate::ImageRef::Oci {
        dir: dir.to_path_buf(),
        name: None,
    }
}
