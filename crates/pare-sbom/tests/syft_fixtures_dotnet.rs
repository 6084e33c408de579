//! .NET against Syft 1.18, on Syft's own .NET fixtures (copied into
//! `tests/data/syft-fixtures/dotnet`, origin in `tests/data/README.md`) and
//! on PE files built here (`common/pe_build.rs`): the name and version
//! rules' cases from Syft's own unit tests, and files broken where Syft's
//! PE reader (saferwall/pe) has quirks. Each tree is cataloged as an image
//! and as a root folder and compared with `syft docker-archive:` and
//! `syft dir:` respectively: Syft reads `*.deps.json` only for
//! directories, PE files for both. A missing `syft` skips the comparison
//! locally and fails it under `CI=true`; what does not need Syft is
//! checked anyway.

use std::collections::BTreeSet;

mod common;

use common::pe_build::{self, Version, pe_with_blocks, pe_with_strings, version_block};
use common::{
    Compared, ComparedByKind, Id, Src,
    Src::{Bytes, Fixture, Link},
    build, id,
};

/// Known differences from Syft: (tree, PURL, reason).
const ALLOWED: &[(&str, &str, &str)] = &[(
    "links",
    "pkg:nuget/Behind%20a%20link@1.0",
    "a PE file not named *.dll/*.exe reached through a link so named: Syft reads it, pare \
     scans only files so named as the layer streams (README)",
)];

fn is_dotnet(a: &serde_json::Value) -> bool {
    a["type"] == "dotnet"
}

fn compare(files: &[(String, Src)]) -> ComparedByKind {
    let root = tempfile::tempdir().unwrap();
    build(root.path(), files);
    common::compare_root_by_kind(root.path(), is_dotnet)
}

fn assert_parity(tree: &str, compared: &Compared) {
    common::assert_parity(tree, compared, ALLOWED);
}

fn set(ids: &[Id]) -> BTreeSet<Id> {
    ids.iter().cloned().collect()
}

fn nuget(name: &str, version: &str, purl: &str) -> Id {
    id("dotnet", name, version, purl)
}

fn upstream() -> Vec<(String, Src)> {
    vec![
        (
            "app/TestLibrary.deps.json".into(),
            Fixture("dotnet/TestLibrary.deps.json"),
        ),
        (
            "app/something.deps.json".into(),
            Fixture("dotnet/glob-paths/src/something.deps.json"),
        ),
        (
            "app/something.dll".into(),
            Fixture("dotnet/glob-paths/src/something.dll"),
        ),
        (
            "app/something.exe".into(),
            Fixture("dotnet/glob-paths/src/something.exe"),
        ),
    ]
}

/// Syft's fixtures: in an image nothing (deps files are not read, the
/// `.dll`/`.exe` are not PE); in a folder the deps file's fourteen
/// libraries, the root project first among them.
#[test]
fn upstream_fixtures_match_syft() {
    let c = compare(&upstream());
    assert_parity("upstream-image", &c.image);
    assert_parity("upstream-dir", &c.dir);
    assert!(c.image.pare.is_empty(), "{:#?}", c.image.pare);
    assert_eq!(c.dir.pare.len(), 14, "{:#?}", c.dir.pare);
    for want in [
        nuget("TestLibrary", "1.0.0", "pkg:nuget/TestLibrary@1.0.0"),
        nuget("TestCommon", "1.0.0", "pkg:nuget/TestCommon@1.0.0"),
        nuget("Serilog", "2.10.0", "pkg:nuget/Serilog@2.10.0"),
    ] {
        assert!(c.dir.pare.contains(&want), "{want:?}");
    }
    assert!(
        c.dir
            .warnings
            .iter()
            .any(|w| w.contains("something.deps.json")),
        "{:?}",
        c.dir.warnings
    );
}

