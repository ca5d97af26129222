//! `lumen ai …`: the AI safety layer and the copilot on the command line. `assess` classifies
//! shell commands; `redact` prints what the model would see of a file or stdin; `ask` puts one
//! question to the configured model (it never runs anything); `context` shows what `ask` would
//! send; `history` lists the saved conversations; `setup` writes the `[ai]` section. Each
//! subcommand is one variant of [`AiCommand`] and one function (or file under `ai/`) here.

mod ask;
mod configure;
mod context;
mod history;
pub(crate) mod setup;

pub use ask::{AskArgs, NOT_RUN};
pub use configure::SetupArgs;
pub use context::{ContextArgs, MESSAGES_HEADING, SYSTEM_HEADING, TOOLS_HEADING};
pub use history::HistoryArgs;
pub use setup::{CopilotArgs, NO_HOST};

use crate::ai::redact::{Secrets, prepare};
use crate::ai::risk::{Risk, assess};
use crate::paths::Paths;
use crate::vault::{Vault, VaultError};
use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use serde::Serialize;
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Args)]
pub struct AiArgs {
    #[command(subcommand)]
    pub command: AiCommand,
}

#[derive(Debug, Subcommand)]
pub enum AiCommand {
    /// Classify shell commands as low, medium or high risk, with the reasons. Exits 0 whatever
    /// the risk: it reports, it does not judge.
    Assess(AssessArgs),
    /// Print what an AI model would see of FILE (or stdin): escape sequences and hidden text
    /// removed, secrets masked.
    Redact(RedactArgs),
    /// Ask the configured model (config.toml's [ai]) one question, optionally about a host,
    /// and print its answer and the commands it proposes, with lumen's risk for each. Nothing
    /// is ever run. Everything sent is redacted first; the exchange is saved to the host's
    /// history.
    Ask(AskArgs),
    /// Print exactly what `lumen ai ask` would send with the same options (the redacted
    /// system text, question and tool list; --json: the provider's URL and wire body), sending
    /// nothing.
    Context(ContextArgs),
    /// List the saved copilot conversations: one line per host, or one host's records.
    History(HistoryArgs),
    /// Write config.toml's [ai] section (provider, model, where the key is) and keep the API
    /// key in the personal vault, never in config.toml. Asks for what the flags leave out.
    #[command(alias = "config")]
    Setup(SetupArgs),
}

#[derive(Debug, Args)]
pub struct AssessArgs {
    /// Print one JSON object per command: {"command", "risk", "reasons", "auto_run"}, and
    /// "asks_because" when a host with `ai = "read-only-auto"` would still ask before it runs.
    #[arg(long)]
    pub json: bool,
    /// The command (its words are joined with spaces), or `-` to read one command per line
    /// from stdin. Put `--` before it: `lumen ai assess -- rm -rf /tmp/x`.
    #[arg(
        required = true,
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "COMMAND"
    )]
    pub command: Vec<String>,
}

#[derive(Debug, Args)]
pub struct RedactArgs {
    /// The file to read (terminal output, a log, a config); stdin when absent.
    pub file: Option<PathBuf>,
    /// Also mask the values of the personal and workspace vaults (asks for the passphrase).
    #[arg(long)]
    pub vault: bool,
    /// Read the vault passphrase from the first line of a file (for scripts).
    #[arg(long, value_name = "F", requires = "vault")]
    pub passphrase_file: Option<PathBuf>,
    /// Workspace whose vault is used with --vault.
    #[arg(long, default_value = "default", value_name = "NAME")]
    pub workspace: String,
    /// Print {"text": ..., "redactions": [{"kind", "start", "end"}]}.
    #[arg(long)]
    pub json: bool,
}

pub fn run(args: AiArgs, paths: &Paths) -> Result<ExitCode> {
    let out = match args.command {
        AiCommand::Assess(a) => run_assess(&a)?,
        AiCommand::Redact(a) => run_redact(&a, paths)?,
        // These print as they go (an answer streams in).
        AiCommand::Ask(a) => return ask::run(&a, paths).map(|()| ExitCode::SUCCESS),
        AiCommand::Context(a) => return context::run(&a, paths).map(|()| ExitCode::SUCCESS),
        AiCommand::History(a) => return history::run(&a, paths).map(|()| ExitCode::SUCCESS),
        AiCommand::Setup(a) => return configure::run(&a, paths).map(|()| ExitCode::SUCCESS),
    };
    let mut stdout = std::io::stdout().lock();
    stdout.write_all(&out)?;
    stdout.flush()?;
    Ok(ExitCode::SUCCESS)
}

