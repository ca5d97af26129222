//! Alpine (apk) version order, as apk-tools 2 compares versions: Gentoo-style
//! `digits{.digits}{letter}{_suffix{N}}…{-rN}`, with pre-release suffixes (`_alpha`, `_beta`,
//! `_pre`, `_rc`) before the plain version and post-release ones (`_cvs`, `_svn`, `_git`,
//! `_hg`, `_p`) after it, and a component with leading zeros compared as a fraction.
//!
//! No crate implements this; it is written from apk's documented rules and tested against a
//! table of them.

use std::cmp::Ordering;

/// What the next part of a version is; the order matters (apk compares the kinds when the
/// values are equal and one version goes on).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Token {
    Invalid,
    DigitOrZero,
    Digit,
    Letter,
    Suffix,
    SuffixNo,
    RevisionNo,
    End,
}

const PRE_SUFFIXES: [&str; 4] = ["alpha", "beta", "pre", "rc"];
const POST_SUFFIXES: [&str; 5] = ["cvs", "svn", "git", "hg", "p"];

struct Cursor<'a> {
    s: &'a [u8],
    kind: Token,
}

impl Cursor<'_> {
    /// Decide what follows the value just read.
    fn advance_kind(&mut self) {
        let prev = self.kind;
        let mut next = Token::Invalid;
        match self.s.first() {
            None | Some(0) => next = Token::End,
            Some(c)
                if matches!(prev, Token::Digit | Token::DigitOrZero) && c.is_ascii_lowercase() =>
            {
                next = Token::Letter
            }
            Some(c) if prev == Token::Letter && c.is_ascii_digit() => next = Token::Digit,
            Some(c) if prev == Token::Suffix && c.is_ascii_digit() => next = Token::SuffixNo,
            Some(c) => {
                match c {
                    b'.' => next = Token::DigitOrZero,
                    b'_' => next = Token::Suffix,
                    b'-' if self.s.get(1) == Some(&b'r') => {
                        next = Token::RevisionNo;
                        self.s = &self.s[1..];
                    }
                    _ => {}
                }
                self.s = self.s.get(1..).unwrap_or(&[]);
            }
        }
        let allowed_backwards = matches!(
            (next, prev),
            (Token::DigitOrZero, Token::Digit)
                | (Token::Suffix, Token::SuffixNo)
                | (Token::Digit, Token::Letter)
        );
        if next < prev && !allowed_backwards {
            next = Token::Invalid;
        }
        self.kind = next;
    }

    /// Read the value of the current part and move past it.
    fn value(&mut self) -> i64 {
        if self.s.is_empty() {
            self.kind = Token::End;
            return 0;
        }
        let mut v: i64 = 0;
        let mut len = 0;
        let mut then = None;
        let digits = |s: &[u8], v: &mut i64, len: &mut usize| {
            while let Some(c) = s.get(*len).filter(|c| c.is_ascii_digit()) {
                *v = v.saturating_mul(10).saturating_add(i64::from(c - b'0'));
                *len += 1;
            }
        };
        match self.kind {
            // `1.05` sorts before `1.1` and `1.5`: leading zeros make a fraction.
            Token::DigitOrZero if self.s.first() == Some(&b'0') => {
                while self.s.get(len) == Some(&b'0') {
                    len += 1;
                }
                then = Some(Token::Digit);
                v = -(len as i64);
            }
            Token::DigitOrZero | Token::Digit | Token::SuffixNo | Token::RevisionNo => {
                digits(self.s, &mut v, &mut len)
            }
            Token::Letter => {
                v = i64::from(self.s[0]);
                len = 1;
            }
            Token::Suffix => {
                let pre = PRE_SUFFIXES
                    .iter()
                    .position(|p| self.s.starts_with(p.as_bytes()));
                let post = POST_SUFFIXES
                    .iter()
                    .position(|p| self.s.starts_with(p.as_bytes()));
                match (pre, post) {
                    (Some(i), _) => {
                        v = i as i64 - PRE_SUFFIXES.len() as i64;
                        len = PRE_SUFFIXES[i].len();
                    }
                    (None, Some(i)) => {
                        v = i as i64;
                        len = POST_SUFFIXES[i].len();
                    }
                    (None, None) => {
                        self.kind = Token::Invalid;
                        return -1;
                    }
                }
            }
            Token::Invalid | Token::End => {
                self.kind = Token::Invalid;
                return -1;
            }
        }
        self.s = self.s.get(len..).unwrap_or(&[]);
        if self.s.is_empty() {
            self.kind = Token::End;
        } else if let Some(kind) = then {
            self.kind = kind;
        } else {
            self.advance_kind();
        }
        v
    }
}

