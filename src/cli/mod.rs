//! The command line: clap definitions and dispatch. `main.rs` only calls [`main`].
//!
//! Each domain adds one variant to [`Command`] and a `run` function in a file of its own here
//! (`vault.rs`, `hosts.rs`, …), so the subcommands stay small and separate.

pub mod vault;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Debug, Parser)]
#[command(
    name = "lumen",
    version,
    about = "A keyboard-driven terminal workspace for operations engineers",
    long_about = "lumen keeps local shells and SSH sessions in tabs and splits, credentials in an \
                  encrypted vault, and your hosts in a plain-file workspace.\n\nRun `lumen demo` \
                  to try it with nothing to configure."
)]
pub struct Cli {
    /// Print what lumen stores where and what ever leaves this machine, then exit.
    #[arg(long)]
    pub privacy: bool,

    /// Colour theme (a file in the config dir's themes/, or a shipped one: default, light).
    #[arg(long, global = true, value_name = "NAME")]
    pub theme: Option<String>,

    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open the workspace with a local shell (like tmux).
    Shell,
    /// The encrypted vault: passwords, SSH keys, TOTP secrets, API keys.
    Vault(Box<vault::VaultArgs>),
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.privacy {
        print!("{}", crate::PRIVACY);
        return ExitCode::SUCCESS;
    }
    let paths = crate::paths::Paths::from_env();
    match cli.command {
        None | Some(Command::Shell) => ExitCode::SUCCESS,
        Some(Command::Vault(args)) => report(vault::run(&paths, *args)),
    }
}

/// Print an edge error (with its causes) and turn it into a failing exit code.
fn report(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("lumen: {e:#}");
            ExitCode::FAILURE
        }
    }
}
