//! known_hosts files with OpenSSH's semantics, read as bytes: the user's `~/.ssh/known_hosts`
//! and the system's `/etc/ssh/ssh_known_hosts` (`UserKnownHostsFile`, `GlobalKnownHostsFile`;
//! read only) and lumen's own (accepted keys are added there, hashed, atomically; `lumen hosts
//! forget` removes them). `@cert-authority` lines are parsed but ignored: lumen does not ask
//! servers for host certificates, so a CA line never vouches for a key.

use super::SshError;
use super::fingerprint;
use super::hashed::{HostMatch, hash_name, match_host_field};
use super::target::host_port_name;
use russh::keys::{Algorithm, HashAlg, PublicKey};
use std::path::{Path, PathBuf};

/// The marker at the start of a line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Marker {
    None,
    CertAuthority,
    Revoked,
}

/// One valid line.
#[derive(Debug, Clone)]
pub struct Entry {
    pub marker: Marker,
    pub hosts: String,
    pub key: PublicKey,
    /// 1-based line number.
    pub line: usize,
}

/// A parsed file, with a `file:line: why` warning for each line that was skipped.
#[derive(Debug, Clone, Default)]
pub struct HostsFile {
    pub path: PathBuf,
    pub entries: Vec<Entry>,
    pub warnings: Vec<String>,
    /// Why the file could not be read at all. Such a file fails closed: a connection that
    /// would check keys against it is refused (a changed key must never look unknown).
    pub unreadable: Option<String>,
}

impl HostsFile {
    pub fn parse(path: &Path, text: &str) -> Self {
        Self::parse_bytes(path, text.as_bytes())
    }

    /// Parse line by line, as OpenSSH does: bytes, not text. The marker, host patterns, key
    /// type and key are fields separated by blanks; whatever follows the key is a comment, in
    /// any encoding (`# café` or `host key café` in Latin-1 are both fine). A host pattern
    /// with a byte that is not UTF-8 still applies to the names it lists (the odd byte itself
    /// matches nothing, as in OpenSSH, where no host name contains it). A line that is not a
    /// valid entry is skipped with a `file:line` warning and every good line is kept.
    pub fn parse_bytes(path: &Path, bytes: &[u8]) -> Self {
        let mut file = HostsFile {
            path: path.to_path_buf(),
            ..Default::default()
        };
        for (i, raw) in bytes.split(|b| *b == b'\n').enumerate() {
            let line = i + 1;
            let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
            match parse_line(raw) {
                Ok(Some((marker, hosts, key))) => file.entries.push(Entry {
                    marker,
                    hosts,
                    key,
                    line,
                }),
                Ok(None) => {}
                Err(why) => file
                    .warnings
                    .push(format!("{}:{line}: {why}; line ignored", path.display())),
            }
        }
        file
    }

    /// Read a file; a missing file is empty. One that exists but cannot be read is marked
    /// [`HostsFile::unreadable`].
    pub fn load(path: &Path) -> Self {
        match crate::text::read_capped(path, crate::text::SETTINGS_FILE_LIMIT) {
            Ok(bytes) => Self::parse_bytes(path, &bytes),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => HostsFile {
                path: path.to_path_buf(),
                ..Default::default()
            },
            Err(e) => HostsFile {
                path: path.to_path_buf(),
                unreadable: Some(e.to_string()),
                ..Default::default()
            },
        }
    }

    /// The entries that apply to `name` (`host` or `[host]:port`), like `ssh-keygen -F name`.
    pub fn matching(&self, name: &str) -> impl Iterator<Item = &Entry> {
        let name = name.to_ascii_lowercase();
        self.entries
            .iter()
            .filter(move |e| match_host_field(&e.hosts, &name) == HostMatch::Yes)
    }
}

type Parsed = Option<(Marker, String, PublicKey)>;