/// The version-resource cases of Syft's `TestParseDotnetPortableExecutable`
/// (v1.18.1), each in a PE file of its own, plus Mono's real strings.
fn rules() -> Vec<(String, Src)> {
    let cases: &[&[(&str, &str)]] = &[
        &[
            (
                "InternalName",
                "Microsoft.IdentityModel.Clients.ActiveDirectory.Platform.dll",
            ),
            ("FileVersion", "3.14.40721.0918    xxxfffdddjjjj"),
            ("FileDescription", "Active Directory Authentication Library"),
            ("ProductName", "Active Directory Authentication Library"),
            ("CompanyName", "Microsoft Corporation"),
            (
                "LegalCopyright",
                "Copyright (c) Microsoft Corporation. All rights reserved.",
            ),
            ("ProductVersion", "c61f043686a544863efc014114c42e844f905336"),
            ("Assembly Version", "3.14.2.11"),
        ],
        &[
            ("CompanyName", "Microsoft Corporation"),
            ("FileDescription", "äbFile\u{a0}\u{a1}Versi on"),
            (
                "FileVersion",
                "4.6.25512.01 built by: dlab-DDVSOWINAGE016. Commit Hash: d0d5c7b49271cadb6d97de26d8e623e98abdc8db",
            ),
            ("InternalName", "äb\u{1}FileVersion"),
            ("ProductName", "Microsoft® .NET Framework"),
            (
                "ProductVersion",
                "4.6.25512.01 built by: dlab-DDVSOWINAGE016.",
            ),
        ],
        &[
            ("CompanyName", "Microsoft Corporation"),
            ("FileDescription", "System.Data.Linq.dll"),
            ("FileVersion", "4.7.3190.0 built by: NET472REL1LAST_C"),
            ("ProductName", "Microsoft® .NET Framework"),
            ("ProductVersion", "4.7.3190.0"),
        ],
        &[
            ("CompanyName", "curl, https://curl.se/"),
            ("FileDescription", "The curl executable"),
            ("FileVersion", "8.4.0"),
            ("ProductName", "The curl executable"),
            ("ProductVersion", "8.4.0"),
        ],
        &[
            ("FileVersion", "8.0.1"),
            ("InternalName", "Prometheus.AspNetCore.dll"),
            ("OriginalFilename", "Prometheus.AspNetCore.dll"),
            ("ProductName", ""),
            ("ProductVersion", "8.0.1"),
        ],
        &[
            ("FileVersion", "1, 0, 0, 0"),
            ("ProductName", "Hidden Input"),
            ("ProductVersion", "1, 0, 0, 0"),
        ],
        &[
            ("FileDescription", "Better product version"),
            ("FileVersion", "80.1.7"),
            ("ProductVersion", "80.1.7.92"),
        ],
        &[
            ("FileDescription", "Better file version"),
            ("FileVersion", "80.1.7.92"),
            ("ProductVersion", "80.1.7"),
        ],
        &[
            ("FileDescription", "Higher product"),
            ("FileVersion", "3.0.0.0"),
            (
                "ProductVersion",
                "3.0.1+b86b61bf676163639795b163d8d753b20aad6207",
            ),
        ],
        &[
            ("FileDescription", "Higher file"),
            (
                "FileVersion",
                "3.0.1+b86b61bf676163639795b163d8d753b20aad6207",
            ),
            ("ProductVersion", "3.0.0"),
        ],
        &[
            ("FileDescription", "Invalid file version"),
            ("FileVersion", "A"),
            ("ProductVersion", "3.0.1+b86b61bf"),
        ],
        &[
            ("FileDescription", "Invalid product version"),
            ("FileVersion", "3.0.2+b86b61bf"),
            ("ProductVersion", "A"),
        ],
        &[
            ("FileDescription", "Semantically equal"),
            ("FileVersion", "3.0.0.0"),
            ("ProductVersion", "3.0.0"),
        ],
        &[
            ("FileDescription", "No digits"),
            ("FileVersion", "none"),
            ("ProductVersion", "Release"),
        ],
        // No name, no version: no package.
        &[("ProductVersion", "1.0")],
        &[("ProductName", "Versionless")],
        &[
            ("Comments", "System.dll"),
            ("CompanyName", "Mono development team"),
            ("FileDescription", "System.dll"),
            ("FileVersion", "4.6.57.0"),
            ("InternalName", "System"),
            ("OriginalFilename", "System.dll"),
            ("ProductName", "Mono Common Language Infrastructure"),
            ("ProductVersion", "4.6.57.0"),
        ],
        &[
            ("CompanyName", " "),
            ("FileDescription", "Mono.Posix.dll"),
            ("FileVersion", "4.0.0.0"),
            ("ProductName", " "),
            ("ProductVersion", "4.0.0.0"),
        ],
    ];
    cases
        .iter()
        .enumerate()
        .map(|(i, pairs)| {
            let name = if i % 2 == 0 { "dll" } else { "exe" };
            (
                format!("opt/rules/case{i}.{name}"),
                Bytes(pe_with_strings(pairs)),
            )
        })
        .collect()
}

