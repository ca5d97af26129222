//! Sharded scans: `--shard I/N` keeps the hosts whose name hashes to shard I of N (SHA-256 of
//! the name, so every machine and every run agrees), and [`merge`] puts the shards' JSON
//! reports back together.

use crate::scan::report::{JsonHost, JsonReport};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Shard `index` (1-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: u32,
    pub count: u32,
}

impl std::str::FromStr for Shard {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        let bad = || format!("expected I/N with 1 <= I <= N (e.g. 2/4), not {s:?}");
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let index: u32 = i.trim().parse().map_err(|_| bad())?;
        let count: u32 = n.trim().parse().map_err(|_| bad())?;
        if count == 0 || index == 0 || index > count {
            return Err(bad());
        }
        Ok(Shard { index, count })
    }
}

impl Shard {
    /// The shard (1-based) `name` belongs to among `count`.
    pub fn of(name: &str, count: u32) -> u32 {
        let digest = Sha256::digest(name.as_bytes());
        let mut first = [0u8; 8];
        first.copy_from_slice(&digest[..8]);
        (u64::from_be_bytes(first) % u64::from(count.max(1))) as u32 + 1
    }

    pub fn contains(&self, name: &str) -> bool {
        Self::of(name, self.count) == self.index
    }
}

/// What [`merge`] made, and the hosts that were in more than one report.
#[derive(Debug, Default)]
pub struct Merged {
    pub report: JsonReport,
    /// Hosts found twice: the later scan (by `finished_at`, else the later file) was kept.
    pub duplicates: Vec<String>,
}

/// One report from several, hosts sorted by name.
pub fn merge(reports: impl IntoIterator<Item = JsonReport>) -> Merged {
    let mut by_host: BTreeMap<String, JsonHost> = BTreeMap::new();
    let mut duplicates = Vec::new();
    for report in reports {
        for host in report.hosts {
            match by_host.get(&host.host) {
                Some(old) => {
                    duplicates.push(host.host.clone());
                    if old.finished_at <= host.finished_at {
                        by_host.insert(host.host.clone(), host);
                    }
                }
                None => {
                    by_host.insert(host.host.clone(), host);
                }
            }
        }
    }
    duplicates.sort();
    duplicates.dedup();
    Merged {
        report: JsonReport {
            hosts: by_host.into_values().collect(),
        },
        duplicates,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_parse_and_refuse_nonsense() {
        assert_eq!("2/4".parse::<Shard>(), Ok(Shard { index: 2, count: 4 }));
        for bad in ["0/4", "5/4", "1/0", "1", "a/b", "-1/3"] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    #[test]
    fn every_name_is_in_exactly_one_shard() {
        for n in 1..=7 {
            for i in 0..200 {
                let name = format!("host{i}.example");
                let hits = (1..=n)
                    .filter(|&k| Shard { index: k, count: n }.contains(&name))
                    .count();
                assert_eq!(hits, 1, "{name} in {n} shards");
            }
        }
    }
}
