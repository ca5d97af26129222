//! Which host and user names may reach a connection, as OpenSSH's `valid_hostname` and
//! `valid_ruser` decide, and which `%` token values may be put into a shell command.
//!
//! A name reaches lumen from the command line, `-l`, `-J`, ssh_config (`HostName`, `User`),
//! `hosts.toml` (a file teams share) and the new-tab dialog. Every one of them is checked when
//! a connection plan is made, so a name such as `a$(touch /tmp/x)` is refused before any
//! ProxyCommand could see it.

/// Characters OpenSSH refuses anywhere in a host name (ssh.c `valid_hostname`).
const HOST_FORBIDDEN: &str = "'`\"$\\;&<>|(){},";
/// Characters OpenSSH refuses in a remote user name (ssh.c `valid_ruser`).
const USER_FORBIDDEN: &str = "'`\";&<>|(){}";

/// Why `host` cannot be a host name, if it cannot.
pub fn check_hostname(host: &str) -> Result<(), String> {
    if host.is_empty() {
        return Err("the hostname is empty".into());
    }
    if host.starts_with('-') {
        return Err(format!(
            "hostname {} starts with '-'",
            crate::text::quoted(host)
        ));
    }
    if let Some(c) = host
        .chars()
        .find(|c| HOST_FORBIDDEN.contains(*c) || c.is_whitespace() || c.is_control())
    {
        return Err(format!(
            "hostname {} contains invalid characters ({}), as ssh would refuse it",
            crate::text::quoted(host),
            crate::text::quoted(&c.to_string())
        ));
    }
    Ok(())
}

/// Why `user` cannot be a remote user name, if it cannot.
pub fn check_user(user: &str) -> Result<(), String> {
    let bad = |what: &str| {
        Err(format!(
            "user name {} {what}, as ssh would refuse it",
            crate::text::quoted(user)
        ))
    };
    if user.is_empty() {
        return bad("is empty");
    }
    if user.starts_with('-') {
        return bad("starts with '-'");
    }
    let chars: Vec<char> = user.chars().collect();
    for (i, c) in chars.iter().enumerate() {
        if c.is_control() || USER_FORBIDDEN.contains(*c) {
            return bad("contains invalid characters");
        }
        if c.is_whitespace() && chars.get(i + 1) == Some(&'-') {
            return bad("has '-' after a space");
        }
        if *c == '\\' && i + 1 == chars.len() {
            return bad("ends with '\\'");
        }
    }
    Ok(())
}

/// Whether `value` can be pasted into a `sh -c` command line as one word that the shell
/// neither splits, expands, globs nor interprets: letters, digits and `._-+=:,/@%`.
/// Anything else is refused rather than quoted, because a template may already quote its
/// tokens (`nc '%h' %p`) and quoting inside quotes would undo the protection.
pub fn shell_safe(value: &str) -> bool {
    !value.is_empty()
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-+=:,/@%".contains(c))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hostnames_as_openssh() {
        for ok in [
            "db1",
            "10.0.0.1",
            "::1",
            "fe80::1%eth0",
            "a-b.example.com",
            "h_1",
        ] {
            assert!(check_hostname(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "-oProxyCommand=x",
            "a$(touch /tmp/x)",
            "a`id`",
            "a;b",
            "a b",
            "a\tb",
            "a\x1b]0;x\x07",
            "a|b",
            "a&b",
            "a>b",
            "a'b",
            "a\"b",
            "a\\b",
            "a{b}",
            "a,b",
        ] {
            assert!(check_hostname(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn users_as_openssh() {
        for ok in ["root", "first.last", "DOMAIN\\user", "a b", "user@corp"] {
            assert!(check_user(ok).is_ok(), "{ok}");
        }
        for bad in [
            "",
            "-l",
            "u$(id)",
            "u`id`",
            "u;id",
            "u|x",
            "a -b",
            "trailing\\",
            "u\x07",
        ] {
            // `$` alone is allowed by ssh in user names; `$(` is refused through `(`.
            assert!(check_user(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn shell_safe_values() {
        assert!(shell_safe("10.0.0.1"));
        assert!(shell_safe("fe80::1%eth0"));
        assert!(shell_safe("/home/me"));
        for bad in [
            "", "a b", "$(x)", "a*", "a?", "[x]", "~x", "a'b", "a\nb", "a#b",
        ] {
            assert!(!shell_safe(bad), "{bad:?}");
        }
    }
}
