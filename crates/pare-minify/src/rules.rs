//! What the loader cannot see, added by rules: the users and groups the
//! configuration and the kept files name (`etc/passwd` and `etc/group`
//! reduced to them), and CA certificates when a TLS library is kept.

use std::collections::BTreeSet;

use pare_image::Flattened;
use pare_image::tree::FileTree;

/// Files whose bytes these rules read, to capture while flattening.
pub fn wants(path: &str) -> bool {
    matches!(path, "etc/passwd" | "etc/group")
}

/// Where TLS libraries look for the system's CA certificates (Debian,
/// Alpine, Fedora/RHEL); each kept if present, with its links.
pub const CA_CERTIFICATES: &[&str] = &[
    "etc/ssl/certs/ca-certificates.crt",
    "etc/ssl/cert.pem",
    "usr/lib/ssl/cert.pem",
    "usr/lib/ssl/certs",
    "etc/pki/tls/certs/ca-bundle.crt",
    "etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
];

/// Whether a kept file is a TLS library that reads CA certificates.
pub fn is_tls_library(path: &str) -> bool {
    let name = pare_image::paths::file_name(path);
    [
        "libssl.so",
        "libgnutls.so",
        "libnss3.so",
        "libmbedtls.so",
        "libwolfssl.so",
    ]
    .iter()
    .any(|lib| name.starts_with(lib))
}

/// Users and groups to keep: root, the config's `User` (`name`, `uid`,
/// `name:group`, `uid:gid`), and the owners of every kept path.
pub fn wanted_ids(tree: &FileTree, user: Option<&str>) -> (BTreeSet<String>, BTreeSet<String>) {
    let mut users: BTreeSet<String> = ["0".to_string()].into();
    let mut groups: BTreeSet<String> = ["0".to_string()].into();
    for (_, node) in tree.iter() {
        users.insert(node.uid.to_string());
        groups.insert(node.gid.to_string());
    }
    if let Some(user) = user.filter(|u| !u.is_empty()) {
        let (name, group) = user.split_once(':').unwrap_or((user, ""));
        users.insert(name.to_string());
        if !group.is_empty() {
            groups.insert(group.to_string());
        }
    }
    (users, groups)
}

/// `passwd` or `group` text reduced to the lines whose name (field 1) or id
/// (field 3) is wanted. For `passwd`, the primary groups of kept users are
/// returned so `group` can keep them too.
pub fn reduce(text: &str, wanted: &BTreeSet<String>) -> (String, BTreeSet<String>) {
    let mut out = String::new();
    let mut primary_groups = BTreeSet::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split(':').collect();
        if fields.len() < 4 {
            continue;
        }
        if wanted.contains(fields[0]) || wanted.contains(fields[2]) {
            out.push_str(line);
            out.push('\n');
            primary_groups.insert(fields[3].to_string());
        }
    }
    (out, primary_groups)
}

/// The reduced `etc/passwd` and `etc/group` for the new image.
pub fn users_and_groups(
    flat: &Flattened,
    kept: &FileTree,
    user: Option<&str>,
) -> Vec<(String, Vec<u8>)> {
    let read = |path: &str| {
        flat.read(path)
            .ok()
            .flatten()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    };
    let (users, mut groups) = wanted_ids(kept, user);
    let mut out = Vec::new();
    if let Some(passwd) = read("etc/passwd") {
        let (reduced, primary) = reduce(&passwd, &users);
        groups.extend(primary);
        out.push(("etc/passwd".to_string(), reduced.into_bytes()));
    }
    if let Some(group) = read("etc/group") {
        let (reduced, _) = reduce(&group, &groups);
        out.push(("etc/group".to_string(), reduced.into_bytes()));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\n\
        daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n\
        redis:x:100:101::/var/lib/redis:/usr/sbin/nologin\n\
        nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n\
        broken line\n";
    const GROUP: &str = "root:x:0:\ndaemon:x:1:\nredis:x:101:\nnogroup:x:65534:\n";

    fn set(items: &[&str]) -> BTreeSet<String> {
        items.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn passwd_and_group_keep_what_is_named_by_name_or_id() {
        let cases: &[(&[&str], &[&str])] = &[
            (&["0"], &["root"]),
            (&["0", "nobody"], &["root", "nobody"]),
            (&["0", "100"], &["root", "redis"]),
            (&["65534"], &["nobody"]),
        ];
        for (wanted, names) in cases {
            let (text, _) = reduce(PASSWD, &set(wanted));
            let got: Vec<&str> = text.lines().map(|l| l.split(':').next().unwrap()).collect();
            assert_eq!(got, *names, "{wanted:?}");
        }
        // The primary group of a kept user is kept in group too.
        let (_, primary) = reduce(PASSWD, &set(&["0", "redis"]));
        let (group, _) = reduce(GROUP, &primary);
        assert_eq!(group, "root:x:0:\nredis:x:101:\n");
    }

    #[test]
    fn tls_libraries_are_recognised() {
        assert!(is_tls_library("/usr/lib/x86_64-linux-gnu/libssl.so.3"));
        assert!(is_tls_library("/usr/lib/libgnutls.so.30"));
        assert!(!is_tls_library("/usr/lib/x86_64-linux-gnu/libcrypto.so.3"));
    }
}
