//! `team/members.toml`: who the team key is wrapped to. Every member line carries an SSH
//! signature (the `ssh-keygen -Y sign` format, namespace `lumen-team`) over its canonical text,
//! made by a member listed above it; the first member signs their own. So write access to the
//! repository is not enough to become a recipient.

use super::error::TeamError;
use russh::keys::ssh_key::{HashAlg, LineEnding, PrivateKey, PublicKey, SshSig};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The namespace of every member signature (`ssh-keygen -Y verify -n lumen-team`).
pub const NAMESPACE: &str = "lumen-team";

/// Largest members file read.
const MAX_MEMBERS_FILE: u64 = 4 * 1024 * 1024;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Member {
    pub name: String,
    /// `ssh-ed25519 AAAA…`, `ssh-rsa AAAA…` (no comment) or `age1…`.
    pub key: String,
    pub added_by: String,
    /// RFC 3339, UTC.
    pub added_at: String,
    /// `-----BEGIN SSH SIGNATURE-----` armour by `added_by`'s key over [`Member::text`].
    #[serde(default)]
    pub signature: String,
}

impl Member {
    /// The canonical text a signature covers: name, public key, added by, added at, one per line.
    pub fn text(&self) -> String {
        format!(
            "{}\n{}\n{}\n{}\n",
            self.name, self.key, self.added_by, self.added_at
        )
    }

    pub fn is_ssh(&self) -> bool {
        self.key.starts_with("ssh-")
    }

    /// Sign this member's text with `signer` (replacing any signature).
    pub fn sign(&mut self, signer: &PrivateKey) -> Result<(), TeamError> {
        let sig = signer
            .sign(NAMESPACE, HashAlg::Sha512, self.text().as_bytes())
            .and_then(|s| s.to_pem(LineEnding::LF))
            .map_err(|e| TeamError::Identity {
                why: format!("signing member '{}' failed: {e}", self.name),
            })?;
        self.signature = sig;
        Ok(())
    }
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct File {
    #[serde(default, rename = "member")]
    members: Vec<Member>,
}

/// The members as listed, with the line each `[[member]]` starts on (for errors).
#[derive(Debug, Clone, Default)]
pub struct Members {
    pub list: Vec<Member>,
    lines: Vec<usize>,
}

/// A member key in its canonical form: type and base64, without a comment; `age1…` as is.
pub fn normalize_key(text: &str) -> Result<String, String> {
    let text = text.trim();
    if text.starts_with("age1") {
        return text
            .parse::<age::x25519::Recipient>()
            .map(|r| r.to_string())
            .map_err(|e| format!("not an age public key: {e}"));
    }
    let mut parts = text.split_whitespace();
    let (Some(kind), Some(b64)) = (parts.next(), parts.next()) else {
        return Err(
            "not a public key line ('ssh-ed25519 AAAA…', 'ssh-rsa AAAA…' or 'age1…')".into(),
        );
    };
    if kind != "ssh-ed25519" && kind != "ssh-rsa" {
        return Err(format!(
            "a {kind} key cannot be a member: age encrypts only to ssh-ed25519, ssh-rsa and age1 keys"
        ));
    }
    let line = format!("{kind} {b64}");
    PublicKey::from_openssh(&line).map_err(|e| format!("unreadable public key: {e}"))?;
    line.parse::<age::ssh::Recipient>().map_err(|_| {
        "age cannot encrypt to this key (an RSA key shorter than 2048 bits?)".to_string()
    })?;
    Ok(line)
}

impl Members {
    /// A list built in memory (no line numbers).
    pub fn new(list: Vec<Member>) -> Members {
        Members {
            list,
            lines: Vec::new(),
        }
    }

    pub fn load(path: &Path) -> Result<Members, TeamError> {
        let bytes =
            crate::text::read_capped(path, MAX_MEMBERS_FILE).map_err(|e| TeamError::Members {
                path: path.to_path_buf(),
                why: format!("cannot read it: {e}"),
            })?;
        let text = String::from_utf8(bytes).map_err(|_| TeamError::Members {
            path: path.to_path_buf(),
            why: "not UTF-8 text".into(),
        })?;
        let file: File = toml::from_str(&text).map_err(|e| TeamError::Members {
            path: path.to_path_buf(),
            why: format!("not a members file: {}", e.message()),
        })?;
        let lines = text
            .lines()
            .enumerate()
            .filter(|(_, l)| l.trim() == "[[member]]")
            .map(|(i, _)| i + 1)
            .collect();
        Ok(Members {
            list: file.members,
            lines,
        })
    }

    pub fn save(&self, path: &Path) -> Result<(), TeamError> {
        let file = File {
            members: self.list.clone(),
        };
        let text = toml::to_string(&file).map_err(|e| TeamError::Members {
            path: path.to_path_buf(),
            why: format!("cannot encode: {e}"),
        })?;
        let text = format!(
            "# Members of this team vault. Each line is signed by a member above it; check one with\n\
             # lumen team member-text NAME | ssh-keygen -Y verify -f SIGNERS -I SIGNER -n lumen-team -s SIG\n\n{text}"
        );
        crate::paths::atomic_write_mode(path, text.as_bytes(), 0o644).map_err(|e| {
            TeamError::Members {
                path: path.to_path_buf(),
                why: format!("cannot write it: {e}"),
            }
        })
    }

