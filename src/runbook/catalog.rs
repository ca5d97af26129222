//! The runbooks and snippets a workspace offers: its `runbooks/*.toml` and `snippets.toml`
//! (shared with the team) and the same in the personal config dir. One name, one file: a
//! name used twice (runbook or snippet) is an error naming both places.

use super::format::{FormatError, Runbook, Snippet, parse_runbook, parse_snippets};
use crate::paths::Paths;
use std::path::{Path, PathBuf};

/// Everything `lumen run` and the `R` picker can offer, runbooks sorted by name.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Catalog {
    pub runbooks: Vec<Runbook>,
    pub snippets: Vec<Snippet>,
}

#[derive(Debug, thiserror::Error)]
pub enum CatalogError {
    #[error(transparent)]
    Format(#[from] FormatError),
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the name {name:?} is used twice: {first} and {second}; rename one of them")]
    Duplicate {
        name: String,
        first: String,
        second: String,
    },
    #[error("{0}")]
    Workspace(#[from] crate::workspace::InventoryError),
}

/// The directories searched, shared first: (`runbooks/` dir, `snippets.toml`).
pub fn sources(paths: &Paths, workspace: &str) -> Vec<(PathBuf, PathBuf)> {
    [paths.workspace_dir(workspace), paths.config_dir.clone()]
        .into_iter()
        .map(|d| (d.join("runbooks"), d.join("snippets.toml")))
        .collect()
}

fn read(path: &Path) -> Result<Option<String>, CatalogError> {
    match crate::text::read_capped_string(path, crate::text::SETTINGS_FILE_LIMIT) {
        Ok(t) => Ok(Some(t)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(CatalogError::Io {
            path: path.to_path_buf(),
            source,
        }),
    }
}

impl Catalog {
    /// Read the workspace's and the personal runbooks and snippets. Missing folders and
    /// files are fine; the first unusable file is the error.
    pub fn load(paths: &Paths, workspace: &str) -> Result<Catalog, CatalogError> {
        crate::workspace::store::check_workspace_name(workspace)?;
        let mut cat = Catalog::default();
        // Where each name was defined, for the duplicate message.
        let mut seen: Vec<(String, String)> = Vec::new();
        let mut claim = |name: &str, place: String| -> Result<(), CatalogError> {
            if let Some((_, first)) = seen.iter().find(|(n, _)| n == name) {
                return Err(CatalogError::Duplicate {
                    name: name.to_string(),
                    first: first.clone(),
                    second: place,
                });
            }
            seen.push((name.to_string(), place));
            Ok(())
        };
        for (dir, snippets) in sources(paths, workspace) {
            let mut files: Vec<PathBuf> = match std::fs::read_dir(&dir) {
                Ok(rd) => rd
                    .flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "toml"))
                    .collect(),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
                Err(source) => return Err(CatalogError::Io { path: dir, source }),
            };
            files.sort();
            for file in files {
                let Some(text) = read(&file)? else { continue };
                let rb = parse_runbook(&text, &file)?;
                claim(&rb.name, file.display().to_string())?;
                cat.runbooks.push(rb);
            }
            if let Some(text) = read(&snippets)? {
                for (s, line) in parse_snippets(&text, &snippets)? {
                    claim(&s.name, format!("{}:{line}", snippets.display()))?;
                    cat.snippets.push(s);
                }
            }
        }
        cat.runbooks.sort_by(|a, b| a.name.cmp(&b.name));
        cat.snippets.sort_by(|a, b| a.name.cmp(&b.name));
        Ok(cat)
    }

    pub fn runbook(&self, name: &str) -> Option<&Runbook> {
        self.runbooks.iter().find(|r| r.name == name)
    }

    pub fn snippet(&self, name: &str) -> Option<&Snippet> {
        self.snippets.iter().find(|s| s.name == name)
    }

    /// A runbook by name, or a snippet by name as a one-step runbook.
    pub fn runnable(&self, name: &str) -> Option<Runbook> {
        self.runbook(name)
            .cloned()
            .or_else(|| self.snippet(name).map(Snippet::to_runbook))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(path: &Path, text: &str) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }

    #[test]
    fn loads_both_places_and_refuses_a_repeated_name() {
        let home = tempfile::tempdir().unwrap();
        let paths = Paths::under(home.path());
        let ws = paths.workspace_dir("default");
        write(
            &ws.join("runbooks/b.toml"),
            "[[steps]]\nname = \"s\"\nrun = \"uptime\"\n",
        );
        write(
            &paths.config_dir.join("runbooks/a.toml"),
            "[[steps]]\nname = \"s\"\nrun = \"id\"\n",
        );
        write(&ws.join("runbooks/notes.txt"), "not a runbook");
        write(
            &paths.config_dir.join("snippets.toml"),
            "[[snippets]]\nname = \"disk\"\nrun = \"df -h\"\n",
        );
        let cat = Catalog::load(&paths, "default").unwrap();
        let names: Vec<&str> = cat.runbooks.iter().map(|r| r.name.as_str()).collect();
        assert_eq!(names, vec!["a", "b"]);
        assert_eq!(cat.runnable("disk").unwrap().steps[0].run, "df -h");

        write(
            &ws.join("snippets.toml"),
            "\n[[snippets]]\nname = \"disk\"\nrun = \"df\"\n",
        );
        let e = Catalog::load(&paths, "default").unwrap_err().to_string();
        assert!(e.contains("\"disk\""), "{e}");
        assert!(
            e.contains(&format!("{}:2", ws.join("snippets.toml").display())),
            "{e}"
        );
        assert!(
            e.contains(&format!(
                "{}:1",
                paths.config_dir.join("snippets.toml").display()
            )),
            "{e}"
        );

        std::fs::remove_file(ws.join("snippets.toml")).unwrap();
        write(
            &paths.config_dir.join("runbooks/b.toml"),
            "[[steps]]\nname = \"s\"\nrun = \"id\"\n",
        );
        let e = Catalog::load(&paths, "default").unwrap_err().to_string();
        assert!(
            e.contains("runbooks/b.toml and ") && e.contains("config/runbooks/b.toml"),
            "{e}"
        );
        assert!(Catalog::load(&paths, "../x").is_err());
    }
}
