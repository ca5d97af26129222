//! The machine and its services: power, systemd, processes, accounts, kernel settings, logs,
//! history, scheduled jobs.

use super::Ctx;

pub(super) fn check(ctx: &mut Ctx<'_>, name: &str) -> bool {
    match name {
        "shutdown" => {
            if ctx.flag('c', "") {
                ctx.medium("shutdown -c cancels a shutdown");
            } else if ctx.flag('r', "--reboot") {
                ctx.high("shutdown -r reboots the machine");
            } else {
                ctx.high("shutdown stops the machine");
            }
        }
        "reboot" | "halt" | "poweroff" | "kexec" => ctx.high(format!("{name} stops the machine")),
        "init" | "telinit" => {
            if let Some(level) = ctx.operands().first()
                && matches!(*level, "0" | "6" | "1" | "s" | "S")
            {
                let l = level.to_string();
                ctx.high(format!("{name} {l} changes the run level"));
            }
        }
        "systemctl" => systemctl(ctx),
        "service" => {
            let ops = ctx.operands();
            let svc = ops.first().copied().unwrap_or("").to_string();
            let action = ops.get(1).copied().unwrap_or("").to_string();
            if !ctx.has("--status-all") {
                service_action(ctx, &svc, &action);
            }
        }
        "rc-service" | "sv" => {
            let ops = ctx.operands();
            let (svc, action) = if name == "sv" {
                (
                    ops.get(1).copied().unwrap_or(""),
                    ops.first().copied().unwrap_or(""),
                )
            } else {
                (
                    ops.first().copied().unwrap_or(""),
                    ops.get(1).copied().unwrap_or(""),
                )
            };
            let (svc, action) = (svc.to_string(), action.to_string());
            service_action(ctx, &svc, &action);
        }
        "kill" => kill(ctx),
        "killall" | "pkill" | "killall5" | "skill" | "slay" => {
            let target = ctx.operands().join(" ");
            ctx.high(format!("{name} stops processes by name ({target})"));
        }
        "renice" => ctx.medium("renice changes process priorities"),
        "sysctl" => {
            if ctx.flag('w', "--write")
                || ctx.flag('p', "--load")
                || ctx.flag(' ', "--system")
                || ctx.operands().iter().any(|o| o.contains('='))
            {
                ctx.medium("sysctl changes kernel settings");
            }
        }
        "modprobe" | "insmod" | "rmmod" | "depmod" => {
            if !(name == "modprobe"
                && (ctx.flag('n', "--dry-run") || ctx.flag('c', "--showconfig")))
            {
                ctx.medium(format!("{name} loads or unloads kernel modules"));
            }
        }
        "swapoff" | "swapon" => {
            if !(ctx.flag('s', "--summary") || ctx.has("--show") || ctx.args.is_empty()) {
                ctx.medium(format!("{name} changes swap"));
            }
        }
        "mount" => {
            if !(ctx.args.is_empty()
                || ctx.flag('l', "")
                || ctx.args == ["-t"]
                || ctx.operands().is_empty() && ctx.flag('t', ""))
            {
                ctx.medium("mount changes mounted file systems");
            }
        }
        "umount" | "eject" => ctx.medium(format!("{name} unmounts file systems")),
        "setenforce" => {
            if matches!(
                ctx.operands().first(),
                Some(&"0") | Some(&"Permissive") | Some(&"permissive")
            ) {
                ctx.high("setenforce 0 turns SELinux enforcement off");
            } else {
                ctx.medium("setenforce changes SELinux mode");
            }
        }
        "aa-disable" | "aa-complain" | "aa-teardown" => {
            ctx.high(format!("{name} turns AppArmor protection off"))
        }
        "apparmor_parser" if ctx.flag('R', "--remove") => {
            ctx.high("apparmor_parser -R removes an AppArmor profile")
        }
        "auditctl" => {
            let disables = ctx.flag('D', "") || ctx.args.windows(2).any(|w| w == ["-e", "0"]);
            if disables {
                ctx.high("auditctl deletes audit rules or disables auditing");
            } else if !(ctx.flag('l', "") || ctx.flag('s', "")) {
                ctx.medium("auditctl changes audit rules");
            }
        }
        "history" => {
            if ctx.flag('c', "") || ctx.flag('d', "") {
                ctx.high("history -c/-d erases shell history");
            } else if ctx.flag('w', "")
                || ctx.flag('a', "")
                || ctx.flag('r', "")
                || ctx.flag('n', "")
            {
                ctx.medium("history rewrites the history file");
            }
        }
        "set" => {
            if ctx.args.windows(2).any(|w| w == ["+o", "history"]) {
                ctx.high("set +o history stops recording shell history");
            }
        }
        "unset" => {
            if ctx.operands().iter().any(|v| v.starts_with("HIST")) {
                ctx.high("unset HISTFILE stops recording shell history");
            }
        }
        "journalctl" => {
            if ctx.args.iter().any(|a| a.starts_with("--vacuum")) {
                ctx.high("journalctl --vacuum deletes journal logs");
            } else if ctx.has("--rotate")
                || ctx.has("--flush")
                || ctx.has("--relinquish-var")
                || ctx.has("--setup-keys")
            {
                ctx.medium("journalctl changes journal files");
            }
        }
        "dmesg" => {
            if ctx.flag('c', "--read-clear") || ctx.flag('C', "--clear") {
                ctx.high("dmesg -c clears the kernel log");
            } else if ctx.flag('D', "--console-off")
                || ctx.flag('E', "--console-on")
                || ctx.flag('n', "--console-level")
            {
                ctx.medium("dmesg changes console logging");
            }
        }
        "logrotate" => ctx.medium("logrotate rotates logs"),
        "crontab" => {
            if ctx.flag('r', "") {
                ctx.high("crontab -r removes the crontab");
            } else if !ctx.flag('l', "") {
                ctx.high("crontab installs jobs that run by themselves later");
            }
        }
        "at" | "batch" => ctx.medium(format!("{name} schedules a job")),
        "atrm" => ctx.medium("atrm removes scheduled jobs"),
        "hostname" => {
            if ctx.operands().len() == 1 || ctx.flag('F', "--file") {
                ctx.medium("hostname renames the machine");
            }
        }
        "hostnamectl" | "timedatectl" | "localectl" => {
            if ctx.sub().is_some_and(|s| {
                s.starts_with("set") || s == "hostname" && ctx.operands().len() > 1
            }) {
                ctx.medium(format!("{name} changes system settings"));
            }
        }
        "date" => {
            if ctx.flag('s', "--set") || ctx.operands().iter().any(|o| !o.starts_with('+')) {
                ctx.medium("date sets the clock");
            }
        }
        "hwclock" => {
            if !(ctx.flag('r', "--show") || ctx.args.is_empty() || ctx.has("--get")) {
                ctx.medium("hwclock sets the hardware clock");
            }
        }
        "useradd" | "userdel" | "usermod" | "groupadd" | "groupdel" | "groupmod" | "adduser"
        | "deluser" | "addgroup" | "delgroup" | "gpasswd" | "vipw" | "vigr" | "newusers"
        | "chpasswd" | "chsh" | "chfn" | "pwconv" | "pwunconv" | "grpconv" | "smbpasswd"
        | "pdbedit" => ctx.high(format!("{name} changes user accounts")),
        "passwd" => {
            if !(ctx.flag('S', "--status") || ctx.flag(' ', "--help")) {
                ctx.high("passwd changes a password or account");
            }
        }
        "chage" => {
            if !ctx.flag('l', "--list") {
                ctx.high("chage changes password ageing");
            }
        }
        "visudo" => {
            if !ctx.flag('c', "--check") {
                ctx.high("visudo edits sudoers");
            }
        }
        "ssh-copy-id" => ctx.medium("ssh-copy-id installs a key on a host"),
        "ssh-keygen" => {
            if ctx.flag('R', "") {
                ctx.medium("ssh-keygen -R forgets a host key");
            } else if !(ctx.flag('l', "")
                || ctx.flag('F', "")
                || ctx.flag('y', "")
                || ctx.flag('L', ""))
            {
                match super::files::option_value(ctx, 'f', "") {
                    Some(f) if super::paths::is_system(&f) || super::paths::is_sensitive(&f) => {
                        ctx.high(format!("ssh-keygen writes the key file {f}"))
                    }
                    _ => ctx.medium("ssh-keygen writes key files"),
                }
            }
        }
        "update-alternatives" | "alternatives" => {
            if !ctx
                .args
                .iter()
                .any(|a| matches!(*a, "--display" | "--list" | "--query" | "--get-selections"))
            {
                ctx.medium(format!("{name} changes default programs"));
            }
        }
        "ldconfig" => {
            if !ctx.flag('p', "--print-cache") {
                ctx.medium("ldconfig rebuilds the library cache");
            }
        }
        "update-grub" | "grub-install" | "grub2-install" | "grub-mkconfig" | "grub2-mkconfig"
        | "update-initramfs" | "dracut" | "mkinitcpio" | "bootctl" => {
            if !(name == "bootctl" && ctx.sub().is_none_or(|s| s == "status" || s == "list")) {
                ctx.high(format!("{name} rewrites the boot setup"));
            }
        }
        "efibootmgr" => {
            if ctx.args.iter().any(|a| {
                a.starts_with("-c")
                    || a.starts_with("-B")
                    || a.starts_with("-o")
                    || a.starts_with("-n")
                    || a.starts_with("-b")
            }) {
                ctx.high("efibootmgr changes boot entries");
            }
        }
        _ => return false,
    }
    true
}