    pub fn get(&self, name: &str) -> Option<&Member> {
        self.list.iter().find(|m| m.name == name)
    }

    pub fn by_key(&self, key: &str) -> Option<&Member> {
        self.list.iter().find(|m| m.key == key)
    }

    /// The line `[[member]]` number `i` starts on (0 when unknown: a list built in memory).
    fn line(&self, i: usize) -> usize {
        self.lines.get(i).copied().unwrap_or(0)
    }

    /// Check every member: a valid name and key, no duplicates, and a signature that
    /// verifies by another trusted member (the first member: by their own key).
    pub fn verify(&self, path: &Path) -> Result<(), TeamError> {
        let bad = |i: usize, why: String| TeamError::Member {
            path: path.to_path_buf(),
            line: self.line(i),
            why,
        };
        if self.list.is_empty() {
            return Err(TeamError::Members {
                path: path.to_path_buf(),
                why: "no members".into(),
            });
        }
        for (i, m) in self.list.iter().enumerate() {
            let who = crate::text::escape_controls(&m.name);
            check_member_name(&m.name).map_err(|why| bad(i, why))?;
            let key =
                normalize_key(&m.key).map_err(|why| bad(i, format!("member '{who}': {why}")))?;
            if key != m.key {
                return Err(bad(
                    i,
                    format!("member '{who}': key is not in canonical form"),
                ));
            }
            let earlier = &self.list[..i];
            if earlier.iter().any(|e| e.name == m.name) {
                return Err(bad(i, format!("member '{who}' is listed twice")));
            }
            if earlier.iter().any(|e| e.key == m.key) {
                return Err(bad(
                    i,
                    format!("member '{who}' has the key of another member"),
                ));
            }
            if m.signature.trim().is_empty() {
                return Err(bad(i, format!("member '{who}' is not signed: refused")));
            }
            if i == 0 && m.added_by != m.name {
                return Err(bad(
                    i,
                    format!(
                        "the first member '{who}' must be signed by their own key, not by '{}'",
                        crate::text::escape_controls(&m.added_by)
                    ),
                ));
            }
            if i > 0 && m.added_by == m.name {
                return Err(bad(
                    i,
                    format!(
                        "member '{who}' signed their own line; only the first member may: refused"
                    ),
                ));
            }
        }
        // Trust flows from the first member: a line counts once its signer's line does.
        let mut trusted = vec![false; self.list.len()];
        let check = |i: usize, signer: usize| {
            let m = &self.list[i];
            check_signature(m, &self.list[signer]).map_err(|why| {
                bad(
                    i,
                    format!(
                        "member '{}': {why}: refused",
                        crate::text::escape_controls(&m.name)
                    ),
                )
            })
        };
        check(0, 0)?;
        trusted[0] = true;
        loop {
            let mut progress = false;
            for i in 1..self.list.len() {
                if trusted[i] {
                    continue;
                }
                let signer = self
                    .list
                    .iter()
                    .position(|s| s.name == self.list[i].added_by);
                if let Some(s) = signer.filter(|s| trusted[*s]) {
                    check(i, s)?;
                    trusted[i] = true;
                    progress = true;
                }
            }
            if !progress {
                break;
            }
        }
        if let Some(i) = trusted.iter().position(|t| !t) {
            let m = &self.list[i];
            let by = crate::text::escape_controls(&m.added_by);
            let why = if self.get(&m.added_by).is_some() {
                format!(
                    "is signed by '{by}', whose own line is not signed by a trusted member (a loop of signatures)"
                )
            } else {
                format!("is signed by '{by}', who is not a member")
            };
            return Err(bad(
                i,
                format!(
                    "member '{}' {why}: refused",
                    crate::text::escape_controls(&m.name)
                ),
            ));
        }
        Ok(())
    }
}

/// Member names: 1-64 of letters, digits, `.`, `_`, `-` (they name audit files).
pub fn check_member_name(name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-'));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "'{}' is not a member name; use letters, digits, '.', '_', '-' (1-64)",
            crate::text::escape_controls(name)
        ))
    }
}

fn check_signature(m: &Member, signer: &Member) -> Result<(), String> {
    if !signer.is_ssh() {
        return Err(format!(
            "signed by '{}', whose age key cannot sign",
            signer.name
        ));
    }
    let sig = SshSig::from_pem(m.signature.trim())
        .map_err(|_| "the signature is not an SSH signature".to_string())?;
    let public = PublicKey::from_openssh(&signer.key).map_err(|e| format!("signer key: {e}"))?;
    if sig.namespace() != NAMESPACE {
        return Err(format!(
            "the signature is for namespace '{}', not '{NAMESPACE}'",
            crate::text::escape_controls(sig.namespace())
        ));
    }
    public
        .verify(NAMESPACE, m.text().as_bytes(), &sig)
        .map_err(|_| {
            format!(
                "the signature does not verify with the key of '{}' (forged, or the line was edited after signing)",
                signer.name
            )
        })
}
