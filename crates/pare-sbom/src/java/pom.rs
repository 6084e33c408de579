//! Maven's files inside an archive: `pom.properties` (read as Syft 1.18's
//! `parse_pom_properties.go` reads it) and the few `pom.xml` fields Syft
//! uses to name a package (`groupId`, `artifactId`, `version`, the
//! `parent`'s, and `properties` for `${…}` expressions).
//!
//! The pom.xml reader is hand-written: only direct children of `<project>`
//! and of its `<parent>` and `<properties>` matter, and no XML crate is in
//! the workspace; it skips comments, processing instructions, DOCTYPE and
//! CDATA markers and decodes the five predefined entities. Anything it
//! cannot read gives no project (Syft then also has none: it would fail on
//! malformed XML).

use std::collections::HashMap;

/// The fields of one `pom.properties` Syft reads.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PomProperties {
    pub group_id: String,
    pub artifact_id: String,
    pub version: String,
    pub name: String,
}

/// Parses a `pom.properties`: `key=value` or `key:value` (the first `=` or
/// `:` splits), `#` comments; a non-blank line without a separator fails
/// the whole file. Keys match Syft's fields case-insensitively (as
/// mapstructure does); the last one wins.
pub fn parse_properties(text: &str) -> Result<PomProperties, String> {
    let mut props = PomProperties::default();
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.trim().is_empty() || line.trim_start_matches(' ').starts_with('#') {
            continue;
        }
        let Some(at) = line.find(['=', ':']) else {
            return Err(format!(
                "unable to split pom.properties key-value pairs: {line:?}"
            ));
        };
        let key = line[..at].trim();
        let value = line[at + 1..].trim().to_string();
        let field = match key.to_ascii_lowercase().as_str() {
            "groupid" => &mut props.group_id,
            "artifactid" => &mut props.artifact_id,
            "version" => &mut props.version,
            "name" => &mut props.name,
            _ => continue,
        };
        *field = value;
    }
    Ok(props)
}

/// The parts of a `pom.xml` Syft reads to name a package; `None` is an
/// absent element, as opposed to an empty one.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PomProject {
    pub group_id: Option<String>,
    pub artifact_id: Option<String>,
    pub version: Option<String>,
    pub name: Option<String>,
    pub parent: Option<PomParent>,
    pub properties: HashMap<String, String>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct PomParent {
    pub group_id: Option<String>,
    pub artifact_id: Option<String>,
    pub version: Option<String>,
}

/// A resolved Maven coordinate.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MavenId {
    pub group_id: String,
    pub artifact_id: String,
    pub version: String,
}

/// Elements nested deeper than this make the file unreadable (hostile
/// input; real POMs nest a handful of levels).
const MAX_DEPTH: usize = 256;

/// Reads a pom.xml; `None` when it is not well-formed enough to read or
/// has no `<project>` root.
pub fn parse_xml(text: &str) -> Option<PomProject> {
    let mut project = PomProject::default();
    let mut stack: Vec<String> = Vec::new();
    let mut texts: Vec<String> = Vec::new();
    let mut rest = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut seen_root = false;
    while !rest.is_empty() {
        let Some(lt) = rest.find('<') else {
            if let Some(t) = texts.last_mut() {
                t.push_str(&decode(rest));
            }
            break;
        };
        if let Some(t) = texts.last_mut() {
            t.push_str(&decode(&rest[..lt]));
        }
        rest = &rest[lt..];
        if let Some(after) = rest.strip_prefix("<!--") {
            rest = &after[after.find("-->")? + 3..];
        } else if let Some(after) = rest.strip_prefix("<![CDATA[") {
            let end = after.find("]]>")?;
            if let Some(t) = texts.last_mut() {
                t.push_str(&after[..end]);
            }
            rest = &after[end + 3..];
        } else if rest.starts_with("<?") {
            rest = &rest[rest.find("?>")? + 2..];
        } else if rest.starts_with("<!") {
            rest = &rest[rest.find('>')? + 1..];
        } else if let Some(after) = rest.strip_prefix("</") {
            let gt = after.find('>')?;
            let name = local(after[..gt].trim());
            if stack.last().map(String::as_str) != Some(name) {
                return None;
            }
            let value = texts.pop().unwrap_or_default();
            record(&mut project, &stack, value.trim());
            stack.pop();
            rest = &after[gt + 1..];
        } else {
            let gt = tag_end(rest)?;
            let inner = &rest[1..gt];
            let self_closing = inner.ends_with('/');
            let inner = inner.trim_end_matches('/');
            let name = local(
                inner
                    .split(|c: char| c.is_whitespace())
                    .next()
                    .unwrap_or(""),
            );
            if name.is_empty() {
                return None;
            }
            if stack.is_empty() {
                if seen_root || name != "project" {
                    return None;
                }
                seen_root = true;
            }
            stack.push(name.to_string());
            if stack.len() > MAX_DEPTH {
                return None;
            }
            if self_closing {
                record(&mut project, &stack, "");
                stack.pop();
            } else {
                texts.push(String::new());
            }
            rest = &rest[gt + 1..];
        }
    }
    (seen_root && stack.is_empty()).then_some(project)
}

