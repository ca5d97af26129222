//! Clap definitions of `lumen vault …`.

use crate::cli::connect::SshFlags;
use clap::{Args, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Args)]
pub struct VaultArgs {
    /// Which vault to act on; lists show both. Default: personal (for show/edit/rm/totp: the
    /// first vault holding the name).
    #[arg(long, value_enum, global = true)]
    pub scope: Option<ScopeArg>,
    /// Workspace whose vault is the `workspace` scope.
    #[arg(long, global = true, default_value = "default", value_name = "NAME")]
    pub workspace: String,
    /// Read the passphrase from the first line of a file (for scripts).
    #[arg(
        long,
        global = true,
        value_name = "FILE",
        conflicts_with = "passphrase_stdin"
    )]
    pub passphrase_file: Option<PathBuf>,
    /// Read the passphrase from the first line of stdin (`passwd`: the new one from the second).
    #[arg(long, global = true)]
    pub passphrase_stdin: bool,
    /// `--scope team`: your private key (default: the first of ~/.ssh/id_ed25519, id_rsa that
    /// is a member), or `vault:NAME` for the SSH key entry NAME of your personal vault; the
    /// passphrase options then give that key's (or your personal vault's) passphrase.
    #[arg(long, global = true, value_name = "FILE|vault:NAME")]
    pub identity: Option<PathBuf>,
    #[command(subcommand)]
    pub command: VaultCommand,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ScopeArg {
    Personal,
    Workspace,
    /// The workspace's team vault (`lumen team init`), opened with your own SSH or age key.
    Team,
}

