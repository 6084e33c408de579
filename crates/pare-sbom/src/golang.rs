//! Go modules compiled into binaries, from the build info the Go linker
//! embeds (found by [`crate::executables`]). Packages follow Syft 1.18:
//! the main module (its `(devel)` version replaced from `-ldflags`, then
//! from a version string in the binary, then from VCS settings), every
//! dependency (replacements applied) and the Go standard library as
//! `stdlib`.

use regex::bytes::Regex;

use crate::executables::GoEmbedded;
use crate::model::{Package, PackageType};
use crate::purl;

const DEVEL: &str = "(devel)";

/// One module line of the build info.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Module {
    pub path: String,
    pub version: String,
    pub sum: String,
    pub replace: Option<Box<Module>>,
}

/// Go's `runtime/debug.BuildInfo`, parsed from the module info text.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct BuildInfo {
    /// The main package's import path.
    pub path: String,
    pub main: Option<Module>,
    pub deps: Vec<Module>,
    pub settings: Vec<(String, String)>,
}

impl BuildInfo {
    pub fn setting(&self, key: &str) -> Option<&str> {
        self.settings
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.as_str())
    }
}

/// Parses the module info text as Go's `debug.ParseBuildInfo` does
/// (lines that do not parse are skipped rather than failing the binary).
pub fn parse_modinfo(text: &str) -> BuildInfo {
    let mut info = BuildInfo::default();
    // Which module a `=>` line replaces: the main one or the last dep.
    let mut last_is_main = false;
    for line in text.lines() {
        let Some((kind, rest)) = line.split_once('\t') else {
            continue;
        };
        let module = || {
            let mut fields = rest.split('\t');
            Module {
                path: fields.next().unwrap_or_default().to_string(),
                version: fields.next().unwrap_or_default().to_string(),
                sum: fields.next().unwrap_or_default().to_string(),
                replace: None,
            }
        };
        match kind {
            "path" => info.path = rest.to_string(),
            "mod" => {
                info.main = Some(module());
                last_is_main = true;
            }
            "dep" => {
                info.deps.push(module());
                last_is_main = false;
            }
            "=>" => {
                let target = if last_is_main {
                    info.main.as_mut()
                } else {
                    info.deps.last_mut()
                };
                if let Some(target) = target {
                    target.replace = Some(Box::new(module()));
                }
            }
            "build" => {
                if let Some((key, value)) = split_setting(rest) {
                    info.settings.push((key, value));
                }
            }
            _ => {}
        }
    }
    info
}

/// `key=value`, either side possibly Go-quoted.
fn split_setting(text: &str) -> Option<(String, String)> {
    let (key, value) = if text.starts_with('"') {
        let (key, used) = unquote_prefix(text)?;
        (key, text[used..].strip_prefix('=')?)
    } else {
        let (key, value) = text.split_once('=')?;
        (key.to_string(), value)
    };
    let value = if value.starts_with('"') {
        unquote_prefix(value)?.0
    } else {
        value.to_string()
    };
    Some((key, value))
}

/// The Go-quoted string at the start of `text`, and the bytes it took.
fn unquote_prefix(text: &str) -> Option<(String, usize)> {
    let mut out = String::new();
    let mut chars = text.char_indices().skip(1);
    while let Some((at, c)) = chars.next() {
        match c {
            '"' => return Some((out, at + 1)),
            '\\' => {
                let (_, escaped) = chars.next()?;
                out.push(match escaped {
                    'n' => '\n',
                    't' => '\t',
                    'r' => '\r',
                    other => other,
                });
            }
            other => out.push(other),
        }
    }
    None
}

