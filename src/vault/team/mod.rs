//! The team vault: a workspace's shared secrets in git, encrypted to each member's own key.
//! `team/members.toml` (signed members), `team/key.age` (the team key wrapped with age to every
//! member), `team/entries/NAME.lv` (one file per entry), `team/audit/MEMBER.jsonl` (each
//! member appends only to their own log, so logs never conflict in git). Unlocked, a team
//! vault is a [`Vault`] like the others: the entry API, bindings and audit are shared; only
//! saving writes entry files instead of one sealed file.

mod entries;
mod error;
mod identity;
mod keyfile;
mod members;
pub mod merge;

pub use error::TeamError;
pub use identity::{MyKey, find as find_identity, public_of};
pub use members::{Member, Members, NAMESPACE, check_member_name, normalize_key};

use super::audit::{self, Action, AuditLog};
use super::error::{Result, VaultError};
use super::format::{self, Key};
use super::logfile::{LogFile, NewEvent};
use super::store::{self, WriteLock};
use super::{KdfParams, Notice, Payload, Vault};
use keyfile::TeamKeys;
use sha2::{Digest, Sha256};
use std::path::{Path, PathBuf};

/// The `team/` folder of a workspace.
#[derive(Debug, Clone)]
pub struct TeamDir {
    root: PathBuf,
}

impl TeamDir {
    /// The team folder of the workspace folder `workspace`.
    pub fn in_workspace(workspace: &Path) -> TeamDir {
        TeamDir {
            root: workspace.join("team"),
        }
    }

    pub fn root(&self) -> &Path {
        &self.root
    }
    pub fn members_path(&self) -> PathBuf {
        self.root.join("members.toml")
    }
    pub fn key_path(&self) -> PathBuf {
        self.root.join("key.age")
    }
    pub fn entries_dir(&self) -> PathBuf {
        self.root.join("entries")
    }
    pub fn audit_dir(&self) -> PathBuf {
        self.root.join("audit")
    }
    pub fn audit_path(&self, member: &str) -> PathBuf {
        self.audit_dir().join(format!("{member}.jsonl"))
    }
    pub fn exists(&self) -> bool {
        self.key_path().exists()
    }

    /// Every member's audit log (for `lumen vault audit --scope team`).
    pub fn audit_logs(&self) -> Vec<AuditLog> {
        let mut logs: Vec<PathBuf> = std::fs::read_dir(self.audit_dir())
            .map(|rd| {
                rd.flatten()
                    .map(|e| e.path())
                    .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
                    .collect()
            })
            .unwrap_or_default();
        logs.sort();
        logs.into_iter().map(AuditLog::at).collect()
    }

    fn lock(&self) -> Result<WriteLock> {
        WriteLock::acquire(&self.key_path())
    }

    /// The member keys the team must be written for, checked: the public half of a key file.
    pub fn load_members(&self) -> Result<Members> {
        let path = self.members_path();
        if !path.exists() {
            return Err(TeamError::NoTeam {
                dir: self.root.clone(),
            }
            .into());
        }
        let m = Members::load(&path)?;
        m.verify(&path)?;
        Ok(m)
    }
}

/// What a team vault carries beyond a [`Vault`]'s own fields.
pub(crate) struct TeamState {
    dir: TeamDir,
    me: String,
    members: Members,
    keys: TeamKeys,
    /// Digests of key.age and members.toml as opened: a write refuses if either changed.
    on_disk: [u8; 32],
}

impl std::fmt::Debug for TeamState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TeamState")
            .field("dir", &self.dir)
            .field("me", &self.me)
            .field("epoch", &self.keys.epoch)
            .finish_non_exhaustive()
    }
}

fn digest(dir: &TeamDir) -> [u8; 32] {
    let mut h = Sha256::new();
    for p in [dir.key_path(), dir.members_path()] {
        let bytes = std::fs::read(p).unwrap_or_default();
        h.update((bytes.len() as u64).to_le_bytes());
        h.update(&bytes);
    }
    h.finalize().into()
}

