//! `etc/ld.so.conf` and the files it includes: the extra library folders
//! `ldconfig` put in the cache. The loader itself never reads them; pare
//! tries them after the default folders, for an image whose cache is stale
//! or missing (as glibc would have found them after running `ldconfig`).
//!
//! Hand-written: the format is a few lines (glibc's `ldconfig.c`): `#`
//! comments, `include PATTERN` (a glob, relative to the including file's
//! folder), `hwcap` lines (ignored), and folder names separated by blanks,
//! commas, colons or tabs.

use std::collections::HashSet;

/// Includes nested deeper than this are ignored (glibc has no limit, but
/// a loop of includes must end).
const MAX_DEPTH: usize = 8;

/// What has been read so far: each file is read once, however often it is
/// included (ten includes of itself per file, eight deep, would otherwise
/// be 10⁸ reads), and each folder is kept once.
#[derive(Default)]
struct Seen {
    files: HashSet<String>,
    dirs: HashSet<String>,
}

/// The folders named by `etc/ld.so.conf` and its includes, in order.
/// `read` returns a file's text (absolute path), `list` the names in a
/// folder.
pub fn conf_dirs(
    read: &dyn Fn(&str) -> Option<String>,
    list: &dyn Fn(&str) -> Vec<String>,
) -> Vec<String> {
    let mut dirs = Vec::new();
    parse_file(
        "/etc/ld.so.conf",
        read,
        list,
        0,
        &mut dirs,
        &mut Seen::default(),
    );
    dirs
}

fn parse_file(
    path: &str,
    read: &dyn Fn(&str) -> Option<String>,
    list: &dyn Fn(&str) -> Vec<String>,
    depth: usize,
    dirs: &mut Vec<String>,
    seen: &mut Seen,
) {
    if depth > MAX_DEPTH || !seen.files.insert(path.to_string()) {
        return;
    }
    let Some(text) = read(path) else {
        return;
    };
    let here = path.rsplit_once('/').map_or("/", |(dir, _)| dir);
    for line in text.lines() {
        let line = line.split('#').next().unwrap_or_default().trim();
        if let Some(pattern) = line
            .strip_prefix("include")
            .filter(|r| r.starts_with([' ', '\t']))
        {
            for pattern in pattern.split_whitespace() {
                let pattern = if pattern.starts_with('/') {
                    pattern.to_string()
                } else {
                    format!("{here}/{pattern}")
                };
                let mut matched = expand(&pattern, list);
                matched.sort();
                for file in matched {
                    parse_file(&file, read, list, depth + 1, dirs, seen);
                }
            }
            continue;
        }
        if line.starts_with("hwcap") {
            continue;
        }
        for dir in line.split([' ', '\t', ',', ':']).filter(|d| !d.is_empty()) {
            // Old `DIR=TYPE` entries name a library type after the folder.
            let dir = dir.split('=').next().unwrap_or(dir);
            if dir.starts_with('/') && seen.dirs.insert(dir.to_string()) {
                dirs.push(dir.to_string());
            }
        }
    }
}

/// The files a pattern names: wildcards (`*`, `?`) only in the last part,
/// as every real `ld.so.conf` writes them.
fn expand(pattern: &str, list: &dyn Fn(&str) -> Vec<String>) -> Vec<String> {
    let (dir, name) = pattern.rsplit_once('/').unwrap_or(("", pattern));
    if !name.contains(['*', '?']) {
        return vec![pattern.to_string()];
    }
    let dir = if dir.is_empty() { "/" } else { dir };
    list(dir)
        .into_iter()
        .filter(|candidate| wildcard(name.as_bytes(), candidate.as_bytes()))
        .map(|candidate| format!("{}/{candidate}", dir.trim_end_matches('/')))
        .collect()
}

