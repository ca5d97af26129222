//! `{{vault:NAME}}` placeholders: substitution into commands bound for a host (audited). The
//! reverse, masking secret values out of text, is `crate::ai::redact` (one redactor for all).

use super::error::Result;
use super::{Action, Vault};
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

const OPEN: &str = "{{vault:";
const CLOSE: &str = "}}";

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
}
