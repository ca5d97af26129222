//! One pass over the config files: Host and Match blocks, Include, and option lines, following
//! OpenSSH 9.2's readconf.c (`read_config_file_depth`, `process_config_line`, `match_cfg_line`).

use super::glob::glob;
use super::lexer::{LexError, Line, split_line};
use super::options::{Options, Origin};
use super::pattern;
use super::tokens::expand_percent;
use super::{ConfigWarning, ResolveOptions};
use std::path::{Path, PathBuf};

/// ssh's `READCONF_MAX_DEPTH`.
const MAX_INCLUDE_DEPTH: usize = 16;

/// How a file is being read.
#[derive(Debug, Clone, Copy, Default)]
pub struct Flags {
    /// A user config: relative Includes are under ~/.ssh and `~` is allowed.
    pub user_conf: bool,
    /// Included from an inactive block: parse only, nothing matches.
    pub never_match: bool,
    /// Included file: refuse it when others may write it, as ssh does.
    pub check_perm: bool,
}

/// State of one pass over the configuration.
pub struct Pass<'a> {
    pub opts: &'a ResolveOptions,
    /// What `Host` patterns are matched against.
    pub host: String,
    /// The host as given (`Match originalhost`, `%n`).
    pub original: String,
    pub final_pass: bool,
    pub want_final: bool,
    pub options: Options,
    pub warnings: Vec<ConfigWarning>,
}

