//! A background scan of one host: its commands run over the app's [`Connector`] (the same
//! shared connection as the host's sessions), each step reported as [`Msg::ScanProgress`];
//! then matching, the comparison with the previous scan and saving run on a blocking thread,
//! and [`Msg::ScanFinished`] brings what the pane shows.

use crate::app::msg::{Bus, Msg};
use crate::scan::{ConnectorRunner, ScanSetup, Snapshot};
use crate::ssh::{Connector, Plan};
use std::sync::Arc;
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// Everything one scan needs.
pub struct ScanJob {
    /// The name the scan is kept under (the session's host name).
    pub host: String,
    /// How to reach it: the plan of the host's session, so the connection is shared.
    pub plan: Plan,
    pub connector: Connector,
    pub setup: Arc<ScanSetup>,
}

impl ScanJob {
    /// Scan, then send [`Msg::ScanFinished`]; progress goes to `bus` meanwhile.
    pub async fn run(self, bus: Bus) {
        let ScanJob {
            host,
            plan,
            connector,
            setup,
        } = self;
        let (progress, name) = (bus.clone(), host.clone());
        let runner = ConnectorRunner::new(connector, plan).on_step(move |step| {
            progress.send(Msg::ScanProgress {
                host: name.clone(),
                step,
            });
        });
        let opts = setup.options();
        let started = OffsetDateTime::now_utc()
            .format(&Rfc3339)
            .unwrap_or_default();
        let collected = crate::scan::collect(&runner, &opts).await;
        if let Some(why) = runner.connect_error() {
            bus.send(Msg::ScanFinished {
                host,
                result: Err(why),
            });
            return;
        }
        runner.report("matching packages, saving the scan");
        let name = host.clone();
        let finished: Result<Snapshot, String> =
            tokio::task::spawn_blocking(move || setup.finish(&name, started, collected, &opts))
                .await
                .map_err(|e| format!("the scan stopped before it was saved ({e})"));
        bus.send(Msg::ScanFinished {
            host,
            result: finished.map(Box::new),
        });
    }
}
