//! Commands that arm the operator's shell: they run nothing bad now, but make something run
//! later without a keystroke (hook variables such as `PROMPT_COMMAND` and `PS1`, `trap`,
//! `alias`, shell functions, `hash -p`, `bind -x`, `complete -C`, `enable -f`, programs that
//! later commands start through `EDITOR`/`PAGER`/`BASH_ENV`/…). All High: what they arm runs
//! at a moment nobody chose, on every prompt or keystroke.

use super::{Findings, paths};
use crate::ai::shell::{Command, Script, Word};

/// Variables the interactive shell itself expands or runs at every prompt, command or start.
const SHELL_HOOKS: &[&str] = &[
    "PROMPT_COMMAND",
    "PS0",
    "PS1",
    "PS2",
    "PS3",
    "PS4",
    "BASH_ENV",
    "ENV",
    "ZDOTDIR",
    "PROMPT",
    "RPROMPT",
    "RPS1",
    "precmd_functions",
    "preexec_functions",
    "chpwd_functions",
    "BASH_XTRACEFD",
    "BASH_LOADABLES_PATH",
    "MAILPATH",
    "INPUTRC",
];

/// Variables naming a program (or options that name one) that later commands start.
const PROGRAM_VARS: &[&str] = &[
    "EDITOR",
    "VISUAL",
    "FCEDIT",
    "SUDO_EDITOR",
    "SYSTEMD_EDITOR",
    "PAGER",
    "MANPAGER",
    "GIT_PAGER",
    "SYSTEMD_PAGER",
    "BAT_PAGER",
    "LESS",
    "LESSOPEN",
    "LESSCLOSE",
    "LESSKEY",
    "BROWSER",
    "TERMINAL",
    "GIT_SSH",
    "GIT_SSH_COMMAND",
    "GIT_EDITOR",
    "GIT_EXTERNAL_DIFF",
    "GIT_PROXY_COMMAND",
    "GIT_ASKPASS",
    "GIT_EXEC_PATH",
    "GIT_TEMPLATE_DIR",
    "GIT_CONFIG_GLOBAL",
    "GIT_CONFIG_SYSTEM",
    "SSH_ASKPASS",
    "SUDO_ASKPASS",
    "RSYNC_RSH",
    "TAR_OPTIONS",
    "LD_PRELOAD",
    "LD_AUDIT",
    "LD_LIBRARY_PATH",
    "DYLD_INSERT_LIBRARIES",
    "PYTHONSTARTUP",
    "PYTHONPATH",
    "PYTHONHOME",
    "PERL5OPT",
    "PERL5LIB",
    "PERLLIB",
    "RUBYOPT",
    "RUBYLIB",
    "NODE_OPTIONS",
    "NODE_PATH",
    "JAVA_TOOL_OPTIONS",
    "_JAVA_OPTIONS",
    "MAILCAPS",
];

/// Names the operator types every day: a function or alias with one of these runs instead.
const HOOK_FUNCTIONS: &[&str] = &[
    "command_not_found_handle",
    "command_not_found_handler",
    "precmd",
    "preexec",
    "chpwd",
    "periodic",
    "zshexit",
    "TRAPEXIT",
    "TRAPDEBUG",
];

