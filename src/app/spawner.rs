//! The real [`Spawner`]: local shells on PTYs, SSH sessions through the [`Connector`] (one
//! shared connection per destination, as OpenSSH's ControlMaster).

use crate::app::state::{PaneSpec, Spawner};
use crate::pty::{self, PtyCommand};
use crate::ssh::Connector;
use crate::stream::{Stream, Waker};

/// Starts local shells on PTYs and SSH sessions over shared connections.
pub struct LiveSpawner {
    shell: PtyCommand,
    connector: Connector,
}

impl LiveSpawner {
    pub fn new(shell: PtyCommand, connector: Connector) -> Self {
        Self { shell, connector }
    }
}

impl Spawner for LiveSpawner {
    fn spawn(
        &mut self,
        spec: &PaneSpec,
        cols: u16,
        rows: u16,
        waker: &Waker,
    ) -> Result<(Stream, String), String> {
        match spec {
            PaneSpec::LocalShell => {
                let title = self
                    .shell
                    .program
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "shell".into());
                pty::spawn(&self.shell, cols, rows, waker)
                    .map(|s| (s, title))
                    .map_err(|e| e.to_string())
            }
            PaneSpec::Vault
            | PaneSpec::Hosts
            | PaneSpec::Copilot
            | PaneSpec::Scan
            | PaneSpec::Run
            | PaneSpec::Logs
            | PaneSpec::Replay => Err("that pane is not a stream".into()),
            PaneSpec::Ssh { name, target, plan } => {
                let plan = match plan {
                    Some(plan) => plan.as_ref().clone(),
                    None => self.connector.direct(name, target),
                };
                let stream = self.connector.session(&plan, (cols, rows), waker);
                Ok((stream, name.clone()))
            }
        }
    }
}
