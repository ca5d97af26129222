//! SSH: russh client (connect, auth, host keys, PTY sessions, exec) and the embedded server.
//!
//! The UI talks to this module through three things: [`session::spawn_session`] (a
//! [`crate::stream::Stream`] for a terminal pane), [`session::exec`] (a command's output), and a
//! [`prompt::Prompter`] whose requests (host-key question, password, passphrase,
//! keyboard-interactive) the UI answers with dialogs.

pub mod auth;
pub mod client;
pub mod config;
pub mod credentials;
pub mod error;
pub mod fingerprint;
pub mod hashed;
pub mod jump;
pub mod key_signer;
pub mod known_hosts;
pub mod prompt;
pub mod proxy;
pub mod resolve;
pub mod server;
mod server_process;
pub mod session;
pub mod target;
pub mod vault_login;

pub use client::{Connection, connect, connect_over};
pub use credentials::{Credentials, Secret};
pub use error::SshError;
pub use jump::JumpPool;
pub use known_hosts::{HostKeyStatus, KnownHosts};
pub use prompt::{HostKeyDecision, PromptAnswer, PromptKind, PromptRequest, Prompter};
pub use resolve::{Plan, PlannedHop, plan};

pub use server::{CannedExec, CannedReply, EmbeddedServer, EmbeddedServerOptions, KiRound};
pub use session::{
    Output, exec, exec_on, open_command, open_planned_session, open_session, spawn_planned_session,
    spawn_session,
};
pub use target::{ConnectOptions, Target};
pub use vault_login::{UnlockRequest, VaultCredentials};
