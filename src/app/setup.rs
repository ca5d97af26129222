//! Building the world a session runs in, with no terminal: settings, the vault, the
//! inventory, the SSH connector, the copilot and the first tabs. In-process and in the server
//! alike; the frontend that shows it comes after.

use crate::app::config::Config;
use crate::app::msg::{Bus, Msg};
use crate::app::spawner::LiveSpawner;
use crate::app::state::{App, AppOptions, PaneSpec};
use crate::paths::Paths;
use crate::pty::{self, Children, PtyCommand};
use crate::ssh::{self, ConnectOptions};
use crate::stream::Waker;
use crate::ui::theme::Theme;
use crate::vault::VaultOwner;
use std::collections::HashMap;
use std::process::ExitCode;

/// What `lumen shell`, `lumen connect` and `lumen demo` start with.
pub struct RunOptions {
    /// Where local shells start (the directory `lumen` was run in); None: this process's.
    pub cwd: Option<std::path::PathBuf>,
    pub paths: Paths,
    pub theme: Option<String>,
    /// One tab each.
    pub initial: Vec<PaneSpec>,
    /// How SSH panes connect and authenticate.
    pub connect: ConnectOptions,
    /// Hosts offered when a new tab asks for one.
    pub host_names: Vec<String>,
    /// A note shown over the first screen (title, lines), e.g. the demo's key hints.
    pub welcome: Option<(String, Vec<String>)>,
    /// Open the host picker as a tab after the initial ones (alone: the home tab).
    pub hosts_tab: bool,
    /// Resolve host names with ssh_config and the inventory (off for the demo, which must
    /// not depend on the user's ~/.ssh/config).
    pub use_ssh_config: bool,
    /// How to read ssh_config (`lumen connect -F`, `-o`); None: ssh's default files.
    pub resolve: Option<crate::ssh::config::ResolveOptions>,
    /// The copilot's model, instead of config.toml's `[ai]` (the demo's scripted model).
    pub ai: Option<crate::ai::config::AiConfig>,
    /// The copilot talks to the scripted demo model (labelled so everywhere).
    pub ai_demo: bool,
    /// A line for the vault's unlock dialog (the demo's passphrase).
    pub vault_hint: Option<String>,
    /// Exit 255, as ssh does, when no SSH session connected and one failed (`lumen connect`
    /// to one host).
    pub exit_255_if_unconnected: bool,
}

impl RunOptions {
    /// Options for the real user's environment.
    pub fn new(paths: Paths, theme: Option<String>, initial: Vec<PaneSpec>) -> Self {
        let connect = ConnectOptions::from_env(&paths);
        Self {
            cwd: None,
            paths,
            theme,
            initial,
            connect,
            host_names: Vec::new(),
            welcome: None,
            hosts_tab: false,
            use_ssh_config: true,
            resolve: None,
            ai: None,
            ai_demo: false,
            vault_hint: None,
            exit_255_if_unconnected: false,
        }
    }
}

