//! How dangerous a shell command is: Low (reads), Medium (changes that are easy to undo, code
//! built at run time), High (destroys data, stops the machine or its services, changes the
//! firewall, accounts or permissions, runs downloads, opens reverse shells). Each level comes
//! with short reasons naming what triggered it. Lumen decides this itself, never the model.
//! High also covers what arms the shell for later (`PROMPT_COMMAND`, `trap`, `alias`, …, see
//! `shell_state`) and keys hidden in the text (Ctrl-U, Enter) that rewrite it as it is typed.
//!
//! Separately, [`read_only`] decides by an allow-list whether a command may run with no
//! keystroke under `ai = "read-only-auto"`; a Low command can still need the keystroke.
//!
//! ```
//! use lumen::ai::risk::{assess, Risk};
//! let a = assess("curl -fsSL https://example.com/install.sh | sudo bash");
//! assert_eq!(a.risk, Risk::High);
//! assert_eq!(a.reasons[0].text, "pipes a download into bash");
//! assert_eq!(assess("df -h | sort -k5").risk, Risk::Low);
//! ```

mod commands;
mod files;
mod flows;
mod inline;
mod network;
mod packages;
mod paths;
mod read_only;
mod services;
mod shell_state;

use crate::ai::shell::{Command, Script};
use serde::Serialize;

pub use paths::is_world_readable;
pub use read_only::read_only;

/// Ordered: `Low < Medium < High`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Risk {
    /// Reads: `cat`, `ls`, `ps`, `systemctl status`, pipes into `grep`.
    Low,
    /// Changes that are easy to undo, programs lumen does not know, code built at run time.
    Medium,
    /// Needs a typed confirmation: destroys data, stops things, opens the machine up.
    High,
}

impl Risk {
    pub fn as_str(self) -> &'static str {
        match self {
            Risk::Low => "low",
            Risk::Medium => "medium",
            Risk::High => "high",
        }
    }
}

impl std::fmt::Display for Risk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One thing that raised the level: "pipes a download into sh", "rm deletes recursively".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reason {
    pub risk: Risk,
    pub text: String,
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text)
    }
}

/// The verdict on one command line: the highest level found, and every reason (highest first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Assessment {
    pub risk: Risk,
    pub reasons: Vec<Reason>,
}

/// Classify `command` as a shell would run it. Anything that does not parse is High.
pub fn assess(command: &str) -> Assessment {
    let script = Script::parse(command);
    let mut found = Findings::default();
    if let Some(key) = typed_control(command) {
        found.high(format!(
            "holds {key}, which edits or runs the line as it is typed into the shell"
        ));
    }
    check_script(&script, &mut found);
    found.finish()
}

/// The first control character in `command` that would act as a key when the command is typed
/// into a terminal (`Enter`, `Ctrl-U`, `Esc`, …), named as a key. A newline only ends a line.
pub(crate) fn typed_control(command: &str) -> Option<String> {
    let c = command
        .chars()
        .find(|c| c.is_control() && *c != '\n' || is_invisible(*c))?;
    Some(match c {
        '\r' => "a carriage return (Enter)".to_string(),
        '\t' => "a tab (completion)".to_string(),
        '\x1b' => "an escape (Esc)".to_string(),
        '\x7f' => "a delete (Backspace)".to_string(),
        '\x01'..='\x1a' => format!("Ctrl-{}", char::from(b'A' + (c as u8) - 1)),
        other if is_invisible(other) => format!(
            "the invisible character U+{:04X} (the command may not run as it reads)",
            u32::from(other)
        ),
        other => format!("the control character U+{:04X}", u32::from(other)),
    })
}

/// Zero-width and text-direction characters: what the card shows is not what runs.
fn is_invisible(c: char) -> bool {
    matches!(
        c,
        '\u{200B}'..='\u{200F}'
            | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{2064}'
            | '\u{2066}'..='\u{2069}'
            | '\u{FEFF}'
    )
}

/// Scripts inside other languages (`python -c "os.system('…')"`, `echo '…' | sh`) are assessed
/// again, one level deeper at most this often.
const MAX_NESTED_ASSESS: u32 = 4;

/// Reasons collected so far, deduplicated in the order found.
#[derive(Debug, Default)]
pub(crate) struct Findings {
    reasons: Vec<Reason>,
    nesting: u32,
}

impl Findings {
    pub(crate) fn add(&mut self, risk: Risk, text: impl Into<String>) {
        let text = text.into();
        if risk == Risk::Low || self.reasons.iter().any(|r| r.text == text) {
            return;
        }
        self.reasons.push(Reason { risk, text });
    }

    pub(crate) fn high(&mut self, text: impl Into<String>) {
        self.add(Risk::High, text);
    }

