//! `lumen vault …`: the vault's command line. Output is assembled fully before printing, so a
//! failure never leaves half a listing on screen; secrets are printed only by `show --reveal`.

mod args;
mod audit;
pub(crate) mod input;
mod keys;
mod team;

pub use args::{EntryFields, InitArgs, ScopeArg, VaultArgs, VaultCommand};
pub(crate) use audit::save as save_vault;
use audit::{save, warn};
use input::{clean_secret, first_line_of_file, prompt_hidden, read_secret_file, read_stdin};

use crate::paths::Paths;
use crate::text::{escape_controls as esc, escape_json_controls};
use crate::vault::{Action, Entry, KdfParams, Kind, NewEntry, Scope, Vault, VaultError};
use anyhow::{Context, Result, bail};
use secrecy::{ExposeSecret, SecretString};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use zeroize::Zeroizing;

/// Seconds shown by `totp` are the code's remaining validity.
pub fn run(paths: &Paths, args: VaultArgs) -> Result<()> {
    let mut ctx = Ctx::new(paths, &args)?;
    let out = match args.command {
        VaultCommand::Init(init) => ctx.init(&init)?,
        VaultCommand::Add { name, fields } => ctx.add(&name, fields)?,
        VaultCommand::List { json } => ctx.list(json)?,
        VaultCommand::Show { name, reveal, json } => ctx.show(&name, reveal, json)?,
        VaultCommand::Edit {
            name,
            fields,
            clear_hosts,
        } => ctx.edit(&name, fields, clear_hosts)?,
        VaultCommand::Rm { name } => ctx.rm(&name)?,
        VaultCommand::Passwd {
            new_passphrase_file,
        } => ctx.passwd(new_passphrase_file.as_deref())?,
        VaultCommand::Totp { name } => ctx.totp(&name)?,
        VaultCommand::Audit {
            json,
            verify,
            accept,
        } => match (verify, accept) {
            (_, true) => ctx.accept()?,
            (true, false) => ctx.verify()?,
            (false, false) => ctx.audit(json)?,
        },
        VaultCommand::Test { name, host, ssh } => {
            keys::test(&mut ctx, paths, &args.workspace, &name, host, &ssh)?
        }
        VaultCommand::Keygen {
            name,
            key_type,
            hosts,
            username,
            notes,
        } => keys::keygen(&mut ctx, &name, key_type, hosts, username, notes)?,
        VaultCommand::RotateKey { name, targets, ssh } => {
            keys::rotate(&mut ctx, paths, &args.workspace, &name, &targets, &ssh)?
        }
        VaultCommand::Lock => "nothing to lock: lumen has no vault agent yet, so no unlocked \
                               vault is kept in memory between commands; each command asks for \
                               the passphrase again.\n"
            .into(),
    };
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(out.as_bytes())?;
    stdout.flush()?;
    Ok(())
}

struct Ctx {
    personal: PathBuf,
    workspace: PathBuf,
    /// `team/key.age` of the workspace, and the key that opens it (`--identity`).
    team: PathBuf,
    identity: Option<PathBuf>,
    scope: Option<Scope>,
    source: PassSource,
    stdin_lines: Option<Vec<Zeroizing<String>>>,
    cached: Option<SecretString>,
}

enum PassSource {
    File(PathBuf),
    Stdin,
    Tty,
}

/// How a command unlocks a vault.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Unlock {
    Read,
    Write,
    /// Also a file older than its audit log, to accept it.
    Accept,
}

