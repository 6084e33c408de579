//! PHP packages, as Syft 1.18's two PHP catalogers that run on images find
//! them (anchore/syft v1.18.1, `syft/pkg/cataloger/php/`;
//! `internal/task/package_tasks.go` tags them for images):
//!
//! - `php-composer-installed-cataloger`, glob `**/installed.json`
//!   (`parse_installed_json.go`): Composer's record of what it installed in
//!   `vendor/composer/installed.json`, in either shape: Composer 1's bare
//!   array of packages, Composer 2's `{"packages": [...]}`. The file may
//!   hold several JSON documents; every document must decode into Syft's
//!   structs (`pkg.PhpComposerInstalledEntry`) or the whole file gives
//!   nothing: `"license": "MIT"` (a string, not a list) or `"authors":
//!   ["x"]` lose every package of the file. Type `php-composer`, PURL
//!   `pkg:composer/VENDOR/NAME@VERSION` (`package.go` `packageURL`: a name
//!   without `/` has no vendor, one with more than one `/` joins the rest
//!   with `-`).
//! - `php-pecl-serialized-cataloger`, glob
//!   `**/php/.registry/.channel.*/*.reg` (`parse_pecl_serialized.go`):
//!   what `pecl install` records, a PHP-serialized array; the name is its
//!   `name` string, the version `version.release`, the licence
//!   `license._content`. Type `php-pecl`, PURL `pkg:pecl/NAME@VERSION`.
//!
//! Files are found through symlinks too, as Syft's globs find them
//! ([`crate::ruby::located`]); a PECL registry file is captured only at a
//! real path the glob matches.
//!
//! Then Syft's compliance rules: no name, no package; no version, version
//! `UNKNOWN` and a PURL without one. `composer.lock` is a declaration, read
//! by Syft only for directory scans, and not by pare.

pub mod serialized;

use pare_image::Flattened;
use pare_image::paths::{file_name, parent};
use serde_json::Value;

use crate::model::{Catalog, Distro, Package, PackageType};
use crate::npm::gojson::{self, Shape};
use crate::purl;
use crate::read::{layer_of, read_bytes, read_text};

/// Syft's `PhpComposerExternalReference`.
const REFERENCE: Shape = Shape::Struct(&[
    ("type", Shape::Str),
    ("url", Shape::Str),
    ("reference", Shape::Str),
    ("shasum", Shape::Str),
]);

/// Syft's `PhpComposerAuthors` (a list of these is checked by hand:
/// [`Shape`] has no list of structs).
const AUTHOR: Shape = Shape::Struct(&[
    ("name", Shape::Str),
    ("email", Shape::Str),
    ("homepage", Shape::Str),
]);

/// Syft's `parsedInstalledData`: `PhpComposerInstalledEntry` and its
/// licence list.
const ENTRY: Shape = Shape::Struct(&[
    ("name", Shape::Str),
    ("version", Shape::Str),
    ("source", REFERENCE),
    ("dist", REFERENCE),
    ("require", Shape::StrMap),
    ("provide", Shape::StrMap),
    ("require-dev", Shape::StrMap),
    ("suggest", Shape::StrMap),
    ("license", Shape::StrList),
    ("type", Shape::Str),
    ("notification-url", Shape::Str),
    ("bin", Shape::StrList),
    ("authors", Shape::Any),
    ("description", Shape::Str),
    ("homepage", Shape::Str),
    ("keywords", Shape::StrList),
    ("time", Shape::Str),
]);

pub fn is_installed_json(path: &str) -> bool {
    file_name(path) == "installed.json"
}

/// Syft's glob `**/php/.registry/.channel.*/*.reg`.
pub fn is_pecl_registry(path: &str) -> bool {
    let channel = parent(path);
    let registry = parent(channel);
    file_name(path).ends_with(".reg")
        && file_name(channel).starts_with(".channel.")
        && file_name(registry) == ".registry"
        && file_name(parent(registry)) == "php"
}

pub fn wants(path: &str) -> bool {
    is_installed_json(path) || is_pecl_registry(path)
}

/// One package entry, as much of it as the catalog keeps.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Entry {
    pub name: String,
    pub version: String,
    pub licenses: Vec<String>,
}

