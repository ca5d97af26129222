//! Runbooks and snippets: the TOML files (`format`), the catalog of a workspace and the
//! personal config dir (`catalog`), parameters filled shell-quoted (`fill`), the plan
//! (`plan`), fan-out over the Connector (`exec`), gathered results and the run history.

pub mod catalog;
pub mod fill;
pub mod format;

pub use catalog::{Catalog, CatalogError};
pub use fill::{FillError, Filled, ParamError, check_params, fill};
pub use format::{OnFailure, Param, Runbook, Snippet, Step};