/// The `>` closing a start tag, skipping quoted attribute values.
fn tag_end(tag: &str) -> Option<usize> {
    let mut quote = None;
    for (i, c) in tag.char_indices() {
        match (quote, c) {
            (None, '"' | '\'') => quote = Some(c),
            (Some(q), c) if c == q => quote = None,
            (None, '>') => return Some(i),
            _ => {}
        }
    }
    None
}

/// An element name without its namespace prefix.
fn local(name: &str) -> &str {
    name.rsplit(':').next().unwrap_or(name)
}

fn decode(text: &str) -> String {
    if !text.contains('&') {
        return text.to_string();
    }
    text.replace("&lt;", "<")
        .replace("&gt;", ">")
        .replace("&quot;", "\"")
        .replace("&apos;", "'")
        .replace("&amp;", "&")
}

/// Keeps an element's text when it is one Syft reads.
fn record(project: &mut PomProject, stack: &[String], text: &str) {
    let path: Vec<&str> = stack.iter().map(String::as_str).collect();
    let value = Some(text.to_string());
    match path.as_slice() {
        ["project", "groupId"] => project.group_id = value,
        ["project", "artifactId"] => project.artifact_id = value,
        ["project", "version"] => project.version = value,
        ["project", "name"] => project.name = value,
        ["project", "parent"] => {
            project.parent.get_or_insert_with(PomParent::default);
        }
        ["project", "parent", field] => {
            let parent = project.parent.get_or_insert_with(PomParent::default);
            match *field {
                "groupId" => parent.group_id = value,
                "artifactId" => parent.artifact_id = value,
                "version" => parent.version = value,
                _ => {}
            }
        }
        ["project", "properties", key] => {
            project.properties.insert(key.to_string(), text.to_string());
        }
        _ => {}
    }
}

/// `${…}` expressions met while resolving one value, at most.
const MAX_EXPANSIONS: usize = 64;

impl PomProject {
    /// The coordinate with `${…}` expressions resolved from this POM alone
    /// (Syft's `ResolveID` with no network and no local repository: the
    /// parent POM cannot be fetched, so only this file's `properties` and
    /// `project.*` fields resolve); an unresolvable expression empties the
    /// whole value, as in Syft.
    pub fn resolve_id(&self) -> MavenId {
        let resolve = |v: &Option<String>| v.as_deref().map_or(String::new(), |v| self.resolve(v));
        let mut id = MavenId {
            group_id: resolve(&self.group_id),
            artifact_id: resolve(&self.artifact_id),
            version: resolve(&self.version),
        };
        if let Some(parent) = &self.parent {
            if id.group_id.is_empty() && self.group_id.as_deref().unwrap_or("").is_empty() {
                id.group_id = resolve(&parent.group_id);
            }
            if id.version.is_empty() && self.version.as_deref().unwrap_or("").is_empty() {
                id.version = resolve(&parent.version);
            }
        }
        id
    }

    fn resolve(&self, value: &str) -> String {
        let mut budget = MAX_EXPANSIONS;
        self.expand(value, &mut Vec::new(), &mut budget)
            .unwrap_or_default()
    }

    /// Replaces each `${name}` (name without `}`) in `value`.
    fn expand(
        &self,
        value: &str,
        resolving: &mut Vec<String>,
        budget: &mut usize,
    ) -> Option<String> {
        let mut out = String::new();
        let mut rest = value;
        while let Some(start) = rest.find("${") {
            let Some(len) = rest[start + 2..].find('}') else {
                break;
            };
            if len == 0 {
                // Go's `[^}]+` needs one character: `${}` stays as it is.
                out.push_str(&rest[..start + 3]);
                rest = &rest[start + 3..];
                continue;
            }
            out.push_str(&rest[..start]);
            let name = rest[start + 2..start + 2 + len].trim();
            out.push_str(&self.property(name, resolving, budget)?);
            rest = &rest[start + 3 + len..];
        }
        out.push_str(rest);
        Some(out)
    }

    fn property(
        &self,
        name: &str,
        resolving: &mut Vec<String>,
        budget: &mut usize,
    ) -> Option<String> {
        if resolving.iter().any(|r| r == name) || *budget == 0 {
            return None;
        }
        *budget -= 1;
        resolving.push(name.to_string());
        let found = self
            .project_field(name)
            .or_else(|| self.properties.get(name).cloned());
        let result = match found {
            Some(v) => self.expand(&v, resolving, budget),
            None => None,
        };
        resolving.pop();
        result
    }

