//! A wheel's `RECORD` and an egg's `installed-files.txt`, read as Syft 1.18
//! reads them (`syft/pkg/cataloger/python/parse_wheel_egg_record.go`).
//!
//! `RECORD` goes through Go's `encoding/csv` with its defaults, whose rules
//! decide which lines count: blank lines are skipped; a field that opens
//! with `"` is quoted (`""` is a quote, and it may run over lines); a `"`
//! anywhere else is an error; the first record sets how many fields every
//! later one must have, or it is an error. Syft skips records in error and
//! any without exactly three fields, so a merge-conflicted `RECORD` gives
//! no `<<<<<<< HEAD` path, only its well-formed lines.

/// The paths of a `RECORD`'s well-formed entries, in order.
pub fn record_paths(text: &[u8]) -> Vec<String> {
    let mut reader = CsvReader {
        rest: text,
        fields_per_record: 0,
    };
    let mut paths = Vec::new();
    while let Some((fields, ok)) = reader.read() {
        if ok && fields.len() == 3 {
            paths.push(String::from_utf8_lossy(&fields[0]).into_owned());
        }
    }
    paths
}

/// The lines of an `installed-files.txt` (`parseInstalledFiles`): each
/// line that ends in a newline, without it (a last line without one is
/// not read).
pub fn installed_files(text: &str) -> Vec<&str> {
    let mut lines: Vec<&str> = text.split('\n').collect();
    lines.pop(); // what follows the last newline
    lines
}

/// Go's `csv.Reader` with `Comma` `,`, no comment character, strict quotes
/// and `FieldsPerRecord` 0.
struct CsvReader<'a> {
    rest: &'a [u8],
    fields_per_record: usize,
}

impl CsvReader<'_> {
    /// `readLine`: one line with its `\n` (`\r\n` made `\n`, a `\r` before
    /// the end of input dropped); `None` at the end.
    fn line(&mut self) -> Option<Vec<u8>> {
        if self.rest.is_empty() {
            return None;
        }
        let end = self
            .rest
            .iter()
            .position(|&b| b == b'\n')
            .map_or(self.rest.len(), |i| i + 1);
        let mut line = self.rest[..end].to_vec();
        self.rest = &self.rest[end..];
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        let n = line.len();
        if n >= 2 && line[n - 2] == b'\r' && line[n - 1] == b'\n' {
            line.truncate(n - 1);
            line[n - 2] = b'\n';
        }
        Some(line)
    }

    /// `readRecord`: the fields read, and whether there was no error;
    /// `None` at the end of input.
    fn read(&mut self) -> Option<(Vec<Vec<u8>>, bool)> {
        let mut line = loop {
            let line = self.line()?;
            if !line.is_empty() && line.as_slice() != b"\n" {
                break line;
            }
        };
        let mut fields: Vec<Vec<u8>> = Vec::new();
        let mut ok = true;
        let mut pos = 0;
        'fields: loop {
            if line.get(pos) != Some(&b'"') {
                // An unquoted field, to the next comma or the line's end.
                let rest = &line[pos..];
                let comma = rest.iter().position(|&b| b == b',');
                let field = match comma {
                    Some(i) => &rest[..i],
                    None => rest.strip_suffix(b"\n").unwrap_or(rest),
                };
                if field.contains(&b'"') {
                    ok = false; // ErrBareQuote
                    break 'fields;
                }
                fields.push(field.to_vec());
                match comma {
                    Some(i) => pos += i + 1,
                    None => break 'fields,
                }
            } else {
                // A quoted field, perhaps over several lines.
                pos += 1;
                let mut field = Vec::new();
                loop {
                    let rest = &line[pos..];
                    if let Some(i) = rest.iter().position(|&b| b == b'"') {
                        field.extend_from_slice(&rest[..i]);
                        pos += i + 1;
                        match line.get(pos) {
                            Some(b'"') => {
                                field.push(b'"');
                                pos += 1;
                            }
                            Some(b',') => {
                                pos += 1;
                                fields.push(field);
                                continue 'fields;
                            }
                            None | Some(b'\n') if line.len() - pos <= 1 => {
                                fields.push(field);
                                break 'fields;
                            }
                            _ => {
                                ok = false; // ErrQuote
                                break 'fields;
                            }
                        }
                    } else if !rest.is_empty() {
                        field.extend_from_slice(rest);
                        line = self.line().unwrap_or_default();
                        pos = 0;
                    } else {
                        ok = false; // ErrQuote: the input ended inside quotes
                        break 'fields;
                    }
                }
            }
        }
        if self.fields_per_record > 0 {
            if fields.len() != self.fields_per_record {
                ok = false; // ErrFieldCount
            }
        } else {
            // Set by the first record read, even one in error.
            self.fields_per_record = fields.len();
        }
        Some((fields, ok))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_formed_record() {
        let text =
            b"a/__init__.py,sha256=abc,12\r\n\na/b.py,,\n\"a/c,d.py\",sha256=x,3\nbin/x,sha256=y,4";
        assert_eq!(
            record_paths(text),
            ["a/__init__.py", "a/b.py", "a/c,d.py", "bin/x"]
        );
    }

    #[test]
    fn merge_conflict_markers_are_not_paths() {
        // Syft's own fixture: malformed-record/dist-info/RECORD.
        let text = b"flask/json/tag.py,sha256=9eh,8223\n<<<<<<< HEAD\n../../Scripts/flask.exe,sha256=mPr,93063\n=======\n../../Scripts/flask.exe,sha256=jvq,89470\n>>>>>>> 69c24e18\nFlask-1.0.2.dist-info/INSTALLER,sha256=zuu,4\napp/venv/WHEEL0100777 0ustarWheel-Version: 1.0\n";
        assert_eq!(
            record_paths(text),
            [
                "flask/json/tag.py",
                "../../Scripts/flask.exe",
                "../../Scripts/flask.exe",
                "Flask-1.0.2.dist-info/INSTALLER"
            ]
        );
    }

    #[test]
    fn the_first_record_sets_the_field_count() {
        // A conflict marker first: every three-field line is then in error.
        let text = b"<<<<<<< HEAD\na.py,sha256=x,1\nb.py,sha256=y,2\n";
        assert_eq!(record_paths(text), Vec::<String>::new());
        // Even a first record in error sets it, to the fields before the error.
        let text = b"a.py,bad\"quote,1\nb.py,sha256=y,2\nc.py\n";
        assert_eq!(record_paths(text), Vec::<String>::new());
    }

    #[test]
    fn quotes() {
        let text = b"a.py,sha,1\n\"multi\nline.py\",s,2\n\"bad\"x,s,3\n\"q\"\"uote.py\",s,4\nbare\"q,s,5\n\"open,s,6\n";
        assert_eq!(record_paths(text), ["a.py", "multi\nline.py", "q\"uote.py"]);
    }

    #[test]
    fn installed_files_lines_end_in_newlines() {
        assert_eq!(
            installed_files("../x.py\nPKG-INFO\r\nlast"),
            ["../x.py", "PKG-INFO\r"]
        );
        assert_eq!(installed_files(""), Vec::<&str>::new());
    }
}
