//! The vault widgets on ratatui's test buffer: insta snapshots of each state, plus behaviour
//! (timed reveal, copy and clipboard clear, auto-lock, forms, unlock delay).
#![allow(clippy::unwrap_used)]

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use lumen::panes::vault::{
    AUTO_LOCK_DEFAULT, BrowserOutcome, CLIPBOARD_CLEAR_AFTER, REVEAL_FOR, UNLOCK_DELAY,
    UnlockDialog, UnlockOutcome, VaultBrowser,
};
use lumen::ui::theme::Theme;
use lumen::vault::{Action, KdfParams, Kind, NewEntry, Scope, ScopedVault, Vault, VaultOwner};
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use secrecy::{ExposeSecret, SecretString};
use std::path::Path;
use std::time::{Duration, Instant};

const FAST: KdfParams = KdfParams {
    memory_kib: 64,
    time: 1,
    lanes: 1,
};
/// 2023-11-14T22:13:20Z; 20 s into a 30 s TOTP window.
const UNIX: u64 = 1_700_000_000;
const PASSWORD: &str = "Tr0ub4dor&3-secret";
const TOTP_SECRET: &str = "JBSWY3DPEHPK3PXP";
const ONE_SECOND: Duration = Duration::from_secs(1);

fn key(code: KeyCode) -> KeyEvent {
    KeyEvent::new(code, KeyModifiers::NONE)
}

fn ch(c: char) -> KeyEvent {
    key(KeyCode::Char(c))
}

fn add(v: &mut Vault, name: &str, kind: Kind, secret: &str, user: Option<&str>, hosts: &[&str]) {
    v.add(
        name,
        NewEntry {
            kind: Some(kind),
            username: user.map(str::to_string),
            hosts: Some(hosts.iter().map(|h| h.to_string()).collect()),
            secret: Some(SecretString::from(secret)),
            ..Default::default()
        },
    )
    .unwrap();
}

fn vaults(dir: &Path) -> Vec<ScopedVault> {
    let pass = SecretString::from("pw");
    let mut p = Vault::create(&dir.join("personal.lumen"), &pass, FAST).unwrap();
    add(
        &mut p,
        "db/root",
        Kind::Password,
        PASSWORD,
        Some("root"),
        &["db1"],
    );
    add(&mut p, "github", Kind::Totp, TOTP_SECRET, Some("me"), &[]);
    p.save().unwrap();
    let mut w = Vault::create(&dir.join("workspace.lumen"), &pass, FAST).unwrap();
    add(
        &mut w,
        "ai/openai",
        Kind::ApiKey,
        "sk-proj-abcdef123456",
        None,
        &["*"],
    );
    w.save().unwrap();
    vec![
        ScopedVault {
            scope: Scope::Personal,
            vault: p,
        },
        ScopedVault {
            scope: Scope::Workspace,
            vault: w,
        },
    ]
}

fn screen(buf: &Buffer) -> String {
    let area = buf.area;
    let mut out = String::new();
    for y in area.top()..area.bottom() {
        let line: String = (area.left()..area.right())
            .map(|x| buf[(x, y)].symbol().to_string())
            .collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn draw_browser(b: &VaultBrowser) -> String {
    let area = Rect::new(0, 0, 90, 18);
    let mut buf = Buffer::empty(area);
    b.render(area, &mut buf, &Theme::builtin());
    screen(&buf)
}

/// An owner holding the test vaults, unlocked.
fn owner(dir: &Path) -> VaultOwner {
    let owner = VaultOwner::new(Vec::new());
    owner.put(vaults(dir));
    owner
}

/// A key for the browser; the disk work it asks for (an audited read, a save) runs here and
/// now, as the app runs it off the UI task, and the browser gets its result.
fn press(b: &mut VaultBrowser, key: &KeyEvent, now: Instant) -> BrowserOutcome {
    match b.handle_key(key, now) {
        BrowserOutcome::Work(work) => b.work_done(work.run(), now),
        other => other,
    }
}

fn browser(dir: &Path, now: Instant) -> VaultBrowser {
    VaultBrowser::new(owner(dir), now, UNIX, AUTO_LOCK_DEFAULT)
}

#[test]
fn list_and_masked_detail() {
    let dir = tempfile::tempdir().unwrap();
    let b = browser(dir.path(), Instant::now());
    let s = draw_browser(&b);
    assert!(!s.contains(PASSWORD));
    insta::assert_snapshot!("browser_list", s);
}

#[test]
fn reveal_hides_after_ten_seconds_and_is_audited() {
    let dir = tempfile::tempdir().unwrap();
    let t0 = Instant::now();
    let mut b = browser(dir.path(), t0);
    press(&mut b, &ch('r'), t0);
    let shown = draw_browser(&b);
    assert!(shown.contains(PASSWORD));
    insta::assert_snapshot!("browser_revealed", shown);
    b.tick(t0 + REVEAL_FOR - ONE_SECOND);
    assert!(draw_browser(&b).contains(PASSWORD));
    b.tick(t0 + REVEAL_FOR);
    assert!(!draw_browser(&b).contains(PASSWORD));
    let events = AuditLogOf(dir.path()).actions();
    assert!(events.contains(&Action::Reveal));
}

struct AuditLogOf<'a>(&'a Path);
impl AuditLogOf<'_> {
    fn actions(&self) -> Vec<Action> {
        lumen::vault::AuditLog::beside(&self.0.join("personal.lumen"))
            .events()
            .unwrap()
            .into_iter()
            .map(|e| e.action)
            .collect()
    }
}