impl Ctx {
    fn new(paths: &Paths, args: &VaultArgs) -> Result<Ctx> {
        let ws = &args.workspace;
        if ws.is_empty() || ws == "." || ws == ".." || ws.contains('/') || ws.contains('\\') {
            bail!("'{ws}' is not a workspace name; use a plain name like 'default'");
        }
        let source = match (&args.passphrase_file, args.passphrase_stdin) {
            (Some(f), _) => PassSource::File(f.clone()),
            (None, true) => PassSource::Stdin,
            (None, false) => PassSource::Tty,
        };
        Ok(Ctx {
            personal: paths.personal_vault(),
            workspace: paths.workspace_dir(&args.workspace).join("vault.lumen"),
            team: paths.workspace_dir(&args.workspace).join("team/key.age"),
            identity: args.identity.clone(),
            scope: args.scope.map(|s| match s {
                ScopeArg::Personal => Scope::Personal,
                ScopeArg::Workspace => Scope::Workspace,
                ScopeArg::Team => Scope::Team,
            }),
            source,
            stdin_lines: None,
            cached: None,
        })
    }

    fn path(&self, scope: Scope) -> &Path {
        match scope {
            Scope::Personal => &self.personal,
            Scope::Workspace => &self.workspace,
            Scope::Team => &self.team,
        }
    }

    /// Scopes whose file exists, the chosen one only if `--scope` was given.
    fn existing(&self) -> Vec<Scope> {
        [Scope::Personal, Scope::Workspace, Scope::Team]
            .into_iter()
            .filter(|s| self.scope.is_none_or(|c| c == *s))
            .filter(|s| self.path(*s).exists())
            .collect()
    }

    fn target(&self) -> Scope {
        self.scope.unwrap_or(Scope::Personal)
    }

    /// The passphrase: from the file/stdin once, or a prompt per vault.
    fn passphrase(&mut self, prompt: &str) -> Result<SecretString> {
        match &self.source {
            PassSource::File(f) => {
                if self.cached.is_none() {
                    self.cached = Some(first_line_of_file(f)?);
                }
            }
            PassSource::Stdin => return self.stdin_line(0),
            PassSource::Tty => return prompt_hidden(prompt),
        }
        self.cached.clone().context("no passphrase")
    }

    fn stdin_line(&mut self, index: usize) -> Result<SecretString> {
        if self.stdin_lines.is_none() {
            let all = read_stdin(input::MAX_PASSPHRASE_FILE)?;
            self.stdin_lines = Some(all.lines().map(|l| Zeroizing::new(l.to_string())).collect());
        }
        let line = self.stdin_lines.as_ref().and_then(|l| l.get(index));
        match line {
            Some(l) => Ok(SecretString::from(l.as_str())),
            None => bail!("stdin has no line {} for the passphrase", index + 1),
        }
    }

    /// Unlock and tell the user (stderr) what opening found: an old format, audit problems.
    fn open(&mut self, scope: Scope, write: bool) -> Result<Vault> {
        let how = if write { Unlock::Write } else { Unlock::Read };
        let vault = self.unlock(scope, how)?;
        warn(scope, &vault);
        Ok(vault)
    }

    fn unlock(&mut self, scope: Scope, how: Unlock) -> Result<Vault> {
        if scope == Scope::Team {
            return self.unlock_team();
        }
        let path = self.path(scope).to_path_buf();
        if !path.exists() {
            return Err(VaultError::NoVault { path }.into());
        }
        let prompt = format!("passphrase for the {} vault: ", scope.as_str());
        let pass = self.passphrase(&prompt)?;
        let vault = match how {
            Unlock::Read => Vault::open(&path, &pass)?,
            Unlock::Write => Vault::open_for_write(&path, &pass)?,
            Unlock::Accept => Vault::open_to_accept(&path, &pass)?,
        };
        Ok(vault)
    }

    /// The vault holding `name`: `--scope`'s, else personal then workspace.
    fn find(&mut self, name: &str, write: bool) -> Result<(Scope, Vault)> {
        let scopes = self.existing();
        if scopes.is_empty() {
            let path = self.path(self.target()).to_path_buf();
            return Err(VaultError::NoVault { path }.into());
        }
        for scope in scopes {
            let Some(vault) = self.open_or_skip_team(scope, write)? else {
                continue;
            };
            if vault.get(name).is_ok() {
                return Ok((scope, vault));
            }
        }
        Err(VaultError::NotFound { name: name.into() }.into())
    }

