//! `lumen team merge-driver %O %A %B %P`: git's merge driver for `team/entries/**` and
//! `team/key.age`, and its installation in the repository's config. Entries are decrypted on
//! all sides and merged field by field; when both sides changed a field it asks at the
//! terminal, or fails (a conflict for git) naming the fields, never showing ciphertext or a
//! secret. key.age is regenerated.

use super::{key_passphrase, load_my_key};
use crate::text::escape_controls as esc;
use crate::vault::team::TeamDir;
use crate::vault::team::merge::{self, EntryMerge};
use anyhow::{Context, Result, bail};
use std::io::{BufRead, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Largest team file a merge reads.
const MAX_FILE: u64 = 16 * 1024 * 1024;

pub struct Files<'a> {
    pub ancestor: &'a Path,
    pub ours: &'a Path,
    pub theirs: &'a Path,
    pub path: &'a Path,
}

fn git(dir: &Path, args: &[&str]) -> Option<Vec<u8>> {
    let out = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .output()
        .ok()?;
    out.status.success().then_some(out.stdout)
}

fn quote(s: &str) -> String {
    format!("'{}'", s.replace('\'', "'\\''"))
}

/// Configure the driver in the repository holding `team_root`; says what it did.
pub fn install(team_root: &Path, identity: Option<&Path>) -> String {
    let Some(top) = git(team_root, &["rev-parse", "--show-toplevel"]) else {
        return format!(
            "{} is not in a git repository yet; after 'git init', run 'lumen team verify' \
             to install the merge driver for team files\n",
            team_root.display()
        );
    };
    let top = String::from_utf8_lossy(&top).trim().to_string();
    let exe = std::env::current_exe()
        .map(|p| p.display().to_string())
        .unwrap_or_else(|_| "lumen".into());
    let mut driver = format!("{} team merge-driver", quote(&exe));
    if let Some(id) = identity {
        let id = std::path::absolute(id).unwrap_or_else(|_| id.to_path_buf());
        driver += &format!(" --identity {}", quote(&id.display().to_string()));
    }
    driver += " %O %A %B %P";
    let ok = git(
        team_root,
        &["config", "merge.lumen-team.name", "lumen team vault"],
    )
    .is_some()
        && git(team_root, &["config", "merge.lumen-team.driver", &driver]).is_some();
    if ok {
        format!("git merge driver 'lumen-team' installed in {top}/.git/config\n")
    } else {
        format!(
            "could not install the git merge driver in {top}; team entries will conflict as binary files\n"
        )
    }
}

/// The team folder and what the file is, from git's `%P`.
enum Target {
    Entry { team: PathBuf, name: String },
    KeyFile,
}

fn target(path: &Path) -> Result<(PathBuf, Target)> {
    let s = path.to_string_lossy();
    let split = |marker: &str| -> Option<(String, String)> {
        let at = if s.starts_with(marker) {
            Some(0)
        } else {
            s.find(&format!("/{marker}")).map(|i| i + 1)
        }?;
        Some((s[..at].to_string(), s[at + marker.len()..].to_string()))
    };
    if let Some((prefix, rest)) = split("team/entries/")
        && let Some(name) = rest.strip_suffix(".lv")
    {
        let team = PathBuf::from(format!("{prefix}team"));
        return Ok((
            team.clone(),
            Target::Entry {
                team,
                name: name.to_string(),
            },
        ));
    }
    if let Some((prefix, rest)) = split("team/")
        && rest == "key.age"
    {
        return Ok((PathBuf::from(format!("{prefix}team")), Target::KeyFile));
    }
    bail!("{} is not a lumen team file", path.display())
}

fn read(path: &Path) -> Result<Vec<u8>> {
    crate::text::read_capped(path, MAX_FILE).with_context(|| format!("reading {}", path.display()))
}

