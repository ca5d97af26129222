//! Software and infrastructure: package managers, containers, Kubernetes, cloud CLIs, git.

use super::{Ctx, paths};

/// Subcommand words that delete or stop things, in any CLI.
const DESTROYS: &[&str] = &[
    "delete",
    "destroy",
    "remove",
    "rm",
    "rmi",
    "purge",
    "terminate",
    "uninstall",
    "prune",
    "kill",
    "stop",
    "down",
    "drain",
    "undefine",
    "rb",
    "deregister",
    "erase",
    "wipe",
    "reset",
    "leave",
    "evict",
    "force-delete",
];
/// Subcommand words that only look.
const LOOKS: &[&str] = &[
    "list",
    "ls",
    "get",
    "describe",
    "show",
    "info",
    "status",
    "logs",
    "log",
    "inspect",
    "ps",
    "top",
    "stats",
    "version",
    "--version",
    "help",
    "--help",
    "history",
    "search",
    "images",
    "events",
    "port",
    "diff",
    "explain",
    "cluster-info",
    "api-resources",
    "api-versions",
    "whoami",
    "df",
    "view",
    "current-context",
    "get-contexts",
    "can-i",
    "config",
    "plan",
    "output",
    "validate",
    "providers",
    "graph",
    "state",
    "env",
    "template",
    "lint",
    "dominfo",
    "domstate",
    "dumpxml",
    "capabilities",
    "policy",
    "query",
    "check",
    "verify",
];

