//! The runbook and snippet file format (a contract: people write these by hand and share
//! them in git): types, parsing with file:line errors naming the key, validation.

use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::time::Duration;
use toml::Spanned;

/// Hosts at a time when a runbook does not say.
pub const DEFAULT_PARALLEL: usize = 8;
/// Per step per host when a runbook does not say.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(5 * 60);

/// What happens to hosts not yet started once one host failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum OnFailure {
    /// No new hosts start; running ones finish.
    #[default]
    Stop,
    /// Every host runs.
    Continue,
}

/// A parameter a runbook or snippet takes (`{{name}}` in its commands).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Param {
    pub name: String,
    pub description: String,
    /// Used when the operator gives none; a parameter without a default is required.
    pub default: Option<String>,
    /// A regular expression the whole value must match (anchored), checked before anything runs.
    pub pattern: Option<String>,
}

/// One step: a shell script run on each host in order.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Step {
    pub name: String,
    pub run: String,
    /// Ask again before this step starts, even when the plan is approved.
    pub confirm: bool,
}

/// One runbook file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Runbook {
    pub name: String,
    pub description: String,
    /// Default targets (`@group`, host names, globs); the command line overrides them.
    pub targets: Option<String>,
    pub parallel: usize,
    pub on_failure: OnFailure,
    /// Per step per host.
    pub timeout: Duration,
    pub params: Vec<Param>,
    pub steps: Vec<Step>,
    /// The file it was read from.
    pub source: PathBuf,
}

/// A one-step command with parameters and no targets (`[[snippets]]` in `snippets.toml`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Snippet {
    pub name: String,
    pub description: String,
    pub run: String,
    pub params: Vec<Param>,
    pub source: PathBuf,
}

impl Snippet {
    /// The snippet as a one-step runbook with the defaults, to run it on hosts.
    pub fn to_runbook(&self) -> Runbook {
        Runbook {
            name: self.name.clone(),
            description: self.description.clone(),
            targets: None,
            parallel: DEFAULT_PARALLEL,
            on_failure: OnFailure::default(),
            timeout: DEFAULT_TIMEOUT,
            params: self.params.clone(),
            steps: vec![Step {
                name: self.name.clone(),
                run: self.run.clone(),
                confirm: false,
            }],
            source: self.source.clone(),
        }
    }
}

