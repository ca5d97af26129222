//! Reading an Ansible inventory (INI or YAML) into lumen hosts: `ansible_host`, `_port`,
//! `_user`, `_ssh_private_key_file`, a `ProxyJump` (or `-J`) in `ansible_ssh_common_args` or
//! `_extra_args`, groups (a `tag_X` group becomes the tag X), group variables and children.
//! Passwords in an inventory are never imported: they belong in the vault.

use super::hosts::Host;
use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

type Vars = BTreeMap<String, String>;

/// How deep YAML `children` may nest before it is taken for a loop.
const MAX_GROUP_DEPTH: usize = 32;

/// Groups, their variables, children and hosts, as the file declares them.
#[derive(Debug, Default)]
struct Parsed {
    /// Host name → its own variables, in file order of first mention.
    hosts: Vec<(String, Vars)>,
    group_vars: BTreeMap<String, Vars>,
    /// Parent → children.
    children: BTreeMap<String, BTreeSet<String>>,
    /// Group → its direct hosts.
    members: BTreeMap<String, BTreeSet<String>>,
    skipped: Vec<String>,
}

impl Parsed {
    fn host(&mut self, name: &str, group: &str, vars: Vars) {
        match self.hosts.iter_mut().find(|(n, _)| n == name) {
            Some((_, v)) => v.extend(vars),
            None => self.hosts.push((name.to_string(), vars)),
        }
        self.members
            .entry(group.to_string())
            .or_default()
            .insert(name.to_string());
    }
}

/// Variables that hold a secret: refused, with a pointer to the vault.
const SECRET_VARS: &[&str] = &[
    "ansible_password",
    "ansible_ssh_pass",
    "ansible_ssh_password",
    "ansible_become_pass",
    "ansible_become_password",
    "ansible_sudo_pass",
];

/// What an Ansible inventory file gives: hosts and what was left out (with file:line where
/// known).
#[derive(Debug, Default)]
pub struct AnsibleHosts {
    pub hosts: Vec<Host>,
    pub skipped: Vec<String>,
    pub warnings: Vec<String>,
}

/// Read `path`: YAML when it is named `.yml`, `.yaml` or `.json`, else INI.
pub fn read(path: &Path, text: &str) -> Result<AnsibleHosts, String> {
    let yaml = path
        .extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| matches!(e, "yml" | "yaml" | "json"));
    let file = path.display().to_string();
    let parsed = if yaml {
        parse_yaml(text).map_err(|e| format!("{file}: not an Ansible YAML inventory: {e}"))?
    } else {
        parse_ini(text, &file)?
    };
    Ok(to_hosts(parsed, &file))
}

/// Split a line into words; quotes group, `#` starts a comment.
fn words(line: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut cur = String::new();
    let mut quote: Option<char> = None;
    let mut any = false;
    for c in line.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => cur.push(c),
            None if c == '"' || c == '\'' => {
                quote = Some(c);
                any = true;
            }
            None if c.is_whitespace() => {
                if any || !cur.is_empty() {
                    out.push(std::mem::take(&mut cur));
                    any = false;
                }
            }
            None if c == '#' && cur.is_empty() && !any => break,
            None => cur.push(c),
        }
    }
    if any || !cur.is_empty() {
        out.push(cur);
    }
    out
}

fn parse_ini(text: &str, file: &str) -> Result<Parsed, String> {
    #[derive(PartialEq)]
    enum Section {
        Hosts,
        Vars,
        Children,
    }
    let mut p = Parsed::default();
    let mut group = "ungrouped".to_string();
    let mut section = Section::Hosts;
    for (i, raw) in text.lines().enumerate() {
        let at = format!("{file}:{}", i + 1);
        let line = raw.trim();
        if line.is_empty() || line.starts_with('#') || line.starts_with(';') {
            continue;
        }
        if let Some(head) = line.strip_prefix('[') {
            let head = head
                .split_once(']')
                .map(|(h, _)| h)
                .ok_or_else(|| format!("{at}: a section header needs its closing `]`"))?;
            let (name, kind) = head.split_once(':').unwrap_or((head, ""));
            section = match kind {
                "" => Section::Hosts,
                "vars" => Section::Vars,
                "children" => Section::Children,
                other => {
                    return Err(format!(
                        "{at}: unknown section kind `:{other}` (expected :vars or :children)"
                    ));
                }
            };
            group = name.trim().to_string();
            p.members.entry(group.clone()).or_default();
            continue;
        }
        match section {
            Section::Vars => {
                let (k, v) = line
                    .split_once('=')
                    .ok_or_else(|| format!("{at}: expected `name=value` in [{group}:vars]"))?;
                let v = words(v).into_iter().next().unwrap_or_default();
                p.group_vars
                    .entry(group.clone())
                    .or_default()
                    .insert(k.trim().to_string(), v);
            }
            Section::Children => {
                let child = words(line).into_iter().next().unwrap_or_default();
                p.children.entry(group.clone()).or_default().insert(child);
            }
            Section::Hosts => {
                let w = words(line);
                let Some((name, rest)) = w.split_first() else {
                    continue;
                };
                if name.contains('[') {
                    p.skipped
                        .push(format!("{at}: {name}: a host range, not one host"));
                    continue;
                }
                let mut vars = Vars::new();
                for kv in rest {
                    let (k, v) = kv.split_once('=').ok_or_else(|| {
                        format!("{at}: expected `name=value` after the host, not {kv:?}")
                    })?;
                    vars.insert(k.to_string(), v.to_string());
                }
                // `host:port` is INI shorthand for ansible_port.
                let name = match name.rsplit_once(':') {
                    Some((h, port)) if !h.contains(':') && port.parse::<u16>().is_ok() => {
                        vars.entry("ansible_port".into())
                            .or_insert_with(|| port.to_string());
                        h.to_string()
                    }
                    _ => name.clone(),
                };
                p.host(&name, &group, vars);
            }
        }
    }
    Ok(p)
}

