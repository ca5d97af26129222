//! The values of unlocked vault entries, in every form they may appear in output: plain,
//! base64 (standard and URL-safe, padded or not, at any byte alignment), hex (either case),
//! URL-encoded, JSON-escaped, and each long line of a multi-line secret. One Aho-Corasick
//! automaton finds them all in a single pass.

use crate::vault::Vault;
use aho_corasick::{AhoCorasick, MatchKind};
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use secrecy::{ExposeSecret, SecretString};
use zeroize::Zeroizing;

/// Shorter values are not masked: "1234" or "root" would mangle ordinary output.
pub const MIN_SECRET_LEN: usize = 6;
/// Encoded forms shorter than this are not searched for (too likely to occur by chance).
const MIN_FORM_LEN: usize = 8;
/// Lines of a multi-line secret (a PEM key) at least this long are masked on their own.
const MIN_LINE_LEN: usize = 16;

/// How a vault value was written where it was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Form {
    Plain,
    /// Base64 or hex: the match is widened to the whole encoded token.
    Encoded,
}

#[derive(Debug, Clone)]
pub(crate) struct Needle {
    pub entry: usize,
    pub form: Form,
}

/// Values to mask, by entry name. Built from unlocked vaults; holds no copy of a value
/// outside the matcher (whose tables are freed, not wiped, on drop: see the module docs of
/// `aho_corasick`; the unlocked vault itself holds the same values for as long).
#[derive(Default)]
pub struct Secrets {
    names: Vec<String>,
    needles: Vec<Needle>,
    matcher: Option<AhoCorasick>,
}

impl std::fmt::Debug for Secrets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Secrets")
            .field("names", &self.names)
            .field("patterns", &self.needles.len())
            .finish()
    }
}

impl Secrets {
    /// No vault values: only the detectors for secrets in known formats run.
    pub fn new() -> Secrets {
        Secrets::default()
    }

    /// Every entry of every vault (secrets and private-key passphrases).
    pub fn from_vaults(vaults: &[&Vault]) -> Secrets {
        let mut pairs: Vec<(String, SecretString)> = Vec::new();
        for v in vaults {
            for e in v.entries() {
                pairs.push((e.name.clone(), e.secret.clone()));
                if let Some(p) = &e.key_passphrase {
                    pairs.push((e.name.clone(), p.clone()));
                }
            }
        }
        Secrets::from_values(pairs.iter().map(|(n, s)| (n.as_str(), s)))
    }

    /// Values by name, for callers that hold secrets outside a vault.
    pub fn from_values<'a>(
        values: impl IntoIterator<Item = (&'a str, &'a SecretString)>,
    ) -> Secrets {
        let mut names = Vec::new();
        let mut patterns: Vec<Zeroizing<Vec<u8>>> = Vec::new();
        let mut needles = Vec::new();
        for (name, secret) in values {
            let entry = match names.iter().position(|n| n == name) {
                Some(i) => i,
                None => {
                    names.push(name.to_string());
                    names.len() - 1
                }
            };
            for (form, bytes) in forms(secret.expose_secret()) {
                if !patterns.iter().any(|p| **p == *bytes) {
                    patterns.push(bytes);
                    needles.push(Needle { entry, form });
                }
            }
        }
        let matcher = (!patterns.is_empty())
            .then(|| {
                AhoCorasick::builder()
                    .match_kind(MatchKind::LeftmostLongest)
                    .build(patterns.iter().map(|p| p.as_slice()))
                    .ok()
            })
            .flatten();
        Secrets {
            names,
            needles,
            matcher,
        }
    }

    pub fn is_empty(&self) -> bool {
        self.matcher.is_none()
    }

    /// Entry names, in the order first given.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Every vault value in `text`: (start, end, entry name, form).
    pub(crate) fn find<'a>(
        &'a self,
        text: &'a [u8],
    ) -> impl Iterator<Item = (usize, usize, &'a str, Form)> + 'a {
        self.matcher.iter().flat_map(move |m| {
            m.find_iter(text).filter_map(|hit| {
                let n = self.needles.get(hit.pattern().as_usize())?;
                Some((hit.start(), hit.end(), self.names[n.entry].as_str(), n.form))
            })
        })
    }
}

