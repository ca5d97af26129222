//! The team vault through the real `lumen` binary: members with their own ed25519 (one
//! passphrase-protected) and RSA keys, signatures checked both ways with the real
//! `ssh-keygen -Y`, forged members, tampered files, and real git clones merging.
#![allow(clippy::unwrap_used)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// One person: a HOME with their key, sharing the workspace folder under `lumen_home`.
struct Person {
    key: PathBuf,
    pass: Option<PathBuf>,
    home: PathBuf,
}

struct World {
    dir: tempfile::TempDir,
}

impl World {
    fn new() -> World {
        World {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.dir.path().join(rel)
    }

    /// A person with a fresh key of `kind` (passphrase-protected when `passphrase` is set).
    fn person(&self, name: &str, kind: &str, passphrase: &str) -> Person {
        let home = self.path(&format!("{name}-home"));
        std::fs::create_dir_all(home.join(".ssh")).unwrap();
        let key = home.join(".ssh").join(format!("id_{kind}"));
        common::keygen(&key, kind, passphrase);
        let pass = (!passphrase.is_empty()).then(|| {
            let p = self.path(&format!("{name}.pass"));
            std::fs::write(&p, format!("{passphrase}\n")).unwrap();
            p
        });
        Person { key, pass, home }
    }

    /// The workspace folder of the LUMEN_HOME `lumen_home`.
    fn workspace(&self, lumen_home: &str) -> PathBuf {
        self.path(lumen_home).join("data/workspaces/default")
    }
}

fn lumen(lumen_home: &Path, who: &Person, args: &[&str]) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lumen"));
    cmd.env("LUMEN_HOME", lumen_home)
        .env("HOME", &who.home)
        .env_remove("SSH_AUTH_SOCK")
        .stdin(Stdio::null());
    let (first, rest) = args.split_first().unwrap();
    cmd.arg(first).arg("--identity").arg(&who.key);
    if let Some(p) = &who.pass {
        cmd.arg("--passphrase-file").arg(p);
    }
    cmd.args(rest);
    no_terminal(&mut cmd);
    cmd.output().unwrap()
}

/// In a session of its own: no controlling terminal, so nothing can prompt.
fn no_terminal(cmd: &mut Command) {
    use std::os::unix::process::CommandExt;
    // SAFETY: setsid is async-signal-safe and touches only the child.
    unsafe {
        cmd.pre_exec(|| {
            libc::setsid();
            Ok(())
        });
    }
}

