//! JVM installations from their `release` file, as Syft v1.18.1's
//! java-jvm-cataloger reads them (syft/pkg/cataloger/java/
//! parse_jvm_release.go): a `binary` package named after the vendor and
//! product, whose install folder it owns, so Syft drops a classifier's
//! `java/jre` package found inside it (its JVM overlap rule).

use crate::purl;

/// The `release` file's fields Syft uses.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Release {
    pub implementor: String,
    pub java_runtime_version: String,
    pub java_version: String,
    pub full_version: String,
    pub image_type: String,
    pub source_repo: String,
    pub build_source_repo: String,
}

/// Syft reads at most this much of a `release` file.
pub const MAX_RELEASE: usize = 500 * 1024;
/// Go's `bufio.Scanner` stops (with an error) at a longer line.
const MAX_LINE: usize = 64 * 1024;

/// `KEY="value"` lines; `None` when there is neither `JAVA_VERSION` nor
/// `JAVA_RUNTIME_VERSION` (not a JVM's release file) or a line is too long.
pub fn parse(bytes: &[u8]) -> Option<Release> {
    let bytes = &bytes[..bytes.len().min(MAX_RELEASE)];
    let text = String::from_utf8_lossy(bytes);
    let mut release = Release::default();
    let mut has_version = false;
    for line in text.split('\n') {
        if line.len() > MAX_LINE {
            return None;
        }
        let line = line.strip_suffix('\r').unwrap_or(line);
        let Some((key, value)) = line.split_once('=') else {
            continue;
        };
        let value = value.trim_matches('"').to_string();
        // mapstructure matches field names case-insensitively.
        let field = match key.to_ascii_uppercase().as_str() {
            "IMPLEMENTOR" => &mut release.implementor,
            "JAVA_RUNTIME_VERSION" => {
                has_version = true;
                &mut release.java_runtime_version
            }
            "JAVA_VERSION" => {
                has_version = true;
                &mut release.java_version
            }
            "FULL_VERSION" => &mut release.full_version,
            "IMAGE_TYPE" => &mut release.image_type,
            "SOURCE_REPO" => &mut release.source_repo,
            "BUILD_SOURCE_REPO" => &mut release.build_source_repo,
            _ => continue,
        };
        *field = value;
    }
    has_version.then_some(release)
}

/// The JVM package: (name, version, PURL, CPEs).
pub fn package(
    release: &Release,
    path: &str,
    has_jdk: bool,
) -> (String, String, String, Vec<String>) {
    let version = version(release);
    let (vendor, product) = vendor_product(release, path, has_jdk);
    let repo = if !release.source_repo.is_empty() {
        Some(release.source_repo.clone())
    } else if !release.build_source_repo.is_empty() {
        Some(release.build_source_repo.clone())
    } else {
        None
    };
    let qualifiers: Vec<(&str, String)> = repo.map(|r| ("repository_url", r)).into_iter().collect();
    let purl = purl::build("generic", Some(vendor), product, &version, &qualifiers);
    let cpes = cpes(&version, vendor, product, &release.image_type, has_jdk);
    (product.to_string(), version, purl, cpes)
}

/// Syft's `jvmPackageVersion`.
fn version(r: &Release) -> String {
    if !r.java_runtime_version.is_empty() {
        return r.java_runtime_version.clone();
    }
    if !r.full_version.is_empty() {
        let major = |v: &str| v.split('.').next().unwrap_or("").to_string();
        if major(&r.full_version) == major(&r.java_version) {
            return r.full_version.clone();
        }
    }
    r.java_version.clone()
}

fn is_jdk(image_type: &str, has_jdk: bool) -> bool {
    has_jdk || !image_type.to_lowercase().contains("jre")
}

/// Syft's `jvmPrimaryVendorProduct`.
fn vendor_product(r: &Release, path: &str, has_jdk: bool) -> (&'static str, &'static str) {
    let implementor = r.implementor.to_lowercase().replace(' ', "");
    let product = if is_jdk(&r.image_type, has_jdk) {
        "jdk"
    } else {
        "jre"
    };
    if implementor.contains("azul") || path.contains("zulu") {
        ("azul", "zulu")
    } else if implementor.contains("sun") {
        ("sun", product)
    } else if implementor.contains("oracle") || path.contains("oracle") {
        ("oracle", product)
    } else {
        ("oracle", "openjdk")
    }
}

