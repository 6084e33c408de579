//! Syft's own Ruby and PHP cataloger fixtures (copied byte for byte
//! into `tests/data/syft-fixtures`, origin in `tests/data/README.md`), plus
//! variants built here, placed in root folders and cataloged by pare both
//! as the folder and as an image packed from it; the packages (type, name,
//! version, PURL) must be those Syft 1.18 reports for that image, every
//! type included, apart from the differences listed in [`ALLOWED`].
//!
//! Syft is compared on the image, not the folder: for a folder Syft runs
//! its *declared* catalogers (`Gemfile.lock`, any `*.gemspec`,
//! `composer.lock`) instead of its *installed* ones, while pare reports
//! what is installed in either. (.NET, whose deps files pare reads for
//! folders as Syft does, is compared per kind of source in
//! `syft_fixtures_dotnet.rs`.) A missing `syft` skips the
//! comparison locally and fails it under `CI=true`; what does not need Syft
//! is checked anyway.

use std::collections::BTreeSet;

mod common;

use common::{
    Compared, Id, Src,
    Src::{Fixture, Link},
    Text, build, id,
};

/// Known differences from Syft: (tree, PURL, reason). None today.
const ALLOWED: &[(&str, &str, &str)] = &[];

const GEMS: &str = "usr/share/rubygems-integration/all/specifications";

fn ruby_upstream() -> Vec<(String, Src)> {
    vec![
        (
            "usr/lib/ruby/gems/3.1.0/specifications/default/bundler-2.1.4.gemspec".into(),
            Fixture("ruby/bundler.gemspec"),
        ),
        // Not below a `specifications` folder: a declaration, not read.
        (
            "srv/app/app.gemspec".into(),
            Fixture("ruby/bundler.gemspec"),
        ),
        // `bogus`: no name, no package.
        (
            format!("{GEMS}/root.gemspec"),
            Fixture("ruby/glob-paths/specifications/root.gemspec"),
        ),
        (
            format!("{GEMS}/pkg/nested.gemspec"),
            Fixture("ruby/glob-paths/specifications/pkg/nested.gemspec"),
        ),
    ]
}

/// A gemspec as RubyGems writes them (`Gem::Specification#to_ruby`), with
/// `BODY` inserted.
fn gemspec(body: &str) -> Src {
    Text(format!(
        "# -*- encoding: utf-8 -*-\n# stub: x 1 ruby lib\n\nGem::Specification.new do |s|\n{body}\n  s.require_paths = [\"lib\".freeze]\n  s.rubygems_version = \"3.3.15\".freeze\n  s.summary = \"A gem\".freeze\nend\n"
    ))
}

fn ruby_variants() -> Vec<(String, Src)> {
    let long = "x".repeat(70_000);
    vec![
        (
            format!("{GEMS}/rack-2.2.4.gemspec"),
            gemspec(
                "  s.name = \"rack\".freeze\n  s.version = \"2.2.4\"\n  s.licenses = [\"MIT\".freeze]\n  s.authors = [\"Leah Neukirchen\".freeze]",
            ),
        ),
        (
            "usr/lib/x86_64-linux-gnu/rubygems-integration/3.1.0/specifications/nokogiri-1.13.10.gemspec".into(),
            gemspec("  s.name = \"nokogiri\".freeze\n  s.version = \"1.13.10\"\n  s.platform = \"x86_64-linux\".freeze"),
        ),
        (
            "var/lib/gems/3.1.0/specifications/single-0.1.gemspec".into(),
            gemspec("s.name='single_quotes'\r\ns.version='0.1.0.pre'\r"),
        ),
        (
            "var/lib/gems/3.1.0/specifications/nover.gemspec".into(),
            gemspec("  s.name = \"nover\".freeze"),
        ),
        (
            "var/lib/gems/3.1.0/specifications/noname.gemspec".into(),
            gemspec("  s.version = \"1.0\""),
        ),
        (
            "var/lib/gems/3.1.0/specifications/escaped.gemspec".into(),
            gemspec("  s.name = \"caf\\u00E9\".freeze\n  s.version = \"1.0+local\""),
        ),
        (
            "var/lib/gems/3.1.0/specifications/quoted.gemspec".into(),
            gemspec("  s.name = \"odd\" if true # \"x\"\n  s.version = \"2\".freeze if s.respond_to? :version="),
        ),
        // The version after a line Go's scanner cannot read: lost.
        (
            "var/lib/gems/3.1.0/specifications/long-1.0.gemspec".into(),
            gemspec(&format!("  s.name = \"long\"\n  s.files = [\"{long}\"]\n  s.version = \"1.0\"")),
        ),
        (
            "var/lib/gems/3.1.0/specifications/later-1.0.gemspec".into(),
            gemspec("  s.name = \"first\"\n  s.name = \"later\"\n  s.version = \"1.0\"\n  s.version = \"\""),
        ),
    ]
}

