//! Authentication in OpenSSH's default order (publickey, keyboard-interactive, password):
//! agent identities, in-memory keys, identity files (passphrase asked up to 3 times), then the
//! interactive methods. Partial success moves on to the methods the server still asks for.

use super::SshError;
use super::client::ClientHandler;
use super::credentials::SourceLogin;
use super::key_signer::{EncryptedKeySigner, KeySignError};
use super::prompt::{PromptAnswer, PromptKind, Prompter};
use super::target::{ConnectOptions, Target};
use russh::client::{AuthResult, Handle, KeyboardInteractiveAuthResponse};
use russh::keys::agent::client::AgentClient;
use russh::keys::{PrivateKey, PrivateKeyWithHashAlg};
use russh::{MethodKind, MethodSet};
use secrecy::ExposeSecret;
use std::path::Path;
use std::sync::Arc;

/// Passphrase and password attempts, as OpenSSH's `NumberOfPasswordPrompts`.
pub const MAX_SECRET_TRIES: u8 = 3;

/// How one method ended.
enum Step {
    Done,
    /// Failed or partially succeeded; the server's remaining methods.
    Next(MethodSet),
}

/// A private key file as read: usable, or encrypted (OpenSSH format, public half readable).
enum Loaded {
    Plain(PrivateKey),
    Encrypted(PrivateKey),
}

struct Auth<'a> {
    handle: &'a mut Handle<ClientHandler>,
    target: &'a Target,
    opts: &'a ConnectOptions,
    prompter: &'a Prompter,
    tried: Vec<String>,
    warnings: &'a mut Vec<String>,
    /// The credential source (vault), when the app plugged one in.
    source: Option<SourceLogin>,
}

pub(crate) async fn authenticate(
    handle: &mut Handle<ClientHandler>,
    target: &Target,
    opts: &ConnectOptions,
    prompter: &Prompter,
    warnings: &mut Vec<String>,
) -> Result<(), SshError> {
    let mut a = Auth {
        handle,
        target,
        opts,
        prompter,
        tried: Vec::new(),
        warnings,
        source: SourceLogin::new(opts, target),
    };
    let result = run(&mut a).await;
    if let Some(source) = a.source.take() {
        a.warnings.extend(source.warnings);
    }
    result
}

async fn run(a: &mut Auth<'_>) -> Result<(), SshError> {
    let target = a.target;
    let mut offered = match a.handle.authenticate_none(&target.user).await {
        Ok(AuthResult::Success) => return Ok(()),
        Ok(AuthResult::Failure {
            remaining_methods, ..
        }) => remaining_methods,
        Err(e) => return Err(a.closed(e.to_string())),
    };
    let mut done: Vec<MethodKind> = Vec::new();
    loop {
        if a.handle.is_closed() {
            return Err(a.closed(String::new()));
        }
        let order = [
            MethodKind::PublicKey,
            MethodKind::KeyboardInteractive,
            MethodKind::Password,
        ];
        let Some(method) = order
            .into_iter()
            .find(|m| offered.contains(m) && !done.contains(m))
        else {
            return Err(SshError::AuthExhausted {
                user: target.user.clone(),
                host: target.host.clone(),
                tried: std::mem::take(&mut a.tried),
                offered: offered
                    .iter()
                    .map(|m| <&str>::from(m).to_string())
                    .collect(),
            });
        };
        done.push(method);
        let step = match method {
            MethodKind::PublicKey => a.publickey().await?,
            MethodKind::KeyboardInteractive => a.keyboard_interactive().await?,
            _ => a.password().await?,
        };
        match step {
            Step::Done => return Ok(()),
            Step::Next(remaining) if !remaining.is_empty() => offered = remaining,
            Step::Next(_) => {}
        }
    }
}

