//! Target expressions shared by `lumen scan` and `lumen run`: host names (inventory names,
//! ssh_config aliases, `[user@]host[:port]`), `@GROUP` for a group's members, globs (`web*`,
//! `db?`) over the inventory's names, and `--all`.

use super::Inventory;

/// Whether `word` is a glob over host names (`*`, `?`).
fn is_glob(word: &str) -> bool {
    word.contains(['*', '?'])
}

/// `name` matched against a glob of `*` (any run) and `?` (one character).
pub fn glob_matches(glob: &str, name: &str) -> bool {
    let (g, n): (Vec<char>, Vec<char>) = (glob.chars().collect(), name.chars().collect());
    // Classic two-pointer match with backtracking to the last `*`.
    let (mut gi, mut ni, mut star, mut mark) = (0, 0, None, 0);
    while ni < n.len() {
        if gi < g.len() && (g[gi] == '?' || g[gi] == n[ni]) {
            gi += 1;
            ni += 1;
        } else if gi < g.len() && g[gi] == '*' {
            star = Some(gi);
            mark = ni;
            gi += 1;
        } else if let Some(s) = star {
            gi = s + 1;
            mark += 1;
            ni = mark;
        } else {
            return false;
        }
    }
    g[gi..].iter().all(|c| *c == '*')
}

/// The hosts `words` name, in order, each once: `@GROUP` expands to its members, a glob to
/// the inventory names it matches, anything else is kept as a destination; `all` adds every
/// inventory host first. A group or glob matching nothing is an error; an empty result is not
/// (callers say what they could not do).
pub fn expand(words: &[String], all: bool, inventory: &Inventory) -> Result<Vec<String>, String> {
    let mut out: Vec<String> = Vec::new();
    let mut push = |name: String| {
        if !out.contains(&name) {
            out.push(name);
        }
    };
    if all {
        inventory.hosts.iter().for_each(|h| push(h.name.clone()));
    }
    for word in words {
        let members: Vec<String> = if let Some(group) = word.strip_prefix('@') {
            let m: Vec<String> = inventory
                .filter(None, Some(group))
                .map(|h| h.name.clone())
                .collect();
            if m.is_empty() {
                return Err(format!(
                    "no host is in group {group:?}; see `lumen hosts list`"
                ));
            }
            m
        } else if is_glob(word) {
            let m: Vec<String> = inventory
                .hosts
                .iter()
                .filter(|h| glob_matches(word, &h.name))
                .map(|h| h.name.clone())
                .collect();
            if m.is_empty() {
                return Err(format!(
                    "no host of this workspace matches {word:?}; see `lumen hosts list`"
                ));
            }
            m
        } else {
            vec![word.clone()]
        };
        members.into_iter().for_each(&mut push);
    }
    Ok(out)
}

/// A target expression as written in a runbook (`targets = "@web db1"`): its words.
pub fn words(expression: &str) -> Vec<String> {
    expression
        .split(|c: char| c.is_whitespace() || c == ',')
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_groups_and_names() {
        let inv = crate::workspace::hosts::parse(
            "[hosts.web01]\ngroups = [\"web\"]\n[hosts.web02]\ngroups = [\"web\"]\n[hosts.db1]\n",
            std::path::Path::new("h"),
        )
        .unwrap();
        let w = |s: &str| words(s);
        assert_eq!(expand(&w("@web"), false, &inv).unwrap(), ["web01", "web02"]);
        assert_eq!(
            expand(&w("web0? db1, web01"), false, &inv).unwrap(),
            ["web01", "web02", "db1"]
        );
        assert_eq!(expand(&w("*1"), false, &inv).unwrap(), ["web01", "db1"]);
        assert_eq!(
            expand(&w("me@10.0.0.1:22"), false, &inv).unwrap(),
            ["me@10.0.0.1:22"]
        );
        assert_eq!(expand(&[], true, &inv).unwrap().len(), 3);
        assert!(expand(&w("@nope"), false, &inv).is_err());
        assert!(expand(&w("x*"), false, &inv).is_err());
        assert!(glob_matches("a*b*c", "aXXbYc") && !glob_matches("a*b", "ab-"));
    }
}
