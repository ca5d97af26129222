//! Session recordings: every recorded pane's output, redacted before it is written, as an
//! asciicast v2 file per pane under the data dir (`recordings/<host>/<date>/…cast.gz`),
//! written off the UI loop; pruning by age and size; replay as text or in real time; the
//! `lumen logs` commands. Keystrokes never reach this module: only output, sizes and markers.

pub mod cast;
pub mod mask;
pub mod replay;
mod spool;
pub mod store;
pub mod writer;

pub use writer::{Recorder, Recordings, Session, Settings};

/// Which panes are recorded unless hosts.toml says otherwise (`[logs] record`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RecordDefault {
    /// Every SSH pane.
    #[default]
    Ssh,
    /// SSH panes and local shells.
    All,
    None,
}

/// The `[logs]` section of config.toml.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LogsConfig {
    pub record: RecordDefault,
    pub keep_days: u64,
    pub max_total: u64,
    /// Per-file cap (`max_file`, default 256 MiB).
    pub max_file: u64,
}

pub const DEFAULT_KEEP_DAYS: u64 = 90;
pub const DEFAULT_MAX_TOTAL: u64 = 2 * 1024 * 1024 * 1024;
pub const DEFAULT_MAX_FILE: u64 = 256 * 1024 * 1024;

impl Default for LogsConfig {
    fn default() -> Self {
        Self {
            record: RecordDefault::Ssh,
            keep_days: DEFAULT_KEEP_DAYS,
            max_total: DEFAULT_MAX_TOTAL,
            max_file: DEFAULT_MAX_FILE,
        }
    }
}

impl LogsConfig {
    /// Whether a pane is recorded: the host's (or its groups') `record` setting when there is
    /// one, else this default.
    pub fn records(&self, ssh: bool, host_setting: Option<bool>) -> bool {
        host_setting.unwrap_or(match self.record {
            RecordDefault::Ssh => ssh,
            RecordDefault::All => true,
            RecordDefault::None => false,
        })
    }

    pub fn settings(&self, root: std::path::PathBuf) -> Settings {
        Settings {
            root,
            max_file: self.max_file,
            keep_days: self.keep_days,
            max_total: self.max_total,
        }
    }
}

/// A size as config.toml writes it: `"2GiB"`, `"256MiB"`, `"500MB"`, `"64KiB"`, `"1000"`.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let n: u64 = number.parse().map_err(|_| {
        format!("'{text}' is not a size: write e.g. \"2GiB\", \"256MiB\", \"500MB\"")
    })?;
    let factor: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" | "kb" => 1000,
        "kib" => 1 << 10,
        "m" | "mb" => 1000 * 1000,
        "mib" => 1 << 20,
        "g" | "gb" => 1000 * 1000 * 1000,
        "gib" => 1 << 30,
        "t" | "tb" => 1000 * 1000 * 1000 * 1000,
        "tib" => 1 << 40,
        other => {
            return Err(format!(
                "'{text}': unknown unit '{other}' (use KiB, MiB, GiB, KB, MB, GB)"
            ));
        }
    };
    n.checked_mul(factor)
        .ok_or_else(|| format!("'{text}' is too large"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse() {
        assert_eq!(parse_size("2GiB"), Ok(2 << 30));
        assert_eq!(parse_size("256MiB"), Ok(256 << 20));
        assert_eq!(parse_size("500 MB"), Ok(500_000_000));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert!(parse_size("lots").is_err());
        assert!(
            parse_size("3 parsecs")
                .unwrap_err()
                .contains("unknown unit")
        );
    }
}
