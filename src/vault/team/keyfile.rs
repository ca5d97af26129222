//! `team/key.age`: the team's data key wrapped with age to every member's public key. Inside,
//! the epoch (bumped when a member is removed or on rekey), the current key, the keys of
//! earlier epochs (so an entry merged in from an older branch still opens until a rekey),
//! the key that seals the audit logs, and the member keys it was wrapped to. Never merged by
//! git: regenerated.

use super::error::TeamError;
use super::members::Member;
use crate::vault::format::{KEY_LEN, Key, random_bytes};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as B64;
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use std::path::Path;
use zeroize::Zeroizing;

const MAX_KEY_AGE: u64 = 16 * 1024 * 1024;

/// The decrypted content of `key.age`.
pub struct TeamKeys {
    pub epoch: u64,
    pub key: Key,
    /// (epoch, key) of earlier epochs.
    pub previous: Vec<(u64, Key)>,
    pub audit_key: Key,
    /// The member keys `key.age` is wrapped to.
    pub recipients: Vec<String>,
}

impl std::fmt::Debug for TeamKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TeamKeys")
            .field("epoch", &self.epoch)
            .field("key", &"[redacted]")
            .field("recipients", &self.recipients)
            .finish()
    }
}

/// A key as base64 in the wrapped JSON; decoded text is wiped.
struct WireKey(Key);

impl Serialize for WireKey {
    fn serialize<S: serde::Serializer>(&self, ser: S) -> Result<S::Ok, S::Error> {
        ser.serialize_str(&Zeroizing::new(B64.encode(self.0.as_ref())))
    }
}

impl<'de> Deserialize<'de> for WireKey {
    fn deserialize<D: serde::Deserializer<'de>>(de: D) -> Result<Self, D::Error> {
        let text = Zeroizing::new(String::deserialize(de)?);
        key_from_b64(&text)
            .map(WireKey)
            .ok_or_else(|| serde::de::Error::custom("malformed key"))
    }
}

#[derive(Serialize, Deserialize)]
struct Wire {
    v: u32,
    epoch: u64,
    key: WireKey,
    #[serde(default)]
    previous: Vec<(u64, WireKey)>,
    audit_key: WireKey,
    recipients: Vec<String>,
}

fn copy(k: &Key) -> Key {
    let mut bytes: [u8; KEY_LEN] = **k;
    let out = Key::from_bytes(bytes);
    zeroize::Zeroize::zeroize(&mut bytes);
    out
}

fn fresh_key() -> Key {
    let mut bytes: [u8; KEY_LEN] = random_bytes();
    let key = Key::from_bytes(bytes);
    zeroize::Zeroize::zeroize(&mut bytes);
    key
}

fn key_from_b64(s: &str) -> Option<Key> {
    let bytes = Zeroizing::new(B64.decode(s).ok()?);
    let arr: [u8; KEY_LEN] = bytes.as_slice().try_into().ok()?;
    Some(Key::from_bytes(arr))
}

impl TeamKeys {
    /// A new team: epoch 1, fresh keys.
    pub fn new() -> TeamKeys {
        TeamKeys {
            epoch: 1,
            key: fresh_key(),
            previous: Vec::new(),
            audit_key: fresh_key(),
            recipients: Vec::new(),
        }
    }

    /// The next epoch: a fresh key, the current one kept as previous.
    pub fn next_epoch(&mut self) {
        let old = std::mem::replace(&mut self.key, fresh_key());
        self.previous.push((self.epoch, old));
        self.epoch += 1;
    }

    /// Drop keys of earlier epochs (after every entry is re-encrypted: a removed member
    /// must not find them in a key.age they never had).
    pub fn forget_previous(&mut self) {
        self.previous.clear();
    }

    /// The keys an entry written at `epoch` may be under (two after concurrent rekeys merged).
    pub fn keys_for(&self, epoch: u64) -> Vec<&Key> {
        let current = (epoch == self.epoch).then_some(&self.key);
        current
            .into_iter()
            .chain(
                self.previous
                    .iter()
                    .filter(|(e, _)| *e == epoch)
                    .map(|(_, k)| k),
            )
            .collect()
    }

    /// Take in another copy's keys (theirs, in a merge): the higher epoch's key becomes
    /// current (ours on a tie), every other key is kept as previous. Recipients are not touched.
    pub fn absorb(&mut self, other: TeamKeys) {
        let TeamKeys {
            epoch,
            key,
            previous,
            ..
        } = other;
        let mut incoming = previous;
        if epoch > self.epoch {
            let old = std::mem::replace(&mut self.key, key);
            incoming.push((self.epoch, old));
            self.epoch = epoch;
        } else {
            incoming.push((epoch, key));
        }
        for (e, k) in incoming {
            let known = self.keys_for(e).iter().any(|x| x.as_ref() == k.as_ref())
                || self.key.as_ref() == k.as_ref();
            if !known {
                self.previous.push((e, k));
            }
        }
    }

