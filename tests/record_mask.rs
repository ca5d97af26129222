//! The recorder's masking (`lumen::record::mask`) on streams cut anywhere: the leak corpus
//! and held-out secrets of every detector kind, split across chunks, coloured mid-value and
//! drawn by cursor movement, lose every secret; masked in batches (the held-back window, a
//! pass only once enough output waits) they come out as masked in one pass.
#![allow(clippy::unwrap_used)]

#[path = "common/leak_corpus.rs"]
mod leak_corpus;

use leak_corpus::{corpus, leaks};
use lumen::ai::redact::{Secrets, visible_text};
use lumen::record::mask::{Flush, HOLD, Item, Masker};
use proptest::prelude::*;
use std::time::Instant;

/// A surviving piece of a secret this long counts as a leak.
const LEAK_WINDOW: usize = 8;

/// Secrets of every detector kind, in forms the detectors' tests do not list, each on a
/// line as a terminal might show it.
const HELD_OUT: &[&str] = &[
    "AccessKeyId ASIAQ3ZK7V2M9XW4PL6R",
    "token=ghu_ZxYwVuTsRqPoNmLkJiHgFeDcBa9876543210",
    "runner: glrt-AbCdEfGh1234IjKlMnOp",
    "slack xoxr-99887766-AbCdEfGhIj",
    "OPENAI sk-proj-M4nY8pQ2rS6tU0vW3xY7zA1b",
    "claude sk-ant-admin01-Kq9Lw8Me7Nr6Ot5Pu4",
    "maps AIzaSyA1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q",
    "bearer eyJraWQiOiIx.eyJpc3MiOiJs.QmFzZTY0U2ln",
    "stripe pk_live_Zz9Yy8Xx7Ww6Vv5Uu4Tt3",
    "hf hf_AbCdEfGhIjKlMnOpQrStUvWxYzAbCdEf",
    "vault hvs.CAESIJ0abcdefGHIJKLmnopqrstUV",
    "aws_secret wJalrXUtnFEMI/K7MDENG+bPxRfiCYzEXAMPLEKE",
    "cache redis://:Pa55w0rd-q@cache.internal:6379/0",
    "Proxy-Authorization: Negotiate YIIGhgYGKwYBBQUCoIIGejCCBnag",
    "machine ci.example login bot password Zq8vN2xKp",
    "CLIENT_SECRET=\"9f8e7d6c5b4a3\"",
    "$ mariadb -uroot -pS3cr3tDbPw db",
    "$ curl --proxy-user deploy:Dpl0yKey99 https://x",
];

/// The secret in each line of [`HELD_OUT`]: its last word, unquoted, without a `-p`.
fn held_out_secret(line: &str) -> String {
    let word = match line {
        l if l.starts_with("$ mariadb") => "S3cr3tDbPw",
        l if l.starts_with("$ curl") => "Dpl0yKey99",
        l if l.starts_with("cache ") => "Pa55w0rd-q",
        l => l.rsplit([' ', '=']).next().unwrap(),
    };
    word.trim_matches('"').to_string()
}

/// Output that holds no secret, `len` bytes or a little more.
fn filler(len: usize) -> String {
    let mut s = String::new();
    let mut i = 0;
    while s.len() < len {
        i += 1;
        s.push_str(&format!(
            "drwxr-xr-x  2 root root 4096 May  9 2026 \x1b[01;34mdir{i}\x1b[0m\r\n"
        ));
    }
    s
}

/// `stream` pushed in chunks of the given sizes (cycled), a Hold pass after each, then the
/// rest: the output as written.
fn masked_in_chunks(stream: &[u8], sizes: &[usize], secrets: &Secrets) -> String {
    let mut m = Masker::default();
    let mut out = String::new();
    let mut take = |m: &mut Masker, flush| {
        for (_, item) in m.take(flush, secrets) {
            if let Item::Output(text) = item {
                out.push_str(&text);
            }
        }
    };
    let mut pos = 0;
    for &n in sizes.iter().cycle() {
        if pos >= stream.len() {
            break;
        }
        let end = (pos + n.max(1)).min(stream.len());
        m.push(Instant::now(), &stream[pos..end]);
        take(&mut m, Flush::Hold);
        pos = end;
    }
    take(&mut m, Flush::All);
    out
}

fn assert_no_leak(output: &str, secrets: &[String]) {
    let shown = visible_text(output.as_bytes());
    for secret in secrets {
        for text in [output, shown.as_str()] {
            let found = leaks(text, secret, LEAK_WINDOW);
            assert!(found.is_empty(), "{secret:?} leaked: {found:?}");
        }
    }
}

/// Each line of `text` with a colour change in the middle of its every word (`\n` becomes
/// `\r\n`, as from a terminal).
fn coloured(text: &str) -> String {
    let mut out = String::new();
    for line in text.split('\n') {
        let words: Vec<String> = line
            .split(' ')
            .map(|w| {
                let mid = w
                    .char_indices()
                    .nth(w.chars().count() / 2)
                    .map_or(0, |c| c.0);
                if mid == 0 {
                    w.to_string()
                } else {
                    format!("{}\x1b[1;3{}m{}\x1b[0m", &w[..mid], mid % 8, &w[mid..])
                }
            })
            .collect();
        out.push_str(&words.join(" "));
        out.push_str("\r\n");
    }
    out
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 12, ..ProptestConfig::default() })]

    #[test]
    fn the_leak_corpus_coloured_and_cut_anywhere_loses_every_secret(
        sizes in proptest::collection::vec(1..40_000usize, 1..6),
        lead in 0..(3 * HOLD),
    ) {
        let (text, secrets, _) = corpus();
        let stream = filler(lead) + &coloured(&text) + &filler(HOLD);
        let out = masked_in_chunks(stream.as_bytes(), &sizes, &Secrets::new());
        assert_no_leak(&out, &secrets);
        prop_assert!(out.contains("[redacted:"));
    }

    #[test]
    fn held_out_secrets_cut_anywhere_come_out_as_masked_in_one_pass(
        sizes in proptest::collection::vec(1..30_000usize, 1..6),
        gap in 0..(2 * HOLD),
    ) {
        let mut stream = String::new();
        for line in HELD_OUT {
            stream.push_str(&filler(gap));
            stream.push_str(&coloured(line));
            // A blank line after: a token at a line's end is otherwise read as broken
            // into the next line's first word, and that word masked wherever it appears in
            // the window (as far as one pass sees, so batches would differ from one pass).
            stream.push_str("\r\n");
        }
        let secrets: Vec<String> = HELD_OUT.iter().map(|l| held_out_secret(l)).collect();
        let chunked = masked_in_chunks(stream.as_bytes(), &sizes, &Secrets::new());
        assert_no_leak(&chunked, &secrets);
        let whole = masked_in_chunks(stream.as_bytes(), &[stream.len()], &Secrets::new());
        prop_assert_eq!(chunked, whole);
    }
}

#[test]
fn held_out_secrets_drawn_by_cursor_movement_are_masked() {
    for line in HELD_OUT {
        let secret = held_out_secret(line);
        let at = line.find(&secret).unwrap() + secret.len() / 2;
        // The second half first, then back to the line's start for the first half.
        let stream = format!(
            "{}\r\n{}{}\r{}\x1b[0m\r\n{}",
            filler(64),
            " ".repeat(at),
            &line[at..],
            &line[..at],
            filler(64)
        );
        let out = masked_in_chunks(stream.as_bytes(), &[7, 300], &Secrets::new());
        assert_no_leak(&out, std::slice::from_ref(&secret));
        assert!(out.contains("dir1\x1b[0m\r\n"), "{out:?}");
    }
}
