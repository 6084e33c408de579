//! Ruby gems, as Syft 1.18's `ruby-installed-gemspec-cataloger` finds them
//! (anchore/syft v1.18.1, `syft/pkg/cataloger/ruby/cataloger.go`
//! `NewInstalledGemSpecCataloger`, glob `**/specifications/**/*.gemspec`;
//! `parse_gemspec.go` `parseGemSpecEntries`; `package.go`
//! `newGemspecPackage`, `packageURL`). It is the only Ruby cataloger Syft
//! runs on images: `Gemfile.lock` and gemspecs outside a `specifications`
//! folder are declarations, read only for directory scans.
//!
//! A gemspec is Ruby source. Syft never runs it, and neither does pare: it
//! reads it line by line with a few patterns, so does this module:
//!
//! - Each line is trimmed, every `.freeze` removed and `\uXXXX` escapes
//!   (upper-case hex) turned into their characters, then matched against
//!   `…​.name = "…"`, `.version`, `.homepage` (a quoted value: from the first
//!   quote after the `=` to the last quote of the line) and `.files`,
//!   `.authors`, `.licenses` (a list: from the `[` to the last `]`, split at
//!   every `,`, each item trimmed of `"` and spaces). The last `.name` of a
//!   line counts; a later line wins over an earlier one; an empty value is
//!   no value. A line matches at most one field (Syft tries its patterns in
//!   Go's random map order and stops at the first; pare tries them in the
//!   order above, which only matters for a line naming two fields).
//! - Reading stops at the first line of 64 KiB or more (Go's
//!   `bufio.Scanner` gives up there and Syft keeps what it had so far).
//! - Then Syft's compliance rules: no name, no package; no version, version
//!   `UNKNOWN` and a PURL without one. The PURL is `pkg:gem/NAME@VERSION`.
//! - The singular `s.license = "MIT"` is not a licence to Syft's patterns,
//!   nor to pare's.

use pare_image::Flattened;
use pare_image::paths::{file_name, parent};

pub(crate) mod located;

use crate::model::{Catalog, Distro, Package, PackageType};
use crate::purl;
use crate::read::{layer_of, read_bytes};

/// Go's `bufio.MaxScanTokenSize`: a line this long stops the scan.
const MAX_LINE: usize = 64 * 1024;

/// Whether Syft's glob `**/specifications/**/*.gemspec` matches `path`.
pub fn is_installed_spec(path: &str) -> bool {
    is_gemspec_name(file_name(path)) && parent(path).split('/').any(|part| part == "specifications")
}

fn is_gemspec_name(name: &str) -> bool {
    name.ends_with(".gemspec")
}

/// Every gemspec is captured (they are small), so that one reached
/// through a symlink into a `specifications` folder is there to read.
pub fn wants(path: &str) -> bool {
    is_gemspec_name(file_name(path))
}

/// What pare keeps of a gemspec.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Gemspec {
    pub name: String,
    pub version: String,
    pub homepage: String,
    pub authors: Vec<String>,
    pub licenses: Vec<String>,
    pub files: Vec<String>,
}

#[derive(Clone, Copy)]
enum Field {
    Name,
    Version,
    Homepage,
    Files,
    Authors,
    Licenses,
}

/// The order pare tries the patterns in, with the attribute each matches
/// and whether its value is a list.
const FIELDS: [(Field, &str, bool); 6] = [
    (Field::Name, ".name", false),
    (Field::Version, ".version", false),
    (Field::Homepage, ".homepage", false),
    (Field::Files, ".files", true),
    (Field::Authors, ".authors", true),
    (Field::Licenses, ".licenses", true),
];

/// Reads a gemspec's text (bytes: invalid UTF-8 is replaced line by line,
/// as Syft's JSON output does).
pub fn parse(bytes: &[u8]) -> Gemspec {
    let mut spec = Gemspec::default();
    let mut rest = bytes;
    while !rest.is_empty() {
        let (line, next) = match rest.iter().position(|&b| b == b'\n') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        if line.len() >= MAX_LINE {
            break;
        }
        rest = next;
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        let line = String::from_utf8_lossy(line);
        let line = render_escapes(&line.trim().replace(".freeze", ""));
        if line.is_empty() {
            continue;
        }
        for (field, attribute, list) in FIELDS {
            let value = if list {
                list_value(&line, attribute)
            } else {
                quoted_value(&line, attribute)
            };
            let Some(value) = value.filter(|v| !v.is_empty()) else {
                continue;
            };
            match field {
                Field::Name => spec.name = value.to_string(),
                Field::Version => spec.version = value.to_string(),
                Field::Homepage => spec.homepage = value.to_string(),
                Field::Files => spec.files = split_list(value),
                Field::Authors => spec.authors = split_list(value),
                Field::Licenses => spec.licenses = split_list(value),
            }
            break;
        }
    }
    spec
}