fn ok(out: Output, what: &str) -> String {
    assert!(
        out.status.success(),
        "{what}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

fn fails(out: Output, what: &str) -> String {
    assert!(
        !out.status.success(),
        "{what} should fail: {}",
        String::from_utf8_lossy(&out.stdout)
    );
    String::from_utf8(out.stderr).unwrap()
}

fn secret_file(world: &World, name: &str, value: &str) -> String {
    let p = world.path(name);
    std::fs::write(&p, value).unwrap();
    p.display().to_string()
}

fn add_entry(home: &Path, who: &Person, world: &World, name: &str, value: &str) {
    let f = secret_file(world, &format!("secret-{}", name.replace('/', "_")), value);
    ok(
        lumen(
            home,
            who,
            &[
                "vault",
                "--scope",
                "team",
                "add",
                name,
                "--secret-file",
                &f,
                "--host",
                "db1",
            ],
        ),
        &format!("add {name}"),
    );
}

fn reveal(home: &Path, who: &Person, name: &str) -> Output {
    lumen(
        home,
        who,
        &["vault", "--scope", "team", "show", name, "--reveal"],
    )
}

fn pubkey(p: &Person) -> String {
    p.key.with_extension("pub").display().to_string()
}

/// Alice (ed25519, passphrase), Bob (ed25519), Carol (RSA) in one team.
fn team_of_three(world: &World, home: &Path) -> (Person, Person, Person) {
    let alice = world.person("alice", "ed25519", "alice pass phrase");
    let bob = world.person("bob", "ed25519", "");
    let carol = world.person("carol", "rsa", "");
    ok(
        lumen(home, &alice, &["team", "init", "--name", "alice"]),
        "init",
    );
    ok(add_member(home, &alice, "bob", &bob), "add bob");
    ok(add_member(home, &alice, "carol", &carol), "add carol");
    (alice, bob, carol)
}

/// `by` adds `who` to the team as `name`.
fn add_member(home: &Path, by: &Person, name: &str, who: &Person) -> Output {
    lumen(home, by, &["team", "add", name, "--key", &pubkey(who)])
}

fn entry_files(ws: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    let mut stack = vec![ws.join("team/entries")];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(d).unwrap().flatten() {
            if e.file_type().unwrap().is_dir() {
                stack.push(e.path());
            } else {
                out.push((e.path(), std::fs::read(e.path()).unwrap()));
            }
        }
    }
    out.sort();
    out
}

#[test]
fn a_secret_added_by_one_member_is_read_by_the_others_and_a_removed_member_reads_nothing_new() {
    let world = World::new();
    let home = world.path("shared");
    let ws = world.workspace("shared");
    let (alice, bob, carol) = team_of_three(&world, &home);
    add_entry(&home, &alice, &world, "db/root", "hunter2-root");

    // Adding a member touches no entry file.
    let before = entry_files(&ws);
    let dave = world.person("dave", "ed25519", "");
    ok(add_member(&home, &alice, "dave", &dave), "add dave");
    assert_eq!(before, entry_files(&ws), "team add re-encrypted entries");

    for who in [&bob, &carol, &dave] {
        let shown = ok(reveal(&home, who, "db/root"), "reveal");
        assert!(shown.contains("hunter2-root"), "{shown}");
    }
    let audit = ok(
        lumen(&home, &alice, &["vault", "--scope", "team", "audit"]),
        "audit",
    );
    assert!(
        audit.contains("add") && audit.contains("by alice"),
        "{audit}"
    );
    assert!(
        audit.contains("reveal") && audit.contains("by bob"),
        "{audit}"
    );
    assert!(audit.contains("by carol"), "{audit}");
    ok(
        lumen(
            &home,
            &alice,
            &["vault", "--scope", "team", "audit", "--verify"],
        ),
        "audit --verify",
    );

    let old_key_age = std::fs::read(ws.join("team/key.age")).unwrap();
    let old_members = std::fs::read(ws.join("team/members.toml")).unwrap();
    let removed = ok(
        lumen(&home, &alice, &["team", "remove", "bob", "--yes"]),
        "remove bob",
    );
    assert!(removed.contains("epoch 2"), "{removed}");
    assert!(
        removed.contains("db/root"),
        "the rotate list names db/root: {removed}"
    );
    assert_ne!(before, entry_files(&ws), "remove re-encrypts every entry");
    add_entry(&home, &alice, &world, "api/token", "after-bob-left");

    let err = fails(reveal(&home, &bob, "api/token"), "bob after removal");
    assert!(err.contains("not a member"), "{err}");
    // Even with the key.age he had, the new entries do not open for Bob.
    let copy = world.path("bobs-copy");
    let copy_ws = world.workspace("bobs-copy");
    copy_dir(&ws, &copy_ws);
    std::fs::write(copy_ws.join("team/key.age"), &old_key_age).unwrap();
    std::fs::write(copy_ws.join("team/members.toml"), &old_members).unwrap();
    let err = fails(reveal(&copy, &bob, "api/token"), "bob with his old key.age");
    assert!(err.contains("older copy"), "{err}");
    assert!(!err.contains("after-bob-left"));

    for who in [&carol, &dave] {
        let shown = ok(reveal(&home, who, "api/token"), "carol reveal");
        assert!(shown.contains("after-bob-left"), "{shown}");
    }
    let verify = ok(lumen(&home, &carol, &["team", "verify"]), "verify");
    assert!(
        verify.contains("epoch 2") && verify.contains("2 entries"),
        "{verify}"
    );
    let members = ok(lumen(&home, &carol, &["team", "members"]), "members");
    assert!(
        !members.contains("bob") && members.contains("dave"),
        "{members}"
    );
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), target).unwrap();
        }
    }
}

/// `ssh-keygen -Y sign -n lumen-team` of `text` with `key`: the armoured signature.
fn ssh_keygen_sign(world: &World, key: &Path, text: &str) -> String {
    let msg = world.path("msg");
    std::fs::write(&msg, text).unwrap();
    let out = Command::new("ssh-keygen")
        .args(["-Y", "sign", "-n", "lumen-team", "-f"])
        .arg(key)
        .arg(&msg)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    std::fs::read_to_string(msg.with_extension("sig")).unwrap()
}

