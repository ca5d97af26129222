//! Quote removal for the pieces of a shell word, and program names as a shell looks them up.

/// `/usr/bin/rm` → `rm`; `\rm` (alias bypass) → `rm`; `python3.11` stays as is.
pub fn program_name(word: &str) -> &str {
    basename(word.trim_start_matches('\\'))
}

/// The last path component (`a/b/c` → `c`, `/` → `/`).
pub fn basename(path: &str) -> &str {
    let trimmed = path.trim_end_matches('/');
    if trimmed.is_empty() {
        return path;
    }
    trimmed.rsplit('/').next().unwrap_or(trimmed)
}

/// An unquoted word: a backslash quotes the next character; backslash-newline disappears.
pub(super) fn unescape_bare(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.next() {
                Some('\n') | None => {}
                Some(n) => out.push(n),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Text inside double quotes: backslash quotes only `$`, `` ` ``, `"`, `\` and newline.
pub(super) fn unescape_double(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if c == '\\' {
            match chars.peek() {
                Some('$' | '`' | '"' | '\\') => {
                    if let Some(n) = chars.next() {
                        out.push(n);
                    }
                }
                Some('\n') => {
                    chars.next();
                }
                _ => out.push('\\'),
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// The value of `$'…'` (given with its `$'` and `'`): C escapes decoded.
pub(super) fn decode_ansi_c(quoted: &str) -> String {
    let inner = quoted
        .strip_prefix("$'")
        .and_then(|s| s.strip_suffix('\''))
        .unwrap_or(quoted);
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars().peekable();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        let Some(e) = chars.next() else { break };
        match e {
            'n' => out.push('\n'),
            't' => out.push('\t'),
            'r' => out.push('\r'),
            'a' => out.push('\x07'),
            'b' => out.push('\x08'),
            'e' | 'E' => out.push('\x1b'),
            'f' => out.push('\x0c'),
            'v' => out.push('\x0b'),
            'x' => {
                let hex = take_while_max(&mut chars, 2, |c| c.is_ascii_hexdigit());
                push_code(&mut out, u32::from_str_radix(&hex, 16).ok());
            }
            'u' | 'U' => {
                let max = if e == 'u' { 4 } else { 8 };
                let hex = take_while_max(&mut chars, max, |c| c.is_ascii_hexdigit());
                push_code(&mut out, u32::from_str_radix(&hex, 16).ok());
            }
            '0'..='7' => {
                let mut oct = e.to_string();
                oct.push_str(&take_while_max(&mut chars, 2, |c| ('0'..='7').contains(&c)));
                push_code(&mut out, u32::from_str_radix(&oct, 8).ok());
            }
            'c' => {
                if let Some(n) = chars.next() {
                    push_code(&mut out, Some(u32::from(n) & 0x1f));
                }
            }
            other => out.push(other),
        }
    }
    out
}

fn take_while_max(
    chars: &mut std::iter::Peekable<std::str::Chars<'_>>,
    max: usize,
    ok: impl Fn(char) -> bool,
) -> String {
    let mut s = String::new();
    while s.len() < max {
        match chars.peek() {
            Some(&c) if ok(c) => {
                s.push(c);
                chars.next();
            }
            _ => break,
        }
    }
    s
}

fn push_code(out: &mut String, code: Option<u32>) {
    if let Some(c) = code.and_then(char::from_u32) {
        out.push(c);
    }
}

/// Unquoted glob characters make a word match many files.
pub(super) fn has_glob(bare: &str) -> bool {
    let mut escaped = false;
    for c in bare.chars() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if matches!(c, '*' | '?' | '[') {
            return true;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_quotes() {
        assert_eq!(program_name("/usr/bin/rm"), "rm");
        assert_eq!(program_name("\\rm"), "rm");
        assert_eq!(basename("/"), "/");
        assert_eq!(basename("a/b/"), "b");
        assert_eq!(unescape_bare(r"r\m\ x"), "rm x");
        assert_eq!(unescape_double(r#"a\"b\$c\d"#), r#"a"b$c\d"#);
        assert_eq!(decode_ansi_c(r"$'a\nb\x41\101\u00e9'"), "a\nbAAé");
        assert!(has_glob("*.log") && !has_glob(r"\*.log"));
    }
}
