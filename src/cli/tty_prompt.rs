//! SSH questions asked on the controlling terminal for batch commands (`lumen scan`), as `ssh`
//! asks them: an unknown host key needs "yes" (or its fingerprint); passwords and passphrases
//! are read with echo off. Without a terminal every question is refused, so unknown hosts fail.
//! A keyboard-interactive round's name, instruction and prompts are the server's text: like
//! everything written here they go through [`escape_lines`], so a hostile host cannot send
//! escape sequences to the operator's terminal.

use crate::ssh::{HostKeyDecision, PromptAnswer, PromptKind, PromptRequest, Prompter};
use crate::text::escape_lines;
use secrecy::SecretString;
use std::io::{BufRead, BufReader, Read, Write};
use zeroize::Zeroizing;

/// A prompter answered on /dev/tty by a thread of its own; `pause` wraps each question (to
/// hide a progress bar meanwhile). Without a terminal, [`Prompter::none`].
pub fn terminal_prompter(pause: impl Fn(&mut dyn FnMut()) + Send + 'static) -> Prompter {
    if std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .is_err()
    {
        return Prompter::none();
    }
    let (prompter, mut rx) = Prompter::channel();
    std::thread::spawn(move || {
        while let Some(req) = rx.blocking_recv() {
            let PromptRequest { kind, reply } = req;
            let mut answer = None;
            pause(&mut || answer = ask(&kind));
            let _ = reply.send(answer);
        }
    });
    prompter
}

fn tty() -> Option<std::fs::File> {
    std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/tty")
        .ok()
}

fn ask(kind: &PromptKind) -> Option<PromptAnswer> {
    match kind {
        PromptKind::UnknownHostKey {
            host,
            port,
            key_type,
            fingerprint,
        } => {
            let name = if *port == 22 {
                host.clone()
            } else {
                format!("[{host}]:{port}")
            };
            let line = read_line(&format!(
                "The authenticity of host '{name}' can't be established.\n{key_type} key fingerprint is {fingerprint}.\n\
                 Are you sure you want to continue connecting (yes/no/[fingerprint])? "
            ))?;
            let line = line.trim();
            let yes = line.eq_ignore_ascii_case("yes") || line == fingerprint;
            Some(PromptAnswer::HostKey(if yes {
                HostKeyDecision::AcceptAndSave
            } else {
                HostKeyDecision::Reject
            }))
        }
        PromptKind::Password { user, host } => {
            read_hidden(&format!("{user}@{host}'s password: ")).map(PromptAnswer::Secret)
        }
        PromptKind::Passphrase { key_path, .. } => {
            read_hidden(&format!("Enter passphrase for key '{key_path}': "))
                .map(PromptAnswer::Secret)
        }
        PromptKind::KeyboardInteractive {
            name,
            instruction,
            prompts,
        } => {
            let mut t = tty()?;
            for text in [name, instruction].into_iter().filter(|s| !s.is_empty()) {
                let _ = writeln!(t, "{}", escape_lines(text));
            }
            let mut answers = Vec::new();
            for (prompt, echo) in prompts {
                let a = if *echo {
                    read_line(prompt).map(SecretString::from)?
                } else {
                    read_hidden(prompt)?
                };
                answers.push(a);
            }
            Some(PromptAnswer::Responses(answers))
        }
    }
}

pub(crate) fn read_line(prompt: &str) -> Option<String> {
    let mut t = tty()?;
    t.write_all(escape_lines(prompt).as_bytes()).ok()?;
    t.flush().ok()?;
    let mut line = String::new();
    BufReader::new(t).read_line(&mut line).ok()?;
    Some(line.trim_end_matches(['\n', '\r']).to_string())
}

/// Read a line with echo off, restoring the terminal afterwards.
fn read_hidden(prompt: &str) -> Option<SecretString> {
    use std::os::unix::io::AsRawFd;
    let mut t = tty()?;
    let fd = t.as_raw_fd();
    // SAFETY: termios is plain data; tcgetattr fills it for our own descriptor.
    let mut term: libc::termios = unsafe { std::mem::zeroed() };
    if unsafe { libc::tcgetattr(fd, &mut term) } != 0 {
        return None;
    }
    let saved = term;
    term.c_lflag &= !libc::ECHO;
    term.c_lflag |= libc::ECHONL;
    // SAFETY: as above; restored below on every path.
    unsafe { libc::tcsetattr(fd, libc::TCSANOW, &term) };
    let result = (|| {
        t.write_all(escape_lines(prompt).as_bytes()).ok()?;
        t.flush().ok()?;
        let mut line = Zeroizing::new(Vec::new());
        let mut byte = [0u8; 1];
        while t.read(&mut byte).ok()? == 1 && byte[0] != b'\n' {
            line.push(byte[0]);
        }
        let text = std::str::from_utf8(&line).ok()?;
        Some(SecretString::from(text.trim_end_matches('\r')))
    })();
    // SAFETY: restoring the settings saved above.
    unsafe { libc::tcsetattr(fd, libc::TCSANOW, &saved) };
    result
}
