//! `METADATA` / `PKG-INFO` headers, read as Syft 1.18 reads them
//! (`syft/pkg/cataloger/python/parse_wheel_egg_metadata.go`:
//! `extractRFC5322Fields`, then `mapstructure.Decode` into `parsedData`).
//!
//! Lines (`\n`, a `\r` before it dropped); blank lines before the first
//! field are skipped, the first blank line after one ends the headers. A
//! line starting with a space continues the last field (joined with
//! `"\n "`); with no field yet, the file gives no package. Otherwise the
//! key is what comes before the first `:` (none, or at the start: the line
//! is ignored), trimmed, its `-` removed; the value is trimmed. A repeated
//! key replaces the value, except `Requires-Dist` and `Provides-Extra`,
//! which collect. Keys then match Syft's struct fields ignoring case, the
//! exact spelling first; a value the field cannot take fails the file
//! (a list field given one string, a header named like a structured field).

/// One header's value.
#[derive(Clone, Debug, PartialEq, Eq)]
enum Value {
    One(String),
    Many(Vec<String>),
}

/// Keys whose values collect (`pluralFields`), by exact spelling.
const PLURAL: [&str; 2] = ["ProvidesExtra", "RequiresDist"];
/// Syft's `[]string` fields: a single string there is an error.
const LIST_FIELDS: [&str; 3] = ["ProvidesExtra", "RequiresDist", "TopLevelPackages"];
/// Fields of other types no header can fill.
const STRUCT_FIELDS: [&str; 3] = ["Files", "DirectURLOrigin", "LicenseLocation"];
/// `bufio.Scanner`'s longest line: at a longer one Syft stops reading.
const MAX_LINE: usize = 64 * 1024 - 1;

/// The headers Syft keeps.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Metadata {
    pub name: String,
    pub version: String,
    pub license: String,
    pub license_expression: String,
    pub license_file: String,
}

/// Parses the headers, or says why Syft would give no package.
pub fn parse(text: &str) -> Result<Metadata, String> {
    let mut fields: Vec<(String, Value)> = Vec::new();
    let mut key = String::new();
    let mut rest = text;
    while !rest.is_empty() {
        let (line, after) = match rest.find('\n') {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, ""),
        };
        rest = after;
        let line = line.strip_suffix('\r').unwrap_or(line);
        if line.len() > MAX_LINE {
            break;
        }
        if line.is_empty() {
            if fields.is_empty() {
                continue;
            }
            break;
        }
        if line.starts_with(' ') {
            if key.is_empty() {
                return Err(format!("no match for continuation: line: '{line}'"));
            }
            let Some((_, value)) = fields.iter_mut().find(|(k, _)| *k == key) else {
                return Err(format!("no previous key exists, expecting: {key}"));
            };
            let more = line.trim();
            match value {
                Value::One(s) => {
                    s.push_str("\n ");
                    s.push_str(more);
                }
                Value::Many(list) => {
                    if list.is_empty() {
                        list.push(String::new());
                    }
                    let last = list.last_mut().expect("one at least");
                    last.push_str("\n ");
                    last.push_str(more);
                }
            }
            continue;
        }
        match line.find(':') {
            Some(i) if i > 0 => {
                key = line[..i].trim().replace('-', "");
                let text = line[i + 1..].trim().to_string();
                let existing = fields.iter().position(|(k, _)| *k == key);
                let value = if PLURAL.contains(&key.as_str()) {
                    match existing.map(|at| fields[at].1.clone()) {
                        None => Value::Many(vec![text]),
                        Some(Value::Many(mut list)) => {
                            list.push(text);
                            Value::Many(list)
                        }
                        Some(Value::One(s)) => Value::Many(vec![s, text]),
                    }
                } else {
                    Value::One(text)
                };
                match existing {
                    Some(at) => fields[at].1 = value,
                    None => fields.push((key.clone(), value)),
                }
            }
            _ => {} // Syft warns and goes on
        }
    }
    decode(&fields)
}

/// `mapstructure.Decode` into Syft's `parsedData`.
fn decode(fields: &[(String, Value)]) -> Result<Metadata, String> {
    let lookup = |name: &str| -> Option<&Value> {
        fields
            .iter()
            .find(|(k, _)| k == name)
            .or_else(|| fields.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)))
            .map(|(_, v)| v)
    };
    for name in LIST_FIELDS {
        if let Some(Value::One(_)) = lookup(name) {
            return Err(format!("'{name}': a single value where a list is expected"));
        }
    }
    for name in STRUCT_FIELDS {
        if lookup(name).is_some() {
            return Err(format!("'{name}': a header cannot fill this field"));
        }
    }
    let string = |name: &str| match lookup(name) {
        Some(Value::One(s)) => s.clone(),
        _ => String::new(),
    };
    Ok(Metadata {
        name: string("Name"),
        version: string("Version"),
        license: string("License"),
        license_expression: string("LicenseExpression"),
        license_file: string("LicenseFile"),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_end_at_the_first_blank_line() {
        let m = parse("\n\nMetadata-Version: 2.1\r\nName: PyYAML\nVersion: 6.0.1\nLicense: MIT\n  and more\nLicense-File: LICENSE\n\nName: not-this\n").unwrap();
        assert_eq!(m.name, "PyYAML");
        assert_eq!(m.version, "6.0.1");
        assert_eq!(m.license, "MIT\n and more");
        assert_eq!(m.license_file, "LICENSE");
    }

    #[test]
    fn keys_lose_dashes_and_match_any_case() {
        let m = parse("NAME: a\nversion: 1\nLicense-Expression: MIT OR Apache-2.0\n").unwrap();
        assert_eq!((m.name.as_str(), m.version.as_str()), ("a", "1"));
        assert_eq!(m.license_expression, "MIT OR Apache-2.0");
        // The exact spelling wins over another case.
        let m = parse("name: lower\nName: exact\n").unwrap();
        assert_eq!(m.name, "exact");
        // A repeated key replaces.
        assert_eq!(parse("Name: a\nName: b\n").unwrap().name, "b");
    }

    #[test]
    fn odd_lines() {
        // No colon, or one at the start: ignored; the continuation then
        // still belongs to the last key.
        let m = parse("bogusName: x\nName: n\njunk\n: v\n more\nVersion: 2\n").unwrap();
        assert_eq!(m.name, "n\n more");
        assert_eq!(m.version, "2");
        assert_eq!(parse("bogus").unwrap(), Metadata::default());
        assert_eq!(parse("").unwrap(), Metadata::default());
    }

    #[test]
    fn what_fails_the_file() {
        assert!(parse(" leading continuation\nName: a\n").is_err());
        assert!(parse("Name: a\nrequires-dist: x\n").is_err());
        assert!(parse("Name: a\nRequires-Dist: x\nRequires-Dist: y\n").is_ok());
        assert!(parse("Name: a\nRequires-Dist: x\nrequires-dist: y\n").is_ok());
        assert!(parse("Name: a\nTop-Level-Packages: x\n").is_err());
        assert!(parse("Name: a\nFiles: x\n").is_err());
    }

    #[test]
    fn a_line_too_long_ends_the_headers() {
        let text = format!("Name: a\nSummary: {}\nVersion: 1\n", "x".repeat(70_000));
        let m = parse(&text).unwrap();
        assert_eq!((m.name.as_str(), m.version.as_str()), ("a", ""));
    }
}