    fn init(&mut self, a: &InitArgs) -> Result<String> {
        let scope = self.target();
        if scope == Scope::Team {
            bail!("a team vault is created with 'lumen team init --name YOUR_NAME'");
        }
        let path = self.path(scope).to_path_buf();
        if path.exists() {
            return Err(VaultError::AlreadyExists { path }.into());
        }
        let d = KdfParams::DEFAULT;
        let mut kdf = KdfParams {
            memory_kib: a.kdf_memory.unwrap_or(d.memory_kib),
            time: a.kdf_time.unwrap_or(d.time),
            lanes: a.kdf_lanes.unwrap_or(d.lanes),
        };
        kdf.check()?;
        let pass = match self.source {
            PassSource::Tty => {
                let first = prompt_hidden("new vault passphrase: ")?;
                let again = prompt_hidden("repeat it: ")?;
                if first.expose_secret() != again.expose_secret() {
                    bail!("the passphrases differ; run 'lumen vault init' again");
                }
                first
            }
            _ => self.passphrase("")?,
        };
        weak_passphrase_warning(&pass);
        if a.kdf_calibrate {
            kdf = crate::vault::format::calibrate(kdf, crate::vault::format::CALIBRATION_TARGET)?;
        }
        let vault = Vault::create(&path, &pass, kdf)?;
        warn(scope, &vault);
        Ok(format!(
            "created the {} vault at {} (Argon2id m={} KiB, t={}, p={})\n",
            scope.as_str(),
            path.display(),
            kdf.memory_kib,
            kdf.time,
            kdf.lanes
        ))
    }

    fn add(&mut self, name: &str, f: EntryFields) -> Result<String> {
        crate::vault::check_name(name)?;
        let kind: Kind = f.kind.as_deref().unwrap_or("password").parse()?;
        let scope = self.target();
        let mut vault = self.open(scope, true)?;
        let new = self.entry_fields(f, Some(kind), true)?;
        vault.add(name, new)?;
        save(scope, &mut vault)?;
        Ok(format!(
            "added '{name}' ({kind}) to the {} vault\n",
            scope.as_str()
        ))
    }

    fn edit(&mut self, name: &str, f: EntryFields, clear_hosts: bool) -> Result<String> {
        let (scope, mut vault) = self.find(name, true)?;
        let kind = f.kind.as_deref().map(str::parse::<Kind>).transpose()?;
        let mut changes = self.entry_fields(f, kind, false)?;
        if clear_hosts {
            changes.hosts = Some(Vec::new());
        }
        vault.edit(name, changes)?;
        save(scope, &mut vault)?;
        Ok(format!(
            "changed '{name}' in the {} vault\n",
            scope.as_str()
        ))
    }

    fn rm(&mut self, name: &str) -> Result<String> {
        let (scope, mut vault) = self.find(name, true)?;
        vault.remove(name)?;
        save(scope, &mut vault)?;
        Ok(format!(
            "removed '{name}' from the {} vault\n",
            scope.as_str()
        ))
    }

    /// Turn flags into a [`NewEntry`]; `adding` demands a secret (prompting on a TTY).
    fn entry_fields(
        &mut self,
        f: EntryFields,
        kind: Option<Kind>,
        adding: bool,
    ) -> Result<NewEntry> {
        let secret = if let Some(file) = f.key_file.as_ref().or(f.secret_file.as_ref()) {
            let text = read_secret_file(file)?;
            Some(clean_secret(&text, kind))
        } else if f.secret_stdin {
            if matches!(self.source, PassSource::Stdin) {
                bail!(
                    "--secret-stdin and --passphrase-stdin both read stdin; use --passphrase-file"
                );
            }
            let text = read_stdin(input::MAX_SECRET_FILE)?;
            Some(clean_secret(&text, kind))
        } else if adding {
            if kind == Some(Kind::SshKey) {
                bail!("give the private key with --key-file F or --secret-stdin");
            }
            if !std::io::stdin().is_terminal() {
                bail!("no secret given; use --secret-file F or --secret-stdin");
            }
            Some(prompt_hidden("secret: ")?)
        } else {
            None
        };
        let key_passphrase = f
            .key_passphrase_file
            .as_deref()
            .map(first_line_of_file)
            .transpose()?;
        Ok(NewEntry {
            kind,
            username: f.username,
            hosts: (!f.hosts.is_empty()).then_some(f.hosts),
            tags: (!f.tags.is_empty()).then_some(f.tags),
            notes: f.notes,
            provider: f.provider,
            secret,
            key_passphrase,
        })
    }

