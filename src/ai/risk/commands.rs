//! Per-program rules: the dispatcher, wrappers, and the programs known to only read.

use super::{Ctx, files, inline, network, packages, paths, services};

/// Programs that only read or print (with the options that would change that checked in the
/// rule modules first).
const READ_ONLY: &[&str] = &[
    "cat",
    "tac",
    "less",
    "more",
    "most",
    "head",
    "tail",
    "ls",
    "ll",
    "la",
    "dir",
    "vdir",
    "tree",
    "stat",
    "file",
    "wc",
    "sort",
    "uniq",
    "cut",
    "tr",
    "grep",
    "egrep",
    "fgrep",
    "zgrep",
    "rg",
    "ag",
    "ack",
    "jq",
    "yq",
    "column",
    "nl",
    "fold",
    "fmt",
    "paste",
    "join",
    "comm",
    "diff",
    "cmp",
    "colordiff",
    "md5sum",
    "sha1sum",
    "sha224sum",
    "sha256sum",
    "sha384sum",
    "sha512sum",
    "b2sum",
    "cksum",
    "sum",
    "base64",
    "base32",
    "xxd",
    "od",
    "hexdump",
    "strings",
    "echo",
    "printf",
    "true",
    "false",
    "test",
    "[",
    "[[",
    "pwd",
    "whoami",
    "id",
    "groups",
    "who",
    "w",
    "last",
    "lastb",
    "lastlog",
    "uptime",
    "date",
    "cal",
    "uname",
    "arch",
    "nproc",
    "lscpu",
    "lsblk",
    "lsusb",
    "lspci",
    "lsmod",
    "lsof",
    "lsns",
    "lsipc",
    "lslocks",
    "lsinitramfs",
    "free",
    "vmstat",
    "iostat",
    "mpstat",
    "sar",
    "pidstat",
    "top",
    "htop",
    "atop",
    "btop",
    "iotop",
    "iftop",
    "nethogs",
    "ps",
    "pgrep",
    "pstree",
    "pidof",
    "df",
    "du",
    "ncdu",
    "findmnt",
    "blkid",
    "ss",
    "netstat",
    "dig",
    "nslookup",
    "host",
    "ping",
    "ping6",
    "traceroute",
    "traceroute6",
    "tracepath",
    "mtr",
    "whois",
    "getent",
    "getfacl",
    "namei",
    "readlink",
    "realpath",
    "basename",
    "dirname",
    "which",
    "type",
    "whereis",
    "hash",
    "alias",
    "locale",
    "printenv",
    "tty",
    "seq",
    "expr",
    "bc",
    "dc",
    "factor",
    "yes",
    "sleep",
    "wait",
    "clear",
    "reset",
    "tput",
    "cd",
    "pushd",
    "popd",
    "dirs",
    "jobs",
    "fg",
    "bg",
    "disown",
    "help",
    "man",
    "info",
    "apropos",
    "whatis",
    "zcat",
    "bzcat",
    "xzcat",
    "zstdcat",
    "zless",
    "zmore",
    "bzless",
    "xzless",
    "zdiff",
    "zipinfo",
    "lsattr",
    "iconv",
    "numfmt",
    "shuf",
    "rev",
    "look",
    "sdiff",
    "diff3",
    "vimdiff",
    "nm",
    "objdump",
    "readelf",
    "ldd",
    "size",
    "stty",
    "ulimit",
    "umask",
    "getconf",
    "env",
    "systemd-analyze",
    "systemd-cgls",
    "systemd-cgtop",
    "loginctl",
    "busctl",
    "coredumpctl",
    "journalctl",
    "dmesg",
    "sestatus",
    "getenforce",
    "aa-status",
    "apparmor_status",
    "getcap",
    "getsebool",
    "ipcs",
    "lsinitrd",
    "dmidecode",
    "hwinfo",
    "inxi",
    "sensors",
    "smartctl",
    "nvidia-smi",
    "uptime",
    "tload",
    "watch",
    "ethtool",
    "iwconfig",
    "iw",
    "arp",
    "arping",
    "nmap",
    "ncat",
    "nc",
    "netcat",
    "curl",
    "http",
    "https",
    "openssl",
    "ssh-keyscan",
    "ssh-add",
    "gpg",
    "sha",
    "pv",
    "cal",
    "ncal",
    "timeout",
    "nice",
    "nohup",
    "time",
    "command",
    "builtin",
    "xargs",
    "exit",
    "logout",
    "return",
    "shift",
    "local",
    "read",
    "mapfile",
    "readarray",
    "printf",
    "caller",
    "let",
    ":",
    "getopts",
    "shopt",
    "set",
    "trap",
    "declare",
    "typeset",
    "export",
    "readonly",
    "unset",
    "source",
    ".",
];

