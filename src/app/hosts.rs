//! The host picker in the app: the home tab, opening hosts (one tab, or several tiled in one
//! tab), saving edits to `hosts.toml`, and connection states shown per host.

use crate::app::layout::{PaneId, Split};
use crate::app::msg::{Effect, Task};
use crate::app::state::{App, PaneSlot, PaneSpec};
use crate::panes::Pane;
use crate::panes::hosts::{HostPicker, HostState, PickerOutcome};
use crate::ssh::Target;
use crate::workspace::{Host, Inventory};

impl App {
    /// The inventory changed (an edit was saved): the picker shows it and new tabs complete it.
    fn apply_inventory(&mut self, inventory: Inventory, error: Option<String>) {
        for h in &inventory.hosts {
            if !self.host_names.contains(&h.name) {
                self.host_names.push(h.name.clone());
            }
        }
        if let Some(picker) = self.picker_mut() {
            picker.set_inventory(inventory.clone());
            picker.set_error(error.clone());
        }
        self.inventory = inventory;
        self.inventory_error = error;
    }

    fn picker_id(&self) -> Option<PaneId> {
        self.panes
            .iter()
            .find_map(|(id, s)| matches!(s.pane, Pane::Hosts(_)).then_some(*id))
    }

    fn picker_mut(&mut self) -> Option<&mut HostPicker> {
        self.panes.values_mut().find_map(|s| match &mut s.pane {
            Pane::Hosts(p) => Some(p.as_mut()),
            _ => None,
        })
    }

    /// Focus the host picker, opening it as a tab if it is not open.
    pub fn open_hosts(&mut self) {
        if let Some(id) = self.picker_id() {
            if let Some(ti) = self.tabs.iter().position(|t| t.layout.contains(id)) {
                self.tabs[ti].focused = id;
                self.switch_to(ti);
            }
            return;
        }
        let mut picker = HostPicker::new(self.inventory.clone(), self.inventory_error.clone());
        for (host, state) in &self.host_states {
            picker.set_state(host, state.clone());
        }
        for (host, at) in &self.last_connected {
            picker.set_last_connected(host, at);
        }
        let id = self.alloc_pane();
        let body = self.body();
        self.push_tab(
            id,
            PaneSlot {
                pane: Pane::Hosts(Box::new(picker)),
                spec: PaneSpec::Hosts,
                default_title: "hosts".into(),
                rect: body,
                inner: body,
                connected: false,
            },
        );
    }

    /// What the picker asked for after a key.
    pub(crate) fn picker_outcome(&mut self, outcome: PickerOutcome) {
        match outcome {
            PickerOutcome::None => {}
            PickerOutcome::Open(names) => self.open_hosts_by_name(&names),
            PickerOutcome::Edit(host) => self.save_host(host),
            PickerOutcome::Scan(name) => self.open_scan_view(Some(name)),
        }
    }

    /// The SSH pane spec for an inventory host (or a `[user@]host[:port]` typed by the user).
    pub fn host_spec(&self, name: &str) -> Result<PaneSpec, String> {
        if let Some(planner) = &self.planner {
            let plan = planner(name, &self.inventory)?;
            for w in &plan.warnings {
                tracing::warn!("{name}: {w}");
            }
            return Ok(PaneSpec::Ssh {
                name: name.to_string(),
                target: plan.target.target.clone(),
                plan: Some(std::sync::Arc::new(plan)),
            });
        }
        let target = match self.inventory.get(name) {
            Some(h) => Target::new(
                h.user
                    .clone()
                    .unwrap_or_else(crate::ssh::target::local_user),
                h.hostname.clone().unwrap_or_else(|| h.name.clone()),
                h.port.unwrap_or(crate::ssh::target::DEFAULT_PORT),
            ),
            None => Target::parse(name, None, None).map_err(|e| e.to_string())?,
        };
        Ok(PaneSpec::Ssh {
            name: name.to_string(),
            target,
            plan: None,
        })
    }

