//! `META-INF/MANIFEST.MF`: the main section and the named sections, and
//! the name and version Syft 1.18 picks from them (`parse_java_manifest.go`).
//!
//! Read as Syft reads it, not as the JAR specification says: a line
//! starting with a space continues the previous value (trimmed, so a
//! wrapped word keeps no space), a blank line ends a section, a line
//! without `:` is skipped.

use super::filename::ArchiveFilename;

/// One section's `Key: value` pairs, in order.
pub type Section = Vec<(String, String)>;

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Manifest {
    pub main: Section,
    pub sections: Vec<Section>,
}

/// The first value of `key` in a section.
pub fn get<'a>(section: &'a Section, key: &str) -> Option<&'a str> {
    section
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

impl Manifest {
    /// The main section's value of `key`, or "".
    pub fn main_value(&self, key: &str) -> &str {
        get(&self.main, key).unwrap_or("")
    }

    /// The first non-empty value of `key`, main section first.
    pub fn field(&self, key: &str) -> &str {
        std::iter::once(&self.main)
            .chain(&self.sections)
            .filter_map(|s| get(s, key))
            .find(|v| !v.is_empty())
            .unwrap_or("")
    }
}

/// Parses a manifest's text.
pub fn parse(text: &str) -> Manifest {
    let mut sections: Vec<Section> = Vec::new();
    let mut last_key = false;
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.is_empty() {
            last_key = false;
            continue;
        }
        if line.starts_with(' ') {
            if last_key && let Some((_, value)) = sections.last_mut().and_then(|s| s.last_mut()) {
                value.push_str(line.trim());
            }
            continue;
        }
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let key = key.trim();
        if key.is_empty() {
            continue;
        }
        if !last_key {
            sections.push(Section::new());
        }
        if let Some(section) = sections.last_mut() {
            section.push((key.to_string(), value.trim().to_string()));
        }
        last_key = true;
    }
    let mut sections = sections.into_iter();
    Manifest {
        main: sections.next().unwrap_or_default(),
        sections: sections.collect(),
    }
}

/// Go's `unicode` classes Syft accepts as the first letter of a Java
/// identifier: letters (Lu Ll Lt Lm Lo), letter numbers (Nl), currency
/// symbols (Sc) and connector punctuation (Pc). Rust's `is_alphabetic`
/// also takes other categories (Other_Alphabetic marks), so ASCII and the
/// common cases are decided here and the rest by `is_alphabetic`.
fn starts_like_java_identifier(field: &str) -> bool {
    match field.chars().next() {
        None => false,
        Some(c) if c.is_ascii() => c.is_ascii_alphabetic() || c == '$' || c == '_',
        Some(c) => c.is_alphabetic() || matches!(c, '€' | '£' | '¥' | '¢' | '‿' | '⁀'),
    }
}

/// The name from a Maven Bundle Plugin manifest: the last field of
/// `Bundle-SymbolicName`, unless it equals `Implementation-Vendor-Id`.
fn name_from_bundle_plugin(manifest: Option<&Manifest>) -> &str {
    let Some(m) = manifest else { return "" };
    if !m
        .main_value("Created-By")
        .contains("Apache Maven Bundle Plugin")
    {
        return "";
    }
    let symbolic = m.main_value("Bundle-SymbolicName");
    if symbolic.is_empty() {
        return "";
    }
    let vendor = m.main_value("Implementation-Vendor-Id");
    if !vendor.is_empty() && vendor == symbolic {
        return "";
    }
    symbolic.rsplit('.').next().unwrap_or("")
}

/// The name from the file name: a dotted name of identifiers is a group
/// and artifact, whose last field is the name (except `org.eclipse.*`).
fn name_from_filename(file: &ArchiveFilename) -> &str {
    let name = file.name.as_str();
    if name.contains('.') {
        if name.starts_with("org.eclipse.") {
            return name;
        }
        if name.split('.').all(starts_like_java_identifier) {
            return name.rsplit('.').next().unwrap_or("");
        }
    }
    name
}

/// Syft's `selectName`.
pub fn select_name(manifest: Option<&Manifest>, file: &ArchiveFilename) -> String {
    let name = name_from_bundle_plugin(manifest);
    if !name.is_empty() {
        return name.to_string();
    }
    let name = name_from_filename(file);
    if !name.is_empty() {
        return name.to_string();
    }
    if let Some(m) = manifest {
        for key in [
            "Name",
            "Bundle-Name",
            "Short-Name",
            "Extension-Name",
            "Implementation-Title",
        ] {
            let v = m.main_value(key);
            if !v.is_empty() {
                return v.to_string();
            }
        }
    }
    String::new()
}