/// Just after `\s*=\s*OPEN` at `i`, if that follows.
fn after_open(line: &str, mut i: usize, open: fn(u8) -> bool) -> Option<usize> {
    let bytes = line.as_bytes();
    let is_space = |b: u8| matches!(b, b'\t' | b'\n' | b'\x0c' | b'\r' | b' ');
    while i < bytes.len() && is_space(bytes[i]) {
        i += 1;
    }
    if bytes.get(i) != Some(&b'=') {
        return None;
    }
    i += 1;
    while i < bytes.len() && is_space(bytes[i]) {
        i += 1;
    }
    bytes.get(i).is_some_and(|&b| open(b)).then_some(i + 1)
}

fn is_quote(b: u8) -> bool {
    b == b'"' || b == b'\''
}

/// `.*\.ATTR\s*=\s*["'](.*)["'] *`: from the first quote after the `=` to
/// the last quote of the line.
fn quoted_value<'a>(line: &'a str, attribute: &str) -> Option<&'a str> {
    let bytes = line.as_bytes();
    let mut best = None;
    for (at, _) in line.match_indices(attribute) {
        if let Some(start) = after_open(line, at + attribute.len(), is_quote)
            && let Some(end) = bytes[start..].iter().rposition(|&b| is_quote(b))
        {
            best = Some(&line[start..start + end]);
        }
    }
    best
}

/// `.*\.ATTR\s*=\s*\[(.*)] *`: from the `[` to the last `]` of the line.
fn list_value<'a>(line: &'a str, attribute: &str) -> Option<&'a str> {
    let bytes = line.as_bytes();
    let mut best = None;
    for (at, _) in line.match_indices(attribute) {
        if let Some(start) = after_open(line, at + attribute.len(), |b| b == b'[')
            && let Some(end) = bytes[start..].iter().rposition(|&b| b == b']')
        {
            best = Some(&line[start..start + end]);
        }
    }
    best
}

/// Syft's `processList`: split at `,`, trim `"` and spaces.
fn split_list(value: &str) -> Vec<String> {
    value
        .split(',')
        .map(|item| item.trim_matches(|c| c == '"' || c == ' ').to_string())
        .collect()
}

/// `\uXXXX` (upper-case hex digits only) as the character; a lone
/// surrogate becomes U+FFFD, as Go's JSON decoder makes it.
fn render_escapes(line: &str) -> String {
    if !line.contains("\\u") {
        return line.to_string();
    }
    let bytes = line.as_bytes();
    let mut out = String::with_capacity(line.len());
    let mut copied = 0;
    let mut i = 0;
    while i + 6 <= bytes.len() {
        let hex = &bytes[i + 2..i + 6];
        if bytes[i] == b'\\'
            && bytes[i + 1] == b'u'
            && hex
                .iter()
                .all(|b| b.is_ascii_digit() || (b'A'..=b'F').contains(b))
        {
            // Four ASCII hex digits: a char boundary on both sides.
            let code = u32::from_str_radix(&line[i + 2..i + 6], 16).unwrap_or(0xFFFD);
            out.push_str(&line[copied..i]);
            out.push(char::from_u32(code).unwrap_or('\u{FFFD}'));
            i += 6;
            copied = i;
        } else {
            i += 1;
        }
    }
    out.push_str(&line[copied..]);
    out
}

impl Gemspec {
    /// The package Syft reports (name, version, PURL) after its compliance
    /// rules; `None` when it drops it.
    pub fn identity(&self) -> Option<(String, String, String)> {
        crate::npm::compliant_identity(&self.name, &self.version, |name, version| {
            purl::build("gem", None, name, version, &[])
        })
    }
}

