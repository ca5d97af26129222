//! hosts.toml loading errors, concurrent saves, and the inventory merged with ssh_config.
#![allow(clippy::unwrap_used)]

use lumen::ssh::config::{ResolveOptions, effective, resolve};
use lumen::workspace::{Host, HostsFile, Inventory, load_or_report};
use std::path::Path;

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn hosts_toml_errors_name_file_line_and_problem() {
    let dir = tempfile::tempdir().unwrap();
    let cases: &[(&str, usize, &str)] = &[
        ("[hosts.a]\nhostname = \"x\"\nport = \"22\"\n", 3, "port"),
        ("[hosts.a]\nhostname = \"x\"\n\nusr = \"bob\"\n", 4, "usr"),
        ("[hosts.a]\nport = 99999\n", 2, ""),
        ("[hosts.a]\nhostname = \"two words\"\n", 2, "hostname"),
        ("[hosts.a]\njump = [\"ok\", \"x:0\"]\n", 2, "jump"),
        ("[hosts.a]\nhostname = \"x\"\n[hosts.a]\n", 3, ""),
        ("\n\n[hosts.\"bad name\"]\n", 3, "host name"),
        (
            "[hosts.a]\n[hosts.a.options]\nkeepalive_interval = -1\n",
            3,
            "",
        ),
        (
            "[hosts.a]\n[hosts.a.options]\nforward_agent = \"maybe\"\n",
            3,
            "",
        ),
        ("[hosts.a]\ntags = \"prod\"\n", 2, ""),
        ("hosts = 3\n", 1, ""),
    ];
    for (i, (text, line, word)) in cases.iter().enumerate() {
        let path = write(dir.path(), &format!("h{i}.toml"), text);
        let (inv, err) = load_or_report(&path);
        assert_eq!(inv, Inventory::default());
        let msg = err.unwrap_or_else(|| panic!("case {i} loaded")).to_string();
        let prefix = format!("{}:{line}:", path.display());
        assert!(
            msg.starts_with(&prefix),
            "case {i}: {msg:?} should start with {prefix:?}"
        );
        assert!(
            msg.contains(word),
            "case {i}: {msg:?} should mention {word:?}"
        );
    }
    let (inv, err) = load_or_report(&dir.path().join("missing.toml"));
    assert!(inv.hosts.is_empty() && err.is_none());
}

#[test]
fn concurrent_updates_lose_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ws/hosts.toml");
    let threads: Vec<_> = (0..8)
        .map(|i| {
            let file = HostsFile::new(path.clone());
            std::thread::spawn(move || {
                for j in 0..5 {
                    let h = Host {
                        name: format!("h{i}-{j}"),
                        port: Some(1000 + j),
                        ..Host::default()
                    };
                    file.update(|_, ed| ed.put(&h)).unwrap();
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(HostsFile::new(path).load().unwrap().hosts.len(), 40);
}

fn opts(dir: &Path, config: &str) -> ResolveOptions {
    ResolveOptions {
        config_file: Some(write(dir, "ssh_config", config)),
        home_dir: dir.to_path_buf(),
        local_user: "me".into(),
        local_host: "box".into(),
        ..ResolveOptions::default()
    }
}

#[test]
fn inventory_wins_where_it_sets_a_value() {
    let dir = tempfile::tempdir().unwrap();
    let o = opts(
        dir.path(),
        "Host db1\n  Hostname from-config\n  Port 2200\n  User cfguser\n  ServerAliveInterval 5\n\
         Match user invuser\n  IdentityFile ~/.ssh/matched\n",
    );
    let mut db1 = Host {
        name: "db1".into(),
        hostname: Some("10.0.0.5".into()),
        user: Some("invuser".into()),
        jump: vec!["bastion".into(), "ops@gw:2222".into()],
        ..Host::default()
    };
    db1.options.keepalive_interval = Some(30);
    let inv = Inventory {
        hosts: vec![db1],
        ..Inventory::default()
    };
    let r = effective("db1", &inv, &o);
    assert_eq!(r.hostname, "10.0.0.5");
    assert_eq!(r.user, "invuser");
    assert_eq!(r.port, 2200, "unset in the inventory: ssh_config's value");
    assert_eq!(r.server_alive_interval, 30);
    assert_eq!(r.proxy_jump.as_deref(), Some("bastion,ops@gw:2222"));
    assert_eq!(r.jump_chain().len(), 2);
    assert_eq!(
        r.identity_files,
        vec!["~/.ssh/matched"],
        "Match user sees the inventory user"
    );
    assert_eq!(r.identity_paths(), vec![dir.path().join(".ssh/matched")]);

    // A host the inventory does not know resolves as ssh would.
    let plain = effective("other", &inv, &o);
    assert_eq!(plain, resolve("other", &o).unwrap());
}

#[test]
fn unreadable_config_still_gives_a_result_with_a_warning() {
    let o = ResolveOptions {
        config_file: Some("/nonexistent/ssh_config".into()),
        local_user: "me".into(),
        ..ResolveOptions::default()
    };
    assert!(resolve("x", &o).is_err());
    let r = effective("x", &Inventory::default(), &o);
    assert_eq!(r.hostname, "x");
    assert_eq!(r.port, 22);
    assert!(r.warnings[0].to_string().contains("cannot read ssh config"));
}

#[test]
fn include_depth_and_origins() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir_all(dir.path().join(".ssh")).unwrap();
    // A file including itself: ssh stops at depth 16; lumen warns instead of looping.
    let looped = dir.path().join(".ssh/loop");
    std::fs::write(&looped, "Include loop\nUser looped\n").unwrap();
    let o = opts(dir.path(), "Include loop\nPort 2022\n");
    let r = resolve("x", &o).unwrap();
    assert_eq!(r.user, "looped");
    assert!(
        r.warnings
            .iter()
            .any(|w| w.message.contains("nested Includes"))
    );
    let origin = r.origin("Port").unwrap();
    assert_eq!(origin.line, 2);
    assert!(origin.file.ends_with("ssh_config"));
}

#[test]
fn jump_hops_resolve_by_their_own_names() {
    let dir = tempfile::tempdir().unwrap();
    let o = opts(
        dir.path(),
        "Host bastion\n  Hostname 10.9.9.9\n  User jumper\nHost inner\n  Port 2201\n",
    );
    let db = Host {
        name: "db".into(),
        jump: vec!["bastion".into(), "ops@inner".into()],
        ..Host::default()
    };
    let inner = Host {
        name: "inner".into(),
        hostname: Some("192.168.0.2".into()),
        ..Host::default()
    };
    let inv = Inventory {
        hosts: vec![db, inner],
        ..Inventory::default()
    };
    let target = effective("db", &inv, &o);
    let hops = lumen::ssh::config::effective_hops(&target, &inv, &o);
    assert_eq!(hops.len(), 2);
    assert_eq!(
        (hops[0].hostname.as_str(), hops[0].user.as_str()),
        ("10.9.9.9", "jumper")
    );
    assert_eq!(hops[0].proxy_jump, None);
    assert_eq!(hops[1].hostname, "192.168.0.2");
    assert_eq!((hops[1].user.as_str(), hops[1].port), ("ops", 2201));
    assert_eq!(hops[1].proxy_jump.as_deref(), Some("bastion"));
}
