//! `scan-ignore.toml` in the workspace: accepted findings, each an ID (or ID + package) with a
//! reason and an optional expiry date. Expired entries hide nothing and warn.
//!
//! ```toml
//! [[ignore]]
//! id = "CVE-2023-4911"
//! package = "glibc"            # optional: only this package
//! reason = "no setuid programs use GLIBC_TUNABLES here"
//! expires = 2026-12-31         # optional
//! ```

use crate::scan::ScanError;
use crate::scan::history::FindingKey;
use crate::scan::report::Finding;
use serde::Deserialize;
use std::path::{Path, PathBuf};
use time::Date;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IgnoreEntry {
    pub id: String,
    pub package: Option<String>,
    pub reason: String,
    pub expires: Option<Date>,
    pub line: usize,
}

/// The entries of one file (empty when the file does not exist).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct IgnoreList {
    pub path: PathBuf,
    pub entries: Vec<IgnoreEntry>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FileDoc {
    #[serde(default)]
    ignore: Vec<toml::Spanned<RawEntry>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEntry {
    id: String,
    package: Option<String>,
    reason: Option<String>,
    expires: Option<toml::value::Datetime>,
}

fn line_of(text: &str, offset: usize) -> usize {
    text.get(..offset).unwrap_or(text).matches('\n').count() + 1
}

impl IgnoreList {
    pub fn load(path: &Path) -> Result<Self, ScanError> {
        match crate::text::read_capped_string(path, crate::text::SETTINGS_FILE_LIMIT) {
            Ok(text) => Self::parse(&text, path),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Self {
                path: path.to_path_buf(),
                entries: Vec::new(),
            }),
            Err(source) => Err(ScanError::Io {
                path: path.to_path_buf(),
                source,
            }),
        }
    }

    pub fn parse(text: &str, path: &Path) -> Result<Self, ScanError> {
        let err = |line: usize, message: String| ScanError::Ignore {
            path: path.to_path_buf(),
            line,
            message,
        };
        let doc: FileDoc = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(1, |s| line_of(text, s.start));
            err(line, crate::text::toml_message(&e))
        })?;
        let mut entries = Vec::new();
        for spanned in doc.ignore {
            let line = line_of(text, spanned.span().start);
            let raw = spanned.into_inner();
            let reason = raw.reason.filter(|r| !r.trim().is_empty()).ok_or_else(|| {
                err(
                    line,
                    format!(
                        "the entry for {} needs a reason = \"why it is accepted\"",
                        raw.id
                    ),
                )
            })?;
            let expires = match raw.expires {
                None => None,
                Some(dt) => match dt.date {
                    Some(d) if dt.time.is_none() => Some(
                        Date::from_calendar_date(
                            i32::from(d.year),
                            time::Month::try_from(d.month).map_err(|e| err(line, e.to_string()))?,
                            d.day,
                        )
                        .map_err(|e| err(line, e.to_string()))?,
                    ),
                    _ => {
                        return Err(err(
                            line,
                            "expires takes a date, e.g. expires = 2026-12-31".into(),
                        ));
                    }
                },
            };
            entries.push(IgnoreEntry {
                id: raw.id,
                package: raw.package,
                reason,
                expires,
                line,
            });
        }
        Ok(Self {
            path: path.to_path_buf(),
            entries,
        })
    }

    /// Remove ignored findings; returns what was hidden and warnings for expired entries.
    pub fn apply(
        &self,
        findings: &mut Vec<Finding>,
        today: Date,
    ) -> (Vec<FindingKey>, Vec<String>) {
        let mut warnings = Vec::new();
        let live: Vec<&IgnoreEntry> = self
            .entries
            .iter()
            .filter(|e| match e.expires {
                Some(d) if d < today => {
                    warnings.push(format!(
                        "{}:{}: the entry for {} expired on {d}; it no longer hides findings",
                        self.path.display(),
                        e.line,
                        e.id
                    ));
                    false
                }
                _ => true,
            })
            .collect();
        let mut hidden = Vec::new();
        findings.retain(|f| {
            let hit = live.iter().any(|e| {
                f.is_named(&e.id)
                    && e.package
                        .as_ref()
                        .is_none_or(|p| *p == f.package || f.binaries.contains(p))
            });
            if hit {
                hidden.push(f.key());
            }
            !hit
        });
        (hidden, warnings)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::scan::severity::Severity;
    use time::macros::date;

    fn finding(id: &str, alias: &str, package: &str) -> Finding {
        Finding {
            id: id.into(),
            aliases: vec![alias.into()],
            package: package.into(),
            binaries: vec![format!("lib{package}")],
            installed: "1".into(),
            fixed: None,
            severity: Severity::High,
            summary: String::new(),
        }
    }

    #[test]
    fn ignores_by_id_alias_and_package_until_expiry() {
        let text = "[[ignore]]\nid = \"CVE-1\"\nreason = \"accepted\"\n\n\
                    [[ignore]]\nid = \"DSA-2\"\npackage = \"openssl\"\nreason = \"r\"\nexpires = 2026-01-31\n\n\
                    [[ignore]]\nid = \"CVE-3\"\nreason = \"old\"\nexpires = 2020-01-01\n";
        let list = IgnoreList::parse(text, Path::new("scan-ignore.toml")).unwrap();
        let mut f = vec![
            finding("CVE-1", "DSA-1", "bash"),
            finding("CVE-2", "DSA-2", "openssl"),
            finding("CVE-2", "DSA-2", "curl"),
            finding("CVE-3", "DSA-3", "zlib"),
        ];
        let (hidden, warnings) = list.apply(&mut f, date!(2026 - 01 - 01));
        assert_eq!(hidden.len(), 2);
        assert_eq!(
            f.iter().map(|x| x.package.as_str()).collect::<Vec<_>>(),
            ["curl", "zlib"]
        );
        assert_eq!(warnings.len(), 1);
        assert!(warnings[0].contains("scan-ignore.toml:11") && warnings[0].contains("CVE-3"));
    }

    #[test]
    fn errors_name_the_line() {
        let e = IgnoreList::parse("[[ignore]]\nid = \"CVE-1\"\n", Path::new("f.toml")).unwrap_err();
        assert!(
            e.to_string().starts_with("f.toml:1: ") && e.to_string().contains("reason"),
            "{e}"
        );
        let e = IgnoreList::parse(
            "[[ignore]]\nid = \"CVE-1\"\nreason = \"r\"\nexpires = \"soon\"\n",
            Path::new("f.toml"),
        )
        .unwrap_err();
        assert!(e.to_string().starts_with("f.toml:4: "), "{e}");
    }
}
