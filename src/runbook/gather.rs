//! Identical outputs gathered across hosts, as `clush -b` does: `web[01-03],db1 (4 hosts):
//! active`. The CLI's summary and the TUI's run view both use it.

use super::exec::{HostStatus, RunReport};

/// Host names written compactly: names that differ only in a trailing number of the same
/// width collapse to `prefix[01-03,07]`, in the order first seen.
pub fn host_set(names: &[String]) -> String {
    // (prefix, width) → numbers, in order of first appearance.
    let mut groups: Vec<(String, usize, Vec<u64>)> = Vec::new();
    let mut plain: Vec<(usize, String)> = Vec::new();
    for (i, name) in names.iter().enumerate() {
        let digits = name.len() - name.trim_end_matches(|c: char| c.is_ascii_digit()).len();
        let (prefix, number) = name.split_at(name.len() - digits);
        match number.parse::<u64>() {
            Ok(n) if digits > 0 => {
                match groups
                    .iter_mut()
                    .find(|(p, w, _)| p == prefix && *w == digits)
                {
                    Some((_, _, ns)) => ns.push(n),
                    None => {
                        groups.push((prefix.to_string(), digits, vec![n]));
                        plain.push((i, String::new()));
                    }
                }
            }
            _ => plain.push((i, name.clone())),
        }
    }
    let mut parts = Vec::new();
    let mut g = groups.into_iter();
    for (_, name) in plain {
        if !name.is_empty() {
            parts.push(name);
            continue;
        }
        let Some((prefix, width, mut ns)) = g.next() else {
            continue;
        };
        ns.sort_unstable();
        ns.dedup();
        if ns.len() == 1 {
            parts.push(format!("{prefix}{:0width$}", ns[0]));
            continue;
        }
        let mut ranges: Vec<String> = Vec::new();
        let mut start = ns[0];
        let mut prev = ns[0];
        for &n in ns.iter().skip(1).chain(std::iter::once(&u64::MAX)) {
            if n != prev.wrapping_add(1) || n == u64::MAX {
                ranges.push(if start == prev {
                    format!("{start:0width$}")
                } else {
                    format!("{start:0width$}-{prev:0width$}")
                });
                start = n;
            }
            prev = n;
        }
        parts.push(format!("{prefix}[{}]", ranges.join(",")));
    }
    parts.join(",")
}

/// One group of hosts whose output was the same.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Gathered {
    /// `web[01-03],db1`.
    pub hosts: String,
    pub count: usize,
    pub output: String,
}

/// `(host, output)` pairs grouped by identical output, largest group first (ties: first
/// seen first).
pub fn gather(outputs: &[(String, String)]) -> Vec<Gathered> {
    let mut groups: Vec<(&str, Vec<String>)> = Vec::new();
    for (host, out) in outputs {
        match groups.iter_mut().find(|(o, _)| *o == out.as_str()) {
            Some((_, hosts)) => hosts.push(host.clone()),
            None => groups.push((out.as_str(), vec![host.clone()])),
        }
    }
    groups.sort_by_key(|(_, hosts)| std::cmp::Reverse(hosts.len()));
    groups
        .into_iter()
        .map(|(out, hosts)| Gathered {
            hosts: host_set(&hosts),
            count: hosts.len(),
            output: out.to_string(),
        })
        .collect()
}

/// The last step's output of each host that ran to the end, gathered: what the run said.
pub fn final_outputs(report: &RunReport) -> Vec<Gathered> {
    let pairs: Vec<(String, String)> = report
        .hosts
        .iter()
        .filter(|h| h.status == HostStatus::Ok)
        .filter_map(|h| {
            let last = h.steps.last()?;
            let mut text = last.stdout.trim_end().to_string();
            if !last.stderr.trim().is_empty() {
                text.push_str(&format!("\n[stderr] {}", last.stderr.trim_end()));
            }
            Some((h.host.clone(), text))
        })
        .collect();
    gather(&pairs)
}

/// `web[01-03],db1 (4 hosts): active`, or the output on lines below the label when it has
/// several lines.
pub fn render(g: &Gathered) -> String {
    let label = format!(
        "{} ({} {})",
        g.hosts,
        g.count,
        if g.count == 1 { "host" } else { "hosts" }
    );
    if g.output.contains('\n') {
        format!("{label}:\n{}", indent(&g.output))
    } else {
        format!("{label}: {}", g.output)
    }
}

fn indent(text: &str) -> String {
    text.lines()
        .map(|l| format!("    {l}"))
        .collect::<Vec<_>>()
        .join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(v: &[&str]) -> Vec<String> {
        v.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn compact_host_sets() {
        assert_eq!(
            host_set(&s(&["web01", "web02", "web03", "db1"])),
            "web[01-03],db1"
        );
        assert_eq!(
            host_set(&s(&["web1", "web3", "web2", "web7"])),
            "web[1-3,7]"
        );
        assert_eq!(host_set(&s(&["a", "web01", "web1"])), "a,web01,web1");
        assert_eq!(host_set(&s(&["x9", "x10"])), "x9,x10");
        assert_eq!(host_set(&s(&["127.0.0.1", "127.0.0.2"])), "127.0.0.[1-2]");
        assert_eq!(host_set(&[]), "");
    }

    #[test]
    fn gathers_identical_outputs() {
        let pairs: Vec<(String, String)> = [
            ("web01", "active"),
            ("db1", "failed"),
            ("web02", "active"),
            ("web03", "active"),
        ]
        .iter()
        .map(|(h, o)| (h.to_string(), o.to_string()))
        .collect();
        let g = gather(&pairs);
        assert_eq!(render(&g[0]), "web[01-03] (3 hosts): active");
        assert_eq!(render(&g[1]), "db1 (1 host): failed");
    }
}
