//! What the loader cannot see, added by rules, each with its reason: the
//! users and groups the configuration and the kept files name
//! (`etc/passwd` and `etc/group` reduced to them), glibc's NSS modules as
//! `etc/nsswitch.conf` names them, CA certificates when a TLS library is
//! kept, time zone data, and the OS identity.

use std::collections::BTreeSet;

use pare_elf::Loader;
use pare_image::Flattened;
use pare_image::tree::FileTree;

use crate::plan::Plan;
use crate::why::{Rule, Why};

/// glibc's name-service configuration.
pub const NSSWITCH: &str = "etc/nsswitch.conf";
/// Where glibc and most runtimes look for time zone files.
pub const ZONEINFO: &str = "usr/share/zoneinfo";

/// Files whose bytes these rules read, to capture while flattening.
pub fn wants(path: &str) -> bool {
    matches!(path, "etc/passwd" | "etc/group")
}

/// The services `nsswitch.conf` names, each with the databases naming it
/// (`hosts: files dns` → files: hosts, dns: hosts); `[...]` actions and
/// comments skipped.
pub fn nss_services(text: &str) -> Vec<(String, Vec<String>)> {
    let mut services: Vec<(String, Vec<String>)> = Vec::new();
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or_default();
        let Some((database, rest)) = line.split_once(':') else {
            continue;
        };
        let mut in_action = false;
        for word in rest.split_whitespace() {
            // `[NOTFOUND=return]` and `[ !UNAVAIL=return ]` alike.
            if word.starts_with('[') {
                in_action = !word.ends_with(']');
                continue;
            }
            if in_action {
                in_action = !word.ends_with(']');
                continue;
            }
            match services.iter_mut().find(|(s, _)| s == word) {
                Some((_, dbs)) => dbs.push(database.trim().to_string()),
                None => services.push((word.to_string(), vec![database.trim().to_string()])),
            }
        }
    }
    services
}

/// glibc loads `libnss_SERVICE.so.2` for each service `nsswitch.conf`
/// names, with `dlopen` from libc: when a glibc `libc.so.6` is kept, keep
/// the configuration and every module the image has, with what each loads.
/// (`files` and `dns` are built into glibc ≥ 2.34, which still ships
/// stub modules; a module the image lacks is skipped, as glibc does.)
pub fn add_nss_modules(flat: &Flattened, loader: &Loader<'_>, plan: &mut Plan) {
    let Some(libc) = plan.kept_glibc() else {
        return;
    };
    let Ok(Some(conf)) = flat.read(NSSWITCH) else {
        return;
    };
    plan.add_resolved(&flat.tree, NSSWITCH, Why::Rule(Rule::NssConfig));
    for (service, databases) in nss_services(&String::from_utf8_lossy(&conf)) {
        let module = format!("libnss_{service}.so.2");
        let Some((real, links, _)) = loader.dlopen(&module, &libc) else {
            continue;
        };
        for link in &links {
            let target = real.clone();
            plan.add(link, Why::SymlinkTo { target });
        }
        plan.add(&real, Why::Rule(Rule::NssModule { databases }));
        plan.add_loaded(&loader.closure(std::slice::from_ref(&real)));
    }
}

/// Whether `dir` is one of the folders every glibc system searches (the
/// loader's defaults and the multiarch folders `libc6` itself lists):
/// libraries there are found by `DT_NEEDED` like any other, not
/// registered for plugins.
fn is_system_library_folder(dir: &str) -> bool {
    let dir = dir.trim_end_matches('/');
    matches!(
        dir,
        "/lib" | "/usr/lib" | "/lib64" | "/usr/lib64" | "/lib32" | "/usr/lib32"
    ) || ["/lib/", "/usr/lib/", "/usr/local/lib/"]
        .iter()
        .any(|base| {
            dir.strip_prefix(base)
                .is_some_and(|triplet| triplet.ends_with("-linux-gnu") && !triplet.contains('/'))
        })
}

