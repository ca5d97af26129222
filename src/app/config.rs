//! `config.toml`: defaults live in code; the file patches only what it sets. A broken file
//! never stops lumen: it starts on the defaults and shows the error with file:line.

use crate::app::keymap::{Action, Chord, Keymap};
use crate::ui::theme::line_of;
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// Lines of scrollback a pane keeps unless the config says otherwise (tmux: 2000).
pub const DEFAULT_SCROLLBACK: usize = 10_000;
/// The most scrollback a pane may keep, so a typo cannot eat all memory.
pub const MAX_SCROLLBACK: usize = 1_000_000;

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub keymap: Keymap,
    pub theme: String,
    pub scrollback: usize,
    /// Mouse support: click to focus, wheel to scroll, drag to select.
    pub mouse: bool,
    pub workspace: String,
    /// Lock the vault after this long without a key in its pane.
    pub vault_auto_lock: std::time::Duration,
    /// What happens when a program in a pane (or a remote host) sets the clipboard with
    /// OSC 52. lumen's own copies (copy mode, the vault) are not affected.
    pub clipboard: ClipboardPolicy,
    /// The `[ai]` section: none, usable, or broken (then lumen runs without the copilot and
    /// shows the error; the rest of the file still applies).
    pub ai: Result<Option<crate::ai::config::AiConfig>, crate::ai::config::AiConfigError>,
    /// The file this was read from, or would be (it need not exist): the copilot names it
    /// when there is no `[ai]` section. None for the defaults alone.
    pub file: Option<std::path::PathBuf>,
    /// Whose size a pane takes when several clients look at one session (tmux's
    /// `window-size`).
    pub window_size: WindowSize,
    /// `[vault] lock_when_detached`: lock the vault this long after the last client detached
    /// from the session; None never locks for that.
    pub lock_when_detached: Option<std::time::Duration>,
    /// `[logs]`: which panes are recorded, and how long recordings are kept.
    pub logs: crate::record::LogsConfig,
}

/// `window_size = "latest" | "smallest" | "largest"` in config.toml.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum WindowSize {
    /// The size of the client that typed last.
    #[default]
    Latest,
    Smallest,
    Largest,
}

/// The vault locks itself 15 minutes after the last client detached unless the config says
/// otherwise.
pub const DEFAULT_LOCK_WHEN_DETACHED: std::time::Duration = std::time::Duration::from_secs(15 * 60);

/// A duration as config.toml writes it: `"15m"`, `"1s"`, `"2h"`, `"90"` (seconds), `"0"`
/// (at once) or `"never"` (None).
pub fn parse_duration(text: &str) -> Result<Option<std::time::Duration>, String> {
    let t = text.trim();
    if t.eq_ignore_ascii_case("never") {
        return Ok(None);
    }
    let (number, unit) = match t.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => t.split_at(i),
        None => (t, "s"),
    };
    let n: u64 = number.parse().map_err(|_| {
        format!(
            "'{text}' is not a duration: write e.g. \"15m\", \"30s\", \"2h\", \"0\" or \"never\""
        )
    })?;
    let secs = match unit.trim() {
        "s" => Some(n),
        "m" => n.checked_mul(60),
        "h" => n.checked_mul(3600),
        other => {
            return Err(format!(
                "'{text}': unknown unit '{other}' (use s, m or h, or \"never\")"
            ));
        }
    };
    secs.map(|s| Some(std::time::Duration::from_secs(s)))
        .ok_or_else(|| format!("'{text}' is too long"))
}

/// The vault locks itself after 15 minutes idle unless the config says otherwise.
pub const DEFAULT_VAULT_AUTO_LOCK: std::time::Duration = std::time::Duration::from_secs(15 * 60);

