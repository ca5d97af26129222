//! Runbooks run from the app against a real `sshd` on loopback (two inventory hosts, one
//! server): the plan card comes first and nothing runs before the operator's Enter; the run
//! view shows every host and the gathered output; the copilot's `propose_runbook`, in each
//! provider's wire format, shows the same card and hears what ran; Ctrl-s in the copilot pane
//! saves the commands that ran as a runbook the loader reads back.
#![allow(clippy::unwrap_used)]

mod common;

use common::Sshd;
use common::app::screen;
use common::copilot::{Driver, ai_setup, ask_copilot, key, prefix, ssh_app, typed};
use common::fake_ai::{FakeServer, calls_as, openai_proposes, says_as};
use crossterm::event::{KeyCode, KeyModifiers};
use lumen::ai::config::{AiConfig, Profile};
use lumen::ai::copilot::Item;
use lumen::ai::provider::{KeySource, ProviderKind};
use lumen::app::App;
use lumen::app::layers::Layer;
use lumen::app::layout::PaneId;
use lumen::app::runbooks::RunbookDialog;
use lumen::app::runbooks::RunbookDirs;
use lumen::panes::Pane;
use lumen::paths::Paths;
use lumen::workspace::{Host, Inventory};
use serde_json::json;
use std::path::{Path, PathBuf};

/// A vault value bound to web1 only.
const TOKEN: &str = "tok-5ecr3t-77a1";

/// The runbook: a parameter, a step that leaves a mark (so a test sees whether it ran) and a
/// step whose output is gathered.
fn runbook(marker: &Path) -> String {
    format!(
        r#"
name = "greet"
description = "Say hello on the web hosts"
targets = "@web"

[[params]]
name = "who"
default = "world"
pattern = "^[a-z]+$"

[[steps]]
name = "mark"
run = "echo {{{{who}}}} >> {}"

[[steps]]
name = "greet"
run = "echo hello {{{{who}}}}"
"#,
        marker.display()
    )
}

struct Fleet {
    dir: tempfile::TempDir,
    paths: Paths,
    /// Where the app records its SSH panes; None: nothing is recorded.
    recordings: Option<PathBuf>,
}

impl Fleet {
    fn new() -> Fleet {
        let dir = tempfile::tempdir().unwrap();
        let paths = Paths::under(&dir.path().join("home"));
        let runbooks = paths.workspace_dir("default").join("runbooks");
        std::fs::create_dir_all(&runbooks).unwrap();
        let marker = dir.path().join("ran.log");
        std::fs::write(runbooks.join("greet.toml"), runbook(&marker)).unwrap();
        Fleet {
            dir,
            paths,
            recordings: None,
        }
    }

    fn marker(&self) -> PathBuf {
        self.dir.path().join("ran.log")
    }

    /// What the runbook's first step wrote (nothing: it did not run).
    fn ran(&self) -> String {
        std::fs::read_to_string(self.marker()).unwrap_or_default()
    }

    /// web1 and web2 in group web, both the loopback sshd.
    fn inventory(sshd: &Sshd) -> Inventory {
        let host = |name: &str| Host {
            name: name.into(),
            hostname: Some("127.0.0.1".into()),
            port: Some(sshd.port),
            user: Some(lumen::ssh::target::local_user()),
            groups: vec!["web".into()],
            ..Host::default()
        };
        Inventory {
            hosts: vec![host("web1"), host("web2")],
            ..Inventory::default()
        }
    }

    /// An app with an SSH tab on web1, the inventory and the runbooks; the copilot talks to
    /// `fake` in `kind`'s wire format.
    async fn app(&self, sshd: &Sshd, fake: &FakeServer, kind: ProviderKind) -> (App, PaneId) {
        let paths = self.paths.clone();
        let recordings = self.recordings.clone();
        let inventory = Self::inventory(sshd);
        let workspace = self.dir.path().join("workspace");
        let ai = match kind {
            ProviderKind::OpenAiCompatible => ai_setup(fake, &workspace),
            kind => lumen::app::copilot::AiSetup {
                config: AiConfig::with_profile(Profile {
                    provider: kind,
                    model: "m".into(),
                    base_url: Some(fake.url()),
                    api_key: Some(KeySource::Vault("ai/key".into())),
                    prices: None,
                }),
                demo: false,
                workspace_dir: Some(workspace),
            },
        };
        let vault = common::unlocked_vault(
            &self.dir.path().join("vault.lumen"),
            vec![
                (
                    "ai/key",
                    lumen::vault::NewEntry {
                        kind: Some(lumen::vault::Kind::ApiKey),
                        secret: Some(secrecy::SecretString::from("test-key-not-real-0001")),
                        ..Default::default()
                    },
                ),
                (
                    "web/token",
                    lumen::vault::NewEntry {
                        kind: Some(lumen::vault::Kind::Password),
                        hosts: Some(vec!["web1".into()]),
                        secret: Some(secrecy::SecretString::from(TOKEN)),
                        ..Default::default()
                    },
                ),
            ],
        );
        ssh_app(sshd, fake, self.dir.path(), "web1", move |o| {
            o.vault = vault;
            o.inventory = inventory;
            o.ai = Some(ai);
            o.runbook_index = vec![("greet".into(), "Say hello on the web hosts".into())];
            o.runbooks = Some(RunbookDirs {
                paths,
                workspace: "default".into(),
            });
            o.recordings_root = recordings;
        })
        .await
    }

