//! Where lumen keeps its files: config, data, workspaces, logs. `LUMEN_HOME` overrides all.

use std::path::{Path, PathBuf};

/// Resolved directories. Tests build one from a temporary directory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Paths {
    pub config_dir: PathBuf,
    pub data_dir: PathBuf,
}

impl Paths {
    /// `LUMEN_HOME` if set (config in `$LUMEN_HOME/config`, data in `$LUMEN_HOME/data`),
    /// else the platform directories.
    pub fn from_env() -> Self {
        if let Some(home) = std::env::var_os("LUMEN_HOME") {
            return Self::under(Path::new(&home));
        }
        match directories::ProjectDirs::from("", "", "lumen") {
            Some(dirs) => Self {
                config_dir: dirs.config_dir().to_path_buf(),
                data_dir: dirs.data_dir().to_path_buf(),
            },
            None => Self::under(&std::env::temp_dir().join("lumen")),
        }
    }

    pub fn under(home: &Path) -> Self {
        Self {
            config_dir: home.join("config"),
            data_dir: home.join("data"),
        }
    }

    pub fn config_file(&self) -> PathBuf {
        self.config_dir.join("config.toml")
    }

    pub fn themes_dir(&self) -> PathBuf {
        self.config_dir.join("themes")
    }

    pub fn logs_dir(&self) -> PathBuf {
        self.data_dir.join("logs")
    }

    pub fn known_hosts(&self) -> PathBuf {
        self.data_dir.join("known_hosts")
    }

    pub fn personal_vault(&self) -> PathBuf {
        self.data_dir.join("vault.lumen")
    }

    pub fn workspace_dir(&self, name: &str) -> PathBuf {
        self.data_dir.join("workspaces").join(name)
    }
}

/// Create a directory (and parents) readable only by the user.
pub fn ensure_private_dir(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o700))
}

/// Write a file atomically: temp file in the same directory, fsync, rename, fsync the directory.
/// The file is created 0600.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let dir = path.parent().unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    let tmp = dir.join(format!(".{name}.tmp.{}", std::process::id()));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o600)
        .open(&tmp)?;
    let written = f.write_all(bytes).and_then(|_| f.sync_all());
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    drop(f);
    if let Err(e) = std::fs::rename(&tmp, path) {
        let _ = std::fs::remove_file(&tmp);
        return Err(e);
    }
    std::fs::File::open(dir)?.sync_all()
}
