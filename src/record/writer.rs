//! Writing recordings off the UI loop: each recorded pane has a writer thread that masks its
//! output ([`Masker`]), writes asciicast events through a buffer, cuts the file at the size
//! cap, and gzips it when the pane ends. The pane hands its chunks, without copying, to a
//! spool thread ([`super::spool`]) that passes them on to the writer in memory, or sealed on
//! disk when much waits; the pane stops taking more from its backend only when that is full,
//! so memory stays bounded and nothing is written in clear.
//!
//! During a burst of output (a `cat` of a big log, a build) the writer waits until the pane
//! has been quiet for [`BURST_GAP`]: on a machine with few cores its masking would take CPU
//! from the burst itself and from the SSH connection carrying it, so a recorded flood would
//! run slower than an unrecorded one. It waits at most [`MAX_DEFER`], and only while less
//! than [`DEFER_BYTES`] waits; a burst that outlasts that has the writer work alongside it
//! until it ends (and is slowed as before). When the recording ends it never waits.
//!
//! Vault policy: while a vault exists but is locked, its values cannot be matched, so the
//! pane's output is held back in memory, unwritten, up to [`LOCKED_HOLD`] bytes; the next
//! unlock masks it and writes it. Past that bound the oldest held output is dropped (never
//! written unmasked) and the file gets a marker saying how much; output still held when the
//! pane ends with the vault locked is dropped the same way.

use super::cast::{Event, Header};
use super::mask::{Extra, Flush, Item, Masker};
use super::spool::{Cmd, Flow, Next, Spill, Spool};
use super::store;
use crate::ai::redact::Secrets;
use crate::vault::VaultOwner;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::{OnceLock, mpsc};
use std::time::{Duration, Instant, SystemTime};

pub use super::spool::MAX_IN_FLIGHT;
/// Output held back per pane while the vault is locked.
pub const LOCKED_HOLD: usize = 16 * 1024 * 1024;
/// A stream this long without output is written up to its last line end.
const QUIET: Duration = Duration::from_millis(300);
/// Writer-side batch: chunks taken together before a masking pass.
const BATCH: usize = 1024 * 1024;
/// A pane quiet this long has ended its burst of output: the writer goes on.
const BURST_GAP: Duration = Duration::from_millis(50);
/// How often a waiting writer looks again.
const BURST_POLL: Duration = Duration::from_millis(10);
/// A writer waits out a burst at most this long...
const MAX_DEFER: Duration = Duration::from_secs(10);
/// ...and only while less than this much output waits for it.
const DEFER_BYTES: u64 = super::spool::MAX_SPILL / 2;

/// Where and how recordings are kept (`[logs]` in config.toml).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    /// `recordings/` in the data dir.
    pub root: PathBuf,
    /// A file past this many bytes ends with a marker and a new one starts.
    pub max_file: u64,
    pub keep_days: u64,
    pub max_total: u64,
}

/// What one recording is of.
#[derive(Debug, Clone)]
pub struct Session {
    /// `<host>` of the path: the inventory name, or `user@host_port` made file-name safe.
    pub host: String,
    pub pane: u64,
    /// The header's title (host and user).
    pub title: String,
    pub cols: u16,
    pub rows: u16,
}

/// Starts recordings and waits for their writers when lumen ends (each gzips its file).
pub struct Recordings {
    settings: Settings,
    vault: VaultOwner,
    /// Each recording's pane side, its spool thread and its writer thread.
    writers: Vec<(mpsc::Sender<Cmd>, [std::thread::JoinHandle<()>; 2])>,
}

impl std::fmt::Debug for Recordings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Recordings({})", self.settings.root.display())
    }
}

impl Recordings {
    pub fn new(settings: Settings, vault: VaultOwner) -> Self {
        Self {
            settings,
            vault,
            writers: Vec::new(),
        }
    }

    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Prune old recordings on a thread of its own (at start).
    pub fn prune_in_background(&self) {
        let s = self.settings.clone();
        let _ = std::thread::Builder::new()
            .name("lumen-prune".into())
            .spawn(move || {
                store::prune(&s.root, s.keep_days, s.max_total, SystemTime::now());
            });
    }