/// The packages Syft reports for one Go binary at `path` (absolute).
pub fn packages(embedded: &GoEmbedded, path: &str, layer: Option<usize>) -> Vec<Package> {
    let mut info = parse_modinfo(&embedded.modinfo);
    let go_version = embedded
        .go_version
        .split(' ')
        .next()
        .unwrap_or_default()
        .to_string();
    let arch = info.setting("GOARCH").map(str::to_string);
    let missing_main = match &info.main {
        None => !info.path.is_empty(),
        Some(main) => main.path == "command-line-arguments" && main.version.is_empty(),
    };
    if missing_main {
        info.main = Some(main_from_path(&mut info));
    }
    let package = |module: &Module, version: String| {
        let module = module.replace.as_deref().unwrap_or(module);
        Package::in_binary(
            PackageType::GoModule,
            module.path.clone(),
            version.clone(),
            package_url(&module.path, &version),
            module_cpes(&module.path, &version),
            Vec::new(),
            arch.clone(),
            path,
            layer,
        )
    };
    let mut out: Vec<Package> = info
        .deps
        .iter()
        .filter(|dep| !dep.replace.as_deref().unwrap_or(dep).path.is_empty())
        .map(|dep| package(dep, dep.replace.as_deref().unwrap_or(dep).version.clone()))
        .collect();
    if let Some(main) = info.main.as_ref().filter(|m| !m.path.is_empty()) {
        let version = main.replace.as_deref().unwrap_or(main).version.clone();
        let version = if version == DEVEL {
            main_version(&info, &main.path, embedded.version_in_contents.as_deref())
                .map(|v| ensure_v(&v))
                .unwrap_or(version)
        } else {
            version
        };
        out.push(package(main, version));
    }
    if !out.is_empty()
        && let Some(cpe) = stdlib_cpe(&go_version)
    {
        let purl = purl::build(
            "golang",
            None,
            "stdlib",
            go_version.trim_start_matches("go"),
            &[],
        );
        out.push(Package::in_binary(
            PackageType::GoModule,
            "stdlib".into(),
            go_version.clone(),
            purl,
            vec![cpe],
            vec!["BSD-3-Clause".into()],
            None,
            path,
            layer,
        ));
    }
    out
}

/// No `mod` line (a GOPATH build, or `go build file.go`): the one `(devel)`
/// dependency if there is exactly one, else the package path.
fn main_from_path(info: &mut BuildInfo) -> Module {
    let devel: Vec<usize> = (0..info.deps.len())
        .filter(|&i| info.deps[i].version == DEVEL)
        .collect();
    if let [only] = devel[..] {
        return info.deps.remove(only);
    }
    Module {
        path: info.path.clone(),
        version: DEVEL.into(),
        ..Module::default()
    }
}

/// Syft's order: a version set with `-ldflags -X`, a version string in the
/// binary, a pseudo-version from the VCS revision and time.
fn main_version(info: &BuildInfo, main: &str, in_contents: Option<&str>) -> Option<String> {
    if let Some(version) = info
        .setting("-ldflags")
        .and_then(|flags| version_from_ldflags(flags, main))
    {
        return Some(version);
    }
    if let Some(version) = in_contents {
        return Some(version.to_string());
    }
    let revision = info.setting("vcs.revision")?;
    let time = info.setting("vcs.time")?;
    // The first 12 bytes, as Syft; the revision comes from the binary and
    // may hold any text, so never cut inside a character.
    let mut end = revision.len().min(12);
    while !revision.is_char_boundary(end) {
        end -= 1;
    }
    let short = &revision[..end];
    Some(format!("v0.0.0-{}-{short}", pseudo_time(time)))
}

/// Syft's two `-X` patterns (`…version=`, `…tag=`) on `main` or a package
/// of the main module; the version with a `v`.
pub fn version_from_ldflags(ldflags: &str, main: &str) -> Option<String> {
    const PATTERNS: [&str; 2] = [
        r"\.[a-zA-Z0-9]*([rR]elease)?([gG]it)?([bB]uild)?[vV]er(sion)?=(\S+/)*(?P<version>v?\d+.\d+.\d+[-\w]*)",
        r"\.[a-zA-Z0-9]*([tT]ag)=(\S+/)*(?P<version>v?\d+.\d+.\d+[-\w]*)",
    ];
    PATTERNS.iter().find_map(|pattern| {
        // As Syft: the module path goes in unescaped (its dots match any byte).
        let regex = Regex::new(&format!("(?-u)(main|{main}/[^\\s]*){pattern}")).ok()?;
        let captures = regex.captures(ldflags.as_bytes())?;
        let version = String::from_utf8_lossy(captures.name("version")?.as_bytes()).into_owned();
        Some(ensure_v(&version))
    })
}

