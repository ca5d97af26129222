//! Three-way merges of team files for git's merge driver: an entry is decrypted on every side
//! and merged field by field (a field changed on one side only is taken from it); key.age is
//! regenerated, never merged as bytes: the newer epoch's key, every other side's key kept for
//! the entries written under it, and the recipients merged as sets (a member added on either
//! side joins, one removed on either side stays out).

use super::entries;
use super::error::TeamError;
use super::identity::MyKey;
use super::keyfile::TeamKeys;
use crate::vault::Entry;
use serde_json::Value;
use std::path::Path;

/// The keys a merge can open files with: ours, theirs and the ancestor's key.age together.
pub struct MergeKeys(TeamKeys);

impl std::fmt::Debug for MergeKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

/// Our key.age (which must open), then whichever of the others open with `me`.
pub fn keys(me: &MyKey, ours: &[u8], others: &[&[u8]]) -> Result<MergeKeys, TeamError> {
    let mut keys = TeamKeys::from_bytes(Path::new("key.age (ours)"), ours, me.age_identity())?;
    for other in others {
        if let Ok(k) = TeamKeys::from_bytes(Path::new("key.age"), other, me.age_identity()) {
            keys.absorb(k);
        }
    }
    Ok(MergeKeys(keys))
}

/// The outcome of merging one entry.
#[derive(Debug)]
pub enum EntryMerge {
    /// The merged file's bytes.
    Merged(Vec<u8>),
    /// Both sides changed these fields differently; pick a side with [`seal`].
    Conflict {
        fields: Vec<String>,
        ours: Box<Entry>,
        theirs: Box<Entry>,
    },
}

/// Fields that are bookkeeping rather than content.
const TIMES: [&str; 2] = ["created", "updated"];

/// Merge the three versions of entry `name`'s file. An ancestor that is missing or does not
/// open counts as empty: every field both sides have differently is then a conflict.
pub fn entry(
    name: &str,
    keys: &MergeKeys,
    ancestor: Option<&[u8]>,
    ours: &[u8],
    theirs: &[u8],
) -> Result<EntryMerge, TeamError> {
    let open = |label: &str, bytes: &[u8]| {
        entries::open_bytes(Path::new(label), bytes, name, &keys.0).map(|(e, _)| e)
    };
    let a = open("ours", ours)?;
    let b = open("theirs", theirs)?;
    let o = ancestor
        .filter(|b| !b.is_empty())
        .and_then(|bytes| open("ancestor", bytes).ok());
    let value = |e: &Entry| serde_json::to_value(e).unwrap_or(Value::Null);
    let (va, vb) = (value(&a), value(&b));
    let vo = o.as_ref().map(value).unwrap_or(Value::Null);
    let (Value::Object(ma), Value::Object(mb)) = (&va, &vb) else {
        return Err(TeamError::Refused {
            why: "an entry did not encode as an object".into(),
        });
    };
    let mut merged = serde_json::Map::new();
    let mut conflicts = Vec::new();
    let mut fields: Vec<&String> = ma.keys().chain(mb.keys()).collect();
    fields.sort();
    fields.dedup();
    for f in fields {
        let (fa, fb) = (ma.get(f), mb.get(f));
        let fo = vo.get(f);
        let pick = if TIMES.contains(&f.as_str()) {
            let n = |v: Option<&Value>| v.and_then(Value::as_i64).unwrap_or(0);
            let t = if f == "updated" {
                n(fa).max(n(fb))
            } else {
                n(fa).min(n(fb))
            };
            Some(Value::from(t))
        } else if fa == fb {
            fa.cloned()
        } else if fo == fa {
            fb.cloned()
        } else if fo == fb {
            fa.cloned()
        } else {
            conflicts.push(f.clone());
            fa.cloned()
        };
        if let Some(v) = pick {
            merged.insert(f.clone(), v);
        }
    }
    if !conflicts.is_empty() {
        return Ok(EntryMerge::Conflict {
            fields: conflicts,
            ours: Box::new(a),
            theirs: Box::new(b),
        });
    }
    let entry: Entry =
        serde_json::from_value(Value::Object(merged)).map_err(|_| TeamError::Refused {
            why: "the merged entry does not parse".into(),
        })?;
    Ok(EntryMerge::Merged(seal(&entry, keys)?))
}

/// The file bytes of `entry` under the merge's current key.
pub fn seal(entry: &Entry, keys: &MergeKeys) -> Result<Vec<u8>, TeamError> {
    entries::seal(entry, keys.0.epoch, &keys.0.key)
}

/// Regenerate key.age from the three sides and write it to `out`.
pub fn key_file(
    me: &MyKey,
    ancestor: Option<&[u8]>,
    ours: &[u8],
    theirs: &[u8],
    out: &Path,
) -> Result<u64, TeamError> {
    let id = me.age_identity();
    let mut a = TeamKeys::from_bytes(Path::new("key.age (ours)"), ours, id)?;
    let b = TeamKeys::from_bytes(Path::new("key.age (theirs)"), theirs, id)?;
    let o = ancestor
        .filter(|b| !b.is_empty())
        .and_then(|bytes| TeamKeys::from_bytes(Path::new("key.age (ancestor)"), bytes, id).ok());
    let recipients = merge_sets(
        o.as_ref().map(|o| o.recipients.as_slice()),
        &a.recipients,
        &b.recipients,
    );
    a.absorb(b);
    a.write_to(out, &recipients)?;
    Ok(a.epoch)
}

/// Three-way set merge: kept by both, or added by one side; removed by either, gone.
/// Without an ancestor only what both sides have is kept.
fn merge_sets(o: Option<&[String]>, a: &[String], b: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    for k in a.iter().chain(b) {
        if out.contains(k) {
            continue;
        }
        let (in_a, in_b) = (a.contains(k), b.contains(k));
        let in_o = o.is_some_and(|o| o.contains(k));
        let keep = (in_a && in_b) || (o.is_some() && !in_o);
        if keep {
            out.push(k.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::merge_sets;

    fn v(x: &[&str]) -> Vec<String> {
        x.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn recipients_merge_as_sets_and_a_removal_wins() {
        let o = v(&["alice", "bob"]);
        // ours removed bob; theirs added carol
        let out = merge_sets(Some(&o), &v(&["alice"]), &v(&["alice", "bob", "carol"]));
        assert_eq!(out, v(&["alice", "carol"]));
        // without an ancestor: only what both have
        assert_eq!(
            merge_sets(None, &v(&["a", "b"]), &v(&["b", "c"])),
            v(&["b"])
        );
    }
}