/// One line's fields as OpenSSH's `hostfile.c` reads them: split on blanks, bytes throughout.
fn parse_line(raw: &[u8]) -> Result<Parsed, String> {
    let mut fields = raw
        .split(|b| matches!(b, b' ' | b'\t'))
        .filter(|f| !f.is_empty());
    let Some(mut first) = fields.next() else {
        return Ok(None);
    };
    if first.starts_with(b"#") {
        return Ok(None);
    }
    let marker = match first {
        b"@cert-authority" => Marker::CertAuthority,
        b"@revoked" => Marker::Revoked,
        m if m.starts_with(b"@") => {
            return Err(format!(
                "unknown marker {}",
                crate::text::escape_controls(&String::from_utf8_lossy(m))
            ));
        }
        _ => Marker::None,
    };
    if marker != Marker::None {
        first = fields.next().ok_or("no host names after the marker")?;
    }
    // The key type and the base64 key are ASCII in any valid line; only the comment after
    // them may be in another encoding.
    let ascii = |f: &[u8], what: &str| -> Result<String, String> {
        std::str::from_utf8(f)
            .ok()
            .filter(|t| t.is_ascii())
            .map(str::to_string)
            .ok_or_else(|| format!("the {what} is not ASCII"))
    };
    let key_type = ascii(fields.next().ok_or("no key type")?, "key type")?;
    let blob = ascii(fields.next().ok_or("no key")?, "key")?;
    let key = PublicKey::from_openssh(&format!("{key_type} {blob}")).map_err(|e| {
        format!(
            "invalid {} key: {e}",
            crate::text::escape_controls(&key_type)
        )
    })?;
    // A byte that is not UTF-8 becomes U+FFFD, which no host name lumen connects to contains:
    // like the raw byte in OpenSSH, it matches nothing, and the rest of the list still counts.
    Ok(Some((
        marker,
        String::from_utf8_lossy(first).into_owned(),
        key,
    )))
}

/// What the known_hosts files say about a presented host key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostKeyStatus {
    Known {
        file: PathBuf,
        line: usize,
    },
    Unknown,
    /// A key of the same type is recorded for this host and differs.
    Changed {
        old_fingerprint: String,
        file: PathBuf,
        line: usize,
    },
    Revoked {
        file: PathBuf,
        line: usize,
    },
}

/// The user's and lumen's known_hosts, read together.
#[derive(Debug, Clone)]
pub struct KnownHosts {
    pub files: Vec<HostsFile>,
}

impl KnownHosts {
    /// Read `user` (`~/.ssh/known_hosts`, if any) then lumen's file.
    pub fn load(user: Option<&Path>, lumen: &Path) -> Self {
        let mut files: Vec<HostsFile> = user.map(HostsFile::load).into_iter().collect();
        files.push(HostsFile::load(lumen));
        Self { files }
    }

    /// Read every user file in order (`UserKnownHostsFile` may list several), lumen's, then
    /// the system-wide ones (`GlobalKnownHostsFile`), as ssh reads user then system files. All
    /// of them count alike: a key revoked or recorded in any of them is revoked or known, and
    /// a different key of the same type in any of them means the key changed.
    pub fn load_all(user: &[PathBuf], lumen: &Path, global: &[PathBuf]) -> Self {
        let mut files: Vec<HostsFile> = user.iter().map(|p| HostsFile::load(p)).collect();
        files.push(HostsFile::load(lumen));
        files.extend(global.iter().map(|p| HostsFile::load(p)));
        Self { files }
    }

    pub fn warnings(&self) -> impl Iterator<Item = &String> {
        self.files.iter().flat_map(|f| f.warnings.iter())
    }

    /// The first file that exists but could not be read, and why.
    pub fn unreadable(&self) -> Option<(&Path, &str)> {
        self.files
            .iter()
            .find_map(|f| f.unreadable.as_deref().map(|why| (f.path.as_path(), why)))
    }