impl Pass<'_> {
    fn warn(&mut self, file: &Path, line: usize, message: impl Into<String>) {
        let w = ConfigWarning {
            file: file.to_path_buf(),
            line,
            message: message.into(),
        };
        if !self.warnings.contains(&w) {
            self.warnings.push(w);
        }
    }

    /// Read a file; `Ok(false)` when it does not exist.
    pub fn read_file(
        &mut self,
        path: &Path,
        flags: Flags,
        active: &mut bool,
        depth: usize,
    ) -> std::io::Result<bool> {
        let bytes = match crate::text::read_capped(path, crate::text::SETTINGS_FILE_LIMIT) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(e),
        };
        if flags.check_perm
            && let Some(problem) = permission_problem(path)
        {
            return Err(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                problem,
            ));
        }
        let text = String::from_utf8_lossy(&bytes);
        for (i, raw) in text.split('\n').enumerate() {
            self.process_line(raw, path, i + 1, flags, active, depth);
        }
        Ok(true)
    }

    /// Apply `-o`-style lines given before any file (they win, being first).
    pub fn apply_overrides(&mut self, lines: &[(String, String)]) {
        let file = PathBuf::from("(command line)");
        for (i, (k, v)) in lines.iter().enumerate() {
            let text = format!("{k} {v}");
            match split_line(&text) {
                Ok(Some(line)) if matches!(line.keyword.as_str(), "host" | "match" | "include") => {
                    self.warn(&file, i + 1, format!("{k} is not allowed here"));
                }
                Ok(Some(line)) => {
                    let origin = Origin {
                        file: file.display().to_string(),
                        line: i + 1,
                    };
                    if let Err(e) = self.options.apply(&line, true, &origin) {
                        self.warn(&file, i + 1, e);
                    }
                }
                Ok(None) => {}
                Err(_) => self.warn(&file, i + 1, format!("bad option {text:?}")),
            }
        }
    }

    fn process_line(
        &mut self,
        raw: &str,
        file: &Path,
        lineno: usize,
        flags: Flags,
        active: &mut bool,
        depth: usize,
    ) {
        let line = match split_line(raw) {
            Ok(Some(l)) => l,
            Ok(None) => return,
            Err(LexError::NoArgument(k)) => {
                return self.warn(file, lineno, format!("no argument after keyword \"{k}\""));
            }
            Err(LexError::InvalidQuotes) => return self.warn(file, lineno, "invalid quotes"),
        };
        match line.keyword.as_str() {
            "host" => self.host_line(&line, file, lineno, flags, active),
            "match" => {
                let value = match self.match_line(&line, file, lineno) {
                    Ok(v) => v,
                    Err(e) => {
                        self.warn(
                            file,
                            lineno,
                            format!("bad Match condition: {e}; block ignored"),
                        );
                        false
                    }
                };
                *active = !flags.never_match && value;
            }
            "include" => self.include_line(&line, file, lineno, flags, active, depth),
            _ => {
                let origin = Origin {
                    file: file.display().to_string(),
                    line: lineno,
                };
                if let Err(e) = self.options.apply(&line, *active, &origin) {
                    self.warn(file, lineno, e);
                }
            }
        }
    }

    fn host_line(
        &mut self,
        line: &Line,
        file: &Path,
        lineno: usize,
        flags: Flags,
        active: &mut bool,
    ) {
        *active = false;
        if line.args.iter().any(String::is_empty) {
            return self.warn(file, lineno, "keyword host has an empty argument");
        }
        if flags.never_match {
            return;
        }
        for arg in &line.args {
            let (negated, pat) = match arg.strip_prefix('!') {
                Some(p) => (true, p),
                None => (false, arg.as_str()),
            };
            if pattern::matches(&self.host, pat) {
                if negated {
                    *active = false;
                    return;
                }
                *active = true;
            }
        }
    }

    /// The host `Match host` tests: Hostname (with `%h`) once set, else the host.
    fn match_host(&self) -> String {
        match &self.options.hostname {
            Some(h) if self.final_pass => h.clone(),
            Some(h) => expand_percent(h, |c| (c == 'h').then(|| self.host.clone()))
                .unwrap_or_else(|_| h.clone()),
            None => self.host.clone(),
        }
    }

    fn match_line(&mut self, line: &Line, file: &Path, lineno: usize) -> Result<bool, String> {
        let mut result = true;
        let mut attributes = 0;
        let mut args = line.args.iter();
        while let Some(attr) = args.next() {
            let (negate, name) = match attr.strip_prefix('!') {
                Some(n) => (true, n.to_ascii_lowercase()),
                None => (false, attr.to_ascii_lowercase()),
            };
            if name == "all" {
                if attributes > 1 || args.len() > 0 {
                    return Err(format!(
                        "'{attr}' cannot be combined with other Match attributes"
                    ));
                }
                return Ok(result && !negate);
            }
            attributes += 1;
            if name == "canonical" || name == "final" {
                if name == "final" {
                    self.want_final = true;
                }
                if self.final_pass == negate {
                    result = false;
                }
                continue;
            }
            let Some(arg) = args.next() else {
                return Err(format!("missing Match criteria for {attr}"));
            };
            let matched = match name.as_str() {
                // match_hostname: both sides lowercased.
                "host" => pattern::matches_list(&self.match_host().to_lowercase(), arg, true),
                "originalhost" => pattern::matches_list(&self.original.to_lowercase(), arg, true),
                "user" => {
                    let user = self
                        .options
                        .user
                        .as_deref()
                        .unwrap_or(&self.opts.local_user);
                    pattern::matches_list(user, arg, false)
                }
                "localuser" => pattern::matches_list(&self.opts.local_user, arg, false),
                "exec" | "localnetwork" => {
                    self.warn(
                        file,
                        lineno,
                        format!(
                            "Match {name} is not evaluated by lumen (it would run or probe \
                             something); this Match block is treated as not matching"
                        ),
                    );
                    return Ok(false);
                }
                _ => return Err(format!("unsupported Match attribute {attr}")),
            };
            if matched == negate {
                result = false;
            }
        }
        if attributes == 0 {
            return Err("one or more attributes required".into());
        }
        Ok(result)
    }

    fn include_line(
        &mut self,
        line: &Line,
        file: &Path,
        lineno: usize,
        flags: Flags,
        active: &mut bool,
        depth: usize,
    ) {
        if depth >= MAX_INCLUDE_DEPTH {
            return self.warn(
                file,
                lineno,
                "too many nested Includes; this one is ignored",
            );
        }
        for arg in &line.args {
            if arg.is_empty() {
                return self.warn(file, lineno, "keyword include has an empty argument");
            }
            if arg.starts_with('~') && !flags.user_conf {
                self.warn(file, lineno, format!("bad include path {arg}"));
                continue;
            }
            let full = if arg.starts_with('/') || arg.starts_with('~') {
                arg.clone()
            } else if flags.user_conf {
                format!("~/.ssh/{arg}")
            } else {
                format!("/etc/ssh/{arg}")
            };
            let full = super::tokens::expand_tilde(&full, &self.opts.home_dir);
            let outer = *active;
            for path in glob(&full) {
                let inner = Flags {
                    check_perm: true,
                    never_match: flags.never_match || !outer,
                    ..flags
                };
                match self.read_file(&path, inner, active, depth + 1) {
                    Err(e) if e.kind() == std::io::ErrorKind::PermissionDenied => {
                        self.warn(file, lineno, e.to_string());
                    }
                    Err(e) => {
                        self.warn(file, lineno, format!("can't read {}: {e}", path.display()))
                    }
                    Ok(_) => {}
                }
                // A Match inside the included file must not change this file's block.
                *active = outer;
            }
        }
    }
}

