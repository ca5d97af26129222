//! Code in other languages handed over on the command line or on stdin: `python -c`,
//! `perl -e`, `awk`, `sed`, SQL for `psql`/`mysql`, Redis commands. Shell commands inside it
//! (`os.system('rm -rf /')`, `awk '{system("…")}'`) are assessed as shell.

use super::{Ctx, Findings};
use crate::ai::shell::options::{self, Spec};
use crate::ai::shell::{Command, Word};

pub(crate) const SHELLS: &[&str] = &[
    "sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "fish", "csh", "tcsh", "yash", "rbash",
];

/// Interpreters and the option that passes them code on the command line.
const INTERPRETERS: &[(&str, &[&str])] = &[
    ("python", &["-c"]),
    ("pypy", &["-c"]),
    ("perl", &["-e", "-E"]),
    ("ruby", &["-e"]),
    ("node", &["-e", "--eval", "-p", "--print"]),
    ("nodejs", &["-e", "--eval", "-p", "--print"]),
    ("deno", &["eval"]),
    ("bun", &["-e", "--eval"]),
    ("php", &["-r"]),
    ("lua", &["-e"]),
    ("luajit", &["-e"]),
    ("Rscript", &["-e"]),
    ("pwsh", &["-c", "-Command"]),
    ("powershell", &["-c", "-Command"]),
    ("osascript", &["-e"]),
    ("tclsh", &[]),
];

