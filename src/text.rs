//! Text that comes from files and servers: reading files with a size cap, and escaping text
//! for a terminal.
//!
//! Anything lumen prints that came from a file (a shared `hosts.toml`, a vault entry's notes)
//! or a server could carry escape sequences that retitle, recolour or reprogram the operator's
//! terminal; [`escape_controls`] shows them as visible escapes instead, and [`outln!`] /
//! [`errln!`] print through it. Every file the user names (config, themes, hosts.toml,
//! ssh_config, known_hosts, secret and passphrase files) is read through [`read_capped`], so
//! pointing one at `/dev/zero` or a FIFO fails clearly instead of eating memory. No
//! dependencies beyond `std`.

use std::borrow::Cow;
use std::io::Read;
use std::os::unix::fs::FileTypeExt;
use std::path::Path;

/// Whether `c` would act on a terminal rather than print: C0 controls (including tab and
/// newline, which can fake extra lines of output), DEL, C1 controls (U+0080..U+009F: in a UTF-8
/// terminal U+009B is CSI), bidi embeddings, overrides, isolates and marks (which reorder what
/// is shown: "Trojan Source"), and the Unicode line and paragraph separators.
pub fn is_control(c: char) -> bool {
    matches!(c,
        '\u{0}'..='\u{1f}'
        | '\u{7f}'..='\u{9f}'
        | '\u{61c}'
        | '\u{200e}' | '\u{200f}'
        | '\u{2028}'..='\u{202e}'
        | '\u{2066}'..='\u{2069}')
}

/// `s` with every [`is_control`] character written as an escape: `\n`, `\r`, `\t`, other C0
/// and DEL as `\x1b`, the rest as `\u{202e}`. Borrowed when nothing needs escaping. A backslash
/// is left as it is, so ordinary paths and text print unchanged.
pub fn escape_controls(s: &str) -> Cow<'_, str> {
    if !s.chars().any(is_control) {
        return Cow::Borrowed(s);
    }
    let mut out = String::with_capacity(s.len() + 8);
    for c in s.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if is_control(c) && (c as u32) < 0x80 => {
                out.push_str(&format!("\\x{:02x}", c as u32));
            }
            c if is_control(c) => out.push_str(&format!("\\u{{{:x}}}", c as u32)),
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// Like [`escape_controls`] but keeps line breaks, for multi-line output.
pub fn escape_lines(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c != '\n' && is_control(c)) {
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

/// A TOML parse error's message in a config author's words: "expected a whole number", not
/// "expected i64".
pub fn toml_message(e: &toml::de::Error) -> String {
    // serde names Rust types ("expected i64"); a config file's author thinks in numbers.
    const WHOLE: [&str; 10] = [
        "i8", "i16", "i32", "i64", "u8", "u16", "u32", "u64", "usize", "isize",
    ];
    let mut msg = e.message().trim().to_string();
    for t in WHOLE {
        msg = msg.replace(&format!("expected {t}"), "expected a whole number");
    }
    msg.replace("expected f64", "expected a number")
        .replace("expected f32", "expected a number")
}

/// `text` as one word for a POSIX shell: `'…'`, each `'` written as `'\''`.
pub fn sh_quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', "'\\''"))
}

/// `text` in double quotes with unsafe characters escaped, for messages.
pub fn quoted(text: &str) -> String {
    format!("\"{}\"", escape_controls(text))
}