/// Libraries in a folder the image's loader configuration adds
/// (`/etc/ld.so.conf.d/greet.conf` → `/usr/local/lib/greet`), when a kept
/// program imports `dlopen`: an administrator registered that folder so
/// programs find its libraries by name (plugins), which no `DT_NEEDED`
/// shows. Each is kept with what it loads, and the loader's cache with
/// them. Only the folder's own shared objects, as `ldconfig` reads it.
pub fn add_plugin_folders(
    tree: &FileTree,
    root: &dyn pare_elf::search::Root,
    loader: &Loader<'_>,
    conf_dirs: &[String],
    plan: &mut Plan,
) {
    let caller = plan.keep.keys().find(|path| {
        root.elf(path).is_some_and(|info| {
            info.soname.is_none() && info.watched_symbols.iter().any(|s| s == "dlopen")
        })
    });
    let Some(program) = caller.cloned() else {
        return;
    };
    let mut plugins = Vec::new();
    for dir in conf_dirs.iter().filter(|d| !is_system_library_folder(d)) {
        let Ok(real) = tree.resolve(dir.trim_start_matches('/'), true) else {
            continue;
        };
        let children: Vec<String> = tree.children(&real).map(|(p, _)| format!("/{p}")).collect();
        for path in children {
            let name = pare_image::paths::file_name(&path);
            if !name.contains(".so") {
                continue;
            }
            // A link (`libgreet.so.1 -> libgreet.so.1.0`) keeps its target.
            let Some((object, _)) = root.resolve(&path) else {
                continue;
            };
            if root.elf(&object).is_some() {
                let why = Why::Rule(Rule::Plugin {
                    folder: dir.clone(),
                    program: program.clone(),
                });
                plan.add_resolved(tree, &path, why);
                plugins.push(object);
            }
        }
    }
    if !plugins.is_empty() {
        plan.add_loaded(&loader.closure(&plugins));
        // dlopen finds them by name through the cache ldconfig wrote.
        plan.add_resolved(tree, "/etc/ld.so.cache", Why::Rule(Rule::LoaderCache));
    }
}

/// The OS's identity, so scanners still know the distribution.
pub fn add_os_release(tree: &FileTree, plan: &mut Plan) {
    for release in ["etc/os-release", "usr/lib/os-release"] {
        plan.add_resolved(tree, release, Why::Rule(Rule::OsIdentity));
    }
}

/// Folders every program may assume exist, kept empty (with their mode:
/// `/tmp` stays 1777) when the source has them: nginx writes
/// `/run/nginx.pid` and refuses to start without `/run`; temporary files
/// go to `/tmp`.
pub const SKELETON: &[&str] = &["/tmp", "/var/tmp", "/run", "/var/run"];

/// Keeps the [`SKELETON`] folders (or links, like `/var/run -> /run`) the
/// source has, without what is in them.
pub fn add_skeleton(tree: &FileTree, plan: &mut Plan) {
    for path in SKELETON {
        let kept = tree.get(path.trim_start_matches('/')).is_some_and(|n| {
            n.is_dir() || matches!(n.kind, pare_image::tree::NodeKind::Symlink(_))
        });
        if kept {
            plan.add(path, Why::Rule(Rule::Skeleton));
        }
    }
}

/// CA certificates, when a TLS library is kept.
pub fn add_ca_certificates(tree: &FileTree, plan: &mut Plan) {
    let Some(library) = plan.keep.keys().find(|p| is_tls_library(p)).cloned() else {
        return;
    };
    for bundle in CA_CERTIFICATES {
        let library = library.clone();
        plan.add_resolved(tree, bundle, Why::Rule(Rule::CaCertificates { library }));
    }
}

/// Time zone data: `etc/localtime` (and Debian's `etc/timezone`) with the
/// zone it names, always (glibc reads it for local time); the zone `TZ`
/// names; the whole database with `--include-tz`.
pub fn add_time_zones(tree: &FileTree, tz: Option<&str>, include_tz: bool, plan: &mut Plan) {
    for local in ["etc/localtime", "etc/timezone"] {
        plan.add_resolved(tree, local, Why::Rule(Rule::LocalTime));
    }
    if let Some(zone) = tz
        .map(|z| z.trim_start_matches(':'))
        .filter(|z| !z.is_empty())
    {
        let path = if zone.starts_with('/') {
            zone.to_string()
        } else {
            format!("{ZONEINFO}/{zone}")
        };
        // A POSIX rule (`UTC0`) names no file; a name outside the image's
        // root resolves to nothing.
        if !zone.contains("..") {
            let zone = zone.to_string();
            plan.add_resolved(tree, &path, Why::Rule(Rule::Tz { zone }));
        }
    }
    if include_tz {
        plan.add_resolved(tree, ZONEINFO, Why::Rule(Rule::IncludeTz));
    }
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
    let (kept, primary_groups, _) = reduce_naming(text, wanted);
    (kept, primary_groups)
}

