//! ssh_config resolution with OpenSSH's rules (`ssh -G` parity), merged with the inventory.
//!
//! [`resolve`] reads the config the way `ssh` 9.2 does: first obtained value wins, Host and
//! Match blocks, Include, a final pass for `Match final`, `%` tokens where ssh expands them.
//! Where ssh would refuse a config (unknown keyword, malformed value), lumen warns with
//! file:line and ignores the line, so one bad line never locks anyone out.

mod eval;
mod glob;
mod jump;
mod keywords;
mod lexer;
mod merge;
mod options;
mod output;
mod pattern;
pub(crate) mod tokens;

pub use jump::{JumpHop, hops as jump_hops, parse_hop};
pub use merge::{HostLookup, HostOverrides, NoHosts, effective, effective_hops};
pub use options::{ForwardAgent, Origin, StrictHostKeyChecking};
pub use output::{SSH_G_KEYWORDS, concrete_hosts};
pub use tokens::TokenValues;

use eval::{Flags, Pass};
use options::{Jump, Options};
use std::collections::BTreeMap;
use std::path::PathBuf;

/// OpenSSH's default port.
pub const DEFAULT_PORT: u16 = 22;
/// Default ServerAliveCountMax.
pub(crate) const DEFAULT_ALIVE_COUNT_MAX: u32 = 3;
/// IdentityFile defaults, in the order `ssh -G` lists them (OpenSSH 9.2).
pub(crate) const DEFAULT_IDENTITY_FILES: &[&str] = &[
    "~/.ssh/id_rsa",
    "~/.ssh/id_ecdsa",
    "~/.ssh/id_ecdsa_sk",
    "~/.ssh/id_ed25519",
    "~/.ssh/id_ed25519_sk",
    "~/.ssh/id_xmss",
    "~/.ssh/id_dsa",
];
const DEFAULT_KNOWN_HOSTS: &[&str] = &["~/.ssh/known_hosts", "~/.ssh/known_hosts2"];
/// GlobalKnownHostsFile's default: the system-wide files ssh trusts beside the user's.
pub const DEFAULT_GLOBAL_KNOWN_HOSTS: &[&str] =
    &["/etc/ssh/ssh_known_hosts", "/etc/ssh/ssh_known_hosts2"];
/// Where ssh reads its system-wide config.
pub const SYSTEM_CONFIG: &str = "/etc/ssh/ssh_config";

/// Errors that stop resolution. Everything else is a [`ConfigWarning`].
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read ssh config {path}: {source}; check the path given with --ssh-config")]
    Open {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("invalid jump host {value:?}: {message}; use [user@]host[:port][,…]")]
    BadJump { value: String, message: String },
    #[error("no host given; name one, e.g. `lumen hosts resolve db1`")]
    NoHost,
    #[error("port 0 is not valid; use 1-65535")]
    BadPort,
}

/// A line lumen ignored, with where it is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigWarning {
    pub file: PathBuf,
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for ConfigWarning {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}: {}", self.file.display(), self.line, self.message)
    }
}

/// What the caller knows before reading the config: command-line overrides and the local side.
#[derive(Debug, Clone, Default)]
pub struct ResolveOptions {
    /// `-l USER` (wins over `user@host` and over `User`).
    pub user: Option<String>,
    /// `-p PORT`.
    pub port: Option<u16>,
    /// `-J JUMP[,JUMP…]`.
    pub jump: Option<String>,
    /// `-o Keyword=value` lines, applied before any file (so they win).
    pub overrides: Vec<(String, String)>,
    /// `-F FILE`: read only this file. None: `~/.ssh/config`, then `system_config`.
    pub config_file: Option<PathBuf>,
    /// The system config read when `config_file` is None (ssh: /etc/ssh/ssh_config).
    pub system_config: Option<PathBuf>,
    /// Home directory for `~`, `%d` and `~/.ssh`.
    pub home_dir: PathBuf,
    /// `%u`, `Match localuser`, and the user when nothing sets one.
    pub local_user: String,
    /// `%l` (and `%L`, its first label).
    pub local_host: String,
    /// `%i`.
    pub uid: u32,
}

impl ResolveOptions {
    /// The local side from the environment: `HOME` (else the passwd entry), the login name,
    /// the hostname, and ssh's default config files. `LUMEN_SSH_SYSTEM_CONFIG` replaces
    /// /etc/ssh/ssh_config (`none`: no system config), so tests stay hermetic.
    pub fn from_env() -> Self {
        let who = crate::ssh::config::merge::local_identity();
        let home = std::env::var_os("HOME")
            .filter(|h| !h.is_empty())
            .map(PathBuf::from)
            .unwrap_or(who.home);
        Self {
            home_dir: home,
            local_user: who.name,
            local_host: who.host,
            uid: who.uid,
            system_config: match std::env::var_os("LUMEN_SSH_SYSTEM_CONFIG") {
                Some(v) if v == "none" => None,
                Some(v) => Some(PathBuf::from(v)),
                None => Some(PathBuf::from(SYSTEM_CONFIG)),
            },
            ..Self::default()
        }
    }
}

