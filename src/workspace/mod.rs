//! Workspace files: the host inventory (`hosts.toml`), loaded with file:line errors and saved
//! atomically under a lock.

pub mod hosts;
pub mod import;
pub mod policy;
pub mod store;

pub use hosts::{Host, HostOptions, Inventory, InventoryError, load_or_report};
pub use import::{ImportReport, import};
pub use policy::AiPolicy;
pub use store::{DEFAULT_WORKSPACE, Editor, HostsFile};
