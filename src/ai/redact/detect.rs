//! Secrets lumen does not hold, recognised by their documented formats: private-key blocks
//! (with their header, or a run of key-width base64 lines without it), cloud and SaaS tokens (AWS, GitHub, GitLab, Slack, OpenAI, Anthropic, Google, …), JWTs,
//! passwords in URLs, `NAME=value` settings whose name says secret, password arguments of
//! `mysql`, `sshpass` and the like, and base64 text that decodes to any of these.

use super::{SecretKind, Secrets};
use regex::Regex;
use std::sync::LazyLock;

/// A span of the text to mask.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Hit {
    pub start: usize,
    pub end: usize,
    pub kind: SecretKind,
    /// For vault values: the entry name.
    pub vault: Option<String>,
}

impl Hit {
    pub fn new(start: usize, end: usize, kind: SecretKind) -> Hit {
        Hit {
            start,
            end,
            kind,
            vault: None,
        }
    }
}

pub(crate) fn re(pattern: &str) -> Regex {
    // The patterns are constants checked by the tests below; an invalid one is a bug.
    #[allow(clippy::expect_used)]
    Regex::new(pattern).expect("valid detector pattern")
}

/// Tokens with a fixed, documented prefix. The whole match is the secret. The patterns do
/// not start at a word boundary: a token glued to a word (`xsk_live_…`) is still a token, when
/// it looks random (see [`tokens`]).
static TOKENS: LazyLock<Vec<(SecretKind, Regex)>> = LazyLock::new(|| {
    vec![
        (
            SecretKind::AwsAccessKey,
            re(r"(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA|ASCA)[A-Z0-9]{16}"),
        ),
        (
            SecretKind::GithubToken,
            re(r"(?:gh[pousr]_[A-Za-z0-9]{36,255}|github_pat_[A-Za-z0-9_]{22,255})(?-u:\b)"),
        ),
        (
            SecretKind::GitlabToken,
            re(
                r"(?:(?:glpat|glptt|gldt|glrt|glcbt|glsoat|glffct|glimt|glagent|gloas|glft|glsa)-[A-Za-z0-9_\-]{20,}|GR1348941[A-Za-z0-9_\-]{20,})",
            ),
        ),
        (
            SecretKind::SlackToken,
            re(
                r"(?:xox[abposre]-[A-Za-z0-9\-]{10,}|xapp-[0-9]-[A-Za-z0-9\-]{10,})|https://hooks\.slack\.com/(?:services|workflows)/[A-Za-z0-9/_\-]+",
            ),
        ),
        (SecretKind::OpenaiKey, re(r"sk-[A-Za-z0-9_\-]{20,}")),
        (
            SecretKind::GoogleKey,
            re(
                r"(?:AIza[0-9A-Za-z_\-]{35}|ya29\.[0-9A-Za-z_\-]{20,}|GOCSPX-[0-9A-Za-z_\-]{20,}|1//0[0-9A-Za-z_\-]{30,})",
            ),
        ),
        (
            SecretKind::Jwt,
            re(r"eyJ[A-Za-z0-9_\-]{5,}\.eyJ[A-Za-z0-9_\-]{5,}\.[A-Za-z0-9_\-]*"),
        ),
        (
            SecretKind::Token,
            re(
                r"(?:[rsp]k_(?:live|test)_[0-9A-Za-z]{20,}|npm_[A-Za-z0-9]{36}|pypi-AgEIcHlwaS5vcmc[A-Za-z0-9_\-]{40,}|hf_[A-Za-z]{30,}|SG\.[A-Za-z0-9_\-]{20,}\.[A-Za-z0-9_\-]{20,}|dop_v1_[a-f0-9]{64}|hv[sb]\.[A-Za-z0-9_\-]{24,}|shp(?:at|ss|ca|pa)_[a-fA-F0-9]{32})",
            ),
        ),
    ]
});

