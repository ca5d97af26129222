//! Agentless scans: collectors over a command [`runner::Runner`] (an SSH connection), version
//! order per distro, OSV matching offline, hardening checks, and the scan history.
//!
//! The flow: [`engine::collect`] runs read-only commands on the host and parses them into
//! [`collect::Collected`]; [`engine::assess`] matches its packages against OSV advisories (an
//! [`osv::AdvisoryLookup`]: the imported database, a directory or zip, or the online API) and
//! turns the rest into findings: a [`report::HostScan`]. [`history::Store`] keeps every scan and
//! says what is new or resolved since the previous one; [`setup::ScanSetup`] is the TUI's way
//! in (its scans run over the app's shared connection, [`connector::ConnectorRunner`]). Nothing
//! here prints or draws.

pub mod collect;
pub mod connector;
pub mod demo;
pub mod engine;
pub mod error;
pub mod export;
pub mod history;
pub mod ignore;
pub mod kernel;
pub mod matcher;
pub mod os;
pub mod osv;
pub mod report;
pub mod runner;
pub mod setup;
pub mod severity;
mod sqlite;
pub mod version;

pub use connector::{ConnectorRunner, Step};
pub use engine::{ScanOptions, assess, collect, scan_host};
pub use error::ScanError;
pub use history::{Diff, FindingKey, FleetRow, Store};
pub use ignore::IgnoreList;
pub use osv::{Advisory, AdvisoryLookup, MemoryIndex, OsvDb};
pub use report::{ConfigFinding, Finding, HostScan, JsonReport, OsSummary};
pub use runner::{LocalRunner, RunError, RunOptions, RunOutput, Runner, SshRunner};
pub use setup::{HostRecord, OsvSource, OsvStatus, ScanSetup, Snapshot};
pub use severity::Severity;
pub use version::Scheme;

/// The workspace file holding OSV data and the scan history.
pub const DB_FILE: &str = "scans.sqlite";
/// The workspace file of accepted findings.
pub const IGNORE_FILE: &str = "scan-ignore.toml";
