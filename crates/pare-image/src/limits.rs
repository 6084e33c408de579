//! Bounds on what an untrusted image may make pare do.
//!
//! Every quantity an image controls and that costs pare memory or time has a
//! limit here, with a default no real image reaches (Docker itself refuses
//! more than 127 layers; the largest distribution images hold a few hundred
//! thousand files). Exceeding one stops the run with [`Error::Limit`], one
//! line naming the limit and how to raise it (`--limits NAME=N`).
//!
//! The table [`ALL`] is the single source of the names, defaults and
//! meanings; SECURITY.md prints it and a test keeps the two in step.

use crate::error::{Error, Result};

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;
const GIB: u64 = 1024 * MIB;

/// The limits one run works within. `u64::MAX` means unlimited.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Limits {
    /// Layers in one image.
    pub layers: u64,
    /// Tar entries in one image, all layers together, folders made up for
    /// deeper entries included.
    pub entries: u64,
    /// Uncompressed layer bytes in one image, all layers together.
    pub uncompressed_bytes: u64,
    /// Bytes of one path (an entry's name, a link target).
    pub path_bytes: u64,
    /// Components of one path, also of a path as resolved through symlinks.
    pub path_depth: u64,
    /// Bytes of one path component.
    pub name_bytes: u64,
    /// Bytes of names, link targets and extended attributes held in the
    /// file tree, all together.
    pub tree_bytes: u64,
    /// Bytes of one tar header record (PAX `x`/`g`, GNU long name/link).
    pub header_bytes: u64,
    /// Bytes of one captured metadata file (package databases, manifests).
    pub metadata_file_bytes: u64,
    /// Bytes of captured metadata files held at once, all together.
    pub metadata_bytes: u64,
    /// Bytes of one JSON document (manifest, index, config).
    pub json_bytes: u64,
    /// Symlinks followed while resolving one path (Linux's `MAXSYMLINKS`).
    pub symlink_hops: u64,
    /// Bytes of one ELF file's headers and dynamic section read for
    /// analysis.
    pub elf_bytes: u64,
    /// Paths a traced run extracts to disk (the only time pare extracts).
    pub extract_entries: u64,
}

impl Default for Limits {
    fn default() -> Self {
        let mut limits = Limits::unlimited();
        for limit in ALL {
            *limit.field(&mut limits) = limit.default;
        }
        limits
    }
}

/// One named limit: how the CLI and messages call it, its default and what
/// it bounds.
pub struct Limit {
    pub name: &'static str,
    pub default: u64,
    pub meaning: &'static str,
    field: fn(&mut Limits) -> &mut u64,
}

impl Limit {
    fn field<'a>(&self, limits: &'a mut Limits) -> &'a mut u64 {
        (self.field)(limits)
    }
}

/// Every limit, in the order SECURITY.md lists them.
pub const ALL: &[Limit] = &[
    Limit {
        name: "layers",
        default: 256,
        meaning: "layers in one image",
        field: |l| &mut l.layers,
    },
    Limit {
        name: "entries",
        default: 1_000_000,
        meaning: "tar entries in one image, all layers and implied folders together",
        field: |l| &mut l.entries,
    },
    Limit {
        name: "uncompressed-bytes",
        default: 64 * GIB,
        meaning: "uncompressed layer bytes in one image",
        field: |l| &mut l.uncompressed_bytes,
    },
    Limit {
        name: "path-bytes",
        default: 4096,
        meaning: "bytes of one path or link target (Linux's PATH_MAX)",
        field: |l| &mut l.path_bytes,
    },
    Limit {
        name: "path-depth",
        default: 1024,
        meaning: "components of one path, also as resolved through symlinks",
        field: |l| &mut l.path_depth,
    },
    Limit {
        name: "name-bytes",
        default: 255,
        meaning: "bytes of one path component (Linux's NAME_MAX)",
        field: |l| &mut l.name_bytes,
    },
    Limit {
        name: "tree-bytes",
        default: 64 * MIB,
        meaning: "names, link targets and xattrs held in the file tree",
        field: |l| &mut l.tree_bytes,
    },
    Limit {
        name: "header-bytes",
        default: MIB,
        meaning: "one tar header record (PAX x/g, GNU long name or link)",
        field: |l| &mut l.header_bytes,
    },
    Limit {
        name: "metadata-file-bytes",
        default: 64 * MIB,
        meaning: "one captured metadata file (package database, manifest)",
        field: |l| &mut l.metadata_file_bytes,
    },
    Limit {
        name: "metadata-bytes",
        default: 128 * MIB,
        meaning: "captured metadata files held at once, all together",
        field: |l| &mut l.metadata_bytes,
    },
    Limit {
        name: "json-bytes",
        default: 16 * MIB,
        meaning: "one JSON document: manifest, index or config",
        field: |l| &mut l.json_bytes,
    },
    Limit {
        name: "symlink-hops",
        default: 40,
        meaning: "symlinks followed resolving one path (Linux's MAXSYMLINKS)",
        field: |l| &mut l.symlink_hops,
    },
    Limit {
        name: "elf-bytes",
        default: 64 * MIB,
        meaning: "one ELF file's headers and dynamic data read for analysis",
        field: |l| &mut l.elf_bytes,
    },
    Limit {
        name: "extract-entries",
        default: 250_000,
        meaning: "paths a traced run extracts to disk (its root)",
        field: |l| &mut l.extract_entries,
    },
];

