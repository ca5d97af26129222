//! Host-name matching in known_hosts: OpenSSH's hashed names (`|1|salt|hash`, HMAC-SHA1) and
//! pattern lists with `*`/`?` wildcards and `!` negation.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha1::Sha1;

const HASH_MAGIC: &str = "|1|";
const SALT_LEN: usize = 20;

/// How a known_hosts host field relates to a name.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostMatch {
    Yes,
    No,
    /// A `!pattern` matched: the line does not apply, whatever else matches.
    Negated,
}

/// Match a whole host field (`a,b,!c` or one hashed name) against `name` (already in
/// `host` / `[host]:port` form and lowercase).
pub fn match_host_field(field: &str, name: &str) -> HostMatch {
    if field.starts_with(HASH_MAGIC) {
        return if hashed_matches(field, name) {
            HostMatch::Yes
        } else {
            HostMatch::No
        };
    }
    let mut any = false;
    for pattern in field.split(',') {
        let (negated, pattern) = match pattern.strip_prefix('!') {
            Some(p) => (true, p),
            None => (false, pattern),
        };
        if wildcard_match(&pattern.to_ascii_lowercase(), name) {
            if negated {
                return HostMatch::Negated;
            }
            any = true;
        }
    }
    if any { HostMatch::Yes } else { HostMatch::No }
}

/// `|1|base64(salt)|base64(HMAC-SHA1(salt, name))` compared with `name`.
pub fn hashed_matches(field: &str, name: &str) -> bool {
    let Some(rest) = field.strip_prefix(HASH_MAGIC) else {
        return false;
    };
    let Some((salt, hash)) = rest.split_once('|') else {
        return false;
    };
    let (Ok(salt), Ok(hash)) = (STANDARD.decode(salt), STANDARD.decode(hash)) else {
        return false;
    };
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(&salt) else {
        return false;
    };
    mac.update(name.as_bytes());
    mac.verify_slice(&hash).is_ok()
}

/// Hash `name` with a fresh random salt, as `ssh-keygen -H` and `HashKnownHosts yes` do.
pub fn hash_name(name: &str) -> String {
    use rand::RngCore;
    let mut salt = [0u8; SALT_LEN];
    rand::rngs::OsRng.fill_bytes(&mut salt);
    hash_name_with_salt(name, &salt)
}

pub fn hash_name_with_salt(name: &str, salt: &[u8]) -> String {
    // HMAC accepts keys of any length, so this cannot fail; fall back to an unmatchable field.
    let Ok(mut mac) = Hmac::<Sha1>::new_from_slice(salt) else {
        return format!("{HASH_MAGIC}|");
    };
    mac.update(name.as_bytes());
    let hash = mac.finalize().into_bytes();
    format!(
        "{HASH_MAGIC}{}|{}",
        STANDARD.encode(salt),
        STANDARD.encode(hash)
    )
}

/// Shell-style `*` and `?` matching over bytes, as OpenSSH's `match_pattern`.
pub fn wildcard_match(pattern: &str, text: &str) -> bool {
    let (p, t) = (pattern.as_bytes(), text.as_bytes());
    let (mut pi, mut ti) = (0usize, 0usize);
    let mut star: Option<(usize, usize)> = None;
    while ti < t.len() {
        if pi < p.len() && (p[pi] == b'?' || p[pi] == t[ti]) {
            pi += 1;
            ti += 1;
        } else if pi < p.len() && p[pi] == b'*' {
            star = Some((pi, ti));
            pi += 1;
        } else if let Some((sp, st)) = star {
            pi = sp + 1;
            ti = st + 1;
            star = Some((sp, st + 1));
        } else {
            return false;
        }
    }
    while pi < p.len() && p[pi] == b'*' {
        pi += 1;
    }
    pi == p.len()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards() {
        assert!(wildcard_match("*.example.com", "db1.example.com"));
        assert!(!wildcard_match("*.example.com", "example.com"));
        assert!(wildcard_match("db?", "db1"));
        assert!(!wildcard_match("db?", "db12"));
        assert!(wildcard_match("*", ""));
        assert!(wildcard_match("[*]:2222", "[db1]:2222"));
        assert!(wildcard_match("a*b*c", "aXXbYYc"));
    }

    #[test]
    fn negation_wins() {
        assert_eq!(
            match_host_field("*.corp,!db1.corp", "db1.corp"),
            HostMatch::Negated
        );
        assert_eq!(
            match_host_field("*.corp,!db1.corp", "db2.corp"),
            HostMatch::Yes
        );
        assert_eq!(match_host_field("Web1", "web1"), HostMatch::Yes);
        assert_eq!(match_host_field("web1", "web2"), HostMatch::No);
    }

    #[test]
    fn hashed_round_trip() {
        let field = hash_name("[db1]:2222");
        assert!(hashed_matches(&field, "[db1]:2222"));
        assert!(!hashed_matches(&field, "db1"));
        assert!(!hashed_matches("|1|notbase64|x", "db1"));
    }
}
