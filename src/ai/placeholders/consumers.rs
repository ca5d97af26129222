//! The allow-list of places a vault value may stand. A placeholder is put in only where a
//! program lumen knows takes a secret: a password option or variable of a database client
//! whose server is named in the command (loopback or the bound host) and which can run no
//! client command that would see it, or the standard input of a program that reads a password
//! there (`stdin`). Everything else (a command name, an argument of any other program, a file
//! name, code for an interpreter, a DNS name, a here-string to an unknown program, a variable
//! program name anywhere in the line) is refused with the reason, and the command using a value
//! must run alone. The [`Verdict`] also says whether the command's output may go to the model
//! unasked: only when the consumer is known not to print what it took (`quiet`).

mod quiet;
mod stdin;

use super::Refusal;
use super::sinks::{is_loopback, url_host};
use crate::ai::shell::options::{self, Spec};
use crate::ai::shell::{Command, RedirOp, Script, Word};
use quiet::{mysql_quiet, psql_quiet};

/// Options of the clients whose value is SQL.
const CODE_OPTS: &[&str] = &["-e", "--execute", "-c", "--command"];
/// What the operator is told a value may be used for.
const WHERE_ALLOWED: &str = "as the password of mysql/mariadb (-pVALUE, --password=VALUE, \
    MYSQL_PWD=) or psql and the other PostgreSQL tools (PGPASSWORD=) with -h naming this host \
    or loopback and plain SQL, or on the standard input of sudo -S, chpasswd, htpasswd -i, passwd --stdin or \
    docker -H unix://… login --password-stdin";

/// MySQL and MariaDB clients. They take the password as `-pVALUE` (attached: `-p VALUE` would
/// prompt and read VALUE as a database name) or `--password=VALUE`, or from `MYSQL_PWD`; they
/// overwrite it in their own argv and never print it. The server must be named with `-h`:
/// without it an option file (`~/.my.cnf`, which an earlier command may have written) could
/// send the password anywhere.
const MYSQL: &[&str] = &[
    "mysql",
    "mariadb",
    "mysqldump",
    "mariadb-dump",
    "mysqladmin",
    "mariadb-admin",
    "mysqlcheck",
    "mariadb-check",
    "mysqlshow",
    "mariadb-show",
    "mysqlimport",
    "mariadb-import",
];
/// PostgreSQL clients: the password only from `PGPASSWORD` (they have no password option).
/// The server must be named with `-h`, for the same reason (`PGHOST`, service files).
const POSTGRES: &[&str] = &[
    "psql",
    "pg_dump",
    "pg_dumpall",
    "pg_restore",
    "pg_isready",
    "createdb",
    "dropdb",
    "createuser",
    "dropuser",
    "vacuumdb",
    "reindexdb",
    "clusterdb",
];
/// Commands that only run the command after them, adding nothing that could read the value.
const WRAPPERS: &[&str] = &[
    "sudo", "doas", "env", "timeout", "nice", "ionice", "stdbuf", "nohup", "command", "exec",
    "time",
];
/// Variables a command holding a value may set besides the password: they cannot change
/// which program runs or where it connects.
const SAFE_VARS: &[&str] = &[
    "LANG",
    "LC_ALL",
    "LC_MESSAGES",
    "TZ",
    "PGUSER",
    "PGDATABASE",
    "PGPORT",
    "PGCONNECT_TIMEOUT",
    "PGSSLMODE",
    "PGAPPNAME",
];
/// Directories a program may be named from (a bare name is looked up in PATH).
const SYSTEM_DIRS: &[&str] = &[
    "/usr/bin/",
    "/bin/",
    "/usr/sbin/",
    "/sbin/",
    "/usr/local/bin/",
    "/usr/local/sbin/",
];
/// Statements that would change what a later command in the same line runs or where it goes.
const ENVIRONMENT_CHANGERS: &[&str] = &[
    "alias", "unalias", "source", ".", "eval", "hash", "enable", "shopt", "set", "trap", "builtin",
    "export", "declare", "typeset", "local", "readonly", "unset",
];

/// What lumen learned about a command whose placeholders all stand in allowed places.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verdict {
    /// Its output may go to the model without the operator's release: the values only reach
    /// programs known not to print them, and nothing else runs beside them.
    pub quiet: bool,
}

