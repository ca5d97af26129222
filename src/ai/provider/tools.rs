//! The copilot's tools, as the model is told of them, and their arguments read back.

use super::ToolSpec;
use serde::Deserialize;
use serde_json::json;
use std::sync::LazyLock;

pub const PROPOSE_COMMAND_TOOL: &str = "propose_command";
pub const READ_SCROLLBACK_TOOL: &str = "read_scrollback";
pub const PROPOSE_RUNBOOK_TOOL: &str = "propose_runbook";

/// `propose_command {"command": string, "explanation": string}`: the only way the model
/// proposes something to run. lumen shows it as a card; nothing runs without the operator.
pub static PROPOSE_COMMAND: LazyLock<ToolSpec> = LazyLock::new(|| ToolSpec {
    name: PROPOSE_COMMAND_TOOL.into(),
    description: "Propose one shell command to run on the host of this terminal. The operator \
        sees it with your explanation and decides whether it runs; its output comes back as \
        the tool result. Propose one command at a time."
        .into(),
    json_schema: json!({
        "type": "object",
        "properties": {
            "command": {"type": "string", "description": "The exact command line to run."},
            "explanation": {"type": "string", "description": "Why, and what it will change."},
        },
        "required": ["command", "explanation"],
    }),
});

/// `read_scrollback {"lines": n}`: more of the terminal's history, redacted, served locally.
pub static READ_SCROLLBACK: LazyLock<ToolSpec> = LazyLock::new(|| ToolSpec {
    name: READ_SCROLLBACK_TOOL.into(),
    description: "Read the last N lines of this terminal's screen and scrollback (secrets \
        masked), when the context you were given is not enough."
        .into(),
    json_schema: json!({
        "type": "object",
        "properties": {
            "lines": {"type": "integer", "minimum": 1, "description": "How many lines, counted from the bottom."},
        },
        "required": ["lines"],
    }),
});

/// `propose_runbook {"name": string, "params": [{"name", "value"}], "targets": string}`: one of
/// the workspace's runbooks, shown to the operator as its plan; nothing runs without approval.
/// `params` is a list of pairs rather than a map because Gemini's schemas have no
/// `additionalProperties`; a map is accepted too when a model sends one.
pub static PROPOSE_RUNBOOK: LazyLock<ToolSpec> = LazyLock::new(|| ToolSpec {
    name: PROPOSE_RUNBOOK_TOOL.into(),
    description: "Propose running one of the workspace's runbooks (listed in your \
        instructions) on a set of hosts. The operator sees its plan (hosts, every step's \
        command, risk) and decides whether it runs; a summary of what ran where comes back as \
        the tool result."
        .into(),
    json_schema: json!({
        "type": "object",
        "properties": {
            "name": {"type": "string", "description": "The runbook's name."},
            "params": {
                "type": "array",
                "description": "Values for the runbook's parameters; omitted ones take their defaults.",
                "items": {
                    "type": "object",
                    "properties": {
                        "name": {"type": "string"},
                        "value": {"type": "string"},
                    },
                    "required": ["name", "value"],
                },
            },
            "targets": {"type": "string", "description": "Hosts to run on: @group, host names or globs, separated by spaces; empty for the runbook's own targets."},
        },
        "required": ["name"],
    }),
});

/// Tool arguments that do not match the tool's schema.
#[derive(Debug, thiserror::Error)]
#[error("the model called {tool} with arguments lumen cannot use ({detail})")]
pub struct ToolArgumentsError {
    pub tool: &'static str,
    pub detail: String,
}

/// The arguments of a `propose_command` call.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ProposeCommand {
    pub command: String,
    #[serde(default)]
    pub explanation: String,
}

impl ProposeCommand {
    pub fn from_arguments(arguments: &serde_json::Value) -> Result<Self, ToolArgumentsError> {
        let parsed: Self =
            serde_json::from_value(arguments.clone()).map_err(|e| ToolArgumentsError {
                tool: PROPOSE_COMMAND_TOOL,
                detail: e.to_string(),
            })?;
        if parsed.command.trim().is_empty() {
            return Err(ToolArgumentsError {
                tool: PROPOSE_COMMAND_TOOL,
                detail: "the command is empty".into(),
            });
        }
        Ok(parsed)
    }
}