/// Syft's `selectVersion`: the file name's, else the manifest's.
pub fn select_version(manifest: Option<&Manifest>, file: &ArchiveFilename) -> String {
    if !file.version.is_empty() {
        return file.version.clone();
    }
    let Some(m) = manifest else {
        return String::new();
    };
    [
        "Implementation-Version",
        "Specification-Version",
        "Plugin-Version",
        "Bundle-Version",
    ]
    .iter()
    .map(|k| m.field(k))
    .find(|v| !v.is_empty())
    .unwrap_or("")
    .to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        let path = format!(
            "{}/tests/data/syft-fixtures/java/manifest/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn kv(pairs: &[(&str, &str)]) -> Section {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// Syft's own manifest fixtures, with what its parser test expects.
    #[test]
    fn syft_manifest_fixtures() {
        let m = parse(&fixture("small"));
        assert_eq!(m.main, kv(&[("Manifest-Version", "1.0")]));
        assert!(m.sections.is_empty());

        let m = parse(&fixture("standard-info"));
        assert_eq!(m.main_value("Name"), "the-best-name");
        assert_eq!(m.main_value("Specification-Version"), "the-spec-version");
        assert_eq!(m.main_value("Implementation-Version"), "the-impl-version");

        let m = parse(&fixture("extra-info"));
        assert_eq!(m.main_value("Archiver-Version"), "Plexus Archiver");
        assert_eq!(
            m.sections,
            vec![
                kv(&[("Name", "thing-1"), ("Built-By", "?")]),
                kv(&[("Build-Jdk", "14.0.1"), ("Main-Class", "hello.HelloWorld")]),
            ]
        );

        let m = parse(&fixture("extra-empty-lines"));
        assert_eq!(m.main.len(), 3);
        assert_eq!(
            m.sections,
            vec![
                kv(&[("Name", "thing-1"), ("Built-By", "?")]),
                kv(&[("Name", "thing-2"), ("Built-By", "someone!")]),
                kv(&[("Other", "things")]),
                kv(&[("Last", "item")]),
            ]
        );

        let m = parse(&fixture("leading-space"));
        assert_eq!(
            m.main,
            kv(&[
                (
                    "Key-keykeykey",
                    "initialconfig:com$    # aka not empty line"
                ),
                ("should", "parse"),
            ])
        );

        let m = parse(&fixture("continuation"));
        assert_eq!(
            m.main_value("Plugin-ScmUrl"),
            "https://github.com/jenkinsci/plugin-pom/example-jenkins-plugin"
        );

        let m = parse(&fixture("version-with-date"));
        assert_eq!(
            m.main_value("Implementation-Version"),
            "1.3 2244 October 5 2005"
        );
    }

    #[test]
    fn sections_continuations_and_junk() {
        let m = parse(
            "Manifest-Version: 1.0\r\nBundle-Name: a lo\r\n ng name\r\nno colon here\r\n: empty key\r\n\r\n continuation without key\r\nName: s1\r\nImplementation-Version: 3\r\n\r\n",
        );
        assert_eq!(
            m.main,
            kv(&[("Manifest-Version", "1.0"), ("Bundle-Name", "a long name")])
        );
        assert_eq!(
            m.sections,
            vec![kv(&[("Name", "s1"), ("Implementation-Version", "3")])]
        );
        assert_eq!(m.field("Implementation-Version"), "3");
        assert_eq!(m.main_value("Implementation-Version"), "");
    }

    #[test]
    fn names_and_versions_picked_like_syft() {
        let bundle = parse(
            "Created-By: Apache Maven Bundle Plugin\nBundle-SymbolicName: com.fasterxml.jackson.core.jackson-core\nImplementation-Version: 2.14.1\n",
        );
        let same_vendor = parse(
            "Created-By: Apache Maven Bundle Plugin\nBundle-SymbolicName: org.x.y\nImplementation-Vendor-Id: org.x.y\nName: from-manifest\n",
        );
        let titled = parse("Implementation-Title: titled\nSpecification-Version: 9\n");
        for (manifest, file, name, version) in [
            (Some(&bundle), "x/whatever-1.0.jar", "jackson-core", "1.0"),
            (Some(&bundle), "x/whatever.jar", "jackson-core", "2.14.1"),
            (Some(&same_vendor), "x/org.x.y.jar", "y", ""),
            (Some(&titled), "x/1.jar", "titled", "9"),
            (None, "x/org.eclipse.core.jar", "org.eclipse.core", ""),
            (None, "x/com.example.lib-2.jar", "lib", "2"),
            (None, "x/my.2lib.jar", "my", "2lib"),
            (None, "x/1.jar", "", ""),
        ] {
            let f = ArchiveFilename::new(file);
            assert_eq!(select_name(manifest, &f), name, "{file}");
            assert_eq!(select_version(manifest, &f), version, "{file}");
        }
    }
}
