//! What a source file is, decided from its first bytes (names lie: osv.dev
//! serves `all.zip`, the tracker serves `json` with no extension, and a user
//! may rename anything).

/// The kinds of source [`super::Store::import`] reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceKind {
    OsvJson,
    OsvYaml,
    OsvZip,
    /// A `{"Header", "Annotations"}` tracker entry (CVE, TEMP, DSA or DLA).
    TrackerRecord,
    /// The tracker's `/tracker/data/json` dump.
    TrackerDump,
    Folder,
}

impl SourceKind {
    /// The name stored in the `sources` table.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::OsvJson => "osv-json",
            Self::OsvYaml => "osv-yaml",
            Self::OsvZip => "osv-zip",
            Self::TrackerRecord => "debian-tracker-record",
            Self::TrackerDump => "debian-tracker-dump",
            Self::Folder => "folder",
        }
    }
}

/// Top-level OSV fields whose value is an object: an OSV record starting
/// with one of these must not be taken for the dump (whose first value is an
/// object too).
const OSV_OBJECT_FIELDS: &[&str] = &["database_specific", "ecosystem_specific"];

/// Whether `prefix` starts with a zip signature: a local file header
/// (`PK\x03\x04`), an empty archive's end record (`PK\x05\x06`) or the
/// spanning marker (`PK\x07\x08`). The one test both the importer and `pare
/// db update` use, so that a file one of them takes for a zip is never read
/// as YAML by the other (and refused with a YAML error).
pub fn is_zip(prefix: &[u8]) -> bool {
    [b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08"]
        .iter()
        .any(|magic| prefix.starts_with(*magic))
}

/// The kind of a file whose first bytes are `prefix` (a few KiB suffice).
/// `None`: not JSON, not a zip; the caller tries YAML.
pub fn classify(prefix: &[u8]) -> Option<SourceKind> {
    if is_zip(prefix) {
        return Some(SourceKind::OsvZip);
    }
    let mut p = Lexer {
        s: prefix.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(prefix),
        i: 0,
    };
    p.ws();
    if p.peek() != Some(b'{') {
        return None;
    }
    p.i += 1;
    Some(json_object_kind(&mut p))
}

fn json_object_kind(p: &mut Lexer<'_>) -> SourceKind {
    // Anything that does not look like a tracker entry or dump is given to
    // the OSV parser, whose error then names what is wrong.
    let Some(first) = p.key() else {
        return SourceKind::OsvJson;
    };
    if p.peek() != Some(b'{') {
        return SourceKind::OsvJson;
    }
    if first == "Header" {
        return SourceKind::TrackerRecord;
    }
    if OSV_OBJECT_FIELDS.contains(&first.as_str()) {
        return SourceKind::OsvJson;
    }
    // Dump: package → { "CVE-…" | "TEMP-…": { … } }.
    p.i += 1;
    match p.key() {
        Some(issue)
            if (issue.starts_with("CVE-") || issue.starts_with("TEMP-"))
                && p.peek() == Some(b'{') =>
        {
            SourceKind::TrackerDump
        }
        _ => SourceKind::OsvJson,
    }
}

struct Lexer<'a> {
    s: &'a [u8],
    i: usize,
}

impl Lexer<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }

    fn ws(&mut self) {
        while matches!(self.peek(), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.i += 1;
        }
    }

    /// After `{`: a string key and its `:`, leaving the lexer at the value's
    /// first byte. `None` if that is not what follows.
    fn key(&mut self) -> Option<String> {
        self.ws();
        if self.peek() != Some(b'"') {
            return None;
        }
        self.i += 1;
        let start = self.i;
        let mut escaped = false;
        loop {
            let c = self.peek()?;
            self.i += 1;
            match (escaped, c) {
                (false, b'\\') => escaped = true,
                (false, b'"') => break,
                _ => escaped = false,
            }
        }
        let key = String::from_utf8_lossy(&self.s[start..self.i - 1]).into_owned();
        self.ws();
        if self.peek() != Some(b':') {
            return None;
        }
        self.i += 1;
        self.ws();
        Some(key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use SourceKind::*;

    #[test]
    fn kinds_by_content() {
        let cases: &[(&[u8], Option<SourceKind>)] = &[
            (b"PK\x03\x04rest", Some(OsvZip)),
            (b"PK\x05\x06", Some(OsvZip)),
            (b"PK\x07\x08PK\x03\x04", Some(OsvZip)),
            (b"PK\x01\x02", None),
            (b"PK", None),
            (br#"{"id": "PYSEC-1", "modified": "x"}"#, Some(OsvJson)),
            (br#"  {"schema_version": "1.6.0"}"#, Some(OsvJson)),
            (br#"{"database_specific": {"CVE-1": {}}}"#, Some(OsvJson)),
            (
                br#"{"Header": {"ID": "CVE-1"}, "Annotations": []}"#,
                Some(TrackerRecord),
            ),
            (b"\xEF\xBB\xBF{\n  \"Header\" : {", Some(TrackerRecord)),
            (
                br#"{"0ad": {"CVE-2020-1": {"releases": {}}}}"#,
                Some(TrackerDump),
            ),
            (br#"{"a\"b": {"TEMP-0000000-1": {"#, Some(TrackerDump)),
            (br#"{"pkg": {"other": {}}}"#, Some(OsvJson)),
            (br#"{}"#, Some(OsvJson)),
            (br#"{"#, Some(OsvJson)),
            (b"id: PYSEC-1\n", None),
            (b"", None),
        ];
        for (bytes, expected) in cases {
            assert_eq!(
                classify(bytes),
                *expected,
                "{}",
                String::from_utf8_lossy(bytes)
            );
        }
    }
}
