//! Public keys placed in and taken out of a host's `~/.ssh/authorized_keys` over an exec
//! channel, as `ssh-copy-id` does: `~/.ssh` made 0700 and the file 0600 when missing, the modes
//! of existing ones kept, no second line for a key already there.
//!
//! Each change is one POSIX `sh` script given as a single quoted word; the key travels on the
//! script's stdin, never in the command line, and is checked again remotely (type and base64
//! characters only) before anything is written. A key is matched by its type and data, so a
//! line with options or another comment for the same key counts as that key.

use super::connector::Connector;
use super::error::SshError;
use super::exec::ExecOptions;
use super::resolve::Plan;

/// A public key line, checked: `TYPE BASE64 [COMMENT]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicKeyLine {
    kind: String,
    data: String,
    comment: String,
}

/// Why a key could not be placed or removed.
#[derive(Debug, thiserror::Error)]
pub enum PlaceError {
    #[error("{0}")]
    Ssh(#[from] SshError),
    #[error("not a public key line ({why}); expected 'TYPE BASE64 [COMMENT]'")]
    BadKey { why: &'static str },
    #[error("{host}: {why}")]
    Remote { host: String, why: String },
}

impl PublicKeyLine {
    /// Parse an OpenSSH public key line (as `ssh-keygen -y` or a `.pub` file has it).
    pub fn parse(line: &str) -> Result<PublicKeyLine, PlaceError> {
        let mut words = line.split_whitespace();
        let kind = words.next().ok_or(PlaceError::BadKey { why: "empty" })?;
        let data = words
            .next()
            .ok_or(PlaceError::BadKey { why: "no key data" })?;
        let type_ok = kind
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "@.-".contains(c));
        if !type_ok
            || !(kind.starts_with("ssh-") || kind.starts_with("ecdsa-") || kind.starts_with("sk-"))
        {
            return Err(PlaceError::BadKey {
                why: "unknown key type",
            });
        }
        if !data
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+/=".contains(c))
        {
            return Err(PlaceError::BadKey {
                why: "key data is not base64",
            });
        }
        // The comment is kept only in printable ASCII: it is written into a file on the host.
        let comment: String = words
            .collect::<Vec<_>>()
            .join(" ")
            .chars()
            .filter(|c| c.is_ascii_graphic() || *c == ' ')
            .collect();
        Ok(PublicKeyLine {
            kind: kind.to_string(),
            data: data.to_string(),
            comment,
        })
    }

    /// The line as written into `authorized_keys`.
    pub fn line(&self) -> String {
        if self.comment.is_empty() {
            format!("{} {}", self.kind, self.data)
        } else {
            format!("{} {} {}", self.kind, self.data, self.comment)
        }
    }
}

/// What adding a key did on one host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    Added,
    /// The key was there already; the file was left untouched.
    AlreadyThere,
}

/// Reads the key line from stdin into `$t` (type) and `$b` (data), refusing anything else,
/// then enters the login's home directory.
const PRELUDE: &str = r#"umask 077
IFS= read -r line || [ -n "$line" ] || { echo "no key on stdin" >&2; exit 2; }
set -f
set -- $line
t=$1 b=$2
case $t in ''|*[!A-Za-z0-9@.-]*) echo "bad key type" >&2; exit 2;; esac
case $b in ''|*[!A-Za-z0-9+/=]*) echo "bad key data" >&2; exit 2;; esac
cd || { echo "no home directory" >&2; exit 3; }
f=.ssh/authorized_keys
count() { awk -v t="$t" -v b="$b" '{for (i = 1; i < NF; i++) if ($i == t && $(i + 1) == b) { n++; break }} END {print n + 0}' "$f"; }
"#;