/// ssh refuses included files that someone else owns or that others may write.
fn permission_problem(path: &Path) -> Option<String> {
    use std::os::unix::fs::MetadataExt;
    let meta = std::fs::metadata(path).ok()?;
    // SAFETY: getuid has no preconditions and cannot fail.
    let me = unsafe { libc::getuid() };
    let bad_owner = meta.uid() != 0 && meta.uid() != me;
    let writable = meta.mode() & 0o022 != 0;
    (bad_owner || writable).then(|| {
        format!(
            "bad owner or permissions on {}; ssh refuses it too (chmod go-w it); ignored",
            path.display()
        )
    })
}

#[cfg(test)]
mod tests {
    use crate::ssh::config::{ResolveOptions, resolve};
    use proptest::prelude::*;

    const FRAGMENTS: &[&str] = &[
        "Host",
        "Match",
        "Include",
        "Hostname",
        "User",
        "Port",
        "ProxyJump",
        "IdentityFile",
        "UserKnownHostsFile",
        "ForwardAgent",
        "ConnectTimeout",
        "ServerAliveInterval",
        "all",
        "final",
        "canonical",
        "host",
        "user",
        "exec",
        "!",
        "*",
        "?",
        "=",
        "\"",
        "'",
        "%h",
        "%",
        "%%",
        "~",
        "~/",
        "#",
        ",",
        "@",
        ":",
        "[",
        "]",
        "\\",
        "none",
        "yes",
        "0",
        "65536",
        "1m",
        "${X",
        "\t",
        " ",
        "\r",
        "é",
        "conf.d/*",
    ];

    fn config_text() -> impl Strategy<Value = String> {
        let piece = prop_oneof![
            proptest::sample::select(FRAGMENTS).prop_map(str::to_string),
            // No `/`: an Include must never reach outside the temporary home.
            "[ -.0-~]{0,6}",
        ];
        let line = proptest::collection::vec(piece, 0..8).prop_map(|p| p.join(" "));
        proptest::collection::vec(line, 0..12).prop_map(|l| l.join("\n"))
    }

    proptest! {
        // A fixed seed, so CI runs the same cases every time.
        #![proptest_config(ProptestConfig {
            cases: 256,
            rng_seed: proptest::test_runner::RngSeed::Fixed(0x6c75_6d65_6e00_0007),
            ..ProptestConfig::default()
        })]
        #[test]
        fn arbitrary_configs_never_panic(text in config_text(), host in "[a-zA-Z@%.:]{0,8}") {
            let dir = tempfile::tempdir().unwrap();
            let path = dir.path().join("config");
            std::fs::write(&path, &text).unwrap();
            let opts = ResolveOptions {
                config_file: Some(path),
                home_dir: dir.path().to_path_buf(),
                local_user: "me".into(),
                ..ResolveOptions::default()
            };
            if let Ok(r) = resolve(&host, &opts) {
                let _ = r.to_ssh_g();
                let _ = r.identity_paths();
            }
        }
    }
}