/// Syft's `jvmCpes`.
fn cpes(
    version: &str,
    vendor: &'static str,
    product: &'static str,
    image_type: &str,
    has_jdk: bool,
) -> Vec<String> {
    let mut candidates: Vec<(&'static str, &'static str)> = Vec::new();
    let enterprise = |candidates: &mut Vec<(&'static str, &'static str)>, vendor: &'static str| {
        candidates.push((vendor, "jre"));
        if is_jdk(image_type, has_jdk) {
            candidates.push((vendor, "jdk"));
        }
    };
    match (vendor, product) {
        ("azul", _) => candidates.extend([("azul", "zulu"), ("oracle", "openjdk")]),
        ("sun", _) => enterprise(&mut candidates, "sun"),
        ("oracle", p) if p != "openjdk" => {
            candidates.push(("oracle", "java_se"));
            enterprise(&mut candidates, "oracle");
        }
        (v, p) => candidates.push((v, p)),
    }
    let (short, update) = version_and_update(version);
    if short.is_empty() {
        return Vec::new();
    }
    let update = if !update.is_empty() && !update.to_lowercase().contains("update") {
        let trimmed = if update == "0" {
            update
        } else {
            update.trim_start_matches('0')
        };
        format!("update{trimmed}")
    } else {
        update.to_string()
    };
    candidates
        .into_iter()
        .map(|(v, p)| {
            format!(
                "cpe:2.3:a:{v}:{p}:{}:{}:*:*:*:*:*:*",
                purl::cpe_escape(short),
                if update.is_empty() {
                    "*".to_string()
                } else {
                    purl::cpe_escape(&update)
                }
            )
        })
        .collect()
}

/// Syft's `getJVMVersionAndUpdate`.
fn version_and_update(version: &str) -> (&str, &str) {
    if version.contains('_') {
        let fields: Vec<&str> = version.split('_').collect();
        if fields.len() == 2 {
            let update = fields[1].split('-').next().unwrap_or("");
            return (fields[0], update);
        }
    } else if let Some((short, _)) = version.split_once('+') {
        return (short, "");
    }
    (version, "")
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEBIAN: &[u8] = b"IMPLEMENTOR=\"Debian\"\nJAVA_RUNTIME_VERSION=\"17.0.19+10-1-deb12u2-Debian\"\nJAVA_VERSION=\"17.0.19\"\nMODULES=\"java.base java.xml\"\nSOURCE=\"\"\n";
    const TEMURIN: &[u8] = b"IMPLEMENTOR=\"Eclipse Adoptium\"\nJAVA_VERSION=\"21.0.4\"\nFULL_VERSION=\"21.0.4+7-LTS\"\nSOURCE_REPO=\"https://github.com/adoptium/jdk21u.git\"\nIMAGE_TYPE=\"JRE\"\n";
    const LEGACY: &[u8] = b"IMPLEMENTOR=\"Oracle Corporation\"\nJAVA_VERSION=\"1.8.0_302\"\nFULL_VERSION=\"1.8.0_302-b08\"\n";

    /// (release file, its path, has javac, (name, version, PURL, CPEs)).
    type Case = (
        &'static [u8],
        &'static str,
        bool,
        (
            &'static str,
            &'static str,
            &'static str,
            &'static [&'static str],
        ),
    );

    #[test]
    fn release_files_give_syfts_package() {
        let cases: &[Case] = &[
            (
                DEBIAN,
                "/usr/local/openjdk-17/release",
                false,
                (
                    "openjdk",
                    "17.0.19+10-1-deb12u2-Debian",
                    "pkg:generic/oracle/openjdk@17.0.19%2B10-1-deb12u2-Debian",
                    &["cpe:2.3:a:oracle:openjdk:17.0.19:*:*:*:*:*:*:*"],
                ),
            ),
            (
                TEMURIN,
                "/opt/java/openjdk/release",
                false,
                (
                    "openjdk",
                    "21.0.4+7-LTS",
                    "pkg:generic/oracle/openjdk@21.0.4%2B7-LTS?repository_url=https://github.com/adoptium/jdk21u.git",
                    &["cpe:2.3:a:oracle:openjdk:21.0.4:*:*:*:*:*:*:*"],
                ),
            ),
            (
                LEGACY,
                "/usr/java/release",
                true,
                (
                    "jdk",
                    "1.8.0_302-b08",
                    "pkg:generic/oracle/jdk@1.8.0_302-b08",
                    &[
                        "cpe:2.3:a:oracle:java_se:1.8.0:update302:*:*:*:*:*:*",
                        "cpe:2.3:a:oracle:jre:1.8.0:update302:*:*:*:*:*:*",
                        "cpe:2.3:a:oracle:jdk:1.8.0:update302:*:*:*:*:*:*",
                    ],
                ),
            ),
        ];
        for (bytes, path, has_jdk, (name, version, purl, cpes)) in cases {
            let release = parse(bytes).unwrap();
            let got = package(&release, path, *has_jdk);
            assert_eq!(got.0, *name);
            assert_eq!(got.1, *version);
            assert_eq!(got.2, *purl);
            assert_eq!(got.3, *cpes);
        }
    }

    #[test]
    fn files_without_a_java_version_are_not_jvms() {
        let long = format!("JAVA_VERSION=\"{}\"", "1".repeat(MAX_LINE + 1));
        let cases: &[&[u8]] = &[b"", b"NAME=\"Debian\"\n", b"\xff\xfe", long.as_bytes()];
        for bytes in cases {
            assert_eq!(parse(bytes), None);
        }
    }
}
