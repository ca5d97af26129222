//! Severity of a finding: from the distro's own rating when the record has one, else from the
//! highest CVSS base score (the `cvss` crate parses v2, v3.x and v4 vectors).

use serde::{Deserialize, Serialize};
use std::str::FromStr;

/// Ordered from least to most severe, so `>=` answers `--fail-on`.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize, Default,
)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    #[default]
    Unknown,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 5] = [
        Severity::Critical,
        Severity::High,
        Severity::Medium,
        Severity::Low,
        Severity::Unknown,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Unknown => "unknown",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    /// A distro's word for severity (Ubuntu priorities, Red Hat/Rocky/Alma impact, Debian
    /// urgency, GitHub's levels). None for words that carry no rating ("not yet assigned").
    pub fn from_rating(word: &str) -> Option<Severity> {
        let w = word.trim().to_ascii_lowercase();
        let w = w.trim_end_matches('*'); // Debian marks some urgencies "medium*"
        Some(match w {
            "critical" | "urgent" | "emergency" => Severity::Critical,
            "high" | "important" => Severity::High,
            "medium" | "moderate" => Severity::Medium,
            "low" | "negligible" | "unimportant" | "minor" => Severity::Low,
            _ => return None,
        })
    }

    /// From a CVSS base score (0.0–10.0), with the CVSS v3 bands.
    pub fn from_score(score: f64) -> Severity {
        match score {
            s if s >= 9.0 => Severity::Critical,
            s if s >= 7.0 => Severity::High,
            s if s >= 4.0 => Severity::Medium,
            s if s > 0.0 => Severity::Low,
            _ => Severity::Unknown,
        }
    }

    /// The base score of an OSV severity entry (`CVSS_V2`, `CVSS_V3`, `CVSS_V4`); None when the
    /// vector does not parse.
    pub fn cvss_score(kind: &str, vector: &str) -> Option<f64> {
        if let Ok(v) = cvss::Cvss::from_str(vector.trim()) {
            return Some(v.score());
        }
        if kind.eq_ignore_ascii_case("CVSS_V2") {
            return cvss::v2::Vector::from_str(vector.trim())
                .ok()
                .map(|v| v.score().value());
        }
        None
    }
}

impl std::fmt::Display for Severity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.to_ascii_lowercase().as_str() {
            "low" => Ok(Severity::Low),
            "medium" => Ok(Severity::Medium),
            "high" => Ok(Severity::High),
            "critical" => Ok(Severity::Critical),
            "unknown" => Ok(Severity::Unknown),
            other => Err(format!(
                "{other:?} is not a severity; use low, medium, high or critical"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cvss_vectors_score() {
        let v31 = "CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H";
        assert_eq!(Severity::cvss_score("CVSS_V3", v31), Some(9.8));
        let v2 = "AV:N/AC:L/Au:N/C:P/I:P/A:P";
        assert_eq!(Severity::cvss_score("CVSS_V2", v2), Some(7.5));
        let v4 = "CVSS:4.0/AV:N/AC:L/AT:N/PR:N/UI:N/VC:H/VI:H/VA:H/SC:N/SI:N/SA:N";
        assert_eq!(
            Severity::cvss_score("CVSS_V4", v4).map(Severity::from_score),
            Some(Severity::Critical)
        );
        assert_eq!(Severity::cvss_score("CVSS_V3", "garbage"), None);
    }

    #[test]
    fn ratings_and_order() {
        assert_eq!(Severity::from_rating("Important"), Some(Severity::High));
        assert_eq!(Severity::from_rating("negligible"), Some(Severity::Low));
        assert_eq!(Severity::from_rating("not yet assigned"), None);
        assert!(Severity::Critical > Severity::High && Severity::Low > Severity::Unknown);
    }
}
