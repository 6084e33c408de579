//! PHP's `serialize()` format, as far as PEAR/PECL registry files use it,
//! read the way Syft's decoder (elliotchance/phpserialize v1.4,
//! `UnmarshalAssociativeArray`) reads it: offsets from declared lengths,
//! separators skipped without being checked, trailing bytes ignored.
//!
//! Hand-written: the format is a few lines of grammar, and what matters is
//! to accept and refuse what that decoder does, not PHP itself. Unlike it,
//! this never indexes past the end (an error instead of a panic) and bounds
//! nesting.

use std::collections::BTreeMap;

/// Nesting deeper than this is refused (registry files nest 3 or 4 deep).
const MAX_DEPTH: usize = 64;

/// A decoded value.
#[derive(Clone, Debug, PartialEq)]
pub enum Value {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    /// Bytes as decoded (`\xNN` escapes resolved), shown lossily.
    Str(String),
    /// An array whose keys are 0, 1, … in order.
    List(Vec<Value>),
    /// Any other array, or an object's properties.
    Map(BTreeMap<Key, Value>),
}

/// An array key: Go's map keys are typed, so `"1"` and `1` differ.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Key {
    Int(i64),
    Str(String),
    Other(String),
}

type Parsed<T> = Result<(T, usize), String>;

/// The top-level associative array (or object) of `data`.
pub fn associative_array(data: &[u8]) -> Result<BTreeMap<Key, Value>, String> {
    let parsed = if data.first() == Some(&b'O') {
        object(data, 0, 0)
    } else {
        map(data, 0, 0)
    };
    parsed.map(|(m, _)| m)
}

fn until(data: &[u8], byte: u8, from: usize) -> Option<(&[u8], usize)> {
    let rest = data.get(from..)?;
    let at = rest.iter().position(|&b| b == byte)?;
    Some((&rest[..at], from + at))
}

/// Go's `strconv.Atoi`: optional sign, decimal digits, no spaces.
fn atoi(text: &[u8]) -> Option<i64> {
    let text = std::str::from_utf8(text).ok()?;
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    text.parse().ok()
}

fn is(data: &[u8], at: usize, kind: u8) -> bool {
    data.get(at) == Some(&kind)
}

fn int(data: &[u8], at: usize) -> Parsed<i64> {
    if !is(data, at, b'i') {
        return Err("not an integer".into());
    }
    let (text, end) = until(data, b';', at + 2).ok_or("integer without `;`")?;
    let value = atoi(text).ok_or("bad integer")?;
    Ok((value, end + 1))
}

fn float(data: &[u8], at: usize) -> Parsed<f64> {
    if !is(data, at, b'd') {
        return Err("not a float".into());
    }
    let (text, end) = until(data, b';', at + 2).ok_or("float without `;`")?;
    let value = std::str::from_utf8(text)
        .ok()
        .and_then(|t| t.parse().ok())
        .ok_or("bad float")?;
    Ok((value, end + 1))
}

/// `N:"…";` after the type letter: a length, a colon, a quote, that many
/// bytes, and two more skipped.
fn string_body(data: &[u8], at: usize) -> Parsed<String> {
    let (text, colon) = until(data, b':', at).ok_or("string without length")?;
    let length = atoi(text).ok_or("bad string length")?;
    let start = colon + 2;
    let length = usize::try_from(length).map_err(|_| "negative string length")?;
    let end = start.checked_add(length).ok_or("string length overflows")?;
    let bytes = data.get(start..end).ok_or("string runs past the end")?;
    Ok((decode_php_string(bytes)?, end + 2))
}

fn string(data: &[u8], at: usize) -> Parsed<String> {
    if !is(data, at, b's') {
        return Err("not a string".into());
    }
    string_body(data, at + 2)
}

