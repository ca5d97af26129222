//! The outer terminal's clipboard: OSC 52, and tmux's own buffer when the terminal is inside
//! tmux. Carried out where the terminal is: in-process, or in the client that asked.

use crate::app::ClipboardRequest;
use base64::Engine;
use secrecy::ExposeSecret;
use std::io::Write;

/// The tmux buffer a copied secret goes into, so it can be deleted again by name.
const TMUX_SECRET_BUFFER: &str = "lumen-secret";

/// Carry out one clipboard request on this process's terminal.
pub fn apply(request: ClipboardRequest) {
    match request {
        ClipboardRequest::Set(text) => osc52(text.as_bytes()),
        ClipboardRequest::SetSecret(secret) => {
            // Inside tmux the secret goes into one named buffer (and from there to the outer
            // clipboard), never into tmux's stack of automatic buffers, so it can be deleted.
            if in_tmux() {
                tmux_load_secret(secret.expose_secret().as_bytes());
            } else {
                osc52(secret.expose_secret().as_bytes());
            }
        }
        ClipboardRequest::ClearSecret => {
            // tmux ignores an empty OSC 52: overwrite the outer clipboard through the named
            // buffer, then delete it. Elsewhere a single space replaces the clipboard.
            if in_tmux() {
                tmux_load_secret(b" ");
                tmux(&["delete-buffer", "-b", TMUX_SECRET_BUFFER], None);
            } else {
                osc52(b" ");
            }
        }
    }
}

/// Set the outer terminal's clipboard. The encoded copy of a secret is wiped after writing.
fn osc52(bytes: &[u8]) {
    let b64 = zeroize::Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(bytes));
    let seq = zeroize::Zeroizing::new(format!("\x1b]52;c;{}\x07", b64.as_str()));
    let mut out = std::io::stdout();
    let _ = out.write_all(seq.as_bytes());
    let _ = out.flush();
}

fn in_tmux() -> bool {
    std::env::var_os("TMUX").is_some_and(|v| !v.is_empty())
}

/// Put a secret in a named tmux buffer through stdin (never on a command line, where `ps`
/// would show it), and on to the outer clipboard (`-w`).
fn tmux_load_secret(bytes: &[u8]) {
    tmux(
        &["load-buffer", "-w", "-b", TMUX_SECRET_BUFFER, "-"],
        Some(bytes),
    );
}

/// Run a tmux command on the server lumen runs in; failures only go to the log.
fn tmux(args: &[&str], stdin: Option<&[u8]>) {
    use std::process::{Command, Stdio};
    let child = Command::new("tmux")
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn();
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!("cannot run tmux {}: {e}", args.first().unwrap_or(&""));
            return;
        }
    };
    if let (Some(bytes), Some(mut input)) = (stdin, child.stdin.take()) {
        let _ = input.write_all(bytes);
    }
    let _ = child.wait();
}
