//! Reading secrets: the hidden terminal prompt and files. Never argv or the environment.

use crate::text::{MIB, read_capped, read_capped_from};
use crate::vault::Kind;
use anyhow::{Context, Result, bail};
use secrecy::SecretString;
use std::io::{Read, Write};
use std::path::Path;
use zeroize::Zeroizing;

/// Largest secret read from a file or stdin: far beyond any key or note, small enough that
/// `/dev/zero` or an endless pipe is refused instead of filling memory.
pub(super) const MAX_SECRET_FILE: u64 = MIB;
/// Largest passphrase file (only its first line is used).
pub(super) const MAX_PASSPHRASE_FILE: u64 = 64 * 1024;

/// A secret file's text (UTF-8), wiped on drop.
pub(super) fn read_secret_file(path: &Path) -> Result<Zeroizing<String>> {
    let bytes = Zeroizing::new(
        read_capped(path, MAX_SECRET_FILE)
            .with_context(|| format!("reading {}", path.display()))?,
    );
    utf8(bytes).with_context(|| format!("reading {} (it must be UTF-8 text)", path.display()))
}

/// All of stdin as text, up to `limit` bytes, wiped on drop.
pub(super) fn read_stdin(limit: u64) -> Result<Zeroizing<String>> {
    let bytes =
        Zeroizing::new(read_capped_from(std::io::stdin().lock(), limit).context("reading stdin")?);
    utf8(bytes).context("reading stdin (it must be UTF-8 text)")
}

/// The bytes as a string without copying them, so the only copy is the one wiped on drop.
fn utf8(mut bytes: Zeroizing<Vec<u8>>) -> Result<Zeroizing<String>> {
    use zeroize::Zeroize;
    std::str::from_utf8(&bytes)?;
    let owned = std::mem::take(&mut *bytes);
    let text = String::from_utf8(owned).map_err(|e| {
        e.into_bytes().zeroize();
        anyhow::anyhow!("not UTF-8")
    })?;
    Ok(Zeroizing::new(text))
}

/// Keys and notes keep their text; one-line secrets lose a trailing newline.
pub(super) fn clean_secret(text: &str, kind: Option<Kind>) -> SecretString {
    match kind {
        Some(Kind::SshKey) | Some(Kind::Note) => SecretString::from(text),
        _ => SecretString::from(text.trim_end_matches(['\n', '\r'])),
    }
}

pub(crate) fn first_line_of_file(path: &Path) -> Result<SecretString> {
    let bytes = Zeroizing::new(
        read_capped(path, MAX_PASSPHRASE_FILE)
            .with_context(|| format!("reading {}", path.display()))?,
    );
    let text = utf8(bytes)
        .with_context(|| format!("reading {} (it must be UTF-8 text)", path.display()))?;
    let line = text.lines().next().unwrap_or("");
    Ok(SecretString::from(line))
}

/// Prompt on the controlling terminal with echo off. Never reads argv or the environment.
pub(crate) fn prompt_hidden(prompt: &str) -> Result<SecretString> {
    use std::os::unix::io::AsRawFd;
    let mut tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .context(
            "no terminal to ask for the passphrase; use --passphrase-file F or --passphrase-stdin",
        )?;
    let fd = tty.as_raw_fd();
    // SAFETY: termios is plain data; tcgetattr fills it for our own descriptor.
    let mut term: libc::termios = unsafe { std::mem::zeroed() };
    if unsafe { libc::tcgetattr(fd, &mut term) } != 0 {
        bail!("cannot read the terminal settings; use --passphrase-file F");
    }
    let saved = term;
    term.c_lflag &= !libc::ECHO;
    term.c_lflag |= libc::ECHONL;
    // SAFETY: as above; restored below on every path.
    unsafe { libc::tcsetattr(fd, libc::TCSANOW, &term) };
    let result = (|| -> Result<SecretString> {
        tty.write_all(prompt.as_bytes())?;
        tty.flush()?;
        let mut line = Zeroizing::new(Vec::new());
        let mut byte = [0u8; 1];
        while tty.read(&mut byte)? == 1 && byte[0] != b'\n' {
            line.push(byte[0]);
        }
        let text = std::str::from_utf8(&line).context("the passphrase is not UTF-8")?;
        Ok(SecretString::from(text.trim_end_matches('\r')))
    })();
    // SAFETY: restoring the settings saved above.
    unsafe { libc::tcsetattr(fd, libc::TCSANOW, &saved) };
    result
}