pub(super) fn check(script: &Script, found: &mut Findings) {
    for c in &script.commands {
        // `X=1 prog`: the variable is set for that one program only (its value is checked by
        // the wrapper unwrapping); alone, or through export/declare, it stays in the shell.
        let persistent = c.words.is_empty() || c.declaration;
        // `PS4='$(id)' bash -x …`, `env BASH_ENV=f bash -c …`: the shell it starts runs them.
        if let Some(shell) = c.program().filter(|p| super::inline::SHELLS.contains(p)) {
            for a in c.assignments.iter().filter(|a| is_hook(&a.name)) {
                found.high(format!(
                    "sets {} for the {shell} it starts, which runs or expands it by itself",
                    a.name
                ));
            }
        }
        if persistent {
            for a in &c.assignments {
                assigned(found, &a.name, Some(&a.value), c.declaration);
            }
        }
        if c.declaration {
            // `export PROMPT_COMMAND` exports what is there; `declare -n X=PS1` aliases it.
            for w in c.args() {
                if !w.value.starts_with('-') {
                    assigned(found, &w.value, None, true);
                }
            }
        }
        match c.program() {
            Some("trap") => trap(found, c),
            Some("alias") => alias(found, c),
            Some("hash") => hash(found, c),
            Some("bind") => bind(found, c),
            Some("complete") | Some("compdef") => complete(found, c),
            Some("enable") => enable(found, c),
            Some("read" | "mapfile" | "readarray" | "printf" | "getopts") => set_by(found, c),
            _ => {}
        }
    }
    for f in &script.functions {
        found.high(format!(
            "defines the shell function {}, which stays in your shell and runs in place of \
             any command of that name",
            f.name
        ));
        if HOOK_FUNCTIONS.contains(&f.name.as_str()) {
            found.high(format!("{} is a hook the shell runs by itself", f.name));
        }
    }
}

fn is_hook(name: &str) -> bool {
    SHELL_HOOKS.contains(&name.split('[').next().unwrap_or(name).trim_end_matches('+'))
}

/// `name` set (or exported) in the shell itself; `value` when known.
fn assigned(found: &mut Findings, name: &str, value: Option<&Word>, declared: bool) {
    // `PROMPT_COMMAND+=…`, `PROMPT_COMMAND[1]=…`: the same variable.
    let name = name.split('[').next().unwrap_or(name).trim_end_matches('+');
    // `declare -n ref=PS1`: from now on, setting `ref` sets PS1.
    if declared
        && let Some(target) = value.map(|v| v.value.as_str())
        && (SHELL_HOOKS.contains(&target) || PROGRAM_VARS.contains(&target))
    {
        found.high(format!("makes {name} another name for {target}"));
    }
    let shown = value.map(|v| v.value.as_str()).unwrap_or("");
    if SHELL_HOOKS.contains(&name) {
        found.high(format!(
            "sets {name}, which your shell runs or expands by itself at every prompt or start"
        ));
        if let Some(v) = value.filter(|v| !v.value.is_empty()) {
            if name.starts_with("PS") || name.contains("PROMPT") && name != "PROMPT_COMMAND" {
                // A prompt string runs its $(…) and `…` each time it is shown.
                found.nested_shell(&format!("echo \"{}\"", v.value.replace('"', "\\\"")));
            } else if name == "PROMPT_COMMAND" && declared {
                found.nested_shell(&v.value);
            }
        }
    } else if PROGRAM_VARS.contains(&name) {
        found.high(format!(
            "sets {name} in your shell: later commands run or load what it names ({shown})"
        ));
        if declared
            && runs_as_command(name)
            && let Some(v) = value.filter(|v| !v.value.is_empty())
        {
            // LESSOPEN's value starts with `|` (pipe from the command).
            found.nested_shell(v.value.trim_start_matches('|'));
        }
    } else if name == "PATH"
        && let Some(v) = value
        && let Some(dir) = v.value.split(':').find(|d| untrusted_dir(d))
    {
        let dir = if dir.is_empty() { "." } else { dir };
        found.high(format!(
            "puts {dir} in PATH: later commands may run programs anyone can put there"
        ));
    }
}

/// A PATH entry that is relative (the current directory, whatever it is then) or under a
/// directory every local user can write to.
fn untrusted_dir(dir: &str) -> bool {
    if dir.starts_with('$') {
        return false; // `$PATH`, `$HOME/bin`: the old value or the user's own
    }
    dir.is_empty() || !dir.starts_with(['/', '~']) || paths::is_world_writable(dir)
}

/// The variable's value is a command line (not a path list or options).
fn runs_as_command(name: &str) -> bool {
    [
        "EDITOR",
        "PAGER",
        "ASKPASS",
        "COMMAND",
        "LESSOPEN",
        "LESSCLOSE",
        "BROWSER",
        "DIFF",
    ]
    .iter()
    .any(|s| name.ends_with(s))
        || matches!(name, "VISUAL" | "GIT_SSH" | "RSYNC_RSH" | "TERMINAL")
}