    fn list(&mut self, json: bool) -> Result<String> {
        let scopes = self.existing();
        if scopes.is_empty() {
            let path = self.path(self.target()).to_path_buf();
            return Err(VaultError::NoVault { path }.into());
        }
        let mut rows = Vec::new();
        for scope in scopes {
            let Some(vault) = self.open_or_skip_team(scope, false)? else {
                continue;
            };
            rows.extend(vault.entries().map(|e| (scope, e.clone())));
        }
        if json {
            let list: Vec<_> = rows.iter().map(|(s, e)| entry_json(*s, e)).collect();
            return to_json(&list);
        }
        let mut out = format!(
            "{:<10} {:<28} {:<9} {:<16} HOSTS\n",
            "SCOPE", "NAME", "KIND", "USERNAME"
        );
        for (s, e) in &rows {
            out += &format!(
                "{:<10} {:<28} {:<9} {:<16} {}\n",
                s.as_str(),
                esc(&e.name),
                e.kind.as_str(),
                esc(e.username.as_deref().unwrap_or("-")),
                esc(&e.hosts.join(","))
            );
        }
        Ok(out)
    }

    fn show(&mut self, name: &str, reveal: bool, json: bool) -> Result<String> {
        let (scope, vault) = self.find(name, false)?;
        let entry = vault.get(name)?.clone();
        let secret = if reveal {
            Some(vault.secret(name, Action::Reveal, None)?)
        } else {
            None
        };
        if json {
            let mut v = entry_json(scope, &entry);
            if let Some(s) = &secret {
                v["secret"] = serde_json::Value::String(s.expose_secret().to_string());
            }
            return to_json(&v);
        }
        let mut out = format!(
            "name:        {}\nscope:       {}\nkind:        {}\n",
            esc(&entry.name),
            scope.as_str(),
            entry.kind
        );
        let opt = |label: &str, v: Option<&str>| {
            v.map(|v| format!("{label:<13}{}\n", esc(v)))
                .unwrap_or_default()
        };
        out += &opt("username:", entry.username.as_deref());
        out += &opt("provider:", entry.provider.as_deref());
        out += &opt("hosts:", Some(&entry.hosts.join(", ")));
        out += &opt("tags:", Some(&entry.tags.join(", ")));
        out += &opt("public key:", entry.public_key.as_deref());
        out += &opt("fingerprint:", entry.fingerprint.as_deref());
        out += &opt(
            "notes:",
            Some(entry.notes.as_str()).filter(|n| !n.is_empty()),
        );
        out += &format!(
            "{:<13}{}\n{:<13}{}\n",
            "created:",
            date(entry.created),
            "updated:",
            date(entry.updated)
        );
        match &secret {
            Some(s) => out += &revealed(s.expose_secret(), std::io::stdout().is_terminal()),
            None => out += "secret:      ******** (use --reveal to print it)\n",
        }
        Ok(out)
    }

    fn passwd(&mut self, new_file: Option<&Path>) -> Result<String> {
        let scope = self.target();
        if scope == Scope::Team {
            bail!(
                "a team vault has no passphrase: each member opens it with their own key;                  'lumen team remove' and 'lumen team rekey' change the team key"
            );
        }
        let mut vault = self.open(scope, true)?;
        let new = match (new_file, &self.source) {
            (Some(f), _) => first_line_of_file(f)?,
            (None, PassSource::Stdin) => self.stdin_line(1)?,
            (None, PassSource::Tty) => {
                let first = prompt_hidden("new passphrase: ")?;
                let again = prompt_hidden("repeat it: ")?;
                if first.expose_secret() != again.expose_secret() {
                    bail!("the passphrases differ; nothing changed");
                }
                first
            }
            (None, PassSource::File(_)) => {
                bail!("give the new passphrase with --new-passphrase-file F")
            }
        };
        weak_passphrase_warning(&new);
        vault.change_passphrase(&new, None)?;
        save(scope, &mut vault)?;
        Ok(format!(
            "changed the passphrase of the {} vault\n",
            scope.as_str()
        ))
    }

