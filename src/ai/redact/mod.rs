//! What the model may see: every byte of screen, scrollback, command output, host facts and
//! history passes through [`prepare`] before it can leave the process. Escape sequences and
//! hidden text go (the text is what the operator saw), vault values become `{{vault:NAME}}`
//! in any encoding (also when a line end breaks them), and secrets in known formats become
//! `[redacted:KIND]`, wherever else in the text they appear too. Text that will be cut (the
//! copilot's context) is masked whole first ([`mask_lines`]), and a value masked on screen is
//! masked in the operator's question ([`Known`], [`mask_known`]).
//!
//! ```
//! use lumen::ai::redact::{prepare, Secrets};
//! let out = prepare(b"\x1b[32mok\x1b[0m DB_PASSWORD=hunter2!\n", &Secrets::new());
//! assert_eq!(out.text, "ok DB_PASSWORD=[redacted:password]\n");
//! assert_eq!(out.redactions[0].kind.as_str(), "password");
//! ```

mod detect;
mod keys;
mod secrets;
mod terminal;

pub use secrets::{MIN_SECRET_LEN, Secrets};
pub use terminal::{is_invisible, visible_text};

use detect::Hit;
use serde::Serialize;
use zeroize::Zeroizing;

/// What was masked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SecretKind {
    /// A vault entry's value (shown as its placeholder).
    Vault,
    PrivateKey,
    AwsAccessKey,
    AwsSecretKey,
    GithubToken,
    GitlabToken,
    SlackToken,
    OpenaiKey,
    AnthropicKey,
    GoogleKey,
    Jwt,
    /// Another token in a documented format (Stripe, npm, PyPI, Hugging Face, HashiCorp Vault…).
    Token,
    /// The password of `scheme://user:password@host`.
    UrlPassword,
    /// An `Authorization:` header's credentials.
    Authorization,
    /// The value of a setting named like a secret (`DB_PASSWORD=…`, `api_key: …`).
    Password,
    /// A password on a command line (`mysql -p…`, `sshpass -p …`).
    CliPassword,
    /// Base64 text that decodes to a secret.
    Encoded,
}

impl SecretKind {
    pub fn as_str(self) -> &'static str {
        match self {
            SecretKind::Vault => "vault",
            SecretKind::PrivateKey => "private-key",
            SecretKind::AwsAccessKey => "aws-access-key",
            SecretKind::AwsSecretKey => "aws-secret-key",
            SecretKind::GithubToken => "github-token",
            SecretKind::GitlabToken => "gitlab-token",
            SecretKind::SlackToken => "slack-token",
            SecretKind::OpenaiKey => "openai-key",
            SecretKind::AnthropicKey => "anthropic-key",
            SecretKind::GoogleKey => "google-key",
            SecretKind::Jwt => "jwt",
            SecretKind::Token => "token",
            SecretKind::UrlPassword => "url-password",
            SecretKind::Authorization => "authorization",
            SecretKind::Password => "password",
            SecretKind::CliPassword => "cli-password",
            SecretKind::Encoded => "encoded-secret",
        }
    }
}

impl std::fmt::Display for SecretKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One masked span: `start..end` are byte offsets in [`Redacted::text`] of its replacement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Redaction {
    pub kind: SecretKind,
    pub start: usize,
    pub end: usize,
}

/// Text fit for the model, and what was masked in it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Redacted {
    pub text: String,
    pub redactions: Vec<Redaction>,
}

/// Terminal bytes (or plain text) → what the model may see.
pub fn prepare(input: impl AsRef<[u8]>, secrets: &Secrets) -> Redacted {
    let text = visible_text(input.as_ref());
    mask(&text, secrets)
}

/// Mask secrets in text that is already clean (no escape sequences to strip).
pub fn mask(text: &str, secrets: &Secrets) -> Redacted {
    resolve(text, hits(text, secrets))
}

/// Mask secrets in `text`, and also the values masked in some other text (`known`): the
/// operator's question that repeats, bare, a password seen on the screen.
pub fn mask_known(text: &str, secrets: &Secrets, known: &Known) -> Redacted {
    let text = visible_text(text.as_bytes());
    let mut found = hits(&text, secrets);
    let values: Vec<(SecretKind, &str)> =
        known.values.iter().map(|(k, v)| (*k, v.as_str())).collect();
    found.extend(occurrences(&text, &values));
    resolve(&text, found)
}

