//! CVSS base scores computed from vector strings, as FIRST specifies them.
//!
//! OSV records carry severity as a CVSS vector, not a number: the score is
//! computed here from the vector (CVSS v3.0 and v3.1, "7. CVSS v3.1
//! Equations" of the FIRST specification, with its Appendix A `Roundup`),
//! so a record cannot claim a score its vector does not support.
//!
//! Both v3.0 and v3.1 vectors are scored with the v3.1 `Roundup` (an
//! integer-based ceiling to one decimal). v3.1 introduced it because the
//! v3.0 "smallest number with one decimal not less than the input" was
//! computed with floating point and so sometimes rounded e.g. 4.000000001
//! up to 4.1; the formulas are otherwise identical for base metrics.
//!
//! CVSS v4.0 is recognised but not scored: its score comes from a
//! 270-entry macro-vector table and interpolation not yet implemented, so
//! [`score`] returns [`CvssError::Unsupported`] for it and callers should
//! show the vector unrated. Nothing here panics, whatever the input.

use std::fmt;

/// Vectors longer than this are refused before parsing (a full v3.1 vector
/// with every temporal and environmental metric is under 200 bytes).
pub const MAX_VECTOR_LEN: usize = 1024;

/// Why a vector was not scored.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CvssError {
    /// The vector is longer than [`MAX_VECTOR_LEN`].
    #[error("CVSS vector is {0} bytes, longer than {MAX_VECTOR_LEN}")]
    TooLong(usize),
    /// No `CVSS:3.0/`, `CVSS:3.1/` or `CVSS:4.0/` prefix.
    #[error("not a CVSS vector (no CVSS:3.0/, CVSS:3.1/ or CVSS:4.0/ prefix): {0:?}")]
    NoPrefix(String),
    /// A version this module recognises but does not score.
    #[error("CVSS {version} vectors are not scored yet ({reason})")]
    Unsupported {
        /// The version from the prefix, e.g. `4.0`.
        version: String,
        /// Why not.
        reason: &'static str,
    },
    /// A `/`-separated part is not `METRIC:VALUE`.
    #[error("malformed CVSS part {0:?} (expected METRIC:VALUE)")]
    Malformed(String),
    /// A metric name the version does not define.
    #[error("unknown CVSS metric {0:?}")]
    UnknownMetric(String),
    /// A metric given twice.
    #[error("CVSS metric {0} given more than once")]
    Duplicate(String),
    /// A value the metric does not allow.
    #[error("invalid value {value:?} for CVSS metric {metric}")]
    InvalidValue {
        /// The metric, e.g. `AV`.
        metric: String,
        /// The value given.
        value: String,
    },
    /// A mandatory base metric is absent.
    #[error("CVSS base metric {0} is missing")]
    Missing(&'static str),
}

/// The qualitative severity rating scale (CVSS v3.1 §5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Rating {
    /// 0.0
    None,
    /// 0.1–3.9
    Low,
    /// 4.0–6.9
    Medium,
    /// 7.0–8.9
    High,
    /// 9.0–10.0
    Critical,
}

impl Rating {
    /// The rating for a score in tenths (0..=100).
    pub fn from_tenths(tenths: u8) -> Rating {
        match tenths {
            0 => Rating::None,
            1..=39 => Rating::Low,
            40..=69 => Rating::Medium,
            70..=89 => Rating::High,
            _ => Rating::Critical,
        }
    }

    /// The name as the specification writes it.
    pub fn as_str(self) -> &'static str {
        match self {
            Rating::None => "None",
            Rating::Low => "Low",
            Rating::Medium => "Medium",
            Rating::High => "High",
            Rating::Critical => "Critical",
        }
    }
}

impl fmt::Display for Rating {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A computed base score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Score {
    /// The CVSS version of the vector: `"3.0"` or `"3.1"`.
    pub version: &'static str,
    /// The base score in tenths, 0..=100 (98 is 9.8): exact, no float.
    pub tenths: u8,
    /// Its qualitative rating.
    pub rating: Rating,
}

impl Score {
    /// The base score as a number, e.g. 9.8.
    pub fn value(&self) -> f64 {
        f64::from(self.tenths) / 10.0
    }
}

impl fmt::Display for Score {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{}.{} {}",
            self.tenths / 10,
            self.tenths % 10,
            self.rating
        )
    }
}

