//! Whether a vault and its audit log agree. Every save records in the authenticated header the
//! vault's generation (its number of saves) and where the log ended (event count, byte length,
//! seal of the last event); the events a save writes carry that generation. So:
//! - a log shorter than the anchor, or without the anchored event at its place, was cut,
//!   emptied, replaced or rewritten (the seal is an HMAC, so a recomputed chain does not match);
//! - a keyed save event after the anchor with a higher generation means the vault file is an
//!   older copy than the one that wrote the log (rollback);
//! - events appended after the last save (uses of a secret) are chained with the key, so they
//!   cannot be forged or edited; cutting them off the end is not detectable (see `--privacy`).

use super::audit::{AuditKey, Event, GENESIS, parse_line};
use super::error::Result;
use super::format::Anchor;
use super::logfile::LogFile;
use sha2::Digest;

/// Something wrong with an audit log, in words a user can act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AuditProblem {
    /// No log, though the vault's last save wrote events to it.
    Missing {
        recorded: u64,
    },
    /// Shorter than the vault's last save left it.
    Cut {
        found_events: u64,
        found_bytes: u64,
        recorded_events: u64,
        recorded_bytes: u64,
    },
    /// The event the vault recorded at its last save is not where the vault says.
    NotInLog {
        seq: u64,
    },
    /// The log up to the vault's last save differs from what that save left, though every
    /// event still parses and seals (e.g. re-spelled JSON).
    Altered {
        recorded_bytes: u64,
    },
    /// A line that is not an audit event.
    Unreadable {
        line: u64,
    },
    /// An event whose seal does not match its fields.
    Forged {
        line: u64,
        seq: u64,
    },
    /// An event sealed with plain SHA-256 after the log was keyed.
    Unkeyed {
        line: u64,
        seq: u64,
    },
    Removed {
        line: u64,
        from: u64,
        to: u64,
    },
    OutOfOrder {
        line: u64,
        seq: u64,
    },
    Unlinked {
        line: u64,
        seq: u64,
    },
    /// A save recorded after a later one: two copies of the vault wrote to this log.
    OutOfStep {
        line: u64,
        seq: u64,
        generation: u64,
    },
    /// The log records a save the vault file has not seen.
    VaultOlder {
        file: u64,
        newest: u64,
        saved: String,
    },
    /// More problems than are worth listing.
    More {
        count: u64,
    },
}

impl std::fmt::Display for AuditProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        use AuditProblem::*;
        match self {
            Missing { recorded } => write!(
                f,
                "the audit log is missing, though the vault's last save left {recorded} events in it (deleted or moved away)"
            ),
            Cut {
                found_events: 0, ..
            } => write!(
                f,
                "the audit log is empty, though the vault's last save left events in it (emptied)"
            ),
            Cut {
                found_events,
                found_bytes,
                recorded_events,
                recorded_bytes,
            } => write!(
                f,
                "the audit log was cut: it has {found_events} events ({found_bytes} bytes), the vault's last save left {recorded_events} ({recorded_bytes} bytes)"
            ),
            NotInLog { seq } => write!(
                f,
                "the audit log does not hold the event the vault recorded at its last save (event {seq}): the log was replaced or rewritten, or was written by another copy of the vault"
            ),
            Altered { recorded_bytes } => write!(
                f,
                "the first {recorded_bytes} bytes of the audit log differ from what the vault's last save left (edited)"
            ),
            Unreadable { line } => write!(
                f,
                "line {line} is not an audit event (edited, or cut in the middle of a line)"
            ),
            Forged { line, seq } => write!(
                f,
                "event {seq} (line {line}) was edited or forged: its seal does not match its fields under the vault's key"
            ),
            Unkeyed { line, seq } => write!(
                f,
                "event {seq} (line {line}) is sealed with plain SHA-256, which anyone can recompute, after the log was keyed: it was rewritten outside lumen"
            ),
            Removed { line, from, to } if from == to => {
                write!(f, "event {from} was removed (before line {line})")
            }
            Removed { line, from, to } => {
                write!(f, "events {from}..{to} were removed (before line {line})")
            }
            OutOfOrder { line, seq } => write!(
                f,
                "event {seq} (line {line}) is out of order (reordered or duplicated)"
            ),
            Unlinked { line, seq } => write!(
                f,
                "event {seq} (line {line}) does not follow the event before it (chain broken)"
            ),
            OutOfStep {
                line,
                seq,
                generation,
            } => write!(
                f,
                "event {seq} (line {line}) records save {generation} after a later save: two copies of the vault wrote to this log"
            ),
            VaultOlder {
                file,
                newest,
                saved,
            } => write!(
                f,
                "the vault file is older than its audit log: the log records save {newest} ({saved}), the file is save {file}"
            ),
            More { count } => write!(f, "and {count} more problems"),
        }
    }
}

