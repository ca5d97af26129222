//! `{{vault:NAME}}` placeholders: substitution into commands bound for a host, and the reverse,
//! redaction of known secret values out of text.

use super::error::Result;
use super::{Action, Vault};
use base64::Engine;
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

const OPEN: &str = "{{vault:";
const CLOSE: &str = "}}";
/// Values shorter than this are not redacted: "a" or "1234" would mangle ordinary output.
const MIN_REDACT_LEN: usize = 6;

/// The placeholder text for an entry.
pub fn placeholder(name: &str) -> String {
    format!("{OPEN}{name}{CLOSE}")
}

impl Vault {
    /// Replace every `{{vault:NAME}}` in `cmd` with the entry's secret, for `host` (a member of
    /// `groups`). Each entry must be bound to the host (or one of its groups, or `*`); each use
    /// is audited as `substitute`. Text without placeholders comes back unchanged.
    pub fn substitute_placeholders(
        &self,
        cmd: &str,
        host: &str,
        groups: &[String],
    ) -> Result<SecretString> {
        let mut out = Zeroizing::new(String::with_capacity(cmd.len()));
        let mut rest = cmd;
        let mut used = Vec::new();
        while let Some(start) = rest.find(OPEN) {
            let after = &rest[start + OPEN.len()..];
            let Some(end) = after.find(CLOSE) else { break };
            let name = &after[..end];
            let entry = self.get(name)?;
            self.check_bound(entry, host, groups)?;
            out.push_str(&rest[..start]);
            out.push_str(entry.secret.expose_secret());
            used.push(name.to_string());
            rest = &after[end + CLOSE.len()..];
        }
        out.push_str(rest);
        for name in used {
            self.append(Some(&name), Action::Substitute, Some(host))?;
        }
        Ok(SecretString::from(out.as_str()))
    }

    /// Replace every known secret value (and its base64 form) in `text` with its placeholder.
    /// Longer secrets are replaced first so one secret inside another is still caught.
    pub fn redact(&self, text: &str) -> String {
        let mut needles: Vec<(Zeroizing<String>, String)> = Vec::new();
        for e in self.entries() {
            let value = e.secret.expose_secret();
            let mut forms = vec![value.to_string()];
            forms.push(base64::engine::general_purpose::STANDARD.encode(value));
            forms.extend(value.lines().filter(|l| l.len() >= 16).map(str::to_string));
            for f in forms {
                if f.len() >= MIN_REDACT_LEN {
                    needles.push((Zeroizing::new(f), placeholder(&e.name)));
                }
            }
        }
        needles.sort_by_key(|n| std::cmp::Reverse(n.0.len()));
        let mut out = text.to_string();
        for (needle, ph) in &needles {
            if out.contains(needle.as_str()) {
                out = out.replace(needle.as_str(), ph);
            }
        }
        out
    }
}
