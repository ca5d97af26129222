//! What the flood benchmarks share: the two streams (seq-like and coloured `ls`) and the
//! embedded server with a plain `/bin/sh` they are `cat` on.

use lumen::pty::PtyCommand;
use lumen::ssh::{EmbeddedServer, EmbeddedServerOptions};
use std::path::Path;

type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// Write `size` bytes of seq-like text to `seq` and of coloured `ls -laR` to `color`.
pub fn make_streams(seq: &Path, color: &Path, size: usize) -> Res<()> {
    let mut text = String::with_capacity(size + 64);
    let mut i = 0u64;
    while text.len() < size {
        i += 1;
        text.push_str(&i.to_string());
        text.push('\n');
    }
    std::fs::write(seq, &text[..size])?;
    let ls = std::process::Command::new("ls")
        .args(["--color=always", "-laR", "/usr/share", "/usr/lib"])
        .output()?
        .stdout;
    let mut out = Vec::with_capacity(size + ls.len());
    while out.len() < size {
        out.extend_from_slice(&ls);
    }
    out.truncate(size);
    std::fs::write(color, out)?;
    Ok(())
}

/// The embedded server, its sessions a `/bin/sh` with the prompt `$ ` and no rc file.
pub async fn sh_server() -> Res<EmbeddedServer> {
    let mut shell = PtyCommand::new("/bin/sh");
    shell.env.push(("PS1".into(), "$ ".into()));
    shell.env.push(("ENV".into(), String::new()));
    Ok(EmbeddedServer::start(EmbeddedServerOptions {
        shell,
        ..Default::default()
    })
    .await?)
}
