//! Writing `hosts.toml`: under a lock, atomically, keeping comments and order of what is
//! unchanged (toml_edit edits the document in place).

use super::hosts::{Host, Inventory, InventoryError, check_host, parse};
use crate::paths::{Paths, atomic_write, ensure_private_dir};
use std::path::{Path, PathBuf};
use toml_edit::{Array, DocumentMut, Item, Table, value};

/// The workspace used when none is named.
pub const DEFAULT_WORKSPACE: &str = "default";

/// A workspace's `hosts.toml`.
#[derive(Debug, Clone)]
pub struct HostsFile {
    path: PathBuf,
}

/// Workspace names are directory names: refuse anything that could escape the data dir.
pub fn check_workspace_name(name: &str) -> Result<(), InventoryError> {
    let ok = !name.is_empty()
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || "-_.".contains(c));
    if ok {
        Ok(())
    } else {
        Err(InventoryError::Rejected(format!(
            "workspace name {name:?} is not valid; use letters, digits, '-', '_', '.'"
        )))
    }
}

/// The workspaces that exist under `paths` (a directory each), sorted; the default one is
/// always there, even before its first host.
pub fn known_workspaces(paths: &Paths) -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir(paths.workspaces_dir())
        .into_iter()
        .flatten()
        .flatten()
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|n| check_workspace_name(n).is_ok())
        .collect();
    if !names.iter().any(|n| n == DEFAULT_WORKSPACE) {
        names.push(DEFAULT_WORKSPACE.to_string());
    }
    names.sort();
    names
}

impl HostsFile {
    pub fn new(path: PathBuf) -> Self {
        Self { path }
    }

    /// `hosts.toml` of workspace `name` under `paths`.
    pub fn for_workspace(paths: &Paths, name: &str) -> Result<Self, InventoryError> {
        check_workspace_name(name)?;
        Ok(Self::new(paths.workspace_dir(name).join("hosts.toml")))
    }

    /// `hosts.toml` of an existing workspace: an unknown name (a typo) is an error naming the
    /// known ones, where [`HostsFile::for_workspace`] would quietly read an empty inventory.
    pub fn existing(paths: &Paths, name: &str) -> Result<Self, InventoryError> {
        let file = Self::for_workspace(paths, name)?;
        let known = known_workspaces(paths);
        if !known.iter().any(|k| k == name) {
            return Err(InventoryError::UnknownWorkspace {
                name: name.to_string(),
                known,
            });
        }
        Ok(file)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn load(&self) -> Result<Inventory, InventoryError> {
        super::hosts::load(&self.path)
    }

    fn io(&self, source: std::io::Error) -> InventoryError {
        InventoryError::Io {
            path: self.path.clone(),
            source,
        }
    }

    /// Read, change and write the file under the lock. `change` sees the current inventory and
    /// the document; nothing is written when it fails.
    pub fn update<R>(
        &self,
        change: impl FnOnce(&Inventory, &mut Editor) -> Result<R, InventoryError>,
    ) -> Result<R, InventoryError> {
        let dir = self.path.parent().unwrap_or(Path::new("."));
        ensure_private_dir(dir).map_err(|e| self.io(e))?;
        let _lock = crate::paths::FileLock::acquire(&dir.join("hosts.toml.lock"))
            .map_err(|e| self.io(e))?;
        let text =
            match crate::text::read_capped_string(&self.path, crate::text::SETTINGS_FILE_LIMIT) {
                Ok(t) => t,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
                Err(e) => return Err(self.io(e)),
            };
        let inventory = parse(&text, &self.path)?;
        let doc: DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
            InventoryError::Rejected(format!("{}: {e}", self.path.display()))
        })?;
        let mut editor = Editor { doc };
        let result = change(&inventory, &mut editor)?;
        let out = editor.doc.to_string();
        // Never write a file lumen could not read back.
        parse(&out, &self.path)?;
        atomic_write(&self.path, out.as_bytes()).map_err(|e| self.io(e))?;
        Ok(result)
    }
}

/// Changes to the document, in place.
pub struct Editor {
    doc: DocumentMut,
}

fn set_opt<V: Into<toml_edit::Value> + Clone + PartialEq>(
    t: &mut Table,
    key: &str,
    new: Option<V>,
    same: impl Fn(&Item, &V) -> bool,
) {
    match new {
        None => {
            t.remove(key);
        }
        Some(v) => {
            if !t.get(key).is_some_and(|old| same(old, &v)) {
                t.insert(key, value(v));
            }
        }
    }
}

fn set_str(t: &mut Table, key: &str, new: Option<&String>) {
    set_opt(t, key, new.cloned(), |old, v| {
        old.as_str() == Some(v.as_str())
    });
}

fn set_int(t: &mut Table, key: &str, new: Option<i64>) {
    set_opt(t, key, new, |old, v| old.as_integer() == Some(*v));
}

