//! The host inventory (`hosts.toml`): types, parsing with file:line errors, validation.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use toml::Spanned;

/// Per-host connection options; each, when set, wins over ssh_config.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HostOptions {
    /// Seconds between keepalives (ssh ServerAliveInterval).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keepalive_interval: Option<u32>,
    /// Unanswered keepalives before giving up (ssh ServerAliveCountMax).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub keepalive_count_max: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub forward_agent: Option<bool>,
    /// Private key files, tried in order (ssh IdentityFile).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub identity_file: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identities_only: Option<bool>,
    /// yes, no, ask or accept-new.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strict_host_key_checking: Option<String>,
    /// Seconds (ssh ConnectTimeout).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connect_timeout: Option<u32>,
}

impl HostOptions {
    pub fn is_empty(&self) -> bool {
        self == &Self::default()
    }
}

/// One host of the inventory.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Host {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub port: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// Jump hosts, first hop first: inventory names or `[user@]host[:port]`.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub jump: Vec<String>,
    /// Name of the vault entry holding the password or key.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub credential: Option<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub groups: Vec<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub notes: Option<String>,
    #[serde(skip_serializing_if = "HostOptions::is_empty")]
    pub options: HostOptions,
    /// What the copilot may do here (`ask`, `read-only-auto`, `off`); None: the groups' or ask.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ai: Option<crate::workspace::AiPolicy>,
    /// Whether this host's sessions are recorded; None: the groups' setting, else
    /// config.toml's `[logs] record`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<bool>,
}

/// Settings for every host in a group (`[groups.NAME]` in hosts.toml).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct GroupSettings {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ai: Option<crate::workspace::AiPolicy>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub record: Option<bool>,
}

/// All hosts of a workspace, in file order, and per-group settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Inventory {
    pub hosts: Vec<Host>,
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub groups: BTreeMap<String, GroupSettings>,
}

impl Inventory {
    pub fn get(&self, name: &str) -> Option<&Host> {
        self.hosts.iter().find(|h| h.name == name)
    }

    /// Whether `name`'s sessions are recorded, when hosts.toml says: the host's own `record`,
    /// else its groups' (any group that says false wins over one that says true); None
    /// leaves it to config.toml.
    pub fn record(&self, name: &str) -> Option<bool> {
        let host = self.get(name)?;
        if host.record.is_some() {
            return host.record;
        }
        let mut said = None;
        for g in host.groups.iter().filter_map(|g| self.groups.get(g)) {
            match g.record {
                Some(false) => return Some(false),
                Some(true) => said = Some(true),
                None => {}
            }
        }
        said
    }

    /// What the copilot may do on `name`: the host's own `ai`, else the strictest of its
    /// groups', else ask. A name the inventory does not list gets ask.
    pub fn ai_policy(&self, name: &str) -> crate::workspace::AiPolicy {
        let host = self.get(name);
        let groups = host
            .into_iter()
            .flat_map(|h| h.groups.iter())
            .filter_map(|g| self.groups.get(g).and_then(|s| s.ai));
        crate::workspace::AiPolicy::effective(host.and_then(|h| h.ai), groups)
    }

    /// Hosts having the tag and the group (each filter optional).
    pub fn filter<'a>(
        &'a self,
        tag: Option<&'a str>,
        group: Option<&'a str>,
    ) -> impl Iterator<Item = &'a Host> {
        self.hosts.iter().filter(move |h| {
            tag.is_none_or(|t| h.tags.iter().any(|x| x == t))
                && group.is_none_or(|g| h.groups.iter().any(|x| x == g))
        })
    }
}

