//! Package URLs (<https://github.com/package-url/purl-spec>).
//!
//! Hand-written because the encoding must match Syft's byte for byte
//! (anchore/packageurl-go): in namespace segments, name, version and
//! qualifier values only `@ + ? #`, space and non-ASCII bytes are
//! percent-encoded (`+` is `%2B`, so a Debian version keeps its `~` and
//! `:` but not its `+`); qualifiers are sorted by key; a subpath follows
//! `#` unencoded.

/// Percent-encodes one PURL component.
pub fn encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii() && !matches!(b, b'@' | b'+' | b'?' | b'#' | b' ') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Appends a subpath (`#cmd/tool`), when there is one.
pub fn with_subpath(mut purl: String, subpath: &str) -> String {
    if !subpath.is_empty() {
        purl.push('#');
        purl.push_str(subpath);
    }
    purl
}

/// Builds `pkg:TYPE/NAMESPACE/NAME@VERSION?k=v&…` (empty qualifiers dropped).
pub fn build(
    kind: &str,
    namespace: Option<&str>,
    name: &str,
    version: &str,
    qualifiers: &[(&str, String)],
) -> String {
    let mut purl = format!("pkg:{kind}/");
    if let Some(ns) = namespace.filter(|ns| !ns.is_empty()) {
        let parts: Vec<String> = ns.split('/').map(encode).collect();
        purl.push_str(&parts.join("/"));
        purl.push('/');
    }
    purl.push_str(&encode(name));
    if !version.is_empty() {
        purl.push('@');
        purl.push_str(&encode(version));
    }
    let mut qualifiers: Vec<&(&str, String)> =
        qualifiers.iter().filter(|(_, v)| !v.is_empty()).collect();
    qualifiers.sort_by_key(|(k, _)| *k);
    for (i, (key, value)) in qualifiers.iter().enumerate() {
        purl.push(if i == 0 { '?' } else { '&' });
        purl.push_str(key);
        purl.push('=');
        purl.push_str(&encode(value));
    }
    purl
}

/// Escapes a CPE 2.3 formatted-string component.
pub fn cpe_escape(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() || c == '_' || c == '-' || c == '.' {
            out.push(c);
        } else {
            out.push('\\');
            out.push(c);
        }
    }
    out
}

/// The CPEs Syft generates for an OS package: vendor and product from the
/// name, and a `_` spelling when the name has `-`.
pub fn cpes(name: &str, version: &str) -> Vec<String> {
    let version = cpe_escape(version);
    let mut products = vec![name.to_string()];
    if name.contains('-') {
        products.push(name.replace('-', "_"));
    }
    products
        .iter()
        .map(|product| {
            format!(
                "cpe:2.3:a:{}:{}:{version}:*:*:*:*:*:*:*",
                cpe_escape(name),
                cpe_escape(product)
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn matches_syft_purls() {
        let cases = [
            (
                build(
                    "deb",
                    Some("debian"),
                    "bash",
                    "5.2.15-2+b13",
                    &[
                        ("arch", "amd64".into()),
                        ("upstream", "bash@5.2.15-2".into()),
                        ("distro", "debian-12".into()),
                    ],
                ),
                "pkg:deb/debian/bash@5.2.15-2%2Bb13?arch=amd64&distro=debian-12&upstream=bash%405.2.15-2",
            ),
            (
                build(
                    "deb",
                    Some("debian"),
                    "bsdutils",
                    "1:2.38.1-5+deb12u3",
                    &[("arch", "amd64".into())],
                ),
                "pkg:deb/debian/bsdutils@1:2.38.1-5%2Bdeb12u3?arch=amd64",
            ),
            (
                build("npm", Some("@babel"), "core", "7.0.0", &[]),
                "pkg:npm/%40babel/core@7.0.0",
            ),
            (
                build("pypi", None, "requests", "2.31.0", &[("x", String::new())]),
                "pkg:pypi/requests@2.31.0",
            ),
            // Both as Syft 1.18.1 wrote them for Debian's Go binaries.
            (
                with_subpath(
                    build(
                        "golang",
                        Some("github.com/containers"),
                        "skopeo",
                        "(devel)",
                        &[],
                    ),
                    "cmd/skopeo",
                ),
                "pkg:golang/github.com/containers/skopeo@(devel)#cmd/skopeo",
            ),
            (
                with_subpath(
                    build(
                        "golang",
                        Some("github.com/docker"),
                        "distribution",
                        "v2.8.2+ds1",
                        &[],
                    ),
                    "cmd/registry",
                ),
                "pkg:golang/github.com/docker/distribution@v2.8.2%2Bds1#cmd/registry",
            ),
        ];
        for (got, want) in cases {
            assert_eq!(got, want);
        }
    }

    #[test]
    fn cpes_escape_and_add_underscore_spelling() {
        assert_eq!(
            cpes("gcc-12-base", "12.2.0-14+deb12u1"),
            [
                "cpe:2.3:a:gcc-12-base:gcc-12-base:12.2.0-14\\+deb12u1:*:*:*:*:*:*:*",
                "cpe:2.3:a:gcc-12-base:gcc_12_base:12.2.0-14\\+deb12u1:*:*:*:*:*:*:*"
            ]
        );
    }
}
