//! Debian control-file paragraphs (`Key: value`, continuation lines start
//! with a space, paragraphs are separated by blank lines). Also the shape of
//! Python's `METADATA`/`PKG-INFO` headers.
//!
//! Parsed from bytes so that each paragraph can say where it is in them
//! ([`Paragraph::span`]): whoever writes a paragraph back (minify's
//! `status.d` entries) copies those bytes, exactly as the package manager
//! wrote them, instead of re-serialising the fields.

use std::ops::Range;

/// One paragraph: fields in order, continuation lines joined with `\n`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Paragraph {
    pub fields: Vec<(String, String)>,
    /// 1-based line where the paragraph starts.
    pub line: usize,
    /// Lines that were neither fields nor continuations.
    pub junk: usize,
    /// Where the paragraph is in the parsed bytes: from its first line to
    /// the end of its last one (that line's newline included).
    pub span: Range<usize>,
}

impl Paragraph {
    /// The first field called `key` (case-insensitive).
    pub fn get(&self, key: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    /// Every field called `key`.
    pub fn all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.fields
            .iter()
            .filter(move |(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    fn is_empty(&self) -> bool {
        self.fields.is_empty() && self.junk == 0
    }
}

/// Parses every paragraph of `text`. Never fails: malformed lines are
/// counted in [`Paragraph::junk`] for the caller to warn about.
pub fn parse(text: &str) -> Vec<Paragraph> {
    parse_bytes(text.as_bytes())
}

/// [`parse`] over bytes: fields are read as UTF-8 (invalid sequences
/// replaced), spans index `bytes` themselves.
pub fn parse_bytes(bytes: &[u8]) -> Vec<Paragraph> {
    let mut paragraphs = Vec::new();
    let mut current = Paragraph::default();
    let mut start = 0;
    for (index, raw) in bytes.split_inclusive(|b| *b == b'\n').enumerate() {
        let end = start + raw.len();
        let at = start..end;
        start = end;
        // As `str::lines`: without the newline, nor a `\r` before it.
        let raw = raw.strip_suffix(b"\n").unwrap_or(raw);
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        let line = String::from_utf8_lossy(raw);
        if line.trim().is_empty() {
            if !current.is_empty() {
                paragraphs.push(std::mem::take(&mut current));
            }
            continue;
        }
        if current.is_empty() {
            current.line = index + 1;
            current.span = at.clone();
        }
        current.span.end = at.end;
        if line.starts_with([' ', '\t']) {
            match current.fields.last_mut() {
                Some((_, value)) => {
                    value.push('\n');
                    value.push_str(line.trim());
                }
                None => current.junk += 1,
            }
            continue;
        }
        match line.split_once(':') {
            Some((key, value)) if !key.is_empty() && !key.contains(' ') => {
                current
                    .fields
                    .push((key.to_string(), value.trim().to_string()));
            }
            _ => current.junk += 1,
        }
    }
    if !current.is_empty() {
        paragraphs.push(current);
    }
    paragraphs
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_paragraphs_continuations_and_junk() {
        let text = "Package: a\nDescription: one\n two\n\n\nPackage: b\nnot a field\n";
        let p = parse(text);
        assert_eq!(p.len(), 2);
        assert_eq!(p[0].get("description"), Some("one\ntwo"));
        assert_eq!(p[1].get("Package"), Some("b"));
        assert_eq!((p[1].line, p[1].junk), (6, 1));
    }

    #[test]
    fn spans_give_back_each_paragraph_byte_for_byte() {
        for (name, input, want) in [
            (
                "blank lines between and after",
                &b"A: 1\nB: 2\n\n\nC: 3\n \n"[..],
                &[&b"A: 1\nB: 2\n"[..], b"C: 3\n"][..],
            ),
            (
                "no newline at the end",
                b"A: 1\n\nB: 2",
                &[b"A: 1\n", b"B: 2"],
            ),
            (
                "CRLF line ends kept",
                b"A: 1\r\n X\r\n\r\nB: 2\r\n",
                &[b"A: 1\r\n X\r\n", b"B: 2\r\n"],
            ),
            (
                "invalid UTF-8 kept as it was",
                b"A: caf\xe9\n\nB: 2\n",
                &[b"A: caf\xe9\n", b"B: 2\n"],
            ),
            (
                "a paragraph of junk only",
                b"junk\n\nA: 1\n",
                &[b"junk\n", b"A: 1\n"],
            ),
            ("nothing", b"\n\n", &[]),
        ] {
            let got: Vec<&[u8]> = parse_bytes(input)
                .iter()
                .map(|p| &input[p.span.clone()])
                .collect();
            assert_eq!(got, want, "{name}");
        }
        let p = parse_bytes(b"A: caf\xe9\n");
        assert_eq!(p[0].get("A"), Some("caf\u{fffd}"));
    }
}
