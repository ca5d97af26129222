//! Private SSH keys (OpenSSH or PEM; ed25519, ecdsa, rsa; optionally encrypted): check that a
//! key decodes, and derive its public key and `ssh-keygen -lf` style SHA256 fingerprint.

use super::error::{Result, VaultError};
use russh::keys::{HashAlg, PrivateKey};

/// What we show for a key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyInfo {
    /// `ssh-ed25519 AAAA… comment`
    pub public_key: String,
    /// `SHA256:…` (base64 without padding), as `ssh-keygen -lf` prints it.
    pub fingerprint: String,
}

/// Decode a private key; `passphrase` for an encrypted one.
pub fn decode(text: &str, passphrase: Option<&str>) -> Result<PrivateKey> {
    let looks_like_key = text.contains("-----BEGIN ") && text.contains("PRIVATE KEY-----");
    if !looks_like_key {
        return Err(VaultError::UnreadableKey {
            reason: "not an OpenSSH or PEM private key".into(),
        });
    }
    let encrypted = text.contains("ENCRYPTED") || is_encrypted_openssh(text);
    russh::keys::decode_secret_key(text, passphrase).map_err(|_| VaultError::UnreadableKey {
        reason: match (encrypted, passphrase.is_some()) {
            (true, false) => {
                "the key is encrypted; give its passphrase with --key-passphrase-file".into()
            }
            (true, true) => "wrong key passphrase".into(),
            _ => "not a supported ed25519, ecdsa or rsa key in OpenSSH or PEM format".into(),
        },
    })
}

fn is_encrypted_openssh(text: &str) -> bool {
    russh::keys::ssh_key::PrivateKey::from_openssh(text)
        .map(|k| k.is_encrypted())
        .unwrap_or(false)
}

/// Public key line and fingerprint of a decoded key.
pub fn info(key: &PrivateKey) -> KeyInfo {
    let public = key.public_key();
    KeyInfo {
        public_key: public
            .to_openssh()
            .unwrap_or_else(|_| String::from("(unencodable public key)")),
        fingerprint: public.fingerprint(HashAlg::Sha256).to_string(),
    }
}
