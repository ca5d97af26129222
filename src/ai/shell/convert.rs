//! tree-sitter-bash's syntax tree → [`Script`]: one walk that flattens statements into commands,
//! keeps pipelines as ranges, and hands each command to the wrapper unwrapping.

use super::words::{decode_ansi_c, has_glob, unescape_bare, unescape_double};
use super::{
    Assignment, Command, Function, MAX_DEPTH, MAX_SOURCE_LEN, Parent, Pipeline, Quoting, RedirOp,
    Redirect, Script, SubKind, Substitution, Word, wrappers,
};
use std::cell::RefCell;
use tree_sitter::{Node, Parser, Tree};

thread_local! {
    // Creating a parser allocates; one per thread keeps `assess` in the microseconds.
    static PARSER: RefCell<Option<Parser>> = const { RefCell::new(None) };
}

fn parse_tree(source: &str) -> Option<Tree> {
    PARSER.with(|cell| {
        let mut slot = cell.borrow_mut();
        if slot.is_none() {
            let mut parser = Parser::new();
            parser
                .set_language(&tree_sitter_bash::LANGUAGE.into())
                .ok()?;
            *slot = Some(parser);
        }
        slot.as_mut()?.parse(ascii_shadow(source).as_bytes(), None)
    })
}

/// `source` with every non-ASCII character replaced by `a`s, one per byte. tree-sitter-bash's
/// scanner hands characters to C's `<ctype.h>` functions, which read out of bounds and crash
/// the process on some code points (`{` followed by U+E01A1). Bash treats every non-ASCII
/// character as an ordinary word character, as it does `a`, so the tree is the same; byte
/// offsets are unchanged, and all text is read from `source` itself.
fn ascii_shadow(source: &str) -> std::borrow::Cow<'_, str> {
    if source.is_ascii() {
        return std::borrow::Cow::Borrowed(source);
    }
    let mut out = String::with_capacity(source.len());
    for c in source.chars() {
        if c.is_ascii() {
            out.push(c);
        } else {
            out.extend(std::iter::repeat_n('a', c.len_utf8()));
        }
    }
    std::borrow::Cow::Owned(out)
}

/// The kind of every node of the syntax tree of `source` (named ones like `command` and
/// `subshell`, and tokens like `&&` or `&`), in document order. `None` when it does not parse.
/// For allow-lists of syntax: anything not listed is something lumen did not vet.
pub fn node_kinds(source: &str) -> Option<Vec<&'static str>> {
    if source.len() > MAX_SOURCE_LEN {
        return None;
    }
    let tree = parse_tree(source)?;
    let root = tree.root_node();
    if root.has_error() {
        return None;
    }
    let mut out = Vec::new();
    let mut cursor = root.walk();
    loop {
        out.push(cursor.node().kind());
        if cursor.goto_first_child() {
            continue;
        }
        loop {
            if cursor.goto_next_sibling() {
                break;
            }
            if !cursor.goto_parent() {
                return Some(out);
            }
        }
    }
}

/// How the shell reads the text at `range` of `source` (the innermost quoting around it).
/// `None` when the source does not parse.
pub fn quoting(source: &str, range: std::ops::Range<usize>) -> Option<Quoting> {
    let tree = parse_tree(source)?;
    if tree.root_node().has_error() {
        return None;
    }
    let mut node = tree
        .root_node()
        .descendant_for_byte_range(range.start, range.end)?;
    loop {
        let q = match node.kind() {
            "raw_string" => Some(Quoting::Single),
            "string" | "translated_string" => Some(Quoting::Double),
            "ansi_c_string" => Some(Quoting::AnsiC),
            "heredoc_body" => {
                let expands = node
                    .parent()
                    .and_then(|p| {
                        let mut c = p.walk();

                        p.children(&mut c)
                            .find(|c| c.kind() == "heredoc_start")
                            .map(|s| !source[s.byte_range()].contains(['\'', '"', '\\']))
                    })
                    .unwrap_or(false);
                Some(Quoting::HereDoc { expands })
            }
            "word" | "concatenation" | "command_name" => Some(Quoting::Bare),
            "comment" | "arithmetic_expansion" | "regex" | "extglob_pattern" | "test_command" => {
                Some(Quoting::Other)
            }
            _ => None,
        };
        if let Some(q) = q {
            return Some(q);
        }
        node = node.parent()?;
    }
}

