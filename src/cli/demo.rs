//! `lumen demo`: lumen against its embedded SSH server on loopback, with a demo vault and a
//! scripted model, in a throw-away home that is removed on exit. Nothing to install or
//! configure.

use crate::app::{PaneSpec, RunOptions};
use crate::paths::Paths;
use crate::ssh::{EmbeddedServer, EmbeddedServerOptions};
use crate::workspace::{Host, HostsFile};
use std::process::ExitCode;

/// The demo workspace's hosts: both are the embedded server.
const DEMO_HOSTS: [&str; 2] = ["demo-web", "demo-db"];
/// The demo vault's passphrase, shown on the welcome screen and in the unlock dialog: the
/// vault is as strong as any (real parameters), only its passphrase is public, like its
/// throw-away home.
pub const DEMO_PASSPHRASE: &str = "lumen-demo";
/// The demo vault's one entry, bound to both demo hosts, for the copilot's `{{vault:…}}`.
pub const DEMO_ENTRY: &str = "demo-db/postgres";

/// Keys shown over the first screen.
fn welcome() -> Vec<String> {
    [
        "Two tabs are connected over SSH to lumen's embedded server on 127.0.0.1.",
        "Keys follow tmux: press Ctrl-b, then",
        "  c  new tab (a host or a local shell)     n / p  next / previous tab",
        "  %  split right      \"  split down         arrows  move between panes",
        "  z  zoom a pane      x  close a pane       [  copy mode (scroll, search)",
        "  ?  every key        :  command palette    d  quit",
        "  a  the copilot, here a scripted demo model (not an AI) on 127.0.0.1: ask it",
        "     something; it proposes commands that run only when you press Enter on them,",
        "     the last one with a vault password it names but never sees",
        &format!("  v  the vault: its passphrase is  {DEMO_PASSPHRASE} ; one entry, {DEMO_ENTRY},"),
        "     is bound to both demo hosts (the copilot asks to unlock it too)",
        "  R  runbooks and snippets: demo-health runs on both hosts after you approve its",
        "     plan; demo-follow-log is typed into the pane for you to run",
        "  S  scan results: s scans this host for known vulnerabilities and weak settings",
        "     (its advisories, LUMEN-DEMO-…, are made up; the configuration checks are real)",
        "This demo's home is temporary and is removed when lumen exits.",
    ]
    .into_iter()
    .map(str::to_string)
    .collect()
}

pub fn run(theme: Option<String>) -> anyhow::Result<ExitCode> {
    let home = tempfile::Builder::new().prefix("lumen-demo-").tempdir()?;
    crate::paths::ensure_private_dir(home.path())?;
    let paths = Paths::under(home.path());
    crate::paths::ensure_private_dir(&paths.data_dir)?;
    crate::paths::ensure_private_dir(&paths.config_dir)?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    let code = runtime.block_on(async {
        let server = EmbeddedServer::start(EmbeddedServerOptions::default()).await?;
        // The copilot talks to a scripted model on loopback: offline, nothing to configure.
        let (model_addr, model) = crate::ai::demo::DemoModel::start().await?;
        // The demo trusts its own server's key, as if the user had accepted it before.
        let connect = server.client_options(&paths.known_hosts())?;
        write_workspace(&paths, server.port())?;
        write_runbooks(&paths)?;
        // Without its vault the demo still runs: the browser then says there is none.
        let vault_path = paths.personal_vault();
        let vault = tokio::task::spawn_blocking(move || write_vault(&vault_path)).await?;
        if let Err(e) = &vault {
            tracing::warn!("demo vault: {e:#}");
        }
        // The scan pane matches against a few made-up advisories for packages installed here
        // (the demo hosts are this machine), so findings show without downloading OSV data.
        let scans = crate::scan::ScanSetup::for_workspace(&paths, "default");
        let made_up = home.path().join("demo-advisories");
        if let Err(e) = crate::scan::demo::import_made_up_advisories(&scans.db, &made_up).await {
            tracing::warn!("demo advisories: {e:#}");
        }
        let initial = DEMO_HOSTS
            .iter()
            .map(|name| PaneSpec::Ssh {
                name: name.to_string(),
                target: server.target(None),
                plan: None,
            })
            .collect();
        let mut opts = RunOptions::new(paths.clone(), theme, initial);
        opts.connect = connect;
        opts.host_names = DEMO_HOSTS.iter().map(|s| s.to_string()).collect();
        opts.hosts_tab = true;
        opts.use_ssh_config = false;
        opts.welcome = Some(("Welcome to the lumen demo".into(), welcome()));
        opts.ai = Some(crate::ai::config::AiConfig::with_profile(
            crate::ai::demo::DemoModel::profile(model_addr),
        ));
        opts.ai_demo = true;
        if vault.is_ok() {
            opts.vault_hint = Some(format!("the demo's passphrase is {DEMO_PASSPHRASE}"));
        }
        let code = crate::term::run_async(opts).await;
        drop(model);
        drop(server);
        code
    });
    drop(runtime);
    home.close()?;
    code
}

