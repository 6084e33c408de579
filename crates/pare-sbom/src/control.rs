//! Debian control-file paragraphs (`Key: value`, continuation lines start
//! with a space, paragraphs are separated by blank lines). Also the shape of
//! Python's `METADATA`/`PKG-INFO` headers.

/// One paragraph: fields in order, continuation lines joined with `\n`.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Paragraph {
    pub fields: Vec<(String, String)>,
    /// 1-based line where the paragraph starts.
    pub line: usize,
    /// Lines that were neither fields nor continuations.
    pub junk: usize,
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
}

/// Parses every paragraph of `text`. Never fails: malformed lines are
/// counted in [`Paragraph::junk`] for the caller to warn about.
pub fn parse(text: &str) -> Vec<Paragraph> {
    let mut paragraphs = Vec::new();
    let mut current = Paragraph::default();
    for (index, line) in text.lines().enumerate() {
        if line.trim().is_empty() {
            if !current.fields.is_empty() || current.junk > 0 {
                paragraphs.push(std::mem::take(&mut current));
            }
            continue;
        }
        if current.fields.is_empty() && current.junk == 0 {
            current.line = index + 1;
        }
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
    if !current.fields.is_empty() || current.junk > 0 {
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
}