#[test]
fn name_and_version_rules_match_syft() {
    let c = compare(&rules());
    assert_parity("rules-image", &c.image);
    assert_parity("rules-dir", &c.dir);
    assert_eq!(c.image.pare, c.dir.pare);
    for want in [
        nuget(
            "Active Directory Authentication Library",
            "3.14.40721.0918",
            "pkg:nuget/Active%20Directory%20Authentication%20Library@3.14.40721.0918",
        ),
        nuget(
            "äbFile ¡Versi on",
            "4.6.25512.01",
            "pkg:nuget/%C3%A4bFile%20%C2%A1Versi%20on@4.6.25512.01",
        ),
        nuget(
            "Hidden Input",
            "1, 0, 0, 0",
            "pkg:nuget/Hidden%20Input@1,%200,%200,%200",
        ),
        nuget(
            "Higher product",
            "3.0.1+b86b61bf676163639795b163d8d753b20aad6207",
            "pkg:nuget/Higher%20product@3.0.1%2Bb86b61bf676163639795b163d8d753b20aad6207",
        ),
        nuget("No digits", "Release", "pkg:nuget/No%20digits@Release"),
        nuget(
            "Mono.Posix.dll",
            "4.0.0.0",
            "pkg:nuget/Mono.Posix.dll@4.0.0.0",
        ),
    ] {
        assert!(
            c.image.pare.contains(&want),
            "{want:?} not in {:#?}",
            c.image.pare
        );
    }
    assert!(
        !c.image
            .pare
            .iter()
            .any(|p| p.1 == "Versionless" || p.2 == "1.0"),
        "{:#?}",
        c.image.pare
    );
}

fn put16(f: &mut [u8], at: usize, v: u16) {
    f[at..at + 2].copy_from_slice(&v.to_le_bytes());
}

fn put32(f: &mut [u8], at: usize, v: u32) {
    f[at..at + 4].copy_from_slice(&v.to_le_bytes());
}

/// PE files as compilers do not write them, each broken where saferwall
/// has a rule of its own, each with distinct strings so that the one
/// package found (or not) is told apart. None of them makes Syft loop or
/// fail (see `syft_fails_on_its_whole_pe_cataloger` for one that does).
fn quirks() -> Vec<(String, Src)> {
    let strings = |n: usize| -> Vec<(String, String)> {
        // A string the rules do not read comes first, so that breaking
        // the first string shows in what is read after it.
        vec![
            ("Comments".into(), "first".into()),
            ("ProductName".into(), format!("Quirk {n}")),
            ("FileVersion".into(), format!("{n}.0")),
            ("ProductVersion".into(), format!("{n}.0.1")),
        ]
    };
    let file = |n: usize, pe64: bool| {
        let v = Version {
            tables: vec![("040904b0".into(), strings(n))],
            var_file_info: true,
        };
        pe_with_blocks(&[version_block(&v)], pe64)
    };
    type Mutate = fn(&mut Vec<u8>, &pe_build::Offsets);
    let mutations: &[Mutate] = &[
        |_, _| {},
        |f, _| f[1] = b'X',
        |f, _| put32(f, 0x3c, u32::MAX),
        |f, _| put32(f, 0x80 + 24 + 28, 0x1000_0001),
        |f, at| put16(f, at.blocks[0] + 2, 0),
        |f, at| f[at.blocks[0] + 40] ^= 0xff,
        |f, at| put32(f, at.resources + 3 * 24 + 4, u32::MAX),
        |f, at| put16(f, at.blocks[0] + 92, 0),
        |f, at| f[at.blocks[0] + 128 + 6] = 0,
        |f, at| put16(f, at.blocks[0] + 152, 0),
        |f, at| put16(f, at.blocks[0] + 152 + 2, 0x7ffe),
        |f, at| put16(f, at.blocks[0] + 152 + 2, 0x7fff),
        |f, at| put16(f, at.resources + 14, 0x1001),
        |f, at| put32(f, at.resources + 2 * 24 + 16 + 4, 0x8000_0000 | 24),
        |f, at| {
            put32(f, at.resources + 16, 0);
            put32(f, at.resources + 20, 0);
        },
        |f, at| f.truncate(at.blocks[0] + 200),
        |f, _| f.truncate(300),
    ];
    let mut files = Vec::new();
    for (n, mutate) in mutations.iter().enumerate() {
        let (mut f, at) = file(n, n % 3 == 1);
        mutate(&mut f, &at);
        files.push((format!("srv/quirks/q{n}.dll"), Bytes(f)));
    }
    // Two languages (the later overwrites), two tables (only the first
    // is read), upper-case name (not Syft's glob).
    let en = Version {
        tables: vec![(
            "040904b0".into(),
            vec![("ProductName".into(), "English".into())],
        )],
        var_file_info: false,
    };
    let es = Version {
        tables: vec![
            (
                "0c0a04b0".into(),
                vec![
                    ("ProductName".into(), "Spanish".into()),
                    ("FileVersion".into(), "2.0".into()),
                ],
            ),
            (
                "040704b0".into(),
                vec![("ProductName".into(), "German".into())],
            ),
        ],
        var_file_info: true,
    };
    files.push((
        "srv/quirks/languages.dll".into(),
        Bytes(pe_with_blocks(&[version_block(&en), version_block(&es)], false).0),
    ));
    files.push((
        "srv/quirks/UPPER.DLL".into(),
        Bytes(pe_with_strings(&[
            ("ProductName", "Upper"),
            ("FileVersion", "1.0"),
        ])),
    ));
    files
}

