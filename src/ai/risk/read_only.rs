//! Which commands may run with no keystroke on a host whose policy is `read-only-auto`: an
//! allow-list, kept apart from the Low/Medium/High rating. A command runs by itself only when
//! every simple command in it is a program in [`PROGRAMS`] given only the options listed there
//! as safe, joined by `;`, `&&`, `||` or pipes, with no assignments, expansions, substitutions,
//! functions, wrappers (`sudo`, `env`, `command`, `\ls`, `/bin/ls`), and no redirection but
//! to `/dev/null`. Anything else, known or not, asks.
//!
//! ```
//! use lumen::ai::risk::read_only;
//! assert!(read_only("df -h | sort -k5").is_ok());
//! assert!(read_only("PROMPT_COMMAND='touch /tmp/x'").is_err());
//! assert!(read_only("find / -name x -delete").is_err());
//! ```

use crate::ai::shell::{Command, RedirOp, Redirect, Script, Word, node_kinds};

/// What the operands of a program may be.
#[derive(Debug, Clone, Copy)]
enum Operands {
    /// Files, patterns, names: anything.
    Any,
    /// None at all (`hostname NAME` would rename the host).
    Zero,
    /// At most this many (`uniq IN OUT` writes OUT).
    Max(usize),
    /// The first operand is one of these subcommands; the rest are its arguments.
    Sub(&'static str),
    /// A check of its own (`date +FORMAT` only, `ip OBJECT show`).
    Custom(fn(&[&str]) -> Result<(), String>),
    /// Words that are not options in the getopt way (`find`'s expression): all of them go to
    /// a check of its own.
    Raw(fn(&[&str]) -> Result<(), String>),
}

use Operands::{Any, Custom, Max, Raw, Sub, Zero};

/// A program and the options known to be safe for it (one line of the table).
#[derive(Debug)]
struct Program {
    name: &'static str,
    /// Safe short options; those also in `values` take a value.
    flags: &'static str,
    values: &'static str,
    /// Safe long options, without the dashes: `all` a flag, `lines=` takes a value, `color[=]`
    /// may have one attached.
    long: Vec<&'static str>,
    operands: Operands,
}

/// The allow-list, one program a line; its header says how to read it.
const TABLE: &str = include_str!("read_only.table");

fn programs() -> &'static [Program] {
    static PROGRAMS: std::sync::OnceLock<Vec<Program>> = std::sync::OnceLock::new();
    PROGRAMS.get_or_init(|| TABLE.lines().filter_map(|l| parse_line(l).ok()).collect())
}

/// One line of [`TABLE`]; comments and blank lines are `Err("")`.
fn parse_line(line: &'static str) -> Result<Program, String> {
    let line = line.trim();
    if line.is_empty() || line.starts_with('#') {
        return Err(String::new());
    }
    let fields: Vec<&'static str> = line.split('|').map(str::trim).collect();
    let [name, flags, values, long, operands] = fields[..] else {
        return Err(format!("{line:?}: wants 5 fields"));
    };
    let operands = match operands.split_once(' ').unwrap_or((operands, "")) {
        ("any", _) => Any,
        ("none", _) => Zero,
        ("max", n) => Max(n.parse().map_err(|_| format!("{line:?}: max {n}"))?),
        ("sub", list) => Sub(list),
        ("date", _) => Custom(date_operands),
        ("ps", _) => Custom(ps_operands),
        ("ip", _) => Custom(ip_operands),
        ("kubectl", _) => Custom(kubectl_operands),
        ("lookup", _) => Custom(lookup_operands),
        ("interval", _) => Custom(interval_operands),
        ("find", _) => Raw(find_expression),
        (other, _) => return Err(format!("{line:?}: unknown operands {other}")),
    };
    Ok(Program {
        name,
        flags,
        values,
        long: long.split_whitespace().collect(),
        operands,
    })
}

/// Whether `command` may run by itself under `read-only-auto`; the error says why not, in the
/// words the approval card shows.
pub fn read_only(command: &str) -> Result<(), String> {
    if command.trim().is_empty() {
        return Err("there is nothing to run".into());
    }
    if let Some(key) = super::typed_control(command) {
        return Err(format!("it holds {key}, which acts as a key when typed"));
    }
    let kinds = node_kinds(command).ok_or("lumen cannot parse it as a shell command")?;
    if let Some(k) = kinds.iter().find(|k| !SYNTAX.contains(k)) {
        return Err(format!(
            "it uses shell syntax lumen does not run by itself ({k})"
        ));
    }
    let script = Script::parse(command);
    if script.error || !script.functions.is_empty() || !script.opaque.is_empty() {
        return Err("it defines or builds code at run time".into());
    }
    for (i, c) in script.commands.iter().enumerate() {
        simple(c, command, script.prints_to_terminal(i))?;
    }
    Ok(())
}