pub(super) fn check(ctx: &mut Ctx<'_>) {
    if ctx.cmd.words.is_empty() || ctx.cmd.dynamic_program() {
        return; // assignments and run-time program names: see flows
    }
    let name = ctx.name.clone();
    if name != "dd" {
        files::output_options(ctx, &name);
    }
    let known = init_script(ctx)
        || wrapper(ctx, &name)
        || files::check(ctx, &name)
        || services::check(ctx, &name)
        || network::check(ctx, &name)
        || packages::check(ctx, &name)
        || inline::check(ctx, &name);
    if known || READ_ONLY.contains(&name.as_str()) {
        return;
    }
    let first = ctx.cmd.words[0].value.clone();
    // `prog /dev/sda`, `prog --device=/dev/nvme0n1`: a program lumen has no rule for, on a disk.
    let disk = ctx
        .args
        .iter()
        .map(|a| a.split_once('=').map_or(*a, |(_, v)| v))
        .find(|a| paths::is_device(a))
        .map(str::to_string);
    if let Some(d) = disk {
        ctx.high(format!(
            "gives the disk {d} to {name}, which lumen does not know to only read it"
        ));
    } else if first.contains('/') {
        ctx.medium(format!("runs the program {first}"));
    } else {
        ctx.medium(format!("runs {name}, which lumen does not know"));
    }
}

/// `/etc/init.d/nginx stop` is `service nginx stop`.
fn init_script(ctx: &mut Ctx<'_>) -> bool {
    let first = paths::normalize(&ctx.cmd.words[0].value);
    let Some(service) = first
        .strip_prefix("/etc/init.d/")
        .or_else(|| first.strip_prefix("/etc/rc.d/init.d/"))
        .or_else(|| first.strip_prefix("/etc/rc.d/"))
    else {
        return false;
    };
    let action = ctx.args.first().copied().unwrap_or("");
    services::service_action(ctx, service, action);
    true
}

fn has_inner(ctx: &Ctx<'_>) -> bool {
    ctx.script
        .commands
        .iter()
        .any(|c| c.parent.as_ref().is_some_and(|p| p.index == ctx.index))
}

fn wrapper(ctx: &mut Ctx<'_>, name: &str) -> bool {
    match name {
        "sudo" | "doas" => {
            if ctx.flag('e', "--edit") {
                let targets = ctx.operands();
                let sensitive = targets.iter().any(|t| paths::is_sensitive(t));
                if sensitive {
                    ctx.high(format!("{name} edits {} as root", targets.join(" ")));
                } else {
                    ctx.medium(format!("{name} edits files as root"));
                }
            } else if !has_inner(ctx)
                && (ctx.flag('s', "--shell") || ctx.flag('i', "--login") || ctx.args.is_empty())
            {
                ctx.medium(format!("{name} opens a root shell"));
            }
            true
        }
        "sudoedit" => {
            ctx.medium("sudoedit edits files as root");
            true
        }
        "su" | "runuser" | "machinectl" | "pkexec" | "sg" | "newgrp" => {
            if !has_inner(ctx) {
                ctx.medium(format!("{name} opens a shell as another user"));
            }
            true
        }
        "env" | "timeout" | "nice" | "nohup" | "setsid" | "stdbuf" | "time" | "command"
        | "builtin" | "exec" | "unbuffer" | "xargs" | "watch" | "flock" | "ionice" | "chrt"
        | "taskset" | "strace" | "ltrace" | "busybox" | "toybox" | "proxychains"
        | "proxychains4" | "torsocks" | "caffeinate" | "firejail" | "gosu" | "su-exec"
        | "setpriv" | "valgrind" | "dbus-run-session" | "catchsegv" | "xvfb-run" | "script"
        | "eval" => true,
        "chroot" | "nsenter" | "unshare" | "systemd-run" => {
            ctx.medium(format!("{name} runs a command in another environment"));
            true
        }
        "screen" | "tmux" => {
            if has_inner(ctx) {
                ctx.medium(format!("{name} starts a command in the background"));
            }
            true
        }
        "ssh" | "mosh" => {
            let forwards = ["-L", "-R", "-D", "-w", "-W"]
                .iter()
                .any(|f| ctx.args.iter().any(|a| a.starts_with(f)));
            if forwards {
                ctx.medium(format!("{name} forwards ports"));
            }
            let info = ctx.flag('V', "") || ctx.flag('G', "") || ctx.flag('Q', "");
            if !has_inner(ctx) && !info && !forwards {
                let dest = ctx
                    .operands()
                    .first()
                    .copied()
                    .unwrap_or("a host")
                    .to_string();
                ctx.medium(format!("{name} opens a session on {dest}"));
            }
            true
        }
        "source" | "." => {
            if let Some(file) = ctx.cmd.args().first()
                && file.subs.is_empty()
                && file.value != "/dev/stdin"
            {
                let f = file.value.clone();
                ctx.medium(format!("runs the script {f}"));
            }
            true
        }
        _ => false,
    }
}
