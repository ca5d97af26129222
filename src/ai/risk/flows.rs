//! Rules across commands: what flows through pipes, redirections, substitutions and files
//! (download-then-run, decode-then-run, reverse shells), variables that tamper with history,
//! programs named at run time, fork bombs.

use super::inline::{self, Reader};
use super::{Findings, files, paths};
use crate::ai::shell::{Command, RedirOp, Script, SubKind, Word, basename};
use std::ops::Range;

/// Programs that fetch content from the network onto stdout or into a file.
const DOWNLOADERS: &[&str] = &[
    "curl",
    "wget",
    "wget2",
    "fetch",
    "aria2c",
    "lwp-request",
    "lwp-download",
    "GET",
    "http",
    "https",
    "xh",
    "ftp",
    "tftp",
    "lftp",
    "nc",
    "ncat",
    "netcat",
    "socat",
    "telnet",
    "axel",
];
/// Programs that carry a network connection.
const NET_CLIENTS: &[&str] = &[
    "nc",
    "ncat",
    "netcat",
    "socat",
    "telnet",
    "nc.traditional",
    "nc.openbsd",
];
/// Programs through which the option-named commands run (`ssh -o ProxyCommand=…`).
const OPTION_VIAS: &[&str] = &[
    "ssh -o",
    "git -c",
    "git --upload-pack",
    "git ext::",
    "rsync -e",
    "rsync --rsync-path",
    "rg --pre",
    "tar",
    "less +!",
    "more +!",
    ":!",
    "man -P",
    "tcpdump -z",
    "zip -TT",
    "scp -S",
    "sftp -S",
];

pub(super) fn check(script: &Script, found: &mut Findings) {
    redirects(script, found);
    assignments(script, found);
    run_time_code(script, found);
    pipelines(script, found);
    here_docs(script, found);
    downloaded_then_run(script, found);
    option_programs(script, found);
    fork_bombs(script, found);
    raw_sockets(script, found);
}

pub(super) fn is_download(cmd: &Command) -> bool {
    let Some(name) = cmd.program() else {
        return false;
    };
    if name == "openssl" {
        return cmd.args().first().is_some_and(|w| w.value == "s_client");
    }
    DOWNLOADERS.contains(&name)
}

/// Turns encoded text back into something runnable: base64, hex, compression, rot13, `\x` escapes.
pub(super) fn is_decoder(cmd: &Command) -> bool {
    let Some(name) = cmd.program() else {
        return false;
    };
    let args: Vec<&str> = cmd.args().iter().map(|w| w.value.as_str()).collect();
    let has = |f: &str| {
        args.iter()
            .any(|a| *a == f || (super::is_short_group(a) && f.len() == 2 && a.contains(&f[1..])))
    };
    match name {
        "base64" | "base32" | "basenc" | "gbase64" => {
            has("-d") || has("-D") || args.contains(&"--decode")
        }
        "xxd" => has("-r") || args.contains(&"--revert"),
        "openssl" => {
            args.iter()
                .any(|a| *a == "-d" || *a == "-base64" || *a == "base64")
                && args.contains(&"-d")
        }
        "uudecode" | "gunzip" | "zcat" | "bzcat" | "xzcat" | "unxz" | "zstdcat" | "bunzip2"
        | "unzstd" | "lzcat" | "rev" => true,
        "gzip" | "bzip2" | "xz" | "zstd" | "lz4" => has("-d") || args.contains(&"--decompress"),
        "tr" => args.iter().any(|a| a.contains("N-Z") || a.contains("n-z")),
        "printf" | "echo" => args
            .iter()
            .any(|a| a.contains("\\x") || a.contains("\\0") || a.contains("\\u")),
        _ => false,
    }
}

fn range_has(script: &Script, range: Range<usize>, test: fn(&Command) -> bool) -> bool {
    script
        .commands
        .get(range)
        .is_some_and(|cs| cs.iter().any(test))
}