/// key.age as the commit being merged in has it, and as the merge base has it. During a
/// merge git names the other commit only in a `GITHEAD_<sha>` variable (MERGE_HEAD is written
/// later); cherry-picks and rebases have their own heads.
fn other_key_files(team: &Path) -> Vec<Vec<u8>> {
    let here = Path::new(".");
    let rel = team.join("key.age").display().to_string();
    let mut heads: Vec<String> = std::env::vars_os()
        .filter_map(|(k, _)| k.to_str()?.strip_prefix("GITHEAD_").map(str::to_string))
        .filter(|sha| sha.chars().all(|c| c.is_ascii_hexdigit()))
        .collect();
    heads.extend(["MERGE_HEAD", "CHERRY_PICK_HEAD", "REBASE_HEAD"].map(String::from));
    let mut out = Vec::new();
    for head in heads {
        if let Some(bytes) = git(here, &["show", &format!("{head}:{rel}")]) {
            out.push(bytes);
            if let Some(base) = git(here, &["merge-base", "HEAD", &head]) {
                let base = String::from_utf8_lossy(&base).trim().to_string();
                if let Some(b) = git(here, &["show", &format!("{base}:{rel}")]) {
                    out.push(b);
                }
            }
        }
    }
    out
}

pub fn run(f: &Files, identity: Option<&Path>, pass: Option<&Path>) -> Result<String> {
    let (team, what) = target(f.path)?;
    let workspace = team.parent().map(Path::to_path_buf).unwrap_or_default();
    let dir = TeamDir::in_workspace(&workspace);
    let me = load_my_key(identity, &dir, |prompt| key_passphrase(pass, prompt))?;
    let ancestor = read(f.ancestor).ok();
    let ours = read(f.ours)?;
    let theirs = read(f.theirs)?;
    match what {
        Target::KeyFile => {
            let epoch = merge::key_file(&me, ancestor.as_deref(), &ours, &theirs, f.ours)?;
            Ok(format!(
                "lumen: {}: regenerated (epoch {epoch}); run 'lumen team verify'\n",
                f.path.display()
            ))
        }
        Target::Entry { team, name } => {
            let our_key = read(&dir.key_path())?;
            let others = other_key_files(&team);
            let refs: Vec<&[u8]> = others.iter().map(Vec::as_slice).collect();
            let keys = merge::keys(&me, &our_key, &refs)?;
            let bytes = match merge::entry(&name, &keys, ancestor.as_deref(), &ours, &theirs)? {
                EntryMerge::Merged(bytes) => bytes,
                EntryMerge::Conflict {
                    fields,
                    ours,
                    theirs,
                } => {
                    let shown = describe(&fields, &ours, &theirs);
                    let take_theirs = ask(&name, &shown)?;
                    let entry = if take_theirs { theirs } else { ours };
                    merge::seal(&entry, &keys)?
                }
            };
            std::fs::write(f.ours, bytes)
                .with_context(|| format!("writing {}", f.ours.display()))?;
            Ok(String::new())
        }
    }
}

/// The conflicting fields, with values for those that are not secret.
fn describe(fields: &[String], ours: &crate::vault::Entry, theirs: &crate::vault::Entry) -> String {
    let a = serde_json::to_value(ours).unwrap_or_default();
    let b = serde_json::to_value(theirs).unwrap_or_default();
    let mut out = String::new();
    for f in fields {
        if matches!(f.as_str(), "secret" | "key_passphrase") {
            out += &format!("  {f}: changed on both sides (not shown)\n");
        } else {
            out += &format!(
                "  {f}: ours {} / theirs {}\n",
                esc(&a.get(f).map(|v| v.to_string()).unwrap_or_default()),
                esc(&b.get(f).map(|v| v.to_string()).unwrap_or_default())
            );
        }
    }
    out
}

/// Ask at the terminal which side to keep (`true`: theirs); without one, a conflict.
fn ask(name: &str, shown: &str) -> Result<bool> {
    let head = format!(
        "team entry '{}' was changed on both sides:\n{shown}",
        esc(name)
    );
    let tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty");
    let Ok(mut tty) = tty else {
        bail!(
            "{head}no terminal to ask which to keep: the file stays as ours and git marks it \
             conflicted; keep one side with 'git checkout --ours|--theirs FILE' (then 'git add' \
             it), or merge at a terminal"
        );
    };
    write!(tty, "{head}keep [o]urs or [t]heirs? ")?;
    tty.flush()?;
    let mut line = String::new();
    std::io::BufReader::new(&mut tty).read_line(&mut line)?;
    match line.trim() {
        "o" | "ours" => Ok(false),
        "t" | "theirs" => Ok(true),
        _ => bail!("no choice made: the entry stays conflicted"),
    }
}