/// The inventory's values for `host`, as `-o Keyword=value` lines (applied first, so they win).
fn overrides(host: &Host) -> Vec<(String, String)> {
    let mut o = Vec::new();
    let mut push = |k: &str, v: String| o.push((k.to_string(), v));
    if let Some(h) = &host.hostname {
        push("Hostname", h.replace('%', "%%"));
    }
    if let Some(u) = &host.user {
        push("User", u.clone());
    }
    if let Some(p) = host.port {
        push("Port", p.to_string());
    }
    if !host.jump.is_empty() {
        push("ProxyJump", host.jump.join(","));
    }
    let opts = &host.options;
    for f in &opts.identity_file {
        push("IdentityFile", f.clone());
    }
    if let Some(v) = opts.keepalive_interval {
        push("ServerAliveInterval", v.to_string());
    }
    if let Some(v) = opts.keepalive_count_max {
        push("ServerAliveCountMax", v.to_string());
    }
    if let Some(v) = opts.forward_agent {
        push("ForwardAgent", if v { "yes" } else { "no" }.into());
    }
    if let Some(v) = opts.identities_only {
        push("IdentitiesOnly", if v { "yes" } else { "no" }.into());
    }
    if let Some(v) = &opts.strict_host_key_checking {
        push("StrictHostKeyChecking", v.clone());
    }
    if let Some(v) = opts.connect_timeout {
        push("ConnectTimeout", v.to_string());
    }
    o
}

impl crate::ssh::config::HostLookup for Inventory {
    fn lookup(&self, name: &str) -> Option<crate::ssh::config::HostOverrides> {
        let host = self.get(name)?;
        Some(crate::ssh::config::HostOverrides {
            options: overrides(host),
            credential: host.credential.clone(),
        })
    }
}

/// Errors of the workspace files. Messages name the file and line and say what to fix.
#[derive(Debug, thiserror::Error)]
pub enum InventoryError {
    #[error("{}:{line}: {message}", path.display())]
    Invalid {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error("cannot read or write {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("no host named {0:?} in this workspace; see `lumen hosts list`")]
    UnknownHost(String),
    #[error("a host named {0:?} already exists; use `lumen hosts edit {0}` to change it")]
    Duplicate(String),
    #[error("{0}")]
    Rejected(String),
    #[error(
        "no workspace named {name:?}; known workspaces: {}. A workspace is created by its first \
         host: `lumen hosts add NAME --workspace {name}`",
        known.join(", ")
    )]
    UnknownWorkspace { name: String, known: Vec<String> },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDoc {
    #[serde(default)]
    hosts: BTreeMap<Spanned<String>, Spanned<Record>>,
    #[serde(default)]
    groups: BTreeMap<Spanned<String>, GroupRecord>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct GroupRecord {
    ai: Option<Spanned<String>>,
    record: Option<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Record {
    hostname: Option<Spanned<String>>,
    port: Option<Spanned<u16>>,
    user: Option<Spanned<String>>,
    #[serde(default)]
    jump: Vec<Spanned<String>>,
    credential: Option<String>,
    #[serde(default)]
    tags: Vec<String>,
    #[serde(default)]
    groups: Vec<String>,
    notes: Option<String>,
    options: Option<Spanned<HostOptions>>,
    ai: Option<Spanned<String>>,
    record: Option<bool>,
}

pub(crate) fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset).unwrap_or(text).matches('\n').count() + 1
}

/// Why a host name is unusable, if it is: letters, digits, `.`, `-`, `_` only, as the help says
/// (names are shown in lists, tab titles and messages, and a shared file must not be able to
/// smuggle escape sequences or shell syntax into any of them).
pub fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("a host name cannot be empty".into());
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || ".-_".contains(*c)))
    {
        return Err(format!(
            "host name {} contains {}; use letters, digits, '.', '-', '_'",
            crate::text::quoted(name),
            crate::text::quoted(&c.to_string())
        ));
    }
    if name.starts_with('-') {
        return Err(format!(
            "host name {} starts with '-'",
            crate::text::quoted(name)
        ));
    }
    Ok(())
}

