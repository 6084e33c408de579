//! `WWW-Authenticate` challenges, token scopes and token responses.
//!
//! Hand-written: the challenge grammar (RFC 9110 §11.6.1: a scheme, then
//! `name=value` or `name="quoted"` parameters, several challenges possibly in
//! one header) is forty lines, and the crates that parse it either pull an
//! HTTP stack or keep only the first challenge. Parsing is on strings, apart
//! from I/O, so the table tests below cover the hostile shapes.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::time::Duration;

use serde::Deserialize;

/// One challenge of a `WWW-Authenticate` header.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Challenge {
    /// The scheme in lower case (`bearer`, `basic`).
    pub scheme: String,
    /// The parameters in the order given, names in lower case.
    pub params: Vec<(String, String)>,
}

impl Challenge {
    /// The value of parameter `name` (lower case).
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// Whether this is the bearer-token scheme.
    pub fn is_bearer(&self) -> bool {
        self.scheme == "bearer"
    }

    /// Whether this is HTTP basic authentication.
    pub fn is_basic(&self) -> bool {
        self.scheme == "basic"
    }
}

/// Parses every challenge of one `WWW-Authenticate` header value. Input that
/// does not follow the grammar ends the parse; what came before is kept.
pub fn parse_challenges(header: &str) -> Vec<Challenge> {
    let mut p = Cursor {
        s: header.as_bytes(),
        i: 0,
    };
    let mut out = Vec::new();
    loop {
        p.skip(|c| c == b' ' || c == b'\t' || c == b',');
        let Some(scheme) = p.token() else { break };
        let mut challenge = Challenge {
            scheme: scheme.to_ascii_lowercase(),
            params: Vec::new(),
        };
        loop {
            p.skip(|c| c == b' ' || c == b'\t');
            let start = p.i;
            let Some(name) = p.token() else { break };
            p.skip(|c| c == b' ' || c == b'\t');
            if !p.eat(b'=') {
                // A bare token: the next challenge's scheme.
                p.i = start;
                break;
            }
            p.skip(|c| c == b' ' || c == b'\t');
            let value = if p.peek() == Some(b'"') {
                match p.quoted() {
                    Some(v) => v,
                    None => break,
                }
            } else {
                p.token().unwrap_or_default()
            };
            challenge.params.push((name.to_ascii_lowercase(), value));
            p.skip(|c| c == b' ' || c == b'\t');
            if !p.eat(b',') {
                break;
            }
        }
        out.push(challenge);
        if p.i >= p.s.len() {
            break;
        }
        // Only whitespace and commas separate challenges; anything else that
        // is not a token stops the parse.
        if p.peek()
            .is_some_and(|c| !is_tchar(c) && c != b',' && c != b' ')
        {
            break;
        }
    }
    out
}

struct Cursor<'a> {
    s: &'a [u8],
    i: usize,
}

impl Cursor<'_> {
    fn peek(&self) -> Option<u8> {
        self.s.get(self.i).copied()
    }
    fn eat(&mut self, c: u8) -> bool {
        let hit = self.peek() == Some(c);
        self.i += usize::from(hit);
        hit
    }
    fn skip(&mut self, f: impl Fn(u8) -> bool) {
        while self.peek().is_some_and(&f) {
            self.i += 1;
        }
    }
    fn token(&mut self) -> Option<String> {
        let start = self.i;
        self.skip(is_tchar);
        (self.i > start).then(|| String::from_utf8_lossy(&self.s[start..self.i]).into_owned())
    }
    fn quoted(&mut self) -> Option<String> {
        self.i += 1; // the opening quote
        let mut value = Vec::new();
        loop {
            match self.peek()? {
                b'"' => {
                    self.i += 1;
                    return Some(String::from_utf8_lossy(&value).into_owned());
                }
                b'\\' => {
                    self.i += 1;
                    value.push(self.peek()?);
                    self.i += 1;
                }
                c => {
                    value.push(c);
                    self.i += 1;
                }
            }
        }
    }
}

fn is_tchar(c: u8) -> bool {
    c.is_ascii_alphanumeric() || b"!#$%&'*+-.^_`|~/:".contains(&c)
}

/// The access a request needs: per repository, the actions (`pull`, `push`).
/// Tokens are requested for and cached by such sets.
#[derive(Clone, Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Scopes(BTreeMap<String, BTreeSet<String>>);

impl Scopes {
    /// No access asked (the `/v2/` ping).
    pub fn none() -> Self {
        Scopes::default()
    }

    /// `pull` on `repository`.
    pub fn pull(repository: &str) -> Self {
        Scopes::none().with(repository, &["pull"])
    }

    /// `pull,push` on `repository`.
    pub fn push(repository: &str) -> Self {
        Scopes::none().with(repository, &["pull", "push"])
    }

