//! Importing an ssh_config's concrete Host aliases into the inventory; re-imports update.

use super::hosts::{Host, InventoryError};
use super::store::HostsFile;
use crate::ssh::config::{self, ResolveOptions};
use std::path::Path;

/// What an import did, host by host.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImportReport {
    pub added: Vec<String>,
    /// Host name and what changed (`port 22 -> 2222`).
    pub changed: Vec<(String, Vec<String>)>,
    pub unchanged: Vec<String>,
    /// What was not imported and why, with file:line.
    pub skipped: Vec<String>,
    /// Config warnings met while resolving (file:line: message).
    pub warnings: Vec<String>,
}

/// The inventory fields an ssh_config alias gives: only those the config actually sets.
fn from_config(
    alias: &str,
    opts: &ResolveOptions,
) -> Result<(Host, Vec<String>), config::ConfigError> {
    let r = config::resolve(alias, opts)?;
    let set = |k: &str| r.origin(k).is_some();
    let host = Host {
        name: alias.to_string(),
        hostname: set("hostname").then(|| r.hostname.clone()),
        port: set("port").then_some(r.port),
        user: set("user").then(|| r.user.clone()),
        jump: r
            .proxy_jump
            .as_deref()
            .map(|j| j.split(',').map(str::to_string).collect())
            .unwrap_or_default(),
        ..Host::default()
    };
    let mut host = host;
    if !r.identity_files_default {
        host.options.identity_file = r.identity_files.clone();
    }
    let warnings = r.warnings.iter().map(ToString::to_string).collect();
    Ok((host, warnings))
}

/// Merge what the config sets into an existing host; returns the list of changes.
fn merge(existing: &mut Host, found: &Host) -> Vec<String> {
    let mut changes = Vec::new();
    fn show<T: std::fmt::Debug>(v: &Option<T>) -> String {
        v.as_ref().map_or("unset".into(), |x| format!("{x:?}"))
    }
    if found.hostname.is_some() && existing.hostname != found.hostname {
        changes.push(format!(
            "hostname {} -> {}",
            show(&existing.hostname),
            show(&found.hostname)
        ));
        existing.hostname = found.hostname.clone();
    }
    if found.port.is_some() && existing.port != found.port {
        changes.push(format!(
            "port {} -> {}",
            show(&existing.port),
            show(&found.port)
        ));
        existing.port = found.port;
    }
    if found.user.is_some() && existing.user != found.user {
        changes.push(format!(
            "user {} -> {}",
            show(&existing.user),
            show(&found.user)
        ));
        existing.user = found.user.clone();
    }
    if !found.jump.is_empty() && existing.jump != found.jump {
        changes.push(format!("jump {:?} -> {:?}", existing.jump, found.jump));
        existing.jump = found.jump.clone();
    }
    if !found.tags.is_empty() && existing.tags != found.tags {
        changes.push(format!("tags {:?} -> {:?}", existing.tags, found.tags));
        existing.tags = found.tags.clone();
    }
    if !found.groups.is_empty() && existing.groups != found.groups {
        changes.push(format!(
            "groups {:?} -> {:?}",
            existing.groups, found.groups
        ));
        existing.groups = found.groups.clone();
    }
    let ids = &found.options.identity_file;
    if !ids.is_empty() && existing.options.identity_file != *ids {
        changes.push(format!(
            "identity_file {:?} -> {:?}",
            existing.options.identity_file, ids
        ));
        existing.options.identity_file = ids.clone();
    }
    changes
}

/// Import `source` (an ssh_config) into `file`. `opts` supplies home, local user and host;
/// its `config_file` is replaced by `source`, which is read alone, like `ssh -F`.
pub fn import(
    file: &HostsFile,
    source: &Path,
    opts: &ResolveOptions,
) -> Result<ImportReport, InventoryError> {
    let scan = config::concrete_hosts(source, &opts.home_dir).map_err(|e| InventoryError::Io {
        path: source.to_path_buf(),
        source: e,
    })?;
    let opts = ResolveOptions {
        config_file: Some(source.to_path_buf()),
        system_config: None,
        ..opts.clone()
    };
    let mut report = ImportReport::default();
    for (what, at) in &scan.skipped {
        report.skipped.push(format!(
            "{}:{}: {what} (a pattern, not one host)",
            at.file, at.line
        ));
    }
    let mut found = Vec::new();
    for (alias, at) in &scan.aliases {
        if let Err(e) = super::hosts::check_name(alias) {
            report
                .skipped
                .push(format!("{}:{}: Host {alias}: {e}", at.file, at.line));
            continue;
        }
        match from_config(alias, &opts) {
            Ok((host, warnings)) => {
                for w in warnings {
                    if !report.warnings.contains(&w) {
                        report.warnings.push(w);
                    }
                }
                found.push(host);
            }
            Err(e) => report
                .skipped
                .push(format!("{}:{}: Host {alias}: {e}", at.file, at.line)),
        }
    }
    save(file, &found, &mut report)?;
    Ok(report)
}

/// Import an Ansible inventory (INI, or YAML when named `.yml`/`.yaml`/`.json`) into `file`.
pub fn import_ansible(file: &HostsFile, source: &Path) -> Result<ImportReport, InventoryError> {
    let text = std::fs::read_to_string(source).map_err(|e| InventoryError::Io {
        path: source.to_path_buf(),
        source: e,
    })?;
    let read = super::ansible_import::read(source, &text).map_err(InventoryError::Rejected)?;
    let mut report = ImportReport {
        skipped: read.skipped,
        warnings: read.warnings,
        ..ImportReport::default()
    };
    save(file, &read.hosts, &mut report)?;
    Ok(report)
}

/// Add the hosts not there yet, merge the others; under the inventory's lock.
fn save(file: &HostsFile, found: &[Host], report: &mut ImportReport) -> Result<(), InventoryError> {
    file.update(|inv, ed| {
        for host in found {
            match inv.get(&host.name) {
                None => match ed.put(host) {
                    Ok(()) => report.added.push(host.name.clone()),
                    Err(e) => report.skipped.push(format!("Host {}: {e}", host.name)),
                },
                Some(old) => {
                    let mut updated = old.clone();
                    let changes = merge(&mut updated, host);
                    if changes.is_empty() {
                        report.unchanged.push(host.name.clone());
                    } else if let Err(e) = ed.put(&updated) {
                        report.skipped.push(format!("Host {}: {e}", host.name));
                    } else {
                        report.changed.push((host.name.clone(), changes));
                    }
                }
            }
        }
        Ok(())
    })
}