/// Compare two apk versions.
pub fn compare(a: &str, b: &str) -> Ordering {
    let mut a = Cursor {
        s: a.trim().as_bytes(),
        kind: Token::Digit,
    };
    let mut b = Cursor {
        s: b.trim().as_bytes(),
        kind: Token::Digit,
    };
    let (mut av, mut bv) = (0, 0);
    while a.kind == b.kind && !matches!(a.kind, Token::End | Token::Invalid) && av == bv {
        av = a.value();
        bv = b.value();
    }
    if av != bv {
        return av.cmp(&bv);
    }
    if a.kind == b.kind {
        return Ordering::Equal;
    }
    // Equal so far and one goes on: the longer one is newer, unless what follows is a
    // pre-release suffix.
    if a.kind == Token::Suffix && peek_suffix(&a) < 0 {
        return Ordering::Less;
    }
    if b.kind == Token::Suffix && peek_suffix(&b) < 0 {
        return Ordering::Greater;
    }
    b.kind.cmp(&a.kind)
}

fn peek_suffix(c: &Cursor) -> i64 {
    let mut copy = Cursor {
        s: c.s,
        kind: c.kind,
    };
    copy.value()
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    /// Built from apk's rules: numeric components, a letter after the numbers, pre/post
    /// suffixes with numbers, `-rN` revisions, leading-zero components as fractions.
    #[test]
    fn table() {
        let cases = [
            ("1.0", "1.0", Equal),
            ("1.0", "1.0.0", Less),
            ("1.0", "1.1", Less),
            ("1.9", "1.10", Less),
            ("2", "10", Less),
            ("1.0-r0", "1.0-r1", Less),
            ("1.0-r1", "1.0-r10", Less),
            ("1.0", "1.0-r0", Less),
            ("1.0-r9", "1.0.1-r0", Less),
            ("1.0a", "1.0", Greater),
            ("1.0a", "1.0b", Less),
            ("1.0a", "1.0.1", Less),
            ("1.1_alpha", "1.1", Less),
            ("1.1_alpha", "1.1_beta", Less),
            ("1.1_beta", "1.1_pre", Less),
            ("1.1_pre", "1.1_rc", Less),
            ("1.1_rc1", "1.1_rc2", Less),
            ("1.1_rc9", "1.1", Less),
            ("1.1", "1.1_cvs", Less),
            ("1.1_cvs", "1.1_svn", Less),
            ("1.1_svn", "1.1_git", Less),
            ("1.1_git", "1.1_hg", Less),
            ("1.1_hg", "1.1_p", Less),
            ("1.1_p1", "1.1_p2", Less),
            ("1.1_p1", "1.1.1", Less),
            ("1.1_alpha1", "1.1_alpha2", Less),
            ("1.1_rc1-r5", "1.1-r0", Less),
            ("0.1.0_alpha_pre2", "0.1.0_alpha", Less),
            ("2.0.0_rc3-r1", "1.5", Greater),
            ("1.05", "1.1", Less),
            ("1.05", "1.5", Less),
            ("1.001", "1.01", Less),
            ("1.01", "1.1", Less),
            ("3.1.4-r5", "3.1.4-r5", Equal),
            ("3.1.4-r5", "3.1.5-r0", Less),
            ("6.6.14-r0", "6.6.9-r0", Greater),
            ("1.2.3_p20230101-r0", "1.2.3-r1", Greater),
        ];
        for (a, b, want) in cases {
            assert_eq!(compare(a, b), want, "{a} vs {b}");
            assert_eq!(compare(b, a), want.reverse(), "{b} vs {a}");
        }
    }

    /// apk-tools 2 reads a component of zeros after a dot as a fraction and then compares a
    /// following suffix by token kind, so `1.0_alpha` sorts after `1.0` (unlike `1.1_alpha`
    /// before `1.1`). lumen follows apk, not the documentation, since apk decides upgrades.
    #[test]
    fn zero_component_before_a_suffix_sorts_as_apk_does() {
        assert_eq!(compare("1.0_alpha", "1.0"), Greater);
        assert_eq!(compare("1.00", "1.0"), Less);
    }

    #[test]
    fn garbage_does_not_panic() {
        for s in [
            "", "-", "_", "-r", "1.0_", "1.0_x", "a", "1..2", "1.0-x", "\u{e9}",
        ] {
            let _ = compare(s, "1.0");
            let _ = compare("1.0", s);
            let _ = compare(s, s);
        }
    }
}