    /// Start recording a pane; `waker` wakes the UI loop when a pane that waited for the
    /// writer may go on. None (and a log line) when the writer cannot start.
    pub fn start(&mut self, session: Session, waker: crate::stream::Waker) -> Option<Recorder> {
        self.writers
            .retain(|(_, h)| !h.iter().all(|h| h.is_finished()));
        let (tx, rx) = mpsc::channel();
        let (next_tx, next_rx) = mpsc::channel();
        let flow = Arc::new(Flow::default());
        let spill = Arc::new(OnceLock::new());
        let spool = Spool {
            dir: self.settings.root.clone(),
            flow: flow.clone(),
            waker,
            spill: spill.clone(),
        };
        let writer = Writer {
            settings: self.settings.clone(),
            session,
            vault: self.vault.clone(),
            masker: Masker::default(),
            file: None,
            flow: flow.clone(),
            spill,
            secrets: None,
            dropped: 0,
            serial: 0,
            alongside: false,
        };
        let spawned = std::thread::Builder::new()
            .name("lumen-record".into())
            .spawn(move || {
                let flow = writer.flow.clone();
                writer.run(next_rx);
                // The spool stops waiting for room that will never come.
                flow.writer_done.store(true, Ordering::Release);
            })
            .and_then(|w| {
                let s = std::thread::Builder::new()
                    .name("lumen-spool".into())
                    .spawn(move || spool.run(rx, next_tx))?;
                Ok([s, w])
            });
        match spawned {
            Ok(handles) => {
                self.writers.push((tx.clone(), handles));
                Some(Recorder { tx, flow })
            }
            Err(e) => {
                tracing::warn!("recording not started: {e}");
                None
            }
        }
    }

    /// End every recording and wait until each file is written and compressed.
    pub fn finish(&mut self) {
        for (tx, _) in &self.writers {
            let _ = tx.send(Cmd::Stop);
        }
        for (_, handles) in self.writers.drain(..) {
            for h in handles {
                let _ = h.join();
            }
        }
    }
}

impl Drop for Recordings {
    fn drop(&mut self) {
        self.finish();
    }
}

/// A pane's end of its recording. Dropping it ends the recording.
#[derive(Debug)]
pub struct Recorder {
    tx: mpsc::Sender<Cmd>,
    flow: Arc<Flow>,
}

impl Recorder {
    /// Whether the recording can take more output now. When not, the pane waits: the spool
    /// wakes the UI loop once it has caught up.
    pub fn ready(&self) -> bool {
        let queued = &self.flow.queued;
        if queued.load(Ordering::Acquire) < MAX_IN_FLIGHT {
            return true;
        }
        self.flow.blocked.store(true, Ordering::Release);
        // It may have caught up meanwhile (and found nobody blocked).
        queued.load(Ordering::Acquire) < MAX_IN_FLIGHT
    }

    /// Output as the pane parsed it.
    pub fn output(&self, bytes: Vec<u8>) {
        self.flow.output_now();
        self.flow.queued.fetch_add(bytes.len(), Ordering::AcqRel);
        if self.tx.send(Cmd::Output(Instant::now(), bytes)).is_err() {
            self.flow.queued.store(0, Ordering::Release);
        }
    }

    pub fn resize(&self, cols: u16, rows: u16) {
        let _ = self
            .tx
            .send(Cmd::Extra(Instant::now(), Extra::Resize(cols, rows)));
    }

    /// A marker (an approved command, a runbook step), placeholders as `{{vault:NAME}}`.
    pub fn marker(&self, text: &str) {
        let _ = self
            .tx
            .send(Cmd::Extra(Instant::now(), Extra::Marker(text.to_string())));
    }
}

impl Drop for Recorder {
    fn drop(&mut self) {
        let _ = self.tx.send(Cmd::Stop);
    }
}

struct CastFile {
    path: PathBuf,
    out: std::io::BufWriter<std::fs::File>,
    written: u64,
    start: Instant,
}

