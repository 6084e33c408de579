//! perl: its library (`@INC`), the script it runs and the programs that
//! script runs by name.
//!
//! `@INC` is compiled into perl (the list `perl -V` prints: privlib,
//! archlib, site, vendor, and distribution additions such as Debian's
//! `/etc/perl` and `perl-base`), so it is read from the binary and the
//! `libperl` it links, as the absolute paths among their strings that name
//! folders of the image, rather than from a list of layouts that would
//! miss the next one. `PERL5LIB` (else `PERLLIB`; neither under `-T`) and
//! `-I` add to it.
//!
//! A script's `system`, `exec`, backticks, `qx` and piped `open` with a
//! literal command name the programs it runs. perl runs a one-string
//! command without shell metacharacters itself (split into words, found in
//! `PATH`); one with them goes through `/bin/sh`.

use pare_elf::search::Root;

use crate::interp::common::{self, Command};
use crate::interp::{Context, Invocation, Undecided};
use crate::plan::Plan;
use crate::why::{Rule, Why};

/// Bytes of a call's arguments read when looking for its command.
const MAX_CALL: usize = 4096;

/// Whether a program's real file name is this interpreter: `perl`,
/// `perl5.36.0`.
pub fn is(name: &str) -> bool {
    name.strip_prefix("perl").is_some_and(|v| {
        v.is_empty()
            || (v.starts_with(|c: char| c.is_ascii_digit())
                && v.chars().all(|c| c.is_ascii_digit() || c == '.'))
    })
}

/// Files whose bytes this rule reads: perl's binaries and `libperl` (for
/// the `@INC` compiled in) and the scripts an application is likely to
/// start with.
pub fn wants(path: &str) -> bool {
    let name = pare_image::paths::file_name(path);
    let in_bin = pare_image::paths::file_name(pare_image::paths::parent(path)).ends_with("bin");
    (in_bin && is(name)) || name.starts_with("libperl.so") || common::is_app_script(path, ".pl")
}

/// What perl's command line says.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Args {
    /// The script, unless the program comes from `-e`/`-E` or standard
    /// input.
    pub script: Option<String>,
    /// `-I` folders.
    pub include: Vec<String>,
    /// `-T`/`-t`: `PERL5LIB` and `PERLLIB` are ignored.
    pub taint: bool,
}

/// Parses perl's command line (the words after `argv[0]`): switches may
/// be bundled (`-lne`); `-e`, `-E` and `-I` take the rest of the word or
/// the next one; `-M`, `-m`, `-i`, `-x`, `-d`, `-D`, `-F`, `-C` the rest of
/// the word; `-l` and `-0` digits.
pub fn parse_args(args: &[String]) -> Args {
    let mut out = Args::default();
    let mut code = false;
    let mut i = 0;
    while let Some(arg) = args.get(i) {
        if arg == "--" {
            out.script = args.get(i + 1).cloned();
            break;
        }
        if arg == "-" {
            break;
        }
        let Some(switches) = arg.strip_prefix('-') else {
            out.script = Some(arg.clone());
            break;
        };
        let mut chars = switches.char_indices().peekable();
        while let Some((at, switch)) = chars.next() {
            let rest = &switches[at + switch.len_utf8()..];
            match switch {
                'e' | 'E' | 'I' => {
                    let value = if rest.is_empty() {
                        i += 1;
                        args.get(i).cloned()
                    } else {
                        Some(rest.to_string())
                    };
                    if switch == 'I' {
                        out.include.extend(value);
                    } else {
                        code = true;
                    }
                    break;
                }
                'M' | 'm' | 'i' | 'x' | 'd' | 'D' | 'F' | 'C' => break,
                'l' | '0' => {
                    while chars
                        .next_if(|(_, c)| c.is_ascii_hexdigit() || *c == 'x')
                        .is_some()
                    {}
                }
                'T' | 't' => out.taint = true,
                _ => {}
            }
        }
        i += 1;
    }
    if code {
        out.script = None;
    }
    out
}

/// The library folders compiled into perl: the absolute paths in the
/// binaries' strings that have `perl` in them.
pub fn compiled_inc<'a>(binaries: &[&'a [u8]]) -> Vec<&'a str> {
    let mut out: Vec<&str> = Vec::new();
    for bytes in binaries {
        for path in common::binary_paths(bytes) {
            if path.contains("perl") && !out.contains(&path) {
                out.push(path);
            }
        }
    }
    out
}

