//! Splits one ssh_config line into a keyword and arguments, the way OpenSSH 9 does.
//!
//! The keyword ends at whitespace, a quote or one `=` (`Port=22`, `Port = 22`); the rest of the
//! line is split like `argv_split`: quotes (single or double) group words and may appear
//! mid-word, a backslash escapes a quote, a backslash or a space, and a word starting with `#`
//! ends the line.

/// One meaningful line of a config file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    /// The keyword, lowercased.
    pub keyword: String,
    /// The raw text after the keyword and its separator (used by ProxyJump / ProxyCommand).
    pub rest: String,
    /// The arguments, unquoted.
    pub args: Vec<String>,
}

/// Why a line could not be split.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LexError {
    NoArgument(String),
    InvalidQuotes,
}

const WHITESPACE: &[char] = &[' ', '\t', '\r', '\n'];

/// `Ok(None)` for blank and comment lines.
pub fn split_line(raw: &str) -> Result<Option<Line>, LexError> {
    let line = raw.trim_end_matches([' ', '\t', '\r', '\n', '\x0c']);
    let line = line.trim_start_matches(WHITESPACE);
    if line.is_empty() || line.starts_with('#') {
        return Ok(None);
    }
    let end = line
        .find(|c: char| WHITESPACE.contains(&c) || c == '"' || c == '=')
        .unwrap_or(line.len());
    let keyword = line[..end].to_ascii_lowercase();
    if keyword.is_empty() {
        // A line starting with `=` or a quote: OpenSSH reads an empty keyword and rejects it.
        return Err(LexError::NoArgument(String::new()));
    }
    let mut rest = &line[end..];
    // Skip whitespace, at most one `=`, whitespace (a leading quote belongs to the value).
    rest = rest.trim_start_matches(WHITESPACE);
    if let Some(stripped) = rest.strip_prefix('=') {
        rest = stripped.trim_start_matches(WHITESPACE);
    }
    if rest.is_empty() {
        return Err(LexError::NoArgument(keyword));
    }
    let args = split_args(rest)?;
    Ok(Some(Line {
        keyword,
        rest: rest.to_string(),
        args,
    }))
}

/// OpenSSH's `argv_split(s, .., terminate_on_comment = 1)`.
pub fn split_args(s: &str) -> Result<Vec<String>, LexError> {
    let chars: Vec<char> = s.chars().collect();
    let mut args = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i] == ' ' || chars[i] == '\t' {
            i += 1;
            continue;
        }
        if chars[i] == '#' {
            break;
        }
        let mut arg = String::new();
        let mut quote: Option<char> = None;
        while i < chars.len() {
            let c = chars[i];
            if c == '\\' {
                match chars.get(i + 1) {
                    Some(&n)
                        if n == '\'' || n == '"' || n == '\\' || (quote.is_none() && n == ' ') =>
                    {
                        arg.push(n);
                        i += 1;
                    }
                    _ => arg.push(c),
                }
            } else if quote.is_none() && (c == ' ' || c == '\t') {
                break;
            } else if quote.is_none() && (c == '"' || c == '\'') {
                quote = Some(c);
            } else if quote == Some(c) {
                quote = None;
            } else {
                arg.push(c);
            }
            i += 1;
        }
        if quote.is_some() {
            return Err(LexError::InvalidQuotes);
        }
        args.push(arg);
    }
    Ok(args)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(raw: &str) -> Vec<String> {
        split_line(raw).unwrap().unwrap().args
    }

    #[test]
    fn keyword_forms() {
        for raw in ["Port 22", "  port=22", "PORT = 22", "\tPort\t22 # c"] {
            let l = split_line(raw).unwrap().unwrap();
            assert_eq!(l.keyword, "port", "{raw}");
            assert_eq!(l.args, vec!["22"], "{raw}");
        }
    }

    #[test]
    fn quotes_and_escapes() {
        assert_eq!(args(r#"User "al ice""#), vec!["al ice"]);
        assert_eq!(args(r#"X a"b c"d 'e f'"#), vec!["ab cd", "e f"]);
        assert_eq!(args(r"X a\ b c\q"), vec!["a b", r"c\q"]);
        assert_eq!(args("User a#b #rest"), vec!["a#b"]);
        assert_eq!(split_line(r#"User "x"#), Err(LexError::InvalidQuotes));
    }

    #[test]
    fn blank_comment_and_missing() {
        assert_eq!(split_line("   ").unwrap(), None);
        assert_eq!(split_line("  # c").unwrap(), None);
        assert_eq!(split_line("Port"), Err(LexError::NoArgument("port".into())));
        assert_eq!(
            split_line("Port ="),
            Err(LexError::NoArgument("port".into()))
        );
    }
}