struct Writer {
    settings: Settings,
    session: Session,
    vault: VaultOwner,
    masker: Masker,
    file: Option<CastFile>,
    flow: Arc<Flow>,
    /// Where the spool seals what waits on disk (made by the spool on its first spill).
    spill: Arc<OnceLock<Spill>>,
    /// The vault generation the secrets were built for, and them.
    secrets: Option<(u64, Arc<Secrets>)>,
    /// Output dropped unwritten while the vault was locked, not yet said in the file.
    dropped: usize,
    /// Files this recording has had (for the names of the next).
    serial: u32,
    /// The burst outlasted the writer's wait: it works alongside until the burst ends.
    alongside: bool,
}

impl Writer {
    fn run(mut self, rx: mpsc::Receiver<Next>) {
        let mut stop = false;
        while !stop {
            self.wait_out_burst();
            let first = match rx.recv_timeout(QUIET) {
                Ok(next) => next,
                Err(mpsc::RecvTimeoutError::Timeout) => {
                    self.write_out(Flush::Quiet);
                    continue;
                }
                Err(mpsc::RecvTimeoutError::Disconnected) => break,
            };
            let mut batch = 0;
            let mut next = Some(first);
            while let Some(item) = next.take() {
                match item {
                    Next::Output(at, bytes) => {
                        batch += bytes.len();
                        self.masker.push(at, &bytes);
                        self.flow.in_memory.fetch_sub(bytes.len(), Ordering::AcqRel);
                    }
                    Next::Spilled(record) => {
                        batch += record.output;
                        self.unspill(&record);
                        let n = record.output as u64;
                        self.flow.spilled.fetch_sub(n, Ordering::AcqRel);
                    }
                    Next::Extra(at, e) => self.masker.extra(at, e),
                    Next::Stop => {
                        stop = true;
                        break;
                    }
                }
                if batch < BATCH {
                    next = rx.try_recv().ok();
                }
            }
            self.write_out(Flush::Hold);
        }
        self.write_out(Flush::All);
        if !self.masker.is_empty() {
            // Still locked: what is held is never written unmasked.
            self.dropped += self.masker.discard_front(0);
            self.masker = Masker::default();
            self.say_dropped(
                Instant::now(),
                "the pane ended before the vault was unlocked",
            );
        }
        self.close();
    }

    /// Wait while the pane is in a burst of output (see the module's documentation).
    fn wait_out_burst(&mut self) {
        let flow = &self.flow;
        if self.alongside {
            self.alongside = flow.in_burst(BURST_GAP);
            return;
        }
        let start = Instant::now();
        while flow.in_burst(BURST_GAP) {
            if start.elapsed() >= MAX_DEFER || flow.waiting() >= DEFER_BYTES {
                self.alongside = true;
                return;
            }
            std::thread::sleep(BURST_POLL);
        }
    }

    /// Read spilled output back into the masker; output that does not open is said lost.
    fn unspill(&mut self, record: &super::spool::Record) {
        let opened = match self.spill.get() {
            Some(spill) => spill.open(record).map_err(|e| e.to_string()),
            None => Err("no spill file".to_string()),
        };
        match opened {
            Ok((buf, chunks)) => {
                for (at, range) in chunks {
                    if let Some(bytes) = buf.get(range) {
                        self.masker.push(at, bytes);
                    }
                }
            }
            Err(e) => {
                tracing::warn!("recording for {}: {e}", self.session.host);
                self.dropped += record.output;
                self.say_dropped(
                    Instant::now(),
                    "it could not be read back from the spill file",
                );
            }
        }
    }

    /// The secrets to mask with, None while a vault exists but is locked.
    fn secrets(&mut self) -> Option<Arc<Secrets>> {
        let generation = self.vault.generation();
        if !self.vault.is_unlocked() {
            if self.vault.any_exists() {
                return None;
            }
            return Some(Arc::new(Secrets::new()));
        }
        if let Some((g, s)) = &self.secrets
            && *g == generation
        {
            return Some(s.clone());
        }
        let built = self
            .vault
            .read(|vs| {
                let refs: Vec<&crate::vault::Vault> = vs.iter().map(|s| &s.vault).collect();
                Secrets::from_vaults(&refs)
            })
            .ok()?;
        let built = Arc::new(built);
        self.secrets = Some((generation, built.clone()));
        Some(built)
    }