impl Default for Config {
    fn default() -> Self {
        Self {
            keymap: Keymap::default(),
            theme: "default".into(),
            scrollback: DEFAULT_SCROLLBACK,
            mouse: true,
            workspace: "default".into(),
            vault_auto_lock: DEFAULT_VAULT_AUTO_LOCK,
            clipboard: ClipboardPolicy::Ask,
            ai: Ok(None),
            file: None,
            window_size: WindowSize::Latest,
            lock_when_detached: Some(DEFAULT_LOCK_WHEN_DETACHED),
            logs: crate::record::LogsConfig::default(),
        }
    }
}

/// `clipboard = "ask" | "allow" | "deny"` in config.toml.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClipboardPolicy {
    /// Ask per host the first time: allow once, always for this host, or deny.
    Ask,
    Allow,
    Deny,
}

/// A config file that could not be used, with where and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}: {message}", crate::ui::theme::file_line(file, *line))]
pub struct ConfigError {
    pub file: String,
    pub line: usize,
    pub message: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    prefix: Option<toml::Spanned<String>>,
    theme: Option<String>,
    scrollback: Option<toml::Spanned<i64>>,
    mouse: Option<bool>,
    workspace: Option<String>,
    /// Minutes; 0 never locks by itself.
    vault_auto_lock_minutes: Option<toml::Spanned<i64>>,
    clipboard: Option<ClipboardPolicy>,
    #[serde(default)]
    keys: BTreeMap<toml::Spanned<String>, toml::Spanned<KeyList>>,
    /// Read by `crate::ai::config`, which reports its own errors.
    ai: Option<serde::de::IgnoredAny>,
    window_size: Option<WindowSize>,
    vault: Option<VaultSection>,
    logs: Option<LogsSection>,
}

/// `[logs]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct LogsSection {
    record: Option<crate::record::RecordDefault>,
    keep_days: Option<toml::Spanned<i64>>,
    max_total: Option<toml::Spanned<String>>,
    max_file: Option<toml::Spanned<String>>,
}

/// `[vault]`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VaultSection {
    lock_when_detached: Option<toml::Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum KeyList {
    One(String),
    Many(Vec<String>),
}