#[derive(Debug, Subcommand)]
pub enum VaultCommand {
    /// Create an empty vault.
    Init(InitArgs),
    /// Add an entry. The secret comes from a file, stdin or a masked prompt, never argv.
    Add {
        /// Entry name: letters, digits, `.`, `_`, `-`, `/`.
        name: String,
        #[command(flatten)]
        fields: EntryFields,
    },
    /// List entries of both vaults (never secrets).
    List {
        #[arg(long)]
        json: bool,
    },
    /// Show one entry; the secret only with --reveal (audited).
    Show {
        /// Entry name: letters, digits, `.`, `_`, `-`, `/`.
        name: String,
        /// Print the secret. On a terminal its control characters (ESC, BEL, …) are shown as
        /// escapes, so a stored value cannot reprogram the terminal; piped, or with --json,
        /// the exact value is printed.
        #[arg(long)]
        reveal: bool,
        #[arg(long)]
        json: bool,
    },
    /// Change an entry's fields or secret.
    Edit {
        /// Entry name: letters, digits, `.`, `_`, `-`, `/`.
        name: String,
        #[command(flatten)]
        fields: EntryFields,
        /// Remove every host binding.
        #[arg(long)]
        clear_hosts: bool,
    },
    /// Delete an entry.
    Rm {
        /// Entry name.
        name: String,
    },
    /// Change the passphrase (fresh salt and nonces).
    Passwd {
        /// Read the new passphrase from the first line of a file.
        #[arg(long, value_name = "FILE")]
        new_passphrase_file: Option<PathBuf>,
    },
    /// Print the current TOTP code and the seconds it stays valid.
    Totp {
        /// Entry name.
        name: String,
    },
    /// Show the audit log; check it with --verify (asks for the passphrase: the log is sealed
    /// with a key from the vault); accept a vault and log that disagree with --accept.
    Audit {
        #[arg(long, conflicts_with = "accept")]
        json: bool,
        /// Check every event's seal and link, and that the log and the vault are in step (not
        /// cut, emptied, deleted, replaced, and the vault not an older copy).
        #[arg(long, conflicts_with = "accept")]
        verify: bool,
        /// Accept the vault and its audit log as they are now, after --verify reported a
        /// problem you have looked into (a restored backup, a lost log), or to upgrade a vault
        /// of format 1. Recorded in the log; a damaged log is kept under another name.
        #[arg(long)]
        accept: bool,
    },
    /// Forget cached unlocks (there is no agent yet, so nothing is cached).
    Lock,
    /// Credential Test: log in with a password or ssh-key entry to a host it is bound to
    /// (without HOST: every host it is bound to), run nothing, close, and say whether it
    /// works. Only that credential is offered (no agent, no key files); the secret is never
    /// shown. Audited.
    Test {
        /// Entry name.
        name: String,
        /// An inventory host, ssh_config alias or @GROUP the entry is bound to.
        #[arg(value_name = "HOST")]
        host: Option<String>,
        #[command(flatten)]
        ssh: SshFlags,
    },
    /// Make an SSH key pair inside the vault (the private half never touches the disk in
    /// clear) and print its public key.
    Keygen {
        /// Name of the new ssh-key entry.
        name: String,
        #[arg(long = "type", value_enum, default_value = "ed25519")]
        key_type: KeyTypeArg,
        /// Host or @group the key may be used with (repeatable; `*` for any).
        #[arg(long = "host", value_name = "H")]
        hosts: Vec<String>,
        /// Login name used with the key.
        #[arg(long)]
        username: Option<String>,
        /// Notes (stored encrypted).
        #[arg(long)]
        notes: Option<String>,
    },
    /// Replace an ssh-key entry's key pair on hosts, host by host: install a new key, check a
    /// login with it, remove the old key's line, report each. The old key is kept in the vault
    /// as NAME.old-DATE until every host is done (deleted then, kept if any host failed).
    RotateKey {
        /// The ssh-key entry.
        name: String,
        /// Inventory hosts, ssh_config aliases, or @GROUPs.
        #[arg(value_name = "HOST|@GROUP", required = true)]
        targets: Vec<String>,
        #[command(flatten)]
        ssh: SshFlags,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum KeyTypeArg {
    Ed25519,
    /// RSA, 3072 bits.
    Rsa,
}

#[derive(Debug, Args)]
pub struct InitArgs {
    /// Raise the Argon2id time cost until one unlock takes about a second.
    #[arg(long)]
    pub kdf_calibrate: bool,
    /// Argon2id memory in KiB (tests use small values; default 65536).
    #[arg(long, hide = true)]
    pub kdf_memory: Option<u32>,
    #[arg(long, hide = true)]
    pub kdf_time: Option<u32>,
    #[arg(long, hide = true)]
    pub kdf_lanes: Option<u32>,
}

#[derive(Debug, Args)]
pub struct EntryFields {
    /// password (default), ssh-key, totp, api-key or note.
    #[arg(long, value_name = "KIND")]
    pub kind: Option<String>,
    /// Login name used with the secret.
    #[arg(long)]
    pub username: Option<String>,
    /// Host or @group the entry may be used with (repeatable; `*` for any).
    #[arg(long = "host", value_name = "H")]
    pub hosts: Vec<String>,
    /// Free label for filtering (repeatable).
    #[arg(long = "tag", value_name = "T")]
    pub tags: Vec<String>,
    /// Notes (stored encrypted, shown by list --json and show; not a secret).
    #[arg(long)]
    pub notes: Option<String>,
    /// API provider name (api-key entries).
    #[arg(long)]
    pub provider: Option<String>,
    /// Read the secret from a file.
    #[arg(long, value_name = "F", group = "source")]
    pub secret_file: Option<PathBuf>,
    /// Read the secret from stdin.
    #[arg(long, group = "source")]
    pub secret_stdin: bool,
    /// Read an OpenSSH or PEM private key from a file (ssh-key entries).
    #[arg(long, value_name = "F", group = "source")]
    pub key_file: Option<PathBuf>,
    /// Passphrase of an encrypted private key, from the first line of a file.
    #[arg(long, value_name = "F")]
    pub key_passphrase_file: Option<PathBuf>,
}
