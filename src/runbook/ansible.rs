//! A runbook as an Ansible playbook (`lumen run export NAME --format ansible`): `hosts:` from
//! the targets, one `ansible.builtin.shell` task per step (the same `/bin/sh`, the script
//! wrapped as `lumen run` wraps it), `serial`/`max_fail_percentage` from
//! `parallel`/`on_failure`, parameters as `vars`, and each `{{vault:NAME}}` as a variable the
//! operator fills from Ansible Vault, named in a comment. Never a secret value.
//!
//! Quoting: lumen quotes a parameter for where it stands in the script. A parameter standing
//! as a bare word becomes `{{ var | quote }}` (shell quoting, as lumen's); one inside quotes
//! or a here-document cannot be handed to Jinja safely, so the step gets the value written in,
//! quoted by lumen, and the playbook says so. A vault entry must stand as a bare word.

use super::fill::{FillError, ParamError, check_params, fill};
use super::format::{OnFailure, Runbook};
use serde_json::{Value, json};
use std::collections::BTreeMap;

/// What stands for parameter `i` while lumen fills a step: a space and a `'` make lumen quote
/// it, so its quoted form tells where it stood.
fn marker(i: usize) -> String {
    format!("LUMENMARK{i}X '")
}

/// The marker as lumen quotes a bare word.
fn bare_marker(i: usize) -> String {
    format!("'LUMENMARK{i}X '\\'''")
}

#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    #[error(transparent)]
    Param(#[from] ParamError),
    #[error("step {step:?}: {source}")]
    Fill { step: String, source: FillError },
    #[error(
        "step {step:?}: {{{{vault:{entry}}}}} stands inside quotes or a here-document; Ansible \
         can only fill it as a word of its own (write it unquoted: lumen quotes it)"
    )]
    QuotedVault { step: String, entry: String },
    #[error("parameters {0:?} and {1:?} would be the same Ansible variable")]
    VarClash(String, String),
    #[error("cannot write the playbook: {0}")]
    Yaml(#[from] serde_norway::Error),
}

/// An Ansible variable name: `-` and other characters become `_`.
fn var_name(name: &str) -> String {
    let mut v: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if v.starts_with(|c: char| c.is_ascii_digit()) {
        v.insert(0, '_');
    }
    v
}

/// Text Jinja must leave alone.
fn literal(text: &str) -> String {
    if ["{{", "{%", "{#"].iter().any(|t| text.contains(t)) {
        format!("{{% raw %}}{text}{{% endraw %}}")
    } else {
        text.to_string()
    }
}

/// One step's script for Ansible, and whether parameter values had to be written in.
struct Script {
    text: String,
    baked: bool,
}

/// Turn a step's template into the task's script. `vars[i]` is the Ansible variable of
/// parameter `i` of `names` (declared parameters first, then the vault entries).
fn script(
    step: &str,
    template: &str,
    names: &[String],
    vars: &[String],
    vault_from: usize,
    values: &BTreeMap<String, String>,
) -> Result<Script, ExportError> {
    let fill_err = |source| ExportError::Fill {
        step: step.to_string(),
        source,
    };
    let mut template = template.to_string();
    for (i, entry) in names.iter().enumerate().skip(vault_from) {
        template = template.replace(
            &format!("{{{{vault:{entry}}}}}"),
            &format!("{{{{_lumen_vault_{i}}}}}"),
        );
    }
    let key = |i: usize, n: &String| {
        if i >= vault_from {
            format!("_lumen_vault_{i}")
        } else {
            n.clone()
        }
    };
    let markers: BTreeMap<String, String> = names
        .iter()
        .enumerate()
        .map(|(i, n)| (key(i, n), marker(i)))
        .collect();
    let filled = fill(&template, &markers).map_err(fill_err)?.command;
    // Split at the bare markers; anything left of a marker stood elsewhere.
    let mut out = String::new();
    let mut rest = filled.as_str();
    'outer: loop {
        let mut first: Option<(usize, usize)> = None;
        for i in 0..names.len() {
            if let Some(at) = rest.find(&bare_marker(i))
                && first.is_none_or(|(a, _)| at < a)
            {
                first = Some((at, i));
            }
        }
        let Some((at, i)) = first else {
            if rest.contains("LUMENMARK") {
                break 'outer;
            }
            out.push_str(&literal(rest));
            return Ok(Script {
                text: out,
                baked: false,
            });
        };
        if rest[..at].contains("LUMENMARK") {
            break 'outer;
        }
        out.push_str(&literal(&rest[..at]));
        out.push_str(&format!("{{{{ {} | quote }}}}", vars[i]));
        rest = &rest[at + bare_marker(i).len()..];
    }
    // Some placeholder stood inside quotes: a vault entry cannot be written in.
    for (i, entry) in names.iter().enumerate().skip(vault_from) {
        let probe: BTreeMap<String, String> = names
            .iter()
            .enumerate()
            .map(|(j, n)| (key(j, n), if j == i { marker(j) } else { "x".into() }))
            .collect();
        let one = fill(&template, &probe).map_err(fill_err)?.command;
        if one.contains("LUMENMARK") && !one.contains(&bare_marker(i)) {
            return Err(ExportError::QuotedVault {
                step: step.to_string(),
                entry: entry.clone(),
            });
        }
    }
    // Parameters written in, quoted by lumen for where they stand; vault entries as words.
    let mut with_values: BTreeMap<String, String> = values.clone();
    for (i, n) in names.iter().enumerate().skip(vault_from) {
        with_values.insert(key(i, n), marker(i));
    }
    let baked = fill(&template, &with_values).map_err(fill_err)?.command;
    let mut text = String::new();
    let mut rest = baked.as_str();
    while let Some((at, i)) = (vault_from..names.len())
        .filter_map(|i| rest.find(&bare_marker(i)).map(|at| (at, i)))
        .min()
    {
        text.push_str(&literal(&rest[..at]));
        text.push_str(&format!("{{{{ {} | quote }}}}", vars[i]));
        rest = &rest[at + bare_marker(i).len()..];
    }
    text.push_str(&literal(rest));
    Ok(Script { text, baked: true })
}

