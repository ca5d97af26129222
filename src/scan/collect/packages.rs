//! Installed packages from the package manager's own listing: `dpkg-query`, `rpm -qa`, and
//! apk's database (or `apk info -v`). Lines that do not parse are counted, not fatal.

use crate::scan::version::rpm::evr;
use serde::{Deserialize, Serialize};

/// dpkg's view, one line per package: name, status abbreviation, version, source, source version.
pub const DPKG_COMMAND: &str = "dpkg-query -W -f='${binary:Package} ${db:Status-Abbrev} ${Version} ${source:Package} ${source:Version}\\n'";
/// rpm's view, tab-separated; EPOCHNUM is 0 when there is no epoch.
pub const RPM_COMMAND: &str = "rpm -qa --queryformat '%{NAME}\\t%{EPOCHNUM}\\t%{VERSION}\\t%{RELEASE}\\t%{ARCH}\\t%{SOURCERPM}\\n'";
/// apk's database, only the fields needed (the file also lists every installed file), else
/// `apk info -v`.
pub const APK_COMMAND: &str =
    "grep -E '^(P|V|A|o):' /lib/apk/db/installed 2>/dev/null || apk info -v 2>/dev/null";

/// One installed binary package.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstalledPackage {
    /// The binary package name (`libssl3`, `openssl-libs`).
    pub name: String,
    pub version: String,
    pub arch: Option<String>,
    /// The source package it was built from (`openssl`); the name itself when unknown.
    pub source: String,
    /// The source package's version: on Debian a binNMU's `+b1` is not part of it.
    pub source_version: String,
}

/// Parsed packages and how many lines were not understood.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub packages: Vec<InstalledPackage>,
    pub bad_lines: usize,
}

/// `dpkg-query` output: only installed packages (status `i`, or triggers pending).
pub fn parse_dpkg(text: &str) -> Parsed {
    let mut out = Parsed::default();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split_whitespace().collect();
        let [name, status, version, rest @ ..] = f.as_slice() else {
            out.bad_lines += 1;
            continue;
        };
        if !valid_status(status) {
            out.bad_lines += 1;
            continue;
        }
        if !matches!(status.as_bytes().get(1), Some(b'i' | b't' | b'W')) {
            continue;
        }
        let source = rest.first().copied().unwrap_or(name);
        let source_version = rest.get(1).copied().unwrap_or(version);
        // `libssl3:amd64` for multi-arch packages: the arch is not part of the name.
        let (base, arch) = match name.split_once(':') {
            Some((n, a)) => (n, Some(a.to_string())),
            None => (*name, None),
        };
        if !valid_name(base) || !valid_version(version) || !valid_version(source_version) {
            out.bad_lines += 1;
            continue;
        }
        out.packages.push(InstalledPackage {
            name: base.to_string(),
            version: version.to_string(),
            arch,
            source: source.to_string(),
            source_version: source_version.to_string(),
        });
    }
    out
}

/// `rpm -qa` output in [`RPM_COMMAND`]'s format. `gpg-pubkey` entries are not packages.
pub fn parse_rpm(text: &str) -> Parsed {
    let mut out = Parsed::default();
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let f: Vec<&str> = line.split('\t').map(str::trim).collect();
        let [name, epoch, version, release, arch, srpm] = f.as_slice() else {
            out.bad_lines += 1;
            continue;
        };
        if *name == "gpg-pubkey" {
            continue;
        }
        if !valid_name(name) || version.is_empty() {
            out.bad_lines += 1;
            continue;
        }
        let epoch = epoch.parse::<u64>().ok();
        let evr = evr(epoch, version, release);
        let source = source_of_srpm(srpm).unwrap_or(name).to_string();
        out.packages.push(InstalledPackage {
            name: name.to_string(),
            version: evr.clone(),
            arch: Some(arch.to_string()).filter(|a| *a != "(none)"),
            source,
            source_version: evr,
        });
    }
    out
}

/// `openssl-3.0.7-24.el9.src.rpm` → `openssl`.
fn source_of_srpm(srpm: &str) -> Option<&str> {
    let base = srpm
        .strip_suffix(".src.rpm")
        .or(srpm.strip_suffix(".nosrc.rpm"))?;
    let (nv, _release) = base.rsplit_once('-')?;
    let (name, _version) = nv.rsplit_once('-')?;
    Some(name).filter(|n| !n.is_empty())
}

/// apk's database lines (`P:`, `V:`, `A:`, `o:` per package, blank-line separated in the
/// file but not after grep), or `apk info -v` lines (`name-version-rN`).
pub fn parse_apk(text: &str) -> Parsed {
    if text.lines().any(|l| l.starts_with("P:")) {
        return parse_apk_db(text);
    }
    let mut out = Parsed::default();
    for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
        match split_apk_name(line) {
            Some((name, version)) => out.packages.push(InstalledPackage {
                name: name.to_string(),
                version: version.to_string(),
                arch: None,
                source: name.to_string(),
                source_version: version.to_string(),
            }),
            None => out.bad_lines += 1,
        }
    }
    out
}

