//! `lumen vault test`, `keygen` and `rotate-key`: a credential tried against its hosts, SSH key
//! pairs made inside the vault and replaced on hosts. Host lines are printed as each host is
//! done (a rotation over many hosts reports progress); the private halves never leave the vault
//! except into a login.

use super::args::KeyTypeArg;
use super::{Ctx, save};
use crate::cli::connect::SshFlags;
use crate::cli::hosts_copy_id::{Targets, as_entry_user, owner_of, public_key, runtime, targets};
use crate::paths::Paths;
use crate::ssh::authorized_keys::{self, PublicKeyLine};
use crate::ssh::cred_check::{self, Verdict};
use crate::ssh::{Connector, Prompter, VaultCredentials};
use crate::vault::{Action, KeyType, Kind, NewEntry, ScopedVault, Vault, VaultError, VaultOwner};
use anyhow::{Result, bail};
use secrecy::ExposeSecret;
use std::collections::HashMap;
use std::sync::Arc;

/// Print one host's line now (stdout), so long runs show progress.
fn report(host: &str, what: &str) {
    crate::outln!("{}: {what}", crate::text::escape_controls(host));
}

/// Audit `action` on `name` with `host` and what came of it; a failure to audit is said.
fn audit(owner: &VaultOwner, name: &str, action: Action, host: &str, detail: &str) {
    let done = owner.with_entry(name, |v: &Vault| {
        v.record_outcome(name, action, host, detail)
    });
    if let Err(e) = done {
        crate::errln!("lumen vault: warning: {host}: not audited: {e}");
    }
}

/// Host name → groups, for entries bound to `@group`.
fn groups_of(t: &Targets) -> HashMap<String, Vec<String>> {
    t.hosts
        .iter()
        .map(|h| (h.name.clone(), h.groups.clone()))
        .collect()
}

pub(super) fn test(
    ctx: &mut Ctx,
    paths: &Paths,
    workspace: &str,
    name: &str,
    host: Option<String>,
    ssh: &SshFlags,
) -> Result<String> {
    let (scope, vault) = ctx.find(name, false)?;
    let entry = vault.get(name)?.clone();
    if !matches!(entry.kind, Kind::Password | Kind::SshKey) {
        bail!(
            "'{name}' is a {} entry; a Credential Test logs in with a password or ssh-key entry",
            entry.kind
        );
    }
    let (words, all) = match &host {
        Some(h) => (vec![h.clone()], false),
        None if entry.hosts.is_empty() => bail!(
            "'{name}' is bound to no host, so there is nothing to test it on; bind it with \
             'lumen vault edit {name} --host HOST'"
        ),
        None => (
            entry.hosts.iter().filter(|h| *h != "*").cloned().collect(),
            entry.hosts.iter().any(|h| h == "*"),
        ),
    };
    let owner = owner_of(vec![ScopedVault { scope, vault }]);
    let mut t = targets(paths, workspace, ssh, &words, all, &owner)?;
    for h in &t.hosts {
        if !entry.is_bound_to(&h.name, &h.groups) {
            return Err(VaultError::NotBound {
                name: name.into(),
                host: h.name.clone(),
            }
            .into());
        }
    }
    let source = Arc::new(VaultCredentials::new(owner.clone()).with_groups(groups_of(&t)));
    let total = t.hosts.len();
    let failed = runtime()?.block_on(async {
        let mut failed = 0;
        for h in &mut t.hosts {
            as_entry_user(h, &entry);
            let opts = &h.ssh.target.options;
            h.ssh.target.options = cred_check::with_credential(opts, source.clone(), name, &h.name);
            let verdict = cred_check::try_login(&h.ssh).await;
            failed += usize::from(!verdict.works());
            report(&h.name, &verdict.to_string());
            audit(&owner, name, Action::Test, &h.name, verdict.word());
        }
        failed
    });
    if failed > 0 {
        bail!("'{name}' did not log in to {failed} of {total} hosts");
    }
    Ok(String::new())
}

