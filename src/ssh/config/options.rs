//! The options being collected while reading ssh_config: first obtained value wins
//! (IdentityFile accumulates), values checked the way OpenSSH 9.2's readconf.c checks them.

use super::jump;
use super::keywords;
use super::lexer::Line;
use std::collections::BTreeMap;

/// Maximum IdentityFile entries OpenSSH keeps (`SSH_MAX_IDENTITY_FILES`).
const MAX_IDENTITY_FILES: usize = 100;
/// Maximum UserKnownHostsFile entries (`SSH_MAX_HOSTS_FILES`).
const MAX_HOSTS_FILES: usize = 32;

/// `StrictHostKeyChecking` values; `ssh -G` prints them as `true`, `false`, `ask`, `accept-new`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StrictHostKeyChecking {
    Yes,
    No,
    Ask,
    AcceptNew,
}

impl StrictHostKeyChecking {
    pub fn parse(s: &str) -> Option<Self> {
        Some(match s.to_ascii_lowercase().as_str() {
            "true" | "yes" => Self::Yes,
            "false" | "no" | "off" => Self::No,
            "ask" => Self::Ask,
            "accept-new" => Self::AcceptNew,
            _ => return None,
        })
    }

    pub fn as_ssh_g(self) -> &'static str {
        match self {
            Self::Yes => "true",
            Self::No => "false",
            Self::Ask => "ask",
            Self::AcceptNew => "accept-new",
        }
    }
}

/// `ForwardAgent yes|no|<socket path>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ForwardAgent {
    No,
    Yes,
    Socket(String),
}

/// Where a value came from, for messages and `lumen hosts show`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    pub file: String,
    pub line: usize,
}

/// What ProxyJump says: unset, `none`, or a chain in `ssh -G` form.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum Jump {
    #[default]
    Unset,
    None,
    Chain(String),
}

/// Options as set by the config (None = not set yet).
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub hostname: Option<String>,
    pub user: Option<String>,
    pub port: Option<u16>,
    pub jump: Jump,
    pub proxy_command: Option<String>,
    pub identity_files: Vec<String>,
    pub identities_only: Option<bool>,
    pub forward_agent: Option<bool>,
    pub forward_agent_socket: Option<String>,
    pub server_alive_interval: Option<u32>,
    pub server_alive_count_max: Option<u32>,
    pub strict_host_key_checking: Option<StrictHostKeyChecking>,
    pub user_known_hosts_files: Vec<String>,
    pub global_known_hosts_files: Vec<String>,
    pub connect_timeout: Option<u32>,
    pub canonicalize_hostname: Option<bool>,
    pub host_key_alias: Option<String>,
    pub ignore_unknown: Option<String>,
    /// Every other known keyword: its first value, raw.
    pub other: BTreeMap<String, String>,
    /// Keywords OpenSSH does not know: kept (first value, raw) but never used.
    pub unknown: BTreeMap<String, String>,
    /// Where each keyword got its value.
    pub origins: BTreeMap<String, Origin>,
}

fn flag(s: &str) -> Option<bool> {
    match s.to_ascii_lowercase().as_str() {
        "yes" | "true" => Some(true),
        "no" | "false" => Some(false),
        _ => None,
    }
}

/// OpenSSH `convtime`: `90`, `1m30s`, `1h`, units s m h d w (either case).
pub fn parse_time(s: &str) -> Option<u32> {
    if s.is_empty() {
        return None;
    }
    let mut total: u64 = 0;
    let mut num = String::new();
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        if c.is_ascii_digit() {
            num.push(c);
            if chars.peek().is_some() {
                continue;
            }
        }
        if num.is_empty() {
            return None;
        }
        let n: u64 = num.parse().ok()?;
        num.clear();
        let mult = if c.is_ascii_digit() {
            1
        } else {
            match c.to_ascii_lowercase() {
                's' => 1,
                'm' => 60,
                'h' => 3600,
                'd' => 86_400,
                'w' => 604_800,
                _ => return None,
            }
        };
        total = total.checked_add(n.checked_mul(mult)?)?;
    }
    if total > i32::MAX as u64 {
        return None;
    }
    u32::try_from(total).ok()
}

fn one_arg(line: &Line) -> Result<&str, String> {
    match line.args.as_slice() {
        [] => Err(format!("no argument after keyword \"{}\"", line.keyword)),
        [a] if a.is_empty() => Err(format!("keyword {} has an empty argument", line.keyword)),
        [a] => Ok(a),
        _ => Err(format!(
            "keyword {} has extra arguments at end of line",
            line.keyword
        )),
    }
}

