//! `lumen ai setup`: write config.toml's `[ai]` section (provider, model, base_url, where the
//! key is) and put the API key in the personal vault as an api-key entry, so config.toml
//! only names it (`api_key = "vault:NAME"`). Asks on the terminal for what the flags leave
//! out; the rest of config.toml is kept as it was.

use crate::ai::config::{AiConfig, example_profile};
use crate::ai::provider::{KeySource, ProviderKind};
use crate::cli::vault::input::{
    MAX_SECRET_FILE, clean_secret, first_line_of_file, prompt_hidden, read_stdin,
};
use crate::paths::Paths;
use crate::vault::{Kind, NewEntry, Scope, Vault};
use anyhow::{Context, Result, bail};
use clap::Args;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use std::io::{BufRead, IsTerminal, Write};
use toml_edit::{DocumentMut, Item, Table, value};

#[derive(Debug, Args)]
pub struct SetupArgs {
    /// anthropic, openai, gemini, xai or openai-compatible (Ollama, llama.cpp, vLLM, …);
    /// asked when absent.
    #[arg(long, value_name = "P")]
    pub provider: Option<String>,
    /// The provider's model name; asked when absent (a current one is offered).
    #[arg(long, value_name = "M")]
    pub model: Option<String>,
    /// The server's URL: needed for openai-compatible, optional for the others.
    #[arg(long, value_name = "URL")]
    pub base_url: Option<String>,
    /// Read the key from this environment variable at start instead of keeping it in the
    /// vault (config.toml gets api_key = "env:NAME").
    #[arg(long, value_name = "NAME", conflicts_with = "key_stdin")]
    pub key_env: Option<String>,
    /// Read the API key from stdin (for scripts); otherwise it is asked with echo off.
    #[arg(long)]
    pub key_stdin: bool,
    /// The vault entry the key is kept in (default: the provider's name).
    #[arg(long, value_name = "NAME")]
    pub key_name: Option<String>,
    /// Read the personal vault's passphrase from the first line of a file (for scripts).
    #[arg(long, value_name = "F")]
    pub passphrase_file: Option<std::path::PathBuf>,
    /// Replace an [ai] section (and a vault entry of that name) that is already there.
    #[arg(long)]
    pub force: bool,
}

pub fn run(args: &SetupArgs, paths: &Paths) -> Result<()> {
    let file = paths.config_file();
    let text = match crate::text::read_capped_string(&file, crate::text::SETTINGS_FILE_LIMIT) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => bail!("cannot read {}: {e}", file.display()),
    };
    let mut doc: DocumentMut = text.parse().with_context(|| {
        format!(
            "{} is not valid TOML; fix it first (nothing was changed)",
            file.display()
        )
    })?;
    if doc.contains_key("ai") && !args.force {
        bail!(
            "{} already has an [ai] section; --force replaces its provider, model, base_url \
             and api_key (other settings stay)",
            file.display()
        );
    }
    let kind = match &args.provider {
        Some(p) => provider(p)?,
        None => provider(&ask_line(
            "provider (anthropic, openai, gemini, xai, openai-compatible)",
            None,
        )?)?,
    };
    let example = example_profile(kind);
    let model = match &args.model {
        Some(m) => m.clone(),
        None => ask_line("model", example.as_ref().map(|p| p.model.as_str()))?,
    };
    let base_url = match (&args.base_url, kind) {
        (Some(u), _) => Some(u.clone()),
        (None, ProviderKind::OpenAiCompatible) => Some(ask_line(
            "the server's base_url",
            example.as_ref().and_then(|p| p.base_url.as_deref()),
        )?),
        (None, _) => None,
    };
    let key = key_source(args, kind)?;
    let ai = section(&mut doc)?;
    ai["provider"] = value(kind.as_str());
    ai["model"] = value(model.as_str());
    match &base_url {
        Some(u) => ai["base_url"] = value(u.as_str()),
        None => {
            ai.remove("base_url");
        }
    }
    match &key {
        Some((source, _)) => ai["api_key"] = value(source.to_string()),
        None => {
            ai.remove("api_key");
        }
    }
    let new_text = doc.to_string();
    // Checked as lumen will read it before anything is stored.
    AiConfig::parse(&file.display().to_string(), &new_text)?
        .context("the [ai] section did not come out")?;
    let mut said = format!(
        "wrote [ai] to {}: provider {}, model {model}",
        file.display(),
        kind.as_str()
    );
    if let Some((source, secret)) = key {
        if let (KeySource::Vault(name), Some(secret)) = (&source, secret) {
            store_key(args, paths, name, kind, secret)?;
            said.push_str(&format!(
                "; the key is in the personal vault as the api-key entry '{name}'"
            ));
        }
        said.push_str(&format!("; api_key = \"{source}\""));
    }
    if let Some(dir) = file.parent() {
        crate::paths::ensure_private_dir(dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
    }
    crate::paths::atomic_write(&file, new_text.as_bytes())
        .with_context(|| format!("cannot write {}", file.display()))?;
    println!("{said}.\nOpen the copilot in lumen with the prefix key, then a.");
    Ok(())
}