/// The demo workspace: two hosts in `hosts.toml`, both on the embedded server.
fn write_workspace(paths: &Paths, port: u16) -> anyhow::Result<()> {
    let file = HostsFile::for_workspace(paths, "default")?;
    let user = crate::ssh::target::local_user();
    file.update(|_, editor| {
        for (name, group) in DEMO_HOSTS.iter().zip(["web", "db"]) {
            editor.put(&Host {
                name: name.to_string(),
                hostname: Some("127.0.0.1".into()),
                port: Some(port),
                user: Some(user.clone()),
                tags: vec!["demo".into()],
                groups: vec![group.into()],
                notes: Some("lumen's embedded SSH server".into()),
                ..Host::default()
            })?;
        }
        Ok(())
    })?;
    Ok(())
}

/// The demo's runbook and snippet, embedded in the binary.
pub const DEMO_RUNBOOK: &str = include_str!("demo_runbooks/demo-health.toml");
pub const DEMO_SNIPPETS: &str = include_str!("demo_runbooks/snippets.toml");

/// The demo workspace's `runbooks/demo-health.toml` and `snippets.toml`, for prefix R.
pub fn write_runbooks(paths: &Paths) -> anyhow::Result<()> {
    let ws = paths.workspace_dir("default");
    crate::paths::ensure_private_dir(&ws.join("runbooks"))?;
    crate::paths::atomic_write(
        &ws.join("runbooks/demo-health.toml"),
        DEMO_RUNBOOK.as_bytes(),
    )?;
    crate::paths::atomic_write(&ws.join("snippets.toml"), DEMO_SNIPPETS.as_bytes())?;
    Ok(())
}

/// The demo vault: real parameters (what `lumen vault init` writes), the public demo
/// passphrase, one password entry bound to the demo hosts. Its value is random, so nothing
/// on screen or in the model's requests can show it by chance.
fn write_vault(path: &std::path::Path) -> anyhow::Result<()> {
    use crate::vault::{KdfParams, Kind, NewEntry, Vault};
    use secrecy::SecretString;
    let pass = SecretString::from(DEMO_PASSPHRASE);
    let mut vault = Vault::create(path, &pass, KdfParams::DEFAULT)?;
    let value: [u8; 12] = crate::vault::format::random_bytes();
    let value: String = value.iter().map(|b| format!("{b:02x}")).collect();
    vault.add(
        DEMO_ENTRY,
        NewEntry {
            kind: Some(Kind::Password),
            username: Some("postgres".into()),
            hosts: Some(DEMO_HOSTS.iter().map(|h| h.to_string()).collect()),
            tags: Some(vec!["demo".into()]),
            notes: Some("a made-up database password: the demo has no database".into()),
            secret: Some(SecretString::from(value)),
            ..NewEntry::default()
        },
    )?;
    vault.save()?;
    Ok(())
}
