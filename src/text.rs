//! Text from files and servers made safe to show, and files read with a size limit.
//!
//! Anything lumen prints that came from a file (a shared `hosts.toml`, a vault entry's notes)
//! or a server could carry escape sequences that retitle, recolour or reprogram the operator's
//! terminal; [`escape_controls`] shows them as visible escapes instead. Files lumen reads are
//! read through [`read_capped`], so pointing a setting at `/dev/zero` or a FIFO fails clearly
//! instead of eating memory.

use std::borrow::Cow;
use std::io::Read;
use std::path::Path;

/// The largest settings file lumen reads (config.toml, themes, hosts.toml, ssh_config and its
/// Includes, known_hosts).
pub const SETTINGS_FILE_LIMIT: u64 = 16 * 1024 * 1024;

/// Whether `c` must not reach a terminal as is: C0 and C1 controls, DEL, and the bidi
/// overrides and isolates that reorder what is shown.
pub fn is_unsafe_char(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every unsafe character written as a visible escape (`\x1b`, `\u{202e}`);
/// `\n` and `\t` too, so one value stays on one line.
pub fn escape_controls(text: &str) -> Cow<'_, str> {
    if !text.chars().any(is_unsafe_char) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if is_unsafe_char(c) && (c as u32) < 0x100 => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if is_unsafe_char(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Like [`escape_controls`] but keeps line breaks, for multi-line output.
pub fn escape_lines(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c != '\n' && is_unsafe_char(c)) {
        return Cow::Borrowed(text);
    }
    let lines: Vec<Cow<'_, str>> = text.split('\n').map(escape_controls).collect();
    Cow::Owned(lines.join("\n"))
}

/// `println!` for human output that may carry file- or server-borne text: control characters
/// are shown as escapes, line breaks kept. Unlike `println!` it never panics: output to a
/// closed pipe or a vanished terminal is dropped.
#[macro_export]
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stdout().lock(),
            "{}",
            $crate::text::escape_lines(&format!($($arg)*))
        );
    }};
}

/// `eprintln!` with the same escaping as [`outln!`], and never a panic.
#[macro_export]
macro_rules! errln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(
            std::io::stderr().lock(),
            "{}",
            $crate::text::escape_lines(&format!($($arg)*))
        );
    }};
}

/// An error and its causes on one line, each cause once: messages that already quote their
/// source (`cannot read x: permission denied`) are not followed by it a second time.
pub fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut out = err.to_string();
    let mut cause = err.source();
    while let Some(c) = cause {
        let text = c.to_string();
        if !out.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        cause = c.source();
    }
    out
}

/// `text` in double quotes with unsafe characters escaped, for messages.
pub fn quoted(text: &str) -> String {
    format!("\"{}\"", escape_controls(text))
}

/// Read a whole file, refusing one larger than `limit` bytes with an error that says so.
/// Errors do not name the file: callers do, once.
/// Special files (a FIFO, `/dev/zero`) are read up to the limit and refused past it, so they
/// cannot block forever on size alone or fill memory.
pub fn read_capped(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    let file = std::fs::File::open(path)?;
    let meta = file.metadata()?;
    if meta.is_dir() {
        return Err(std::io::Error::other("it is a directory, not a file"));
    }
    let too_large = || {
        std::io::Error::other(format!(
            "the file is larger than {} MiB; lumen does not read files that large",
            limit.div_ceil(1024 * 1024)
        ))
    };
    if meta.is_file() && meta.len() > limit {
        return Err(too_large());
    }
    let mut bytes = Vec::new();
    file.take(limit + 1).read_to_end(&mut bytes)?;
    if bytes.len() as u64 > limit {
        return Err(too_large());
    }
    Ok(bytes)
}

/// [`read_capped`] for text: invalid UTF-8 is an error naming the file.
pub fn read_capped_string(path: &Path, limit: u64) -> std::io::Result<String> {
    let bytes = read_capped(path, limit)?;
    String::from_utf8(bytes).map_err(|e| {
        std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!(
                "the file is not valid UTF-8 (at byte {})",
                e.utf8_error().valid_up_to()
            ),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_what_a_terminal_would_obey() {
        assert!(matches!(escape_controls("db1.example"), Cow::Borrowed(_)));
        assert_eq!(escape_controls("x\x1b]0;pwn\x07"), "x\\x1b]0;pwn\\x07");
        assert_eq!(escape_controls("a\u{202e}b"), "a\\u{202e}b");
        assert_eq!(escape_controls("a\u{9b}b\x7f"), "a\\x9bb\\x7f");
        assert_eq!(escape_controls("l1\nl2\tx"), "l1\\nl2\\tx");
        assert_eq!(escape_controls("café ✓"), "café ✓");
    }

    #[test]
    fn each_cause_once() {
        #[derive(Debug, thiserror::Error)]
        #[error("cannot read x: {source}")]
        struct Quoting {
            source: std::io::Error,
        }
        let e = Quoting {
            source: std::io::Error::other("permission denied"),
        };
        assert_eq!(error_chain(&e), "cannot read x: permission denied");
        let wrapped = anyhow::Error::new(std::io::Error::other("disk full")).context("saving y");
        assert_eq!(error_chain(wrapped.as_ref()), "saving y: disk full");
    }

    #[test]
    fn capped_reads() {
        let dir = tempfile::tempdir().expect("tempdir");
        let small = dir.path().join("small");
        std::fs::write(&small, b"hello").expect("write");
        assert_eq!(read_capped(&small, 5).expect("read"), b"hello");
        let e = read_capped(&small, 4).expect_err("over the limit");
        assert!(e.to_string().contains("larger than"), "{e}");
        let e = read_capped(Path::new("/dev/zero"), 1024 * 1024).expect_err("endless");
        assert!(e.to_string().contains("larger than 1 MiB"), "{e}");
        assert!(read_capped(dir.path(), 10).is_err());
        std::fs::write(&small, [0xff, 0xfe]).expect("write");
        assert!(read_capped_string(&small, 10).is_err());
    }
}