/// [`reduce`], with the names of the lines dropped.
fn reduce_naming(text: &str, wanted: &BTreeSet<String>) -> (String, BTreeSet<String>, Vec<String>) {
    let mut out = String::new();
    let mut primary_groups = BTreeSet::new();
    let mut dropped = Vec::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split(':').collect();
        if fields.len() < 4 {
            continue;
        }
        if wanted.contains(fields[0]) || wanted.contains(fields[2]) {
            out.push_str(line);
            out.push('\n');
            primary_groups.insert(fields[3].to_string());
        } else {
            dropped.push(fields[0].to_string());
        }
    }
    (out, primary_groups, dropped)
}

/// The names in `passwd`/`group` text (field 1).
fn names(text: &str) -> BTreeSet<String> {
    text.lines()
        .filter(|l| l.split(':').count() >= 4)
        .filter_map(|l| l.split(':').next())
        .map(str::to_string)
        .collect()
}

/// The `candidates` a configuration file names as a word outside
/// comments (`user www-data;` in nginx.conf, `User apache` in httpd.conf):
/// a server drops privileges to the user its configuration names, which
/// neither the image's `USER` nor the owners of files show.
pub fn names_in_config(text: &str, candidates: &BTreeSet<String>) -> BTreeSet<String> {
    // `/` stays inside a word: `bin` in `/usr/bin` or `audio` in
    // `audio/mpeg` names no user.
    let is_word = |c: char| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | '$' | '/');
    configuration_lines(text)
        .flat_map(|l| l.split(|c: char| !is_word(c)))
        .filter(|w| candidates.contains(*w))
        .map(str::to_string)
        .collect()
}

/// The lines of a configuration file outside comments (`#`, `;`, `//`
/// at the start of a line, after indentation), each without its
/// indentation: what the rules reading configuration look at.
pub fn configuration_lines(text: &str) -> impl Iterator<Item = &str> {
    text.lines()
        .map(str::trim_start)
        .filter(|l| !l.starts_with('#') && !l.starts_with(';') && !l.starts_with("//"))
}

/// Configuration files whose words can name a user: regular files under
/// `etc/` and `usr/local/etc/`, except the account and loader databases.
pub fn is_configuration(path: &str) -> bool {
    let rel = path.trim_start_matches('/');
    (rel.starts_with("etc/") || rel.starts_with("usr/local/etc/"))
        && !matches!(
            rel,
            "etc/passwd" | "etc/group" | "etc/shadow" | "etc/gshadow" | "etc/ld.so.cache"
        )
}

/// Who the new image's users and groups must include beside root and the
/// owners of kept files.
#[derive(Clone, Debug, Default)]
pub struct WantedAccounts<'a> {
    /// The configuration's `User`.
    pub user: Option<&'a str>,
    /// Users (`name[:group]`) wrappers in the entry point switch to.
    pub named: &'a [String],
    /// Ids a traced run saw processes switch to.
    pub switched: Option<&'a (BTreeSet<u32>, BTreeSet<u32>)>,
    /// The texts of the kept configuration files.
    pub configs: Vec<String>,
    /// Files kept as the image has them (`--include /etc/passwd`): not
    /// reduced.
    pub as_is: BTreeSet<String>,
}

/// The reduced `etc/passwd` and `etc/group` for the new image, and what
/// the reduction kept and dropped.
pub fn users_and_groups(
    flat: &Flattened,
    kept: &FileTree,
    wanted: &WantedAccounts<'_>,
) -> (Vec<(String, Vec<u8>)>, Accounts) {
    let read = |path: &str| {
        flat.read(path)
            .ok()
            .flatten()
            .map(|b| String::from_utf8_lossy(&b).into_owned())
    };
    let (mut users, mut groups) = wanted_ids(kept, wanted.user);
    for spec in wanted.named {
        let (name, group) = spec.split_once(':').unwrap_or((spec, ""));
        users.insert(name.to_string());
        if !group.is_empty() {
            groups.insert(group.to_string());
        }
    }
    if let Some((uids, gids)) = wanted.switched {
        users.extend(uids.iter().map(u32::to_string));
        groups.extend(gids.iter().map(u32::to_string));
    }
    let mut out = Vec::new();
    let mut accounts = Accounts::default();
    if let Some(passwd) = read("etc/passwd") {
        let everyone = names(&passwd);
        for text in &wanted.configs {
            let named = names_in_config(text, &everyone);
            accounts
                .named_in_configuration
                .extend(named.iter().cloned());
            users.extend(named);
        }
        let (reduced, primary, dropped) = reduce_naming(&passwd, &users);
        groups.extend(primary);
        if wanted.as_is.contains("etc/passwd") {
            accounts.kept_as_is.push("/etc/passwd".into());
        } else {
            accounts.users_kept = names(&reduced).into_iter().collect();
            accounts.users_dropped = dropped;
            out.push(("etc/passwd".to_string(), reduced.into_bytes()));
        }
    }
    if let Some(group) = read("etc/group") {
        let everyone = names(&group);
        for text in &wanted.configs {
            groups.extend(names_in_config(text, &everyone));
        }
        let (reduced, _, dropped) = reduce_naming(&group, &groups);
        if wanted.as_is.contains("etc/group") {
            accounts.kept_as_is.push("/etc/group".into());
        } else {
            accounts.groups_kept = names(&reduced).into_iter().collect();
            accounts.groups_dropped = dropped;
            out.push(("etc/group".to_string(), reduced.into_bytes()));
        }
    }
    (out, accounts)
}