/// What the `@INC` folders keep out, given a path below one: C headers
/// (`CORE/*.h`, read only when compiling XS modules) and the manual's
/// `.pod` pages (read by perldoc), but `perldiag.pod`, which `use
/// diagnostics` reads at run time.
pub fn skipped_in_inc(below: &str) -> bool {
    below.ends_with(".h")
        || (below.ends_with(".pod") && pare_image::paths::file_name(below) != "perldiag.pod")
}

/// Keeps the interpreter's library and what its arguments name.
pub fn add(cx: &Context<'_>, invocation: &Invocation, plan: &mut Plan) -> Vec<Undecided> {
    let args = parse_args(&invocation.args);
    let program = invocation.real.as_str();
    let mut undecided = Vec::new();
    let mut objects = Vec::new();
    let why = |what: &str| {
        Why::Rule(Rule::InterpreterLibrary {
            interpreter: program.to_string(),
            what: what.to_string(),
        })
    };
    let inc = inc_folders(cx, program);
    if inc.is_empty() {
        undecided.push(Undecided {
            program: program.to_string(),
            message: "no @INC folder found in the binary or its libperl; keep perl's library \
                      with --include PATH"
                .to_string(),
        });
    }
    let keep_all = |_: &str| false;
    for dir in &inc {
        common::keep_folder(cx, plan, dir, &why("@INC"), &skipped_in_inc, &mut objects);
    }
    let env = if args.taint {
        None
    } else {
        cx.config
            .var("PERL5LIB")
            .or_else(|| cx.config.var("PERLLIB"))
    };
    for dir in common::path_list(env) {
        let dir = common::absolute(cx.workdir, dir);
        common::keep_folder(
            cx,
            plan,
            &dir,
            &why("PERL5LIB entry"),
            &keep_all,
            &mut objects,
        );
    }
    for dir in &args.include {
        let dir = common::absolute(cx.workdir, dir);
        let why = Why::Rule(Rule::Argument {
            program: program.to_string(),
            argument: format!("-I{dir}"),
        });
        common::keep_folder(cx, plan, &dir, &why, &keep_all, &mut objects);
    }
    if let Some(script) = &args.script {
        undecided.extend(common::keep_script(cx, program, script, plan));
        let at = common::absolute(cx.workdir, script);
        if let Ok(Some(text)) = cx.flat.read(at.trim_start_matches('/')) {
            let commands = commands(&String::from_utf8_lossy(&text));
            undecided.extend(common::keep_commands(cx, &at, &commands, plan));
        }
    }
    common::keep_loaded(cx, plan, &objects);
    undecided
}

/// The `@INC` folders of the perl at `program` that exist in the image,
/// from its bytes and its `libperl`'s.
fn inc_folders(cx: &Context<'_>, program: &str) -> Vec<String> {
    let mut binaries = vec![program.to_string()];
    if let Some(info) = cx.root.elf(program) {
        for lib in info.needed.iter().filter(|l| l.starts_with("libperl")) {
            binaries.extend(cx.loader.dlopen(lib, program).map(|(real, ..)| real));
        }
    }
    let bytes: Vec<_> = binaries
        .iter()
        .filter_map(|b| cx.flat.read(b.trim_start_matches('/')).ok().flatten())
        .collect();
    let slices: Vec<&[u8]> = bytes.iter().map(|b| b.as_ref()).collect();
    compiled_inc(&slices)
        .into_iter()
        .filter(|dir| common::is_dir(cx, dir))
        .map(str::to_string)
        .collect()
}

/// The programs a perl script runs with a literal command: `system` and
/// `exec` (a list or one string), backticks and `qx`, and `open` with a
/// pipe (`"-|", "id"` or `"id |"`). Comments, POD, strings and regexes
/// are stepped over; a command built at run time is not seen.
pub fn commands(text: &str) -> Vec<Command> {
    let code = without_pod(text);
    let mut lexer = Lexer {
        text: &code,
        at: 0,
        heredoc: None,
        out: Vec::new(),
    };
    lexer.run();
    lexer.out
}

/// `text` with POD blocks blanked (lines kept, so positions stay
/// meaningful) and cut at `__END__`/`__DATA__`.
fn without_pod(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_pod = false;
    for line in text.lines() {
        if line.starts_with("__END__") || line.starts_with("__DATA__") {
            break;
        }
        if line.starts_with('=') && line[1..].starts_with(|c: char| c.is_ascii_alphabetic()) {
            in_pod = !line.starts_with("=cut");
            out.push('\n');
            continue;
        }
        if !in_pod {
            out.push_str(line);
        }
        out.push('\n');
    }
    out
}

struct Lexer<'a> {
    text: &'a str,
    at: usize,
    /// The terminator of a here-document whose body starts at the next
    /// line, and whether it may be indented (`<<~`).
    heredoc: Option<(String, bool)>,
    out: Vec<Command>,
}