/// Values the detectors masked in a text (a password on a command line, a token), kept to
/// mask them wherever they appear bare. Holds the values only as long as it lives, wiped on
/// drop; `Debug` shows how many.
#[derive(Default)]
pub struct Known {
    values: Vec<(SecretKind, Zeroizing<String>)>,
}

impl std::fmt::Debug for Known {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Known({} values)", self.values.len())
    }
}

impl Known {
    /// What the detectors mask in `input` (terminal bytes or text).
    pub fn from_text(input: impl AsRef<[u8]>, secrets: &Secrets) -> Known {
        let text = visible_text(input.as_ref());
        let mut values: Vec<(SecretKind, Zeroizing<String>)> = Vec::new();
        for h in hits(&text, secrets) {
            if let Some(v) = repeatable(&text, &h)
                && !values.iter().any(|(_, x)| x.as_str() == v)
            {
                values.push((h.kind, Zeroizing::new(v.to_string())));
            }
        }
        Known { values }
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }
}

/// Values shorter than this are not looked for again elsewhere.
const MIN_REPEAT_LEN: usize = 4;

/// The text of a detector's hit, if it is worth masking where it appears again: one line,
/// not a vault value (those are found anyway), not too short.
fn repeatable<'t>(text: &'t str, h: &Hit) -> Option<&'t str> {
    let v = text.get(h.start..h.end)?;
    (h.vault.is_none()
        && v.len() >= MIN_REPEAT_LEN
        && !v.contains('\n')
        && !detect::is_placeholder(v))
    .then_some(v)
}

/// Every span to mask in `text`: vault values, the detectors' finds, those split across two
/// lines, and each value a detector found wherever else it appears in the text.
fn hits(text: &str, secrets: &Secrets) -> Vec<Hit> {
    hits_with(text, secrets, detect::PREFILTER.as_ref())
}

/// [`hits`], with the detectors' line prefilter or without it (every line read).
fn hits_with(text: &str, secrets: &Secrets, prefilter: Option<&detect::Prefilter>) -> Vec<Hit> {
    let mut hits: Vec<Hit> = Vec::new();
    for (s, e, name, form) in secrets.find(text.as_bytes()) {
        let (s, e) = match form {
            secrets::Form::Encoded => widen(text, s, e),
            secrets::Form::Plain => (s, e),
        };
        hits.push(Hit {
            start: s,
            end: e,
            kind: SecretKind::Vault,
            vault: Some(name.to_string()),
        });
    }
    detect::detect_with(text, Some(secrets), &mut hits, prefilter);
    across_lines(text, secrets, &mut hits, prefilter);
    let mut again: Vec<(SecretKind, &str)> = hits
        .iter()
        .filter_map(|h| repeatable(text, h).map(|v| (h.kind, v)))
        .collect();
    again.sort_by(|a, b| a.1.cmp(b.1));
    again.dedup_by(|a, b| a.1 == b.1);
    hits.extend(occurrences(text, &again));
    hits
}

/// Every place in `text` where one of `values` stands, in one pass however many there are.
fn occurrences(text: &str, values: &[(SecretKind, &str)]) -> Vec<Hit> {
    if values.is_empty() {
        return Vec::new();
    }
    let Ok(matcher) = aho_corasick::AhoCorasick::builder()
        .match_kind(aho_corasick::MatchKind::LeftmostLongest)
        .build(values.iter().map(|(_, v)| v))
    else {
        return Vec::new();
    };
    matcher
        .find_iter(text)
        .map(|m| Hit::new(m.start(), m.end(), values[m.pattern().as_usize()].0))
        .collect()
}

/// Vault values and tokens broken by a line end (`fold`, a hard-wrapped log line), masked on
/// each line they touch so the lines stay lines.
fn across_lines(
    text: &str,
    secrets: &Secrets,
    hits: &mut Vec<Hit>,
    prefilter: Option<&detect::Prefilter>,
) {
    if !text.contains('\n') {
        return;
    }
    // (start, end) in `text`, the hit, and how it was written.
    let mut found: Vec<(usize, usize, Hit, secrets::Form)> = Vec::new();
    if !secrets.is_empty() {
        vault_across_lines(text, secrets, &mut found);
    }
    tokens_across_lines(text, &mut found, prefilter);
    for (start, end, h, form) in found {
        if !text[start..end].contains('\n') {
            continue; // on one line: the first pass has it
        }
        // An encoded form is masked as the whole token, on the lines it touches only.
        let (start, end) = match form {
            secrets::Form::Encoded => widen(text, start, end),
            secrets::Form::Plain => (start, end),
        };
        let mut pos = start;
        for (i, piece) in text[start..end].split('\n').enumerate() {
            // A continuation line keeps its indentation.
            let indent = if i == 0 {
                0
            } else {
                piece.len() - piece.trim_start_matches([' ', '\t']).len()
            };
            let trimmed = piece[indent..].trim_end_matches('\r');
            if !trimmed.is_empty() {
                hits.push(Hit {
                    start: pos + indent,
                    end: pos + indent + trimmed.len(),
                    kind: h.kind,
                    vault: h.vault.clone(),
                });
            }
            pos += piece.len() + 1;
        }
    }
}