/// The effective options for one host, as `ssh -G` would report them.
#[derive(Debug, Clone, PartialEq)]
pub struct Resolved {
    /// The host as given, without `user@`.
    pub host_arg: String,
    pub hostname: String,
    pub user: String,
    pub port: u16,
    /// The jump chain in `ssh -G` form; None when unset or `none`.
    pub proxy_jump: Option<String>,
    pub proxy_command: Option<String>,
    /// As written in the config (ssh -G prints them unexpanded); see [`Resolved::identity_paths`].
    pub identity_files: Vec<String>,
    /// True when no IdentityFile was configured and these are ssh's defaults.
    pub identity_files_default: bool,
    pub identities_only: bool,
    pub forward_agent: ForwardAgent,
    pub server_alive_interval: u32,
    pub server_alive_count_max: u32,
    pub strict_host_key_checking: StrictHostKeyChecking,
    /// Expanded (`~`, `%` tokens, `${VAR}`), as ssh -G prints them.
    pub user_known_hosts_files: Vec<String>,
    /// As written, as ssh -G prints them (`~` is expanded where they are read: ssh expands
    /// nothing else in them); `none` when the config says so.
    pub global_known_hosts_files: Vec<String>,
    /// Seconds; None is ssh's `none`.
    pub connect_timeout: Option<u32>,
    /// Every other known keyword's first value, raw (kept for the SSH client, not interpreted).
    pub other: BTreeMap<String, String>,
    /// Unknown keywords' first values, raw: kept so callers can show them, never used.
    pub unknown: BTreeMap<String, String>,
    /// Keyword → where its value came from.
    pub origins: BTreeMap<String, Origin>,
    pub tokens: TokenValues,
    pub warnings: Vec<ConfigWarning>,
}

/// Resolve `[user@]host` against the ssh config.
pub fn resolve(host: &str, opts: &ResolveOptions) -> Result<Resolved, ConfigError> {
    let (at_user, host_arg) = match host.rfind('@') {
        Some(i) => (Some(host[..i].to_string()), host[i + 1..].to_string()),
        None => (None, host.to_string()),
    };
    if host_arg.is_empty() {
        return Err(ConfigError::NoHost);
    }
    if opts.port == Some(0) {
        return Err(ConfigError::BadPort);
    }
    let mut options = Options {
        user: opts.user.clone().or(at_user).filter(|u| !u.is_empty()),
        port: opts.port,
        ..Options::default()
    };
    if let Some(j) = &opts.jump {
        options.jump = jump::parse_chain(j).map_err(|message| ConfigError::BadJump {
            value: j.clone(),
            message,
        })?;
        options.proxy_command = Some("none".into());
    }
    let mut pass = Pass {
        opts,
        host: host_arg.clone(),
        original: host_arg.clone(),
        final_pass: false,
        want_final: false,
        options,
        warnings: Vec::new(),
    };
    pass.apply_overrides(&opts.overrides);
    read_all(&mut pass, opts)?;

    let mut hostname = host_arg.clone();
    if let Some(h) = &pass.options.hostname {
        hostname = tokens::expand_percent(h, |c| (c == 'h').then(|| host_arg.clone()))
            .unwrap_or_else(|e| {
                let at = pass.options.origins.get("hostname").cloned();
                let (file, line) = at.map(|o| (o.file, o.line)).unwrap_or_default();
                pass.warnings.push(ConfigWarning {
                    file: file.into(),
                    line,
                    message: format!("Hostname {h:?}: {e} (only %h and %% are expanded)"),
                });
                h.clone()
            });
    }
    if !is_address_like(&hostname) {
        hostname = hostname.to_ascii_lowercase();
    }
    if pass.want_final || pass.options.canonicalize_hostname == Some(true) {
        pass.options.hostname = Some(hostname.clone());
        pass.host = hostname.clone();
        pass.final_pass = true;
        read_all(&mut pass, opts)?;
    }
    Ok(finish(
        pass.options,
        pass.warnings,
        host_arg,
        hostname,
        opts,
    ))
}

fn read_all(pass: &mut Pass<'_>, opts: &ResolveOptions) -> Result<(), ConfigError> {
    let user_flags = Flags {
        user_conf: true,
        ..Flags::default()
    };
    if let Some(path) = &opts.config_file {
        let mut active = true;
        match pass.read_file(path, user_flags, &mut active, 0) {
            Ok(true) => return Ok(()),
            Ok(false) => {
                let source = std::io::Error::from(std::io::ErrorKind::NotFound);
                return Err(ConfigError::Open {
                    path: path.clone(),
                    source,
                });
            }
            Err(source) => {
                return Err(ConfigError::Open {
                    path: path.clone(),
                    source,
                });
            }
        }
    }
    let user_config = opts.home_dir.join(".ssh").join("config");
    let mut files = vec![(
        user_config,
        Flags {
            check_perm: true,
            ..user_flags
        },
    )];
    if let Some(system) = &opts.system_config {
        files.push((system.clone(), Flags::default()));
    }
    for (path, flags) in files {
        let mut active = true;
        if let Err(e) = pass.read_file(&path, flags, &mut active, 0) {
            let w = ConfigWarning {
                file: path.clone(),
                line: 0,
                message: format!("not read: {e}"),
            };
            if !pass.warnings.contains(&w) {
                pass.warnings.push(w);
            }
        }
    }
    Ok(())
}

