//! SPDX 2.3 JSON (<https://spdx.github.io/spdx-spec/v2.3/>).

use serde_json::{Value, json};
use sha2::{Digest as _, Sha256};

use crate::cyclonedx::Subject;
use crate::model::{Catalog, Package};

pub fn document(catalog: &Catalog, subject: &Subject<'_>) -> Value {
    let uuid = uuid_of(catalog, subject.name);
    let root_id = "SPDXRef-DocumentRoot-Image";
    let mut packages = vec![json!({
        "name": subject.name,
        "SPDXID": root_id,
        "versionInfo": subject.digest.unwrap_or(""),
        "downloadLocation": "NOASSERTION",
        "filesAnalyzed": false,
        "licenseConcluded": "NOASSERTION",
        "licenseDeclared": "NOASSERTION",
        "copyrightText": "NOASSERTION",
        "primaryPackagePurpose": "CONTAINER",
    })];
    let mut relationships = vec![json!({
        "spdxElementId": "SPDXRef-DOCUMENT",
        "relationshipType": "DESCRIBES",
        "relatedSpdxElement": root_id,
    })];
    for (index, p) in catalog.packages.iter().enumerate() {
        let id = spdx_id(p, index);
        packages.push(package(p, &id));
        relationships.push(json!({
            "spdxElementId": root_id,
            "relationshipType": "CONTAINS",
            "relatedSpdxElement": id,
        }));
    }
    json!({
        "spdxVersion": "SPDX-2.3",
        "dataLicense": "CC0-1.0",
        "SPDXID": "SPDXRef-DOCUMENT",
        "name": subject.name,
        "documentNamespace": format!("https://pare.invalid/spdx/{uuid}"),
        "creationInfo": {
            "created": timestamp(),
            "creators": [format!("Tool: pare-{}", env!("CARGO_PKG_VERSION"))],
            "licenseListVersion": "3.25",
        },
        "packages": packages,
        "relationships": relationships,
    })
}

fn package(p: &Package, id: &str) -> Value {
    let mut refs = vec![json!({
        "referenceCategory": "PACKAGE-MANAGER",
        "referenceType": "purl",
        "referenceLocator": p.purl,
    })];
    for cpe in &p.cpes {
        refs.push(json!({
            "referenceCategory": "SECURITY",
            "referenceType": "cpe23Type",
            "referenceLocator": cpe,
        }));
    }
    let mut value = json!({
        "name": p.name,
        "SPDXID": id,
        "versionInfo": p.version,
        "supplier": "NOASSERTION",
        "downloadLocation": "NOASSERTION",
        "filesAnalyzed": false,
        "licenseConcluded": "NOASSERTION",
        "licenseDeclared": "NOASSERTION",
        "copyrightText": "NOASSERTION",
        "sourceInfo": format!("found by pare in {}", p.found_at),
        "externalRefs": refs,
        "primaryPackagePurpose": if p.kind == crate::PackageType::Binary { "APPLICATION" } else { "LIBRARY" },
    });
    if !p.licenses.is_empty() {
        // Distribution license names (e.g. Debian's `GPL-2+`) are not SPDX
        // expressions; they are kept verbatim as a comment.
        value["licenseComments"] = json!(format!("declared: {}", p.licenses.join(", ")));
    }
    value
}

/// `SPDXRef-` followed only by letters, digits, `.` and `-`.
fn spdx_id(p: &Package, index: usize) -> String {
    let clean: String = format!("{}-{}-{}", p.kind.as_str(), p.name, p.version)
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '.' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("SPDXRef-Package-{clean}-{index}")
}

/// A UUID derived from the content, so the same image gives the same document.
pub fn uuid_of(catalog: &Catalog, name: &str) -> String {
    let mut hasher = Sha256::new();
    hasher.update(name.as_bytes());
    for p in &catalog.packages {
        hasher.update(p.purl.as_bytes());
        hasher.update(p.found_at.as_bytes());
    }
    let mut b: [u8; 16] = hasher.finalize()[..16].try_into().expect("16 bytes");
    b[6] = (b[6] & 0x0f) | 0x50; // version 5-style
    b[8] = (b[8] & 0x3f) | 0x80; // RFC 4122 variant
    let h = hex::encode(b);
    format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    )
}

/// Now (or `SOURCE_DATE_EPOCH`) as RFC 3339 UTC.
pub fn timestamp() -> String {
    let secs = std::env::var("SOURCE_DATE_EPOCH")
        .ok()
        .and_then(|s| s.parse::<i64>().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64)
        });
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    #[test]
    fn civil_dates() {
        assert_eq!(super::civil_from_days(0), (1970, 1, 1));
        assert_eq!(super::civil_from_days(20_454), (2026, 1, 1));
        assert_eq!(super::civil_from_days(19_782), (2024, 2, 29));
    }
}
