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

    /// Session recordings: `recordings/<host>/<date>/*.cast.gz`.
    pub fn recordings_dir(&self) -> PathBuf {
        self.data_dir.join("recordings")
    }

    pub fn known_hosts(&self) -> PathBuf {
        self.data_dir.join("known_hosts")
    }

    pub fn personal_vault(&self) -> PathBuf {
        self.data_dir.join("vault.lumen")
    }

    pub fn workspace_dir(&self, name: &str) -> PathBuf {
        self.workspaces_dir().join(name)
    }

    /// The directory holding one directory per workspace.
    pub fn workspaces_dir(&self) -> PathBuf {
        self.data_dir.join("workspaces")
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
    atomic_write_mode(path, bytes, 0o600)
}

/// [`atomic_write`] with the file created with `mode` (before the rename, so no reader ever
/// sees it with other permissions).
pub fn atomic_write_mode(path: &Path, bytes: &[u8], mode: u32) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
    // A bare file name has the parent "": the current directory.
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "file".into());
    let tmp = dir.join(format!(".{name}.tmp.{}", std::process::id()));
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(mode)
        .open(&tmp)?;
    // The umask may have taken bits away from `mode`.
    let written = std::fs::set_permissions(&tmp, std::fs::Permissions::from_mode(mode))
        .and_then(|_| f.write_all(bytes))
        .and_then(|_| f.sync_all());
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

/// An exclusive `flock` on a lock file (created 0600 beside what it guards), released when
/// dropped: the one way lumen serialises writers of a file (hosts.toml, known_hosts, vaults).
#[derive(Debug)]
pub struct FileLock {
    file: std::fs::File,
}

/// Open `path` to append, creating it 0600: refused with "not a regular file" when something
/// else (a FIFO, a device) is there, since opening a FIFO to write waits for a reader forever.
pub fn open_append_private(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    if let Ok(meta) = std::fs::metadata(path)
        && !meta.is_file()
    {
        return Err(crate::text::not_regular(meta.file_type()));
    }
    // O_NONBLOCK: a FIFO put there since the check fails to open instead of waiting.
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(crate::text::not_regular(meta.file_type()));
    }
    Ok(file)
}

impl FileLock {
    fn open(path: &Path) -> std::io::Result<std::fs::File> {
        use std::os::unix::fs::OpenOptionsExt;
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            ensure_private_dir(dir)?;
        }
        std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(path)
    }

    fn flock(file: &std::fs::File, flags: libc::c_int) -> std::io::Result<()> {
        use std::os::fd::AsRawFd;
        // SAFETY: flock on a descriptor `file` owns; it is released when the file is closed.
        if unsafe { libc::flock(file.as_raw_fd(), flags) } != 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    }

    /// Wait until the lock is ours.
    pub fn acquire(path: &Path) -> std::io::Result<FileLock> {
        let file = Self::open(path)?;
        Self::flock(&file, libc::LOCK_EX)?;
        Ok(FileLock { file })
    }

    /// Take the lock now, or `Ok(Err(file))` with the lock file open (to read who holds it)
    /// when another process has it.
    pub fn try_acquire(path: &Path) -> std::io::Result<Result<FileLock, std::fs::File>> {
        let file = Self::open(path)?;
        match Self::flock(&file, libc::LOCK_EX | libc::LOCK_NB) {
            Ok(()) => Ok(Ok(FileLock { file })),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => Ok(Err(file)),
            Err(e) => Err(e),
        }
    }

    /// The lock file itself (a vault's lock records the holder's PID in it).
    pub fn file(&mut self) -> &mut std::fs::File {
        &mut self.file
    }
}

/// `<file>.lock` beside `path`.
pub fn lock_path_for(path: &Path) -> std::path::PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".lock");
    std::path::PathBuf::from(name)
}
