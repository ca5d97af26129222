//! Files, disks and permissions: deleting, overwriting, wiping, `chmod`/`chown`, editing in place.

use super::{Ctx, is_short_group, paths};

/// Returns true when `name` is a program this module knows.
pub(super) fn check(ctx: &mut Ctx<'_>, name: &str) -> bool {
    match name {
        "rm" => rm(ctx),
        "rmdir" | "unlink" => ctx.medium(format!("{name} deletes {}", targets(ctx))),
        "shred" | "wipe" | "srm" | "sfill" => ctx.high(format!("{name} destroys file contents")),
        "truncate" => ctx.high(format!("truncate cuts {}", targets(ctx))),
        "dd" => dd(ctx),
        "mkswap" | "wipefs" | "blkdiscard" | "mke2fs" | "mkdosfs" | "mkntfs" | "badblocks" => {
            ctx.high(format!("{name} erases a disk or partition"))
        }
        n if n.starts_with("mkfs") => {
            ctx.high(format!("{name} creates a file system, erasing the old one"))
        }
        "fdisk" | "sfdisk" | "gdisk" | "sgdisk" | "cfdisk" | "parted" => {
            let lists =
                ctx.flag('l', "--list") || ctx.has("print") || ctx.flag('s', "") && name == "fdisk";
            if !lists {
                ctx.high(format!("{name} changes the partition table"));
            }
        }
        "lvremove" | "vgremove" | "pvremove" | "lvreduce" | "vgreduce" | "resize2fs"
        | "xfs_repair" | "fsck" | "e2fsck" | "tune2fs" | "debugfs" => {
            ctx.high(format!("{name} changes a volume or file system"))
        }
        "lvcreate" | "lvextend" | "vgcreate" | "pvcreate" | "vgextend" | "lvresize" => {
            ctx.medium(format!("{name} changes volumes"))
        }
        "zpool" | "zfs" => zfs(ctx, name),
        "mdadm" => {
            if ctx.flag(' ', "--zero-superblock")
                || ctx.flag('S', "--stop")
                || ctx.flag(' ', "--fail")
                || ctx.flag(' ', "--remove")
            {
                ctx.high("mdadm takes a RAID array apart");
            } else if !(ctx.flag('D', "--detail")
                || ctx.flag('E', "--examine")
                || ctx.flag('Q', "--query"))
            {
                ctx.medium("mdadm changes RAID arrays");
            }
        }
        "cryptsetup" => {
            if ctx.has("luksFormat")
                || ctx.has("erase")
                || ctx.has("luksErase")
                || ctx.has("luksKillSlot")
                || ctx.has("luksRemoveKey")
            {
                ctx.high("cryptsetup destroys encryption keys or data");
            } else if !(ctx.has("status") || ctx.has("luksDump") || ctx.has("isLuks")) {
                ctx.medium("cryptsetup changes encrypted volumes");
            }
        }
        "cp" | "mv" | "install" | "ln" => copy_like(ctx, name),
        "chmod" => chmod(ctx),
        "chown" | "chgrp" => chown(ctx, name),
        "chattr" | "setfacl" | "setcap" | "chcon" | "restorecon" | "semanage" | "setsebool" => {
            let sys = ctx.operands().iter().any(|t| paths::is_system(t));
            if sys && (ctx.flag('R', "--recursive") || name == "chattr") {
                ctx.high(format!("{name} changes attributes of system files"));
            } else {
                ctx.medium(format!("{name} changes file attributes"));
            }
        }
        "tee" => {
            let append = ctx.flag('a', "--append");
            let files: Vec<String> = ctx.operands().iter().map(|s| s.to_string()).collect();
            for f in files {
                write_target(ctx, &f, append, "tee");
            }
        }
        "sed" | "perl" if in_place(ctx) => {
            let files: Vec<String> = ctx
                .operands()
                .iter()
                .skip(1)
                .map(|s| s.to_string())
                .collect();
            if files.iter().any(|f| {
                paths::is_sensitive(f)
                    || paths::is_system(f)
                    || paths::is_device(f)
                    || paths::is_log(f)
                    || paths::is_history(f)
            }) {
                ctx.high(format!("{name} -i rewrites {}", files.join(" ")));
            } else {
                ctx.medium(format!("{name} -i edits files in place"));
            }
            if name == "perl" {
                return false; // the code itself is checked by the inline rules
            }
        }
        "touch" | "mkdir" | "mkfifo" | "mknod" | "split" | "csplit" | "rename" | "mktemp" => {
            let system = ctx
                .operands()
                .iter()
                .find(|f| paths::is_system_config(f) || paths::is_device(f))
                .map(|s| s.to_string());
            match system {
                Some(f) if name != "mktemp" => {
                    ctx.high(format!("{name} creates or changes system files ({f})"))
                }
                _ if name != "mktemp" => ctx.medium(format!("{name} creates or changes files")),
                _ => {}
            }
        }
        "tar" | "bsdtar" => tar(ctx),
        // They rewrite the files they are given.
        "patch" | "sponge" | "fallocate" | "ed" | "ex" => {
            let mut files: Vec<String> = ctx.operands().iter().map(|s| s.to_string()).collect();
            if name == "fallocate" {
                // `-l 1G FILE`: only the last operand is a file.
                files = files.split_off(files.len().saturating_sub(1));
            }
            if files.is_empty() {
                ctx.medium(format!("{name} changes files"));
            }
            for f in files {
                write_target(ctx, &f, false, name);
            }
        }
        "unzip" | "7z" | "7za" | "unrar" | "cpio" | "gunzip" | "gzip" | "bzip2" | "bunzip2"
        | "xz" | "unxz" | "zstd" | "unzstd" | "lz4" | "zip" => archive(ctx, name),
        "find" => {
            // `{-delete,-print}` brace-expands to the option too.
            if ctx.args.iter().any(|a| a.contains("-delete")) {
                ctx.high("find -delete deletes what it matches");
            }
            let written: Vec<String> = ctx
                .args
                .windows(2)
                .filter(|w| ["-fprint", "-fprint0", "-fprintf", "-fls"].contains(&w[0]))
                .map(|w| w[1].to_string())
                .collect();
            if written.is_empty()
                && ["-fprint", "-fprint0", "-fprintf", "-fls"]
                    .iter()
                    .any(|f| ctx.has(f))
            {
                ctx.medium("find writes a file");
            }
            for file in written {
                ctx.medium("find writes a file");
                write_target(ctx, &file, false, "find -fprint");
            }
        }
        // `-o FILE`, `-oFILE`, `-ro FILE`, `--output=FILE`: every form names the file.
        "sort" if ctx.flag('o', "--output") || option_value(ctx, 'o', "--output").is_some() => {
            let out = option_value(ctx, 'o', "--output");
            write_target(ctx, out.as_deref().unwrap_or("a file"), false, "sort -o");
        }
        "uniq" if ctx.operands().len() > 1 => {
            let out = ctx.operands()[1].to_string();
            write_target(ctx, &out, false, "uniq");
        }
        "yq" if ctx.flag('i', "--inplace") => ctx.medium("yq -i edits files in place"),
        _ => return false,
    }
    true
}

