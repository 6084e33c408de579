//! Lexical path rules shared by archives and layers.
//!
//! Names inside images are untrusted. They are normalised without touching
//! the host filesystem: `.` and empty components vanish, `..` pops a
//! component, and a name that is absolute or climbs above its root is
//! refused instead of being clamped, because a well-made image never holds
//! one and a hostile one should not be half-read.

/// Why a name was refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PathProblem {
    /// Starts with `/`.
    Absolute,
    /// `..` climbs above the root.
    Escapes,
}

/// Normalises a relative name to `a/b/c` (no leading or trailing slash;
/// the root is the empty string).
pub fn normalize(name: &str) -> Result<String, PathProblem> {
    if name.starts_with('/') {
        return Err(PathProblem::Absolute);
    }
    let mut parts: Vec<&str> = Vec::new();
    for part in name.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                if parts.pop().is_none() {
                    return Err(PathProblem::Escapes);
                }
            }
            other => parts.push(other),
        }
    }
    Ok(parts.join("/"))
}

/// Joins a symlink target to the folder that holds the link, clamping `..`
/// at the root the way the kernel does inside a chroot. Absolute targets
/// start again from the root.
pub fn join_in_root(dir: &str, target: &str) -> String {
    let mut parts: Vec<&str> = if target.starts_with('/') {
        Vec::new()
    } else {
        dir.split('/').filter(|p| !p.is_empty()).collect()
    };
    for part in target.split('/') {
        match part {
            "" | "." => {}
            ".." => {
                parts.pop();
            }
            other => parts.push(other),
        }
    }
    parts.join("/")
}

/// The parent folder of a normalised path (`""` for top-level names).
pub fn parent(path: &str) -> &str {
    path.rsplit_once('/').map_or("", |(dir, _)| dir)
}

/// The last component of a normalised path.
pub fn file_name(path: &str) -> &str {
    path.rsplit_once('/').map_or(path, |(_, name)| name)
}

/// `dir/name`, or `name` at the root.
pub fn child(dir: &str, name: &str) -> String {
    if dir.is_empty() {
        name.to_string()
    } else {
        format!("{dir}/{name}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_table() {
        let cases: &[(&str, Result<&str, PathProblem>)] = &[
            ("etc/passwd", Ok("etc/passwd")),
            ("./etc//passwd", Ok("etc/passwd")),
            ("etc/", Ok("etc")),
            ("./", Ok("")),
            ("a/../b", Ok("b")),
            ("a/./b/..", Ok("a")),
            ("../etc", Err(PathProblem::Escapes)),
            ("a/../../etc", Err(PathProblem::Escapes)),
            ("/etc/passwd", Err(PathProblem::Absolute)),
        ];
        for (input, want) in cases {
            assert_eq!(
                normalize(input).as_deref().map_err(|e| *e),
                *want,
                "{input}"
            );
        }
    }

    #[test]
    fn join_in_root_table() {
        let cases = [
            ("usr/bin", "../lib", "usr/lib"),
            ("bin", "/usr/bin/x", "usr/bin/x"),
            ("", "../../../../etc", "etc"),
            ("a", "./b/../c", "a/c"),
        ];
        for (dir, target, want) in cases {
            assert_eq!(join_in_root(dir, target), want, "{dir} + {target}");
        }
    }
}
