//! Commands that run other commands: `sudo`, `env`, `timeout`, `xargs`, `find -exec` (the
//! inner command is a slice of the words), `sh -c`, `eval`, `su -c`, `ssh HOST cmd`, `watch`
//! (the inner command is a script to parse), and options or variables that name a program
//! (`ssh -o ProxyCommand=…`, `git -c core.pager=…`, `rsync -e`, `tar --to-command`, `PAGER=…`).

use super::convert::{Frame, parse_into};
use super::options::{self, Opts, Spec, part};
use super::{Command, Opaque, Parent, Script, Word};

/// Variables whose value some program runs as a shell command.
const COMMAND_VARS: &[&str] = &[
    "GIT_SSH_COMMAND",
    "GIT_PAGER",
    "GIT_EDITOR",
    "GIT_EXTERNAL_DIFF",
    "GIT_PROXY_COMMAND",
    "GIT_ASKPASS",
    "SSH_ASKPASS",
    "PAGER",
    "MANPAGER",
    "SYSTEMD_PAGER",
    "LESSOPEN",
    "LESSCLOSE",
    "EDITOR",
    "VISUAL",
    "BROWSER",
    "PROMPT_COMMAND",
    "BASH_ENV",
    "ENV",
    "RSYNC_RSH",
];

/// `git -c KEY=VALUE` keys whose value git runs.
const GIT_COMMAND_KEYS: &[&str] = &[
    "core.pager",
    "core.sshcommand",
    "core.editor",
    "core.fsmonitor",
    "core.askpass",
    "core.gitproxy",
    "diff.external",
    "sequence.editor",
    "gpg.program",
    "credential.helper",
    "uploadpack.packobjectshook",
];

const SHELLS: &[&str] = &[
    "sh", "bash", "zsh", "dash", "ksh", "mksh", "ash", "fish", "csh", "tcsh", "yash", "rbash",
];

struct Unwrap<'a> {
    s: &'a mut Script,
    index: usize,
    cmd: Command,
    frame: &'a Frame,
}

/// Append to `script` whatever command `index` runs through its words, options or variables.
pub(super) fn unwrap(script: &mut Script, index: usize, frame: &Frame) {
    let Some(cmd) = script.commands.get(index).cloned() else {
        return;
    };
    let mut u = Unwrap {
        s: script,
        index,
        cmd,
        frame,
    };
    u.run();
}