/// Vault values in the text with its line ends (and the indentation after them) taken out:
/// a value may hold spaces, and be broken anywhere.
fn vault_across_lines(
    text: &str,
    secrets: &Secrets,
    found: &mut Vec<(usize, usize, Hit, secrets::Form)>,
) {
    // Taking out ASCII bytes keeps the text valid UTF-8. `cuts` holds, for each byte taken
    // out, where in `joined` it was: a byte of `joined` is as many bytes further in `text`
    // as there are cuts at or before it.
    let mut joined = String::with_capacity(text.len());
    let mut cuts: Vec<usize> = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(['\n', '\r']) {
        joined.push_str(&rest[..i]);
        cuts.push(joined.len());
        let newline = rest.as_bytes()[i] == b'\n';
        rest = &rest[i + 1..];
        if newline {
            let indented = rest.trim_start_matches([' ', '\t']);
            cuts.extend(std::iter::repeat_n(
                joined.len(),
                rest.len() - indented.len(),
            ));
            rest = indented;
        }
    }
    joined.push_str(rest);
    let origin = |j: usize| j + cuts.partition_point(|&p| p <= j);
    for (s, e, name, form) in secrets.find(joined.as_bytes()) {
        if s >= e {
            continue;
        }
        let hit = Hit {
            start: s,
            end: e,
            kind: SecretKind::Vault,
            vault: Some(name.to_string()),
        };
        let (start, end) = (origin(s), ceil_boundary(text, origin(e - 1) + 1));
        found.push((start, end, hit, form));
    }
}

/// Tokens broken by a line end: the last word of each line joined to the first word of the
/// next. A token pattern would run on into any word that starts the next line
/// (`…sk-proj-…` then `ANTHROPIC_API_KEY=…`): a broken token ends where a word does.
///
/// Every joint is laid end to end in one text, one joint a line, and the token patterns run
/// once over it: none of them matches a line end (or any whitespace), so each match lies in
/// one joint and is the match a pass over that joint alone would find (a joint's first byte
/// follows a line end there, not a letter or digit: no token reads as glued to a word). With
/// the prefilter, a joint that cannot hold a token is left out.
fn tokens_across_lines(
    text: &str,
    found: &mut Vec<(usize, usize, Hit, secrets::Form)>,
    prefilter: Option<&detect::Prefilter>,
) {
    let mut joints = String::new();
    // Per joint: where it starts in `joints`, and (word start, line end, next line start)
    // in `text`.
    let mut at: Vec<(usize, usize, usize, usize)> = Vec::new();
    for (nl, _) in text.match_indices('\n') {
        let Some((ws, before, after, we)) = joint(text, nl) else {
            continue;
        };
        if prefilter.is_some_and(|p| (before - ws) + (we - after) < p.min_token) {
            continue;
        }
        let start = joints.len();
        joints.push_str(&text[ws..before]);
        joints.push_str(&text[after..we]);
        if prefilter.is_some_and(|p| !p.may_hold_token(&joints[start..])) {
            joints.truncate(start);
            continue;
        }
        at.push((start, ws, before, after));
        joints.push('\n');
    }
    if at.is_empty() {
        return;
    }
    let mut t = Vec::new();
    detect::tokens(&joints, &mut t);
    for mut h in t {
        let i = at.partition_point(|a| a.0 <= h.start).saturating_sub(1);
        let (js, ws, before, after) = at[i];
        (h.start, h.end) = (h.start - js, h.end - js);
        if let Some(span) = across_joint(text, (ws, before, after), &h) {
            found.push((span.0, span.1, h, secrets::Form::Plain));
        }
    }
}

