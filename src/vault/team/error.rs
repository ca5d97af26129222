//! What can go wrong with a team vault, in words that say which file, which line and what to do.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum TeamError {
    #[error("no team vault in {}; create one with 'lumen team init --name NAME'", dir.display())]
    NoTeam { dir: PathBuf },
    #[error("a team vault already exists in {}; 'lumen team members' lists its members", dir.display())]
    AlreadyExists { dir: PathBuf },
    /// A problem with one member line of `members.toml`.
    #[error("{}:{line}: {why}", path.display())]
    Member {
        path: PathBuf,
        line: usize,
        why: String,
    },
    #[error("{}: {why}", path.display())]
    Members { path: PathBuf, why: String },
    #[error("{}: {why}", path.display())]
    KeyFile { path: PathBuf, why: String },
    #[error("entry file {}: {why}", path.display())]
    Entry { path: PathBuf, why: String },
    #[error(
        "your key ({key}) is not a member of this team; a member adds you with 'lumen team add NAME --key FILE'"
    )]
    NotMember { key: String },
    #[error("no member named '{name}'; 'lumen team members' lists them")]
    NoSuchMember { name: String },
    #[error("{why}")]
    Identity { why: String },
    #[error("{why}")]
    Refused { why: String },
}
