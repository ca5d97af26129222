//! Where to connect ([`Target`]) and how ([`ConnectOptions`]): identities, agent, known_hosts
//! files, timeouts. Every path is explicit so tests never read the real `~/.ssh`.

use super::SshError;
use super::config::StrictHostKeyChecking;
use super::credentials::Credentials;
use crate::paths::Paths;
use russh::keys::PrivateKey;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

pub const DEFAULT_PORT: u16 = 22;
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
pub const KEEPALIVE_INTERVAL: Duration = Duration::from_secs(30);
pub const KEEPALIVE_MAX: usize = 3;
/// The identity files OpenSSH tries when no `-i` is given, in its order.
pub const DEFAULT_IDENTITIES: [&str; 3] = ["id_ed25519", "id_ecdsa", "id_rsa"];

/// One host to connect to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub user: String,
    pub host: String,
    pub port: u16,
}

impl Target {
    pub fn new(user: impl Into<String>, host: impl Into<String>, port: u16) -> Self {
        Self {
            user: user.into(),
            host: host.into(),
            port,
        }
    }

    /// Parse `[USER@]HOST[:PORT]` (IPv6 as `[addr]:port`). `user` and `port` are the fallbacks
    /// from `-l` / `-p`; the destination's own user and port win, as with `ssh`.
    pub fn parse(input: &str, user: Option<&str>, port: Option<u16>) -> Result<Self, SshError> {
        let bad = |why: &str| SshError::BadTarget {
            input: input.into(),
            why: why.into(),
        };
        let (user_part, rest) = match input.rsplit_once('@') {
            Some(("", _)) => return Err(bad("empty user name before '@'")),
            Some((u, r)) => (Some(u), r),
            None => (None, input),
        };
        let (host, port_part) = if let Some(inner) = rest.strip_prefix('[') {
            let (h, after) = inner
                .split_once(']')
                .ok_or_else(|| bad("missing ']' after an IPv6 address"))?;
            match after {
                "" => (h, None),
                p => (
                    h,
                    Some(
                        p.strip_prefix(':')
                            .ok_or_else(|| bad("expected ':PORT' after ']'"))?,
                    ),
                ),
            }
        } else if rest.matches(':').count() > 1 {
            (rest, None) // a bare IPv6 address
        } else {
            match rest.split_once(':') {
                Some((h, p)) => (h, Some(p)),
                None => (rest, None),
            }
        };
        if host.is_empty() {
            return Err(bad("no host name"));
        }
        super::names::check_hostname(host).map_err(|why| bad(&why))?;
        let port = match port_part {
            Some(p) => p
                .parse::<u16>()
                .ok()
                .filter(|p| *p != 0)
                .ok_or_else(|| bad("the port must be a number from 1 to 65535"))?,
            None => port.unwrap_or(DEFAULT_PORT),
        };
        let user = match user_part.or(user) {
            Some(u) => {
                super::names::check_user(u).map_err(|why| bad(&why))?;
                u.to_string()
            }
            None => local_user(),
        };
        Ok(Self::new(user, host, port))
    }

    /// The name known_hosts files use: `host`, or `[host]:port` off port 22.
    pub fn known_hosts_name(&self) -> String {
        host_port_name(&self.host, self.port)
    }

    /// What `lumen hosts forget` takes for this target.
    pub fn forget_arg(&self) -> String {
        if self.port == DEFAULT_PORT {
            self.host.clone()
        } else {
            format!("{}:{}", self.host, self.port)
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}", self.user, self.host)?;
        if self.port != DEFAULT_PORT {
            write!(f, ":{}", self.port)?;
        }
        Ok(())
    }
}

/// `host` on port 22, else `[host]:port`, lowercased as OpenSSH compares names.
pub fn host_port_name(host: &str, port: u16) -> String {
    let host = host.to_ascii_lowercase();
    if port == DEFAULT_PORT {
        host
    } else {
        format!("[{host}]:{port}")
    }
}

/// The local user name: `$USER`, else `$LOGNAME`, else the passwd entry, else "root".
pub fn local_user() -> String {
    for var in ["USER", "LOGNAME"] {
        if let Ok(u) = std::env::var(var)
            && !u.is_empty()
        {
            return u;
        }
    }
    // SAFETY: getpwuid returns a pointer into static storage or null; we copy the name at once.
    unsafe {
        let pw = libc::getpwuid(libc::getuid());
        if !pw.is_null() && !(*pw).pw_name.is_null() {
            return std::ffi::CStr::from_ptr((*pw).pw_name)
                .to_string_lossy()
                .into_owned();
        }
    }
    "root".into()
}