pub(super) fn check(ctx: &mut Ctx<'_>, name: &str) -> bool {
    match name {
        "apt" | "apt-get" | "aptitude" => {
            let sub = ctx.sub().unwrap_or("");
            match sub {
                "remove" | "purge" | "autoremove" | "autopurge" => {
                    ctx.high(format!("{name} {sub} removes packages"))
                }
                "list" | "show" | "policy" | "search" | "depends" | "rdepends" | "changelog"
                | "madison" | "showpkg" | "showsrc" | "stats" | "dump" | "pkgnames"
                | "download" | "" => {}
                _ => ctx.medium(format!("{name} {sub} changes installed software")),
            }
        }
        "apt-mark"
        | "apt-key"
        | "add-apt-repository"
        | "yum-config-manager"
        | "dpkg-reconfigure"
        | "update-ca-certificates" => {
            if !ctx
                .sub()
                .is_some_and(|s| s.starts_with("show") || s == "list")
            {
                ctx.medium(format!("{name} changes package settings"));
            }
        }
        "dpkg" => {
            if ctx.flag('r', "--remove") || ctx.flag('P', "--purge") {
                ctx.high("dpkg removes packages");
            } else if ctx.flag('i', "--install")
                || ctx.args.iter().any(|a| {
                    matches!(
                        *a,
                        "--configure"
                            | "--unpack"
                            | "-a"
                            | "--set-selections"
                            | "--clear-selections"
                            | "--add-architecture"
                            | "--remove-architecture"
                    ) || a.starts_with("--force")
                })
            {
                ctx.medium("dpkg changes installed software");
            }
        }
        "yum" | "dnf" | "microdnf" | "tdnf" | "zypper" | "apk" | "snap" | "flatpak" | "brew"
        | "port" | "pkg" | "emerge" | "xbps-install" | "xbps-remove" | "nix-env" => {
            pkg_manager(ctx, name)
        }
        "rpm" => {
            let first = ctx
                .args
                .iter()
                .find(|a| a.starts_with('-'))
                .copied()
                .unwrap_or("");
            if first.starts_with("-e") || first == "--erase" {
                ctx.high("rpm -e removes packages");
            } else if ["-i", "-U", "-F"].iter().any(|p| first.starts_with(p))
                || matches!(
                    first,
                    "--install"
                        | "--upgrade"
                        | "--freshen"
                        | "--import"
                        | "--rebuilddb"
                        | "--setperms"
                        | "--setugids"
                )
            {
                ctx.medium("rpm changes installed software");
            }
        }
        "pacman" | "yay" | "paru" => {
            let first = ctx
                .args
                .iter()
                .find(|a| a.starts_with('-'))
                .copied()
                .unwrap_or("");
            if first.starts_with("-R") || first == "--remove" {
                ctx.high(format!("{name} {first} removes packages"));
            } else if (first.starts_with("-S")
                && !["-Ss", "-Si", "-Sl", "-Sg", "-Qs"].contains(&first))
                || first.starts_with("-U")
                || first == "--sync"
            {
                ctx.medium(format!("{name} changes installed software"));
            }
        }
        "pip" | "pip3" | "pipx" | "npm" | "pnpm" | "yarn" | "gem" | "cargo" | "go" | "composer"
        | "conda" | "mamba" | "uv" | "poetry" | "bundle" => lang_packages(ctx, name),
        "npx" | "pnpx" | "bunx" => ctx.medium(format!("{name} downloads and runs a package")),
        "docker" | "podman" | "nerdctl" | "docker-compose" => containers(ctx, name),
        "kubectl" | "oc" | "kubectl.exe" => kubectl(ctx, name),
        "helm" | "crictl" | "ctr" | "virsh" | "lxc" | "incus" | "vagrant" | "multipass"
        | "pulumi" | "nomad" | "consul" | "vault" | "aws" | "gcloud" | "gsutil" | "az"
        | "doctl" | "openstack" | "hcloud" | "linode-cli" | "oci" | "scw" | "eksctl"
        | "minikube" | "kind" | "k3d" => cloud(ctx, name),
        "terraform" | "tofu" | "terragrunt" => {
            let sub = ctx.sub().unwrap_or("");
            let destroy = sub == "destroy"
                || ctx.has("-destroy")
                || (sub == "state" && ctx.operands().get(1).is_some_and(|s| *s == "rm"));
            if destroy {
                ctx.high(format!("{name} {sub} destroys infrastructure"));
            } else if !LOOKS.contains(&sub) && sub != "fmt"
                || sub == "state"
                    && ctx
                        .operands()
                        .get(1)
                        .is_some_and(|s| *s == "mv" || *s == "push")
            {
                ctx.medium(format!("{name} {sub} changes infrastructure"));
            }
        }
        "ansible" | "ansible-playbook" | "salt" | "puppet" | "chef-client" => {
            if !(ctx.has("--check")
                || ctx.has("-C")
                || ctx.has("--list-hosts")
                || ctx.has("--syntax-check"))
            {
                ctx.medium(format!("{name} changes hosts"));
            }
        }
        "git" => git(ctx),
        _ => return false,
    }
    true
}

fn pkg_manager(ctx: &mut Ctx<'_>, name: &str) {
    let sub = ctx.sub().unwrap_or("");
    let removes = matches!(
        sub,
        "remove" | "erase" | "autoremove" | "rm" | "del" | "uninstall" | "purge"
    ) || name == "xbps-remove"
        || (name == "nix-env" && ctx.flag('e', "--uninstall"))
        || (name == "emerge" && (ctx.flag('C', "--unmerge") || ctx.has("--depclean")));
    let looks = matches!(
        sub,
        "list"
            | "info"
            | "search"
            | "se"
            | "provides"
            | "whatprovides"
            | "repolist"
            | "lr"
            | "repos"
            | "check-update"
            | "list-updates"
            | "lu"
            | "history"
            | "deplist"
            | "repoquery"
            | "updateinfo"
            | "show"
            | "policy"
            | "version"
            | "find"
            | "services"
            | "logs"
            | "changes"
            | "dot"
            | "stats"
            | "if"
            | "packages"
            | "pa"
            | "patches"
            | "outdated"
            | "deps"
            | "uses"
            | "leaves"
            | "doctor"
            | "config"
            | "--version"
            | ""
    ) || (name == "nix-env" && ctx.flag('q', "--query"));
    if removes {
        ctx.high(format!("{name} {sub} removes packages").replace("  ", " "));
    } else if name == "snap" && matches!(sub, "stop" | "disable") {
        ctx.high(format!("snap {sub} stops a service"));
    } else if !looks {
        ctx.medium(format!("{name} {sub} changes installed software"));
    }
}

