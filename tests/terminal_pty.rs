//! The pane on a real PTY (src/pty.rs): replies reach the program, resizes reach the kernel,
//! and the exit status is shown.
#![allow(clippy::unwrap_used)]

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use lumen::panes::terminal::{TerminalConfig, TerminalPane};
use lumen::pty::{self, PtyCommand};
use lumen::stream::{CloseReason, Waker};
use std::time::{Duration, Instant};

/// How long a test waits for the program before giving up (not a timing assertion).
const PATIENCE: Duration = Duration::from_secs(10);
const POLL: Duration = Duration::from_millis(10);

fn spawn(script: &str, cols: u16, rows: u16) -> TerminalPane {
    let mut cmd = PtyCommand::new("/bin/sh");
    cmd.args = vec!["-c".into(), script.into()];
    let stream = pty::spawn(&cmd, cols, rows, &Waker::new()).unwrap();
    let cfg = TerminalConfig {
        cols,
        rows,
        scrollback: 100,
    };
    TerminalPane::new(stream, cfg)
}

/// Pump until the screen satisfies `done` (or the program exits, or patience runs out).
fn pump_until(pane: &mut TerminalPane, done: impl Fn(&str) -> bool) -> String {
    let deadline = Instant::now() + PATIENCE;
    loop {
        pane.pump(usize::MAX);
        let text = pane.screen_text();
        if done(&text) || pane.closed().is_some() || Instant::now() > deadline {
            return text;
        }
        std::thread::sleep(POLL);
    }
}

#[test]
fn cursor_position_reply_reaches_the_program() {
    // The program asks where the cursor is and prints the 6 reply bytes it reads back.
    let script = r#"stty raw -echo; printf 'ab\033[6n'; r=$(dd bs=1 count=6 2>/dev/null | od -An -c | tr -s ' '); stty sane; echo; echo "reply:$r"; exit 7"#;
    let mut pane = spawn(script, 40, 10);
    let text = pump_until(&mut pane, |_| false);
    assert!(text.contains("reply: 033 [ 1 ; 3 R"), "{text}");
    assert_eq!(pane.closed(), Some(&CloseReason::Exited(Some(7))));
    assert!(text.contains("[exited with status 7]"), "{text}");
}

#[test]
fn resize_and_keys_reach_the_program() {
    let mut pane = spawn(
        "stty size; read line; stty size; echo \"got:$line\"",
        60,
        12,
    );
    pump_until(&mut pane, |t| t.contains("12 60"));
    pane.resize(70, 15);
    for c in "hi".chars() {
        pane.handle_key(&KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE));
    }
    pane.handle_key(&KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE));
    let text = pump_until(&mut pane, |t| t.contains("got:hi"));
    assert!(text.contains("15 70"), "{text}");
    assert!(text.contains("got:hi"), "{text}");
}
