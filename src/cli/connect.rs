//! `lumen connect`: resolve each destination as `ssh` would (ssh_config merged with the
//! workspace inventory, `-J` jump chains, ProxyCommand) into a [`Plan`], and open a tab per plan
//! (running the remote command, if one is given), or with `-T` run the command over exec.

use crate::paths::Paths;
use crate::ssh::config::ResolveOptions;
use crate::ssh::{ConnectOptions, JumpPool, Plan, SshError, plan_destination};
use crate::workspace::{DEFAULT_WORKSPACE, HostsFile, Inventory};
use anyhow::Context;
use clap::Args;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Clone, Args)]
pub struct ConnectArgs {
    /// Port to connect to when a destination names none.
    #[arg(short = 'p', value_name = "PORT")]
    pub port: Option<u16>,

    #[command(flatten)]
    pub ssh: SshFlags,

    /// Forward the ssh-agent connection to the hosts.
    #[arg(short = 'A')]
    pub forward_agent: bool,

    /// The workspace whose hosts.toml names hosts.
    #[arg(long, value_name = "NAME", default_value = DEFAULT_WORKSPACE)]
    pub workspace: String,

    /// No terminal: run COMMAND over exec, print its output and exit with its status, as
    /// `ssh -T HOST COMMAND` does (one destination only).
    #[arg(short = 'T')]
    pub no_tty: bool,

    /// DEST [COMMAND…], and more with `--` between them. DEST is an inventory name, an
    /// ssh_config alias, [USER@]HOST[:PORT], or @GROUP (each host of that group).
    #[arg(
        value_name = "DEST [COMMAND…] [-- DEST [COMMAND…]]…",
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true
    )]
    pub words: Vec<String>,
}

/// The ssh flags `lumen connect`, `lumen scan` and `lumen run` share: `-i -l -J -F -o`, as
/// ssh takes them.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct SshFlags {
    /// Identity file (private key); repeat for several. Default: IdentityFile from
    /// ~/.ssh/config, else ~/.ssh/id_ed25519, id_ecdsa, id_rsa.
    #[arg(short = 'i', value_name = "KEY")]
    pub identity: Vec<PathBuf>,

    /// User to log in as when a destination names none.
    #[arg(short = 'l', value_name = "USER")]
    pub user: Option<String>,

    /// Jump hosts, first hop first: `[user@]host[:port][,…]`, or `none`.
    #[arg(short = 'J', value_name = "JUMP[,JUMP…]")]
    pub jump: Option<String>,

    /// Read this ssh config instead of ~/.ssh/config and /etc/ssh/ssh_config.
    #[arg(short = 'F', value_name = "FILE")]
    pub config: Option<PathBuf>,

    /// An ssh_config option, as `Keyword=value`; repeat for several.
    #[arg(short = 'o', value_name = "OPTION")]
    pub options: Vec<String>,
}

/// `lumen connect --help`'s closing words: the grammar, with examples.
pub const GRAMMAR: &str = "\
As with ssh, options come before the destination, and words after it are a command to run
there (in the tab, or with -T over exec). Several destinations are separated by `--`:

  lumen connect -p 2222 root@db1            a tab on db1
  lumen connect db1 uptime                  a tab running `uptime` on db1
  lumen connect -T db1 df -h                run `df -h`, print its output, exit with its status
  lumen connect db1 -- db2 -- web1 htop     three tabs, the last running htop
  lumen connect @web                        a tab per host of group web (hosts.toml)

A remote command that itself contains a `--` word is quoted as one word: 'grep -- -x f'.
Exit status: 255 when the only destination could not be connected to (as ssh); with -T,
the command's own status.";

/// One `--`-separated part of the command line: where to connect and what to run there.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Destination {
    /// As typed (or a host name from a group).
    pub dest: String,
    /// The remote command, its words joined by spaces as ssh joins them.
    pub command: Option<String>,
}

/// The words naming each of `names` with no command: `n1 -- n2 -- …`.
pub fn destination_words(names: impl IntoIterator<Item = String>) -> Vec<String> {
    let mut words = Vec::new();
    for n in names {
        if !words.is_empty() {
            words.push("--".to_string());
        }
        words.push(n);
    }
    words
}