/// The commands whose output a word contains (`$(…)`, `<(…)`).
fn sub_commands(word: &Word) -> Vec<Range<usize>> {
    word.subs.iter().map(|s| s.commands.clone()).collect()
}

fn any_in(script: &Script, ranges: &[Range<usize>], test: fn(&Command) -> bool) -> bool {
    ranges.iter().any(|r| range_has(script, r.clone(), test))
}

fn redirects(script: &Script, found: &mut Findings) {
    for c in &script.commands {
        for r in &c.redirects {
            if r.writes() {
                let append = matches!(r.op, RedirOp::Append | RedirOp::AppendAll);
                if !paths::is_net_device(&r.target.value) {
                    files::write_finding(found, &r.target.value, append, "the redirect");
                }
            }
        }
    }
}

fn assignments(script: &Script, found: &mut Findings) {
    for c in &script.commands {
        for a in &c.assignments {
            let v = a.value.value.as_str();
            match a.name.as_str() {
                "HISTFILE" => found.high(format!("HISTFILE={v} stops saving shell history")),
                "HISTSIZE" | "HISTFILESIZE" | "SAVEHIST" if v == "0" || v.is_empty() => {
                    found.high(format!("{}=0 stops saving shell history", a.name))
                }
                "HISTIGNORE" | "HISTORY_IGNORE" if v.contains('*') => {
                    found.high(format!("{} hides commands from shell history", a.name))
                }
                "LD_PRELOAD" | "LD_AUDIT" | "LD_LIBRARY_PATH" | "DYLD_INSERT_LIBRARIES" => {
                    found.medium(format!("{} loads other libraries into programs", a.name))
                }
                "PATH" => found.medium("changes PATH"),
                _ => {}
            }
        }
    }
}

/// Programs and scripts whose text exists only at run time.
fn run_time_code(script: &Script, found: &mut Findings) {
    for c in &script.commands {
        if let Some(w) = c.words.first().filter(|w| w.dynamic) {
            let subs = sub_commands(w);
            judge_built(
                script,
                found,
                &subs,
                &format!("runs a program chosen at run time ({})", w.value),
            );
        }
        let reads_script = c.program().is_some_and(|n| {
            inline::SHELLS.contains(&n)
                || matches!(n, "source" | ".")
                || inline::interpreter(n).is_some()
        });
        for w in c.args() {
            let process: Vec<Range<usize>> = w
                .subs
                .iter()
                .filter(|s| s.kind == SubKind::ProcessIn)
                .map(|s| s.commands.clone())
                .collect();
            if reads_script && !process.is_empty() {
                let name = c.program().unwrap_or("");
                judge_built(
                    script,
                    found,
                    &process,
                    &format!("{name} runs a script produced by a command"),
                );
            }
        }
        for word in c
            .words
            .iter()
            .skip(1)
            .chain(c.assignments.iter().map(|a| &a.value))
        {
            for s in &word.subs {
                let first = script
                    .commands
                    .get(s.commands.clone())
                    .and_then(|cs| cs.iter().find_map(|c| c.program().map(str::to_string)))
                    .unwrap_or_default();
                let form = if s.kind == SubKind::Command {
                    "$(…)"
                } else {
                    "<(…)"
                };
                found.medium(format!("uses the output of {first} ({form})").replace(" ()", ""));
            }
        }
    }
    for o in &script.opaque {
        let subs = sub_commands(&o.word);
        judge_built(
            script,
            found,
            &subs,
            &format!("{} runs a command built at run time", o.via),
        );
    }
}

/// Code made from the output of `subs`: High if that output is a download or decoded data.
fn judge_built(script: &Script, found: &mut Findings, subs: &[Range<usize>], otherwise: &str) {
    if any_in(script, subs, is_download) {
        found.high("runs a download");
    } else if any_in(script, subs, is_decoder) {
        found.high("runs decoded data");
    } else {
        found.medium(otherwise.to_string());
    }
}

