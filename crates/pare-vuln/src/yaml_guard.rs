//! A linear pass over YAML text before `serde_norway` sees it, refusing
//! what would cost minutes of CPU there: deep nesting and heavy alias use.
//!
//! `serde_norway` loads every event of a document before it checks its
//! recursion limit, and its parser is super-linear in nesting depth:
//! 50,000 `[` take 3.3 s, 200,000 over two minutes. OSV records (up to
//! [`crate::osv::MAX_RECORD_BYTES`]) and ignore files (read from the
//! current folder, so from any checkout CI scans) are both outside input.
//!
//! The pass follows just enough of YAML to measure nesting: flow
//! collections (`[`, `{`) outside quoted scalars, comments, block scalars
//! (`|`, `>`) and multi-line plain scalars, and block collections by their
//! indentation columns (each `- ` of `- - - x` opens one). Where it cannot
//! tell, it counts rather than skips: a doubtful case can only make it
//! refuse a document, never let a deep one through. Real documents nest a
//! few levels (OSV records about six), far below [`MAX_DEPTH`].
//!
//! Aliases: `serde_norway` bounds alias expansion itself (its "repetition
//! limit", 100 replays per event), but that is still a hundredfold
//! amplification of a 16 MiB input; OSV records and ignore files use no
//! aliases, so more than [`MAX_ALIASES`] are refused here.

/// Deepest nesting accepted (flow and block collections together).
pub const MAX_DEPTH: usize = 64;

/// Most `*alias` uses accepted in one document.
pub const MAX_ALIASES: usize = 256;

/// Why a document was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {what}")]
pub struct GuardError {
    /// 1-based line of the offending character.
    pub line: usize,
    /// What was exceeded.
    pub what: String,
}

/// Inside a multi-line construct carried from one line to the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Carry {
    None,
    /// Inside a `'…'` scalar.
    Single,
    /// Inside a `"…"` scalar.
    Double,
    /// Lines more indented than this column (and blank lines) belong to a
    /// block scalar or a plain scalar's continuation: text, not structure.
    /// `-1`: every following line.
    Text(isize),
}

struct Guard {
    /// Columns of the open block collections, increasing.
    block: Vec<usize>,
    /// Open flow collections.
    flow: usize,
    carry: Carry,
    aliases: usize,
    line: usize,
}

fn blank(b: Option<&u8>) -> bool {
    matches!(b, None | Some(b' ' | b'\t' | b'\r'))
}

impl Guard {
    fn err(&self, what: String) -> GuardError {
        GuardError {
            line: self.line,
            what,
        }
    }

    fn depth_check(&self) -> Result<(), GuardError> {
        let depth = self.block.len() + self.flow;
        if depth > MAX_DEPTH {
            return Err(self.err(format!(
                "YAML nested more than {MAX_DEPTH} levels deep; refused before parsing"
            )));
        }
        Ok(())
    }

    fn alias(&mut self) -> Result<(), GuardError> {
        self.aliases += 1;
        if self.aliases > MAX_ALIASES {
            return Err(self.err(format!(
                "more than {MAX_ALIASES} YAML aliases (`*name`); refused before parsing"
            )));
        }
        Ok(())
    }

    /// Scans a quoted scalar from `i` (just after the opening quote);
    /// returns the index after the closing quote, or `None` if the line
    /// ends inside it (then `carry` says which).
    fn quoted(&mut self, l: &[u8], mut i: usize, double: bool) -> Option<usize> {
        while i < l.len() {
            match (double, l[i]) {
                (true, b'\\') => i += 2,
                (true, b'"') => {
                    self.carry = Carry::None;
                    return Some(i + 1);
                }
                (false, b'\'') if l.get(i + 1) == Some(&b'\'') => i += 2,
                (false, b'\'') => {
                    self.carry = Carry::None;
                    return Some(i + 1);
                }
                _ => i += 1,
            }
        }
        self.carry = if double { Carry::Double } else { Carry::Single };
        None
    }

