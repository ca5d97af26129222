//! The real event loop with no terminal: a world built as `lumen shell` builds it, driven
//! through the headless frontend. Keys go in as a client's would, frames come out.
#![allow(clippy::unwrap_used)]

use crossterm::event::{Event, KeyCode, KeyEvent, KeyModifiers};
use lumen::app::headless::{Headless, HeadlessEvent};
use lumen::app::{PaneSpec, RunOptions, event_loop};
use std::time::Duration;

fn key(c: char) -> HeadlessEvent {
    HeadlessEvent::Input(Event::Key(KeyEvent::new(
        KeyCode::Char(c),
        KeyModifiers::NONE,
    )))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_loop_runs_headless_a_shell_answers_and_detach_reaches_the_frontend() {
    let dir = tempfile::tempdir().unwrap();
    let paths = lumen::paths::Paths::under(dir.path());
    let mut opts = RunOptions::new(paths, None, vec![PaneSpec::LocalShell]);
    opts.use_ssh_config = false;
    let mut world = lumen::app::setup::build(opts, (90, 24));
    let (mut frontend, input, seen) = Headless::new(90, 24);
    let typist = tokio::spawn(async move {
        let wait = async |what: &str, pred: &(dyn Fn(&str) -> bool + Sync)| {
            let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
            loop {
                let f = seen.lock().unwrap().frame.clone();
                if pred(&f) {
                    return f;
                }
                assert!(tokio::time::Instant::now() < deadline, "no {what}:\n{f}");
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        };
        let first = wait("first frame", &|f| f.contains("0:")).await;
        // Without $SHELL (as under CI) the app opens on a notice saying it uses /bin/sh; the
        // notice takes keys until it is closed.
        if first.contains("Problems at start") {
            assert!(first.contains("$SHELL"), "an unexpected problem:\n{first}");
            input
                .send(HeadlessEvent::Input(Event::Key(KeyEvent::new(
                    KeyCode::Enter,
                    KeyModifiers::NONE,
                ))))
                .unwrap();
            wait("the notice closed", &|f| !f.contains("Problems at start")).await;
        }
        for c in "echo head-$((40+2))".chars() {
            input.send(key(c)).unwrap();
        }
        input
            .send(HeadlessEvent::Input(Event::Key(KeyEvent::new(
                KeyCode::Enter,
                KeyModifiers::NONE,
            ))))
            .unwrap();
        wait("the shell's answer", &|f| f.contains("head-42")).await;
        // C-b d: the app asks its frontend to detach this client.
        input
            .send(HeadlessEvent::Input(Event::Key(KeyEvent::new(
                KeyCode::Char('b'),
                KeyModifiers::CONTROL,
            ))))
            .unwrap();
        input.send(key('d')).unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(20);
        while !seen.lock().unwrap().effects.iter().any(|e| e == "Detach") {
            assert!(tokio::time::Instant::now() < deadline, "no detach");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        input.send(HeadlessEvent::ClientGone).unwrap();
    });
    tokio::time::timeout(
        Duration::from_secs(60),
        event_loop(
            &mut world.app,
            &mut frontend,
            &mut world.inbox,
            &world.waker,
            &world.bus,
        ),
    )
    .await
    .expect("the loop ends when its client is gone")
    .unwrap();
    typist.await.unwrap();
    world.children.hang_up();
}