fn values(c: &Command) -> Vec<&str> {
    c.args().iter().map(|w| w.value.as_str()).collect()
}

/// `trap 'cmd' SIG…` arms; `trap`, `trap -p`, `trap -l`, `trap - SIG`, `trap '' SIG` do not.
fn trap(found: &mut Findings, c: &Command) {
    let args = values(c);
    let mut rest = args.as_slice();
    if rest.first() == Some(&"--") {
        rest = &rest[1..];
    }
    let Some((&action, signals)) = rest.split_first() else {
        return;
    };
    if action.starts_with('-') && action != "-" && signals.is_empty() || action == "-p" {
        return;
    }
    if action == "-" || action.is_empty() || signals.is_empty() {
        return;
    }
    let sigs = signals.join(" ");
    found.high(format!(
        "trap makes the shell run `{action}` by itself on {sigs}"
    ));
    found.nested_shell(action);
}

/// `alias NAME=VALUE`: later typing NAME runs VALUE. `alias` and `alias NAME` only print.
fn alias(found: &mut Findings, c: &Command) {
    for a in values(c) {
        if let Some((name, value)) = a.split_once('=') {
            found.high(format!("alias makes {name} run `{value}` from now on"));
            found.nested_shell(value);
        }
    }
}

/// `hash -p PATH NAME`: NAME runs PATH from now on. `hash`, `hash -r`, `hash -t`, `-l`, `-d` only
/// print or forget.
fn hash(found: &mut Findings, c: &Command) {
    let args = values(c);
    if let Some(i) = args
        .iter()
        .position(|a| a.starts_with("-p") || is_group_with(a, 'p'))
    {
        let path = if args[i].len() > 2 && args[i].starts_with("-p") {
            &args[i][2..]
        } else {
            args.get(i + 1).copied().unwrap_or("a program")
        };
        let names = args.get(i + 2..).unwrap_or(&[]).join(" ");
        found.high(format!("hash -p makes {names} run {path} from now on"));
    }
}

/// `bind -x '"\C-l": cmd'` runs a command on a key; other bindings change what keys type.
fn bind(found: &mut Findings, c: &Command) {
    let args = values(c);
    if args.iter().any(|a| is_group_with(a, 'x')) {
        found.high("bind -x makes a key run a command");
    } else if args
        .iter()
        .any(|a| is_group_with(a, 'f') || a.contains(':'))
    {
        found.high("bind changes what your keys do");
    }
}

/// `complete -C cmd` / `-F func` run code whenever Tab is pressed.
fn complete(found: &mut Findings, c: &Command) {
    let args = values(c);
    if args
        .iter()
        .any(|a| is_group_with(a, 'C') || is_group_with(a, 'F'))
    {
        found.high("complete makes Tab run a command");
    }
}

/// `enable -f lib.so NAME` loads code into the shell; `enable -n` turns builtins off.
fn enable(found: &mut Findings, c: &Command) {
    let args = values(c);
    if args.iter().any(|a| is_group_with(a, 'f')) {
        found.high("enable -f loads a library into your shell");
    } else if args.iter().any(|a| is_group_with(a, 'n')) {
        found.high("enable -n turns shell builtins off");
    }
}

/// `read PS1`, `printf -v PROMPT_COMMAND …`, `mapfile precmd_functions`: an assignment too.
fn set_by(found: &mut Findings, c: &Command) {
    let args = values(c);
    let names: Vec<&str> = match c.program() {
        Some("printf") => args
            .iter()
            .position(|a| *a == "-v")
            .and_then(|i| args.get(i + 1))
            .into_iter()
            .copied()
            .collect(),
        _ => args
            .iter()
            .copied()
            .filter(|a| !a.starts_with('-'))
            .collect(),
    };
    for n in names {
        let n = n.split('[').next().unwrap_or(n);
        if SHELL_HOOKS.contains(&n) || PROGRAM_VARS.contains(&n) {
            assigned(found, n, None, true);
        }
    }
}

/// `-xyz` holding the letter `c`.
fn is_group_with(a: &str, c: char) -> bool {
    a.starts_with('-') && !a.starts_with("--") && a[1..].contains(c)
}