    /// Skips an anchor, tag or alias name from `i`.
    fn token_end(l: &[u8], mut i: usize) -> usize {
        while i < l.len() && !matches!(l[i], b' ' | b'\t' | b',' | b'[' | b']' | b'{' | b'}') {
            i += 1;
        }
        i
    }

    /// Flow context from `i` to the end of the line, or until the
    /// outermost flow collection closes (then returns that index).
    fn flow(&mut self, l: &[u8], mut i: usize) -> Result<Option<usize>, GuardError> {
        let mut node_start = true;
        while i < l.len() {
            let c = l[i];
            match c {
                b' ' | b'\t' | b'\r' => {
                    i += 1;
                    continue;
                }
                b'#' if i == 0 || blank(l.get(i - 1)) => return Ok(None),
                b'[' | b'{' => {
                    self.flow += 1;
                    self.depth_check()?;
                    node_start = true;
                    i += 1;
                    continue;
                }
                b']' | b'}' => {
                    self.flow = self.flow.saturating_sub(1);
                    i += 1;
                    if self.flow == 0 {
                        return Ok(Some(i));
                    }
                    node_start = false;
                    // `]:` / `}:` (a JSON-like key): a value follows.
                    if l.get(i) == Some(&b':') {
                        i += 1;
                        node_start = true;
                    }
                    continue;
                }
                b',' => {
                    node_start = true;
                    i += 1;
                    continue;
                }
                b'\'' | b'"' if node_start => {
                    match self.quoted(l, i + 1, c == b'"') {
                        Some(j) => i = j,
                        None => return Ok(None),
                    }
                    node_start = false;
                    if l.get(i) == Some(&b':') {
                        i += 1;
                        node_start = true;
                    }
                    continue;
                }
                b'?' | b':' if blank(l.get(i + 1)) => {
                    node_start = true;
                    i += 1;
                    continue;
                }
                // `:` right before a flow indicator: an empty value.
                b':' if matches!(l.get(i + 1), Some(b',' | b'[' | b']' | b'{' | b'}')) => {
                    i += 1;
                    continue;
                }
                b'*' if node_start => {
                    self.alias()?;
                    i = Self::token_end(l, i + 1);
                    continue;
                }
                b'&' | b'!' if node_start => {
                    i = Self::token_end(l, i + 1);
                    continue;
                }
                _ => {}
            }
            // A plain scalar: up to a flow indicator, `: `, or ` #`.
            node_start = false;
            while i < l.len() {
                let c = l[i];
                if matches!(c, b',' | b'[' | b']' | b'{' | b'}')
                    || (c == b':'
                        && (blank(l.get(i + 1))
                            || matches!(l.get(i + 1), Some(b',' | b'[' | b']' | b'{' | b'}'))))
                    || (c == b'#' && blank(l.get(i.wrapping_sub(1))))
                {
                    break;
                }
                i += 1;
            }
        }
        Ok(None)
    }

