//! `lumen hosts forget [-p PORT] HOST[:PORT]`: remove a host's keys from lumen's known_hosts, like
//! `ssh-keygen -R`. The user's `~/.ssh/known_hosts` is searched and reported, never edited.

use crate::paths::Paths;
use crate::ssh::Target;
use crate::ssh::known_hosts;
use clap::Args;

#[derive(Debug, Clone, Args)]
pub struct ForgetArgs {
    /// The host whose saved keys to remove, as HOST or HOST:PORT ([V6ADDR]:PORT).
    #[arg(value_name = "HOST[:PORT]")]
    pub host: String,

    /// The port whose keys to remove (as `ssh -p`), instead of `:PORT` after the host.
    #[arg(short = 'p', long, value_name = "PORT")]
    pub port: Option<u16>,
}

/// Remove the host's keys; a bad destination or an unwritable file is an error.
pub fn run(args: &ForgetArgs, paths: &Paths) -> anyhow::Result<()> {
    let target = Target::parse(&args.host, None, args.port)?;
    if let Some(p) = args.port
        && target.port != p
    {
        anyhow::bail!(
            "{} names port {} but -p says {p}; give the port once",
            args.host,
            target.port
        );
    }
    let user_file = directories::BaseDirs::new().map(|b| b.home_dir().join(".ssh/known_hosts"));
    let lumen_file = paths.known_hosts();
    let done = known_hosts::forget(&lumen_file, user_file.as_deref(), &target.host, target.port)?;
    let name = target.known_hosts_name();
    if done.removed.is_empty() {
        crate::outln!("{name}: no key saved in {}", lumen_file.display());
    } else {
        crate::outln!(
            "{name}: removed {} key(s) from {}",
            done.removed.len(),
            lumen_file.display()
        );
    }
    for (file, line) in &done.elsewhere {
        crate::outln!(
            "{name} is also in {}:{line}; lumen does not edit that file. \
             Remove it with: ssh-keygen -R '{name}'",
            file.display()
        );
    }
    Ok(())
}