/// Serialized JSON with the [`is_control`] characters a JSON encoder leaves raw (DEL, C1,
/// bidi, separators) written as `\uXXXX` escapes. Those characters can only occur inside JSON
/// strings, where `\uXXXX` denotes the same character, so the data parses back unchanged.
/// C0 controls are left alone: an encoder escapes them inside strings already, and outside
/// strings they are the newlines and indentation of pretty output.
pub fn escape_json_controls(json: &str) -> Cow<'_, str> {
    let raw = |c: char| is_control(c) && c >= '\u{7f}';
    if !json.chars().any(raw) {
        return Cow::Borrowed(json);
    }
    let mut out = String::with_capacity(json.len() + 8);
    for c in json.chars() {
        if raw(c) {
            out.push_str(&format!("\\u{:04x}", c as u32));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// One mebibyte, for limits.
pub const MIB: u64 = 1024 * 1024;

/// The largest settings file lumen reads (config.toml, themes, hosts.toml, ssh_config and its
/// Includes, known_hosts).
pub const SETTINGS_FILE_LIMIT: u64 = 16 * MIB;

/// The whole content of `path`, refusing anything larger than `limit` bytes with an
/// [`std::io::ErrorKind::FileTooLarge`] error saying "file is larger than N MiB". Works the
/// same for regular files, FIFOs, pipes (`<(…)`) and devices such as `/dev/zero`: at most
/// `limit + 1` bytes are ever read. A regular file's buffer is allocated once, so callers
/// holding a secret (wrapped in `Zeroizing`) leave no copy behind in reallocated memory.
pub fn read_capped(path: &Path, limit: u64) -> std::io::Result<Vec<u8>> {
    let file = open_for_reading(path)?;
    let meta = file.metadata()?;
    if meta.is_file() && meta.len() > limit {
        return Err(too_large(limit));
    }
    let capacity = if meta.is_file() {
        meta.len().saturating_add(1)
    } else {
        limit.min(64 * 1024)
    };
    let bytes = read_capped_into(file, limit, usize::try_from(capacity).unwrap_or(0))?;
    if bytes.is_empty() && meta.file_type().is_fifo() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "it is a FIFO (named pipe) and nothing was written to it: no program is writing it",
        ));
    }
    Ok(bytes)
}

/// Open `path` for reading without ever waiting: a plain `open` of a FIFO blocks until some
/// program opens it for writing, forever if none does. The file is opened with `O_NONBLOCK`
/// (which opens a FIFO at once) and then switched back to blocking reads, so a FIFO or pipe
/// with a writer is read to its end as usual, and one with no writer reads as empty at once.
/// Every file lumen reads by name goes through here (mostly through [`read_capped`]).
pub fn open_for_reading(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::fd::AsRawFd;
    use std::os::unix::fs::OpenOptionsExt;
    let file = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)?;
    let fd = file.as_raw_fd();
    // SAFETY: fcntl on a descriptor this function owns; F_GETFL/F_SETFL touch only its flags.
    let ok = unsafe {
        let flags = libc::fcntl(fd, libc::F_GETFL);
        flags >= 0 && libc::fcntl(fd, libc::F_SETFL, flags & !libc::O_NONBLOCK) >= 0
    };
    if !ok {
        return Err(std::io::Error::last_os_error());
    }
    Ok(file)
}

/// [`open_for_reading`] for a file that must be a regular file (one lumen seeks in, or
/// where a device or pipe can only be a mistake): anything else is refused with
/// [`std::io::ErrorKind::InvalidInput`], "not a regular file (a FIFO)".
pub fn open_regular(path: &Path) -> std::io::Result<std::fs::File> {
    let file = open_for_reading(path)?;
    let kind = file.metadata()?.file_type();
    if kind.is_file() {
        return Ok(file);
    }
    Err(not_regular(kind))
}

/// "not a regular file (a FIFO)", [`std::io::ErrorKind::InvalidInput`].
pub fn not_regular(kind: std::fs::FileType) -> std::io::Error {
    let what = if kind.is_dir() {
        "a directory"
    } else if kind.is_fifo() {
        "a FIFO"
    } else if kind.is_char_device() || kind.is_block_device() {
        "a device"
    } else if kind.is_socket() {
        "a socket"
    } else {
        "not a file"
    };
    std::io::Error::new(
        std::io::ErrorKind::InvalidInput,
        format!("not a regular file ({what})"),
    )
}

/// [`read_capped`] for a stream that is not a named file (stdin).
pub fn read_capped_from(reader: impl Read, limit: u64) -> std::io::Result<Vec<u8>> {
    read_capped_into(
        reader,
        limit,
        usize::try_from(limit.min(64 * 1024)).unwrap_or(0),
    )
}