/// Check every placeholder of `source` (parsed as `script`) against the allow-list.
pub(super) fn check(script: &Script, source: &str, host: &str) -> Result<Verdict, Refusal> {
    let found: Vec<(std::ops::Range<usize>, String)> = super::PLACEHOLDER
        .captures_iter(source)
        .filter_map(|c| Some((c.get(0)?.range(), c.get(1)?.as_str().to_string())))
        .collect();
    let Some((_, first)) = found.first() else {
        return Ok(Verdict { quiet: true });
    };
    whole_line_rules(script, first)?;
    let mut c = Checker {
        script,
        host,
        quiet: true,
        involved: vec![false; script.commands.len()],
    };
    for (span, name) in &found {
        c.occurrence(span.clone(), name)?;
    }
    // A value's command runs alone: anything beside it could read it from the consumer's
    // /proc entries or trace it, and no check of that command would see.
    if let Some(i) = c.involved.iter().position(|&i| !i) {
        return Err(Refusal::Alone {
            name: first.clone(),
            program: script.commands[i].program().unwrap_or("a statement").into(),
        });
    }
    Ok(Verdict { quiet: c.quiet })
}

/// Rules for the whole line, whatever the placeholder's place.
fn whole_line_rules(script: &Script, name: &str) -> Result<(), Refusal> {
    if script.error {
        return Err(Refusal::Unparseable);
    }
    if let Some(nested) = super::sinks::nested_names(script).into_iter().next() {
        return Err(Refusal::Nested { name: nested });
    }
    if let Some(o) = script.opaque.first() {
        return Err(Refusal::Environment {
            name: name.into(),
            what: format!("a script built at run time ({})", o.via),
        });
    }
    if let Some(c) = script.commands.iter().find(|c| c.dynamic_program()) {
        return Err(Refusal::VariableProgram {
            name: name.into(),
            word: c.words.first().map(|w| w.value.clone()).unwrap_or_default(),
        });
    }
    if let Some(f) = script.functions.first() {
        return Err(Refusal::Environment {
            name: name.into(),
            what: format!("the function definition {}()", f.name),
        });
    }
    for c in &script.commands {
        let prog = c.program().unwrap_or("");
        if c.words.is_empty() && !c.assignments.is_empty() {
            return Err(Refusal::Environment {
                name: name.into(),
                what: format!("the variable assignment {}=…", c.assignments[0].name),
            });
        }
        if c.declaration || ENVIRONMENT_CHANGERS.contains(&prog) {
            return Err(Refusal::Environment {
                name: name.into(),
                what: format!("'{prog}'"),
            });
        }
        if c.extra_args {
            return Err(Refusal::Environment {
                name: name.into(),
                what: format!("'{prog}', which builds command lines at run time"),
            });
        }
    }
    Ok(())
}

/// Where one occurrence stands in one command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Site {
    Program,
    /// Index into the command's arguments.
    Arg(usize),
    /// Index into the command's assignments.
    Env(usize),
    /// A here-string or here-document: the command's standard input.
    Stdin,
    /// A redirection's file name.
    File,
}

struct Checker<'a> {
    script: &'a Script,
    host: &'a str,
    quiet: bool,
    /// Commands that are part of an allowed use of a value.
    involved: Vec<bool>,
}

fn covers(w: &Word, span: &std::ops::Range<usize>) -> bool {
    w.span.start <= span.start && span.end <= w.span.end
}

fn site_in(c: &Command, span: &std::ops::Range<usize>) -> Option<Site> {
    if let Some(i) = c.words.iter().position(|w| covers(w, span)) {
        return Some(if i == 0 {
            Site::Program
        } else {
            Site::Arg(i - 1)
        });
    }
    if let Some(i) = c.assignments.iter().position(|a| covers(&a.value, span)) {
        return Some(Site::Env(i));
    }
    c.redirects
        .iter()
        .find(|r| covers(&r.target, span))
        .map(|r| match r.op {
            RedirOp::HereString | RedirOp::HereDoc { .. } => Site::Stdin,
            _ => Site::File,
        })
}

