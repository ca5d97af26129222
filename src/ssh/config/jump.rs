//! ProxyJump values: `[user@]host[:port]` or `ssh://[user@]host[:port]`, comma-separated,
//! checked and printed as OpenSSH's `parse_jump` and `ssh -G` do.

use super::options::Jump;

/// One hop of a jump chain.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JumpHop {
    pub user: Option<String>,
    pub host: String,
    pub port: Option<u16>,
}

impl std::fmt::Display for JumpHop {
    /// `ssh -G` form: numeric hosts (IPv4 digits-and-dots, anything with `:`) in brackets.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let Some(u) = &self.user {
            write!(f, "{u}@")?;
        }
        let numeric =
            self.host.contains(':') || self.host.chars().all(|c| c.is_ascii_digit() || c == '.');
        if numeric {
            write!(f, "[{}]", self.host)?;
        } else {
            write!(f, "{}", self.host)?;
        }
        if let Some(p) = self.port {
            write!(f, ":{p}")?;
        }
        Ok(())
    }
}

fn parse_port(s: &str) -> Result<u16, String> {
    s.parse::<u16>()
        .ok()
        .filter(|p| *p > 0)
        .ok_or_else(|| format!("bad port '{s}'"))
}

/// `[user@]host[:port]`, host possibly `[v6]`.
fn parse_user_host_port(s: &str) -> Result<JumpHop, String> {
    let (user, rest) = match s.rfind('@') {
        Some(0) => return Err(format!("empty user in '{s}'")),
        Some(i) => (Some(s[..i].to_string()), &s[i + 1..]),
        None => (None, s),
    };
    let (host, port) = if let Some(after) = rest.strip_prefix('[') {
        let close = after
            .find(']')
            .ok_or_else(|| format!("missing ']' in '{s}'"))?;
        let tail = &after[close + 1..];
        let port = match tail {
            "" => None,
            t => match t.strip_prefix(':').or_else(|| t.strip_prefix('/')) {
                Some(p) => Some(p),
                None => return Err(format!("bad host in '{s}'")),
            },
        };
        (after[..close].to_string(), port)
    } else {
        match rest.find([':', '/']) {
            Some(i) => (rest[..i].to_string(), Some(&rest[i + 1..])),
            None => (rest.to_string(), None),
        }
    };
    if host.is_empty() {
        return Err(format!("missing host in '{s}'"));
    }
    let port = match port {
        Some("") | None => None,
        Some(p) => Some(parse_port(p)?),
    };
    Ok(JumpHop { user, host, port })
}

/// One hop, accepting the `ssh://` form too.
pub fn parse_hop(s: &str) -> Result<JumpHop, String> {
    match s.strip_prefix("ssh://") {
        Some(uri) => {
            let uri = uri.strip_suffix('/').unwrap_or(uri);
            if uri.contains('/') {
                return Err(format!("unexpected path in '{s}'"));
            }
            // A user in a URI may carry `;params`, which OpenSSH drops.
            let mut hop = parse_user_host_port(uri)?;
            if let Some(u) = &hop.user {
                hop.user = u.split(';').next().map(str::to_string);
            }
            Ok(hop)
        }
        None => parse_user_host_port(s),
    }
}

/// The whole ProxyJump value: `none`, or hops separated by commas. The last hop is the one
/// ssh parses fully; earlier ones are kept verbatim (ssh -G prints them as written).
pub fn parse_chain(raw: &str) -> Result<Jump, String> {
    let s = raw.split('#').next().unwrap_or("").trim_end();
    if raw.trim_end().eq_ignore_ascii_case("none") || s.eq_ignore_ascii_case("none") {
        return Ok(Jump::None);
    }
    if s.is_empty() {
        return Err("ProxyJump needs a host".into());
    }
    let invalid = |e: String| format!("invalid ProxyJump \"{s}\": {e}");
    let (extra, last) = match s.rfind(',') {
        Some(i) => (Some(&s[..i]), &s[i + 1..]),
        None => (None, s),
    };
    let hop = parse_hop(last).map_err(invalid)?;
    if let Some(extra) = extra {
        for h in extra.split(',') {
            parse_hop(h).map_err(invalid)?;
        }
    }
    Ok(Jump::Chain(match extra {
        Some(e) => format!("{e},{hop}"),
        None => hop.to_string(),
    }))
}

/// The hops of a chain, first hop first.
pub fn hops(chain: &str) -> Result<Vec<JumpHop>, String> {
    chain.split(',').map(parse_hop).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn printed(s: &str) -> String {
        match parse_chain(s).unwrap() {
            Jump::Chain(c) => c,
            other => format!("{other:?}"),
        }
    }

    #[test]
    fn printed_like_ssh_g() {
        // Each expected value is what OpenSSH 9.2 `ssh -G` printed.
        assert_eq!(
            printed("10.0.0.5:2222,bob@b2:22"),
            "10.0.0.5:2222,bob@b2:22"
        );
        assert_eq!(printed("ssh://bob@b2:2200"), "bob@b2:2200");
        assert_eq!(printed("10.0.0.5"), "[10.0.0.5]");
        assert_eq!(printed("a,10.0.0.5:22"), "a,[10.0.0.5]:22");
        assert_eq!(printed("BOB@B2"), "BOB@B2");
        assert_eq!(printed("bob@[::1]:22"), "bob@[::1]:22");
        assert_eq!(parse_chain("none").unwrap(), Jump::None);
    }

    #[test]
    fn rejects_bad_hops() {
        assert!(parse_chain("a:0").is_err());
        assert!(parse_chain("@a").is_err());
        assert!(parse_chain("x,a:port").is_err());
        assert!(parse_chain("a:99999").is_err());
    }

    #[test]
    fn hop_parts() {
        let h = parse_hop("ops@10.0.0.1:2222").unwrap();
        assert_eq!(h.user.as_deref(), Some("ops"));
        assert_eq!(h.host, "10.0.0.1");
        assert_eq!(h.port, Some(2222));
    }
}