impl<'a> Lexer<'a> {
    fn bytes(&self) -> &[u8] {
        self.text.as_bytes()
    }

    fn peek(&self, ahead: usize) -> Option<u8> {
        self.bytes().get(self.at + ahead).copied()
    }

    fn run(&mut self) {
        while let Some(c) = self.peek(0) {
            match c {
                b'\n' => {
                    self.at += 1;
                    if let Some((end, indented)) = self.heredoc.take() {
                        self.skip_heredoc(&end, indented);
                    }
                }
                b'#' => self.skip_to_line_end(),
                b'\'' | b'"' => {
                    if self.delimited(c).is_none() {
                        return;
                    }
                }
                b'`' => match self.delimited(b'`') {
                    Some(body) => self.out.extend(shell_command(&body, true)),
                    None => return,
                },
                b'$' | b'@' | b'%' => self.skip_variable(),
                b'=' | b'!' if self.peek(1) == Some(b'~') => {
                    self.at += 2;
                    self.skip_space();
                    if self.peek(0) == Some(b'/') && self.delimited(b'/').is_none() {
                        return;
                    }
                }
                b'<' if self.peek(1) == Some(b'<') => self.here_document(),
                c if c.is_ascii_alphabetic() || c == b'_' => {
                    let after_arrow = self.text[..self.at].ends_with("->");
                    let word = self.word();
                    if !after_arrow && !self.word_construct(word) {
                        return;
                    }
                }
                _ => self.at += 1,
            }
        }
    }

    /// Acts on a bare word just read; false when the text ends inside it.
    fn word_construct(&mut self, word: &str) -> bool {
        let word = word.strip_prefix("CORE::").unwrap_or(word);
        match word {
            "qx" => match self.quote_like() {
                Some(Some((body, delimiter))) => {
                    self.out.extend(shell_command(&body, delimiter != b'\''));
                    true
                }
                Some(None) => true,
                None => false,
            },
            "q" | "qq" | "qw" | "m" | "qr" => self.quote_like().is_some(),
            "s" | "tr" | "y" => match self.quote_like() {
                None => false,
                Some(None) => true,
                // `s{a}{b}` opens its second part anew; in `s/a/b/` the
                // first part's closing delimiter opens the second.
                Some(Some((_, delimiter))) if closing(delimiter).is_some() => {
                    self.skip_space();
                    match self.peek(0) {
                        Some(second) => self.delimited(second).is_some(),
                        None => false,
                    }
                }
                Some(Some((_, delimiter))) => {
                    self.at -= 1;
                    self.delimited(delimiter).is_some()
                }
            },
            "system" | "exec" => {
                self.call();
                true
            }
            "open" => {
                self.open();
                true
            }
            _ => true,
        }
    }

    fn skip_to_line_end(&mut self) {
        match self.text[self.at..].find('\n') {
            Some(i) => self.at += i,
            None => self.at = self.text.len(),
        }
    }

    fn skip_space(&mut self) {
        while self.peek(0).is_some_and(|c| c.is_ascii_whitespace()) {
            if self.peek(0) == Some(b'\n')
                && let Some((end, indented)) = self.heredoc.take()
            {
                self.at += 1;
                self.skip_heredoc(&end, indented);
                continue;
            }
            self.at += 1;
        }
    }

