//! What a path is: the system's own files, a disk device, logs, shell history, a place every
//! user can read.

/// Directories whose contents the system needs to boot, run or let people in.
const SYSTEM_DIRS: &[&str] = &[
    "/etc",
    "/usr",
    "/bin",
    "/sbin",
    "/lib",
    "/lib32",
    "/lib64",
    "/libx32",
    "/boot",
    "/dev",
    "/proc",
    "/sys",
    "/root",
    "/var/lib",
    "/var/spool",
    "/var/log",
    "/var/backups",
    "/snap",
    "/nix",
];

/// Top-level directories that are system paths themselves, though what is inside may not be.
const SYSTEM_TOPS: &[&str] = &[
    "/home", "/var", "/opt", "/srv", "/run", "/mnt", "/media", "/tmp",
];

/// Writing these changes who can log in or what runs as root.
const SENSITIVE: &[&str] = &[
    "/etc/passwd",
    "/etc/shadow",
    "/etc/group",
    "/etc/gshadow",
    "/etc/sudoers",
    "/etc/sudoers.d",
    "/etc/crontab",
    "/etc/cron.d",
    "/etc/cron.hourly",
    "/etc/cron.daily",
    "/etc/cron.weekly",
    "/etc/cron.monthly",
    "/var/spool/cron",
    "/etc/ld.so.preload",
    "/etc/pam.d",
    "/etc/security",
    "/etc/ssh/sshd_config",
    "/etc/ssh/sshd_config.d",
    "/etc/systemd/system",
    "/etc/init.d",
    "/etc/rc.local",
    "/etc/profile",
    "/etc/profile.d",
    "/etc/bash.bashrc",
    "/etc/environment",
    "/etc/fstab",
    "/boot",
];

const HISTORY_FILES: &[&str] = &[
    ".bash_history",
    ".zsh_history",
    ".history",
    ".sh_history",
    "fish_history",
    ".mysql_history",
    ".psql_history",
    ".python_history",
    ".node_repl_history",
    ".rediscli_history",
    ".sqlite_history",
    ".lesshst",
    ".viminfo",
];

/// Harmless places to send output.
const SINKS: &[&str] = &[
    "/dev/null",
    "/dev/stdout",
    "/dev/stderr",
    "/dev/stdin",
    "/dev/tty",
    "/dev/zero",
    "/dev/random",
    "/dev/urandom",
    "/dev/full",
];

/// Directories any local user can read (or that a web server serves).
const WORLD_READABLE: &[&str] = &[
    "/tmp",
    "/var/tmp",
    "/dev/shm",
    "/run/shm",
    "/run/lock",
    "/var/lock",
    "/var/www",
    "/var/crash",
    "/var/cache",
    "/usr/share",
    "/usr/local/share",
    "/srv",
    "/opt",
    "/media",
    "/mnt",
];

/// Directories any local user can create files in.
const WORLD_WRITABLE: &[&str] = &[
    "/tmp",
    "/var/tmp",
    "/dev/shm",
    "/run/shm",
    "/run/lock",
    "/var/lock",
    "/var/crash",
];

/// Where the system's configuration, boot files and programs live: any write there, even an
/// append, changes how the machine boots, runs or lets people in.
const SYSTEM_CONFIG: &[&str] = &[
    "/etc", "/boot", "/efi", "/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32",
];

/// `//a/./b/` → `/a/b`; `~` and `$HOME` stay as they are.
pub fn normalize(path: &str) -> String {
    let absolute = path.starts_with('/');
    let parts: Vec<&str> = path
        .split('/')
        .filter(|p| !p.is_empty() && *p != ".")
        .collect();
    let joined = parts.join("/");
    if absolute {
        format!("/{joined}")
    } else {
        joined
    }
}

fn under(path: &str, dir: &str) -> bool {
    path == dir || path.strip_prefix(dir).is_some_and(|r| r.starts_with('/'))
}

/// `/`, `/*`, `~`, `$HOME`: the whole machine or a whole home.
pub fn is_root_like(path: &str) -> bool {
    let p = normalize(path);
    matches!(
        p.as_str(),
        "/" | "/*" | "~" | "~/" | "~/*" | "$HOME" | "${HOME}" | "$HOME/*" | "*" | ".*" | "/.*"
    )
}

/// The system's own files (and `/` itself).
pub fn is_system(path: &str) -> bool {
    let p = normalize(path);
    if p == "/" || p.starts_with("/*") || is_root_like(&p) {
        return true;
    }
    SYSTEM_TOPS.contains(&p.as_str()) || SYSTEM_DIRS.iter().any(|d| under(&p, d)) && !is_sink(&p)
}

/// Under a directory any local user can write to (`/tmp`, `/dev/shm`, …).
pub fn is_world_writable(path: &str) -> bool {
    let p = normalize(path);
    WORLD_WRITABLE.iter().any(|d| under(&p, d))
}

