//! The network: firewalls, interfaces and routes, downloads and uploads, raw sockets.

use super::Ctx;

pub(super) fn check(ctx: &mut Ctx<'_>, name: &str) -> bool {
    match name {
        "iptables" | "ip6tables" | "iptables-legacy" | "ip6tables-legacy" | "iptables-nft"
        | "ip6tables-nft" | "ebtables" | "arptables" => iptables(ctx, name),
        "iptables-restore" | "ip6tables-restore" | "ipset" => {
            if !(name == "ipset" && matches!(ctx.sub(), Some("list" | "save" | "test"))) {
                ctx.high(format!("{name} changes the firewall"));
            }
        }
        "nft" => {
            let sub = ctx.sub().unwrap_or("");
            if !(matches!(sub, "list" | "describe" | "monitor") || ctx.flag('c', "--check")) {
                ctx.high(format!("nft {sub} changes the firewall").replace("  ", " "));
            }
        }
        "ufw" => {
            let sub = ctx.sub().unwrap_or("");
            if !matches!(sub, "status" | "show" | "version" | "app" | "") {
                ctx.high(format!("ufw {sub} changes the firewall"));
            }
        }
        "firewall-cmd" | "firewall-offline-cmd" => {
            let reads = ctx.args.iter().all(|a| {
                [
                    "--state",
                    "--list",
                    "--get",
                    "--query",
                    "--info",
                    "--zone",
                    "--permanent",
                    "--help",
                    "--version",
                ]
                .iter()
                .any(|p| a.starts_with(p))
            });
            if !reads {
                ctx.high(format!("{name} changes the firewall"));
            }
        }
        "ip" => ip(ctx),
        "ifconfig" => {
            let ops = ctx.operands();
            if ops.len() > 1 {
                ctx.high("ifconfig changes a network interface");
            }
        }
        "ifdown" | "ifup" | "ip-link" => ctx.high(format!("{name} changes a network interface")),
        "route" => {
            if ctx.sub().is_some_and(|s| {
                matches!(s, "add" | "del" | "delete" | "flush" | "change" | "replace")
            }) {
                ctx.high("route changes the routing table");
            }
        }
        "nmcli" => {
            const CHANGES: &[&str] = &[
                "down",
                "delete",
                "del",
                "modify",
                "mod",
                "disconnect",
                "off",
                "add",
                "reload",
                "up",
                "connect",
                "edit",
                "import",
                "set",
                "on",
            ];
            if ctx.operands().iter().any(|o| CHANGES.contains(o)) {
                ctx.high("nmcli changes network connections");
            }
        }
        "tc" | "brctl" | "bridge" | "vconfig" | "wg-quick" | "netplan" | "ovs-vsctl" => {
            const READS: &[&str] = &[
                "show",
                "list",
                "ls",
                "get",
                "dump",
                "status",
                "--version",
                "info",
            ];
            if !ctx.operands().iter().any(|o| READS.contains(o)) && !ctx.args.is_empty() {
                ctx.high(format!("{name} changes network settings"));
            }
        }
        "wg" => {
            if matches!(ctx.sub(), Some("set" | "setconf" | "addconf" | "syncconf")) {
                ctx.high("wg changes a WireGuard interface");
            }
        }
        "resolvectl" | "systemd-resolve" => {
            if ctx.sub().is_some_and(|s| {
                !matches!(s, "status" | "query" | "statistics" | "dns" | "domain")
                    || ctx.operands().len() > 2
            }) {
                ctx.medium(format!("{name} changes DNS settings"));
            }
        }
        "ethtool" => {
            if ctx.args.iter().any(|a| {
                matches!(
                    *a,
                    "-s" | "-K"
                        | "-G"
                        | "-A"
                        | "-L"
                        | "-C"
                        | "-E"
                        | "-f"
                        | "--change"
                        | "--offload"
                        | "--set-ring"
                        | "--reset"
                )
            }) {
                ctx.medium("ethtool changes interface settings");
            }
        }
        "arp" => {
            if ctx.flag('d', "--delete") || ctx.flag('s', "--set") || ctx.flag('f', "--file") {
                ctx.medium("arp changes the ARP table");
            }
        }
        "nc" | "ncat" | "netcat" | "nc.traditional" | "nc.openbsd" => netcat(ctx, name),
        "socat" => {
            let runs = ctx.args.iter().any(|a| {
                let l = a.to_ascii_lowercase();
                l.starts_with("exec:")
                    || l.starts_with("system:")
                    || l.contains(",exec")
                    || l.contains("!!exec")
            });
            if runs {
                ctx.high("socat connects a program to a socket");
            } else {
                ctx.medium("socat relays network traffic");
            }
        }
        "curl" => curl(ctx),
        "wget" | "wget2" => wget(ctx, name),
        "aria2c" | "axel" | "lwp-download" | "fetch" | "ftp" | "tftp" | "lftp" | "sftp" | "scp"
        | "rclone" | "s3cmd" | "smbclient" => {
            if name == "scp" {
                super::files::local_destination(ctx, name);
            }
            ctx.medium(format!("{name} transfers files"))
        }
        "rsync" => {
            super::files::local_destination(ctx, name);
            if ctx
                .args
                .iter()
                .any(|a| a.starts_with("--delete") || *a == "--remove-source-files")
            {
                ctx.high("rsync deletes files (--delete)");
            } else if !ctx.flag('n', "--dry-run") {
                ctx.medium("rsync copies files");
            }
        }
        "http" | "https" | "xh" => {
            let method = ctx.operands().first().copied().unwrap_or("");
            if matches!(method, "POST" | "PUT" | "DELETE" | "PATCH")
                || ctx
                    .args
                    .iter()
                    .any(|a| a.contains(":=") || a.contains('=') && !a.contains("://"))
            {
                ctx.medium(format!("{name} sends data to a server"));
            }
        }
        "openssl" => {
            if ctx
                .args
                .iter()
                .any(|a| *a == "-out" || a.starts_with("-out=") || *a == "-keyout")
            {
                ctx.medium("openssl writes a file");
            }
        }
        "tcpdump" | "tshark" | "dumpcap" => {
            if ctx.flag('w', "") {
                ctx.medium(format!("{name} writes a capture file"));
            }
        }
        "nmap" | "masscan" | "zmap" | "hping3" => ctx.medium(format!("{name} scans the network")),
        "telnet" => ctx.medium("telnet opens a raw connection"),
        _ => return false,
    }
    true
}