    /// A bare word (`system`, `CORE::open`, `Foo::bar`).
    fn word(&mut self) -> &'a str {
        let start = self.at;
        while self
            .peek(0)
            .is_some_and(|c| c.is_ascii_alphanumeric() || c == b'_' || c == b':')
        {
            self.at += 1;
        }
        let text: &'a str = self.text;
        &text[start..self.at]
    }

    /// `$name`, `@name`, `%name`, `$#name`, `${`, `$'`: the sigil and the
    /// name, so a name like `$s` or `$q` is not read as an operator.
    fn skip_variable(&mut self) {
        self.at += 1;
        match self.peek(0) {
            Some(b'#') | Some(b'\'') | Some(b'"') | Some(b'`') | Some(b'$') => self.at += 1,
            _ => {}
        }
        self.word();
    }

    /// `<<"EOF"`, `<<'EOF'`, `<<EOF`, `<<~EOF`: remembers the terminator;
    /// the body is skipped at the end of the line.
    fn here_document(&mut self) {
        self.at += 2;
        let indented = self.peek(0) == Some(b'~');
        if indented {
            self.at += 1;
        }
        let end = match self.peek(0) {
            Some(q @ (b'"' | b'\'')) => self.delimited(q),
            Some(c) if c.is_ascii_alphabetic() || c == b'_' => Some(self.word().to_string()),
            _ => None,
        };
        if let Some(end) = end {
            self.heredoc = Some((end, indented));
        }
    }

    fn skip_heredoc(&mut self, end: &str, indented: bool) {
        while self.at < self.text.len() {
            let rest = &self.text[self.at..];
            let line_end = rest.find('\n').map_or(rest.len(), |i| i + 1);
            let line = rest[..line_end].trim_end_matches(['\n', '\r']);
            self.at += line_end;
            let line = if indented { line.trim_start() } else { line };
            if line == end {
                return;
            }
        }
    }

    /// After `q`, `qq`, `qx`, `m`, …: the quoted body and its delimiter;
    /// `Some(None)` when the word is not followed by a delimiter (a hash
    /// key, a sub named `s`); None when the text ends inside the quote.
    fn quote_like(&mut self) -> Option<Option<(String, u8)>> {
        let start = self.at;
        self.skip_space();
        match self.peek(0) {
            // `q => 1` (a hash key) and `s, 1` (a list item) have none;
            // `#` delimits only right after the word (else a comment).
            Some(d) if b"([{</|!'\"~^#".contains(&d) && !(d == b'#' && start != self.at) => {
                self.delimited(d).map(|body| Some((body, d)))
            }
            _ => {
                self.at = start;
                Some(None)
            }
        }
    }

    /// The body of a quote opened by `open` at the current position (which
    /// is `open`); brackets nest, `\` escapes. None at the end of the text.
    fn delimited(&mut self, open: u8) -> Option<String> {
        let close = closing(open).unwrap_or(open);
        let start = self.at + 1;
        let mut depth = 0usize;
        let mut i = start;
        let bytes = self.bytes();
        while let Some(&c) = bytes.get(i) {
            if c == b'\\' {
                i += 2;
                continue;
            }
            if c == close && depth == 0 {
                let body = self.text[start..i].to_string();
                self.at = i + 1;
                return Some(body);
            }
            if c == open && close != open {
                depth += 1;
            } else if c == close {
                depth -= 1;
            }
            i += 1;
        }
        self.at = self.text.len();
        None
    }

    /// A literal string at the current position (after spaces): its value
    /// and whether it interpolates.
    fn string(&mut self) -> Option<(String, bool)> {
        self.skip_space();
        let quote = self.peek(0).filter(|q| *q == b'\'' || *q == b'"')?;
        let body = self.delimited(quote)?;
        Some((unescape(&body, quote), quote == b'"'))
    }

    /// Whether a list separator (`,` or `=>`) comes next.
    fn list_follows(&mut self) -> bool {
        self.skip_space();
        self.peek(0) == Some(b',') || (self.peek(0) == Some(b'=') && self.peek(1) == Some(b'>'))
    }

    /// `system`/`exec` with a literal: a list (`"id", "-u"`), an indirect
    /// object (`{ "id" } …`) or one string.
    fn call(&mut self) {
        self.skip_space();
        if self.peek(0) == Some(b'(') {
            self.at += 1;
            self.skip_space();
        }
        if self.peek(0) == Some(b'{') {
            self.at += 1;
            if let Some((program, _)) = self.string() {
                self.out.push(list_command(&program));
            }
            return;
        }
        let Some((command, interpolates)) = self.string() else {
            return;
        };
        if self.list_follows() {
            self.out.push(list_command(&command));
        } else {
            self.out.extend(shell_command(&command, interpolates));
        }
    }

    /// `open` with a pipe: `open($fh, "-|", "id", …)` (a list or one
    /// string) or two-argument `open(FH, "id |")`.
    fn open(&mut self) {
        self.skip_space();
        if self.peek(0) == Some(b'(') {
            self.at += 1;
        }
        // The handle: anything up to the first comma (bounded).
        let limit = (self.at + MAX_CALL).min(self.text.len());
        let Some(comma) = self.text.as_bytes()[self.at..limit]
            .iter()
            .position(|c| *c == b',' || *c == b';')
        else {
            return;
        };
        if self.bytes()[self.at + comma] == b';' {
            return;
        }
        self.at += comma + 1;
        let Some((mode, interpolates)) = self.string() else {
            return;
        };
        let mode = mode.trim();
        if mode == "-|" || mode == "|-" {
            if !self.list_follows() {
                return; // two-argument "-|": a fork, no program
            }
            self.at += 1;
            let Some((command, interpolates)) = self.string() else {
                return;
            };
            if self.list_follows() {
                self.out.push(list_command(&command));
            } else {
                self.out.extend(shell_command(&command, interpolates));
            }
        } else if let Some(command) = mode.strip_suffix('|').or_else(|| mode.strip_prefix('|')) {
            self.out.extend(shell_command(command, interpolates));
        }
    }
}

