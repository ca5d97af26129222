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
pub(crate) const MAX_SECRET_FILE: u64 = MIB;
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
pub(crate) fn read_stdin(limit: u64) -> Result<Zeroizing<String>> {
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
pub(crate) fn clean_secret(text: &str, kind: Option<Kind>) -> SecretString {
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

/// What to say when no passphrase can be asked for.
const NO_TERMINAL: &str =
    "no terminal to ask for the passphrase: use --passphrase-file F or --passphrase-stdin";

/// A line typed at a prompt, without its line end. End of input before any Enter (a closed
/// or absent terminal, Ctrl-D) is an error saying so, rather than an empty passphrase that
/// would be reported as a wrong one.
fn read_typed_line(r: &mut impl Read) -> Result<SecretString> {
    let mut line = Zeroizing::new(Vec::new());
    let mut byte = [0u8; 1];
    loop {
        if r.read(&mut byte)? == 0 {
            if line.is_empty() {
                bail!("{NO_TERMINAL} (the terminal's input ended)");
            }
            break;
        }
        if byte[0] == b'\n' {
            break;
        }
        line.push(byte[0]);
    }
    let text = std::str::from_utf8(&line).context("the passphrase is not UTF-8")?;
    Ok(SecretString::from(text.trim_end_matches('\r')))
}

/// Prompt on the controlling terminal with echo off. Never reads argv or the environment.
pub(crate) fn prompt_hidden(prompt: &str) -> Result<SecretString> {
    use std::os::unix::io::AsRawFd;
    let mut tty = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .context(NO_TERMINAL)?;
    let fd = tty.as_raw_fd();
    // SAFETY: termios is plain data; tcgetattr fills it for our own descriptor.
    let mut term: libc::termios = unsafe { std::mem::zeroed() };
    if unsafe { libc::tcgetattr(fd, &mut term) } != 0 {
        bail!("{NO_TERMINAL} (cannot read the terminal settings)");
    }
    let saved = term;
    term.c_lflag &= !libc::ECHO;
    term.c_lflag |= libc::ECHONL;
    // SAFETY: as above; restored below on every path.
    unsafe { libc::tcsetattr(fd, libc::TCSANOW, &term) };
    let result = (|| -> Result<SecretString> {
        tty.write_all(prompt.as_bytes())?;
        tty.flush()?;
        read_typed_line(&mut tty)
    })();
    // SAFETY: restoring the settings saved above.
    unsafe { libc::tcsetattr(fd, libc::TCSANOW, &saved) };
    result
}

#[cfg(test)]
mod tests {
    use super::*;
    use secrecy::ExposeSecret;

    #[test]
    fn input_that_ends_before_enter_says_there_is_no_terminal() {
        let e = read_typed_line(&mut std::io::empty()).unwrap_err();
        assert!(e.to_string().contains("--passphrase-file"), "{e}");
        assert!(!e.to_string().contains("wrong"), "{e}");
        let typed = read_typed_line(&mut &b"s3cret\r\nnext"[..]).unwrap();
        assert_eq!(typed.expose_secret(), "s3cret");
        // An empty line typed with Enter is a real (empty) answer.
        assert_eq!(
            read_typed_line(&mut &b"\n"[..]).unwrap().expose_secret(),
            ""
        );
    }
}