    fn write_out(&mut self, flush: Flush) {
        if !self.vault.is_unlocked() {
            // The values leave memory with the vault (this runs at least every QUIET).
            self.secrets = None;
        }
        if self.masker.is_empty() {
            return;
        }
        let Some(secrets) = self.secrets() else {
            let gone = self.masker.discard_front(LOCKED_HOLD);
            self.dropped += gone;
            return;
        };
        if self.dropped > 0 {
            self.say_dropped(
                Instant::now(),
                "the vault was locked and the hold-back was full",
            );
        }
        let items = self.masker.take(flush, &secrets);
        for (at, item) in items {
            self.write_item(at, item, &secrets);
        }
        if let Some(f) = &mut self.file
            && f.out.flush().is_err()
        {
            tracing::warn!("recording {}: cannot write", f.path.display());
        }
    }

    fn say_dropped(&mut self, at: Instant, why: &str) {
        let n = std::mem::take(&mut self.dropped);
        if n > 0 {
            let text = format!("lumen: {n} bytes of output were not recorded: {why}");
            self.write_item(at, Item::Extra(Extra::Marker(text)), &Secrets::new());
        }
    }

    fn write_item(&mut self, at: Instant, item: Item, secrets: &Secrets) {
        let resized = match &item {
            Item::Extra(Extra::Resize(c, r)) => Some((*c, *r)),
            _ => None,
        };
        let Some(file) = self.file_for(at) else {
            return;
        };
        let t = at.saturating_duration_since(file.start).as_secs_f64();
        let ev = match item {
            Item::Output(text) => Event::Output(t, text),
            Item::Extra(Extra::Resize(c, r)) => Event::Resize(t, c, r),
            // Markers carry placeholders already; masked again in case a value slipped in.
            Item::Extra(Extra::Marker(m)) => {
                Event::Marker(t, crate::ai::redact::mask(&m, secrets).text)
            }
        };
        let line = ev.line();
        if file.out.write_all(line.as_bytes()).is_err() {
            tracing::warn!("recording {}: cannot write", file.path.display());
            return;
        }
        file.written += line.len() as u64;
        let full = file.written >= self.settings.max_file;
        if let Some(size) = resized {
            // A file started after a cut has the size the pane has then.
            (self.session.cols, self.session.rows) = size;
        }
        if full {
            self.rotate(at);
        }
    }

    /// The open file, opened (with its header) when there is none.
    fn file_for(&mut self, at: Instant) -> Option<&mut CastFile> {
        if self.file.is_none() {
            match self.open(at) {
                Ok(f) => self.file = Some(f),
                Err(e) => {
                    tracing::warn!("recording for {}: {e}", self.session.host);
                    return None;
                }
            }
        }
        self.file.as_mut()
    }