/// The closing delimiter of an opening bracket.
fn closing(open: u8) -> Option<u8> {
    match open {
        b'(' => Some(b')'),
        b'[' => Some(b']'),
        b'{' => Some(b'}'),
        b'<' => Some(b'>'),
        _ => None,
    }
}

/// A string's value: `\\` and the escaped quote unescaped; other escapes
/// of a double-quoted string kept as written (they never name a program).
fn unescape(body: &str, quote: u8) -> String {
    let mut out = String::with_capacity(body.len());
    let mut chars = body.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some(n) if n == '\\' || n == quote as char => out.push(n),
                Some(n) => {
                    out.push('\\');
                    out.push(n);
                }
                None => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// A command given as a list: its first element is the program, run
/// without a shell.
fn list_command(program: &str) -> Command {
    Command {
        program: plain(program).to_string(),
        shell: false,
        text: program.to_string(),
    }
}

/// A program name with nothing expanded in it, else "".
fn plain(word: &str) -> &str {
    let ok = !word.is_empty()
        && word
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"/._+-".contains(&b));
    if ok { word } else { "" }
}

/// A one-string command as perl runs it (`doio.c`, `do_exec3`): through
/// `/bin/sh` when it starts with `exec ` or a `NAME=value` word, or holds
/// a shell metacharacter (a newline only when not the last character);
/// else split into words, the first the program. Interpolated variables
/// (`$dir`, `@{[…]}`) stand for a word whose value is unknown.
pub fn shell_command(command: &str, interpolates: bool) -> Option<Command> {
    let text = command.trim();
    if text.is_empty() {
        return None;
    }
    let literal = if interpolates {
        without_variables(text)
    } else {
        text.to_string()
    };
    let first = literal.split_whitespace().next().unwrap_or_default();
    let metacharacter = |c: char| "$&*(){}[]'\";\\|?<>~`".contains(c);
    let body = literal.strip_suffix('\n').unwrap_or(&literal);
    let shell = first == "exec"
        || first.split_once('=').is_some_and(|(name, _)| {
            !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        })
        || body.contains(metacharacter)
        || body.contains('\n');
    let mut written = text.split_whitespace();
    let mut literal_words = literal.split_whitespace();
    if first == "exec" {
        // `exec id`: the shell runs the next word in its place.
        written.next();
        literal_words.next();
    }
    let (written, literal) = (written.next(), literal_words.next());
    let program = match (written, literal) {
        (Some(w), Some(l)) if w == l => plain(w),
        _ => "", // interpolated: unknown until run time
    };
    Some(Command {
        program: program.to_string(),
        shell,
        text: text.to_string(),
    })
}

