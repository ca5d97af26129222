//! The inventory for Ansible: `hosts export --format ansible` (the JSON of dynamic-inventory
//! scripts, `--list`/`--host`) and `ansible-yaml` (a static YAML inventory), with every value
//! resolved as OpenSSH would (ssh_config under hosts.toml) and jump chains as `ProxyJump`.
//! Never a secret: no password, no vault entry name. Reading Ansible's INI and YAML inventories
//! back is [`super::ansible_import`].

use super::hosts::{Host, Inventory};
use crate::ssh::config::{self, ResolveOptions};
use crate::ssh::{ConnectOptions, Plan};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;

/// Ansible group names are identifiers: other characters become `_`.
pub fn group_name(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if out.starts_with(|c: char| c.is_ascii_digit()) || out.is_empty() {
        out.insert(0, '_');
    }
    out
}

/// The group a tag becomes.
pub fn tag_group(tag: &str) -> String {
    format!("tag_{}", group_name(tag))
}

/// A hop as `ssh -J` writes it: `user@host:port`, `user@[v6]:port`.
fn jump_spec(hop: &crate::ssh::PlannedHop) -> String {
    format!("{}@{}", hop.target.user, hop.addr())
}

/// `'…'` for a shell-style word (Ansible splits `ansible_ssh_common_args` with shlex).
fn quote(word: &str) -> String {
    if word
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "@%+=:,./-_[]".contains(c))
    {
        return word.to_string();
    }
    format!("'{}'", word.replace('\'', r"'\''"))
}

/// One host's variables.
fn hostvars(host: &Host, plan: &Plan, user_set: bool) -> Map<String, Value> {
    let t = &plan.target;
    let mut vars = Map::new();
    vars.insert("ansible_host".into(), json!(t.target.host));
    vars.insert("ansible_port".into(), json!(t.target.port));
    if user_set {
        vars.insert("ansible_user".into(), json!(t.target.user));
    }
    let mut args = Vec::new();
    if !plan.jumps.is_empty() {
        let chain: Vec<String> = plan.jumps.iter().map(jump_spec).collect();
        args.push(format!(
            "-o {}",
            quote(&format!("ProxyJump={}", chain.join(",")))
        ));
    } else if let Some(pc) = &t.proxy_command {
        args.push(format!("-o {}", quote(&format!("ProxyCommand={pc}"))));
    }
    if !args.is_empty() {
        vars.insert("ansible_ssh_common_args".into(), json!(args.join(" ")));
    }
    if let Some(key) = t.options.identity_files.first() {
        vars.insert(
            "ansible_ssh_private_key_file".into(),
            json!(key.display().to_string()),
        );
    }
    if !host.tags.is_empty() {
        vars.insert("lumen_tags".into(), json!(host.tags));
    }
    vars
}

/// The hosts resolved, with their groups (lumen groups and `tag_TAG`).
#[derive(Debug, Default)]
pub struct AnsibleInventory {
    pub hostvars: BTreeMap<String, Map<String, Value>>,
    pub groups: BTreeMap<String, Vec<String>>,
    /// Hosts in no group.
    pub ungrouped: Vec<String>,
    /// Hosts left out and why.
    pub warnings: Vec<String>,
}

/// Resolve `hosts` of `inv` for Ansible.
pub fn export<'a>(
    inv: &Inventory,
    hosts: impl IntoIterator<Item = &'a Host>,
    resolve: &ResolveOptions,
) -> AnsibleInventory {
    // No keys, no known_hosts: planning only resolves names, it connects nowhere.
    let base = ConnectOptions::isolated(std::path::Path::new("/dev/null"));
    let mut out = AnsibleInventory::default();
    for host in hosts {
        let plan = match crate::ssh::plan(&host.name, inv, resolve, &base) {
            Ok(p) => p,
            Err(e) => {
                out.warnings.push(format!("{}: left out: {e}", host.name));
                continue;
            }
        };
        let user_set = config::effective(&host.name, inv, resolve)
            .origin("user")
            .is_some();
        out.hostvars
            .insert(host.name.clone(), hostvars(host, &plan, user_set));
        let groups: Vec<String> = host
            .groups
            .iter()
            .map(|g| group_name(g))
            .chain(host.tags.iter().map(|t| tag_group(t)))
            .collect();
        if groups.is_empty() {
            out.ungrouped.push(host.name.clone());
        }
        for g in groups {
            let members = out.groups.entry(g).or_default();
            if !members.contains(&host.name) {
                members.push(host.name.clone());
            }
        }
    }
    out
}

impl AnsibleInventory {
    /// What an inventory script prints for `--list`.
    pub fn to_list_json(&self) -> Value {
        let mut doc = Map::new();
        doc.insert("_meta".into(), json!({ "hostvars": self.hostvars }));
        let mut children: Vec<&str> = self.groups.keys().map(String::as_str).collect();
        children.push("ungrouped");
        doc.insert("all".into(), json!({ "children": children }));
        for (g, members) in &self.groups {
            doc.insert(g.clone(), json!({ "hosts": members }));
        }
        doc.insert("ungrouped".into(), json!({ "hosts": self.ungrouped }));
        Value::Object(doc)
    }

    /// What an inventory script prints for `--host NAME`: its variables.
    pub fn host_json(&self, name: &str) -> Option<Value> {
        self.hostvars.get(name).map(|v| Value::Object(v.clone()))
    }

    /// A static YAML inventory: variables under `all.hosts`, membership under `children`.
    pub fn to_yaml(&self) -> Result<String, serde_norway::Error> {
        let children: Map<String, Value> = self
            .groups
            .iter()
            .map(|(g, members)| {
                let hosts: Map<String, Value> =
                    members.iter().map(|h| (h.clone(), Value::Null)).collect();
                (g.clone(), json!({ "hosts": hosts }))
            })
            .collect();
        let mut all = Map::new();
        all.insert("hosts".into(), json!(self.hostvars));
        if !children.is_empty() {
            all.insert("children".into(), Value::Object(children));
        }
        let doc = json!({ "all": all });
        Ok(format!(
            "# Ansible inventory written by `lumen hosts export --format ansible-yaml`\n{}",
            serde_norway::to_string(&doc)?
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_names_become_identifiers() {
        assert_eq!(group_name("web-eu.1"), "web_eu_1");
        assert_eq!(group_name("9lives"), "_9lives");
        assert_eq!(tag_group("prod"), "tag_prod");
    }

    #[test]
    fn quoting_keeps_plain_words_and_quotes_the_rest() {
        assert_eq!(quote("ProxyJump=a@b:22,c@d:2"), "ProxyJump=a@b:22,c@d:2");
        assert_eq!(quote("ProxyCommand=nc %h %p"), "'ProxyCommand=nc %h %p'");
        assert_eq!(quote("it's"), r"'it'\''s'");
    }
}