pub(super) fn keygen(
    ctx: &mut Ctx,
    name: &str,
    kind: KeyTypeArg,
    hosts: Vec<String>,
    username: Option<String>,
    notes: Option<String>,
) -> Result<String> {
    crate::vault::check_name(name)?;
    let kind = match kind {
        KeyTypeArg::Ed25519 => KeyType::Ed25519,
        KeyTypeArg::Rsa => KeyType::Rsa,
    };
    let scope = ctx.target();
    let mut vault = ctx.open(scope, true)?;
    if vault.get(name).is_ok() {
        return Err(VaultError::NameTaken { name: name.into() }.into());
    }
    let secret = crate::vault::generate_key(kind, &format!("lumen:{name}"))?;
    vault.add(
        name,
        NewEntry {
            kind: Some(Kind::SshKey),
            username,
            hosts: (!hosts.is_empty()).then_some(hosts),
            notes,
            secret: Some(secret),
            ..NewEntry::default()
        },
    )?;
    save(scope, &mut vault)?;
    let entry = vault.get(name)?;
    crate::errln!(
        "made a new {} key '{name}' in the {} vault ({}); its public key:",
        kind.as_str(),
        scope.as_str(),
        entry.fingerprint.as_deref().unwrap_or("-")
    );
    Ok(format!("{}\n", entry.public_key.as_deref().unwrap_or("")))
}

/// How one host's rotation went.
enum Step {
    Done(usize),
    Failed(String),
}

pub(super) fn rotate(
    ctx: &mut Ctx,
    paths: &Paths,
    workspace: &str,
    name: &str,
    words: &[String],
    ssh: &SshFlags,
) -> Result<String> {
    let (scope, vault) = ctx.find(name, true)?;
    let entry = vault.get(name)?.clone();
    let old_line = public_key(&entry)?;
    let owner = owner_of(vec![ScopedVault { scope, vault }]);
    // The hosts first: a typo in a target changes nothing.
    let mut t = targets(paths, workspace, ssh, words, false, &owner)?;
    let made = owner
        .write(|vs| new_pair(&mut vs[0].vault, scope, &entry))
        .map_err(|locked| anyhow::anyhow!("{locked}"))??;
    let NewPair {
        old_key,
        old_name,
        new_key,
        new_line,
    } = made;
    let old_key = Arc::new(old_key);
    let total = t.hosts.len();
    let failed = runtime()?.block_on(async {
        let prompter = crate::cli::tty_prompt::terminal_prompter(|ask| ask());
        let current = Connector::new(t.base.clone(), prompter);
        let fresh = Connector::new(cred_check::bare(&t.base), Prompter::none());
        let mut failed = 0;
        for h in &mut t.hosts {
            as_entry_user(h, &entry);
            // The current login, plus the old key where the entry may be used.
            let mut install = h.ssh.clone();
            if entry.is_bound_to(&h.name, &h.groups) {
                install.target.options.keys.push(old_key.clone());
            }
            let mut check = h.ssh.clone();
            check.target.options = cred_check::with_key(&check.target.options, new_key.clone());
            let step = rotate_one(&current, &fresh, &install, &check, &new_line, &old_line).await;
            let said = match step {
                Step::Done(n) => format!(
                    "new key installed, login with it works, old key removed ({n} line{})",
                    if n == 1 { "" } else { "s" }
                ),
                Step::Failed(why) => {
                    failed += 1;
                    format!("failed: {why}")
                }
            };
            report(&h.name, &said);
            audit(&owner, name, Action::RotateKey, &h.name, &said);
        }
        failed
    });
    if failed > 0 {
        bail!(
            "the key was rotated on {} of {total} hosts; the old key stays in the vault as \
             '{old_name}' (it still logs in where the rotation failed). Fix those hosts, install \
             the new key there with 'lumen hosts copy-id HOST --key {name}', remove the old \
             line, then 'lumen vault rm {old_name}'",
            total - failed
        );
    }
    let removed = owner.write(|vs| -> Result<()> {
        let v = &mut vs[0];
        v.vault.remove(&old_name)?;
        save(v.scope, &mut v.vault)
    });
    match removed {
        Ok(Ok(())) => crate::errln!("every host has the new key; '{old_name}' was deleted"),
        Ok(Err(e)) => crate::errln!(
            "lumen vault: warning: every host has the new key but '{old_name}' could not be \
             deleted ({e}); delete it with 'lumen vault rm {old_name}'"
        ),
        Err(_) => {}
    }
    Ok(String::new())
}