fn entry_fits(value: &Value) -> bool {
    if !gojson::fits(value, ENTRY) {
        return false;
    }
    let authors = value
        .as_object()
        .and_then(|o| gojson::field(o, "authors"))
        .unwrap_or(&Value::Null);
    match authors {
        Value::Null => true,
        Value::Array(list) => list.iter().all(|a| gojson::fits(a, AUTHOR)),
        _ => false,
    }
}

fn entry(value: &Value) -> Entry {
    let empty = serde_json::Map::new();
    let object = value.as_object().unwrap_or(&empty);
    let licenses = match gojson::field(object, "license") {
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(Value::as_str)
            .filter(|l| !l.trim().is_empty())
            .map(str::to_string)
            .collect(),
        _ => Vec::new(),
    };
    Entry {
        name: gojson::string(object, "name"),
        version: gojson::string(object, "version"),
        licenses,
    }
}

/// The entries of one JSON document: Composer 2's object, else Composer
/// 1's array (Syft's `installedJSONComposerV2.UnmarshalJSON`).
fn document(value: &Value) -> Result<Vec<Entry>, String> {
    let list_of_entries = |list: &[Value]| {
        list.iter()
            .all(entry_fits)
            .then(|| list.iter().map(entry).collect())
    };
    match value {
        // Syft dereferences the nil this decodes to and panics: its whole
        // composer cataloger fails. pare loses the file.
        Value::Null => Err("a null document".into()),
        Value::Object(object) => match gojson::field(object, "packages") {
            None | Some(Value::Null) => Ok(Vec::new()),
            Some(Value::Array(list)) => list_of_entries(list)
                .ok_or_else(|| "a package has a field of the wrong type".into()),
            Some(_) => Err("`packages` is not a list".into()),
        },
        Value::Array(list) => {
            list_of_entries(list).ok_or_else(|| "a package has a field of the wrong type".into())
        }
        _ => Err("neither a list of packages nor an object with one".into()),
    }
}

/// Every package of an `installed.json`, or why the file gives none.
pub fn parse_installed(text: &str) -> Result<Vec<Entry>, String> {
    let mut all = Vec::new();
    for document_value in serde_json::Deserializer::from_str(text).into_iter::<Value>() {
        let value = document_value.map_err(|e| format!("invalid JSON: {e}"))?;
        all.extend(document(&value)?);
    }
    Ok(all)
}

/// A PECL registry file's package; `Err` when its `name` is not a string.
pub fn parse_pecl(bytes: &[u8]) -> Result<Entry, String> {
    use serialized::{Key, Value as Php};
    let top = serialized::associative_array(bytes)?;
    let key = |k: &str| Key::Str(k.to_string());
    let Some(Php::Str(name)) = top.get(&key("name")) else {
        return Err("no package name".into());
    };
    // Syft's `readStruct`: each step must be a map, the last a string.
    let nested = |outer: &str, inner: &str| match top.get(&key(outer)) {
        Some(Php::Map(m)) => match m.get(&key(inner)) {
            Some(Php::Str(s)) => s.clone(),
            _ => String::new(),
        },
        _ => String::new(),
    };
    let license = nested("license", "_content");
    Ok(Entry {
        name: name.clone(),
        version: nested("version", "release"),
        licenses: if license.trim().is_empty() {
            Vec::new()
        } else {
            vec![license]
        },
    })
}

/// The PURL Syft writes for a Composer package.
pub fn composer_purl(name: &str, version: &str) -> String {
    let fields: Vec<&str> = name.split('/').collect();
    let (vendor, short) = match fields.as_slice() {
        [only] => (None, only.to_string()),
        [vendor, short] => (Some(*vendor), short.to_string()),
        [vendor, rest @ ..] => (Some(*vendor), rest.join("-")),
        [] => (None, String::new()),
    };
    purl::build("composer", vendor, &short, version, &[])
}

impl Entry {
    /// (name, version, PURL) after Syft's compliance rules; `None` when
    /// it drops the package.
    fn identity(&self, purl: fn(&str, &str) -> String) -> Option<(String, String, String)> {
        crate::npm::compliant_identity(&self.name, &self.version, purl)
    }

