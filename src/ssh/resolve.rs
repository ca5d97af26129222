//! From what the user typed to everything needed to connect: ssh_config resolution merged with
//! the inventory (inventory wins), the jump chain resolved hop by hop, and per-hop options.

use super::SshError;
use super::config::HostLookup;
use super::config::{self, ForwardAgent, ResolveOptions, Resolved};
use super::target::{ConnectOptions, Target};
use std::path::PathBuf;
use std::time::Duration;

/// How deep a first hop's own ProxyJump may nest before lumen calls it a loop.
pub const MAX_JUMP_DEPTH: usize = 8;

/// One host to log into, and how.
#[derive(Debug, Clone)]
pub struct PlannedHop {
    /// The name as given (inventory name, ssh_config alias or address), for messages.
    pub name: String,
    pub target: Target,
    pub options: ConnectOptions,
    /// `ProxyCommand`, tokens expanded: the transport of the first hop (or of the target when
    /// there are no jumps).
    pub proxy_command: Option<String>,
}

impl PlannedHop {
    /// A hop without config: connect to `target` with `options`.
    pub fn direct(name: impl Into<String>, target: Target, options: ConnectOptions) -> Self {
        Self {
            name: name.into(),
            target,
            options,
            proxy_command: None,
        }
    }

    /// `host:port` for messages.
    pub fn addr(&self) -> String {
        if self.target.host.contains(':') {
            format!("[{}]:{}", self.target.host, self.target.port)
        } else {
            format!("{}:{}", self.target.host, self.target.port)
        }
    }
}

/// Hops compare by name, target and ProxyCommand (not by options), so a pane spec holding a
/// plan can stay `PartialEq`.
impl PartialEq for PlannedHop {
    fn eq(&self, other: &Self) -> bool {
        (&self.name, &self.target, &self.proxy_command)
            == (&other.name, &other.target, &other.proxy_command)
    }
}

impl Eq for PlannedHop {}

/// Everything needed to open a session: the jump hosts, first hop first, then the target.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    pub jumps: Vec<PlannedHop>,
    pub target: PlannedHop,
    /// ssh_config lines lumen ignored, as `file:line: message`.
    pub warnings: Vec<String>,
    /// What a session runs on its PTY instead of the login shell (`ssh -t host COMMAND`).
    pub command: Option<String>,
}

impl Plan {
    /// A plan for a target with no config and no jumps.
    pub fn direct(name: impl Into<String>, target: Target, options: ConnectOptions) -> Self {
        Self {
            jumps: Vec::new(),
            target: PlannedHop::direct(name, target, options),
            warnings: Vec::new(),
            command: None,
        }
    }

    /// The route for the status bar and messages: `bastion → db1`.
    pub fn route(&self) -> String {
        self.jumps
            .iter()
            .chain(std::iter::once(&self.target))
            .map(|h| h.name.as_str())
            .collect::<Vec<_>>()
            .join(" → ")
    }

    /// Where the session's transport starts: the first jump, else the target.
    pub fn first(&self) -> &PlannedHop {
        self.jumps.first().unwrap_or(&self.target)
    }
}

/// Resolve `name` (`[user@]host`, an inventory name or an ssh_config alias) the way `ssh name`
/// would, with the inventory's values winning, into a [`Plan`]. `resolve` carries `-l`, `-p`,
/// `-J`, `-F`, `-o`; `base` is the caller's options (`-i`, `-A`, keys in memory, lumen's
/// known_hosts, credentials), refined per hop by the resolved options.
pub fn plan(
    name: &str,
    hosts: &dyn HostLookup,
    resolve: &ResolveOptions,
    base: &ConnectOptions,
) -> Result<Plan, SshError> {
    let host_arg = name.rsplit_once('@').map_or(name, |(_, h)| h);
    if host_arg.trim().is_empty() {
        return Err(SshError::BadTarget {
            input: name.to_string(),
            why: "no host name (expected [user@]host)".into(),
        });
    }
    let resolved = config::effective(name, hosts, resolve);
    let mut warnings: Vec<String> = resolved.warnings.iter().map(|w| w.to_string()).collect();
    let hops = chain(&resolved, hosts, resolve, 0)?;
    let mut jumps = Vec::with_capacity(hops.len());
    for (i, r) in hops.iter().enumerate() {
        warnings.extend(r.warnings.iter().map(|w| w.to_string()));
        let mut hop = planned(r, hosts, base, false)?;
        if i > 0 {
            hop.proxy_command = None;
        }
        jumps.push(hop);
    }
    let mut target = planned(&resolved, hosts, base, true)?;
    target.name = host_arg.to_string();
    if !jumps.is_empty() {
        target.proxy_command = None;
    }
    warnings.dedup();
    Ok(Plan {
        jumps,
        target,
        warnings,
        command: None,
    })
}