/// Validate one host's values (shared by the parser and the CLI).
pub fn check_host(h: &Host) -> Result<(), (&'static str, String)> {
    check_name(&h.name).map_err(|e| ("name", e))?;
    if let Some(hn) = &h.hostname {
        crate::ssh::names::check_hostname(hn).map_err(|e| ("hostname", e))?;
    }
    if let Some(u) = &h.user {
        crate::ssh::names::check_user(u).map_err(|e| ("user", e))?;
    }
    let controls = |t: &str| {
        t.chars()
            .any(|c| crate::text::is_control(c) && c != '\n' && c != '\t')
    };
    for (field, text) in [("credential", &h.credential), ("notes", &h.notes)] {
        if let Some(text) = text.as_deref().filter(|t| controls(t)) {
            return Err((
                field,
                format!(
                    "{field} {} contains control characters",
                    crate::text::quoted(text)
                ),
            ));
        }
    }
    for (field, list) in [("tags", &h.tags), ("groups", &h.groups)] {
        if let Some(t) = list
            .iter()
            .find(|t| t.is_empty() || t.contains(char::is_whitespace) || controls(t))
        {
            return Err((
                field,
                format!(
                    "{} in {field} must be one word without control characters",
                    crate::text::quoted(t)
                ),
            ));
        }
    }
    if h.port == Some(0) {
        return Err(("port", "port must be between 1 and 65535".into()));
    }
    for j in &h.jump {
        crate::ssh::config::parse_hop(j).map_err(|e| {
            (
                "jump",
                format!("jump host {j:?}: {e}; use NAME or [user@]host[:port]"),
            )
        })?;
    }
    if let Some(s) = &h.options.strict_host_key_checking
        && crate::ssh::config::StrictHostKeyChecking::parse(s).is_none()
    {
        return Err((
            "options",
            format!("strict_host_key_checking {s:?}: use yes, no, ask or accept-new"),
        ));
    }
    Ok(())
}

/// Parse `hosts.toml` text. `path` is only used in messages.
pub fn parse(text: &str, path: &Path) -> Result<Inventory, InventoryError> {
    let invalid = |offset: usize, message: String| InventoryError::Invalid {
        path: path.to_path_buf(),
        line: line_of(text, offset),
        message,
    };
    let doc: FileDoc = toml::from_str(text).map_err(|e| {
        let offset = e.span().map(|s| s.start).unwrap_or(0);
        let source = text
            .lines()
            .nth(line_of(text, offset) - 1)
            .unwrap_or("")
            .trim();
        invalid(
            offset,
            format!("{} (in `{source}`)", crate::text::toml_message(&e)),
        )
    })?;
    let mut entries: Vec<(Spanned<String>, Spanned<Record>)> = doc.hosts.into_iter().collect();
    entries.sort_by_key(|(k, _)| k.span().start);
    let mut hosts = Vec::with_capacity(entries.len());
    for (key, rec) in entries {
        let name_at = key.span().start;
        let rec_at = rec.span().start;
        let rec = rec.into_inner();
        let hostname_at = rec.hostname.as_ref().map_or(rec_at, |h| h.span().start);
        let port_at = rec.port.as_ref().map_or(rec_at, |p| p.span().start);
        let user_at = rec.user.as_ref().map_or(rec_at, |u| u.span().start);
        let jump_at: Vec<usize> = rec.jump.iter().map(|j| j.span().start).collect();
        let options_at = rec.options.as_ref().map_or(rec_at, |o| o.span().start);
        let ai =
            match rec.ai {
                Some(a) => Some(a.get_ref().parse::<crate::workspace::AiPolicy>().map_err(
                    |m| invalid(a.span().start, format!("host {:?}: {m}", key.get_ref())),
                )?),
                None => None,
            };
        let host = Host {
            name: key.into_inner(),
            hostname: rec.hostname.map(Spanned::into_inner),
            port: rec.port.map(Spanned::into_inner),
            user: rec.user.map(Spanned::into_inner),
            jump: rec.jump.into_iter().map(Spanned::into_inner).collect(),
            credential: rec.credential,
            tags: rec.tags,
            groups: rec.groups,
            notes: rec.notes,
            options: rec.options.map(Spanned::into_inner).unwrap_or_default(),
            ai,
            record: rec.record,
        };
        if let Err((field, message)) = check_host(&host) {
            let at = match field {
                "hostname" => hostname_at,
                "port" => port_at,
                "user" => user_at,
                "jump" => jump_at.first().copied().unwrap_or(rec_at),
                "options" => options_at,
                _ => name_at,
            };
            return Err(invalid(at, format!("host {:?}: {message}", host.name)));
        }
        hosts.push(host);
    }
    let mut groups = BTreeMap::new();
    for (name, g) in doc.groups {
        let ai =
            match g.ai {
                Some(a) => Some(a.get_ref().parse::<crate::workspace::AiPolicy>().map_err(
                    |m| invalid(a.span().start, format!("group {:?}: {m}", name.get_ref())),
                )?),
                None => None,
            };
        groups.insert(
            name.into_inner(),
            GroupSettings {
                ai,
                record: g.record,
            },
        );
    }
    Ok(Inventory { hosts, groups })
}