/// The syntax a read-only command line may use: simple commands, lists, pipes, quotes,
/// redirections (checked one by one later). Named nodes and the tokens between them.
const SYNTAX: &[&str] = &[
    "program",
    "list",
    "pipeline",
    "command",
    "command_name",
    "word",
    "string",
    "string_content",
    "raw_string",
    "concatenation",
    "number",
    "redirected_statement",
    "file_redirect",
    "file_descriptor",
    "comment",
    "&&",
    "||",
    ";",
    "|",
    "|&",
    "\"",
    ">",
    ">>",
    "&>",
    ">&",
    "&>>",
    "\n",
];

/// Programs that show long output in a pager (`less`) when it goes to the terminal. A pager
/// reads the next command lumen types if this one is still open, and runs `!cmd` in it.
const PAGED: &[&str] = &[
    "systemctl",
    "journalctl",
    "loginctl",
    "timedatectl",
    "hostnamectl",
    "systemd-analyze",
];

fn simple(c: &Command, source: &str, to_terminal: bool) -> Result<(), String> {
    if !c.assignments.is_empty() || c.declaration {
        return Err("it sets a variable".into());
    }
    if c.parent.is_some() || c.level > 0 || c.depth > 0 || c.as_root || c.remote.is_some() {
        return Err("it runs a command through another".into());
    }
    let Some(first) = c.words.first() else {
        return Err("it has a redirection without a command".into());
    };
    for r in &c.redirects {
        if !harmless_redirect(r) {
            return Err(format!("it redirects to or from {}", r.target.value));
        }
    }
    // The name exactly as typed: no path (`/tmp/ls`), no quotes or `\` (they skip aliases).
    let typed = source.get(first.span.clone()).unwrap_or("");
    let plain = !typed.is_empty()
        && typed == first.value
        && typed
            .chars()
            .all(|ch| ch.is_ascii_alphanumeric() || matches!(ch, '-' | '_' | '.' | '+'));
    let name = first.value.as_str();
    if !plain {
        return Err(format!(
            "the program is written {typed}: only a plain name runs by itself (a path, quotes \
             or a backslash choose another program than the name says)"
        ));
    }
    let Some(p) = programs().iter().find(|p| p.name == name) else {
        return Err(format!(
            "{name} is not on lumen's list of read-only programs"
        ));
    };
    options_and_operands(c, p, source)?;
    if PAGED.contains(&name) && to_terminal && !c.args().iter().any(|w| w.value == "--no-pager") {
        return Err(format!(
            "{name} opens a pager on the terminal; add --no-pager or pipe it"
        ));
    }
    Ok(())
}

/// Every option of `c` is a safe one of `p`, and its operands are what `p` allows.
fn options_and_operands(c: &Command, p: &Program, source: &str) -> Result<(), String> {
    let name = p.name;
    if let Raw(check) = p.operands {
        let mut words = Vec::new();
        for w in c.args() {
            words.push(fixed_word(w, source, name)?);
        }
        return check(&words);
    }
    let mut operands = Vec::new();
    let args = c.args();
    let mut i = 0;
    let mut rest = false;
    while i < args.len() {
        let v = fixed_word(&args[i], source, name)?;
        i += 1;
        if rest || !v.starts_with('-') || v == "-" {
            operands.push(v);
            continue;
        }
        if v == "--" {
            rest = true;
            continue;
        }
        let taken = if let Some(long) = v.strip_prefix("--") {
            long_option(p, long)?
        } else if p.name == "ip" && IP_WORD_OPTIONS.contains(&v) {
            false // `ip -br`: a long option with one dash
        } else {
            short_options(p, v)?
        };
        if taken {
            let value = args.get(i).ok_or(format!("{name} {v} needs a value"))?;
            secret_path(fixed_word(value, source, name)?)?;
            i += 1;
        }
    }
    for o in &operands {
        secret_path(o)?;
    }
    match p.operands {
        Any => Ok(()),
        Zero if operands.is_empty() => Ok(()),
        Zero => Err(format!(
            "{name} only reads without operands (it is given {})",
            operands.join(" ")
        )),
        Max(n) if operands.len() <= n => Ok(()),
        Max(n) => Err(format!(
            "{name} only reads with at most {n} operands (more are written or acted on)"
        )),
        Sub(list) => match operands.first() {
            Some(s) if list.split(',').any(|x| x == *s) => Ok(()),
            Some(s) => Err(format!(
                "{name} {s} is not one of its read-only subcommands"
            )),
            // Alone they print a status, a list or their usage.
            None => Ok(()),
        },
        Custom(check) | Raw(check) => check(&operands),
    }
}

