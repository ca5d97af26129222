//! The host's OS from `/etc/os-release`: its package family, the OSV ecosystem names that cover
//! it (`Debian:12`, `Ubuntu:22.04:LTS`, `Ubuntu:Pro:22.04:LTS`, `Alpine:v3.19`, `Rocky Linux:9`,
//! …) and whether the release is past its end of life.

use crate::scan::version::Scheme;
use serde::{Deserialize, Serialize};
use time::Date;
use time::macros::date;

/// The fields of os-release lumen uses.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct OsRelease {
    pub id: String,
    #[serde(default)]
    pub id_like: Vec<String>,
    #[serde(default)]
    pub version_id: String,
    #[serde(default)]
    pub version: String,
    #[serde(default)]
    pub pretty_name: String,
    #[serde(default)]
    pub codename: String,
    /// `NAME`, e.g. `Debian GNU/Linux`.
    #[serde(default)]
    pub name: String,
}

/// The package manager a family of distros shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Family {
    Debian,
    Rpm,
    Alpine,
}

impl Family {
    pub fn scheme(self) -> Scheme {
        match self {
            Family::Debian => Scheme::Dpkg,
            Family::Rpm => Scheme::Rpm,
            Family::Alpine => Scheme::Apk,
        }
    }
}

/// Which OSV ecosystems describe the host: exact names and name prefixes (Red Hat's
/// ecosystems carry a product stream after the release).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EcosystemSpec {
    pub scheme: Scheme,
    pub names: Vec<String>,
    #[serde(default)]
    pub prefixes: Vec<String>,
}

impl EcosystemSpec {
    pub fn matches(&self, ecosystem: &str) -> bool {
        self.names.iter().any(|n| n == ecosystem)
            || self
                .prefixes
                .iter()
                .any(|p| ecosystem.starts_with(p.as_str()))
    }

    /// The name to show and to send to the OSV API.
    pub fn primary(&self) -> &str {
        self.names
            .first()
            .or(self.prefixes.first())
            .map_or("", String::as_str)
    }
}

impl OsRelease {
    /// Parse os-release text: `KEY=value` lines, values optionally quoted with shell escapes.
    pub fn parse(text: &str) -> OsRelease {
        let mut os = OsRelease::default();
        for line in text.lines() {
            let Some((k, v)) = line.trim().split_once('=') else {
                continue;
            };
            let v = unquote(v.trim());
            match k.trim() {
                "ID" => os.id = v.to_ascii_lowercase(),
                "ID_LIKE" => {
                    os.id_like = v.split_whitespace().map(str::to_ascii_lowercase).collect()
                }
                "VERSION_ID" => os.version_id = v,
                "VERSION" => os.version = v,
                "PRETTY_NAME" => os.pretty_name = v,
                "NAME" => os.name = v,
                "VERSION_CODENAME" => os.codename = v,
                _ => {}
            }
        }
        os
    }

    /// A short name for narrow columns: `Debian 12`, `Ubuntu 24.04`, `Rocky 9.3`, `RHEL 9.3`
    /// (from `NAME` or `ID`, and `VERSION_ID`), rather than `Debian GNU/Linux 12 (bookworm)`.
    pub fn short_name(&self) -> String {
        let known = match self.id.as_str() {
            "rhel" => Some("RHEL"),
            "sles" => Some("SLES"),
            "amzn" => Some("Amazon Linux"),
            "ol" => Some("Oracle Linux"),
            _ => None,
        };
        let from_name = || {
            let n = self.name.trim();
            let n = n.strip_suffix(" GNU/Linux").unwrap_or(n);
            let n = n.strip_suffix(" Linux").unwrap_or(n);
            (!n.is_empty()).then(|| n.to_string())
        };
        let from_id = || {
            let mut c = self.id.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
        };
        let name = known
            .map(str::to_string)
            .or_else(from_name)
            .or_else(from_id);
        match (name, self.version_id.trim()) {
            (Some(n), "") => n,
            (Some(n), v) => format!("{n} {v}"),
            (None, _) => self.pretty_name.clone(),
        }
    }

    fn is(&self, id: &str) -> bool {
        self.id == id || self.id_like.iter().any(|l| l == id)
    }

    pub fn family(&self) -> Option<Family> {
        if self.is("debian") || self.is("ubuntu") {
            Some(Family::Debian)
        } else if self.is("alpine") {
            Some(Family::Alpine)
        } else if ["rhel", "fedora", "centos", "suse", "opensuse", "sles"]
            .iter()
            .any(|f| self.is(f))
        {
            Some(Family::Rpm)
        } else {
            None
        }
    }

    fn major(&self) -> &str {
        self.version_id.split('.').next().unwrap_or("")
    }

