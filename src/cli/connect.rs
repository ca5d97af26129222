//! `lumen connect`: resolve each destination as `ssh` would (ssh_config merged with the
//! workspace inventory, `-J` jump chains, ProxyCommand) into a [`Plan`], and open a tab per plan.

use crate::paths::Paths;
use crate::ssh::config::ResolveOptions;
use crate::ssh::{ConnectOptions, Plan, SshError, plan_destination};
use crate::workspace::{DEFAULT_WORKSPACE, HostsFile, Inventory};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Clone, Args)]
pub struct ConnectArgs {
    /// Port to connect to when a destination names none.
    #[arg(short = 'p', value_name = "PORT")]
    pub port: Option<u16>,

    /// Identity file (private key); repeat for several. Default: IdentityFile from
    /// ~/.ssh/config, else ~/.ssh/id_ed25519, id_ecdsa, id_rsa.
    #[arg(short = 'i', value_name = "KEY")]
    pub identity: Vec<PathBuf>,

    /// User to log in as when a destination names none.
    #[arg(short = 'l', value_name = "USER")]
    pub user: Option<String>,

    /// Forward the ssh-agent connection to the hosts.
    #[arg(short = 'A')]
    pub forward_agent: bool,

    /// Jump hosts, first hop first: `[user@]host[:port][,…]`, or `none`.
    #[arg(short = 'J', value_name = "JUMP[,JUMP…]")]
    pub jump: Option<String>,

    /// Read this ssh config instead of ~/.ssh/config and /etc/ssh/ssh_config.
    #[arg(short = 'F', value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// An ssh_config option, as `Keyword=value`; repeat for several.
    #[arg(short = 'o', value_name = "OPTION")]
    pub options: Vec<String>,

    /// The workspace whose hosts.toml names hosts.
    #[arg(long, value_name = "NAME", default_value = DEFAULT_WORKSPACE)]
    pub workspace: String,

    /// One tab per destination: an inventory name, an ssh_config alias or an address.
    #[arg(value_name = "[USER@]HOST[:PORT]", required = true)]
    pub destinations: Vec<String>,
}

/// `-o Keyword=value` (or `Keyword value`) as a pair.
fn option_pair(o: &str) -> Result<(String, String), SshError> {
    let o = o.trim();
    let split = o
        .split_once('=')
        .or_else(|| o.split_once(char::is_whitespace));
    match split {
        Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.trim().to_string())),
        _ => Err(SshError::BadTarget {
            input: o.to_string(),
            why: "-o takes Keyword=value, e.g. -o ServerAliveInterval=30".into(),
        }),
    }
}

/// `-J`'s hops must parse, and name hosts and users ssh would accept; ssh refuses a bad `-J`
/// rather than connecting without it.
fn check_jump(jump: &str) -> Result<(), SshError> {
    if jump == "none" {
        return Ok(());
    }
    let bad = |why: String| SshError::BadTarget {
        input: jump.to_string(),
        why: format!("-J {why}; use [user@]host[:port][,…] or none"),
    };
    for hop in jump.split(',') {
        let h = crate::ssh::config::parse_hop(hop).map_err(bad)?;
        crate::ssh::names::check_hostname(&h.host).map_err(bad)?;
        if let Some(u) = &h.user {
            crate::ssh::names::check_user(u).map_err(bad)?;
        }
    }
    Ok(())
}

/// How to resolve each destination: the flags over the user's environment.
pub fn resolve_options(args: &ConnectArgs) -> Result<ResolveOptions, SshError> {
    if let Some(j) = &args.jump {
        check_jump(j)?;
    }
    Ok(ResolveOptions {
        user: args.user.clone(),
        port: args.port,
        jump: args.jump.clone(),
        overrides: args
            .options
            .iter()
            .map(|o| option_pair(o))
            .collect::<Result<_, _>>()?,
        config_file: args.config.clone(),
        ..ResolveOptions::from_env()
    })
}

/// Connection options for these flags on top of the user's environment.
pub fn options(args: &ConnectArgs, paths: &Paths) -> ConnectOptions {
    with_flags(args, ConnectOptions::from_env(paths))
}

/// `-i` and `-A` on top of `opts`.
fn with_flags(args: &ConnectArgs, mut opts: ConnectOptions) -> ConnectOptions {
    opts.identity_files = args.identity.clone();
    opts.forward_agent = args.forward_agent;
    opts
}

