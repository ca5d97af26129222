//! `lumen ai context`: exactly what `lumen ai ask` would send with the same options, sending
//! nothing. The request is built by [`crate::ai::copilot::build_request`] (so it is redacted
//! as a real one) and turned into the provider's own wire body by
//! [`crate::ai::provider::request_body`], the function the provider posts.

use super::setup::{CopilotArgs, gather};
use crate::ai::copilot::{Built, Session};
pub use crate::ai::copilot::{MESSAGES_HEADING, SYSTEM_HEADING, TOOLS_HEADING};
use crate::ai::provider::{Message, request_body, request_url};
use crate::paths::Paths;
use crate::workspace::AiPolicy;
use anyhow::Result;
use clap::Args;
use serde::Serialize;
use std::io::Write;

#[derive(Debug, Args)]
pub struct ContextArgs {
    #[command(flatten)]
    pub copilot: CopilotArgs,
    /// Print {"provider", "model", "url", "body", "masked", "injection"}: `body` is the JSON
    /// that would be posted to `url`, byte for byte.
    #[arg(long)]
    pub json: bool,
    /// The question to include, as `lumen ai ask` would (redacted); without it the request
    /// carries the context only.
    #[arg(value_name = "QUESTION")]
    pub question: Vec<String>,
}

#[derive(Serialize)]
struct JsonContext<'a> {
    /// None without an `[ai]` section: then `body` is not a provider's wire format.
    provider: Option<&'a str>,
    model: Option<&'a str>,
    url: Option<String>,
    body: serde_json::Value,
    /// Secret values masked in the context.
    masked: usize,
    /// Text addressed to an AI found on the screen or in the host's facts.
    injection: &'a [String],
}

pub fn run(args: &ContextArgs, paths: &Paths) -> Result<()> {
    let setup = gather(&args.copilot, paths, false)?;
    for w in &setup.warnings {
        crate::errln!("lumen ai context: warning: {w}");
    }
    let mut session = Session::new(setup.history_host(), AiPolicy::Ask, 1, 0);
    let question = args.question.join(" ");
    if !question.trim().is_empty() {
        session.ask(&question, setup.question(&question))?;
    }
    let built = setup.build(&session);
    let endpoint = setup.profile.as_ref().map(|p| p.endpoint(None));
    let url = endpoint.as_ref().map(request_url).transpose()?;
    let mut stdout = std::io::stdout().lock();
    if args.json {
        let body = match &endpoint {
            Some(e) => request_body(e.kind, &e.model, &built.request),
            None => generic_body(&built),
        };
        let json = JsonContext {
            provider: endpoint.as_ref().map(|e| e.kind.as_str()),
            model: endpoint.as_ref().map(|e| e.model.as_str()),
            url,
            body,
            masked: built.masked,
            injection: &built.injection,
        };
        let text = serde_json::to_string_pretty(&json)?;
        writeln!(stdout, "{}", crate::text::escape_json_controls(&text))?;
        return Ok(());
    }
    let mut text = match (&endpoint, &url) {
        (Some(e), Some(u)) => format!(
            "This request would be posted to {u} ({} model {}); nothing was sent.\n\
             (--json prints the exact body.)\n",
            e.kind.as_str(),
            e.model
        ),
        _ => "There is no [ai] section in config.toml, so no provider: this is the request any \
              of them would be sent; nothing was sent.\n"
            .to_string(),
    };
    text.push_str(&built.readable());
    stdout.write_all(crate::text::escape_lines(&text).as_bytes())?;
    drop(stdout);
    crate::errln!(
        "{} secret values masked; {} lines of pane text, at most {} sent",
        built.masked,
        setup.lines.len(),
        setup
            .ai
            .as_ref()
            .map_or(crate::ai::config::DEFAULT_CONTEXT_LINES, |a| a
                .context_lines)
    );
    for w in &built.injection {
        crate::errln!("warning: text addressed to an AI assistant: {w}");
    }
    Ok(())
}

/// Without a provider, the request in a neutral shape.
fn generic_body(built: &Built) -> serde_json::Value {
    let messages: Vec<serde_json::Value> = built
        .request
        .messages
        .iter()
        .filter_map(|m| match m {
            Message::User(q) => Some(q),
            _ => None,
        })
        .chain(&built.request.context)
        .map(|q| serde_json::json!({"role": "user", "content": q}))
        .collect();
    let tools: Vec<serde_json::Value> = built
        .request
        .tools
        .iter()
        .map(|t| {
            serde_json::json!({"name": t.name, "description": t.description,
                               "parameters": t.json_schema})
        })
        .collect();
    serde_json::json!({
        "system": built.system,
        "messages": messages,
        "tools": tools,
        "max_tokens": built.request.max_tokens,
    })
}