fn scalar(v: &serde_norway::Value) -> Option<String> {
    use serde_norway::Value as Y;
    match v {
        Y::String(s) => Some(s.clone()),
        Y::Number(n) => Some(n.to_string()),
        Y::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn yaml_vars(v: Option<&serde_norway::Value>) -> Vars {
    v.and_then(|v| v.as_mapping())
        .map(|m| {
            m.iter()
                .filter_map(|(k, v)| Some((scalar(k)?, scalar(v)?)))
                .collect()
        })
        .unwrap_or_default()
}

fn yaml_group(p: &mut Parsed, name: &str, def: &serde_norway::Value, depth: usize) {
    p.members.entry(name.to_string()).or_default();
    if depth > MAX_GROUP_DEPTH {
        p.skipped
            .push(format!("group {name}: nested too deep (a loop?)"));
        return;
    }
    let Some(def) = def.as_mapping() else {
        return; // `group:` with nothing under it
    };
    let vars = yaml_vars(def.get("vars"));
    if !vars.is_empty() {
        p.group_vars
            .entry(name.to_string())
            .or_default()
            .extend(vars);
    }
    if let Some(hosts) = def.get("hosts").and_then(|h| h.as_mapping()) {
        for (h, v) in hosts {
            let Some(h) = scalar(h) else { continue };
            if h.contains('[') {
                p.skipped.push(format!("{h}: a host range, not one host"));
                continue;
            }
            p.host(&h, name, yaml_vars(Some(v)));
        }
    }
    if let Some(children) = def.get("children").and_then(|c| c.as_mapping()) {
        for (c, v) in children {
            let Some(c) = scalar(c) else { continue };
            p.children
                .entry(name.to_string())
                .or_default()
                .insert(c.clone());
            yaml_group(p, &c, v, depth + 1);
        }
    }
}

fn parse_yaml(text: &str) -> Result<Parsed, serde_norway::Error> {
    let doc: serde_norway::Value = serde_norway::from_str(text)?;
    let mut p = Parsed::default();
    if let Some(top) = doc.as_mapping() {
        for (g, def) in top {
            if let Some(g) = scalar(g) {
                yaml_group(&mut p, &g, def, 0);
            }
        }
    }
    Ok(p)
}

/// Groups a group is in, through `children`, nearest first (without itself).
fn ancestors(p: &Parsed, group: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut frontier = vec![group.to_string()];
    while let Some(g) = frontier.pop() {
        for (parent, kids) in &p.children {
            if kids.contains(&g) && !out.contains(parent) && parent != group {
                out.push(parent.clone());
                frontier.push(parent.clone());
            }
        }
    }
    out
}

/// `ProxyJump=a,b` or `-J a,b` in ssh arguments.
fn proxy_jump(args: &str) -> Option<Vec<String>> {
    let w = words(args);
    let mut it = w.iter();
    while let Some(a) = it.next() {
        let value = if a == "-J" {
            it.next().cloned()
        } else if let Some(v) = a.strip_prefix("-J") {
            Some(v.to_string())
        } else if a == "-o" {
            it.next()
                .and_then(|o| strip_keyword(o, "proxyjump"))
                .map(str::to_string)
        } else {
            a.strip_prefix("-o")
                .and_then(|o| strip_keyword(o, "proxyjump"))
                .map(str::to_string)
        };
        if let Some(v) = value {
            return Some(v.split(',').map(str::to_string).collect());
        }
    }
    None
}

fn strip_keyword<'a>(option: &'a str, keyword: &str) -> Option<&'a str> {
    let (k, v) = option.split_once(['=', ' '])?;
    k.trim().eq_ignore_ascii_case(keyword).then_some(v.trim())
}

