//! The Credential Test: log in to a host with one credential and nothing else (no agent, no
//! key files, no question asked), run nothing, close, and say what happened in words a user can
//! act on. `lumen vault test` and `rotate-key` (to check a new key) use it.

use super::credentials::Credentials;
use super::error::SshError;
use super::jump::JumpPool;
use super::prompt::Prompter;
use super::resolve::Plan;
use super::target::ConnectOptions;
use russh::keys::PrivateKey;
use std::sync::Arc;

/// What a login with the credential came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    /// The host accepted it (the connection was closed at once).
    Works,
    /// The host refused it.
    Refused,
    /// The host presents a different key than the known one: nothing was sent.
    HostKeyChanged(String),
    /// The host key is not known yet (the test never asks): nothing was sent.
    HostKeyUnknown(String),
    /// No SSH login happened: network, DNS, a jump host, the server itself.
    Unreachable(String),
}

impl Verdict {
    pub fn works(&self) -> bool {
        *self == Verdict::Works
    }

    /// One word for tables and the audit log.
    pub fn word(&self) -> &'static str {
        match self {
            Verdict::Works => "works",
            Verdict::Refused => "refused",
            Verdict::HostKeyChanged(_) => "host-key-changed",
            Verdict::HostKeyUnknown(_) => "host-key-unknown",
            Verdict::Unreachable(_) => "unreachable",
        }
    }

    /// The verdict a failed login comes to.
    pub fn of(e: SshError) -> Verdict {
        match e {
            SshError::AuthExhausted { .. } => Verdict::Refused,
            e @ SshError::HostKeyChanged(_) => Verdict::HostKeyChanged(e.to_string()),
            e @ (SshError::HostKeyUnknown { .. } | SshError::HostKeyRejected { .. }) => {
                Verdict::HostKeyUnknown(e.to_string())
            }
            e => Verdict::Unreachable(e.to_string()),
        }
    }
}

impl std::fmt::Display for Verdict {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Verdict::Works => f.write_str("works: the host accepted it"),
            Verdict::Refused => f.write_str("refused: the host did not accept it"),
            Verdict::HostKeyChanged(why) => write!(f, "host key changed, nothing sent: {why}"),
            Verdict::HostKeyUnknown(why) => write!(
                f,
                "host key not known, nothing sent ({why}); connect once with 'lumen connect' \
                 to check and accept it"
            ),
            Verdict::Unreachable(why) => write!(f, "unreachable: {why}"),
        }
    }
}

/// `opts` authenticating with nothing but what the caller adds: no agent, no identity files
/// (`~/.ssh/id_*` included), no in-memory keys, no credential source. Known hosts stay as they
/// were (the user's files are pinned before `~/.ssh` is dropped).
pub fn bare(opts: &ConnectOptions) -> ConnectOptions {
    let mut o = opts.clone();
    o.user_known_hosts_files = Some(opts.user_known_hosts());
    o.global_known_hosts_files = Some(opts.global_known_hosts());
    o.ssh_dir = None;
    o.identity_files = Vec::new();
    o.keys = Vec::new();
    o.agent_socket = None;
    o.agent_follows = None;
    o.forward_agent = false;
    o.credentials = None;
    o.credential = None;
    o
}

/// [`bare`] plus the vault entry `entry` from `source`, for the host named `host`.
pub fn with_credential(
    opts: &ConnectOptions,
    source: Arc<dyn Credentials>,
    entry: &str,
    host: &str,
) -> ConnectOptions {
    let mut o = bare(opts);
    o.credentials = Some(source);
    o.credential = Some(entry.to_string());
    o.host_alias = Some(host.to_string());
    o
}

/// [`bare`] plus one private key.
pub fn with_key(opts: &ConnectOptions, key: Arc<PrivateKey>) -> ConnectOptions {
    let mut o = bare(opts);
    o.keys = vec![key];
    o
}

/// Log in along `plan` (jump hosts with their own options), ask nothing, run nothing, close.
pub async fn try_login(plan: &Plan) -> Verdict {
    match JumpPool::new().connect(plan, &Prompter::none()).await {
        Ok(conn) => {
            conn.disconnect().await;
            Verdict::Works
        }
        Err(e) => Verdict::of(e),
    }
}