/// `.netrc`: `machine HOST login USER password SECRET`, or `password SECRET` on its own line.
static NETRC: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?m)^[ \t]*(?:(?:machine|default)[ \t]+(?:\S+[ \t]+)?(?:login[ \t]+\S+[ \t]+)?password[ \t]+(\S+)|password[ \t]+(\S+)[ \t]*$)",
    )
});
static URL_PASSWORD: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?-u:\b)[A-Za-z][A-Za-z0-9+.\-]{1,20}://[^\s/:@'\x22]*:([^\s/@'\x22]+)@")
});
static AUTH_HEADER: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?i)(?-u:\b)(?:proxy-)?authorization\s*[:=]\s*[\x22']?(?:bearer|basic|token|digest|negotiate|apikey|sso-key)\s+([A-Za-z0-9._~+/=:\-]{6,})",
    )
});
/// A setting whose name says it is secret, up to its separator; the value is parsed in code.
static KEY_VALUE: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r#"(?i)([A-Za-z0-9_.\-]*(?:password|passwd|passphrase|secret|token|api[_\-]?key|private[_\-]?key|credential|access[_\-]?key|auth[_\-]?key|(?-u:\b)_?auth(?-u:\b))[A-Za-z0-9_.\-]*)(["']?)[ \t]*(:=|=>|=|:)[ \t]*"#,
    )
});
/// Runs of base64 characters at least this long are checked (AWS secret keys are 40).
const MIN_TOKEN_LEN: usize = 20;
/// Any program: `--password VALUE`, `--token VALUE`, `--client-secret 'VALUE'`.
static OPTION_SECRET: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r#"(?i)(?:^|\s)--([a-z0-9\-]*(?:password|passwd|token|secret|api-?key|private-?key)[a-z0-9\-]*)[ \t]+('[^'\n]*'|"[^"\n]*"|[^\s\-]\S*)"#,
    )
});
/// Programs whose command line carries a password; see [`cli_passwords`].
static PASSWORD_TOOLS: LazyLock<Regex> = LazyLock::new(|| {
    re(
        r"(?-u:\b)(?:mysql|mysqldump|mysqladmin|mariadb|mariadb-dump|mysqlimport|mysqlshow|mysqlcheck|mysqlpump|sshpass|redis-cli|valkey-cli|smbclient|curl|wget|htpasswd|ldapsearch|ldapadd|ldapmodify|ldapdelete|ldappasswd|ldapwhoami|openssl|zip|unzip|7z|7za|sqlcmd|mongo|mongosh|mongodump|mongorestore|rabbitmqctl|xfreerdp|psql)(?-u:\b)",
    )
});

/// Every secret the detectors find in `text`; with `secrets`, also base64 tokens that decode
/// to text containing a vault value.
pub(crate) fn detect(text: &str, secrets: Option<&Secrets>, hits: &mut Vec<Hit>) {
    detect_with(text, secrets, hits, PREFILTER.as_ref());
}

/// [`detect`], the line-local patterns run on every line (`prefilter` None) or only on the
/// lines the prefilter selects: the same hits, in the same order.
pub(crate) fn detect_with(
    text: &str,
    secrets: Option<&Secrets>,
    hits: &mut Vec<Hit>,
    prefilter: Option<&Prefilter>,
) {
    super::keys::pem_blocks(text, hits);
    super::keys::key_runs(text, hits);
    match prefilter {
        Some(p) => {
            for (ls, le) in p.lines(text) {
                line_secrets(text, ls, le, hits);
            }
        }
        None => {
            tokens(text, hits);
            url_passwords(text, 0, hits);
            // The case-insensitive patterns are slow over megabytes: run them only on the
            // lines that contain one of their keywords.
            for (ls, le) in keyword_lines(text) {
                keyword_line(text, ls, le, hits);
            }
            cli_passwords(text, hits);
        }
    }
    long_tokens(text, secrets, hits);
}

/// The line-local patterns on the line `text[ls..le]`, in the order [`detect_with`] runs
/// them over the whole text (so hits of equal extent keep their order).
fn line_secrets(text: &str, ls: usize, le: usize, hits: &mut Vec<Hit>) {
    let line = &text[ls..le];
    let from = hits.len();
    tokens(line, hits);
    for h in &mut hits[from..] {
        h.start += ls;
        h.end += ls;
    }
    url_passwords(line, ls, hits);
    if KEYWORDS.is_match(line) {
        keyword_line(text, ls, le, hits);
    }
    if let Some(m) = PASSWORD_TOOLS.find(line) {
        cli_password_line(text, ls + m.start(), m.as_str(), le, hits);
    }
}