fn pipelines(script: &Script, found: &mut Findings) {
    for p in &script.pipelines {
        for (j, stage) in p.stages.iter().enumerate() {
            let level = script.commands.get(stage.start).map_or(0, |c| c.level);
            let readers: Vec<(usize, Reader)> = stage
                .clone()
                .filter_map(|i| {
                    let c = &script.commands[i];
                    let fed = c.redirects.iter().any(|r| r.feeds_stdin());
                    (c.level == level && !fed)
                        .then(|| inline::stdin_reader(c).map(|r| (i, r)))
                        .flatten()
                })
                .collect();
            if j == 0 {
                continue;
            }
            let upstream = p.stages[0].start..stage.start;
            for (i, reader) in readers {
                let name = script.commands[i].program().unwrap_or("").to_string();
                if range_has(script, upstream.clone(), is_download) {
                    found.high(format!("pipes a download into {name}"));
                } else if range_has(script, upstream.clone(), is_decoder) {
                    found.high(format!("pipes decoded data into {name}"));
                } else if let Some(text) = piped_text(script, p.stages[j - 1].clone()) {
                    inline::consume(found, reader, &name, &text);
                } else {
                    found.medium(format!("pipes text into {name}"));
                }
            }
        }
        let net = p.stages.iter().any(|s| {
            range_has(script, s.clone(), |c| {
                c.program().is_some_and(|n| NET_CLIENTS.contains(&n))
            })
        });
        let shell = p.stages.iter().any(|s| {
            range_has(script, s.clone(), |c| {
                c.program().is_some_and(|n| {
                    inline::SHELLS.contains(&n) && !c.args().iter().any(|w| w.value == "-c")
                })
            })
        });
        if net && shell {
            found.high("connects a shell to a network connection");
        }
    }
}

/// Text a stage writes when it is only `echo`/`printf` of fixed words or `cat` of a here-doc.
fn piped_text(script: &Script, stage: Range<usize>) -> Option<String> {
    let cmds = script.commands.get(stage)?;
    let mut out = String::new();
    for c in cmds
        .iter()
        .filter(|c| c.level == cmds[0].level && c.parent.is_none())
    {
        match c.program()? {
            "echo" | "printf" => {
                let args: Vec<&str> = c
                    .args()
                    .iter()
                    .map(|w| w.value.as_str())
                    .filter(|a| !(a.starts_with('-') && a.len() <= 3))
                    .collect();
                out.push_str(&args.join(" "));
                out.push('\n');
            }
            "cat" if c.args().is_empty() => {
                let doc = c
                    .redirects
                    .iter()
                    .find(|r| r.feeds_stdin() && r.op != RedirOp::Read)?;
                out.push_str(&doc.target.value);
            }
            _ => return None,
        }
    }
    (!out.is_empty()).then_some(out.replace("\\n", "\n"))
}

fn here_docs(script: &Script, found: &mut Findings) {
    for c in &script.commands {
        let Some(reader) = inline::stdin_reader(c) else {
            continue;
        };
        let name = c.program().unwrap_or("");
        for r in &c.redirects {
            match r.op {
                RedirOp::HereDoc { .. } | RedirOp::HereString => {
                    inline::consume(found, reader, name, &r.target.value);
                }
                RedirOp::Read if r.fd.unwrap_or(0) == 0 => {
                    found.medium(format!("{name} runs commands from {}", r.target.value));
                }
                _ => {}
            }
        }
    }
}

/// `curl -o x.sh URL && sh x.sh`, `wget URL; chmod +x f; ./f`.
fn downloaded_then_run(script: &Script, found: &mut Findings) {
    let mut downloaded: Vec<String> = Vec::new();
    for c in &script.commands {
        if !downloaded.is_empty()
            && let Some(f) = runs_file(c).filter(|f| downloaded.iter().any(|d| d == basename(f)))
        {
            found.high(format!("runs a downloaded file ({f})"));
        }
        downloaded.extend(download_outputs(c));
    }
}