/// How to connect and authenticate. Build with [`ConnectOptions::from_env`] in the app and
/// [`ConnectOptions::isolated`] in tests.
#[derive(Clone)]
pub struct ConnectOptions {
    /// `-i` files; when empty, `<ssh_dir>/id_ed25519`, `id_ecdsa`, `id_rsa` are tried.
    pub identity_files: Vec<PathBuf>,
    /// Keys held in memory (the embedded server's client key), tried after the agent.
    pub keys: Vec<Arc<PrivateKey>>,
    /// The user's `~/.ssh` (default identities and known_hosts); None: use neither.
    pub ssh_dir: Option<PathBuf>,
    /// `SSH_AUTH_SOCK` (or ssh_config's agent socket); None: no agent, unless it follows
    /// the clients (`agent_follows`).
    pub agent_socket: Option<PathBuf>,
    /// In the server: `SSH_AUTH_SOCK` of the last client to attach, used when no socket is
    /// set above.
    pub agent_follows: Option<crate::server::registry::AgentEnv>,
    /// Forward the agent to the server (`-A`).
    pub forward_agent: bool,
    /// lumen's own known_hosts, where accepted keys are saved.
    pub lumen_known_hosts: PathBuf,
    pub connect_timeout: Duration,
    pub keepalive_interval: Duration,
    pub keepalive_max: usize,
    /// Environment sent with the PTY request (`LANG`, `LC_*`); servers may refuse some.
    pub env: Vec<(String, String)>,
    pub term: String,
    /// `IdentitiesOnly`: use only the identity files (and in-memory keys), not the agent's
    /// other keys.
    pub identities_only: bool,
    /// `UserKnownHostsFile`; None: `<ssh_dir>/known_hosts`.
    pub user_known_hosts_files: Option<Vec<PathBuf>>,
    /// `GlobalKnownHostsFile` (read, never written); None: `/etc/ssh/ssh_known_hosts` and
    /// `ssh_known_hosts2` when a `~/.ssh` is configured (the real user), none otherwise.
    pub global_known_hosts_files: Option<Vec<PathBuf>>,
    /// `StrictHostKeyChecking`: `Ask` asks about unknown keys; `Yes` refuses them; `AcceptNew`
    /// and `No` save them without asking (a changed key is always refused).
    pub strict_host_key_checking: StrictHostKeyChecking,
    /// Where passwords, keys and one-time codes come from before the user is asked (the vault).
    pub credentials: Option<Arc<dyn Credentials>>,
    /// The inventory's `credential` entry for this host, looked up in `credentials`.
    pub credential: Option<String>,
    /// The host's name as the user knows it (inventory name, ssh_config alias), for the vault's
    /// host binding and audit; None: the target's host.
    pub host_alias: Option<String>,
}

impl std::fmt::Debug for ConnectOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConnectOptions")
            .field("identity_files", &self.identity_files)
            .field("keys", &format_args!("{} in memory", self.keys.len()))
            .field("ssh_dir", &self.ssh_dir)
            .field("agent_socket", &self.agent_socket)
            .field("forward_agent", &self.forward_agent)
            .field("lumen_known_hosts", &self.lumen_known_hosts)
            .field("identities_only", &self.identities_only)
            .field("user_known_hosts_files", &self.user_known_hosts_files)
            .field("global_known_hosts_files", &self.global_known_hosts_files)
            .field("strict_host_key_checking", &self.strict_host_key_checking)
            .field("credential", &self.credential)
            .finish_non_exhaustive()
    }
}

impl ConnectOptions {
    /// The agent to use now: the one set, else the one the last attached client has.
    pub fn agent_socket_now(&self) -> Option<PathBuf> {
        self.agent_socket
            .clone()
            .or_else(|| self.agent_follows.as_ref().and_then(|a| a.get()))
    }

    /// Options for the real user: `~/.ssh`, `SSH_AUTH_SOCK`, `LANG`/`LC_*` from the environment.
    pub fn from_env(paths: &Paths) -> Self {
        let ssh_dir = directories::BaseDirs::new().map(|b| b.home_dir().join(".ssh"));
        let agent_socket = std::env::var_os("SSH_AUTH_SOCK")
            .filter(|s| !s.is_empty())
            .map(PathBuf::from);
        let env = std::env::vars()
            .filter(|(k, _)| k == "LANG" || k.starts_with("LC_"))
            .collect();
        Self {
            ssh_dir,
            agent_socket,
            env,
            ..Self::isolated(&paths.known_hosts())
        }
    }