/// Passwords in URLs in `hay`, which starts at `base` in the text.
fn url_passwords(hay: &str, base: usize, hits: &mut Vec<Hit>) {
    for c in URL_PASSWORD.captures_iter(hay) {
        if let Some(p) = c.get(1).filter(|p| !is_placeholder(p.as_str())) {
            hits.push(Hit::new(
                base + p.start(),
                base + p.end(),
                SecretKind::UrlPassword,
            ));
        }
    }
}

/// The slower patterns on a line that holds a keyword.
fn keyword_line(text: &str, ls: usize, le: usize, hits: &mut Vec<Hit>) {
    let line = &text[ls..le];
    for c in AUTH_HEADER.captures_iter(line) {
        if let Some(p) = c.get(1) {
            hits.push(Hit::new(
                ls + p.start(),
                ls + p.end(),
                SecretKind::Authorization,
            ));
        }
    }
    for c in NETRC.captures_iter(line) {
        if let Some(p) = c
            .get(1)
            .or_else(|| c.get(2))
            .filter(|p| !is_placeholder(p.as_str()))
        {
            hits.push(Hit::new(ls + p.start(), ls + p.end(), SecretKind::Password));
        }
    }
    key_values(text, ls, le, hits);
    option_secrets(text, ls, le, hits);
}

/// Which lines the line-local patterns ([`TOKENS`], [`URL_PASSWORD`], [`KEYWORDS`],
/// [`PASSWORD_TOOLS`]) need to see, derived from the patterns themselves: every match of
/// each starts (or ends) with one of a finite set of literals, read from the pattern's
/// syntax, so a line holding none of them (in any case) cannot hold a match and is
/// skipped. None of these patterns matches a line end. Also the shortest token any of
/// [`TOKENS`] matches, for the tokens broken across lines.
pub(crate) struct Prefilter {
    literals: aho_corasick::AhoCorasick,
    pub(crate) min_token: usize,
}

/// None (every line is read) if any pattern's literals cannot be derived.
pub(crate) static PREFILTER: LazyLock<Option<Prefilter>> = LazyLock::new(Prefilter::derive);

impl Prefilter {
    fn derive() -> Option<Prefilter> {
        let mut literals: Vec<Vec<u8>> = Vec::new();
        let mut min_token = usize::MAX;
        for (_, r) in TOKENS.iter() {
            literals.extend(required_literals(r.as_str())?);
            min_token = min_token.min(shortest_match(r.as_str())?);
        }
        for r in [&*URL_PASSWORD, &*KEYWORDS, &*PASSWORD_TOOLS] {
            literals.extend(required_literals(r.as_str())?);
        }
        // A DFA: the literals include single bytes (`@`), so no prefilter would help the
        // search, and a DFA takes each byte in one step.
        let literals = aho_corasick::AhoCorasick::builder()
            .kind(Some(aho_corasick::AhoCorasickKind::DFA))
            .ascii_case_insensitive(true)
            .build(&literals)
            .ok()?;
        Some(Prefilter {
            literals,
            min_token,
        })
    }

    /// (start, end) of each line of `text` holding one of the literals, in order.
    fn lines(&self, text: &str) -> Vec<(usize, usize)> {
        let mut out = Vec::new();
        let mut pos = 0;
        while pos < text.len() {
            let input = aho_corasick::Input::new(text).range(pos..);
            let Some(m) = self.literals.find(input) else {
                break;
            };
            let ls = text[..m.start()].rfind('\n').map_or(0, |i| i + 1);
            let le = text[m.start()..]
                .find('\n')
                .map_or(text.len(), |i| m.start() + i);
            out.push((ls, le));
            pos = le + 1;
        }
        out
    }

    /// Whether a token of [`TOKENS`] may stand in `word` (no whitespace in it).
    pub(crate) fn may_hold_token(&self, word: &str) -> bool {
        word.len() >= self.min_token && self.literals.is_match(word)
    }
}

/// Literals one of which every match of `pattern` starts with, or else ends with; None when
/// neither set is finite (or one holds the empty string: anything may match).
fn required_literals(pattern: &str) -> Option<Vec<Vec<u8>>> {
    use regex_syntax::hir::literal::{ExtractKind, Extractor};
    let hir = regex_syntax::parse(pattern).ok()?;
    [ExtractKind::Prefix, ExtractKind::Suffix]
        .into_iter()
        .find_map(|kind| {
            let seq = Extractor::new().kind(kind).extract(&hir);
            let lits = seq.literals()?;
            let all: Vec<Vec<u8>> = lits.iter().map(|l| l.as_bytes().to_vec()).collect();
            (!all.is_empty() && all.iter().all(|l| !l.is_empty())).then_some(all)
        })
}