/// The joint at the line end `nl`: the last word before it and the first word after it, as
/// (word start, line end (before any `\r`), next line start, word end); None when either
/// side has no word.
fn joint(text: &str, nl: usize) -> Option<(usize, usize, usize, usize)> {
    // ASCII whitespace is never part of a longer UTF-8 character: bytes will do.
    let b = text.as_bytes();
    let before = if text[..nl].ends_with('\r') {
        nl - 1
    } else {
        nl
    };
    let after = nl + 1;
    let ws = b[..before]
        .iter()
        .rposition(u8::is_ascii_whitespace)
        .map_or(0, |i| i + 1);
    let we = b[after..]
        .iter()
        .position(u8::is_ascii_whitespace)
        .map_or(text.len(), |i| after + i);
    (ws != before && we != after).then_some((ws, before, after, we))
}

/// Where in `text` a token found in a joint (`h`, offsets in the joint) stands, when it
/// crosses the line end and ends where a word does.
fn across_joint(
    text: &str,
    (ws, before, after): (usize, usize, usize),
    h: &Hit,
) -> Option<(usize, usize)> {
    let split = before - ws;
    if h.start >= split || h.end <= split {
        return None;
    }
    let end = after + (h.end - split);
    let ends_word = text[end..]
        .chars()
        .next()
        .is_none_or(|c| c.is_whitespace() || "\"',;)]}>".contains(c));
    ends_word.then_some((ws + h.start, end))
}

/// Encoded forms are masked as the whole token they sit in.
fn widen(text: &str, mut s: usize, mut e: usize) -> (usize, usize) {
    let b = text.as_bytes();
    let part = |c: u8| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'=' | b'_' | b'-');
    while s > 0 && part(b[s - 1]) {
        s -= 1;
    }
    while e < b.len() && part(b[e]) {
        e += 1;
    }
    (s, e)
}

/// One masked span of the text: `start..end` becomes `replacement`.
struct Span {
    start: usize,
    end: usize,
    kind: SecretKind,
    replacement: String,
}

fn resolve(text: &str, hits: Vec<Hit>) -> Redacted {
    let mut out = Redacted {
        text: String::with_capacity(text.len()),
        redactions: Vec::new(),
    };
    let mut pos = 0;
    for span in spans(text, hits) {
        out.text.push_str(&text[pos..span.start]);
        out.redactions.push(Redaction {
            kind: span.kind,
            start: out.text.len(),
            end: out.text.len() + span.replacement.len(),
        });
        out.text.push_str(&span.replacement);
        pos = span.end;
    }
    out.text.push_str(&text[pos..]);
    out
}

/// Overlapping hits merge into one span; a vault hit names it when there is one, else the
/// longest hit does.
fn spans(text: &str, mut hits: Vec<Hit>) -> Vec<Span> {
    hits.retain(|h| h.start < h.end && h.end <= text.len());
    hits.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
    let mut out = Vec::new();
    let mut pos = 0;
    let mut i = 0;
    while i < hits.len() {
        let mut end = hits[i].end;
        let mut best = i;
        let mut j = i + 1;
        while j < hits.len() && hits[j].start < end {
            end = end.max(hits[j].end);
            let better = match (&hits[j].vault, &hits[best].vault) {
                (Some(_), None) => true,
                (None, Some(_)) => false,
                _ => hits[j].end - hits[j].start > hits[best].end - hits[best].start,
            };
            if better {
                best = j;
            }
            j += 1;
        }
        let start = floor_boundary(text, hits[i].start.max(pos));
        let end = ceil_boundary(text, end);
        let hit = &hits[best];
        // A detector that ran past a vault value by punctuation only (`token=VALUE;`) does
        // not hide that punctuation: the vault value is exactly known.
        let punct = |s: &str| s.bytes().all(|b| b.is_ascii_punctuation() || b == b' ');
        let (vs, ve) = (hit.start.max(start), hit.end.min(end));
        let exact = hit.vault.is_some() && punct(&text[start..vs]) && punct(&text[ve..end]);
        let (cut_start, cut_end) = if exact { (vs, ve) } else { (start, end) };
        let replacement = match &hit.vault {
            Some(name) => crate::vault::placeholder(name),
            None => format!("[redacted:{}]", hit.kind),
        };
        out.push(Span {
            start: cut_start,
            end: cut_end,
            kind: hit.kind,
            replacement,
        });
        pos = end;
        i = j;
    }
    out
}

