//! A Java archive's name and version as its file name tells them, by
//! Syft 1.18's two patterns (`archive_filename.go`): `name-version.jar`
//! first, then a version after the last `.`, `_` or `-` that starts with a
//! digit, `build` + digit or `r`/`rc` + digits.

use std::sync::LazyLock;

use regex::Regex;

use crate::PackageType;

/// Syft's `nameAndVersionPattern`, `\d` spelled `[0-9]` (Go's `\d` is
/// ASCII). `(?U)` makes every quantifier lazy, as in Go.
static NAME_AND_VERSION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(
        r"(?Ui)^(?P<name>(?:[[:alpha:]][[:word:].]*(?:\.[[:alpha:]][[:word:].]*)*-?)+)(?:-(?P<version>([0-9].*|(build[0-9]+.*)|(rc?[0-9]+(?:^[[:alpha:]].*)?))))?$",
    )
    .expect("valid pattern")
});

/// Syft's `secondaryVersionPattern`.
static SECONDARY_VERSION: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(r"(?:[._-](?P<version>([0-9].*|(build[0-9]+.*)|(rc?[0-9]+(?:^[[:alpha:]].*)?))))?$")
        .expect("valid pattern")
});

/// What a Java archive's file name says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ArchiveFilename {
    /// The path as given (last element of a virtual path).
    pub raw: String,
    pub name: String,
    pub version: String,
}

/// Go's `filepath.Ext`: the suffix from the last `.` of the last element.
fn extension(path: &str) -> &str {
    let base_start = path.rfind('/').map_or(0, |i| i + 1);
    match path[base_start..].rfind('.') {
        Some(i) => &path[base_start + i..],
        None => "",
    }
}

impl ArchiveFilename {
    pub fn new(raw: &str) -> ArchiveFilename {
        let base = pare_image::paths::file_name(raw.trim_end_matches('/'));
        let ext = extension(raw);
        let cleaned = base.strip_suffix(ext).unwrap_or(base);
        let (mut name, mut version) = match NAME_AND_VERSION.captures(cleaned) {
            Some(c) => (
                c.name("name").map_or("", |m| m.as_str()).to_string(),
                c.name("version").map_or("", |m| m.as_str()).to_string(),
            ),
            None => (String::new(), String::new()),
        };
        if version.is_empty()
            && let Some(c) = SECONDARY_VERSION.captures(&name)
            && let Some(v) = c.name("version").filter(|m| !m.as_str().is_empty())
        {
            version = v.as_str().to_string();
            name.truncate(name.len() - version.len() - 1);
        }
        ArchiveFilename {
            raw: raw.to_string(),
            name,
            version,
        }
    }

    /// The package type the extension says (Syft's `pkgType`); `None` for
    /// other extensions (Syft's unknown type).
    pub fn kind(&self) -> Option<PackageType> {
        match extension(&self.raw)
            .trim_start_matches('.')
            .to_ascii_lowercase()
            .as_str()
        {
            "jar" | "war" | "ear" | "lpkg" | "par" | "sar" | "nar" | "kar" => {
                Some(PackageType::JavaArchive)
            }
            "jpi" | "hpi" => Some(PackageType::JenkinsPlugin),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The cases of Syft's `archive_filename_test.go`, and a few more.
    #[test]
    fn names_and_versions_from_file_names() {
        for (file, name, version) in [
            ("pkg-maven-4.3.2.blerg", "pkg-maven", "4.3.2"),
            ("pkg-maven.4.3.2.blerg", "pkg-maven", "4.3.2"),
            ("pkg-maven_4.3.2.blerg", "pkg-maven", "4.3.2"),
            ("pkg-maven-4.3.2.jar", "pkg-maven", "4.3.2"),
            (
                "pkg-extra-field-maven-4.3.2.war",
                "pkg-extra-field-maven",
                "4.3.2",
            ),
            ("liferay-package.lpkg", "liferay-package", ""),
            (
                "pkg-extra-field-maven-4.3.2-rc1.ear",
                "pkg-extra-field-maven",
                "4.3.2-rc1",
            ),
            (
                "/some/path-with-version-5.4.3/pkg-extra-field-maven-4.3.2-rc1.hpi",
                "pkg-extra-field-maven",
                "4.3.2-rc1",
            ),
            (
                "/p/wagon-webdav-1.0.2-beta-2.2.3a-hudson.jar",
                "wagon-webdav",
                "1.0.2-beta-2.2.3a-hudson",
            ),
            (
                "/p/windows-remote-command-1.0.jar",
                "windows-remote-command",
                "1.0",
            ),
            (
                "/p/wagon-http-lightweight-1.0.5-beta-2.jar",
                "wagon-http-lightweight",
                "1.0.5-beta-2",
            ),
            (
                "WEB-INF/lib/commons-jelly-1.1-hudson-20100305.jar",
                "commons-jelly",
                "1.1-hudson-20100305",
            ),
            (
                "WEB-INF/lib/jtidy-4aug2000r7-dev-hudson-1.jar",
                "jtidy",
                "4aug2000r7-dev-hudson-1",
            ),
            (
                "WEB-INF/lib/trilead-ssh2-build212-hudson-5.jar",
                "trilead-ssh2",
                "build212-hudson-5",
            ),
            ("WEB-INF/lib/guava-r06.jar", "guava", "r06"),
            (
                "BOOT-INF/lib/spring-data-r2dbc-1.1.0.RELEASE.jar",
                "spring-data-r2dbc",
                "1.1.0.RELEASE",
            ),
            (
                "jboss-saaj-api_1.4_spec-1.0.2.Final.jar",
                "jboss-saaj-api_1.4_spec",
                "1.0.2.Final",
            ),
            (
                "/usr/share/java/gradle/lib/gradle-build-cache-8.1.1.jar",
                "gradle-build-cache",
                "8.1.1",
            ),
            ("/usr/share/java/commons-lang3.jar", "commons-lang3", ""),
            ("/usr/share/java/jackson2-core.jar", "jackson2-core", ""),
            ("/x/ca-certificates-java.jar", "ca-certificates-java", ""),
            ("/x/1234.jar", "", ""),
        ] {
            let got = ArchiveFilename::new(file);
            assert_eq!(
                (got.name.as_str(), got.version.as_str()),
                (name, version),
                "{file}"
            );
        }
    }

    #[test]
    fn types_from_extensions() {
        for (file, kind) in [
            ("a.jar", Some(PackageType::JavaArchive)),
            ("a.WAR", Some(PackageType::JavaArchive)),
            ("a.kar", Some(PackageType::JavaArchive)),
            ("a.hpi", Some(PackageType::JenkinsPlugin)),
            ("a.jpi", Some(PackageType::JenkinsPlugin)),
            ("a.zip", None),
            ("dir.jar/a", None),
        ] {
            assert_eq!(ArchiveFilename::new(file).kind(), kind, "{file}");
        }
    }
}
