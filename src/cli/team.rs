//! `lumen team …`: the team vault's members (init, add, remove, members, member-text, verify,
//! rekey) and git's merge driver for its files. Entries are changed with `lumen vault …
//! --scope team`.

mod merge;

use crate::cli::vault::input::{first_line_of_file, prompt_hidden};
use crate::paths::Paths;
use crate::vault::team::{self, Member, MyKey, TeamDir};
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use secrecy::SecretString;
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};

#[derive(Debug, Args)]
pub struct TeamArgs {
    /// Workspace whose `team/` folder to use.
    #[arg(long, global = true, default_value = "default", value_name = "NAME")]
    pub workspace: String,
    /// Your private key: an OpenSSH ed25519/rsa key or an age identity file, or `vault:NAME`
    /// for the SSH key entry NAME of your personal vault (default: the first of
    /// ~/.ssh/id_ed25519, ~/.ssh/id_rsa that is a member). An ssh-agent cannot be used: it
    /// signs but cannot decrypt.
    #[arg(long, global = true, value_name = "FILE|vault:NAME")]
    pub identity: Option<PathBuf>,
    /// Read your key's passphrase (with `--identity vault:NAME`: your personal vault's) from
    /// the first line of a file (else it is asked).
    #[arg(long, global = true, value_name = "FILE")]
    pub passphrase_file: Option<PathBuf>,
    #[command(subcommand)]
    pub command: TeamCommand,
}

#[derive(Debug, Subcommand)]
pub enum TeamCommand {
    /// Create the team vault in the workspace folder, with you as its first member.
    Init {
        /// Your member name: letters, digits, '.', '_', '-'.
        #[arg(long)]
        name: String,
    },
    /// Add a member: their public key is signed by yours and the team key wrapped to it (no
    /// entry is re-encrypted).
    Add {
        name: String,
        /// Their public key file (`ssh-ed25519 …`, `ssh-rsa …` or `age1…`).
        #[arg(long, value_name = "PUBKEY_FILE", group = "source", required = true)]
        key: Option<PathBuf>,
        /// A saved https://github.com/USER.keys: its first ed25519 key (else RSA) is used.
        #[arg(long, value_name = "F", group = "source")]
        github_keys_file: Option<PathBuf>,
    },
    /// Remove a member: a new team key, every entry re-encrypted, and the list of secrets they
    /// could read (rotate those where they are issued).
    Remove {
        name: String,
        /// Do not ask (needed without a terminal).
        #[arg(long)]
        yes: bool,
    },
    /// List the members.
    Members {
        #[arg(long)]
        json: bool,
    },
    /// Print the text a member's signature covers (for `ssh-keygen -Y verify -n lumen-team`).
    MemberText { name: String },
    /// Check the signatures, that key.age opens, and that every entry decrypts at its epoch.
    Verify,
    /// A new team key for the current members; every entry re-encrypted.
    Rekey,
    /// Git's merge driver for team files (installed by init): `%O %A %B %P`.
    #[command(hide = true)]
    MergeDriver {
        ancestor: PathBuf,
        ours: PathBuf,
        theirs: PathBuf,
        /// The file's path in the repository.
        path: PathBuf,
    },
}