/// lumen target words as an Ansible host pattern: `@group` becomes the group (named as
/// `hosts export` names it), globs and names stay as they are (Ansible matches `*` and `?`
/// over host names too), joined with `:` (a union). None for no words.
pub fn host_pattern(words: &[String]) -> Option<String> {
    let parts: Vec<String> = words
        .iter()
        .map(|w| match w.strip_prefix('@') {
            Some(group) => crate::workspace::ansible::group_name(group),
            None => w.clone(),
        })
        .collect();
    (!parts.is_empty()).then(|| parts.join(":"))
}

/// The playbook for `runbook` on the Ansible host pattern `hosts`, with parameter values
/// `given` (defaults for the rest; required ones must be given, as for `lumen run`).
pub fn to_playbook(
    runbook: &Runbook,
    hosts: &str,
    given: &BTreeMap<String, String>,
) -> Result<String, ExportError> {
    let values = check_params(&runbook.params, given)?;
    let mut names: Vec<String> = runbook.params.iter().map(|p| p.name.clone()).collect();
    let vault_from = names.len();
    for s in &runbook.steps {
        for entry in crate::ai::placeholders::vault_names(&s.run) {
            if !names[vault_from..].contains(&entry) {
                names.push(entry);
            }
        }
    }
    let vars: Vec<String> = names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            if i >= vault_from {
                format!("lumen_vault_{}", var_name(n))
            } else {
                var_name(n)
            }
        })
        .collect();
    for (i, v) in vars.iter().enumerate() {
        if let Some(j) = vars[..i].iter().position(|w| w == v) {
            return Err(ExportError::VarClash(names[j].clone(), names[i].clone()));
        }
    }
    let mut tasks = Vec::new();
    let mut baked_steps = Vec::new();
    for step in &runbook.steps {
        let s = script(&step.name, &step.run, &names, &vars, vault_from, &values)?;
        if s.baked {
            baked_steps.push(step.name.clone());
        }
        if step.confirm {
            tasks.push(json!({
                "name": format!("confirm: {}", step.name),
                "ansible.builtin.pause": {
                    "prompt": format!("Run step {:?}? Enter goes on, Ctrl-C then A stops", step.name)
                },
            }));
        }
        tasks.push(json!({
            "name": step.name,
            "ansible.builtin.shell": {
                // As `lumen run` sends it: read whole, stdin closed for the commands in it.
                "cmd": format!("{{\n{}\n}} </dev/null\n", s.text),
                "executable": "/bin/sh",
            },
            "timeout": runbook.timeout.as_secs().max(1),
        }));
    }
    let play_vars: serde_json::Map<String, Value> = runbook
        .params
        .iter()
        .zip(&vars)
        .map(|(p, v)| {
            (
                v.clone(),
                json!(values.get(&p.name).cloned().unwrap_or_default()),
            )
        })
        .collect();
    let mut play = serde_json::Map::new();
    play.insert(
        "name".into(),
        json!(if runbook.description.is_empty() {
            runbook.name.clone()
        } else {
            format!("{}: {}", runbook.name, runbook.description)
        }),
    );
    play.insert("hosts".into(), json!(hosts));
    play.insert("gather_facts".into(), json!(false));
    play.insert("serial".into(), json!(runbook.parallel));
    play.insert(
        "max_fail_percentage".into(),
        json!(match runbook.on_failure {
            OnFailure::Stop => 0,
            OnFailure::Continue => 100,
        }),
    );
    if !play_vars.is_empty() {
        play.insert("vars".into(), Value::Object(play_vars));
    }
    play.insert("tasks".into(), json!(tasks));
    let mut head = format!(
        "# Ansible playbook written by `lumen run export {} --format ansible` from {}.\n\
         # Each task is one step of the runbook, run with /bin/sh as `lumen run` runs it; a host\n\
         # stops at its first failing step. serial = the runbook's parallel; on_failure = {} is\n\
         # max_fail_percentage {} (Ansible also stops the rest of the batch when it trips).\n",
        runbook.name,
        runbook.source.display(),
        match runbook.on_failure {
            OnFailure::Stop => "\"stop\"",
            OnFailure::Continue => "\"continue\"",
        },
        match runbook.on_failure {
            OnFailure::Stop => 0,
            OnFailure::Continue => 100,
        }
    );
    if vault_from < names.len() {
        head.push_str(
            "# Vault entries: fill each variable from Ansible Vault (e.g. group_vars/all/vault.yml,\n\
             # `ansible-vault encrypt_string --name VARIABLE`); lumen writes no value here.\n",
        );
        for (n, v) in names[vault_from..].iter().zip(&vars[vault_from..]) {
            head.push_str(&format!("#   {{{{vault:{n}}}}} -> {v}\n"));
        }
    }
    for step in &baked_steps {
        head.push_str(&format!(
            "# Step {step:?} has its parameter values written in (they stand inside quotes or a\n\
             # here-document, where lumen quotes them itself): changing its vars does not change it.\n"
        ));
    }
    Ok(format!(
        "{head}{}",
        serde_norway::to_string(&json!([Value::Object(play)]))?
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runbook::format::parse_runbook;
    use std::path::Path;

    fn book(text: &str) -> Runbook {
        parse_runbook(text, Path::new("runbooks/t.toml")).unwrap()
    }

    fn tasks(yaml: &str) -> Vec<String> {
        let doc: serde_norway::Value = serde_norway::from_str(yaml).unwrap();
        doc[0]["tasks"]
            .as_sequence()
            .unwrap()
            .iter()
            .map(|t| {
                t["ansible.builtin.shell"]["cmd"]
                    .as_str()
                    .unwrap_or("")
                    .to_string()
            })
            .collect()
    }

    #[test]
    fn bare_parameters_become_quoted_variables_and_vault_entries_are_named() {
        let rb = book(
            r#"
parallel = 4
on_failure = "continue"
[[params]]
name = "svc-name"
default = "nginx"
[[steps]]
name = "restart"
run = "systemctl restart {{svc-name}} && echo {{vault:db/root}} | wc -c"
[[steps]]
name = "say"
run = "echo \"service {{svc-name}}\" '{% x'"
"#,
        );
        let y = to_playbook(&rb, "web", &BTreeMap::new()).unwrap();
        let t = tasks(&y);
        assert!(
            t[0].contains("systemctl restart {{ svc_name | quote }} && echo {{ lumen_vault_db_root | quote }} | wc -c"),
            "{}",
            t[0]
        );
        // Inside double quotes: the value written in; the Go template kept from Jinja.
        assert!(t[1].contains("\"service nginx\""), "{}", t[1]);
        assert!(t[1].contains("{% raw %}"), "{}", t[1]);
        assert!(
            y.contains("{{vault:db/root}} -> lumen_vault_db_root"),
            "{y}"
        );
        assert!(
            y.contains("serial: 4") && y.contains("max_fail_percentage: 100"),
            "{y}"
        );
        assert!(y.contains("svc_name: nginx"), "{y}");
    }

    #[test]
    fn targets_become_a_host_pattern() {
        let w = crate::workspace::targets::words("@web-eu db1, app*");
        assert_eq!(host_pattern(&w).as_deref(), Some("web_eu:db1:app*"));
        assert_eq!(host_pattern(&[]), None);
    }

    #[test]
    fn a_quoted_vault_entry_is_refused() {
        let rb = book(
            r#"
[[steps]]
name = "x"
run = "echo \"{{vault:tok}}\""
"#,
        );
        let e = to_playbook(&rb, "all", &BTreeMap::new()).unwrap_err();
        assert!(matches!(e, ExportError::QuotedVault { .. }), "{e}");
    }
}
