//! What can go wrong in a scan's local side (reading OSV data, the history database, the
//! ignore file), with messages that say what to do. Failures on the host are not errors: they
//! become "unknown" in the scan's `errors`.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum ScanError {
    #[error("cannot read {}: {source}", path.display())]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "{} is not a readable zip file ({why}); download the ecosystem's all.zip again",
        path.display()
    )]
    Zip { path: PathBuf, why: String },
    #[error(
        "{} is neither a directory of OSV JSON files nor a zip file; give an ecosystem's all.zip or a directory",
        path.display()
    )]
    NotOsv { path: PathBuf },
    #[error("the scan database {} failed: {why}; remove it to start afresh (the scan history is lost)", path.display())]
    Database { path: PathBuf, why: String },
    #[error(
        "no OSV data imported; run `lumen scan db import PATH` with an ecosystem's all.zip, or use --osv-db PATH or --online"
    )]
    NoOsvData,
    #[error("{}:{line}: {message}", path.display())]
    Ignore {
        path: PathBuf,
        line: usize,
        message: String,
    },
    #[error(
        "the OSV API at {url} failed: {why}; check the network or scan offline with an imported database"
    )]
    Online { url: String, why: String },
}

impl ScanError {
    pub(crate) fn db(path: &std::path::Path, e: impl std::fmt::Display) -> Self {
        ScanError::Database {
            path: path.to_path_buf(),
            why: e.to_string(),
        }
    }
}
