//! What `lumen ai ask` and `lumen ai context` gather before anything is sent: the `[ai]`
//! profile, the host and its `ai` policy, the unlocked vaults (their values are masked), the
//! pane text, the host's facts over one `exec`, its last scan summary. The request itself is
//! always built by [`build_request`], so both commands send and show the same thing.

use crate::ai::config::{AiConfig, DEFAULT_CONTEXT_LINES, DEFAULT_PROFILE, Profile};
use crate::ai::copilot::{
    Built, Context as AiContext, FACTS_COMMAND, FACTS_MAX_OUTPUT, FACTS_TIMEOUT, HostFacts,
    Session, SessionError, build_request, parse_facts, redact_question, redact_scrollback,
};
use crate::ai::demo::DEMO_MODEL;
use crate::ai::provider::{ApiKey, KeySource};
use crate::ai::redact::Secrets;
use crate::cli::connect::{self, ConnectArgs};
use crate::cli::vault::input::{first_line_of_file, prompt_hidden};
use crate::paths::Paths;
use crate::ssh::{Connector, ExecOptions};
use crate::vault::{Action, Kind, Scope, Vault, VaultError};
use crate::workspace::AiPolicy;
use crate::workspace::{DEFAULT_WORKSPACE, HostsFile, Inventory};
use anyhow::{Context, Result, anyhow, bail};
use clap::Args;
use std::path::{Path, PathBuf};

/// The largest `--pane-text` file read (a long scrollback is a few MB).
const MAX_PANE_TEXT: u64 = 64 * 1024 * 1024;
/// The history and the conversation's host when no `--host` is given.
pub const NO_HOST: &str = "cli";

/// Options shared by `ask` and `context`.
#[derive(Debug, Args)]
pub struct CopilotArgs {
    /// The host the question is about: an inventory name, an ssh_config alias or
    /// [USER@]HOST[:PORT]. Its facts (OS, kernel, hostname, addresses, uptime) are gathered
    /// once with one read-only command over SSH and sent, redacted. Refused for hosts with
    /// ai = "off" in hosts.toml.
    #[arg(long, value_name = "HOST")]
    pub host: Option<String>,
    /// A file of terminal text (screen and scrollback, escape sequences allowed) to send as
    /// the pane's text, redacted; the model may ask for more of it with read_scrollback.
    #[arg(long, value_name = "FILE")]
    pub pane_text: Option<PathBuf>,
    /// The [ai.profiles.NAME] profile to use instead of the [ai] table's own.
    #[arg(long, value_name = "NAME")]
    pub profile: Option<String>,
    /// Read the vault passphrase from the first line of a file (for scripts). Existing vaults
    /// are always unlocked, so their values can be masked before anything is sent.
    #[arg(long, value_name = "F")]
    pub passphrase_file: Option<PathBuf>,
    /// The workspace (its hosts.toml, vault, scans and ai/ history).
    #[arg(long, value_name = "NAME", default_value = DEFAULT_WORKSPACE)]
    pub workspace: String,
}

/// Everything gathered for one conversation.
pub struct Setup {
    /// The `[ai]` section; None only for `context` without one.
    pub ai: Option<AiConfig>,
    pub profile: Option<Profile>,
    /// The `--host` given, as typed.
    pub host: Option<String>,
    pub facts: Option<HostFacts>,
    pub scan_summary: Option<String>,
    pub lines: Vec<String>,
    pub vault_entries: Vec<(String, Kind)>,
    pub secrets: Secrets,
    pub vaults: Vec<(Scope, Vault)>,
    /// Things the user should hear (facts not gathered, scan history unreadable).
    pub warnings: Vec<String>,
}

impl Setup {
    /// The name the history is kept under.
    pub fn history_host(&self) -> &str {
        self.host.as_deref().unwrap_or(NO_HOST)
    }

    /// A fresh request for `session`, through redaction.
    pub fn build(&self, session: &Session) -> Built {
        build_request(
            session,
            &AiContext {
                host: self.host.as_deref().unwrap_or(""),
                facts: self.facts.as_ref(),
                scan_summary: self.scan_summary.as_deref(),
                lines: &self.lines,
                max_lines: self
                    .ai
                    .as_ref()
                    .map_or(DEFAULT_CONTEXT_LINES, |a| a.context_lines),
                lookbehind: 0,
                vault_entries: &self.vault_entries,
                secrets: &self.secrets,
                runbooks: &[],
                demo: self.profile.as_ref().is_some_and(|p| p.model == DEMO_MODEL),
            },
        )
    }

    /// The last `n` lines of the pane text, redacted (before they are cut):
    /// `read_scrollback`'s answer.
    pub fn scrollback(&self, n: usize) -> String {
        redact_scrollback(&self.lines, n, &self.secrets)
    }

    /// The question as the model may see it (values masked in the pane text masked in it too).
    pub fn question(&self, question: &str) -> String {
        redact_question(question, &self.lines, &self.secrets).text
    }