impl Unwrap<'_> {
    fn run(&mut self) {
        for a in self.cmd.assignments.clone() {
            if COMMAND_VARS.contains(&a.name.as_str()) {
                self.script(&a.value, &format!("{}=", a.name), None);
            }
        }
        let Some(prog) = self.cmd.program().map(str::to_string) else {
            return;
        };
        let args = self.cmd.args().to_vec();
        match prog.as_str() {
            "sudo" => {
                let o = self.opts(&args, "ugpCDhrtTRU", &["user", "group", "prompt", "chdir"]);
                if !(o.has("-e") || o.has("--edit") || o.has("-l") || o.has("--list")) {
                    self.exec_from(&args, o.operand, "sudo", true);
                }
            }
            "doas" => self.exec_opts(&args, "uC", &[], "doas", true),
            "pkexec" => self.exec_opts(&args, "", &["user"], "pkexec", true),
            "su" | "runuser" | "sg" => {
                let o = self.opts(&args, "cgGsuw", &["command", "session-command", "shell"]);
                if let Some(c) = o.value(&["-c", "--command", "--session-command"]) {
                    self.script(&c.clone(), &format!("{prog} -c"), None);
                } else if prog == "runuser" && o.has("-u") {
                    self.exec_from(&args, o.operand, "runuser", true);
                } else if prog == "sg" && args.len() > 1 {
                    self.joined(&args[1..], "sg", None);
                }
            }
            "env" => {
                let o = self.opts(&args, "uCPS", &["unset", "chdir", "split-string"]);
                if let Some(s) = o.value(&["-S", "--split-string"]) {
                    self.script(&s.clone(), "env -S", None);
                }
                let mut at = o.operand;
                let mut assignments = Vec::new();
                while let Some((name, value)) = args.get(at).and_then(|w| w.value.split_once('=')) {
                    assignments.push(super::Assignment {
                        name: name.to_string(),
                        value: part(&args[at], value),
                    });
                    at += 1;
                }
                for a in &assignments {
                    if COMMAND_VARS.contains(&a.name.as_str()) {
                        self.script(&a.value, &format!("{}=", a.name), None);
                    }
                }
                self.exec_with(&args, at, "env", false, assignments);
            }
            "timeout" => {
                let o = self.opts(&args, "sk", &["signal", "kill-after"]);
                self.exec_from(&args, o.operand + 1, "timeout", false);
            }
            "nice" => {
                // `nice -5 cmd` is an old spelling of `-n 5`.
                let start = args
                    .iter()
                    .position(|w| !w.value.starts_with('-') || w.value == "--")
                    .unwrap_or(args.len());
                let o = self.opts(&args, "n", &["adjustment"]);
                self.exec_from(&args, o.operand.max(start), "nice", false);
            }
            "ionice" | "chrt" | "taskset" if args.iter().any(|w| w.value == "-p") => {}
            "ionice" => self.exec_opts(&args, "cnt", &["class", "classdata"], "ionice", false),
            "chrt" => {
                let o = self.opts(&args, "TPD", &[]);
                self.exec_from(&args, o.operand + 1, "chrt", false);
            }
            "taskset" => {
                let o = self.opts(&args, "", &["cpu-list"]);
                let skip = usize::from(!o.has("-c") && !o.has("--cpu-list"));
                let at = if o.has("-c") {
                    o.operand + 1
                } else {
                    o.operand + skip
                };
                self.exec_from(&args, at, "taskset", false);
            }
            "nohup" | "setsid" | "unbuffer" | "caffeinate" | "torsocks" | "tsocks"
            | "dbus-run-session" | "catchsegv" | "xvfb-run" | "builtin" => {
                self.exec_opts(&args, "", &[], &prog, false)
            }
            "stdbuf" => {
                self.exec_opts(&args, "ioe", &["input", "output", "error"], "stdbuf", false)
            }
            "time" => self.exec_opts(&args, "fo", &["format", "output"], "time", false),
            "command" => {
                let o = self.opts(&args, "", &[]);
                if !(o.has("-v") || o.has("-V")) {
                    self.exec_from(&args, o.operand, "command", false);
                }
            }
            "exec" => self.exec_opts(&args, "a", &[], "exec", false),
            "proxychains" | "proxychains4" => self.exec_opts(&args, "f", &[], &prog, false),
            "firejail" | "valgrind" | "setpriv" => self.exec_opts(&args, "", &[], &prog, false),
            "gosu" | "su-exec" => self.exec_from(&args, 1, &prog, true),
            "chroot" => {
                let o = self.opts(&args, "", &["userspec", "groups"]);
                self.exec_from(&args, o.operand + 1, "chroot", true);
            }
            "flock" => {
                let o = self.opts(&args, "wE", &["timeout", "conflict-exit-code"]);
                if let Some(c) = o.value(&["-c", "--command"]) {
                    self.script(&c.clone(), "flock -c", None);
                } else if let Some(i) = args[o.operand.min(args.len())..]
                    .iter()
                    .position(|w| w.value == "-c")
                {
                    if let Some(c) = args.get(o.operand + i + 1) {
                        self.script(&c.clone(), "flock -c", None);
                    }
                } else {
                    self.exec_from(&args, o.operand + 1, "flock", false);
                }
            }
            "systemd-run" => self.exec_opts(
                &args,
                "upEMH",
                &[
                    "unit",
                    "property",
                    "setenv",
                    "machine",
                    "uid",
                    "gid",
                    "nice",
                    "working-directory",
                    "host",
                    "slice",
                    "description",
                    "on-calendar",
                    "on-active",
                ],
                "systemd-run",
                true,
            ),
            "nsenter" | "unshare" => self.exec_opts(&args, "tSGe", &["target"], &prog, true),
            "strace" | "ltrace" => self.exec_opts(&args, "oepsuEabIOPSX", &[], &prog, false),
            "busybox" | "toybox" => self.exec_from(&args, 0, &prog, false),
            "script" => {
                let o = self.opts(&args, "cEIOBT", &["command", "log-in", "log-out"]);
                if let Some(c) = o.value(&["-c", "--command"]) {
                    self.script(&c.clone(), "script -c", None);
                }
            }
            "xargs" => {
                let o = self.opts(
                    &args,
                    "adEeILlnPsi",
                    &[
                        "arg-file",
                        "delimiter",
                        "eof",
                        "replace",
                        "max-lines",
                        "max-args",
                        "max-procs",
                        "max-chars",
                        "process-slot-var",
                    ],
                );
                if o.operand < args.len() {
                    self.exec_full(&args[o.operand..], "xargs", false, Vec::new(), true);
                }
            }
            "find" => self.find_exec(&args),
            "eval" => self.joined(&args, "eval", None),
            "watch" => {
                let o = self.opts(&args, "nd", &["interval", "differences"]);
                if o.has("-x") || o.has("--exec") {
                    self.exec_from(&args, o.operand, "watch", false);
                } else if o.operand < args.len() {
                    self.joined(&args[o.operand..], "watch", None);
                }
            }
            p if SHELLS.contains(&p) => {
                let o = self.opts(&args, "oO", &["rcfile", "init-file"]);
                if o.flags.iter().any(|f| f.name == "-c") && o.operand < args.len() {
                    self.script(&args[o.operand].clone(), &format!("{p} -c"), None);
                }
            }
            "ssh" => self.ssh(&args),
            "scp" | "sftp" => {
                let o = self.opts(&args, "cFiJlOoPSDB", &[]);
                self.ssh_options(&o);
                if let Some(p) = o.value(&["-S"]) {
                    self.exec_full(
                        std::slice::from_ref(p),
                        &format!("{prog} -S"),
                        false,
                        vec![],
                        true,
                    );
                }
            }
            "rsync" => {
                let o = self.opts(&args, "eBfT", &["rsh", "rsync-path", "filter", "temp-dir"]);
                for w in o.values(&["-e", "--rsh"]).cloned().collect::<Vec<_>>() {
                    self.script(&w, "rsync -e", None);
                }
                for w in o.values(&["--rsync-path"]).cloned().collect::<Vec<_>>() {
                    self.script(&w, "rsync --rsync-path", Some("the remote host".into()));
                }
            }
            "git" => self.git(&args),
            "rg" => {
                let o = self.opts_anywhere(&args, "", &["pre"]);
                // `--pre` names one program; parsing it as a script also sees through a
                // value that smuggles arguments in.
                for w in o.values(&["--pre"]).cloned().collect::<Vec<_>>() {
                    self.script(&w, "rg --pre", None);
                }
            }
            "tar" => self.tar(&args),
            "less" | "more" => {
                for w in &args {
                    if let Some(cmd) = w.value.strip_prefix('+').and_then(|c| c.split_once('!')) {
                        self.script(&part(w, cmd.1), &format!("{prog} +!"), None);
                    }
                }
            }
            "vi" | "vim" | "nvim" | "view" | "ex" | "vimdiff" | "rvim" | "gvim" => {
                let o = self.opts_anywhere(&args, "cS", &["cmd"]);
                let mut cmds: Vec<Word> = o.values(&["-c", "--cmd"]).cloned().collect();
                cmds.extend(
                    args.iter()
                        .filter_map(|w| w.value.strip_prefix('+').map(|c| part(w, c))),
                );
                for c in cmds {
                    if let Some(shell) = vim_shell(&c.value) {
                        self.script(&part(&c, shell), &format!("{prog} :!"), None);
                    }
                }
            }
            "man" => {
                let o = self.opts_anywhere(&args, "PH", &["pager", "html"]);
                for w in o
                    .values(&["-P", "--pager", "-H", "--html"])
                    .cloned()
                    .collect::<Vec<_>>()
                {
                    self.script(&w, "man -P", None);
                }
            }
            "tcpdump" => {
                let o = self.opts_anywhere(&args, "zCcEFGiMmrsTwWyBj", &[]);
                for w in o.values(&["-z"]).cloned().collect::<Vec<_>>() {
                    self.exec_full(&[w], "tcpdump -z", false, vec![], true);
                }
            }
            "zip" => {
                let o = self.opts_anywhere(&args, "", &["unzip-command"]);
                let tt = args
                    .iter()
                    .position(|w| w.value == "-TT")
                    .and_then(|i| args.get(i + 1));
                for w in o
                    .values(&["--unzip-command"])
                    .chain(tt)
                    .cloned()
                    .collect::<Vec<_>>()
                {
                    self.script(&w, "zip -TT", None);
                }
            }
            "docker" | "podman" | "kubectl" | "oc" => self.container_exec(&prog, &args),
            "tmux" => {
                let sub = args.first().map(|w| w.value.as_str()).unwrap_or("");
                if matches!(
                    sub,
                    "new-session"
                        | "new"
                        | "new-window"
                        | "neww"
                        | "split-window"
                        | "splitw"
                        | "send-keys"
                        | "send"
                        | "respawn-pane"
                        | "run-shell"
                        | "run"
                ) {
                    let o = self.opts(&args[1..], "tcnsxyFeFlp", &[]);
                    let rest: Vec<Word> = args[1 + o.operand.min(args.len() - 1)..]
                        .iter()
                        .filter(|w| !matches!(w.value.as_str(), "Enter" | "C-m" | "KPEnter"))
                        .cloned()
                        .collect();
                    if !rest.is_empty() {
                        self.joined(&rest, &format!("tmux {sub}"), None);
                    }
                }
            }
            "screen" => {
                let o = self.opts(&args, "SpcehLltTX", &[]);
                self.exec_from(&args, o.operand, "screen", false);
            }
            _ => {}
        }
    }

    fn opts(&self, args: &[Word], short_value: &str, long_value: &[&str]) -> Opts {
        options::parse(
            args,
            &Spec {
                short_value,
                long_value,
            },
        )
    }

    /// GNU programs accept options after operands too: collect every option in the line.
    fn opts_anywhere(&self, args: &[Word], short_value: &str, long_value: &[&str]) -> Opts {
        let mut all = Opts::default();
        let mut at = 0;
        while at < args.len() {
            let o = self.opts(&args[at..], short_value, long_value);
            all.flags.extend(o.flags);
            at += o.operand + 1;
        }
        all.operand = args.len();
        all
    }

    fn exec_opts(&mut self, args: &[Word], short: &str, long: &[&str], via: &str, root: bool) {
        let o = self.opts(args, short, long);
        self.exec_from(args, o.operand, via, root);
    }

    fn exec_from(&mut self, args: &[Word], at: usize, via: &str, root: bool) {
        self.exec_with(args, at, via, root, Vec::new());
    }

    fn exec_with(
        &mut self,
        args: &[Word],
        at: usize,
        via: &str,
        root: bool,
        assignments: Vec<super::Assignment>,
    ) {
        if at < args.len() {
            self.exec_full(&args[at..], via, root, assignments, false);
        }
    }

    /// Append the command made of `words`, run by this one, and unwrap it in turn.
    fn exec_full(
        &mut self,
        words: &[Word],
        via: &str,
        root: bool,
        assignments: Vec<super::Assignment>,
        extra_args: bool,
    ) {
        if words.is_empty() {
            return;
        }
        let inner = Command {
            words: words.to_vec(),
            assignments,
            redirects: self.cmd.redirects.clone(),
            level: self.cmd.level,
            depth: self.cmd.depth,
            parent: Some(Parent {
                index: self.index,
                via: via.to_string(),
            }),
            as_root: self.cmd.as_root || root,
            remote: self.cmd.remote.clone(),
            extra_args: extra_args || self.cmd.extra_args,
            declaration: false,
        };
        let at = self.s.commands.len();
        self.s.commands.push(inner);
        unwrap(self.s, at, self.frame);
    }

    /// Parse `word`'s text as a script run by this command (on `remote` when set).
    fn script(&mut self, word: &Word, via: &str, remote: Option<String>) {
        if word.dynamic {
            self.s.opaque.push(Opaque {
                command: self.index,
                via: via.to_string(),
                word: word.clone(),
            });
        }
        let frame = Frame {
            level: self.cmd.level,
            depth: self.cmd.depth + 1,
            parent: Some(Parent {
                index: self.index,
                via: via.to_string(),
            }),
            as_root: self.cmd.as_root,
            remote: remote.or_else(|| self.cmd.remote.clone()),
            inherited: self.cmd.redirects.clone(),
        };
        parse_into(self.s, &word.value, frame);
    }

    /// Words a program joins with spaces and hands to a shell (`eval`, `ssh HOST a b`, `watch`).
    fn joined(&mut self, words: &[Word], via: &str, remote: Option<String>) {
        let Some(first) = words.first() else { return };
        let joined = Word {
            value: words
                .iter()
                .map(|w| w.value.as_str())
                .collect::<Vec<_>>()
                .join(" "),
            dynamic: words.iter().any(|w| w.dynamic),
            glob: false,
            span: first.span.start..words.last().map_or(first.span.end, |w| w.span.end),
            subs: words.iter().flat_map(|w| w.subs.clone()).collect(),
        };
        self.script(&joined, via, remote);
    }

    fn find_exec(&mut self, args: &[Word]) {
        let mut i = 0;
        while i < args.len() {
            let v = args[i].value.as_str();
            if matches!(v, "-exec" | "-execdir" | "-ok" | "-okdir") {
                let start = i + 1;
                let end = args[start..]
                    .iter()
                    .position(|w| w.value == ";" || w.value == "+")
                    .map_or(args.len(), |p| start + p);
                let via = format!("find {v}");
                self.exec_full(&args[start..end], &via, false, Vec::new(), true);
                i = end;
            }
            i += 1;
        }
    }

    fn ssh(&mut self, args: &[Word]) {
        let o = self.opts(args, "BbcDEeFIiJLlmOoPpQRSWw", &[]);
        self.ssh_options(&o);
        if o.operand + 1 < args.len() {
            let host = args[o.operand].value.clone();
            let host = host.rsplit('@').next().unwrap_or(&host).to_string();
            self.joined(
                &args[o.operand + 1..],
                &format!("ssh {host}"),
                Some(host.clone()),
            );
        }
    }

    /// `-o ProxyCommand=…` / `-o LocalCommand …` run locally.
    fn ssh_options(&mut self, o: &Opts) {
        for w in o.values(&["-o"]).cloned().collect::<Vec<_>>() {
            let v = w.value.trim();
            let split = v
                .find(|c: char| c == '=' || c.is_whitespace())
                .map(|i| (&v[..i], v[i + 1..].trim_start_matches(['=', ' ', '\t'])));
            if let Some((key, value)) = split {
                let lower = key.to_ascii_lowercase();
                if matches!(
                    lower.as_str(),
                    "proxycommand" | "localcommand" | "knownhostscommand"
                ) {
                    self.script(&part(&w, value), &format!("ssh -o {key}"), None);
                }
            }
        }
    }

    fn git(&mut self, args: &[Word]) {
        let o = self.opts(
            args,
            "cC",
            &["exec-path", "git-dir", "work-tree", "namespace"],
        );
        for w in o.values(&["-c"]).cloned().collect::<Vec<_>>() {
            if let Some((key, value)) = w.value.split_once('=') {
                let key = key.to_ascii_lowercase();
                let value = value.strip_prefix('!').unwrap_or(value);
                if GIT_COMMAND_KEYS.contains(&key.as_str())
                    || key.starts_with("alias.")
                    || (key.starts_with("filter.") && !key.ends_with(".required"))
                {
                    self.script(&part(&w, value), &format!("git -c {key}"), None);
                }
            }
        }
        let rest = &args[o.operand.min(args.len())..];
        let ro = self.opts_anywhere(rest, "u", &["upload-pack", "receive-pack", "exec"]);
        for w in ro
            .values(&["-u", "--upload-pack", "--receive-pack", "--exec"])
            .cloned()
            .collect::<Vec<_>>()
        {
            self.script(&w, "git --upload-pack", None);
        }
        for w in rest {
            if let Some(cmd) = w.value.strip_prefix("ext::") {
                self.script(&part(w, cmd), "git ext::", None);
            }
        }
    }

    fn tar(&mut self, args: &[Word]) {
        let o = self.opts_anywhere(
            args,
            "fCIFbgKLNTVX",
            &[
                "use-compress-program",
                "to-command",
                "rsh-command",
                "info-script",
                "new-volume-script",
                "checkpoint-action",
                "file",
                "directory",
            ],
        );
        for w in o
            .values(&[
                "-I",
                "--use-compress-program",
                "--to-command",
                "--rsh-command",
            ])
            .cloned()
            .collect::<Vec<_>>()
        {
            self.script(&w, "tar", None);
        }
        for w in o
            .values(&["-F", "--info-script", "--new-volume-script"])
            .cloned()
            .collect::<Vec<_>>()
        {
            self.exec_full(&[w], "tar --info-script", false, vec![], true);
        }
        for w in o
            .values(&["--checkpoint-action"])
            .cloned()
            .collect::<Vec<_>>()
        {
            if let Some(cmd) = w.value.strip_prefix("exec=") {
                self.script(&part(&w, cmd), "tar --checkpoint-action", None);
            }
        }
    }

    /// `docker exec [opts] CONTAINER cmd…`, `kubectl exec [opts] POD -- cmd…`.
    fn container_exec(&mut self, prog: &str, args: &[Word]) {
        let Some(sub) = args.iter().position(|w| !w.value.starts_with('-')) else {
            return;
        };
        if args[sub].value != "exec" {
            return;
        }
        let rest = &args[sub + 1..];
        if let Some(dd) = rest.iter().position(|w| w.value == "--") {
            let target = rest[..dd]
                .iter()
                .rfind(|w| !w.value.starts_with('-'))
                .map_or_else(|| prog.to_string(), |w| w.value.clone());
            self.exec_remote(&rest[dd + 1..], prog, target);
            return;
        }
        let o = self.opts(
            rest,
            "eunwc",
            &[
                "env",
                "user",
                "workdir",
                "env-file",
                "container",
                "namespace",
            ],
        );
        if o.operand + 1 < rest.len() {
            let target = rest[o.operand].value.clone();
            self.exec_remote(&rest[o.operand + 1..], prog, target);
        }
    }

    fn exec_remote(&mut self, words: &[Word], prog: &str, target: String) {
        let saved = self.cmd.remote.replace(format!("{prog} {target}"));
        self.exec_full(words, &format!("{prog} exec"), false, Vec::new(), false);
        self.cmd.remote = saved;
    }
}

/// The shell command of a vim/ex command line: `!cmd`, `:!cmd`, `r !cmd`, `w !cmd`,
/// `call system('cmd')`.
fn vim_shell(cmd: &str) -> Option<&str> {
    let c = cmd.trim_start_matches([':', ' ']);
    if let Some(rest) = c.strip_prefix('!') {
        return Some(rest);
    }
    for prefix in ["r", "read", "w", "write", "silent", "silent!"] {
        if let Some(rest) = c.strip_prefix(prefix) {
            let rest = rest.trim_start();
            if let Some(shell) = rest.strip_prefix('!') {
                return Some(shell);
            }
        }
    }
    if let Some(i) = c.find("system(") {
        let inner = &c[i + 7..];
        let inner = inner.trim_start_matches(['\'', '"']);
        let end = inner.find(['\'', '"']).unwrap_or(inner.len());
        return Some(&inner[..end]);
    }
    None
}