fn member_block(name: &str, key: &str, by: &str, at: &str, sig: &str) -> String {
    format!(
        "\n[[member]]\nname = \"{name}\"\nkey = \"{key}\"\nadded_by = \"{by}\"\nadded_at = \"{at}\"\nsignature = \"\"\"\n{sig}\"\"\"\n"
    )
}

fn public_line(p: &Person) -> String {
    let text = std::fs::read_to_string(p.key.with_extension("pub")).unwrap();
    text.split_whitespace()
        .take(2)
        .collect::<Vec<_>>()
        .join(" ")
}

#[test]
fn member_signatures_are_ssh_keygen_signatures_and_forged_lines_are_refused() {
    let world = World::new();
    let home = world.path("shared");
    let ws = world.workspace("shared");
    let (alice, bob, _carol) = team_of_three(&world, &home);

    // lumen's signature on bob's line verifies with the real ssh-keygen.
    let text = ok(
        lumen(&home, &bob, &["team", "member-text", "bob"]),
        "member-text",
    );
    assert_eq!(text.lines().count(), 4, "{text}");
    let members = std::fs::read_to_string(ws.join("team/members.toml")).unwrap();
    let parsed: toml::Value = toml::from_str(&members).unwrap();
    let sig = parsed["member"].as_array().unwrap()[1]["signature"]
        .as_str()
        .unwrap()
        .to_string();
    std::fs::write(world.path("bob.sig"), &sig).unwrap();
    std::fs::write(
        world.path("signers"),
        format!("alice {}\n", public_line(&alice)),
    )
    .unwrap();
    let mut verify = Command::new("ssh-keygen");
    verify
        .args(["-Y", "verify", "-n", "lumen-team", "-I", "alice", "-f"])
        .arg(world.path("signers"))
        .arg("-s")
        .arg(world.path("bob.sig"))
        .stdin(
            std::fs::File::open({
                let p = world.path("bob.txt");
                std::fs::write(&p, &text).unwrap();
                p
            })
            .unwrap(),
        );
    let out = verify.output().unwrap();
    assert!(
        out.status.success(),
        "ssh-keygen -Y verify: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    // A line signed by alice with ssh-keygen itself is accepted.
    let erin = world.person("erin", "ed25519", "");
    let at = "2026-12-07T00:00:00Z";
    let erin_text = format!("erin\n{}\nalice\n{at}\n", public_line(&erin));
    let alice_clear = world.path("alice-clear");
    std::fs::copy(&alice.key, &alice_clear).unwrap();
    let status = Command::new("ssh-keygen")
        .args(["-q", "-p", "-P", "alice pass phrase", "-N", "", "-f"])
        .arg(&alice_clear)
        .status()
        .unwrap();
    assert!(status.success());
    let erin_sig = ssh_keygen_sign(&world, &alice_clear, &erin_text);
    let with_erin =
        members.clone() + &member_block("erin", &public_line(&erin), "alice", at, &erin_sig);
    std::fs::write(ws.join("team/members.toml"), &with_erin).unwrap();
    let listed = ok(
        lumen(&home, &bob, &["team", "members"]),
        "members with erin",
    );
    assert!(listed.contains("erin"), "{listed}");

    let mallory = world.person("mallory", "ed25519", "");
    let line_of_last = |text: &str| {
        text.lines()
            .enumerate()
            .filter(|(_, l)| *l == "[[member]]")
            .last()
            .unwrap()
            .0
            + 1
    };
    let cases = [
        // unsigned
        (
            member_block("mallory", &public_line(&mallory), "alice", at, ""),
            "not signed",
        ),
        // signed by herself, claiming alice added her
        (
            member_block(
                "mallory",
                &public_line(&mallory),
                "alice",
                at,
                &ssh_keygen_sign(
                    &world,
                    &mallory.key,
                    &format!("mallory\n{}\nalice\n{at}\n", public_line(&mallory)),
                ),
            ),
            "does not verify with the key of 'alice'",
        ),
        // signed by a non-member
        (
            member_block(
                "mallory",
                &public_line(&mallory),
                "eve",
                at,
                &ssh_keygen_sign(
                    &world,
                    &mallory.key,
                    &format!("mallory\n{}\neve\n{at}\n", public_line(&mallory)),
                ),
            ),
            "who is not a member",
        ),
        // alice's real signature, but the key was swapped afterwards
        (
            member_block("erin2", &public_line(&mallory), "alice", at, &erin_sig),
            "does not verify",
        ),
    ];
    for (block, why) in cases {
        let forged = members.clone() + &block;
        std::fs::write(ws.join("team/members.toml"), &forged).unwrap();
        let line = line_of_last(&forged);
        for args in [
            &["team", "members"][..],
            &["vault", "--scope", "team", "list"][..],
        ] {
            let err = fails(lumen(&home, &bob, args), why);
            assert!(err.contains(why), "{why}: {err}");
            assert!(
                err.contains(&format!("members.toml:{line}:")),
                "line {line}: {err}"
            );
        }
        // and nobody can add members to a forged list
        let err = fails(add_member(&home, &alice, "zed", &mallory), "add to forged");
        assert!(err.contains(why), "{err}");
    }
}

#[test]
fn tampered_swapped_and_rolled_back_files_are_clear_errors() {
    let world = World::new();
    let home = world.path("shared");
    let ws = world.workspace("shared");
    let (alice, bob, _carol) = team_of_three(&world, &home);
    add_entry(&home, &alice, &world, "a", "value-a");
    add_entry(&home, &alice, &world, "b", "value-b");
    let a = ws.join("team/entries/a.lv");
    let b = ws.join("team/entries/b.lv");
    let (orig_a, orig_b) = (std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());

    let mut bad = orig_a.clone();
    let last = bad.len() - 1;
    bad[last] ^= 1;
    std::fs::write(&a, &bad).unwrap();
    let err = fails(reveal(&home, &bob, "a"), "tampered");
    assert!(err.contains("a.lv") && err.contains("tampered"), "{err}");

    std::fs::write(&a, &orig_b).unwrap();
    std::fs::write(&b, &orig_a).unwrap();
    let err = fails(lumen(&home, &bob, &["team", "verify"]), "swapped");
    assert!(err.contains("swapped"), "{err}");
    assert!(!err.contains("value-"), "{err}");

    std::fs::write(&a, &orig_a).unwrap();
    std::fs::write(&b, &orig_b).unwrap();
    ok(lumen(&home, &bob, &["team", "verify"]), "restored");
    let old = std::fs::read(ws.join("team/key.age")).unwrap();
    ok(lumen(&home, &bob, &["team", "rekey"]), "rekey");
    std::fs::write(ws.join("team/key.age"), &old).unwrap();
    let err = fails(lumen(&home, &bob, &["team", "verify"]), "old key.age");
    assert!(
        err.contains("older copy") && err.contains("key.age"),
        "{err}"
    );
}

#[test]
fn only_an_agent_is_not_enough_and_the_error_says_why() {
    let world = World::new();
    let home = world.path("shared");
    let (_alice, bob, _carol) = team_of_three(&world, &home);
    let nobody = world.path("empty-home");
    std::fs::create_dir_all(&nobody).unwrap();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_lumen"));
    cmd.env("LUMEN_HOME", &home)
        .env("HOME", &nobody)
        .env("SSH_AUTH_SOCK", world.path("agent.sock"))
        .args(["vault", "--scope", "team", "list"])
        .stdin(Stdio::null());
    no_terminal(&mut cmd);
    let err = fails(cmd.output().unwrap(), "agent only");
    assert!(
        err.contains("agent") && err.contains("not decrypt"),
        "{err}"
    );
    drop(bob);
}

// ---- git ----

fn git(dir: &Path, who: &Person, args: &[&str]) -> Output {
    let mut cmd = Command::new("git");
    cmd.arg("-C")
        .arg(dir)
        .args(args)
        .env("HOME", &who.home)
        .env("GIT_CONFIG_NOSYSTEM", "1")
        .env("GIT_AUTHOR_NAME", "t")
        .env("GIT_AUTHOR_EMAIL", "t@example.invalid")
        .env("GIT_COMMITTER_NAME", "t")
        .env("GIT_COMMITTER_EMAIL", "t@example.invalid")
        .env_remove("SSH_AUTH_SOCK")
        .stdin(Stdio::null());
    no_terminal(&mut cmd);
    cmd.output().unwrap()
}

fn git_ok(dir: &Path, who: &Person, args: &[&str]) -> String {
    ok(git(dir, who, args), &format!("git {args:?}"))
}

/// A git repository at `ws` with a team vault `owner` starts; returns what `team init` said.
fn team_in_git(ws: &Path, home: &Path, owner: &Person, name: &str) -> String {
    std::fs::create_dir_all(ws).unwrap();
    git_ok(ws, owner, &["init", "-q", "-b", "main"]);
    ok(
        lumen(home, owner, &["team", "init", "--name", name]),
        "init",
    )
}

/// Commit everything in `from` as `owner`, then clone it to `to` as `who`.
fn commit_and_clone(world: &World, from: &Path, owner: &Person, to: &Path, who: &Person) {
    git_ok(from, owner, &["add", "-A"]);
    commit(from, owner, "team");
    std::fs::create_dir_all(to.parent().unwrap()).unwrap();
    git_ok(
        &world.path("."),
        who,
        &["clone", "-q", from.to_str().unwrap(), to.to_str().unwrap()],
    );
}

/// Commit every tracked change in `ws`.
fn commit(ws: &Path, who: &Person, message: &str) {
    git_ok(ws, who, &["commit", "-qam", message]);
}

/// Merge `main` of `remote` (a remote's name or a path) into `ws`.
fn pull(ws: &Path, who: &Person, remote: &Path) {
    git_ok(
        ws,
        who,
        &[
            "pull",
            "-q",
            "--no-rebase",
            remote.to_str().unwrap(),
            "main",
        ],
    );
}

#[test]
fn two_clones_merge_different_entries_cleanly_and_the_same_entry_through_the_driver() {
    let world = World::new();
    let (h1, h2) = (world.path("one"), world.path("two"));
    let (ws1, ws2) = (world.workspace("one"), world.workspace("two"));
    let alice = world.person("alice", "ed25519", "");
    let bob = world.person("bob", "ed25519", "");
    let init = team_in_git(&ws1, &h1, &alice, "alice");
    assert!(init.contains("merge driver"), "{init}");
    ok(add_member(&h1, &alice, "bob", &bob), "add bob");
    add_entry(&h1, &alice, &world, "e1", "one-v1");
    add_entry(&h1, &alice, &world, "e2", "two-v1");
    commit_and_clone(&world, &ws1, &alice, &ws2, &bob);
    let installed = ok(lumen(&h2, &bob, &["team", "verify"]), "verify in the clone");
    assert!(installed.contains("merge driver"), "{installed}");

    // Different entries: a clean merge.
    let edit = |home: &Path, who: &Person, name: &str, args: &[&str]| {
        let mut all = vec!["vault", "--scope", "team", "edit", name];
        all.extend_from_slice(args);
        ok(lumen(home, who, &all), "edit");
    };
    let v = secret_file(&world, "e1-v2", "one-v2");
    edit(&h1, &alice, "e1", &["--secret-file", &v]);
    commit(&ws1, &alice, "alice e1");
    edit(&h2, &bob, "e2", &["--notes", "bob was here"]);
    commit(&ws2, &bob, "bob e2");
    pull(&ws2, &bob, Path::new("origin"));
    assert!(ok(reveal(&h2, &bob, "e1"), "e1").contains("one-v2"));
    assert!(ok(reveal(&h2, &bob, "e2"), "e2").contains("bob was here"));

    // The same entry, different fields: the driver decrypts and merges them.
    pull(&ws1, &alice, &ws2);
    let v3 = secret_file(&world, "e1-v3", "one-v3");
    edit(&h1, &alice, "e1", &["--secret-file", &v3]);
    commit(&ws1, &alice, "alice e1 secret");
    edit(&h2, &bob, "e1", &["--notes", "rotated monthly"]);
    commit(&ws2, &bob, "bob e1 notes");
    pull(&ws2, &bob, Path::new("origin"));
    let shown = ok(reveal(&h2, &bob, "e1"), "merged e1");
    assert!(
        shown.contains("one-v3") && shown.contains("rotated monthly"),
        "{shown}"
    );

    // The same field on both sides: no terminal to ask, so a conflict that names the field
    // and shows neither secret nor ciphertext.
    let v4 = secret_file(&world, "e2-a", "alice-secret-4");
    pull(&ws1, &alice, &ws2);
    edit(&h1, &alice, "e2", &["--secret-file", &v4]);
    commit(&ws1, &alice, "alice e2");
    let v5 = secret_file(&world, "e2-b", "bob-secret-5");
    edit(&h2, &bob, "e2", &["--secret-file", &v5]);
    commit(&ws2, &bob, "bob e2");
    let out = git(&ws2, &bob, &["pull", "--no-rebase", "origin", "main"]);
    assert!(!out.status.success());
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        said.contains("changed on both sides") && said.contains("secret"),
        "{said}"
    );
    assert!(
        !said.contains("alice-secret-4") && !said.contains("bob-secret-5"),
        "{said}"
    );
    assert!(!said.contains("LUMENTE1"), "{said}");
}

