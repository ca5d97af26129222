//! `{{vault:NAME}}` in a proposed command: the copilot's only way to use a secret. The model
//! is told names and kinds only ([`entries_for_host`]); [`resolve_for_host`] substitutes the
//! values into an approved command for the host the entries are bound to, quoted for where
//! each placeholder stands. A placeholder may stand only where the allow-list of `consumers`
//! says a known program takes a secret (a database client's password option or variable,
//! the input of `sudo -S`, `chpasswd`, …); the deny-list of `sinks` is a second layer. Every
//! substitution is audited by the vault.

mod consumers;
mod sinks;

use crate::ai::shell::{Quoting, Script, quoting};
use crate::vault::{Action, Entry, Kind, Vault, VaultError};
use regex::Regex;
use secrecy::{ExposeSecret, SecretString};
use std::sync::LazyLock;
use zeroize::Zeroizing;

pub use consumers::Verdict;
pub use sinks::is_loopback;
pub(crate) use sinks::nested_matching;

/// Names of the `{{vault:NAME}}` placeholders in `text`, in order of first use, each once.
pub fn vault_names(text: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for cap in PLACEHOLDER.captures_iter(text) {
        if let Some(n) = cap.get(1)
            && !out.iter().any(|o| o == n.as_str())
        {
            out.push(n.as_str().to_string());
        }
    }
    out
}

static PLACEHOLDER: LazyLock<Regex> = LazyLock::new(|| {
    // A constant pattern; the unit tests compile it.
    #[allow(clippy::expect_used)]
    Regex::new(r"\{\{vault:([A-Za-z0-9._/\-]{1,128})\}\}").expect("valid placeholder pattern")
});

/// The host a command is for: its inventory name and its groups (without `@`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HostRef {
    pub name: String,
    pub groups: Vec<String>,
}

/// A command cleared to run on the host's exec channel.
pub struct Approved {
    /// The command with the values in place. Never shown, logged or sent to the model.
    pub command: SecretString,
    /// The command as the operator approved it, placeholders and all.
    pub display: String,
    /// Entry names substituted, in order of first use.
    pub entries: Vec<String>,
    /// Its output may go to the model unasked: the values only reach programs known not to
    /// print them. Otherwise the operator sees the output and may release it.
    pub quiet: bool,
}

impl std::fmt::Debug for Approved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Approved")
            .field("command", &"[redacted]")
            .field("display", &self.display)
            .field("entries", &self.entries)
            .field("quiet", &self.quiet)
            .finish()
    }
}

/// Why a command with placeholders was not run. Shown to the operator as is.
#[derive(Debug, thiserror::Error)]
pub enum Refusal {
    #[error("lumen cannot parse this command as shell, so it will not put a secret into it")]
    Unparseable,
    #[error(
        "there is no vault entry named '{name}' (or its vault is locked); unlock the vault or use a name the copilot lists"
    )]
    UnknownEntry { name: String },
    #[error(
        "vault entry '{name}' is not bound to {host}; bind it with 'lumen vault edit {name} --host {host}' if it belongs there"
    )]
    NotBound { name: String, host: String },
    #[error("{{{{vault:{name}}}}} would be sent by {program} to {destination}, not just to {host}")]
    NetworkClient {
        name: String,
        program: String,
        destination: String,
        host: String,
    },
    #[error("{{{{vault:{name}}}}} would be piped into {program}, which sends data to another host")]
    PipedToNetwork { name: String, program: String },
    #[error("{{{{vault:{name}}}}} is part of a URL for {destination}; secrets only go to {host}")]
    Url {
        name: String,
        destination: String,
        host: String,
    },
    #[error(
        "{{{{vault:{name}}}}} would travel over a raw network connection (/dev/tcp or /dev/udp)"
    )]
    RawSocket { name: String },
    #[error("{{{{vault:{name}}}}} would be written to {path}, where other users can read it")]
    WorldReadable { name: String, path: String },
    #[error(
        "{{{{vault:{name}}}}} would only be printed on the terminal by {program}; use it in the command that needs it"
    )]
    Printed { name: String, program: String },
    #[error("{{{{vault:{name}}}}} sits inside {program} code that lumen cannot follow")]
    Opaque { name: String, program: String },
    #[error("{{{{vault:{name}}}}} stands {place}; lumen puts a vault value only {allowed}")]
    NotAConsumer {
        name: String,
        place: String,
        allowed: &'static str,
    },
    #[error(
        "{program} would take {{{{vault:{name}}}}} without naming its server: add -h localhost (or -h {host}) so lumen can see where the password goes"
    )]
    NoServer {
        name: String,
        program: String,
        host: String,
    },
    #[error(
        "{program} can run shell commands that would see {{{{vault:{name}}}}}; run it with {hint}"
    )]
    ClientCommands {
        name: String,
        program: String,
        hint: &'static str,
    },
    #[error(
        "the program name '{word}' is only known when the command runs, so lumen will not put {{{{vault:{name}}}}} in that line"
    )]
    VariableProgram { name: String, word: String },
    #[error(
        "{{{{vault:{name}}}}} sits in a script that another shell parses again (sh -c, ssh, eval, …); use it in the command itself"
    )]
    Nested { name: String },
    #[error(
        "{what} could change what runs with {{{{vault:{name}}}}} or where it goes; run that on its own first"
    )]
    Environment { name: String, what: String },
    #[error(
        "a command holding {{{{vault:{name}}}}} runs alone, but this line also runs {program}; propose them separately"
    )]
    Alone { name: String, program: String },
    #[error(
        "the value of '{name}' has characters that need quoting, and here ({context}) lumen cannot quote it safely; use the placeholder directly in the command"
    )]
    NeedsQuoting { name: String, context: String },
    #[error(transparent)]
    Vault(#[from] VaultError),
}

