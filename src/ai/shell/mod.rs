//! A command line as a shell would run it: every simple command at any depth (lists, pipelines,
//! subshells, `$(…)`, backticks, process substitution, here-docs), with the commands that
//! wrappers (`sudo`, `env`, `sh -c`, `ssh HOST cmd`, `find -exec`, …) run unwrapped beside them.
//!
//! Parsing is tree-sitter-bash; [`Script::error`] is set for anything it cannot parse, so callers
//! fail closed. Both the risk classifier and the placeholder checks read this model.

mod convert;
pub mod options;
mod words;
mod wrappers;

use std::ops::Range;

pub use convert::{node_kinds, quoting};
pub use words::{basename, program_name};

/// Longer command lines are not parsed (and so are treated as unparseable).
pub const MAX_SOURCE_LEN: usize = 64 * 1024;
/// Scripts inside scripts (`sh -c "sh -c '…'"`) deeper than this are not followed.
pub const MAX_DEPTH: u32 = 8;

/// How the shell reads the text at some position of a command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Quoting {
    /// A bare word: the shell splits and expands it.
    Bare,
    /// Inside `'…'`.
    Single,
    /// Inside `"…"`.
    Double,
    /// Inside `$'…'`.
    AnsiC,
    /// In a here-document body; `expands` when the delimiter is unquoted.
    HereDoc { expands: bool },
    /// A comment, an arithmetic expression, a pattern or anything else.
    Other,
}

/// Everything a command line runs, flattened in source order.
#[derive(Debug, Default, Clone)]
pub struct Script {
    pub commands: Vec<Command>,
    /// Pipelines of two or more stages; each stage is the range of `commands` it contains
    /// (including commands nested in it).
    pub pipelines: Vec<Pipeline>,
    pub functions: Vec<Function>,
    /// The parser found a syntax error, or a script was too long or nested too deep.
    pub error: bool,
    /// Text handed to a shell at run time that lumen cannot see (`sh -c "$X"`, `eval "$(…)"`).
    pub opaque: Vec<Opaque>,
}

#[derive(Debug, Clone)]
pub struct Pipeline {
    pub stages: Vec<Range<usize>>,
}

/// `name() { … }`; `body` is the range of commands in its body.
#[derive(Debug, Clone)]
pub struct Function {
    pub name: String,
    pub body: Range<usize>,
}

/// A script argument lumen could not read because it is built at run time.
#[derive(Debug, Clone)]
pub struct Opaque {
    /// The command (index) that runs it.
    pub command: usize,
    /// How it is run ("sh -c", "eval", "ssh").
    pub via: String,
    /// The script text as far as it is known.
    pub word: Word,
}

/// One simple command: `NAME=v prog args… redirects`.
#[derive(Debug, Clone, Default)]
pub struct Command {
    /// The program and its arguments; empty for a bare assignment.
    pub words: Vec<Word>,
    /// `NAME=value` before the program, or the arguments of `export`/`declare`/`local`/….
    pub assignments: Vec<Assignment>,
    /// Its own redirections and those of enclosing `{ …; } > f` / `( … ) > f`.
    pub redirects: Vec<Redirect>,
    /// Command-substitution depth: 0 means its output reaches the terminal unless redirected
    /// or piped.
    pub level: u32,
    /// How many scripts-in-scripts deep it is (`sh -c '…'` adds one).
    pub depth: u32,
    /// Set when a wrapper runs it; the index of that wrapper and how.
    pub parent: Option<Parent>,
    /// Run with raised privileges (`sudo`, `doas`, `su -c`, …).
    pub as_root: bool,
    /// Runs somewhere else: `ssh HOST`, `docker exec CONTAINER`, `kubectl exec POD`.
    pub remote: Option<String>,
    /// More arguments arrive at run time (`xargs`, `find -exec … {}`, `rg --pre`).
    pub extra_args: bool,
    /// `export`, `declare`, `local`, `readonly`, `typeset`: `words` are the keyword and its
    /// non-assignment arguments.
    pub declaration: bool,
}

#[derive(Debug, Clone)]
pub struct Parent {
    pub index: usize,
    pub via: String,
}