/// ssh leaves names that look like addresses (`%`, `:` or only digits and dots) as typed.
fn is_address_like(h: &str) -> bool {
    h.contains(['%', ':']) || h.chars().all(|c| c.is_ascii_digit() || c == '.')
}

fn finish(
    o: Options,
    mut warnings: Vec<ConfigWarning>,
    host_arg: String,
    hostname: String,
    opts: &ResolveOptions,
) -> Resolved {
    let user = o.user.clone().unwrap_or_else(|| opts.local_user.clone());
    let port = o.port.unwrap_or(DEFAULT_PORT);
    let tokens = TokenValues {
        host: hostname.clone(),
        original_host: host_arg.clone(),
        port,
        remote_user: user.clone(),
        local_user: opts.local_user.clone(),
        home_dir: opts.home_dir.to_string_lossy().into_owned(),
        local_host: opts.local_host.clone(),
        uid: opts.uid,
        key_alias: o.host_key_alias.clone().unwrap_or_else(|| host_arg.clone()),
    };
    let mut expand = |keyword: &str, raw: &str| {
        tokens.expand_path(raw).unwrap_or_else(|e| {
            let origin = o.origins.get(keyword);
            warnings.push(ConfigWarning {
                file: origin.map(|x| x.file.clone()).unwrap_or_default().into(),
                line: origin.map(|x| x.line).unwrap_or(0),
                message: format!("{keyword} {raw:?}: {e}; used as written"),
            });
            raw.to_string()
        })
    };
    let known: Vec<String> = if o.user_known_hosts_files.is_empty() {
        DEFAULT_KNOWN_HOSTS
            .iter()
            .map(|k| expand("userknownhostsfile", k))
            .collect()
    } else {
        o.user_known_hosts_files
            .iter()
            .map(|k| expand("userknownhostsfile", k))
            .collect()
    };
    let global: Vec<String> = if o.global_known_hosts_files.is_empty() {
        DEFAULT_GLOBAL_KNOWN_HOSTS
            .iter()
            .map(|s| s.to_string())
            .collect()
    } else {
        o.global_known_hosts_files.clone()
    };
    let forward_agent = match &o.forward_agent_socket {
        Some(sock) => ForwardAgent::Socket(expand("forwardagent", sock)),
        None if o.forward_agent == Some(true) => ForwardAgent::Yes,
        None => ForwardAgent::No,
    };
    let identity_files_default = o.identity_files.is_empty();
    let identity_files = if identity_files_default {
        DEFAULT_IDENTITY_FILES
            .iter()
            .map(|s| s.to_string())
            .collect()
    } else {
        o.identity_files.clone()
    };
    Resolved {
        host_arg,
        hostname,
        user,
        port,
        proxy_jump: match &o.jump {
            Jump::Chain(c) => Some(c.clone()),
            Jump::Unset | Jump::None => None,
        },
        proxy_command: o.proxy_command.clone().filter(|c| c != "none"),
        identity_files,
        identity_files_default,
        identities_only: o.identities_only.unwrap_or(false),
        forward_agent,
        server_alive_interval: o.server_alive_interval.unwrap_or(0),
        server_alive_count_max: o.server_alive_count_max.unwrap_or(DEFAULT_ALIVE_COUNT_MAX),
        strict_host_key_checking: o
            .strict_host_key_checking
            .unwrap_or(StrictHostKeyChecking::Ask),
        user_known_hosts_files: known,
        global_known_hosts_files: global,
        connect_timeout: o.connect_timeout,
        other: o.other,
        unknown: o.unknown,
        origins: o.origins,
        tokens,
        warnings,
    }
}

impl Resolved {
    /// IdentityFile paths with `~`, `%` tokens and `${VAR}` expanded, as ssh loads them.
    /// Entries that fail to expand are left out (ssh would stop).
    pub fn identity_paths(&self) -> Vec<PathBuf> {
        self.identity_files
            .iter()
            .filter_map(|f| self.tokens.expand_path(f).ok())
            .map(PathBuf::from)
            .collect()
    }

    /// The jump chain, first hop first (empty when connecting directly).
    pub fn jump_chain(&self) -> Vec<JumpHop> {
        self.proxy_jump
            .as_deref()
            .and_then(|c| jump::hops(c).ok())
            .unwrap_or_default()
    }

    /// Where a keyword's value came from, when the config set it.
    pub fn origin(&self, keyword: &str) -> Option<&Origin> {
        self.origins.get(&keyword.to_ascii_lowercase())
    }
}