#[test]
fn a_removal_and_an_addition_on_two_branches_merge_into_a_regenerated_key_age() {
    let world = World::new();
    let (h1, h2) = (world.path("one"), world.path("two"));
    let (ws1, ws2) = (world.workspace("one"), world.workspace("two"));
    let alice = world.person("alice", "ed25519", "");
    let carol = world.person("carol", "ed25519", "");
    let bob = world.person("bob", "ed25519", "");
    let dave = world.person("dave", "rsa", "");
    team_in_git(&ws1, &h1, &alice, "alice");
    ok(add_member(&h1, &alice, "carol", &carol), "add carol");
    ok(add_member(&h1, &alice, "bob", &bob), "add bob");
    add_entry(&h1, &alice, &world, "e1", "one-v1");
    commit_and_clone(&world, &ws1, &alice, &ws2, &bob);
    ok(
        lumen(&h2, &bob, &["team", "verify"]),
        "verify installs the driver",
    );

    // Alice removes Carol (a new key, every entry re-encrypted); Bob adds Dave and edits e1.
    ok(
        lumen(&h1, &alice, &["team", "remove", "carol", "--yes"]),
        "remove carol",
    );
    commit(&ws1, &alice, "carol left");
    ok(add_member(&h2, &bob, "dave", &dave), "add dave");
    ok(
        lumen(
            &h2,
            &bob,
            &[
                "vault", "--scope", "team", "edit", "e1", "--notes", "from bob",
            ],
        ),
        "edit",
    );
    commit(&ws2, &bob, "dave joined");
    pull(&ws2, &bob, Path::new("origin"));

    let verify = ok(
        lumen(&h2, &dave, &["team", "verify"]),
        "dave verifies the merge",
    );
    assert!(
        verify.contains("epoch 2") && !verify.contains("note:"),
        "{verify}"
    );
    let shown = ok(reveal(&h2, &dave, "e1"), "dave reads e1");
    assert!(
        shown.contains("one-v1") && shown.contains("from bob"),
        "{shown}"
    );
    let members = ok(lumen(&h2, &bob, &["team", "members"]), "members");
    assert!(
        members.contains("dave") && !members.contains("carol"),
        "{members}"
    );
    let err = fails(reveal(&h2, &carol, "e1"), "carol after the merge");
    assert!(err.contains("not a member"), "{err}");
}

