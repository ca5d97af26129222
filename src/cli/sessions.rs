//! `lumen ls`, `new`, `attach`, `kill-session`, `kill-server` and the hidden `server`: the
//! tmux-style session commands, as thin calls into [`crate::server`].

use crate::paths::Paths;
use crate::server::client::{self, Server};
use crate::server::proto::Request;
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Clone, Args)]
pub struct LsArgs {
    /// `{"sessions":[{"name","created","attached","panes","hosts"}]}`.
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Clone, Args)]
pub struct NewArgs {
    /// The session's name (default: the first free number).
    #[arg(short = 's', value_name = "NAME")]
    pub name: Option<String>,
    /// Start it in the background; attach later with `lumen attach`.
    #[arg(short = 'd')]
    pub detached: bool,
    /// What the session opens: `shell`, `connect DEST…`; the host list without.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "shell | connect …"
    )]
    pub words: Vec<String>,
}

#[derive(Debug, Clone, Args)]
pub struct AttachArgs {
    /// The session (default: the most recently used).
    #[arg(short = 't', value_name = "NAME")]
    pub target: Option<String>,
    /// Read-only: see the session; only detaching works.
    #[arg(short = 'r')]
    pub read_only: bool,
    /// Detach every other client from the session.
    #[arg(short = 'd')]
    pub detach_others: bool,
    /// Attach to a server of another build when their protocol matches.
    #[arg(long)]
    pub any_build: bool,
}

#[derive(Debug, Clone, Args)]
pub struct TargetArgs {
    /// The session.
    #[arg(short = 't', value_name = "NAME", required = true)]
    pub target: String,
}

#[derive(Debug, Clone, Args)]
pub struct ServerArgs {
    /// The socket to listen on (default: as the clients find it).
    #[arg(long, value_name = "PATH")]
    pub socket: Option<PathBuf>,
}

fn server(name: Option<&str>, any_build: bool) -> Result<Server, ExitCode> {
    Server::named(name, any_build).map_err(|e| {
        crate::errln!("lumen: {e}");
        ExitCode::FAILURE
    })
}

/// Whether config.toml asks for the mouse (the client's terminal modes).
fn mouse(paths: &Paths) -> bool {
    crate::app::config::Config::load(&paths.config_file())
        .map(|c| c.mouse)
        .unwrap_or(true)
}

/// The words after `lumen` as typed, for the server to start the session from.
fn typed_words() -> Vec<String> {
    std::env::args().skip(1).collect()
}

fn cwd() -> Option<String> {
    std::env::current_dir()
        .ok()
        .map(|d| d.to_string_lossy().into_owned())
}

/// `lumen`, `lumen shell`, `lumen connect …`: a new session from these very words.
pub fn start(name: Option<&str>, paths: &Paths) -> ExitCode {
    let server = match server(name, false) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let request = Request::New {
        name: None,
        args: typed_words(),
        cwd: cwd(),
        detached: false,
    };
    client::new_session(&server, request, mouse(paths))
}

pub fn new(name: Option<&str>, paths: &Paths, args: NewArgs) -> ExitCode {
    let server = match server(name, false) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let request = Request::New {
        name: args.name,
        args: args.words,
        cwd: cwd(),
        detached: args.detached,
    };
    client::new_session(&server, request, mouse(paths))
}

pub fn attach(name: Option<&str>, paths: &Paths, args: &AttachArgs) -> ExitCode {
    let server = match server(name, args.any_build) {
        Ok(s) => s,
        Err(code) => return code,
    };
    let request = Request::Attach {
        target: args.target.clone(),
        read_only: args.read_only,
        detach_others: args.detach_others,
    };
    client::attach(&server, request, mouse(paths))
}

pub fn ls(name: Option<&str>, args: &LsArgs) -> ExitCode {
    match server(name, false) {
        Ok(s) => client::list(&s, args.json),
        Err(code) => code,
    }
}

pub fn kill_session(name: Option<&str>, args: &TargetArgs) -> ExitCode {
    match server(name, false) {
        Ok(s) => client::kill(
            &s,
            Request::KillSession {
                target: args.target.clone(),
            },
        ),
        Err(code) => code,
    }
}

pub fn kill_server(name: Option<&str>) -> ExitCode {
    match server(name, false) {
        Ok(s) => client::kill(&s, Request::KillServer),
        Err(code) => code,
    }
}

pub fn serve(name: Option<&str>, paths: Paths, args: &ServerArgs) -> anyhow::Result<ExitCode> {
    let socket = match &args.socket {
        Some(s) => s.clone(),
        None => crate::server::socket_path(name).map_err(anyhow::Error::msg)?,
    };
    crate::server::serve(socket, paths)
}