/// The arguments of a `propose_runbook` call.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct ProposeRunbook {
    pub name: String,
    #[serde(default, deserialize_with = "param_values")]
    pub params: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub targets: Option<String>,
}

/// `[{"name", "value"}]` as the schema says, or `{NAME: value}` as some models send it.
fn param_values<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<std::collections::BTreeMap<String, String>, D::Error> {
    #[derive(Deserialize)]
    struct Pair {
        name: String,
        value: String,
    }
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Either {
        List(Vec<Pair>),
        Map(std::collections::BTreeMap<String, String>),
    }
    Ok(match Either::deserialize(d)? {
        Either::List(pairs) => pairs.into_iter().map(|p| (p.name, p.value)).collect(),
        Either::Map(map) => map,
    })
}

impl ProposeRunbook {
    pub fn from_arguments(arguments: &serde_json::Value) -> Result<Self, ToolArgumentsError> {
        let parsed: Self =
            serde_json::from_value(arguments.clone()).map_err(|e| ToolArgumentsError {
                tool: PROPOSE_RUNBOOK_TOOL,
                detail: e.to_string(),
            })?;
        if parsed.name.trim().is_empty() {
            return Err(ToolArgumentsError {
                tool: PROPOSE_RUNBOOK_TOOL,
                detail: "the runbook's name is empty".into(),
            });
        }
        Ok(Self {
            targets: parsed.targets.filter(|t| !t.trim().is_empty()),
            ..parsed
        })
    }
}

/// The arguments of a `read_scrollback` call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub struct ReadScrollback {
    pub lines: u64,
}

impl ReadScrollback {
    pub fn from_arguments(arguments: &serde_json::Value) -> Result<Self, ToolArgumentsError> {
        // Some models send numbers as strings ("lines": "50").
        let lines = match arguments.get("lines") {
            Some(serde_json::Value::String(s)) => s.trim().parse().ok(),
            Some(v) => v
                .as_u64()
                .or_else(|| v.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64)),
            None => None,
        };
        lines
            .map(|lines| Self { lines })
            .ok_or_else(|| ToolArgumentsError {
                tool: READ_SCROLLBACK_TOOL,
                detail: format!("\"lines\" must be a positive number, got {arguments}"),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arguments_read_back() {
        let p = ProposeCommand::from_arguments(&json!({"command": "df -h", "explanation": "disk"}))
            .unwrap();
        assert_eq!(p.command, "df -h");
        assert!(ProposeCommand::from_arguments(&json!({"command": " "})).is_err());
        assert!(ProposeCommand::from_arguments(&json!({"cmd": "ls"})).is_err());
        assert_eq!(
            ReadScrollback::from_arguments(&json!({"lines": 50}))
                .unwrap()
                .lines,
            50
        );
        assert_eq!(
            ReadScrollback::from_arguments(&json!({"lines": "80"}))
                .unwrap()
                .lines,
            80
        );
        assert!(ReadScrollback::from_arguments(&json!({"lines": -3})).is_err());
        let r = ProposeRunbook::from_arguments(
            &json!({"name": "restart-nginx", "params": [{"name": "svc", "value": "nginx"}], "targets": "@web"}),
        )
        .unwrap();
        assert_eq!(r.params["svc"], "nginx");
        assert_eq!(r.targets.as_deref(), Some("@web"));
        let r =
            ProposeRunbook::from_arguments(&json!({"name": "x", "params": {"svc": "a"}})).unwrap();
        assert_eq!(r.params["svc"], "a");
        let r = ProposeRunbook::from_arguments(&json!({"name": "x", "targets": " "})).unwrap();
        assert_eq!(r.targets, None);
        assert!(ProposeRunbook::from_arguments(&json!({"name": ""})).is_err());
        assert!(ProposeRunbook::from_arguments(&json!({"name": "x", "params": {"a": 1}})).is_err());
    }

    #[test]
    fn tool_names_are_the_issue_names() {
        assert_eq!(PROPOSE_COMMAND.name, "propose_command");
        assert_eq!(READ_SCROLLBACK.name, "read_scrollback");
        assert_eq!(
            PROPOSE_COMMAND.json_schema["required"],
            json!(["command", "explanation"])
        );
    }
}