/// Every span of `text` to mask, as (start, end, replacement), in order and not
/// overlapping: what [`mask`] replaces, for callers that rebuild the text themselves (the
/// session recorder masks raw terminal output with its escape sequences kept).
pub fn mask_spans(text: &str, secrets: &Secrets) -> Vec<(usize, usize, String)> {
    mask_spans_with(text, secrets, detect::PREFILTER.as_ref())
}

/// [`mask_spans`] with the detectors' line prefilter or without it.
fn mask_spans_with(
    text: &str,
    secrets: &Secrets,
    prefilter: Option<&detect::Prefilter>,
) -> Vec<(usize, usize, String)> {
    spans(text, hits_with(text, secrets, prefilter))
        .into_iter()
        .map(|s| (s.start, s.end, s.replacement))
        .collect()
}

/// Lines masked all at once (see [`mask_lines`]), to be cut afterwards.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MaskedLines {
    /// One per line given: its masked text, or, for a line wholly inside a secret that began
    /// on an earlier line, that secret's replacement and `true`.
    lines: Vec<(String, bool)>,
    /// How many secrets were masked.
    pub masked: usize,
}

impl MaskedLines {
    /// How many lines were given.
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The lines from line `from` (of those given) on. Lines inside a multi-line secret go;
    /// one that began above `from` shows as its replacement on the first line.
    pub fn from(&self, from: usize) -> Vec<String> {
        let mut out = Vec::new();
        for (i, (text, inside)) in self.lines.iter().enumerate().skip(from) {
            if !inside || i == from {
                out.push(text.clone());
            }
        }
        out
    }
}

/// Lines (terminal bytes or text) → what the model may see of each, masked all at once so
/// that a secret spanning lines (a private key) is seen whole, whatever part of the lines is
/// then kept; the replacement stands on the line where the secret starts.
pub fn mask_lines(lines: &[String], secrets: &Secrets) -> MaskedLines {
    let text = visible_text(lines.join("\n").as_bytes());
    let spans = spans(&text, hits(&text, secrets));
    let mut out = Vec::with_capacity(lines.len());
    let mut k = 0;
    let mut ls = 0;
    for line in text.split('\n') {
        let le = ls + line.len();
        while k < spans.len() && spans[k].end <= ls {
            k += 1;
        }
        let covering = spans
            .get(k)
            .filter(|s| s.start < ls)
            .map(|s| s.replacement.clone());
        let mut shown = String::new();
        let mut kept = false;
        let mut pos = ls;
        while let Some(sp) = spans.get(k).filter(|s| s.start <= le) {
            if sp.start > pos {
                shown.push_str(&text[pos..sp.start]);
                kept = true;
            }
            if sp.start >= ls {
                shown.push_str(&sp.replacement);
                kept = true;
            }
            pos = pos.max(sp.end);
            if sp.end > le {
                break;
            }
            k += 1;
        }
        if pos < le {
            shown.push_str(&text[pos..le]);
            kept = true;
        }
        out.push(match covering {
            Some(replacement) if !kept => (replacement, true),
            _ => (shown, false),
        });
        ls = le + 1;
    }
    MaskedLines {
        lines: out,
        masked: spans.len(),
    }
}

fn floor_boundary(text: &str, mut i: usize) -> usize {
    while i > 0 && !text.is_char_boundary(i) {
        i -= 1;
    }
    i
}