impl Checker<'_> {
    fn refuse(&self, name: &str, place: impl Into<String>) -> Refusal {
        Refusal::NotAConsumer {
            name: name.into(),
            place: place.into(),
            allowed: WHERE_ALLOWED,
        }
    }

    fn occurrence(&mut self, span: std::ops::Range<usize>, name: &str) -> Result<(), Refusal> {
        let s = self.script;
        let hits: Vec<(usize, Site)> = s
            .commands
            .iter()
            .enumerate()
            .filter(|(_, c)| c.depth == 0)
            .filter_map(|(i, c)| site_in(c, &span).map(|site| (i, site)))
            .collect();
        if hits.is_empty() {
            return Err(self.refuse(
                name,
                "outside any command's arguments (in a test, a loop, arithmetic or a comment)",
            ));
        }
        // The commands actually given the value: those no other hit runs inside.
        let leaves: Vec<(usize, Site)> = hits
            .iter()
            .filter(|(i, _)| {
                !hits
                    .iter()
                    .any(|(j, _)| j != i && s.ancestors(*j).contains(i))
            })
            .copied()
            .collect();
        for (leaf, site) in leaves {
            let mut chain = s.ancestors(leaf);
            chain.push(leaf);
            for &i in &chain {
                self.plain_program(i, name)?;
            }
            match site {
                Site::Program => {
                    return Err(self.refuse(name, "as a command name"));
                }
                Site::File => {
                    return Err(self.refuse(name, "in a file name or redirection"));
                }
                Site::Stdin => {
                    let consumer = self.stdin_chain(chain[0], name)?;
                    self.stdin_content(leaf, consumer, name)?;
                }
                Site::Arg(a) => {
                    self.wrappers_only(&chain[..chain.len() - 1], name)?;
                    if !self.producer(leaf, a, name)? {
                        self.client_option(leaf, a, name)?;
                    }
                }
                Site::Env(a) => {
                    self.wrappers_only(&chain[..chain.len() - 1], name)?;
                    self.client_variable(leaf, a, name)?;
                }
            }
        }
        Ok(())
    }

    fn mark(&mut self, i: usize) {
        if let Some(m) = self.involved.get_mut(i) {
            *m = true;
        }
    }

    /// The program is named plainly (no directory outside the system's, no glob) and only
    /// safe variables are set for it.
    fn plain_program(&self, i: usize, name: &str) -> Result<(), Refusal> {
        let c = &self.script.commands[i];
        let Some(w) = c.words.first() else {
            return Err(self.refuse(name, "in a statement that runs no program"));
        };
        let v = w.value.trim_start_matches('\\');
        if w.glob || (v.contains('/') && !SYSTEM_DIRS.iter().any(|d| v.starts_with(d))) {
            return Err(self.refuse(
                name,
                format!(
                    "next to the program '{}', named by a path lumen does not trust",
                    w.value
                ),
            ));
        }
        Ok(())
    }

    /// Every command of `chain` only runs the next one.
    fn wrappers_only(&mut self, chain: &[usize], name: &str) -> Result<(), Refusal> {
        for &i in chain {
            let c = &self.script.commands[i];
            if !transparent(c) {
                return Err(self.refuse(
                    name,
                    format!("in what {} runs", c.program().unwrap_or("a command")),
                ));
            }
            self.safe_vars(c, None, name)?;
            self.mark(i);
        }
        Ok(())
    }

    /// Only [`SAFE_VARS`] (and `password`, the consumer's own) are set on `c`.
    fn safe_vars(&self, c: &Command, password: Option<&str>, name: &str) -> Result<(), Refusal> {
        for a in &c.assignments {
            let n = a.name.as_str();
            if SAFE_VARS.contains(&n) || Some(n) == password {
                continue;
            }
            if matches!(n, "PGHOST" | "PGHOSTADDR") && self.allowed(&a.value.value) {
                continue;
            }
            return Err(Refusal::Environment {
                name: name.into(),
                what: format!("the variable {n} set for {}", c.program().unwrap_or("it")),
            });
        }
        Ok(())
    }

    fn allowed(&self, dest: &str) -> bool {
        is_loopback(dest) || dest.eq_ignore_ascii_case(self.host)
    }

    /// `-pVALUE` / `--password=VALUE` of a MySQL client.
    fn client_option(&mut self, i: usize, arg: usize, name: &str) -> Result<(), Refusal> {
        let c = &self.script.commands[i];
        let prog = c.program().unwrap_or("").to_string();
        let w = &c.args()[arg];
        let option = ["-p", "--password="]
            .into_iter()
            .find(|o| w.value.strip_prefix(o).is_some_and(is_placeholder));
        if !MYSQL.contains(&prog.as_str()) || option.is_none() {
            return Err(self.refuse(
                name,
                format!("in an argument of {prog}, which is not a password option lumen knows"),
            ));
        }
        self.safe_vars(c, None, name)?;
        self.server_named(c, &prog, name)?;
        self.mark(i);
        self.client_shape(c, &prog, name)
    }

    /// mysql and psql run shell commands (`system`, `\!`, from -e/-c, files, input or
    /// ~/.psqlrc) that would inherit or read the password, and could send it on: they get a
    /// value only run with known options and plain SQL, and then their output is quiet. The
    /// other tools of the families run no commands and print no password.
    fn client_shape(&mut self, c: &Command, prog: &str, name: &str) -> Result<(), Refusal> {
        let (shape, hint) = match prog {
            "mysql" | "mariadb" => (
                mysql_quiet(c),
                "known options only (-h -u -P -D -e -N -B -s -t -E -r) and -e with plain SQL \
                 statements, no client commands (system, source, pager, \\)",
            ),
            "psql" => (
                psql_quiet(c),
                "-X (no ~/.psqlrc), known options only (-h -p -U -d -c -A -t -q -w) and -c \
                 with SQL, no backslash commands",
            ),
            _ => return Ok(()),
        };
        if shape {
            Ok(())
        } else {
            Err(Refusal::ClientCommands {
                name: name.into(),
                program: prog.into(),
                hint,
            })
        }
    }

    /// `MYSQL_PWD=VALUE mysql …`, `PGPASSWORD=VALUE psql …`.
    fn client_variable(&mut self, i: usize, a: usize, name: &str) -> Result<(), Refusal> {
        let c = &self.script.commands[i];
        let prog = c.program().unwrap_or("").to_string();
        let var = c.assignments[a].name.as_str();
        let fits = match var {
            "MYSQL_PWD" => MYSQL.contains(&prog.as_str()),
            "PGPASSWORD" => POSTGRES.contains(&prog.as_str()),
            _ => false,
        };
        if !fits || !is_value(&c.assignments[a].value) {
            return Err(self.refuse(
                name,
                format!(
                    "in the variable {var} of {prog}, which is not one it reads a password from"
                ),
            ));
        }
        self.safe_vars(c, Some(var), name)?;
        self.server_named(c, &prog, name)?;
        self.mark(i);
        self.client_shape(c, &prog, name)
    }

    /// The client names its server with `-h`/`--host` (loopback or the bound host), and
    /// nothing else in the line could point it elsewhere.
    fn server_named(&self, c: &Command, prog: &str, name: &str) -> Result<(), Refusal> {
        let args = c.args();
        let mut hosts: Vec<String> = Vec::new();
        let mut code = false;
        for (k, w) in args.iter().enumerate() {
            let v = w.value.as_str();
            let next = || args.get(k + 1).map(|n| n.value.clone()).unwrap_or_default();
            // SQL given to -e/-c is not an option, whatever it says.
            if std::mem::replace(&mut code, CODE_OPTS.contains(&v))
                || v.starts_with("--execute=")
                || v.starts_with("--command=")
                || super::PLACEHOLDER.is_match(v)
            {
                continue;
            }
            if v == "-h" || v == "--host" {
                hosts.push(next());
            } else if let Some(h) = v.strip_prefix("--host=") {
                hosts.push(h.into());
            } else if v.starts_with('-') && !v.starts_with("--") && v[1..].contains('h') {
                // `-hHOST` or `-Nh HOST`; anything clustered with h is read as a host.
                let after = v.split_once('h').map(|(_, r)| r).unwrap_or("");
                hosts.push(if after.is_empty() {
                    next()
                } else {
                    after.into()
                });
            }
            if v.starts_with("--defaults-file")
                || v.starts_with("--defaults-extra-file")
                || v.starts_with("--login-path")
                || v.contains("service=")
            {
                return Err(Refusal::Environment {
                    name: name.into(),
                    what: format!("{v}, which can name another server"),
                });
            }
            if v.starts_with("--plugin-dir")
                || v.starts_with("--default-auth")
                || v.starts_with("--socket")
                || (v == "-S" || v.starts_with("-S")) && MYSQL.contains(&prog)
            {
                return Err(Refusal::Environment {
                    name: name.into(),
                    what: format!(
                        "{v}, which loads client code or names a socket that may lead anywhere"
                    ),
                });
            }
            if v.contains("://") || v.contains("host=") || v.contains("hostaddr=") {
                let h = url_host(v).unwrap_or_else(|| conninfo_host(v));
                hosts.push(h);
            }
        }
        if hosts.is_empty() {
            return Err(Refusal::NoServer {
                name: name.into(),
                program: prog.into(),
                host: self.host.into(),
            });
        }
        if let Some(bad) = hosts.into_iter().find(|h| !self.allowed(h)) {
            return Err(Refusal::NetworkClient {
                name: name.into(),
                program: prog.into(),
                destination: bad,
                host: self.host.into(),
            });
        }
        Ok(())
    }
}