fn php_upstream() -> Vec<(String, Src)> {
    vec![
        (
            "srv/app1/vendor/composer/installed.json".into(),
            Fixture("php/vendor/composer_1/installed.json"),
        ),
        (
            "srv/app2/vendor/composer/installed.json".into(),
            Fixture("php/vendor/composer_2/installed.json"),
        ),
        (
            "srv/bogus/vendor/composer/installed.json".into(),
            Fixture("php/glob-paths/src/installed.json"),
        ),
        (
            "usr/share/php/.registry/.channel.pecl.php.net/memcached.reg".into(),
            Fixture("php/memcached.reg"),
        ),
        (
            "usr/local/lib/php/.registry/.channel.pecl.php.net/memcached.reg".into(),
            Fixture("php/glob-paths/php/.registry/.channel.pecl.php.net/memcached.reg"),
        ),
        // Not PECL's channel folder: not read.
        (
            "usr/share/php/.registry/memcached.reg".into(),
            Fixture("php/memcached.reg"),
        ),
    ]
}

fn php_variants() -> Vec<(String, Src)> {
    let at = |app: &str| format!("srv/{app}/vendor/composer/installed.json");
    let text = |s: &str| Text(s.to_string());
    vec![
        (
            at("multi"),
            text(
                r#"{"packages": [{"name": "a/one", "version": "1.0.0"}]} [{"name": "b/two", "version": "v2.0.1", "license": ["MIT"]}]"#,
            ),
        ),
        (
            at("shapes"),
            text(
                r#"{"packages": [{"name": "Vendor/Upper", "version": "1.0"}, {"name": "solo", "version": "3"}, {"name": "a/b/c", "version": "dev-main"}, {"name": "nover/pkg"}, {"version": "9"}, null, {"name": "x/y", "version": "1.0+x", "authors": [{"name": "me", "role": 1}], "extra": {"k": [1]}}], "dev": true, "dev-package-names": []}"#,
            ),
        ),
        // One field of the wrong type loses the whole file.
        (
            at("string-license"),
            text(
                r#"{"packages": [{"name": "ok/ok", "version": "1"}, {"name": "bad/license", "version": "1", "license": "MIT"}]}"#,
            ),
        ),
        (
            at("string-authors"),
            text(r#"[{"name": "bad/authors", "version": "1", "authors": ["me"]}]"#),
        ),
        (
            at("trailing"),
            text(r#"{"packages": [{"name": "t/t", "version": "1"}]} x"#),
        ),
        (
            "usr/share/php/.registry/.channel.pecl.php.net/apcu.reg".into(),
            text(
                r#"a:3:{s:4:"name";s:4:"apcu";s:7:"version";a:2:{s:7:"release";s:6:"5.1.22";s:3:"api";s:5:"5.1.0";}s:7:"license";a:1:{s:8:"_content";s:7:"PHP 3.01";}}"#,
            ),
        ),
        (
            "usr/share/php/.registry/.channel.pecl.php.net/nover.reg".into(),
            text(r#"a:2:{s:4:"name";s:5:"nover";s:7:"version";s:3:"1.0";}"#),
        ),
        (
            "usr/share/php/.registry/.channel.pecl.php.net/nameless.reg".into(),
            text(r#"a:1:{s:7:"version";a:1:{s:7:"release";s:1:"1";}}"#),
        ),
    ]
}

/// Files reached through symlinks: Syft's globs match the links' paths,
/// and each file counts once, at its real path.
fn linked() -> Vec<(String, Src)> {
    let specs = "var/lib/gems/3.1.0/specifications";
    vec![
        (
            "opt/gems/real.gemspec".into(),
            gemspec("  s.name = \"through-folder\"\n  s.version = \"1.0\""),
        ),
        (format!("{specs}/folder"), Link("/opt/gems")),
        (
            "opt/one/target.gemspec".into(),
            gemspec("  s.name = \"through-file\"\n  s.version = \"2.0\""),
        ),
        (
            format!("{specs}/file.gemspec"),
            Link("/opt/one/target.gemspec"),
        ),
        (
            format!("{specs}/again.gemspec"),
            Link("../../../../../opt/one/target.gemspec"),
        ),
        (
            format!("{specs}/dangling.gemspec"),
            Link("/nowhere.gemspec"),
        ),
        (
            "srv/real/vendor/composer/installed.json".into(),
            Text(r#"[{"name": "linked/pkg", "version": "1.0"}]"#),
        ),
        (
            "srv/app/vendor/composer/installed.json".into(),
            Link("/srv/real/vendor/composer/installed.json"),
        ),
        ("srv/vendor-link".into(), Link("/srv/real/vendor")),
    ]
}

fn compare(files: &[(String, Src)]) -> Compared {
    let root = tempfile::tempdir().unwrap();
    build(root.path(), files);
    common::compare_root(root.path(), |_| true)
}

/// Checks pare against Syft for `tree`, allowing only [`ALLOWED`].
fn assert_parity(tree: &str, compared: &Compared) {
    common::assert_parity(tree, compared, ALLOWED);
}

fn set(ids: &[Id]) -> BTreeSet<Id> {
    ids.iter().cloned().collect()
}

#[test]
fn ruby_fixtures_match_syft() {
    let c = compare(&ruby_upstream());
    assert_parity("ruby-upstream", &c);
    assert_eq!(
        c.pare,
        set(&[id("gem", "bundler", "2.1.4", "pkg:gem/bundler@2.1.4")])
    );
    assert!(
        c.warnings.iter().any(|w| w.contains("root.gemspec")),
        "{:?}",
        c.warnings
    );
}

#[test]
fn ruby_variants_match_syft() {
    let c = compare(&ruby_variants());
    assert_parity("ruby-variants", &c);
    let names: BTreeSet<&str> = c.pare.iter().map(|p| p.1.as_str()).collect();
    for name in [
        "rack",
        "nokogiri",
        "single_quotes",
        "nover",
        "café",
        "odd\" if true # \"x",
        "long",
        "later",
    ] {
        assert!(names.contains(name), "{name}: {:#?}", c.pare);
    }
    assert!(
        c.pare
            .contains(&id("gem", "long", "UNKNOWN", "pkg:gem/long"))
    );
    assert!(c.pare.contains(&id(
        "gem",
        "café",
        "1.0+local",
        "pkg:gem/caf%C3%A9@1.0%2Blocal"
    )));
}

#[test]
fn php_fixtures_match_syft() {
    let c = compare(&php_upstream());
    assert_parity("php-upstream", &c);
    for want in [
        id(
            "php-composer",
            "asm89/stack-cors",
            "1.3.0",
            "pkg:composer/asm89/stack-cors@1.3.0",
        ),
        id("php-pecl", "memcached", "3.2.0", "pkg:pecl/memcached@3.2.0"),
    ] {
        assert!(c.pare.contains(&want), "{want:?} not in {:#?}", c.pare);
    }
    for bogus in ["srv/bogus", "usr/local/lib/php"] {
        assert!(
            c.warnings.iter().any(|w| w.contains(bogus)),
            "{bogus}: {:?}",
            c.warnings
        );
    }
}

#[test]
fn php_variants_match_syft() {
    let c = compare(&php_variants());
    assert_parity("php-variants", &c);
    let want = set(&[
        id("php-composer", "a/one", "1.0.0", "pkg:composer/a/one@1.0.0"),
        id(
            "php-composer",
            "b/two",
            "v2.0.1",
            "pkg:composer/b/two@v2.0.1",
        ),
        id(
            "php-composer",
            "Vendor/Upper",
            "1.0",
            "pkg:composer/Vendor/Upper@1.0",
        ),
        id("php-composer", "solo", "3", "pkg:composer/solo@3"),
        id(
            "php-composer",
            "a/b/c",
            "dev-main",
            "pkg:composer/a/b-c@dev-main",
        ),
        id(
            "php-composer",
            "nover/pkg",
            "UNKNOWN",
            "pkg:composer/nover/pkg",
        ),
        id("php-composer", "x/y", "1.0+x", "pkg:composer/x/y@1.0%2Bx"),
        id("php-pecl", "apcu", "5.1.22", "pkg:pecl/apcu@5.1.22"),
        id("php-pecl", "nover", "UNKNOWN", "pkg:pecl/nover"),
    ]);
    assert_eq!(c.pare, want);
}

#[test]
fn files_through_symlinks_match_syft() {
    let c = compare(&linked());
    assert_parity("linked", &c);
    assert_eq!(
        c.pare,
        set(&[
            id("gem", "through-folder", "1.0", "pkg:gem/through-folder@1.0"),
            id("gem", "through-file", "2.0", "pkg:gem/through-file@2.0"),
            id(
                "php-composer",
                "linked/pkg",
                "1.0",
                "pkg:composer/linked/pkg@1.0"
            ),
        ])
    );
}

/// Every ruby and php fixture file is used by a tree above.
#[test]
fn every_fixture_is_used() {
    let mut used: BTreeSet<String> = BTreeSet::new();
    for (_, src) in ruby_upstream()
        .into_iter()
        .chain(ruby_variants())
        .chain(php_upstream())
        .chain(php_variants())
    {
        if let Fixture(f) = src {
            used.insert(f.to_string());
        }
    }
    assert_eq!(used, common::fixture_files(&["ruby", "php"]));
}