/// Read an inventory file; a missing file is an empty inventory.
pub fn load(path: &Path) -> Result<Inventory, InventoryError> {
    match crate::text::read_capped_string(path, crate::text::SETTINGS_FILE_LIMIT) {
        Ok(text) => parse(&text, path),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Inventory::default()),
        Err(source) => Err(InventoryError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

/// For the TUI: always an inventory (empty on error) and the error to show, so lumen starts.
pub fn load_or_report(path: &Path) -> (Inventory, Option<InventoryError>) {
    match load(path) {
        Ok(inv) => (inv, None),
        Err(e) => (Inventory::default(), Some(e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err_of(text: &str) -> String {
        parse(text, Path::new("hosts.toml"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn parses_in_file_order() {
        let text = "[hosts.zeta]\nhostname = \"z\"\n\n[hosts.alpha]\nport = 2222\ntags = [\"prod\"]\n\
                    [hosts.alpha.options]\nkeepalive_interval = 30\n";
        let inv = parse(text, Path::new("h")).unwrap();
        let names: Vec<&str> = inv.hosts.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, vec!["zeta", "alpha"]);
        assert_eq!(
            inv.get("alpha").unwrap().options.keepalive_interval,
            Some(30)
        );
        assert_eq!(inv.filter(Some("prod"), None).count(), 1);
    }

    #[test]
    fn ai_policy_per_host_and_group() {
        use crate::workspace::AiPolicy;
        let text = "[hosts.db1]\ngroups = [\"prod\"]\n[hosts.web1]\ngroups = [\"prod\"]\nai = \"read-only-auto\"\n\
                    [hosts.dev1]\n[groups.prod]\nai = \"off\"\n";
        let inv = parse(text, Path::new("h")).unwrap();
        assert_eq!(inv.ai_policy("db1"), AiPolicy::Off);
        assert_eq!(inv.ai_policy("web1"), AiPolicy::ReadOnlyAuto);
        assert_eq!(inv.ai_policy("dev1"), AiPolicy::Ask);
        assert_eq!(inv.ai_policy("elsewhere"), AiPolicy::Ask);
        assert!(err_of("[hosts.a]\nai = \"yolo\"\n").starts_with("hosts.toml:2:"));
        assert!(err_of("[groups.g]\n\nai = \"maybe\"\n").starts_with("hosts.toml:3:"));
    }

    #[test]
    fn record_per_host_and_group() {
        let text = "[hosts.db1]\ngroups = [\"prod\", \"audit\"]\n[hosts.web1]\ngroups = [\"audit\"]\nrecord = false\n\
                    [hosts.dev1]\n[groups.prod]\nrecord = false\n[groups.audit]\nrecord = true\n";
        let inv = parse(text, Path::new("hosts.toml")).unwrap();
        assert_eq!(inv.record("db1"), Some(false));
        assert_eq!(inv.record("web1"), Some(false));
        assert_eq!(inv.record("dev1"), None);
        assert_eq!(inv.record("elsewhere"), None);
        assert!(err_of("[hosts.a]\nrecord = \"yes\"\n").starts_with("hosts.toml:2:"));
    }

    #[test]
    fn errors_name_file_and_line() {
        assert!(
            err_of("[hosts.a]\nhostname = \"x\"\nport = \"22\"\n").starts_with("hosts.toml:3:")
        );
        assert!(err_of("[hosts.a]\n\nprot = 22\n").starts_with("hosts.toml:3:"));
        assert!(err_of("[hosts.a]\nport = 0\n").starts_with("hosts.toml:2:"));
        assert!(err_of("[hosts.a]\njump = [\"@x\"]\n").starts_with("hosts.toml:2:"));
        assert!(err_of("\n\n[hosts.\"a b\"]\n").starts_with("hosts.toml:3:"));
        assert!(err_of("[hosts.a]\nhostname = \"x\n").starts_with("hosts.toml:2:"));
        let e = err_of("[hosts.a]\n[hosts.a.options]\nstrict_host_key_checking = \"maybe\"\n");
        assert!(e.starts_with("hosts.toml:2:"), "{e}");
    }
}