/// One line of `assess --json`, fields in the documented order.
#[derive(Serialize)]
struct AssessLine<'a> {
    command: &'a str,
    risk: Risk,
    reasons: Vec<&'a str>,
    /// Runs without a keystroke under `read-only-auto` (lumen's read-only allow-list).
    auto_run: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    asks_because: Option<String>,
}

/// The most `lumen ai assess -` reads from stdin (commands, one a line).
const ASSESS_INPUT_LIMIT: u64 = 16 << 20;

fn run_assess(a: &AssessArgs) -> Result<Vec<u8>> {
    let commands: Vec<String> = if a.command == ["-"] {
        let input = crate::text::read_capped_from(std::io::stdin().lock(), ASSESS_INPUT_LIMIT)
            .context("reading commands from stdin")?;
        let input = String::from_utf8(input).map_err(|e| {
            anyhow::anyhow!(
                "reading commands from stdin: not valid UTF-8 (at byte {})",
                e.utf8_error().valid_up_to()
            )
        })?;
        input
            .lines()
            .filter(|l| !l.trim().is_empty())
            .map(str::to_string)
            .collect()
    } else {
        vec![a.command.join(" ")]
    };
    let mut out = String::new();
    for cmd in commands {
        let verdict = assess(&cmd);
        let allowed = crate::ai::risk::read_only(&cmd);
        if a.json {
            let line = AssessLine {
                command: &cmd,
                risk: verdict.risk,
                reasons: verdict.reasons.iter().map(|r| r.text.as_str()).collect(),
                auto_run: verdict.risk == Risk::Low && allowed.is_ok(),
                asks_because: allowed.err(),
            };
            out += &crate::text::escape_json_controls(&serde_json::to_string(&line)?);
            out.push('\n');
        } else {
            // The command is shown as typed, but a control character in it (an ESC that would
            // retitle or reprogram the terminal) is shown as an escape.
            let shown = crate::text::escape_controls(&cmd);
            out += &format!("{:<6} {shown}\n", verdict.risk.as_str());
            for r in &verdict.reasons {
                out += &format!(
                    "       - {}\n",
                    crate::text::escape_controls(&r.to_string())
                );
            }
        }
    }
    Ok(out.into_bytes())
}

/// The most `lumen ai redact` reads (a file or stdin).
const REDACT_INPUT_LIMIT: u64 = 256 << 20;

fn run_redact(a: &RedactArgs, paths: &Paths) -> Result<Vec<u8>> {
    let ws = &a.workspace;
    if ws.is_empty() || ws == "." || ws == ".." || ws.contains('/') || ws.contains('\\') {
        bail!("'{ws}' is not a workspace name; use a plain name like 'default'");
    }
    // Capped like every other file lumen reads: /dev/zero or an endless pipe is refused,
    // not held in memory.
    let input = match &a.file {
        Some(f) => crate::text::read_capped(f, REDACT_INPUT_LIMIT)
            .with_context(|| format!("reading {}", f.display()))?,
        None => crate::text::read_capped_from(std::io::stdin().lock(), REDACT_INPUT_LIMIT)
            .context("reading stdin")?,
    };
    let vaults = if a.vault {
        open_vaults(a, paths)?
    } else {
        Vec::new()
    };
    let refs: Vec<&Vault> = vaults.iter().collect();
    let secrets = Secrets::from_vaults(&refs);
    let redacted = prepare(&input, &secrets);
    if a.json {
        let mut s = serde_json::to_string(&redacted)?;
        s.push('\n');
        Ok(s.into_bytes())
    } else {
        Ok(redacted.text.into_bytes())
    }
}

/// The personal and workspace vaults that exist, unlocked; at least one must exist.
fn open_vaults(a: &RedactArgs, paths: &Paths) -> Result<Vec<Vault>> {
    let vaults = setup::open_vaults(paths, &a.workspace, a.passphrase_file.as_deref())?;
    if vaults.is_empty() {
        return Err(VaultError::NoVault {
            path: paths.personal_vault(),
        }
        .into());
    }
    Ok(vaults.into_iter().map(|(_, v)| v).collect())
}