/// The value of an argument that is the same whenever it runs: no expansion, no substitution,
/// no glob or brace expansion that could turn into an option (`find . {-delete,-print}`).
fn fixed_word<'w>(w: &'w Word, source: &str, name: &str) -> Result<&'w str, String> {
    let v = w.value.as_str();
    if w.dynamic || !w.subs.is_empty() {
        return Err(format!("{name} is given {v}, known only at run time"));
    }
    if w.glob && v.starts_with(['*', '?', '[', '-']) {
        return Err(format!("{v} may expand to an option of {name}"));
    }
    let typed = source.get(w.span.clone()).unwrap_or("{");
    let quoted = typed.len() > 1
        && (typed.starts_with('\'') && typed.ends_with('\'')
            || typed.starts_with('"') && typed.ends_with('"'));
    if typed.contains('{') && !quoted {
        return Err(format!(
            "{typed} is a brace expansion: it may expand to options of {name}"
        ));
    }
    Ok(v)
}

/// `--name`, `--name=value`: whether the value is the next word.
fn long_option(p: &Program, long: &str) -> Result<bool, String> {
    let (name, attached) = match long.split_once('=') {
        Some((n, _)) => (n, true),
        None => (long, false),
    };
    let with = |suffix: &str| p.long.contains(&format!("{name}{suffix}").as_str());
    if with("=") {
        Ok(!attached)
    } else if with("[=]") || with("") && !attached {
        Ok(false)
    } else {
        Err(format!(
            "{} --{name} is not an option lumen knows to be safe",
            p.name
        ))
    }
}

/// `ip`'s options are words with one dash.
const IP_WORD_OPTIONS: &[&str] = &[
    "-br",
    "-brief",
    "-details",
    "-stats",
    "-statistics",
    "-json",
    "-pretty",
    "-color",
    "-human",
    "-oneline",
];

/// `-abc`, `-n5`: whether the last letter takes the next word as its value.
fn short_options(p: &Program, group: &str) -> Result<bool, String> {
    let letters: Vec<char> = group.chars().skip(1).collect();
    for (at, ch) in letters.iter().enumerate() {
        if !p.flags.contains(*ch) && !p.values.contains(*ch) {
            return Err(format!(
                "{} -{ch} is not an option lumen knows to be safe",
                p.name
            ));
        }
        if p.values.contains(*ch) {
            // The rest of the group is the value (`-n5`), or the next word is.
            let value: String = letters[at + 1..].iter().collect();
            secret_path(&value)?;
            return Ok(value.is_empty());
        }
    }
    Ok(false)
}

/// Only to /dev/null, or one standard stream onto the other.
fn harmless_redirect(r: &Redirect) -> bool {
    match r.op {
        RedirOp::Write | RedirOp::Append | RedirOp::WriteAll | RedirOp::AppendAll => {
            r.target.value == "/dev/null" && !r.target.dynamic
        }
        RedirOp::Dup => {
            matches!(r.target.value.as_str(), "1" | "2") && r.fd.is_none_or(|fd| fd <= 2)
        }
        _ => false,
    }
}