#[test]
fn totp_code_with_countdown() {
    let dir = tempfile::tempdir().unwrap();
    let t0 = Instant::now();
    let mut b = browser(dir.path(), t0);
    press(&mut b, &ch('j'), t0);
    let s = draw_browser(&b);
    let expected = lumen::vault::totp_code(TOTP_SECRET, UNIX).unwrap();
    assert!(s.contains(&expected.code), "{s}");
    assert!(s.contains("10 s"), "{s}");
    insta::assert_snapshot!("browser_totp", s);
    b.tick(t0 + Duration::from_secs(10));
    let next = lumen::vault::totp_code(TOTP_SECRET, UNIX + 10).unwrap();
    assert!(draw_browser(&b).contains(&next.code));
    assert!(draw_browser(&b).contains("30 s"));
}

#[test]
fn copy_then_clipboard_clear_after_twenty_seconds() {
    let dir = tempfile::tempdir().unwrap();
    let t0 = Instant::now();
    let mut b = browser(dir.path(), t0);
    match press(&mut b, &ch('c'), t0) {
        BrowserOutcome::Copy(s) => assert_eq!(s.expose_secret(), PASSWORD),
        other => panic!("{other:?}"),
    }
    assert!(!draw_browser(&b).contains(PASSWORD));
    assert!(matches!(
        b.tick(t0 + CLIPBOARD_CLEAR_AFTER - ONE_SECOND),
        BrowserOutcome::None
    ));
    assert!(matches!(
        b.tick(t0 + CLIPBOARD_CLEAR_AFTER),
        BrowserOutcome::ClearClipboard
    ));
    assert!(matches!(
        b.tick(t0 + CLIPBOARD_CLEAR_AFTER + ONE_SECOND),
        BrowserOutcome::None
    ));
    assert!(AuditLogOf(dir.path()).actions().contains(&Action::Copy));
    // A TOTP entry copies its current code.
    press(&mut b, &ch('j'), t0);
    match press(&mut b, &ch('c'), t0) {
        BrowserOutcome::Copy(s) => {
            assert_eq!(
                s.expose_secret(),
                lumen::vault::totp_code(TOTP_SECRET, UNIX).unwrap().code
            )
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn auto_lock_and_lock_key_drop_everything() {
    let dir = tempfile::tempdir().unwrap();
    let t0 = Instant::now();
    let owner = owner(dir.path());
    let mut b = VaultBrowser::new(owner.clone(), t0, UNIX, AUTO_LOCK_DEFAULT);
    press(&mut b, &ch('r'), t0);
    press(&mut b, &ch('c'), t0);
    assert!(matches!(
        b.tick(t0 + AUTO_LOCK_DEFAULT - ONE_SECOND),
        BrowserOutcome::ClearClipboard
    ));
    let later = t0 + AUTO_LOCK_DEFAULT - ONE_SECOND;
    press(&mut b, &key(KeyCode::Down), later);
    assert!(!b.is_locked(), "a key resets the idle timer");
    match b.tick(later + AUTO_LOCK_DEFAULT) {
        BrowserOutcome::Locked { .. } => {}
        other => panic!("{other:?}"),
    }
    assert!(b.is_locked());
    let s = draw_browser(&b);
    assert!(!s.contains("db/root") && !s.contains(PASSWORD));
    insta::assert_snapshot!("browser_locked", s);
    assert!(matches!(
        press(&mut b, &key(KeyCode::Enter), later),
        BrowserOutcome::UnlockRequested
    ));
    // Locking the browser locked the one owner (logins lose the vault too).
    assert!(!owner.is_unlocked());
    let again = tempfile::tempdir().unwrap();
    owner.put(vaults(again.path()));
    b.unlocked(later);
    assert!(!b.is_locked());
    let ctrl_l = KeyEvent::new(KeyCode::Char('l'), KeyModifiers::CONTROL);
    assert!(matches!(
        press(&mut b, &ctrl_l, later),
        BrowserOutcome::Locked { .. }
    ));
}

#[test]
fn filter_narrows_the_list() {
    let dir = tempfile::tempdir().unwrap();
    let t0 = Instant::now();
    let mut b = browser(dir.path(), t0);
    for k in ['/', 'o', 'p', 'e', 'n'] {
        press(&mut b, &ch(k), t0);
    }
    let s = draw_browser(&b);
    assert!(s.contains("ai/openai") && !s.contains("db/root"));
    insta::assert_snapshot!("browser_filter", s);
}

fn type_text(b: &mut VaultBrowser, text: &str, now: Instant) {
    for c in text.chars() {
        press(b, &ch(c), now);
    }
}

#[test]
fn add_edit_delete_through_forms() {
    let dir = tempfile::tempdir().unwrap();
    let t0 = Instant::now();
    let mut b = browser(dir.path(), t0);
    press(&mut b, &ch('a'), t0);
    type_text(&mut b, "web/admin", t0);
    for _ in 0..3 {
        press(&mut b, &key(KeyCode::Tab), t0);
    }
    type_text(&mut b, "admin", t0);
    press(&mut b, &key(KeyCode::Tab), t0);
    type_text(&mut b, "web1, web2", t0);
    for _ in 0..4 {
        press(&mut b, &key(KeyCode::Tab), t0);
    }
    type_text(&mut b, "form-typed-secret", t0);
    let s = draw_browser(&b);
    assert!(
        !s.contains("form-typed-secret"),
        "the secret field is masked"
    );
    insta::assert_snapshot!("browser_add_form", s);
    press(&mut b, &key(KeyCode::Enter), t0);
    let reopened = Vault::open(
        &dir.path().join("personal.lumen"),
        &SecretString::from("pw"),
    )
    .unwrap();
    let e = reopened.get("web/admin").unwrap();
    assert_eq!(e.hosts, ["web1", "web2"]);
    assert_eq!(
        reopened
            .secret("web/admin", Action::Reveal, None)
            .unwrap()
            .expose_secret(),
        "form-typed-secret"
    );
    // Edit the new entry's username; the empty secret field keeps the secret.
    press(&mut b, &ch('e'), t0);
    for _ in 0..5 {
        press(&mut b, &key(KeyCode::Backspace), t0);
    }
    type_text(&mut b, "root", t0);
    press(&mut b, &key(KeyCode::Enter), t0);
    let reopened = Vault::open(
        &dir.path().join("personal.lumen"),
        &SecretString::from("pw"),
    )
    .unwrap();
    assert_eq!(
        reopened.get("web/admin").unwrap().username.as_deref(),
        Some("root")
    );
    assert_eq!(
        reopened
            .secret("web/admin", Action::Reveal, None)
            .unwrap()
            .expose_secret(),
        "form-typed-secret"
    );
    // Delete with confirmation.
    press(&mut b, &ch('d'), t0);
    insta::assert_snapshot!("browser_confirm_delete", draw_browser(&b));
    press(&mut b, &ch('y'), t0);
    let reopened = Vault::open(
        &dir.path().join("personal.lumen"),
        &SecretString::from("pw"),
    )
    .unwrap();
    assert!(reopened.get("web/admin").is_err());
    // A bad TOTP secret is an error in the form, nothing saved.
    press(&mut b, &ch('a'), t0);
    type_text(&mut b, "bad-otp", t0);
    press(&mut b, &key(KeyCode::Tab), t0);
    for _ in 0.."password".len() {
        press(&mut b, &key(KeyCode::Backspace), t0);
    }
    type_text(&mut b, "totp", t0);
    for _ in 0..7 {
        press(&mut b, &key(KeyCode::Tab), t0);
    }
    type_text(&mut b, "!!!", t0);
    press(&mut b, &key(KeyCode::Enter), t0);
    assert!(draw_browser(&b).contains("bad TOTP secret"));
}

fn draw_dialog(d: &UnlockDialog) -> String {
    let area = Rect::new(0, 0, 60, 9);
    let mut buf = Buffer::empty(area);
    d.render(area, &mut buf, &Theme::builtin());
    screen(&buf)
}

#[test]
fn unlock_dialog_masks_and_delays_after_three_tries() {
    let t0 = Instant::now();
    let mut d = UnlockDialog::new("personal vault");
    for c in "pässwörd".chars() {
        assert!(matches!(d.handle_key(&ch(c)), UnlockOutcome::Pending));
    }
    let s = draw_dialog(&d);
    assert!(!s.contains("pässwörd"));
    assert!(!format!("{d:?}").contains("pässwörd"));
    insta::assert_snapshot!("unlock_typing", s);
    match d.handle_key(&key(KeyCode::Enter)) {
        UnlockOutcome::Submit(p) => assert_eq!(p.expose_secret(), "pässwörd"),
        other => panic!("{other:?}"),
    }
    for _ in 0..3 {
        type_dialog(&mut d, "wrong");
        assert!(matches!(
            d.handle_key(&key(KeyCode::Enter)),
            UnlockOutcome::Submit(_)
        ));
        d.failed(t0, "wrong passphrase; try again");
    }
    assert!(d.is_waiting());
    d.tick(t0);
    insta::assert_snapshot!("unlock_waiting", draw_dialog(&d));
    type_dialog(&mut d, "x");
    assert!(matches!(
        d.handle_key(&key(KeyCode::Enter)),
        UnlockOutcome::Pending
    ));
    d.tick(t0 + UNLOCK_DELAY);
    assert!(!d.is_waiting());
    type_dialog(&mut d, "right");
    match d.handle_key(&key(KeyCode::Enter)) {
        UnlockOutcome::Submit(p) => assert_eq!(p.expose_secret(), "right"),
        other => panic!("{other:?}"),
    }
    assert!(matches!(
        d.handle_key(&key(KeyCode::Esc)),
        UnlockOutcome::Cancel
    ));
}

fn type_dialog(d: &mut UnlockDialog, text: &str) {
    for c in text.chars() {
        d.handle_key(&ch(c));
    }
}

#[test]
fn pasting_a_private_key_into_the_add_form() {
    let dir = tempfile::tempdir().unwrap();
    let key_path = dir.path().join("id");
    let ok = std::process::Command::new("ssh-keygen")
        .args(["-q", "-t", "ed25519", "-N", "", "-C", "pasted", "-f"])
        .arg(&key_path)
        .status()
        .unwrap();
    assert!(ok.success());
    let key_text = std::fs::read_to_string(&key_path).unwrap();
    let t0 = Instant::now();
    let mut b = browser(dir.path(), t0);
    press(&mut b, &ch('a'), t0);
    b.handle_paste("deploy\n", t0);
    press(&mut b, &key(KeyCode::Tab), t0);
    for _ in 0.."password".len() {
        press(&mut b, &key(KeyCode::Backspace), t0);
    }
    type_text(&mut b, "ssh-key", t0);
    for _ in 0..7 {
        press(&mut b, &key(KeyCode::Tab), t0);
    }
    b.handle_paste(&key_text, t0);
    assert!(!draw_browser(&b).contains("PRIVATE KEY"));
    press(&mut b, &key(KeyCode::Enter), t0);
    let v = Vault::open(
        &dir.path().join("personal.lumen"),
        &SecretString::from("pw"),
    )
    .unwrap();
    let e = v
        .get("deploy")
        .unwrap_or_else(|e| panic!("{e}\n{}", draw_browser(&b)));
    assert_eq!(e.kind, Kind::SshKey);
    assert!(e.fingerprint.as_deref().unwrap().starts_with("SHA256:"));
}

#[test]
fn pasting_into_the_unlock_dialog() {
    let mut d = UnlockDialog::new("personal vault");
    d.handle_paste("from-a-password-manager\n");
    match d.handle_key(&key(KeyCode::Enter)) {
        UnlockOutcome::Submit(p) => assert_eq!(p.expose_secret(), "from-a-password-manager"),
        other => panic!("{other:?}"),
    }
}
