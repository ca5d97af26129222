//! The second layer behind the allow-list of `consumers`: where a placeholder's value would
//! go. Values flow through words, variables (`X={{…}}`), files written and read, command
//! substitution and pipes; a command that receives one is checked against the sinks that would
//! let it leave the bound host or be seen. A command passes only if both layers agree.

use super::{PLACEHOLDER, Refusal};
use crate::ai::risk::is_world_readable;
use crate::ai::shell::options::{self, Spec};
use crate::ai::shell::{Command, RedirOp, Script, Word};
use std::collections::HashSet;

/// Programs that send what they are given to another machine.
const NET_CLIENTS: &[&str] = &[
    "curl",
    "wget",
    "wget2",
    "nc",
    "ncat",
    "netcat",
    "socat",
    "telnet",
    "ssh",
    "scp",
    "sftp",
    "rsync",
    "ftp",
    "lftp",
    "tftp",
    "http",
    "https",
    "xh",
    "aria2c",
    "mail",
    "mailx",
    "sendmail",
    "mutt",
    "swaks",
    "rclone",
    "s3cmd",
    "smbclient",
    "sshpass",
    "mosh",
    "nc.openbsd",
    "nc.traditional",
];
/// Programs that only pass their input on to the terminal.
const PRINTERS: &[&str] = &[
    "cat", "tee", "head", "tail", "less", "more", "sort", "uniq", "tr", "rev", "base64", "xxd",
    "od", "hexdump", "column", "nl", "fold", "cut", "fmt", "paste", "grep", "sed", "awk",
];
/// Options of interpreters that take code on the command line.
const CODE_OPTS: &[&str] = &[
    "-c", "-e", "-E", "--eval", "-p", "--print", "-r", "-Command",
];
const INTERPRETERS: &[&str] = &[
    "python",
    "python2",
    "python3",
    "pypy",
    "pypy3",
    "perl",
    "ruby",
    "node",
    "nodejs",
    "php",
    "lua",
    "luajit",
    "Rscript",
    "pwsh",
    "powershell",
    "osascript",
    "deno",
    "bun",
];
const AWKS: &[&str] = &["awk", "gawk", "mawk", "nawk"];

/// `localhost`, `127.0.0.0/8`, `::1`, `0.0.0.0`: the host itself.
pub fn is_loopback(host: &str) -> bool {
    let h = host
        .trim_start_matches('[')
        .trim_end_matches(']')
        .to_ascii_lowercase();
    matches!(
        h.as_str(),
        "localhost" | "localhost.localdomain" | "ip6-localhost" | "::1" | "0.0.0.0"
    ) || h
        .strip_prefix("127.")
        .is_some_and(|r| r.split('.').all(|p| p.parse::<u8>().is_ok()))
}

/// Names of placeholders written inside a script that another shell parses again.
pub(super) fn nested_names(script: &Script) -> HashSet<String> {
    nested_matching(script, &PLACEHOLDER)
}

/// The first group of every match of `pattern` in the words of scripts that another shell
/// parses again (`sh -c '…'`, `ssh host '…'`).
pub(crate) fn nested_matching(script: &Script, pattern: &regex::Regex) -> HashSet<String> {
    let mut out = HashSet::new();
    for c in script.commands.iter().filter(|c| c.depth > 0) {
        for w in words_of(c) {
            for cap in pattern.captures_iter(&w.value) {
                if let Some(n) = cap.get(1) {
                    out.insert(n.as_str().to_string());
                }
            }
        }
    }
    out
}

fn words_of(c: &Command) -> impl Iterator<Item = &Word> {
    c.words
        .iter()
        .chain(c.assignments.iter().map(|a| &a.value))
        .chain(c.redirects.iter().map(|r| &r.target))
}

/// Which placeholder (by name) reaches what.
struct Taint<'a> {
    script: &'a Script,
    vars: Vec<(String, String)>,
    files: Vec<(String, String)>,
    cmds: Vec<Option<String>>,
}