#[test]
fn saferwall_quirks_match_syft() {
    let c = compare(&quirks());
    assert_parity("quirks-image", &c.image);
    assert_parity("quirks-dir", &c.dir);
    assert_eq!(c.image.pare, c.dir.pare);
    let names: BTreeSet<&str> = c.image.pare.iter().map(|p| p.1.as_str()).collect();
    for name in ["Quirk 0", "Quirk 11", "Spanish"] {
        assert!(names.contains(name), "{name}: {names:?}");
    }
    for name in [
        "Quirk 1", "Quirk 5", "Quirk 7", "Quirk 9", "Upper", "English", "German",
    ] {
        assert!(!names.contains(name), "{name}: {names:?}");
    }
}

/// Links: a `.dll` link to a `.dll` counts once, at the file; Syft also
/// reads a PE file of another name through a `.dll` link, pare does not
/// (in [`ALLOWED`]).
#[test]
fn links_match_syft() {
    let files = vec![
        (
            "usr/lib/mono/gac/System/4.0.0.0__b77a5c561934e089/System.dll".into(),
            Bytes(pe_with_strings(&[
                ("ProductName", "Linked"),
                ("FileVersion", "4.0"),
            ])),
        ),
        (
            "usr/lib/mono/4.5/System.dll".into(),
            Link("../gac/System/4.0.0.0__b77a5c561934e089/System.dll"),
        ),
        (
            "opt/lib/real.bin".into(),
            Bytes(pe_with_strings(&[
                ("ProductName", "Behind a link"),
                ("FileVersion", "1.0"),
            ])),
        ),
        ("opt/lib/alias.dll".into(), Link("real.bin")),
        ("opt/lib/dangling.dll".into(), Link("nowhere.dll")),
    ];
    let c = compare(&files);
    assert_parity("links", &c.image);
    assert_parity("links", &c.dir);
    assert_eq!(
        c.image.pare,
        set(&[nuget("Linked", "4.0", "pkg:nuget/Linked@4.0")])
    );
}

/// A deps file only in a root folder; the same file in an image is not
/// read, by either.
#[test]
fn deps_files_are_read_for_folders_only() {
    let deps = r#"{"runtimeTarget": {"name": "net8.0"}, "targets": {"net8.0": {"App/1.0.0": {"dependencies": {"Serilog": "3.1.1"}}}}, "libraries": {"App/1.0.0": {"type": "project"}, "Serilog/3.1.1": {"type": "package"}, "Empty/": {"type": "package"}}}"#;
    let files = vec![
        ("app/App.deps.json".into(), Bytes(deps.as_bytes().to_vec())),
        (
            "app/Other.deps.json".into(),
            Bytes(deps.as_bytes().to_vec()),
        ),
        ("app/linked/App.deps.json".into(), Link("../App.deps.json")),
    ];
    let c = compare(&files);
    assert_parity("deps-image", &c.image);
    assert_parity("deps-dir", &c.dir);
    assert!(c.image.pare.is_empty());
    assert_eq!(
        c.dir.pare,
        set(&[
            nuget("App", "1.0.0", "pkg:nuget/App@1.0.0"),
            nuget("Serilog", "3.1.1", "pkg:nuget/Serilog@3.1.1"),
            nuget("Empty", "UNKNOWN", "pkg:nuget/Empty"),
        ])
    );
    assert!(
        c.dir.warnings.iter().any(|w| w.contains("Other.deps.json")),
        "{:?}",
        c.dir.warnings
    );
}