/// The optional v3 temporal and environmental metrics: accepted (they are
/// valid in a vector) but they do not change the base score.
const V3_OPTIONAL: &[&str] = &[
    "E", "RL", "RC", "CR", "IR", "AR", "MAV", "MAC", "MPR", "MUI", "MS", "MC", "MI", "MA",
];

/// Computes the base score and rating of a CVSS v3.0 or v3.1 vector such as
/// `CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H` (9.8 Critical).
///
/// The eight base metrics must each appear exactly once; temporal and
/// environmental metrics may appear and are ignored (this is the base
/// score). A v4.0 vector yields [`CvssError::Unsupported`].
pub fn score(vector: &str) -> Result<Score, CvssError> {
    if vector.len() > MAX_VECTOR_LEN {
        return Err(CvssError::TooLong(vector.len()));
    }
    let vector = vector.trim();
    let (version, rest) = if let Some(rest) = vector.strip_prefix("CVSS:3.1/") {
        ("3.1", rest)
    } else if let Some(rest) = vector.strip_prefix("CVSS:3.0/") {
        ("3.0", rest)
    } else if vector.starts_with("CVSS:4.0/") {
        return Err(CvssError::Unsupported {
            version: "4.0".to_owned(),
            reason: "the v4.0 macro-vector scoring table is not implemented; show the vector unrated",
        });
    } else {
        return Err(CvssError::NoPrefix(vector.to_owned()));
    };

    // AV, AC, PR, UI, S, C, I, A
    const NAMES: [&str; 8] = ["AV", "AC", "PR", "UI", "S", "C", "I", "A"];
    let mut base: [Option<u8>; 8] = [None; 8];
    let mut seen_optional: Vec<&str> = Vec::new();
    for part in rest.split('/') {
        let (metric, value) = part
            .split_once(':')
            .ok_or_else(|| CvssError::Malformed(part.to_owned()))?;
        if let Some(i) = NAMES.iter().position(|n| *n == metric) {
            if base[i].is_some() {
                return Err(CvssError::Duplicate(metric.to_owned()));
            }
            let allowed: &str = match metric {
                "AV" => "NALP",
                "AC" => "LH",
                "PR" | "C" | "I" | "A" => "NLH",
                "UI" => "NR",
                _ => "UC", // S
            };
            let byte = match value.as_bytes() {
                [b] if allowed.as_bytes().contains(b) => *b,
                _ => {
                    return Err(CvssError::InvalidValue {
                        metric: metric.to_owned(),
                        value: value.to_owned(),
                    });
                }
            };
            base[i] = Some(byte);
        } else if V3_OPTIONAL.contains(&metric) {
            if seen_optional.contains(&metric) {
                return Err(CvssError::Duplicate(metric.to_owned()));
            }
            seen_optional.push(metric);
        } else {
            return Err(CvssError::UnknownMetric(metric.to_owned()));
        }
    }
    let mut v = [0u8; 8];
    for (i, slot) in base.iter().enumerate() {
        v[i] = slot.ok_or(CvssError::Missing(NAMES[i]))?;
    }
    let [av, ac, pr, ui, s, c, i, a] = v;
    let changed = s == b'C';
    let av = match av {
        b'N' => 0.85,
        b'A' => 0.62,
        b'L' => 0.55,
        _ => 0.2,
    };
    let ac = if ac == b'L' { 0.77 } else { 0.44 };
    let pr = match (pr, changed) {
        (b'N', _) => 0.85,
        (b'L', false) => 0.62,
        (b'L', true) => 0.68,
        (_, false) => 0.27,
        (_, true) => 0.5,
    };
    let ui = if ui == b'N' { 0.85 } else { 0.62 };
    let cia = |x: u8| match x {
        b'H' => 0.56,
        b'L' => 0.22,
        _ => 0.0,
    };
    let iss = 1.0 - (1.0 - cia(c)) * (1.0 - cia(i)) * (1.0 - cia(a));
    let impact = if changed {
        7.52 * (iss - 0.029) - 3.25 * (iss - 0.02f64).powi(15)
    } else {
        6.42 * iss
    };
    let exploitability = 8.22 * av * ac * pr * ui;
    let tenths = if impact <= 0.0 {
        0
    } else if changed {
        roundup_tenths((1.08 * (impact + exploitability)).min(10.0))
    } else {
        roundup_tenths((impact + exploitability).min(10.0))
    };
    Ok(Score {
        version,
        tenths,
        rating: Rating::from_tenths(tenths),
    })
}