/// Split the words after the options into destinations: `DEST [COMMAND…]`, `--` between
/// several, `@GROUP` expanded to the group's hosts in `inventory` (each runs the command).
pub fn destinations(words: &[String], inventory: &Inventory) -> Result<Vec<Destination>, SshError> {
    let mut out = Vec::new();
    for part in words.split(|w| w == "--") {
        let Some((dest, command)) = part.split_first() else {
            return Err(SshError::BadTarget {
                input: words.join(" "),
                why: "no destination before or after `--`; write DEST [COMMAND…] -- DEST …".into(),
            });
        };
        let command = (!command.is_empty()).then(|| command.join(" "));
        match dest.strip_prefix('@') {
            Some(group) => {
                let hosts: Vec<_> = inventory.filter(None, Some(group)).collect();
                if hosts.is_empty() {
                    return Err(SshError::BadTarget {
                        input: dest.clone(),
                        why: format!(
                            "no host of this workspace is in group {group:?}; see `lumen hosts list`"
                        ),
                    });
                }
                out.extend(hosts.into_iter().map(|h| Destination {
                    dest: h.name.clone(),
                    command: command.clone(),
                }));
            }
            None => out.push(Destination {
                dest: dest.clone(),
                command,
            }),
        }
    }
    Ok(out)
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
    if let Some(j) = &args.ssh.jump {
        check_jump(j)?;
    }
    Ok(ResolveOptions {
        user: args.ssh.user.clone(),
        port: args.port,
        jump: args.ssh.jump.clone(),
        overrides: args
            .ssh
            .options
            .iter()
            .map(|o| option_pair(o))
            .collect::<Result<_, _>>()?,
        config_file: args.ssh.config.clone(),
        ..ResolveOptions::from_env()
    })
}

/// Connection options for these flags on top of the user's environment.
pub fn options(args: &ConnectArgs, paths: &Paths) -> ConnectOptions {
    with_flags(args, ConnectOptions::from_env(paths))
}

/// `-i` and `-A` on top of `opts`.
fn with_flags(args: &ConnectArgs, mut opts: ConnectOptions) -> ConnectOptions {
    opts.identity_files = args.ssh.identity.clone();
    opts.forward_agent = args.forward_agent;
    opts
}

/// One plan per destination, in order, each with its remote command; the first bad one is an
/// error.
pub fn plans(
    args: &ConnectArgs,
    inventory: &Inventory,
    resolve: &ResolveOptions,
    base: &ConnectOptions,
) -> Result<Vec<Plan>, SshError> {
    destinations(&args.words, inventory)?
        .into_iter()
        .map(|d| {
            let mut p = plan_destination(&d.dest, inventory, resolve, base)?;
            p.command = d.command;
            Ok(p)
        })
        .collect()
}

/// The workspace inventory; a broken hosts.toml is reported and ignored, an unknown
/// workspace (a typo) is an error.
fn inventory(
    paths: &Paths,
    workspace: &str,
) -> Result<Inventory, crate::workspace::InventoryError> {
    let file = HostsFile::existing(paths, workspace)?;
    Ok(match file.load() {
        Ok(inv) => inv,
        Err(e) => {
            crate::errln!("lumen connect: {e}; using ssh_config only");
            Inventory::default()
        }
    })
}

/// Open the TUI with a tab per destination, or with `-T` run the command over exec.
/// `lumen connect`: checks the destinations here (usage errors exit 2, as ssh's), runs `-T`
/// over exec, and otherwise starts the tabs with `tabs` (a session in the server).
pub fn run(
    args: &ConnectArgs,
    paths: Paths,
    tabs: impl FnOnce() -> ExitCode,
) -> anyhow::Result<ExitCode> {
    let usage = |e: &dyn std::fmt::Display| {
        crate::errln!("lumen connect: {e}");
        Ok(ExitCode::from(2))
    };
    let base = options(args, &paths);
    let inventory = match inventory(&paths, &args.workspace) {
        Ok(i) => i,
        Err(e) => return usage(&e),
    };
    let resolve = match resolve_options(args) {
        Ok(r) => r,
        Err(e) => return usage(&e),
    };
    let planned = match plans(args, &inventory, &resolve, &base) {
        Ok(p) => p,
        Err(e) => return usage(&e),
    };
    if args.no_tty {
        return match planned.as_slice() {
            [plan] => match &plan.command {
                Some(command) => {
                    warn(&planned);
                    run_exec(plan, command)
                }
                None => usage(&"-T needs a command to run: lumen connect -T HOST COMMAND…"),
            },
            _ => usage(&"-T runs a command on one destination; give one DEST COMMAND…"),
        };
    }
    warn(&planned);
    Ok(tabs())
}

/// What a session started by `lumen connect` opens: a tab per destination. `adjust` changes
/// the connection options before planning (the server makes the agent follow its clients).
pub fn tab_options(
    args: &ConnectArgs,
    paths: Paths,
    theme: Option<String>,
    adjust: &dyn Fn(&mut ConnectOptions),
) -> Result<crate::app::RunOptions, String> {
    let mut base = options(args, &paths);
    adjust(&mut base);
    let inventory = inventory(&paths, &args.workspace).map_err(|e| e.to_string())?;
    let resolve = resolve_options(args).map_err(|e| e.to_string())?;
    let planned = plans(args, &inventory, &resolve, &base).map_err(|e| e.to_string())?;
    Ok(run_tabs(paths, theme, planned, resolve, base))
}

fn warn(planned: &[Plan]) {
    for w in planned.iter().flat_map(|p| &p.warnings) {
        crate::errln!("lumen connect: warning: {w}");
    }
}

