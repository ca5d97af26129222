//! The one error type of the SSH module; every message says what happened and what to do.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum SshError {
    #[error("could not resolve host name {host}: {why}; check the spelling or your DNS")]
    Dns { host: String, why: String },

    #[error("connection to {host} port {port} refused; is sshd running there, on that port?")]
    ConnectionRefused { host: String, port: u16 },

    #[error(
        "connection to {host} port {port} timed out after {secs} s; check the address, \
         firewall or VPN"
    )]
    ConnectTimeout { host: String, port: u16, secs: u64 },

    #[error("no route to {host} port {port}: {why}; check your network or VPN")]
    NoRoute {
        host: String,
        port: u16,
        why: String,
    },

    #[error("could not connect to {host} port {port}: {why}")]
    Connect {
        host: String,
        port: u16,
        why: String,
    },

    #[error("invalid target {input:?}: {why}")]
    BadTarget { input: String, why: String },

    #[error(
        "authentication to {user}@{host} failed: tried {}; the server accepts {}",
        list_or_none(tried),
        list_or_none(offered)
    )]
    AuthExhausted {
        user: String,
        host: String,
        tried: Vec<String>,
        offered: Vec<String>,
    },

    #[error(
        "{host} port {port} does not speak SSH (it answered {first_line:?}); check the port: \
         another service is listening there"
    )]
    NotSsh {
        host: String,
        port: u16,
        first_line: String,
    },

    #[error(
        "{host} port {port} closed the connection before the SSH version exchange; is sshd \
         running there, or does a firewall or TCP wrapper refuse this client?"
    )]
    ClosedBeforeVersion { host: String, port: u16 },

    #[error(
        "{host} closed the connection during authentication{}",
        why_suffix(why)
    )]
    ServerClosedDuringAuth { host: String, why: String },

    #[error("cannot read private key {}: {why}", path.display())]
    UnreadableKey { path: PathBuf, why: String },

    #[error("private key {} is not a valid key: {why}", path.display())]
    MalformedKey { path: PathBuf, why: String },

    #[error("wrong passphrase for {} (3 tries); check the passphrase or use ssh-agent", path.display())]
    WrongPassphrase { path: PathBuf },

    #[error("{0}")]
    HostKeyChanged(Box<ChangedKey>),

    #[error(
        "the host key of {host} ({fingerprint}) is marked @revoked in {} line {line}; refusing \
         to connect",
        file.display()
    )]
    HostKeyRevoked {
        host: String,
        fingerprint: String,
        file: PathBuf,
        line: usize,
    },

    #[error("host key of {host} ({fingerprint}) was not accepted; connection closed")]
    HostKeyRejected { host: String, fingerprint: String },

    #[error(
        "the host key of {host} ({fingerprint}) is not known and StrictHostKeyChecking is yes; \
         add it to known_hosts, or connect once with -o StrictHostKeyChecking=ask"
    )]
    HostKeyUnknown { host: String, fingerprint: String },

    #[error("{role} {name} ({addr}): {source}")]
    Hop {
        /// "jump host" or "proxy command for".
        role: &'static str,
        name: String,
        addr: String,
        source: Box<SshError>,
    },

    #[error("ProxyCommand {command:?} failed: {why}; check the command in your ssh config")]
    ProxyCommand { command: String, why: String },

    #[error("jump chain of {name} is too long or loops ({depth} levels); check ProxyJump")]
    JumpLoop { name: String, depth: usize },

    #[error("{command:?} on {host} did not finish within {secs} s; lumen stopped it")]
    ExecTimeout {
        host: String,
        command: String,
        secs: u64,
    },

    #[error("cannot update known hosts file {}: {why}", path.display())]
    KnownHostsWrite { path: PathBuf, why: String },

    #[error(
        "cannot read known_hosts file {}: {why}; lumen will not connect without checking the \
         host key against it (fix its permissions, or remove it if it should not exist)",
        path.display()
    )]
    KnownHostsUnreadable { path: PathBuf, why: String },

    #[error("the SSH agent at {} failed: {why}", socket.display())]
    Agent { socket: PathBuf, why: String },

    #[error("the server refused {what}: {why}")]
    Channel { what: String, why: String },

    #[error("SSH protocol error with {host}: {why}")]
    Protocol { host: String, why: String },

    #[error("embedded SSH server: {0}")]
    Server(String),
}

/// The details of a changed host key (boxed to keep `SshError` small).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangedKey {
    pub host: String,
    /// `HOST` or `HOST:PORT`, as `lumen hosts forget` takes it.
    pub forget_arg: String,
    /// `host` or `[host]:port`, as known_hosts files and `ssh-keygen -R` name it.
    pub known_hosts_name: String,
    /// Whether the old key is in lumen's own file (which `lumen hosts forget` edits) rather than
    /// in the user's or the system's (which lumen never edits).
    pub in_lumen_file: bool,
    pub old_fingerprint: String,
    pub new_fingerprint: String,
    pub file: PathBuf,
    pub line: usize,
}

impl std::fmt::Display for ChangedKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "HOST KEY CHANGED for {}: the server now presents {}, but {} line {} has {}. \
             Someone may be intercepting the connection. If the server was really reinstalled, \
             remove the old key with ",
            self.host,
            self.new_fingerprint,
            self.file.display(),
            self.line,
            self.old_fingerprint,
        )?;
        if self.in_lumen_file {
            write!(f, "'lumen hosts forget {}'", self.forget_arg)
        } else {
            write!(
                f,
                "'ssh-keygen -R \"{}\" -f \"{}\"' (lumen does not edit that file)",
                self.known_hosts_name,
                self.file.display()
            )
        }
    }
}

fn list_or_none(items: &[String]) -> String {
    if items.is_empty() {
        "nothing".into()
    } else {
        items.join(", ")
    }
}

fn why_suffix(why: &str) -> String {
    if why.is_empty() {
        String::new()
    } else {
        format!(" ({why})")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn changed_key_message_names_both_fingerprints_and_the_fix() {
        let e = SshError::HostKeyChanged(Box::new(ChangedKey {
            host: "db1".into(),
            forget_arg: "db1".into(),
            known_hosts_name: "db1".into(),
            in_lumen_file: true,
            old_fingerprint: "SHA256:old".into(),
            new_fingerprint: "SHA256:new".into(),
            file: "/k".into(),
            line: 3,
        }));
        let m = e.to_string();
        assert!(m.contains("SHA256:old") && m.contains("SHA256:new"), "{m}");
        assert!(
            m.contains("/k line 3") && m.contains("lumen hosts forget db1"),
            "{m}"
        );
        let e = SshError::HostKeyChanged(Box::new(ChangedKey {
            host: "db1".into(),
            forget_arg: "db1:2222".into(),
            known_hosts_name: "[db1]:2222".into(),
            in_lumen_file: false,
            old_fingerprint: "SHA256:old".into(),
            new_fingerprint: "SHA256:new".into(),
            file: "/etc/ssh/ssh_known_hosts".into(),
            line: 3,
        }));
        let m = e.to_string();
        assert!(
            m.contains("ssh-keygen -R \"[db1]:2222\" -f \"/etc/ssh/ssh_known_hosts\"")
                && !m.contains("lumen hosts forget"),
            "{m}"
        );
    }

    #[test]
    fn exhausted_lists_methods() {
        let e = SshError::AuthExhausted {
            user: "u".into(),
            host: "h".into(),
            tried: vec!["publickey (agent)".into()],
            offered: vec!["publickey".into(), "password".into()],
        };
        assert!(
            e.to_string()
                .contains("tried publickey (agent); the server accepts publickey, password")
        );
    }
}