/// Appends the line unless the key is there; prints `added` or `present`.
const ADD: &str = r#"if [ ! -d .ssh ]; then mkdir .ssh || { echo "cannot create $HOME/.ssh" >&2; exit 3; }; fi
if [ -f "$f" ] && [ "$(count)" != 0 ]; then echo present; exit 0; fi
if [ -s "$f" ] && [ -n "$(tail -c 1 "$f")" ]; then echo >> "$f" || exit 3; fi
printf '%s\n' "$line" >> "$f" || { echo "cannot write $HOME/$f" >&2; exit 3; }
echo added
"#;

/// Drops every line of the key, rewriting the file in place (its mode and owner kept);
/// prints `removed N`.
const REMOVE: &str = r#"[ -f "$f" ] || { echo "removed 0"; exit 0; }
n=$(count)
[ "$n" != 0 ] || { echo "removed 0"; exit 0; }
tmp=.ssh/.authorized_keys.lumen-$$
awk -v t="$t" -v b="$b" '{k = 1; for (i = 1; i < NF; i++) if ($i == t && $(i + 1) == b) k = 0} k' "$f" > "$tmp" || { rm -f "$tmp"; echo "cannot write $HOME/.ssh" >&2; exit 3; }
cat "$tmp" > "$f" || { rm -f "$tmp"; echo "cannot write $HOME/$f" >&2; exit 3; }
rm -f "$tmp"
echo "removed $n"
"#;

/// Add `key` to the `authorized_keys` of `plan`'s destination over `connector`'s login.
pub async fn add(
    connector: &Connector,
    plan: &Plan,
    key: &PublicKeyLine,
) -> Result<Added, PlaceError> {
    let out = run(connector, plan, ADD, key).await?;
    match out.as_str() {
        "added" => Ok(Added::Added),
        "present" => Ok(Added::AlreadyThere),
        other => Err(unexpected(plan, other)),
    }
}

/// Remove every line of `key` from the destination's `authorized_keys`; how many there were.
pub async fn remove(
    connector: &Connector,
    plan: &Plan,
    key: &PublicKeyLine,
) -> Result<usize, PlaceError> {
    let out = run(connector, plan, REMOVE, key).await?;
    out.strip_prefix("removed ")
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| unexpected(plan, &out))
}

async fn run(
    connector: &Connector,
    plan: &Plan,
    script: &str,
    key: &PublicKeyLine,
) -> Result<String, PlaceError> {
    let command = format!(
        "sh -c {}",
        crate::text::sh_quote(&format!("{PRELUDE}{script}"))
    );
    let opts = ExecOptions {
        stdin: Some(format!("{}\n", key.line()).into_bytes()),
        ..ExecOptions::default()
    };
    let out = connector.exec(plan, &command, &opts).await?;
    if out.status != Some(0) {
        let why = String::from_utf8_lossy(&out.stderr);
        let why = crate::text::escape_controls(why.trim()).into_owned();
        return Err(PlaceError::Remote {
            host: plan.target.name.clone(),
            why: if why.is_empty() {
                format!("the script failed (exit status {:?})", out.status)
            } else {
                why
            },
        });
    }
    Ok(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

fn unexpected(plan: &Plan, said: &str) -> PlaceError {
    PlaceError::Remote {
        host: plan.target.name.clone(),
        why: format!(
            "unexpected answer {}; is the login shell a POSIX sh?",
            crate::text::quoted(said)
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_cleans_key_lines() {
        let k = PublicKeyLine::parse("ssh-ed25519 AAAAC3Nz+/= lumen:deploy\u{1b}[31m").unwrap();
        assert_eq!(k.line(), "ssh-ed25519 AAAAC3Nz+/= lumen:deploy[31m");
        for bad in [
            "",
            "ssh-ed25519",
            "ssh-ed25519 AAAA$(rm)",
            "rm AAAA",
            "ssh-ed25519;x AAAA",
            "ssh-ed25519 'AAAA'",
        ] {
            assert!(PublicKeyLine::parse(bad).is_err(), "{bad:?}");
        }
    }
}
