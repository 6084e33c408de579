//! Package metadata for what survived, the way distroless images carry it,
//! so Syft, Grype and Trivy still see what is inside a minified image: for
//! every Debian package that owns a kept file, its own paragraph of
//! `var/lib/dpkg/status` as `var/lib/dpkg/status.d/<name>` and its md5sums
//! reduced to the kept files as `status.d/<name>.md5sums`. Packages with no
//! kept file disappear. (apk and rpm databases: still to come.)

use std::collections::BTreeSet;

use pare_image::Flattened;
use pare_image::tree::NodeKind;
use pare_sbom::control;

const STATUS: &str = "var/lib/dpkg/status";
const INFO: &str = "var/lib/dpkg/info";
pub const STATUS_D: &str = "var/lib/dpkg/status.d";

/// A file to add to the new image: its path (relative) and bytes.
pub type NewFile = (String, Vec<u8>);

/// `status.d` entries for the packages that own a kept path. `kept` holds
/// absolute paths of the new image; a package's file counts when the path
/// dpkg lists resolves (merged /usr) to a kept path.
pub fn dpkg_status_d(flat: &Flattened, kept: &BTreeSet<String>) -> Vec<NewFile> {
    let Ok(Some(status)) = flat.read(STATUS) else {
        return Vec::new();
    };
    let status = String::from_utf8_lossy(&status).into_owned();
    let lines: Vec<&str> = status.lines().collect();
    let resolves_to_kept = |path: &str| {
        let rel = path.trim_start_matches('/');
        kept.contains(&format!("/{rel}"))
            || flat
                .tree
                .resolve(rel, true)
                .is_ok_and(|real| kept.contains(&format!("/{real}")))
    };
    let mut out = Vec::new();
    for paragraph in control::parse(&status) {
        let (Some(name), Some(state)) = (paragraph.get("Package"), paragraph.get("Status")) else {
            continue;
        };
        if !state.ends_with(" installed") {
            continue;
        }
        let arch = paragraph.get("Architecture").unwrap_or_default();
        let md5sums = [
            format!("{INFO}/{name}.md5sums"),
            format!("{INFO}/{name}:{arch}.md5sums"),
        ]
        .iter()
        .find_map(|p| flat.read(p).ok().flatten())
        .map(|b| String::from_utf8_lossy(&b).into_owned())
        .unwrap_or_default();
        let kept_lines: Vec<&str> = md5sums
            .lines()
            .filter(|line| {
                line.split_once("  ")
                    .is_some_and(|(_, path)| resolves_to_kept(path))
            })
            .collect();
        // A package whose only kept path is a symlink (redis-server owns
        // just /usr/bin/redis-server -> redis-check-rdb) still survives:
        // its .list names every path it installed, links included.
        let owns_kept_link = || {
            [
                format!("{INFO}/{name}.list"),
                format!("{INFO}/{name}:{arch}.list"),
            ]
            .iter()
            .find_map(|p| flat.read(p).ok().flatten())
            .is_some_and(|list| {
                String::from_utf8_lossy(&list).lines().any(|path| {
                    // A link to a folder is a folder to dpkg (`/lib` on a
                    // merged-/usr system is listed by every library package).
                    let rel = path.trim_start_matches('/');
                    let Ok(link) = flat.tree.resolve(rel, false) else {
                        return false;
                    };
                    let is_link = flat
                        .tree
                        .get(&link)
                        .is_some_and(|n| matches!(n.kind, NodeKind::Symlink(_)));
                    let to_folder = flat
                        .tree
                        .resolve(&link, true)
                        .ok()
                        .and_then(|real| flat.tree.get(&real).map(|n| n.is_dir()))
                        .unwrap_or(false);
                    is_link && !to_folder && kept.contains(&format!("/{link}"))
                })
            })
        };
        if kept_lines.is_empty() && !owns_kept_link() {
            continue;
        }
        // The paragraph exactly as dpkg wrote it.
        let start = paragraph.line.saturating_sub(1);
        let text: Vec<&str> = lines[start..]
            .iter()
            .take_while(|l| !l.trim().is_empty())
            .copied()
            .collect();
        out.push((
            format!("{STATUS_D}/{name}"),
            format!("{}\n", text.join("\n")).into_bytes(),
        ));
        if !kept_lines.is_empty() {
            out.push((
                format!("{STATUS_D}/{name}.md5sums"),
                format!("{}\n", kept_lines.join("\n")).into_bytes(),
            ));
        }
    }
    out
}