fn now_rfc3339() -> String {
    time::OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

fn refused(why: impl Into<String>) -> VaultError {
    TeamError::Refused { why: why.into() }.into()
}

/// Files a team folder keeps out of git, and how git merges the rest.
const GITIGNORE: &str = "# written by lumen: lock files and interrupted writes\n*.lock\n.*.tmp\n";
const GITATTRIBUTES: &str = "# written by lumen: entries are merged by decrypting both sides; key.age is regenerated\n\
entries/** -diff -text merge=lumen-team\n\
key.age -diff -text merge=lumen-team\n";

/// Create a team in `dir` with `me` (named `name`) as its first, self-signed member.
pub fn init(dir: &TeamDir, name: &str, me: &MyKey) -> Result<()> {
    check_member_name(name).map_err(refused)?;
    let signer = me.signer()?;
    std::fs::create_dir_all(dir.root())
        .map_err(|e| VaultError::io(format!("creating {}", dir.root().display()), e))?;
    let _lock = dir.lock()?;
    if dir.exists() || dir.members_path().exists() {
        return Err(TeamError::AlreadyExists {
            dir: dir.root.clone(),
        }
        .into());
    }
    let mut first = Member {
        name: name.to_string(),
        key: me.public.clone(),
        added_by: name.to_string(),
        added_at: now_rfc3339(),
        signature: String::new(),
    };
    first.sign(signer)?;
    let members = Members::new(vec![first]);
    members.verify(&dir.members_path())?;
    for (file, text) in [(".gitignore", GITIGNORE), (".gitattributes", GITATTRIBUTES)] {
        crate::paths::atomic_write_mode(&dir.root.join(file), text.as_bytes(), 0o644)
            .map_err(|e| VaultError::io(format!("writing {file}"), e))?;
    }
    std::fs::create_dir_all(dir.entries_dir())
        .map_err(|e| VaultError::io("creating entries/", e))?;
    members.save(&dir.members_path())?;
    let mut keys = TeamKeys::new();
    keys.write(&dir.key_path(), &members.list)?;
    let log = LogFile::open_for_append(&dir.audit_path(name))?;
    let mut ev = NewEvent::new(Action::Init, None, None);
    ev.member = Some(name.to_string());
    let audit_key = audit::derive_key(&keys.audit_key);
    append(log, &audit_key, vec![ev])
}

fn append(mut log: LogFile, key: &audit::AuditKey, events: Vec<NewEvent>) -> Result<()> {
    if events.is_empty() {
        return Ok(());
    }
    let prepared = log.prepare(key, &events)?;
    log.write(&prepared)
}

/// Open the team in `dir` with your key: members verified, key.age unwrapped, every entry
/// decrypted. Problems that leave the vault readable are [`Vault::notices`].
pub fn open(dir: &TeamDir, me: &MyKey) -> Result<Vault> {
    if !dir.exists() {
        return Err(TeamError::NoTeam {
            dir: dir.root.clone(),
        }
        .into());
    }
    let on_disk = digest(dir);
    let members = dir.load_members()?;
    let my = members
        .by_key(&me.public)
        .ok_or_else(|| TeamError::NotMember {
            key: me.public.chars().take(60).collect(),
        })?
        .name
        .clone();
    let keys = TeamKeys::read(&dir.key_path(), me.age_identity())?;
    let mut notices = Vec::new();
    let root = &members.list[0];
    if !keys.recipients.contains(&root.key) {
        return Err(TeamError::Members {
            path: dir.members_path(),
            why: format!(
                "its first member '{}' is not one key.age is wrapped to: members.toml was \
                 replaced; take it from the last good commit",
                root.name
            ),
        }
        .into());
    }
    let missing: Vec<&str> = members
        .list
        .iter()
        .filter(|m| !keys.recipients.contains(&m.key))
        .map(|m| m.name.as_str())
        .collect();
    if !missing.is_empty() {
        notices.push(Notice::Team(format!(
            "key.age is not yet wrapped to {} (after a merge?); 'lumen team rekey' wraps it to \
             every member",
            missing.join(", ")
        )));
    }
    let extra = keys
        .recipients
        .iter()
        .filter(|k| members.by_key(k).is_none())
        .count();
    if extra > 0 {
        notices.push(Notice::Team(format!(
            "key.age is wrapped to {extra} key(s) members.toml does not list; 'lumen team \
             rekey' gives a new key to the listed members only"
        )));
    }
    let mut payload = Payload::default();
    let mut old = 0;
    for (name, path) in entries::list(&dir.entries_dir())? {
        super::check_name(&name)?;
        let (entry, epoch) = entries::open(&path, &name, &keys)?;
        old += usize::from(epoch != keys.epoch);
        payload.entries.insert(name, entry);
    }
    if old > 0 {
        notices.push(Notice::Team(format!(
            "{old} entr{} written under an earlier team key (merged from an older branch): \
             members removed since can read them; 'lumen team rekey' re-encrypts them",
            if old == 1 { "y is" } else { "ies are" }
        )));
    }
    let audit_key = audit::derive_key(&keys.audit_key);
    Ok(Vault {
        path: dir.key_path(),
        header: format::Header::new(KdfParams::DEFAULT),
        data_key: Key::zeroed(),
        audit_key,
        payload,
        on_disk: None,
        on_disk_version: format::VERSION,
        lock: None,
        audit: AuditLog::at(dir.audit_path(&my)),
        pending: Vec::new(),
        notices,
        team: Some(Box::new(TeamState {
            dir: dir.clone(),
            me: my,
            members,
            keys,
            on_disk,
        })),
    })
}

impl Vault {
    /// The member name this team vault was opened as (`None` for other vaults).
    pub fn team_member(&self) -> Option<&str> {
        self.team.as_ref().map(|t| t.me.as_str())
    }

    /// A team vault's members, its epoch.
    pub fn team_members(&self) -> Option<(&[Member], u64)> {
        self.team
            .as_ref()
            .map(|t| (t.members.list.as_slice(), t.keys.epoch))
    }

    fn team_mut(&mut self) -> Result<&mut TeamState> {
        self.team
            .as_deref_mut()
            .ok_or_else(|| refused("this is not a team vault"))
    }

    /// Add a member: signed with your key, the team key wrapped to them. No entry changes.
    pub fn team_add(&mut self, name: &str, key: &str, me: &MyKey) -> Result<()> {
        check_member_name(name).map_err(refused)?;
        let key = normalize_key(key).map_err(refused)?;
        let signer = me.signer()?;
        let t = self.team_mut()?;
        let _lock = t.dir.lock()?;
        check_unchanged(t)?;
        if t.members.get(name).is_some() {
            return Err(refused(format!("'{name}' is already a member")));
        }
        if let Some(m) = t.members.by_key(&key) {
            return Err(refused(format!("that key is already member '{}'s", m.name)));
        }
        let mut m = Member {
            name: name.to_string(),
            key,
            added_by: t.me.clone(),
            added_at: now_rfc3339(),
            signature: String::new(),
        };
        m.sign(signer)?;
        t.members.list.push(m);
        t.members.verify(&t.dir.members_path())?;
        t.keys.write(&t.dir.key_path(), &t.members.list)?;
        t.members.save(&t.dir.members_path())?;
        t.on_disk = digest(&t.dir);
        self.team_event(Action::AddMember, name)
    }

    /// Remove a member: a new epoch and team key, every entry re-encrypted, key.age wrapped to
    /// the rest, members they had signed re-signed by you. Returns the entries they could
    /// read (rotate those at their source).
    pub fn team_remove(&mut self, name: &str, me: &MyKey) -> Result<Vec<String>> {
        let signer = me.signer()?;
        let readable: Vec<String> = self.payload.entries.keys().cloned().collect();
        let t = self.team_mut()?;
        if t.members.get(name).is_none() {
            return Err(TeamError::NoSuchMember { name: name.into() }.into());
        }
        if name == t.me {
            return Err(refused(
                "you cannot remove yourself; another member runs 'lumen team remove'",
            ));
        }
        let me_name = t.me.clone();
        let root_removed = t.members.list[0].name == name;
        t.members.list.retain(|m| m.name != name);
        if root_removed && let Some(pos) = t.members.list.iter().position(|m| m.name == me_name) {
            // You become the first member, signing your own line.
            let mut mine = t.members.list.remove(pos);
            mine.added_by = me_name.clone();
            t.members.list.insert(0, mine);
        }
        let mut orphans = Vec::new();
        for (i, m) in t.members.list.iter_mut().enumerate() {
            if (i == 0 && root_removed) || m.added_by == name {
                if i != 0 {
                    m.added_by = me_name.clone();
                }
                orphans.push(i);
            }
        }
        for i in orphans {
            t.members.list[i].sign(signer)?;
        }
        t.members.verify(&t.dir.members_path())?;
        self.team_reencrypt()?;
        self.team_event(Action::RemoveMember, name)?;
        Ok(readable)
    }

    /// A new epoch: a new team key for the current members, every entry re-encrypted.
    pub fn team_rekey(&mut self) -> Result<u64> {
        self.team_reencrypt()?;
        self.team_event(Action::Rekey, "")?;
        Ok(self.team_members().map_or(0, |(_, e)| e))
    }

    fn team_reencrypt(&mut self) -> Result<()> {
        let payload = &self.payload;
        let t = self
            .team
            .as_deref_mut()
            .ok_or_else(|| refused("this is not a team vault"))?;
        let _lock = t.dir.lock()?;
        check_unchanged(t)?;
        t.keys.next_epoch();
        let mut files = Vec::new();
        for e in payload.entries.values() {
            files.push((
                entries::path_for(&t.dir.entries_dir(), &e.name),
                entries::seal(e, t.keys.epoch, &t.keys.key)?,
            ));
        }
        // key.age first, still holding the earlier keys, so a crash part-way through the
        // entries leaves every file readable; once all are under the new key, it is written
        // again without them (a removed member must not find them in a key.age of theirs).
        t.keys.write(&t.dir.key_path(), &t.members.list)?;
        t.members.save(&t.dir.members_path())?;
        for (path, bytes) in files {
            store::atomic_write(&path, &bytes)?;
        }
        t.keys.forget_previous();
        t.keys.write(&t.dir.key_path(), &t.members.list)?;
        t.on_disk = digest(&t.dir);
        Ok(())
    }

    fn team_event(&self, action: Action, member: &str) -> Result<()> {
        let me = self.team_member().unwrap_or_default().to_string();
        let log = LogFile::open_for_append(self.audit.path())?;
        let mut ev = NewEvent::new(action, None, None);
        ev.member = Some(me);
        ev.detail = (!member.is_empty()).then(|| format!("member {member}"));
        append(log, &self.audit_key, vec![ev])
    }

    /// Save a team vault: write the files of the entries changed since the last save, remove
    /// those deleted, then record the events.
    pub(super) fn team_commit(&mut self) -> Result<()> {
        let Some(t) = self.team.as_deref_mut() else {
            return Err(refused("this is not a team vault"));
        };
        let _lock = t.dir.lock()?;
        check_unchanged(t)?;
        let dir = t.dir.entries_dir();
        for (name, _) in self.pending.iter().filter(|(n, _)| !n.is_empty()) {
            let path = entries::path_for(&dir, name);
            match self.payload.entries.get(name) {
                Some(e) => {
                    store::atomic_write(&path, &entries::seal(e, t.keys.epoch, &t.keys.key)?)?
                }
                None => match std::fs::remove_file(&path) {
                    Ok(()) => remove_empty_parents(&path, &dir),
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                    Err(e) => {
                        return Err(VaultError::io(format!("removing {}", path.display()), e));
                    }
                },
            }
        }
        let events = self
            .pending
            .drain(..)
            .map(|(name, action)| {
                let mut ev =
                    NewEvent::new(action, (!name.is_empty()).then_some(name.as_str()), None);
                ev.member = Some(t.me.clone());
                ev
            })
            .collect();
        let log = LogFile::open_for_append(self.audit.path())?;
        append(log, &self.audit_key, events)
    }
}

fn remove_empty_parents(path: &Path, stop: &Path) {
    let mut dir = path.parent();
    while let Some(d) = dir.filter(|d| *d != stop && d.starts_with(stop)) {
        if std::fs::remove_dir(d).is_err() {
            break;
        }
        dir = d.parent();
    }
}

fn check_unchanged(t: &TeamState) -> Result<()> {
    if digest(&t.dir) != t.on_disk {
        return Err(VaultError::ChangedOnDisk {
            path: t.dir.key_path(),
        });
    }
    Ok(())
}

/// What `lumen team verify` found.
#[derive(Debug, Default)]
pub struct VerifyReport {
    pub members: usize,
    pub entries: usize,
    pub epoch: u64,
    /// Problems that leave the team usable (key.age not wrapped to every member, …).
    pub notes: Vec<String>,
}

/// Check everything: signatures (opening does), key.age opens, every entry decrypts at the
/// current epoch. An error names the first thing wrong.
pub fn verify(dir: &TeamDir, me: &MyKey) -> Result<VerifyReport> {
    let vault = open(dir, me)?;
    let (members, epoch) = vault.team_members().unwrap_or((&[], 0));
    Ok(VerifyReport {
        members: members.len(),
        entries: vault.payload.entries.len(),
        epoch,
        notes: vault.notices().iter().map(|n| n.to_string()).collect(),
    })
}

/// Open the team whose `key.age` is `key_path` with your default key (`~/.ssh/id_ed25519` or
/// `id_rsa`, whichever is a member), `passphrase` unlocking it if it is encrypted: how the
/// app's unlock dialog opens the team vault beside the others.
pub fn open_with_default_key(
    key_path: &Path,
    passphrase: &secrecy::SecretString,
    home: Option<&Path>,
) -> Result<Vault> {
    let root = key_path.parent().unwrap_or(Path::new("."));
    let dir = TeamDir {
        root: root.to_path_buf(),
    };
    let members = dir.load_members()?;
    let is_member = |k: &str| members.by_key(k).is_some();
    let path = identity::find(None, home, Some(&is_member))?;
    let me = MyKey::load(&path, |_| Ok(passphrase.clone()))?;
    open(&dir, &me)
}

/// Open the team vault whose `key.age` is `key_path` with an SSH key entry of your unlocked
/// `personal` vault that is one of the team's members (its private key never leaves memory;
/// the use is audited in the personal vault). `None` when no entry there is a member.
pub fn open_with_vault_key(key_path: &Path, personal: &Vault) -> Result<Option<Vault>> {
    let root = key_path.parent().unwrap_or(Path::new("."));
    let dir = TeamDir {
        root: root.to_path_buf(),
    };
    let members = dir.load_members()?;
    let is_member = |e: &&super::Entry| {
        e.kind == super::Kind::SshKey
            && e.public_key
                .as_deref()
                .and_then(|line| normalize_key(line).ok())
                .is_some_and(|public| members.by_key(&public).is_some())
    };
    if let Some(entry) = personal.entries().find(is_member) {
        let key = personal.private_key_for_team(&entry.name)?;
        let label = PathBuf::from(format!("personal vault entry '{}'", entry.name));
        let me = MyKey::from_private_key(key, &label)?;
        return Ok(Some(open(&dir, &me)?));
    }
    Ok(None)
}

impl Vault {
    /// Check one member's audit log of this team vault, seal by seal and link by link.
    pub fn verify_team_log(&self, log: &AuditLog) -> Result<super::AuditReport> {
        let mut file = LogFile::open_existing(log.path())?;
        let found = super::integrity::verify(file.as_mut(), &self.audit_key, None)?;
        Ok(super::AuditReport {
            events: found.events,
            problems: found.problems,
            old_format: false,
        })
    }
}