/// Files whose content is a secret: reading them is not for a command nobody looked at.
fn secret_path(path: &str) -> Result<(), String> {
    let lower = path.to_ascii_lowercase();
    // A device's raw content (a disk, memory, a terminal) may hold anything.
    if lower.starts_with("/dev/") && !matches!(lower.as_str(), "/dev/null" | "/dev/zero") {
        return Err(format!(
            "{path} is a device: its raw content may hold secrets"
        ));
    }
    let base = crate::ai::shell::basename(&lower);
    let parts: Vec<&str> = lower.split('/').collect();
    let secret_dir = parts.iter().any(|p| {
        matches!(
            *p,
            ".ssh"
                | ".gnupg"
                | ".aws"
                | ".azure"
                | ".kube"
                | ".docker"
                | ".password-store"
                | "private"
                | "secrets"
        )
    }) && !base.ends_with(".pub")
        && base != "known_hosts";
    let secret_file = base.starts_with("id_") && !base.ends_with(".pub")
        || base.starts_with(".env")
        || base.contains("shadow")
        || base.contains("secret")
        || base.contains("credential")
        || base.contains("token")
        || base.contains("password")
        || base.contains("passwd-")
        || [
            ".pem",
            ".key",
            ".p12",
            ".pfx",
            ".jks",
            ".keystore",
            ".kdbx",
            ".ppk",
            ".asc",
            ".gpg",
        ]
        .iter()
        .any(|e| base.ends_with(e))
        || matches!(
            base,
            ".netrc"
                | ".pgpass"
                | ".my.cnf"
                | ".git-credentials"
                | ".vault-token"
                | "environ"
                | "kcore"
                | "mem"
                | "kmem"
                | "sudoers"
                | "vault.lumen"
                | ".bash_history"
                | ".zsh_history"
                | ".mysql_history"
                | ".psql_history"
                | "wp-config.php"
        )
        || base.starts_with("ssh_host_") && base.ends_with("_key");
    if secret_dir || secret_file {
        Err(format!("{path} may hold secrets"))
    } else {
        Ok(())
    }
}

/// `find PATH… EXPRESSION` with only tests and printing actions: no `-exec`, `-ok`, `-delete`,
/// `-fprint…` or `-fls` (they run commands or write files).
fn find_expression(words: &[&str]) -> Result<(), String> {
    /// Tests, options and actions that only look or print, with how many values each takes.
    const SAFE: &[(&str, usize)] = &[
        ("-name", 1),
        ("-iname", 1),
        ("-path", 1),
        ("-ipath", 1),
        ("-wholename", 1),
        ("-iwholename", 1),
        ("-regex", 1),
        ("-iregex", 1),
        ("-regextype", 1),
        ("-lname", 1),
        ("-ilname", 1),
        ("-type", 1),
        ("-xtype", 1),
        ("-size", 1),
        ("-user", 1),
        ("-group", 1),
        ("-uid", 1),
        ("-gid", 1),
        ("-perm", 1),
        ("-mtime", 1),
        ("-mmin", 1),
        ("-atime", 1),
        ("-amin", 1),
        ("-ctime", 1),
        ("-cmin", 1),
        ("-newer", 1),
        ("-anewer", 1),
        ("-cnewer", 1),
        ("-newermt", 1),
        ("-samefile", 1),
        ("-inum", 1),
        ("-links", 1),
        ("-fstype", 1),
        ("-maxdepth", 1),
        ("-mindepth", 1),
        ("-used", 1),
        ("-context", 1),
        ("-printf", 1),
        ("-print", 0),
        ("-print0", 0),
        ("-ls", 0),
        ("-prune", 0),
        ("-quit", 0),
        ("-empty", 0),
        ("-readable", 0),
        ("-writable", 0),
        ("-executable", 0),
        ("-nouser", 0),
        ("-nogroup", 0),
        ("-xdev", 0),
        ("-mount", 0),
        ("-follow", 0),
        ("-daystart", 0),
        ("-depth", 0),
        ("-noleaf", 0),
        ("-true", 0),
        ("-false", 0),
        ("-not", 0),
        ("-and", 0),
        ("-or", 0),
        ("-a", 0),
        ("-o", 0),
        ("-H", 0),
        ("-L", 0),
        ("-P", 0),
        ("-ignore_readdir_race", 0),
        ("-nowarn", 0),
        ("-warn", 0),
    ];
    let mut i = 0;
    while i < words.len() {
        let w = words[i];
        i += 1;
        if matches!(w, "!" | "(" | ")" | ",") || !w.starts_with('-') {
            continue; // an operator or a starting point
        }
        match SAFE.iter().find(|(name, _)| *name == w) {
            Some((_, n)) => {
                for v in words.iter().skip(i).take(*n) {
                    secret_path(v)?;
                }
                i += n;
            }
            None => return Err(format!("find {w} is not a test lumen knows to only read")),
        }
    }
    for w in words {
        secret_path(w)?;
    }
    Ok(())
}