/// `UserKnownHostsFile` / `GlobalKnownHostsFile`: up to [`MAX_HOSTS_FILES`] paths, or `none`
/// alone; the first line that sets them wins. True when this line set them.
fn hosts_files(line: &Line, slot: &mut Vec<String>, active: bool) -> Result<bool, String> {
    let k = &line.keyword;
    if line.args.iter().any(|a| a.is_empty()) {
        return Err(format!("keyword {k} has an empty argument"));
    }
    let none = line.args.iter().any(|a| a.eq_ignore_ascii_case("none"));
    if none && line.args.len() > 1 {
        return Err(format!("keyword {k} \"none\" argument must appear alone"));
    }
    if line.args.len() > MAX_HOSTS_FILES {
        return Err(format!(
            "too many known hosts files (max {MAX_HOSTS_FILES})"
        ));
    }
    let fresh = active && slot.is_empty();
    if fresh {
        *slot = line.args.clone();
    }
    Ok(fresh)
}

impl Options {
    fn set<T>(slot: &mut Option<T>, value: T, active: bool) -> bool {
        if active && slot.is_none() {
            *slot = Some(value);
            return true;
        }
        false
    }

    /// Apply one line. `Err` is a message for a warning; the line is then ignored.
    pub fn apply(&mut self, line: &Line, active: bool, origin: &Origin) -> Result<(), String> {
        let k = line.keyword.as_str();
        let set = match k {
            "hostname" => Self::set(&mut self.hostname, one_arg(line)?.to_string(), active),
            "user" => Self::set(&mut self.user, one_arg(line)?.to_string(), active),
            "hostkeyalias" => {
                Self::set(&mut self.host_key_alias, one_arg(line)?.to_string(), active)
            }
            "port" => {
                let a = one_arg(line)?;
                let port = a.parse::<u16>().ok().filter(|p| *p > 0);
                let port = port.ok_or_else(|| format!("bad port '{a}'"))?;
                Self::set(&mut self.port, port, active)
            }
            "identityfile" => {
                let a = one_arg(line)?.to_string();
                if active && !self.identity_files.contains(&a) {
                    if self.identity_files.len() >= MAX_IDENTITY_FILES {
                        return Err(format!(
                            "too many identity files (max {MAX_IDENTITY_FILES})"
                        ));
                    }
                    self.identity_files.push(a);
                }
                active
            }
            "identitiesonly" => self.set_flag(line, active, |o| &mut o.identities_only)?,
            "canonicalizehostname" => {
                let a = one_arg(line)?;
                let v = match a.to_ascii_lowercase().as_str() {
                    "yes" | "true" | "always" => true,
                    "no" | "false" | "none" => false,
                    _ => return Err(format!("unknown CanonicalizeHostname value '{a}'")),
                };
                Self::set(&mut self.canonicalize_hostname, v, active)
            }
            "forwardagent" => {
                let a = one_arg(line)?;
                match flag(a) {
                    Some(v) => Self::set(&mut self.forward_agent, v, active),
                    None => {
                        // Not yes/no: a socket path; as in readconf.c, it sets both.
                        Self::set(&mut self.forward_agent, true, active);
                        Self::set(&mut self.forward_agent_socket, a.to_string(), active)
                    }
                }
            }
            "serveraliveinterval" | "connecttimeout" => {
                let a = one_arg(line)?;
                let v = parse_time(a).ok_or_else(|| format!("invalid time value '{a}'"))?;
                let slot = if k == "connecttimeout" {
                    &mut self.connect_timeout
                } else {
                    &mut self.server_alive_interval
                };
                Self::set(slot, v, active)
            }
            "serveralivecountmax" => {
                let a = one_arg(line)?;
                let v = a.parse::<u32>().ok().filter(|v| *v <= i32::MAX as u32);
                let v = v.ok_or_else(|| format!("integer value '{a}' is invalid"))?;
                Self::set(&mut self.server_alive_count_max, v, active)
            }
            "stricthostkeychecking" => {
                let a = one_arg(line)?;
                let v = StrictHostKeyChecking::parse(a)
                    .ok_or_else(|| format!("unsupported StrictHostKeyChecking value '{a}'"))?;
                Self::set(&mut self.strict_host_key_checking, v, active)
            }
            "userknownhostsfile" => hosts_files(line, &mut self.user_known_hosts_files, active)?,
            "globalknownhostsfile" => {
                hosts_files(line, &mut self.global_known_hosts_files, active)?
            }
            "proxyjump" => {
                let parsed = jump::parse_chain(&line.rest)?;
                let free = matches!(self.jump, Jump::Unset) && self.proxy_command.is_none();
                if active && free {
                    self.jump = parsed;
                    if matches!(self.jump, Jump::Chain(_)) {
                        self.proxy_command = Some("none".into());
                    }
                }
                active && free
            }
            "proxycommand" => {
                let cmd = line.rest.trim_start_matches([' ', '\t', '=']).to_string();
                // Ignored once ProxyJump names a chain; `ProxyJump none` leaves it free
                // (what ssh 9.2 -G shows).
                let free = !matches!(self.jump, Jump::Chain(_));
                free && Self::set(&mut self.proxy_command, cmd, active)
            }
            "ignoreunknown" => {
                Self::set(&mut self.ignore_unknown, one_arg(line)?.to_string(), active)
            }
            _ if keywords::is_known(k) => {
                if active && !self.other.contains_key(k) {
                    self.other.insert(k.to_string(), line.args.join(" "));
                    true
                } else {
                    false
                }
            }
            _ => {
                if active && !self.unknown.contains_key(k) {
                    self.unknown.insert(k.to_string(), line.args.join(" "));
                }
                let ignored = self
                    .ignore_unknown
                    .as_deref()
                    .is_some_and(|list| super::pattern::matches_list(k, list, true));
                if ignored {
                    return Ok(());
                }
                return Err(format!("unknown keyword '{k}', ignored"));
            }
        };
        if set && !self.origins.contains_key(k) {
            self.origins.insert(k.to_string(), origin.clone());
        }
        Ok(())
    }

