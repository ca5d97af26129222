//! OpenSSH's wildcard patterns (`*`, `?`) and comma-separated pattern lists with `!` negation.

/// `match_pattern`: `*` matches any run of characters, `?` exactly one. Case-sensitive.
pub fn matches(s: &str, pattern: &str) -> bool {
    let s: Vec<char> = s.chars().collect();
    let p: Vec<char> = pattern.chars().collect();
    let (mut si, mut pi) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while si < s.len() {
        if pi < p.len() && (p[pi] == '?' || p[pi] == s[si]) {
            si += 1;
            pi += 1;
        } else if pi < p.len() && p[pi] == '*' {
            star = Some((pi, si));
            pi += 1;
        } else if let Some((sp, ss)) = star {
            pi = sp + 1;
            si = ss + 1;
            star = Some((sp, ss + 1));
        } else {
            return false;
        }
    }
    p[pi..].iter().all(|&c| c == '*')
}

/// `match_pattern_list(s, list, dolower)`: true when some entry matches and no negated entry
/// does. With `lowercase_patterns` the patterns are lowercased (callers lowercase `s` for
/// `Match host`, as `match_hostname` does).
pub fn matches_list(s: &str, list: &str, lowercase_patterns: bool) -> bool {
    let mut positive = false;
    for entry in list.split(',') {
        let (negated, pat) = match entry.strip_prefix('!') {
            Some(p) => (true, p),
            None => (false, entry),
        };
        let pat = if lowercase_patterns {
            pat.to_lowercase()
        } else {
            pat.to_string()
        };
        if matches(s, &pat) {
            if negated {
                return false;
            }
            positive = true;
        }
    }
    positive
}

/// True when a `Host` pattern names one host (no wildcard, no negation).
pub fn is_concrete(pattern: &str) -> bool {
    !pattern.is_empty() && !pattern.contains(['*', '?', '!', ','])
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn wildcards() {
        assert!(matches("db1.prod", "db?.*"));
        assert!(matches("x", "*"));
        assert!(matches("", "*"));
        assert!(!matches("DB1", "db1"));
        assert!(!matches("db10", "db?"));
        assert!(matches("abcabd", "*abd"));
    }

    #[test]
    fn lists() {
        assert!(matches_list("web1", "db*,web*", false));
        assert!(!matches_list("web1", "*,!web*", false));
        assert!(!matches_list("web1", "!db*", false));
        assert!(matches_list("web1", "WEB*", true));
    }

    proptest! {
        // A fixed seed, so CI runs the same cases every time.
        #![proptest_config(proptest::prelude::ProptestConfig {
            rng_seed: proptest::test_runner::RngSeed::Fixed(0x6c75_6d65_6e00_0006),
            ..proptest::prelude::ProptestConfig::default()
        })]

        #[test]
        fn literal_patterns_match_only_themselves(a in "[a-z0-9.]{0,8}", b in "[a-z0-9.]{0,8}") {
            prop_assert_eq!(matches(&a, &b), a == b);
            let star_pattern = format!("{a}*");
            let joined = a.clone() + &b;
            prop_assert!(matches(&joined, &star_pattern));
        }
    }
}
