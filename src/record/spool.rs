//! A recorded pane's output on its way to the recording's writer. During a burst of output
//! the writer waits (see [`super::writer`]), so that its masking does not take CPU from the
//! burst itself; the burst's output waits here meanwhile: up to [`MEM_QUEUE`] bytes in
//! memory, and past that on disk, in a spill file sealed with XChaCha20-Poly1305 under a key
//! that exists only in this process's memory. The file is an unnamed temporary file in the
//! recordings directory: it is gone when lumen ends, however it ends, and what it held cannot
//! be read without the key. Past [`MAX_SPILL`] bytes spilled, the spool waits for the writer,
//! and so, in turn, does the pane.

use super::mask::Extra;
use chacha20poly1305::aead::{AeadInPlace, KeyInit};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// Output bytes the pane may have handed over and the spool not yet taken.
pub const MAX_IN_FLIGHT: usize = 4 * 1024 * 1024;
/// Output bytes waiting for the writer in memory.
pub const MEM_QUEUE: usize = 4 * 1024 * 1024;
/// Output bytes waiting for the writer on disk, sealed (a 100 MB flood fits).
pub const MAX_SPILL: u64 = 256 * 1024 * 1024;
/// Chunks taken together into one sealed record.
const RECORD: usize = 1024 * 1024;
/// How long output about to be spilled waits for more to seal with it.
const GATHER: Duration = Duration::from_millis(2);
/// How often a spool with nowhere to put output looks again.
const FULL_POLL: Duration = Duration::from_millis(5);

/// From the pane to the spool.
pub(super) enum Cmd {
    Output(Instant, Vec<u8>),
    Extra(Instant, Extra),
    Stop,
}

/// From the spool to the writer, in the pane's order.
pub(super) enum Next {
    Output(Instant, Vec<u8>),
    /// Chunks sealed in the spill file.
    Spilled(Record),
    Extra(Instant, Extra),
    Stop,
}

/// Where one sealed batch of chunks lies in the spill file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) struct Record {
    offset: u64,
    /// Sealed bytes (the chunks, their times and lengths, the tag).
    len: usize,
    nonce: u64,
    /// Output bytes it holds.
    pub(super) output: usize,
}

/// How much output waits where, shared by the pane, the spool and the writer.
#[derive(Debug, Default)]
pub(super) struct Flow {
    /// Handed over by the pane, not yet taken by the spool.
    pub(super) queued: AtomicUsize,
    /// Passed to the writer in memory, not yet masked.
    pub(super) in_memory: AtomicUsize,
    /// Sealed in the spill file, not yet read back.
    pub(super) spilled: AtomicU64,
    /// The pane found the spool behind and waits to be woken.
    pub(super) blocked: AtomicBool,
    /// The writer has ended.
    pub(super) writer_done: AtomicBool,
    /// The recording is ending (the spool has its stop): the writer waits no more.
    pub(super) ending: AtomicBool,
    /// Spilling failed (a full disk): output waits in memory only, bounded.
    pub(super) no_spill: AtomicBool,
    /// When the pane last handed over output, in nanoseconds since [`EPOCH`].
    last_output: AtomicU64,
}

/// The time [`Flow`] counts from.
static EPOCH: std::sync::LazyLock<Instant> = std::sync::LazyLock::new(Instant::now);

impl Flow {
    /// The pane handed over output now.
    pub(super) fn output_now(&self) {
        let nanos = EPOCH.elapsed().as_nanos() as u64;
        self.last_output.store(nanos, Ordering::Release);
    }

    /// Whether output came within `gap`, the recording goes on and a burst's output has
    /// somewhere to wait (the writer waits out a burst only then).
    pub(super) fn in_burst(&self, gap: Duration) -> bool {
        let last = Duration::from_nanos(self.last_output.load(Ordering::Acquire));
        !self.ending.load(Ordering::Acquire)
            && !self.no_spill.load(Ordering::Acquire)
            && EPOCH.elapsed().saturating_sub(last) < gap
    }

    /// Output bytes handed over and not yet taken by the writer, wherever they wait.
    pub(super) fn waiting(&self) -> u64 {
        (self.queued.load(Ordering::Acquire) + self.in_memory.load(Ordering::Acquire)) as u64
            + self.spilled.load(Ordering::Acquire)
    }
}