    fn totp(&mut self, name: &str) -> Result<String> {
        let (_, vault) = self.find(name, false)?;
        let code = vault.totp_now(name)?;
        vault.record(name, Action::Totp, None)?;
        Ok(format!("{} ({} s left)\n", code.code, code.seconds_left))
    }
}

/// The `secret:` lines of `show --reveal`. On a terminal a control character in the value
/// (ESC, BEL, C1, bidi overrides) is shown as a visible escape with a note, so a stored value
/// cannot reprogram the operator's terminal; piped, the value is written as stored, byte for
/// byte, for scripts (`--json` always escapes as JSON does).
fn revealed(secret: &str, terminal: bool) -> String {
    let value = secret.trim_end_matches('\n');
    if !terminal {
        return format!("secret:\n{value}\n");
    }
    let shown = crate::text::escape_lines(value);
    let note = if matches!(shown, std::borrow::Cow::Owned(_)) {
        "secret (control characters shown as escapes; pipe it or use --json for the exact value):"
    } else {
        "secret:"
    };
    format!("{note}\n{shown}\n")
}

/// Pretty JSON with every control character escaped (data unchanged for a JSON reader).
fn to_json(v: &impl serde::Serialize) -> Result<String> {
    let text = serde_json::to_string_pretty(v)?;
    Ok(escape_json_controls(&text).into_owned() + "\n")
}

fn entry_json(scope: Scope, e: &Entry) -> serde_json::Value {
    serde_json::json!({
        "scope": scope.as_str(),
        "name": e.name,
        "kind": e.kind.as_str(),
        "username": e.username,
        "hosts": e.hosts,
        "tags": e.tags,
        "notes": e.notes,
        "provider": e.provider,
        "public_key": e.public_key,
        "fingerprint": e.fingerprint,
        "created": e.created,
        "updated": e.updated,
    })
}

fn date(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_else(|| unix.to_string())
}

/// Below this zxcvbn score (0–4) a new passphrase is called weak.
const STRONG_ENOUGH: u8 = 3;

/// Warn (on stderr, without refusing) when a new passphrase is easy to guess: anyone with a
/// copy of the vault file can try passphrases offline, so its strength is the vault's.
fn weak_passphrase_warning(pass: &SecretString) {
    if let Some(warning) = weak_passphrase(pass.expose_secret()) {
        crate::errln!("lumen vault: warning: {warning}");
    }
}

fn weak_passphrase(pass: &str) -> Option<String> {
    let estimate = zxcvbn::zxcvbn(pass, &["lumen", "vault"]);
    let score = u8::from(estimate.score());
    (score < STRONG_ENOUGH).then(|| {
        format!(
            "this passphrase is weak (strength {score} of 4, about 10^{:.0} guesses): anyone \
             with a copy of the vault file can try passphrases offline. A phrase of four or \
             more unrelated words is strong; 'lumen vault passwd' changes it.",
            estimate.guesses_log10()
        )
    })
}

#[cfg(test)]
mod strength_tests {
    use super::weak_passphrase;

    #[test]
    fn short_or_common_passphrases_are_weak_long_phrases_are_not() {
        for weak in [
            "abcde",
            "password1",
            "lumenvault",
            "qwerty123",
            "Summer2024!",
        ] {
            assert!(weak_passphrase(weak).is_some(), "{weak}");
        }
        for strong in [
            "correct horse battery staple",
            "tundra-violin-mosaic-plover-41",
        ] {
            assert!(weak_passphrase(strong).is_none(), "{strong}");
        }
    }
}
