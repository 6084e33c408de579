//! Ruby, PHP and .NET packages against Syft 1.18, by type, name, version
//! and PURL (issue 14): on the `langs` test image (Debian's ruby and gems,
//! a project Debian's composer installed, php-pear, Syft's fixtures), and
//! on a root folder of Syft's own fixtures through the CLI.

use std::collections::BTreeSet;
use std::path::Path;

use serde_json::Value;

use crate::common::*;
use crate::require;

/// (type, name, version, PURL).
type Id = PackageId;

/// Known differences from Syft on the `langs` image: (PURL, reason). None
/// today; README.md lists the ones other images can show.
const ALLOWED: &[(&str, &str)] = &[];

const KINDS: [&str; 4] = ["gem", "php-composer", "php-pecl", "dotnet"];

fn assert_same(what: &str, ours: &BTreeSet<Id>, theirs: &BTreeSet<Id>) {
    assert_same_packages(what, ours, theirs, |id| {
        ALLOWED.iter().any(|(purl, _)| *purl == id.3)
    });
}

/// Every package of the image, each ecosystem and overall, as Syft lists
/// them; and what the image is known to hold is there.
#[test]
fn sbom_ruby_php_dotnet_packages_match_syft_on_the_langs_image() {
    let archive = require!(test_image("langs"));
    require!(tool("syft"));
    let reference = format!("docker-archive:{}", archive.display());
    let ours: Value =
        serde_json::from_str(&pare_ok(&["sbom", "--format", "json", &reference])).unwrap();
    let theirs: Value =
        serde_json::from_slice(&syft(&["-q", &reference, "-o", "json"]).stdout).unwrap();
    for kind in KINDS {
        assert_same(
            kind,
            &package_ids(&ours["packages"], Some(&[kind])),
            &package_ids(&theirs["artifacts"], Some(&[kind])),
        );
    }
    assert_same(
        "all types",
        &package_ids(&ours["packages"], None),
        &package_ids(&theirs["artifacts"], None),
    );

    let found_at = |purl: &str| -> String {
        ours["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["purl"] == purl)
            .unwrap_or_else(|| panic!("{purl} not found"))["found_at"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // Composer 2.5's own installed.json, from path repositories.
    assert_eq!(
        found_at("pkg:composer/monolog/monolog@2.9.1"),
        "/srv/php/app/vendor/composer/installed.json"
    );
    found_at("pkg:composer/psr/log@1.1.4");
    found_at("pkg:composer/symfony/polyfill-mbstring@1.27.0");
    // Syft's Composer 1 fixture and PECL registry file.
    found_at("pkg:composer/asm89/stack-cors@1.3.0");
    found_at("pkg:pecl/memcached@3.2.0");
    // Debian's gems: rubygems-integration, Ruby's default gems, and the
    // arch-specific folder of a gem with a native extension.
    let gems = package_ids(&ours["packages"], Some(&["gem"]));
    assert!(gems.len() >= 50, "only {} gems", gems.len());
    for (name, folder) in [
        (
            "sinatra",
            "/usr/share/rubygems-integration/all/specifications/",
        ),
        (
            "rack",
            "/usr/share/rubygems-integration/all/specifications/",
        ),
        ("json", "/usr/lib/ruby/gems/3.1.0/specifications/default/"),
        (
            "nokogiri",
            "/usr/lib/x86_64-linux-gnu/rubygems-integration/3.1.0/specifications/",
        ),
    ] {
        let package = ours["packages"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["type"] == "gem" && p["name"] == name)
            .unwrap_or_else(|| panic!("gem {name}: {gems:#?}"));
        let at = package["found_at"].as_str().unwrap();
        assert!(at.starts_with(folder), "{name} at {at}");
        assert!(
            package["purl"]
                .as_str()
                .unwrap()
                .starts_with(&format!("pkg:gem/{name}@")),
            "{package}"
        );
    }
    // PEAR's own registry (no `.channel.*` folder) and the .NET folder
    // (a deps.json, non-PE .dll/.exe) give nothing, to either.
    assert!(
        !ours["packages"]
            .as_array()
            .unwrap()
            .iter()
            .any(|p| p["type"] == "dotnet"
                || p["found_at"]
                    .as_str()
                    .is_some_and(|f| f.starts_with("/srv/dotnet")
                        || f.starts_with("/usr/share/php/.registry/pear"))),
        "{ours}"
    );
}

/// Syft's fixtures in one root folder, through `pare sbom dir:ROOT`; Syft
/// is asked for its image catalogers, which report what is installed, as
/// pare does for folders and images alike. (Not .NET deps files: pare
/// reads them for folders, as Syft's directory scan does; pare-sbom's
/// `syft_fixtures_dotnet` compares those with `syft dir:`.)
#[test]
fn sbom_ruby_php_fixtures_in_a_root_folder_match_syft() {
    require!(tool("syft"));
    let fixtures =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../pare-sbom/tests/data/syft-fixtures");
    let root = tempfile::tempdir().unwrap();
    let place = |from: &str, to: &str| {
        let target = root.path().join(to);
        std::fs::create_dir_all(target.parent().unwrap()).unwrap();
        std::fs::copy(fixtures.join(from), &target).unwrap_or_else(|e| panic!("{from}: {e}"));
    };
    place(
        "ruby/bundler.gemspec",
        "var/lib/gems/3.1.0/specifications/bundler-2.1.4.gemspec",
    );
    place("ruby/bundler.gemspec", "srv/app/bundler.gemspec");
    place(
        "php/vendor/composer_1/installed.json",
        "srv/one/vendor/composer/installed.json",
    );
    place(
        "php/vendor/composer_2/installed.json",
        "srv/two/vendor/composer/installed.json",
    );
    place(
        "php/memcached.reg",
        "usr/local/lib/php/.registry/.channel.pecl.php.net/memcached.reg",
    );

    let dir = format!("dir:{}", root.path().display());
    let ours: Value = serde_json::from_str(&pare_ok(&["sbom", "--format", "json", &dir])).unwrap();
    let theirs: Value = serde_json::from_slice(
        &syft(&[
            "-q",
            "--override-default-catalogers",
            "image",
            &dir,
            "-o",
            "json",
        ])
        .stdout,
    )
    .unwrap();
    let ours = package_ids(&ours["packages"], Some(&KINDS));
    assert_same(
        "fixtures",
        &ours,
        &package_ids(&theirs["artifacts"], Some(&KINDS)),
    );
    for purl in [
        "pkg:gem/bundler@2.1.4",
        "pkg:composer/asm89/stack-cors@1.3.0",
        "pkg:pecl/memcached@3.2.0",
    ] {
        assert!(ours.iter().any(|p| p.3 == purl), "{purl}: {ours:#?}");
    }
}