    fn set_flag(
        &mut self,
        line: &Line,
        active: bool,
        slot: impl FnOnce(&mut Self) -> &mut Option<bool>,
    ) -> Result<bool, String> {
        let a = one_arg(line)?;
        let v = flag(a).ok_or_else(|| format!("expected yes or no, got '{a}'"))?;
        Ok(Self::set(slot(self), v, active))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ssh::config::lexer::split_line;

    fn apply(o: &mut Options, raw: &str) -> Result<(), String> {
        let line = split_line(raw).unwrap().unwrap();
        let origin = Origin {
            file: "t".into(),
            line: 1,
        };
        o.apply(&line, true, &origin)
    }

    #[test]
    fn times() {
        assert_eq!(parse_time("90"), Some(90));
        assert_eq!(parse_time("1m30s"), Some(90));
        assert_eq!(parse_time("1H"), Some(3600));
        assert_eq!(parse_time("0"), Some(0));
        assert_eq!(parse_time("abc"), None);
        assert_eq!(parse_time("m"), None);
        assert_eq!(parse_time(""), None);
    }

    #[test]
    fn first_value_wins_and_identity_accumulates() {
        let mut o = Options::default();
        apply(&mut o, "Port 2200").unwrap();
        apply(&mut o, "Port 22").unwrap();
        apply(&mut o, "IdentityFile a").unwrap();
        apply(&mut o, "IdentityFile b").unwrap();
        apply(&mut o, "IdentityFile a").unwrap();
        assert_eq!(o.port, Some(2200));
        assert_eq!(o.identity_files, vec!["a", "b"]);
    }

    #[test]
    fn malformed_values_are_errors() {
        let mut o = Options::default();
        assert!(apply(&mut o, "Port 0").is_err());
        assert!(apply(&mut o, "User a b").is_err());
        assert!(apply(&mut o, "FooBar 1").is_err());
        assert!(apply(&mut o, "UserKnownHostsFile a none").is_err());
        assert!(apply(&mut o, "GlobalKnownHostsFile none b").is_err());
        apply(&mut o, "GlobalKnownHostsFile /g/1 \"/g/2 x\"").unwrap();
        apply(&mut o, "GlobalKnownHostsFile /later").unwrap();
        assert_eq!(o.global_known_hosts_files, ["/g/1", "/g/2 x"]);
        apply(&mut o, "IgnoreUnknown foo*").unwrap();
        apply(&mut o, "FooBar 1").unwrap();
    }

    #[test]
    fn proxy_jump_and_command_exclude_each_other() {
        let mut o = Options::default();
        apply(&mut o, "ProxyCommand nc %h %p").unwrap();
        apply(&mut o, "ProxyJump bastion").unwrap();
        assert_eq!(o.jump, Jump::Unset);
        let mut o = Options::default();
        apply(&mut o, "ProxyJump none").unwrap();
        apply(&mut o, "ProxyJump later").unwrap();
        apply(&mut o, "ProxyCommand nc").unwrap();
        assert_eq!(o.jump, Jump::None);
        assert_eq!(o.proxy_command.as_deref(), Some("nc"));
    }
}
