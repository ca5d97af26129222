//! Per-host AI policy (`ai = …` in hosts.toml, per host or group): what the copilot may do
//! there. The inventory owns it; the copilot reads it.

use serde::{Deserialize, Serialize};

/// What the copilot may do on a host (`ai = …` in hosts.toml, per host or group).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AiPolicy {
    /// Low-risk commands run without a keystroke and are listed; Medium and High still ask.
    ReadOnlyAuto,
    /// Every command needs the operator's keystroke (the default).
    Ask,
    /// Nothing from this host is ever sent to a model.
    Off,
}

impl AiPolicy {
    pub fn as_str(self) -> &'static str {
        match self {
            AiPolicy::ReadOnlyAuto => "read-only-auto",
            AiPolicy::Ask => "ask",
            AiPolicy::Off => "off",
        }
    }

    /// A host's policy: its own setting wins; else the strictest of its groups'; else ask.
    pub fn effective(own: Option<AiPolicy>, groups: impl IntoIterator<Item = AiPolicy>) -> Self {
        own.or_else(|| groups.into_iter().max())
            .unwrap_or(AiPolicy::Ask)
    }
}

impl std::str::FromStr for AiPolicy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "ask" => Ok(AiPolicy::Ask),
            "read-only-auto" => Ok(AiPolicy::ReadOnlyAuto),
            "off" => Ok(AiPolicy::Off),
            other => Err(format!(
                "ai = {other:?}: use \"ask\", \"read-only-auto\" or \"off\""
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn policy_host_wins_then_strictest_group() {
        use AiPolicy::*;
        assert_eq!(AiPolicy::effective(None, []), Ask);
        assert_eq!(AiPolicy::effective(None, [ReadOnlyAuto, Off]), Off);
        assert_eq!(AiPolicy::effective(Some(ReadOnlyAuto), [Off]), ReadOnlyAuto);
        assert_eq!("read-only-auto".parse(), Ok(ReadOnlyAuto));
        assert!("auto".parse::<AiPolicy>().is_err());
    }

    /// The inventory is a library of its own: nothing in src/workspace reaches into the AI stack.
    #[test]
    fn workspace_does_not_import_ai() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/workspace");
        for entry in std::fs::read_dir(&dir).expect("src/workspace") {
            let path = entry.expect("entry").path();
            let text = std::fs::read_to_string(&path).expect("read");
            assert!(
                !text.contains(concat!("crate::", "ai")),
                "{} imports the AI stack",
                path.display()
            );
        }
    }
}