/// The length of the shortest text `pattern` matches.
fn shortest_match(pattern: &str) -> Option<usize> {
    regex_syntax::parse(pattern)
        .ok()?
        .properties()
        .minimum_len()
}

/// Tokens in a documented format ([`TOKENS`]). One glued to a word (`xsk_live_…`, `idghp_…`)
/// counts only when it looks random (upper case and digits), so `disk-usage-report-2024`
/// is not an OpenAI key.
pub(crate) fn tokens(text: &str, hits: &mut Vec<Hit>) {
    let b = text.as_bytes();
    for (kind, re) in TOKENS.iter() {
        for m in re.find_iter(text) {
            let kind = match kind {
                SecretKind::OpenaiKey if m.as_str().starts_with("sk-ant-") => {
                    SecretKind::AnthropicKey
                }
                SecretKind::OpenaiKey if !mixed(&m.as_str()[3..]) => continue,
                k => *k,
            };
            let glued = m.start() > 0 && b[m.start() - 1].is_ascii_alphanumeric();
            let t = m.as_str().as_bytes();
            if glued && !(t.iter().any(u8::is_ascii_uppercase) && t.iter().any(u8::is_ascii_digit))
            {
                continue;
            }
            hits.push(Hit::new(m.start(), m.end(), kind));
        }
    }
}

/// Words whose presence (any case) makes a line worth the slower patterns.
static KEYWORDS: LazyLock<Regex> = LazyLock::new(|| {
    re(r"(?i)pass|secret|token|api.?key|private.?key|credential|access.?key|auth")
});

/// (start, end) of each line holding a keyword, once per line.
fn keyword_lines(text: &str) -> Vec<(usize, usize)> {
    let mut out: Vec<(usize, usize)> = Vec::new();
    for m in KEYWORDS.find_iter(text) {
        if out.last().is_some_and(|&(_, e)| m.start() < e) {
            continue;
        }
        let ls = text[..m.start()].rfind('\n').map_or(0, |i| i + 1);
        let le = text[m.start()..]
            .find('\n')
            .map_or(text.len(), |i| m.start() + i);
        out.push((ls, le));
    }
    out
}

/// Letters and digits both: random tokens have them, words like `sk-learn-tutorial` do not.
fn mixed(s: &str) -> bool {
    s.bytes().any(|b| b.is_ascii_digit()) && s.bytes().any(|b| b.is_ascii_alphabetic())
}

/// Values that are not secrets themselves: references, masks, booleans.
pub(crate) fn is_placeholder(v: &str) -> bool {
    let t = v.trim_matches(|c| c == '"' || c == '\'');
    let lower = t.to_ascii_lowercase();
    t.is_empty()
        || t.starts_with('$')
        || t.starts_with("{{")
        || t.starts_with("[redacted")
        || t.starts_with("%(")
        || t.starts_with("<") && t.ends_with('>')
        || t.chars()
            .all(|c| c == '*' || c == 'x' || c == 'X' || c == '•' || c == '.')
        || matches!(
            lower.as_str(),
            "null"
                | "none"
                | "nil"
                | "true"
                | "false"
                | "yes"
                | "no"
                | "on"
                | "off"
                | "undefined"
                | "required"
                | "optional"
                | "redacted"
                | "hidden"
                | "{}"
                | "[]"
                | "-"
                | "|"
                | ">"
                | "''"
                | "\"\""
        )
}

/// Name suffixes that describe a secret rather than hold it (`PASSWORD_FILE=/run/secrets/db`).
const META_SUFFIXES: &[&str] = &[
    "file",
    "path",
    "dir",
    "length",
    "len",
    "ttl",
    "expiry",
    "expires",
    "expiration",
    "age",
    "timeout",
    "type",
    "mode",
    "format",
    "policy",
    "prompt",
    "header",
    "name",
    "min",
    "max",
    "count",
    "enabled",
    "required",
    "rotation",
    "url",
    "endpoint",
    "uri",
    "lifetime",
    "size",
    "algorithm",
    "version",
    "ref",
    "id_file",
    "command",
    "cmd",
    "env",
    "method",
    "methods",
    "plugin",
    "backend",
    "provider",
    "scheme",
    "strategy",
    "store",
    "helper",
];

