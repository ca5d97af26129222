//! SSH: russh client (connect, auth, host keys, PTY sessions, exec) and the embedded server.
//!
//! The app, scans and the copilot talk to this module through a [`Connector`]: sessions for
//! terminal panes and `exec`s share one authenticated connection per destination, and its
//! [`prompt::Prompter`]'s questions (host key, password, passphrase, keyboard-interactive) the
//! UI answers with dialogs. [`session`] keeps one-shot, unshared connects for simple callers.

pub mod auth;
pub mod authorized_keys;
pub mod client;
pub mod config;
pub mod connector;
pub mod cred_check;
pub mod credentials;
pub mod error;
pub mod exec;
pub mod fingerprint;
pub mod hashed;
pub mod jump;
pub mod key_signer;
pub mod known_hosts;
pub mod names;
pub mod prompt;
pub mod proxy;
pub mod resolve;
pub mod server;
mod server_process;
pub mod session;
mod sniff;
pub mod target;
pub mod vault_login;

pub use client::{Connection, connect, connect_over};
pub use connector::Connector;
pub use credentials::{Credentials, Secret};
pub use error::SshError;
pub use exec::{ExecFailure, ExecOptions, ExecOutput};
pub use jump::JumpPool;
pub use known_hosts::{HostKeyStatus, KnownHosts};
pub use prompt::{HostKeyDecision, PromptAnswer, PromptKind, PromptRequest, Prompter};
pub use resolve::{Plan, PlannedHop, plan, plan_destination, split_port};

pub use server::{CannedExec, CannedReply, EmbeddedServer, EmbeddedServerOptions, KiRound};
pub use session::{
    Output, exec, exec_on, exec_streaming, open_command, open_planned_session, open_session,
    spawn_planned_session, spawn_session,
};
pub use target::{ConnectOptions, Target};
pub use vault_login::VaultCredentials;