/// One shell word after quote removal. Expansions stay as their source text (`$HOME`).
#[derive(Debug, Clone, Default)]
pub struct Word {
    pub value: String,
    /// Contains an expansion or substitution: the real value is known only at run time.
    pub dynamic: bool,
    /// Contains unquoted glob characters (`*`, `?`, `[`).
    pub glob: bool,
    /// Byte range in the source it was parsed from.
    pub span: Range<usize>,
    /// Command and process substitutions inside it.
    pub subs: Vec<Substitution>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubKind {
    /// `$(…)` or backticks: its output becomes (part of) the word.
    Command,
    /// `<(…)`: the word is a file name to read the inner output from.
    ProcessIn,
    /// `>(…)`: the word is a file name whose content the inner command reads.
    ProcessOut,
}

#[derive(Debug, Clone)]
pub struct Substitution {
    pub kind: SubKind,
    /// The inner commands (indices into [`Script::commands`]).
    pub commands: Range<usize>,
}

#[derive(Debug, Clone)]
pub struct Assignment {
    pub name: String,
    pub value: Word,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RedirOp {
    /// `<`
    Read,
    /// `>`, `>|`
    Write,
    /// `>>`
    Append,
    /// `&>`, `>&FILE`
    WriteAll,
    /// `&>>`
    AppendAll,
    /// `<>`
    ReadWrite,
    /// `>&N`, `<&N`: duplicates a descriptor.
    Dup,
    /// `<<< word`
    HereString,
    /// `<< END`; `expands` is false when the delimiter is quoted.
    HereDoc { expands: bool },
}

#[derive(Debug, Clone)]
pub struct Redirect {
    pub fd: Option<u32>,
    pub op: RedirOp,
    /// The file, descriptor, here-string or here-doc body.
    pub target: Word,
}

impl Redirect {
    /// Sends output into a file (not a descriptor duplication, not input).
    pub fn writes(&self) -> bool {
        matches!(
            self.op,
            RedirOp::Write
                | RedirOp::Append
                | RedirOp::WriteAll
                | RedirOp::AppendAll
                | RedirOp::ReadWrite
        )
    }

    /// Sends the command's standard output (fd 1) into a file instead of the terminal.
    /// `>&2` and the like do not count: another descriptor may well be the terminal.
    pub fn captures_stdout(&self) -> bool {
        match self.op {
            RedirOp::WriteAll | RedirOp::AppendAll => true,
            RedirOp::Write | RedirOp::Append => self.fd.unwrap_or(1) == 1,
            _ => false,
        }
    }

    /// Feeds text to the command's standard input.
    pub fn feeds_stdin(&self) -> bool {
        matches!(self.op, RedirOp::HereString | RedirOp::HereDoc { .. })
            || (self.op == RedirOp::Read && self.fd.unwrap_or(0) == 0)
    }
}

impl Command {
    /// The program name as a shell would look it up, without directory or leading `\`.
    pub fn program(&self) -> Option<&str> {
        self.words.first().map(|w| program_name(&w.value))
    }

    /// The arguments after the program.
    pub fn args(&self) -> &[Word] {
        self.words.get(1..).unwrap_or(&[])
    }

    /// Has a program whose name is only known at run time (`$CMD`, `$(…)`).
    pub fn dynamic_program(&self) -> bool {
        self.words.first().is_some_and(|w| w.dynamic)
    }

    /// Standard output goes to a file or descriptor instead of the terminal or a pipe.
    pub fn stdout_redirected(&self) -> bool {
        self.redirects.iter().any(Redirect::captures_stdout)
    }
}

impl Script {
    /// Parse `source` as bash. Never fails: see [`Script::error`].
    pub fn parse(source: &str) -> Script {
        let mut script = Script::default();
        convert::parse_into(&mut script, source, convert::Frame::top());
        script
    }

    /// The pipeline stage (pipeline index, stage index) of every pipeline containing `cmd`.
    pub fn stages_of(&self, cmd: usize) -> impl Iterator<Item = (usize, usize)> + '_ {
        self.pipelines.iter().enumerate().flat_map(move |(p, pl)| {
            pl.stages
                .iter()
                .position(|r| r.contains(&cmd))
                .map(|s| (p, s))
        })
    }

    /// Wrappers first: the chain from the outermost wrapper down to `cmd`.
    pub fn ancestors(&self, cmd: usize) -> Vec<usize> {
        let mut out = Vec::new();
        let mut at = self.commands.get(cmd).and_then(|c| c.parent.as_ref());
        while let Some(p) = at {
            if out.contains(&p.index) {
                break;
            }
            out.push(p.index);
            at = self.commands.get(p.index).and_then(|c| c.parent.as_ref());
        }
        out.reverse();
        out
    }

    /// The commands whose standard output the text of `word` includes.
    pub fn substituted(&self, word: &Word) -> impl Iterator<Item = usize> + '_ {
        let ranges: Vec<Range<usize>> = word
            .subs
            .iter()
            .filter(|s| s.kind == SubKind::Command)
            .map(|s| s.commands.clone())
            .collect();
        ranges.into_iter().flatten()
    }

    /// Output of `cmd` reaches the terminal: not in `$(…)`, not redirected, not piped on, and the
    /// same for every wrapper and enclosing pipeline stage.
    pub fn prints_to_terminal(&self, cmd: usize) -> bool {
        let Some(c) = self.commands.get(cmd) else {
            return false;
        };
        if c.level > 0 || c.stdout_redirected() {
            return false;
        }
        if self.ancestors(cmd).into_iter().any(|a| {
            self.commands
                .get(a)
                .is_some_and(|w| w.level > 0 || w.stdout_redirected())
        }) {
            return false;
        }
        self.stages_of(cmd)
            .all(|(p, s)| s + 1 == self.pipelines[p].stages.len())
    }
}
