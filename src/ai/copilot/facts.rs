//! The host facts the copilot sends: one read-only command the caller runs once per session
//! over `exec` (OS from os-release, kernel, hostname, addresses, uptime), and its output read
//! back into `key: value` lines. Running it is the caller's job; nothing here touches a host.

use super::HostFacts;
use crate::scan::os::OsRelease;
use std::time::Duration;

/// The one command, POSIX sh, read-only. Each part is headed by a `== NAME` line so a part
/// that fails (no `hostname -I` on busybox, no /proc on a BSD) loses only itself.
pub const FACTS_COMMAND: &str = "echo '== os-release'; \
cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release 2>/dev/null; \
echo '== kernel'; uname -srm 2>/dev/null; \
echo '== hostname'; uname -n 2>/dev/null; \
echo '== addresses'; hostname -I 2>/dev/null || \
ip -o addr show scope global 2>/dev/null | awk '{print $4}'; \
echo '== uptime'; cat /proc/uptime 2>/dev/null || uptime 2>/dev/null";

/// How long the facts may take (a slow login shell, a busy host).
pub const FACTS_TIMEOUT: Duration = Duration::from_secs(15);
/// How much of the command's output is read: a few lines are expected.
pub const FACTS_MAX_OUTPUT: usize = 64 * 1024;
/// Characters kept of one fact: a hostile host cannot fill the context with them.
const MAX_FACT_CHARS: usize = 300;
/// Addresses listed at most (a host with hundreds of container bridges).
const MAX_ADDRESSES: usize = 16;

/// The facts in `stdout`, the output of [`FACTS_COMMAND`]. Parts that are missing or empty
/// are left out.
pub fn parse_facts(stdout: &str) -> HostFacts {
    let mut part = "";
    let mut sections: Vec<(&str, Vec<&str>)> = Vec::new();
    for line in stdout.lines() {
        if let Some(name) = line.strip_prefix("== ") {
            part = name.trim();
            sections.push((part, Vec::new()));
        } else if let Some((_, lines)) = sections.iter_mut().rev().find(|(n, _)| *n == part) {
            lines.push(line);
        }
    }
    let text_of = |name: &str| -> String {
        sections
            .iter()
            .filter(|(n, _)| *n == name)
            .flat_map(|(_, l)| l.iter().copied())
            .collect::<Vec<_>>()
            .join("\n")
    };
    let mut facts: Vec<(&str, String)> = Vec::new();
    let os = OsRelease::parse(&text_of("os-release"));
    let os_name = if !os.pretty_name.is_empty() {
        os.pretty_name.clone()
    } else {
        format!("{} {}", os.id, os.version_id).trim().to_string()
    };
    facts.push(("os", os_name));
    facts.push(("kernel", text_of("kernel").trim().to_string()));
    facts.push(("hostname", text_of("hostname").trim().to_string()));
    let addresses: Vec<String> = text_of("addresses")
        .split_whitespace()
        .take(MAX_ADDRESSES)
        .map(str::to_string)
        .collect();
    facts.push(("addresses", addresses.join(" ")));
    facts.push(("uptime", uptime(text_of("uptime").trim())));
    let text = facts
        .into_iter()
        .filter(|(_, v)| !v.is_empty())
        .map(|(k, v)| format!("{k}: {}", clip(&v.replace('\n', " "))))
        .collect::<Vec<_>>()
        .join("\n");
    HostFacts { text }
}

/// `/proc/uptime` ("351735.12 1234.5") in words; `uptime`'s own line as it is.
fn uptime(text: &str) -> String {
    let first = text.split_whitespace().next().unwrap_or("");
    let Ok(secs) = first.parse::<f64>() else {
        return text.to_string();
    };
    if !secs.is_finite() || secs < 0.0 {
        return text.to_string();
    }
    let secs = secs as u64;
    let (days, hours, minutes) = (secs / 86_400, secs % 86_400 / 3_600, secs % 3_600 / 60);
    let unit = |n: u64, one: &str| format!("{n} {one}{}", if n == 1 { "" } else { "s" });
    let mut parts = Vec::new();
    if days > 0 {
        parts.push(unit(days, "day"));
    }
    if days > 0 || hours > 0 {
        parts.push(unit(hours, "hour"));
    }
    parts.push(unit(minutes, "minute"));
    format!("up {}", parts.join(", "))
}

fn clip(v: &str) -> String {
    if v.chars().count() <= MAX_FACT_CHARS {
        return v.to_string();
    }
    let cut: String = v.chars().take(MAX_FACT_CHARS).collect();
    format!("{cut} […]")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_debian_host_reads_as_five_facts() {
        let out = "== os-release\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\n\
                   == kernel\nLinux 6.1.0-18-amd64 x86_64\n== hostname\ndb1\n\
                   == addresses\n10.0.0.5 fd00::5 \n== uptime\n351735.12 1234.50\n";
        assert_eq!(
            parse_facts(out).text,
            "os: Debian GNU/Linux 12 (bookworm)\nkernel: Linux 6.1.0-18-amd64 x86_64\n\
             hostname: db1\naddresses: 10.0.0.5 fd00::5\nuptime: up 4 days, 1 hour, 42 minutes"
        );
    }

    #[test]
    fn missing_parts_are_left_out_and_long_ones_cut() {
        let out = format!(
            "== os-release\nID=alpine\nVERSION_ID=3.19.1\n== kernel\n== hostname\n{}\n\
             == addresses\n== uptime\n 10:01:02 up 5 min,  load average: 0.00\n",
            "h".repeat(1000)
        );
        let facts = parse_facts(&out).text;
        let lines: Vec<&str> = facts.lines().collect();
        assert_eq!(lines[0], "os: alpine 3.19.1");
        assert!(lines[1].starts_with("hostname: hhh") && lines[1].ends_with("[…]"));
        assert_eq!(lines[2], "uptime: 10:01:02 up 5 min,  load average: 0.00");
        assert_eq!(lines.len(), 3, "{facts}");
        assert_eq!(parse_facts("").text, "");
        assert_eq!(uptime("59.9 1.0"), "up 0 minutes");
        assert_eq!(uptime("3600 1"), "up 1 hour, 0 minutes");
    }
}
