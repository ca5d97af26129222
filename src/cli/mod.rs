//! The command line: clap definitions and dispatch. `main.rs` only calls [`main`].
//!
//! Each domain adds one variant to [`Command`] and a `run` function in a file of its own here
//! (`vault.rs`, `hosts.rs`, …), so the subcommands stay small and separate.

pub mod ai;
pub mod connect;
pub mod demo;
pub mod hosts;
pub mod hosts_copy_id;
pub mod hosts_forget;
mod limits;
pub mod logs;
pub mod run;
pub mod run_export;
mod run_output;
pub mod scan;
pub mod scan_export;
mod scan_output;
pub mod sessions;
pub mod team;
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

    /// The server's socket name, as tmux's -L: servers on different names are separate.
    #[arg(short = 'L', global = true, value_name = "NAME")]
    pub socket_name: Option<String>,

    /// Run this session in this process, without the server: it ends with the terminal.
    #[arg(long, global = true)]
    pub in_process: bool,

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
    /// A team vault in the workspace folder (for git): members, each with their own key.
    Team(team::TeamArgs),
    /// The encrypted vault: passwords, SSH keys, TOTP secrets, API keys.
    Vault(Box<vault::VaultArgs>),
    /// Scan hosts over SSH for vulnerable packages (OSV, offline) and weak configuration.
    Scan(Box<scan::ScanArgs>),
    /// Run a runbook or snippet on hosts: the plan first, approved once, then fanned out
    /// over shared connections; `--list`, `--history`.
    Run(Box<run::RunArgs>),
    /// The AI copilot and safety layer: ask a model, see what it would be sent, the saved
    /// conversations, a command's risk, what a model would see of a file.
    Ai(ai::AiArgs),
    /// Session recordings (redacted asciicast v2): list, show as text, play, export.
    Logs(logs::LogsArgs),
    /// List the server's sessions: name, creation time, panes, hosts, attached clients.
    Ls(sessions::LsArgs),
    /// Start a new session in the server (`-s NAME`, `-d` to leave it in the background),
    /// from `shell` or `connect …` words, or the host list without.
    New(sessions::NewArgs),
    /// Attach this terminal to a session (the most recently used without -t).
    Attach(sessions::AttachArgs),
    /// End a session and everything in it.
    KillSession(sessions::TargetArgs),
    /// End the server and every session in it.
    KillServer,
    /// Run the server (started by the first client; not for typing).
    #[command(hide = true)]
    Server(sessions::ServerArgs),
}

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if cli.privacy {
        print!("{}", crate::PRIVACY);
        return ExitCode::SUCCESS;
    }
    let paths = crate::paths::Paths::from_env();
    let socket_name = cli.socket_name.clone();
    // A new session: in the server, from the words typed after `lumen`, or here.
    let session = |command: Option<Command>| {
        if cli.in_process {
            in_process(command, cli.theme.clone(), paths.clone())
        } else {
            sessions::start(socket_name.as_deref(), &paths)
        }
    };
    let result = match cli.command {
        None => Ok(session(None)),
        Some(Command::Shell) => Ok(session(Some(Command::Shell))),
        Some(Command::Demo) => demo::run(cli.theme),
        Some(Command::Connect(args)) => connect::run(&args, paths.clone(), || {
            session(Some(Command::Connect(args.clone())))
        }),
        Some(Command::Hosts(args)) => return hosts::run(args, &paths),
        Some(Command::Vault(args)) => vault::run(&paths, *args).map(|()| ExitCode::SUCCESS),
        Some(Command::Team(args)) => team::run(&paths, args).map(|()| ExitCode::SUCCESS),
        Some(Command::Scan(args)) => return scan::run(*args, &paths),
        Some(Command::Run(args)) => return run::run(*args, &paths),
        Some(Command::Ai(args)) => ai::run(args, &paths),
        Some(Command::Logs(args)) => return logs::run(args, &paths),
        Some(Command::Ls(args)) => return sessions::ls(socket_name.as_deref(), &args),
        Some(Command::New(args)) => return sessions::new(socket_name.as_deref(), &paths, args),
        Some(Command::Attach(args)) => {
            return sessions::attach(socket_name.as_deref(), &paths, &args);
        }
        Some(Command::KillSession(args)) => {
            return sessions::kill_session(socket_name.as_deref(), &args);
        }
        Some(Command::KillServer) => return sessions::kill_server(socket_name.as_deref()),
        Some(Command::Server(args)) => sessions::serve(socket_name.as_deref(), paths, &args),
    };
    match result {
        Ok(code) => code,
        Err(e) => {
            crate::errln!("lumen: {}", crate::text::error_chain(e.as_ref()));
            ExitCode::FAILURE
        }
    }
}

/// The options of a session the server starts from the words a client typed after `lumen`
/// (none: the host list; `shell`; `connect …`), run in the client's `cwd`, with the agent
/// following the server's clients.
pub fn session_options(
    args: &[String],
    paths: crate::paths::Paths,
    cwd: Option<std::path::PathBuf>,
    agent: crate::server::registry::AgentEnv,
) -> Result<crate::app::RunOptions, String> {
    let words = std::iter::once("lumen".to_string()).chain(args.iter().cloned());
    let cli = Cli::try_parse_from(words).map_err(|e| e.to_string().trim().to_string())?;
    options_for(cli.command, cli.theme, paths, cwd, Some(agent))
}

/// `lumen --in-process [shell|connect …]`: the session in this process.
fn in_process(
    command: Option<Command>,
    theme: Option<String>,
    paths: crate::paths::Paths,
) -> ExitCode {
    let result = options_for(command, theme, paths, None, None)
        .map_err(anyhow::Error::msg)
        .and_then(crate::term::run);
    match result {
        Ok(code) => code,
        Err(e) => {
            crate::errln!("lumen: {}", crate::text::error_chain(e.as_ref()));
            ExitCode::FAILURE
        }
    }
}

/// A session's options from its command (none: the host list; `shell`; `connect …`), in
/// `cwd`; in the server the agent follows its clients (`agent`).
fn options_for(
    command: Option<Command>,
    theme: Option<String>,
    paths: crate::paths::Paths,
    cwd: Option<std::path::PathBuf>,
    agent: Option<crate::server::registry::AgentEnv>,
) -> Result<crate::app::RunOptions, String> {
    let follow = |c: &mut crate::ssh::ConnectOptions| {
        if let Some(agent) = &agent {
            c.agent_socket = None;
            c.agent_follows = Some(agent.clone());
        }
    };
    let mut opts = match command {
        None => {
            let mut o = crate::app::RunOptions::new(paths, theme, Vec::new());
            o.hosts_tab = true;
            o
        }
        Some(Command::Shell) => {
            crate::app::RunOptions::new(paths, theme, vec![crate::app::PaneSpec::LocalShell])
        }
        Some(Command::Connect(mut a)) => {
            // Relative paths are the client's, not the server's.
            if let Some(dir) = &cwd {
                for f in a.ssh.identity.iter_mut().chain(a.ssh.config.iter_mut()) {
                    if f.is_relative() {
                        *f = dir.join(&*f);
                    }
                }
            }
            connect::tab_options(&a, paths, theme, &follow)?
        }
        Some(_) => {
            return Err("a session starts from `lumen`, `lumen shell` or `lumen connect …`".into());
        }
    };
    follow(&mut opts.connect);
    if cwd.is_some() {
        opts.cwd = cwd;
    }
    Ok(opts)
}