    /// No `~/.ssh`, no agent, no environment: only what the caller adds. For tests and the demo.
    pub fn isolated(lumen_known_hosts: &Path) -> Self {
        Self {
            identity_files: Vec::new(),
            keys: Vec::new(),
            ssh_dir: None,
            agent_socket: None,
            agent_follows: None,
            forward_agent: false,
            lumen_known_hosts: lumen_known_hosts.to_path_buf(),
            connect_timeout: CONNECT_TIMEOUT,
            keepalive_interval: KEEPALIVE_INTERVAL,
            keepalive_max: KEEPALIVE_MAX,
            env: Vec::new(),
            term: "xterm-256color".into(),
            identities_only: false,
            user_known_hosts_files: None,
            global_known_hosts_files: None,
            strict_host_key_checking: StrictHostKeyChecking::Ask,
            credentials: None,
            credential: None,
            host_alias: None,
        }
    }

    /// The user's known_hosts files: `UserKnownHostsFile` when set, else
    /// `<ssh_dir>/known_hosts` if a `~/.ssh` is configured.
    pub fn user_known_hosts(&self) -> Vec<PathBuf> {
        match &self.user_known_hosts_files {
            Some(files) => files.clone(),
            None => self.ssh_dir.iter().map(|d| d.join("known_hosts")).collect(),
        }
    }

    /// The system-wide known_hosts files: `GlobalKnownHostsFile` when set, else ssh's
    /// defaults if a `~/.ssh` is configured.
    pub fn global_known_hosts(&self) -> Vec<PathBuf> {
        match &self.global_known_hosts_files {
            Some(files) => files.clone(),
            None if self.ssh_dir.is_some() => crate::ssh::config::DEFAULT_GLOBAL_KNOWN_HOSTS
                .iter()
                .map(PathBuf::from)
                .collect(),
            None => Vec::new(),
        }
    }

    /// The identity files to try, in order, and whether each was asked for explicitly (`-i`).
    pub fn identity_candidates(&self) -> Vec<(PathBuf, bool)> {
        if !self.identity_files.is_empty() {
            return self
                .identity_files
                .iter()
                .map(|p| (p.clone(), true))
                .collect();
        }
        match &self.ssh_dir {
            Some(dir) => DEFAULT_IDENTITIES
                .iter()
                .map(|n| (dir.join(n), false))
                .collect(),
            None => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_destinations_like_ssh() {
        let t = Target::parse("alice@db1:2222", Some("bob"), Some(22)).unwrap();
        assert_eq!(t, Target::new("alice", "db1", 2222));
        let t = Target::parse("db1", Some("bob"), Some(2200)).unwrap();
        assert_eq!(t, Target::new("bob", "db1", 2200));
        let t = Target::parse("[::1]:2022", Some("u"), None).unwrap();
        assert_eq!(t, Target::new("u", "::1", 2022));
        let t = Target::parse("fe80::1", Some("u"), None).unwrap();
        assert_eq!((t.host.as_str(), t.port), ("fe80::1", 22));
        let t = Target::parse("a@b@host", None, None).unwrap();
        assert_eq!((t.user.as_str(), t.host.as_str()), ("a@b", "host"));
    }

    #[test]
    fn rejects_bad_destinations() {
        for bad in [
            "",
            "@host",
            "host:0",
            "host:99999",
            "host:x",
            "[::1",
            "a b",
            "u@",
        ] {
            assert!(Target::parse(bad, Some("u"), None).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn known_hosts_names() {
        assert_eq!(Target::new("u", "DB1", 22).known_hosts_name(), "db1");
        assert_eq!(
            Target::new("u", "db1", 2222).known_hosts_name(),
            "[db1]:2222"
        );
        assert_eq!(Target::new("u", "db1", 2222).forget_arg(), "db1:2222");
    }

    #[test]
    fn global_known_hosts_default_only_for_the_real_user() {
        let mut o = ConnectOptions::isolated(Path::new("/x/known_hosts"));
        assert!(o.global_known_hosts().is_empty(), "tests never read /etc");
        o.ssh_dir = Some(PathBuf::from("/home/u/.ssh"));
        assert_eq!(
            o.global_known_hosts(),
            [
                PathBuf::from("/etc/ssh/ssh_known_hosts"),
                PathBuf::from("/etc/ssh/ssh_known_hosts2")
            ]
        );
        o.global_known_hosts_files = Some(Vec::new());
        assert!(
            o.global_known_hosts().is_empty(),
            "GlobalKnownHostsFile none"
        );
    }
}
