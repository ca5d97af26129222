//! Which rows the host picker lists: hosts grouped by group, narrowed by a fuzzy filter.

use crate::workspace::{Host, Inventory};
use nucleo_matcher::pattern::{AtomKind, CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};

/// The heading of hosts that belong to no group.
pub const UNGROUPED: &str = "ungrouped";

/// One listed row: a host under one of its groups (a host in two groups is two entries).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry {
    pub group: String,
    /// Index into the inventory's hosts.
    pub host: usize,
}

/// The rows to show and, when filtering, the best-matching one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    /// Groups in name order, "ungrouped" last; within a group, best match first (file order when
    /// nothing is typed).
    pub entries: Vec<Entry>,
    pub best: Option<usize>,
}

/// A fuzzy matcher over host fields (kept between keys: it owns its scratch memory).
pub struct Fuzzy {
    matcher: Matcher,
    buf: Vec<char>,
}

impl Default for Fuzzy {
    fn default() -> Self {
        Self {
            matcher: Matcher::new(Config::DEFAULT),
            buf: Vec::new(),
        }
    }
}

impl Fuzzy {
    /// How well `host`, listed under `group`, matches `pattern`; `None` when it does not.
    /// Every word must match one of the name, hostname, a tag or the group; scores add up.
    fn score(&mut self, pattern: &Pattern, host: &Host, group: &str) -> Option<u32> {
        let mut fields: Vec<&str> = vec![host.name.as_str()];
        fields.extend(host.hostname.as_deref());
        fields.extend(host.tags.iter().map(String::as_str));
        fields.push(group);
        self.score_fields(pattern, &fields)
    }

    /// How well `fields` match `pattern`: every word must match one field; scores add up.
    fn score_fields(&mut self, pattern: &Pattern, fields: &[&str]) -> Option<u32> {
        let mut total = 0u32;
        for atom in &pattern.atoms {
            let best = fields
                .iter()
                .filter_map(|f| atom.score(Utf32Str::new(f, &mut self.buf), &mut self.matcher))
                .max()?;
            total += u32::from(best);
        }
        Some(total)
    }

    /// The items (each a few fields: name, description…) matching `filter`, as indices, best
    /// first; with nothing typed, all of them in their order. Other pickers (runbooks) rank
    /// with this, so every picker matches the same way.
    pub fn rank(&mut self, filter: &str, items: &[Vec<&str>]) -> Vec<usize> {
        let pattern = fuzzy_pattern(filter);
        let mut scored: Vec<(usize, u32)> = items
            .iter()
            .enumerate()
            .filter_map(|(i, fields)| self.score_fields(&pattern, fields).map(|s| (i, s)))
            .collect();
        // Stable: equal scores keep their order.
        scored.sort_by_key(|e| std::cmp::Reverse(e.1));
        scored.into_iter().map(|(i, _)| i).collect()
    }

    /// The rows of `inventory` matching `filter`.
    pub fn list(&mut self, inventory: &Inventory, filter: &str) -> Listing {
        let pattern = fuzzy_pattern(filter);
        let mut groups: Vec<&str> = inventory
            .hosts
            .iter()
            .flat_map(|h| h.groups.iter().map(String::as_str))
            .filter(|g| *g != UNGROUPED)
            .collect();
        groups.sort_unstable();
        groups.dedup();
        groups.push(UNGROUPED);
        let mut scored: Vec<(Entry, u32)> = Vec::new();
        for group in groups {
            let start = scored.len();
            for (i, host) in inventory.hosts.iter().enumerate() {
                let member = if group == UNGROUPED {
                    host.groups.is_empty() || host.groups.iter().any(|g| g == UNGROUPED)
                } else {
                    host.groups.iter().any(|g| g == group)
                };
                if !member {
                    continue;
                }
                if let Some(score) = self.score(&pattern, host, group) {
                    let entry = Entry {
                        group: group.to_string(),
                        host: i,
                    };
                    scored.push((entry, score));
                }
            }
            // Stable: equal scores keep file order.
            scored[start..].sort_by_key(|e| std::cmp::Reverse(e.1));
        }
        let best = if filter.trim().is_empty() {
            None
        } else {
            scored
                .iter()
                .enumerate()
                .max_by(|(ia, a), (ib, b)| a.1.cmp(&b.1).then(ib.cmp(ia)))
                .map(|(i, _)| i)
        };
        Listing {
            entries: scored.into_iter().map(|(e, _)| e).collect(),
            best,
        }
    }
}

/// Words typed into a picker as a fuzzy pattern (smart case).
fn fuzzy_pattern(filter: &str) -> Pattern {
    Pattern::new(
        filter,
        CaseMatching::Smart,
        Normalization::Smart,
        AtomKind::Fuzzy,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn host(name: &str, hostname: &str, tags: &[&str], groups: &[&str]) -> Host {
        Host {
            name: name.into(),
            hostname: Some(hostname.into()),
            tags: tags.iter().map(|s| s.to_string()).collect(),
            groups: groups.iter().map(|s| s.to_string()).collect(),
            ..Host::default()
        }
    }

    fn inventory() -> Inventory {
        Inventory {
            hosts: vec![
                host("web1", "10.0.0.1", &["nginx"], &["prod", "web"]),
                host("db1", "10.0.0.5", &["postgres"], &["prod"]),
                host("laptop", "127.0.0.1", &[], &[]),
                host("web2", "staging.example.com", &["nginx"], &["web"]),
            ],
            ..Inventory::default()
        }
    }

    fn rows(listing: &Listing, inv: &Inventory) -> Vec<String> {
        listing
            .entries
            .iter()
            .map(|e| format!("{}/{}", e.group, inv.hosts[e.host].name))
            .collect()
    }

    #[test]
    fn groups_sorted_hosts_in_each_group_ungrouped_last() {
        let inv = inventory();
        let l = Fuzzy::default().list(&inv, "");
        assert_eq!(
            rows(&l, &inv),
            [
                "prod/web1",
                "prod/db1",
                "web/web1",
                "web/web2",
                "ungrouped/laptop"
            ]
        );
        assert_eq!(l.best, None);
    }

    #[test]
    fn filter_matches_name_hostname_tag_and_group() {
        let inv = inventory();
        let mut f = Fuzzy::default();
        assert_eq!(rows(&f.list(&inv, "db"), &inv), ["prod/db1"]);
        assert_eq!(rows(&f.list(&inv, "staging"), &inv), ["web/web2"]);
        assert_eq!(rows(&f.list(&inv, "postgres"), &inv), ["prod/db1"]);
        // A group name keeps only the rows under that group.
        assert_eq!(rows(&f.list(&inv, "prod"), &inv), ["prod/web1", "prod/db1"]);
        // Fuzzy: letters in order, not contiguous.
        assert_eq!(rows(&f.list(&inv, "lptp"), &inv), ["ungrouped/laptop"]);
        // Every word must match some field.
        assert_eq!(rows(&f.list(&inv, "nginx prod"), &inv), ["prod/web1"]);
        assert!(f.list(&inv, "zzz").entries.is_empty());
    }

    #[test]
    fn best_match_is_selected_first() {
        let inv = inventory();
        let l = Fuzzy::default().list(&inv, "web2");
        let best = l.best.unwrap();
        assert_eq!(inv.hosts[l.entries[best].host].name, "web2");
    }
}