pub fn run(paths: &Paths, args: TeamArgs) -> Result<()> {
    let ws = &args.workspace;
    if ws.is_empty() || ws == "." || ws == ".." || ws.contains('/') || ws.contains('\\') {
        bail!("'{ws}' is not a workspace name; use a plain name like 'default'");
    }
    let dir = TeamDir::in_workspace(&paths.workspace_dir(ws));
    let pass = args.passphrase_file.clone();
    let load = |dir: &TeamDir| -> Result<MyKey> {
        load_my_key(args.identity.as_deref(), dir, |prompt| {
            key_passphrase(pass.as_deref(), prompt)
        })
    };
    let out = match args.command {
        TeamCommand::Init { name } => {
            let me = match &args.identity {
                Some(p) => load_my_key(Some(p), &dir, |prompt| {
                    key_passphrase(pass.as_deref(), prompt)
                })?,
                None => {
                    let path = team::find_identity(None, Some(home().as_path()), None)?;
                    MyKey::load(&path, |prompt| key_passphrase(pass.as_deref(), prompt))?
                }
            };
            team::init(&dir, &name, &me)?;
            let git = merge::install(dir.root(), args.identity.as_deref());
            format!(
                "created the team vault in {} with you ('{name}', {}) as its first member\n{git}",
                dir.root().display(),
                short_key(&me.public)
            )
        }
        TeamCommand::Add {
            name,
            key,
            github_keys_file,
        } => {
            let public = match (key, github_keys_file) {
                (Some(f), _) => read_public(&f)?,
                (None, Some(f)) => github_key(&f)?,
                (None, None) => bail!("give the member's public key with --key FILE"),
            };
            let me = load(&dir)?;
            let mut vault = team::open(&dir, &me)?;
            vault.team_add(&name, &public, &me)?;
            format!(
                "added '{name}' ({}); the team key is wrapped to them (no entry re-encrypted); \
                 commit team/members.toml and team/key.age\n",
                short_key(&public)
            )
        }
        TeamCommand::Remove { name, yes } => {
            let me = load(&dir)?;
            let mut vault = team::open(&dir, &me)?;
            if !yes {
                confirm(&format!(
                    "remove '{name}' from the team? A new team key is made and every entry \
                     re-encrypted [y/N] "
                ))?;
            }
            let readable = vault.team_remove(&name, &me)?;
            let epoch = vault.team_members().map_or(0, |(_, e)| e);
            let mut out = format!(
                "removed '{name}'; new team key (epoch {epoch}), {} entr{} re-encrypted\n",
                readable.len(),
                if readable.len() == 1 { "y" } else { "ies" }
            );
            if !readable.is_empty() {
                out += &format!(
                    "'{name}' could read these secrets (and may have kept copies): rotate them \
                     where they are issued, then 'lumen vault edit NAME --scope team':\n"
                );
                for n in &readable {
                    out += &format!("  {}\n", crate::text::escape_controls(n));
                }
            }
            out
        }
        TeamCommand::Members { json } => {
            let members = dir.load_members()?;
            members_listing(&members.list, json)?
        }
        TeamCommand::MemberText { name } => {
            let members = team::Members::load(&dir.members_path())?;
            let m = members
                .get(&name)
                .ok_or(team::TeamError::NoSuchMember { name })?;
            m.text()
        }
        TeamCommand::Verify => {
            let me = load(&dir)?;
            let r = team::verify(&dir, &me)?;
            let mut out = format!(
                "{} member{}: every signature verifies; key.age opens (epoch {}); {} entr{} \
                 decrypt\n",
                r.members,
                if r.members == 1 { "" } else { "s" },
                r.epoch,
                r.entries,
                if r.entries == 1 { "y" } else { "ies" }
            );
            for n in &r.notes {
                out += &format!("note: {n}\n");
            }
            out + &merge::install(dir.root(), args.identity.as_deref())
        }
        TeamCommand::Rekey => {
            let me = load(&dir)?;
            let mut vault = team::open(&dir, &me)?;
            let epoch = vault.team_rekey()?;
            format!("new team key (epoch {epoch}) for every member; every entry re-encrypted\n")
        }
        TeamCommand::MergeDriver {
            ancestor,
            ours,
            theirs,
            path,
        } => merge::run(
            &merge::Files {
                ancestor: &ancestor,
                ours: &ours,
                theirs: &theirs,
                path: &path,
            },
            args.identity.as_deref(),
            pass.as_deref(),
        )?,
    };
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(out.as_bytes())?;
    stdout.flush()?;
    Ok(())
}

/// The home whose `~/.ssh` holds your default key: ssh's own (`HOME`, else the passwd entry).
fn home() -> PathBuf {
    crate::ssh::config::ResolveOptions::from_env().home_dir
}

/// The `--identity` prefix that names an SSH key entry of your personal vault.
const VAULT_IDENTITY: &str = "vault:";

/// Your key as `--identity` names it: `vault:NAME` is the SSH key entry NAME of your personal
/// vault, opened with the passphrase `passphrase` gives (the private key stays in memory; the
/// use is audited there); anything else is a key file, by default the first member key under
/// `~/.ssh`, its passphrase asked through `passphrase` when it has one.
pub(crate) fn load_my_key(
    explicit: Option<&Path>,
    dir: &TeamDir,
    passphrase: impl FnOnce(&str) -> Result<SecretString>,
) -> Result<MyKey> {
    if let Some(name) = explicit
        .and_then(Path::to_str)
        .and_then(|s| s.strip_prefix(VAULT_IDENTITY))
    {
        let path = Paths::from_env().personal_vault();
        if !path.exists() {
            bail!(
                "--identity {VAULT_IDENTITY}{name}: there is no personal vault ({}); \
                 create it with 'lumen vault init'",
                path.display()
            );
        }
        let pass = passphrase("passphrase of your personal vault: ")?;
        let vault = crate::vault::Vault::open(&path, &pass)?;
        let key = vault
            .private_key_for_team(name)
            .with_context(|| format!("--identity {VAULT_IDENTITY}{name}"))?;
        let label = PathBuf::from(format!("personal vault entry '{name}'"));
        return Ok(MyKey::from_private_key(key, &label)?);
    }
    let path = identity_path(explicit, dir)?;
    Ok(MyKey::load(&path, passphrase)?)
}