/// Names and kinds of the entries usable on `host` (bound to it, to one of its `groups` as
/// `@group`, or to `*`): what the model is told. The first vault holding a name wins.
pub fn entries_for_host(vaults: &[&Vault], host: &str, groups: &[String]) -> Vec<(String, Kind)> {
    let mut out: Vec<(String, Kind)> = Vec::new();
    for v in vaults {
        for e in v.entries() {
            if !out.iter().any(|(n, _)| *n == e.name) && e.is_bound_to(host, groups) {
                out.push((e.name.clone(), e.kind));
            }
        }
    }
    out
}

fn find<'a>(vaults: &[&'a Vault], name: &str) -> Option<(&'a Vault, &'a Entry)> {
    vaults
        .iter()
        .find_map(|v| v.get(name).ok().map(|e| (*v, e)))
}

/// Check `command` for `host` and substitute its placeholders (audited as `substitute`).
/// A command without placeholders comes back as it is.
pub fn resolve_for_host(
    command: &str,
    host: &HostRef,
    vaults: &[&Vault],
) -> Result<Approved, Refusal> {
    resolve(command, host, vaults, Placement::Copilot)
}

/// Like [`resolve_for_host`] for a command people wrote and shared (a runbook step): the
/// host binding is the rule, not the copilot's allow-list of consumers. Values are still
/// quoted for their position (or refused where they cannot be) and every use is audited.
pub fn resolve_bound_for_host(
    command: &str,
    host: &HostRef,
    vaults: &[&Vault],
) -> Result<Approved, Refusal> {
    resolve(command, host, vaults, Placement::BoundOnly)
}

/// Which placement rules apply on top of the host binding.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Placement {
    /// A model wrote the command: the allow-list of consumers and the deny-list of sinks.
    Copilot,
    /// People wrote it: the binding only.
    BoundOnly,
}

fn resolve(
    command: &str,
    host: &HostRef,
    vaults: &[&Vault],
    rules: Placement,
) -> Result<Approved, Refusal> {
    let found: Vec<(usize, usize, String)> = PLACEHOLDER
        .captures_iter(command)
        .filter_map(|c| {
            let all = c.get(0)?;
            Some((all.start(), all.end(), c.get(1)?.as_str().to_string()))
        })
        .collect();
    let mut names: Vec<String> = Vec::new();
    for (_, _, n) in &found {
        if !names.contains(n) {
            names.push(n.clone());
        }
    }
    if names.is_empty() {
        return Ok(Approved {
            command: SecretString::from(command),
            display: command.to_string(),
            entries: Vec::new(),
            quiet: true,
        });
    }
    for name in &names {
        let (_, entry) =
            find(vaults, name).ok_or_else(|| Refusal::UnknownEntry { name: name.clone() })?;
        if !entry.is_bound_to(&host.name, &host.groups) {
            return Err(Refusal::NotBound {
                name: name.clone(),
                host: host.name.clone(),
            });
        }
    }
    let script = Script::parse(command);
    let verdict = match rules {
        Placement::Copilot => placement(&script, command, &host.name)?,
        Placement::BoundOnly if script.error => return Err(Refusal::Unparseable),
        Placement::BoundOnly => Verdict { quiet: false },
    };
    let nested = sinks::nested_names(&script);
    // Check every occurrence before reading any value, so a refusal leaves no audit event.
    let mut plan = Vec::new();
    for (start, end, name) in &found {
        let (vault, entry) =
            find(vaults, name).ok_or_else(|| Refusal::UnknownEntry { name: name.clone() })?;
        let context = quoting(command, *start..*end).ok_or(Refusal::Unparseable)?;
        let is_nested = nested.contains(name);
        quote(entry.secret.expose_secret(), context, is_nested).map_err(|context| {
            Refusal::NeedsQuoting {
                name: name.clone(),
                context,
            }
        })?;
        plan.push((*start, *end, name, vault, context, is_nested));
    }
    let mut out = Zeroizing::new(String::with_capacity(command.len() + 64));
    let mut pos = 0;
    for (start, end, name, vault, context, is_nested) in plan {
        let secret = vault.secret_for_host(name, Action::Substitute, &host.name, &host.groups)?;
        let quoted = quote(secret.expose_secret(), context, is_nested).map_err(|context| {
            Refusal::NeedsQuoting {
                name: name.clone(),
                context,
            }
        })?;
        out.push_str(&command[pos..start]);
        out.push_str(&quoted);
        pos = end;
    }
    out.push_str(&command[pos..]);
    Ok(Approved {
        command: SecretString::from(out.as_str()),
        display: command.to_string(),
        entries: names,
        quiet: verdict.quiet,
    })
}