fn key_values(text: &str, ls: usize, le: usize, hits: &mut Vec<Hit>) {
    for c in KEY_VALUE.captures_iter(&text[ls..le]) {
        let (Some(all), Some(name)) = (c.get(0), c.get(1)) else {
            continue;
        };
        let n = name.as_str().to_ascii_lowercase();
        let tail = n.rsplit(['_', '-', '.']).next().unwrap_or("");
        if META_SUFFIXES.contains(&tail) || n.starts_with("no-") || n.starts_with("--no") {
            continue;
        }
        let name_start = ls + name.start();
        // `"PASSWORD=x"` inside a JSON string ends at the quote.
        let before = text[..name_start].chars().next_back();
        let outer_quote = before.filter(|c| *c == '"' || *c == '\'');
        let start = ls + all.end();
        let line_end = text[start..].find('\n').map_or(text.len(), |i| start + i);
        let rest = &text[start..line_end];
        let Some(first) = rest.chars().next() else {
            continue;
        };
        let (vs, ve) = if first == '"' || first == '\'' {
            let inner = &rest[1..];
            let close = inner.find(first).unwrap_or(inner.len());
            (start + 1, start + 1 + close)
        } else {
            let stop = rest
                .find(|ch: char| ch.is_whitespace() || Some(ch) == outer_quote)
                .unwrap_or(rest.len());
            let mut v = &rest[..stop];
            if c.get(2).is_some_and(|q| !q.as_str().is_empty()) {
                v = v.trim_end_matches(',');
            }
            (start, start + v.len())
        };
        let value = &text[vs..ve];
        if matches!(value.trim(), "|" | ">" | "|-" | ">-" | "|+" | ">+") {
            block_scalar(text, name_start, line_end, hits);
            continue;
        }
        if is_placeholder(value) || looks_like_code(value) {
            continue;
        }
        hits.push(Hit::new(vs, ve, SecretKind::Password));
    }
}

/// `os.getenv("X")`, `config.secret`, `get_secret()`: a program reading a secret, not a secret.
fn looks_like_code(v: &str) -> bool {
    let ident = v
        .bytes()
        .take_while(|b| b.is_ascii_alphanumeric() || *b == b'_' || *b == b'.')
        .count();
    ident > 0 && v[ident..].starts_with('(')
}

/// YAML `key: |` followed by more-indented lines: mask those lines.
fn block_scalar(text: &str, key_start: usize, line_end: usize, hits: &mut Vec<Hit>) {
    let line_start = text[..key_start].rfind('\n').map_or(0, |i| i + 1);
    let indent = key_start - line_start;
    let mut end = line_end;
    for line in text[line_end..]
        .split_inclusive('\n')
        .skip(usize::from(text[line_end..].starts_with('\n')))
    {
        let lead = line.len() - line.trim_start().len();
        if line.trim().is_empty() || lead <= indent {
            break;
        }
        end += line.len();
    }
    let start = (line_end + 1).min(end);
    if end > start {
        hits.push(Hit::new(start, end, SecretKind::Password));
    }
}

/// Whitespace-separated words of `line` with quotes kept together: (start, end) in `line`.
fn shell_words(line: &str) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut start = None;
    let mut quote = None;
    for (i, c) in line.char_indices() {
        match (quote, c) {
            (Some(q), _) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => {
                quote = Some(c);
                start.get_or_insert(i);
            }
            (None, c) if c.is_whitespace() => {
                if let Some(s) = start.take() {
                    out.push((s, i));
                }
            }
            (None, _) => {
                start.get_or_insert(i);
            }
        }
    }
    if let Some(s) = start {
        out.push((s, line.len()));
    }
    out
}

/// A word's value span without surrounding quotes.
fn unquote(line: &str, (s, e): (usize, usize)) -> (usize, usize) {
    let w = &line[s..e];
    if w.len() >= 2
        && (w.starts_with('"') && w.ends_with('"') || w.starts_with('\'') && w.ends_with('\''))
    {
        (s + 1, e - 1)
    } else {
        (s, e)
    }
}

