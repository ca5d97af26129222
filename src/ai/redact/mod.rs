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
    resolve(text, hits)
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
