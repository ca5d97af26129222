//! The shape in which mysql and psql may take a vault value: known options that print
//! nothing of it, and plain SQL, so that no client command (`system`, `\!`) runs a shell
//! that could read it. In that shape their output may also go to the model unasked.

use super::is_placeholder;
use crate::ai::shell::{Command, program_name};

/// Options of a MySQL client that neither print the password nor run anything else; with
/// values in the next word when given alone.
const MYSQL_QUIET_OPTS: &[(&str, bool)] = &[
    ("-h", true),
    ("--host", true),
    ("-u", true),
    ("--user", true),
    ("-P", true),
    ("--port", true),
    ("-D", true),
    ("--database", true),
    ("-e", true),
    ("--execute", true),
    ("--protocol", true),
    ("--ssl-mode", true),
    ("-N", false),
    ("-B", false),
    ("-s", false),
    ("-t", false),
    ("-E", false),
    ("-r", false),
    ("--batch", false),
    ("--silent", false),
    ("--skip-column-names", false),
    ("--table", false),
    ("--vertical", false),
    ("--raw", false),
];
/// SQL a MySQL client sends to the server; its client commands (`system`, `pager`, `tee`,
/// `source`, `\!`) are not among them.
const SQL_VERBS: &[&str] = &[
    "select", "show", "describe", "desc", "explain", "insert", "update", "delete", "replace",
    "create", "alter", "drop", "truncate", "grant", "revoke", "flush", "analyze", "optimize",
    "check", "with", "call", "kill", "rename", "use", "set", "begin", "commit", "rollback",
    "start", "repair", "checksum", "handler",
];
const PSQL_QUIET_OPTS: &[(&str, bool)] = &[
    ("-h", true),
    ("--host", true),
    ("-p", true),
    ("--port", true),
    ("-U", true),
    ("--username", true),
    ("-d", true),
    ("--dbname", true),
    ("-c", true),
    ("--command", true),
    ("-X", false),
    ("--no-psqlrc", false),
    ("-A", false),
    ("--no-align", false),
    ("-t", false),
    ("--tuples-only", false),
    ("-q", false),
    ("--quiet", false),
    ("-w", false),
    ("--no-password", false),
];

/// Every argument is a known option (or a plain name); `code` judges the text of `code_opts`.
fn only_options(
    c: &Command,
    table: &[(&str, bool)],
    code_opts: &[&str],
    code: impl Fn(&str) -> bool,
) -> bool {
    let args = c.args();
    let mut k = 0;
    while k < args.len() {
        let v = args[k].value.as_str();
        k += 1;
        if is_placeholder(v.trim_start_matches("--password=").trim_start_matches("-p")) {
            continue;
        }
        if !v.starts_with('-') {
            if args[k - 1].dynamic || v.contains('=') || v.contains("://") {
                return false;
            }
            continue;
        }
        let (opt, attached): (String, Option<String>) = match v.split_once('=') {
            Some((o, val)) if o.starts_with("--") => (o.into(), Some(val.into())),
            _ if !v.starts_with("--") && v.len() > 2 => {
                // `-At`: flags clustered; the first letter taking a value takes the rest.
                let mut found = None;
                for (at, ch) in v.char_indices().skip(1) {
                    let o = format!("-{ch}");
                    match table.iter().find(|(t, _)| *t == o) {
                        None => return false,
                        Some((_, false)) => {}
                        Some((_, true)) => {
                            let rest = &v[at + ch.len_utf8()..];
                            found = Some((o, (!rest.is_empty()).then(|| rest.to_string())));
                            break;
                        }
                    }
                }
                match found {
                    Some(f) => f,
                    None => continue,
                }
            }
            _ => (v.into(), None),
        };
        let opt = opt.as_str();
        let Some((_, takes)) = table.iter().find(|(o, _)| *o == opt) else {
            return false;
        };
        let value = match (takes, attached) {
            (false, None) => continue,
            (false, Some(_)) => return false,
            (true, Some(v)) => v,
            (true, None) => {
                k += 1;
                match args.get(k - 1) {
                    Some(w) if !w.dynamic => w.value.clone(),
                    _ => return false,
                }
            }
        };
        if code_opts.contains(&opt) && !code(&value) {
            return false;
        }
    }
    c.redirects.iter().all(|r| !r.feeds_stdin())
}

/// A MySQL client run only with known options and plain SQL.
pub(super) fn mysql_quiet(c: &Command) -> bool {
    only_options(c, MYSQL_QUIET_OPTS, &["-e", "--execute"], |sql| {
        !sql.contains('\\')
            && sql.split([';', '\n', '\r']).all(|st| {
                let first = st.split_whitespace().next().unwrap_or("");
                first.is_empty() || SQL_VERBS.contains(&first.to_ascii_lowercase().as_str())
            })
    })
}

/// psql without its start-up file (`-X`) and with SQL only: no backslash command could run a
/// shell that sees `PGPASSWORD`.
pub(super) fn psql_quiet(c: &Command) -> bool {
    c.program().map(program_name) == Some("psql")
        && c.args()
            .iter()
            .any(|w| w.value == "-X" || w.value == "--no-psqlrc")
        && only_options(c, PSQL_QUIET_OPTS, &["-c", "--command"], |sql| {
            !sql.contains('\\')
        })
}