/// `mysql -pSECRET`, `sshpass -p SECRET`, `curl -u user:SECRET`, `--password VALUE`, ….
fn cli_passwords(text: &str, hits: &mut Vec<Hit>) {
    let mut last_line = usize::MAX;
    for m in PASSWORD_TOOLS.find_iter(text) {
        let line_start = text[..m.start()].rfind('\n').map_or(0, |i| i + 1);
        if line_start == last_line {
            continue;
        }
        last_line = line_start;
        let line_end = text[m.start()..]
            .find('\n')
            .map_or(text.len(), |i| m.start() + i);
        cli_password_line(text, m.start(), m.as_str(), line_end, hits);
    }
}

/// The password on the command line of `tool`, which stands at `at` in a line ending at
/// `line_end`.
fn cli_password_line(text: &str, at: usize, tool: &str, line_end: usize, hits: &mut Vec<Hit>) {
    let line = &text[at..line_end];
    let words = shell_words(line);
    let mut push = |(s, e): (usize, usize)| {
        let v = &line[s..e];
        if !v.is_empty() && !is_placeholder(v) {
            hits.push(Hit::new(at + s, at + e, SecretKind::CliPassword));
        }
    };
    for (i, &(s, e)) in words.iter().enumerate() {
        let w = &line[s..e];
        let next = words.get(i + 1).map(|&n| unquote(line, n));
        let attached = |flag: &str| {
            w.strip_prefix(flag)
                .filter(|r| !r.is_empty())
                .map(|r| (s + flag.len(), s + flag.len() + r.len()))
        };
        // A short option may come bundled with others (`curl -sSu user:PASS`, `zip -rP PASS`):
        // the value follows it in the same word, or is the next word when it ends the bundle.
        let bundled = |flag: char, stops: &str| {
            short_option(w, flag, stops).map(|found| match found {
                Some(off) => Some(unquote(line, (s + off, e))),
                None => next,
            })
        };
        match tool {
            "mysql" | "mysqldump" | "mysqladmin" | "mariadb" | "mariadb-dump" | "mysqlimport"
            | "mysqlshow" | "mysqlcheck" | "mysqlpump" => {
                // `-p` alone asks for the password: only an attached value is one.
                if let Some(Some(off)) = short_option(w, 'p', "uhPSDeOo") {
                    push(unquote(line, (s + off, e)));
                }
            }
            "sshpass" => {
                if let Some(span) = bundled('p', "fdP").flatten() {
                    push(span);
                }
            }
            "7z" | "7za" => {
                if let Some(span) = attached("-p") {
                    push(unquote(line, span));
                }
            }
            "redis-cli" | "valkey-cli" if w == "-a" || w == "--pass" => {
                next.map(&mut push);
            }
            "ldapsearch" | "ldapadd" | "ldapmodify" | "ldapdelete" | "ldappasswd"
            | "ldapwhoami" => {
                if let Some(span) = bundled('w', "DHbshpfyYUXRIQOoeEaltTzZ").flatten() {
                    push(span);
                }
            }
            "zip" | "unzip" | "sqlcmd" => {
                if let Some(span) = bundled('P', "bntxidZUSdq").flatten() {
                    push(span);
                }
            }
            "mongo" | "mongosh" | "mongodump" | "mongorestore" if w == "-p" => {
                next.map(&mut push);
            }
            "smbclient" => {
                if let Some((vs, ve)) = bundled('U', "WIOnEpRsdlmtTDcAk").flatten()
                    && let Some(p) = line[vs..ve].find('%')
                {
                    push((vs + p + 1, ve));
                }
            }
            "curl" => {
                let span = if matches!(w, "--user" | "--proxy-user") {
                    next
                } else {
                    bundled('u', CURL_ARG_LETTERS)
                        .or_else(|| bundled('U', CURL_ARG_LETTERS))
                        .flatten()
                };
                if let Some((vs, ve)) = span
                    && let Some(p) = line[vs..ve].find(':')
                {
                    push((vs + p + 1, ve));
                }
            }
            "openssl" if matches!(w, "-pass" | "-passin" | "-passout" | "-password" | "-k") => {
                if let Some((vs, ve)) = next {
                    let v = &line[vs..ve];
                    let skip = if v.starts_with("pass:") {
                        5
                    } else if w == "-k" {
                        0
                    } else {
                        continue;
                    };
                    push((vs + skip, ve));
                }
            }
            "htpasswd"
                if i == words.len() - 1
                    && words
                        .iter()
                        .any(|&(a, b)| line[a..b].starts_with('-') && line[a..b].contains('b')) =>
            {
                push(unquote(line, (s, e)));
            }
            "rabbitmqctl"
                if i == words.len() - 1
                    && words
                        .iter()
                        .any(|&(a, b)| matches!(&line[a..b], "add_user" | "change_password")) =>
            {
                push(unquote(line, (s, e)));
            }
            "xfreerdp" => {
                if let Some(span) = attached("/p:") {
                    push(unquote(line, span));
                }
            }
            _ => {}
        }
    }
}

