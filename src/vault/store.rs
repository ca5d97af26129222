//! Files on disk: the writer lock (holding the holder's PID), strict atomic saves, reading.

use super::error::{Result, VaultError};
use std::fs::File;
use std::io::{Read, Seek, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::os::unix::io::AsRawFd;
use std::path::{Path, PathBuf};

/// Debug builds only: set to `pause-before-rename` to make a save stop after the temp file is
/// written and synced but before the rename, so tests can kill the writer or race it.
pub const TEST_HOOK_ENV: &str = "LUMEN_VAULT_TEST_HOOK";
#[cfg(debug_assertions)]
const TEST_PAUSE: std::time::Duration = std::time::Duration::from_secs(5);

/// An exclusive `flock` on `<vault>.lock`, released on drop. The file holds the holder's PID
/// so a refused writer can say who is busy.
#[derive(Debug)]
pub struct WriteLock {
    file: File,
}

pub fn lock_path(vault: &Path) -> PathBuf {
    let mut name = vault.file_name().unwrap_or_default().to_os_string();
    name.push(".lock");
    vault.with_file_name(name)
}

impl WriteLock {
    /// Take the lock or fail at once with [`VaultError::Busy`].
    pub fn acquire(vault: &Path) -> Result<WriteLock> {
        let path = lock_path(vault);
        ensure_parent(&path)?;
        let mut file = std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(&path)
            .map_err(|e| VaultError::io(format!("opening {}", path.display()), e))?;
        // SAFETY: flock on a file descriptor we own; no memory is involved.
        let rc = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) };
        if rc != 0 {
            let err = std::io::Error::last_os_error();
            if err.kind() != std::io::ErrorKind::WouldBlock {
                return Err(VaultError::io(format!("locking {}", path.display()), err));
            }
            let mut pid = String::new();
            let _ = file.read_to_string(&mut pid);
            let pid = pid.trim();
            return Err(VaultError::Busy {
                pid: if pid.is_empty() {
                    "unknown".into()
                } else {
                    pid.chars().take(20).collect()
                },
            });
        }
        let wrote = file
            .set_len(0)
            .and_then(|_| file.rewind())
            .and_then(|_| write!(file, "{}", std::process::id()))
            .and_then(|_| file.flush());
        wrote.map_err(|e| VaultError::io(format!("writing {}", path.display()), e))?;
        Ok(WriteLock { file })
    }
}

impl Drop for WriteLock {
    fn drop(&mut self) {
        let _ = self.file.set_len(0);
        // SAFETY: as in acquire.
        unsafe { libc::flock(self.file.as_raw_fd(), libc::LOCK_UN) };
    }
}

/// Create the parent directory 0700 if missing.
pub fn ensure_parent(path: &Path) -> Result<()> {
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty())
        && !dir.exists()
    {
        crate::paths::ensure_private_dir(dir)
            .map_err(|e| VaultError::io(format!("creating {}", dir.display()), e))?;
    }
    Ok(())
}

/// Largest vault file read: far beyond any real vault (1000 entries are ~300 KB), small
/// enough that a damaged or hostile file cannot exhaust memory.
pub const MAX_VAULT_BYTES: u64 = 256 * 1024 * 1024;

/// Read a whole vault file; a missing file is [`VaultError::NoVault`]. At most
/// [`MAX_VAULT_BYTES`] are read, whatever the path names (`/dev/zero`, a pipe).
pub fn read(path: &Path) -> Result<Vec<u8>> {
    match crate::text::read_capped(path, MAX_VAULT_BYTES) {
        Ok(b) => Ok(b),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Err(VaultError::NoVault {
            path: path.to_path_buf(),
        }),
        Err(e) if e.kind() == std::io::ErrorKind::FileTooLarge => Err(VaultError::Tampered {
            path: path.to_path_buf(),
            what: "file larger than any vault",
        }),
        Err(e) => Err(VaultError::io(format!("reading {}", path.display()), e)),
    }
}

/// Delete temp files a crashed writer left beside `path`. Call only under the [`WriteLock`]:
/// then no live writer can own one.
pub fn remove_stale_temps(path: &Path) {
    let (Some(dir), Some(name)) = (path.parent(), path.file_name()) else {
        return;
    };
    let dir = if dir.as_os_str().is_empty() {
        Path::new(".")
    } else {
        dir
    };
    let prefix = format!(".{}.", name.to_string_lossy());
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let file = e.file_name().to_string_lossy().into_owned();
        if file.starts_with(&prefix) && file.ends_with(".tmp") {
            let _ = std::fs::remove_file(e.path());
        }
    }
}

/// The digest field of the vault file on disk (`None` if there is no file): enough to notice
/// that someone else saved, without reading the whole file.
pub fn read_digest(path: &Path) -> Result<Option<[u8; 32]>> {
    let mut file = match crate::text::open_for_reading(path) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(VaultError::io(format!("reading {}", path.display()), e)),
    };
    let mut head = [0u8; 40];
    match file.read_exact(&mut head) {
        Ok(()) => Ok(super::format::file_digest(&head)),
        // Shorter than a header: certainly not what we saved.
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => Ok(Some([0; 32])),
        Err(e) => Err(VaultError::io(format!("reading {}", path.display()), e)),
    }
}

/// Temp file in the same directory (0600, created fresh), write, fsync, rename, fsync the
/// directory. A crash at any point leaves either the old or the new file, never a mix.
pub fn atomic_write(path: &Path, bytes: &[u8]) -> Result<()> {
    ensure_parent(path)?;
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let suffix: u64 = rand::random();
    let tmp = dir.join(format!(".{name}.{}.{suffix:016x}.tmp", std::process::id()));
    let ctx = |what: &str| format!("{what} {}", tmp.display());
    let result = (|| {
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(|e| VaultError::io(ctx("creating"), e))?;
        f.write_all(bytes)
            .map_err(|e| VaultError::io(ctx("writing"), e))?;
        f.sync_all()
            .map_err(|e| VaultError::io(ctx("syncing"), e))?;
        test_hook_before_rename();
        std::fs::rename(&tmp, path).map_err(|e| VaultError::io(ctx("renaming"), e))
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
        return result;
    }
    let _ = std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600));
    File::open(dir)
        .and_then(|d| d.sync_all())
        .map_err(|e| VaultError::io(format!("syncing {}", dir.display()), e))
}

#[cfg(debug_assertions)]
fn test_hook_before_rename() {
    if std::env::var(TEST_HOOK_ENV).as_deref() == Ok("pause-before-rename") {
        std::thread::sleep(TEST_PAUSE);
    }
}

#[cfg(not(debug_assertions))]
fn test_hook_before_rename() {}
