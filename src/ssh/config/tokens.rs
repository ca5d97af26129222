//! `%` tokens, `${VAR}` and `~` expansion, as OpenSSH's `percent_expand` and `tilde_expand` do.

use sha1::{Digest, Sha1};
use std::path::Path;

/// The values the `%` tokens stand for once a host is resolved.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenValues {
    /// `%h`: the remote hostname after `Hostname` and lowercasing.
    pub host: String,
    /// `%n`: the host as given on the command line.
    pub original_host: String,
    /// `%p`
    pub port: u16,
    /// `%r`
    pub remote_user: String,
    /// `%u`
    pub local_user: String,
    /// `%d`
    pub home_dir: String,
    /// `%l`: the local hostname; `%L` is its first label.
    pub local_host: String,
    /// `%i`
    pub uid: u32,
    /// `%k`: HostKeyAlias, or the original host.
    pub key_alias: String,
}

impl TokenValues {
    /// `%C`: SHA-1 of `%l%h%p%r` in hex (OpenSSH 9.2; later releases append `%j`).
    pub fn connection_hash(&self) -> String {
        let mut h = Sha1::new();
        h.update(self.local_host.as_bytes());
        h.update(self.host.as_bytes());
        h.update(self.port.to_string().as_bytes());
        h.update(self.remote_user.as_bytes());
        h.finalize().iter().map(|b| format!("{b:02x}")).collect()
    }

    fn short_local_host(&self) -> &str {
        self.local_host.split('.').next().unwrap_or("")
    }

    /// The value of token `c` among OpenSSH's default client tokens.
    fn value(&self, c: char) -> Option<String> {
        Some(match c {
            'C' => self.connection_hash(),
            'L' => self.short_local_host().to_string(),
            'i' => self.uid.to_string(),
            'k' => self.key_alias.clone(),
            'l' => self.local_host.clone(),
            'n' => self.original_host.clone(),
            'p' => self.port.to_string(),
            'd' => self.home_dir.clone(),
            'h' => self.host.clone(),
            'r' => self.remote_user.clone(),
            'u' => self.local_user.clone(),
            _ => return None,
        })
    }

    /// Tilde, then `%` and `${VAR}` expansion, as for UserKnownHostsFile and IdentityFile.
    pub fn expand_path(&self, s: &str) -> Result<String, String> {
        let tilde = expand_tilde(s, Path::new(&self.home_dir));
        let dollars = expand_env(&tilde)?;
        expand_percent(&dollars, |c| self.value(c))
    }
}

/// `%x` expansion with a lookup; `%%` is a literal `%`. Unknown tokens are an error, as in ssh.
pub fn expand_percent(
    s: &str,
    lookup: impl FnMut(char) -> Option<String>,
) -> Result<String, String> {
    expand(s, lookup, true)
}

/// Like [`expand_percent`], but an unknown token (or a trailing `%`) is kept as written.
pub fn expand_percent_lenient(s: &str, lookup: impl FnMut(char) -> Option<String>) -> String {
    expand(s, lookup, false).unwrap_or_else(|_| s.to_string())
}

fn expand(
    s: &str,
    mut lookup: impl FnMut(char) -> Option<String>,
    strict: bool,
) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('%') => out.push('%'),
            Some(k) => match lookup(k) {
                Some(v) => out.push_str(&v),
                None if strict => return Err(format!("unknown token %{k}")),
                None => {
                    out.push('%');
                    out.push(k);
                }
            },
            None if strict => return Err("'%' at the end of the value".into()),
            None => out.push('%'),
        }
    }
    Ok(out)
}

/// `~` or `~/…` becomes the home directory. `~user` is left alone.
pub fn expand_tilde(s: &str, home: &Path) -> String {
    let home = home.to_string_lossy();
    let home = home.trim_end_matches('/');
    if s == "~" {
        return home.to_string();
    }
    match s.strip_prefix("~/") {
        Some(rest) => format!("{home}/{rest}"),
        None => s.to_string(),
    }
}

/// `${VAR}` from the environment; an unset variable is an error, as in ssh.
pub fn expand_env(s: &str) -> Result<String, String> {
    let mut out = String::new();
    let mut rest = s;
    while let Some(start) = rest.find("${") {
        out.push_str(&rest[..start]);
        let after = &rest[start + 2..];
        let end = after
            .find('}')
            .ok_or_else(|| format!("unterminated ${{ in {s:?}"))?;
        let name = &after[..end];
        match std::env::var(name) {
            Ok(v) => out.push_str(&v),
            Err(_) => return Err(format!("environment variable {name} is not set")),
        }
        rest = &after[end + 1..];
    }
    out.push_str(rest);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> TokenValues {
        TokenValues {
            host: "foo.example".into(),
            original_host: "foo".into(),
            port: 22,
            remote_user: "U%h".into(),
            local_user: "tester".into(),
            home_dir: "/tmp/exp/home".into(),
            local_host: "vm".into(),
            uid: 0,
            key_alias: "foo".into(),
        }
    }

    #[test]
    fn connection_hash_matches_openssh() {
        // Value printed by OpenSSH 9.2 `ssh -G` for the same inputs.
        assert_eq!(
            values().connection_hash(),
            "f7cc4dfa73333e22d52ecf9c9b56d4c5f8356ad9"
        );
    }

    #[test]
    fn path_expansion() {
        let v = values();
        assert_eq!(
            v.expand_path("~/.ssh/kh_%h_%r_%p_%u_%n_%d_%l_%L_%%")
                .unwrap(),
            "/tmp/exp/home/.ssh/kh_foo.example_U%h_22_tester_foo_/tmp/exp/home_vm_vm_%"
        );
        assert!(v.expand_path("%z").is_err());
        assert!(v.expand_path("${LUMEN_SURELY_UNSET_VAR}").is_err());
        assert_eq!(expand_tilde("~other/x", Path::new("/h")), "~other/x");
    }
}

#[cfg(test)]
mod lenient_tests {
    use super::*;

    #[test]
    fn lenient_keeps_unknown_tokens_strict_refuses_them() {
        let look = |c: char| (c == 'h').then(|| "db1".to_string());
        assert_eq!(
            expand_percent_lenient("nc %h %x 100%% %", look),
            "nc db1 %x 100% %"
        );
        assert!(expand_percent("nc %h %x", look).is_err());
        assert_eq!(expand_percent("%h:%%", look), Ok("db1:%".to_string()));
    }
}