fn ensure_v(version: &str) -> String {
    if version.starts_with('v') {
        version.to_string()
    } else {
        format!("v{version}")
    }
}

/// `2023-05-04T12:34:56Z` as `20230504123456`; Go writes `vcs.time` in UTC.
/// Anything else is Go's zero time, as Syft's failed parse gives.
fn pseudo_time(rfc3339: &str) -> String {
    let digits: String = rfc3339
        .chars()
        .take(19)
        .filter(char::is_ascii_digit)
        .collect();
    let utc = rfc3339.ends_with('Z') && digits.len() == 14;
    if utc { digits } else { "00010101000000".into() }
}

/// Syft's golang PURL: the first two path elements are the namespace, the
/// third the name, the rest the subpath.
pub fn package_url(module: &str, version: &str) -> String {
    let fields: Vec<&str> = module.split('/').collect();
    let (namespace, name, subpath) = match fields[..] {
        [name] => (String::new(), name, String::new()),
        [ns, name] => (ns.to_string(), name, String::new()),
        _ => (fields[..2].join("/"), fields[2], fields[3..].join("/")),
    };
    purl::with_subpath(
        purl::build("golang", Some(&namespace), name, version, &[]),
        &subpath,
    )
}

/// One CPE: the module's owner (the element before the name) as vendor.
fn module_cpes(module: &str, version: &str) -> Vec<String> {
    let fields: Vec<&str> = module.split('/').collect();
    let product = fields.get(2).or(fields.last()).copied().unwrap_or(module);
    let vendor = if fields.len() >= 3 {
        fields[1]
    } else {
        product
    };
    vec![format!(
        "cpe:2.3:a:{}:{}:{}:*:*:*:*:*:*:*",
        purl::cpe_escape(vendor),
        purl::cpe_escape(product),
        purl::cpe_escape(version)
    )]
}