/// `HOST:PORT` and `[v6]:PORT` are lumen's shorthand for `-p`; ssh_config never sees the port.
pub fn split_port(destination: &str) -> Result<(String, Option<u16>), SshError> {
    let rest = destination.rsplit_once('@').map_or(destination, |(_, h)| h);
    if !rest.starts_with('[') && rest.matches(':').count() != 1 {
        return Ok((destination.to_string(), None));
    }
    let t = Target::parse(destination, None, None)?;
    let explicit = rest.starts_with('[') && rest.contains("]:") || !rest.starts_with('[');
    let user = destination.rsplit_once('@').map(|(u, _)| u);
    let name = match user {
        Some(u) => format!("{u}@{}", t.host),
        None => t.host.clone(),
    };
    Ok((name, explicit.then_some(t.port)))
}

/// Plan what a user typed: `[user@]host[:port]`, an inventory name or an ssh_config alias.
/// The `:port` shorthand is lumen's `-p` (ssh_config never sees it); the plan keeps the text
/// as typed for its name.
pub fn plan_destination(
    destination: &str,
    hosts: &dyn HostLookup,
    resolve: &ResolveOptions,
    base: &ConnectOptions,
) -> Result<Plan, SshError> {
    let (name, port) = split_port(destination)?;
    let mut r = resolve.clone();
    r.port = port.or(r.port);
    let mut p = plan(&name, hosts, &r, base)?;
    p.target.name = destination.to_string();
    Ok(p)
}

/// The hops of `r`'s chain, first hop first, following the first hop's own ProxyJump.
fn chain(
    r: &Resolved,
    hosts: &dyn HostLookup,
    opts: &ResolveOptions,
    depth: usize,
) -> Result<Vec<Resolved>, SshError> {
    if depth > MAX_JUMP_DEPTH {
        return Err(SshError::JumpLoop {
            name: r.host_arg.clone(),
            depth,
        });
    }
    let hops = config::effective_hops(r, hosts, opts);
    let Some(first) = hops.first() else {
        return Ok(Vec::new());
    };
    let mut out = if first.proxy_jump.is_some() {
        chain(first, hosts, opts, depth + 1)?
    } else {
        Vec::new()
    };
    out.extend(hops);
    Ok(out)
}