/// Where the commands being converted run.
#[derive(Debug, Clone, Default)]
pub(super) struct Frame {
    pub level: u32,
    pub depth: u32,
    pub parent: Option<Parent>,
    pub as_root: bool,
    pub remote: Option<String>,
    /// Redirections of enclosing compound statements or of the wrapper.
    pub inherited: Vec<Redirect>,
}

impl Frame {
    pub fn top() -> Frame {
        Frame::default()
    }
}

/// Parse `source` and append what it runs to `script`.
pub(super) fn parse_into(script: &mut Script, source: &str, frame: Frame) {
    if source.len() > MAX_SOURCE_LEN || frame.depth > MAX_DEPTH {
        script.error = true;
        return;
    }
    let Some(tree) = parse_tree(source) else {
        script.error = true;
        return;
    };
    let root = tree.root_node();
    if root.has_error() {
        script.error = true;
    }
    let mut walk = Walk {
        s: script,
        src: source,
    };
    walk.visit(root, &frame);
}

struct Walk<'a> {
    s: &'a mut Script,
    src: &'a str,
}

fn named_children(n: Node<'_>) -> Vec<Node<'_>> {
    let mut cursor = n.walk();
    n.named_children(&mut cursor).collect()
}

/// Children with the name of the field each sits in.
fn fielded_children(n: Node<'_>) -> Vec<(Option<&'static str>, Node<'_>)> {
    let mut cursor = n.walk();
    n.children(&mut cursor)
        .enumerate()
        .map(|(i, c)| (n.field_name_for_child(i as u32), c))
        .collect()
}

impl Walk<'_> {
    fn text(&self, n: Node<'_>) -> &str {
        self.src.get(n.byte_range()).unwrap_or("")
    }

    fn visit(&mut self, n: Node<'_>, f: &Frame) {
        if n.is_error() || n.is_missing() {
            self.s.error = true;
        }
        match n.kind() {
            "command" => self.command(n, f),
            "declaration_command" | "unset_command" => self.declaration(n, f),
            "variable_assignment" => self.assignments(&[n], f),
            "variable_assignments" => self.assignments(&named_children(n), f),
            "pipeline" => self.pipeline(n, f),
            "redirected_statement" => self.redirected(n, f),
            "function_definition" => self.function(n, f),
            "comment" => {}
            "command_substitution" | "process_substitution" => {
                let inner = Frame {
                    level: f.level + 1,
                    inherited: Vec::new(),
                    ..f.clone()
                };
                for c in named_children(n) {
                    self.visit(c, &inner);
                }
            }
            _ => {
                for c in named_children(n) {
                    self.visit(c, f);
                }
            }
        }
    }

    fn command(&mut self, n: Node<'_>, f: &Frame) {
        let index = self.s.commands.len();
        self.s.commands.push(Command::default());
        let mut cmd = self.new_command(f);
        for (field, c) in fielded_children(n) {
            match (field, c.kind()) {
                (Some("name"), _) | (Some("argument"), _) => {
                    let w = self.word(c, f);
                    cmd.words.push(w);
                }
                (Some("redirect"), _) | (_, "herestring_redirect") => {
                    if let Some(r) = self.redirect(c, f) {
                        cmd.redirects.push(r);
                    }
                }
                (_, "variable_assignment") => {
                    let a = self.assignment(c, f);
                    cmd.assignments.push(a);
                }
                (_, "comment") => {}
                _ if c.is_named() => self.visit(c, f),
                _ => {}
            }
        }
        self.s.commands[index] = cmd;
        wrappers::unwrap(self.s, index, f);
    }

    fn new_command(&self, f: &Frame) -> Command {
        Command {
            redirects: f.inherited.clone(),
            level: f.level,
            depth: f.depth,
            parent: f.parent.clone(),
            as_root: f.as_root,
            remote: f.remote.clone(),
            ..Command::default()
        }
    }

    /// `export A=1 B`, `declare -x C=2`, `unset X`: the keyword and plain arguments are words.
    fn declaration(&mut self, n: Node<'_>, f: &Frame) {
        let index = self.s.commands.len();
        self.s.commands.push(Command::default());
        let mut cmd = self.new_command(f);
        cmd.declaration = n.kind() == "declaration_command";
        let mut cursor = n.walk();
        let keyword = n
            .children(&mut cursor)
            .find(|c| !c.is_named())
            .map(|c| self.text(c).to_string())
            .unwrap_or_default();
        cmd.words.push(Word {
            value: keyword,
            span: n.start_byte()..n.start_byte(),
            ..Word::default()
        });
        for c in named_children(n) {
            match c.kind() {
                "variable_assignment" => {
                    let a = self.assignment(c, f);
                    cmd.assignments.push(a);
                }
                "comment" => {}
                _ => {
                    let w = self.word(c, f);
                    cmd.words.push(w);
                }
            }
        }
        self.s.commands[index] = cmd;
    }

    fn assignments(&mut self, nodes: &[Node<'_>], f: &Frame) {
        let index = self.s.commands.len();
        self.s.commands.push(Command::default());
        let mut cmd = self.new_command(f);
        for &n in nodes {
            let a = self.assignment(n, f);
            cmd.assignments.push(a);
        }
        self.s.commands[index] = cmd;
    }

    fn assignment(&mut self, n: Node<'_>, f: &Frame) -> Assignment {
        let name = n
            .child_by_field_name("name")
            .map(|c| self.text(c).to_string())
            .unwrap_or_default();
        let value = match n.child_by_field_name("value") {
            Some(v) => self.word(v, f),
            None => Word {
                span: n.end_byte()..n.end_byte(),
                ..Word::default()
            },
        };
        Assignment { name, value }
    }

    fn pipeline(&mut self, n: Node<'_>, f: &Frame) {
        let mut stages = Vec::new();
        for c in named_children(n) {
            if c.kind() == "comment" {
                continue;
            }
            let start = self.s.commands.len();
            self.visit(c, f);
            stages.push(start..self.s.commands.len());
        }
        if stages.len() > 1 {
            self.s.pipelines.push(Pipeline { stages });
        }
    }

    /// `body redirects…`. A here-doc's node also carries what follows it on its line
    /// (`cat <<EOF | sh`, `cat <<EOF > f && sh f`), so those continue the statement here.
    fn redirected(&mut self, n: Node<'_>, f: &Frame) {
        let start = self.s.commands.len();
        let mut redirs = Vec::new();
        let mut piped_into = None;
        let mut and_then = None;
        for (field, c) in fielded_children(n) {
            if field == Some("body") || !c.is_named() {
                continue;
            }
            if c.kind() == "heredoc_redirect" {
                for (hf, h) in fielded_children(c) {
                    match (hf, h.kind()) {
                        (Some("redirect"), _) => redirs.extend(self.redirect(h, f)),
                        (Some("right"), _) => and_then = Some(h),
                        (_, "pipeline") => piped_into = Some(h),
                        _ => {}
                    }
                }
            }
            redirs.extend(self.redirect(c, f));
        }
        let inner = Frame {
            inherited: f.inherited.iter().cloned().chain(redirs).collect(),
            ..f.clone()
        };
        match n.child_by_field_name("body") {
            Some(body) => self.visit(body, &inner),
            // `> file` alone still truncates the file: keep it as a command without words.
            None => {
                let cmd = self.new_command(&inner);
                self.s.commands.push(cmd);
            }
        }
        if let Some(pipe) = piped_into {
            let mut stages = Vec::new();
            stages.push(start..self.s.commands.len());
            for c in named_children(pipe) {
                let s = self.s.commands.len();
                self.visit(c, f);
                stages.push(s..self.s.commands.len());
            }
            self.s.pipelines.push(Pipeline { stages });
        }
        if let Some(next) = and_then {
            self.visit(next, f);
        }
    }

    fn function(&mut self, n: Node<'_>, f: &Frame) {
        let name = n
            .child_by_field_name("name")
            .map(|c| self.text(c).to_string())
            .unwrap_or_default();
        let start = self.s.commands.len();
        for (field, c) in fielded_children(n) {
            match field {
                Some("body") => self.visit(c, f),
                Some("redirect") => {
                    self.redirect(c, f);
                }
                _ => {}
            }
        }
        self.s.functions.push(Function {
            name,
            body: start..self.s.commands.len(),
        });
    }

    fn redirect(&mut self, n: Node<'_>, f: &Frame) -> Option<Redirect> {
        let mut fd = None;
        let mut op_text: Option<String> = None;
        let mut target = None;
        match n.kind() {
            "file_redirect" | "herestring_redirect" => {
                for (field, c) in fielded_children(n) {
                    match field {
                        Some("descriptor") => fd = self.text(c).parse().ok(),
                        // The operator is the first unnamed token; later ones are punctuation.
                        _ if !c.is_named() => {
                            op_text.get_or_insert_with(|| self.text(c).to_string());
                        }
                        _ if target.is_none() && c.kind() != "comment" => {
                            target = Some(self.word(c, f))
                        }
                        _ => {}
                    }
                }
            }
            "heredoc_redirect" => return Some(self.heredoc(n, f)),
            _ => return None,
        }
        let target = target.unwrap_or_default();
        let op = match op_text.as_deref().unwrap_or("") {
            "<" => RedirOp::Read,
            ">" | ">|" => RedirOp::Write,
            ">>" => RedirOp::Append,
            "&>" => RedirOp::WriteAll,
            "&>>" => RedirOp::AppendAll,
            "<>" => RedirOp::ReadWrite,
            "<<<" => RedirOp::HereString,
            ">&" if !is_descriptor(&target.value) => RedirOp::WriteAll,
            _ => RedirOp::Dup,
        };
        Some(Redirect { fd, op, target })
    }

    fn heredoc(&mut self, n: Node<'_>, f: &Frame) -> Redirect {
        let mut fd = None;
        let mut expands = true;
        let mut body = Word::default();
        for (field, c) in fielded_children(n) {
            match (field, c.kind()) {
                (Some("descriptor"), _) => fd = self.text(c).parse().ok(),
                (_, "heredoc_start") => {
                    expands = !self.text(c).contains(['\'', '"', '\\']);
                }
                (_, "heredoc_body") => {
                    body.span = c.byte_range();
                    body.value = self.text(c).to_string();
                    if expands {
                        for part in named_children(c) {
                            if part.kind() != "heredoc_content" {
                                let mut scratch = Word::default();
                                self.piece(part, f, &mut scratch);
                                body.dynamic = true;
                                body.subs.extend(scratch.subs);
                            }
                        }
                    }
                }
                _ => {}
            }
        }
        Redirect {
            fd,
            op: RedirOp::HereDoc { expands },
            target: body,
        }
    }

    fn word(&mut self, n: Node<'_>, f: &Frame) -> Word {
        let mut w = Word {
            span: n.byte_range(),
            ..Word::default()
        };
        self.piece(n, f, &mut w);
        w
    }

    fn piece(&mut self, n: Node<'_>, f: &Frame, w: &mut Word) {
        if n.is_error() || n.is_missing() {
            self.s.error = true;
        }
        let text = self.text(n).to_string();
        match n.kind() {
            "word" | "number" if n.named_child_count() == 0 => {
                w.glob |= has_glob(&text);
                w.value.push_str(&unescape_bare(&text));
            }
            "raw_string" => {
                let inner = text
                    .strip_prefix('\'')
                    .and_then(|t| t.strip_suffix('\''))
                    .unwrap_or(&text);
                w.value.push_str(inner);
            }
            "ansi_c_string" => w.value.push_str(&decode_ansi_c(&text)),
            "string_content" => w.value.push_str(&unescape_double(&text)),
            "string" | "translated_string" | "concatenation" | "command_name" => {
                let mut cursor = n.walk();
                let children: Vec<Node<'_>> = n.children(&mut cursor).collect();
                for c in children {
                    if c.is_named() {
                        self.piece(c, f, w);
                    } else if !matches!(c.kind(), "\"" | "$\"") {
                        w.value.push_str(self.text(c));
                    }
                }
            }
            "command_substitution" | "process_substitution" => {
                w.dynamic = true;
                w.value.push_str(&text);
                let kind = match () {
                    _ if text.starts_with("<(") => SubKind::ProcessIn,
                    _ if text.starts_with(">(") => SubKind::ProcessOut,
                    _ => SubKind::Command,
                };
                let start = self.s.commands.len();
                self.visit(n, f);
                w.subs.push(Substitution {
                    kind,
                    commands: start..self.s.commands.len(),
                });
            }
            _ => {
                // Expansions ($X, ${X:-…}, $((…)), {a,b}): known only at run time; any command
                // substitution inside still runs.
                w.dynamic = true;
                w.value.push_str(&text);
                for c in named_children(n) {
                    let mut scratch = Word::default();
                    self.piece(c, f, &mut scratch);
                    w.subs.extend(scratch.subs);
                }
            }
        }
    }
}

fn is_descriptor(s: &str) -> bool {
    s == "-" || s.trim_end_matches('-').parse::<u32>().is_ok()
}