    /// These scopes plus `actions` on `repository`.
    pub fn with(mut self, repository: &str, actions: &[&str]) -> Self {
        let set = self.0.entry(repository.to_string()).or_default();
        set.extend(actions.iter().map(|a| a.to_string()));
        self
    }

    /// Whether a token for `self` also grants everything in `other`.
    pub fn covers(&self, other: &Scopes) -> bool {
        other
            .0
            .iter()
            .all(|(repo, actions)| self.0.get(repo).is_some_and(|have| actions.is_subset(have)))
    }

    /// The union of both.
    pub fn union(&self, other: &Scopes) -> Scopes {
        let mut out = self.clone();
        for (repo, actions) in &other.0 {
            out.0
                .entry(repo.clone())
                .or_default()
                .extend(actions.iter().cloned());
        }
        out
    }

    /// Whether no access is asked.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The `scope` query values, one per repository
    /// (`repository:NAME:pull,push`).
    pub fn to_params(&self) -> Vec<String> {
        self.0
            .iter()
            .map(|(repo, actions)| {
                let actions: Vec<&str> = actions.iter().map(String::as_str).collect();
                format!("repository:{repo}:{}", actions.join(","))
            })
            .collect()
    }
}

impl fmt::Display for Scopes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.to_params().join(" "))
    }
}

/// The JSON a token server answers.
#[derive(Deserialize)]
pub(crate) struct TokenResponse {
    pub token: Option<String>,
    pub access_token: Option<String>,
    pub expires_in: Option<u64>,
}

impl TokenResponse {
    /// The token (`token`, or the OAuth2 `access_token`) and how long it lives.
    pub fn into_token(self) -> Option<(String, Duration)> {
        let token = self.token.or(self.access_token).filter(|t| !t.is_empty())?;
        // The spec's default is 60 s, which is also the least Docker assumes.
        let lifetime = self.expires_in.unwrap_or(60).max(60);
        Some((token, Duration::from_secs(lifetime)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect()
    }

    #[test]
    fn challenge_table() {
        let rows: Vec<(&str, Vec<Challenge>)> = vec![
            (
                r#"Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/nginx:pull""#,
                vec![Challenge {
                    scheme: "bearer".into(),
                    params: p(&[
                        ("realm", "https://auth.docker.io/token"),
                        ("service", "registry.docker.io"),
                        ("scope", "repository:library/nginx:pull"),
                    ]),
                }],
            ),
            (
                r#"Basic realm="test-realm""#,
                vec![Challenge {
                    scheme: "basic".into(),
                    params: p(&[("realm", "test-realm")]),
                }],
            ),
            (
                // Two challenges in one header, unquoted values, odd spacing.
                r#"Basic realm=r1 , Bearer realm="http://h/t", service=s"#,
                vec![
                    Challenge {
                        scheme: "basic".into(),
                        params: p(&[("realm", "r1")]),
                    },
                    Challenge {
                        scheme: "bearer".into(),
                        params: p(&[("realm", "http://h/t"), ("service", "s")]),
                    },
                ],
            ),
            (
                r#"Bearer realm="a\"b",error="insufficient_scope",scope="repository:x:pull,push repository:y:pull""#,
                vec![Challenge {
                    scheme: "bearer".into(),
                    params: p(&[
                        ("realm", "a\"b"),
                        ("error", "insufficient_scope"),
                        ("scope", "repository:x:pull,push repository:y:pull"),
                    ]),
                }],
            ),
            ("", vec![]),
            (
                // An unclosed quote: the challenge is kept without the parameter.
                r#"Bearer realm="unterminated"#,
                vec![Challenge {
                    scheme: "bearer".into(),
                    params: vec![],
                }],
            ),
            (
                "Negotiate",
                vec![Challenge {
                    scheme: "negotiate".into(),
                    params: vec![],
                }],
            ),
        ];
        for (header, want) in rows {
            assert_eq!(parse_challenges(header), want, "{header}");
        }
    }

    #[test]
    fn hostile_headers_do_not_panic() {
        for header in [
            "\"",
            "=",
            ",,,",
            "a=\\",
            "Bearer \"x",
            "Bearer a=\"\\",
            "\u{ff}\u{fe}==",
        ] {
            let _ = parse_challenges(header);
        }
    }

    #[test]
    fn scopes_cover_and_merge() {
        let push = Scopes::push("dst");
        let mount = Scopes::push("dst").with("src", &["pull"]);
        assert!(push.covers(&Scopes::pull("dst")));
        assert!(!push.covers(&mount));
        assert!(mount.covers(&push));
        assert!(Scopes::none().covers(&Scopes::none()));
        assert_eq!(
            mount.to_params(),
            ["repository:dst:pull,push", "repository:src:pull"]
        );
        assert_eq!(
            Scopes::pull("a").union(&Scopes::push("a")),
            Scopes::push("a")
        );
    }
}