fn targets(ctx: &Ctx<'_>) -> String {
    let ops = ctx.operands();
    if ops.is_empty() || ctx.cmd.extra_args {
        "files listed at run time".into()
    } else {
        ops.join(" ")
    }
}

fn rm(ctx: &mut Ctx<'_>) {
    let recursive = ctx.flag('r', "--recursive") || ctx.flag('R', "");
    let ops = ctx.operands();
    let system = ops
        .iter()
        .find(|t| paths::is_system(t))
        .map(|s| s.to_string());
    if ctx.has("--no-preserve-root") {
        ctx.high("rm --no-preserve-root can delete everything");
    }
    if let Some(t) = ops
        .iter()
        .find(|t| paths::is_history(t) || paths::is_log(t))
    {
        let what = if paths::is_history(t) {
            "shell history"
        } else {
            "logs"
        };
        ctx.high(format!("rm deletes {what} ({t})"));
    }
    if recursive {
        match system {
            Some(s) => ctx.high(format!("rm deletes {s} recursively")),
            None => ctx.high("rm deletes recursively"),
        }
    } else if let Some(s) = system {
        ctx.high(format!("rm deletes system files ({s})"));
    } else if ctx.cmd.extra_args {
        ctx.high("rm deletes every file passed to it at run time");
    } else {
        let t = targets(ctx);
        ctx.medium(format!("rm deletes {t}"));
    }
}