/// A record opened: its buffer, and each chunk's arrival time and range in it.
pub(super) type Opened = (Vec<u8>, Vec<(Instant, std::ops::Range<usize>)>);

/// The spill file and its key: the spool seals into it, the writer opens from it.
pub(super) struct Spill {
    file: std::fs::File,
    cipher: XChaCha20Poly1305,
    /// Chunk times are kept as nanoseconds since this.
    base: Instant,
}

impl std::fmt::Debug for Spill {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Spill([sealed])")
    }
}

/// Sealing failed or a record did not open (the file was changed or cut under lumen).
#[derive(Debug, thiserror::Error)]
pub(super) enum SpillError {
    #[error("the spill file cannot be read or written: {0}")]
    Io(#[from] std::io::Error),
    #[error("a spilled record does not open (the spill file was changed)")]
    Sealed,
    #[error("a spilled record is malformed")]
    Malformed,
}

impl Spill {
    /// A new spill file in `dir` (made 0700 if need be), under a fresh random key.
    pub(super) fn create(dir: &Path) -> std::io::Result<Spill> {
        use rand::RngCore;
        crate::paths::ensure_private_dir(dir)?;
        let file = tempfile::tempfile_in(dir)?;
        let mut key = crate::vault::format::Key::zeroed();
        rand::rngs::OsRng.fill_bytes(key.as_mut());
        let cipher = XChaCha20Poly1305::new(key.as_ref().into());
        Ok(Spill {
            file,
            cipher,
            base: Instant::now(),
        })
    }

    fn nonce(n: u64) -> XNonce {
        let mut nonce = [0u8; 24];
        nonce[..8].copy_from_slice(&n.to_le_bytes());
        XNonce::from(nonce)
    }

    /// Seal `chunks` at `offset` with nonce number `nonce` (never used twice under this key).
    pub(super) fn seal(
        &self,
        offset: u64,
        nonce: u64,
        chunks: &[(Instant, Vec<u8>)],
    ) -> Result<Record, SpillError> {
        let output: usize = chunks.iter().map(|(_, b)| b.len()).sum();
        let mut buf = Vec::with_capacity(4 + chunks.len() * 12 + output + 16);
        buf.extend_from_slice(&(chunks.len() as u32).to_le_bytes());
        for (at, bytes) in chunks {
            let nanos = at.saturating_duration_since(self.base).as_nanos() as u64;
            buf.extend_from_slice(&nanos.to_le_bytes());
            buf.extend_from_slice(&(bytes.len() as u32).to_le_bytes());
        }
        for (_, bytes) in chunks {
            buf.extend_from_slice(bytes);
        }
        self.cipher
            .encrypt_in_place(&Self::nonce(nonce), b"", &mut buf)
            .map_err(|_| SpillError::Sealed)?;
        self.file.write_all_at(&buf, offset)?;
        Ok(Record {
            offset,
            len: buf.len(),
            nonce,
            output,
        })
    }

    /// The chunks of `record` as they were sealed: (arrival time, range in the returned buffer).
    pub(super) fn open(&self, record: &Record) -> Result<Opened, SpillError> {
        let mut buf = vec![0u8; record.len];
        self.file.read_exact_at(&mut buf, record.offset)?;
        self.cipher
            .decrypt_in_place(&Self::nonce(record.nonce), b"", &mut buf)
            .map_err(|_| SpillError::Sealed)?;
        let word = |at: usize, n: usize| buf.get(at..at + n).ok_or(SpillError::Malformed);
        let count = u32::from_le_bytes(word(0, 4)?.try_into().map_err(|_| SpillError::Malformed)?);
        let mut chunks = Vec::with_capacity(count as usize);
        let mut data = 4 + count as usize * 12;
        for i in 0..count as usize {
            let at = 4 + i * 12;
            let nanos =
                u64::from_le_bytes(word(at, 8)?.try_into().map_err(|_| SpillError::Malformed)?);
            let len = u32::from_le_bytes(
                word(at + 8, 4)?
                    .try_into()
                    .map_err(|_| SpillError::Malformed)?,
            );
            let end = data + len as usize;
            if end > buf.len() {
                return Err(SpillError::Malformed);
            }
            chunks.push((self.base + Duration::from_nanos(nanos), data..end));
            data = end;
        }
        Ok((buf, chunks))
    }