fn lang_packages(ctx: &mut Ctx<'_>, name: &str) {
    let sub = ctx.sub().unwrap_or("");
    match sub {
        "uninstall" | "remove" | "rm" | "un" | "r" | "unlink" => {
            ctx.high(format!("{name} {sub} removes packages"))
        }
        "list" | "ls" | "show" | "freeze" | "check" | "search" | "view" | "info" | "outdated"
        | "audit" | "why" | "explain" | "config" | "help" | "--version" | "version" | "env"
        | "doc" | "" => {}
        _ => ctx.medium(format!("{name} {sub} installs or runs code")),
    }
}

fn containers(ctx: &mut Ctx<'_>, name: &str) {
    let ops = ctx.subcommands(
        "Hcl",
        &[
            "host",
            "context",
            "config",
            "log-level",
            "file",
            "project-name",
        ],
    );
    let mut sub = ops.first().copied().unwrap_or("");
    let mut rest: Vec<&str> = ops.get(1..).unwrap_or(&[]).to_vec();
    if matches!(
        sub,
        "container"
            | "image"
            | "volume"
            | "network"
            | "system"
            | "compose"
            | "builder"
            | "swarm"
            | "service"
            | "stack"
            | "node"
            | "secret"
            | "config"
            | "plugin"
            | "context"
    ) && !rest.is_empty()
    {
        let group = sub;
        sub = rest.remove(0);
        if group == "compose" && DESTROYS.contains(&sub) {
            ctx.high(format!("{name} compose {sub} stops or deletes containers"));
            return;
        }
        if group == "volume" && matches!(sub, "rm" | "prune" | "remove") {
            ctx.high(format!(
                "{name} volume {sub} deletes volumes and their data"
            ));
            return;
        }
        if group == "system" && sub == "prune" {
            ctx.high(format!(
                "{name} system prune deletes containers, images and data"
            ));
            return;
        }
        if group == "image" && matches!(sub, "rm" | "prune") {
            ctx.medium(format!("{name} image {sub} deletes images"));
            return;
        }
    }
    if name == "docker-compose" {
        sub = ops.first().copied().unwrap_or("");
    }
    match sub {
        "run" | "create" => container_run(ctx, name),
        "rmi" => ctx.medium(format!("{name} rmi deletes images")),
        "exec" => {}
        s if DESTROYS.contains(&s) => ctx.high(format!("{name} {s} stops or deletes containers")),
        s if LOOKS.contains(&s) || s.is_empty() => {}
        s => ctx.medium(format!("{name} {s} changes containers")),
    }
}