/// A file that cannot be used: where, and what to fix.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}:{line}: {message}", path.display())]
pub struct FormatError {
    pub path: PathBuf,
    pub line: usize,
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawParam {
    name: Spanned<String>,
    #[serde(default)]
    description: String,
    default: Option<Spanned<String>>,
    pattern: Option<Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawStep {
    name: Spanned<String>,
    run: Spanned<String>,
    #[serde(default)]
    confirm: bool,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRunbook {
    name: Option<Spanned<String>>,
    #[serde(default)]
    description: String,
    targets: Option<Spanned<String>>,
    parallel: Option<Spanned<i64>>,
    on_failure: Option<Spanned<String>>,
    timeout: Option<Spanned<String>>,
    #[serde(default)]
    params: Vec<RawParam>,
    #[serde(default)]
    steps: Vec<RawStep>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSnippet {
    name: Spanned<String>,
    #[serde(default)]
    description: String,
    run: Spanned<String>,
    #[serde(default)]
    params: Vec<RawParam>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawSnippets {
    #[serde(default)]
    snippets: Vec<Spanned<RawSnippet>>,
}

/// Turns byte offsets of one file into file:line errors.
struct Source<'a> {
    text: &'a str,
    path: &'a Path,
}

impl Source<'_> {
    fn error(&self, offset: usize, message: String) -> FormatError {
        FormatError {
            path: self.path.to_path_buf(),
            line: crate::workspace::hosts::line_of(self.text, offset),
            message,
        }
    }

    fn toml<'de, T: Deserialize<'de>>(&self, text: &'de str) -> Result<T, FormatError> {
        toml::from_str(text).map_err(|e| {
            let offset = e.span().map(|s| s.start).unwrap_or(0);
            self.error(offset, crate::text::toml_message(&e))
        })
    }
}

/// Runbook, snippet and host names: letters, digits, `.`, `-`, `_`.
pub fn check_name(what: &str, name: &str) -> Result<(), String> {
    let ok = !name.is_empty()
        && !name.starts_with('-')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if ok {
        Ok(())
    } else {
        Err(format!(
            "{what} name {} is not valid; use letters, digits, '.', '-', '_' (not starting with '-')",
            crate::text::quoted(name)
        ))
    }
}

/// Parameter names: what `{{name}}` can hold.
pub fn check_param_name(name: &str) -> Result<(), String> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    if first_ok
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && name != "vault"
    {
        Ok(())
    } else {
        Err(format!(
            "parameter name {} is not valid; use a letter or '_' then letters, digits, '_', '-' \
             (and not \"vault\")",
            crate::text::quoted(name)
        ))
    }
}

fn params(src: &Source<'_>, raw: Vec<RawParam>) -> Result<Vec<Param>, FormatError> {
    let mut out: Vec<Param> = Vec::with_capacity(raw.len());
    for p in raw {
        let at = p.name.span().start;
        check_param_name(p.name.get_ref())
            .map_err(|m| src.error(at, format!("params.name: {m}")))?;
        if out.iter().any(|q| q.name == *p.name.get_ref()) {
            return Err(src.error(
                at,
                format!(
                    "params.name: parameter {:?} is declared twice",
                    p.name.get_ref()
                ),
            ));
        }
        if let Some(pat) = &p.pattern {
            crate::runbook::fill::anchored(pat.get_ref())
                .map_err(|e| src.error(pat.span().start, format!("params.pattern: {e}")))?;
        }
        let param = Param {
            name: p.name.into_inner(),
            description: p.description,
            default: p.default.as_ref().map(|d| d.get_ref().clone()),
            pattern: p.pattern.map(Spanned::into_inner),
        };
        if let (Some(d), Some(value)) = (&p.default, &param.default) {
            crate::runbook::fill::check_value(&param, value)
                .map_err(|e| src.error(d.span().start, format!("params.default: {e}")))?;
        }
        out.push(param);
    }
    Ok(out)
}

/// Every `{{name}}` of `run` is a declared parameter and stands where it can be quoted.
fn check_run(
    src: &Source<'_>,
    key: &str,
    run: &Spanned<String>,
    params: &[Param],
) -> Result<(), FormatError> {
    let at = run.span().start;
    if run.get_ref().trim().is_empty() {
        return Err(src.error(at, format!("{key}: the command is empty")));
    }
    let declared: std::collections::BTreeMap<String, String> = params
        .iter()
        .map(|p| (p.name.clone(), "x".to_string()))
        .collect();
    for name in crate::runbook::fill::param_names(run.get_ref())
        .map_err(|e| src.error(at, format!("{key}: {e}")))?
    {
        if !declared.contains_key(&name) {
            return Err(src.error(
                at,
                format!("{key}: {{{{{name}}}}} is not a declared parameter; add a [[params]] table named {name:?}"),
            ));
        }
    }
    crate::runbook::fill::fill(run.get_ref(), &declared)
        .map(|_| ())
        .map_err(|e| src.error(at, format!("{key}: {e}")))
}

/// Parse one runbook file. The name defaults to the file name without `.toml`.
pub fn parse_runbook(text: &str, path: &Path) -> Result<Runbook, FormatError> {
    let src = Source { text, path };
    let raw: RawRunbook = src.toml(text)?;
    let name = match &raw.name {
        Some(n) => {
            check_name("runbook", n.get_ref())
                .map_err(|m| src.error(n.span().start, format!("name: {m}")))?;
            n.get_ref().clone()
        }
        None => {
            let stem = path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            check_name("runbook", &stem).map_err(|m| {
                src.error(
                    0,
                    format!("name: {m} (from the file name; set `name = \"…\"`)"),
                )
            })?;
            stem
        }
    };
    let parallel = match &raw.parallel {
        Some(p) if *p.get_ref() < 1 || *p.get_ref() > 1024 => {
            return Err(src.error(
                p.span().start,
                "parallel: must be between 1 and 1024 hosts at a time".into(),
            ));
        }
        Some(p) => usize::try_from(*p.get_ref()).unwrap_or(DEFAULT_PARALLEL),
        None => DEFAULT_PARALLEL,
    };
    let on_failure = match &raw.on_failure {
        None => OnFailure::default(),
        Some(v) => match v.get_ref().as_str() {
            "stop" => OnFailure::Stop,
            "continue" => OnFailure::Continue,
            other => {
                return Err(src.error(
                    v.span().start,
                    format!("on_failure: {other:?} is not known; use \"stop\" or \"continue\""),
                ));
            }
        },
    };
    let timeout = match &raw.timeout {
        None => DEFAULT_TIMEOUT,
        Some(t) => match crate::app::config::parse_duration(t.get_ref()) {
            Ok(Some(d)) if !d.is_zero() => d,
            Ok(_) => {
                return Err(src.error(
                    t.span().start,
                    "timeout: a step needs a time limit; write e.g. \"60s\", \"5m\"".into(),
                ));
            }
            Err(m) => return Err(src.error(t.span().start, format!("timeout: {m}"))),
        },
    };
    if let Some(t) = &raw.targets
        && t.get_ref().trim().is_empty()
    {
        return Err(src.error(
            t.span().start,
            "targets: empty; leave it out or name hosts".into(),
        ));
    }
    let params = params(&src, raw.params)?;
    if raw.steps.is_empty() {
        return Err(src.error(
            0,
            "steps: a runbook needs at least one [[steps]] table".into(),
        ));
    }
    let mut steps = Vec::new();
    for s in raw.steps {
        if s.name.get_ref().trim().is_empty()
            || s.name.get_ref().chars().any(crate::text::is_control)
        {
            return Err(src.error(
                s.name.span().start,
                "steps.name: must be a non-empty line without control characters".into(),
            ));
        }
        check_run(&src, "steps.run", &s.run, &params)?;
        steps.push(Step {
            name: s.name.into_inner(),
            run: s.run.into_inner(),
            confirm: s.confirm,
        });
    }
    Ok(Runbook {
        name,
        description: raw.description,
        targets: raw.targets.map(Spanned::into_inner),
        parallel,
        on_failure,
        timeout,
        params,
        steps,
        source: path.to_path_buf(),
    })
}

/// Parse `snippets.toml`: each snippet with the line its table starts on (for duplicates).
pub fn parse_snippets(text: &str, path: &Path) -> Result<Vec<(Snippet, usize)>, FormatError> {
    let src = Source { text, path };
    let raw: RawSnippets = src.toml(text)?;
    let mut out = Vec::new();
    for s in raw.snippets {
        let line = crate::workspace::hosts::line_of(text, s.span().start);
        let s = s.into_inner();
        check_name("snippet", s.name.get_ref())
            .map_err(|m| src.error(s.name.span().start, format!("snippets.name: {m}")))?;
        let params = params(&src, s.params)?;
        check_run(&src, "snippets.run", &s.run, &params)?;
        out.push((
            Snippet {
                name: s.name.into_inner(),
                description: s.description,
                run: s.run.into_inner(),
                params,
                source: path.to_path_buf(),
            },
            line,
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    const EXAMPLE: &str = r#"name = "restart-nginx"
description = "Restart nginx and check it answers"
targets = "@web"
parallel = 10
on_failure = "stop"
timeout = "60s"

[[params]]
name = "svc"
description = "Service to restart"
default = "nginx"
pattern = "^[a-z0-9@._-]+$"

[[steps]]
name = "check config"
run = "nginx -t"

[[steps]]
name = "restart"
run = "sudo -n systemctl restart {{svc}}"
confirm = true

[[steps]]
name = "health"
run = "curl -fsS -H 'Authorization: Bearer {{vault:web-token}}' http://127.0.0.1/healthz"
"#;

    fn err(text: &str) -> String {
        parse_runbook(text, Path::new("rb.toml"))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn parses_the_issue_example() {
        let rb = parse_runbook(EXAMPLE, Path::new("x/restart.toml")).unwrap();
        assert_eq!(rb.name, "restart-nginx");
        assert_eq!(rb.targets.as_deref(), Some("@web"));
        assert_eq!(rb.parallel, 10);
        assert_eq!(rb.on_failure, OnFailure::Stop);
        assert_eq!(rb.timeout, Duration::from_secs(60));
        assert_eq!(rb.params[0].default.as_deref(), Some("nginx"));
        assert_eq!(rb.steps.len(), 3);
        assert!(rb.steps[1].confirm && !rb.steps[0].confirm);
    }

    #[test]
    fn defaults_and_name_from_file() {
        let rb = parse_runbook(
            "[[steps]]\nname = \"a\"\nrun = \"uptime\"\n",
            Path::new("d/up-time.toml"),
        )
        .unwrap();
        assert_eq!(rb.name, "up-time");
        assert_eq!(rb.parallel, DEFAULT_PARALLEL);
        assert_eq!(rb.timeout, DEFAULT_TIMEOUT);
        assert_eq!(rb.on_failure, OnFailure::Stop);
    }

    #[test]
    fn errors_name_file_line_and_key() {
        let e = err("name = \"a\"\n\nparalel = 3\n[[steps]]\nname = \"a\"\nrun = \"x\"\n");
        assert!(e.starts_with("rb.toml:3:") && e.contains("paralel"), "{e}");
        let e = err("name = \"a\"\non_failure = \"maybe\"\n[[steps]]\nname = \"a\"\nrun = \"x\"\n");
        assert!(
            e.starts_with("rb.toml:2:") && e.contains("on_failure"),
            "{e}"
        );
        let e = err("timeout = \"5 parsecs\"\n[[steps]]\nname = \"a\"\nrun = \"x\"\n");
        assert!(e.starts_with("rb.toml:1:") && e.contains("timeout"), "{e}");
        let e = err("[[steps]]\nname = \"a\"\nrun = \"echo {{who}}\"\n");
        assert!(e.starts_with("rb.toml:3:") && e.contains("who"), "{e}");
        let e = err(
            "[[params]]\nname = \"p\"\npattern = \"([\"\n[[steps]]\nname = \"a\"\nrun = \"x\"\n",
        );
        assert!(e.starts_with("rb.toml:3:") && e.contains("pattern"), "{e}");
        let e = err(
            "[[params]]\nname = \"p\"\ndefault = \"UP\"\npattern = \"[a-z]+\"\n[[steps]]\nname = \"a\"\nrun = \"x\"\n",
        );
        assert!(e.starts_with("rb.toml:3:") && e.contains("default"), "{e}");
        let e = err("parallel = 0\n[[steps]]\nname = \"a\"\nrun = \"x\"\n");
        assert!(e.starts_with("rb.toml:1:") && e.contains("parallel"), "{e}");
        let e = err("description = \"no steps\"\n");
        assert!(e.contains("steps"), "{e}");
        let e = err("[[steps]]\nname = \"a\"\nrun = \"x\"\nrn = \"y\"\n");
        assert!(e.starts_with("rb.toml:4:") && e.contains("rn"), "{e}");
        let e = err("[[steps]]\nname = \"a\"\nrun = \"x # {{p}}\"\n[[params]]\nname = \"p\"\n");
        assert!(e.starts_with("rb.toml:3:") && e.contains("comment"), "{e}");
    }

    #[test]
    fn snippets_file() {
        let text = "[[snippets]]\nname = \"disk\"\ndescription = \"free space\"\nrun = \"df -h {{path}}\"\n\
                    [[snippets.params]]\nname = \"path\"\ndefault = \"/\"\n\n[[snippets]]\nname = \"up\"\nrun = \"uptime\"\n";
        let s = parse_snippets(text, Path::new("snippets.toml")).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(s[0].0.params[0].name, "path");
        assert_eq!(s[1].1, 9);
        let e = parse_snippets(
            "[[snippets]]\nname = \"x\"\nrun = \"a\"\ntargets = \"@web\"\n",
            Path::new("s.toml"),
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("s.toml:4:") && e.contains("targets"), "{e}");
    }
}