    /// Give the disk back (nothing spilled is waiting).
    fn clear(&self) {
        let _ = self.file.set_len(0);
    }
}

/// The spool's side: takes the pane's commands off `rx` in order and passes them on to the
/// writer through `tx`, in memory while the writer keeps up, sealed on disk while not.
pub(super) struct Spool {
    /// Where the spill file goes (the recordings directory).
    pub(super) dir: PathBuf,
    pub(super) flow: Arc<Flow>,
    pub(super) waker: crate::stream::Waker,
    /// Shared with the writer, made on the first spill (None until then, or if it failed).
    pub(super) spill: Arc<std::sync::OnceLock<Spill>>,
}

impl Spool {
    pub(super) fn run(self, rx: mpsc::Receiver<Cmd>, tx: mpsc::Sender<Next>) {
        let mut end = 0u64;
        let mut nonce = 0u64;
        let mut pending: Option<Cmd> = None;
        loop {
            let cmd = match pending.take() {
                Some(cmd) => cmd,
                None => match rx.recv() {
                    Ok(cmd) => cmd,
                    Err(_) => break,
                },
            };
            let (at, bytes) = match cmd {
                Cmd::Output(at, bytes) => (at, bytes),
                Cmd::Extra(at, e) => {
                    if tx.send(Next::Extra(at, e)).is_err() {
                        break;
                    }
                    continue;
                }
                Cmd::Stop => {
                    self.flow.ending.store(true, Ordering::Release);
                    let _ = tx.send(Next::Stop);
                    break;
                }
            };
            // The output queued right behind it goes the same way, up to a record's worth.
            let mut chunks = vec![(at, bytes)];
            let mut size = chunks[0].1.len();
            let mut waited = false;
            loop {
                while size < RECORD && pending.is_none() {
                    match rx.try_recv() {
                        Ok(Cmd::Output(at, bytes)) => {
                            size += bytes.len();
                            chunks.push((at, bytes));
                        }
                        Ok(other) => pending = Some(other),
                        Err(_) => break,
                    }
                }
                // Output about to be spilled waits a moment for more: a flood arrives in
                // chunks of a few KiB, and one record (and one wake-up of this thread) per
                // chunk would cost more than the sealing.
                if waited || size >= RECORD || pending.is_some() || self.keeps_up(size) {
                    break;
                }
                std::thread::sleep(GATHER);
                waited = true;
            }
            let sent = loop {
                if self.keeps_up(size) {
                    self.flow.in_memory.fetch_add(size, Ordering::AcqRel);
                    let mut ok = true;
                    for (at, bytes) in chunks.drain(..) {
                        ok &= tx.send(Next::Output(at, bytes)).is_ok();
                    }
                    break ok;
                }
                let spilled = self.flow.spilled.load(Ordering::Acquire);
                if !self.flow.no_spill.load(Ordering::Acquire)
                    && (spilled == 0 || spilled + size as u64 <= MAX_SPILL)
                {
                    match self.seal(&mut end, &mut nonce, spilled == 0, &chunks) {
                        Ok(record) => {
                            self.flow.spilled.fetch_add(size as u64, Ordering::AcqRel);
                            break tx.send(Next::Spilled(record)).is_ok();
                        }
                        Err(e) => {
                            // As without a spill: the pane waits while the memory queue is
                            // full, and the writer no longer waits out bursts.
                            tracing::warn!("recording: nothing is spilled to disk: {e}");
                            self.flow.no_spill.store(true, Ordering::Release);
                            continue;
                        }
                    }
                }
                if self.flow.writer_done.load(Ordering::Acquire) {
                    break false;
                }
                std::thread::sleep(FULL_POLL);
            };
            self.flow.queued.fetch_sub(size, Ordering::AcqRel);
            if self.flow.queued.load(Ordering::Acquire) < MAX_IN_FLIGHT / 2
                && self.flow.blocked.swap(false, Ordering::AcqRel)
            {
                self.waker.wake();
            }
            if !sent {
                break; // the writer is gone
            }
        }
    }

