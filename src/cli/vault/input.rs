//! Reading secrets: the hidden terminal prompt and files. Never argv or the environment.

use crate::vault::Kind;
use anyhow::{Context, Result, bail};
use secrecy::SecretString;
use std::io::{Read, Write};
use std::path::Path;
use zeroize::Zeroizing;

/// Keys and notes keep their text; one-line secrets lose a trailing newline.
pub(super) fn clean_secret(text: &str, kind: Option<Kind>) -> SecretString {
    match kind {
        Some(Kind::SshKey) | Some(Kind::Note) => SecretString::from(text),
        _ => SecretString::from(text.trim_end_matches(['\n', '\r'])),
    }
}

pub(crate) fn first_line_of_file(path: &Path) -> Result<SecretString> {
    let text = Zeroizing::new(
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?,
    );
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
