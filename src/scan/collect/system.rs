//! Host state besides packages: reboot flags, pending security updates, listening sockets.

/// Debian/Ubuntu's reboot flag file and needrestart's batch report.
pub const REBOOT_DEBIAN_COMMAND: &str = "if [ -f /var/run/reboot-required ]; then echo reboot-required; \
     cat /var/run/reboot-required.pkgs 2>/dev/null; fi; \
     if command -v needrestart >/dev/null 2>&1; then needrestart -b 2>/dev/null; fi; true";
/// apt's simulated upgrade (no root, no lock, nothing changed).
pub const APT_UPDATES_COMMAND: &str = "apt-get -s -o Debug::NoLocking=1 upgrade 2>/dev/null";
/// dnf (or yum) security advisories from the local cache only (-C: no network, no root).
pub const DNF_UPDATES_COMMAND: &str = "if command -v dnf >/dev/null 2>&1; then dnf -C -q updateinfo list --security --available 2>/dev/null; \
     elif command -v yum >/dev/null 2>&1; then yum -C -q updateinfo list security 2>/dev/null; \
     else exit 127; fi";
pub const SOCKETS_COMMAND: &str = "ss -Hltnu 2>/dev/null || netstat -ltnu 2>/dev/null";

/// Reasons for a reboot from the Debian reboot flag and `needrestart -b`.
pub fn parse_reboot_debian(text: &str) -> Vec<String> {
    let mut reasons = Vec::new();
    let mut lines = text.lines().map(str::trim).peekable();
    let mut pkgs = Vec::new();
    while let Some(line) = lines.next() {
        if line == "reboot-required" {
            while let Some(p) = lines.next_if(|l| !l.contains(':') && !l.is_empty()) {
                pkgs.push(p.to_string());
            }
            reasons.push(if pkgs.is_empty() {
                "/var/run/reboot-required is present".to_string()
            } else {
                format!("/var/run/reboot-required lists {}", pkgs.join(", "))
            });
        } else if let Some(status) = line.strip_prefix("NEEDRESTART-KSTA:") {
            // 1: running kernel is current; 2: ABI-compatible upgrade; 3: version upgrade.
            if matches!(status.trim(), "2" | "3") {
                reasons
                    .push("needrestart: a newer kernel is installed than the one running".into());
            }
        }
    }
    reasons
}

/// Security upgrades in `apt-get -s upgrade` output (`Inst` lines from a `-security` suite).
pub fn parse_apt_updates(text: &str) -> usize {
    text.lines()
        .filter(|l| l.starts_with("Inst ") && l.contains("-security"))
        .count()
}

/// Lines of `dnf updateinfo list --security` (one per advisory and package).
pub fn parse_dnf_updates(text: &str) -> usize {
    text.lines()
        .filter(|l| l.split_whitespace().count() >= 3 && !l.starts_with("Last metadata"))
        .count()
}

/// `ss -Hltnu` (or `netstat -ltnu`) as `proto address:port`, sorted and unique.
pub fn parse_sockets(text: &str) -> Vec<String> {
    let mut out: Vec<String> = text
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            let proto = f.first()?.trim_end_matches('6');
            if !matches!(proto, "tcp" | "udp") {
                return None;
            }
            // ss: Netid State Recv-Q Send-Q Local Peer; netstat: Proto Recv-Q Send-Q Local Foreign [State]
            let local = if f
                .get(1)
                .is_some_and(|s| s.chars().all(|c| c.is_ascii_uppercase()))
            {
                f.get(4)?
            } else {
                f.get(3)?
            };
            Some(format!("{proto} {local}"))
        })
        .collect();
    out.sort();
    out.dedup();
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reboot_flags() {
        let text = "reboot-required\nlinux-image-6.1.0-20-amd64\nNEEDRESTART-VER: 3.6\nNEEDRESTART-KSTA: 3\n";
        let r = parse_reboot_debian(text);
        assert_eq!(r.len(), 2);
        assert!(r[0].contains("linux-image-6.1.0-20-amd64"));
        assert!(parse_reboot_debian("NEEDRESTART-KSTA: 1\n").is_empty());
    }

    #[test]
    fn updates_and_sockets() {
        let apt = "Inst libssl3 [3.0.11-1~deb12u1] (3.0.11-1~deb12u2 Debian-Security:12/stable-security [amd64])\n\
                   Inst tzdata [2024a-0+deb12u1] (2024b-0+deb12u1 Debian:12.7/stable [all])\nConf libssl3\n";
        assert_eq!(parse_apt_updates(apt), 1);
        let ss = "tcp   LISTEN 0 128 0.0.0.0:22 0.0.0.0:*\nudp   UNCONN 0 0 127.0.0.1:323 0.0.0.0:*\ntcp LISTEN 0 128 [::]:22 [::]:*\n";
        assert_eq!(
            parse_sockets(ss),
            ["tcp 0.0.0.0:22", "tcp [::]:22", "udp 127.0.0.1:323"]
        );
        let netstat = "Active Internet connections (only servers)\nProto Recv-Q Send-Q Local Address Foreign Address State\ntcp 0 0 0.0.0.0:22 0.0.0.0:* LISTEN\n";
        assert_eq!(parse_sockets(netstat), ["tcp 0.0.0.0:22"]);
    }
}
