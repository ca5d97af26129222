//! Whether a version is affected by an OSV package entry, with the OSV schema's semantics:
//! `introduced`, `fixed`, `last_affected` (inclusive), `limit`, events in any order, several
//! ranges, and the explicit `versions` list.

use super::{Affected, Event};
use crate::scan::version::Scheme;
use std::cmp::Ordering;

/// The verdict for one installed version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hit {
    /// The version that fixes it, when one is published.
    pub fixed: Option<String>,
}

/// Whether `version` is affected by `affected`, and what fixes it.
pub fn evaluate(affected: &Affected, scheme: Scheme, version: &str) -> Option<Hit> {
    let mut hit: Option<Hit> = None;
    for events in &affected.ranges {
        if let Some(h) = in_range(events, scheme, version) {
            hit = Some(merge(hit, h, scheme));
        }
    }
    let listed = affected
        .versions
        .iter()
        .any(|v| scheme.compare(v, version) == Ordering::Equal);
    if listed && hit.is_none() {
        // Listed but in no range: the fix is whatever fixed event lies above, if any.
        let fixed = affected
            .ranges
            .iter()
            .flatten()
            .filter_map(|e| e.fixed.as_deref())
            .filter(|f| scheme.compare(f, version) == Ordering::Greater)
            .min_by(|a, b| scheme.compare(a, b))
            .map(str::to_string);
        hit = Some(Hit { fixed });
    }
    hit
}

/// Several hits for one package: upgrading past the highest fix leaves all of them.
fn merge(a: Option<Hit>, b: Hit, scheme: Scheme) -> Hit {
    let Some(a) = a else { return b };
    let fixed = match (a.fixed, b.fixed) {
        (Some(x), Some(y)) => Some(if scheme.compare(&x, &y) == Ordering::Less {
            y
        } else {
            x
        }),
        (x, y) => x.or(y),
    };
    Hit { fixed }
}

/// Where an event sits in the order; `introduced: "0"` is before every version.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Introduced,
    LastAffected,
    Fixed,
    Limit,
}

fn kind_and_version(e: &Event) -> Option<(Kind, &str)> {
    if let Some(v) = &e.introduced {
        return Some((Kind::Introduced, v));
    }
    if let Some(v) = &e.fixed {
        return Some((Kind::Fixed, v));
    }
    if let Some(v) = &e.last_affected {
        return Some((Kind::LastAffected, v));
    }
    e.limit.as_deref().map(|v| (Kind::Limit, v))
}

fn compare_event(scheme: Scheme, a: &str, b: &str) -> Ordering {
    match (a == "0", b == "0") {
        (true, true) => Ordering::Equal,
        (true, false) => Ordering::Less,
        (false, true) => Ordering::Greater,
        (false, false) => scheme.compare(a, b),
    }
}