#[test]
fn privacy_says_what_a_removed_member_keeps_and_what_the_repository_host_sees() {
    let out = Command::new(env!("CARGO_BIN_EXE_lumen"))
        .arg("--privacy")
        .env("LUMEN_HOME", tempfile::tempdir().unwrap().path())
        .output()
        .unwrap();
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(
        text.contains("What a removed member can still read"),
        "{text}"
    );
    assert!(text.contains("What the repository host"), "{text}");
    assert!(text.contains("member names and public keys"), "{text}");
}

#[test]
fn an_unlocked_team_vault_joins_the_copilots_placeholders_bound_and_audited_by_member() {
    use lumen::ai::placeholders::{HostRef, entries_for_host, resolve_for_host};
    use lumen::vault::team::{MyKey, TeamDir};
    use secrecy::{ExposeSecret, SecretString};
    let world = World::new();
    let home = world.path("shared");
    let (alice, bob, _carol) = team_of_three(&world, &home);
    add_entry(&home, &alice, &world, "db/team", "t3am-pa55");
    let dir = TeamDir::in_workspace(&world.workspace("shared"));
    let me = MyKey::load(&bob.key, |_| Ok(SecretString::from(""))).unwrap();
    let team = lumen::vault::team::open(&dir, &me).unwrap();
    let db1 = HostRef {
        name: "db1".into(),
        groups: vec![],
    };
    let names = entries_for_host(&[&team], "db1", &[]);
    assert!(names.iter().any(|(n, _)| n == "db/team"), "{names:?}");
    let cmd = "PGPASSWORD={{vault:db/team}} psql -X -h 127.0.0.1 -c 'select 1'";
    let ok = resolve_for_host(cmd, &db1, &[&team]).unwrap_or_else(|e| panic!("{e}"));
    assert!(ok.command.expose_secret().contains("t3am-pa55"));
    let web1 = HostRef {
        name: "web1".into(),
        groups: vec![],
    };
    assert!(
        resolve_for_host(cmd, &web1, &[&team]).is_err(),
        "not bound to web1"
    );
    let audit = ok_text(lumen(
        &home,
        &alice,
        &["vault", "--scope", "team", "audit", "--json"],
    ));
    let events: serde_json::Value = serde_json::from_str(&audit).unwrap();
    assert!(
        events
            .as_array()
            .unwrap()
            .iter()
            .any(|e| e["member"] == "bob" && e["entry"] == "db/team" && e["host"] == "db1"),
        "{audit}"
    );
}