/// What to do about any problem but an old vault file.
pub const REMEDY: &str = "restore the vault and its audit log from a backup, or accept them as \
                          they are with 'lumen vault audit --accept' (this is recorded in the log)";

/// At most this many problems are listed; the rest are counted.
const MAX_PROBLEMS: usize = 20;

/// The outcome of reading (part of) a log.
#[derive(Debug, Default)]
pub(super) struct Findings {
    /// Events read.
    pub events: u64,
    pub problems: Vec<AuditProblem>,
    /// Events, lines or links that were wrong in the chain itself (not the anchor).
    pub chain_broken: bool,
    /// The newest save a valid keyed event records: (generation, time).
    pub newest_save: Option<(u64, String)>,
    more: u64,
}

impl Findings {
    fn push(&mut self, p: AuditProblem) {
        if self.problems.len() < MAX_PROBLEMS {
            self.problems.push(p);
        } else {
            self.more += 1;
        }
    }

    fn finish(mut self) -> Findings {
        if self.more > 0 {
            self.problems.push(AuditProblem::More { count: self.more });
        }
        self
    }

    /// A save newer than `generation`, as a problem.
    pub fn newer_save_than(&self, generation: u64) -> Option<AuditProblem> {
        self.newest_save
            .as_ref()
            .filter(|(g, _)| *g > generation)
            .map(|(g, t)| AuditProblem::VaultOlder {
                file: generation,
                newest: *g,
                saved: t.clone(),
            })
    }
}

/// Walks events in order, checking seals, sequence numbers, links and save generations.
/// After a break it carries on from the line it found, so each damage is reported once.
struct Chain<'k> {
    key: &'k AuditKey,
    /// The previous line's seal and the next sequence number, unless that line was unreadable.
    prev: Option<(String, u64)>,
    line: u64,
    /// Only keyed events may follow a keyed one.
    keyed: bool,
    last_save: u64,
    found: Findings,
}

impl<'k> Chain<'k> {
    fn new(key: &'k AuditKey, line: u64, prev: (String, u64), keyed: bool, last_save: u64) -> Self {
        Chain {
            key,
            prev: Some(prev),
            line,
            keyed,
            last_save,
            found: Findings::default(),
        }
    }

    fn feed(&mut self, raw: Option<Vec<u8>>) {
        self.line += 1;
        let line = self.line;
        let Some(e) = raw.as_deref().and_then(parse_line) else {
            self.found.push(AuditProblem::Unreadable { line });
            self.found.chain_broken = true;
            self.prev = None;
            return;
        };
        self.found.events += 1;
        let sealed = e.seal_ok(self.key);
        if e.is_keyed() && !sealed {
            self.broken(AuditProblem::Forged { line, seq: e.seq });
        } else if !e.is_keyed() && self.keyed {
            self.broken(AuditProblem::Unkeyed { line, seq: e.seq });
        } else if !sealed {
            self.broken(AuditProblem::Forged { line, seq: e.seq });
        }
        if let Some((prev, next)) = &self.prev {
            if e.seq > *next {
                self.broken(AuditProblem::Removed {
                    line,
                    from: *next,
                    to: e.seq - 1,
                });
            } else if e.seq < *next {
                self.broken(AuditProblem::OutOfOrder { line, seq: e.seq });
            } else if e.prev != *prev {
                self.broken(AuditProblem::Unlinked { line, seq: e.seq });
            }
        }
        if e.is_keyed() && sealed {
            self.keyed = true;
            self.note_save(&e);
        }
        self.prev = Some((e.seal_hex().to_string(), e.seq + 1));
    }

    fn note_save(&mut self, e: &Event) {
        let Some(g) = e.generation else { return };
        if g < self.last_save {
            self.found.push(AuditProblem::OutOfStep {
                line: self.line,
                seq: e.seq,
                generation: g,
            });
        }
        self.last_save = self.last_save.max(g);
        if self.found.newest_save.as_ref().is_none_or(|(n, _)| g > *n) {
            self.found.newest_save = Some((g, e.time.clone()));
        }
    }

    fn broken(&mut self, p: AuditProblem) {
        self.found.chain_broken = true;
        self.found.push(p);
    }
}