fn iptables(ctx: &mut Ctx<'_>, name: &str) {
    const CHANGES: &[&str] = &[
        "-F",
        "--flush",
        "-X",
        "--delete-chain",
        "-P",
        "--policy",
        "-D",
        "--delete",
        "-A",
        "--append",
        "-I",
        "--insert",
        "-R",
        "--replace",
        "-N",
        "--new-chain",
        "-Z",
        "--zero",
        "-E",
        "--rename-chain",
    ];
    let change = ctx.args.iter().find(|a| CHANGES.contains(a));
    if let Some(c) = change {
        let what = match *c {
            "-F" | "--flush" => "flushes firewall rules",
            "-P" | "--policy" => "changes the firewall policy",
            "-X" | "--delete-chain" | "-D" | "--delete" => "deletes firewall rules",
            _ => "changes the firewall",
        };
        ctx.high(format!("{name} {c} {what}"));
    }
}

fn ip(ctx: &mut Ctx<'_>) {
    const CHANGES: &[&str] = &[
        "add", "del", "delete", "change", "replace", "set", "flush", "append", "prepend", "attach",
        "detach", "up", "down", "exec",
    ];
    let ops = ctx.operands();
    if let Some(verb) = ops.iter().skip(1).find(|o| CHANGES.contains(o)) {
        let object = ops.first().copied().unwrap_or("");
        ctx.high(format!("ip {object} {verb} changes network settings"));
    }
}

fn netcat(ctx: &mut Ctx<'_>, name: &str) {
    let exec = ctx.args.iter().any(|a| {
        matches!(*a, "-e" | "-c" | "--exec" | "--sh-exec" | "--lua-exec")
            || a.starts_with("--exec=")
            || a.starts_with("--sh-exec=")
            || (super::is_short_group(a)
                && (a.contains('e') || a.contains('c'))
                && !a.contains('z'))
    });
    if exec {
        ctx.high(format!("{name} -e runs a program for a network peer"));
    } else if ctx.flag('l', "--listen") {
        ctx.medium(format!("{name} listens for network connections"));
    }
}

fn curl(ctx: &mut Ctx<'_>) {
    let saves = ctx.args.iter().any(|a| {
        matches!(
            *a,
            "-o" | "--output" | "-O" | "--remote-name" | "--remote-name-all" | "-J"
        ) || a.starts_with("--output=")
            || (super::is_short_group(a) && (a.ends_with('o') || a.contains('O')))
    });
    let method = ctx
        .args
        .iter()
        .position(|a| *a == "-X" || *a == "--request")
        .and_then(|i| ctx.args.get(i + 1))
        .map(|m| m.to_ascii_uppercase());
    let sends = ctx.args.iter().any(|a| {
        a.starts_with("--data")
            || a.starts_with("-d")
            || matches!(*a, "-F" | "--form" | "-T" | "--upload-file" | "--json")
            || a.starts_with("--form")
    }) || method.as_deref().is_some_and(|m| m != "GET" && m != "HEAD");
    if let Some(m) = method.as_deref().filter(|m| *m == "DELETE") {
        ctx.medium(format!("curl sends a {m} request"));
    } else if sends {
        ctx.medium("curl sends data to a server");
    }
    if saves {
        ctx.medium("curl saves a download");
    }
    if ctx.flag('K', "--config") {
        ctx.medium("curl reads options from a file");
    }
}

fn wget(ctx: &mut Ctx<'_>, name: &str) {
    let to_stdout = ctx.args.iter().enumerate().any(|(i, a)| {
        matches!(
            *a,
            "-O-" | "-qO-" | "-qO" | "--output-document=-" | "-O/dev/stdout"
        ) || (a.ends_with('O')
            && a.starts_with('-')
            && ctx
                .args
                .get(i + 1)
                .is_some_and(|n| *n == "-" || *n == "/dev/stdout"))
    }) || ctx.has("--spider");
    let sends = ctx
        .args
        .iter()
        .any(|a| a.starts_with("--post") || a.starts_with("--method") || a.starts_with("--body"));
    if sends {
        ctx.medium(format!("{name} sends data to a server"));
    }
    if !to_stdout {
        ctx.medium(format!("{name} saves a download"));
    }
}