/// The decoder's `DecodePHPString`: `\xNN`, `\n` and `\'` are escapes, any
/// other backslash stays.
fn decode_php_string(bytes: &[u8]) -> Result<String, String> {
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'\\' && i + 1 < bytes.len() {
            match bytes[i + 1] {
                b'x' => {
                    // The decoder slices two bytes unchecked (a panic at
                    // the end); a pair that is not hex gives byte 0.
                    let hex = bytes.get(i + 2..i + 4).ok_or("`\\x` at the end")?;
                    let value = std::str::from_utf8(hex)
                        .ok()
                        .and_then(|h| i64::from_str_radix(h, 16).ok())
                        .unwrap_or(0);
                    out.push(value as u8);
                    i += 4;
                }
                b'n' => {
                    out.push(b'\n');
                    i += 2;
                }
                b'\'' => {
                    out.push(b'\'');
                    i += 2;
                }
                _ => {
                    out.push(b'\\');
                    i += 1;
                }
            }
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

fn next(data: &[u8], at: usize, depth: usize) -> Parsed<Value> {
    if depth > MAX_DEPTH {
        return Err("nested too deeply".into());
    }
    match data.get(at) {
        None => Err("corrupt".into()),
        // The decoder tries a list (keys `i:0;`, `i:1;`, …) and then a
        // map, reading the array twice; one read as entries, then the
        // same choice, gives the same result without the exponential
        // cost of retrying nested arrays.
        Some(b'a') => {
            let (entries, end) = entries(data, at, depth)?;
            let is_list = entries
                .iter()
                .enumerate()
                .all(|(i, (k, _))| *k == Key::Int(i as i64));
            let value = if is_list {
                Value::List(entries.into_iter().map(|(_, v)| v).collect())
            } else {
                Value::Map(entries.into_iter().collect())
            };
            Ok((value, end))
        }
        Some(b'b') => {
            let flag = data.get(at + 2).ok_or("corrupt boolean")?;
            Ok((Value::Bool(*flag == b'1'), at + 4))
        }
        Some(b'd') => float(data, at).map(|(f, end)| (Value::Float(f), end)),
        Some(b'i') => int(data, at).map(|(i, end)| (Value::Int(i), end)),
        Some(b's') => string(data, at).map(|(s, end)| (Value::Str(s), end)),
        Some(b'N') => Ok((Value::Null, at + 2)),
        Some(b'O') => object(data, at, depth).map(|(m, end)| (Value::Map(m), end)),
        Some(other) => Err(format!("cannot read a value of type {:?}", *other as char)),
    }
}

fn count(data: &[u8], at: usize) -> Parsed<usize> {
    let (text, colon) = until(data, b':', at).ok_or("array without length")?;
    let n = atoi(text).ok_or("bad array length")?;
    // A negative count reads no element, as the decoder's loop.
    Ok((usize::try_from(n).unwrap_or(0), colon))
}

fn key(value: Value) -> Key {
    match value {
        Value::Int(i) => Key::Int(i),
        Value::Str(s) => Key::Str(s),
        other => Key::Other(format!("{other:?}")),
    }
}

fn entries(data: &[u8], at: usize, depth: usize) -> Parsed<Vec<(Key, Value)>> {
    if !is(data, at, b'a') {
        return Err("not an array".into());
    }
    let (n, colon) = count(data, at + 2)?;
    let mut at = colon + 2;
    let mut entries = Vec::new();
    for _ in 0..n {
        let (k, after) = next(data, at, depth + 1)?;
        let (v, after) = next(data, after, depth + 1)?;
        entries.push((key(k), v));
        at = after;
    }
    Ok((entries, at + 1))
}

fn map(data: &[u8], at: usize, depth: usize) -> Parsed<BTreeMap<Key, Value>> {
    // Collected in order: a repeated key keeps its last value.
    entries(data, at, depth).map(|(e, end)| (e.into_iter().collect(), end))
}

fn object(data: &[u8], at: usize, depth: usize) -> Parsed<BTreeMap<Key, Value>> {
    if depth > MAX_DEPTH {
        return Err("nested too deeply".into());
    }
    let (_class, after) = string_body(data, at + 2)?;
    let (n, colon) = count(data, after)?;
    let mut at = colon + 2;
    let mut entries = BTreeMap::new();
    for _ in 0..n {
        let (k, after) = string(data, at)?;
        let (v, after) = next(data, after, depth + 1)?;
        entries.insert(Key::Str(k), v);
        at = after;
    }
    Ok((entries, at + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(text: &str) -> Key {
        Key::Str(text.into())
    }

    #[test]
    fn registry_shapes() {
        let m = associative_array(
            br#"a:3:{s:4:"name";s:9:"memcached";s:7:"version";a:2:{s:7:"release";s:5:"3.2.0";s:3:"api";s:3:"3.2";}s:4:"deps";a:2:{i:0;b:1;i:1;N;}}"#,
        )
        .unwrap();
        assert_eq!(m[&s("name")], Value::Str("memcached".into()));
        let Value::Map(version) = &m[&s("version")] else {
            panic!("{m:?}")
        };
        assert_eq!(version[&s("release")], Value::Str("3.2.0".into()));
        assert_eq!(
            m[&s("deps")],
            Value::List(vec![Value::Bool(true), Value::Null])
        );
    }

    #[test]
    fn lengths_count_bytes_and_escapes_decode() {
        let m = associative_array("a:2:{s:1:\"a\";s:6:\"Bj\\xc3\";i:7;d:1.5;}".as_bytes()).unwrap();
        assert_eq!(m[&s("a")], Value::Str("Bj\u{FFFD}".into()));
        assert_eq!(m[&Key::Int(7)], Value::Float(1.5));
        let m = associative_array(br#"a:1:{s:4:"a\nb";s:3:"x\y";}"#).unwrap();
        assert_eq!(m[&s("a\nb")], Value::Str("x\\y".into()));
    }

    #[test]
    fn objects_and_trailing_bytes() {
        let m = associative_array(br#"O:8:"stdClass":1:{s:4:"name";s:1:"x";}garbage"#).unwrap();
        assert_eq!(m[&s("name")], Value::Str("x".into()));
    }

    #[test]
    fn malformed_input_is_an_error_not_a_panic() {
        for bad in [
            &b""[..],
            b"bogus",
            b"s:4:\"name\";",
            b"a:1:{s:99:\"name\";s:1:\"x\";}",
            b"a:1:{s:-4:\"name\";s:1:\"x\";}",
            b"a:x:{}",
            b"a:1:{",
            b"a:1:{s:1:\"a\";s:2:\"\\x\";}",
            b"a:2:{s:1:\"a\";i:;}",
            b"a:1:{s:1:\"a\";Z:1;}",
            b"a:1:{s:1:\"a\";b",
            b"O:1:\"C\":1:{i:0;i:1;}",
        ] {
            assert!(
                associative_array(bad).is_err(),
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        let deep = format!("{}i:0;", "a:1:{i:0;".repeat(200));
        assert!(associative_array(deep.as_bytes()).is_err());
        // What the decoder accepts without checking.
        assert!(associative_array(b"a:0:{}").unwrap().is_empty());
        assert!(associative_array(b"a:-1:").unwrap().is_empty());
    }

    proptest::proptest! {
        /// Registry text with noise spliced in: an answer, never a panic.
        #[test]
        fn hostile_registries_never_panic(
            noise in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..200),
            at in 0usize..120,
        ) {
            let _ = associative_array(&noise);
            let mut text = br#"a:2:{s:4:"name";s:1:"x";s:7:"version";a:1:{s:7:"release";s:3:"1.0";}}"#.to_vec();
            let at = at.min(text.len());
            text.splice(at..at, noise.iter().copied());
            let _ = associative_array(&text);
        }
    }
}