/// Check the whole log from its first line: seals, links, order, generations.
pub(super) fn walk(log: &mut LogFile, key: &AuditKey) -> Result<Findings> {
    let mut chain = Chain::new(key, 0, (GENESIS.to_string(), 0), false, 0);
    let mut lines = log.lines_from(0)?;
    while let Some(raw) = lines.next_line()? {
        chain.feed(raw);
    }
    Ok(chain.found.finish())
}

/// Check the log against the vault's anchor: the bytes up to it are those the last save left
/// (one SHA-256 pass, no parsing), the anchored event is in place, and what follows it is a
/// valid keyed chain. Walks the whole chain only when something before the anchor changed, to
/// say what. `log` is `None` when there is no log file.
pub(super) fn check_anchor(
    log: Option<&mut LogFile>,
    key: &AuditKey,
    anchor: &Anchor,
) -> Result<Findings> {
    let Some(log) = log else {
        let mut found = Findings::default();
        if anchor.audit_events > 0 {
            found.push(AuditProblem::Missing {
                recorded: anchor.audit_events,
            });
        }
        return Ok(found);
    };
    let len = log.len()?;
    if len < anchor.audit_bytes {
        // Walk what is left too: a newer save in it means the vault file is the older one.
        let mut found = walk(log, key)?;
        let cut = AuditProblem::Cut {
            found_events: log.count_lines()?,
            found_bytes: len,
            recorded_events: anchor.audit_events,
            recorded_bytes: anchor.audit_bytes,
        };
        found.problems.insert(0, cut);
        return Ok(found);
    }
    let digest: [u8; 32] = log.digest_prefix(anchor.audit_bytes)?.finalize().into();
    let head = match anchor.audit_events {
        0 => None,
        _ => log
            .line_ending_at(anchor.audit_bytes)?
            .and_then(|l| parse_line(&l))
            .filter(|e| {
                e.is_keyed()
                    && e.seq + 1 == anchor.audit_events
                    && e.seal_bytes() == anchor.audit_seal
                    && e.seal_ok(key)
            }),
    };
    if digest != anchor.audit_digest || (anchor.audit_events > 0 && head.is_none()) {
        // Something before the anchor changed: walk the whole chain to say what and where.
        let mut found = walk(log, key)?;
        if anchor.audit_events > 0 && head.is_none() {
            let seq = anchor.audit_events - 1;
            found.problems.insert(0, AuditProblem::NotInLog { seq });
        } else if found.problems.is_empty() {
            found.problems.push(AuditProblem::Altered {
                recorded_bytes: anchor.audit_bytes,
            });
        }
        return Ok(found);
    }
    let start = head.map_or((GENESIS.to_string(), 0), |h| {
        (h.seal_hex().to_string(), h.seq + 1)
    });
    // Any save after the anchor must be newer than the vault: one at or below its generation
    // is out of step, and a higher one means the vault is older (the caller reports that from
    // `newest_save`).
    let mut chain = Chain::new(key, anchor.audit_events, start, true, anchor.generation + 1);
    let mut lines = log.lines_from(anchor.audit_bytes)?;
    while let Some(raw) = lines.next_line()? {
        chain.feed(raw);
    }
    let mut found = chain.found.finish();
    found.events += anchor.audit_events;
    Ok(found)
}

/// The full check behind `lumen vault audit --verify`: the anchor (for a format 2 vault) and
/// the whole chain, with an old vault file reported as a problem too.
pub(super) fn verify(
    log: Option<&mut LogFile>,
    key: &AuditKey,
    anchor: Option<&Anchor>,
) -> Result<Findings> {
    let Some(log) = log else {
        return match anchor {
            Some(a) => check_anchor(None, key, a),
            None => Ok(Findings::default()),
        };
    };
    let mut found = walk(log, key)?;
    let generation = anchor.map_or(0, |a| a.generation);
    if let Some(a) = anchor {
        let at_anchor = check_anchor(Some(log), key, a)?;
        let anchor_problems = at_anchor.problems.into_iter().filter(|p| {
            matches!(
                p,
                AuditProblem::Missing { .. }
                    | AuditProblem::Cut { .. }
                    | AuditProblem::NotInLog { .. }
                    | AuditProblem::Altered { .. }
            )
        });
        let mut problems: Vec<AuditProblem> = anchor_problems.collect();
        problems.append(&mut found.problems);
        found.problems = problems;
    }
    if let Some(p) = found.newer_save_than(generation) {
        found.problems.insert(0, p);
    }
    Ok(found)
}