    /// The profile's API key: from the vault (already unlocked) or the environment.
    pub fn api_key(&self) -> Result<Option<ApiKey>> {
        let Some(profile) = &self.profile else {
            return Ok(None);
        };
        let Some(source) = &profile.api_key else {
            return Ok(None);
        };
        let value = match source {
            KeySource::Vault(name) => Some(self.vault_key(name)?),
            KeySource::Env(_) => None,
        };
        Ok(Some(ApiKey::resolve(source, value)?))
    }

    /// Whether the profile's key can be had, without reading it: a missing environment
    /// variable or vault entry is reported before anything is asked of a host.
    fn check_key(&self) -> Result<()> {
        match self.profile.as_ref().and_then(|p| p.api_key.as_ref()) {
            Some(source @ KeySource::Env(_)) => ApiKey::resolve(source, None).map(drop)?,
            Some(KeySource::Vault(name)) => self.key_vault(name).map(drop)?,
            None => {}
        }
        Ok(())
    }

    fn vault_key(&self, name: &str) -> Result<secrecy::SecretString> {
        Ok(self.key_vault(name)?.secret(name, Action::Auth, None)?)
    }

    /// The unlocked vault holding the api-key entry `name`.
    fn key_vault(&self, name: &str) -> Result<&Vault> {
        if self.vaults.is_empty() {
            bail!(
                "config.toml's api_key = \"vault:{name}\" but there is no vault; create one and \
                 add the key with 'lumen vault init' and 'lumen vault add {name} --kind api-key'"
            );
        }
        for (_, vault) in &self.vaults {
            if let Ok(entry) = vault.get(name) {
                if entry.kind != Kind::ApiKey {
                    bail!(
                        "vault entry {name} is a {}, not an api-key; api_key = \"vault:{name}\" \
                         must name an api-key entry",
                        entry.kind
                    );
                }
                return Ok(vault);
            }
        }
        Err(VaultError::NotFound { name: name.into() }.into())
    }
}

/// The `[ai]` section of config.toml: None when there is none; a broken one is an error with
/// file:line. Only the `[ai]` table is read, so a problem elsewhere in the file (a key
/// binding) does not stop the copilot's command line.
pub fn ai_config(paths: &Paths) -> Result<Option<AiConfig>> {
    let path = paths.config_file();
    let text = match crate::text::read_capped_string(&path, crate::text::SETTINGS_FILE_LIMIT) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(anyhow!("cannot read {}: {e}", path.display())),
    };
    Ok(AiConfig::parse(&path.display().to_string(), &text)?)
}

/// The profile `--profile` names, or the `[ai]` table's own.
pub fn choose_profile(ai: &AiConfig, name: Option<&str>) -> Result<Profile> {
    let name = name.unwrap_or(DEFAULT_PROFILE);
    ai.profile_named(name).cloned().ok_or_else(|| {
        let mut known: Vec<&str> = vec![DEFAULT_PROFILE];
        known.extend(ai.profiles.keys().map(String::as_str));
        anyhow!(
            "there is no profile {name:?} in config.toml's [ai]; known: {}",
            known.join(", ")
        )
    })
}

/// Gather everything for `args`. With `need_ai`, a missing `[ai]` section is an error.
/// A host whose policy is `off` is refused before anything is read or sent.
pub fn gather(args: &CopilotArgs, paths: &Paths, need_ai: bool) -> Result<Setup> {
    crate::workspace::store::check_workspace_name(&args.workspace)?;
    let ai = ai_config(paths)?;
    if need_ai && ai.is_none() {
        bail!(
            "there is no model to ask.\n{}",
            crate::ai::config::setup_help(Some(&paths.config_file()))
        );
    }
    let profile = match &ai {
        Some(ai) => Some(choose_profile(ai, args.profile.as_deref())?),
        None if args.profile.is_some() => {
            bail!(
                "--profile needs an [ai] section in {}",
                paths.config_file().display()
            )
        }
        None => None,
    };
    let inventory = match &args.host {
        Some(host) => {
            let inventory = HostsFile::for_workspace(paths, &args.workspace)?
                .load()
                .with_context(|| {
                    format!("cannot tell whether the copilot may be used on {host}")
                })?;
            if inventory.ai_policy(host) == AiPolicy::Off {
                return Err(SessionError::Off { host: host.clone() }.into());
            }
            inventory
        }
        None => Inventory::default(),
    };
    let vaults = open_vaults(paths, &args.workspace, args.passphrase_file.as_deref())?;
    let refs: Vec<&Vault> = vaults.iter().map(|(_, v)| v).collect();
    let secrets = Secrets::from_vaults(&refs);
    let lines = match &args.pane_text {
        Some(f) => pane_lines(f)?,
        None => Vec::new(),
    };
    let mut setup = Setup {
        ai,
        profile,
        host: args.host.clone(),
        facts: None,
        scan_summary: None,
        lines,
        vault_entries: Vec::new(),
        secrets,
        vaults,
        warnings: Vec::new(),
    };
    if need_ai {
        setup.check_key()?;
    }
    if let Some(host) = &args.host {
        let groups = inventory
            .get(host)
            .map(|h| h.groups.clone())
            .unwrap_or_default();
        setup.vault_entries = setup
            .vaults
            .iter()
            .flat_map(|(_, v)| v.entries())
            .filter(|e| e.is_bound_to(host, &groups))
            .map(|e| (e.name.clone(), e.kind))
            .collect();
        match host_facts(host, &inventory, args, paths) {
            Ok(f) => setup.facts = Some(f),
            Err(e) => setup.warnings.push(format!(
                "the facts of {host} could not be gathered ({}); going on without them",
                crate::text::error_chain(e.as_ref())
            )),
        }
        match scan_summary(paths, &args.workspace, host) {
            Ok(s) => setup.scan_summary = s,
            Err(e) => setup
                .warnings
                .push(format!("the scan history of {host} is unreadable: {e:#}")),
        }
    }
    Ok(setup)
}

