//! `sha256:` content digests, computed while bytes stream.
//!
//! pare-image has its own `Digest`; this crate keeps one too so that it
//! depends on nothing of pare's (pare-image depends on it). Both print and
//! parse the same text, which is how they convert.

use std::fmt;
use std::str::FromStr;

use sha2::{Digest as _, Sha256};

use crate::error::Error;

/// A `sha256:<64 lowercase hex>` content digest.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Digest {
    hex: String,
}

impl Digest {
    /// Parses `sha256:<64 lowercase hex digits>`; other algorithms are refused.
    pub fn parse(text: &str) -> Result<Self, Error> {
        let invalid = |reason: &str| Error::InvalidDigest {
            digest: text.chars().take(100).collect(),
            reason: reason.to_string(),
        };
        let (algorithm, hex) = text
            .split_once(':')
            .ok_or_else(|| invalid("missing algorithm prefix"))?;
        if algorithm != "sha256" {
            return Err(invalid("only sha256 is supported"));
        }
        let valid = hex.len() == 64 && hex.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'));
        if !valid {
            return Err(invalid("expected 64 lowercase hex digits"));
        }
        Ok(Digest {
            hex: hex.to_string(),
        })
    }

    /// The digest of `bytes`.
    pub fn of(bytes: &[u8]) -> Self {
        Self::from_hasher(Sha256::new_with_prefix(bytes))
    }

    pub(crate) fn from_hasher(hasher: Sha256) -> Self {
        Digest {
            hex: hex::encode(hasher.finalize()),
        }
    }

    /// The 64 hex digits, without `sha256:`.
    pub fn hex(&self) -> &str {
        &self.hex
    }
}

impl FromStr for Digest {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self, Error> {
        Digest::parse(s)
    }
}

impl fmt::Display for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "sha256:{}", self.hex)
    }
}

impl fmt::Debug for Digest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parse_table() {
        let good = format!("sha256:{}", "a".repeat(64));
        for (text, ok) in [
            (good.as_str(), true),
            ("sha256:abc", false),
            ("sha512:aaaa", false),
            ("aaaa", false),
            (&*format!("sha256:{}", "A".repeat(64)), false),
            (&*format!("sha256:{}", "g".repeat(64)), false),
        ] {
            assert_eq!(Digest::parse(text).is_ok(), ok, "{text}");
        }
        assert_eq!(Digest::parse(&good).unwrap().to_string(), good);
    }

    #[test]
    fn of_empty_is_the_well_known_digest() {
        assert_eq!(
            Digest::of(b"").to_string(),
            "sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
    }
}
