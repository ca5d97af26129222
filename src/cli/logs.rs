//! `lumen logs list|show|play|export`: finding and replaying session recordings.

use crate::paths::Paths;
use crate::record::{cast, replay, store};
use clap::{Args, Subcommand};
use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Debug, Clone, Args)]
pub struct LogsArgs {
    #[command(subcommand)]
    pub command: LogsCommand,
}

#[derive(Debug, Clone, Subcommand)]
pub enum LogsCommand {
    /// List recordings, newest last: ID, host, start, duration, size (and a warning for a
    /// damaged file).
    List {
        /// Only this host (its inventory name, or user@host_port).
        host: Option<String>,
        /// Only recordings started this recently: 30m, 12h, 2d, 1w.
        #[arg(long, value_name = "AGE")]
        since: Option<String>,
        /// Only recordings whose text holds TEXT (case-insensitive).
        #[arg(long, value_name = "TEXT")]
        grep: Option<String>,
        /// Print {"recordings":[{"id","host","started","duration_s","bytes","file"}]}.
        #[arg(long)]
        json: bool,
    },
    /// Print a session as plain text: each line as it scrolled off or stood on the last
    /// screen, no escape sequences.
    Show {
        /// A recording file, or an ID from `lumen logs list`.
        #[arg(value_name = "FILE|ID")]
        recording: String,
    },
    /// Replay a session in this terminal, as it was timed.
    Play {
        #[arg(value_name = "FILE|ID")]
        recording: String,
        /// Play this many times faster.
        #[arg(long, default_value_t = 1.0)]
        speed: f64,
        /// Cut pauses longer than this many seconds.
        #[arg(long, value_name = "SECONDS")]
        idle_limit: Option<f64>,
    },
    /// Write a plain (uncompressed) asciicast v2 file, for `asciinema play` or its web player.
    Export {
        #[arg(value_name = "FILE|ID")]
        recording: String,
        /// Where to write it.
        #[arg(short, long, value_name = "FILE.cast")]
        output: PathBuf,
    },
}

pub fn run(args: LogsArgs, paths: &Paths) -> ExitCode {
    let root = paths.recordings_dir();
    let result = match args.command {
        LogsCommand::List {
            host,
            since,
            grep,
            json,
        } => list(
            &root,
            host.as_deref(),
            since.as_deref(),
            grep.as_deref(),
            json,
        ),
        LogsCommand::Show { recording } => store::resolve(&root, &recording).and_then(|p| {
            let stdout = std::io::stdout();
            let broken =
                replay::show(&p, &mut stdout.lock()).map_err(|e| format!("cannot write: {e}"))?;
            warn_broken(&p, broken);
            Ok(())
        }),
        LogsCommand::Play {
            recording,
            speed,
            idle_limit,
        } => store::resolve(&root, &recording).and_then(|p| {
            if !(speed.is_finite() && speed > 0.0) {
                return Err(format!("--speed must be above 0, not {speed}"));
            }
            let pace = replay::Pace { speed, idle_limit };
            let stdout = std::io::stdout();
            let broken = replay::play(&p, pace, &mut stdout.lock())
                .map_err(|e| format!("cannot write: {e}"))?;
            warn_broken(&p, broken);
            Ok(())
        }),
        LogsCommand::Export { recording, output } => {
            store::resolve(&root, &recording).and_then(|p| export(&p, &output))
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            crate::errln!("lumen logs: {e}");
            ExitCode::FAILURE
        }
    }
}

fn warn_broken(path: &std::path::Path, broken: Option<String>) {
    if let Some(why) = broken {
        crate::errln!(
            "lumen logs: {} is damaged ({why}); shown up to there",
            path.display()
        );
    }
}

/// `30m`, `12h`, `2d`, `1w` → seconds.
fn parse_age(text: &str) -> Result<i64, String> {
    let t = text.trim();
    let split = t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len());
    let (n, unit) = t.split_at(split);
    let n: i64 = n
        .parse()
        .map_err(|_| format!("--since {text}: write e.g. 30m, 12h, 2d or 1w"))?;
    let per = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "" | "d" => 86_400,
        "w" => 7 * 86_400,
        other => {
            return Err(format!(
                "--since {text}: unknown unit '{other}' (s, m, h, d, w)"
            ));
        }
    };
    n.checked_mul(per)
        .ok_or_else(|| format!("--since {text} is too long"))
}

fn list(
    root: &std::path::Path,
    host: Option<&str>,
    since: Option<&str>,
    grep: Option<&str>,
    json: bool,
) -> Result<(), String> {
    let after = match since {
        Some(s) => {
            let now = time::OffsetDateTime::now_utc().unix_timestamp();
            Some(now - parse_age(s)?)
        }
        None => None,
    };
    let mut rows = Vec::new();
    for (h, path) in store::files(root) {
        if host.is_some_and(|want| want != h && store::safe_name(want) != h) {
            continue;
        }
        let (listed, matched) = store::describe(root, &h, &path, grep);
        if !matched || after.is_some_and(|a| listed.unix < a) {
            continue;
        }
        rows.push(listed);
    }
    rows.sort_by(|a, b| a.unix.cmp(&b.unix).then(a.id.cmp(&b.id)));
    for r in &rows {
        if let Some(w) = &r.warning {
            crate::errln!("lumen logs: warning: {} is damaged: {w}", r.file.display());
        }
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let written = if json {
        let doc = serde_json::json!({ "recordings": rows });
        writeln!(out, "{doc}")
    } else if rows.is_empty() {
        writeln!(out, "no recordings in {}", root.display())
    } else {
        rows.iter().try_for_each(|r| {
            writeln!(
                out,
                "{}  {}  {}  {:>8.1}s  {:>10} B{}",
                r.id,
                r.host,
                r.started,
                r.duration_s,
                r.bytes,
                if r.warning.is_some() {
                    "  (damaged)"
                } else {
                    ""
                }
            )
        })
    };
    written.map_err(|e| format!("cannot write: {e}"))
}

/// Decompress to a plain asciicast v2 file (0600, not overwriting one that exists).
fn export(from: &std::path::Path, to: &std::path::Path) -> Result<(), String> {
    let mut input = cast::open(from).map_err(|e| format!("{}: {e}", from.display()))?;
    let mut out = {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(to)
            .map_err(|e| format!("{}: {e}", to.display()))?
    };
    std::io::copy(&mut input, &mut out).map_err(|e| {
        format!(
            "{} could not be read to its end ({e}); {} holds what could",
            from.display(),
            to.display()
        )
    })?;
    Ok(())
}
