//! What the model may see: every byte of screen, scrollback, command output, host facts and
//! history passes through [`prepare`] before it can leave the process. Escape sequences and
//! hidden text go (the text is what the operator saw), vault values become `{{vault:NAME}}`
//! in any encoding, and secrets in known formats become `[redacted:KIND]`.
//!
//! ```
//! use lumen::ai::redact::{prepare, Secrets};
//! let out = prepare(b"\x1b[32mok\x1b[0m DB_PASSWORD=hunter2!\n", &Secrets::new());
//! assert_eq!(out.text, "ok DB_PASSWORD=[redacted:password]\n");
//! assert_eq!(out.redactions[0].kind.as_str(), "password");
//! ```

mod detect;
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
    for (kind, value) in &known.values {
        for (i, _) in text.match_indices(value.as_str()) {
            found.push(Hit::new(i, i + value.len(), *kind));
        }
    }
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
    detect::detect(text, Some(secrets), &mut hits);
    across_lines(text, secrets, &mut hits);
    let again: Vec<(SecretKind, &str)> = hits
        .iter()
        .filter_map(|h| repeatable(text, h).map(|v| (h.kind, v)))
        .collect();
    let mut seen: Vec<&str> = Vec::new();
    for (kind, v) in again {
        if seen.contains(&v) {
            continue;
        }
        seen.push(v);
        for (i, _) in text.match_indices(v) {
            hits.push(Hit::new(i, i + v.len(), kind));
        }
    }
    hits
}

/// Vault values and tokens broken by a line end (`fold`, a hard-wrapped log line): looked
/// for in the text with its line ends taken out; a find that spans one is masked on each
/// line it touches, so the lines stay lines.
fn across_lines(text: &str, secrets: &Secrets, hits: &mut Vec<Hit>) {
    if !text.contains('\n') {
        return;
    }
    // Taking out ASCII bytes keeps the text valid UTF-8.
    let mut joined = String::with_capacity(text.len());
    let mut origin: Vec<usize> = Vec::with_capacity(text.len());
    for (i, c) in text.char_indices() {
        if c == '\n' || c == '\r' {
            continue;
        }
        joined.push(c);
        origin.extend(std::iter::repeat_n(i, c.len_utf8()));
    }
    let mut found: Vec<(Hit, secrets::Form)> = Vec::new();
    for (s, e, name, form) in secrets.find(joined.as_bytes()) {
        let hit = Hit {
            start: s,
            end: e,
            kind: SecretKind::Vault,
            vault: Some(name.to_string()),
        };
        found.push((hit, form));
    }
    let mut tokens = Vec::new();
    detect::tokens(&joined, &mut tokens);
    found.extend(tokens.into_iter().map(|h| (h, secrets::Form::Plain)));
    for (h, form) in found.into_iter().filter(|(h, _)| h.start < h.end) {
        let (Some(&start), Some(&last)) = (origin.get(h.start), origin.get(h.end - 1)) else {
            continue;
        };
        let end = ceil_boundary(text, last + 1);
        if !text[start..end].contains('\n') {
            continue; // on one line: the first pass has it
        }
        // An encoded form is masked as the whole token, on the lines it touches only.
        let (start, end) = match form {
            secrets::Form::Encoded => widen(text, start, end),
            secrets::Form::Plain => (start, end),
        };
        let mut pos = start;
        for piece in text[start..end].split('\n') {
            let trimmed = piece.trim_end_matches('\r');
            if !trimmed.is_empty() {
                hits.push(Hit {
                    start: pos,
                    end: pos + trimmed.len(),
                    kind: h.kind,
                    vault: h.vault.clone(),
                });
            }
            pos += piece.len() + 1;
        }
    }
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

/// Overlapping hits merge into one span; a vault hit names it when there is one, else the
/// longest hit does.
fn resolve(text: &str, mut hits: Vec<Hit>) -> Redacted {
    hits.retain(|h| h.start < h.end && h.end <= text.len());
    hits.sort_by(|a, b| a.start.cmp(&b.start).then(b.end.cmp(&a.end)));
    let mut out = Redacted {
        text: String::with_capacity(text.len()),
        redactions: Vec::new(),
    };
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
        out.text.push_str(&text[pos..cut_start]);
        let replacement = match &hit.vault {
            Some(name) => crate::vault::placeholder(name),
            None => format!("[redacted:{}]", hit.kind),
        };
        out.redactions.push(Redaction {
            kind: hit.kind,
            start: out.text.len(),
            end: out.text.len() + replacement.len(),
        });
        out.text.push_str(&replacement);
        out.text.push_str(&text[cut_end..end]);
        pos = end;
        i = j;
    }
    out.text.push_str(&text[pos..]);
    out
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