fn set_bool(t: &mut Table, key: &str, new: Option<bool>) {
    set_opt(t, key, new, |old, v| old.as_bool() == Some(*v));
}

fn set_list(t: &mut Table, key: &str, new: &[String]) {
    if new.is_empty() {
        t.remove(key);
        return;
    }
    let old: Option<Vec<&str>> = t
        .get(key)
        .and_then(Item::as_array)
        .map(|a| a.iter().filter_map(|v| v.as_str()).collect());
    if old.is_some_and(|o| o.iter().copied().eq(new.iter().map(String::as_str))) {
        return;
    }
    t.insert(
        key,
        value(new.iter().map(String::as_str).collect::<Array>()),
    );
}

impl Editor {
    fn hosts_table(&mut self) -> Result<&mut Table, InventoryError> {
        let item = self.doc.entry("hosts").or_insert_with(|| {
            let mut t = Table::new();
            t.set_implicit(true);
            Item::Table(t)
        });
        item.as_table_mut()
            .ok_or_else(|| InventoryError::Rejected("`hosts` in hosts.toml is not a table".into()))
    }

    /// Insert or update a host, touching only the values that change.
    pub fn put(&mut self, host: &Host) -> Result<(), InventoryError> {
        check_host(host).map_err(|(_, m)| InventoryError::Rejected(m))?;
        let hosts = self.hosts_table()?;
        let t = hosts
            .entry(&host.name)
            .or_insert_with(|| Item::Table(Table::new()))
            .as_table_mut()
            .ok_or_else(|| {
                InventoryError::Rejected(format!("hosts.{} is not a table", host.name))
            })?;
        set_str(t, "hostname", host.hostname.as_ref());
        set_int(t, "port", host.port.map(i64::from));
        set_str(t, "user", host.user.as_ref());
        set_list(t, "jump", &host.jump);
        set_str(t, "credential", host.credential.as_ref());
        set_list(t, "tags", &host.tags);
        set_list(t, "groups", &host.groups);
        set_str(t, "notes", host.notes.as_ref());
        set_str(t, "ai", host.ai.map(|a| a.as_str().to_string()).as_ref());
        set_bool(t, "record", host.record);
        let o = &host.options;
        if o.is_empty() {
            t.remove("options");
            return Ok(());
        }
        let opts = t
            .entry("options")
            .or_insert_with(|| Item::Table(Table::new()))
            .as_table_mut()
            .ok_or_else(|| {
                InventoryError::Rejected(format!("hosts.{}.options is not a table", host.name))
            })?;
        set_int(
            opts,
            "keepalive_interval",
            o.keepalive_interval.map(i64::from),
        );
        set_int(
            opts,
            "keepalive_count_max",
            o.keepalive_count_max.map(i64::from),
        );
        set_bool(opts, "forward_agent", o.forward_agent);
        set_list(opts, "identity_file", &o.identity_file);
        set_bool(opts, "identities_only", o.identities_only);
        set_str(
            opts,
            "strict_host_key_checking",
            o.strict_host_key_checking.as_ref(),
        );
        set_int(opts, "connect_timeout", o.connect_timeout.map(i64::from));
        Ok(())
    }

    /// Remove a host; false when there was none.
    pub fn remove(&mut self, name: &str) -> Result<bool, InventoryError> {
        Ok(self.hosts_table()?.remove(name).is_some())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn edits_keep_comments_and_files_are_private() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let file = HostsFile::new(dir.path().join("ws/hosts.toml"));
        let mut db = Host {
            name: "db1".into(),
            hostname: Some("10.0.0.5".into()),
            ..Host::default()
        };
        file.update(|_, ed| ed.put(&db)).unwrap();
        let text = std::fs::read_to_string(file.path()).unwrap();
        let commented = text.replace("hostname", "# primary database\nhostname");
        std::fs::write(file.path(), commented).unwrap();
        db.port = Some(2222);
        file.update(|_, ed| ed.put(&db)).unwrap();
        let text = std::fs::read_to_string(file.path()).unwrap();
        assert!(text.contains("# primary database"), "{text}");
        assert_eq!(file.load().unwrap().get("db1").unwrap().port, Some(2222));
        let mode = std::fs::metadata(file.path()).unwrap().permissions().mode();
        assert_eq!(mode & 0o777, 0o600);
        let dmode = std::fs::metadata(dir.path().join("ws"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(dmode & 0o777, 0o700);
        assert!(file.update(|_, ed| ed.remove("db1")).unwrap());
        assert!(file.load().unwrap().hosts.is_empty());
    }

    #[test]
    fn rejects_bad_workspace_names() {
        assert!(check_workspace_name("../x").is_err());
        assert!(check_workspace_name("prod-eu").is_ok());
    }
}
