//! `lumen run` at a terminal (the real binary in tmux against a real sshd): the plan is
//! approved by typing `y`, a High plan only by typing its target expression, and a
//! `confirm = true` step asks again before it starts. Anything else runs nothing.
#![allow(clippy::unwrap_used)]

mod common;

use common::fleet::Fleet;
use common::tmux::Tmux;

/// `lumen run ARGS` in tmux in the fleet's home; the pane prints `LUMEN_EXIT=<code>` after.
fn run_in_tmux(f: &Fleet, args: &str) -> Tmux {
    Tmux::lumen(
        f.cli.dir.path(),
        120,
        40,
        &format!(
            "run -i {} {args}; echo LUMEN_EXIT=$?; sleep 30",
            f.cli.key.display()
        ),
    )
}

fn one_host() -> (Fleet, std::path::PathBuf) {
    let mut f = Fleet::start(1);
    let port = f.port(0);
    f.host("web01", port, &["web"]);
    let mark = f.cli.dir.path().join("ran");
    (f, mark)
}

#[test]
fn y_approves_a_plan_and_anything_else_refuses_it() {
    let (f, mark) = one_host();
    f.runbook(
        "touch",
        &format!(
            "targets = \"@web\"\n[[steps]]\nname = \"t\"\nrun = \"touch {}\"\n",
            mark.display()
        ),
    );
    let t = run_in_tmux(&f, "touch");
    let s = t.wait_text("Run this plan? [y/N]");
    assert!(s.contains("risk medium") && s.contains("web01"), "{s}");
    t.type_text("n");
    t.keys(&["Enter"]);
    let s = t.wait_text("LUMEN_EXIT=");
    assert!(
        s.contains("not approved; nothing ran") && s.contains("LUMEN_EXIT=2"),
        "{s}"
    );
    assert!(!mark.exists());
    drop(t);
    let t = run_in_tmux(&f, "touch");
    t.wait_text("Run this plan? [y/N]");
    t.type_text("y");
    t.keys(&["Enter"]);
    let s = t.wait_text("LUMEN_EXIT=");
    assert!(s.contains("LUMEN_EXIT=0"), "{s}");
    assert!(mark.exists());
}

#[test]
fn a_high_plan_needs_the_target_expression_typed() {
    let (f, mark) = one_host();
    f.runbook(
        "wipe",
        &format!(
            "targets = \"@web\"\n[[steps]]\nname = \"w\"\nrun = \"rm -rf {m}.d; touch {m}\"\n",
            m = mark.display()
        ),
    );
    let t = run_in_tmux(&f, "wipe");
    t.wait_text("type the targets (@web)");
    t.type_text("y");
    t.keys(&["Enter"]);
    let s = t.wait_text("LUMEN_EXIT=");
    assert!(
        s.contains("LUMEN_EXIT=2"),
        "`y` is not enough for High steps: {s}"
    );
    assert!(!mark.exists());
    drop(t);
    let t = run_in_tmux(&f, "wipe");
    t.wait_text("type the targets (@web)");
    t.type_text("@web");
    t.keys(&["Enter"]);
    let s = t.wait_text("LUMEN_EXIT=");
    assert!(s.contains("LUMEN_EXIT=0"), "{s}");
    assert!(mark.exists());
}

#[test]
fn a_confirm_step_asks_again_before_it_starts() {
    let (f, mark) = one_host();
    f.runbook(
        "two",
        &format!(
            "targets = \"web01\"\n[[steps]]\nname = \"first\"\nrun = \"echo first\"\n\
             [[steps]]\nname = \"second\"\nrun = \"touch {}\"\nconfirm = true\n",
            mark.display()
        ),
    );
    let t = run_in_tmux(&f, "two");
    let s = t.wait_text("Run this plan? [y/N]");
    assert!(s.contains("asks again"), "the plan says so: {s}");
    t.type_text("y");
    t.keys(&["Enter"]);
    t.wait_text("Step 2 asks again before it starts");
    assert!(!mark.exists(), "the step waits for its answer");
    t.type_text("n");
    t.keys(&["Enter"]);
    let s = t.wait_text("LUMEN_EXIT=");
    assert!(
        s.contains("LUMEN_EXIT=1") && s.contains("not confirmed"),
        "{s}"
    );
    assert!(!mark.exists());
    drop(t);
    let t = run_in_tmux(&f, "two");
    t.wait_text("Run this plan? [y/N]");
    t.type_text("y");
    t.keys(&["Enter"]);
    t.wait_text("Step 2 asks again before it starts");
    t.type_text("y");
    t.keys(&["Enter"]);
    let s = t.wait_text("LUMEN_EXIT=");
    assert!(s.contains("LUMEN_EXIT=0"), "{s}");
    assert!(mark.exists());
}
