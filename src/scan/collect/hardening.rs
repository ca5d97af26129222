//! Hardening checks from read-only commands: sshd's effective settings, UID-0 accounts,
//! world-writable `PATH` entries, SUID/SGID files, kernel sysctls, time synchronisation,
//! automatic updates and end of life. Each failing check says expected vs actual and the fix.

use crate::scan::os::{Family, OsRelease};
use crate::scan::report::ConfigFinding;
use crate::scan::severity::Severity;
use std::collections::HashMap;

/// `sshd -T` prints the effective configuration. Without root sshd cannot read the host keys
/// and refuses, so a throw-away key comes on stdin. Current OpenSSH (Debian's 9.2p1-2+deb12u9
/// and later) no longer loads a host key from `-h /dev/stdin` ("error in libcrypto"), so the
/// key goes into a file in a private directory (`umask 077`, `mktemp -d`) that a trap removes
/// however the command ends: nothing is left on the host.
pub const SSHD_COMMAND: &str = "PATH=\"$PATH:/usr/sbin:/sbin\"; umask 077; \
     d=$(mktemp -d \"${TMPDIR:-/tmp}/lumen-sshd-T.XXXXXXXX\") || exit 1; \
     trap 'rm -rf \"$d\"' EXIT; trap 'exit 129' HUP; trap 'exit 130' INT; trap 'exit 143' TERM; \
     cat > \"$d/key\" && sshd -T -h \"$d/key\"";
/// The template of the private directory [`SSHD_COMMAND`] makes (and removes).
pub const SSHD_TEMP_PREFIX: &str = "lumen-sshd-T.";
pub const PASSWD_COMMAND: &str = "cat /etc/passwd";
/// `find -L`: a `PATH` entry that is a symlink (merged /usr: `/bin -> usr/bin`, itself
/// `lrwxrwxrwx`) is judged by the directory it points to, as the shell's lookup would be.
pub const PATH_COMMAND: &str = "printf 'PATH=%s\\n' \"$PATH\"; IFS=:; for d in $PATH; do \
     if [ -d \"$d\" ]; then find -L \"$d\" -maxdepth 0 -perm -0002 -print 2>/dev/null; fi; done; true";
/// SUID/SGID files in the trees where programs and users' files live, each on its own file
/// system only (`-xdev`: no network mounts, /proc or container layers). /root is left out:
/// only root can reach a file in it (mode 0700), and it often holds large build trees. The
/// same host gives the same list, so scans can be compared.
pub const SUID_COMMAND: &str = "find /bin /sbin /lib /lib32 /lib64 /libx32 /usr /opt /etc /var /srv /home /boot /tmp \
     -xdev \\( -perm -4000 -o -perm -2000 \\) -type f 2>/dev/null; true";
/// The SUID search gives up after this; the list is then unknown rather than partial.
pub const SUID_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(30);
pub const SYSCTL_COMMAND: &str = "for k in kernel/randomize_va_space fs/protected_symlinks \
     fs/protected_hardlinks fs/suid_dumpable; do printf '%s=' \"$k\"; cat \"/proc/sys/$k\" 2>/dev/null || echo; done";
pub const TIME_COMMAND: &str = "timedatectl show -p NTP -p NTPSynchronized 2>/dev/null; echo ---; \
     cat /proc/[0-9]*/comm 2>/dev/null | sort -u";
pub const AUTO_UPDATES_DEBIAN_COMMAND: &str = "apt-config dump 2>/dev/null | grep -E '^APT::Periodic::(Unattended-Upgrade|Update-Package-Lists) '; \
     dpkg-query -W -f='${db:Status-Abbrev}\\n' unattended-upgrades 2>/dev/null; true";
pub const AUTO_UPDATES_RPM_COMMAND: &str = "systemctl is-enabled dnf-automatic.timer dnf-automatic-install.timer yum-cron.service 2>/dev/null; true";

/// A check's verdict; `Unknown` carries why it could not be decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Pass,
    Fail(ConfigFinding),
    Unknown(String),
}

fn finding(
    check: &str,
    title: &str,
    severity: Severity,
    expected: &str,
    actual: &str,
    fix: &str,
) -> ConfigFinding {
    ConfigFinding {
        check: check.into(),
        title: title.into(),
        severity,
        expected: expected.into(),
        actual: actual.into(),
        fix: fix.into(),
    }
}