/// What [`new_pair`] made and saved.
struct NewPair {
    old_key: russh::keys::PrivateKey,
    /// Where the old key is kept meanwhile.
    old_name: String,
    new_key: Arc<russh::keys::PrivateKey>,
    new_line: PublicKeyLine,
}

/// A new pair of the old one's type for `entry`, and the old key kept as `NAME.old-DATE`:
/// both saved before any host is touched, so neither can be lost.
fn new_pair(
    vault: &mut Vault,
    scope: crate::vault::Scope,
    entry: &crate::vault::Entry,
) -> Result<NewPair> {
    let name = entry.name.as_str();
    let old_text = vault.secret(name, Action::RotateKey, None)?;
    let old_pass = entry.key_passphrase.clone();
    let old_key = crate::vault::decode_key(
        old_text.expose_secret(),
        old_pass.as_ref().map(|p| p.expose_secret()),
    )?;
    let kind = KeyType::of(&old_key).unwrap_or_default();
    let stamp = time::OffsetDateTime::now_utc()
        .format(time::macros::format_description!(
            "[year][month][day]-[hour][minute][second]"
        ))
        .unwrap_or_else(|_| crate::vault::unix_now().to_string());
    let old_name = format!("{name}.old-{stamp}");
    vault.add(
        &old_name,
        NewEntry {
            kind: Some(Kind::SshKey),
            username: entry.username.clone(),
            hosts: Some(entry.hosts.clone()),
            tags: Some(entry.tags.clone()),
            notes: Some(format!(
                "the key '{name}' had before 'lumen vault rotate-key' on {stamp}; kept while \
                 a host may still have it"
            )),
            secret: Some(old_text),
            key_passphrase: old_pass,
            ..NewEntry::default()
        },
    )?;
    let new_text = crate::vault::generate_key(kind, &format!("lumen:{name}"))?;
    let new_key = Arc::new(crate::vault::decode_key(new_text.expose_secret(), None)?);
    vault.replace_key(name, new_text)?;
    save(scope, vault)?;
    let new_line = public_key(vault.get(name)?)?;
    crate::errln!(
        "made a new {} key for '{name}'; the old one is kept as '{old_name}' until every host \
         is done",
        kind.as_str()
    );
    Ok(NewPair {
        old_key,
        old_name,
        new_key,
        new_line,
    })
}

/// One host: install the new key over the current login, log in with the new key alone, and
/// over that login remove the old key's lines. A new key that does not log in is taken out again.
async fn rotate_one(
    current: &Connector,
    fresh: &Connector,
    install: &crate::ssh::Plan,
    check: &crate::ssh::Plan,
    new_line: &PublicKeyLine,
    old_line: &PublicKeyLine,
) -> Step {
    if let Err(e) = authorized_keys::add(current, install, new_line).await {
        return Step::Failed(format!("could not install the new key: {e}"));
    }
    if let Err(e) = fresh.reach(check).await {
        let verdict = Verdict::of(e);
        let undo = match authorized_keys::remove(current, install, new_line).await {
            Ok(_) => "it was removed again".to_string(),
            Err(e) => format!("removing it again failed too: {e}"),
        };
        return Step::Failed(format!(
            "the new key does not log in ({verdict}); {undo}; the old key was left in place"
        ));
    }
    match authorized_keys::remove(fresh, check, old_line).await {
        Ok(n) => Step::Done(n),
        Err(e) => Step::Failed(format!(
            "the new key works but the old key's line could not be removed: {e}"
        )),
    }
}
