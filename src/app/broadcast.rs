//! Broadcast input: which commands are risky enough that pasting them into several hosts at
//! once must be confirmed first.

/// Why a paste into a broadcast needs confirmation, or None when it can go straight through.
pub fn paste_warning(text: &str, panes: usize) -> Option<String> {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    if let Some(line) = lines.iter().find(|l| looks_destructive(l)) {
        return Some(format!(
            "This looks destructive and will run on {panes} panes:\n  {}",
            line.trim()
        ));
    }
    if lines.len() > 1 {
        return Some(format!(
            "Paste {} lines into {panes} panes? Each line runs as a command.",
            lines.len()
        ));
    }
    None
}

/// Whether a command line looks destructive (deletes, formats, overwrites disks, powers off,
/// kills everything, drops data). A heuristic over each command of the line: it errs towards
/// asking.
pub fn looks_destructive(line: &str) -> bool {
    let l = line.to_lowercase();
    if l.contains(":(){")
        || l.contains("drop database")
        || l.contains("drop table")
        || l.contains("truncate table")
    {
        return true;
    }
    if [
        ">/dev/sd",
        "> /dev/sd",
        ">/dev/nvme",
        "> /dev/nvme",
        ">/dev/vd",
        "> /dev/vd",
    ]
    .iter()
    .any(|p| l.contains(p))
    {
        return true;
    }
    line.split(['\n', ';', '&', '|', '(', ')', '`'])
        .any(command_is_destructive)
}

/// Wrappers that run the next word as the command.
const WRAPPERS: [&str; 7] = ["sudo", "doas", "exec", "nohup", "time", "nice", "command"];

fn command_is_destructive(segment: &str) -> bool {
    let mut words = segment
        .split_whitespace()
        .skip_while(|w| WRAPPERS.contains(w) || (w.contains('=') && !w.starts_with('-')));
    let Some(cmd) = words.next() else {
        return false;
    };
    let cmd = cmd.rsplit('/').next().unwrap_or(cmd).to_lowercase();
    let args: Vec<&str> = words.collect();
    let has = |a: &str| args.contains(&a);
    let short_flag = |c: char| {
        args.iter()
            .any(|a| a.starts_with('-') && !a.starts_with("--") && a.contains(c))
    };
    match cmd.as_str() {
        "rm" => short_flag('r') || short_flag('f') || has("--recursive") || has("--force"),
        "dd" => args.iter().any(|a| a.starts_with("of=")),
        "wipefs" | "shred" | "fdisk" | "sfdisk" | "parted" => true,
        c if c.starts_with("mkfs") => true,
        "shutdown" | "reboot" | "halt" | "poweroff" | "killall5" => true,
        "init" | "telinit" => has("0") || has("6"),
        "systemctl" => ["poweroff", "reboot", "halt", "kexec", "rescue", "emergency"]
            .iter()
            .any(|w| has(w)),
        "kill" => has("-1"),
        "chmod" | "chown" | "chgrp" => {
            (short_flag('R') || short_flag('r') || has("--recursive"))
                && args.iter().any(|a| *a == "/" || a.starts_with("/*"))
        }
        "iptables" | "ip6tables" | "nft" => short_flag('F') || has("--flush") || has("flush"),
        "ufw" => has("reset") || has("disable"),
        "mv" => args.iter().any(|a| *a == "/" || a.starts_with("/*")),
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destructive_commands_are_flagged() {
        for cmd in [
            "rm -rf /var/lib/app",
            "sudo rm -fr ~/*",
            "rm -r build",
            "rm --no-preserve-root -r /",
            "/bin/rm -f data.db",
            "dd if=/dev/zero of=/dev/sda bs=1M",
            "mkfs.ext4 /dev/sdb1",
            "sudo shutdown -h now",
            "reboot",
            "systemctl reboot",
            "init 6",
            "kill -9 -1",
            ":(){ :|:& };:",
            "chmod -R 777 /",
            "echo 'DROP TABLE users;' | psql",
            "iptables -F",
            "cat x > /dev/sda",
            "cd /tmp && rm -rf *",
        ] {
            assert!(looks_destructive(cmd), "{cmd}");
        }
    }

    #[test]
    fn ordinary_commands_are_not() {
        for cmd in [
            "ls -la",
            "uptime",
            "rm notes.txt",
            "systemctl status nginx",
            "grep -r reboot /var/log",
            "echo format",
            "df -h",
            "kill 1234",
            "ddate",
            "chmod 644 file",
            "grep -r reboot /var/log",
            "FOO=1 make",
            "man shutdown",
        ] {
            assert!(!looks_destructive(cmd), "{cmd}");
        }
    }

    #[test]
    fn paste_warnings() {
        assert_eq!(paste_warning("uptime", 3), None);
        assert_eq!(
            paste_warning("uptime\n", 3),
            None,
            "a trailing newline is one line"
        );
        assert!(
            paste_warning("uptime\ndf -h\n", 3).is_some_and(|w| w.contains("2 lines into 3 panes"))
        );
        assert!(paste_warning("sudo reboot", 2).is_some_and(|w| w.contains("destructive")));
    }
}