/// The five sshd settings, from `sshd -T` output (lower-case keys).
pub fn check_sshd(text: &str) -> Vec<Verdict> {
    let settings: HashMap<&str, &str> = text
        .lines()
        .filter_map(|l| l.trim().split_once(' '))
        .collect();
    if !settings.contains_key("permitrootlogin") {
        return vec![Verdict::Unknown(
            "sshd settings: `sshd -T` gave no configuration".into(),
        )];
    }
    let fix = |kw: &str, v: &str| {
        format!(
            "set `{kw} {v}` in /etc/ssh/sshd_config (or a file in sshd_config.d), then `systemctl reload ssh`"
        )
    };
    let mut out = Vec::new();
    let mut yes_no =
        |key: &str, kw: &str, bad: &str, sev: Severity, title: &str, good: &str| match settings
            .get(key)
        {
            Some(v) if v.eq_ignore_ascii_case(bad) => out.push(Verdict::Fail(finding(
                &format!("sshd.{}", snake(kw)),
                title,
                sev,
                &format!("{kw} {good}"),
                &format!("{kw} {v}"),
                &fix(kw, good),
            ))),
            Some(_) => out.push(Verdict::Pass),
            None => out.push(Verdict::Unknown(format!(
                "sshd settings: {kw} not reported"
            ))),
        };
    yes_no(
        "permitrootlogin",
        "PermitRootLogin",
        "yes",
        Severity::High,
        "root can log in over SSH with a password",
        "no",
    );
    yes_no(
        "passwordauthentication",
        "PasswordAuthentication",
        "yes",
        Severity::Medium,
        "SSH accepts passwords",
        "no",
    );
    yes_no(
        "permitemptypasswords",
        "PermitEmptyPasswords",
        "yes",
        Severity::High,
        "SSH accepts empty passwords",
        "no",
    );
    yes_no(
        "x11forwarding",
        "X11Forwarding",
        "yes",
        Severity::Low,
        "SSH forwards X11",
        "no",
    );
    match settings
        .get("maxauthtries")
        .and_then(|v| v.parse::<u32>().ok())
    {
        Some(n) if n > 4 => out.push(Verdict::Fail(finding(
            "sshd.max_auth_tries",
            "SSH allows many authentication attempts per connection",
            Severity::Low,
            "MaxAuthTries 4 or fewer",
            &format!("MaxAuthTries {n}"),
            &fix("MaxAuthTries", "4"),
        ))),
        Some(_) => out.push(Verdict::Pass),
        None => out.push(Verdict::Unknown(
            "sshd settings: MaxAuthTries not reported".into(),
        )),
    }
    out
}

fn snake(kw: &str) -> String {
    let mut s = String::new();
    for (i, c) in kw.chars().enumerate() {
        if c.is_ascii_uppercase() && i > 0 {
            s.push('_');
        }
        s.push(c.to_ascii_lowercase());
    }
    s
}

/// Accounts with UID 0 besides root, from /etc/passwd.
pub fn check_uid0(passwd: &str) -> Verdict {
    let users: Vec<&str> = passwd.lines().filter_map(|l| l.split(':').next()).collect();
    if users.iter().all(|u| u.trim().is_empty()) {
        return Verdict::Unknown("UID-0 accounts: /etc/passwd was empty".into());
    }
    let extra: Vec<&str> = passwd
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split(':').collect();
            (f.len() >= 3 && f[2].trim() == "0" && f[0] != "root").then_some(f[0])
        })
        .collect();
    if extra.is_empty() {
        return Verdict::Pass;
    }
    Verdict::Fail(finding(
        "accounts.uid0",
        "accounts other than root have UID 0",
        Severity::High,
        "only root has UID 0",
        &format!("UID 0: {}", extra.join(", ")),
        "give each account its own UID (`usermod -u NEW NAME`) or remove it (`userdel NAME`)",
    ))
}

