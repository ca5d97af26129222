//! Drive the real `lumen` binary inside a private tmux server, as a user would.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// How long to wait for something to appear on screen before failing the test.
pub const WAIT: Duration = Duration::from_secs(20);
const POLL: Duration = Duration::from_millis(50);

pub struct Tmux {
    socket: PathBuf,
    pub target: String,
    /// The `LUMEN_HOME` its lumen runs with: that home's lumen server is ended with it.
    lumen_home: Option<PathBuf>,
}

impl Tmux {
    /// Start `command` (a shell command line) in a new detached session of `w`x`h` on a
    /// private socket in `dir`, with `env` set.
    pub fn start(dir: &Path, w: u16, h: u16, env: &[(&str, String)], command: &str) -> Self {
        let socket = dir.join("tmux.sock");
        let mut cmd = Command::new("tmux");
        cmd.arg("-S").arg(&socket).arg("-f").arg("/dev/null");
        cmd.args([
            "new-session",
            "-d",
            "-s",
            "t",
            "-x",
            &w.to_string(),
            "-y",
            &h.to_string(),
        ]);
        // tmux sets some variables itself (SHELL from its default-shell), so the command line
        // sets them again.
        let mut line = String::from("export");
        for (k, v) in env {
            cmd.arg("-e").arg(format!("{k}={v}"));
            line.push_str(&format!(" {k}='{v}'"));
        }
        cmd.arg(format!("{line}; {command}"));
        let status = cmd
            .status()
            .expect("tmux runs (scripts/install-test-deps.sh installs it)");
        assert!(status.success(), "tmux new-session failed");
        let lumen_home = env
            .iter()
            .find(|(k, _)| *k == "LUMEN_HOME")
            .map(|(_, v)| PathBuf::from(v));
        let t = Tmux {
            socket,
            target: "t".into(),
            lumen_home,
        };
        t.run(&["set-option", "-g", "remain-on-exit", "on"]);
        t
    }

    fn run(&self, args: &[&str]) -> String {
        let out = Command::new("tmux")
            .arg("-S")
            .arg(&self.socket)
            .args(args)
            .output()
            .expect("tmux runs");
        String::from_utf8_lossy(&out.stdout).into_owned()
    }

    /// Keys in tmux's send-keys syntax (`C-b`, `Enter`, `%`).
    pub fn keys(&self, keys: &[&str]) {
        let mut args = vec!["send-keys", "-t", &self.target];
        args.extend_from_slice(keys);
        self.run(&args);
    }

    /// Literal text.
    pub fn type_text(&self, text: &str) {
        self.run(&["send-keys", "-t", &self.target, "-l", text]);
    }

    /// Paste `text` as a terminal paste (bracketed when the program asked for it).
    pub fn paste(&self, text: &str) {
        self.run(&["set-buffer", "-b", "lumen-test", text]);
        self.run(&["paste-buffer", "-p", "-b", "lumen-test", "-t", &self.target]);
    }

    pub fn screen(&self) -> String {
        self.run(&["capture-pane", "-p", "-t", &self.target])
    }

    /// A tmux format of the pane, e.g. `#{alternate_on}`.
    pub fn format(&self, f: &str) -> String {
        self.run(&["display-message", "-p", "-t", &self.target, f])
            .trim()
            .to_string()
    }

    /// Wait until the screen satisfies `pred`; panic with the screen if it never does.
    pub fn wait_for(&self, what: &str, pred: impl Fn(&str) -> bool) -> String {
        self.wait_longer(what, WAIT, pred)
    }

    /// [`Tmux::wait_for`] with its own limit, for slow work (a whole scan).
    pub fn wait_longer(&self, what: &str, limit: Duration, pred: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let s = self.screen();
            if pred(&s) {
                return s;
            }
            if start.elapsed() > limit {
                panic!("timed out waiting for {what}; screen:\n{s}");
            }
            std::thread::sleep(POLL);
        }
    }

    pub fn wait_text(&self, text: &str) -> String {
        self.wait_for(text, |s| s.contains(text))
    }
}

impl Tmux {
    /// `lumen ARGS…` (the rest of a shell command line: `args` may go on with `; …`) in a
    /// throw-away home under `dir`: its shell is `/bin/sh` with prompt `$ `, no agent.
    pub fn lumen(dir: &Path, w: u16, h: u16, args: &str) -> Self {
        let lumen = env!("CARGO_BIN_EXE_lumen");
        Self::start(dir, w, h, &throwaway_env(dir), &format!("{lumen} {args}"))
    }

    /// `lumen demo` 140×40 (see [`Tmux::lumen`]); after it exits the pane prints
    /// `LUMEN_EXIT=<code>`.
    pub fn demo(dir: &Path) -> Self {
        Self::lumen(dir, 140, 40, "demo; echo LUMEN_EXIT=$?; sleep 30")
    }
}

impl Tmux {
    /// Quit lumen (the session and its panes) as a user would: the palette's `quit`, then
    /// yes. (`C-b d` detaches from a server's session; in the demo it asks to quit.)
    pub fn quit_lumen(&self) {
        self.keys(&["C-b", ":"]);
        self.type_text("quit");
        self.wait_text("end this session");
        self.keys(&["Enter"]);
        self.wait_text("Quit lumen?");
        self.keys(&["y"]);
    }

    /// End the tmux server now: every pane's terminal disappears.
    pub fn kill_server(&self) {
        self.run(&["kill-server"]);
    }

    /// The text of tmux's most recent paste buffer (what `show-buffer` prints), if any.
    pub fn show_buffer(&self) -> String {
        self.run(&["show-buffer"])
    }

    /// The names of tmux's paste buffers.
    pub fn buffers(&self) -> String {
        self.run(&["list-buffers", "-F", "#{buffer_name}: #{buffer_sample}"])
    }

    /// Set a tmux option (server-wide).
    pub fn set_option(&self, name: &str, value: &str) {
        self.run(&["set-option", "-g", name, value]);
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        self.run(&["kill-server"]);
        // The sessions this test's lumen started live in a server of its home: end it too.
        if let Some(home) = &self.lumen_home {
            let _ = lumen_in(home).arg("kill-server").output();
        }
    }
}

/// A throw-away home under `dir` (`dir/home`, lumen's in `dir/lumen`): shell `/bin/sh` with
/// prompt `$ `, no agent.
pub fn throwaway_env(dir: &Path) -> Vec<(&'static str, String)> {
    let home = dir.join("home");
    std::fs::create_dir_all(&home).unwrap();
    vec![
        ("HOME", home.display().to_string()),
        ("LUMEN_HOME", dir.join("lumen").display().to_string()),
        ("SHELL", "/bin/sh".to_string()),
        ("PS1", "$ ".to_string()),
        ("SSH_AUTH_SOCK", String::new()),
    ]
}

/// `lumen ls --json` of the server of `home`.
pub fn sessions(home: &Path) -> serde_json::Value {
    let out = lumen_in(home).args(["ls", "--json"]).output().unwrap();
    serde_json::from_slice(&out.stdout).unwrap()
}

/// The lumen binary as a command with `LUMEN_HOME` set to `home` (its own server, config
/// and data).
pub fn lumen_in(home: &Path) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lumen"));
    cmd.env("LUMEN_HOME", home);
    cmd
}

/// How many bordered panes `screen` shows. Neighbouring panes share their border lines, so
/// each pane's top-left corner is wherever a border turns right and down: `┌ ┬ ├ ┼`.
pub fn panes_drawn(screen: &str) -> usize {
    screen
        .chars()
        .filter(|c| matches!(c, '┌' | '┬' | '├' | '┼'))
        .count()
}
