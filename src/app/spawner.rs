//! The real [`Spawner`]: local shells on PTYs and SSH sessions through the connector.

use crate::app::state::{PaneSpec, Spawner};
use crate::pty::{self, PtyCommand};
use crate::ssh::{self, ConnectOptions, Prompter};
use crate::stream::{Stream, Waker};

/// Starts local shells on PTYs and SSH sessions with russh; sessions through the same jump
/// host share one connection to it.
pub struct LiveSpawner {
    shell: PtyCommand,
    connect: ConnectOptions,
    prompter: Prompter,
    pool: ssh::JumpPool,
}

impl LiveSpawner {
    pub fn new(shell: PtyCommand, connect: ConnectOptions, prompter: Prompter) -> Self {
        Self {
            shell,
            connect,
            prompter,
            pool: ssh::JumpPool::new(),
        }
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
            PaneSpec::Vault | PaneSpec::Hosts => Err("that pane is not a stream".into()),
            PaneSpec::Ssh { name, target, plan } => {
                let size = (cols, rows);
                let prompter = self.prompter.clone();
                let stream = match plan {
                    Some(plan) => {
                        ssh::spawn_planned_session(plan, &self.pool, prompter, size, waker)
                    }
                    None => ssh::spawn_session(target, &self.connect, prompter, size, waker),
                };
                Ok((stream, name.clone()))
            }
        }
    }
}

