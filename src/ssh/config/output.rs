//! Printing a resolution as `ssh -G` does, and listing a config's concrete Host aliases.

use super::eval::Flags;
use super::glob::glob;
use super::lexer::split_line;
use super::options::Origin;
use super::tokens::expand_tilde;
use super::{ForwardAgent, Resolved};
use std::path::Path;

/// The keywords `lumen hosts resolve` prints, each with the value `ssh -G` prints.
pub const SSH_G_KEYWORDS: &[&str] = &[
    "host",
    "user",
    "hostname",
    "port",
    "proxyjump",
    "proxycommand",
    "identityfile",
    "identitiesonly",
    "forwardagent",
    "serveraliveinterval",
    "serveralivecountmax",
    "stricthostkeychecking",
    "userknownhostsfile",
    "globalknownhostsfile",
    "connecttimeout",
];

fn yes_no(b: bool) -> String {
    if b { "yes" } else { "no" }.to_string()
}

impl Resolved {
    /// The values of one keyword as `ssh -G` lines (none, one, or several for identityfile).
    pub fn ssh_g_values(&self, keyword: &str) -> Vec<String> {
        let one = |s: String| vec![s];
        match keyword {
            "host" => one(self.host_arg.clone()),
            "user" => one(self.user.clone()),
            "hostname" => one(self.hostname.clone()),
            "port" => one(self.port.to_string()),
            "proxyjump" => self.proxy_jump.clone().into_iter().collect(),
            "proxycommand" => self.proxy_command.clone().into_iter().collect(),
            "identityfile" => self.identity_files.clone(),
            "identitiesonly" => one(yes_no(self.identities_only)),
            "forwardagent" => one(match &self.forward_agent {
                ForwardAgent::No => "no".into(),
                ForwardAgent::Yes => "yes".into(),
                ForwardAgent::Socket(s) => s.clone(),
            }),
            "serveraliveinterval" => one(self.server_alive_interval.to_string()),
            "serveralivecountmax" => one(self.server_alive_count_max.to_string()),
            "stricthostkeychecking" => one(self.strict_host_key_checking.as_ssh_g().into()),
            "userknownhostsfile" => one(self.user_known_hosts_files.join(" ")),
            "globalknownhostsfile" => one(self.global_known_hosts_files.join(" ")),
            "connecttimeout" => one(match self.connect_timeout {
                Some(t) => t.to_string(),
                None => "none".into(),
            }),
            other => self.other.get(other).cloned().into_iter().collect(),
        }
    }

    /// `keyword value` lines for [`SSH_G_KEYWORDS`], like `ssh -G`.
    pub fn to_ssh_g(&self) -> String {
        let mut out = String::new();
        for k in SSH_G_KEYWORDS {
            for v in self.ssh_g_values(k) {
                out.push_str(k);
                out.push(' ');
                out.push_str(&v);
                out.push('\n');
            }
        }
        out
    }
}

/// What a config file declares, for `lumen hosts import`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct HostScan {
    /// Concrete aliases (no wildcard, no negation), first occurrence, in file order.
    pub aliases: Vec<(String, Origin)>,
    /// Patterns and Match blocks that name no single host.
    pub skipped: Vec<(String, Origin)>,
}

/// Every `Host` alias in `path` and the files it Includes (all of them, whatever the block).
pub fn concrete_hosts(path: &Path, home: &Path) -> std::io::Result<HostScan> {
    let mut scan = HostScan::default();
    let bytes = crate::text::read_capped(path, crate::text::SETTINGS_FILE_LIMIT)?;
    let text = String::from_utf8_lossy(&bytes);
    scan_text(&text, path, home, &mut scan, 0);
    Ok(scan)
}

/// Include depth limit while scanning, as when resolving.
const MAX_SCAN_DEPTH: usize = 16;

fn scan_text(text: &str, path: &Path, home: &Path, scan: &mut HostScan, depth: usize) {
    let flags = Flags {
        user_conf: true,
        ..Flags::default()
    };
    for (i, raw) in text.split('\n').enumerate() {
        let Ok(Some(line)) = split_line(raw) else {
            continue;
        };
        let origin = Origin {
            file: path.display().to_string(),
            line: i + 1,
        };
        match line.keyword.as_str() {
            "host" => {
                for arg in &line.args {
                    if super::pattern::is_concrete(arg) {
                        if !scan.aliases.iter().any(|(a, _)| a == arg) {
                            scan.aliases.push((arg.clone(), origin.clone()));
                        }
                    } else {
                        scan.skipped.push((format!("Host {arg}"), origin.clone()));
                    }
                }
            }
            "match" => scan
                .skipped
                .push((format!("Match {}", line.args.join(" ")), origin)),
            "include" if depth < MAX_SCAN_DEPTH && flags.user_conf => {
                for arg in &line.args {
                    let full = if arg.starts_with('/') || arg.starts_with('~') {
                        arg.clone()
                    } else {
                        format!("~/.ssh/{arg}")
                    };
                    for p in glob(&expand_tilde(&full, home)) {
                        if let Ok(b) =
                            crate::text::read_capped(&p, crate::text::SETTINGS_FILE_LIMIT)
                        {
                            scan_text(&String::from_utf8_lossy(&b), &p, home, scan, depth + 1);
                        }
                    }
                }
            }
            _ => {}
        }
    }
}