/// One range: walk the events in version order; `introduced` opens, `fixed` closes at its
/// version, `last_affected` closes just after it. `limit` bounds the whole range.
fn in_range(events: &[Event], scheme: Scheme, version: &str) -> Option<Hit> {
    let mut sorted: Vec<(Kind, &str)> = events.iter().filter_map(kind_and_version).collect();
    let limits: Vec<&str> = sorted
        .iter()
        .filter(|(k, _)| *k == Kind::Limit)
        .map(|(_, v)| *v)
        .collect();
    if !limits.is_empty()
        && !limits
            .iter()
            .any(|l| *l == "*" || compare_event(scheme, version, l) == Ordering::Less)
    {
        return None;
    }
    sorted.retain(|(k, _)| *k != Kind::Limit);
    // At one version an introduction comes before the end that closes it.
    let rank = |k: Kind| match k {
        Kind::Introduced => 0,
        _ => 1,
    };
    sorted.sort_by(|(ka, a), (kb, b)| {
        compare_event(scheme, a, b).then_with(|| rank(*ka).cmp(&rank(*kb)))
    });
    let mut affected = false;
    let mut at = 0;
    for (i, (kind, v)) in sorted.iter().enumerate() {
        let c = compare_event(scheme, version, v);
        match kind {
            Kind::Introduced if c != Ordering::Less => {
                affected = true;
                at = i;
            }
            Kind::Fixed if c != Ordering::Less => affected = false,
            Kind::LastAffected if c == Ordering::Greater => affected = false,
            _ => {}
        }
    }
    if !affected {
        return None;
    }
    // The fix: the first `fixed` after the introduction that covers this version.
    let fixed = sorted[at..]
        .iter()
        .find(|(k, v)| *k == Kind::Fixed && compare_event(scheme, version, v) == Ordering::Less)
        .map(|(_, v)| v.to_string());
    Some(Hit { fixed })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::osv::PackageRef;

    fn ev(kind: &str, v: &str) -> Event {
        let s = Some(v.to_string());
        match kind {
            "i" => Event {
                introduced: s,
                ..Event::default()
            },
            "f" => Event {
                fixed: s,
                ..Event::default()
            },
            "l" => Event {
                last_affected: s,
                ..Event::default()
            },
            _ => Event {
                limit: s,
                ..Event::default()
            },
        }
    }

    fn affected(ranges: Vec<Vec<Event>>, versions: &[&str]) -> Affected {
        Affected {
            package: PackageRef {
                ecosystem: "Debian:12".into(),
                name: "p".into(),
            },
            ranges,
            versions: versions.iter().map(|v| v.to_string()).collect(),
            severity: None,
        }
    }

    fn fixed_for(a: &Affected, v: &str) -> Option<Option<String>> {
        evaluate(a, Scheme::Dpkg, v).map(|h| h.fixed)
    }

    #[test]
    fn introduced_and_fixed() {
        let a = affected(vec![vec![ev("i", "0"), ev("f", "1.2-1")]], &[]);
        assert_eq!(fixed_for(&a, "1.1-1"), Some(Some("1.2-1".into())));
        assert_eq!(fixed_for(&a, "1.2-1"), None);
        assert_eq!(fixed_for(&a, "1.2-1~deb12u1"), Some(Some("1.2-1".into())));
        assert_eq!(fixed_for(&a, "1.3"), None);
    }

    #[test]
    fn last_affected_is_inclusive_and_has_no_fix() {
        let a = affected(vec![vec![ev("i", "1.0"), ev("l", "1.5")]], &[]);
        assert_eq!(fixed_for(&a, "0.9"), None);
        assert_eq!(fixed_for(&a, "1.0"), Some(None));
        assert_eq!(fixed_for(&a, "1.5"), Some(None));
        assert_eq!(fixed_for(&a, "1.5.1"), None);
    }

    #[test]
    fn limit_bounds_the_range() {
        let a = affected(vec![vec![ev("i", "0"), ev("l", "9"), ev("x", "2.0")]], &[]);
        assert_eq!(fixed_for(&a, "1.9"), Some(None));
        assert_eq!(fixed_for(&a, "2.0"), None);
        assert_eq!(fixed_for(&a, "3.0"), None);
    }

    #[test]
    fn events_in_any_order() {
        let a = affected(
            vec![vec![
                ev("f", "1.2"),
                ev("i", "2.0"),
                ev("f", "2.3"),
                ev("i", "1.0"),
            ]],
            &[],
        );
        assert_eq!(fixed_for(&a, "0.5"), None);
        assert_eq!(fixed_for(&a, "1.1"), Some(Some("1.2".into())));
        assert_eq!(fixed_for(&a, "1.5"), None);
        assert_eq!(fixed_for(&a, "2.1"), Some(Some("2.3".into())));
        assert_eq!(fixed_for(&a, "2.3"), None);
    }

    #[test]
    fn several_ranges() {
        let a = affected(
            vec![
                vec![ev("i", "1.0"), ev("f", "1.4")],
                vec![ev("i", "2.0"), ev("f", "2.2")],
            ],
            &[],
        );
        assert_eq!(fixed_for(&a, "1.3"), Some(Some("1.4".into())));
        assert_eq!(fixed_for(&a, "1.9"), None);
        assert_eq!(fixed_for(&a, "2.1"), Some(Some("2.2".into())));
    }

    #[test]
    fn versions_list() {
        let a = affected(vec![], &["1.0-1", "1.0-2"]);
        assert_eq!(fixed_for(&a, "1.0-2"), Some(None));
        assert_eq!(fixed_for(&a, "1.0-3"), None);
        // Compared by version order, not text: an epoch 0 is the same version.
        assert_eq!(fixed_for(&a, "0:1.0-1"), Some(None));
    }

    #[test]
    fn introduced_equal_to_fixed_affects_nothing() {
        let a = affected(vec![vec![ev("i", "1.0"), ev("f", "1.0")]], &[]);
        assert_eq!(fixed_for(&a, "1.0"), None);
    }
}
