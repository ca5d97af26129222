//! Parameters: checked against their declarations (`check_params`) and substituted into a
//! step's script quoted for where each `{{name}}` stands (`fill`). Where it stands is read by
//! the same shell parser the risk assessment uses (tree-sitter-bash): a bare word, inside
//! `'…'`, inside `"…"` (and inside `$(…)`/backticks, which are bare again). Positions lumen
//! cannot quote for (comments, arithmetic, patterns, right after `$` or `\`) are refused, as
//! are values with special characters in scripts another shell parses again (`sh -c '…'`).
//! `{{vault:NAME}}` stays a placeholder: the value is substituted per host at run time.

use crate::ai::placeholders::{nested_matching, quote, vault_names};
use crate::ai::shell::{Quoting, Script, quoting};
use crate::runbook::format::Param;
use regex::Regex;
use std::collections::BTreeMap;
use std::sync::LazyLock;

static BRACES: LazyLock<Regex> = LazyLock::new(|| {
    // A constant pattern; the unit tests compile it.
    #[allow(clippy::expect_used)]
    Regex::new(r"\{\{([^{}]*)\}\}").expect("valid pattern")
});

static MARKER: LazyLock<Regex> = LazyLock::new(|| {
    #[allow(clippy::expect_used)]
    Regex::new(r"__lumen_param_([0-9]+)__").expect("valid pattern")
});

/// A step's script with its parameters filled.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filled {
    /// The script; `{{vault:NAME}}` placeholders are still in it.
    pub command: String,
    /// Names of the vault entries it takes, in order of first use.
    pub vault: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FillError {
    #[error(
        "{{{{{0}}}}} is not a valid placeholder; write {{{{name}}}} for a parameter or {{{{vault:NAME}}}} for a vault entry"
    )]
    Malformed(String),
    #[error("no value for parameter {0:?}")]
    Missing(String),
    #[error("the value of {name:?} contains a NUL character")]
    Nul { name: String },
    #[error(
        "the value of {name:?} contains \"{{{{\"; placeholders cannot come from parameter values"
    )]
    NestedPlaceholder { name: String },
    #[error("{{{{{name}}}}} follows a `$` or `\\`; put it in its own word or in quotes")]
    AfterExpansion { name: String },
    #[error("the command does not parse as a shell script, so parameters cannot be quoted safely")]
    Unparseable,
    #[error(
        "{{{{{name}}}}} cannot be quoted here ({context}); move it out or restrict its pattern"
    )]
    Position { name: String, context: String },
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParamError {
    #[error("unknown parameter {name:?}; this one takes: {}", if known.is_empty() { "none".to_string() } else { known.join(", ") })]
    Unknown { name: String, known: Vec<String> },
    #[error("parameter {0:?} is required; give it with -p {0}=VALUE")]
    Required(String),
    #[error("parameter {name:?}: {value} does not match {pattern}")]
    Pattern {
        name: String,
        value: String,
        pattern: String,
    },
    #[error("parameter {name:?}: {message}")]
    Invalid { name: String, message: String },
}

/// `pattern` compiled to match whole values only.
pub fn anchored(pattern: &str) -> Result<Regex, regex::Error> {
    Regex::new(&format!("^(?:{pattern})$"))
}

/// One value against its declaration: no NUL, no placeholders, the pattern.
pub fn check_value(param: &Param, value: &str) -> Result<(), ParamError> {
    let invalid = |message: &str| ParamError::Invalid {
        name: param.name.clone(),
        message: message.to_string(),
    };
    if value.contains('\0') {
        return Err(invalid("the value contains a NUL character"));
    }
    if value.contains("{{") {
        return Err(invalid(
            "the value contains \"{{\"; placeholders cannot come from values",
        ));
    }
    if let Some(p) = &param.pattern {
        let re = anchored(p).map_err(|e| invalid(&e.to_string()))?;
        if !re.is_match(value) {
            return Err(ParamError::Pattern {
                name: param.name.clone(),
                value: crate::text::quoted(value),
                pattern: p.clone(),
            });
        }
    }
    Ok(())
}

/// The values to fill with: `given` checked against `params`, defaults added. Unknown names,
/// missing required values and values not matching their pattern are refused.
pub fn check_params(
    params: &[Param],
    given: &BTreeMap<String, String>,
) -> Result<BTreeMap<String, String>, ParamError> {
    if let Some(name) = given.keys().find(|n| !params.iter().any(|p| p.name == **n)) {
        return Err(ParamError::Unknown {
            name: name.clone(),
            known: params.iter().map(|p| p.name.clone()).collect(),
        });
    }
    let mut out = BTreeMap::new();
    for p in params {
        let value = match (given.get(&p.name), &p.default) {
            (Some(v), _) | (None, Some(v)) => v,
            (None, None) => return Err(ParamError::Required(p.name.clone())),
        };
        check_value(p, value)?;
        out.insert(p.name.clone(), value.clone());
    }
    Ok(out)
}