/// An `RT_VERSION` entry that is data, not a directory: saferwall indexes
/// an empty list, and the Go panic fails Syft's whole run (exit 1, no
/// SBOM). pare lists the other files and warns about this one (README).
#[test]
fn syft_fails_on_a_version_entry_without_names() {
    let (mut broken, at) = pe_with_blocks(
        &[version_block(&Version::strings(&[
            ("ProductName", "Broken"),
            ("FileVersion", "1"),
        ]))],
        false,
    );
    put32(&mut broken, at.resources + 16 + 4, 3 * 24);
    let files = vec![
        (
            "srv/good.dll".into(),
            Bytes(pe_with_strings(&[
                ("ProductName", "Good"),
                ("FileVersion", "1.0"),
            ])),
        ),
        ("srv/broken.dll".into(), Bytes(broken)),
    ];
    let root = tempfile::tempdir().unwrap();
    build(root.path(), &files);
    let cataloged = common::catalog_root(root.path());
    let ids: BTreeSet<Id> = cataloged
        .from_image
        .packages
        .iter()
        .map(common::package_id)
        .collect();
    assert_eq!(ids, set(&[nuget("Good", "1.0", "pkg:nuget/Good@1.0")]));
    assert!(
        cataloged
            .from_image
            .warnings
            .iter()
            .any(|w| w.starts_with("/srv/broken.dll: ")),
        "{:?}",
        cataloged.from_image.warnings
    );
    if pare_testkit::tool("syft").is_some() {
        assert_syft_fails(
            &format!("docker-archive:{}", cataloged.archive.display()),
            "ParseVersionResources",
        );
    }
}

/// Runs Syft (not quiet: the panic is on its standard error) and checks
/// that it fails in `function`.
fn assert_syft_fails(source: &str, function: &str) {
    let out = std::process::Command::new("syft")
        .args([source, "-o", "json"])
        .env("SYFT_CHECK_FOR_APP_UPDATE", "false")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        !out.status.success() && out.stdout.is_empty() && stderr.contains(function),
        "Syft 1.18 no longer fails in {function}: {stderr}"
    );
}

/// A deps library key without `/`: Syft's parser indexes past a Go slice
/// and its whole run fails; pare skips that file with a warning and reads
/// the others.
#[test]
fn syft_fails_on_a_deps_library_without_a_slash() {
    let good = r#"{"libraries": {"Good/1.0.0": {"type": "project"}}}"#;
    let bad = r#"{"libraries": {"App/1.0.0": {"type": "project"}, "Broken": {}}}"#;
    let root = tempfile::tempdir().unwrap();
    build(
        root.path(),
        &[
            ("a/Good.deps.json".into(), Bytes(good.into())),
            ("b/App.deps.json".into(), Bytes(bad.into())),
        ],
    );
    let cataloged = common::catalog_root(root.path());
    let ids: BTreeSet<Id> = cataloged
        .from_dir
        .packages
        .iter()
        .map(common::package_id)
        .collect();
    assert_eq!(ids, set(&[nuget("Good", "1.0.0", "pkg:nuget/Good@1.0.0")]));
    assert!(
        cataloged
            .from_dir
            .warnings
            .iter()
            .any(|w| w.starts_with("/b/App.deps.json: ")),
        "{:?}",
        cataloged.from_dir.warnings
    );
    if pare_testkit::tool("syft").is_some() {
        assert_syft_fails(
            &format!("dir:{}", root.path().display()),
            "extractNameAndVersion",
        );
    }
}

/// Every dotnet fixture file is used by a tree above.
#[test]
fn every_fixture_is_used() {
    let used: BTreeSet<String> = upstream()
        .into_iter()
        .filter_map(|(_, src)| match src {
            Fixture(f) => Some(f.to_string()),
            _ => None,
        })
        .collect();
    assert_eq!(used, common::fixture_files(&["dotnet"]));
}