/// Log to a file under the data dir, never to the screen.
pub fn init_logging(paths: &Paths) {
    let dir = paths.logs_dir();
    if crate::paths::ensure_private_dir(&dir).is_err() {
        return;
    }
    use std::os::unix::fs::OpenOptionsExt;
    let Ok(file) = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
        .open(dir.join("lumen.log"))
    else {
        return;
    };
    let filter = tracing_subscriber::EnvFilter::try_from_env("LUMEN_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::sync::Mutex::new(file))
        .try_init();
}

/// Load config and theme; problems become messages, never a refusal to start.
pub fn load_settings(paths: &Paths, theme_flag: Option<&str>) -> (Config, Theme, Vec<String>) {
    let mut problems = Vec::new();
    let config = Config::load(&paths.config_file()).unwrap_or_else(|e| {
        problems.push(format!("{e} (using defaults)"));
        Config::default()
    });
    let name = theme_flag.unwrap_or(&config.theme).to_string();
    let theme = Theme::load(&name, &paths.themes_dir()).unwrap_or_else(|e| {
        problems.push(format!("{e} (using the default theme)"));
        Theme::builtin()
    });
    (config, theme, problems)
}

/// ssh's exit status when it could not connect.
pub const SSH_FAILED: u8 = 255;

/// Inventory host name → its groups, for vault entries bound to `@group`.
fn host_groups(inventory: &crate::workspace::Inventory) -> HashMap<String, Vec<String>> {
    inventory
        .hosts
        .iter()
        .map(|h| (h.name.clone(), h.groups.clone()))
        .collect()
}

/// A session's world: the app, its bus and what it needs at the end.
pub struct World {
    pub app: App,
    pub bus: Bus,
    pub inbox: tokio::sync::mpsc::UnboundedReceiver<Msg>,
    pub waker: Waker,
    /// The programs its local shells started, hung up when the session ends.
    pub children: Children,
    /// Whether config.toml asks for the mouse.
    pub mouse: bool,
    exit_255_if_unconnected: bool,
}

impl World {
    /// The exit status the session ends with: ssh's 255 when `lumen connect` to one host
    /// never connected, else success.
    pub fn exit_code(&self) -> ExitCode {
        if self.exit_255_if_unconnected && self.app.no_ssh_connection_made() {
            ExitCode::from(SSH_FAILED)
        } else {
            ExitCode::SUCCESS
        }
    }
}

/// Build a session's world at `size` with its first tabs. Runs inside the tokio runtime.
/// Problems with the settings become a notice over the first screen, never a refusal.
pub fn build(opts: RunOptions, size: (u16, u16)) -> World {
    let (config, theme, mut problems) = load_settings(&opts.paths, opts.theme.as_deref());
    let (shell, shell_note) = pty::user_shell();
    let mut shell = PtyCommand::new(shell);
    shell.cwd = opts.cwd.clone();
    let children = shell.children.clone();
    let mouse = config.mouse;
    let waker = Waker::new();
    let workspace = config.workspace.clone();
    let (bus, inbox) = Bus::channel();
    // ssh's view of the local side: the home whose ~/.ssh holds your keys, and (when the
    // session reads ssh_config) how host names resolve.
    let resolve = opts
        .resolve
        .unwrap_or_else(crate::ssh::config::ResolveOptions::from_env);
    let vault = VaultOwner::new(vec![
        (crate::vault::Scope::Personal, opts.paths.personal_vault()),
        (
            crate::vault::Scope::Workspace,
            opts.paths.workspace_dir(&workspace).join("vault.lumen"),
        ),
        (
            crate::vault::Scope::Team,
            opts.paths.workspace_dir(&workspace).join("team/key.age"),
        ),
    ])
    .with_unlock_requests(bus.unlock_requests())
    .with_ssh_home(resolve.home_dir.clone());
    let inventory_file = crate::workspace::HostsFile::for_workspace(&opts.paths, &workspace);
    let (inventory, inventory_error) = match &inventory_file {
        Ok(file) => {
            let (inv, err) = crate::workspace::load_or_report(file.path());
            (inv, err.map(|e| e.to_string()))
        }
        Err(e) => (Default::default(), Some(e.to_string())),
    };
    let state_file = crate::workspace::StateFile::for_workspace(&opts.paths, &workspace).ok();
    let (workspace_state, state_error) = state_file
        .as_ref()
        .map(|f| f.load_or_report())
        .unwrap_or_default();
    problems.extend(state_error.map(|e| e.to_string()));
    let mut connect = opts.connect;
    connect.credentials = Some(std::sync::Arc::new(
        ssh::VaultCredentials::new(vault.clone()).with_groups(host_groups(&inventory)),
    ));
    let mut host_names = opts.host_names;
    let mut planner: Option<crate::app::state::Planner> = None;
    if opts.use_ssh_config {
        // The new-tab dialog completes ssh_config's Host aliases too.
        let config_file = resolve
            .config_file
            .clone()
            .unwrap_or_else(|| resolve.home_dir.join(".ssh/config"));
        if let Ok(scan) = crate::ssh::config::concrete_hosts(&config_file, &resolve.home_dir) {
            for (alias, _) in scan.aliases {
                if !host_names.contains(&alias) {
                    host_names.push(alias);
                }
            }
        }
        let base = connect.clone();
        planner = Some(Box::new(move |name, inventory| {
            ssh::plan_destination(name, inventory, &resolve, &base).map_err(|e| e.to_string())
        }));
    }
    let connector = ssh::Connector::new(connect, bus.prompter());
    let workspace_dir = opts.paths.workspace_dir(&workspace);
    let (ai_config, ai_unavailable) = match opts.ai {
        Some(c) => (Some(c), None),
        None => match &config.ai {
            Ok(c) => (c.clone(), None),
            Err(e) => {
                problems.push(format!("{e} (the copilot is off)"));
                (None, Some(e.to_string()))
            }
        },
    };
    let ai = ai_config.map(|config| crate::app::copilot::AiSetup {
        config,
        demo: opts.ai_demo,
        workspace_dir: Some(workspace_dir.clone()),
    });
    // Read once here for the copilot's context; prefix R reads the files again.
    let runbook_index = crate::runbook::Catalog::load(&opts.paths, &workspace)
        .map(|c| crate::app::runbooks::index(&c))
        .unwrap_or_default();
    let mut app = App::new(AppOptions {
        runbook_index,
        config,
        theme,
        size,
        spawner: Box::new(LiveSpawner::new(shell, connector.clone())),
        connector: Some(connector),
        ai,
        ai_unavailable,
        waker: waker.clone(),
        vault,
        vault_hint: opts.vault_hint,
        inventory,
        hosts_file: inventory_file.ok(),
        workspace_state,
        state_file,
        inventory_error,
        host_names,
        planner,
        runbooks: Some(crate::app::runbooks::RunbookDirs {
            paths: opts.paths.clone(),
            workspace: workspace.clone(),
        }),
        scans: Some(crate::scan::ScanSetup::for_workspace(
            &opts.paths,
            &workspace,
        )),
        recordings_root: Some(opts.paths.recordings_dir()),
    });
    for spec in opts.initial {
        app.new_tab(spec);
    }
    if opts.hosts_tab {
        app.open_hosts();
    }
    app.run_action(crate::app::keymap::Action::GoToTab0);
    problems.extend(shell_note);
    if !problems.is_empty() {
        app.notice("Problems at start", problems);
    } else if let Some((title, lines)) = opts.welcome {
        app.show_text(&title, lines);
    }
    World {
        app,
        bus,
        inbox,
        waker,
        children,
        mouse,
        exit_255_if_unconnected: opts.exit_255_if_unconnected,
    }
}