    fn open(&mut self, at: Instant) -> std::io::Result<CastFile> {
        let now = SystemTime::now();
        self.serial += 1;
        let path = store::new_path(
            &self.settings.root,
            &self.session.host,
            self.session.pane,
            now,
        )?;
        let file = store::create_private(&path)?;
        let mut out = std::io::BufWriter::with_capacity(256 * 1024, file);
        let header = Header {
            version: 2,
            width: self.session.cols,
            height: self.session.rows,
            timestamp: now
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_secs() as i64),
            env: [("TERM".to_string(), "xterm-256color".to_string())].into(),
            title: if self.serial > 1 {
                format!("{} (part {})", self.session.title, self.serial)
            } else {
                self.session.title.clone()
            },
            lumen_version: Some(env!("CARGO_PKG_VERSION").to_string()),
            redacted: true,
        };
        let line = serde_json::to_string(&header).map_err(std::io::Error::other)? + "\n";
        out.write_all(line.as_bytes())?;
        Ok(CastFile {
            path,
            out,
            written: line.len() as u64,
            start: at,
        })
    }

    /// The file reached its cap: it ends with a marker saying so, and the next one starts.
    fn rotate(&mut self, at: Instant) {
        let Some(mut file) = self.file.take() else {
            return;
        };
        let t = at.saturating_duration_since(file.start).as_secs_f64();
        let text = format!(
            "lumen: this file reached its size cap of {} bytes; the session continues in the next file",
            self.settings.max_file
        );
        let _ = file.out.write_all(Event::Marker(t, text).line().as_bytes());
        self.finish_file(file);
        // The next file starts with the size the pane has now.
    }

    fn close(&mut self) {
        if let Some(file) = self.file.take() {
            self.finish_file(file);
        }
    }

    fn finish_file(&mut self, file: CastFile) {
        let CastFile { path, out, .. } = file;
        let done = out
            .into_inner()
            .map_err(|e| e.into_error())
            .and_then(|f| f.sync_all());
        if let Err(e) = done.and_then(|_| compress(&path)) {
            tracing::warn!("recording {}: {e}", path.display());
        }
        let s = &self.settings;
        store::prune(&s.root, s.keep_days, s.max_total, SystemTime::now());
    }
}

/// `x.cast` → `x.cast.gz` (0600), then `x.cast` goes.
pub fn compress(path: &Path) -> std::io::Result<()> {
    let mut name = path.as_os_str().to_owned();
    name.push(".gz");
    let gz_path = PathBuf::from(name);
    let mut input = std::fs::File::open(path)?;
    let out = store::create_private(&gz_path)?;
    let mut enc = flate2::write::GzEncoder::new(out, flate2::Compression::fast());
    std::io::copy(&mut input, &mut enc)?;
    enc.finish()?.sync_all()?;
    std::fs::remove_file(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An unlocked vault at `dir/vault.lumen` holding one password.
    fn vault(dir: &Path) -> VaultOwner {
        use crate::vault::{KdfParams, Kind, NewEntry, Scope, Vault};
        let path = dir.join("vault.lumen");
        let pass = secrecy::SecretString::from("correct horse");
        let fast = KdfParams {
            memory_kib: 64,
            time: 1,
            lanes: 1,
        };
        let mut v = Vault::create(&path, &pass, fast).unwrap();
        let entry = NewEntry {
            kind: Some(Kind::Password),
            secret: Some(secrecy::SecretString::from("Vv-s3cret-value-2718")),
            ..NewEntry::default()
        };
        v.add("db/root", entry).unwrap();
        v.save().unwrap();
        let owner = VaultOwner::new(vec![(Scope::Personal, path)]);
        owner.unlock(&pass).unwrap();
        owner
    }

    /// The writer keeps the vault's values (its matcher) only while the vault is unlocked:
    /// an idle pane's writer lets them go within one quiet tick of the lock.
    #[test]
    fn a_locked_vault_leaves_no_values_with_an_idle_writer() {
        let dir = tempfile::tempdir().unwrap();
        let owner = vault(dir.path());
        let mut w = Writer {
            settings: Settings {
                root: dir.path().join("recordings"),
                max_file: 1 << 20,
                keep_days: 90,
                max_total: 1 << 30,
            },
            session: Session {
                host: "db1".into(),
                pane: 1,
                title: "db1".into(),
                cols: 80,
                rows: 24,
            },
            vault: owner.clone(),
            masker: Masker::default(),
            file: None,
            flow: Arc::new(Flow::default()),
            spill: Arc::new(OnceLock::new()),
            secrets: None,
            dropped: 0,
            serial: 0,
            alongside: false,
        };
        w.masker
            .push(Instant::now(), b"the value is Vv-s3cret-value-2718\r\n");
        w.write_out(Flush::All);
        assert!(w.secrets.is_some(), "masking built the matcher");
        assert!(owner.lock());
        // What the writer does when the pane is quiet for QUIET: nothing to write.
        w.write_out(Flush::Quiet);
        assert!(w.secrets.is_none(), "the values outlived the lock");
        w.close();
    }
}