    /// OpenSSH's order: a revoked key is refused whatever else matches; then a recorded equal
    /// key is known; then a different key of the same type means changed.
    pub fn check(&self, host: &str, port: u16, key: &PublicKey) -> HostKeyStatus {
        let name = host_port_name(host, port);
        let matching: Vec<(&HostsFile, &Entry)> = self
            .files
            .iter()
            .flat_map(|f| f.matching(&name).map(move |e| (f, e)))
            .collect();
        let same = |e: &Entry| e.key.key_data() == key.key_data();
        if let Some((f, e)) = matching
            .iter()
            .find(|(_, e)| e.marker == Marker::Revoked && same(e))
        {
            return HostKeyStatus::Revoked {
                file: f.path.clone(),
                line: e.line,
            };
        }
        let plain = || matching.iter().filter(|(_, e)| e.marker == Marker::None);
        if let Some((f, e)) = plain().find(|(_, e)| same(e)) {
            return HostKeyStatus::Known {
                file: f.path.clone(),
                line: e.line,
            };
        }
        if let Some((f, e)) = plain().find(|(_, e)| e.key.algorithm() == key.algorithm()) {
            return HostKeyStatus::Changed {
                old_fingerprint: e.key.fingerprint(HashAlg::Sha256).to_string(),
                file: f.path.clone(),
                line: e.line,
            };
        }
        HostKeyStatus::Unknown
    }

    /// The host-key algorithms already recorded for this host, to be preferred in the key
    /// exchange (so a host with a known ECDSA key is not asked for an unknown Ed25519 one).
    pub fn known_algorithms(&self, host: &str, port: u16) -> Vec<Algorithm> {
        let name = host_port_name(host, port);
        let mut algs = Vec::new();
        for f in &self.files {
            for e in f.matching(&name).filter(|e| e.marker == Marker::None) {
                let found: Vec<Algorithm> = match e.key.algorithm() {
                    Algorithm::Rsa { .. } => vec![
                        Algorithm::Rsa {
                            hash: Some(HashAlg::Sha512),
                        },
                        Algorithm::Rsa {
                            hash: Some(HashAlg::Sha256),
                        },
                    ],
                    a => vec![a],
                };
                for a in found {
                    if !algs.contains(&a) {
                        algs.push(a);
                    }
                }
            }
        }
        algs
    }
}

/// Append `key` for `host:port` to lumen's known_hosts, hashed, atomically, under a lock.
pub fn add(lumen: &Path, host: &str, port: u16, key: &PublicKey) -> Result<(), SshError> {
    let fail = |why: String| SshError::KnownHostsWrite {
        path: lumen.to_path_buf(),
        why,
    };
    let _lock = lock(lumen).map_err(|e| fail(e.to_string()))?;
    // Bytes, not text: lines lumen cannot read are kept exactly as they are.
    let mut bytes = read_or_empty(lumen).map_err(|e| fail(e.to_string()))?;
    if !bytes.is_empty() && !bytes.ends_with(b"\n") {
        bytes.push(b'\n');
    }
    let mut public = key.clone();
    public.set_comment("");
    let encoded = public.to_openssh().map_err(|e| fail(e.to_string()))?;
    bytes.extend_from_slice(
        format!(
            "{} {}\n",
            hash_name(&host_port_name(host, port)),
            encoded.trim()
        )
        .as_bytes(),
    );
    crate::paths::atomic_write(lumen, &bytes).map_err(|e| fail(e.to_string()))
}

/// What `forget` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forgotten {
    /// Lines removed from lumen's file (1-based, as they were).
    pub removed: Vec<usize>,
    /// Lines for the host in the user's `~/.ssh/known_hosts`, which lumen does not edit.
    pub elsewhere: Vec<(PathBuf, usize)>,
}

/// Remove every line of lumen's file that applies to `host:port` (hashed or not), like
/// `ssh-keygen -R`. The user's own known_hosts is only searched, never edited.
pub fn forget(
    lumen: &Path,
    user: Option<&Path>,
    host: &str,
    port: u16,
) -> Result<Forgotten, SshError> {
    let fail = |why: String| SshError::KnownHostsWrite {
        path: lumen.to_path_buf(),
        why,
    };
    let name = host_port_name(host, port);
    let _lock = lock(lumen).map_err(|e| fail(e.to_string()))?;
    let bytes = read_or_empty(lumen).map_err(|e| fail(e.to_string()))?;
    let mut kept = Vec::with_capacity(bytes.len());
    let mut removed = Vec::new();
    let body = bytes.strip_suffix(b"\n").unwrap_or(&bytes);
    for (i, raw) in body.split(|b| *b == b'\n').enumerate() {
        let applies = match parse_line(raw) {
            Ok(Some((_, hosts, _))) => match_host_field(&hosts, &name) == HostMatch::Yes,
            _ => false,
        };
        if applies {
            removed.push(i + 1);
        } else if !body.is_empty() {
            kept.extend_from_slice(raw);
            kept.push(b'\n');
        }
    }
    if !removed.is_empty() {
        crate::paths::atomic_write(lumen, &kept).map_err(|e| fail(e.to_string()))?;
    }
    let elsewhere = user
        .map(HostsFile::load)
        .map(|f| {
            f.matching(&name)
                .map(|e| (f.path.clone(), e.line))
                .collect()
        })
        .unwrap_or_default();
    Ok(Forgotten { removed, elsewhere })
}

