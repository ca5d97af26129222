//! Include path globbing: `*` and `?` per path component, dotfiles only for dot patterns,
//! results in byte order, as glob(3) gives them to ssh.

use super::pattern;
use std::path::{Path, PathBuf};

fn has_magic(s: &str) -> bool {
    s.contains(['*', '?'])
}

/// Existing paths matching `pattern` (an absolute path), sorted.
pub fn glob(pattern: &str) -> Vec<PathBuf> {
    let mut current: Vec<PathBuf> = vec![if pattern.starts_with('/') {
        PathBuf::from("/")
    } else {
        PathBuf::from(".")
    }];
    for comp in pattern.split('/').filter(|c| !c.is_empty()) {
        let mut next = Vec::new();
        for base in &current {
            if has_magic(comp) {
                next.extend(matching_entries(base, comp));
            } else {
                next.push(base.join(comp));
            }
        }
        current = next;
    }
    let mut found: Vec<PathBuf> = current.into_iter().filter(|p| p.exists()).collect();
    found.sort_by(|a, b| {
        a.as_os_str()
            .as_encoded_bytes()
            .cmp(b.as_os_str().as_encoded_bytes())
    });
    found
}

fn matching_entries(dir: &Path, comp: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    entries
        .filter_map(Result::ok)
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let hidden_ok = !name.starts_with('.') || comp.starts_with('.');
            (hidden_ok && pattern::matches(&name, comp)).then(|| dir.join(name))
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_sorted_without_dotfiles() {
        let dir = tempfile::tempdir().unwrap();
        for name in ["b.conf", "a.conf", ".hidden.conf", "c.txt"] {
            std::fs::write(dir.path().join(name), "").unwrap();
        }
        std::fs::create_dir(dir.path().join("sub")).unwrap();
        std::fs::write(dir.path().join("sub/x.conf"), "").unwrap();
        let base = dir.path().to_string_lossy().into_owned();
        let got: Vec<String> = glob(&format!("{base}/*.conf"))
            .iter()
            .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
            .collect();
        assert_eq!(got, vec!["a.conf", "b.conf"]);
        assert_eq!(glob(&format!("{base}/s*/?.conf")).len(), 1);
        assert!(glob(&format!("{base}/missing")).is_empty());
    }
}