/// `*` and `?` matching, as fnmatch(3) without brackets. Both sides come
/// from the image, so the match runs in O(pattern × name) steps: a `*`
/// that fails is only ever retried from the latest `*`, which is enough
/// for a pattern without brackets (backtracking into every earlier `*`
/// was exponential in their number).
fn wildcard(pattern: &[u8], name: &[u8]) -> bool {
    let (mut p, mut n) = (0, 0);
    // Just after the latest `*`, and where in `name` it stopped matching.
    let mut star: Option<(usize, usize)> = None;
    while n < name.len() {
        match pattern.get(p) {
            Some(b'*') => {
                p += 1;
                star = Some((p, n));
            }
            Some(&c) if c == b'?' || c == name[n] => {
                p += 1;
                n += 1;
            }
            _ => match star {
                Some((after, from)) => {
                    // Let the latest `*` take one more byte.
                    p = after;
                    n = from + 1;
                    star = Some((after, n));
                }
                None => return false,
            },
        }
    }
    pattern[p..].iter().all(|c| *c == b'*')
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn dirs_of(files: &[(&str, &str)]) -> Vec<String> {
        let files: BTreeMap<String, String> = files
            .iter()
            .map(|(p, t)| (p.to_string(), t.to_string()))
            .collect();
        let read = |p: &str| files.get(p).cloned();
        let list = |dir: &str| -> Vec<String> {
            files
                .keys()
                .filter_map(|p| p.strip_prefix(&format!("{dir}/")))
                .filter(|rest| !rest.contains('/'))
                .map(str::to_string)
                .collect()
        };
        conf_dirs(&read, &list)
    }

    #[test]
    fn folders_from_the_conf_and_its_includes() {
        let debian = [
            ("/etc/ld.so.conf", "include /etc/ld.so.conf.d/*.conf\n"),
            (
                "/etc/ld.so.conf.d/x86_64-linux-gnu.conf",
                "# Multiarch support\n/usr/local/lib/x86_64-linux-gnu\n/lib/x86_64-linux-gnu\n",
            ),
            (
                "/etc/ld.so.conf.d/libc.conf",
                "# libc default configuration\n/usr/local/lib\n",
            ),
            ("/etc/ld.so.conf.d/README", "/not/a/conf\n"),
        ];
        assert_eq!(
            dirs_of(&debian),
            [
                "/usr/local/lib",
                "/usr/local/lib/x86_64-linux-gnu",
                "/lib/x86_64-linux-gnu"
            ]
        );
        /// (name, files as (path, text), the folders wanted)
        type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a [&'a str]);
        let cases: &[Case] = &[
            ("none", &[], &[]),
            (
                "separators and types",
                &[("/etc/ld.so.conf", "/a, /b:/c\t/d /e=libc6 relative\n")],
                &["/a", "/b", "/c", "/d", "/e"],
            ),
            (
                "relative include",
                &[
                    ("/etc/ld.so.conf", "include conf.d/*.conf"),
                    ("/etc/conf.d/1.conf", "/one"),
                ],
                &["/one"],
            ),
            (
                "an include loop ends",
                &[("/etc/ld.so.conf", "/a\ninclude /etc/ld.so.conf")],
                &["/a"],
            ),
            (
                "hwcap and comments",
                &[("/etc/ld.so.conf", "hwcap 1 nosegneg\n/x # trailing\n# /y")],
                &["/x"],
            ),
            (
                "included file missing",
                &[("/etc/ld.so.conf", "include /etc/gone.conf\n/z")],
                &["/z"],
            ),
        ];
        for (name, files, want) in cases {
            assert_eq!(dirs_of(files), *want, "{name}");
        }
    }

    #[test]
    fn wildcards_match_like_fnmatch() {
        for (pattern, name, want) in [
            ("*.conf", "libc.conf", true),
            ("*.conf", "libc.conf.bak", false),
            ("?.conf", "a.conf", true),
            ("*", "", true),
            ("a*b*c", "axxbyyc", true),
            ("a*b*c", "axxbyy", false),
            ("", "", true),
            ("", "a", false),
            ("?", "", false),
            ("*a", "ba", true),
            ("*ab", "aab", true),
            ("a*", "a", true),
            ("**", "x", true),
            ("*?c", "abc", true),
            ("*x*y", "axbycy", true),
            ("*x*y", "axbycyz", false),
        ] {
            assert_eq!(
                wildcard(pattern.as_bytes(), name.as_bytes()),
                want,
                "{pattern} {name}"
            );
        }
    }
}