fn dd(ctx: &mut Ctx<'_>) {
    let of = ctx
        .args
        .iter()
        .find_map(|a| a.strip_prefix("of="))
        .map(str::to_string);
    match of {
        Some(t) if paths::is_device(&t) || paths::is_system(&t) => {
            ctx.high(format!("dd overwrites {t}"))
        }
        Some(t) => ctx.high(format!("dd writes {t}")),
        None => {}
    }
}

fn zfs(ctx: &mut Ctx<'_>, name: &str) {
    match ctx.sub().unwrap_or("") {
        "destroy" | "rollback" | "labelclear" | "detach" | "offline" | "remove" | "export"
        | "split" => ctx.high(format!(
            "{name} {} destroys or detaches storage",
            ctx.sub().unwrap_or("")
        )),
        "list" | "status" | "iostat" | "get" | "history" | "events" | "" => {}
        s => ctx.medium(format!("{name} {s} changes storage")),
    }
}

/// `cp`, `mv`, `install`, `ln`: the last operand (or `-t DIR`) is what gets written.
fn copy_like(ctx: &mut Ctx<'_>, name: &str) {
    let ops = ctx.operands();
    let dest = ctx
        .args
        .iter()
        .position(|a| *a == "-t" || *a == "--target-directory")
        .and_then(|i| ctx.args.get(i + 1).copied())
        .or_else(|| {
            ctx.args
                .iter()
                .find_map(|a| a.strip_prefix("--target-directory="))
        })
        .or_else(|| {
            if ops.len() > 1 {
                ops.last().copied()
            } else {
                None
            }
        });
    let sources: Vec<&str> = if ops.len() > 1 {
        ops[..ops.len() - 1].to_vec()
    } else {
        ops.clone()
    };
    if name == "mv" && dest.is_some_and(|d| d == "/dev/null") {
        ctx.high("mv moves files into /dev/null, deleting them");
        return;
    }
    if name == "mv"
        && sources
            .iter()
            .any(|s| paths::is_system(s) || paths::is_log(s) || paths::is_history(s))
    {
        ctx.high(format!("mv moves system files ({})", sources.join(" ")));
        return;
    }
    match dest {
        Some(d) if paths::is_device(d) => ctx.high(format!("{name} overwrites the disk {d}")),
        Some(d) if paths::is_sensitive(d) || paths::is_log(d) || paths::is_history(d) => {
            ctx.high(format!("{name} overwrites {d}"))
        }
        Some(d) if paths::is_system(d) => {
            ctx.high(format!("{name} writes into system files ({d})"))
        }
        Some(d) if paths::is_shell_startup(d) => {
            ctx.high(format!("{name} replaces the shell start-up file {d}"))
        }
        Some(d) if paths::is_user_program_dir(d) => ctx.high(format!(
            "{name} puts a program into {d}, which runs in place of the command of that name"
        )),
        _ => ctx.medium(format!("{name} {}", verb(name))),
    }
}

fn verb(name: &str) -> &'static str {
    match name {
        "mv" => "moves files",
        "ln" => "creates links",
        "install" => "installs files",
        _ => "copies files",
    }
}

fn chmod(ctx: &mut Ctx<'_>) {
    let recursive = ctx.flag('R', "--recursive");
    let ops = ctx.operands();
    let mode = ops.first().copied().unwrap_or("");
    let files = ops.get(1..).unwrap_or(&[]).to_vec();
    let system = files
        .iter()
        .find(|f| paths::is_system(f))
        .map(|s| s.to_string());
    if world_writable(mode) {
        ctx.high(format!("chmod {mode} makes files writable by everyone"));
    } else if setuid(mode) {
        ctx.high(format!("chmod {mode} sets the setuid/setgid bit"));
    } else if let Some(s) = system {
        if recursive {
            ctx.high(format!("chmod -R changes permissions under {s}"));
        } else {
            ctx.high(format!("chmod changes permissions of {s}"));
        }
    } else if recursive {
        ctx.medium("chmod -R changes permissions recursively");
    } else {
        ctx.medium("chmod changes permissions");
    }
}

