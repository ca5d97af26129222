//! The command line: clap definitions and dispatch. `main.rs` only calls [`main`].
//!
//! Each domain adds one variant to [`Command`] and a `run` function in a file of its own here
//! (`vault.rs`, `hosts.rs`, …), so the subcommands stay small and separate.

pub mod ai;
pub mod connect;
pub mod demo;
pub mod hosts;
pub mod hosts_forget;
pub mod scan;
mod scan_output;
mod tty_prompt;
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

// Parsed once per run; boxing variants would only add noise.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Open a local shell (like tmux). Without a command, lumen opens the host list.
    Shell,
    /// Try lumen with nothing to configure: two tabs on an embedded SSH server on loopback,
    /// in a throw-away home.
    Demo,
    /// Open a tab per host over SSH, or run a command there (ssh's DEST [COMMAND…]).
    #[command(after_help = connect::GRAMMAR)]
    Connect(connect::ConnectArgs),
    /// Manage the host inventory (hosts.toml), resolve ssh_config like `ssh -G`, forget keys.
    Hosts(hosts::HostsArgs),
    /// The encrypted vault: passwords, SSH keys, TOTP secrets, API keys.
    Vault(Box<vault::VaultArgs>),
    /// Scan hosts over SSH for vulnerable packages (OSV, offline) and weak configuration.
    Scan(Box<scan::ScanArgs>),
    /// The AI copilot and safety layer: ask a model, see what it would be sent, the saved
    /// conversations, a command's risk, what a model would see of a file.
    Ai(ai::AiArgs),
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.privacy {
        print!("{}", crate::PRIVACY);
        return ExitCode::SUCCESS;
    }
    let paths = crate::paths::Paths::from_env();
    let result = match cli.command {
        None => {
            // The home tab: the workspace's hosts.
            let mut opts = crate::app::RunOptions::new(paths, cli.theme, Vec::new());
            opts.hosts_tab = true;
            crate::term::run(opts)
        }
        Some(Command::Shell) => crate::term::run(crate::app::RunOptions::new(
            paths,
            cli.theme,
            vec![crate::app::PaneSpec::LocalShell],
        )),
        Some(Command::Demo) => demo::run(cli.theme),
        Some(Command::Connect(args)) => connect::run(&args, paths, cli.theme),
        Some(Command::Hosts(args)) => return hosts::run(args, &paths),
        Some(Command::Vault(args)) => vault::run(&paths, *args).map(|()| ExitCode::SUCCESS),
        Some(Command::Scan(args)) => return scan::run(*args, &paths),
        Some(Command::Ai(args)) => ai::run(args, &paths),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            crate::errln!("lumen: {}", crate::text::error_chain(e.as_ref()));
            ExitCode::FAILURE
        }
    }
}
