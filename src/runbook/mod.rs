//! Runbooks and snippets: the TOML files (`format`), the catalog of a workspace and the
//! personal config dir (`catalog`), parameters filled shell-quoted (`fill`), the plan
//! (`plan`), fan-out over the Connector (`exec`), gathered results (`gather`) and the run
//! history (`history`).

pub mod catalog;
pub mod exec;
pub mod fill;
pub mod format;
pub mod gather;
pub mod history;
pub mod plan;

pub use catalog::{Catalog, CatalogError};
pub use exec::{RunEvent, RunReport, RunVault};
pub use fill::{FillError, Filled, ParamError, check_params, fill};
pub use format::{OnFailure, Param, Runbook, Snippet, Step};
pub use plan::Plan;
