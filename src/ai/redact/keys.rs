//! Private keys in terminal text: PEM and OpenSSH blocks from their `-----BEGIN` line (to
//! the END line, or as far as key-looking lines go when cut off), and a run of base64 lines
//! of key width without its header (a window or the scrollback cut it off).

use super::SecretKind;
use super::detect::Hit;
use regex::Regex;
use std::sync::LazyLock;

static PEM_BEGIN: LazyLock<Regex> =
    LazyLock::new(|| super::detect::re(r"-----BEGIN ([A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?)-----"));

pub(crate) fn pem_blocks(text: &str, hits: &mut Vec<Hit>) {
    for c in PEM_BEGIN.captures_iter(text) {
        let (Some(all), Some(label)) = (c.get(0), c.get(1)) else {
            continue;
        };
        let end_marker = format!("-----END {}-----", label.as_str());
        let window = &text[all.end()..ceil(text, all.end() + PEM_MAX_LEN)];
        let end = match window.find(&end_marker) {
            Some(i) => all.end() + i + end_marker.len(),
            // Cut off (a scrolled screen, `head`): mask the key-looking lines that follow.
            None => {
                let mut end = all.end();
                for line in text[all.end()..].split_inclusive('\n').skip(1) {
                    let l = line.trim();
                    let keyish = !l.is_empty()
                        && (l
                            .bytes()
                            .all(|b| b.is_ascii_alphanumeric() || b"+/=".contains(&b))
                            || l.contains(':') && !l.contains(' ')
                            || l.starts_with("Proc-Type:")
                            || l.starts_with("DEK-Info:"));
                    if !keyish {
                        break;
                    }
                    end += line.len();
                }
                if end == all.end() {
                    // The rest of the BEGIN line.
                    end = text[all.end()..]
                        .find('\n')
                        .map_or(text.len(), |i| all.end() + i);
                }
                end
            }
        };
        hits.push(Hit::new(all.start(), end, SecretKind::PrivateKey));
    }
}

/// No private key block is longer than this (an 8192-bit RSA key is about 6.5 KB).
const PEM_MAX_LEN: usize = 32 * 1024;

fn ceil(text: &str, mut i: usize) -> usize {
    i = i.min(text.len());
    while !text.is_char_boundary(i) {
        i += 1;
    }
    i
}

/// Widths of the base64 lines of private keys: PEM (PKCS#1, PKCS#8, SEC1) 64, OpenSSH's own
/// format 70, MIME-wrapped (`base64` of a key file) 76.
const KEY_WIDTHS: [usize; 3] = [64, 70, 76];

/// A run of base64 lines of key width is a private key even without its `-----BEGIN` line
/// (cut off by a window, scrolled out of the scrollback): two full-width lines or more, or
/// any such lines right above a `-----END … PRIVATE KEY-----`. A run under a header that
/// says it is public (`-----BEGIN CERTIFICATE-----`) is left alone.
pub(crate) fn key_runs(text: &str, hits: &mut Vec<Hit>) {
    let b64 = |t: &str| {
        t.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'/' | b'='))
    };
    // The length first: most lines are not of a key's width.
    let full = |t: &str, w: usize| {
        let b = t.as_bytes();
        t.len() == w
            && b64(t)
            && b.iter().any(u8::is_ascii_uppercase)
            && b.iter().any(u8::is_ascii_lowercase)
            && b.iter().any(u8::is_ascii_digit)
    };
    // A hit needs a full line of a key's width or an END line below a key's last line.
    let keyline =
        |l: &str| l.len() >= KEY_WIDTHS[0] && KEY_WIDTHS.iter().any(|&w| full(l.trim(), w));
    if !text.contains("-----END ") && !text.split('\n').any(keyline) {
        return;
    }
    let short = |t: &str, w: usize| !t.is_empty() && t.len() <= w && b64(t);
    // Each line with its text trimmed once: (start, line, trimmed).
    let mut lines: Vec<(usize, &str, &str)> = Vec::new();
    let mut pos = 0;
    for line in text.split_inclusive('\n') {
        lines.push((pos, line, line.trim()));
        pos += line.len();
    }
    let ends_key = |i: usize| lines.get(i).is_some_and(|l| private_end(l.2));
    let mut i = 0;
    while i < lines.len() {
        let Some(&w) = KEY_WIDTHS.iter().find(|&&w| full(lines[i].2, w)) else {
            // The last, shorter line of a key whose other lines are gone, above its END.
            if ends_key(i + 1) && short(lines[i].2, 76) && !lines[i].2.bytes().all(|c| c == b'=') {
                hits.push(Hit::new(
                    lines[i].0,
                    line_end(lines[i]),
                    SecretKind::PrivateKey,
                ));
            }
            i += 1;
            continue;
        };
        let first = i;
        while i < lines.len() && full(lines[i].2, w) {
            i += 1;
        }
        let count = i - first;
        if i < lines.len() && short(lines[i].2, w) && !lines[i].1.contains("-----") {
            i += 1;
        }
        let ends = ends_key(i);
        let public = first > 0 && {
            let above = lines[first - 1].2;
            above.starts_with("-----BEGIN") && !above.contains("PRIVATE KEY")
        };
        if (count >= 2 || ends) && !public {
            hits.push(Hit::new(
                lines[first].0,
                line_end(lines[i - 1]),
                SecretKind::PrivateKey,
            ));
        }
    }
}

/// Where a line's text ends (before its newline).
fn line_end((start, line, _): (usize, &str, &str)) -> usize {
    start + line.trim_end_matches(['\n', '\r']).len()
}

/// `t`: a trimmed line.
fn private_end(t: &str) -> bool {
    t.starts_with("-----END ") && t.contains("PRIVATE KEY")
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_header_pattern_compiles_and_names_private_keys_only() {
        assert!(super::PEM_BEGIN.is_match("-----BEGIN OPENSSH PRIVATE KEY-----"));
        assert!(!super::PEM_BEGIN.is_match("-----BEGIN CERTIFICATE-----"));
    }
}