fn parse_apk_db(text: &str) -> Parsed {
    let mut out = Parsed::default();
    let mut cur: Option<InstalledPackage> = None;
    let finish = |cur: Option<InstalledPackage>, out: &mut Parsed| {
        if let Some(p) = cur {
            if p.version.is_empty() || !valid_name(&p.name) {
                out.bad_lines += 1;
            } else {
                out.packages.push(p);
            }
        }
    };
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match key {
            "P" => {
                finish(cur.take(), &mut out);
                cur = Some(InstalledPackage {
                    name: value.to_string(),
                    version: String::new(),
                    arch: None,
                    source: value.to_string(),
                    source_version: String::new(),
                });
            }
            "V" => {
                if let Some(p) = cur.as_mut() {
                    p.version = value.to_string();
                    p.source_version = value.to_string();
                }
            }
            "A" => {
                if let Some(p) = cur.as_mut() {
                    p.arch = Some(value.to_string());
                }
            }
            "o" => {
                if let Some(p) = cur.as_mut() {
                    p.source = value.to_string();
                }
            }
            _ => {}
        }
    }
    finish(cur, &mut out);
    out
}

/// `busybox-1.36.1-r15` → (`busybox`, `1.36.1-r15`): the version starts at the last `-`
/// followed by a digit before the `-rN` revision.
fn split_apk_name(s: &str) -> Option<(&str, &str)> {
    let (rest, rev) = s.rsplit_once('-')?;
    if !rev.starts_with('r') {
        return None;
    }
    let (name, version) = rest.rsplit_once('-')?;
    if name.is_empty() || !version.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    Some((name, &s[name.len() + 1..]))
}

/// dpkg's status abbreviation: desired action, package status, optional error flag.
fn valid_status(s: &str) -> bool {
    let b = s.as_bytes();
    (2..=3).contains(&b.len())
        && b"uihrp".contains(&b[0])
        && b"ncHUFWti".contains(&b[1])
        && b.get(2).is_none_or(|c| *c == b'R')
}

/// A Debian version: digits first (after an optional epoch), then dpkg's allowed characters.
fn valid_version(v: &str) -> bool {
    v.starts_with(|c: char| c.is_ascii_digit())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b".+~:-".contains(&b))
}

fn valid_name(name: &str) -> bool {
    name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-._@".contains(&b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dpkg_lines() {
        let text = "libssl3:amd64 ii  3.0.11-1~deb12u2 openssl 3.0.11-1~deb12u2\n\
                    bash ii  5.2.15-2+b2 bash 5.2.15-2\n\
                    oldpkg rc  1.0-1 oldpkg 1.0-1\n\
                    garbage\n";
        let p = parse_dpkg(text);
        assert_eq!(p.bad_lines, 1);
        assert_eq!(p.packages.len(), 2);
        assert_eq!(p.packages[0].name, "libssl3");
        assert_eq!(p.packages[0].source, "openssl");
        assert_eq!(p.packages[1].version, "5.2.15-2+b2");
        assert_eq!(p.packages[1].source_version, "5.2.15-2");
    }

    #[test]
    fn rpm_lines() {
        let text = "openssl-libs\t1\t3.0.7\t24.el9\tx86_64\topenssl-3.0.7-24.el9.src.rpm\n\
                    bash\t0\t5.1.8\t6.el9_1\tx86_64\tbash-5.1.8-6.el9_1.src.rpm\n\
                    gpg-pubkey\t0\t5a6340b3\t6229229e\t(none)\t(none)\n\
                    half\tline\n";
        let p = parse_rpm(text);
        assert_eq!(p.bad_lines, 1);
        assert_eq!(p.packages.len(), 2);
        assert_eq!(p.packages[0].version, "1:3.0.7-24.el9");
        assert_eq!(p.packages[0].source, "openssl");
        assert_eq!(p.packages[1].version, "5.1.8-6.el9_1");
    }

    #[test]
    fn apk_db_and_info() {
        let db = "P:libcrypto3\nV:3.1.4-r5\nA:x86_64\no:openssl\nP:musl\nV:1.2.4_git20230717-r4\nA:x86_64\no:musl\n";
        let p = parse_apk(db);
        assert_eq!(p.packages.len(), 2);
        assert_eq!(p.packages[0].source, "openssl");
        assert_eq!(p.packages[1].version, "1.2.4_git20230717-r4");
        let info = "busybox-1.36.1-r15\nlibcrypto3-3.1.4-r5\nnot a package\n";
        let p = parse_apk(info);
        assert_eq!(p.packages.len(), 2);
        assert_eq!(p.bad_lines, 1);
        assert_eq!(p.packages[1].name, "libcrypto3");
        assert_eq!(p.packages[1].version, "3.1.4-r5");
    }
}