    /// One line in block context, from `i` (after the indentation).
    fn block_line(&mut self, l: &[u8], indent: usize) -> Result<(), GuardError> {
        let mut i = indent;
        // Column of the collection a scalar here would belong to: text
        // lines after it must be indented more.
        let mut parent = indent as isize - 1;
        // `- - - x`: each indicator opens a sequence one level deeper.
        while l.get(i) == Some(&b'-') && blank(l.get(i + 1)) {
            parent = i as isize;
            i += 1;
            while matches!(l.get(i), Some(b' ' | b'\t')) {
                i += 1;
            }
            if i >= l.len() || l[i] == b'\r' {
                return Ok(());
            }
            self.push(i)?;
        }
        loop {
            // At the start of a node (or a key).
            match l.get(i) {
                None | Some(b'\r') => return Ok(()),
                Some(b' ' | b'\t') => i += 1,
                Some(b'#') => return Ok(()),
                Some(b'[' | b'{') => {
                    let Some(j) = self.flow(l, i)? else {
                        return Ok(());
                    };
                    i = j;
                    // After a flow collection: perhaps `: value`.
                    while matches!(l.get(i), Some(b' ' | b'\t')) {
                        i += 1;
                    }
                    if l.get(i) == Some(&b':') {
                        i += 1;
                    }
                }
                Some(&q @ (b'\'' | b'"')) => {
                    let key_col = i as isize;
                    let Some(j) = self.quoted(l, i + 1, q == b'"') else {
                        return Ok(());
                    };
                    i = j;
                    while matches!(l.get(i), Some(b' ' | b'\t')) {
                        i += 1;
                    }
                    if l.get(i) == Some(&b':') && blank(l.get(i + 1)) {
                        parent = key_col;
                        i += 1;
                    }
                }
                Some(b'|' | b'>') => {
                    self.carry = Carry::Text(parent);
                    return Ok(());
                }
                Some(b'*') => {
                    self.alias()?;
                    i = Self::token_end(l, i + 1);
                }
                Some(b'&' | b'!') => i = Self::token_end(l, i + 1),
                Some(b'?' | b':') if blank(l.get(i + 1)) => i += 1,
                Some(_) => {
                    // A plain scalar: a key if `: ` follows, else text that
                    // may continue on more indented lines.
                    let key_col = i as isize;
                    loop {
                        match l.get(i) {
                            None | Some(b'\r') => {
                                self.carry = Carry::Text(parent);
                                return Ok(());
                            }
                            Some(b'#') if blank(l.get(i.wrapping_sub(1))) => {
                                self.carry = Carry::Text(parent);
                                return Ok(());
                            }
                            Some(b':') if blank(l.get(i + 1)) => {
                                parent = key_col;
                                i += 1;
                                break;
                            }
                            _ => i += 1,
                        }
                    }
                }
            }
        }
    }

    /// A block collection at column `col`: closes the deeper ones.
    fn push(&mut self, col: usize) -> Result<(), GuardError> {
        while self.block.last().is_some_and(|&c| c > col) {
            self.block.pop();
        }
        if self.block.last() != Some(&col) {
            self.block.push(col);
        }
        self.depth_check()
    }

    fn line(&mut self, l: &[u8]) -> Result<(), GuardError> {
        if let Carry::Single | Carry::Double = self.carry {
            let Some(start) = self.quoted(l, 0, self.carry == Carry::Double) else {
                return Ok(());
            };
            if self.flow > 0 {
                return self.flow_rest(l, start);
            }
            // The rest of a block line after a multi-line quoted scalar:
            // count anything structural in it.
            return self.block_rest(l, start);
        }
        let indent = l.iter().take_while(|&&b| b == b' ').count();
        let is_blank = l[indent..]
            .iter()
            .all(|&b| matches!(b, b' ' | b'\t' | b'\r'));
        if let Carry::Text(t) = self.carry {
            if is_blank || indent as isize > t {
                return Ok(());
            }
            self.carry = Carry::None;
        }
        if self.flow > 0 {
            return self.flow_rest(l, 0);
        }
        if is_blank || l.get(indent) == Some(&b'#') {
            return Ok(());
        }
        if l.starts_with(b"---") && blank(l.get(3)) || l.starts_with(b"...") && blank(l.get(3)) {
            self.block.clear();
            return self.block_rest(l, 3);
        }
        if l.starts_with(b"%") {
            return Ok(()); // a directive
        }
        self.push(indent)?;
        self.block_line(l, indent)
    }

    fn flow_rest(&mut self, l: &[u8], i: usize) -> Result<(), GuardError> {
        match self.flow(l, i)? {
            Some(j) => self.block_rest(l, j),
            None => Ok(()),
        }
    }