/// CVSS v3.1 Appendix A `Roundup`, returning tenths: the smallest number of
/// tenths whose value is not less than `x`, computed on an integer of
/// hundred-thousandths so floating-point noise does not round up.
fn roundup_tenths(x: f64) -> u8 {
    // x is in 0.0..=10.0 here, so the integer fits comfortably.
    let int_input = (x * 100_000.0).round() as i64;
    let tenths = if int_input % 10_000 == 0 {
        int_input / 10_000
    } else {
        int_input / 10_000 + 1
    };
    u8::try_from(tenths.clamp(0, 100)).unwrap_or(100)
}

#[cfg(test)]
mod tests {
    use super::*;

    // Scores from the FIRST CVSS v3.1 specification's examples document and
    // NVD's published base scores for the named CVEs.
    const VECTORS: &[(&str, u8, Rating)] = &[
        (
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            98,
            Rating::Critical,
        ),
        (
            "CVSS:3.0/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            98,
            Rating::Critical,
        ),
        // CVE-2014-0160 Heartbleed (FIRST v3.1 examples)
        (
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:N/A:N",
            75,
            Rating::High,
        ),
        // CVE-2014-6271 Shellshock
        (
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            98,
            Rating::Critical,
        ),
        // CVE-2013-1937 phpMyAdmin reflected XSS (FIRST example)
        (
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N",
            61,
            Rating::Medium,
        ),
        // CVE-2013-0375 MySQL (FIRST example)
        (
            "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:L/I:L/A:N",
            64,
            Rating::Medium,
        ),
        // CVE-2014-3566 POODLE (FIRST example)
        (
            "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:L/I:N/A:N",
            31,
            Rating::Low,
        ),
        // CVE-2012-1516 VMware guest-to-host escape (FIRST example)
        (
            "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:C/C:H/I:H/A:H",
            99,
            Rating::Critical,
        ),
        // CVE-2009-0783 Apache Tomcat (FIRST example)
        (
            "CVSS:3.1/AV:L/AC:L/PR:H/UI:N/S:U/C:L/I:L/A:L",
            42,
            Rating::Medium,
        ),
        // CVE-2016-0128 Badlock / SAMR (FIRST example)
        (
            "CVSS:3.1/AV:N/AC:H/PR:N/UI:R/S:U/C:H/I:H/A:N",
            68,
            Rating::Medium,
        ),
        // CVE-2015-1098 iWork (FIRST example)
        (
            "CVSS:3.1/AV:L/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H",
            78,
            Rating::High,
        ),
        // CVE-2013-6014 Juniper proxy ARP (FIRST example)
        (
            "CVSS:3.1/AV:A/AC:L/PR:N/UI:N/S:C/C:H/I:N/A:H",
            93,
            Rating::Critical,
        ),
        // CVE-2016-1645 Chrome (FIRST example)
        (
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:U/C:H/I:H/A:H",
            88,
            Rating::High,
        ),
        // CVE-2004-0230 TCP RST (FIRST example)
        (
            "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:N/I:N/A:L",
            37,
            Rating::Low,
        ),
        // physical access, all high
        (
            "CVSS:3.1/AV:P/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H",
            68,
            Rating::Medium,
        ),
        // no impact → 0.0 None
        (
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:N",
            0,
            Rating::None,
        ),
        (
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:N/I:N/A:N",
            0,
            Rating::None,
        ),
        // scope changed caps at 10.0
        (
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:C/C:H/I:H/A:H",
            100,
            Rating::Critical,
        ),
        // the urllib3 PYSEC-2023-207 vector (NVD: 6.1 Medium)
        (
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:R/S:C/C:L/I:L/A:N",
            61,
            Rating::Medium,
        ),
        // 4.4217 rounds up to 4.5
        (
            "CVSS:3.1/AV:L/AC:H/PR:L/UI:N/S:U/C:L/I:L/A:L",
            45,
            Rating::Medium,
        ),
        // temporal and environmental metrics are accepted and ignored
        (
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/RL:O/RC:C/CR:H/MAV:L",
            98,
            Rating::Critical,
        ),
        // metric order is free
        (
            "CVSS:3.1/A:H/I:H/C:H/S:U/UI:N/PR:N/AC:L/AV:N",
            98,
            Rating::Critical,
        ),
        // PR:H under changed scope (0.5) and UI:R
        (
            "CVSS:3.1/AV:N/AC:L/PR:H/UI:R/S:C/C:L/I:L/A:N",
            48,
            Rating::Medium,
        ),
        (
            "CVSS:3.1/AV:N/AC:L/PR:L/UI:N/S:U/C:H/I:H/A:H",
            88,
            Rating::High,
        ),
        (
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:N/I:N/A:H",
            75,
            Rating::High,
        ),
        (
            "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:L/I:N/A:N",
            53,
            Rating::Medium,
        ),
        (
            "CVSS:3.1/AV:N/AC:H/PR:N/UI:N/S:U/C:H/I:H/A:H",
            81,
            Rating::High,
        ),
    ];

