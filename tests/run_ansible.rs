//! `lumen run export NAME --format ansible` writes a playbook; `ansible-playbook` (from
//! scripts/ansible-venv.sh's venv) runs it against three loopback sshd hosts, through the
//! inventory `lumen hosts export --format ansible` gives, and gets the same per-host results
//! as `lumen run` on the same hosts: which hosts succeed, which step stops a host, and each
//! step's exit status and output.
#![allow(clippy::unwrap_used)]

mod common;

use common::fleet::{Fleet, json_of};
use common::venv;
use std::collections::BTreeMap;

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

#[test]
fn exported_playbook_gives_the_same_per_host_results_as_lumen_run() {
    let mut f = Fleet::start(3);
    for i in 0..3 {
        f.host(&format!("h{}", i + 1), f.port(i), &["trio"]);
    }
    f.runbook("ports", RUNBOOK);
    let skip = format!("skip-port={}", f.port(1));

    let out = f.run(&["ports", "-p", &skip, "--yes", "--json"]);
    assert_eq!(out.status.code(), Some(1), "a host failed a step");
    let lumen: Results = json_of(&out)["hosts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| {
            let steps = h["steps"]
                .as_array()
                .unwrap()
                .iter()
                .map(|s| {
                    (
                        s["name"].as_str().unwrap().to_string(),
                        s["exit"].as_u64(),
                        s["stdout"].as_str().unwrap().trim_end().to_string(),
                    )
                })
                .collect();
            let status = h["status"].as_str().unwrap().to_string();
            (h["host"].as_str().unwrap().to_string(), (status, steps))
        })
        .collect();

    let dir = f.cli.dir.path();
    let playbook = dir.join("playbook.yml");
    let out = f.cli.lumen(
        &[
            "run",
            "export",
            "ports",
            "--format",
            "ansible",
            "-p",
            &skip,
            "-o",
            playbook.to_str().unwrap(),
        ],
        &[],
    );
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let written = std::fs::read_to_string(&playbook).unwrap();
    assert!(written.contains("hosts: trio"), "{written}");

    std::fs::create_dir_all(dir.join("callbacks")).unwrap();
    std::fs::write(dir.join("callbacks/record.py"), RECORD_CALLBACK).unwrap();
    let record = dir.join("record.jsonl");
    let home = dir.join("home");
    let ssh_args = venv::ssh_args(dir, &f.cli.key, &home.join(".ssh/known_hosts"));
    let out = venv::ansible("ansible-playbook", dir, &home, &dir.join("lumen"))
        .arg("-i")
        .arg(venv::inventory_wrapper(dir))
        .arg(&playbook)
        .env("ANSIBLE_SSH_ARGS", ssh_args)
        .env("ANSIBLE_CALLBACK_PLUGINS", dir.join("callbacks"))
        .env("ANSIBLE_CALLBACKS_ENABLED", "record")
        .env("LUMEN_RECORD", &record)
        .output()
        .unwrap();
    let log = format!(
        "{}\n{}\n{written}",
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
    assert_eq!(h1.1[0].2, format!("port {} hi there, it's $me", f.port(0)));
    assert_eq!(h1.1[1].2, "said: hi there, it's $me");
    assert_eq!(h1.1[3].2, "HI THERE, IT'S $ME");
}