    /// The OSV ecosystems for this release; `esm` adds Ubuntu Pro's. None when OSV has no data
    /// for the distro (Fedora, Arch, …) or the release is unknown.
    pub fn ecosystem(&self, esm: bool) -> Option<EcosystemSpec> {
        let scheme = self.family()?.scheme();
        let v = &self.version_id;
        if v.is_empty() && self.id != "opensuse-tumbleweed" {
            return None;
        }
        let exact = |names: Vec<String>| EcosystemSpec {
            scheme,
            names,
            prefixes: Vec::new(),
        };
        Some(match self.id.as_str() {
            "debian" => exact(vec![format!("Debian:{}", self.major())]),
            "ubuntu" => {
                let lts = self.version.contains("LTS");
                let base = if lts { format!("{v}:LTS") } else { v.clone() };
                let mut names = vec![format!("Ubuntu:{base}")];
                if esm {
                    names.push(format!("Ubuntu:Pro:{base}"));
                }
                exact(names)
            }
            "alpine" => {
                let minor: Vec<&str> = v.split('.').take(2).collect();
                exact(vec![format!("Alpine:v{}", minor.join("."))])
            }
            "rocky" => exact(vec![format!("Rocky Linux:{}", self.major())]),
            "almalinux" => exact(vec![format!("AlmaLinux:{}", self.major())]),
            "rhel" => EcosystemSpec {
                scheme,
                names: Vec::new(),
                prefixes: vec![format!("Red Hat:enterprise_linux:{}::", self.major())],
            },
            "sles" | "sled" | "sles_sap" => {
                let (major, sp) = v.split_once('.').unwrap_or((v, "0"));
                let name = if sp == "0" {
                    format!("SUSE:Linux Enterprise Server {major}")
                } else {
                    format!("SUSE:Linux Enterprise Server {major} SP{sp}")
                };
                exact(vec![name])
            }
            "opensuse-leap" => exact(vec![format!("openSUSE:Leap {v}")]),
            "opensuse-tumbleweed" => exact(vec!["openSUSE:Tumbleweed".into()]),
            _ => return None,
        })
    }

    /// The release's end of life (standard support; Ubuntu ESM and Debian LTS extend it but need
    /// enrolment), when lumen knows it.
    pub fn end_of_life(&self) -> Option<Date> {
        let key = match self.id.as_str() {
            "alpine" => {
                let minor: Vec<&str> = self.version_id.split('.').take(2).collect();
                minor.join(".")
            }
            "ubuntu" => self.version_id.clone(),
            _ => self.major().to_string(),
        };
        let family = match self.id.as_str() {
            "rocky" | "almalinux" | "rhel" | "ol" => "el",
            other => other,
        };
        EOL.iter()
            .find(|(id, v, _)| *id == family && *v == key)
            .map(|(_, _, d)| *d)
    }
}

/// End-of-life dates of standard support, from the distros' published schedules.
const EOL: &[(&str, &str, Date)] = &[
    ("debian", "9", date!(2020 - 07 - 06)),
    ("debian", "10", date!(2022 - 09 - 10)),
    ("debian", "11", date!(2024 - 08 - 14)),
    ("debian", "12", date!(2026 - 06 - 10)),
    ("ubuntu", "16.04", date!(2021 - 04 - 30)),
    ("ubuntu", "18.04", date!(2023 - 05 - 31)),
    ("ubuntu", "20.04", date!(2025 - 05 - 29)),
    ("ubuntu", "22.04", date!(2027 - 06 - 01)),
    ("ubuntu", "23.04", date!(2024 - 01 - 25)),
    ("ubuntu", "23.10", date!(2024 - 07 - 11)),
    ("ubuntu", "24.04", date!(2029 - 05 - 31)),
    ("ubuntu", "24.10", date!(2025 - 07 - 10)),
    ("alpine", "3.15", date!(2023 - 11 - 01)),
    ("alpine", "3.16", date!(2024 - 05 - 23)),
    ("alpine", "3.17", date!(2024 - 11 - 22)),
    ("alpine", "3.18", date!(2025 - 05 - 09)),
    ("alpine", "3.19", date!(2025 - 11 - 01)),
    ("alpine", "3.20", date!(2026 - 04 - 01)),
    ("alpine", "3.21", date!(2026 - 11 - 01)),
    ("el", "7", date!(2024 - 06 - 30)),
    ("el", "8", date!(2029 - 05 - 31)),
    ("el", "9", date!(2032 - 05 - 31)),
    ("centos", "7", date!(2024 - 06 - 30)),
    ("centos", "8", date!(2021 - 12 - 31)),
];