/// Only runs the command after it: [`WRAPPERS`] without options that read or run more.
fn transparent(c: &Command) -> bool {
    let Some(prog) = c.program() else {
        return false;
    };
    // Only the wrapper's own options count, not those of the command it runs.
    let short_value = match prog {
        "sudo" => "ugpCDhrtTRU",
        "env" => "uCPS",
        "timeout" => "sk",
        "nice" => "n",
        "ionice" => "cnt",
        "stdbuf" => "ioe",
        _ => "",
    };
    let own = options::parse(
        c.args(),
        &Spec {
            short_value,
            long_value: &[],
        },
    );
    let has = |o: &str| own.flags.iter().any(|f| f.name == o);
    WRAPPERS.contains(&prog)
        && !(prog == "env" && (has("-S") || has("--split-string")))
        && !(prog == "sudo" && (has("-e") || has("--edit")))
        && !(prog == "command" && (has("-v") || has("-V")))
}

/// `-i`, or `-i` clustered with other letters (`-bi`).
fn short_flag(word: &str, letter: char) -> bool {
    word.starts_with('-') && !word.starts_with("--") && word[1..].contains(letter)
}

fn is_placeholder(text: &str) -> bool {
    super::PLACEHOLDER
        .find(text)
        .is_some_and(|m| m.start() == 0 && m.end() == text.len())
}