fn to_hosts(p: Parsed, file: &str) -> AnsibleHosts {
    let mut out = AnsibleHosts {
        skipped: p.skipped.clone(),
        ..AnsibleHosts::default()
    };
    for (name, own) in &p.hosts {
        let direct: Vec<&String> = p
            .members
            .iter()
            .filter(|(_, m)| m.contains(name))
            .map(|(g, _)| g)
            .collect();
        let mut groups: Vec<String> = Vec::new();
        let mut far: Vec<String> = Vec::new();
        for g in &direct {
            for a in ancestors(&p, g) {
                if !far.contains(&a) {
                    far.push(a);
                }
            }
            groups.push((*g).clone());
        }
        // Precedence: all, then parents, then the host's groups, then the host.
        let mut vars = p.group_vars.get("all").cloned().unwrap_or_default();
        for g in far.iter().rev().chain(groups.iter()) {
            if let Some(v) = p.group_vars.get(g) {
                vars.extend(v.clone());
            }
        }
        vars.extend(own.clone());
        let mut host = Host {
            name: name.clone(),
            ..Host::default()
        };
        if let Err(e) = super::hosts::check_name(name) {
            out.skipped.push(format!("{file}: host {name}: {e}"));
            continue;
        }
        for (k, v) in &vars {
            match k.as_str() {
                "ansible_host" | "ansible_ssh_host" => host.hostname = Some(v.clone()),
                "ansible_user" | "ansible_ssh_user" => host.user = Some(v.clone()),
                "ansible_port" | "ansible_ssh_port" => match v.parse() {
                    Ok(port) => host.port = Some(port),
                    Err(_) => out.warnings.push(format!(
                        "{file}: host {name}: ansible_port {v:?} is not a port"
                    )),
                },
                "ansible_ssh_private_key_file" => host.options.identity_file = vec![v.clone()],
                "ansible_ssh_common_args" | "ansible_ssh_extra_args" => {
                    if let Some(j) = proxy_jump(v) {
                        host.jump = j;
                    }
                }
                k if SECRET_VARS.contains(&k) => out.warnings.push(format!(
                    "{file}: host {name}: {k} not imported (a secret); keep it in the vault: \
                     `lumen vault add NAME` and `lumen hosts edit {name} --credential NAME`"
                )),
                _ => {}
            }
        }
        for g in groups.iter().chain(far.iter()) {
            if g == "all" || g == "ungrouped" {
                continue;
            }
            match g.strip_prefix("tag_") {
                Some(tag) if !host.tags.iter().any(|t| t == tag) => host.tags.push(tag.into()),
                Some(_) => {}
                None if !host.groups.contains(g) => host.groups.push(g.clone()),
                None => {}
            }
        }
        out.hosts.push(host);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ini_with_groups_children_vars_and_shorthand_port() {
        let text = "\
# fleet
bastion ansible_host=10.0.0.1 ansible_user=ops
[web]
web1 ansible_host=10.0.1.1 ansible_ssh_common_args='-o ProxyJump=ops@10.0.0.1:22'
web2:2222  # the old one
web[03:09]
[web:vars]
ansible_user=deploy
[tag_prod:children]
web
[all:vars]
ansible_password=hunter2
";
        let got = read(Path::new("inv.ini"), text).unwrap();
        let web1 = &got.hosts[1];
        assert_eq!(web1.name, "web1");
        assert_eq!(web1.user.as_deref(), Some("deploy"));
        assert_eq!(web1.jump, ["ops@10.0.0.1:22"]);
        assert_eq!(web1.groups, ["web"]);
        assert_eq!(web1.tags, ["prod"]);
        assert_eq!(got.hosts[2].port, Some(2222));
        assert_eq!(got.hosts[0].user.as_deref(), Some("ops"));
        assert!(got.skipped[0].contains("inv.ini:6"), "{:?}", got.skipped);
        assert!(
            got.warnings.iter().all(|w| !w.contains("hunter2")),
            "{:?}",
            got.warnings
        );
        assert!(got.warnings.iter().any(|w| w.contains("ansible_password")));
    }

    #[test]
    fn yaml_with_nested_children() {
        let text = "\
all:
  vars:
    ansible_port: 2200
  children:
    db:
      hosts:
        db1:
          ansible_host: 10.0.2.1
          ansible_ssh_extra_args: -J jump1,jump2
      children:
        tag_eu:
          hosts:
            db2:
";
        let got = read(Path::new("inv.yml"), text).unwrap();
        let db1 = &got.hosts[0];
        assert_eq!(db1.port, Some(2200));
        assert_eq!(db1.jump, ["jump1", "jump2"]);
        let db2 = &got.hosts[1];
        assert_eq!(db2.tags, ["eu"]);
        assert_eq!(db2.groups, ["db"]);
    }

    #[test]
    fn bad_ini_says_where() {
        let e = read(Path::new("x.ini"), "[web\nh1\n").unwrap_err();
        assert!(e.contains("x.ini:1"), "{e}");
    }
}