fn systemctl(ctx: &mut Ctx<'_>) {
    let ops = ctx.operands();
    let sub = ops.first().copied().unwrap_or("");
    let units = ops.get(1..).unwrap_or(&[]).join(" ");
    match sub {
        "stop" | "disable" | "mask" | "kill" | "isolate" | "rescue" | "emergency" | "freeze"
        | "clean" => ctx.high(
            format!("systemctl {sub} stops {units}")
                .trim_end()
                .to_string(),
        ),
        "poweroff"
        | "reboot"
        | "halt"
        | "kexec"
        | "suspend"
        | "hibernate"
        | "hybrid-sleep"
        | "soft-reboot"
        | "suspend-then-hibernate"
        | "default" => ctx.high(format!("systemctl {sub} stops the machine")),
        "" | "status" | "show" | "list-units" | "list-unit-files" | "list-timers"
        | "list-sockets" | "list-dependencies" | "list-jobs" | "list-machines"
        | "list-automounts" | "list-paths" | "is-active" | "is-enabled" | "is-failed"
        | "is-system-running" | "cat" | "help" | "get-default" | "show-environment"
        | "--version" => {}
        _ => ctx.medium(format!("systemctl {sub} changes services")),
    }
}

/// `service NAME ACTION` and `/etc/init.d/NAME ACTION`.
pub(super) fn service_action(ctx: &mut Ctx<'_>, svc: &str, action: &str) {
    match action {
        "stop" | "force-stop" | "disable" | "zap" | "down" | "kill" => {
            ctx.high(format!("stops the service {svc}"))
        }
        "status" | "" | "help" | "usage" | "check" | "configtest" | "status-all" => {}
        _ => ctx.medium(format!("{action}s the service {svc}")),
    }
}

fn kill(ctx: &mut Ctx<'_>) {
    if ctx.has("-l") || ctx.has("-L") || ctx.has("--list") || ctx.has("--table") {
        return;
    }
    let signal_zero = ctx.args.iter().any(|a| *a == "-0" || *a == "-s0")
        || ctx.args.windows(2).any(|w| w[0] == "-s" && w[1] == "0");
    if signal_zero {
        return;
    }
    let targets: Vec<&str> = ctx
        .args
        .iter()
        .filter(|a| !a.starts_with('-') || **a == "-1")
        .copied()
        .filter(|a| a.parse::<i64>().is_ok() || a.starts_with('%') || a.starts_with('$'))
        .collect();
    let signal = ctx
        .args
        .iter()
        .find(|a| a.starts_with('-') && **a != "-1" && **a != "--")
        .copied();
    if targets.contains(&"1") {
        ctx.high("kill signals PID 1 (init)");
    } else if targets.contains(&"-1") || ctx.args.windows(2).any(|w| w[1] == "-1") {
        ctx.high("kill -1 signals every process");
    } else {
        let sig = signal.map(|s| format!(" {s}")).unwrap_or_default();
        ctx.medium(format!("kill{sig} stops processes"));
    }
}
