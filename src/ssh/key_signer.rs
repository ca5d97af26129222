//! Signing with an encrypted OpenSSH key file the way `ssh` does: the public key is offered
//! first, and the passphrase is asked (up to 3 times) only once the server accepts that key.

use super::auth::MAX_SECRET_TRIES;
use super::prompt::{PromptAnswer, PromptKind, Prompter};
use russh::keys::agent::AgentIdentity;
use russh::keys::signature::Signer as _;
use russh::keys::ssh_encoding::Encode;
use russh::keys::ssh_key::Signature;
use russh::keys::ssh_key::private::KeypairData;
use russh::keys::{HashAlg, PrivateKey};
use secrecy::ExposeSecret;
use std::path::PathBuf;

/// Why an encrypted key did not sign.
#[derive(Debug, thiserror::Error)]
pub enum KeySignError {
    #[error("the passphrase prompt was cancelled")]
    Cancelled,
    #[error("wrong passphrase, {MAX_SECRET_TRIES} times")]
    WrongPassphrase,
    #[error("cannot sign: {0}")]
    Sign(String),
    #[error(transparent)]
    Send(#[from] russh::SendError),
}

/// A russh [`russh::Signer`] over one encrypted key; decrypts on the server's PK_OK.
pub struct EncryptedKeySigner {
    pub key: PrivateKey,
    pub path: PathBuf,
    pub prompter: Prompter,
}

impl EncryptedKeySigner {
    async fn unlock(&self) -> Result<PrivateKey, KeySignError> {
        for attempt in 1..=MAX_SECRET_TRIES {
            let answer = self
                .prompter
                .ask(PromptKind::Passphrase {
                    key_path: self.path.display().to_string(),
                    attempt,
                })
                .await;
            let Some(PromptAnswer::Secret(pass)) = answer else {
                return Err(KeySignError::Cancelled);
            };
            if let Ok(key) = self.key.decrypt(pass.expose_secret().as_bytes()) {
                return Ok(key);
            }
        }
        Err(KeySignError::WrongPassphrase)
    }
}

/// `data` followed by the signature as an SSH string, as russh expects from a signer.
fn sign(
    key: &PrivateKey,
    hash: Option<HashAlg>,
    mut data: Vec<u8>,
) -> Result<Vec<u8>, KeySignError> {
    let fail = |e: &dyn std::fmt::Display| KeySignError::Sign(e.to_string());
    let signature: Signature = match key.key_data() {
        KeypairData::Rsa(rsa) => (rsa, hash).try_sign(&data).map_err(|e| fail(&e))?,
        keypair => keypair.try_sign(&data).map_err(|e| fail(&e))?,
    };
    let blob = signature.encode_vec().map_err(|e| fail(&e))?;
    blob.encode(&mut data).map_err(|e| fail(&e))?;
    Ok(data)
}

impl russh::Signer for EncryptedKeySigner {
    type Error = KeySignError;

    async fn auth_sign(
        &mut self,
        _key: &AgentIdentity,
        hash_alg: Option<HashAlg>,
        to_sign: Vec<u8>,
    ) -> Result<Vec<u8>, Self::Error> {
        let key = self.unlock().await?;
        sign(&key, hash_alg, to_sign)
    }
}
