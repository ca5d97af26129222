//! Private SSH keys (OpenSSH or PEM; ed25519, ecdsa, rsa; optionally encrypted): check that a
//! key decodes, and derive its public key and `ssh-keygen -lf` style SHA256 fingerprint; make
//! new ed25519 and rsa pairs (`lumen vault keygen`, `rotate-key`) in memory.

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

/// The kinds of key pair `lumen vault keygen` makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum KeyType {
    #[default]
    Ed25519,
    /// 3072 bits, OpenSSH's default size.
    Rsa,
}

impl KeyType {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyType::Ed25519 => "ed25519",
            KeyType::Rsa => "rsa",
        }
    }

    /// The type of an existing key, when it is one lumen can make (a rotation keeps it).
    pub fn of(key: &PrivateKey) -> Option<KeyType> {
        match key.algorithm() {
            russh::keys::Algorithm::Ed25519 => Some(KeyType::Ed25519),
            russh::keys::Algorithm::Rsa { .. } => Some(KeyType::Rsa),
            _ => None,
        }
    }
}

/// RSA modulus size of generated keys.
const RSA_BITS: usize = 3072;

/// A new key pair as OpenSSH private key text (unencrypted: it is stored only inside the
/// vault, whose payload is encrypted), with `comment` on its public half. The text never
/// reaches a file or a log.
pub fn generate_key(kind: KeyType, comment: &str) -> Result<secrecy::SecretString> {
    use russh::keys::ssh_key::private::{Ed25519Keypair, KeypairData, RsaKeypair};
    let failed = |e: russh::keys::ssh_key::Error| VaultError::UnreadableKey {
        reason: format!("could not generate a {} key: {e}", kind.as_str()),
    };
    let data = match kind {
        KeyType::Ed25519 => KeypairData::from(Ed25519Keypair::random(&mut SystemRng)),
        KeyType::Rsa => {
            KeypairData::from(RsaKeypair::random(&mut SystemRng, RSA_BITS).map_err(failed)?)
        }
    };
    let key = PrivateKey::new(data, comment).map_err(failed)?;
    let text = key
        .to_openssh(russh::keys::ssh_key::LineEnding::LF)
        .map_err(failed)?;
    Ok(secrecy::SecretString::from(text.as_str()))
}

/// The operating system's random source for ssh-key's generators (rand_core 0.10 traits);
/// the same source the vault's own keys and nonces come from.
struct SystemRng;

impl russh::keys::ssh_key::rand_core::TryRng for SystemRng {
    type Error = std::convert::Infallible;

    fn try_next_u32(&mut self) -> std::result::Result<u32, Self::Error> {
        let mut b = [0u8; 4];
        self.try_fill_bytes(&mut b)?;
        Ok(u32::from_le_bytes(b))
    }

    fn try_next_u64(&mut self) -> std::result::Result<u64, Self::Error> {
        let mut b = [0u8; 8];
        self.try_fill_bytes(&mut b)?;
        Ok(u64::from_le_bytes(b))
    }

    fn try_fill_bytes(&mut self, dst: &mut [u8]) -> std::result::Result<(), Self::Error> {
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, dst);
        Ok(())
    }
}

impl russh::keys::ssh_key::rand_core::TryCryptoRng for SystemRng {}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn generated_ed25519_key_decodes_and_differs_each_time() {
        let a = generate_key(KeyType::Ed25519, "lumen:test").unwrap();
        let b = generate_key(KeyType::Ed25519, "lumen:test").unwrap();
        assert_ne!(a.expose_secret(), b.expose_secret());
        let key = decode(a.expose_secret(), None).unwrap();
        assert_eq!(KeyType::of(&key), Some(KeyType::Ed25519));
        let line = info(&key).public_key;
        assert!(
            line.starts_with("ssh-ed25519 ") && line.ends_with(" lumen:test"),
            "{line}"
        );
    }
}