/// Every form of `value` worth searching for.
fn forms(value: &str) -> Vec<(Form, Zeroizing<Vec<u8>>)> {
    let mut out: Vec<(Form, Zeroizing<Vec<u8>>)> = Vec::new();
    let mut add = |form: Form, bytes: Vec<u8>, min: usize| {
        let bytes = Zeroizing::new(bytes);
        if bytes.len() >= min {
            out.push((form, bytes));
        }
    };
    let raw = value.as_bytes();
    if raw.len() < MIN_SECRET_LEN {
        return Vec::new();
    }
    add(Form::Plain, raw.to_vec(), MIN_SECRET_LEN);
    let with_newline = Zeroizing::new([raw, b"\n"].concat());
    for bytes in [raw, with_newline.as_slice()] {
        for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
            add(
                Form::Encoded,
                engine.encode(bytes).into_bytes(),
                MIN_FORM_LEN,
            );
        }
        // Inside a longer base64 text the value starts at byte offset 0, 1 or 2 of a group:
        // the characters that depend on the value alone are still a fixed string.
        for shift in 1..3 {
            let mut padded = Zeroizing::new(vec![0u8; shift]);
            padded.extend_from_slice(bytes);
            let enc = Zeroizing::new(STANDARD_NO_PAD.encode(padded.as_slice()));
            let whole_groups = padded.len() / 3;
            if whole_groups > 1 {
                let middle = &enc.as_bytes()[4..4 * whole_groups];
                add(Form::Encoded, middle.to_vec(), MIN_FORM_LEN);
                let url: Vec<u8> = middle
                    .iter()
                    .map(|&b| match b {
                        b'+' => b'-',
                        b'/' => b'_',
                        b => b,
                    })
                    .collect();
                add(Form::Encoded, url, MIN_FORM_LEN);
            }
        }
    }
    let hex = Zeroizing::new(hex_lower(raw));
    add(Form::Encoded, hex.as_bytes().to_vec(), MIN_FORM_LEN);
    add(
        Form::Encoded,
        hex.to_ascii_uppercase().into_bytes(),
        MIN_FORM_LEN,
    );
    for plus_for_space in [false, true] {
        let enc = Zeroizing::new(url_encode(value, plus_for_space));
        if enc.as_str() != value {
            add(Form::Plain, enc.as_bytes().to_vec(), MIN_SECRET_LEN);
            add(
                Form::Plain,
                enc.to_ascii_lowercase().into_bytes(),
                MIN_SECRET_LEN,
            );
        }
    }
    let json = Zeroizing::new(json_escape(value));
    if json.as_str() != value {
        add(Form::Plain, json.as_bytes().to_vec(), MIN_SECRET_LEN);
    }
    if value.contains('\n') {
        for line in value.lines() {
            let line = line.trim();
            add(Form::Plain, line.as_bytes().to_vec(), MIN_LINE_LEN);
        }
    }
    out
}

fn hex_lower(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        s.push(DIGITS[usize::from(b >> 4)] as char);
        s.push(DIGITS[usize::from(b & 15)] as char);
    }
    s
}

/// RFC 3986: everything but unreserved characters as `%XX` (upper case).
fn url_encode(value: &str, plus_for_space: bool) -> String {
    let mut s = String::with_capacity(value.len() * 3);
    for &b in value.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'.' | b'_' | b'~' => {
                s.push(b as char)
            }
            b' ' if plus_for_space => s.push('+'),
            _ => s.push_str(&format!("%{b:02X}")),
        }
    }
    s
}

fn json_escape(value: &str) -> String {
    serde_json::to_string(value)
        .map(|q| q[1..q.len() - 1].to_string())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forms_cover_the_encodings() {
        let f: Vec<String> = forms("pa ss/wörd+1")
            .into_iter()
            .map(|(_, b)| String::from_utf8_lossy(&b).into_owned())
            .collect();
        for want in [
            "pa ss/wörd+1",
            "cGEgc3Mvd8O2cmQrMQ==",
            "cGEgc3Mvd8O2cmQrMQ",
            "cGEgc3Mvd8O2cmQrMQo=",
            "7061207373",
            "7061207373".to_uppercase().as_str(),
            "pa%20ss%2Fw%C3%B6rd%2B1",
            "pa+ss%2Fw%C3%B6rd%2B1",
        ] {
            assert!(
                f.iter().any(|x| x.starts_with(want)),
                "{want} missing from {f:?}"
            );
        }
        assert!(forms("short").is_empty());
    }
}