/// Names of the `{{name}}` parameters in `template`, in order, each once.
pub fn param_names(template: &str) -> Result<Vec<String>, FillError> {
    let mut out: Vec<String> = Vec::new();
    for cap in BRACES.captures_iter(template) {
        let inner = cap.get(1).map_or("", |m| m.as_str());
        if inner.starts_with("vault:") {
            continue;
        }
        crate::runbook::format::check_param_name(inner)
            .map_err(|_| FillError::Malformed(inner.to_string()))?;
        if !out.iter().any(|n| n == inner) {
            out.push(inner.to_string());
        }
    }
    Ok(out)
}

/// Substitute `values` into `template`, each quoted for its position.
pub fn fill(template: &str, values: &BTreeMap<String, String>) -> Result<Filled, FillError> {
    // Parameters become markers the parser reads as plain word characters; where each marker
    // stands decides how its value is quoted.
    let mut probe = String::with_capacity(template.len());
    let mut params: Vec<(std::ops::Range<usize>, String)> = Vec::new();
    let mut pos = 0;
    for cap in BRACES.captures_iter(template) {
        let (Some(all), Some(inner)) = (cap.get(0), cap.get(1)) else {
            continue;
        };
        let name = inner.as_str();
        if let Some(entry) = name.strip_prefix("vault:") {
            if !vault_names(all.as_str()).iter().any(|n| n == entry) {
                return Err(FillError::Malformed(name.to_string()));
            }
            continue;
        }
        crate::runbook::format::check_param_name(name)
            .map_err(|_| FillError::Malformed(name.to_string()))?;
        let value = values
            .get(name)
            .ok_or_else(|| FillError::Missing(name.to_string()))?;
        if value.contains('\0') {
            return Err(FillError::Nul { name: name.into() });
        }
        if value.contains("{{") {
            return Err(FillError::NestedPlaceholder { name: name.into() });
        }
        if template[..all.start()].ends_with(['$', '\\']) {
            return Err(FillError::AfterExpansion { name: name.into() });
        }
        probe.push_str(&template[pos..all.start()]);
        let start = probe.len();
        probe.push_str(&format!("__lumen_param_{}__", params.len()));
        params.push((start..probe.len(), name.to_string()));
        pos = all.end();
    }
    probe.push_str(&template[pos..]);
    let vault = vault_names(template);
    if params.is_empty() {
        return Ok(Filled {
            command: template.to_string(),
            vault,
        });
    }
    if template.contains('`') {
        // Inside backticks a backslash or backtick in a value would end or change the
        // substitution; `$(…)` nests cleanly.
        return Err(FillError::Position {
            name: params.first().map(|p| p.1.clone()).unwrap_or_default(),
            context: "a script with backticks; write $(…) instead".into(),
        });
    }
    let script = Script::parse(&probe);
    if script.error {
        return Err(FillError::Unparseable);
    }
    let nested = nested_matching(&script, &MARKER);
    let mut out = String::with_capacity(probe.len() + 32);
    let mut at = 0;
    for (i, (range, name)) in params.iter().enumerate() {
        let value = values.get(name).map_or("", String::as_str);
        let context = quoting(&probe, range.clone()).ok_or(FillError::Unparseable)?;
        if context == Quoting::Other {
            // Even a plain word there is surely a mistake (a comment runs nothing).
            return Err(FillError::Position {
                name: name.clone(),
                context: "a comment, pattern or arithmetic expression".into(),
            });
        }
        let quoted = quote(value, context, nested.contains(&i.to_string())).map_err(|context| {
            FillError::Position {
                name: name.clone(),
                context,
            }
        })?;
        out.push_str(&probe[at..range.start]);
        out.push_str(&quoted);
        at = range.end;
    }
    out.push_str(&probe[at..]);
    Ok(Filled {
        command: out,
        vault,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// What a real `sh` prints for the filled script: the oracle for quoting.
    fn sh_output(script: &str) -> String {
        let out = std::process::Command::new("sh")
            .arg("-c")
            .arg(script)
            .env_clear()
            .env("PATH", "/usr/bin:/bin")
            .output()
            .unwrap();
        String::from_utf8(out.stdout).unwrap()
    }

    const HOSTILE: &[&str] = &[
        "plain",
        "it's",
        "a\"b",
        "$(touch /tmp/lumen-pwned)",
        "`id`",
        "a; echo INJECTED",
        "line1\nline2; echo INJECTED",
        "\\",
        "' ; echo INJECTED ; '",
        "\" ; echo INJECTED ; \"",
        "$HOME ${HOME} $((1+1))",
        "*",
        "-n",
        "",
        "a b\tc",
        "'\"'\"",
    ];

    #[test]
    fn values_arrive_unchanged_in_every_position() {
        // printf '%s|' prints each argument exactly; the shell is the oracle.
        let templates = [
            ("printf '%s|' {{v}}", "{v}|"),
            ("printf '%s|' x{{v}}y", "x{v}y|"),
            ("printf '%s|' '<{{v}}>'", "<{v}>|"),
            ("printf '%s|' \"<{{v}}>\"", "<{v}>|"),
            ("printf '%s|' \"$(printf '%s' {{v}})\"", "{v}|"),
            ("printf '%s|' \"$(printf '%s' \"{{v}}\")\"", "{v}|"),
            ("X={{v}}; printf '%s|' \"$X\"", "{v}|"),
        ];
        for value in HOSTILE {
            for (template, expect) in templates {
                let filled = fill(template, &values(&[("v", value)])).unwrap();
                let got = sh_output(&filled.command);
                let want = expect.replace("{v}", value);
                assert_eq!(
                    got, want,
                    "template {template:?} value {value:?} → {}",
                    filled.command
                );
                assert!(
                    !got.contains("INJECTED\n") || value.contains("INJECTED"),
                    "{got}"
                );
            }
        }
        assert!(!std::path::Path::new("/tmp/lumen-pwned").exists());
    }

    #[test]
    fn refuses_positions_it_cannot_quote_for() {
        let v = values(&[("v", "a b;c")]);
        for t in [
            "echo hi # {{v}}",
            "echo $(( {{v}} + 1 ))",
            "echo ${{v}}",
            "echo \\{{v}}",
            "sh -c 'echo {{v}}'",
            "echo {{v",
            "echo `printf %s {{v}}`",
            "echo \"`printf %s {{v}}`\"",
        ] {
            let r = fill(t, &v);
            assert!(
                r.is_err() || !r.as_ref().unwrap().command.contains("a b;c"),
                "{t}: {r:?}"
            );
        }
        // Where the value would be read as code again, only plain words pass.
        for t in [
            "eval echo {{v}}",
            "sh -c {{v}}",
            "bash -c \"echo {{v}}\"",
            "ssh web1 echo {{v}}",
            "su -c \"echo {{v}}\" root",
            "find / -exec sh -c 'echo {{v}}' \\;",
        ] {
            let r = fill(t, &v);
            assert!(matches!(r, Err(FillError::Position { .. })), "{t}: {r:?}");
        }
        // A shell-safe value may go into a nested script.
        let safe = fill("sh -c 'echo {{v}}'", &values(&[("v", "nginx")])).unwrap();
        assert_eq!(safe.command, "sh -c 'echo nginx'");
        assert!(matches!(
            fill("echo {{Bad Name}}", &v),
            Err(FillError::Malformed(_))
        ));
        assert!(matches!(fill("echo {{w}}", &v), Err(FillError::Missing(_))));
        assert!(matches!(
            fill("echo {{v}}", &values(&[("v", "{{vault:x}}")])),
            Err(FillError::NestedPlaceholder { .. })
        ));
    }

    #[test]
    fn vault_placeholders_stay() {
        let f = fill(
            "curl -H 'Authorization: Bearer {{vault:web-token}}' http://127.0.0.1/{{p}} {{vault:a}} {{vault:web-token}}",
            &values(&[("p", "health z")]),
        )
        .unwrap();
        assert_eq!(
            f.command,
            "curl -H 'Authorization: Bearer {{vault:web-token}}' http://127.0.0.1/'health z' {{vault:a}} {{vault:web-token}}"
        );
        assert_eq!(f.vault, vec!["web-token".to_string(), "a".to_string()]);
    }

    #[test]
    fn check_params_rules() {
        let params = vec![
            Param {
                name: "svc".into(),
                description: String::new(),
                default: Some("nginx".into()),
                pattern: Some("[a-z]+".into()),
            },
            Param {
                name: "n".into(),
                description: String::new(),
                default: None,
                pattern: None,
            },
        ];
        let ok = check_params(&params, &values(&[("n", "3")])).unwrap();
        assert_eq!(ok, values(&[("svc", "nginx"), ("n", "3")]));
        assert!(matches!(
            check_params(&params, &values(&[])),
            Err(ParamError::Required(_))
        ));
        assert!(matches!(
            check_params(&params, &values(&[("n", "1"), ("x", "1")])),
            Err(ParamError::Unknown { .. })
        ));
        // Anchored: a match inside the value is not enough.
        assert!(matches!(
            check_params(&params, &values(&[("n", "1"), ("svc", "nginx; rm -rf /")])),
            Err(ParamError::Pattern { .. })
        ));
        assert!(matches!(
            check_params(&params, &values(&[("n", "1"), ("svc", "a|b")])),
            Err(ParamError::Pattern { .. })
        ));
    }
}