/// curl's short options that take a value: in a bundle, whatever follows one of them is
/// its value, not more options.
const CURL_ARG_LETTERS: &str = "AbcCdDeEFHKmoPQrtTwxXyYz";

/// Where `flag` stands in the short-option word `w` (`-u`, `-sSu`, `-sSuuser:pw`), read as
/// getopt reads a bundle: `Some(Some(offset))` when its value follows in the same word (byte
/// offset in `w`), `Some(None)` when the value is the next word, `None` when `w` does not hold
/// the flag: not a short-option word, or the flag comes after a letter in `stops` (an option
/// that takes the rest of the word as its own value).
fn short_option(w: &str, flag: char, stops: &str) -> Option<Option<usize>> {
    let letters = w.strip_prefix('-').filter(|r| !r.starts_with('-'))?;
    for (i, c) in letters.char_indices() {
        if c == flag {
            let rest = 1 + i + c.len_utf8();
            return Some((rest < w.len()).then_some(rest));
        }
        if !c.is_ascii_alphanumeric() || stops.contains(c) {
            return None;
        }
    }
    None
}

fn option_secrets(text: &str, ls: usize, le: usize, hits: &mut Vec<Hit>) {
    for c in OPTION_SECRET.captures_iter(&text[ls..le]) {
        let (Some(name), Some(value)) = (c.get(1), c.get(2)) else {
            continue;
        };
        let n = name.as_str().to_ascii_lowercase();
        let tail = n.rsplit('-').next().unwrap_or("");
        if META_SUFFIXES.contains(&tail) || n.starts_with("no-") || n.starts_with("ask") {
            continue;
        }
        let (s, e) = unquote(text, (ls + value.start(), ls + value.end()));
        if !is_placeholder(&text[s..e]) {
            hits.push(Hit::new(s, e, SecretKind::CliPassword));
        }
    }
}

