//! The workspace's own state (`state.toml` beside `hosts.toml`, never shared in git): when each
//! host was last connected, so the host list remembers it across restarts. Written under a
//! lock, atomically, 0600.

use super::hosts::{InventoryError, line_of};
use crate::paths::{Paths, atomic_write, ensure_private_dir};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// What `state.toml` holds.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WorkspaceState {
    /// Host name → when a session to it last connected (RFC 3339, UTC).
    #[serde(default)]
    pub last_connected: BTreeMap<String, String>,
}

/// A workspace's `state.toml`.
#[derive(Debug, Clone)]
pub struct StateFile {
    path: PathBuf,
}

impl StateFile {
    pub fn new(path: PathBuf) -> Self {
        Self { path }
    }

    /// `state.toml` of workspace `name` under `paths`.
    pub fn for_workspace(paths: &Paths, name: &str) -> Result<Self, InventoryError> {
        super::store::check_workspace_name(name)?;
        Ok(Self::new(paths.workspace_dir(name).join("state.toml")))
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    fn io(&self, source: std::io::Error) -> InventoryError {
        InventoryError::Io {
            path: self.path.clone(),
            source,
        }
    }

    /// The state; a missing file is an empty state.
    pub fn load(&self) -> Result<WorkspaceState, InventoryError> {
        match crate::text::read_capped_string(&self.path, crate::text::SETTINGS_FILE_LIMIT) {
            Ok(text) => parse(&text, &self.path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(WorkspaceState::default()),
            Err(e) => Err(self.io(e)),
        }
    }

    /// For the TUI: always a state (empty on error) and the error to show, so lumen starts.
    pub fn load_or_report(&self) -> (WorkspaceState, Option<InventoryError>) {
        match self.load() {
            Ok(state) => (state, None),
            Err(e) => (WorkspaceState::default(), Some(e)),
        }
    }

    /// Record that a session to `host` connected at `at` (RFC 3339): read, change and write
    /// the file under its lock, so two lumens do not lose each other's hosts.
    pub fn record_connected(&self, host: &str, at: &str) -> Result<(), InventoryError> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        ensure_private_dir(dir).map_err(|e| self.io(e))?;
        let _lock = crate::paths::FileLock::acquire(&dir.join("state.toml.lock"))
            .map_err(|e| self.io(e))?;
        let mut state = self.load()?;
        state
            .last_connected
            .insert(host.to_string(), at.to_string());
        let text = toml::to_string(&state)
            .map_err(|e| InventoryError::Rejected(format!("{}: {e}", self.path.display())))?;
        atomic_write(&self.path, text.as_bytes()).map_err(|e| self.io(e))
    }
}

/// Now, as `state.toml` stores it (RFC 3339, UTC, whole seconds).
pub fn now_rfc3339() -> String {
    let now = OffsetDateTime::now_utc();
    now.replace_nanosecond(0)
        .unwrap_or(now)
        .format(&Rfc3339)
        .unwrap_or_default()
}

/// Parse `state.toml` text; `path` is only used in messages. A time that is not RFC 3339 is
/// an error at its line.
pub fn parse(text: &str, path: &Path) -> Result<WorkspaceState, InventoryError> {
    let invalid = |offset: usize, message: String| InventoryError::Invalid {
        path: path.to_path_buf(),
        line: line_of(text, offset),
        message: format!(
            "{message}; lumen rewrites this file, so removing it loses only the last-connected times"
        ),
    };
    let state: WorkspaceState = toml::from_str(text).map_err(|e| {
        invalid(
            e.span().map(|s| s.start).unwrap_or(0),
            crate::text::toml_message(&e),
        )
    })?;
    for (host, at) in &state.last_connected {
        if OffsetDateTime::parse(at, &Rfc3339).is_err() {
            let offset = text.find(at.as_str()).unwrap_or(0);
            return Err(invalid(
                offset,
                format!(
                    "last_connected.{host} = {}: not a time like 2026-12-06T18:40:00Z",
                    crate::text::quoted(at)
                ),
            ));
        }
    }
    Ok(state)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip_and_bad_times_name_their_line() {
        let dir = tempfile::tempdir().unwrap();
        let file = StateFile::new(dir.path().join("ws/state.toml"));
        assert_eq!(file.load().unwrap(), WorkspaceState::default());
        file.record_connected("web1", "2026-12-06T18:40:00Z")
            .unwrap();
        file.record_connected("db 1", "2026-12-06T18:41:00Z")
            .unwrap();
        let state = file.load().unwrap();
        assert_eq!(state.last_connected["web1"], "2026-12-06T18:40:00Z");
        assert_eq!(state.last_connected["db 1"], "2026-12-06T18:41:00Z");
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(file.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let bad = "[last_connected]\nweb1 = \"2026-12-06T18:40:00Z\"\ndb1 = \"yesterday\"\n";
        let e = parse(bad, Path::new("state.toml")).unwrap_err().to_string();
        assert!(e.starts_with("state.toml:3: "), "{e}");
        assert!(e.contains("\"yesterday\""), "{e}");
        let e = parse("hosts = 1\n", Path::new("state.toml"))
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("state.toml:1: "), "{e}");
        assert!(now_rfc3339().ends_with('Z'), "{}", now_rfc3339());
    }
}
