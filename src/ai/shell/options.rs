//! Leading options of a command, parsed the getopt way: which options take a value, where
//! the operands start.

use super::Word;

/// One option as given: `-u root` → name `-u`, value `root`; `--user=root` → `--user`, `root`.
#[derive(Debug, Clone)]
pub struct Flag {
    pub name: String,
    pub value: Option<Word>,
}

/// Options before the first operand, and where that operand is.
#[derive(Debug, Clone, Default)]
pub struct Opts {
    pub flags: Vec<Flag>,
    /// Index (into the arguments) of the first operand; `args.len()` when there is none.
    pub operand: usize,
}

impl Opts {
    pub fn has(&self, name: &str) -> bool {
        self.flags.iter().any(|f| f.name == name)
    }

    /// The value of the last `name` given (options given twice: the last wins).
    pub fn value(&self, names: &[&str]) -> Option<&Word> {
        self.flags
            .iter()
            .rev()
            .find(|f| names.contains(&f.name.as_str()))
            .and_then(|f| f.value.as_ref())
    }

    pub fn values<'a>(&'a self, names: &'a [&'a str]) -> impl Iterator<Item = &'a Word> + 'a {
        self.flags
            .iter()
            .filter(|f| names.contains(&f.name.as_str()))
            .filter_map(|f| f.value.as_ref())
    }
}

/// What a program's options look like.
pub struct Spec<'a> {
    /// Short options that take a value (`"ugp"` for `-u USER -g GROUP -p PROMPT`).
    pub short_value: &'a str,
    /// Long options that take a value as the next word when not given with `=`.
    pub long_value: &'a [&'a str],
}

/// Parse options up to the first operand (or `--`). Never fails: unknown options are flags.
pub fn parse(args: &[Word], spec: &Spec<'_>) -> Opts {
    let mut out = Opts::default();
    let mut i = 0;
    while i < args.len() {
        let arg = &args[i];
        let v = arg.value.as_str();
        if v == "--" {
            i += 1;
            break;
        }
        if !v.starts_with('-') || v == "-" {
            break;
        }
        if let Some(long) = v.strip_prefix("--") {
            let (name, attached) = match long.split_once('=') {
                Some((n, val)) => (n, Some(part(arg, val))),
                None => (long, None),
            };
            let value = match attached {
                Some(val) => Some(val),
                None if spec.long_value.contains(&name) => {
                    i += 1;
                    args.get(i).cloned()
                }
                None => None,
            };
            out.flags.push(Flag {
                name: format!("--{name}"),
                value,
            });
            i += 1;
            continue;
        }
        let letters: Vec<(usize, char)> = v.char_indices().skip(1).collect();
        for (pos, c) in letters {
            if spec.short_value.contains(c) {
                let rest = &v[pos + c.len_utf8()..];
                let value = if rest.is_empty() {
                    i += 1;
                    args.get(i).cloned()
                } else {
                    Some(part(arg, rest))
                };
                out.flags.push(Flag {
                    name: format!("-{c}"),
                    value,
                });
                break;
            }
            out.flags.push(Flag {
                name: format!("-{c}"),
                value: None,
            });
        }
        i += 1;
    }
    out.operand = i.min(args.len());
    out
}

/// A piece of a word (an attached option value) as a word of its own.
pub fn part(word: &Word, value: &str) -> Word {
    Word {
        value: value.to_string(),
        ..word.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<Word> {
        s.split_whitespace()
            .map(|v| Word {
                value: v.into(),
                ..Word::default()
            })
            .collect()
    }

    #[test]
    fn getopt_style() {
        let spec = Spec {
            short_value: "uo",
            long_value: &["user"],
        };
        let args = words("-Eu root -oProxyCommand=x --user bob --x=1 rm -rf /");
        let o = parse(&args, &spec);
        assert_eq!(args[o.operand].value, "rm");
        assert!(o.has("-E"));
        assert_eq!(o.value(&["-u"]).map(|w| w.value.as_str()), Some("root"));
        assert_eq!(
            o.value(&["-o"]).map(|w| w.value.as_str()),
            Some("ProxyCommand=x")
        );
        assert_eq!(o.value(&["--user"]).map(|w| w.value.as_str()), Some("bob"));
        assert_eq!(o.value(&["--x"]).map(|w| w.value.as_str()), Some("1"));
        let o = parse(&words("-- -rf"), &spec);
        assert_eq!(o.operand, 1);
    }
}