/// `[ai]` as a table of its own, made if absent (an inline `ai = {…}` is made a table).
fn section(doc: &mut DocumentMut) -> Result<&mut Table> {
    let is_table = doc.get("ai").is_some_and(Item::is_table);
    if !is_table {
        let mut table = Table::new();
        if let Some(inline) = doc.get("ai").and_then(Item::as_inline_table) {
            for (k, v) in inline.iter() {
                table[k] = Item::Value(v.clone());
            }
        }
        doc["ai"] = Item::Table(table);
    }
    doc["ai"]
        .as_table_mut()
        .context("config.toml's ai is not a table")
}

fn provider(name: &str) -> Result<ProviderKind> {
    ProviderKind::deserialize(
        serde::de::value::StrDeserializer::<serde::de::value::Error>::new(name.trim()),
    )
    .map_err(|_| {
        anyhow::anyhow!(
            "unknown provider '{}'; use anthropic, openai, gemini, xai or openai-compatible",
            name.trim()
        )
    })
}

/// Where the key comes from and, for the vault, the key itself; None: a local server that
/// takes none.
fn key_source(
    args: &SetupArgs,
    kind: ProviderKind,
) -> Result<Option<(KeySource, Option<SecretString>)>> {
    if let Some(var) = &args.key_env {
        let source: KeySource = format!("env:{var}")
            .parse()
            .map_err(|e: String| anyhow::anyhow!(e))?;
        return Ok(Some((source, None)));
    }
    if kind.key_optional() && !args.key_stdin {
        return Ok(None);
    }
    let name = args
        .key_name
        .clone()
        .unwrap_or_else(|| kind.as_str().to_string());
    crate::vault::check_name(&name)?;
    let secret = if args.key_stdin {
        let text = read_stdin(MAX_SECRET_FILE)?;
        clean_secret(text.trim(), Some(Kind::ApiKey))
    } else {
        prompt_hidden(&format!(
            "{kind} API key (kept in the vault, never in config.toml): "
        ))
        .map_err(|e| {
            anyhow::anyhow!(
                "cannot ask for the API key ({e:#}): pipe it in with --key-stdin, or name an \
                 environment variable with --key-env NAME (nothing was changed)"
            )
        })?
    };
    if secret.expose_secret().trim().is_empty() {
        bail!("the API key is empty; nothing was changed");
    }
    Ok(Some((KeySource::Vault(name), Some(secret))))
}

/// Keep `secret` in the personal vault as api-key entry `name` for `kind`.
fn store_key(
    args: &SetupArgs,
    paths: &Paths,
    name: &str,
    kind: ProviderKind,
    secret: SecretString,
) -> Result<()> {
    let path = paths.personal_vault();
    if !path.exists() {
        bail!(
            "there is no personal vault at {} to keep the key in; create one with 'lumen vault \
             init' and run this again, or use --key-env NAME to read the key from the \
             environment (nothing was changed)",
            path.display()
        );
    }
    let pass = match &args.passphrase_file {
        Some(f) => first_line_of_file(f)?,
        None => prompt_hidden("passphrase for the personal vault: ")?,
    };
    let mut vault = Vault::open_for_write(&path, &pass)?;
    let entry = NewEntry {
        kind: Some(Kind::ApiKey),
        provider: Some(kind.as_str().to_string()),
        secret: Some(secret),
        ..NewEntry::default()
    };
    match vault.get(name).map(|e| e.kind) {
        Ok(_) if !args.force => bail!(
            "the vault already has an entry '{name}'; choose another with --key-name, or \
             --force to replace its value (nothing was changed)"
        ),
        Ok(_) => vault.edit(name, entry)?,
        Err(_) => vault.add(name, entry)?,
    }
    crate::cli::vault::save_vault(Scope::Personal, &mut vault)
}

/// A line typed on the terminal (`default` on an empty line); refused without a terminal,
/// where the flag must say it.
fn ask_line(what: &str, default: Option<&str>) -> Result<String> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        bail!("no terminal to ask for the {what}: give it as a flag (see lumen ai setup --help)");
    }
    let mut err = std::io::stderr().lock();
    match default {
        Some(d) => write!(err, "{what} [{d}]: ")?,
        None => write!(err, "{what}: ")?,
    }
    err.flush()?;
    let mut line = String::new();
    stdin.lock().read_line(&mut line)?;
    let line = line.trim();
    match (line, default) {
        ("", Some(d)) => Ok(d.to_string()),
        ("", None) => bail!("no {what} given; nothing was changed"),
        (l, _) => Ok(l.to_string()),
    }
}