fn world_writable(mode: &str) -> bool {
    if !mode.is_empty() && mode.chars().all(|c| c.is_ascii_digit()) {
        return u32::from_str_radix(mode, 8).is_ok_and(|n| n & 0o002 != 0);
    }
    mode.split(',').any(|clause| match clause.find(['+', '=']) {
        Some(i) => {
            let who = &clause[..i];
            (who.contains('o') || who.contains('a')) && clause[i + 1..].contains('w')
        }
        None => false,
    })
}

/// `4755`, `u+s`, `g=rxs`: the file runs with its owner's or group's rights.
fn setuid(mode: &str) -> bool {
    if mode.len() == 4 && mode.chars().all(|c| c.is_ascii_digit()) {
        return (mode.as_bytes()[0] - b'0') & 0b110 != 0;
    }
    mode.split(',').any(|clause| {
        clause
            .find(['+', '='])
            .is_some_and(|i| clause[i + 1..].contains('s'))
    })
}

fn chown(ctx: &mut Ctx<'_>, name: &str) {
    let recursive = ctx.flag('R', "--recursive");
    let ops = ctx.operands();
    let files = ops.get(1..).unwrap_or(&[]).to_vec();
    let system = files
        .iter()
        .find(|f| paths::is_system(f))
        .map(|s| s.to_string());
    let sensitive = files.iter().any(|f| paths::is_sensitive(f));
    match system {
        Some(s) if recursive => ctx.high(format!(
            "{name} -R changes the owner of everything under {s}"
        )),
        Some(s) if sensitive => ctx.high(format!("{name} changes the owner of {s}")),
        Some(s) => ctx.medium(format!("{name} changes the owner of {s}")),
        None => ctx.medium(format!("{name} changes file owners")),
    }
}

/// A write to `target` by `by` (a redirect or `tee`).
pub(super) fn write_target(ctx: &mut Ctx<'_>, target: &str, append: bool, by: &str) {
    let findings = ctx.findings();
    write_finding(findings, target, append, by);
}

pub(super) fn write_finding(f: &mut super::Findings, target: &str, append: bool, by: &str) {
    let verb = if append { "appends to" } else { "overwrites" };
    if paths::is_sink(target) {
        return;
    }
    if paths::is_net_device(target) {
        f.high(format!("{by} opens a raw network connection ({target})"));
    } else if paths::is_device(target) {
        f.high(format!("{by} overwrites the disk {target}"));
    } else if target.contains("sysrq-trigger") {
        f.high("triggers a kernel SysRq action");
    } else if paths::is_history(target) {
        f.high(format!("{by} tampers with shell history ({target})"));
    } else if paths::is_log(target) {
        if append {
            f.medium(format!("{by} appends to the log {target}"));
        } else {
            f.high(format!("{by} overwrites the log {target}"));
        }
    } else if paths::is_sensitive(target) {
        f.high(format!("{by} {verb} {target}"));
    } else if paths::is_system(target) && !append {
        f.high(format!("{by} overwrites the system file {target}"));
    } else if paths::is_system_config(target) {
        f.high(format!("{by} changes the system file {target}"));
    } else if target.starts_with("/proc/")
        || target.starts_with("/sys/")
        || paths::is_system(target)
    {
        f.medium(format!("{by} {verb} {target}"));
    } else if paths::is_user_program_dir(target) {
        f.high(format!(
            "{by} writes a program into {target}, which runs in place of the command of that name"
        ));
    } else if paths::is_shell_startup(target) {
        // What it adds runs in every new shell, with no keystroke then.
        f.high(format!("{by} changes the shell start-up file {target}"));
    } else if target.contains('$') || target.contains('`') {
        f.medium(format!("{by} writes to a file named at run time"));
    } else {
        f.medium(format!("{by} {verb} {target}"));
    }
}

fn in_place(ctx: &Ctx<'_>) -> bool {
    ctx.args.iter().any(|a| {
        *a == "--in-place"
            || a.starts_with("--in-place=")
            || (is_short_group(a) && a[1..].starts_with('i'))
            || (a.starts_with("-i") && !a.starts_with("--"))
            || (is_short_group(a) && a.contains('i') && ctx.name == "perl")
    })
}

