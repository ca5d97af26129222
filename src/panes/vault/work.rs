//! The vault browser's disk work: reading a secret (which appends to the audit log, fsynced)
//! and saving the vault file. The browser asks for it ([`VaultWork`]); the app runs it off the
//! UI task and hands the result ([`WorkDone`]) back to the browser.

use super::form::FormData;
use crate::vault::{Action, Kind, Scope, Vault, VaultOwner};
use secrecy::SecretString;

/// One piece of the browser's disk work, self-contained.
pub struct VaultWork {
    owner: VaultOwner,
    op: Op,
}

enum Op {
    Reveal {
        scope: Scope,
        name: String,
    },
    /// `unix`: the time whose TOTP code a TOTP entry copies.
    Copy {
        scope: Scope,
        name: String,
        unix: u64,
    },
    Save(Box<FormData>),
    Delete {
        scope: Scope,
        name: String,
    },
}

/// What the work came to. Secrets travel in memory only, as [`SecretString`]s.
#[derive(Debug)]
pub enum WorkDone {
    Revealed {
        name: String,
        result: Result<SecretString, String>,
    },
    Copied {
        name: String,
        result: Result<SecretString, String>,
    },
    Saved {
        name: String,
        result: Result<(), String>,
    },
    Deleted {
        name: String,
        result: Result<(), String>,
    },
}

impl std::fmt::Debug for VaultWork {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let (what, name) = match &self.op {
            Op::Reveal { name, .. } => ("reveal", name),
            Op::Copy { name, .. } => ("copy", name),
            Op::Save(data) => ("save", &data.name),
            Op::Delete { name, .. } => ("delete", name),
        };
        write!(f, "VaultWork({what} {name})")
    }
}

impl VaultWork {
    pub(super) fn reveal(owner: &VaultOwner, scope: Scope, name: &str) -> Self {
        Self::new(
            owner,
            Op::Reveal {
                scope,
                name: name.into(),
            },
        )
    }

    pub(super) fn copy(owner: &VaultOwner, scope: Scope, name: &str, unix: u64) -> Self {
        let name = name.into();
        Self::new(owner, Op::Copy { scope, name, unix })
    }

    pub(super) fn save(owner: &VaultOwner, data: FormData) -> Self {
        Self::new(owner, Op::Save(Box::new(data)))
    }

    pub(super) fn delete(owner: &VaultOwner, scope: Scope, name: &str) -> Self {
        Self::new(
            owner,
            Op::Delete {
                scope,
                name: name.into(),
            },
        )
    }

    fn new(owner: &VaultOwner, op: Op) -> Self {
        Self {
            owner: owner.clone(),
            op,
        }
    }

    /// Do it. Blocking (audit appends and saves fsync): run it off the UI task.
    pub fn run(self) -> WorkDone {
        let owner = self.owner;
        match self.op {
            Op::Reveal { scope, name } => WorkDone::Revealed {
                result: read(&owner, scope, |v| v.secret(&name, Action::Reveal, None)),
                name,
            },
            Op::Copy { scope, name, unix } => WorkDone::Copied {
                result: read(&owner, scope, |vault| {
                    let is_totp = vault.get(&name).is_ok_and(|e| e.kind == Kind::Totp);
                    if is_totp {
                        // For a TOTP entry the useful thing to paste is the current code.
                        let code = vault.totp_at(&name, unix)?;
                        vault.record(&name, Action::Copy, None)?;
                        Ok(SecretString::from(code.code))
                    } else {
                        vault.secret(&name, Action::Copy, None)
                    }
                }),
                name,
            },
            Op::Save(data) => {
                let FormData {
                    editing,
                    name,
                    scope,
                    entry,
                } = *data;
                let result = write(&owner, scope, |vault| {
                    match &editing {
                        Some(old) => vault.edit(old, entry),
                        None => vault.add(&name, entry),
                    }
                    .and_then(|_| vault.save())
                });
                WorkDone::Saved { name, result }
            }
            Op::Delete { scope, name } => WorkDone::Deleted {
                result: write(&owner, scope, |v| v.remove(&name).and_then(|_| v.save())),
                name,
            },
        }
    }
}

/// `f` on the open vault of `scope`.
fn read<T>(
    owner: &VaultOwner,
    scope: Scope,
    f: impl FnOnce(&Vault) -> crate::vault::Result<T>,
) -> Result<T, String> {
    owner
        .read(|vaults| {
            let sv = vaults
                .iter()
                .find(|v| v.scope == scope)
                .ok_or_else(|| not_open(scope))?;
            f(&sv.vault).map_err(|e| e.to_string())
        })
        .map_err(|locked| locked.to_string())?
}

/// `f` on the open vault of `scope`, to change it.
fn write<T>(
    owner: &VaultOwner,
    scope: Scope,
    f: impl FnOnce(&mut Vault) -> crate::vault::Result<T>,
) -> Result<T, String> {
    owner
        .write(|vaults| {
            let sv = vaults
                .iter_mut()
                .find(|v| v.scope == scope)
                .ok_or_else(|| not_open(scope))?;
            f(&mut sv.vault).map_err(|e| e.to_string())
        })
        .map_err(|locked| locked.to_string())?
}

fn not_open(scope: Scope) -> String {
    format!("the {} vault is not open", scope.as_str())
}