impl Config {
    /// Read the config file. A missing file is the defaults; a broken one is an error.
    pub fn load(path: &Path) -> Result<Self, ConfigError> {
        let loaded = match crate::text::read_capped_string(path, crate::text::SETTINGS_FILE_LIMIT) {
            Ok(text) => Self::parse(&path.display().to_string(), &text),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self::default()),
            Err(e) => Err(ConfigError {
                file: path.display().to_string(),
                line: 0,
                message: format!("cannot read: {e}"),
            }),
        };
        loaded.map(|c| Self {
            file: Some(path.to_path_buf()),
            ..c
        })
    }

    pub fn parse(file: &str, text: &str) -> Result<Self, ConfigError> {
        let err = |offset: usize, message: String| ConfigError {
            file: file.to_string(),
            line: line_of(text, offset),
            message,
        };
        let parsed: ConfigFile = toml::from_str(text).map_err(|e| {
            let offset = e.span().map(|s| s.start).unwrap_or(0);
            err(offset, crate::text::toml_message(&e))
        })?;
        let mut cfg = Config::default();
        if parsed.ai.is_some() {
            cfg.ai = crate::ai::config::AiConfig::parse(file, text);
        }
        if let Some(p) = parsed.prefix {
            cfg.keymap.prefix = Chord::parse(p.get_ref()).map_err(|m| err(p.span().start, m))?;
        }
        if let Some(t) = parsed.theme {
            cfg.theme = t;
        }
        if let Some(w) = parsed.workspace {
            cfg.workspace = w;
        }
        if let Some(m) = parsed.vault_auto_lock_minutes {
            let n = *m.get_ref();
            if !(0..=24 * 60).contains(&n) {
                return Err(err(
                    m.span().start,
                    format!("vault_auto_lock_minutes must be between 0 and 1440, not {n}"),
                ));
            }
            cfg.vault_auto_lock = if n == 0 {
                std::time::Duration::MAX
            } else {
                std::time::Duration::from_secs(n as u64 * 60)
            };
        }
        if let Some(m) = parsed.mouse {
            cfg.mouse = m;
        }
        if let Some(w) = parsed.window_size {
            cfg.window_size = w;
        }
        if let Some(lock) = parsed.vault.and_then(|v| v.lock_when_detached) {
            cfg.lock_when_detached = parse_duration(lock.get_ref())
                .map_err(|m| err(lock.span().start, format!("lock_when_detached: {m}")))?;
        }
        if let Some(logs) = parsed.logs {
            if let Some(r) = logs.record {
                cfg.logs.record = r;
            }
            if let Some(d) = logs.keep_days {
                let n = *d.get_ref();
                if !(1..=36_500).contains(&n) {
                    return Err(err(
                        d.span().start,
                        format!("keep_days must be between 1 and 36500, not {n}"),
                    ));
                }
                cfg.logs.keep_days = n as u64;
            }
            for (field, value, slot) in [
                ("max_total", logs.max_total, &mut cfg.logs.max_total),
                ("max_file", logs.max_file, &mut cfg.logs.max_file),
            ] {
                if let Some(v) = value {
                    *slot = crate::record::parse_size(v.get_ref())
                        .map_err(|m| err(v.span().start, format!("{field}: {m}")))?;
                }
            }
        }
        if let Some(c) = parsed.clipboard {
            cfg.clipboard = c;
        }
        if let Some(s) = parsed.scrollback {
            let n = *s.get_ref();
            if !(0..=MAX_SCROLLBACK as i64).contains(&n) {
                return Err(err(
                    s.span().start,
                    format!("scrollback must be between 0 and {MAX_SCROLLBACK} lines, not {n}"),
                ));
            }
            cfg.scrollback = n as usize;
        }
        for (name, keys) in parsed.keys {
            let action = Action::from_name(name.get_ref()).ok_or_else(|| {
                err(
                    name.span().start,
                    format!(
                        "unknown action '{}' (see the palette, prefix then ':', for every action)",
                        name.get_ref()
                    ),
                )
            })?;
            let at = keys.span().start;
            let list = match keys.into_inner() {
                KeyList::One(k) => vec![k],
                KeyList::Many(ks) => ks,
            };
            let chords = list
                .iter()
                .map(|k| Chord::parse(k).map_err(|m| err(at, m)))
                .collect::<Result<Vec<_>, _>>()?;
            cfg.keymap.rebind(action, &chords);
        }
        Ok(cfg)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

    #[test]
    fn window_size_and_lock_when_detached_are_read_and_bad_ones_named() {
        let c = Config::parse(
            "c.toml",
            "window_size = \"smallest\"\n[vault]\nlock_when_detached = \"1s\"\n",
        )
        .unwrap();
        assert_eq!(c.window_size, WindowSize::Smallest);
        assert_eq!(
            c.lock_when_detached,
            Some(std::time::Duration::from_secs(1))
        );
        let never = Config::parse("c.toml", "[vault]\nlock_when_detached = \"never\"\n");
        assert_eq!(never.unwrap().lock_when_detached, None);
        assert_eq!(parse_duration("0"), Ok(Some(std::time::Duration::ZERO)));
        assert_eq!(
            parse_duration("15m"),
            Ok(Some(std::time::Duration::from_secs(900)))
        );
        let e =
            Config::parse("c.toml", "\n[vault]\nlock_when_detached = \"5 weeks\"\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("unknown unit"), "{}", e.message);
        assert_eq!(
            Config::default().lock_when_detached,
            Some(DEFAULT_LOCK_WHEN_DETACHED)
        );
    }

    #[test]
    fn a_number_of_the_wrong_type_is_asked_for_as_a_whole_number() {
        for text in ["vault_auto_lock_minutes = \"ten\"\n", "scrollback = 1.5\n"] {
            let e = Config::parse("c.toml", text).unwrap_err();
            assert!(
                e.message.contains("a whole number"),
                "{text}: {}",
                e.message
            );
            assert!(
                !e.message.contains("i64") && !e.message.contains("usize"),
                "{}",
                e.message
            );
        }
    }

    #[test]
    fn logs_section_is_read_and_bad_values_named() {
        let c = Config::parse(
            "c.toml",
            "[logs]\nrecord = \"all\"\nkeep_days = 7\nmax_total = \"1GiB\"\nmax_file = \"1MiB\"\n",
        )
        .unwrap();
        assert_eq!(c.logs.record, crate::record::RecordDefault::All);
        assert_eq!(c.logs.keep_days, 7);
        assert_eq!(c.logs.max_total, 1 << 30);
        assert_eq!(c.logs.max_file, 1 << 20);
        let e = Config::parse("c.toml", "[logs]\n\nmax_total = \"2 lots\"\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("max_total"), "{e}");
        assert!(Config::parse("c.toml", "[logs]\nrecord = \"some\"\n").is_err());
        assert_eq!(
            Config::default().logs.record,
            crate::record::RecordDefault::Ssh
        );
    }

    #[test]
    fn empty_file_is_the_defaults() {
        assert_eq!(Config::parse("c.toml", ""), Ok(Config::default()));
    }

    #[test]
    fn settings_and_bindings_apply() {
        let text = "prefix = \"C-a\"\ntheme = \"light\"\nscrollback = 500\n[keys]\nsplit_right = \"|\"\nsplit_down = [\"-\", \"_\"]\n";
        let c = Config::parse("c.toml", text).unwrap();
        assert_eq!(c.keymap.prefix.to_string(), "C-a");
        assert_eq!(c.theme, "light");
        assert_eq!(c.scrollback, 500);
        let k = |ch| KeyEvent::new(KeyCode::Char(ch), KeyModifiers::NONE);
        assert_eq!(c.keymap.action(&k('|')), Some(Action::SplitRight));
        assert_eq!(
            c.keymap.action(&k('%')),
            None,
            "rebinding replaces the default"
        );
        assert_eq!(c.keymap.action(&k('_')), Some(Action::SplitDown));
    }

    #[test]
    fn unknown_action_names_file_and_line() {
        let e = Config::parse(
            "c.toml",
            "[keys]\nsplit_right = \"|\"\nsplit_sideways = \"-\"\n",
        )
        .unwrap_err();
        assert_eq!((e.file.as_str(), e.line), ("c.toml", 3));
        assert!(e.message.contains("split_sideways"), "{e}");
    }

    #[test]
    fn unknown_key_names_file_and_line() {
        let e = Config::parse("c.toml", "\n[keys]\nzoom = \"Hyper-z\"\n").unwrap_err();
        assert_eq!(e.line, 3);
        assert!(e.message.contains("Hyper-z"), "{e}");
        let e = Config::parse("c.toml", "prefix = \"Ctrl-\"\n").unwrap_err();
        assert_eq!(e.line, 1);
    }

    #[test]
    fn a_bad_ai_section_turns_off_only_the_copilot() {
        let text = "theme = \"light\"\n[ai]\nprovider = \"openai\"\nmodel = \"gpt-5\"\napi_key = \"env:K\"\nmax_steps = 0\n";
        let c = Config::parse("c.toml", text).unwrap();
        assert_eq!(c.theme, "light");
        let e = c.ai.unwrap_err();
        assert_eq!((e.file.as_str(), e.line), ("c.toml", 6));
        let c = Config::parse("c.toml", &text.replace("max_steps = 0", "max_steps = 3")).unwrap();
        assert_eq!(c.ai.unwrap().unwrap().max_steps, 3);
    }

    #[test]
    fn syntax_and_schema_errors_have_lines() {
        let e = Config::parse("c.toml", "theme = \"x\"\nscrollback = \n").unwrap_err();
        assert_eq!(e.line, 2, "{e}");
        let e = Config::parse("c.toml", "theme = \"x\"\n\ncolour = 3\n").unwrap_err();
        assert_eq!(e.line, 3, "{e}");
        let e = Config::parse("c.toml", "scrollback = -4\n").unwrap_err();
        assert!(e.message.contains("between 0"), "{e}");
    }
}