/// One plan per destination, in order; the first bad one is an error.
pub fn plans(
    args: &ConnectArgs,
    inventory: &Inventory,
    resolve: &ResolveOptions,
    base: &ConnectOptions,
) -> Result<Vec<Plan>, SshError> {
    args.destinations
        .iter()
        .map(|d| plan_destination(d, inventory, resolve, base))
        .collect()
}

/// The workspace inventory; a broken hosts.toml is reported and ignored.
fn inventory(paths: &Paths, workspace: &str) -> Inventory {
    let file = match HostsFile::for_workspace(paths, workspace) {
        Ok(f) => f,
        Err(e) => {
            crate::errln!("lumen connect: {e}");
            return Inventory::default();
        }
    };
    match file.load() {
        Ok(inv) => inv,
        Err(e) => {
            crate::errln!("lumen connect: {e}; using ssh_config only");
            Inventory::default()
        }
    }
}

/// Open the TUI with a tab per destination.
pub fn run(args: &ConnectArgs, paths: Paths, theme: Option<String>) -> anyhow::Result<ExitCode> {
    let base = options(args, &paths);
    let inventory = inventory(&paths, &args.workspace);
    let resolve = match resolve_options(args) {
        Ok(r) => r,
        Err(e) => {
            crate::errln!("lumen connect: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let planned = match plans(args, &inventory, &resolve, &base) {
        Ok(p) => p,
        Err(e) => {
            crate::errln!("lumen connect: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    for w in planned.iter().flat_map(|p| &p.warnings) {
        crate::errln!("lumen connect: warning: {w}");
    }
    let mut opts = crate::app::RunOptions::new(
        paths.clone(),
        theme,
        planned
            .iter()
            .map(|p| crate::app::PaneSpec::Ssh {
                name: p.target.name.clone(),
                target: p.target.target.clone(),
                plan: Some(std::sync::Arc::new(p.clone())),
            })
            .collect(),
    );
    opts.connect = base;
    // Tabs opened later read the same config files and -o options (not -l/-p/-J, which name
    // these destinations only, as with ssh).
    opts.resolve = Some(ResolveOptions {
        user: None,
        port: None,
        jump: None,
        ..resolve
    });
    opts.host_names = args.destinations.clone();
    crate::app::run(opts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ssh::Target;
    use clap::Parser;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        args: ConnectArgs,
    }

    fn planned(argv: &[&str], config: &str) -> Result<Vec<Plan>, SshError> {
        let t = T::parse_from(argv);
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config");
        std::fs::write(&file, config).unwrap();
        let r = ResolveOptions {
            config_file: Some(file),
            home_dir: dir.path().to_path_buf(),
            local_user: "me".into(),
            ..resolve_options(&t.args)?
        };
        let base = with_flags(&t.args, ConnectOptions::isolated(&dir.path().join("kh")));
        plans(&t.args, &Inventory::default(), &r, &base)
    }

    #[test]
    fn flags_are_fallbacks_for_each_destination() {
        let p = planned(
            &["x", "-p", "2200", "-l", "bob", "-A", "db1", "alice@db2:22"],
            "",
        )
        .unwrap();
        assert_eq!(p[0].target.target, Target::new("bob", "db1", 2200));
        assert_eq!(p[1].target.target.host, "db2");
        assert_eq!(p[1].target.target.port, 22);
        assert!(p[0].target.options.forward_agent);
        assert_eq!(p[1].target.name, "alice@db2:22");
    }

    #[test]
    fn ssh_config_and_jumps_resolve_like_ssh() {
        let config = "Host db1\n  HostName 10.0.0.9\n  User dba\n  Port 2022\n";
        let p = planned(&["x", "-J", "ops@bastion:2222,b2", "db1"], config).unwrap();
        assert_eq!(p[0].target.target, Target::new("dba", "10.0.0.9", 2022));
        let hops: Vec<_> = p[0].jumps.iter().map(|h| h.target.to_string()).collect();
        assert_eq!(hops, ["ops@bastion:2222", "me@b2"]);
        let p = planned(&["x", "-o", "User=root", "db1"], config).unwrap();
        assert_eq!(p[0].target.target.user, "root");
    }

    #[test]
    fn bad_destination_is_an_error() {
        assert!(planned(&["x", "db1:notaport"], "").is_err());
        assert!(planned(&["x", "-o", "=x", "db1"], "").is_err());
    }
}