fn read_or_empty(path: &Path) -> std::io::Result<Vec<u8>> {
    match crate::text::read_capped(path, crate::text::SETTINGS_FILE_LIMIT) {
        Ok(t) => Ok(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Vec::new()),
        Err(e) => Err(e),
    }
}

fn lock(path: &Path) -> std::io::Result<crate::paths::FileLock> {
    crate::paths::FileLock::acquire(&crate::paths::lock_path_for(path))
}

/// A presented key's short description for dialogs: `ED25519`, `SHA256:…`.
pub fn key_summary(key: &PublicKey) -> (String, String) {
    (
        fingerprint::type_name(key.key_data()).to_string(),
        fingerprint::sha256(key),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const ED: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOMqqnkVzrm0SdG6UOoqKLsabgH5C9okWi0dh2l9GKJl";
    const ED2: &str =
        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAILM+rvN+ot98qgEN796jTiQfZfG1KaT0PtFDJ/XFSqti";

    fn key(s: &str) -> PublicKey {
        PublicKey::from_openssh(s).unwrap()
    }

    #[test]
    fn known_changed_revoked_unknown() {
        let text = format!(
            "# comment\n\ndb1,db2 {ED}\n[db1]:2222\t{ED2}\nbroken line\n@revoked bad {ED}\nbad {ED2}\n"
        );
        let f = HostsFile::parse(Path::new("kh"), &text);
        assert_eq!(f.warnings.len(), 1, "{:?}", f.warnings);
        assert!(f.warnings[0].starts_with("kh:5: "), "{:?}", f.warnings);
        let kh = KnownHosts { files: vec![f] };
        assert!(matches!(
            kh.check("db1", 22, &key(ED)),
            HostKeyStatus::Known { line: 3, .. }
        ));
        assert!(matches!(
            kh.check("DB2", 22, &key(ED)),
            HostKeyStatus::Known { .. }
        ));
        assert!(matches!(
            kh.check("db1", 22, &key(ED2)),
            HostKeyStatus::Changed { line: 3, .. }
        ));
        assert!(matches!(
            kh.check("db1", 2222, &key(ED2)),
            HostKeyStatus::Known { line: 4, .. }
        ));
        assert!(matches!(
            kh.check("bad", 22, &key(ED)),
            HostKeyStatus::Revoked { line: 6, .. }
        ));
        assert_eq!(kh.check("db3", 22, &key(ED)), HostKeyStatus::Unknown);
        assert_eq!(kh.known_algorithms("db1", 22), vec![Algorithm::Ed25519]);
    }

    #[test]
    fn add_then_forget() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("data/known_hosts");
        add(&path, "db1", 2222, &key(ED)).unwrap();
        add(&path, "db9", 22, &key(ED2)).unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert!(text.starts_with("|1|") && !text.contains("db1"), "{text}");
        let kh = KnownHosts::load(None, &path);
        assert!(matches!(
            kh.check("db1", 2222, &key(ED)),
            HostKeyStatus::Known { .. }
        ));
        let gone = forget(&path, None, "db1", 2222).unwrap();
        assert_eq!(gone.removed, vec![1]);
        let kh = KnownHosts::load(None, &path);
        assert_eq!(kh.check("db1", 2222, &key(ED)), HostKeyStatus::Unknown);
        assert!(matches!(
            kh.check("db9", 22, &key(ED2)),
            HostKeyStatus::Known { .. }
        ));
    }
}
