//! A runbook exported as a playbook (`lumen run export`'s `playbook`) and run by `ansible-playbook` (from
//! scripts/ansible-venv.sh's venv) against three loopback sshd hosts, through the inventory
//! `lumen hosts export --format ansible` gives, has the same per-host results as lumen's own
//! executor (`runbook::exec`, what `lumen run` runs) on the same hosts: which hosts succeed,
//! which step stops a host, and each step's exit status and output.
#![allow(clippy::unwrap_used)]

mod common;

use common::venv;
use lumen::cli::run_export::{RunExportArgs, RunExportFormat, playbook};
use lumen::runbook::Catalog;
use lumen::runbook::exec::{self, RunVault};
use lumen::runbook::plan::{Plan, Resolver};
use lumen::ssh::config::ResolveOptions;
use lumen::ssh::{ConnectOptions, Connector, Prompter};
use lumen::workspace::{Host, HostsFile, Inventory};
use std::collections::BTreeMap;
use std::process::{Command, Stdio};

/// Records every task result as a JSON line: what the comparison reads.
const RECORD_CALLBACK: &str = r#"
import json, os
from ansible.plugins.callback import CallbackBase

class CallbackModule(CallbackBase):
    CALLBACK_VERSION = 2.0
    CALLBACK_TYPE = 'aggregate'
    CALLBACK_NAME = 'record'
    CALLBACK_NEEDS_ENABLED = True

    def _put(self, result, status):
        r = result._result
        line = {'host': result._host.get_name(), 'task': result._task.get_name(),
                'status': status, 'rc': r.get('rc'), 'stdout': r.get('stdout', '')}
        with open(os.environ['LUMEN_RECORD'], 'a') as f:
            f.write(json.dumps(line) + '\n')

    def v2_runner_on_ok(self, result, **kwargs):
        self._put(result, 'ok')

    def v2_runner_on_failed(self, result, ignore_errors=False):
        self._put(result, 'failed')

    def v2_runner_on_unreachable(self, result):
        self._put(result, 'unreachable')
"#;

/// Steps that print what differs between the hosts (the sshd port they reached), a step that
/// fails on one host, a parameter as a word, one inside double quotes, one through a pipe.
const RUNBOOK: &str = r#"
description = "ports and greetings"
targets = "@trio"
parallel = 8
on_failure = "continue"

[[params]]
name = "greeting"
default = "hi there, it's $me"

[[params]]
name = "skip-port"

[[steps]]
name = "port"
run = 'echo port ${SSH_CONNECTION##* } {{greeting}}'

[[steps]]
name = "quoted"
run = 'echo "said: {{greeting}}"'

[[steps]]
name = "gate"
run = '[ "${SSH_CONNECTION##* }" != {{skip-port}} ]'

[[steps]]
name = "after"
run = "printf '%s\\n' {{greeting}} | tr a-z A-Z"
"#;

/// host → (status, [(step, exit, stdout)]).
type Results = BTreeMap<String, (String, Vec<(String, Option<u64>, String)>)>;

fn me() -> String {
    String::from_utf8(Command::new("id").arg("-un").output().unwrap().stdout)
        .unwrap()
        .trim()
        .to_string()
}

