//! RPM version order (epoch:version-release), through the `rpm-version` crate, whose
//! comparison follows librpm's `rpmvercmp` including `~` (pre-release) and `^` (snapshot).

use std::cmp::Ordering;

/// Compare two `[epoch:]version[-release]` strings; a missing epoch is 0.
pub fn compare(a: &str, b: &str) -> Ordering {
    rpm_version::rpm_evr_compare(a.trim(), b.trim())
}

/// `epoch:version-release` from rpm's fields; epoch 0 (or none) is left out, as rpm prints it.
pub fn evr(epoch: Option<u64>, version: &str, release: &str) -> String {
    match epoch {
        Some(e) if e > 0 => format!("{e}:{version}-{release}"),
        _ => format!("{version}-{release}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use Ordering::*;

    /// Cases from rpm's own documented rules (rpmvercmp and the `~`/`^` operators).
    #[test]
    fn table() {
        let cases = [
            ("1.0-1", "1.0-1", Equal),
            ("1.0-1", "1.0-2", Less),
            ("1.0", "1.0.1", Less),
            ("2.0", "10.0", Less),
            ("1.0a", "1.0", Greater),
            ("1.0a", "1.0b", Less),
            ("1.0", "1.0a", Less),
            ("1.010", "1.10", Equal),
            ("1.0~rc1", "1.0", Less),
            ("1.0~rc1", "1.0~rc2", Less),
            ("1.0^git1", "1.0", Greater),
            ("1.0^git1", "1.0.1", Less),
            ("1:1.0-1", "2.0-1", Greater),
            ("0:1.0-1", "1.0-1", Equal),
            ("3.0.7-24.el9", "3.0.7-27.el9", Less),
            ("3.0.7-27.el9_4", "3.0.7-27.el9", Greater),
            ("5.14.0-362.8.1.el9_3", "5.14.0-362.24.1.el9_3", Less),
            ("1.0_1", "1.0.1", Equal),
            ("a", "1", Less),
        ];
        for (a, b, want) in cases {
            assert_eq!(compare(a, b), want, "{a} vs {b}");
            assert_eq!(compare(b, a), want.reverse(), "{b} vs {a}");
        }
    }

    #[test]
    fn evr_leaves_epoch_zero_out() {
        assert_eq!(evr(None, "1.0", "1.el9"), "1.0-1.el9");
        assert_eq!(evr(Some(0), "1.0", "1.el9"), "1.0-1.el9");
        assert_eq!(evr(Some(2), "1.0", "1.el9"), "2:1.0-1.el9");
    }
}
