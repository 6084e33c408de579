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

/// Deep YAML nesting costs `serde_norway` super-quadratic time before its
/// recursion limit trips (200,000 `[` took over two minutes): records are
/// refused by a linear pass first, with the line at fault.
#[test]
fn deeply_nested_yaml_is_refused_quickly() {
    let flow = format!("id: X\naffected: {}", "[".repeat(200_000));
    let block = format!("id: X\naffected:\n  {}x\n", "- ".repeat(200_000));
    let mixed = format!("id: X\naffected: {}\n", "[{a: ".repeat(100_000));
    for (what, text) in [("flow", flow), ("block", block), ("mixed", mixed)] {
        let started = std::time::Instant::now();
        let got = osv::parse(text.as_bytes(), Format::Yaml);
        let took = started.elapsed();
        eprintln!("{what}: {} bytes refused in {took:?}", text.len());
        match got {
            Err(osv::OsvError::YamlGuard(e)) => {
                assert!(e.line == 2 || e.line == 3, "{what}: {e}");
                assert!(e.to_string().contains("nested more than"), "{what}: {e}");
            }
            other => panic!("{what}: {other:?}"),
        }
        assert!(took.as_secs_f64() < 2.0, "{what}: {took:?}");
    }
    // Deep nesting inside a quoted scalar or a block scalar is text.
    let quoted = format!("id: X\ndetails: \"{}\"\n", "[".repeat(10_000));
    assert_eq!(osv::parse(quoted.as_bytes(), Format::Yaml).unwrap().id, "X");
    let literal = format!(
        "id: X\ndetails: |\n  {}\n  {}\n",
        "[".repeat(10_000),
        "- ".repeat(10_000)
    );
    assert_eq!(
        osv::parse(literal.as_bytes(), Format::Yaml).unwrap().id,
        "X"
    );
}

/// Billion laughs: every alias use counts, and more than the guard's bound
/// are refused before parsing (serde_norway's own bound still lets a
/// hundredfold replay through).
#[test]
fn many_yaml_aliases_are_refused() {
    let mut laughs = String::from(
        "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
    );
    for i in 1..12u8 {
        let (prev, cur) = ((b'a' + i - 1) as char, (b'a' + i) as char);
        laughs.push_str(&format!(
            "{cur}: &{cur} [{}]\n",
            vec![format!("*{prev}"); 30].join(",")
        ));
    }
    let text = format!("{laughs}id: X\naffected: [{{versions: *l}}]\n");
    let started = std::time::Instant::now();
    let got = osv::parse(text.as_bytes(), Format::Yaml);
    assert!(matches!(got, Err(osv::OsvError::YamlGuard(_))), "{got:?}");
    assert!(started.elapsed().as_secs_f64() < 2.0);
}