/// What the reduced `passwd` and `group` kept and dropped, for the report
/// (a user the app needs and pare dropped is found here, not by a failing
/// `getpwnam` in production).
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize)]
pub struct Accounts {
    pub users_kept: Vec<String>,
    pub users_dropped: Vec<String>,
    pub groups_kept: Vec<String>,
    pub groups_dropped: Vec<String>,
    /// Users kept because a kept configuration file names them.
    pub named_in_configuration: BTreeSet<String>,
    /// Account files kept unchanged because `--include` named them.
    pub kept_as_is: Vec<String>,
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
    fn configuration_names_users_as_words_outside_comments() {
        let everyone = set(&["root", "daemon", "www-data", "redis", "nobody"]);
        let cases: &[(&str, &[&str])] = &[
            ("user www-data;\nworker_processes auto;\n", &["www-data"]),
            ("User redis\n", &["redis"]),
            ("# user nobody;\n; daemon off\n// root only\n", &[]),
            ("daemon off;\n", &["daemon"]),
            // Part of a longer word is no name.
            ("user www-data2;\npath /var/lib/redis-x\n", &[]),
            ("user=redis:redis\n", &["redis"]),
            ("types { audio/mpeg mp3; }\nlisten /usr/bin/redis;\n", &[]),
        ];
        for (text, want) in cases {
            assert_eq!(names_in_config(text, &everyone), set(want), "{text:?}");
        }
    }

    #[test]
    fn plugin_folders_are_those_an_administrator_added() {
        for (dir, system) in [
            ("/usr/lib/x86_64-linux-gnu", true),
            ("/lib/aarch64-linux-gnu/", true),
            ("/usr/local/lib/x86_64-linux-gnu", true),
            ("/usr/lib64", true),
            ("/usr/local/lib", false),
            ("/usr/local/lib/greet", false),
            ("/opt/app/plugins", false),
            ("/usr/lib/x86_64-linux-gnu/plugins", false),
        ] {
            assert_eq!(is_system_library_folder(dir), system, "{dir}");
        }
    }

    #[test]
    fn nsswitch_services_with_their_databases() {
        let conf = "# /etc/nsswitch.conf\n\
            passwd:         files systemd\n\
            group:          files [SUCCESS=merge] systemd\n\
            hosts:          files mdns4_minimal [NOTFOUND=return] dns myhostname\n\
            netgroup:       nis # a comment naming ldap\n\
            services:       db [ !UNAVAIL=return ] files\n\
            not a database line\n";
        let got = nss_services(conf);
        let want: Vec<(String, Vec<String>)> = [
            ("files", &["passwd", "group", "hosts", "services"][..]),
            ("systemd", &["passwd", "group"]),
            ("mdns4_minimal", &["hosts"]),
            ("dns", &["hosts"]),
            ("myhostname", &["hosts"]),
            ("nis", &["netgroup"]),
            ("db", &["services"]),
        ]
        .iter()
        .map(|(s, dbs)| (s.to_string(), dbs.iter().map(|d| d.to_string()).collect()))
        .collect();
        assert_eq!(got, want);
    }

    #[test]
    fn tls_libraries_are_recognised() {
        assert!(is_tls_library("/usr/lib/x86_64-linux-gnu/libssl.so.3"));
        assert!(is_tls_library("/usr/lib/libgnutls.so.30"));
        assert!(!is_tls_library("/usr/lib/x86_64-linux-gnu/libcrypto.so.3"));
    }
}
