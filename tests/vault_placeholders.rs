//! `{{vault:NAME}}` substitution honours host bindings and is audited; redaction (the one in
//! `ai::redact`) replaces known secret values with placeholders.
#![allow(clippy::unwrap_used)]

use lumen::ai::redact::{Secrets, prepare};
use lumen::vault::{Action, KdfParams, Kind, NewEntry, Vault, VaultError};
use secrecy::{ExposeSecret, SecretString};

fn vault(dir: &std::path::Path) -> Vault {
    let fast = KdfParams {
        memory_kib: 64,
        time: 1,
        lanes: 1,
    };
    let mut v = Vault::create(&dir.join("vault.lumen"), &SecretString::from("pw"), fast).unwrap();
    let add = |v: &mut Vault, name: &str, secret: &str, hosts: &[&str]| {
        v.add(
            name,
            NewEntry {
                kind: Some(Kind::Password),
                hosts: Some(hosts.iter().map(|h| h.to_string()).collect()),
                secret: Some(SecretString::from(secret)),
                ..Default::default()
            },
        )
        .unwrap();
    };
    add(&mut v, "db/root", "r00t-pa55word", &["db1", "@databases"]);
    add(&mut v, "anywhere", "any-host-token", &["*"]);
    add(&mut v, "unbound", "nowhere-secret", &[]);
    add(&mut v, "short", "abc", &["*"]);
    v.save().unwrap();
    v
}

#[test]
fn substitution_honours_bindings() {
    let dir = tempfile::tempdir().unwrap();
    let v = vault(dir.path());
    let cmd = "mysql -uroot -p'{{vault:db/root}}' && curl -H 'X: {{vault:anywhere}}'";
    let out = v.substitute_placeholders(cmd, "db1", &[]).unwrap();
    assert_eq!(
        out.expose_secret(),
        "mysql -uroot -p'r00t-pa55word' && curl -H 'X: any-host-token'"
    );
    let via_group = v
        .substitute_placeholders(cmd, "db7", &["databases".into()])
        .unwrap();
    assert!(via_group.expose_secret().contains("r00t-pa55word"));
    for (cmd, host) in [(cmd, "web1"), ("echo {{vault:unbound}}", "db1")] {
        let err = v.substitute_placeholders(cmd, host, &[]).unwrap_err();
        assert!(matches!(err, VaultError::NotBound { .. }), "{err}");
        assert!(!err.to_string().contains("pa55") && !err.to_string().contains("nowhere-secret"));
    }
    assert!(matches!(
        v.substitute_placeholders("{{vault:missing}}", "db1", &[]),
        Err(VaultError::NotFound { .. })
    ));
    assert_eq!(
        v.substitute_placeholders("ls {{vault:", "db1", &[])
            .unwrap()
            .expose_secret(),
        "ls {{vault:"
    );
    let subs = v
        .audit_log()
        .events()
        .unwrap()
        .into_iter()
        .filter(|e| e.action == Action::Substitute)
        .count();
    assert_eq!(subs, 4, "two placeholders, two successful substitutions");
}

#[test]
fn redaction_replaces_secret_values() {
    let dir = tempfile::tempdir().unwrap();
    let v = vault(dir.path());
    let text =
        "password is r00t-pa55word; token=any-host-token; b64 cjAwdC1wYTU1d29yZA== ; abc stays";
    let secrets = Secrets::from_vaults(&[&v]);
    let red = prepare(text, &secrets).text;
    assert_eq!(
        red,
        "password is {{vault:db/root}}; token={{vault:anywhere}}; b64 {{vault:db/root}} ; abc stays"
    );
    assert_eq!(prepare("nothing here", &secrets).text, "nothing here");
}

#[test]
fn login_secrets_honour_bindings() {
    let dir = tempfile::tempdir().unwrap();
    let v = vault(dir.path());
    let s = v
        .secret_for_host("db/root", Action::Auth, "db1", &[])
        .unwrap();
    assert_eq!(s.expose_secret(), "r00t-pa55word");
    assert!(matches!(
        v.secret_for_host("db/root", Action::Auth, "web1", &[]),
        Err(VaultError::NotBound { .. })
    ));
    let last = v.audit_log().events().unwrap().pop().unwrap();
    assert_eq!(
        (last.action, last.host.as_deref()),
        (Action::Auth, Some("db1"))
    );
}
