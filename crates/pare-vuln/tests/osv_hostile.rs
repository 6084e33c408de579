//! Advisory data comes from outside: no record, vector or installed version,
//! however malformed, may panic the parser, the matcher or the CVSS scorer.

use pare_vuln::cvss;
use pare_vuln::osv::{self, Format, maven};
use proptest::prelude::*;

const ECOSYSTEMS: &[&str] = &[
    "PyPI",
    "npm",
    "crates.io",
    "Go",
    "Maven",
    "Alpine:v3.19",
    "Debian:12",
    "Nonesuch",
];

/// A version-ish string: mostly characters versions use, sometimes anything.
fn version() -> impl Strategy<Value = String> {
    prop_oneof!["[0-9a-zA-Z.~+:_^!-]{0,12}", "0", "\\PC{0,8}",]
}

fn event() -> impl Strategy<Value = String> {
    (
        prop::sample::select(vec!["introduced", "fixed", "last_affected", "limit"]),
        version(),
    )
        .prop_map(|(k, v)| serde_json::json!({ k: v }).to_string())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..256)) {
        let _ = osv::parse(&bytes, Format::Json);
        let _ = osv::parse(&bytes, Format::Yaml);
    }

    /// Maven order: reflexive and antisymmetric on any input. Not
    /// transitive, and not tested for it: Maven's own ComparableVersion,
    /// which this ports faithfully, is not (`5ga.snapshot` == `5` <
    /// `5.alphaalpha` < `5ga.snapshot`, because a sub-list compares with
    /// "nothing" by its first item only but beats any qualifier).
    #[test]
    fn maven_order_is_reflexive_and_antisymmetric(
        a in "[0-9a-zA-Z.-]{0,10}|[0-9]{1,2}([.-]?(alpha|beta|rc|sp|ga|final|snapshot|[0-9]{1,2}|[a-z]{1,2})){0,6}",
        b in "[0-9a-zA-Z.-]{0,10}|[0-9]{1,2}([.-]?(alpha|beta|rc|sp|ga|final|snapshot|[0-9]{1,2}|[a-z]{1,2})){0,6}",
    ) {
        prop_assert!(maven::compare(&a, &a).is_eq());
        prop_assert_eq!(maven::compare(&a, &b), maven::compare(&b, &a).reverse());
    }

    #[test]
    fn arbitrary_vectors_never_panic(s in "(CVSS:3\\.[01]/)?([A-Z]{1,3}:[A-Z]{0,2}/?){0,12}|\\PC{0,40}") {
        let _ = cvss::score(&s);
    }

    #[test]
    fn arbitrary_ranges_never_panic(
        eco in prop::sample::select(ECOSYSTEMS),
        kind in prop::sample::select(vec!["ECOSYSTEM", "SEMVER", "GIT", "X"]),
        events in prop::collection::vec(event(), 0..6),
        versions in prop::collection::vec(version(), 0..4),
        installed in version(),
    ) {
        let record = format!(
            r#"{{"id":"X","affected":[{{"package":{{"ecosystem":"{eco}","name":"p"}},"ranges":[{{"type":"{kind}","events":[{}]}}],"versions":{}}}]}}"#,
            events.join(","),
            serde_json::to_string(&versions).unwrap(),
        );
        let advisory = osv::parse(record.as_bytes(), Format::Json).unwrap();
        let _ = osv::affects(&advisory, eco, "p", &installed);
        // Listed versions always match, whatever else the record says.
        if let Some(v) = versions.first() {
            prop_assert!(osv::affects(&advisory, eco, "p", v).is_some());
        }
    }
}