/// The public halves of the identity files (from `FILE.pub`, else the key file's own public
/// part, readable even when the key is encrypted).
fn identity_public_keys(opts: &ConnectOptions) -> Vec<russh::keys::PublicKey> {
    opts.identity_candidates()
        .into_iter()
        .filter_map(|(path, _)| {
            let mut public = path.clone().into_os_string();
            public.push(".pub");
            russh::keys::PublicKey::read_openssh_file(std::path::Path::new(&public))
                .ok()
                .or_else(|| {
                    let text = zeroize::Zeroizing::new(read_key_file(&path).ok()?);
                    PrivateKey::from_openssh(text.as_bytes())
                        .ok()
                        .map(|k| k.public_key().clone())
                })
        })
        .chain(opts.keys.iter().map(|k| k.public_key().clone()))
        .collect()
}

impl Auth<'_> {
    fn closed(&self, why: String) -> SshError {
        SshError::ServerClosedDuringAuth {
            host: self.target.host.clone(),
            why,
        }
    }

    fn result(&self, r: Result<AuthResult, russh::Error>) -> Result<Option<Step>, SshError> {
        match r {
            Ok(AuthResult::Success) => Ok(Some(Step::Done)),
            Ok(AuthResult::Failure {
                remaining_methods,
                partial_success,
            }) => {
                if self.handle.is_closed() {
                    return Err(self.closed(String::new()));
                }
                Ok(partial_success.then_some(Step::Next(remaining_methods)))
            }
            Err(e) => Err(self.closed(e.to_string())),
        }
    }

    async fn rsa_hash(&self, key_is_rsa: bool) -> Option<russh::keys::HashAlg> {
        if !key_is_rsa {
            return None;
        }
        self.handle
            .best_supported_rsa_hash()
            .await
            .ok()
            .flatten()
            .flatten()
    }

    /// Agent identities, then in-memory keys, then identity files. Returns the server's
    /// remaining methods after a partial success, or after the last key failed.
    async fn publickey(&mut self) -> Result<Step, SshError> {
        let vault_key = match self.source.as_mut() {
            Some(source) => source.private_key().await,
            None => None,
        };
        if let Some(key) = vault_key {
            self.tried.push("publickey (vault)".into());
            if let Some(step) = self.with_key(Arc::new(key)).await? {
                return Ok(step);
            }
        }
        if let Some(step) = self.agent().await? {
            return Ok(step);
        }
        for key in self.opts.keys.clone() {
            self.tried.push("publickey (in-memory key)".into());
            if let Some(step) = self.with_key(key).await? {
                return Ok(step);
            }
        }
        for (path, explicit) in self.opts.identity_candidates() {
            let Some(key) = self.load_key(&path, explicit).await? else {
                continue;
            };
            self.tried.push(format!("publickey ({})", path.display()));
            let step = match key {
                Loaded::Plain(key) => self.with_key(Arc::new(key)).await?,
                Loaded::Encrypted(key) => self.with_encrypted(key, &path).await?,
            };
            if let Some(step) = step {
                return Ok(step);
            }
        }
        Ok(Step::Next(MethodSet::empty()))
    }

    async fn with_key(&mut self, key: Arc<PrivateKey>) -> Result<Option<Step>, SshError> {
        let hash = self.rsa_hash(key.algorithm().is_rsa()).await;
        let r = self
            .handle
            .authenticate_publickey(&self.target.user, PrivateKeyWithHashAlg::new(key, hash))
            .await;
        self.result(r)
    }

    /// Offer the public half; the passphrase is asked only if the server accepts it.
    async fn with_encrypted(
        &mut self,
        key: PrivateKey,
        path: &Path,
    ) -> Result<Option<Step>, SshError> {
        let public = key.public_key().clone();
        let hash = self.rsa_hash(public.algorithm().is_rsa()).await;
        let mut signer = EncryptedKeySigner {
            key,
            path: path.to_path_buf(),
            prompter: self.prompter.clone(),
        };
        let r = self
            .handle
            .authenticate_publickey_with(&self.target.user, public, hash, &mut signer)
            .await;
        match r {
            Ok(r) => self.result(Ok(r)),
            Err(KeySignError::WrongPassphrase) => Err(SshError::WrongPassphrase {
                path: path.to_path_buf(),
            }),
            Err(KeySignError::Cancelled) => Ok(None),
            Err(e) => {
                self.warnings.push(format!("{}: {e}", path.display()));
                Ok(None)
            }
        }
    }

    async fn agent(&mut self) -> Result<Option<Step>, SshError> {
        let Some(socket) = self.opts.agent_socket_now() else {
            return Ok(None);
        };
        let mut agent = match AgentClient::connect_uds(&socket).await {
            Ok(a) => a,
            Err(e) => {
                self.warnings
                    .push(format!("ssh-agent at {} unusable: {e}", socket.display()));
                return Ok(None);
            }
        };
        let identities = match agent.request_identities().await {
            Ok(ids) => ids,
            Err(e) => {
                self.warnings
                    .push(format!("ssh-agent at {} failed: {e}", socket.display()));
                return Ok(None);
            }
        };
        // IdentitiesOnly: only the agent keys that are also identity files, as ssh does.
        let allowed = self
            .opts
            .identities_only
            .then(|| identity_public_keys(self.opts));
        for id in identities {
            let key = id.public_key().into_owned();
            if let Some(allowed) = &allowed
                && !allowed.iter().any(|k| k.key_data() == key.key_data())
            {
                continue;
            }
            self.tried.push(format!(
                "publickey (agent: {})",
                super::fingerprint::sha256(&key)
            ));
            let hash = self.rsa_hash(key.algorithm().is_rsa()).await;
            let r = self
                .handle
                .authenticate_publickey_with(&self.target.user, key, hash, &mut agent)
                .await;
            let r = match r {
                Ok(r) => Ok(r),
                Err(e) => {
                    self.warnings.push(format!("ssh-agent could not sign: {e}"));
                    continue;
                }
            };
            if let Some(step) = self.result(r)? {
                return Ok(Some(step));
            }
        }
        Ok(None)
    }

    /// Read and decrypt a private key. A missing default file is skipped; a missing or
    /// malformed `-i` file is an error; a malformed default file is a warning.
    async fn load_key(&mut self, path: &Path, explicit: bool) -> Result<Option<Loaded>, SshError> {
        let text = match read_key_file(path) {
            Ok(t) => zeroize::Zeroizing::new(t),
            Err(e) if !explicit && e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                let err = SshError::UnreadableKey {
                    path: path.to_path_buf(),
                    why: e.to_string(),
                };
                return self.key_problem(err, explicit);
            }
        };
        match russh::keys::decode_secret_key(&text, None) {
            Ok(k) => return Ok(Some(Loaded::Plain(k))),
            Err(russh::keys::Error::KeyIsEncrypted) => {
                if let Ok(k) = PrivateKey::from_openssh(text.as_bytes())
                    && k.is_encrypted()
                {
                    return Ok(Some(Loaded::Encrypted(k)));
                }
                // A legacy PEM key: its public half is encrypted too, so ask first.
            }
            Err(e) => {
                let err = SshError::MalformedKey {
                    path: path.to_path_buf(),
                    why: e.to_string(),
                };
                return self.key_problem(err, explicit);
            }
        }
        for attempt in 1..=MAX_SECRET_TRIES {
            let answer = self
                .prompter
                .ask(PromptKind::Passphrase {
                    key_path: path.display().to_string(),
                    attempt,
                })
                .await;
            let Some(PromptAnswer::Secret(pass)) = answer else {
                return Ok(None); // cancelled: skip this key, as ssh does
            };
            if let Ok(k) = russh::keys::decode_secret_key(&text, Some(pass.expose_secret())) {
                return Ok(Some(Loaded::Plain(k)));
            }
        }
        Err(SshError::WrongPassphrase {
            path: path.to_path_buf(),
        })
    }

    fn key_problem(&mut self, err: SshError, explicit: bool) -> Result<Option<Loaded>, SshError> {
        if explicit {
            Err(err)
        } else {
            self.warnings.push(err.to_string());
            Ok(None)
        }
    }

    async fn password(&mut self) -> Result<Step, SshError> {
        let vault_password = match self.source.as_mut() {
            Some(source) => source.password().await,
            None => None,
        };
        if let Some(pass) = vault_password {
            self.tried.push("password (vault)".into());
            let r = self
                .handle
                .authenticate_password(&self.target.user, pass.expose_secret())
                .await;
            drop(pass);
            if let Some(step) = self.result(r)? {
                return Ok(step);
            }
        }
        for _ in 0..MAX_SECRET_TRIES {
            let answer = self
                .prompter
                .ask(PromptKind::Password {
                    user: self.target.user.clone(),
                    host: self.target.host.clone(),
                })
                .await;
            let Some(PromptAnswer::Secret(pass)) = answer else {
                break;
            };
            self.tried.push("password".into());
            let r = self
                .handle
                .authenticate_password(&self.target.user, pass.expose_secret())
                .await;
            if let Some(step) = self.result(r)? {
                return Ok(step);
            }
        }
        Ok(Step::Next(MethodSet::empty()))
    }

    /// Rounds until success or failure; rounds without prompts are answered empty.
    /// One attempt with the credential source's answers; when they fail, one more where the
    /// user answers (a stale code, a changed password).
    async fn keyboard_interactive(&mut self) -> Result<Step, SshError> {
        let mut used_source = false;
        let step = self
            .keyboard_interactive_once(true, &mut used_source)
            .await?;
        match step {
            Step::Next(ref m) if m.is_empty() && used_source && !self.handle.is_closed() => {
                self.warnings
                    .push("the one-time code or password from the vault was refused".into());
                self.keyboard_interactive_once(false, &mut used_source)
                    .await
            }
            step => Ok(step),
        }
    }

    async fn keyboard_interactive_once(
        &mut self,
        use_source: bool,
        used_source: &mut bool,
    ) -> Result<Step, SshError> {
        self.tried.push("keyboard-interactive".into());
        let mut reply = self
            .handle
            .authenticate_keyboard_interactive_start(&self.target.user, None)
            .await;
        loop {
            match reply {
                Ok(KeyboardInteractiveAuthResponse::Success) => return Ok(Step::Done),
                Ok(KeyboardInteractiveAuthResponse::Failure {
                    remaining_methods,
                    partial_success,
                }) => {
                    if self.handle.is_closed() {
                        return Err(self.closed(String::new()));
                    }
                    return Ok(Step::Next(if partial_success {
                        remaining_methods
                    } else {
                        MethodSet::empty()
                    }));
                }
                Ok(KeyboardInteractiveAuthResponse::InfoRequest {
                    name,
                    instructions,
                    prompts,
                }) => {
                    let asked: Vec<(String, bool)> =
                        prompts.iter().map(|p| (p.prompt.clone(), p.echo)).collect();
                    let from_source = match self.source.as_mut().filter(|_| use_source) {
                        Some(source) => source.answers(&asked).await,
                        None => None,
                    };
                    *used_source |= from_source.is_some();
                    let answers = if prompts.is_empty() {
                        Vec::new()
                    } else if let Some(r) = from_source {
                        r.iter().map(|s| s.expose_secret().to_string()).collect()
                    } else {
                        let kind = PromptKind::KeyboardInteractive {
                            name,
                            instruction: instructions,
                            prompts: prompts.iter().map(|p| (p.prompt.clone(), p.echo)).collect(),
                        };
                        match self.prompter.ask(kind).await {
                            Some(PromptAnswer::Responses(r)) if r.len() == prompts.len() => {
                                r.iter().map(|s| s.expose_secret().to_string()).collect()
                            }
                            _ => return Ok(Step::Next(MethodSet::empty())),
                        }
                    };
                    reply = self
                        .handle
                        .authenticate_keyboard_interactive_respond(answers)
                        .await;
                }
                Err(e) => return Err(self.closed(e.to_string())),
            }
        }
    }
}

/// The largest private key file lumen reads (an RSA-16384 key is under 20 KiB).
const KEY_FILE_LIMIT: u64 = 1024 * 1024;

/// A private key file's text, refusing anything larger than any key could be.
fn read_key_file(path: &Path) -> std::io::Result<String> {
    crate::text::read_capped_string(path, KEY_FILE_LIMIT)
}
