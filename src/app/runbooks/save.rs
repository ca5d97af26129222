//! Ctrl-s in the copilot pane: the commands that ran in this conversation saved as a new
//! runbook file in the workspace's `runbooks/` (its parameters left for the operator to
//! name), checked with the loader before it is written, then opened in `$EDITOR` in a new
//! tab (a local shell that runs the editor) when `$EDITOR` is set.

use crate::app::layout::PaneId;
use crate::app::msg::{Effect, Msg, Task};
use crate::app::state::{App, PaneSpec};
use std::path::PathBuf;

/// Write a new runbook file (a blocking [`Task`]): never over an existing one.
pub struct SaveRunbook {
    pub dir: PathBuf,
    pub name: String,
    pub text: String,
}

impl SaveRunbook {
    pub fn run(self) -> Msg {
        let result = (|| {
            crate::paths::ensure_private_dir(&self.dir).map_err(|e| e.to_string())?;
            // A second save in the same second gets a suffix rather than replacing the first.
            let mut path = self.dir.join(format!("{}.toml", self.name));
            let mut n = 2;
            while path.exists() {
                path = self.dir.join(format!("{}-{n}.toml", self.name));
                n += 1;
            }
            let text = self.text.replacen(
                &format!("name = {}", toml_string(&self.name)),
                &format!(
                    "name = {}",
                    toml_string(
                        path.file_stem()
                            .and_then(|s| s.to_str())
                            .unwrap_or(&self.name)
                    )
                ),
                1,
            );
            crate::paths::atomic_write(&path, text.as_bytes())
                .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
            Ok(path)
        })();
        Msg::RunbookSaved(result)
    }
}

/// A TOML string holding `s` exactly.
fn toml_string(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// `host` as part of a runbook name: letters, digits, `.`, `-`, `_`.
fn name_part(host: &str) -> String {
    let part: String = host
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "._-".contains(c) {
                c
            } else {
                '-'
            }
        })
        .collect();
    part.trim_start_matches('-').to_string()
}

/// The runbook file for `commands`, run on `host`, saved at `stamp` (`20261206-2104`).
pub fn runbook_text(host: &str, commands: &[String], stamp: &str) -> (String, String) {
    let part = name_part(host);
    let name = if part.is_empty() {
        format!("copilot-{stamp}")
    } else {
        format!("copilot-{part}-{stamp}")
    };
    let mut text = format!(
        "# Saved by lumen from a copilot conversation about {host} (Ctrl-s).\n\
         # Name its parameters: put {{{{NAME}}}} where a step takes a value, and describe it:\n\
         # [[params]]\n\
         # name = \"NAME\"\n\
         # description = \"what it is\"\n\
         # default = \"a value\"\n\
         # pattern = \"^[a-z0-9._-]+$\"\n\
         name = {}\n\
         description = {}\n",
        toml_string(&name),
        toml_string(&format!("Commands approved in the copilot about {host}")),
    );
    if !host.is_empty() {
        text.push_str(&format!("targets = {}\n", toml_string(host)));
    }
    for (i, c) in commands.iter().enumerate() {
        text.push_str(&format!(
            "\n[[steps]]\nname = {}\nrun = {}\n",
            toml_string(&format!("step {}", i + 1)),
            toml_string(c)
        ));
    }
    (name, text)
}

/// `path` quoted for a POSIX shell.
fn shell_quoted(path: &std::path::Path) -> String {
    format!("'{}'", path.display().to_string().replace('\'', "'\\''"))
}

impl App {
    /// Ctrl-s in the copilot pane of `terminal`'s conversation.
    pub(crate) fn copilot_save_runbook(&mut self, terminal: PaneId) {
        let Some(dirs) = self.runbook_dirs.clone() else {
            self.error("runbooks are not available here: lumen has no workspace to save one in");
            return;
        };
        let commands = self
            .copilot
            .session(terminal)
            .map(|s| s.ran_commands())
            .unwrap_or_default();
        if commands.is_empty() {
            self.say("no command ran in this conversation yet: nothing to save as a runbook");
            return;
        }
        let host = self.pane_host(terminal);
        let stamp = time::OffsetDateTime::now_utc()
            .format(time::macros::format_description!(
                "[year][month][day]-[hour][minute][second]"
            ))
            .unwrap_or_default();
        let (name, text) = runbook_text(&host, &commands, &stamp);
        let dir = dirs.paths.workspace_dir(&dirs.workspace).join("runbooks");
        // What the loader will say of it, before anything is written.
        if let Err(e) =
            crate::runbook::format::parse_runbook(&text, &dir.join(format!("{name}.toml")))
        {
            self.error(format!(
                "the commands do not make a runbook lumen can read back: {e}"
            ));
            return;
        }
        self.effects
            .push(Effect::Spawn(Box::new(Task::SaveRunbook(SaveRunbook {
                dir,
                name,
                text,
            }))));
    }

    /// The runbook file was written (or not); open it in `$EDITOR` when set.
    pub(crate) fn runbook_saved(&mut self, result: Result<PathBuf, String>) {
        let path = match result {
            Ok(p) => p,
            Err(e) => {
                self.error(format!("runbook not saved: {e}"));
                return;
            }
        };
        match std::env::var("EDITOR")
            .ok()
            .filter(|e| !e.trim().is_empty())
        {
            Some(editor) => {
                self.new_tab(PaneSpec::LocalShell);
                if let Some(t) = self
                    .focused()
                    .and_then(|id| self.panes.get_mut(&id))
                    .and_then(|s| s.pane.as_terminal_mut())
                {
                    t.type_text(&format!("{editor} {}\r", shell_quoted(&path)));
                }
                self.say(format!("saved {}; opened in $EDITOR", path.display()));
            }
            None => self.say(format!(
                "saved {} (set $EDITOR to have lumen open it)",
                path.display()
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_file_reads_back_with_every_command_exactly() {
        let commands = vec![
            "systemctl status nginx --no-pager".to_string(),
            r#"grep -c "a'b\"c" /var/log/x | tail -n1"#.to_string(),
            "printf '%s\\n' \"$HOME\" '''".to_string(),
            "PGPASSWORD={{vault:db/pass}} psql -h localhost -c 'select 1'".to_string(),
        ];
        let (name, text) = runbook_text("web 1/prod", &commands, "20261206-210400");
        assert_eq!(name, "copilot-web-1-prod-20261206-210400");
        let rb =
            crate::runbook::format::parse_runbook(&text, std::path::Path::new("x.toml")).unwrap();
        assert_eq!(rb.name, name);
        assert_eq!(rb.targets.as_deref(), Some("web 1/prod"));
        let runs: Vec<&str> = rb.steps.iter().map(|s| s.run.as_str()).collect();
        assert_eq!(
            runs,
            commands.iter().map(String::as_str).collect::<Vec<_>>()
        );
        assert!(rb.params.is_empty());
    }
}