/// Where the placeholders of `command` stand, judged without the vault (whether the entries
/// exist and are bound to `host` is checked when it runs): the refusal, or whether its output
/// may go to the model unasked. The approval card shows it before the operator decides.
pub fn check_placement(command: &str, host: &str) -> Result<Verdict, Refusal> {
    placement(&Script::parse(command), command, host)
}

fn placement(script: &Script, command: &str, host: &str) -> Result<Verdict, Refusal> {
    if script.error {
        return Err(Refusal::Unparseable);
    }
    // Two layers: the deny-list names a known way out most precisely; the allow-list then
    // refuses everything that is not a known consumer.
    sinks::check(script, host)?;
    consumers::check(script, command, host)
}

/// Characters that mean nothing special to a shell in any position.
fn shell_safe(v: &str) -> bool {
    !v.is_empty()
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"@%+=:,./_-".contains(&b))
}

/// `value` written so the shell reads it back unchanged where the placeholder stood. Values
/// with special characters cannot go into scripts that another shell parses again.
pub(crate) fn quote(
    value: &str,
    context: Quoting,
    nested: bool,
) -> Result<Zeroizing<String>, String> {
    if shell_safe(value) {
        return Ok(Zeroizing::new(value.to_string()));
    }
    if nested {
        return Err("inside a script that another shell runs (sh -c, ssh, eval, …)".into());
    }
    let mut s = Zeroizing::new(String::with_capacity(value.len() + 8));
    match context {
        Quoting::Bare => {
            s.push('\'');
            s.push_str(&value.replace('\'', "'\\''"));
            s.push('\'');
        }
        Quoting::Single => s.push_str(&value.replace('\'', "'\\''")),
        Quoting::Double | Quoting::HereDoc { expands: true } => {
            if matches!(context, Quoting::HereDoc { .. }) && value.contains('\n') {
                return Err("a multi-line value in a here-document".into());
            }
            for c in value.chars() {
                if matches!(c, '\\' | '$' | '`') || (c == '"' && context == Quoting::Double) {
                    s.push('\\');
                }
                s.push(c);
            }
        }
        Quoting::AnsiC => {
            for c in value.chars() {
                match c {
                    '\\' | '\'' => {
                        s.push('\\');
                        s.push(c);
                    }
                    '\n' => s.push_str("\\n"),
                    c => s.push(c),
                }
            }
        }
        Quoting::HereDoc { expands: false } if !value.contains('\n') => s.push_str(value),
        Quoting::HereDoc { .. } => return Err("a multi-line value in a here-document".into()),
        Quoting::Other => return Err("a comment, pattern or arithmetic expression".into()),
    }
    Ok(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting_round_trips_through_a_real_shell_reading() {
        assert!(PLACEHOLDER.is_match("{{vault:db/root}}"));
        let v = "it's $HOME `x` \"q\" \\";
        assert_eq!(
            *quote(v, Quoting::Bare, false).unwrap(),
            "'it'\\''s $HOME `x` \"q\" \\'"
        );
        assert_eq!(
            *quote("plain-Val.1", Quoting::Bare, true).unwrap(),
            "plain-Val.1"
        );
        assert!(quote(v, Quoting::Bare, true).is_err());
        assert_eq!(
            *quote("a\"b$c", Quoting::Double, false).unwrap(),
            "a\\\"b\\$c"
        );
    }
}