/// World-writable directories (and `.` or empty entries) in the exec shell's `PATH`.
pub fn check_path(text: &str) -> Verdict {
    let mut lines = text.lines();
    let Some(path) = lines.next().and_then(|l| l.strip_prefix("PATH=")) else {
        return Verdict::Unknown("PATH: the shell printed no PATH".into());
    };
    let mut bad: Vec<String> = lines
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .map(str::to_string)
        .collect();
    if path.split(':').any(|d| d.is_empty() || d == ".") {
        bad.push("a relative entry (`.` or empty)".into());
    }
    if bad.is_empty() {
        return Verdict::Pass;
    }
    Verdict::Fail(finding(
        "path.world_writable",
        "PATH has directories anyone can write to",
        Severity::High,
        "PATH directories writable only by their owner",
        &bad.join(", "),
        "remove the entry from PATH (in /etc/environment or the shell profile) or `chmod o-w DIR`",
    ))
}

/// SUID/SGID files, sorted (compared with the last scan by the history).
pub fn parse_suid(text: &str) -> Vec<String> {
    let mut files: Vec<String> = text
        .lines()
        .map(str::trim)
        .filter(|l| l.starts_with('/'))
        .map(str::to_string)
        .collect();
    files.sort();
    files.dedup();
    files
}

/// New SUID/SGID files since the last scan.
pub fn suid_added(added: &[String]) -> Option<ConfigFinding> {
    if added.is_empty() {
        return None;
    }
    Some(finding(
        "files.suid_new",
        "new SUID/SGID files since the last scan",
        Severity::Medium,
        "the same SUID/SGID files as the last scan",
        &added.join(", "),
        "check where each file came from (`dpkg -S FILE` or `rpm -qf FILE`); if unexpected, `chmod u-s,g-s FILE`",
    ))
}

/// The four kernel sysctls.
pub fn check_sysctls(text: &str) -> Vec<Verdict> {
    let values: HashMap<&str, &str> = text
        .lines()
        .filter_map(|l| l.split_once('='))
        .map(|(k, v)| (k.trim(), v.trim()))
        .collect();
    let expect = [
        (
            "kernel/randomize_va_space",
            "2",
            Severity::Medium,
            "address space layout randomisation is not full",
        ),
        (
            "fs/protected_symlinks",
            "1",
            Severity::Medium,
            "symlinks in sticky directories are not protected",
        ),
        (
            "fs/protected_hardlinks",
            "1",
            Severity::Medium,
            "hard links to others' files are not restricted",
        ),
        (
            "fs/suid_dumpable",
            "0",
            Severity::Low,
            "SUID programs may dump core",
        ),
    ];
    expect
        .iter()
        .map(|(key, want, sev, title)| {
            let name = key.replace('/', ".");
            match values.get(key) {
                Some(&"") => Verdict::Unknown(format!("sysctl {name}: unreadable")),
                Some(v) if v == want => Verdict::Pass,
                Some(v) => Verdict::Fail(finding(
                    &format!("sysctl.{name}"),
                    title,
                    *sev,
                    &format!("{name} = {want}"),
                    &format!("{name} = {v}"),
                    &format!("add `{name} = {want}` to /etc/sysctl.d/99-hardening.conf and run `sysctl --system`"),
                )),
                None => Verdict::Unknown(format!("sysctl {name}: not reported")),
            }
        })
        .collect()
}

/// Daemon names (as /proc/PID/comm shows them, 15 characters at most) that keep time.
const TIME_DAEMONS: &[&str] = &[
    "chronyd",
    "ntpd",
    "systemd-timesyn",
    "openntpd",
    "ntpd-rs",
    "timesyncd",
    "ptp4l",
];

pub fn check_time_sync(text: &str) -> Verdict {
    let (timedatectl, procs) = text.split_once("---").unwrap_or((text, ""));
    let synced = timedatectl
        .lines()
        .any(|l| l.trim() == "NTPSynchronized=yes");
    let daemon = procs
        .lines()
        .map(str::trim)
        .find(|p| TIME_DAEMONS.contains(p));
    if synced || daemon.is_some() {
        return Verdict::Pass;
    }
    if procs.trim().is_empty() && timedatectl.trim().is_empty() {
        return Verdict::Unknown(
            "time synchronisation: neither timedatectl nor /proc answered".into(),
        );
    }
    Verdict::Fail(finding(
        "time.sync",
        "the clock is not synchronised",
        Severity::Low,
        "an NTP client running (chrony, systemd-timesyncd, ntpd)",
        "no NTP client running and timedatectl does not report synchronisation",
        "install and enable one, e.g. `apt install chrony` or `dnf install chrony && systemctl enable --now chronyd`",
    ))
}