impl Limits {
    /// No limit at all: for trusted input and tests.
    pub fn unlimited() -> Self {
        Limits {
            layers: u64::MAX,
            entries: u64::MAX,
            uncompressed_bytes: u64::MAX,
            path_bytes: u64::MAX,
            path_depth: u64::MAX,
            name_bytes: u64::MAX,
            tree_bytes: u64::MAX,
            header_bytes: u64::MAX,
            metadata_file_bytes: u64::MAX,
            metadata_bytes: u64::MAX,
            json_bytes: u64::MAX,
            symlink_hops: u64::MAX,
            elf_bytes: u64::MAX,
            extract_entries: u64::MAX,
        }
    }

    /// Applies `NAME=N[,NAME=N…]` (N with an optional K, M or G suffix, in
    /// powers of 1024, or `none`), as `--limits` takes it.
    pub fn apply(&mut self, spec: &str) -> Result<()> {
        for item in spec.split(',').map(str::trim).filter(|s| !s.is_empty()) {
            let bad = |message: String| Error::malformed(format!("--limits {item:?}"), message);
            let (name, value) = item
                .split_once('=')
                .ok_or_else(|| bad("expected NAME=N".into()))?;
            let limit = ALL.iter().find(|l| l.name == name.trim()).ok_or_else(|| {
                let names: Vec<&str> = ALL.iter().map(|l| l.name).collect();
                bad(format!("unknown limit; known: {}", names.join(", ")))
            })?;
            *limit.field(self) = parse_amount(value.trim()).ok_or_else(|| {
                bad("expected a number with an optional K, M or G suffix, or none".into())
            })?;
        }
        Ok(())
    }

    /// The default of the limit `name` (for messages and docs).
    pub fn describe(name: &str) -> Option<&'static Limit> {
        ALL.iter().find(|l| l.name == name)
    }
}

fn parse_amount(text: &str) -> Option<u64> {
    if text.eq_ignore_ascii_case("none") {
        return Some(u64::MAX);
    }
    let (digits, unit) = match text.char_indices().last()? {
        (at, 'k' | 'K') => (&text[..at], KIB),
        (at, 'm' | 'M') => (&text[..at], MIB),
        (at, 'g' | 'G') => (&text[..at], GIB),
        _ => (text, 1),
    };
    digits.parse::<u64>().ok()?.checked_mul(unit)
}

/// Shows an amount as the flag would take it back (`64M`, `256`).
pub fn show_amount(value: u64) -> String {
    if value == u64::MAX {
        return "none".into();
    }
    for (unit, suffix) in [(GIB, "G"), (MIB, "M"), (KIB, "K")] {
        if value >= unit && value.is_multiple_of(unit) {
            return format!("{}{suffix}", value / unit);
        }
    }
    value.to_string()
}

/// Checks `found` against `max`; `context` says where (a blob, an entry).
/// `context` is called only when the limit is exceeded: checks run per tar
/// entry, and the message costs a string.
pub fn check<C: std::fmt::Display>(
    context: impl FnOnce() -> C,
    limit: &'static str,
    found: u64,
    max: u64,
) -> Result<()> {
    if found > max {
        return Err(Error::Limit {
            context: context().to_string(),
            limit,
            found,
            max,
        });
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn apply_table() {
        let cases: &[(&str, Option<(&str, u64)>)] = &[
            ("layers=300", Some(("layers", 300))),
            ("entries=2M", Some(("entries", 2 * MIB))),
            (" header-bytes = 4k ", Some(("header-bytes", 4 * KIB))),
            (
                "uncompressed-bytes=none",
                Some(("uncompressed-bytes", u64::MAX)),
            ),
            ("elf-bytes=1G", Some(("elf-bytes", GIB))),
            ("layers", None),
            ("nonsense=1", None),
            ("layers=-1", None),
            ("layers=1T", None),
            ("layers=99999999999999999999G", None),
        ];
        for (spec, want) in cases {
            let mut limits = Limits::default();
            match (limits.apply(spec), want) {
                (Ok(()), Some((name, value))) => {
                    let limit = Limits::describe(name).unwrap();
                    assert_eq!(*limit.field(&mut limits), *value, "{spec}");
                }
                (Err(e), None) => assert!(e.to_string().contains("--limits"), "{spec}: {e}"),
                (got, want) => panic!("{spec}: got {got:?}, want {want:?}"),
            }
        }
    }

    #[test]
    fn several_at_once_and_defaults_untouched() {
        let mut limits = Limits::default();
        limits.apply("layers=1,entries=2").unwrap();
        assert_eq!((limits.layers, limits.entries), (1, 2));
        assert_eq!(limits.path_bytes, 4096);
    }

    #[test]
    fn message_names_the_limit_and_the_flag() {
        let err = check(|| "layer 1 (sha256:ab)", "entries", 11, 10).unwrap_err();
        assert_eq!(
            err.to_string(),
            "layer 1 (sha256:ab): 11, over the entries limit of 10 \
             (raise it with --limits entries=N)"
        );
        assert!(check(|| "x", "entries", 10, 10).is_ok());
    }

    #[test]
    fn amounts_show_as_the_flag_takes_them() {
        for value in [0, 1, 255, 4096, MIB, 64 * GIB, 1_000_000, u64::MAX] {
            assert_eq!(parse_amount(&show_amount(value)), Some(value), "{value}");
        }
    }

    /// SECURITY.md documents every limit with its default; keep them equal.
    #[test]
    fn security_md_lists_every_limit_with_its_default() {
        let doc = include_str!("../../../SECURITY.md");
        for limit in ALL {
            let row = format!("| `{}` | {} |", limit.name, show_amount(limit.default));
            assert!(doc.contains(&row), "SECURITY.md lacks the row {row:?}");
        }
    }
}