/// `nslookup NAME [SERVER]`: without a name it reads commands from the terminal.
fn lookup_operands(ops: &[&str]) -> Result<(), String> {
    match ops.len() {
        1 | 2 => Ok(()),
        _ => Err("nslookup without a name waits for commands typed at it".into()),
    }
}

/// `vmstat`, `iostat DEV… [DELAY [COUNT]]`: a delay without a count repeats forever, and what
/// lumen types next would go nowhere useful.
fn interval_operands(ops: &[&str]) -> Result<(), String> {
    let numbers = ops
        .iter()
        .rev()
        .take_while(|o| o.chars().all(|c| c.is_ascii_digit() || c == '.'))
        .count();
    match numbers {
        0 | 2 => Ok(()),
        _ => Err("a delay without a count repeats until it is stopped".into()),
    }
}

/// `date` prints with `+FORMAT`; any other operand sets the clock.
fn date_operands(ops: &[&str]) -> Result<(), String> {
    match ops {
        [] => Ok(()),
        [f] if f.starts_with('+') => Ok(()),
        _ => Err("date with an operand sets the clock".into()),
    }
}

/// `ps aux`, `ps -ef`, `ps axjf`: BSD letters without a dash, but not `e` (it prints every
/// process's environment, passwords and tokens with it).
fn ps_operands(ops: &[&str]) -> Result<(), String> {
    let ok = ops.iter().all(|o| {
        o.chars()
            .all(|c| "auxfwjlvmrTHLSZcnhAgOoUps0123456789,".contains(c))
    });
    if ok {
        Ok(())
    } else {
        Err(format!("ps is given {}", ops.join(" ")))
    }
}

/// `ip OBJECT [show|list|get …]`: anything that does not change the object.
fn ip_operands(ops: &[&str]) -> Result<(), String> {
    const OBJECTS: &[&str] = &[
        "a",
        "addr",
        "address",
        "l",
        "link",
        "r",
        "ro",
        "route",
        "n",
        "neigh",
        "neighbor",
        "neighbour",
        "rule",
        "ru",
        "maddr",
        "maddress",
        "m",
        "mroute",
        "tunnel",
        "netconf",
        "tuntap",
        "ntable",
        "nexthop",
        "token",
        "vrf",
        "mptcp",
    ];
    const VERBS: &[&str] = &["show", "sh", "list", "ls", "lst", "get", "help"];
    match ops {
        [] => Err("ip needs an object".into()),
        [obj] if OBJECTS.contains(obj) => Ok(()),
        [obj, verb, ..] if OBJECTS.contains(obj) && VERBS.contains(verb) => Ok(()),
        [obj, dev, ..] if OBJECTS.contains(obj) && *dev == "dev" => Ok(()),
        _ => Err(format!("ip {} may change the network", ops.join(" "))),
    }
}

/// `kubectl get|describe|logs|top …`, never secrets.
fn kubectl_operands(ops: &[&str]) -> Result<(), String> {
    const VERBS: &[&str] = &[
        "get",
        "describe",
        "logs",
        "top",
        "version",
        "cluster-info",
        "api-resources",
        "explain",
        "events",
    ];
    match ops.first() {
        Some(v) if VERBS.contains(v) => {
            if ops
                .iter()
                .any(|o| o.starts_with("secret") || o.contains("/secret") || o.contains(",secret"))
            {
                Err("kubectl would print secrets".into())
            } else {
                Ok(())
            }
        }
        Some(v) => Err(format!(
            "kubectl {v} is not one of its read-only subcommands"
        )),
        None => Err("kubectl needs a subcommand".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_of_the_table_reads() {
        for line in TABLE.lines() {
            match parse_line(line) {
                Ok(p) => {
                    assert!(
                        p.values.chars().all(|c| p.flags.contains(c)),
                        "{}: value letters are flags too",
                        p.name
                    );
                }
                Err(e) => assert!(e.is_empty(), "{e}"),
            }
        }
        assert!(programs().len() > 80);
    }

    #[test]
    fn syntax_kinds() {
        let kinds =
            node_kinds("ls -l /etc 2>/dev/null | grep x && df -h; uptime").unwrap_or_default();
        for k in &kinds {
            assert!(SYNTAX.contains(k), "{k} in {kinds:?}");
        }
    }
}