fn ceil_boundary(text: &str, mut i: usize) -> usize {
    while i < text.len() && !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    /// The joints one at a time (as before they were laid end to end): the oracle for
    /// [`tokens_across_lines`].
    fn tokens_across_lines_one_by_one(text: &str) -> Vec<(usize, usize, SecretKind)> {
        let mut out = Vec::new();
        for (nl, _) in text.match_indices('\n') {
            let Some((ws, before, after, we)) = joint(text, nl) else {
                continue;
            };
            let joint = format!("{}{}", &text[ws..before], &text[after..we]);
            let mut t = Vec::new();
            detect::tokens(&joint, &mut t);
            for h in t {
                if let Some((s, e)) = across_joint(text, (ws, before, after), &h) {
                    out.push((s, e, h.kind));
                }
            }
        }
        out.sort_by_key(|&(s, e, _)| (s, e));
        out
    }

    fn tokens_across_lines_at_once(
        text: &str,
        prefilter: Option<&detect::Prefilter>,
    ) -> Vec<(usize, usize, SecretKind)> {
        let mut found = Vec::new();
        tokens_across_lines(text, &mut found, prefilter);
        let mut out: Vec<_> = found
            .into_iter()
            .map(|(s, e, h, _)| (s, e, h.kind))
            .collect();
        // In order of place (the patterns run one after another).
        out.sort_by_key(|&(s, e, _)| (s, e));
        out
    }

    /// Words that are, start or end tokens of every kind, and ordinary ones.
    const WORDS: &[&str] = &[
        "ghp_0aB1cD2eF3gH4iJ5kL6mN7oP8qR9sT0uV1wX2",
        "github_pat_11ABCDEFG0123456789_abcdefghijKLMNOP",
        "glrt-9zYxWvUtSrQpOnMlKjIh",
        "xoxe-1234567890-abcdef",
        "https://hooks.slack.com/workflows/T000/B000/xyz",
        "sk-svcacct-Zq81Lm02Xp93Kd74Wc65",
        "sk-ant-api03-Q1w2E3r4T5y6U7i8O9p0",
        "ASIAZ7Y6X5W4V3U2T1S0",
        "GOCSPX-a1B2c3D4e5F6g7H8i9J0k",
        "eyJhbGciOi.eyJzdWIiOi.c2lnbmF0dXJl",
        "rk_test_0123456789abcdefghijKLMN",
        "dop_v1_0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef",
        "hvb.AbCdEfGhIjKlMnOpQrStUvWx12",
        "1//0gAbCdEfGhIjKlMnOpQrStUvWxYz0123",
        "sk-",
        "ghp_",
        "xo",
        "12345678",
        "disk-usage-report-2024",
        "\"quoted\"",
        "a",
        "",
    ];

    fn stream() -> impl Strategy<Value = String> {
        let piece = (0..WORDS.len(), 0..WORDS[0].len(), 0..6usize);
        proptest::collection::vec(piece, 0..24).prop_map(|pieces| {
            let mut s = String::new();
            for (w, cut, sep) in pieces {
                let w = WORDS[w];
                // A word whole, or broken by a line end (and maybe indentation).
                let cut = cut.min(w.len());
                s.push_str(&w[..cut]);
                s.push_str(["\n", "\r\n", "\n  ", "\n\t", " ", ""][sep]);
                s.push_str(&w[cut..]);
                s.push_str([" ", "\n", "\r\n", ", ", "\n\n", "x"][sep]);
            }
            s
        })
    }

    proptest! {
        #[test]
        fn joints_laid_end_to_end_find_what_one_by_one_finds(text in stream()) {
            let one_by_one = tokens_across_lines_one_by_one(&text);
            prop_assert_eq!(&tokens_across_lines_at_once(&text, None), &one_by_one);
            let fast = tokens_across_lines_at_once(&text, detect::PREFILTER.as_ref());
            prop_assert_eq!(&fast, &one_by_one);
        }
    }

    const CORPUS: &str = include_str!("../../../tests/fixtures/ai/leak_corpus.txt");

    /// Secrets of every detector kind in forms the detectors' own tests do not list, and
    /// words that come close.
    const HELD_OUT: &[&str] = &[
        "ASIAQ3ZK7V2M9XW4PL6R",
        "ABIA0123456789ABCDEF",
        "ghu_ZxYwVuTsRqPoNmLkJiHgFeDcBa9876543210",
        "github_pat_22ZZZZZZZ0abcdefghij_KLMNOPQRSTUVWXyz0123456789",
        "gldt-AbCdEfGh1234IjKlMnOp",
        "GR1348941aB3dE5gH7jK9mN1pQ3sT",
        "xoxr-99887766-AbCdEfGhIj",
        "xapp-1-A0B1C2D3E4F5G6",
        "sk-proj-M4nY8pQ2rS6tU0vW3xY7zA1b",
        "sk-ant-admin01-Kq9Lw8Me7Nr6Ot5Pu4",
        "AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q",
        "ya29.a0AfB_byC1d2E3f4G5h6I7j8",
        "1//09zYxWvUtSrQpOnMlKjIhGfEdCbA98765",
        "eyJraWQiOiIx.eyJpc3MiOiJs.QmFzZTY0U2ln",
        "pk_live_Zz9Yy8Xx7Ww6Vv5Uu4Tt3",
        "npm_AbCdEfGhIjKlMnOpQrStUvWxYz0123456789",
        "hf_AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEf",
        "SG.AbCdEfGhIjKlMnOpQrSt.UvWxYzAbCdEfGhIjKlMn",
        "hvs.CAESIJ0abcdefGHIJKLmnopqrstUV",
        "shpca_0123456789abcdefABCDEF0123456789",
        "wJalrXUtnFEMI/K7MDENG+bPxRfiCYzEXAMPLEKE",
        "redis://:Pa55w0rd-q@cache.internal:6379",
        "Proxy-Authorization: Negotiate YIIGhgYGKwYBBQUCoIIGejCCBnag",
        "machine ci.example login bot password Zq8!vN2#",
        "CLIENT_SECRET=\"9f8e7d6c5b4a\"",
        "x_auth: t0k3n-v4lue",
        "--vault-token s.AbCdEfGh12345678",
        "mariadb -uroot -pS3cr3t+Db",
        "sshpass -p 'h4rd to gu3ss' ssh host",
        "curl -sSu deploy:Dpl0y!Key https://x",
        "c2stcHJvai1NNG5ZOHBRMnJTNnRVMHZXM3hZN3pBMWI=",
        "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj",
        "-----BEGIN EC PRIVATE KEY-----",
        "-----END EC PRIVATE KEY-----",
        "passwordless",
        "tokenizer.json",
        "libcurl.so.4",
        "12345678901234567890",
        "drwxr-xr-x",
        "\u{1b}[01;34m",
        "",
    ];

    fn mixed_text() -> impl Strategy<Value = String> {
        let lines: Vec<&'static str> = CORPUS.lines().collect();
        let part = prop_oneof![
            (0..lines.len()).prop_map(move |i| lines[i].replace(['⟦', '⟧'], "")),
            (0..HELD_OUT.len()).prop_map(|i| HELD_OUT[i].to_string()),
            "[ -~]{0,30}",
        ];
        let sep = prop_oneof![
            Just(""),
            Just(" "),
            Just("\n"),
            Just("\r\n"),
            Just("\n  "),
            Just("=")
        ];
        proptest::collection::vec((part, sep), 0..20).prop_map(|v| {
            v.into_iter()
                .map(|(p, s)| p + s)
                .collect::<Vec<_>>()
                .concat()
        })
    }

    fn vault() -> Secrets {
        let v = secrecy::SecretString::from("Tr0ub4dor&3xyz".to_string());
        Secrets::from_values([("db/root", &v)])
    }

    #[test]
    fn the_prefilter_is_derived_from_the_patterns() {
        let p = detect::PREFILTER
            .as_ref()
            .expect("every pattern has its literals");
        // xoxb- and ten more characters is the shortest token there is.
        assert_eq!(p.min_token, 15);
        assert!(!p.may_hold_token("12345678901234567890"));
        assert!(p.may_hold_token("xoxb-0123456789"));
    }

    #[test]
    fn the_prefilter_masks_the_corpus_as_every_line_read_does() {
        let text = CORPUS.replace(['⟦', '⟧'], "");
        for secrets in [Secrets::new(), vault()] {
            let fast = mask_spans(&text, &secrets);
            assert!(!fast.is_empty());
            assert_eq!(fast, mask_spans_with(&text, &secrets, None));
        }
        let held = HELD_OUT.join("\n");
        let fast = mask_spans(&held, &Secrets::new());
        assert_eq!(fast, mask_spans_with(&held, &Secrets::new(), None));
        // Every held-out secret is masked (the near misses at the end are not secrets).
        assert!(fast.len() >= 30, "{}", fast.len());
    }

    proptest! {
        #[test]
        fn the_prefilter_masks_what_every_line_read_masks(text in mixed_text()) {
            let secrets = vault();
            prop_assert_eq!(
                mask_spans(&text, &secrets),
                mask_spans_with(&text, &secrets, None)
            );
        }
    }

    #[test]
    fn a_token_broken_at_its_prefix_is_found_across_the_line_end() {
        let text = "token s\nk-svcacct-Zq81Lm02Xp93Kd74Wc65 and more\nghp_0aB1cD2eF3gH4iJ5kL6m\nN7oP8qR9sT0uV1wX2\n";
        let found = tokens_across_lines_at_once(text, detect::PREFILTER.as_ref());
        assert_eq!(found, tokens_across_lines_one_by_one(text));
        assert_eq!(found.len(), 2, "{found:?}");
    }
}
