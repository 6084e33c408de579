//! Reading the files catalogers need from a flattened image: captured bytes
//! for images, the file itself for root folders. A read error becomes a
//! warning in the catalog, never a failure of the whole SBOM.

use std::borrow::Cow;
use std::collections::HashSet;

use pare_image::tree::NodeKind;
use pare_image::{DataSource, Flattened};

use crate::model::{Catalog, PackageType};

/// The bytes of the file at `path`, borrowed when they were captured.
pub(crate) fn read_bytes<'a>(
    flat: &'a Flattened,
    path: &str,
    out: &mut Catalog,
) -> Option<Cow<'a, [u8]>> {
    match flat.read(path) {
        Ok(bytes) => bytes,
        Err(e) => {
            out.warnings.push(format!("/{path}: {e}"));
            None
        }
    }
}

/// The file at `path` as text (invalid UTF-8 replaced).
pub(crate) fn read_text(flat: &Flattened, path: &str, out: &mut Catalog) -> Option<String> {
    read_bytes(flat, path, out).map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
}

/// The layer whose version of `path` is in the final tree.
pub(crate) fn layer_of(flat: &Flattened, path: &str) -> Option<usize> {
    let resolved = flat.tree.resolve_id(path, true).ok()??;
    match flat.tree.node(resolved).kind {
        NodeKind::File(id) => match flat.tree.content(id).source {
            DataSource::Layer { layer, .. } => Some(layer),
            DataSource::Host(_) => None,
        },
        _ => None,
    }
}

/// The image-relative paths of the files the OS packages (dpkg, apk, rpm)
/// found so far own, both as listed and as the image resolves them: on
/// merged-/usr systems dpkg says `/bin/busybox` for `usr/bin/busybox`.
/// What an OS package owns is left to it by the catalogers that run later.
pub(crate) fn owned_by_os_packages(flat: &Flattened, out: &Catalog) -> HashSet<String> {
    out.packages
        .iter()
        .filter(|p| {
            matches!(
                p.kind,
                PackageType::Deb | PackageType::Apk | PackageType::Rpm
            )
        })
        .flat_map(|p| p.files.iter())
        .flat_map(|f| {
            let path = f.trim_start_matches('/');
            [Some(path.to_string()), flat.tree.resolve(path, true).ok()]
        })
        .flatten()
        .collect()
}