/// `text` with each interpolated variable (`$x`, `${x}`, `@x`, `$x{..}`)
/// replaced by `_`, so its sigil is not taken for a metacharacter.
fn without_variables(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        let starts_name = |n: &char| n.is_alphanumeric() || *n == '_' || *n == '{';
        if (c == '$' || c == '@') && chars.peek().is_some_and(starts_name) {
            out.push('_');
            let mut depth = 0usize;
            while let Some(&n) = chars.peek() {
                match n {
                    '{' | '[' => depth += 1,
                    '}' | ']' if depth > 0 => depth -= 1,
                    _ if depth == 0 && !(n.is_alphanumeric() || n == '_' || n == ':') => break,
                    _ => {}
                }
                chars.next();
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(w: &[&str]) -> Vec<String> {
        w.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn interpreter_names() {
        for (name, want) in [
            ("perl", true),
            ("perl5.36.0", true),
            ("perl5.36-x86_64-linux-gnu", false),
            ("perldoc", false),
            ("perlbug", false),
        ] {
            assert_eq!(is(name), want, "{name}");
        }
        assert!(wants("usr/bin/perl"));
        assert!(wants("usr/local/bin/perl5.38.2"));
        assert!(wants("usr/lib/x86_64-linux-gnu/libperl.so.5.36.0"));
        assert!(wants("app/app.pl"));
        assert!(!wants("usr/share/perl/5.36.0/strict.pm"));
        assert!(!wants("usr/share/perl/5.36.0/perl5db.pl"));
    }

    #[test]
    fn arguments_say_what_runs() {
        /// What it proves, the words, the script, the -I folders.
        type Case<'a> = (&'a str, &'a [&'a str], Option<&'a str>, &'a [&'a str]);
        let table: &[Case] = &[
            ("a script", &["/app/x.pl", "a"], Some("/app/x.pl"), &[]),
            ("-w", &["-w", "/app/x.pl"], Some("/app/x.pl"), &[]),
            ("bundled", &["-wT", "x.pl"], Some("x.pl"), &[]),
            (
                "-I attached",
                &["-I/app/lib", "x.pl"],
                Some("x.pl"),
                &["/app/lib"],
            ),
            (
                "-I then a folder",
                &["-I", "lib", "x.pl"],
                Some("x.pl"),
                &["lib"],
            ),
            ("-e", &["-e", "print 1", "x.pl"], None, &[]),
            ("-lne", &["-lne", "print", "file"], None, &[]),
            ("-l0 then -e", &["-l0", "-e", "1"], None, &[]),
            ("-M", &["-MData::Dumper", "x.pl"], Some("x.pl"), &[]),
            ("stdin", &["-", "x.pl"], None, &[]),
            ("--", &["--", "-x.pl"], Some("-x.pl"), &[]),
        ];
        for (case, args, script, include) in table {
            let got = parse_args(&words(args));
            assert_eq!(got.script.as_deref(), *script, "{case}");
            assert_eq!(got.include, words(include), "{case}");
        }
        assert!(parse_args(&words(&["-T", "x.pl"])).taint);
    }

    #[test]
    fn hostile_scripts_never_panic() {
        let sample = "use strict; # é\nmy $s = q{a}; s/x/y/; print <<~\"EOF\";\n  `id`\n  EOF\n\
            system { 'id' } 'id'; open(my $fh, '-|', \"ls €\"); qx(date); exec \"a | b\";\n\
            =pod\n\n`x`\n=cut\n$x =~ tr/a/b/; 1;\n__END__\n";
        for text in common::testing::hostile_texts(sample) {
            let _ = commands(&text);
        }
        assert_eq!(commands(sample).len(), 4);
    }

    #[test]
    fn inc_folders_keep_what_runs() {
        for (below, skipped) in [
            ("strict.pm", false),
            ("auto/POSIX/POSIX.so", false),
            ("unicore/lib/Perl/Word.pl", false),
            ("CORE/perl.h", true),
            ("pod/perlfunc.pod", true),
            ("pod/perldiag.pod", false),
        ] {
            assert_eq!(skipped_in_inc(below), skipped, "{below}");
        }
    }

    #[test]
    fn inc_comes_from_the_binary_strings() {
        let debian = b"\0/etc/perl\0/usr/local/lib/x86_64-linux-gnu/perl/5.36.0\0\
            /usr/lib/x86_64-linux-gnu/perl5/5.36\0/usr/share/perl5\0/usr/bin\0\
            /usr/lib/x86_64-linux-gnu/perl-base\0%s/%s\0";
        let lib = b"\0/usr/share/perl/5.36\0/etc/perl\0";
        assert_eq!(
            compiled_inc(&[debian, lib]),
            [
                "/etc/perl",
                "/usr/local/lib/x86_64-linux-gnu/perl/5.36.0",
                "/usr/lib/x86_64-linux-gnu/perl5/5.36",
                "/usr/share/perl5",
                "/usr/lib/x86_64-linux-gnu/perl-base",
                "/usr/share/perl/5.36",
            ]
        );
    }

    #[test]
    fn one_string_commands_run_as_perl_runs_them() {
        let table: &[(&str, bool, &str, bool)] = &[
            ("id", false, "id", false),
            ("id -u", false, "id", false),
            ("/usr/bin/id -u", false, "/usr/bin/id", false),
            ("id | cut -c1-3", false, "id", true),
            ("id 2>&1", false, "id", true),
            ("LANG=C id", false, "", true),
            ("exec id", false, "id", true),
            ("id\n", false, "id", false),
            ("id $user", true, "id", false),
            ("$tool -v", true, "", false),
            ("id $user", false, "id", true),
        ];
        for (text, interpolates, program, shell) in table {
            let got = shell_command(text, *interpolates).unwrap();
            assert_eq!(
                (got.program.as_str(), got.shell),
                (*program, *shell),
                "{text}"
            );
        }
        assert_eq!(shell_command("  ", false), None);
    }

    #[test]
    fn literal_programs_in_scripts() {
        let of = |text: &str| -> Vec<(String, bool)> {
            commands(text)
                .into_iter()
                .map(|c| (c.program, c.shell))
                .collect()
        };
        let p = |name: &str, shell| (name.to_string(), shell);
        /// What it proves, the script, (program, through a shell) found.
        type Case<'a> = (&'a str, &'a str, Vec<(String, bool)>);
        let table: &[Case] = &[
            ("backticks", "my $id = `id`;", vec![p("id", false)]),
            ("qx()", "my $id = qx(id -u);", vec![p("id", false)]),
            ("qx{} with a pipe", "qx{id | cat}", vec![p("id", true)]),
            ("system list", "system('id', '-u');", vec![p("id", false)]),
            ("system string", "system \"id -u\";", vec![p("id", false)]),
            (
                "system with shell syntax",
                "system(\"id > /tmp/x\")",
                vec![p("id", true)],
            ),
            ("exec", "exec 'id';", vec![p("id", false)]),
            (
                "indirect object",
                "exec { 'id' } 'myid';",
                vec![p("id", false)],
            ),
            (
                "open -|",
                "open(my $fh, '-|', 'id', '-u') or die;",
                vec![p("id", false)],
            ),
            (
                "open -| one string",
                "open my $fh, \"-|\", \"id\";",
                vec![p("id", false)],
            ),
            (
                "two-argument open",
                "open(FH, \"id |\");",
                vec![p("id", false)],
            ),
            (
                "two-argument open, shell",
                "open(FH, \"id | cat |\");",
                vec![p("id", true)],
            ),
            ("open a file", "open(my $fh, '<', '/etc/passwd');", vec![]),
            ("a comment", "# system('id');\nprint 1;", vec![]),
            ("POD", "=head1 X\n\nsystem('id')\n\n=cut\nprint 1;", vec![]),
            ("after __END__", "1;\n__END__\nsystem('id')", vec![]),
            ("a string", "print \"system('id')\";", vec![]),
            ("a regex", "$x =~ /`id`/; s{`}{x}g;", vec![]),
            ("a method", "$obj->system('id');", vec![]),
            (
                "a variable named like a quote",
                "my $s = 1; system('id');",
                vec![p("id", false)],
            ),
            (
                "a here-document",
                "print <<\"EOF\";\n`id` here\nEOF\nsystem('date');",
                vec![p("date", false)],
            ),
            (
                "a program built at run time",
                "system($tool, '-v');",
                vec![],
            ),
            ("unterminated", "system('id", vec![]),
            ("CORE::", "CORE::system('id')", vec![p("id", false)]),
        ];
        for (case, text, want) in table {
            assert_eq!(of(text), *want, "{case}");
        }
    }

    const DEBIAN_PERL: &str = "\x7fELF\0/usr/share/perl/5.36\0/etc/perl\0\
        /usr/lib/x86_64-linux-gnu/perl-base\0/usr/local/lib/site_perl\0/usr/share/perl5\0";

    const DEBIAN: &[(&str, &str)] = &[
        ("usr/bin/perl", DEBIAN_PERL),
        ("usr/bin/id", "x"),
        ("usr/bin/date", "x"),
        ("usr/bin/dash", "x"),
        ("bin/sh", "-> /usr/bin/dash"),
        ("usr/share/perl/5.36", "-> 5.36.0"),
        ("usr/share/perl/5.36.0/strict.pm", "x"),
        ("usr/share/perl/5.36.0/pod/perlfunc.pod", "x"),
        ("usr/share/perl/5.34.0/old.pm", "x"),
        ("usr/lib/x86_64-linux-gnu/perl-base/IO/Socket.pm", "x"),
        ("usr/share/perl5/Try/Tiny.pm", "x"),
        ("etc/perl/Net/libnet.cfg", "x"),
        ("app/app.pl", "my $id = `id`;\nsystem('date | cat');\n"),
        ("app/lib/App.pm", "x"),
    ];

    const ALPINE: &[(&str, &str)] = &[
        (
            "usr/bin/perl",
            "\0/usr/share/perl5/core_perl\0/usr/lib/perl5/core_perl\0\
             /usr/share/perl5/vendor_perl\0/usr/local/share/perl5/site_perl\0",
        ),
        ("usr/share/perl5/core_perl/strict.pm", "x"),
        ("usr/lib/perl5/core_perl/IO.pm", "x"),
        ("usr/share/perl5/vendor_perl/JSON.pm", "x"),
        ("usr/bin/script.pl", "print 1;"),
    ];

    const LOCAL: &[(&str, &str)] = &[
        (
            "usr/local/bin/perl",
            "\0/usr/local/lib/perl5/5.38.0\0/usr/local/lib/perl5/5.38.0/x86_64-linux\0\
             /usr/local/lib/perl5/site_perl/5.38.0\0",
        ),
        ("usr/local/lib/perl5/5.38.0/strict.pm", "x"),
        ("usr/local/lib/perl5/site_perl/5.38.0/Mojo.pm", "x"),
        ("usr/share/perl/5.36.0/strict.pm", "x"),
        ("srv/app/run.pl", "exec { 'id' } 'id';"),
        ("srv/app/lib/My.pm", "x"),
        ("srv/vendor/V.pm", "x"),
        ("srv/extra/E.pm", "x"),
        ("usr/bin/id", "x"),
    ];

    #[test]
    fn layouts() {
        use common::testing::Layout;
        let perl = ("/usr/bin/perl", "/usr/bin/perl");
        let local = ("/usr/local/bin/perl", "/usr/local/bin/perl");
        let table = [
            Layout {
                case: "Debian: @INC from the binary, the script's folder, programs it runs",
                files: DEBIAN,
                env: &[],
                workdir: "/",
                program: perl,
                words: &["-w", "/app/app.pl"],
                kept: &[
                    (
                        "/usr/share/perl/5.36",
                        "symlink on the way to /usr/share/perl/5.36.0",
                    ),
                    ("/usr/share/perl/5.36.0/strict.pm", "@INC of /usr/bin/perl"),
                    ("/usr/lib/x86_64-linux-gnu/perl-base/IO/Socket.pm", "@INC"),
                    ("/usr/share/perl5/Try/Tiny.pm", "@INC"),
                    ("/etc/perl/Net/libnet.cfg", "@INC"),
                    (
                        "/app/app.pl",
                        "named by the argument /app/app.pl of /usr/bin/perl",
                    ),
                    ("/app/lib/App.pm", "named by the argument /app/app.pl"),
                    ("/usr/bin/id", "run by /app/app.pl as `id`"),
                    ("/usr/bin/date", "run by /app/app.pl as `date | cat`"),
                ],
                dropped: &[
                    "/usr/share/perl/5.34.0/old.pm",
                    "/usr/share/perl/5.36.0/pod/perlfunc.pod",
                    "/usr/bin/dash",
                ],
                undecided: Some("/app/app.pl: runs `date | cat` through /bin/sh"),
            },
            Layout {
                case: "--keep-shell keeps the shell a command needs",
                files: DEBIAN,
                env: &["KEEP_SHELL=1"],
                workdir: "/",
                program: perl,
                words: &["/app/app.pl"],
                kept: &[
                    ("/bin/sh", "symlink on the way to /usr/bin/dash"),
                    ("/usr/bin/dash", "run by /app/app.pl as `date | cat`"),
                ],
                dropped: &[],
                undecided: None,
            },
            Layout {
                case: "Alpine: core, vendor; a script in a system folder keeps only itself",
                files: ALPINE,
                env: &[],
                workdir: "/",
                program: perl,
                words: &["/usr/bin/script.pl"],
                kept: &[
                    ("/usr/share/perl5/core_perl/strict.pm", "@INC"),
                    ("/usr/lib/perl5/core_perl/IO.pm", "@INC"),
                    ("/usr/share/perl5/vendor_perl/JSON.pm", "@INC"),
                    ("/usr/bin/script.pl", "named by the argument"),
                ],
                dropped: &["/usr/bin/perl"],
                undecided: None,
            },
            Layout {
                case: "/usr/local: its own @INC, PERL5LIB, -I",
                files: LOCAL,
                env: &["PERL5LIB=/srv/extra"],
                workdir: "/srv/app",
                program: local,
                words: &["-I", "../vendor", "run.pl"],
                kept: &[
                    (
                        "/usr/local/lib/perl5/5.38.0/strict.pm",
                        "@INC of /usr/local/bin/perl",
                    ),
                    ("/usr/local/lib/perl5/site_perl/5.38.0/Mojo.pm", "@INC"),
                    ("/srv/extra/E.pm", "PERL5LIB entry"),
                    (
                        "/srv/vendor/V.pm",
                        "named by the argument -I/srv/app/../vendor",
                    ),
                    ("/srv/app/lib/My.pm", "named by the argument run.pl"),
                    ("/usr/bin/id", "run by /srv/app/run.pl as `id`"),
                ],
                dropped: &["/usr/share/perl/5.36.0/strict.pm"],
                undecided: None,
            },
            Layout {
                case: "-T ignores PERL5LIB",
                files: LOCAL,
                env: &["PERL5LIB=/srv/extra"],
                workdir: "/srv/app",
                program: local,
                words: &["-T", "run.pl"],
                kept: &[],
                dropped: &["/srv/extra/E.pm"],
                undecided: None,
            },
            Layout {
                case: "a perl whose @INC cannot be read",
                files: &[("usr/bin/perl", "no strings here")],
                env: &[],
                workdir: "/",
                program: perl,
                words: &["-e", "1"],
                kept: &[],
                dropped: &[],
                undecided: Some("no @INC folder found"),
            },
        ];
        common::testing::check(&table, add);
    }
}