/// Maximal runs of base64 characters (either alphabet, `=` padding at the end) of at least
/// [`MIN_TOKEN_LEN`] bytes.
fn base64_runs(b: &[u8]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        if !is_b64(b[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < b.len() && is_b64(b[i]) {
            i += 1;
        }
        while i < b.len() && b[i] == b'=' {
            i += 1;
        }
        if i - start >= MIN_TOKEN_LEN {
            out.push((start, i));
        }
    }
    out
}

fn is_b64(c: u8) -> bool {
    B64[usize::from(c)]
}

/// Letters, digits, `+`, `/`, `_` and `-`, as a table (one look-up a byte).
static B64: [bool; 256] = {
    let mut t = [false; 256];
    let mut c = 0;
    while c < 256 {
        let b = c as u8;
        t[c] = b.is_ascii_alphanumeric() || matches!(b, b'+' | b'/' | b'_' | b'-');
        c += 1;
    }
    t
};

/// 40-character AWS secret keys, and base64 text that decodes to a secret.
fn long_tokens(text: &str, secrets: Option<&Secrets>, hits: &mut Vec<Hit>) {
    for (s, e) in base64_runs(text.as_bytes()) {
        let t = &text[s..e];
        if t.len() == 40 && is_aws_secret(t) {
            hits.push(Hit::new(s, e, SecretKind::AwsSecretKey));
            continue;
        }
        // Base64 of text has upper and lower case letters; hashes, UUIDs and paths of
        // lower-case words do not, and decoding them is most of the cost.
        let b = t.as_bytes();
        if !(b.iter().any(u8::is_ascii_uppercase) && b.iter().any(u8::is_ascii_lowercase)) {
            continue;
        }
        let Some(raw) = decode_bytes(t) else { continue };
        if let Some(name) =
            secrets.and_then(|v| v.find(&raw).next().map(|(_, _, n, _)| n.to_string()))
        {
            hits.push(Hit {
                start: s,
                end: e,
                kind: SecretKind::Vault,
                vault: Some(name),
            });
            continue;
        }
        if t.len() >= 24
            && let Some(decoded) = readable(raw)
        {
            let mut inner = Vec::new();
            detect(&decoded, None, &mut inner);
            if !inner.is_empty() {
                hits.push(Hit::new(s, e, SecretKind::Encoded));
            }
        }
    }
}

fn is_aws_secret(t: &str) -> bool {
    let b = t.as_bytes();
    !t.starts_with('/')
        && !t.contains("//")
        && !t.contains('_')
        && !t.contains('-')
        && b.iter().any(u8::is_ascii_uppercase)
        && b.iter().any(u8::is_ascii_lowercase)
        && b.iter().any(u8::is_ascii_digit)
        && b.iter().filter(|c| **c == b'/').count() <= 3
}

/// Base64 in either alphabet, padded or not.
fn decode_bytes(token: &str) -> Option<zeroize::Zeroizing<Vec<u8>>> {
    use base64::Engine;
    use base64::engine::general_purpose::{STANDARD_NO_PAD, URL_SAFE_NO_PAD};
    let t = token.trim_end_matches('=');
    let engine = if t.contains(['-', '_']) {
        URL_SAFE_NO_PAD
    } else {
        STANDARD_NO_PAD
    };
    engine.decode(t).ok().map(zeroize::Zeroizing::new)
}

/// Decoded bytes that are readable text (at least 90% printable UTF-8).
fn readable(bytes: zeroize::Zeroizing<Vec<u8>>) -> Option<zeroize::Zeroizing<String>> {
    let s = std::str::from_utf8(&bytes).ok()?;
    let total = s.chars().count();
    let printable = s
        .chars()
        .filter(|c| !c.is_control() || c.is_whitespace())
        .count();
    (printable * 10 >= total * 9).then(|| zeroize::Zeroizing::new(s.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_compile() {
        assert_eq!(TOKENS.len(), 8);
        for r in [
            &*OPTION_SECRET,
            &*NETRC,
            &*URL_PASSWORD,
            &*AUTH_HEADER,
            &*KEY_VALUE,
            &*PASSWORD_TOOLS,
        ] {
            assert!(!r.as_str().is_empty());
        }
    }

    fn cli_found(line: &str) -> Vec<&str> {
        let mut hits = Vec::new();
        cli_passwords(line, &mut hits);
        hits.iter().map(|h| &line[h.start..h.end]).collect()
    }

    #[test]
    fn bundled_short_options_give_their_value() {
        for (line, secret) in [
            ("curl -sSu bob:Hunter2x https://h/", "Hunter2x"),
            ("curl -sSubob:Hunter2x https://h/", "Hunter2x"),
            ("curl -ku 'bob:a b c' https://h/", "a b c"),
            ("curl -fsSLU proxy:Pr0xyPw https://h/", "Pr0xyPw"),
            ("curl --user bob:Hunter2x https://h/", "Hunter2x"),
            ("curl -u bob:Hunter2x https://h/", "Hunter2x"),
            ("sshpass -ep Sekr1t ssh h", "Sekr1t"),
            ("sshpass -pSekr1t ssh h", "Sekr1t"),
            ("mysql -uroot -hdb -pSekr1t", "Sekr1t"),
            ("mysql -vpSekr1t", "Sekr1t"),
            ("ldapsearch -xw Sekr1t -D cn=admin", "Sekr1t"),
            ("zip -rP Sekr1t out.zip dir", "Sekr1t"),
            ("smbclient -NU bob%Sekr1t //h/s", "Sekr1t"),
        ] {
            assert_eq!(cli_found(line), [secret], "{line}");
        }
    }

    #[test]
    fn a_letter_inside_another_options_value_is_not_a_flag() {
        for line in [
            "mysql -uprod -p",
            "curl -o upload.txt https://h/",
            "curl -Xput https://h/",
            "mysql -p",
            "zip -r out.zip dir",
        ] {
            assert!(cli_found(line).is_empty(), "{line}: {:?}", cli_found(line));
        }
    }

    #[test]
    fn shell_words_keep_quotes() {
        let l = r#"sshpass -p 'a b' ssh"#;
        let w: Vec<&str> = shell_words(l).iter().map(|&(s, e)| &l[s..e]).collect();
        assert_eq!(w, ["sshpass", "-p", "'a b'", "ssh"]);
    }
}