/// `ssh -T HOST COMMAND`: the command's output as it comes, then its exit status; 255 when
/// the connection fails or the command ends without a status (killed by a signal).
fn run_exec(plan: &Plan, command: &str) -> anyhow::Result<ExitCode> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let failed = ExitCode::from(crate::app::SSH_FAILED);
    runtime.block_on(async {
        let prompter = super::tty_prompt::terminal_prompter(|ask| ask());
        let conn = match JumpPool::new().connect(plan, &prompter).await {
            Ok(c) => c,
            Err(e) => {
                crate::errln!("lumen connect: {}: {e}", plan.target.name);
                return Ok(failed);
            }
        };
        let (mut stdout, mut stderr) = (std::io::stdout(), std::io::stderr());
        let status = crate::ssh::exec_streaming(&conn, command, |to_stderr, data| {
            // A closed stdout (a pipe into `head`) is not lumen's error; the command goes on.
            let _ = if to_stderr {
                stderr.write_all(data)
            } else {
                stdout.write_all(data).and_then(|()| stdout.flush())
            };
        })
        .await;
        conn.disconnect().await;
        Ok(match status {
            Ok(Some(s)) => u8::try_from(s).map_or(failed, ExitCode::from),
            Ok(None) => failed,
            Err(e) => {
                crate::errln!("lumen connect: {}: {e}", plan.target.name);
                failed
            }
        })
    })
}

/// The TUI's options with a tab per plan.
fn run_tabs(
    paths: Paths,
    theme: Option<String>,
    planned: Vec<Plan>,
    resolve: ResolveOptions,
    base: ConnectOptions,
) -> crate::app::RunOptions {
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
    opts.host_names = planned.iter().map(|p| p.target.name.clone()).collect();
    opts.exit_255_if_unconnected = planned.len() == 1;
    opts
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
            &[
                "x",
                "-p",
                "2200",
                "-l",
                "bob",
                "-A",
                "db1",
                "--",
                "alice@db2:22",
            ],
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

    fn words(argv: &[&str]) -> Vec<Destination> {
        let t = T::try_parse_from(argv).unwrap();
        let mut inv = Inventory::default();
        for (name, group) in [("w1", "web"), ("db9", "db"), ("w2", "web")] {
            inv.hosts.push(crate::workspace::Host {
                name: name.into(),
                groups: vec![group.into()],
                ..Default::default()
            });
        }
        destinations(&t.args.words, &inv).unwrap()
    }

    fn dest(d: &str, command: Option<&str>) -> Destination {
        Destination {
            dest: d.into(),
            command: command.map(Into::into),
        }
    }

    #[test]
    fn words_after_the_destination_are_a_remote_command_as_with_ssh() {
        let t = T::try_parse_from(["x", "-p", "2222", "root@h", "uptime"]).unwrap();
        assert_eq!(t.args.port, Some(2222));
        assert_eq!(
            words(&["x", "-p", "2222", "root@h", "uptime"]),
            [dest("root@h", Some("uptime"))]
        );
        // Dashes after the destination belong to the command, not to lumen.
        assert_eq!(
            words(&["x", "h", "ls", "-l", "/tmp"]),
            [dest("h", Some("ls -l /tmp"))]
        );
        let t = T::try_parse_from(["x", "-T", "h", "df", "-h"]).unwrap();
        assert!(t.args.no_tty);
        assert_eq!(words(&["x", "h"]), [dest("h", None)]);
    }

    #[test]
    fn several_destinations_are_separated_by_double_dashes_or_a_group() {
        assert_eq!(
            words(&["x", "h1", "--", "h2", "--", "h3", "top", "-d", "1"]),
            [
                dest("h1", None),
                dest("h2", None),
                dest("h3", Some("top -d 1"))
            ]
        );
        assert_eq!(
            words(&["x", "-p", "22", "--", "h1", "--", "h2"]),
            [dest("h1", None), dest("h2", None)]
        );
        assert_eq!(
            words(&["x", "@web", "uptime", "--", "db9"]),
            [
                dest("w1", Some("uptime")),
                dest("w2", Some("uptime")),
                dest("db9", None)
            ]
        );
        let t = T::try_parse_from(["x", "h1", "--", "--", "h2"]).unwrap();
        assert!(destinations(&t.args.words, &Inventory::default()).is_err());
        let t = T::try_parse_from(["x", "@nogroup"]).unwrap();
        let e = destinations(&t.args.words, &Inventory::default()).unwrap_err();
        assert!(e.to_string().contains("group \"nogroup\""), "{e}");
        assert!(T::try_parse_from(["x"]).is_err());
    }

    #[test]
    fn bad_destination_is_an_error() {
        assert!(planned(&["x", "db1:notaport"], "").is_err());
        assert!(planned(&["x", "-o", "=x", "db1"], "").is_err());
    }
}