/// `python3.11` → `python`.
pub(crate) fn interpreter(name: &str) -> Option<(&'static str, &'static [&'static str])> {
    let base = name.trim_end_matches(|c: char| c.is_ascii_digit() || c == '.');
    INTERPRETERS.iter().find(|(n, _)| *n == base).copied()
}

/// What a command does with text on its standard input.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Reader {
    Shell,
    Code(&'static str),
    Sql,
    Redis,
}

/// Whether `cmd` runs its standard input as code (a shell or interpreter with no script).
pub(crate) fn stdin_reader(cmd: &Command) -> Option<Reader> {
    let name = cmd.program()?;
    let args = cmd.args();
    let operand = |short: &str, long: &[&str]| {
        let o = options::parse(
            args,
            &Spec {
                short_value: short,
                long_value: long,
            },
        );
        (o.clone(), args.get(o.operand).map(|w| w.value.as_str()))
    };
    let stdin_file = |f: Option<&str>| f.is_none_or(|f| f == "-" || f == "/dev/stdin");
    if SHELLS.contains(&name) {
        let (o, first) = operand("oO", &["rcfile", "init-file"]);
        if o.has("-c") {
            return None;
        }
        return (o.has("-s") || stdin_file(first)).then_some(Reader::Shell);
    }
    if matches!(name, "source" | ".") {
        return stdin_file(args.first().map(|w| w.value.as_str())).then_some(Reader::Shell);
    }
    if let Some((lang, code_opts)) = interpreter(name) {
        let (o, first) = operand("cemWXI", &["eval", "print"]);
        if code_opts.iter().any(|c| o.has(c)) || o.has("-m") {
            return None;
        }
        return stdin_file(first).then_some(Reader::Code(lang));
    }
    match name {
        "psql" | "mysql" | "mariadb" | "clickhouse-client" | "cqlsh" | "sqlplus" | "sqlcmd" => {
            let o = options::parse(
                args,
                &Spec {
                    short_value: "cefq",
                    long_value: &[],
                },
            );
            let inline = [
                "-c",
                "-e",
                "-f",
                "-q",
                "--command",
                "--execute",
                "--file",
                "--query",
            ]
            .iter()
            .any(|f| o.has(f));
            (!inline).then_some(Reader::Sql)
        }
        "sqlite3" => {
            (args.iter().filter(|w| !w.value.starts_with('-')).count() <= 1).then_some(Reader::Sql)
        }
        "redis-cli" | "valkey-cli" => {
            let o = options::parse(
                args,
                &Spec {
                    short_value: "hpasnuc",
                    long_value: &[],
                },
            );
            (o.operand >= args.len()).then_some(Reader::Redis)
        }
        _ => None,
    }
}

/// Assess `text` as `reader` would run it.
pub(crate) fn consume(found: &mut Findings, reader: Reader, name: &str, text: &str) {
    match reader {
        Reader::Shell => found.nested_shell(text),
        Reader::Code(lang) => code(found, lang, text),
        Reader::Sql => sql(found, name, text),
        Reader::Redis => redis(found, &text.split_whitespace().collect::<Vec<_>>()),
    }
}

pub(super) fn check(ctx: &mut Ctx<'_>, name: &str) -> bool {
    if SHELLS.contains(&name) {
        shell(ctx, name);
        return true;
    }
    if let Some((lang, code_opts)) = interpreter(name) {
        interp(ctx, lang, code_opts);
        return true;
    }
    match name {
        "awk" | "gawk" | "mawk" | "nawk" | "busybox-awk" => awk(ctx, name),
        "sed" | "gsed" => sed(ctx),
        "psql" | "mysql" | "mariadb" | "sqlite3" | "clickhouse-client" | "cqlsh" | "sqlplus"
        | "sqlcmd" | "mongo" | "mongosh" => sql_client(ctx, name),
        "redis-cli" | "valkey-cli" => {
            let o = options::parse(
                ctx.cmd.args(),
                &Spec {
                    short_value: "hpasnuc",
                    long_value: &[],
                },
            );
            let words: Vec<String> = ctx.cmd.args()[o.operand..]
                .iter()
                .map(|w| w.value.clone())
                .collect();
            let words: Vec<&str> = words.iter().map(String::as_str).collect();
            if !words.is_empty() {
                redis(ctx.findings(), &words);
            }
        }
        "dropdb" | "dropuser" => ctx.high(format!("{name} deletes a database or role")),
        "createdb" | "createuser" => ctx.medium(format!("{name} creates a database or role")),
        "mysqladmin" | "mariadb-admin" => {
            let ops = ctx.operands();
            if ops
                .iter()
                .any(|o| matches!(*o, "drop" | "shutdown" | "kill" | "purge"))
            {
                ctx.high(format!("{name} drops a database or stops the server"));
            } else if !ops.iter().all(|o| {
                matches!(
                    *o,
                    "status" | "processlist" | "variables" | "version" | "ping" | "extended-status"
                )
            }) {
                ctx.medium(format!("{name} changes the server"));
            }
        }
        "pg_ctl" | "pg_ctlcluster" => {
            if ctx
                .args
                .iter()
                .any(|a| matches!(*a, "stop" | "kill" | "promote"))
            {
                ctx.high(format!("{name} stops or promotes a database server"));
            } else if !ctx.has("status") {
                ctx.medium(format!("{name} changes a database server"));
            }
        }
        "pg_restore" | "mysqlimport" | "mongorestore" => {
            if ctx.flag('c', "--clean") || ctx.has("--drop") {
                ctx.high(format!("{name} drops and replaces database objects"));
            } else {
                ctx.medium(format!("{name} loads data into a database"));
            }
        }
        "pg_dump" | "pg_dumpall" | "mysqldump" | "mariadb-dump" | "mongodump" => {
            if ctx.flag('f', "--file") || ctx.flag('r', "--result-file") || ctx.has("--out") {
                ctx.medium(format!("{name} writes a dump file"));
            }
        }
        _ => return false,
    }
    true
}

fn shell(ctx: &mut Ctx<'_>, name: &str) {
    let args = ctx.cmd.args();
    let o = options::parse(
        args,
        &Spec {
            short_value: "oO",
            long_value: &["rcfile", "init-file"],
        },
    );
    if o.has("-c") {
        return;
    }
    match args.get(o.operand) {
        Some(w) if w.value != "-" && w.value != "/dev/stdin" && w.subs.is_empty() => {
            let f = w.value.clone();
            ctx.medium(format!("{name} runs the script {f}"));
        }
        None if o.has("-i") && ctx.script.stages_of(ctx.index).next().is_none() => {
            ctx.medium(format!("{name} -i starts an interactive shell"));
        }
        _ => {}
    }
}

fn interp(ctx: &mut Ctx<'_>, lang: &'static str, code_opts: &[&str]) {
    let args = ctx.cmd.args();
    let o = options::parse(
        args,
        &Spec {
            short_value: "cemEWXIrp",
            long_value: &["eval", "print"],
        },
    );
    let codes: Vec<Word> = o.values(code_opts).cloned().collect();
    for c in &codes {
        code(ctx.findings(), lang, &c.value);
    }
    if !codes.is_empty() {
        return;
    }
    if let Some(m) = o.value(&["-m"]) {
        let module = m.value.clone();
        match module.as_str() {
            "json.tool" | "platform" | "sysconfig" | "site" | "timeit" | "this" | "tokenize" => {}
            "http.server" | "SimpleHTTPServer" => {
                ctx.medium(format!("python -m {module} serves files over HTTP"))
            }
            _ => ctx.medium(format!("{lang} runs the module {module}")),
        }
        return;
    }
    if o.has("-V")
        || o.has("--version")
        || o.has("-v") && args.len() == 1
        || o.has("-h")
        || o.has("--help")
    {
        return;
    }
    if let Some(w) = args.get(o.operand) {
        if w.value != "-" && w.value != "/dev/stdin" && w.subs.is_empty() {
            let f = w.value.clone();
            ctx.medium(format!("{lang} runs the script {f}"));
        }
    } else if ctx.script.stages_of(ctx.index).next().is_none()
        && !ctx.cmd.redirects.iter().any(|r| r.feeds_stdin())
    {
        ctx.medium(format!("{lang} starts an interactive interpreter"));
    }
}

/// APIs that run a shell command, per language family.
const RUNS_SHELL: &[&str] = &[
    "os.system",
    "os.popen",
    "subprocess",
    "pty.spawn",
    "os.exec",
    "os.spawn",
    "commands.getoutput",
    "system(",
    "system \"",
    "system '",
    "exec(",
    "exec \"",
    "exec '",
    "qx",
    "`",
    "popen",
    "shell_exec",
    "passthru",
    "proc_open",
    "child_process",
    "execsync",
    "spawnsync",
    "spawn(",
    "io.popen",
    "os.execute",
    "%x",
    "kernel.system",
    "open3",
    "start-process",
    "invoke-expression",
    "iex ",
    "do shell script",
];
const NETWORK: &[&str] = &[
    "socket",
    "fsockopen",
    "tcpsocket",
    "io::socket",
    "net.socket",
    "net.connect",
    "/dev/tcp",
    "urllib",
    "urlopen",
    "requests.",
    "http.client",
    "httplib",
    "lwp::",
    "net::http",
    "open-uri",
    "http.get",
    "https.get",
    "fetch(",
    "invoke-webrequest",
    "net.webclient",
    "curl",
    "wget",
];
const SHELL_SPAWN: &[&str] = &[
    "/bin/sh",
    "/bin/bash",
    "sh -i",
    "bash -i",
    "pty.spawn",
    "dup2",
    "cmd.exe",
];
const DELETES_TREES: &[&str] = &[
    "rmtree",
    "rm_rf",
    "rm_r",
    "remove_dir_all",
    "fs.rm(",
    "rmsync",
    "rimraf",
    "remove-item -recurse",
];
const DELETES: &[&str] = &[
    "os.remove",
    "os.unlink",
    "unlink",
    "os.rmdir",
    "rmdir",
    "file.delete",
    "fs.unlink",
    "remove-item",
    "file::remove",
    ".unlink(",
    "delete(",
];
/// Anything beyond computing and printing: files, processes, the network, dynamic code.
const CAPABILITIES: &[&str] = &[
    "open(",
    "write",
    "import os",
    "from os",
    "os.",
    "shutil",
    "sys.modules",
    "__",
    "getattr",
    "eval",
    "exec",
    "compile(",
    "import(",
    "require",
    "ctypes",
    "kill",
    "chmod",
    "chown",
    "rename",
    "mkdir",
    "symlink",
    "truncate",
    "setuid",
    "file.",
    "file::",
    "fs.",
    "io.",
    "dir.",
    "process.",
    "fileutils",
    "pathlib",
    "glob",
    "marshal",
    "pickle",
    "base64",
    "decode",
    "fromhex",
    "unhexlify",
    "pack(",
    "zlib",
    "codecs",
    "chr(",
];

/// Code for `lang`: shell commands it runs are assessed as shell; capabilities raise it.
pub(crate) fn code(found: &mut Findings, lang: &str, code: &str) {
    let lower = code.to_ascii_lowercase();
    let any = |list: &[&str]| list.iter().any(|p| lower.contains(p));
    let runs_shell = any(RUNS_SHELL);
    if any(NETWORK) && (runs_shell || any(SHELL_SPAWN)) {
        found.high(format!(
            "{lang} code connects a shell or download to the network"
        ));
    }
    if any(DELETES_TREES) {
        found.high(format!("{lang} code deletes directory trees"));
    } else if any(DELETES) {
        found.medium(format!("{lang} code deletes files"));
    }
    if runs_shell {
        found.medium(format!("{lang} code runs shell commands"));
        for s in string_literals(code) {
            if s.trim().contains(' ') || s.contains('/') || s.len() > 1 {
                found.nested_shell(&s);
            }
        }
    } else if any(CAPABILITIES) || any(NETWORK) {
        found.medium(format!("runs {lang} code that can change the system"));
    }
}

/// The contents of '…', "…" and `…` literals (escapes kept simple).
fn string_literals(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = code.chars().peekable();
    while let Some(c) = chars.next() {
        if matches!(c, '\'' | '"' | '`') {
            let mut s = String::new();
            let mut closed = false;
            while let Some(n) = chars.next() {
                if n == '\\' {
                    if let Some(e) = chars.next() {
                        s.push(match e {
                            'n' => '\n',
                            't' => '\t',
                            other => other,
                        });
                    }
                } else if n == c {
                    closed = true;
                    break;
                } else {
                    s.push(n);
                }
            }
            if closed {
                out.push(s);
            }
        }
    }
    out
}

fn awk(ctx: &mut Ctx<'_>, name: &str) {
    let args = ctx.cmd.args();
    let o = options::parse(
        args,
        &Spec {
            short_value: "Fvf",
            long_value: &["file", "assign", "field-separator"],
        },
    );
    if o.has("-f") || o.has("--file") {
        ctx.medium(format!("{name} runs a program file"));
        return;
    }
    let Some(program) = args.get(o.operand).map(|w| w.value.clone()) else {
        return;
    };
    let runs = program.contains("system(") || program.contains("system (");
    let pipes =
        program.contains("| getline") || program.contains("|getline") || pipes_to_command(&program);
    if runs || pipes {
        ctx.medium(format!("{name} runs shell commands"));
        for s in string_literals(&program) {
            ctx.findings().nested_shell(&s);
        }
    }
    if writes_file(&program) {
        ctx.medium(format!("{name} writes files"));
    }
}

/// `print … | "cmd"` (a single `|`, not `||`).
fn pipes_to_command(program: &str) -> bool {
    let b = program.as_bytes();
    (0..b.len()).any(|i| {
        b[i] == b'|'
            && b.get(i + 1) != Some(&b'|')
            && (i == 0 || b[i - 1] != b'|')
            && program[i + 1..].trim_start().starts_with('"')
    })
}

/// `print … > "file"` / `>> "file"` (a comparison `$3 > 100` has no string after it).
fn writes_file(program: &str) -> bool {
    program.match_indices('>').any(|(i, _)| {
        let after = program[i + 1..].trim_start_matches('>').trim_start();
        let before = &program[..i];
        after.starts_with('"') && (before.contains("print") || before.contains("printf"))
    })
}

fn sed(ctx: &mut Ctx<'_>) {
    let args = ctx.cmd.args();
    let o = options::parse(
        args,
        &Spec {
            short_value: "efl",
            long_value: &["expression", "file"],
        },
    );
    let mut scripts: Vec<String> = o
        .values(&["-e", "--expression"])
        .map(|w| w.value.clone())
        .collect();
    if scripts.is_empty()
        && let Some(w) = args.get(o.operand)
    {
        scripts.push(w.value.clone());
    }
    for s in scripts {
        // GNU sed's `e` command and `s///e` flag run the pattern space as a shell command;
        // `w FILE` writes a file.
        let runs = s.split([';', '\n']).any(|c| {
            let c = c.trim_start_matches(|ch: char| {
                ch.is_ascii_digit() || ch == ',' || ch == '$' || ch == ' '
            });
            c == "e"
                || c.starts_with("e ")
                || (c.starts_with('s') && c.len() > 3 && substitute_flags(c).contains('e'))
        });
        if runs {
            ctx.medium("sed runs shell commands (e)");
            for c in s.split([';', '\n']) {
                let c = c.trim_start_matches(|ch: char| {
                    ch.is_ascii_digit() || ch == ',' || ch == '$' || ch == ' '
                });
                if let Some(cmd) = c.strip_prefix("e ") {
                    ctx.findings().nested_shell(cmd);
                }
            }
        }
        // `w FILE`, `wFILE`, `W FILE` after any address (`1`, `$`, `/re/`), or `s///w FILE`.
        let mut written = Vec::new();
        for c in s.split([';', '\n']) {
            let c = sed_strip_address(c.trim());
            if let Some(file) = c.strip_prefix(['w', 'W']) {
                written.push(file.trim().to_string());
            } else if c.starts_with('s') {
                let flags = substitute_flags(c);
                if let Some(at) = flags.find('w') {
                    written.push(flags[at + 1..].trim().to_string());
                }
            }
        }
        if !written.is_empty() {
            ctx.medium("sed writes a file (w)");
        }
        for file in written.iter().filter(|f| !f.is_empty()) {
            super::files::write_target(ctx, file, false, "sed w");
        }
    }
}

/// A sed command without its address: `1,5`, `$`, `/re/`, `\%re%`, `addr!`.
fn sed_strip_address(cmd: &str) -> &str {
    let mut rest = cmd;
    for _ in 0..2 {
        rest = rest.trim_start_matches(|ch: char| {
            ch.is_ascii_digit() || ch == '$' || ch == ' ' || ch == '~' || ch == '+'
        });
        let delim = match rest.chars().next() {
            Some('/') => Some('/'),
            Some('\\') => rest.chars().nth(1),
            _ => None,
        };
        if let Some(d) = delim {
            let body = if rest.starts_with('\\') {
                &rest[1 + d.len_utf8()..]
            } else {
                &rest[1..]
            };
            let mut escaped = false;
            let end = body.char_indices().find(|(_, c)| {
                let hit = !escaped && *c == d;
                escaped = !escaped && *c == '\\';
                hit
            });
            rest = match end {
                Some((i, _)) => &body[i + d.len_utf8()..],
                None => "",
            };
        }
        rest = rest.trim_start_matches([' ', 'I', 'M']);
        match rest.strip_prefix(',') {
            Some(r) => rest = r,
            None => break,
        }
    }
    rest.trim_start_matches(['!', ' '])
}

/// The flags after the last delimiter of `s/a/b/flags`.
fn substitute_flags(cmd: &str) -> &str {
    let mut chars = cmd.char_indices().skip(1);
    let Some((_, delim)) = chars.next() else {
        return "";
    };
    let mut seen = 0;
    let mut escaped = false;
    for (i, c) in chars {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == delim {
            seen += 1;
            if seen == 2 {
                return &cmd[i + c.len_utf8()..];
            }
        }
    }
    ""
}

fn sql_client(ctx: &mut Ctx<'_>, name: &str) {
    let args = ctx.cmd.args();
    let mut texts: Vec<String> = Vec::new();
    match name {
        "sqlite3" => {
            let ops: Vec<&Word> = args.iter().filter(|w| !w.value.starts_with('-')).collect();
            texts.extend(ops.iter().skip(1).map(|w| w.value.clone()));
        }
        "mongo" | "mongosh" => {
            let o = options::parse(
                args,
                &Spec {
                    short_value: "uphf",
                    long_value: &["eval", "host", "port", "username", "password", "file"],
                },
            );
            texts.extend(o.values(&["--eval"]).map(|w| w.value.clone()));
            for t in &texts {
                let l = t.to_ascii_lowercase();
                if [
                    "dropdatabase",
                    ".drop(",
                    "deletemany",
                    "remove(",
                    "dropuser",
                    "dropallusers",
                    "shutdownserver",
                ]
                .iter()
                .any(|p| l.contains(p))
                {
                    ctx.high(format!("{name} --eval drops or deletes data"));
                } else if ![
                    "find",
                    "count",
                    "stats",
                    "getcollectionnames",
                    "show",
                    "printjson",
                    "version",
                    "ping",
                    "status",
                    "ismaster",
                    "hello",
                ]
                .iter()
                .any(|p| l.contains(p))
                {
                    ctx.medium(format!("{name} --eval changes data"));
                }
            }
            return;
        }
        _ => {
            let o = options::parse(
                args,
                &Spec {
                    short_value: "cefqhpUdDuPSwW",
                    long_value: &[
                        "host", "port", "user", "username", "dbname", "database", "set", "variable",
                    ],
                },
            );
            texts.extend(
                o.values(&["-c", "-e", "-q", "--command", "--execute", "--query"])
                    .map(|w| w.value.clone()),
            );
            if o.has("-f") || o.has("--file") {
                ctx.medium(format!("{name} runs SQL from a file"));
            }
        }
    }
    for t in texts {
        sql(ctx.findings(), name, &t);
    }
}

/// Statements of `text` by what they do to the data.
pub(crate) fn sql(found: &mut Findings, client: &str, text: &str) {
    let upper = strip_sql_strings(text).to_ascii_uppercase();
    let words: Vec<&str> = upper
        .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_' || c == '\\' || c == '!'))
        .filter(|w| !w.is_empty())
        .collect();
    let has = |w: &str| words.contains(&w);
    let seq = |a: &str, b: &str| words.windows(2).any(|p| p[0] == a && p[1] == b);
    if has("DROP") {
        found.high(format!("drops database objects via {client}"));
    }
    if has("TRUNCATE") {
        found.high(format!("truncates tables via {client}"));
    }
    if seq("DELETE", "FROM") || has("DELETE") {
        found.high(format!("deletes rows via {client}"));
    }
    if has("UPDATE") && has("SET") && !has("WHERE") {
        found.high(format!("updates every row via {client}"));
    } else if has("UPDATE") {
        found.medium(format!("updates rows via {client}"));
    }
    if has("SHUTDOWN") {
        found.high(format!("shuts the database down via {client}"));
    }
    if seq("TO", "PROGRAM") || seq("FROM", "PROGRAM") || text.contains("\\!") {
        found.high(format!("{client} runs a program on the server"));
    }
    const CHANGES: &[&str] = &[
        "INSERT", "CREATE", "ALTER", "GRANT", "REVOKE", "REPLACE", "MERGE", "RENAME", "COPY",
        "LOAD", "SET", "FLUSH", "KILL", "VACUUM", "REINDEX", "CLUSTER", "CALL", "DO", "LOCK",
        "REFRESH", "COMMENT", "SOURCE", "\\I", "\\IR", "\\COPY", "RESET", "PURGE", "OPTIMIZE",
    ];
    if let Some(c) = CHANGES.iter().find(|c| has(c))
        && !(*c == "SET" && has("UPDATE"))
    {
        found.medium(format!(
            "{} changes the database via {client}",
            c.trim_start_matches('\\')
        ));
    }
}

/// SQL with its quoted literals emptied, so `WHERE note = 'drop it'` is not a DROP.
fn strip_sql_strings(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut quote = None;
    for c in text.chars() {
        match quote {
            Some(q) if c == q => quote = None,
            Some(_) => {}
            None if c == '\'' || c == '"' => quote = Some(c),
            None => out.push(c),
        }
    }
    out
}

fn redis(found: &mut Findings, words: &[&str]) {
    let Some(cmd) = words.first().map(|w| w.to_ascii_uppercase()) else {
        return;
    };
    match cmd.as_str() {
        "FLUSHALL" | "FLUSHDB" | "DEL" | "UNLINK" | "SHUTDOWN" | "SWAPDB" | "MIGRATE" | "DEBUG"
        | "REPLICAOF" | "SLAVEOF" | "FAILOVER" => {
            found.high(format!("redis {cmd} deletes data or stops the server"))
        }
        "GET" | "MGET" | "KEYS" | "SCAN" | "INFO" | "PING" | "TTL" | "PTTL" | "TYPE" | "EXISTS"
        | "DBSIZE" | "HGET" | "HGETALL" | "HKEYS" | "LRANGE" | "LLEN" | "SMEMBERS" | "SCARD"
        | "ZRANGE" | "ZCARD" | "STRLEN" | "MONITOR" | "SLOWLOG" | "MEMORY" | "LATENCY" | "ROLE"
        | "TIME" | "LASTSAVE" | "HLEN" | "XLEN" | "XRANGE" | "XINFO" | "OBJECT" | "COMMAND" => {
            if cmd == "CLIENT" {
                found.medium("redis CLIENT changes connections");
            }
        }
        "CONFIG" if words.get(1).is_some_and(|s| s.eq_ignore_ascii_case("GET")) => {}
        "CLIENT"
            if words.get(1).is_some_and(|s| {
                s.eq_ignore_ascii_case("LIST") || s.eq_ignore_ascii_case("INFO")
            }) => {}
        _ => found.medium(format!("redis {cmd} changes data")),
    }
}