/// `--identity`, else the first default key that is a member of the team in `dir`.
pub(crate) fn identity_path(explicit: Option<&Path>, dir: &TeamDir) -> Result<PathBuf> {
    if let Some(p) = explicit {
        return Ok(p.to_path_buf());
    }
    let members = dir.load_members()?;
    let is_member = |k: &str| members.by_key(k).is_some();
    Ok(team::find_identity(
        None,
        Some(home().as_path()),
        Some(&is_member),
    )?)
}

fn key_passphrase(file: Option<&Path>, prompt: &str) -> Result<SecretString> {
    match file {
        Some(f) => first_line_of_file(f),
        None => prompt_hidden(prompt),
    }
}

fn confirm(question: &str) -> Result<()> {
    if !std::io::stdin().is_terminal() {
        bail!("no terminal to confirm on; add --yes");
    }
    eprint!("{question}");
    std::io::stderr().flush()?;
    let mut line = String::new();
    std::io::stdin().read_line(&mut line)?;
    if !matches!(line.trim(), "y" | "Y" | "yes") {
        bail!("nothing changed");
    }
    Ok(())
}

const MAX_PUBLIC_KEY_FILE: u64 = 1024 * 1024;

fn read_public(path: &Path) -> Result<String> {
    let bytes = crate::text::read_capped(path, MAX_PUBLIC_KEY_FILE)
        .with_context(|| format!("reading {}", path.display()))?;
    let text =
        String::from_utf8(bytes).with_context(|| format!("{} is not text", path.display()))?;
    if text.contains("PRIVATE KEY") {
        bail!(
            "{} holds a private key; give the public one (.pub)",
            path.display()
        );
    }
    let line = text
        .lines()
        .map(str::trim)
        .find(|l| !l.is_empty() && !l.starts_with('#'))
        .with_context(|| format!("{} holds no key", path.display()))?;
    team::normalize_key(line).map_err(|why| anyhow::anyhow!("{}: {why}", path.display()))
}

/// The first ed25519 key of a GitHub `.keys` file, else its first usable RSA key.
fn github_key(path: &Path) -> Result<String> {
    let bytes = crate::text::read_capped(path, MAX_PUBLIC_KEY_FILE)
        .with_context(|| format!("reading {}", path.display()))?;
    let text =
        String::from_utf8(bytes).with_context(|| format!("{} is not text", path.display()))?;
    let usable: Vec<String> = text
        .lines()
        .filter_map(|l| team::normalize_key(l).ok())
        .collect();
    usable
        .iter()
        .find(|k| k.starts_with("ssh-ed25519"))
        .or_else(|| usable.first())
        .cloned()
        .with_context(|| {
            format!(
                "{} has no ssh-ed25519 or ssh-rsa key age can encrypt to",
                path.display()
            )
        })
}

fn short_key(key: &str) -> String {
    let mut parts = key.split_whitespace();
    match (parts.next(), parts.next()) {
        (Some(kind), Some(b64)) => format!("{kind} …{}", &b64[b64.len().saturating_sub(12)..]),
        _ => key.chars().take(24).collect(),
    }
}

fn members_listing(list: &[Member], json: bool) -> Result<String> {
    use crate::text::escape_controls as esc;
    if json {
        let v: Vec<_> = list
            .iter()
            .map(|m| {
                serde_json::json!({
                    "name": m.name, "key": m.key, "added_by": m.added_by, "added_at": m.added_at,
                })
            })
            .collect();
        return Ok(serde_json::to_string_pretty(&v)? + "\n");
    }
    let mut out = format!("{:<16} {:<12} {:<22} KEY\n", "NAME", "ADDED BY", "ADDED AT");
    for m in list {
        out += &format!(
            "{:<16} {:<12} {:<22} {}\n",
            esc(&m.name),
            esc(&m.added_by),
            esc(&m.added_at),
            short_key(&m.key)
        );
    }
    Ok(out)
}
