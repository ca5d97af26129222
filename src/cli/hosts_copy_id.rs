//! `lumen hosts copy-id HOST|@GROUP --key NAME`: the public half of a vault `ssh-key` entry
//! appended to each host's `~/.ssh/authorized_keys` over the current login, as `ssh-copy-id`
//! does (see `ssh::authorized_keys`). Also the host resolution the vault's key commands share.

use super::connect::{self, ConnectArgs, SshFlags};
use crate::paths::Paths;
use crate::runbook::plan::{PlanHost, Resolver};
use crate::ssh::authorized_keys::{self, Added, PublicKeyLine};
use crate::ssh::{ConnectOptions, Connector, VaultCredentials};
use crate::vault::{Action, Entry, Kind, ScopedVault, Vault, VaultOwner};
use anyhow::{Context, Result, bail};
use clap::Args;
use std::path::PathBuf;

#[derive(Debug, Clone, Args)]
pub struct CopyIdArgs {
    /// An inventory host, ssh_config alias, [USER@]HOST[:PORT], or @GROUP (each of its hosts).
    #[arg(value_name = "HOST|@GROUP", required = true)]
    pub targets: Vec<String>,
    /// The vault `ssh-key` entry whose public key to install (see `lumen vault keygen`).
    #[arg(long, value_name = "NAME")]
    pub key: String,
    /// Read the vault passphrase from the first line of a file (for scripts).
    #[arg(long, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
    #[command(flatten)]
    pub ssh: SshFlags,
}

/// The hosts `words` name, each with its route, logging in as the user does (agent, keys,
/// the inventory's vault credentials from `owner`), and the workspace's host groups.
pub(crate) struct Targets {
    pub hosts: Vec<PlanHost>,
    pub base: ConnectOptions,
}

pub(crate) fn targets(
    paths: &Paths,
    workspace: &str,
    ssh: &SshFlags,
    words: &[String],
    all: bool,
    owner: &VaultOwner,
) -> Result<Targets> {
    let inventory = crate::workspace::HostsFile::for_workspace(paths, workspace)?.load()?;
    let cargs = ConnectArgs {
        port: None,
        ssh: ssh.clone(),
        forward_agent: false,
        workspace: workspace.to_string(),
        no_tty: false,
        words: Vec::new(),
    };
    let mut base = connect::options(&cargs, paths);
    let groups = inventory
        .hosts
        .iter()
        .map(|h| (h.name.clone(), h.groups.clone()))
        .collect();
    base.credentials = Some(std::sync::Arc::new(
        VaultCredentials::new(owner.clone()).with_groups(groups),
    ));
    let resolve = connect::resolve_options(&cargs)?;
    let resolver = Resolver {
        inventory: &inventory,
        resolve: &resolve,
        base: &base,
    };
    let hosts = resolver.hosts(words, all)?;
    for w in hosts.iter().flat_map(|h| &h.ssh.warnings) {
        crate::errln!("lumen: warning: {w}");
    }
    Ok(Targets { hosts, base })
}

/// An `ssh-key` entry's public key line, or why the entry has none.
pub(crate) fn public_key(entry: &Entry) -> Result<PublicKeyLine> {
    if entry.kind != Kind::SshKey {
        bail!(
            "'{}' is a {} entry; copy-id needs an ssh-key entry (make one with 'lumen vault \
             keygen {}')",
            entry.name,
            entry.kind,
            entry.name
        );
    }
    let line = entry
        .public_key
        .as_deref()
        .with_context(|| format!("'{}' has no public key", entry.name))?;
    Ok(PublicKeyLine::parse(line)?)
}

/// Log in as the entry's user, when it names one: the key belongs in that account.
pub(crate) fn as_entry_user(host: &mut PlanHost, entry: &Entry) {
    if let Some(user) = &entry.username {
        host.ssh.target.target.user = user.clone();
    }
}

/// A multi-threaded runtime for one command.
pub(crate) fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

/// The unlocked vaults in one owner (what logins read), and which of them holds `name`.
pub(crate) fn owner_of(vaults: Vec<ScopedVault>) -> VaultOwner {
    let owner = VaultOwner::new(Vec::new());
    owner.put(vaults);
    owner
}

pub fn run(args: &CopyIdArgs, paths: &Paths, workspace: &str) -> Result<()> {
    let opened = super::ai::setup::open_vaults_because(
        paths,
        workspace,
        args.passphrase_file.as_deref(),
        "copy-id reads the key entry's public key",
        "the {scope} vault must be unlocked to read the key; give --passphrase-file FILE",
    )?;
    let owner = owner_of(
        opened
            .into_iter()
            .map(|(scope, vault)| ScopedVault { scope, vault })
            .collect(),
    );
    let entry = owner
        .with_entry(&args.key, |v: &Vault| v.get(&args.key).cloned())
        .map_err(anyhow::Error::msg)?;
    let key = public_key(&entry)?;
    let Targets { mut hosts, base } =
        targets(paths, workspace, &args.ssh, &args.targets, false, &owner)?;
    let runtime = runtime()?;
    let failed = runtime.block_on(async {
        let prompter = super::tty_prompt::terminal_prompter(|ask| ask());
        let connector = Connector::new(base, prompter);
        let mut failed = 0;
        for host in &mut hosts {
            as_entry_user(host, &entry);
            let result = authorized_keys::add(&connector, &host.ssh, &key).await;
            let said = match &result {
                Ok(Added::Added) => "added".to_string(),
                Ok(Added::AlreadyThere) => "already there (file unchanged)".to_string(),
                Err(e) => {
                    failed += 1;
                    format!("failed: {e}")
                }
            };
            crate::outln!("{}: {said}", host.name);
            let recorded = owner.with_entry(&args.key, |v: &Vault| {
                v.record_outcome(&args.key, Action::CopyId, &host.name, &said)
            });
            if let Err(e) = recorded {
                crate::errln!("lumen hosts copy-id: warning: not audited: {e}");
            }
        }
        failed
    });
    if failed > 0 {
        bail!(
            "the key was not installed on {failed} of {} hosts",
            hosts.len()
        );
    }
    Ok(())
}