/// One resolved host as a hop: target, options on top of `base`, credential, ProxyCommand.
/// Every name that reaches a connection passes here, whatever its source (command line, `-l`,
/// `-J`, ssh_config, hosts.toml, the new-tab dialog), and is checked as OpenSSH checks it.
fn planned(
    r: &Resolved,
    hosts: &dyn HostLookup,
    base: &ConnectOptions,
    is_target: bool,
) -> Result<PlannedHop, SshError> {
    let refuse = |why: String| SshError::BadTarget {
        input: r.host_arg.clone(),
        why,
    };
    super::names::check_hostname(&r.hostname).map_err(refuse)?;
    super::names::check_user(&r.user).map_err(refuse)?;
    if r.host_arg != r.hostname {
        super::names::check_hostname(&r.host_arg).map_err(refuse)?;
    }
    let mut o = base.clone();
    if !is_target {
        // -i and -A belong to the destination, as with `ssh -J`.
        o.identity_files.clear();
        o.forward_agent = false;
    }
    if !r.identity_files_default {
        o.identity_files.extend(r.identity_paths());
    }
    o.identities_only = r.identities_only;
    match &r.forward_agent {
        ForwardAgent::Yes => o.forward_agent = true,
        ForwardAgent::Socket(path) => {
            o.forward_agent = true;
            o.agent_socket = Some(PathBuf::from(path));
        }
        ForwardAgent::No => {}
    }
    if r.server_alive_interval > 0 {
        o.keepalive_interval = Duration::from_secs(u64::from(r.server_alive_interval));
        o.keepalive_max = usize::try_from(r.server_alive_count_max).unwrap_or(usize::MAX);
    }
    if let Some(secs) = r.connect_timeout.filter(|s| *s > 0) {
        o.connect_timeout = Duration::from_secs(u64::from(secs));
    }
    // `none` and /dev/null both mean no file.
    let files = |list: &[String]| -> Vec<PathBuf> {
        list.iter()
            .filter(|f| f.as_str() != "/dev/null" && !f.eq_ignore_ascii_case("none"))
            .map(PathBuf::from)
            .collect()
    };
    if r.origin("userknownhostsfile").is_some() {
        o.user_known_hosts_files = Some(files(&r.user_known_hosts_files));
    }
    if r.origin("globalknownhostsfile").is_some() {
        let home = std::path::Path::new(&r.tokens.home_dir);
        let expanded: Vec<String> = r
            .global_known_hosts_files
            .iter()
            .map(|f| super::config::tokens::expand_tilde(f, home))
            .collect();
        o.global_known_hosts_files = Some(files(&expanded));
    }
    if r.origin("stricthostkeychecking").is_some() {
        o.strict_host_key_checking = r.strict_host_key_checking;
    }
    o.host_alias = Some(r.host_arg.clone());
    o.credential = hosts
        .lookup(&r.host_arg)
        .and_then(|h| h.credential)
        .or_else(|| {
            if is_target {
                base.credential.clone()
            } else {
                None
            }
        });
    let proxy_command = match r.proxy_command.as_deref() {
        Some(c) => Some(super::proxy::expand_tokens(c, r)?),
        None => None,
    };
    Ok(PlannedHop {
        name: r.host_arg.clone(),
        target: Target::new(r.user.clone(), r.hostname.clone(), r.port),
        options: o,
        proxy_command,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_empty_host_is_refused() {
        let base = ConnectOptions::isolated(std::path::Path::new("/nonexistent/known_hosts"));
        for bad in ["", "bob@", "  "] {
            let e = plan(
                bad,
                &Inventory::default(),
                &ResolveOptions::default(),
                &base,
            )
            .unwrap_err();
            assert!(e.to_string().contains("no host name"), "{e}");
        }
    }
    use crate::workspace::{Host, Inventory};

    fn opts(dir: &std::path::Path, config: &str) -> ResolveOptions {
        let file = dir.join("config");
        std::fs::write(&file, config).unwrap();
        ResolveOptions {
            config_file: Some(file),
            home_dir: dir.to_path_buf(),
            local_user: "me".into(),
            ..ResolveOptions::default()
        }
    }

    #[test]
    fn config_and_inventory_make_the_plan() {
        let dir = tempfile::tempdir().unwrap();
        let ropts = opts(
            dir.path(),
            "Host db1\n  HostName 10.0.0.9\n  User dba\n  ProxyJump bastion\n  \
             IdentityFile /k/db\n  ServerAliveInterval 15\n\
             Host bastion\n  HostName 10.0.0.5\n  Port 2222\n  IdentityFile /k/b\n  \
             StrictHostKeyChecking yes\n",
        );
        let inventory = Inventory {
            hosts: vec![Host {
                name: "db1".into(),
                user: Some("ops".into()),
                credential: Some("db/ops".into()),
                ..Host::default()
            }],
            ..Inventory::default()
        };
        let base = ConnectOptions::isolated(&dir.path().join("kh"));
        let p = plan("db1", &inventory, &ropts, &base).unwrap();
        assert_eq!(p.target.target, Target::new("ops", "10.0.0.9", 22));
        assert_eq!(
            p.target.options.identity_files,
            vec![PathBuf::from("/k/db")]
        );
        assert_eq!(p.target.options.keepalive_interval, Duration::from_secs(15));
        assert_eq!(p.target.options.credential.as_deref(), Some("db/ops"));
        assert_eq!(p.jumps.len(), 1);
        let b = &p.jumps[0];
        assert_eq!(
            (b.name.as_str(), b.addr()),
            ("bastion", "10.0.0.5:2222".into())
        );
        assert_eq!(b.target.user, "me");
        assert_eq!(b.options.identity_files, vec![PathBuf::from("/k/b")]);
        assert_eq!(
            b.options.strict_host_key_checking,
            config::StrictHostKeyChecking::Yes
        );
        assert_eq!(b.options.credential, None);
    }

    #[test]
    fn command_line_jumps_and_none() {
        let dir = tempfile::tempdir().unwrap();
        let mut ropts = opts(dir.path(), "Host t\n  ProxyJump x\n");
        let base = ConnectOptions::isolated(&dir.path().join("kh"));
        ropts.jump = Some("a,u@b:2200,c".into());
        let p = plan("t", &Inventory::default(), &ropts, &base).unwrap();
        let names: Vec<_> = p.jumps.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["a", "b", "c"]);
        assert_eq!(p.jumps[1].target, Target::new("u", "b", 2200));
        assert_eq!(p.route(), "a → b → c → t");
        ropts.jump = Some("none".into());
        let p = plan("t", &Inventory::default(), &ropts, &base).unwrap();
        assert!(p.jumps.is_empty());
    }

    #[test]
    fn first_hop_chains_and_loops() {
        let dir = tempfile::tempdir().unwrap();
        let base = ConnectOptions::isolated(&dir.path().join("kh"));
        let ropts = opts(dir.path(), "Host t\n  ProxyJump b\nHost b\n  ProxyJump a\n");
        let p = plan("t", &Inventory::default(), &ropts, &base).unwrap();
        let names: Vec<_> = p.jumps.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["a", "b"]);
        let ropts = opts(dir.path(), "Host t\n  ProxyJump b\nHost b\n  ProxyJump t\n");
        assert!(matches!(
            plan("t", &Inventory::default(), &ropts, &base),
            Err(SshError::JumpLoop { .. })
        ));
    }

    #[test]
    fn proxy_command_tokens() {
        let dir = tempfile::tempdir().unwrap();
        let base = ConnectOptions::isolated(&dir.path().join("kh"));
        let ropts = opts(
            dir.path(),
            "Host t\n  HostName 10.1.1.1\n  User u\n  ProxyCommand relay %h %p %r %n %%\n",
        );
        let p = plan("t", &Inventory::default(), &ropts, &base).unwrap();
        assert_eq!(
            p.target.proxy_command.as_deref(),
            Some("relay 10.1.1.1 22 u t %")
        );
    }
}