impl Taint<'_> {
    fn word(&self, w: &Word) -> Option<String> {
        if let Some(c) = PLACEHOLDER.captures(&w.value) {
            return c.get(1).map(|n| n.as_str().to_string());
        }
        for (var, name) in &self.vars {
            if references(&w.value, var) {
                return Some(name.clone());
            }
        }
        for (path, name) in &self.files {
            if w.value == *path
                || w.value.ends_with(&format!("@{path}"))
                || w.value.ends_with(&format!("={path}"))
            {
                return Some(name.clone());
            }
        }
        w.subs
            .iter()
            .flat_map(|s| s.commands.clone())
            .find_map(|i| self.cmds.get(i).cloned().flatten())
    }

    fn own(&self, c: &Command) -> Option<String> {
        words_of(c).find_map(|w| {
            if w.value.is_empty() {
                None
            } else {
                self.word(w)
            }
        })
    }

    /// A tainted command in an earlier stage of a pipeline feeds this one.
    fn stdin(&self, i: usize) -> Option<String> {
        self.script.stages_of(i).find_map(|(p, s)| {
            let stages = &self.script.pipelines[p].stages;
            let upstream = stages[0].start..stages[s].start;
            upstream.clone().find_map(|j| self.cmds[j].clone())
        })
    }

    fn run(&mut self) {
        // Values move forward through variables and files; a few passes reach a fixpoint.
        for _ in 0..4 {
            let before = (
                self.vars.len(),
                self.files.len(),
                self.cmds.iter().flatten().count(),
            );
            for i in 0..self.script.commands.len() {
                let c = &self.script.commands[i];
                let Some(name) = self.own(c).or_else(|| self.stdin(i)) else {
                    continue;
                };
                self.cmds[i] = Some(name.clone());
                for a in &c.assignments {
                    if self.word(&a.value).is_some() && !self.vars.iter().any(|(v, _)| *v == a.name)
                    {
                        self.vars.push((a.name.clone(), name.clone()));
                    }
                }
                for target in written_files(c) {
                    if !self.files.iter().any(|(f, _)| *f == target) {
                        self.files.push((target, name.clone()));
                    }
                }
            }
            if before
                == (
                    self.vars.len(),
                    self.files.len(),
                    self.cmds.iter().flatten().count(),
                )
            {
                break;
            }
        }
    }
}

/// `$X`, `${X}`, `${X:-…}` in `text`.
fn references(text: &str, var: &str) -> bool {
    text.match_indices('$').any(|(i, _)| {
        let rest = &text[i + 1..];
        let rest = rest.strip_prefix('{').unwrap_or(rest);
        rest.strip_prefix(var).is_some_and(|after| {
            !after.starts_with(|c: char| c.is_ascii_alphanumeric() || c == '_')
        })
    })
}

/// Files a command writes: redirects, `tee` operands, `cp`/`mv`/`install` destinations, `dd of=`.
fn written_files(c: &Command) -> Vec<String> {
    let mut out: Vec<String> = c
        .redirects
        .iter()
        .filter(|r| r.writes())
        .map(|r| r.target.value.clone())
        .collect();
    let args: Vec<&str> = c.args().iter().map(|w| w.value.as_str()).collect();
    match c.program() {
        Some("tee") => out.extend(
            args.iter()
                .filter(|a| !a.starts_with('-'))
                .map(|a| a.to_string()),
        ),
        Some("cp" | "mv" | "install" | "ln" | "rsync") => {
            let ops: Vec<&&str> = args.iter().filter(|a| !a.starts_with('-')).collect();
            if ops.len() > 1 {
                out.extend(ops.last().map(|a| a.to_string()));
            }
        }
        Some("dd") => out.extend(
            args.iter()
                .filter_map(|a| a.strip_prefix("of="))
                .map(str::to_string),
        ),
        _ => {}
    }
    out
}

/// Hosts a network client talks to; empty when lumen cannot tell.
fn destinations(c: &Command) -> Vec<String> {
    let mut out: Vec<String> = c.args().iter().filter_map(|w| url_host(&w.value)).collect();
    let prog = c.program().unwrap_or("");
    let args = c.args();
    let spec = match prog {
        "ssh" | "mosh" | "sshpass" => Some(Spec {
            short_value: "BbcDEeFIiJLlmOoPpQRSWwf",
            long_value: &[],
        }),
        "nc" | "ncat" | "netcat" | "telnet" | "nc.openbsd" | "nc.traditional" => Some(Spec {
            short_value: "pswixXIOqTVe",
            long_value: &[],
        }),
        _ => None,
    };
    if let Some(spec) = spec {
        let o = options::parse(args, &spec);
        if let Some(dest) = args.get(o.operand) {
            let host = dest.value.rsplit('@').next().unwrap_or(&dest.value);
            out.push(host.split(':').next().unwrap_or(host).to_string());
        }
    }
    if matches!(prog, "scp" | "rsync" | "sftp") {
        for w in args
            .iter()
            .filter(|w| !w.value.starts_with('-') && !w.value.contains("://"))
        {
            if let Some((host, _)) = w.value.split_once(':') {
                out.push(host.rsplit('@').next().unwrap_or(host).to_string());
            }
        }
    }
    if prog == "socat" {
        for w in args {
            let parts: Vec<&str> = w.value.split([':', ',']).collect();
            if parts.len() >= 3 && parts[0].to_ascii_lowercase().starts_with("tcp") {
                out.push(parts[1].to_string());
            }
        }
    }
    out
}