pub fn check_auto_updates(family: Family, text: &str) -> Verdict {
    match family {
        Family::Debian => {
            let periodic = |k: &str| {
                text.lines()
                    .any(|l| l.starts_with(&format!("APT::Periodic::{k} ")) && l.contains("\"1\""))
            };
            let installed = text.lines().any(|l| l.trim() == "ii");
            if installed && periodic("Unattended-Upgrade") {
                return Verdict::Pass;
            }
            let actual = if installed {
                "unattended-upgrades is installed but APT::Periodic::Unattended-Upgrade is not \"1\""
            } else {
                "unattended-upgrades is not installed"
            };
            Verdict::Fail(finding(
                "updates.automatic",
                "security updates are not installed automatically",
                Severity::Low,
                "unattended-upgrades installed and enabled",
                actual,
                "`apt install unattended-upgrades && dpkg-reconfigure -plow unattended-upgrades`",
            ))
        }
        Family::Rpm => {
            if text.lines().any(|l| l.trim() == "enabled") {
                return Verdict::Pass;
            }
            Verdict::Fail(finding(
                "updates.automatic",
                "security updates are not installed automatically",
                Severity::Low,
                "dnf-automatic's timer enabled",
                "no dnf-automatic timer (or yum-cron) enabled",
                "`dnf install dnf-automatic && systemctl enable --now dnf-automatic-install.timer` (upgrade_type = security in /etc/dnf/automatic.conf)",
            ))
        }
        Family::Alpine => Verdict::Pass,
    }
}