    /// One host: a tab. Several: one tab, tiled.
    fn open_hosts_by_name(&mut self, names: &[String]) {
        let mut specs = Vec::new();
        for name in names {
            match self.host_spec(name) {
                Ok(spec) => specs.push(spec),
                Err(e) => return self.error(e),
            }
        }
        let mut specs = specs.into_iter();
        let Some(first) = specs.next() else {
            return;
        };
        self.note_state(&first, HostState::Connecting);
        self.new_tab(first);
        for (i, spec) in specs.enumerate() {
            self.note_state(&spec, HostState::Connecting);
            // Alternate the direction so the panes tile instead of thinning out.
            let split = if i % 2 == 0 {
                Split::Right
            } else {
                Split::Down
            };
            self.split_with(spec, split);
        }
    }

    /// Save an edited host off the UI task; [`App::host_saved`] gets the outcome.
    fn save_host(&mut self, host: Host) {
        let Some(file) = self.hosts_file.clone() else {
            self.error("this workspace has no hosts.toml to save to");
            return;
        };
        self.effects.push(Effect::Spawn(Box::new(Task::SaveHost {
            file,
            host: Box::new(host),
        })));
    }

    /// An edit reached hosts.toml (or failed to).
    pub(crate) fn host_saved(&mut self, name: String, result: Result<Inventory, String>) {
        match result {
            Ok(inventory) => {
                self.apply_inventory(inventory, None);
                self.say(format!("saved {name} to {}", self.hosts_file_display()));
            }
            Err(msg) => {
                if let Some(p) = self.picker_mut() {
                    p.set_error(Some(msg.clone()));
                }
                self.error(msg);
            }
        }
    }

    fn hosts_file_display(&self) -> String {
        self.hosts_file
            .as_ref()
            .map(|f| f.path().display().to_string())
            .unwrap_or_default()
    }

    /// Show a session's state on its host's row: a host stays connected while any of its
    /// sessions is.
    pub(crate) fn note_state(&mut self, spec: &PaneSpec, state: HostState) {
        let PaneSpec::Ssh { name, .. } = spec else {
            return;
        };
        let ended = matches!(state, HostState::Ended(_) | HostState::Failed(_));
        let state = if ended && self.live_session(name) {
            HostState::Connected
        } else {
            state
        };
        self.host_states.insert(name.clone(), state.clone());
        if let Some(p) = self.picker_mut() {
            p.set_state(name, state);
            self.dirty = true;
        }
    }

    /// Whether a session to `host` is open and has connected.
    fn live_session(&self, host: &str) -> bool {
        self.panes.values().any(|s| {
            matches!(&s.spec, PaneSpec::Ssh { name, .. } if name == host)
                && s.connected
                && s.pane.as_terminal().is_some_and(|t| t.closed().is_none())
        })
    }

    /// A session to an inventory host connected: remember when, in the workspace's
    /// state.toml (off the UI task), and show it.
    pub(crate) fn record_connected(&mut self, spec: &PaneSpec) {
        let PaneSpec::Ssh { name, .. } = spec else {
            return;
        };
        if self.inventory.get(name).is_none() {
            return;
        }
        let at = crate::workspace::state::now_rfc3339();
        self.last_connected.insert(name.clone(), at.clone());
        if let Some(p) = self.picker_mut() {
            p.set_last_connected(name, &at);
        }
        if let Some(file) = self.state_file.clone() {
            self.effects
                .push(Effect::Spawn(Box::new(Task::RecordConnected {
                    file,
                    host: name.clone(),
                    at,
                })));
        }
    }

    /// state.toml was written, or not (the time is still shown this run).
    pub(crate) fn connected_recorded(&mut self, host: &str, result: Result<(), String>) {
        if let Err(e) = result {
            self.error(format!("cannot remember when {host} was connected: {e}"));
        }
    }
}