/// The host of `scheme://[user[:pass]@]host[:port]/…`.
pub(super) fn url_host(word: &str) -> Option<String> {
    let (_, rest) = word.split_once("://")?;
    let authority = rest.split(['/', '?', '#']).next().unwrap_or(rest);
    let host_port = authority.rsplit('@').next().unwrap_or(authority);
    let host = if let Some(v6) = host_port.strip_prefix('[') {
        v6.split(']').next().unwrap_or(v6)
    } else {
        host_port.split(':').next().unwrap_or(host_port)
    };
    Some(host.to_string())
}

fn allowed(dest: &str, host: &str) -> bool {
    is_loopback(dest) || dest.eq_ignore_ascii_case(host)
}

/// Refuse the first way a placeholder's value would leave `host` or be seen.
pub(super) fn check(script: &Script, host: &str) -> Result<(), Refusal> {
    let mut t = Taint {
        script,
        vars: Vec::new(),
        files: Vec::new(),
        cmds: vec![None; script.commands.len()],
    };
    t.run();
    let raw_socket = script.commands.iter().any(|c| {
        words_of(c).any(|w| w.value.contains("/dev/tcp/") || w.value.contains("/dev/udp/"))
    });
    for (i, c) in script.commands.iter().enumerate() {
        let Some(name) = t.cmds[i].clone() else {
            continue;
        };
        let prog = c.program().unwrap_or("").to_string();
        if raw_socket {
            return Err(Refusal::RawSocket { name });
        }
        for w in words_of(c) {
            if let (Some(n), Some(dest)) = (t.word(w), url_host(&w.value))
                && !allowed(&dest, host)
            {
                return Err(Refusal::Url {
                    name: n,
                    destination: dest,
                    host: host.into(),
                });
            }
        }
        let interpreter = INTERPRETERS
            .contains(&prog.trim_end_matches(|ch: char| ch.is_ascii_digit() || ch == '.'))
            || INTERPRETERS.contains(&prog.as_str());
        if interpreter {
            let code = c
                .args()
                .windows(2)
                .any(|p| CODE_OPTS.contains(&p[0].value.as_str()) && t.word(&p[1]).is_some());
            if code {
                return Err(Refusal::Opaque {
                    name,
                    program: prog,
                });
            }
        }
        if AWKS.contains(&prog.as_str()) {
            let o = options::parse(
                c.args(),
                &Spec {
                    short_value: "Fvf",
                    long_value: &[],
                },
            );
            if c.args().get(o.operand).is_some_and(|w| t.word(w).is_some()) {
                return Err(Refusal::Opaque {
                    name,
                    program: prog,
                });
            }
        }
        if NET_CLIENTS.contains(&prog.as_str()) {
            let dests = destinations(c);
            let bad = dests.iter().find(|d| !allowed(d, host)).cloned();
            if bad.is_some() || dests.is_empty() {
                let destination = bad.unwrap_or_else(|| "a host lumen cannot determine".into());
                return Err(if t.own(c).is_some() {
                    Refusal::NetworkClient {
                        name,
                        program: prog,
                        destination,
                        host: host.into(),
                    }
                } else {
                    Refusal::PipedToNetwork {
                        name,
                        program: prog,
                    }
                });
            }
        }
        if let Some(path) = written_files(c).into_iter().find(|p| is_world_readable(p)) {
            return Err(Refusal::WorldReadable { name, path });
        }
    }
    // Printing is refused last: a command that also sends the value away says so first.
    for (i, c) in script.commands.iter().enumerate() {
        let Some(name) = t.cmds[i].clone() else {
            continue;
        };
        let prog = c.program().unwrap_or("").to_string();
        let prints = matches!(prog.as_str(), "echo" | "printf" | "print")
            || prog == "cat"
                && c.redirects
                    .iter()
                    .any(|r| matches!(r.op, RedirOp::HereDoc { .. } | RedirOp::HereString));
        if prints && reaches_terminal(script, i) {
            return Err(Refusal::Printed {
                name,
                program: prog,
            });
        }
    }
    Ok(())
}

/// Output of `i` ends on the terminal: not captured or redirected, and anything it is piped
/// into only passes it on.
fn reaches_terminal(script: &Script, i: usize) -> bool {
    if script.prints_to_terminal(i) {
        return true;
    }
    let c = &script.commands[i];
    if c.level > 0 || c.stdout_redirected() {
        return false;
    }
    let mut stages = script.stages_of(i).peekable();
    if stages.peek().is_none() {
        return false;
    }
    stages.all(|(p, s)| {
        let pl = &script.pipelines[p];
        pl.stages[s + 1..].iter().all(|r| {
            // `tee FILE` writes the file and the terminal both.
            script.commands[r.clone()].iter().all(|d| {
                d.program().is_some_and(|n| PRINTERS.contains(&n)) && !d.stdout_redirected()
            })
        })
    })
}