    pub fn composer_identity(&self) -> Option<(String, String, String)> {
        self.identity(composer_purl)
    }

    pub fn pecl_identity(&self) -> Option<(String, String, String)> {
        self.identity(|name, version| purl::build("pecl", None, name, version, &[]))
    }
}

pub fn catalog(flat: &Flattened, _distro: Option<&Distro>, out: &mut Catalog) {
    let name_may_match = |name: &str| name == "installed.json" || name.ends_with(".reg");
    for (access, path) in crate::ruby::located::files(flat, name_may_match, wants) {
        let (entries, kind) = if is_installed_json(&access) {
            let Some(text) = read_text(flat, &path, out) else {
                continue;
            };
            match parse_installed(&text) {
                Ok(entries) => (entries, PackageType::PhpComposer),
                Err(e) => {
                    out.warnings.push(format!("/{path}: {e}"));
                    continue;
                }
            }
        } else {
            let Some(bytes) = read_bytes(flat, &path, out) else {
                continue;
            };
            match parse_pecl(&bytes) {
                Ok(entry) => (vec![entry], PackageType::PhpPecl),
                Err(e) => {
                    out.warnings.push(format!("/{path}: {e}"));
                    continue;
                }
            }
        };
        for entry in entries {
            let identity = match kind {
                PackageType::PhpPecl => entry.pecl_identity(),
                _ => entry.composer_identity(),
            };
            let Some(identity) = identity else {
                continue;
            };
            out.packages.push(Package::declared_in(
                kind,
                identity,
                entry.licenses,
                format!("/{path}"),
                layer_of(flat, &path),
            ));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wanted_paths() {
        for (path, want) in [
            ("srv/app/vendor/composer/installed.json", true),
            ("installed.json", true),
            ("srv/app/composer.lock", false),
            ("srv/app/vendor/composer/installed.php", false),
            (
                "usr/share/php/.registry/.channel.pecl.php.net/memcached.reg",
                true,
            ),
            ("usr/local/lib/php/.registry/.channel.x/.reg", true),
            ("usr/share/php/.registry/pear.reg", false),
            (
                "usr/share/php/.registry/.channel.pecl.php.net/x.reg.bak",
                false,
            ),
            (
                "usr/share/pecl/.registry/.channel.pecl.php.net/x.reg",
                false,
            ),
            ("php/.registry/channel.pecl.php.net/x.reg", false),
        ] {
            assert_eq!(wants(path), want, "{path}");
        }
    }

    #[test]
    fn both_shapes_and_several_documents() {
        let v1 = r#"[{"name": "a/b", "version": "1.0.0", "license": ["MIT"]}]"#;
        let v2 = r#"{"packages": [{"name": "a/b", "version": "1.0.0", "license": ["MIT"]}], "dev": true, "dev-package-names": []}"#;
        let want = vec![Entry {
            name: "a/b".into(),
            version: "1.0.0".into(),
            licenses: vec!["MIT".into()],
        }];
        assert_eq!(parse_installed(v1).unwrap(), want);
        assert_eq!(parse_installed(v2).unwrap(), want);
        assert_eq!(
            parse_installed(&format!("{v1}\n{v2}")).unwrap().len(),
            2,
            "one package per document"
        );
        // Empty and package-less documents give nothing, without error.
        for text in ["", "{}", r#"{"packages": null}"#, "[]", "[null]"] {
            assert_eq!(
                parse_installed(text)
                    .unwrap()
                    .iter()
                    .filter_map(Entry::composer_identity)
                    .count(),
                0,
                "{text}"
            );
        }
    }

    #[test]
    fn a_field_of_the_wrong_type_loses_the_file() {
        for text in [
            r#"[{"name": "a/b", "version": "1", "license": "MIT"}]"#,
            r#"{"packages": [{"name": "a/b", "version": 1}]}"#,
            r#"{"packages": [{"name": "a/b", "authors": ["me"]}]}"#,
            r#"{"packages": [{"name": "a/b", "authors": [{"name": 1}]}]}"#,
            r#"{"packages": [{"name": "a/b", "source": "git"}]}"#,
            r#"{"packages": [{"name": "a/b", "require": {"php": 7}}]}"#,
            r#"{"packages": {"a/b": {}}}"#,
            r#"{"packages": [{"name": "ok", "version": "1"}]} [{"name": 2}]"#,
            r#"{"packages": []} trailing"#,
            "null",
            "\"x\"",
            "bogus installed.json",
        ] {
            assert!(parse_installed(text).is_err(), "{text}");
        }
        // What Go's decoder accepts: nulls, unknown keys, keys of any case.
        for text in [
            r#"{"packages": [{"name": "a/b", "authors": [null, {"name": "x", "role": 1}], "extra": {"x": [1]}, "time": null}]}"#,
            r#"{"PACKAGES": [{"NAME": "a/b", "Version": "1"}]}"#,
        ] {
            let all = parse_installed(text).unwrap();
            assert_eq!(all[0].name, "a/b", "{text}");
        }
    }

    #[test]
    fn composer_purls() {
        for (name, version, want) in [
            (
                "asm89/stack-cors",
                "1.3.0",
                "pkg:composer/asm89/stack-cors@1.3.0",
            ),
            ("monolog", "2.0", "pkg:composer/monolog@2.0"),
            ("a/b/c/d", "v1", "pkg:composer/a/b-c-d@v1"),
            ("x/y", "dev-main", "pkg:composer/x/y@dev-main"),
            ("x/y", "1.0+build", "pkg:composer/x/y@1.0%2Bbuild"),
        ] {
            assert_eq!(composer_purl(name, version), want);
        }
        let entry = |name: &str, version: &str| Entry {
            name: name.into(),
            version: version.into(),
            licenses: Vec::new(),
        };
        assert_eq!(
            entry("a/b", "").composer_identity().unwrap(),
            ("a/b".into(), "UNKNOWN".into(), "pkg:composer/a/b".into())
        );
        // Syft stubs a blank version but keeps the PURL it made from it.
        assert_eq!(
            entry("a/b", " ").composer_identity().unwrap(),
            (
                "a/b".into(),
                "UNKNOWN".into(),
                "pkg:composer/a/b@%20".into()
            )
        );
        assert_eq!(entry("", "1").composer_identity(), None);
    }

    #[test]
    fn pecl_registry() {
        let reg = br#"a:5:{s:4:"name";s:9:"memcached";s:4:"date";s:10:"2022-01-11";s:4:"time";s:8:"15:23:47";s:7:"version";a:2:{s:7:"release";s:5:"3.2.0";s:3:"api";s:5:"3.2.0";}s:7:"license";a:2:{s:7:"attribs";a:1:{s:3:"uri";s:26:"http://www.php.net/license";}s:8:"_content";s:11:"PHP License";}}"#;
        let entry = parse_pecl(reg).unwrap();
        assert_eq!(
            entry.pecl_identity().unwrap(),
            (
                "memcached".into(),
                "3.2.0".into(),
                "pkg:pecl/memcached@3.2.0".into()
            )
        );
        assert_eq!(entry.licenses, ["PHP License"]);
        // (registry text, name or an error, version)
        for (text, name, version) in [
            (&br#"a:1:{s:4:"name";s:1:"x";}"#[..], Some("x"), "UNKNOWN"),
            (
                br#"a:2:{s:4:"name";s:1:"x";s:7:"version";s:3:"1.0";}"#,
                Some("x"),
                "UNKNOWN",
            ),
            (
                br#"a:2:{s:4:"name";s:1:"x";s:7:"version";a:1:{s:7:"release";i:1;}}"#,
                Some("x"),
                "UNKNOWN",
            ),
            (br#"a:1:{s:4:"name";i:5;}"#, None, ""),
            (br#"a:1:{s:4:"NAME";s:1:"x";}"#, None, ""),
            (b"bogus", None, ""),
        ] {
            match (parse_pecl(text), name) {
                (Ok(entry), Some(name)) => {
                    let id = entry.pecl_identity().unwrap();
                    assert_eq!((id.0.as_str(), id.1.as_str()), (name, version));
                }
                (Err(_), None) => {}
                (got, _) => panic!("{}: {got:?}", String::from_utf8_lossy(text)),
            }
        }
    }
}