    /// Wrap to `members` and write `path` atomically.
    pub fn write(&mut self, path: &Path, members: &[Member]) -> Result<(), TeamError> {
        let keys: Vec<String> = members.iter().map(|m| m.key.clone()).collect();
        self.write_to(path, &keys)
    }

    /// Wrap to these member keys and write `path` atomically.
    pub fn write_to(&mut self, path: &Path, recipients: &[String]) -> Result<(), TeamError> {
        let bad = |why: String| TeamError::KeyFile {
            path: path.to_path_buf(),
            why,
        };
        self.recipients = recipients.to_vec();
        let wire = Wire {
            v: 1,
            epoch: self.epoch,
            key: WireKey(copy(&self.key)),
            previous: self
                .previous
                .iter()
                .map(|(e, k)| (*e, WireKey(copy(k))))
                .collect(),
            audit_key: WireKey(copy(&self.audit_key)),
            recipients: self.recipients.clone(),
        };
        let plain = Zeroizing::new(
            serde_json::to_vec(&wire).map_err(|e| bad(format!("cannot encode: {e}")))?,
        );
        let mut boxed: Vec<Box<dyn age::Recipient + Send>> = Vec::new();
        for k in recipients {
            let short: String = k.chars().take(40).collect();
            if k.starts_with("age1") {
                let r: age::x25519::Recipient =
                    k.parse().map_err(|e| bad(format!("key {short}…: {e}")))?;
                boxed.push(Box::new(r));
            } else {
                let r: age::ssh::Recipient = k
                    .parse()
                    .map_err(|_| bad(format!("age cannot encrypt to the key {short}…")))?;
                boxed.push(Box::new(r));
            }
        }
        let enc = age::Encryptor::with_recipients(
            boxed.iter().map(|r| r.as_ref() as &dyn age::Recipient),
        )
        .map_err(|e| bad(format!("cannot wrap the team key: {e}")))?;
        let mut out = Vec::new();
        let mut w = enc
            .wrap_output(&mut out)
            .map_err(|e| bad(format!("cannot wrap the team key: {e}")))?;
        w.write_all(&plain)
            .and_then(|_| w.finish().map(|_| ()))
            .map_err(|e| bad(format!("cannot wrap the team key: {e}")))?;
        crate::paths::atomic_write_mode(path, &out, 0o644)
            .map_err(|e| bad(format!("cannot write it: {e}")))
    }

    /// Read and unwrap `path` with `identity`.
    pub fn read(path: &Path, identity: &dyn age::Identity) -> Result<TeamKeys, TeamError> {
        let bytes = crate::text::read_capped(path, MAX_KEY_AGE).map_err(|e| {
            if e.kind() == std::io::ErrorKind::NotFound {
                TeamError::NoTeam {
                    dir: path.parent().unwrap_or(path).to_path_buf(),
                }
            } else {
                TeamError::KeyFile {
                    path: path.to_path_buf(),
                    why: format!("cannot read it: {e}"),
                }
            }
        })?;
        TeamKeys::from_bytes(path, &bytes, identity)
    }

    /// Unwrap the bytes of a key.age (`path` names it in errors).
    pub fn from_bytes(
        path: &Path,
        bytes: &[u8],
        identity: &dyn age::Identity,
    ) -> Result<TeamKeys, TeamError> {
        let bad = |why: String| TeamError::KeyFile {
            path: path.to_path_buf(),
            why,
        };
        let dec = age::Decryptor::new_buffered(bytes).map_err(|e| {
            bad(format!(
                "not an age file ({e}); take key.age from the last good commit"
            ))
        })?;
        let mut reader =
            dec.decrypt(std::iter::once(identity)).map_err(|e| {
                match e {
            age::DecryptError::NoMatchingKeys => bad(
                "it is not wrapped to your key: you are not (or no longer) a member, or it was \
                 written before you were added; ask a member to run 'lumen team rekey'"
                    .into(),
            ),
            e => bad(format!("cannot unwrap the team key ({e}); it was damaged or tampered with")),
        }
            })?;
        let mut plain = Zeroizing::new(Vec::new());
        reader.read_to_end(&mut plain).map_err(|e| {
            bad(format!(
                "cannot unwrap the team key ({e}); it was damaged or tampered with"
            ))
        })?;
        let wire: Wire = serde_json::from_slice(&plain)
            .map_err(|_| bad("the unwrapped team key does not parse".into()))?;
        if wire.v != 1 {
            return Err(bad(format!(
                "key file version {} is newer than this lumen; upgrade lumen",
                wire.v
            )));
        }
        Ok(TeamKeys {
            epoch: wire.epoch,
            key: wire.key.0,
            previous: wire.previous.into_iter().map(|(e, k)| (e, k.0)).collect(),
            audit_key: wire.audit_key.0,
            recipients: wire.recipients,
        })
    }
}