    #[test]
    fn known_vectors() {
        for (vector, tenths, rating) in VECTORS {
            let got = score(vector).unwrap_or_else(|e| panic!("{vector}: {e}"));
            assert_eq!((got.tenths, got.rating), (*tenths, *rating), "{vector}");
        }
    }

    #[test]
    fn display() {
        let s = score("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H").unwrap();
        assert_eq!(s.to_string(), "9.8 Critical");
        assert_eq!(s.version, "3.1");
        assert!((s.value() - 9.8).abs() < 1e-9);
    }

    #[test]
    fn roundup_is_integer_based() {
        assert_eq!(roundup_tenths(4.0), 40);
        assert_eq!(roundup_tenths(4.000_000_000_1), 40);
        assert_eq!(roundup_tenths(4.02), 41);
        assert_eq!(roundup_tenths(0.0), 0);
        assert_eq!(roundup_tenths(10.0), 100);
    }

    #[test]
    fn bad_vectors_are_typed_errors() {
        type Check = fn(&CvssError) -> bool;
        let cases: &[(&str, Check)] = &[
            ("", |e| matches!(e, CvssError::NoPrefix(_))),
            ("AV:N/AC:L", |e| matches!(e, CvssError::NoPrefix(_))),
            ("CVSS:2.0/AV:N", |e| matches!(e, CvssError::NoPrefix(_))),
            ("CVSS:3.1/", |e| matches!(e, CvssError::Malformed(_))),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H", |e| {
                matches!(e, CvssError::Missing("A"))
            }),
            ("CVSS:3.1/AV:N/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", |e| {
                matches!(e, CvssError::Duplicate(_))
            }),
            ("CVSS:3.1/AV:X/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", |e| {
                matches!(e, CvssError::InvalidValue { .. })
            }),
            ("CVSS:3.1/AV:NN/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", |e| {
                matches!(e, CvssError::InvalidValue { .. })
            }),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/ZZ:1", |e| {
                matches!(e, CvssError::UnknownMetric(_))
            }),
            ("CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/", |e| {
                matches!(e, CvssError::Malformed(_))
            }),
            (
                "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H/E:P/E:P",
                |e| matches!(e, CvssError::Duplicate(_)),
            ),
            ("CVSS:3.1/AV:é/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H", |e| {
                matches!(e, CvssError::InvalidValue { .. })
            }),
            (
                "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N",
                |e| matches!(e, CvssError::Unsupported { .. }),
            ),
        ];
        for (vector, check) in cases {
            match score(vector) {
                Ok(s) => panic!("{vector:?} scored {s}"),
                Err(e) => assert!(check(&e), "{vector:?}: {e:?}"),
            }
        }
        let long = format!("CVSS:3.1/{}", "E:P/".repeat(500));
        assert!(matches!(score(&long), Err(CvssError::TooLong(_))));
    }
}