    /// The screen with what changes from run to run made constant: the temporary directory
    /// and the durations.
    fn steady(&self, text: &str) -> String {
        // The card's rows only: the shell above it shows the time and the user.
        let text = match text.lines().position(|l| l.contains("┌ Runbook")) {
            Some(top) => text
                .lines()
                .skip(top)
                .take_while(|l| !l.contains('└'))
                .collect::<Vec<_>>()
                .join("\n"),
            None => text.to_string(),
        };
        let text = text.replace(&self.dir.path().display().to_string(), "/TMP");
        let re = regex::Regex::new(r"\d+\.\ds").unwrap();
        re.replace_all(&text, |c: &regex::Captures| "#".repeat(c[0].len()))
            .into_owned()
    }
}

fn enter(app: &mut App) {
    key(app, KeyCode::Enter, KeyModifiers::NONE);
}

fn plan_shown(app: &App) -> bool {
    matches!(app.layers.top(), Some(Layer::Runbook(d)) if matches!(**d, RunbookDialog::Plan(_)))
}

/// The run view on screen, and whether its run ended.
fn run_done(app: &App) -> bool {
    let id = app.focused().unwrap();
    matches!(&app.panes[&id].pane, Pane::Run(v) if v.is_done())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_runbook_runs_only_after_its_plan_is_approved_and_the_view_shows_each_host() {
    let mut d = Driver::new();
    let Some(sshd) = Sshd::start("") else { return };
    let fleet = Fleet::new();
    let fake = FakeServer::start(vec![]).await;
    let (mut app, _) = fleet
        .app(&sshd, &fake, ProviderKind::OpenAiCompatible)
        .await;
    prefix(&mut app, 'R');
    d.drive(&mut app, "the picker", |a| !a.layers.is_empty())
        .await;
    typed(&mut app, "greet");
    enter(&mut app);
    // The form: the targets and the parameter, defaults filled in.
    let form = screen(&app);
    assert!(form.contains("@web") && form.contains("world"), "{form}");
    enter(&mut app);
    assert!(plan_shown(&app), "{}", screen(&app));
    let card = fleet.steady(&screen(&app));
    assert!(card.contains("on 2 hosts (@web): web[1-2]"), "{card}");
    assert!(card.contains("echo hello world"), "{card}");
    insta::assert_snapshot!("plan_card", card);
    // Nothing runs on a card.
    d.drive(&mut app, "a turn", |_| true).await;
    assert_eq!(fleet.ran(), "", "a step ran before the plan was approved");
    enter(&mut app);
    d.drive(&mut app, "the run", run_done).await;
    assert_eq!(fleet.ran(), "world\nworld\n");
    let view = fleet.steady(&screen(&app));
    assert!(view.contains("web[1-2] (2 hosts): hello world"), "{view}");
    insta::assert_snapshot!("run_view", view);
    // Enter: one host's whole output.
    enter(&mut app);
    let detail = fleet.steady(&screen(&app));
    assert!(detail.contains("web1: full output"), "{detail}");
    assert!(detail.contains("$ echo hello world"), "{detail}");
    key(&mut app, KeyCode::Esc, KeyModifiers::NONE);
    // The run is kept in the workspace's history.
    let history = std::fs::read_to_string(
        fleet
            .paths
            .workspace_dir("default")
            .join(lumen::runbook::history::HISTORY_FILE),
    )
    .unwrap();
    assert!(history.contains("\"runbook\":\"greet\""), "{history}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rejected_plan_runs_nothing_and_a_bad_parameter_never_reaches_a_plan() {
    let mut d = Driver::new();
    let Some(sshd) = Sshd::start("") else { return };
    let fleet = Fleet::new();
    let fake = FakeServer::start(vec![]).await;
    let (mut app, _) = fleet
        .app(&sshd, &fake, ProviderKind::OpenAiCompatible)
        .await;
    prefix(&mut app, 'R');
    d.drive(&mut app, "the picker", |a| !a.layers.is_empty())
        .await;
    typed(&mut app, "greet");
    enter(&mut app);
    // who: "world" becomes "world; id", which its pattern refuses.
    key(&mut app, KeyCode::Tab, KeyModifiers::NONE);
    typed(&mut app, "; id");
    enter(&mut app);
    let shown = screen(&app);
    assert!(!plan_shown(&app), "{shown}");
    assert!(shown.contains("who"), "{shown}");
    key(&mut app, KeyCode::Char('u'), KeyModifiers::CONTROL);
    typed(&mut app, "bob");
    enter(&mut app);
    assert!(plan_shown(&app), "{}", screen(&app));
    key(&mut app, KeyCode::Char('x'), KeyModifiers::NONE);
    assert!(app.layers.is_empty());
    d.drive(&mut app, "a turn", |_| true).await;
    assert_eq!(fleet.ran(), "");
}

/// The model's last words, "done", are in the copilot pane.
fn said_done(app: &App, terminal: PaneId) -> bool {
    app.copilot.session(terminal).is_some_and(|s| {
        s.items()
            .iter()
            .any(|i| matches!(i, Item::Assistant(t) if t == "done"))
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn the_copilots_propose_runbook_shows_the_plan_card_in_every_wire_format() {
    let mut d = Driver::new();
    let Some(sshd) = Sshd::start("") else { return };
    for kind in [
        ProviderKind::OpenAiCompatible,
        ProviderKind::Anthropic,
        ProviderKind::Gemini,
    ] {
        let fleet = Fleet::new();
        let args = json!({"name": "greet", "params": [{"name": "who", "value": "bob"}], "targets": "@web"});
        let fake = FakeServer::start(vec![
            calls_as(kind, "call-rb", "propose_runbook", &args),
            says_as(kind, "done"),
        ])
        .await;
        let (mut app, terminal) = fleet.app(&sshd, &fake, kind).await;
        ask_copilot(&mut app, "say hello on the web hosts");
        d.drive(&mut app, "the plan card", plan_shown).await;
        let first = String::from_utf8_lossy(&fake.requests()[0].raw).into_owned();
        assert!(
            first.contains("propose_runbook"),
            "{kind}: the tool is offered"
        );
        assert!(
            first.contains("greet: Say hello on the web hosts"),
            "{kind}: listed"
        );
        let card = screen(&app);
        assert!(card.contains("echo hello bob"), "{kind}: {card}");
        // The card waits; nothing ran and the model heard nothing yet.
        d.drive(&mut app, "a turn", |_| true).await;
        assert_eq!(fleet.ran(), "", "{kind}: ran before approval");
        assert_eq!(fake.requests().len(), 1, "{kind}");
        enter(&mut app);
        d.drive(&mut app, "the model's answer", |a| said_done(a, terminal))
            .await;
        assert_eq!(fleet.ran(), "bob\nbob\n", "{kind}");
        let second = String::from_utf8_lossy(&fake.requests()[1].raw).into_owned();
        assert!(
            second.contains("web[1-2] (2 hosts): hello bob"),
            "{kind}: the model hears what ran: {second}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rejected_proposal_runs_nothing_and_the_model_hears_so() {
    let mut d = Driver::new();
    let Some(sshd) = Sshd::start("") else { return };
    let fleet = Fleet::new();
    let kind = ProviderKind::OpenAiCompatible;
    let args = json!({"name": "greet", "params": {"who": "eve"}});
    let fake = FakeServer::start(vec![
        calls_as(kind, "call-rb", "propose_runbook", &args),
        says_as(kind, "done"),
    ])
    .await;
    let (mut app, terminal) = fleet.app(&sshd, &fake, kind).await;
    ask_copilot(&mut app, "say hello");
    d.drive(&mut app, "the plan card", plan_shown).await;
    key(&mut app, KeyCode::Char('x'), KeyModifiers::NONE);
    d.drive(&mut app, "the model's answer", |a| said_done(a, terminal))
        .await;
    assert_eq!(fleet.ran(), "");
    let second = String::from_utf8_lossy(&fake.requests()[1].raw).into_owned();
    assert!(second.contains("rejected this runbook"), "{second}");
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_s_saves_the_commands_that_ran_as_a_runbook_the_loader_reads() {
    let mut d = Driver::new();
    let Some(sshd) = Sshd::start("") else { return };
    let fleet = Fleet::new();
    let fake = FakeServer::start(vec![
        openai_proposes("", "call-1", "echo saved-$((40+2))", "a check"),
        says_as(ProviderKind::OpenAiCompatible, "done"),
    ])
    .await;
    let (mut app, terminal) = fleet
        .app(&sshd, &fake, ProviderKind::OpenAiCompatible)
        .await;
    ask_copilot(&mut app, "check something");
    d.drive(&mut app, "the card", |a| a.layers.approval().is_some())
        .await;
    enter(&mut app);
    d.drive(&mut app, "the model's answer", |a| said_done(a, terminal))
        .await;
    // Focus is on the copilot pane: Ctrl-s.
    key(&mut app, KeyCode::Char('s'), KeyModifiers::CONTROL);
    d.drive(&mut app, "the save", |a| screen(a).contains("saved "))
        .await;
    let catalog = lumen::runbook::Catalog::load(&fleet.paths, "default").unwrap();
    let saved = catalog
        .runbooks
        .iter()
        .find(|r| r.name.starts_with("copilot-web1-"))
        .unwrap_or_else(|| panic!("{:?}", catalog.runbooks));
    let runs: Vec<&str> = saved.steps.iter().map(|s| s.run.as_str()).collect();
    assert_eq!(runs, ["echo saved-$((40+2))"]);
    assert_eq!(saved.targets.as_deref(), Some("web1"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_demos_runbook_and_snippet_are_offered_and_the_runbook_runs_on_the_embedded_server() {
    let mut d = Driver::new();
    use lumen::ssh::{Connector, EmbeddedServer, EmbeddedServerOptions};
    let server = EmbeddedServer::start(EmbeddedServerOptions::default())
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let paths = Paths::under(&dir.path().join("home"));
    lumen::cli::demo::write_runbooks(&paths).unwrap();
    let opts = server
        .client_options(&dir.path().join("known_hosts"))
        .unwrap();
    let (prompter, _) = common::auto_answer(common::Answers::default());
    let connector = Connector::new(opts, prompter);
    let host = |name: &str| Host {
        name: name.into(),
        hostname: Some("127.0.0.1".into()),
        port: Some(server.port()),
        user: Some(lumen::ssh::target::local_user()),
        ..Host::default()
    };
    let inventory = Inventory {
        hosts: vec![host("demo-web"), host("demo-db")],
        ..Inventory::default()
    };
    let (mut app, _, _) =
        common::app::app_spec_with(120, 30, lumen::app::PaneSpec::LocalShell, |o| {
            o.connector = Some(connector);
            o.inventory = inventory;
            o.runbooks = Some(RunbookDirs {
                paths,
                workspace: "default".into(),
            });
        });
    prefix(&mut app, 'R');
    d.drive(&mut app, "the picker", |a| !a.layers.is_empty())
        .await;
    let picker = screen(&app);
    assert!(
        picker.contains("demo-health") && picker.contains("demo-follow-log"),
        "{picker}"
    );
    typed(&mut app, "demo-health");
    enter(&mut app);
    enter(&mut app);
    assert!(plan_shown(&app), "{}", screen(&app));
    enter(&mut app);
    d.drive(&mut app, "the demo run", run_done).await;
    let view = screen(&app);
    assert!(view.contains("demo-web,demo-db (2 hosts):"), "{view}");
    assert_eq!(view.matches(" ok ").count(), 2, "{view}");
}

/// Write runbook `name` (`toml` after its name line) into the fleet's workspace.
fn add_runbook(fleet: &Fleet, name: &str, toml: &str) {
    let path = fleet
        .paths
        .workspace_dir("default")
        .join(format!("runbooks/{name}.toml"));
    std::fs::write(path, format!("name = \"{name}\"\n{toml}")).unwrap();
}

/// Prefix R, the runbook `name`, Enter on its form: its plan card is up.
async fn plan_of(d: &mut Driver, app: &mut App, name: &str) {
    prefix(app, 'R');
    d.drive(app, "the picker", |a| !a.layers.is_empty()).await;
    typed(app, name);
    enter(app);
    enter(app);
    assert!(plan_shown(app), "{}", screen(app));
}

fn confirm_asked(app: &App) -> bool {
    matches!(app.layers.top(), Some(Layer::Runbook(d)) if matches!(**d, RunbookDialog::ConfirmStep { .. }))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_confirm_step_asks_again_and_a_no_runs_it_nowhere() {
    let mut d = Driver::new();
    let Some(sshd) = Sshd::start("") else { return };
    let fleet = Fleet::new();
    add_runbook(
        &fleet,
        "careful",
        &format!(
            "targets = \"@web\"\n[[steps]]\nname = \"look\"\nrun = \"echo looked\"\n\
             [[steps]]\nname = \"touch\"\nrun = \"echo touched >> {}\"\nconfirm = true\n",
            fleet.marker().display()
        ),
    );
    let fake = FakeServer::start(vec![]).await;
    let (mut app, _) = fleet
        .app(&sshd, &fake, ProviderKind::OpenAiCompatible)
        .await;
    plan_of(&mut d, &mut app, "careful").await;
    assert!(screen(&app).contains("asks again before it starts"));
    enter(&mut app);
    d.drive(&mut app, "the step's question", confirm_asked)
        .await;
    let asked = screen(&app);
    assert!(asked.contains("step 2 (touch) asks again"), "{asked}");
    key(&mut app, KeyCode::Char('n'), KeyModifiers::NONE);
    d.drive(&mut app, "the run", run_done).await;
    assert_eq!(fleet.ran(), "", "a step the operator refused ran");
    let view = screen(&app);
    assert_eq!(view.matches("FAILED").count(), 2, "{view}");
    assert!(view.contains("not confirmed by the operator"), "{view}");
}

#[tokio::test(flavor = "multi_thread")]
async fn esc_leaves_a_run_going_in_the_background_and_r_brings_it_back() {
    let mut d = Driver::new();
    let Some(sshd) = Sshd::start("") else { return };
    let fleet = Fleet::new();
    // Each host waits for the test's go-ahead, so the run is surely still going at Esc.
    let go = fleet.dir.path().join("go");
    add_runbook(
        &fleet,
        "waits",
        &format!(
            "targets = \"@web\"\n[[steps]]\nname = \"wait\"\n\
             run = \"while [ ! -e {} ]; do sleep 0.1; done; echo went\"\n",
            go.display()
        ),
    );
    let fake = FakeServer::start(vec![]).await;
    let (mut app, _) = fleet
        .app(&sshd, &fake, ProviderKind::OpenAiCompatible)
        .await;
    plan_of(&mut d, &mut app, "waits").await;
    enter(&mut app);
    d.drive(&mut app, "both hosts running", |a| {
        let id = a.focused().unwrap();
        matches!(&a.panes[&id].pane, Pane::Run(v) if v.progress().2 == 2)
    })
    .await;
    key(&mut app, KeyCode::Esc, KeyModifiers::NONE);
    let id = app.focused().unwrap();
    assert!(
        !matches!(app.panes[&id].pane, Pane::Run(_)),
        "the view closed"
    );
    let status = screen(&app);
    assert!(
        status.lines().last().unwrap().contains("waits 0/2"),
        "{status}"
    );
    std::fs::write(&go, "").unwrap();
    d.drive(&mut app, "the run's end", |a| {
        screen(a).contains("runbook waits finished: 2 ok")
    })
    .await;
    prefix(&mut app, 'R');
    d.drive(&mut app, "the picker", |a| !a.layers.is_empty())
        .await;
    let picker = screen(&app);
    assert!(
        picker.contains("finished: 2/2 hosts done, 0 failed"),
        "{picker}"
    );
    // The run is listed first.
    enter(&mut app);
    let view = screen(&app);
    assert!(view.contains("web[1-2] (2 hosts): went"), "{view}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_step_taking_a_secret_is_marked_runs_only_where_bound_and_never_shows_the_value() {
    let Some(sshd) = Sshd::start("") else { return };
    let mut d = Driver::new();
    let fleet = Fleet::new();
    add_runbook(
        &fleet,
        "token",
        "targets = \"@web\"\n[[steps]]\nname = \"use\"\nrun = \"echo got-{{vault:web/token}}\"\n",
    );
    let fake = FakeServer::start(vec![]).await;
    let (mut app, _) = fleet
        .app(&sshd, &fake, ProviderKind::OpenAiCompatible)
        .await;
    plan_of(&mut d, &mut app, "token").await;
    let card = screen(&app);
    assert!(card.contains("$ echo got-{{vault:web/token}}"), "{card}");
    assert!(card.contains("takes a secret"), "{card}");
    enter(&mut app);
    d.drive(&mut app, "the run", run_done).await;
    let view = screen(&app);
    let rows: Vec<&str> = view.lines().filter(|l| l.contains("web")).collect();
    assert!(rows.iter().any(|r| r.contains("web1 ok")), "{view}");
    assert!(rows.iter().any(|r| r.contains("web2 FAILED")), "{view}");
    enter(&mut app);
    let web1 = screen(&app);
    assert!(web1.contains("got-"), "web1 ran it: {web1}");
    key(&mut app, KeyCode::Esc, KeyModifiers::NONE);
    key(&mut app, KeyCode::Down, KeyModifiers::NONE);
    enter(&mut app);
    let web2 = screen(&app);
    assert!(web2.contains("bound"), "web2 says why: {web2}");
    let history = std::fs::read_to_string(
        fleet
            .paths
            .workspace_dir("default")
            .join(lumen::runbook::history::HISTORY_FILE),
    )
    .unwrap();
    for (what, text) in [
        ("view", &view),
        ("web1", &web1),
        ("web2", &web2),
        ("history", &history),
    ] {
        assert!(!text.contains(TOKEN), "the value is in the {what}: {text}");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_high_risk_plan_runs_only_once_its_targets_are_typed() {
    let Some(sshd) = Sshd::start("") else { return };
    let mut d = Driver::new();
    let fleet = Fleet::new();
    let scratch = fleet.dir.path().join("scratch");
    add_runbook(
        &fleet,
        "wipe",
        &format!(
            "targets = \"@web\"\n[[steps]]\nname = \"wipe\"\nrun = \"rm -rf {} && echo wiped >> {}\"\n",
            scratch.display(),
            fleet.marker().display()
        ),
    );
    let fake = FakeServer::start(vec![]).await;
    let (mut app, _) = fleet
        .app(&sshd, &fake, ProviderKind::OpenAiCompatible)
        .await;
    plan_of(&mut d, &mut app, "wipe").await;
    assert!(screen(&app).contains("high risk"), "{}", screen(&app));
    // Enter asks for the targets; a wrong answer runs nothing and says what is wanted.
    enter(&mut app);
    typed(&mut app, "web");
    enter(&mut app);
    let shown = screen(&app);
    assert!(plan_shown(&app), "{shown}");
    assert!(shown.contains("is not the targets"), "{shown}");
    d.drive(&mut app, "a turn", |_| true).await;
    assert_eq!(fleet.ran(), "");
    typed(&mut app, "@web");
    enter(&mut app);
    d.drive(&mut app, "the run", run_done).await;
    assert_eq!(fleet.ran(), "wiped\nwiped\n");
}

#[tokio::test(flavor = "multi_thread")]
async fn each_runbook_step_is_a_marker_in_the_recording_of_its_hosts_pane() {
    let mut d = Driver::new();
    let Some(sshd) = Sshd::start("") else { return };
    let mut fleet = Fleet::new();
    let root = fleet.dir.path().join("recordings");
    fleet.recordings = Some(root.clone());
    let fake = FakeServer::start(vec![]).await;
    let (mut app, _) = fleet
        .app(&sshd, &fake, ProviderKind::OpenAiCompatible)
        .await;
    prefix(&mut app, 'R');
    d.drive(&mut app, "the picker", |a| !a.layers.is_empty())
        .await;
    typed(&mut app, "greet");
    enter(&mut app);
    enter(&mut app);
    assert!(plan_shown(&app), "{}", screen(&app));
    enter(&mut app);
    d.drive(&mut app, "the run", run_done).await;
    app.finish_recordings();
    // The SSH tab is on web1: its recording has a marker per step that ran there, web2's
    // steps are in no pane's recording.
    let files = lumen::record::store::files(&root);
    assert_eq!(files.len(), 1, "{files:?}");
    assert!(files[0].0.contains("web1"), "{files:?}");
    let mut markers = Vec::new();
    lumen::record::cast::read(&files[0].1, |e| {
        if let lumen::record::cast::Event::Marker(_, m) = e {
            markers.push(m);
        }
        true
    });
    assert_eq!(
        markers,
        [
            format!(
                "runbook greet step 1 (mark): echo world >> {}",
                fleet.marker().display()
            ),
            "runbook greet step 2 (greet): echo hello world".to_string(),
        ],
    );
}
