//! Workspace files: the host inventory (`hosts.toml`), loaded with file:line errors and saved
//! atomically under a lock, and lumen's own state beside it (`state.toml`: last connections).

pub mod hosts;
pub mod import;
pub mod policy;
pub mod state;
pub mod store;
pub mod targets;

pub use hosts::{Host, HostOptions, Inventory, InventoryError, load_or_report};
pub use import::{ImportReport, import};
pub use policy::AiPolicy;
pub use state::{StateFile, WorkspaceState};
pub use store::{DEFAULT_WORKSPACE, Editor, HostsFile};