    /// The rest of a line in block context after some node: scanned as a
    /// node start (over-counting at worst).
    fn block_rest(&mut self, l: &[u8], i: usize) -> Result<(), GuardError> {
        let mut rest = vec![b' '; i.min(l.len())];
        rest.extend_from_slice(&l[i.min(l.len())..]);
        let indent = rest.iter().take_while(|&&b| b == b' ').count();
        if rest[indent..]
            .iter()
            .all(|&b| matches!(b, b' ' | b'\t' | b'\r'))
        {
            return Ok(());
        }
        self.block_line(&rest, indent)
    }
}

/// Refuses `text` if it nests deeper than [`MAX_DEPTH`] or uses more than
/// [`MAX_ALIASES`] aliases; linear in its length.
pub fn check(text: &[u8]) -> Result<(), GuardError> {
    let mut g = Guard {
        block: Vec::new(),
        flow: 0,
        carry: Carry::None,
        aliases: 0,
        line: 0,
    };
    for l in text.split(|&b| b == b'\n') {
        g.line += 1;
        g.line(l)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn depth_refused(text: &str) -> bool {
        check(text.as_bytes()).is_err()
    }

    #[test]
    fn shallow_documents_pass() {
        for ok in [
            "",
            "a: 1\n",
            "id: X\naffected:\n  - package:\n      name: p\n    ranges:\n      - type: ECOSYSTEM\n        events:\n          - introduced: \"0\"\n          - fixed: '1.0'\n",
            "a: [1, [2, {b: c}]]\n",
            "details: see [x](y) and [z(\n",
            "details: it's [[[[ fine\n",
            "key: \"[[[[\\\"[[[\"\n",
            "key: '[['' [[['\n",
            "key: |\n  [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n  - - - - - - -\nnext: 1\n",
            "# [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n",
            "a: b # [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\n",
            "a: some text\n  continued [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\nb: 2\n",
        ] {
            assert!(
                check(ok.as_bytes()).is_ok(),
                "{ok:?}: {:?}",
                check(ok.as_bytes())
            );
        }
    }

    #[test]
    fn deep_nesting_is_refused_with_its_line() {
        let flow = format!("a: 1\nb: {}", "[".repeat(65));
        let e = check(flow.as_bytes()).unwrap_err();
        assert_eq!(e.line, 2);
        assert!(e.to_string().contains("nested more than 64"), "{e}");
        assert!(!depth_refused(&format!("b: {}", "[".repeat(63))));
        assert!(depth_refused(&format!("- {}x", "- ".repeat(70))));
        assert!(!depth_refused(&format!("- {}x", "- ".repeat(40))));
        // Flow nesting over several lines, and after a multi-line quote.
        assert!(depth_refused(&format!("a: [\n{}", "[\n".repeat(70))));
        assert!(depth_refused(&format!("a: ['x\ny', {}", "{".repeat(70))));
        // Block nesting by indentation.
        let mut deep = String::new();
        for n in 0..70 {
            deep.push_str(&" ".repeat(n));
            deep.push_str("a:\n");
        }
        assert!(depth_refused(&deep));
        // A quote inside a plain scalar is no quote: what follows counts.
        assert!(depth_refused(&format!("a: [it's, {}", "[".repeat(70))));
        assert!(depth_refused(&format!("a: [a:'b, {}", "[".repeat(70))));
    }

    #[test]
    fn aliases_are_bounded() {
        let mut laughs = String::from("a: &a [\"lol\"]\n");
        for n in 0..10 {
            let prev = if n == 0 {
                "a".to_owned()
            } else {
                format!("l{}", n - 1)
            };
            laughs.push_str(&format!(
                "l{n}: &l{n} [{}]\n",
                vec![format!("*{prev}"); 30].join(",")
            ));
        }
        let e = check(laughs.as_bytes()).unwrap_err();
        assert!(e.to_string().contains("aliases"), "{e}");
        assert!(check(b"a: &x 1\nb: *x\nc: [*x, *x]\n").is_ok());
    }
}