fn tar(ctx: &mut Ctx<'_>) {
    let first = ctx.args.first().copied().unwrap_or("");
    // The first argument of tar may be a bundle of letters without a dash ("xzf").
    let bundle = if !first.starts_with('-') { first } else { "" };
    let has = |c: char, long: &str| ctx.flag(c, long) || bundle.contains(c);
    let extract = has('x', "--extract") || ctx.has("--get");
    let create = has('c', "--create") || has('r', "--append") || has('u', "--update");
    let dir = ctx
        .args
        .iter()
        .position(|a| *a == "-C" || *a == "--directory")
        .and_then(|i| ctx.args.get(i + 1).copied())
        .or_else(|| ctx.args.iter().find_map(|a| a.strip_prefix("--directory=")));
    if extract {
        match dir {
            Some(d) if paths::is_system(d) => {
                ctx.high(format!("tar extracts over system files in {d}"))
            }
            _ if ctx.has("-P") || ctx.has("--absolute-names") => {
                ctx.high("tar extracts to absolute paths, possibly over system files")
            }
            _ => ctx.medium("tar extracts files"),
        }
    } else if create {
        match tar_archive(ctx) {
            Some(f) if f != "-" => write_target(ctx, &f, false, "tar"),
            _ => ctx.medium("tar writes an archive"),
        }
    }
    if ctx.has("--remove-files") {
        ctx.high("tar --remove-files deletes the files it archives");
    }
}

fn archive(ctx: &mut Ctx<'_>, name: &str) {
    let lists = match name {
        "unzip" => ctx.flag('l', "") || ctx.flag('t', "") || ctx.flag('Z', "") || ctx.flag('p', ""),
        "7z" | "7za" | "unrar" => matches!(ctx.sub(), Some("l" | "t")),
        _ => ctx.flag('c', "--stdout") || ctx.flag('l', "--list") || ctx.flag('t', "--test"),
    };
    if lists {
        return;
    }
    if matches!(
        name,
        "gzip" | "gunzip" | "bzip2" | "bunzip2" | "xz" | "unxz" | "zstd" | "unzstd" | "lz4"
    ) {
        // They replace each file with its (de)compressed copy, in its own directory.
        let hit = ctx
            .operands()
            .iter()
            .find(|f| paths::is_system(f) || paths::is_device(f) || paths::is_sensitive(f))
            .map(|s| s.to_string());
        if let Some(f) = hit {
            ctx.high(format!("{name} replaces {f} with a (de)compressed copy"));
            return;
        }
    }
    let dir = ctx
        .args
        .iter()
        .position(|a| *a == "-d")
        .and_then(|i| ctx.args.get(i + 1).copied());
    match dir {
        Some(d) if paths::is_system(d) => {
            ctx.high(format!("{name} extracts over system files in {d}"))
        }
        _ => ctx.medium(format!("{name} writes or replaces files")),
    }
}

/// The value of `-o VALUE`, `-oVALUE`, `--output VALUE` or `--output=VALUE`.
pub(super) fn option_value(ctx: &Ctx<'_>, short: char, long: &str) -> Option<String> {
    let args = &ctx.args;
    args.iter().enumerate().find_map(|(i, a)| {
        if !long.is_empty() && *a == long || (is_short_group(a) && a.ends_with(short)) {
            args.get(i + 1).map(|s| s.to_string())
        } else if let Some(v) = a
            .strip_prefix(long)
            .and_then(|r| r.strip_prefix('='))
            .filter(|_| !long.is_empty())
        {
            Some(v.to_string())
        } else if a.starts_with('-') && !a.starts_with("--") && a.len() > 2 {
            a[1..].find(short).map(|p| a[p + 2..].to_string())
        } else {
            None
        }
    })
}