/// One os-release value without its quotes and backslash escapes.
fn unquote(v: &str) -> String {
    let inner = v
        .strip_prefix('"')
        .and_then(|s| s.strip_suffix('"'))
        .or_else(|| v.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')))
        .unwrap_or(v);
    let mut out = String::with_capacity(inner.len());
    let mut chars = inner.chars();
    while let Some(c) = chars.next() {
        if c == '\\' {
            if let Some(n) = chars.next() {
                out.push(n);
            }
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn eco(text: &str, esm: bool) -> Option<Vec<String>> {
        let spec = OsRelease::parse(text).ecosystem(esm)?;
        Some(spec.names.into_iter().chain(spec.prefixes).collect())
    }

    #[test]
    fn ecosystems_from_os_release() {
        let debian = "ID=debian\nVERSION_ID=\"12\"\nVERSION=\"12 (bookworm)\"\n";
        assert_eq!(eco(debian, false).unwrap(), ["Debian:12"]);
        let ubuntu = "ID=ubuntu\nID_LIKE=debian\nVERSION_ID=\"22.04\"\nVERSION=\"22.04.4 LTS (Jammy Jellyfish)\"\n";
        assert_eq!(eco(ubuntu, false).unwrap(), ["Ubuntu:22.04:LTS"]);
        assert_eq!(
            eco(ubuntu, true).unwrap(),
            ["Ubuntu:22.04:LTS", "Ubuntu:Pro:22.04:LTS"]
        );
        let interim = "ID=ubuntu\nVERSION_ID=\"23.10\"\nVERSION=\"23.10 (Mantic Minotaur)\"\n";
        assert_eq!(eco(interim, false).unwrap(), ["Ubuntu:23.10"]);
        assert_eq!(
            eco("ID=alpine\nVERSION_ID=3.19.1\n", false).unwrap(),
            ["Alpine:v3.19"]
        );
        let rocky = "ID=\"rocky\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.3\"\n";
        assert_eq!(eco(rocky, false).unwrap(), ["Rocky Linux:9"]);
        let alma = "ID=\"almalinux\"\nID_LIKE=\"rhel centos fedora\"\nVERSION_ID=\"9.4\"\n";
        assert_eq!(eco(alma, false).unwrap(), ["AlmaLinux:9"]);
        let rhel = "ID=\"rhel\"\nID_LIKE=\"fedora\"\nVERSION_ID=\"9.2\"\n";
        assert_eq!(eco(rhel, false).unwrap(), ["Red Hat:enterprise_linux:9::"]);
        let sles = "ID=\"sles\"\nID_LIKE=\"suse\"\nVERSION_ID=\"15.5\"\n";
        assert_eq!(
            eco(sles, false).unwrap(),
            ["SUSE:Linux Enterprise Server 15 SP5"]
        );
        let leap = "ID=\"opensuse-leap\"\nID_LIKE=\"suse opensuse\"\nVERSION_ID=\"15.5\"\n";
        assert_eq!(eco(leap, false).unwrap(), ["openSUSE:Leap 15.5"]);
        assert_eq!(eco("ID=fedora\nVERSION_ID=39\n", false), None);
        assert_eq!(eco("garbage\n\0\n", false), None);
    }

    #[test]
    fn short_names() {
        let short = |t: &str| OsRelease::parse(t).short_name();
        assert_eq!(
            short(
                "NAME=\"Debian GNU/Linux\"\nID=debian\nVERSION_ID=\"12\"\nPRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\""
            ),
            "Debian 12"
        );
        assert_eq!(
            short("NAME=\"Ubuntu\"\nID=ubuntu\nVERSION_ID=\"24.04\""),
            "Ubuntu 24.04"
        );
        assert_eq!(
            short("NAME=\"Rocky Linux\"\nID=\"rocky\"\nVERSION_ID=\"9.3\""),
            "Rocky 9.3"
        );
        assert_eq!(
            short("NAME=\"Red Hat Enterprise Linux\"\nID=\"rhel\"\nVERSION_ID=\"9.3\""),
            "RHEL 9.3"
        );
        assert_eq!(
            short("NAME=\"Alpine Linux\"\nID=alpine\nVERSION_ID=3.19.1"),
            "Alpine 3.19.1"
        );
        // An older stored scan has no NAME: the ID stands in.
        assert_eq!(short("ID=debian\nVERSION_ID=\"12\""), "Debian 12");
        assert_eq!(short("ID=arch"), "Arch");
    }

    #[test]
    fn spec_matches_prefixes() {
        let rhel = OsRelease::parse("ID=rhel\nVERSION_ID=9.2\n")
            .ecosystem(false)
            .unwrap();
        assert!(rhel.matches("Red Hat:enterprise_linux:9::appstream"));
        assert!(!rhel.matches("Red Hat:enterprise_linux:8::appstream"));
    }

    #[test]
    fn end_of_life() {
        let buster = OsRelease::parse("ID=debian\nVERSION_ID=\"10\"\n");
        assert_eq!(buster.end_of_life(), Some(date!(2022 - 09 - 10)));
        let rocky = OsRelease::parse("ID=rocky\nVERSION_ID=\"8.9\"\n");
        assert_eq!(rocky.end_of_life(), Some(date!(2029 - 05 - 31)));
        assert_eq!(OsRelease::parse("ID=arch\n").end_of_life(), None);
    }
}