/// The word is a placeholder and nothing else.
fn is_value(w: &Word) -> bool {
    is_placeholder(&w.value)
}

/// `VALUE` or `user:VALUE` (as chpasswd reads it).
fn user_and_value(text: &str) -> bool {
    is_placeholder(text)
        || text
            .split_once(':')
            .is_some_and(|(u, v)| user_name(u) && is_placeholder(v))
}

fn user_name(u: &str) -> bool {
    !u.is_empty()
        && u.chars()
            .all(|ch| ch.is_ascii_alphanumeric() || "._-".contains(ch))
}

/// `%s`, `%s\n`, `user:%s\n`: the value printed once, as it is.
fn printf_format(f: &str) -> bool {
    let f = f.strip_suffix("\\n").unwrap_or(f);
    let Some(prefix) = f.strip_suffix("%s") else {
        return false;
    };
    prefix.is_empty() || prefix.strip_suffix(':').is_some_and(user_name)
}

fn strip_port(v: &str) -> String {
    v.split(['/', ':']).next().unwrap_or(v).to_string()
}

/// `host=H` in a libpq connection string.
fn conninfo_host(v: &str) -> String {
    v.split_whitespace()
        .find_map(|kv| {
            kv.strip_prefix("host=")
                .or_else(|| kv.strip_prefix("hostaddr="))
        })
        .unwrap_or(v)
        .trim_matches(['\'', '"'])
        .to_string()
}

#[cfg(test)]
mod tests;