    /// Whether `size` more bytes may wait for the writer in memory.
    fn keeps_up(&self, size: usize) -> bool {
        let in_memory = self.flow.in_memory.load(Ordering::Acquire);
        in_memory == 0 || in_memory + size <= MEM_QUEUE
    }

    /// Seal `chunks` at the end of the spill file (at its start when nothing spilled waits).
    fn seal(
        &self,
        end: &mut u64,
        nonce: &mut u64,
        drained: bool,
        chunks: &[(Instant, Vec<u8>)],
    ) -> Result<Record, SpillError> {
        let spill = match self.spill.get() {
            Some(s) => s,
            None => {
                let made = Spill::create(&self.dir)?;
                self.spill.get_or_init(|| made)
            }
        };
        if drained && *end > 0 {
            spill.clear();
            *end = 0;
        }
        let record = spill.seal(*end, *nonce, chunks)?;
        *nonce += 1;
        *end += record.len as u64;
        Ok(record)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chunks() -> Vec<(Instant, Vec<u8>)> {
        let t = Instant::now();
        (0..50u64)
            .map(|i| {
                let text = format!("line {i}: password=Zq8vN2-not-in-clear-{i}\r\n");
                (t + Duration::from_millis(i * 7), text.into_bytes())
            })
            .collect()
    }

    fn file_bytes(spill: &Spill) -> Vec<u8> {
        let len = spill.file.metadata().map(|m| m.len()).unwrap_or(0) as usize;
        let mut buf = vec![0u8; len];
        spill.file.read_exact_at(&mut buf, 0).unwrap();
        buf
    }

    #[test]
    fn spilled_output_is_sealed_on_disk_and_opens_as_it_went_in() {
        let dir = tempfile::tempdir().unwrap();
        let spill = Spill::create(&dir.path().join("recordings")).unwrap();
        let input = chunks();
        let first = spill.seal(0, 0, &input[..20]).unwrap();
        let second = spill.seal(first.len as u64, 1, &input[20..]).unwrap();
        let on_disk = file_bytes(&spill);
        assert_eq!(on_disk.len(), first.len + second.len);
        for needle in [&b"Zq8vN2"[..], b"password", b"line "] {
            assert!(
                !on_disk.windows(needle.len()).any(|w| w == needle),
                "plain text on disk"
            );
        }
        // The spill file has no name: nothing is left in the directory.
        let names = std::fs::read_dir(dir.path().join("recordings"))
            .unwrap()
            .count();
        assert_eq!(names, 0);
        let mut out = Vec::new();
        for record in [first, second] {
            let (buf, parts) = spill.open(&record).unwrap();
            out.extend(parts.into_iter().map(|(at, r)| (at, buf[r].to_vec())));
        }
        assert_eq!(out.len(), input.len());
        for ((a, x), (b, y)) in out.iter().zip(&input) {
            assert_eq!(x, y);
            let skew = a.max(b).duration_since(*a.min(b));
            assert!(skew < Duration::from_micros(1), "{skew:?}");
        }
    }

    #[test]
    fn a_changed_spill_record_does_not_open() {
        let dir = tempfile::tempdir().unwrap();
        let spill = Spill::create(dir.path()).unwrap();
        let record = spill.seal(0, 0, &chunks()).unwrap();
        let mut bytes = file_bytes(&spill);
        bytes[10] ^= 1;
        spill.file.write_all_at(&bytes, 0).unwrap();
        assert!(matches!(spill.open(&record), Err(SpillError::Sealed)));
    }

    /// Spilling fails (here the directory cannot be made; on a full disk the same): output
    /// waits in memory only up to its bound, the pane's side waits meanwhile, and the writer
    /// is told not to wait out bursts. Every chunk still arrives, in order.
    #[test]
    fn without_a_spill_file_output_waits_in_memory_only_up_to_its_bound() {
        let dir = tempfile::tempdir().unwrap();
        let not_a_dir = dir.path().join("file");
        std::fs::write(&not_a_dir, b"").unwrap();
        let flow = Arc::new(Flow::default());
        let spool = Spool {
            dir: not_a_dir.join("recordings"),
            flow: flow.clone(),
            waker: crate::stream::Waker::new(),
            spill: Arc::new(std::sync::OnceLock::new()),
        };
        let (tx, rx) = mpsc::channel();
        let (ntx, nrx) = mpsc::channel();
        let thread = std::thread::spawn(move || spool.run(rx, ntx));
        // A slow writer: takes a chunk now and then, as the real one does in memory.
        let reader_flow = flow.clone();
        let reader = std::thread::spawn(move || {
            let (mut most, mut got) = (0, Vec::new());
            for next in nrx.iter() {
                most = most.max(reader_flow.in_memory.load(Ordering::Acquire));
                match next {
                    Next::Output(_, bytes) => {
                        reader_flow
                            .in_memory
                            .fetch_sub(bytes.len(), Ordering::AcqRel);
                        got.push(bytes[0]);
                    }
                    Next::Stop => break,
                    _ => panic!("nothing can be spilled"),
                }
                std::thread::sleep(Duration::from_micros(200));
            }
            (most, got)
        });
        let chunk = 64 * 1024;
        let count = 3 * MEM_QUEUE / chunk;
        let t = Instant::now();
        for i in 0..count {
            flow.queued.fetch_add(chunk, Ordering::AcqRel);
            tx.send(Cmd::Output(t, vec![(i % 251) as u8; chunk]))
                .unwrap();
        }
        tx.send(Cmd::Stop).unwrap();
        thread.join().unwrap();
        let (most, got) = reader.join().unwrap();
        assert!(most <= MEM_QUEUE + RECORD, "{most} bytes waited in memory");
        assert!(flow.no_spill.load(Ordering::Acquire));
        assert!(!flow.in_burst(Duration::from_secs(3600)));
        let want: Vec<u8> = (0..count).map(|i| (i % 251) as u8).collect();
        assert_eq!(got, want);
    }

    /// A writer that takes nothing: the pane's output goes on past what may wait in memory,
    /// sealed on disk, and reaches the writer in order once it reads.
    #[test]
    fn a_writer_that_falls_behind_does_not_hold_the_pane_up_until_the_spill_is_full() {
        let dir = tempfile::tempdir().unwrap();
        let flow = Arc::new(Flow::default());
        let spill = Arc::new(std::sync::OnceLock::new());
        let spool = Spool {
            dir: dir.path().to_path_buf(),
            flow: flow.clone(),
            waker: crate::stream::Waker::new(),
            spill: spill.clone(),
        };
        let (tx, rx) = mpsc::channel();
        let (ntx, nrx) = mpsc::channel();
        let thread = std::thread::spawn(move || spool.run(rx, ntx));
        let chunk = 64 * 1024;
        let total = 3 * (MEM_QUEUE + MAX_IN_FLIGHT);
        let t = Instant::now();
        for i in 0..total / chunk {
            let bytes = vec![b'a' + (i % 26) as u8; chunk];
            flow.queued.fetch_add(chunk, Ordering::AcqRel);
            tx.send(Cmd::Output(t, bytes)).unwrap();
        }
        tx.send(Cmd::Stop).unwrap();
        thread.join().unwrap();
        assert_eq!(flow.queued.load(Ordering::Acquire), 0);
        assert!(flow.in_memory.load(Ordering::Acquire) <= MEM_QUEUE);
        assert!(flow.spilled.load(Ordering::Acquire) >= (total - MEM_QUEUE) as u64);
        let spill = spill.get().unwrap();
        let mut i = 0usize;
        for next in nrx.iter() {
            let parts: Vec<Vec<u8>> = match next {
                Next::Output(_, bytes) => vec![bytes],
                Next::Spilled(record) => {
                    let (buf, parts) = spill.open(&record).unwrap();
                    parts.into_iter().map(|(_, r)| buf[r].to_vec()).collect()
                }
                Next::Extra(..) => panic!("no extras were sent"),
                Next::Stop => break,
            };
            for bytes in parts {
                assert_eq!(bytes, vec![b'a' + (i % 26) as u8; chunk], "chunk {i}");
                i += 1;
            }
        }
        assert_eq!(i, total / chunk);
    }
}