/// `docker run`: privileged flags and host mounts hand the host to the container.
fn container_run(ctx: &mut Ctx<'_>, name: &str) {
    let args = &ctx.args;
    let value_of = |i: usize, a: &str, flag: &str| -> Option<String> {
        if a == flag {
            args.get(i + 1).map(|s| s.to_string())
        } else {
            a.strip_prefix(flag)
                .and_then(|r| r.strip_prefix('='))
                .map(str::to_string)
        }
    };
    let mut why = None;
    for (i, a) in args.iter().enumerate() {
        if *a == "--privileged" || a.starts_with("--privileged=true") {
            why = Some("a privileged container".to_string());
        }
        for flag in ["--pid", "--ipc", "--userns", "--uts", "--cgroupns"] {
            if value_of(i, a, flag).is_some_and(|v| v == "host") {
                why = Some(format!("a container sharing the host's {}", &flag[2..]));
            }
        }
        if let Some(cap) = value_of(i, a, "--cap-add") {
            let cap = cap.to_ascii_uppercase();
            if [
                "ALL",
                "SYS_ADMIN",
                "SYS_PTRACE",
                "SYS_MODULE",
                "DAC_READ_SEARCH",
                "NET_ADMIN",
                "SYS_RAWIO",
            ]
            .iter()
            .any(|c| cap.trim_start_matches("CAP_") == *c)
            {
                why = Some(format!("a container with {cap}"));
            }
        }
        if let Some(opt) = value_of(i, a, "--security-opt")
            && (opt.contains("unconfined") || opt.contains("disable"))
        {
            why = Some(format!("a container with --security-opt {opt}"));
        }
        if value_of(i, a, "--device").is_some() {
            why = Some("a container with host devices".into());
        }
        let mount = value_of(i, a, "-v")
            .or_else(|| value_of(i, a, "--volume"))
            .or_else(|| value_of(i, a, "--mount"));
        if let Some(m) = mount {
            let source = m
                .split(',')
                .find_map(|p| p.strip_prefix("source=").or_else(|| p.strip_prefix("src=")))
                .unwrap_or_else(|| m.split(':').next().unwrap_or(""));
            if paths::is_system(source) || source.ends_with("docker.sock") || source == "/" {
                why = Some(format!("a container with the host's {source} mounted"));
            }
        }
    }
    match why {
        Some(w) => ctx.high(format!("{name} run starts {w}")),
        None => ctx.medium(format!("{name} run starts a container")),
    }
}

const KUBECTL_SHORT: &str = "nlocfsL";
const KUBECTL_LONG: &[&str] = &[
    "namespace",
    "context",
    "kubeconfig",
    "selector",
    "output",
    "filename",
    "container",
    "server",
    "cluster",
    "user",
    "token",
    "field-selector",
    "as",
    "as-group",
    "request-timeout",
];

fn kubectl(ctx: &mut Ctx<'_>, name: &str) {
    let subs = ctx.subcommands(KUBECTL_SHORT, KUBECTL_LONG);
    let sub = subs.first().copied().unwrap_or("");
    match sub {
        "delete" | "drain" | "replace" if sub != "replace" || ctx.has("--force") => {
            ctx.high(format!("{name} {sub} deletes or evicts resources"))
        }
        "scale" => {
            if ctx.args.contains(&"--replicas=0")
                || ctx.args.windows(2).any(|w| w == ["--replicas", "0"])
            {
                ctx.high(format!("{name} scale --replicas=0 stops a workload"));
            } else {
                ctx.medium(format!("{name} scale changes a workload"));
            }
        }
        "exec" => {}
        "config" => {
            let action = subs.get(1).copied().unwrap_or("");
            if !matches!(
                action,
                "view" | "get-contexts" | "current-context" | "get-clusters" | "get-users"
            ) {
                ctx.medium(format!("{name} config {action} changes kubeconfig"));
            }
        }
        "rollout" => {
            let action = subs.get(1).copied().unwrap_or("");
            if !matches!(action, "status" | "history") {
                ctx.medium(format!("{name} rollout {action} changes a workload"));
            }
        }
        s if LOOKS.contains(&s) || matches!(s, "top" | "wait" | "auth") => {}
        s => ctx.medium(format!("{name} {s} changes the cluster")),
    }
}

/// Cloud and orchestration CLIs: a verb that destroys anywhere in the line is High.
fn cloud(ctx: &mut Ctx<'_>, name: &str) {
    let ops = ctx.subcommands(KUBECTL_SHORT, KUBECTL_LONG);
    let destroys = ops.iter().find(|o| {
        DESTROYS.contains(o)
            || o.starts_with("delete-")
            || o.starts_with("terminate-")
            || o.starts_with("remove-")
            || o.starts_with("deregister-")
    });
    if let Some(verb) = destroys {
        let verb = verb.to_string();
        ctx.high(format!("{name} {verb} deletes or stops resources"));
        return;
    }
    let looks = ops.iter().any(|o| {
        LOOKS.contains(o)
            || o.starts_with("describe-")
            || o.starts_with("list-")
            || o.starts_with("get-")
    }) || ops.is_empty();
    if !looks {
        ctx.medium(format!(
            "{name} {} changes resources",
            ops.first().copied().unwrap_or("")
        ));
    }
}

