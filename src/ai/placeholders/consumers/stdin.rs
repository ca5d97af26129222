//! Standard input as a consumer position: a here-string, a here-document or
//! `printf '%s\n' VALUE |` feeding, through plain wrappers, a program that reads a password
//! there.

use super::{
    Checker, Refusal, printf_format, short_flag, strip_port, transparent, user_and_value, user_name,
};
use crate::ai::placeholders::PLACEHOLDER;
use crate::ai::placeholders::sinks::url_host;
use crate::ai::shell::options::{self, Spec};

/// Commands `sudo -S` may run. sudo passes whatever is left of its input to the command, and
/// all of it when it asks for no password (cached credentials, NOPASSWD): so only commands
/// that never read their input may follow it.
const SUDO_S_COMMANDS: &[&str] = &[
    "systemctl",
    "service",
    "journalctl",
    "id",
    "whoami",
    "true",
    "ls",
    "stat",
    "df",
    "du",
    "ps",
    "ss",
    "ip",
    "mkdir",
    "chown",
    "chmod",
    "nginx",
    "apachectl",
    "apache2ctl",
    "uptime",
    "reboot",
];

impl Checker<'_> {
    /// `printf '%s\n' VALUE | consumer` or `echo VALUE | consumer`: true when `c` is such a
    /// producer and its consumer is allowed.
    pub(super) fn producer(&mut self, i: usize, arg: usize, name: &str) -> Result<bool, Refusal> {
        let s = self.script;
        let c = &s.commands[i];
        let args = c.args();
        let shape = match c.program() {
            Some("printf") => {
                args.len() == 2
                    && arg == 1
                    && printf_format(&args[0].value)
                    && user_and_value(&args[1].value)
            }
            Some("echo") => {
                arg + 1 == args.len()
                    && user_and_value(&args[arg].value)
                    && args[..arg]
                        .iter()
                        .all(|w| w.value == "-n" || w.value == "-e")
            }
            _ => return Ok(false),
        };
        let prog = c.program().unwrap_or("");
        if !shape {
            return Err(self.refuse(
                name,
                format!("in {prog} printing more than the value (or printing it as a format)"),
            ));
        }
        if c.parent.is_some() || c.level > 0 || c.stdout_redirected() {
            return Err(self.refuse(
                name,
                format!("in {prog} output that is not piped straight into a program"),
            ));
        }
        let feeds = s.stages_of(i).find_map(|(p, st)| {
            let stages = &s.pipelines[p].stages;
            (st == 0 && stages.len() == 2 && stages[0].len() == 1).then(|| stages[1].clone())
        });
        let Some(next) = feeds else {
            return Err(self.refuse(
                name,
                "in printed output that is not piped straight into a program that reads a password",
            ));
        };
        // The stage must be one command (and what it runs), not a group.
        if next
            .clone()
            .any(|j| j != next.start && !s.ancestors(j).contains(&next.start))
        {
            return Err(self.refuse(name, "piped into a group of commands"));
        }
        self.mark(i);
        self.stdin_chain(next.start, name)?;
        Ok(true)
    }

    /// Walk from `outer` through wrappers to a program that reads a password on its input.
    pub(super) fn stdin_chain(&mut self, outer: usize, name: &str) -> Result<usize, Refusal> {
        let s = self.script;
        let mut at = outer;
        loop {
            let c = &s.commands[at];
            self.plain_program(at, name)?;
            self.safe_vars(c, None, name)?;
            self.mark(at);
            if let Some(quiet) = self.stdin_consumer(at, name)? {
                self.quiet &= quiet;
                return Ok(at);
            }
            let child = s
                .commands
                .iter()
                .position(|d| d.parent.as_ref().is_some_and(|p| p.index == at));
            match child {
                Some(next) if transparent(c) => at = next,
                _ => {
                    return Err(self.refuse(
                        name,
                        format!(
                            "on the input of {}, which lumen does not know to read a password there",
                            c.program().unwrap_or("a command")
                        ),
                    ));
                }
            }
        }
    }

    /// `Some(quiet)` when command `i` reads a password on its standard input.
    fn stdin_consumer(&mut self, i: usize, name: &str) -> Result<Option<bool>, Refusal> {
        let s = self.script;
        let c = &s.commands[i];
        let args = c.args();
        let has = |o: &str| args.iter().any(|w| w.value == o);
        Ok(match c.program() {
            Some("sudo") => {
                let o = options::parse(
                    args,
                    &Spec {
                        short_value: "ugpCDhrtTRU",
                        long_value: &["user", "group", "prompt", "chdir"],
                    },
                );
                if !(o.has("-S") || o.has("--stdin")) {
                    return Ok(None);
                }
                let inner = s
                    .commands
                    .iter()
                    .position(|d| d.parent.as_ref().is_some_and(|p| p.index == i));
                let Some(inner) = inner else {
                    return Err(self.refuse(name, "on the input of sudo -S with no command"));
                };
                let prog = s.commands[inner].program().unwrap_or("");
                let runs_more = s
                    .commands
                    .iter()
                    .any(|d| d.parent.as_ref().is_some_and(|p| p.index == inner));
                if !SUDO_S_COMMANDS.contains(&prog) || runs_more {
                    return Err(self.refuse(
                        name,
                        format!(
                            "on the input of sudo -S running {prog}, which may read what sudo \
                             leaves of its input (lumen allows only commands that read none: \
                             systemctl, service, …)"
                        ),
                    ));
                }
                self.plain_program(inner, name)?;
                self.mark(inner);
                // What the command prints is its own business, not known to be quiet.
                Some(false)
            }
            Some("chpasswd") => Some(true),
            // Writes a hash to its file; with -n it prints the hash, which can be cracked.
            Some("htpasswd") if args.iter().any(|w| short_flag(&w.value, 'i')) => {
                Some(!args.iter().any(|w| short_flag(&w.value, 'n')))
            }
            Some("passwd") if has("--stdin") => Some(true),
            // The docker CLI hands the password to its daemon, which DOCKER_HOST or a docker
            // context (set by any earlier command) may put on another machine: only with the
            // local daemon's socket named (`-H unix://…`), and a registry that is this host.
            Some("docker") if has("--password-stdin") => {
                let at = args.iter().position(|w| w.value == "login");
                let local_daemon = at.is_some_and(|at| {
                    let globals = &args[..at];
                    globals.len() == 2
                        && matches!(globals[0].value.as_str(), "-H" | "--host")
                        && globals[1].value.starts_with("unix://")
                        || globals.len() == 1 && globals[0].value.starts_with("--host=unix://")
                });
                let Some(at) = at.filter(|_| local_daemon) else {
                    return Err(self.refuse(
                        name,
                        "on the input of docker login without -H unix:///var/run/docker.sock \
                         (the daemon that gets the password could be on another machine)",
                    ));
                };
                let o = options::parse(
                    &args[at + 1..],
                    &Spec {
                        short_value: "pu",
                        long_value: &["username", "password"],
                    },
                );
                let server = args[at + 1..].get(o.operand).map(|w| w.value.clone());
                let dest = server
                    .as_deref()
                    .map(|v| url_host(v).unwrap_or_else(|| strip_port(v)));
                match dest {
                    Some(d) if self.allowed(&d) => Some(true),
                    other => {
                        return Err(Refusal::NetworkClient {
                            name: name.into(),
                            program: "docker login".into(),
                            destination: other.unwrap_or_else(|| "its default registry".into()),
                            host: self.host.into(),
                        });
                    }
                }
            }
            _ => None,
        })
    }

    /// A here-string or here-document holds the value alone (`user:VALUE` for chpasswd).
    pub(super) fn stdin_content(
        &self,
        leaf: usize,
        consumer: usize,
        name: &str,
    ) -> Result<(), Refusal> {
        let c = &self.script.commands[leaf];
        let prog = self.script.commands[consumer].program().unwrap_or("");
        for r in c.redirects.iter().filter(|r| r.feeds_stdin()) {
            let text = r.target.value.trim_end_matches('\n');
            let value = if prog == "chpasswd" {
                text.split_once(':')
                    .map_or(text, |(user, v)| if user_name(user) { v } else { text })
            } else {
                text
            };
            if !PLACEHOLDER.is_match(value) {
                continue;
            }
            if PLACEHOLDER
                .find(value)
                .is_none_or(|m| m.start() != 0 || m.end() != value.len())
            {
                return Err(self.refuse(
                    name,
                    format!("in input to {prog} that holds more than the password"),
                ));
            }
        }
        Ok(())
    }
}