#[test]
fn exported_playbook_gives_the_same_per_host_results_as_lumen_run() {
    let dir = tempfile::tempdir().unwrap();
    let path = |n: &str| dir.path().join(n);
    std::fs::create_dir_all(path("home")).unwrap();
    let servers: Vec<common::Sshd> = (0..3).map(|_| common::Sshd::start("").unwrap()).collect();
    let key = path("id_ed25519");
    common::keygen(&key, "ed25519", "");
    let mut known = String::new();
    for (i, s) in servers.iter().enumerate() {
        s.authorize(&key.with_extension("pub"));
        let file = path(&format!("known{i}"));
        s.known_hosts_file(&file);
        known.push_str(&std::fs::read_to_string(&file).unwrap());
    }
    std::fs::write(path("known_hosts"), known).unwrap();
    let user = me();
    let paths = lumen::paths::Paths::under(&path("lumen"));
    let file = HostsFile::for_workspace(&paths, "default").unwrap();
    file.update(|_, ed| {
        for (i, s) in servers.iter().enumerate() {
            ed.put(&Host {
                name: format!("h{}", i + 1),
                hostname: Some("127.0.0.1".into()),
                port: Some(s.port),
                user: Some(user.clone()),
                groups: vec!["trio".into()],
                ..Default::default()
            })?;
        }
        Ok(())
    })
    .unwrap();
    let inventory: Inventory = file.load().unwrap();
    let runbooks = paths.workspace_dir("default").join("runbooks");
    std::fs::create_dir_all(&runbooks).unwrap();
    std::fs::write(runbooks.join("ports.toml"), RUNBOOK).unwrap();
    let runbook = Catalog::load(&paths, "default")
        .unwrap()
        .runnable("ports")
        .unwrap();
    let given: BTreeMap<String, String> =
        [("skip-port".to_string(), servers[1].port.to_string())].into();

    // lumen's executor.
    std::fs::write(path("ssh_config"), "").unwrap();
    let resolve = ResolveOptions {
        config_file: Some(path("ssh_config")),
        system_config: None,
        home_dir: path("home"),
        local_user: user.clone(),
        ..ResolveOptions::default()
    };
    let mut base = ConnectOptions::isolated(&path("lumen_known_hosts"));
    base.identity_files = vec![key.clone()];
    base.user_known_hosts_files = Some(vec![path("known_hosts")]);
    let hosts = Resolver {
        inventory: &inventory,
        resolve: &resolve,
        base: &base,
    }
    .hosts(&["@trio".to_string()], false)
    .unwrap();
    let plan = Plan::new(&runbook, &given, "@trio".into(), hosts).unwrap();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let report = runtime.block_on(async {
        let connector = Connector::new(base.clone(), Prompter::none());
        let (_canceller, cancel) = exec::cancel_switch();
        let (events, _rx) = tokio::sync::mpsc::unbounded_channel();
        exec::run(
            &plan,
            &connector,
            RunVault::none(),
            exec::confirm_all(),
            events,
            cancel,
        )
        .await
    });
    let lumen: Results = report
        .hosts
        .iter()
        .map(|h| {
            let status = serde_json::to_value(h.status).unwrap();
            let steps = h
                .steps
                .iter()
                .map(|s| {
                    (
                        s.name.clone(),
                        s.exit.map(u64::from),
                        s.stdout.trim_end().to_string(),
                    )
                })
                .collect();
            (
                h.host.clone(),
                (status.as_str().unwrap().to_string(), steps),
            )
        })
        .collect();

    // ansible-playbook with the exported playbook and inventory.
    // What `lumen run export ports --format ansible -p skip-port=PORT` writes.
    let playbook = playbook(
        &RunExportArgs {
            name: "ports".into(),
            format: RunExportFormat::Ansible,
            targets: Vec::new(),
            params: vec![format!("skip-port={}", servers[1].port)],
            output: None,
            workspace: "default".into(),
        },
        &paths,
    )
    .unwrap();
    assert!(playbook.contains("hosts: trio"), "{playbook}");
    std::fs::write(path("playbook.yml"), &playbook).unwrap();
    let wrapper = path("lumen-inventory");
    std::fs::write(
        &wrapper,
        format!(
            "#!/bin/sh\nexec '{}' hosts export --format ansible \"$@\"\n",
            env!("CARGO_BIN_EXE_lumen")
        ),
    )
    .unwrap();
    std::fs::set_permissions(
        &wrapper,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    std::fs::create_dir_all(path("callbacks")).unwrap();
    std::fs::write(path("callbacks/record.py"), RECORD_CALLBACK).unwrap();
    std::fs::write(
        path("ansible_ssh_config"),
        format!(
            "Host *\n  IdentityFile {}\n  IdentitiesOnly yes\n  UserKnownHostsFile {}\n  \
             StrictHostKeyChecking yes\n  BatchMode yes\n",
            key.display(),
            path("known_hosts").display()
        ),
    )
    .unwrap();
    let record = path("record.jsonl");
    let out = Command::new(venv::bin("ansible-playbook"))
        .arg("-i")
        .arg(&wrapper)
        .arg(path("playbook.yml"))
        .env("HOME", path("home"))
        .env("LUMEN_HOME", path("lumen"))
        .env("LC_ALL", "C.UTF-8")
        .env("ANSIBLE_LOCAL_TEMP", path("ansible-local"))
        .env("ANSIBLE_HOME", path("ansible-home"))
        .env("ANSIBLE_REMOTE_TMP", path("remote-tmp"))
        .env("ANSIBLE_PYTHON_INTERPRETER", "/usr/bin/python3")
        .env(
            "ANSIBLE_SSH_ARGS",
            format!("-F {}", path("ansible_ssh_config").display()),
        )
        .env("ANSIBLE_CALLBACK_PLUGINS", path("callbacks"))
        .env("ANSIBLE_CALLBACKS_ENABLED", "record")
        .env("ANSIBLE_NOCOLOR", "1")
        .env("LUMEN_RECORD", &record)
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let log = format!(
        "{}\n{}\n{playbook}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(2), "a host failed a task: {log}");
    let mut ansible: Results = BTreeMap::new();
    for line in std::fs::read_to_string(&record).unwrap().lines() {
        let r: serde_json::Value = serde_json::from_str(line).unwrap();
        let entry = ansible
            .entry(r["host"].as_str().unwrap().to_string())
            .or_insert_with(|| ("ok".into(), Vec::new()));
        if r["status"] != "ok" {
            entry.0 = r["status"].as_str().unwrap().to_string();
        }
        entry.1.push((
            r["task"].as_str().unwrap().to_string(),
            r["rc"].as_u64(),
            r["stdout"].as_str().unwrap().trim_end().to_string(),
        ));
    }
    assert_eq!(ansible, lumen, "{log}");

    // And the results are the real ones, not two empty lists.
    let h2 = &lumen["h2"];
    assert_eq!(h2.0, "failed");
    assert_eq!(h2.1.last().unwrap().0, "gate");
    let h1 = &lumen["h1"];
    assert_eq!(h1.0, "ok");
    assert_eq!(
        h1.1[0].2,
        format!("port {} hi there, it's $me", servers[0].port)
    );
    assert_eq!(h1.1[1].2, "said: hi there, it's $me");
    assert_eq!(h1.1[3].2, "HI THERE, IT'S $ME");
}