fn ok_text(out: Output) -> String {
    ok(out, "lumen")
}

/// A member whose key lives only in their personal vault (an `ssh-key` entry): the vault CLI
/// opens the team with `--identity vault:NAME`, and the app's one unlock opens the personal
/// vault and, with that entry, the team vault, with no key file under `~/.ssh`.
#[test]
fn a_members_key_in_their_personal_vault_opens_the_team_vault() {
    use lumen::vault::{Scope, VaultOwner};
    use secrecy::SecretString;
    let world = World::new();
    let home = world.path("shared");
    let (alice, _bob, _carol) = team_of_three(&world, &home);
    let dave = world.person("dave", "ed25519", "");
    ok(add_member(&home, &alice, "dave", &dave), "add dave");
    add_entry(&home, &alice, &world, "db/team", "t3am-pa55");
    let personal_pass = world.path("dave-personal.pass");
    std::fs::write(&personal_pass, "dave personal vault\n").unwrap();
    let dave_vault = |args: &[&str]| {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_lumen"));
        cmd.env("LUMEN_HOME", &home)
            .env("HOME", &dave.home)
            .env_remove("SSH_AUTH_SOCK")
            .stdin(Stdio::null())
            .arg("vault")
            .arg("--passphrase-file")
            .arg(&personal_pass)
            .args(args);
        no_terminal(&mut cmd);
        cmd.output().unwrap()
    };
    ok(
        dave_vault(&[&["init"][..], &common::FAST_KDF].concat()),
        "dave's personal vault",
    );
    let key_file = dave.key.display().to_string();
    ok(
        dave_vault(&[
            "add",
            "my-key",
            "--kind",
            "ssh-key",
            "--key-file",
            &key_file,
        ]),
        "dave's key into his vault",
    );
    std::fs::remove_file(&dave.key).unwrap();
    std::fs::remove_file(dave.key.with_extension("pub")).unwrap();

    let shown = ok(
        dave_vault(&[
            "--scope",
            "team",
            "--identity",
            "vault:my-key",
            "show",
            "db/team",
            "--reveal",
        ]),
        "show with the vault's key",
    );
    assert!(shown.contains("t3am-pa55"), "{shown}");
    let wrong = fails(
        dave_vault(&[
            "--scope",
            "team",
            "--identity",
            "vault:nope",
            "show",
            "db/team",
        ]),
        "a missing entry",
    );
    assert!(wrong.contains("nope"), "{wrong}");

    let paths = lumen::paths::Paths::under(&home);
    let owner = VaultOwner::new(vec![
        (Scope::Personal, paths.personal_vault()),
        (
            Scope::Team,
            paths.workspace_dir("default").join("team/key.age"),
        ),
    ]);
    let notices = owner
        .unlock(&SecretString::from("dave personal vault"))
        .unwrap();
    let scopes = owner
        .read(|vaults| vaults.iter().map(|v| v.scope).collect::<Vec<_>>())
        .unwrap();
    assert_eq!(scopes, [Scope::Personal, Scope::Team], "{notices:?}");
    let secret = owner
        .read(|vaults| {
            vaults[1]
                .vault
                .secret_for_host("db/team", lumen::vault::Action::Reveal, "db1", &[])
                .map(|s| secrecy::ExposeSecret::expose_secret(&s).to_string())
        })
        .unwrap()
        .unwrap();
    assert_eq!(secret, "t3am-pa55");
}