/// `cpe:2.3:a:golang:go:1.19.8:-:…`, `…:1.22:rc1:…` for candidates.
fn stdlib_cpe(go_version: &str) -> Option<String> {
    let version = go_version.strip_prefix("go").unwrap_or(go_version);
    let number_len = version
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(version.len());
    let (number, rest) = version.split_at(number_len);
    if number.is_empty() || !number.contains('.') {
        return None;
    }
    let update = match rest {
        "" => "-".to_string(),
        r if ["rc", "beta", "alpha"].iter().any(|p| r.starts_with(p)) => r.to_string(),
        _ => return None,
    };
    Some(format!("cpe:2.3:a:golang:go:{number}:{update}:*:*:*:*:*:*"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(packages: &[Package]) -> Vec<(String, String)> {
        let mut out: Vec<_> = packages
            .iter()
            .map(|p| (p.name.clone(), p.version.clone()))
            .collect();
        out.sort();
        out
    }

    fn embedded(modinfo: &str, in_contents: Option<&str>) -> GoEmbedded {
        GoEmbedded {
            go_version: "go1.19.8".into(),
            modinfo: modinfo.into(),
            legacy: false,
            version_in_contents: in_contents.map(str::to_string),
        }
    }

    #[test]
    fn parses_modules_replacements_and_quoted_settings() {
        let info = parse_modinfo(
            "path\tex.com/app/cmd/x\nmod\tex.com/app\t(devel)\t\n\
             dep\tgolang.org/x/sys\tv0.1.0\th1:abc=\n=>\t../sys\t(devel)\t\n\
             build\t-ldflags=\"-X main.version=1.4.2 -s\"\nbuild\tGOARCH=arm64\n",
        );
        assert_eq!(info.path, "ex.com/app/cmd/x");
        assert_eq!(info.main.as_ref().unwrap().version, "(devel)");
        assert_eq!(info.deps[0].replace.as_ref().unwrap().path, "../sys");
        assert_eq!(info.setting("-ldflags"), Some("-X main.version=1.4.2 -s"));
        assert_eq!(info.setting("GOARCH"), Some("arm64"));
    }

    #[test]
    fn main_module_version_in_syfts_order() {
        let cases: &[(&str, Option<&str>, &str)] = &[
            // -ldflags first, even when the contents hold a version.
            (
                "mod\tex.com/a\t(devel)\t\nbuild\t-ldflags=\"-X main.version=1.4.2\"\n",
                Some("9.9.9"),
                "v1.4.2",
            ),
            (
                "mod\tex.com/a\t(devel)\t\nbuild\t-ldflags=\"-X ex.com/a/internal/build.Tag=v2.0.0-rc1\"\n",
                None,
                "v2.0.0-rc1",
            ),
            (
                "mod\tex.com/a\t(devel)\t\n",
                Some("2.8.2+ds1"),
                "v2.8.2+ds1",
            ),
            (
                "mod\tex.com/a\t(devel)\t\nbuild\tvcs.revision=0123456789abcdef\nbuild\tvcs.time=2023-05-04T12:34:56Z\n",
                None,
                "v0.0.0-20230504123456-0123456789ab",
            ),
            ("mod\tex.com/a\t(devel)\t\n", None, "(devel)"),
            ("mod\tex.com/a\tv1.0.0\th1:x\n", Some("9.9.9"), "v1.0.0"),
        ];
        for (modinfo, in_contents, want) in cases {
            let packages = packages(&embedded(modinfo, *in_contents), "/bin/a", None);
            let main = packages.iter().find(|p| p.name == "ex.com/a").unwrap();
            assert_eq!(main.version, *want, "{modinfo:?}");
        }
    }

    #[test]
    fn gopath_build_takes_its_main_module_from_the_path() {
        // Debian's skopeo: no `mod` line at all.
        let packages = packages(
            &embedded(
                "path\tgithub.com/containers/skopeo/cmd/skopeo\nbuild\tGOARCH=amd64\n",
                None,
            ),
            "/usr/bin/skopeo",
            Some(1),
        );
        assert_eq!(
            names(&packages),
            [
                (
                    "github.com/containers/skopeo/cmd/skopeo".into(),
                    "(devel)".into()
                ),
                ("stdlib".into(), "go1.19.8".into())
            ]
        );
        assert_eq!(
            packages[0].purl,
            "pkg:golang/github.com/containers/skopeo@(devel)#cmd/skopeo"
        );
        assert_eq!(packages[1].purl, "pkg:golang/stdlib@1.19.8");
        assert_eq!(
            packages[1].cpes,
            ["cpe:2.3:a:golang:go:1.19.8:-:*:*:*:*:*:*"]
        );
    }

    #[test]
    fn replaced_dependencies_report_the_replacement() {
        let packages = packages(
            &embedded(
                "mod\tex.com/a\tv1.0.0\t\ndep\tex.com/old\tv1.0.0\t\n=>\tex.com/new\tv1.2.0\th1:y\n",
                None,
            ),
            "/a",
            None,
        );
        assert!(
            packages
                .iter()
                .any(|p| p.name == "ex.com/new" && p.version == "v1.2.0")
        );
        assert!(!packages.iter().any(|p| p.name == "ex.com/old"));
    }

    #[test]
    fn stdlib_cpes() {
        assert_eq!(
            stdlib_cpe("go1.22rc1").as_deref(),
            Some("cpe:2.3:a:golang:go:1.22:rc1:*:*:*:*:*:*")
        );
        assert_eq!(stdlib_cpe("devel +abc"), None);
    }
}
