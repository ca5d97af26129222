//! `ProxyCommand`: run the command with `sh -c` and speak SSH over its stdin/stdout. Its stderr
//! goes to the log; the child is killed when the connection that uses it is dropped.

use super::SshError;
use super::config::Resolved;
use tokio::io::{AsyncBufReadExt, BufReader, Join};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

/// The child's pipes as one duplex transport.
pub type ProxyStream = Join<ChildStdout, ChildStdin>;

/// A running ProxyCommand; killed when dropped.
pub struct ProxyChild {
    child: Child,
}

impl Drop for ProxyChild {
    fn drop(&mut self) {
        let _ = self.child.start_kill();
    }
}

/// `%h %p %r %n %u %d %%` expanded as ssh does for ProxyCommand; an unknown token is kept as
/// written (ssh would refuse the command; lumen lets the shell see it).
///
/// Safe by construction: the result goes to `sh -c`, so a token whose value the shell would
/// interpret (`$(…)`, spaces, quotes, globs) is an error, never pasted in. Host and user names
/// are checked before this too ([`super::names`]); this is the last line.
pub fn expand_tokens(command: &str, r: &Resolved) -> Result<String, SshError> {
    let t = &r.tokens;
    let value = |c: char| -> Option<String> {
        Some(match c {
            'h' => r.hostname.clone(),
            'p' => r.port.to_string(),
            'r' => r.user.clone(),
            'n' => r.host_arg.clone(),
            'u' => t.local_user.clone(),
            'd' => t.home_dir.clone(),
            _ => return None,
        })
    };
    let mut unsafe_token = None;
    let expanded = crate::ssh::config::tokens::expand_percent_lenient(command, |c| {
        let v = value(c)?;
        if !super::names::shell_safe(&v) && unsafe_token.is_none() {
            unsafe_token = Some((c, v.clone()));
        }
        Some(v)
    });
    match unsafe_token {
        None => Ok(expanded),
        Some((c, v)) => Err(SshError::ProxyCommand {
            command: command.to_string(),
            why: format!(
                "%{c} would put {} into a shell command, and it holds characters the shell \
                 would interpret; lumen refuses it",
                crate::text::quoted(&v)
            ),
        }),
    }
}

/// Start `command` with `sh -c` (as ssh does, via `exec`), its stderr logged under `name`.
pub fn spawn(command: &str, name: &str) -> Result<(ProxyStream, ProxyChild), SshError> {
    let fail = |why: String| SshError::ProxyCommand {
        command: command.to_string(),
        why,
    };
    let mut child = Command::new("/bin/sh")
        .arg("-c")
        .arg(format!("exec {command}"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| fail(e.to_string()))?;
    let (Some(stdin), Some(stdout)) = (child.stdin.take(), child.stdout.take()) else {
        return Err(fail("its pipes could not be opened".into()));
    };
    if let Some(stderr) = child.stderr.take() {
        let name = name.to_string();
        tokio::spawn(async move {
            let mut lines = BufReader::new(stderr).lines();
            while let Ok(Some(line)) = lines.next_line().await {
                tracing::info!("ProxyCommand for {name}: {line}");
            }
        });
    }
    Ok((tokio::io::join(stdout, stdin), ProxyChild { child }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn resolved(host: &str, user: &str) -> Resolved {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("config");
        std::fs::write(&file, "").unwrap();
        let opts = crate::ssh::config::ResolveOptions {
            config_file: Some(file),
            home_dir: dir.path().to_path_buf(),
            local_user: "me".into(),
            ..Default::default()
        };
        let mut r = crate::ssh::config::resolve("x", &opts).unwrap();
        r.hostname = host.into();
        r.host_arg = host.into();
        r.user = user.into();
        r
    }

    #[test]
    fn shell_syntax_in_a_token_is_refused_even_if_names_were_not_checked() {
        let ok = expand_tokens("nc %h %p # %r %n %%", &resolved("10.0.0.1", "ops")).unwrap();
        assert_eq!(ok, "nc 10.0.0.1 22 # ops 10.0.0.1 %");
        for (host, user) in [
            ("a$(id)", "ops"),
            ("db", "u`id`"),
            ("db", "a b"),
            ("a'b", "x"),
        ] {
            let e = expand_tokens("nc '%h' %p %r", &resolved(host, user)).unwrap_err();
            assert!(e.to_string().contains("lumen refuses it"), "{e}");
        }
        // A template without those tokens does not care.
        assert!(expand_tokens("nc relay 22", &resolved("a$(id)", "ops")).is_ok());
    }
}