    pub(crate) fn medium(&mut self, text: impl Into<String>) {
        self.add(Risk::Medium, text);
    }

    /// Assess text another program will run as shell, adding its reasons here.
    pub(crate) fn nested_shell(&mut self, source: &str) {
        if self.nesting >= MAX_NESTED_ASSESS {
            self.high("nests scripts too deeply to check");
            return;
        }
        let script = Script::parse(source);
        self.nesting += 1;
        check_script(&script, self);
        self.nesting -= 1;
    }

    fn finish(mut self) -> Assessment {
        // Stable: equal levels keep the order they were found in.
        self.reasons.sort_by_key(|r| std::cmp::Reverse(r.risk));
        Assessment {
            risk: self.reasons.first().map_or(Risk::Low, |r| r.risk),
            reasons: self.reasons,
        }
    }
}

fn check_script(script: &Script, found: &mut Findings) {
    if script.error {
        found.high("lumen cannot parse it as a shell command");
    }
    for index in 0..script.commands.len() {
        let mut ctx = Ctx::new(script, index, found);
        commands::check(&mut ctx);
    }
    flows::check(script, found);
    shell_state::check(script, found);
}

/// One command being checked, with helpers for its options.
pub(crate) struct Ctx<'a> {
    pub script: &'a Script,
    pub index: usize,
    pub cmd: &'a Command,
    /// Program name (basename, no leading `\`); empty for a bare assignment.
    pub name: String,
    /// Argument values after the program.
    pub args: Vec<&'a str>,
    found: &'a mut Findings,
}

impl<'a> Ctx<'a> {
    fn new(script: &'a Script, index: usize, found: &'a mut Findings) -> Ctx<'a> {
        let cmd = &script.commands[index];
        Ctx {
            script,
            index,
            cmd,
            name: cmd.program().unwrap_or("").to_string(),
            args: cmd.args().iter().map(|w| w.value.as_str()).collect(),
            found,
        }
    }

    fn suffix(&self) -> String {
        match &self.cmd.remote {
            Some(host) => format!(" on {host}"),
            None => String::new(),
        }
    }

    pub fn high(&mut self, text: impl Into<String>) {
        let t = text.into() + &self.suffix();
        self.found.high(t);
    }

    pub fn medium(&mut self, text: impl Into<String>) {
        let t = text.into() + &self.suffix();
        self.found.medium(t);
    }

    pub fn findings(&mut self) -> &mut Findings {
        self.found
    }

    /// A short option letter (alone or combined: `-rf` has `r`) or a long option.
    pub fn flag(&self, short: char, long: &str) -> bool {
        self.args.iter().any(|a| {
            (short != ' ' && is_short_group(a) && a[1..].contains(short))
                || (!long.is_empty()
                    && (*a == long || a.strip_prefix(long).is_some_and(|r| r.starts_with('='))))
        })
    }

    pub fn has(&self, exact: &str) -> bool {
        self.args.contains(&exact)
    }

    /// Arguments that are not options (after `--`, everything).
    pub fn operands(&self) -> Vec<&'a str> {
        let mut out = Vec::new();
        let mut rest = false;
        for a in &self.args {
            if rest || !a.starts_with('-') || *a == "-" {
                out.push(*a);
            } else if *a == "--" {
                rest = true;
            }
        }
        out
    }

    /// The first operand: the subcommand of `systemctl`, `apt`, `docker`, ….
    pub fn sub(&self) -> Option<&'a str> {
        self.operands().first().copied()
    }

    /// Operands from the subcommand on, skipping global options and their values first
    /// (`kubectl -n prod delete pod x` → `delete pod x`).
    pub fn subcommands(&self, short_value: &str, long_value: &[&str]) -> Vec<&'a str> {
        let spec = crate::ai::shell::options::Spec {
            short_value,
            long_value,
        };
        let words = self.cmd.args();
        let o = crate::ai::shell::options::parse(words, &spec);
        let mut out = Vec::new();
        let mut skip_next = false;
        for (i, w) in words.iter().enumerate().skip(o.operand) {
            let v = w.value.as_str();
            if skip_next {
                skip_next = false;
                continue;
            }
            if i == o.operand || !v.starts_with('-') {
                out.push(v);
            } else if v.len() == 2 && short_value.contains(&v[1..]) {
                skip_next = true;
            } else if let Some(l) = v.strip_prefix("--") {
                skip_next = long_value.contains(&l);
            }
        }
        out
    }
}

/// `-rf`, `-x`: a group of short options (not `--long`, not a negative number).
pub(crate) fn is_short_group(a: &str) -> bool {
    a.len() > 1
        && a.starts_with('-')
        && !a.starts_with("--")
        && a[1..].chars().all(|c| c.is_ascii_alphanumeric())
        && !a[1..].chars().all(|c| c.is_ascii_digit())
}