fn read_capped_into(reader: impl Read, limit: u64, capacity: usize) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::with_capacity(capacity);
    reader.take(limit.saturating_add(1)).read_to_end(&mut buf)?;
    if buf.len() as u64 > limit {
        return Err(too_large(limit));
    }
    Ok(buf)
}

fn too_large(limit: u64) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::FileTooLarge,
        format!("file is larger than {}", human_size(limit)),
    )
}

/// `1 MiB`, `64 KiB`, `100 bytes`: the largest unit that divides `bytes` exactly.
fn human_size(bytes: u64) -> String {
    if bytes >= MIB && bytes.is_multiple_of(MIB) {
        format!("{} MiB", bytes / MIB)
    } else if bytes >= 1024 && bytes.is_multiple_of(1024) {
        format!("{} KiB", bytes / 1024)
    } else {
        format!("{bytes} bytes")
    }
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
    fn escapes_every_kind_of_control() {
        assert!(matches!(
            escape_controls("db-1.example_2"),
            Cow::Borrowed(_)
        ));
        assert_eq!(escape_controls("x\x1b]0;pwn\x07"), "x\\x1b]0;pwn\\x07");
        assert_eq!(escape_controls("a\nb\tc\r"), "a\\nb\\tc\\r");
        assert_eq!(escape_controls("\x7f\u{9b}31m"), "\\x7f\\u{9b}31m");
        assert_eq!(escape_controls("abc\u{202e}fed"), "abc\\u{202e}fed");
        assert_eq!(
            escape_controls("\u{2066}\u{200f}\u{61c}"),
            "\\u{2066}\\u{200f}\\u{61c}"
        );
        assert_eq!(escape_controls("ünïcødé 🔑 пароль"), "ünïcødé 🔑 пароль");
    }

    #[test]
    fn escaped_text_has_no_control_left() {
        let all: String = (0u32..0x3000).filter_map(char::from_u32).collect();
        assert!(!escape_controls(&all).chars().any(is_control));
    }

    #[test]
    fn json_escapes_round_trip() {
        let value = serde_json::json!({ "n": "a\u{9b}b\u{202e}c\x7fd\u{2028}", "k": ["\x1b"] });
        for text in [
            serde_json::to_string(&value).unwrap_or_default(),
            serde_json::to_string_pretty(&value).unwrap_or_default(),
        ] {
            let escaped = escape_json_controls(&text);
            let raw: Vec<char> = escaped
                .chars()
                .filter(|c| is_control(*c) && !matches!(c, '\n' | ' '))
                .collect();
            assert!(raw.is_empty(), "{escaped}");
            let back: serde_json::Value = serde_json::from_str(&escaped).unwrap_or_default();
            assert_eq!(back, value);
        }
    }

    #[test]
    fn capped_reads() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        let path = dir.path().join("f");
        std::fs::write(&path, vec![b'x'; 2048]).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(read_capped(&path, 2048).map(|b| b.len()).ok(), Some(2048));
        let err = read_capped(&path, 2047)
            .err()
            .map(|e| (e.kind(), e.to_string()));
        assert_eq!(
            err,
            Some((
                std::io::ErrorKind::FileTooLarge,
                "file is larger than 2047 bytes".into()
            ))
        );
        let err = read_capped(Path::new("/dev/zero"), MIB)
            .err()
            .map(|e| e.to_string());
        assert_eq!(err.as_deref(), Some("file is larger than 1 MiB"));
        let err = read_capped_from(std::io::repeat(0), 64 * 1024)
            .err()
            .map(|e| e.to_string());
        assert_eq!(err.as_deref(), Some("file is larger than 64 KiB"));
    }

    #[test]
    fn escapes_what_a_terminal_would_obey() {
        assert!(matches!(escape_controls("db1.example"), Cow::Borrowed(_)));
        assert_eq!(escape_controls("x\x1b]0;pwn\x07"), "x\\x1b]0;pwn\\x07");
        assert_eq!(escape_controls("a\u{202e}b"), "a\\u{202e}b");
        assert_eq!(escape_controls("a\u{9b}b\x7f"), "a\\u{9b}b\\x7f");
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
    fn capped_reads_of_files_devices_and_text() {
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