pub fn catalog(flat: &Flattened, _distro: Option<&Distro>, out: &mut Catalog) {
    for (_, path) in located::files(flat, is_gemspec_name, is_installed_spec) {
        let Some(bytes) = read_bytes(flat, &path, out) else {
            continue;
        };
        let spec = parse(&bytes);
        let Some(identity) = spec.identity() else {
            out.warnings
                .push(format!("/{path}: no gem name found; skipped"));
            continue;
        };
        let licenses = spec.licenses.into_iter().filter(|l| !l.is_empty());
        out.packages.push(Package::declared_in(
            PackageType::Gem,
            identity,
            licenses.collect(),
            format!("/{path}"),
            layer_of(flat, &path),
        ));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wants_the_installed_glob() {
        for (path, want) in [
            (
                "usr/share/rubygems-integration/all/specifications/rack-2.2.4.gemspec",
                true,
            ),
            (
                "usr/lib/ruby/gems/3.1.0/specifications/default/json-2.6.1.gemspec",
                true,
            ),
            ("specifications/root.gemspec", true),
            ("specifications/pkg/nested.gemspec", true),
            ("var/lib/gems/3.1.0/specifications/.gemspec", true),
            ("src/app/app.gemspec", false),
            ("usr/share/specifications", false),
            ("x/specifications.d/a.gemspec", false),
            ("x/specifications/a.gemspec.bak", false),
            ("x/specifications/Gemfile.lock", false),
        ] {
            assert_eq!(is_installed_spec(path), want, "{path}");
            assert_eq!(wants(path), path.ends_with(".gemspec"), "{path}");
        }
    }

    #[test]
    fn lines_as_syft_reads_them() {
        /// (gemspec text, name, version, licenses, authors)
        type Case<'a> = (&'a str, &'a str, &'a str, &'a [&'a str], &'a [&'a str]);
        let cases: &[Case] = &[
            (
                "Gem::Specification.new do |s|\n  s.name = \"rack\".freeze\n  s.version = \"2.2.4\"\n  s.licenses = [\"MIT\".freeze]\nend\n",
                "rack",
                "2.2.4",
                &["MIT"],
                &[],
            ),
            // Single quotes, no spaces around `=`, CRLF line ends.
            (
                "s.name='x-y'\r\ns.version='1.0.0.beta1'\r\n",
                "x-y",
                "1.0.0.beta1",
                &[],
                &[],
            ),
            // From the first quote to the last one of the line.
            (
                "s.name = \"a\" if x == \"b\"\ns.version = \"1\"",
                "a\" if x == \"b",
                "1",
                &[],
                &[],
            ),
            // `\u` escapes, and items trimmed of quotes and spaces only.
            (
                "s.name = \"n\"\ns.version = \"1\"\ns.authors = [\"Andr\\u00E9 Arko\".freeze, 'Q']\ns.licenses = [\"MIT\", \"Ruby\",]",
                "n",
                "1",
                &["MIT", "Ruby", ""],
                &["André Arko", "'Q'"],
            ),
            // A later line wins; an empty value is no value.
            (
                "s.name = \"a\"\ns.name = \"b\"\ns.version = \"\"\ns.version = \"2\"\ns.version = ''",
                "b",
                "2",
                &[],
                &[],
            ),
            // Not the patterns: other attributes, the singular licence,
            // lower-case escapes.
            (
                "s.rubygems_version = \"3.1\"\ns.license = \"MIT\"\ns.names = \"z\"\ns.name = \"\\u00e9\"",
                "\\u00e9",
                "",
                &[],
                &[],
            ),
            // `.name` after a `.freeze` removal, and the last `.name` of a
            // line.
            ("s.name.freeze = \"a\"; t.name = \"b\"", "b", "", &[], &[]),
        ];
        for (text, name, version, licenses, authors) in cases {
            let spec = parse(text.as_bytes());
            assert_eq!(spec.name, *name, "{text}");
            assert_eq!(spec.version, *version, "{text}");
            assert_eq!(spec.licenses, *licenses, "{text}");
            assert_eq!(spec.authors, *authors, "{text}");
        }
    }

    #[test]
    fn a_line_of_64k_stops_the_scan() {
        let long = "x".repeat(MAX_LINE);
        let text = format!("s.name = \"a\"\n# {long}\ns.version = \"1\"\n");
        let spec = parse(text.as_bytes());
        assert_eq!((spec.name.as_str(), spec.version.as_str()), ("a", ""));
        let shorter = "x".repeat(MAX_LINE - 10);
        let text = format!("s.name = \"a\"\n# {shorter}\ns.version = \"1\"\n");
        assert_eq!(parse(text.as_bytes()).version, "1");
    }

    #[test]
    fn identity_and_compliance() {
        let spec = |name: &str, version: &str| Gemspec {
            name: name.into(),
            version: version.into(),
            ..Gemspec::default()
        };
        assert_eq!(
            spec("rack", "2.2.4").identity().unwrap(),
            ("rack".into(), "2.2.4".into(), "pkg:gem/rack@2.2.4".into())
        );
        assert_eq!(
            spec("a b", "1+x").identity().unwrap().2,
            "pkg:gem/a%20b@1%2Bx"
        );
        assert_eq!(
            spec("nover", "").identity().unwrap(),
            ("nover".into(), "UNKNOWN".into(), "pkg:gem/nover".into())
        );
        assert_eq!(spec("", "1").identity(), None);
        assert_eq!(spec(" ", "1").identity(), None);
    }

    #[test]
    fn hostile_text_never_panics() {
        for text in [
            &b"s.name = \""[..],
            b"s.name = \"\xff\xfe\" \\u",
            b"\\uD83D\\uDE00 s.name = \"\\uD83D\"",
            b"s.licenses = [",
            b"s.licenses = ]",
            b".name=\".name='",
            b"\n\n\r\r",
        ] {
            let _ = parse(text);
        }
        assert_eq!(parse(b"s.name = \"\\uD83D\"").name, "\u{FFFD}");
    }

    proptest::proptest! {
        /// Any bytes, and gemspec-like text with parts replaced by noise:
        /// the reading ends without panicking.
        #[test]
        fn hostile_gemspecs_never_panic(
            noise in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..400),
            at in 0usize..200,
        ) {
            let _ = parse(&noise);
            let mut text = b"s.name = \"caf\\u00E9\".freeze\ns.version = '1'\ns.licenses = [\"MIT\", \"x\"]\n".to_vec();
            let at = at.min(text.len());
            text.splice(at..at, noise.iter().copied());
            let _ = parse(&text).identity();
        }
    }
}
