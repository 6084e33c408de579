//! JDK and JRE installations, from their `release` file, as Syft 1.18's
//! `java-jvm-cataloger` (`parse_jvm_release.go`) reports them: one
//! `binary` package named for the product (`openjdk`, `jre`, `jdk`,
//! `zulu`), PURL `pkg:generic/VENDOR/PRODUCT@VERSION`.

use std::collections::HashMap;

/// Syft reads at most this much of a `release` file.
pub const MAX_RELEASE_BYTES: usize = 500 * 1024;

/// The `release` fields Syft uses.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Release {
    pub implementor: String,
    pub java_runtime_version: String,
    pub java_version: String,
    pub full_version: String,
    pub image_type: String,
    pub source_repo: String,
    pub build_source_repo: String,
}

/// Parses `KEY="value"` lines; `None` without `JAVA_VERSION` or
/// `JAVA_RUNTIME_VERSION`.
pub fn parse(text: &str) -> Option<Release> {
    let mut fields: HashMap<&str, &str> = HashMap::new();
    for line in text.split('\n') {
        let line = line.strip_suffix('\r').unwrap_or(line);
        if let Some((key, value)) = line.split_once('=') {
            fields.insert(key, value.trim_matches('"'));
        }
    }
    if !fields.contains_key("JAVA_VERSION") && !fields.contains_key("JAVA_RUNTIME_VERSION") {
        return None;
    }
    let get = |k: &str| fields.get(k).copied().unwrap_or("").to_string();
    Some(Release {
        implementor: get("IMPLEMENTOR"),
        java_runtime_version: get("JAVA_RUNTIME_VERSION"),
        java_version: get("JAVA_VERSION"),
        full_version: get("FULL_VERSION"),
        image_type: get("IMAGE_TYPE"),
        source_repo: get("SOURCE_REPO"),
        build_source_repo: get("BUILD_SOURCE_REPO"),
    })
}

/// Syft's `jvmPackageVersion`.
pub fn version(r: &Release) -> String {
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

/// Syft's `jvmPrimaryVendorProduct`: (vendor, product). `has_jdk` is
/// whether a `bin/javac` sits in the installation.
pub fn vendor_product(r: &Release, path: &str, has_jdk: bool) -> (&'static str, &'static str) {
    let implementor = r.implementor.to_lowercase().replace(' ', "");
    let product = if has_jdk || !r.image_type.to_lowercase().contains("jre") {
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

/// The PURL: `pkg:generic/VENDOR/PRODUCT@VERSION`, with the source
/// repository as `repository_url` when the file names one.
pub fn purl(r: &Release, vendor: &str, product: &str, version: &str) -> String {
    let repo = if !r.source_repo.is_empty() {
        r.source_repo.clone()
    } else {
        r.build_source_repo.clone()
    };
    crate::purl::build(
        "generic",
        Some(vendor),
        product,
        version,
        &[("repository_url", repo)],
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(name: &str) -> String {
        let path = format!(
            "{}/tests/data/syft-fixtures/java/jvm-installs/{name}",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
    }

    /// Syft's two JVM fixtures and what its cataloger test expects.
    #[test]
    fn syft_jvm_fixtures() {
        let path = "/usr/lib/jvm/jdk-1.8-oracle-x64/release";
        let r = parse(&fixture(
            "oracle-jdk-se-8/usr/lib/jvm/jdk-1.8-oracle-x64/release",
        ))
        .unwrap();
        let v = version(&r);
        assert_eq!(v, "1.8.0_411-b25");
        let (vendor, product) = vendor_product(&r, path, true);
        assert_eq!((vendor, product), ("oracle", "jdk"));
        assert_eq!(
            purl(&r, vendor, product, &v),
            "pkg:generic/oracle/jdk@1.8.0_411-b25"
        );

        let path = "/jvm/openjdk/release";
        let r = parse(&fixture("valid-post-jep223/jvm/openjdk/release")).unwrap();
        let v = version(&r);
        assert_eq!(v, "21.0.4+7-LTS");
        let (vendor, product) = vendor_product(&r, path, false);
        assert_eq!((vendor, product), ("oracle", "openjdk"));
        assert_eq!(
            purl(&r, vendor, product, &v),
            "pkg:generic/oracle/openjdk@21.0.4%2B7-LTS?repository_url=https://github.com/adoptium/jdk21u.git"
        );
    }

    #[test]
    fn versions_vendors_and_junk() {
        assert_eq!(parse("IMPLEMENTOR=\"x\"\n"), None);
        let r = |fields: &str| parse(fields).unwrap();
        for (text, want) in [
            (
                "JAVA_VERSION=\"17.0.2\"\nFULL_VERSION=\"17.0.2+8\"\n",
                "17.0.2+8",
            ),
            ("JAVA_VERSION=\"1.8.0\"\nFULL_VERSION=\"8u1\"\n", "1.8.0"),
            (
                "JAVA_RUNTIME_VERSION=\"17+1\"\nJAVA_VERSION=\"17\"\n",
                "17+1",
            ),
        ] {
            assert_eq!(version(&r(text)), want, "{text}");
        }
        let azul = r("JAVA_VERSION=1\nIMPLEMENTOR=\"Azul Systems, Inc.\"\n");
        assert_eq!(vendor_product(&azul, "/x/release", false), ("azul", "zulu"));
        let sun = r("JAVA_VERSION=1\nIMPLEMENTOR=Sun\nIMAGE_TYPE=JRE\n");
        assert_eq!(vendor_product(&sun, "/x/release", false), ("sun", "jre"));
        assert_eq!(vendor_product(&sun, "/x/release", true), ("sun", "jdk"));
        let debian = r("IMPLEMENTOR=\"Debian\"\nJAVA_VERSION=\"17.0.15\"\n");
        assert_eq!(
            vendor_product(&debian, "/usr/lib/jvm/oracle/release", false),
            ("oracle", "jdk")
        );
    }
}