/// The personal and workspace vaults that exist, unlocked with the passphrase file or a
/// prompt on the terminal.
pub fn open_vaults(
    paths: &Paths,
    workspace: &str,
    passphrase_file: Option<&Path>,
) -> Result<Vec<(Scope, Vault)>> {
    open_vaults_because(
        paths,
        workspace,
        passphrase_file,
        "lumen masks the {scope} vault's values in what it sends to the model",
        "the {scope} vault must be unlocked so its values can be masked",
    )
}

/// The existing vaults (personal, then the workspace's), unlocked with the passphrase file or
/// a prompt per vault that says `why` (`{scope}` is replaced); `needed` words the error
/// without a terminal.
pub fn open_vaults_because(
    paths: &Paths,
    workspace: &str,
    passphrase_file: Option<&Path>,
    why: &str,
    needed: &str,
) -> Result<Vec<(Scope, Vault)>> {
    let candidates = [
        (Scope::Personal, paths.personal_vault()),
        (
            Scope::Workspace,
            paths.workspace_dir(workspace).join("vault.lumen"),
        ),
    ];
    let from_file = passphrase_file.map(first_line_of_file).transpose()?;
    let mut out = Vec::new();
    for (scope, path) in candidates.into_iter().filter(|(_, p)| p.exists()) {
        let pass = match &from_file {
            Some(p) => p.clone(),
            // Say why: the question itself needs no secret, but its text must be masked.
            None => prompt_hidden(&format!(
                "{}; passphrase for the {} vault: ",
                why.replace("{scope}", scope.as_str()),
                scope.as_str()
            ))
            .with_context(|| needed.replace("{scope}", scope.as_str()))?,
        };
        out.push((scope, Vault::open(&path, &pass)?));
    }
    Ok(out)
}

/// The lines of a `--pane-text` file, last lines last.
fn pane_lines(path: &Path) -> Result<Vec<String>> {
    let bytes = crate::text::read_capped(path, MAX_PANE_TEXT)
        .with_context(|| format!("reading {}", path.display()))?;
    Ok(String::from_utf8_lossy(&bytes)
        .lines()
        .map(str::to_string)
        .collect())
}

/// Run [`FACTS_COMMAND`] once on `host`, resolved as `lumen connect` would (ssh_config, the
/// inventory, lumen's known_hosts; host-key questions on the terminal).
fn host_facts(
    host: &str,
    inventory: &Inventory,
    args: &CopilotArgs,
    paths: &Paths,
) -> Result<HostFacts> {
    let connect_args = ConnectArgs {
        port: None,
        ssh: Default::default(),
        forward_agent: false,
        workspace: args.workspace.clone(),
        no_tty: false,
        words: vec![host.to_string()],
    };
    let base = connect::options(&connect_args, paths);
    let resolve = connect::resolve_options(&connect_args)?;
    let plan = connect::plans(&connect_args, inventory, &resolve, &base)?
        .into_iter()
        .next()
        .context("no plan for the host")?;
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("cannot start the async runtime")?;
    let out = runtime.block_on(async {
        let prompter = crate::cli::tty_prompt::terminal_prompter(|ask| ask());
        let connector = Connector::new(base, prompter);
        let opts = ExecOptions {
            timeout: FACTS_TIMEOUT,
            max_output: FACTS_MAX_OUTPUT,
            stdin: None,
            cancel: None,
            hold_stdin: false,
        };
        connector.exec(&plan, FACTS_COMMAND, &opts).await
    })?;
    Ok(parse_facts(&String::from_utf8_lossy(&out.stdout)))
}

/// The summary of the host's last scan, when the workspace has scan history for it.
fn scan_summary(paths: &Paths, workspace: &str, host: &str) -> Result<Option<String>> {
    let db = paths.workspace_dir(workspace).join(crate::scan::DB_FILE);
    if !db.exists() {
        return Ok(None);
    }
    let store = crate::scan::Store::open(&db)?;
    Ok(store.latest(host)?.map(|s| s.summary()))
}