    /// `project.groupId`, `project.parent.version`…; `project.version`
    /// falls back to the parent's when the POM has none.
    fn project_field(&self, name: &str) -> Option<String> {
        let parts: Vec<&str> = name.split('.').collect();
        if parts.len() < 2 || parts[0].trim() != "project" {
            return None;
        }
        let parent = self.parent.as_ref();
        match parts[1..] {
            ["version"] if self.version.is_none() => parent.and_then(|p| p.version.clone()),
            ["version"] => self.version.clone(),
            ["groupId"] => self.group_id.clone(),
            ["artifactId"] => self.artifact_id.clone(),
            ["name"] => self.name.clone(),
            ["parent", "groupId"] => parent.and_then(|p| p.group_id.clone()),
            ["parent", "artifactId"] => parent.and_then(|p| p.artifact_id.clone()),
            ["parent", "version"] => parent.and_then(|p| p.version.clone()),
            _ => None,
        }
        .filter(|v| !v.is_empty())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        let path = format!(
            "{}/tests/data/syft-fixtures/java/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    fn props(g: &str, a: &str, v: &str, n: &str) -> PomProperties {
        PomProperties {
            group_id: g.into(),
            artifact_id: a.into(),
            version: v.into(),
            name: n.into(),
        }
    }

    /// Syft's pom.properties fixtures and what its test expects of them.
    #[test]
    fn syft_pom_properties_fixtures() {
        for (file, want) in [
            (
                "pom/small.pom.properties",
                props("org.anchore", "example-java-app-maven", "0.1.0", ""),
            ),
            (
                "pom/extra.pom.properties",
                props(
                    "org.anchore",
                    "example-java-app-maven",
                    "0.1.0",
                    "something-here",
                ),
            ),
            (
                "pom/colon-delimited.pom.properties",
                props("org.anchore", "example-java-app-maven", "0.1.0", ""),
            ),
            (
                "pom/equals-delimited-with-colons.pom.properties",
                props(
                    "org.anchore",
                    "example-java:app-maven",
                    "0.1.0:something",
                    "",
                ),
            ),
            (
                "pom/colon-delimited-with-equals.pom.properties",
                props(
                    "org.anchore",
                    "example-java=app-maven",
                    "0.1.0=something",
                    "",
                ),
            ),
            (
                "jar-metadata/opensaml-core-3.4.6/META-INF/maven/org.opensaml/opensaml-core/pom.properties",
                props("org.opensaml", "opensaml-core", "3.4.6", ""),
            ),
        ] {
            assert_eq!(parse_properties(&fixture(file)).unwrap(), want, "{file}");
        }
    }

    #[test]
    fn pom_properties_edge_cases() {
        assert!(parse_properties("groupId=a\nno separator\n").is_err());
        assert_eq!(
            parse_properties("  # comment\n\r\nGROUPID = g\r\nversion=1\nversion=2\n").unwrap(),
            props("g", "", "2", "")
        );
    }

    #[test]
    fn pom_xml_ids_resolve_within_the_file() {
        let opensaml = parse_xml(&fixture(
            "jar-metadata/opensaml-core-3.4.6/META-INF/maven/org.opensaml/opensaml-core/pom.xml",
        ))
        .unwrap();
        assert_eq!(opensaml.artifact_id.as_deref(), Some("opensaml-core"));
        assert_eq!(
            opensaml.parent.as_ref().and_then(|p| p.group_id.as_deref()),
            Some("org.opensaml")
        );
        let id = opensaml.resolve_id();
        assert_eq!(
            (
                id.group_id.as_str(),
                id.artifact_id.as_str(),
                id.version.as_str()
            ),
            ("org.opensaml", "opensaml-core", "3.4.6")
        );

        for (xml, want) in [
            (
                "<?xml version='1.0'?><!-- c --><project xmlns='x'><groupId>g</groupId><artifactId>a-${suffix}</artifactId><version>${project.parent.version}</version><parent><version>7</version></parent><properties><suffix>${x}</suffix><x>core</x></properties></project>",
                ("g", "a-core", "7"),
            ),
            (
                "<project><artifactId>a</artifactId><version>${missing}</version><groupId>${loop}</groupId><properties><loop>${loop}</loop></properties></project>",
                ("", "a", ""),
            ),
            (
                "<project><artifactId><![CDATA[a&b]]></artifactId><name>n &amp; m</name><version>${project.version}</version><parent><groupId>pg</groupId><version>2</version></parent></project>",
                ("pg", "a&b", ""),
            ),
        ] {
            let p = parse_xml(xml).unwrap_or_else(|| panic!("{xml}"));
            let id = p.resolve_id();
            assert_eq!(
                (
                    id.group_id.as_str(),
                    id.artifact_id.as_str(),
                    id.version.as_str()
                ),
                want,
                "{xml}"
            );
        }
        for bad in [
            "",
            "<notproject/>",
            "<project><a></b></project>",
            "<project>",
            "<project></project><project></project>",
        ] {
            assert_eq!(parse_xml(bad), None, "{bad}");
        }
    }
}