fn git(ctx: &mut Ctx<'_>) {
    let subs = ctx.subcommands("cC", &["git-dir", "work-tree", "namespace", "exec-path"]);
    let sub = subs.first().copied().unwrap_or("");
    let forced = ctx.flag('f', "--force")
        || ctx.has("--force-with-lease")
        || ctx.args.iter().any(|a| a.starts_with('+'));
    match sub {
        "push" if forced || ctx.has("--delete") || ctx.flag('d', "") || ctx.has("--mirror") => {
            ctx.high("git push --force overwrites remote history")
        }
        "reset" if ctx.has("--hard") => ctx.high("git reset --hard discards changes"),
        "clean" if ctx.flag('f', "--force") => ctx.high("git clean -f deletes untracked files"),
        "checkout" | "restore" if ctx.has("--") || ctx.has(".") || forced => {
            ctx.high(format!("git {sub} discards local changes"))
        }
        "branch" if ctx.flag('D', "") || ctx.has("--delete") && forced => {
            ctx.high("git branch -D deletes a branch")
        }
        "stash" if matches!(subs.get(1).copied(), Some("drop" | "clear")) => {
            ctx.high("git stash drop/clear deletes stashed changes")
        }
        "filter-branch" | "filter-repo" => ctx.high(format!("git {sub} rewrites history")),
        "status" | "log" | "diff" | "show" | "blame" | "grep" | "ls-files" | "ls-tree"
        | "rev-parse" | "describe" | "shortlog" | "reflog" | "cat-file" | "remote" | "branch"
        | "tag" | "fetch" | "config" | "help" | "version" | "--version" | "whatchanged"
        | "show-ref" | "for-each-ref" | "rev-list" | "count-objects" | "fsck" | "" => {
            let writes = match sub {
                "remote" => subs
                    .get(1)
                    .is_some_and(|s| !matches!(*s, "-v" | "show" | "get-url")),
                "tag" | "branch" => subs.len() > 1 && !ctx.flag('l', "--list"),
                "config" => subs.len() > 2 && !ctx.flag(' ', "--get"),
                _ => false,
            };
            if sub == "config"
                && writes
                && let Some(key) = git_command_key(&subs)
            {
                ctx.high(format!(
                    "git config sets {key}: git runs it by itself later"
                ));
            }
            if writes {
                ctx.medium(format!("git {sub} changes the repository"));
            }
        }
        _ => ctx.medium(format!("git {sub} changes the repository")),
    }
}

/// `git config [--global] KEY VALUE` where git runs VALUE as a program later (pager, editor,
/// hooks path, filters, `!` aliases): the key, lower-cased.
fn git_command_key(subs: &[&str]) -> Option<String> {
    let (key, value) = match subs {
        [_, key, value, ..] => (key.to_ascii_lowercase(), *value),
        _ => return None,
    };
    const KEYS: &[&str] = &[
        "core.pager",
        "core.editor",
        "core.sshcommand",
        "core.fsmonitor",
        "core.askpass",
        "core.gitproxy",
        "core.hookspath",
        "diff.external",
        "sequence.editor",
        "gpg.program",
        "gpg.ssh.program",
        "credential.helper",
        "uploadpack.packobjectshook",
        "include.path",
    ];
    const SUFFIXES: &[&str] = &[
        ".textconv",
        ".command",
        ".cmd",
        ".driver",
        ".process",
        ".clean",
        ".smudge",
        ".helper",
        ".program",
        ".path",
    ];
    let runs = KEYS.contains(&key.as_str())
        || key.starts_with("pager.")
        || key.starts_with("includeif.")
        || key.starts_with("alias.") && value.trim_start().starts_with('!')
        || SUFFIXES.iter().any(|s| key.ends_with(s));
    runs.then_some(key)
}
