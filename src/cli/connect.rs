//! `lumen connect`: parse `[USER@]HOST[:PORT]…` and the ssh-like flags into targets and
//! connection options. The TUI part (a tab per target) is wired by the app.

use crate::paths::Paths;
use crate::ssh::{ConnectOptions, SshError, Target};
use clap::Args;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Clone, Args)]
pub struct ConnectArgs {
    /// Port to connect to when a destination names none.
    #[arg(short = 'p', value_name = "PORT")]
    pub port: Option<u16>,

    /// Identity file (private key); repeat for several. Default: ~/.ssh/id_ed25519, id_ecdsa,
    /// id_rsa.
    #[arg(short = 'i', value_name = "KEY")]
    pub identity: Vec<PathBuf>,

    /// User to log in as when a destination names none.
    #[arg(short = 'l', value_name = "USER")]
    pub user: Option<String>,

    /// Forward the ssh-agent connection to the hosts.
    #[arg(short = 'A')]
    pub forward_agent: bool,

    /// One tab per destination.
    #[arg(value_name = "[USER@]HOST[:PORT]", required = true)]
    pub destinations: Vec<String>,
}

/// The destinations as targets, in order; the first bad one is an error.
pub fn targets(args: &ConnectArgs) -> Result<Vec<Target>, SshError> {
    args.destinations
        .iter()
        .map(|d| Target::parse(d, args.user.as_deref(), args.port))
        .collect()
}

/// Connection options for these flags on top of the user's environment.
pub fn options(args: &ConnectArgs, paths: &Paths) -> ConnectOptions {
    let mut opts = ConnectOptions::from_env(paths);
    opts.identity_files = args.identity.clone();
    opts.forward_agent = args.forward_agent;
    opts
}

/// Open the TUI with a tab per destination.
pub fn run(args: &ConnectArgs, paths: Paths, theme: Option<String>) -> anyhow::Result<ExitCode> {
    let targets = match targets(args) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("lumen connect: {e}");
            return Ok(ExitCode::from(2));
        }
    };
    let mut opts = crate::app::RunOptions::new(
        paths.clone(),
        theme,
        targets
            .iter()
            .zip(&args.destinations)
            .map(|(target, name)| crate::app::PaneSpec::Ssh {
                name: name.clone(),
                target: target.clone(),
            })
            .collect(),
    );
    opts.connect = options(args, &paths);
    opts.host_names = args.destinations.clone();
    crate::app::run(opts)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Parser)]
    struct T {
        #[command(flatten)]
        args: ConnectArgs,
    }

    #[test]
    fn flags_are_fallbacks_for_each_destination() {
        let t = T::parse_from(["x", "-p", "2200", "-l", "bob", "-A", "db1", "alice@db2:22"]);
        let targets = targets(&t.args).unwrap();
        assert_eq!(targets[0], Target::new("bob", "db1", 2200));
        assert_eq!(targets[1], Target::new("alice", "db2", 22));
        assert!(t.args.forward_agent);
    }

    #[test]
    fn bad_destination_is_an_error() {
        let t = T::parse_from(["x", "db1:notaport"]);
        assert!(targets(&t.args).is_err());
    }
}