/// A release past the end of its standard support.
pub fn check_end_of_life(os: &OsRelease, today: time::Date) -> Verdict {
    match os.end_of_life() {
        Some(eol) if eol < today => Verdict::Fail(finding(
            "os.end_of_life",
            "the release is past its end of life",
            Severity::High,
            "a supported release",
            &format!(
                "{} (support ended {eol})",
                if os.pretty_name.is_empty() {
                    &os.id
                } else {
                    &os.pretty_name
                }
            ),
            "upgrade to a supported release (or enrol in extended support such as Ubuntu Pro or Debian LTS)",
        )),
        _ => Verdict::Pass,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failed(v: &[Verdict]) -> Vec<String> {
        v.iter()
            .filter_map(|v| match v {
                Verdict::Fail(f) => Some(f.check.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn sshd_settings() {
        let text = "port 22\npermitrootlogin yes\npasswordauthentication no\npermitemptypasswords no\nx11forwarding yes\nmaxauthtries 6\n";
        assert_eq!(
            failed(&check_sshd(text)),
            [
                "sshd.permit_root_login",
                "sshd.x11_forwarding",
                "sshd.max_auth_tries"
            ]
        );
        let good = "permitrootlogin without-password\npasswordauthentication no\npermitemptypasswords no\nx11forwarding no\nmaxauthtries 3\n";
        assert!(failed(&check_sshd(good)).is_empty());
        assert!(matches!(check_sshd("garbage")[0], Verdict::Unknown(_)));
    }

    #[test]
    fn accounts_path_sysctl_time() {
        let passwd = "root:x:0:0:root:/root:/bin/bash\ntoor:x:0:0::/root:/bin/sh\nbob:x:1000:1000::/home/bob:/bin/sh\n";
        assert!(matches!(check_uid0(passwd), Verdict::Fail(f) if f.actual == "UID 0: toor"));
        assert_eq!(check_uid0("root:x:0:0::/root:/bin/sh\n"), Verdict::Pass);
        assert_eq!(check_path("PATH=/usr/bin:/bin\n"), Verdict::Pass);
        assert!(
            matches!(check_path("PATH=/usr/bin:/tmp/x\n/tmp/x\n"), Verdict::Fail(f) if f.actual == "/tmp/x")
        );
        assert!(matches!(check_path("PATH=.:/usr/bin\n"), Verdict::Fail(_)));
        let sysctl = "kernel/randomize_va_space=2\nfs/protected_symlinks=0\nfs/protected_hardlinks=1\nfs/suid_dumpable=\n";
        let v = check_sysctls(sysctl);
        assert_eq!(failed(&v), ["sysctl.fs.protected_symlinks"]);
        assert!(matches!(v[3], Verdict::Unknown(_)));
        assert_eq!(
            check_time_sync("NTP=yes\nNTPSynchronized=yes\n---\nbash\n"),
            Verdict::Pass
        );
        assert_eq!(check_time_sync("---\nchronyd\nsshd\n"), Verdict::Pass);
        assert!(matches!(
            check_time_sync("---\nsshd\nbash\n"),
            Verdict::Fail(_)
        ));
    }

    /// The real `PATH_COMMAND` in `sh`: a symlinked entry (merged /usr's `/bin -> usr/bin`) is
    /// judged by its target, so a link to a 0755 directory passes and a link to a
    /// world-writable one is still caught.
    #[tokio::test]
    async fn path_symlinks_are_judged_by_their_target() {
        use crate::scan::{LocalRunner, RunOptions, Runner};
        use std::os::unix::fs::{PermissionsExt, symlink};
        let dir = tempfile::tempdir().expect("temp dir");
        let d = dir.path();
        for (name, mode) in [("safe", 0o755), ("open", 0o777)] {
            std::fs::create_dir(d.join(name)).expect("mkdir");
            std::fs::set_permissions(d.join(name), std::fs::Permissions::from_mode(mode))
                .expect("chmod");
        }
        symlink("safe", d.join("safe-link")).expect("symlink");
        symlink("open", d.join("open-link")).expect("symlink");
        let d = d.display();
        let run = |path: String| async move {
            let command = format!("PATH='{path}'; {PATH_COMMAND}");
            let out = LocalRunner
                .run(&command, RunOptions::default())
                .await
                .expect("sh runs");
            check_path(&out.stdout_text())
        };
        assert_eq!(
            run(format!("{d}/safe-link:/usr/bin:/bin")).await,
            Verdict::Pass
        );
        assert!(matches!(run(format!("{d}/open-link:/usr/bin:/bin")).await,
                Verdict::Fail(f) if f.actual == format!("{d}/open-link")),);
    }

    /// The real `SSHD_COMMAND` against this machine's OpenSSH, as a user without access to the
    /// host keys would run it: the throw-away key on stdin gives the settings, and its private
    /// directory is gone afterwards.
    #[tokio::test]
    async fn sshd_settings_from_a_throwaway_key_leave_nothing_behind() {
        use crate::scan::{LocalRunner, RunOptions, Runner};
        if !std::path::Path::new("/usr/sbin/sshd").exists() {
            panic!("openssh-server is not installed; ./scripts/install-test-deps.sh installs it");
        }
        // sshd -T as root wants its privilege separation directory.
        let _ = std::fs::create_dir_all("/run/sshd");
        let tmp = tempfile::tempdir().expect("temp dir");
        let key = super::super::throwaway_host_key().expect("a key");
        let command = format!("TMPDIR='{}'; {SSHD_COMMAND}", tmp.path().display());
        let out = LocalRunner
            .run(
                &command,
                RunOptions {
                    stdin: Some(key),
                    ..RunOptions::default()
                },
            )
            .await
            .expect("sh runs");
        let text = out.stdout_text();
        assert!(
            !check_sshd(&text)
                .iter()
                .any(|v| matches!(v, Verdict::Unknown(_))),
            "stdout {text}\nstderr {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let left: Vec<_> = std::fs::read_dir(tmp.path())
            .expect("read dir")
            .map(|e| e.map(|e| e.file_name()))
            .collect();
        assert!(left.is_empty(), "left behind: {left:?}");
    }

    #[test]
    fn auto_updates_and_eol() {
        let on = "APT::Periodic::Update-Package-Lists \"1\";\nAPT::Periodic::Unattended-Upgrade \"1\";\nii \n";
        assert_eq!(check_auto_updates(Family::Debian, on), Verdict::Pass);
        assert!(matches!(
            check_auto_updates(Family::Debian, ""),
            Verdict::Fail(_)
        ));
        assert_eq!(
            check_auto_updates(Family::Rpm, "disabled\nenabled\n"),
            Verdict::Pass
        );
        let buster = OsRelease::parse(
            "ID=debian\nVERSION_ID=10\nPRETTY_NAME=\"Debian GNU/Linux 10 (buster)\"\n",
        );
        let today = time::macros::date!(2026 - 01 - 01);
        assert!(matches!(
            check_end_of_life(&buster, today),
            Verdict::Fail(_)
        ));
    }
}
