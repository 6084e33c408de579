//! A Java package's Maven group, as Syft 1.18 derives it for the PURL
//! (`package_url.go`, `cpegenerate/java.go`): `pom.properties`, then
//! `pom.xml`, then Syft's table of well-known artifacts, then manifest
//! fields that look like a reversed domain name.

use std::sync::LazyLock;

use super::manifest::{Manifest, get};
use super::pom::{PomProject, PomProperties};

/// Syft's `DefaultArtifactIDToGroupID` table (`artifact group` per line,
/// sorted), data taken from Syft 1.18.1 (Apache-2.0).
const ARTIFACT_GROUPS: &str = include_str!("artifact_groups.txt");

/// Manifest fields that may name the group, first choice.
const PRIMARY_FIELDS: [&str; 8] = [
    "Group-Id",
    "Bundle-SymbolicName",
    "Extension-Name",
    "Specification-Vendor",
    "Implementation-Vendor",
    "Implementation-Vendor-Id",
    "Implementation-Title",
    "Bundle-Activator",
];
const SECONDARY_FIELDS: [&str; 3] = ["Automatic-Module-Name", "Main-Class", "Package"];

/// Prefixes that make a manifest value look like a group (plain string
/// prefixes, as Syft checks them: `organic` passes too).
const DOMAINS: [&str; 5] = ["com", "org", "net", "io", "be"];

/// The group of a well-known artifact, from Syft's table.
pub fn known_group(artifact: &str) -> Option<&'static str> {
    static TABLE: LazyLock<Vec<(&'static str, &'static str)>> = LazyLock::new(|| {
        ARTIFACT_GROUPS
            .lines()
            .filter_map(|line| line.split_once(' '))
            .collect()
    });
    let at = TABLE.binary_search_by(|(a, _)| (*a).cmp(artifact)).ok()?;
    Some(TABLE[at].1)
}

/// `;` ends an OSGi value's name part.
fn clean(group: &str) -> String {
    group.split(';').next().unwrap_or("").trim().to_string()
}

/// The manifest's cleaning also cuts at `#`.
fn clean_manifest(group: &str) -> String {
    let group = group.split(';').next().unwrap_or("");
    group.split('#').next().unwrap_or("").trim().to_string()
}

fn from_properties(p: &PomProperties) -> Option<String> {
    if !p.group_id.is_empty() {
        return Some(clean(&p.group_id));
    }
    p.artifact_id.contains('.').then(|| clean(&p.artifact_id))
}

fn from_project(p: &PomProject) -> Option<String> {
    let g = p.group_id.as_deref().unwrap_or("");
    let a = p.artifact_id.as_deref().unwrap_or("");
    if !g.is_empty() {
        return Some(clean(g));
    }
    if a.contains('.') {
        return Some(clean(a));
    }
    let parent = p.parent.as_ref()?;
    let g = parent.group_id.as_deref().unwrap_or("");
    let a = parent.artifact_id.as_deref().unwrap_or("");
    if !g.is_empty() {
        return Some(clean(g));
    }
    a.contains('.').then(|| clean(a))
}

/// The sorted group-looking values of `fields`, main section and named
/// sections; the first is used.
fn from_manifest_fields(m: &Manifest, fields: &[&str]) -> Option<String> {
    let mut found = Vec::new();
    for field in fields {
        for section in std::iter::once(&m.main).chain(&m.sections) {
            if let Some(v) = get(section, field)
                && DOMAINS.iter().any(|d| v.starts_with(d))
            {
                found.push(clean_manifest(v));
            }
        }
    }
    found.sort();
    found.into_iter().next()
}

/// Syft's `groupIDFromJavaMetadata`: "" when nothing names a group.
pub fn group_id(
    name: &str,
    properties: Option<&PomProperties>,
    project: Option<&PomProject>,
    manifest: Option<&Manifest>,
) -> String {
    properties
        .and_then(from_properties)
        .filter(|g| !g.is_empty())
        .or_else(|| project.and_then(from_project).filter(|g| !g.is_empty()))
        .or_else(|| known_group(name).map(str::to_string))
        .or_else(|| {
            let m = manifest?;
            from_manifest_fields(m, &PRIMARY_FIELDS)
                .or_else(|| from_manifest_fields(m, &SECONDARY_FIELDS))
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::java::manifest::parse;

    #[test]
    fn the_known_artifact_table_is_sorted_and_found() {
        let names: Vec<&str> = ARTIFACT_GROUPS
            .lines()
            .map(|l| l.split(' ').next().unwrap())
            .collect();
        assert!(names.windows(2).all(|w| w[0] < w[1]));
        assert!(names.len() > 1000);
        assert_eq!(known_group("ant"), Some("org.apache.ant"));
        assert_eq!(known_group("no-such-artifact"), None);
    }

    #[test]
    fn groups_in_syfts_order() {
        let props = |g: &str, a: &str| PomProperties {
            group_id: g.into(),
            artifact_id: a.into(),
            ..PomProperties::default()
        };
        let project = |g: Option<&str>, a: Option<&str>, pg: Option<&str>| PomProject {
            group_id: g.map(Into::into),
            artifact_id: a.map(Into::into),
            parent: pg.map(|pg| crate::java::pom::PomParent {
                group_id: Some(pg.into()),
                ..Default::default()
            }),
            ..PomProject::default()
        };
        let manifest = parse(
            "Main-Class: org.debian.security.UpdateCertificates\nImplementation-Vendor: Oracle Corporation\nBundle-SymbolicName: org.b.c;singleton:=true\n\nName: x\nGroup-Id: com.a#frag\n",
        );
        let weak = parse("Main-Class: org.debian.Main\nSpecification-Vendor: Debian\n");
        for (name, pp, pj, m, want) in [
            ("x", Some(props(" org.g ;v=1", "a")), None, None, "org.g"),
            ("x", Some(props("", "org.a.b")), None, None, "org.a.b"),
            (
                "x",
                Some(props("", "ab")),
                Some(project(Some("pg"), None, None)),
                None,
                "pg",
            ),
            (
                "x",
                None,
                Some(project(None, Some("a.b"), None)),
                None,
                "a.b",
            ),
            (
                "x",
                None,
                Some(project(None, Some("ab"), Some("parent.g"))),
                None,
                "parent.g",
            ),
            ("ant", None, None, Some(&manifest), "org.apache.ant"),
            ("x", None, None, Some(&manifest), "com.a"),
            ("x", None, None, Some(&weak), "org.debian.Main"),
            (
                "jrt-fs",
                None,
                None,
                Some(&parse("Specification-Vendor: Oracle Corporation\n")),
                "",
            ),
            ("x", None, None, None, ""),
        ] {
            assert_eq!(
                group_id(name, pp.as_ref(), pj.as_ref(), m),
                want,
                "{name} {pp:?} {pj:?}"
            );
        }
    }
}