/// The archive `tar` writes: `-f X`, `-cfX`, `--file X`, `--file=X`, or with the old bundle
/// (`tar cf X …`) the word after the bundle.
fn tar_archive(ctx: &Ctx<'_>) -> Option<String> {
    let args = &ctx.args;
    let first = args.first().copied().unwrap_or("");
    if !first.starts_with('-') && first.contains('f') {
        // Old style: each value-taking letter takes the next word, in order.
        let before_f = first
            .chars()
            .take_while(|c| *c != 'f')
            .filter(|c| "bCgKLNTVX".contains(*c))
            .count();
        return args.get(1 + before_f).map(|s| s.to_string());
    }
    option_value(ctx, 'f', "--file")
}

/// Options that name a file a program writes, whatever the program: `--output=F`, `--output F`,
/// `--outfile`, `--output-file`, `-out F`, `-o F`, `of=F`. Used to raise writes to disks and
/// system files to High for programs lumen has no rule for.
pub(super) fn output_options(ctx: &mut Ctx<'_>, name: &str) {
    /// Programs whose `-o` is not an output file (a format, a field list, "or", an option).
    const O_IS_NOT_OUTPUT: &[&str] = &[
        "ps",
        "ls",
        "grep",
        "egrep",
        "fgrep",
        "zgrep",
        "rg",
        "journalctl",
        "systemctl",
        "ssh",
        "scp",
        "sftp",
        "mount",
        "umount",
        "lsblk",
        "findmnt",
        "blkid",
        "mpstat",
        "sar",
        "top",
        "ip",
        "kubectl",
        "iostat",
        "lsof",
        "ss",
        "netstat",
        "unzip",
        "7z",
        "7za",
        "cpio",
        "bash",
        "sh",
        "zsh",
        "set",
        "find",
        "test",
        "[",
        "[[",
        "rsync",
        "tar",
        "mysql",
        "ping",
        "dig",
        "ssh-keygen",
        "sudo",
        "docker",
        "podman",
        "helm",
        "crictl",
        "iptables",
        "ip6tables",
        "nft",
        "sort",
    ];
    // wget's output file is `-O`; everyone else's `-o`.
    let letter = if matches!(name, "wget" | "wget2") {
        'O'
    } else {
        'o'
    };
    let args: Vec<String> = ctx.args.iter().map(|s| s.to_string()).collect();
    let mut hits = Vec::new();
    for (i, a) in args.iter().enumerate() {
        let next = args.get(i + 1).cloned();
        let value = if let Some(v) = a.strip_prefix("of=") {
            Some((format!("{name} of="), v.to_string()))
        } else if let Some((opt, v)) = a.split_once('=')
            && is_output_long(opt)
        {
            Some((format!("{name} {opt}"), v.to_string()))
        } else if is_output_long(a) || a == "-out" {
            next.map(|v| (format!("{name} {a}"), v))
        } else if is_short_group(a) && a.ends_with(letter) && !O_IS_NOT_OUTPUT.contains(&name) {
            // `-o FILE`, `-qO FILE` (wget)
            next.map(|v| (format!("{name} -{letter}"), v))
        } else if let Some(v) = a.strip_prefix(&format!("-{letter}/"))
            && !O_IS_NOT_OUTPUT.contains(&name)
        {
            Some((format!("{name} -{letter}"), format!("/{v}")))
        } else {
            None
        };
        if let Some((by, v)) = value
            && (v.starts_with('/')
                && (paths::is_device(&v) || paths::is_system(&v) || paths::is_sensitive(&v))
                && !paths::is_sink(&v)
                || paths::is_user_program_dir(&v)
                || paths::is_shell_startup(&v))
        {
            hits.push((by, v));
        }
    }
    for (by, v) in hits {
        write_target(ctx, &v, false, &by);
    }
}

fn is_output_long(opt: &str) -> bool {
    matches!(
        opt,
        "--output" | "--outfile" | "--out-file" | "--output-file" | "--output-document" | "--out"
    )
}

/// `rsync SRC… DEST`, `scp SRC… DEST`: a local destination (no `host:`) is written.
pub(super) fn local_destination(ctx: &mut Ctx<'_>, name: &str) {
    let ops = ctx.operands();
    if ops.len() < 2 {
        return;
    }
    if let Some(dest) = ops.last().map(|d| d.to_string())
        && !dest.contains(':')
        && (paths::is_system(&dest) || paths::is_device(&dest) || paths::is_shell_startup(&dest))
    {
        write_target(ctx, &dest, false, name);
    }
}
