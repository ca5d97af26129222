//! lumen as a server and its clients, as tmux is: sessions live in a server process started
//! on first use; `lumen`, `lumen shell` and `lumen connect` start a session there and attach
//! the terminal to it; `C-b d` detaches and `lumen attach` comes back.
//!
//! The socket is `$XDG_RUNTIME_DIR/lumen/default.sock`, else `/tmp/lumen-$UID/default.sock`
//! (`-L NAME` picks `NAME.sock`; with `LUMEN_HOME` set, the name is derived from that home, so
//! each home has its own server). The directory must be ours and 0700, the socket 0600, and
//! every peer must be our uid.

pub mod client;
mod daemon;
pub mod proto;
pub mod registry;
pub mod session;

pub use daemon::serve;

use std::path::{Path, PathBuf};

/// The socket a client uses: `-L NAME`, the home's own, or the default.
pub fn socket_path(name: Option<&str>) -> Result<PathBuf, String> {
    let dir = socket_dir();
    let base = name.unwrap_or("default");
    if base.is_empty() || base.contains('/') || base.starts_with('.') {
        return Err(format!(
            "'{base}' cannot name a socket (-L NAME: no '/', not hidden)"
        ));
    }
    let file = match std::env::var_os("LUMEN_HOME").filter(|h| !h.is_empty()) {
        Some(home) => {
            use sha2::Digest;
            let home = std::fs::canonicalize(&home).unwrap_or_else(|_| PathBuf::from(&home));
            let hash = sha2::Sha256::digest(home.as_os_str().as_encoded_bytes());
            let short: String = hash.iter().take(6).map(|b| format!("{b:02x}")).collect();
            match name {
                Some(n) => format!("home-{short}-{n}.sock"),
                None => format!("home-{short}.sock"),
            }
        }
        None => format!("{base}.sock"),
    };
    Ok(dir.join(file))
}

/// `$XDG_RUNTIME_DIR/lumen`, else `/tmp/lumen-$UID`.
fn socket_dir() -> PathBuf {
    match std::env::var_os("XDG_RUNTIME_DIR").filter(|d| Path::new(d).is_absolute()) {
        Some(d) => Path::new(&d).join("lumen"),
        // SAFETY: getuid cannot fail.
        None => PathBuf::from(format!("/tmp/lumen-{}", unsafe { libc::getuid() })),
    }
}

/// Make the socket's directory if it is missing, then refuse it unless it is a directory of
/// ours that nobody else can enter (tmux's rule), with the reason.
pub fn check_socket_dir(dir: &Path) -> Result<(), String> {
    use std::os::unix::fs::{DirBuilderExt, MetadataExt};
    match std::fs::DirBuilder::new().mode(0o700).create(dir) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {}
        Err(e) => return Err(format!("cannot create {}: {e}", dir.display())),
    }
    let meta = std::fs::symlink_metadata(dir)
        .map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
    // SAFETY: getuid cannot fail.
    let uid = unsafe { libc::getuid() };
    if !meta.is_dir() {
        return Err(format!(
            "{} is not a directory; refusing to use it for lumen's socket",
            dir.display()
        ));
    }
    if meta.uid() != uid {
        return Err(format!(
            "{} belongs to uid {}, not to you (uid {uid}); refusing to use it for lumen's socket",
            dir.display(),
            meta.uid()
        ));
    }
    if meta.mode() & 0o077 != 0 {
        return Err(format!(
            "{} has mode {:04o}: others could reach lumen's socket; refusing to use it \
             (it must be 0700: chmod 700 {})",
            dir.display(),
            meta.mode() & 0o7777,
            dir.display()
        ));
    }
    Ok(())
}