/// The system's configuration, boot files or programs (`/etc`, `/boot`, `/usr`, …).
pub fn is_system_config(path: &str) -> bool {
    let p = normalize(path);
    SYSTEM_CONFIG.iter().any(|d| under(&p, d))
}

pub fn is_sensitive(path: &str) -> bool {
    let p = normalize(path);
    SENSITIVE.iter().any(|d| under(&p, d))
        || p.ends_with(".ssh/authorized_keys")
        || p.ends_with(".ssh/authorized_keys2")
}

/// A file shells read at start-up: changing it changes every later session.
pub fn is_shell_startup(path: &str) -> bool {
    let base = crate::ai::shell::basename(path);
    matches!(
        base,
        ".bashrc"
            | ".bash_profile"
            | ".profile"
            | ".zshrc"
            | ".zprofile"
            | ".bash_login"
            | ".zshenv"
            | ".bash_logout"
            | ".bash_aliases"
            | ".zlogin"
            | ".zlogout"
            | ".kshrc"
            | ".mkshrc"
            | ".cshrc"
            | ".tcshrc"
            | ".inputrc"
            | "config.fish"
    )
}

/// A directory of programs in the user's own PATH (`~/bin`, `~/.local/bin`): a file put there
/// runs in place of a command of that name from then on.
pub fn is_user_program_dir(path: &str) -> bool {
    let p = normalize(path);
    let home = ["~/", "$HOME/", "${HOME}/", "/root/"]
        .iter()
        .find_map(|h| p.strip_prefix(h))
        .or_else(|| {
            p.strip_prefix("/home/")
                .and_then(|r| r.split_once('/').map(|(_, rest)| rest))
        });
    home.is_some_and(|rest| {
        rest == "bin"
            || rest.starts_with("bin/")
            || rest == ".local/bin"
            || rest.starts_with(".local/bin/")
    })
}

pub fn is_history(path: &str) -> bool {
    let base = crate::ai::shell::basename(path);
    HISTORY_FILES.contains(&base) || path.contains("HISTFILE")
}

pub fn is_log(path: &str) -> bool {
    let p = normalize(path);
    under(&p, "/var/log")
        || under(&p, "/run/log")
        || matches!(p.as_str(), "/run/utmp" | "/var/run/utmp")
}

/// A block device or raw memory: writing it destroys a file system.
pub fn is_device(path: &str) -> bool {
    let p = normalize(path);
    let Some(dev) = p.strip_prefix("/dev/") else {
        return false;
    };
    const PREFIXES: &[&str] = &[
        "sd", "hd", "vd", "xvd", "nvme", "mmcblk", "md", "dm-", "mapper/", "disk/", "loop", "sr",
        "nbd", "rbd", "zd", "bcache",
    ];
    PREFIXES.iter().any(|x| dev.starts_with(x)) || matches!(dev, "mem" | "kmem" | "port")
}

/// Output sent here goes nowhere that matters.
pub fn is_sink(path: &str) -> bool {
    let p = normalize(path);
    SINKS.contains(&p.as_str()) || p.starts_with("/dev/fd/") || p.starts_with("/dev/pts/")
}

/// `/dev/tcp/HOST/PORT` and `/dev/udp/…`: bash opens a network connection.
pub fn is_net_device(path: &str) -> bool {
    path.contains("/dev/tcp/") || path.contains("/dev/udp/")
}

/// A path under a directory other local users (or a web server) can read. Relative paths and
/// paths in the user's own home are not; a path lumen cannot know (`$X/f`) counts as readable.
pub fn is_world_readable(path: &str) -> bool {
    if path.contains('$') || path.contains('`') {
        return true;
    }
    let p = normalize(path);
    WORLD_READABLE.iter().any(|d| under(&p, d))
        || p.contains("public_html")
        || p.split('/').any(|c| c == "public" || c == "www")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        assert!(is_system("/etc/nginx/nginx.conf"));
        assert!(is_system("//usr/./bin/"));
        assert!(!is_system("/etcetera/x"));
        assert!(!is_system("./build"));
        assert!(!is_system("/dev/null"));
        assert!(is_sensitive("/etc/sudoers.d/90-x"));
        assert!(is_sensitive("/root/.ssh/authorized_keys"));
        assert!(is_history("~/.bash_history"));
        assert!(is_log("/var/log/auth.log"));
        assert!(is_device("/dev/sda1") && is_device("/dev/nvme0n1"));
        assert!(!is_device("/dev/null"));
        assert!(is_world_readable("/tmp/x") && is_world_readable("/dev/shm/k"));
        assert!(is_world_readable("$TMPDIR/x"));
        assert!(!is_world_readable("~/secret.txt") && !is_world_readable("out.txt"));
        assert!(is_root_like("/") && is_root_like("~") && is_root_like("/*"));
    }
}
