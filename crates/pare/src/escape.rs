//! Terminal-safe text: every string an image supplies (file names, package
//! names, config fields, messages quoting them) passes through [`escape`]
//! before `pare` prints it as text, so an image cannot move the cursor,
//! recolour the terminal, rewrite a line with `\r`, or start fake lines
//! with `\n`.
//!
//! The escapes are those of GNU `ls -b` (`--quoting-style=escape`):
//!
//! | character                              | printed as                  |
//! |----------------------------------------|-----------------------------|
//! | `\` itself                             | `\\`                        |
//! | BEL BS TAB LF VT FF CR                 | `\a` `\b` `\t` `\n` `\v` `\f` `\r` |
//! | other C0 controls (ESC is `\033`), DEL | `\ooo`, three octal digits  |
//! | C1 controls U+0080–U+009F              | `\ooo` per UTF-8 byte (`\302\233` for CSI) |
//! | bidi and line-separator controls       | `\ooo` per UTF-8 byte       |
//!
//! Two deliberate differences from `ls -b`: a space stays a space (text
//! tables are read by people; JSON is there for machines), and the Unicode
//! controls that reorder or break lines without being C0/C1 (U+061C,
//! U+200E–U+200F, U+2028–U+202E, U+2066–U+2069; "Trojan Source",
//! CVE-2021-42574) are escaped too, as a terminal would otherwise let a
//! name visually hide or reorder what follows it.
//!
//! Invalid UTF-8 never reaches this module: names are decoded lossily
//! (U+FFFD) where they are read.

use std::borrow::Cow;
use std::fmt::Write as _;

/// Whether `c` must not reach a terminal as is.
pub fn is_unsafe(c: char) -> bool {
    c.is_control() // C0, DEL, C1
        || matches!(
            c,
            '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{2028}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
        )
}

/// `text` with backslashes and unsafe characters escaped (see the module
/// docs); borrowed when nothing needed escaping.
pub fn escape(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c == '\\' || is_unsafe(c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\u{07}' => out.push_str("\\a"),
            '\u{08}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{0B}' => out.push_str("\\v"),
            '\u{0C}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if is_unsafe(c) => {
                let mut bytes = [0; 4];
                for b in c.encode_utf8(&mut bytes).bytes() {
                    let _ = write!(out, "\\{b:03o}");
                }
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// JSON text (as `serde_json` writes it, C0 controls, `"` and `\` already
/// escaped in strings) made terminal-safe while staying valid JSON: the
/// unsafe characters JSON leaves raw (DEL, C1, bidi controls) become
/// `\uXXXX`. C0 characters are left alone: outside strings they can only
/// be the layout's own line feeds.
pub fn json_for_terminal(json: &str) -> Cow<'_, str> {
    let left_raw = |c: char| c >= '\u{7f}' && is_unsafe(c);
    if !json.chars().any(left_raw) {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 8);
    for c in json.chars() {
        if left_raw(c) {
            // Every unsafe character is in the Basic Multilingual Plane.
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_ls_b() {
        for (raw, want) in [
            ("usr/bin/plain", "usr/bin/plain"),
            ("my tool#1", "my tool#1"),
            ("a\\b", "a\\\\b"),
            ("\u{1b}[31mred", "\\033[31mred"),
            ("x\ry", "x\\ry"),
            ("x\ny", "x\\ny"),
            ("tab\there", "tab\\there"),
            ("\u{07}\u{08}\u{0B}\u{0C}", "\\a\\b\\v\\f"),
            ("nul\0", "nul\\000"),
            ("\u{01}\u{1f}", "\\001\\037"),
            ("del\u{7f}", "del\\177"),
            // C1: CSI (U+009B) is 0xC2 0x9B in UTF-8.
            ("csi\u{9b}2J", "csi\\302\\2332J"),
            ("\u{85}", "\\302\\205"),
            // Right-to-left override and the line separator.
            ("evil\u{202e}fdp.exe", "evil\\342\\200\\256fdp.exe"),
            ("\u{2028}", "\\342\\200\\250"),
            // Printable non-ASCII stays as it is, lossy decoding too.
            ("café/ünïcode/日本", "café/ünïcode/日本"),
            ("bad\u{fffd}utf8", "bad\u{fffd}utf8"),
            ("", ""),
        ] {
            assert_eq!(escape(raw), want, "{raw:?}");
            assert!(!escape(raw).chars().any(is_unsafe), "{raw:?}");
        }
    }

    /// GNU `ls -b` itself as the oracle, on files named with every C0
    /// control but NUL (which no file name can hold), DEL, C1 CSI and NEL,
    /// a backslash and printable UTF-8. (Spaces and bidi controls are left
    /// out: there this module differs on purpose, see the module docs.)
    #[test]
    fn matches_gnu_ls_b() {
        let dir = tempfile::tempdir().unwrap();
        let mut names: Vec<String> = (1u8..0x20).map(|b| format!("c{}x", b as char)).collect();
        names.extend(
            [
                "del\u{7f}",
                "csi\u{9b}2J",
                "nel\u{85}",
                "back\\slash",
                "café-日本",
            ]
            .map(String::from),
        );
        for name in &names {
            std::fs::write(dir.path().join(name), b"").unwrap();
        }
        let out = std::process::Command::new("ls")
            .args(["-1b", "--sort=none"])
            .arg(dir.path())
            .env("LC_ALL", "C.UTF-8")
            .output()
            .expect("GNU ls");
        assert!(out.status.success());
        let listed: std::collections::BTreeSet<String> = String::from_utf8(out.stdout)
            .unwrap()
            .lines()
            .map(str::to_string)
            .collect();
        let ours: std::collections::BTreeSet<String> =
            names.iter().map(|n| escape(n).into_owned()).collect();
        assert_eq!(ours, listed);
    }

    #[test]
    fn nothing_to_escape_borrows() {
        assert!(matches!(escape("usr/lib/x86_64"), Cow::Borrowed(_)));
    }

    #[test]
    fn every_control_character_becomes_a_visible_escape() {
        // Every C0, DEL and C1 character: gone from the output, replaced by
        // a backslash sequence.
        for c in (0u32..0x20).chain(0x7f..0xa0).filter_map(char::from_u32) {
            let text = escape(&c.to_string()).into_owned();
            assert!(text.starts_with('\\'), "{c:?}");
            assert!(text.chars().all(|c| c.is_ascii_graphic()), "{c:?}: {text}");
        }
    }

    #[test]
    fn json_stays_json_and_safe() {
        let value = vec![
            "a\u{1b}b".to_string(),
            "del\u{7f}\u{9b}\u{202e}".to_string(),
        ];
        for json in [
            serde_json::to_string(&value).unwrap(),
            serde_json::to_string_pretty(&value).unwrap(),
        ] {
            let safe = json_for_terminal(&json);
            assert!(!safe.chars().any(|c| c != '\n' && is_unsafe(c)), "{safe}");
            let back: Vec<String> = serde_json::from_str(&safe).unwrap();
            assert_eq!(back, value);
        }
        assert!(matches!(
            json_for_terminal("{\n  \"a\": 1\n}"),
            Cow::Borrowed(_)
        ));
    }
}
