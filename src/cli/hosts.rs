//! `lumen hosts …`: the inventory (list/add/edit/rm/show/import) and `resolve`, what lumen would
//! connect to (or, with `--ssh-only`, an `ssh -G`).

use crate::paths::Paths;
use crate::ssh::config::{self, ResolveOptions, Resolved};
use crate::workspace::{DEFAULT_WORKSPACE, Host, HostsFile, Inventory, InventoryError};
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct HostsArgs {
    /// Workspace whose hosts.toml to use.
    #[arg(long, global = true, value_name = "NAME", default_value = DEFAULT_WORKSPACE)]
    pub workspace: String,

    #[command(subcommand)]
    pub command: HostsCommand,
}

#[derive(Debug, Subcommand)]
pub enum HostsCommand {
    /// Remove a host's saved keys from lumen's known_hosts (like `ssh-keygen -R`).
    Forget(super::hosts_forget::ForgetArgs),
    /// Append a vault ssh-key entry's public key to each host's ~/.ssh/authorized_keys over
    /// the current login, as ssh-copy-id does (~/.ssh 0700 and the file 0600 when missing,
    /// modes kept, no duplicate line); reports each host. Audited.
    CopyId(super::hosts_copy_id::CopyIdArgs),
    /// List hosts (optionally only those with a tag and/or in a group).
    List {
        #[arg(long)]
        json: bool,
        #[arg(long, value_name = "T")]
        tag: Option<String>,
        #[arg(long, value_name = "G")]
        group: Option<String>,
    },
    /// Add a host.
    Add {
        /// Name used in lumen (letters, digits, '.', '-', '_').
        name: String,
        #[command(flatten)]
        fields: HostFields,
    },
    /// Change a host: given values replace the old ones (lists are replaced whole).
    Edit {
        /// Name of the host to change.
        name: String,
        #[command(flatten)]
        fields: HostFields,
        /// Unset a field: hostname, port, user, jump, credential, tags, groups, notes, options.
        #[arg(long, value_name = "FIELD")]
        clear: Vec<String>,
    },
    /// Remove a host.
    Rm { name: String },
    /// Show a host and how lumen would connect to it (inventory merged with ssh_config).
    Show {
        name: String,
        #[arg(long)]
        json: bool,
    },
    /// Import every concrete Host alias of ~/.ssh/config (or FILE), or with `--format ansible`
    /// an Ansible inventory (INI, or YAML when named .yml/.yaml); re-importing updates.
    Import {
        file: Option<PathBuf>,
        #[arg(long, value_enum, default_value = "ssh-config")]
        format: ImportFormat,
    },
    /// Print the inventory for another tool. `--format ansible`: the JSON of an Ansible
    /// inventory script (`--list`, the default, or `--host NAME`); `--format ansible-yaml`: a
    /// static YAML inventory. Values are resolved as OpenSSH would (ssh_config under
    /// hosts.toml), jump chains become ProxyJump, tags become groups `tag_TAG`. No secret.
    Export {
        #[arg(long, value_enum)]
        format: ExportFormat,
        /// Every host and group (what `ansible-inventory` asks an inventory script).
        #[arg(long, conflicts_with = "host")]
        list: bool,
        /// One host's variables.
        #[arg(long, value_name = "NAME")]
        host: Option<String>,
        #[arg(long, value_name = "T")]
        tag: Option<String>,
        #[arg(long, value_name = "G")]
        group: Option<String>,
    },
    /// Print what `lumen connect [USER@]HOST` would use, as `ssh -G` lines: the workspace's
    /// hosts.toml over ssh_config. With --ssh-only, ssh_config alone (exactly `ssh -G`).
    Resolve {
        #[arg(value_name = "[USER@]HOST[:PORT]")]
        target: String,
        /// Ignore the workspace's hosts.toml: what `ssh -G` prints.
        #[arg(long)]
        ssh_only: bool,
        /// Read this file instead of ~/.ssh/config and /etc/ssh/ssh_config (ssh -F).
        #[arg(long, value_name = "FILE")]
        ssh_config: Option<PathBuf>,
        /// Port (ssh -p).
        #[arg(short, long)]
        port: Option<u16>,
        /// Jump hosts, comma-separated (ssh -J).
        #[arg(short = 'J', long, value_name = "JUMP")]
        jump: Option<String>,
        /// Remote user (ssh -l); wins over USER@ and User.
        #[arg(short = 'l', long)]
        login: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ImportFormat {
    /// An ssh_config file's concrete Host aliases.
    SshConfig,
    /// An Ansible inventory, INI or YAML.
    Ansible,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ExportFormat {
    /// The JSON of an Ansible inventory script (`--list` / `--host NAME`).
    Ansible,
    /// A static Ansible inventory in YAML.
    AnsibleYaml,
}

/// Values of a host given on the command line.
#[derive(Debug, Args, Default)]
pub struct HostFields {
    /// Address or DNS name to connect to (default: the host's name, through ssh_config).
    #[arg(long, value_name = "H")]
    pub hostname: Option<String>,
    /// SSH port.
    #[arg(long, value_name = "P")]
    pub port: Option<u16>,
    /// Remote user.
    #[arg(long, value_name = "U")]
    pub user: Option<String>,
    /// Jump host, first hop first (repeat for a chain): a host name or [user@]host[:port].
    #[arg(long, value_name = "J")]
    pub jump: Vec<String>,
    /// Vault entry holding this host's password or key.
    #[arg(long, value_name = "C")]
    pub credential: Option<String>,
    /// Tag (repeat for several).
    #[arg(long, value_name = "T")]
    pub tag: Vec<String>,
    /// Group (repeat for several).
    #[arg(long, value_name = "G")]
    pub group: Vec<String>,
    /// Free-text notes.
    #[arg(long, value_name = "N")]
    pub notes: Option<String>,
    /// Seconds between keepalives.
    #[arg(long, value_name = "SECONDS")]
    pub keepalive: Option<u32>,
    /// Forward the SSH agent to this host.
    #[arg(long, value_name = "yes|no", value_parser = parse_yes_no)]
    pub forward_agent: Option<bool>,
    /// Private key file (repeat for several).
    #[arg(long, value_name = "FILE")]
    pub identity_file: Vec<String>,
}

fn parse_yes_no(s: &str) -> Result<bool, String> {
    match s.to_ascii_lowercase().as_str() {
        "yes" | "true" => Ok(true),
        "no" | "false" => Ok(false),
        _ => Err("expected yes or no".into()),
    }
}

impl HostFields {
    fn apply(self, h: &mut Host) {
        let set = |slot: &mut Option<String>, v: Option<String>| {
            if v.is_some() {
                *slot = v;
            }
        };
        set(&mut h.hostname, self.hostname);
        set(&mut h.user, self.user);
        set(&mut h.credential, self.credential);
        set(&mut h.notes, self.notes);
        if self.port.is_some() {
            h.port = self.port;
        }
        let replace = |slot: &mut Vec<String>, v: Vec<String>| {
            if !v.is_empty() {
                *slot = v;
            }
        };
        replace(&mut h.jump, self.jump);
        replace(&mut h.tags, self.tag);
        replace(&mut h.groups, self.group);
        replace(&mut h.options.identity_file, self.identity_file);
        if self.keepalive.is_some() {
            h.options.keepalive_interval = self.keepalive;
        }
        if self.forward_agent.is_some() {
            h.options.forward_agent = self.forward_agent;
        }
    }
}

fn clear_field(h: &mut Host, field: &str) -> Result<()> {
    match field {
        "hostname" => h.hostname = None,
        "port" => h.port = None,
        "user" => h.user = None,
        "jump" => h.jump.clear(),
        "credential" => h.credential = None,
        "tags" => h.tags.clear(),
        "groups" => h.groups.clear(),
        "notes" => h.notes = None,
        "options" => h.options = Default::default(),
        other => bail!(
            "cannot clear {other:?}; fields: hostname, port, user, jump, credential, tags, groups, notes, options"
        ),
    }
    Ok(())
}

pub fn run(args: HostsArgs, paths: &Paths) -> ExitCode {
    match dispatch(args, paths) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            crate::errln!("lumen hosts: {}", crate::text::error_chain(e.as_ref()));
            ExitCode::FAILURE
        }
    }
}

fn dispatch(args: HostsArgs, paths: &Paths) -> Result<()> {
    // Adding or importing hosts creates a workspace; everything else reads one, so a misspelt
    // name is an error rather than an empty list.
    let creates = matches!(
        args.command,
        HostsCommand::Add { .. }
            | HostsCommand::Import { .. }
            | HostsCommand::Forget(_)
            | HostsCommand::CopyId(_)
    );
    let file = if creates {
        HostsFile::for_workspace(paths, &args.workspace)?
    } else {
        HostsFile::existing(paths, &args.workspace)?
    };
    match args.command {
        HostsCommand::Forget(forget) => super::hosts_forget::run(&forget, paths)?,
        HostsCommand::CopyId(copy) => super::hosts_copy_id::run(&copy, paths, &args.workspace)?,
        HostsCommand::List { json, tag, group } => list(&file.load()?, json, tag, group)?,
        HostsCommand::Add { name, fields } => file.update(|inv, ed| {
            if inv.get(&name).is_some() {
                return Err(InventoryError::Duplicate(name.clone()));
            }
            let mut h = Host {
                name: name.clone(),
                ..Host::default()
            };
            fields.apply(&mut h);
            ed.put(&h)?;
            crate::outln!("added {name}");
            Ok(())
        })?,
        HostsCommand::Edit {
            name,
            fields,
            clear,
        } => {
            // Read-modify-write inside the lock, so a concurrent edit is never lost.
            file.update(|inv, ed| {
                let mut h = inv
                    .get(&name)
                    .cloned()
                    .ok_or_else(|| InventoryError::UnknownHost(name.clone()))?;
                for c in &clear {
                    clear_field(&mut h, c).map_err(|e| InventoryError::Rejected(e.to_string()))?;
                }
                fields.apply(&mut h);
                ed.put(&h)
            })?;
            crate::outln!("updated {name}");
        }
        HostsCommand::Rm { name } => file.update(|_, ed| {
            if !ed.remove(&name)? {
                return Err(InventoryError::UnknownHost(name.clone()));
            }
            crate::outln!("removed {name}");
            Ok(())
        })?,
        HostsCommand::Show { name, json } => show(&file.load()?, &name, json)?,
        HostsCommand::Import {
            file: source,
            format,
        } => import(&file, source, format)?,
        HostsCommand::Export {
            format,
            list: _,
            host,
            tag,
            group,
        } => export(&file.load()?, format, host, tag, group)?,
        HostsCommand::Resolve {
            target,
            ssh_only,
            ssh_config,
            port,
            jump,
            login,
        } => {
            let opts = ResolveOptions {
                user: login,
                port,
                jump,
                config_file: ssh_config,
                ..ResolveOptions::from_env()
            };
            let r = if ssh_only {
                config::resolve(&target, &opts)?
            } else {
                resolve_as_connect(&target, &file.load()?, opts)?
            };
            print_warnings(&r);
            print!("{}", crate::text::escape_lines(&r.to_ssh_g()));
        }
    }
    Ok(())
}

/// What `lumen connect TARGET` resolves: `:PORT` as lumen's `-p`, the inventory over
/// ssh_config ([`crate::ssh::plan_destination`] does the same). An unreadable ssh config is an
/// error here, as with `ssh -G`, where connecting would warn and use the defaults.
fn resolve_as_connect(target: &str, inv: &Inventory, opts: ResolveOptions) -> Result<Resolved> {
    let (name, port) = crate::ssh::split_port(target)?;
    let opts = ResolveOptions {
        port: port.or(opts.port),
        ..opts
    };
    config::resolve(&name, &opts)?;
    Ok(config::effective(&name, inv, &opts))
}

fn print_warnings(r: &Resolved) {
    for w in &r.warnings {
        crate::errln!("warning: {w}");
    }
}

fn list(inv: &Inventory, json: bool, tag: Option<String>, group: Option<String>) -> Result<()> {
    let hosts: Vec<&Host> = inv.filter(tag.as_deref(), group.as_deref()).collect();
    if json {
        crate::outln!("{}", serde_json::to_string_pretty(&hosts)?);
        return Ok(());
    }
    if hosts.is_empty() {
        crate::outln!(
            "no hosts; add one with `lumen hosts add NAME --hostname H` or `lumen hosts import`"
        );
    }
    for h in hosts {
        let mut target = String::new();
        if let Some(u) = &h.user {
            target.push_str(u);
            target.push('@');
        }
        target.push_str(h.hostname.as_deref().unwrap_or(&h.name));
        if let Some(p) = h.port {
            target.push_str(&format!(":{p}"));
        }
        let mut line = format!("{:<20} {target}", h.name);
        if !h.jump.is_empty() {
            line.push_str(&format!("  via {}", h.jump.join(",")));
        }
        if !h.groups.is_empty() {
            line.push_str(&format!("  groups: {}", h.groups.join(",")));
        }
        if !h.tags.is_empty() {
            line.push_str(&format!("  tags: {}", h.tags.join(",")));
        }
        crate::outln!("{line}");
    }
    Ok(())
}

fn show(inv: &Inventory, name: &str, json: bool) -> Result<()> {
    let host = inv
        .get(name)
        .ok_or_else(|| InventoryError::UnknownHost(name.to_string()))?;
    let r = config::effective(name, inv, &ResolveOptions::from_env());
    if json {
        let effective: serde_json::Map<String, serde_json::Value> = config::SSH_G_KEYWORDS
            .iter()
            .map(|k| (k.to_string(), serde_json::json!(r.ssh_g_values(k))))
            .collect();
        let warnings: Vec<String> = r.warnings.iter().map(ToString::to_string).collect();
        let out = serde_json::json!({ "host": host, "effective": effective, "warnings": warnings });
        crate::outln!("{}", serde_json::to_string_pretty(&out)?);
        return Ok(());
    }
    let text = toml::to_string(host).context("formatting the host")?;
    crate::outln!("# {name} (hosts.toml)\n{text}");
    crate::outln!("# effective (inventory over ssh_config)");
    print!("{}", crate::text::escape_lines(&r.to_ssh_g()));
    print_warnings(&r);
    Ok(())
}

/// `hosts export`: an Ansible inventory on stdout.
fn export(
    inv: &Inventory,
    format: ExportFormat,
    host: Option<String>,
    tag: Option<String>,
    group: Option<String>,
) -> Result<()> {
    let hosts = inv.filter(tag.as_deref(), group.as_deref());
    let out = crate::workspace::ansible::export(inv, hosts, &ResolveOptions::from_env());
    for w in &out.warnings {
        crate::errln!("warning: {w}");
    }
    let text = match (format, host) {
        (ExportFormat::Ansible, Some(name)) => {
            let vars = out
                .host_json(&name)
                .ok_or_else(|| InventoryError::UnknownHost(name.clone()))?;
            serde_json::to_string_pretty(&vars)?
        }
        (ExportFormat::Ansible, None) => serde_json::to_string_pretty(&out.to_list_json())?,
        (ExportFormat::AnsibleYaml, Some(_)) => {
            bail!(
                "--host is for --format ansible (an inventory script); ansible-yaml is a whole file"
            )
        }
        (ExportFormat::AnsibleYaml, None) => out.to_yaml().context("writing the YAML")?,
    };
    crate::outln!("{}", crate::text::escape_json_controls(text.trim_end()));
    Ok(())
}

fn import(file: &HostsFile, source: Option<PathBuf>, format: ImportFormat) -> Result<()> {
    let opts = ResolveOptions::from_env();
    let report = match format {
        ImportFormat::Ansible => {
            let source = source.context(
                "name the inventory to import: `lumen hosts import --format ansible FILE`",
            )?;
            let report = crate::workspace::import_ansible(file, &source)?;
            print_import(&report, &source);
            return Ok(());
        }
        ImportFormat::SshConfig => {
            let source = source.unwrap_or_else(|| opts.home_dir.join(".ssh").join("config"));
            if !source.exists() {
                bail!(
                    "{} does not exist; name the ssh config to import: `lumen hosts import FILE`",
                    source.display()
                );
            }
            (crate::workspace::import(file, &source, &opts)?, source)
        }
    };
    print_import(&report.0, &report.1);
    Ok(())
}

fn print_import(report: &crate::workspace::ImportReport, source: &std::path::Path) {
    for w in &report.warnings {
        crate::errln!("warning: {w}");
    }
    for name in &report.added {
        crate::outln!("added      {name}");
    }
    for (name, changes) in &report.changed {
        crate::outln!("changed    {name}: {}", changes.join(", "));
    }
    for name in &report.unchanged {
        crate::outln!("unchanged  {name}");
    }
    for s in &report.skipped {
        crate::outln!("skipped    {s}");
    }
    crate::outln!(
        "{} added, {} changed, {} unchanged, {} skipped (from {})",
        report.added.len(),
        report.changed.len(),
        report.unchanged.len(),
        report.skipped.len(),
        source.display()
    );
}