/// The file a command executes: `./f`, `sh f`, `python f`, `source f`, `chmod +x f`, `sh < f`.
fn runs_file(c: &Command) -> Option<String> {
    let name = c.program()?;
    let first = c.words.first()?.value.as_str();
    if first.contains('/') && !matches!(name, "curl" | "wget") {
        return Some(first.to_string());
    }
    if let Some(r) = c
        .redirects
        .iter()
        .find(|r| r.op == RedirOp::Read && inline::stdin_reader(c).is_some())
    {
        return Some(r.target.value.clone());
    }
    let runs_script = inline::SHELLS.contains(&name)
        || inline::interpreter(name).is_some()
        || matches!(name, "source" | "." | "chmod" | "install");
    if runs_script {
        return c
            .args()
            .iter()
            .map(|w| w.value.as_str())
            .rfind(|a| !a.starts_with('-') && !a.starts_with('+'))
            .map(str::to_string);
    }
    None
}

/// Files a download writes (base names).
fn download_outputs(c: &Command) -> Vec<String> {
    let Some(name) = c.program() else {
        return Vec::new();
    };
    let args: Vec<&str> = c.args().iter().map(|w| w.value.as_str()).collect();
    let url_name = |a: &&str| {
        a.contains("://").then(|| {
            let path = a.split(['?', '#']).next().unwrap_or(a);
            let base = basename(path);
            if base.contains("://") || base.is_empty() {
                "index.html".to_string()
            } else {
                base.to_string()
            }
        })
    };
    let value_after = |flags: &[&str]| {
        args.iter().enumerate().find_map(|(i, a)| {
            if flags.contains(a) {
                args.get(i + 1).map(|s| s.to_string())
            } else {
                flags
                    .iter()
                    .find_map(|f| a.strip_prefix(&format!("{f}=")).map(str::to_string))
            }
        })
    };
    match name {
        "curl" => {
            if let Some(f) = value_after(&["-o", "--output"]) {
                return vec![basename(&f).to_string()];
            }
            if args.iter().any(|a| {
                *a == "-O" || *a == "--remote-name" || (super::is_short_group(a) && a.contains('O'))
            }) {
                return args.iter().filter_map(url_name).collect();
            }
            Vec::new()
        }
        "wget" | "wget2" | "aria2c" | "axel" | "fetch" | "lwp-download" => {
            match value_after(&["-O", "--output-document", "-o", "--out", "--output"]) {
                Some(f) if f == "-" => Vec::new(),
                Some(f) => vec![basename(&f).to_string()],
                None => {
                    if args.iter().any(|a| a.starts_with("-qO-") || *a == "-O-") {
                        return Vec::new();
                    }
                    args.iter().filter_map(url_name).collect()
                }
            }
        }
        _ => Vec::new(),
    }
}

fn option_programs(script: &Script, found: &mut Findings) {
    for c in &script.commands {
        let Some(p) = &c.parent else { continue };
        if p.via.ends_with('=')
            || OPTION_VIAS
                .iter()
                .any(|v| p.via.starts_with(v) || p.via.contains(v))
        {
            let prog = c.program().unwrap_or("a command");
            found.medium(format!("{} runs {prog}", p.via.trim_end_matches('=')));
        }
    }
}

fn fork_bombs(script: &Script, found: &mut Findings) {
    for f in &script.functions {
        let recursive = script
            .commands
            .get(f.body.clone())
            .is_some_and(|cs| cs.iter().any(|c| c.program() == Some(f.name.as_str())));
        if recursive {
            found.high(format!("defines {} to call itself (fork bomb)", f.name));
        }
    }
}

fn raw_sockets(script: &Script, found: &mut Findings) {
    let uses = script.commands.iter().any(|c| {
        c.words
            .iter()
            .chain(c.assignments.iter().map(|a| &a.value))
            .chain(c.redirects.iter().map(|r| &r.target))
            .any(|w| paths::is_net_device(&w.value))
    });
    if uses {
        found.high("opens a raw network connection through /dev/tcp");
    }
}
