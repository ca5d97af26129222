//! Knowing when a command typed into a pane has finished, and what it printed: the prompt the
//! command was typed at comes back (and the output has been quiet a moment), or the time limit
//! passes. Pure: the app hands in the pane's last lines and its cursor line.

use std::time::{Duration, Instant};

/// Output must be quiet this long, with the prompt back, before the command counts as done.
pub const QUIET: Duration = Duration::from_millis(300);
/// The longest a typed command is waited for, unless configured otherwise.
pub const COMMAND_TIMEOUT: Duration = Duration::from_secs(30);

/// A command being watched.
#[derive(Debug, Clone)]
pub struct Capture {
    /// The prompt text left of the cursor when the command was typed.
    prompt: String,
    /// The command's first line, as typed.
    command: String,
    deadline: Instant,
    last_change: Instant,
    last_seen: Vec<String>,
}

/// What [`Capture::poll`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaptureState {
    Running,
    /// The prompt is back: the output between the command line and it.
    Finished(String),
    /// The time limit passed: the output so far.
    TimedOut(String),
}

impl Capture {
    /// Watch `command`, typed at `prompt`, for at most `timeout`.
    pub fn start(prompt: &str, command: &str, now: Instant, timeout: Duration) -> Self {
        Self {
            prompt: prompt.trim_end().to_string(),
            command: command.lines().next().unwrap_or("").trim().to_string(),
            deadline: now + timeout,
            last_change: now,
            last_seen: Vec::new(),
        }
    }

    /// When to look again even if nothing arrives (the quiet time or the deadline).
    pub fn next_check(&self, now: Instant) -> Instant {
        (self.last_change + QUIET).max(now).min(self.deadline)
    }

    /// Look at the pane: its last `lines` (oldest first) and the text of its cursor line.
    pub fn poll(&mut self, lines: &[String], cursor_line: &str, now: Instant) -> CaptureState {
        if lines != self.last_seen.as_slice() {
            self.last_seen = lines.to_vec();
            self.last_change = now;
        }
        let Some(start) = self.command_line(lines) else {
            return if now >= self.deadline {
                CaptureState::TimedOut(String::new())
            } else {
                CaptureState::Running
            };
        };
        let after = &lines[start + 1..];
        let prompt_back = !self.prompt.is_empty()
            && cursor_line.trim_end() == self.prompt
            && after.last().is_some_and(|l| l.trim_end() == self.prompt);
        if prompt_back && now >= self.last_change + QUIET {
            let output = &after[..after.len() - 1];
            return CaptureState::Finished(join(output));
        }
        if now >= self.deadline {
            return CaptureState::TimedOut(join(after));
        }
        CaptureState::Running
    }

    /// The last line holding the typed command (after its prompt).
    fn command_line(&self, lines: &[String]) -> Option<usize> {
        lines
            .iter()
            .rposition(|l| l.contains(&self.command) && l.trim_start().starts_with(&self.prompt))
    }
}

fn join(lines: &[String]) -> String {
    let mut out: Vec<&str> = lines.iter().map(|l| l.trim_end()).collect();
    while out.last().is_some_and(|l| l.is_empty()) {
        out.pop();
    }
    out.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(lines: &[&str]) -> Vec<String> {
        lines.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn finishes_when_the_prompt_returns_and_output_is_quiet() {
        let t0 = Instant::now();
        let mut c = Capture::start("root@db1:~# ", "df -h", t0, COMMAND_TIMEOUT);
        let running = v(&["old", "root@db1:~# df -h", "Filesystem Size"]);
        assert_eq!(
            c.poll(&running, "Filesystem Size", t0),
            CaptureState::Running
        );
        let done = v(&[
            "old",
            "root@db1:~# df -h",
            "Filesystem Size",
            "/dev/vda 252G",
            "root@db1:~#",
        ]);
        assert_eq!(
            c.poll(&done, "root@db1:~# ", t0),
            CaptureState::Running,
            "not quiet yet"
        );
        assert_eq!(
            c.poll(&done, "root@db1:~# ", t0 + QUIET),
            CaptureState::Finished("Filesystem Size\n/dev/vda 252G".into())
        );
    }

    #[test]
    fn times_out_with_what_it_has() {
        let t0 = Instant::now();
        let mut c = Capture::start("$ ", "top", t0, Duration::from_secs(1));
        let lines = v(&["$ top", "load average: 0.1"]);
        assert_eq!(c.poll(&lines, "", t0), CaptureState::Running);
        assert_eq!(
            c.poll(&lines, "", t0 + Duration::from_secs(2)),
            CaptureState::TimedOut("load average: 0.1".into())
        );
    }
}
