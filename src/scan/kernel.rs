//! The running kernel: only its packages count for vulnerabilities (other installed kernels
//! are not running), and a newer installed kernel means "reboot needed", not "fixed".

use crate::scan::collect::InstalledPackage;
use crate::scan::os::Family;
use crate::scan::version::Scheme;
use std::cmp::Ordering;

/// Debian/Ubuntu binary packages built per kernel ABI (their names contain the release).
const DEBIAN_KERNEL_PREFIXES: &[&str] = &[
    "linux-image-",
    "linux-modules-",
    "linux-headers-",
    "linux-objects-",
    "linux-buildinfo-",
    "linux-tools-",
    "linux-cloud-tools-",
];
/// RPM kernel packages installed side by side, one set per kernel (`installonlypkgs`).
const RPM_INSTALLONLY: &[&str] = &[
    "kernel",
    "kernel-core",
    "kernel-modules",
    "kernel-modules-core",
    "kernel-modules-extra",
    "kernel-devel",
    "kernel-uek",
    "kernel-uek-core",
    "kernel-uek-modules",
    "kernel-rt",
    "kernel-rt-core",
    "kernel-default",
];

/// Packages after applying the running-kernel rule, and why a reboot is needed.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct KernelView {
    pub packages: Vec<InstalledPackage>,
    pub reboot_reasons: Vec<String>,
}

/// Whether a Debian/Ubuntu package belongs to a kernel: everything built from the `linux`
/// source (images, headers, `linux-libc-dev`, tools), signed images, and the per-ABI packages
/// of flavoured kernel sources (`linux-hwe-6.5`, `linux-aws`).
fn is_debian_kernel(p: &InstalledPackage) -> bool {
    p.source == "linux"
        || p.source.starts_with("linux-signed")
        || p.source.starts_with("linux-") && versioned(&p.name)
}

/// A per-ABI kernel package: `linux-image-6.1.0-18-amd64`, not the `linux-image-amd64` meta.
fn versioned(name: &str) -> bool {
    DEBIAN_KERNEL_PREFIXES.iter().any(|pre| {
        name.strip_prefix(pre)
            .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
    })
}

/// `6.1.0-18-amd64` → `6.1.0-18` (what `linux-headers-6.1.0-18-common` carries).
fn abi(release: &str) -> &str {
    let mut dashes = release.match_indices('-').map(|(i, _)| i);
    match (dashes.next(), dashes.next()) {
        (Some(_), Some(second)) => &release[..second],
        _ => release,
    }
}

/// Apply the rule for `family` given `uname -r` (`running`); without it nothing is dropped.
pub fn apply(family: Family, running: Option<&str>, packages: Vec<InstalledPackage>) -> KernelView {
    let Some(running) = running else {
        return KernelView {
            packages,
            reboot_reasons: Vec::new(),
        };
    };
    match family {
        Family::Debian => debian(running, packages),
        Family::Rpm => rpm(running, packages),
        Family::Alpine => alpine(running, packages),
    }
}

fn debian(running: &str, packages: Vec<InstalledPackage>) -> KernelView {
    let abi = abi(running);
    let contains_release = |name: &str| {
        name.ends_with(running)
            || name.contains(&format!("{running}-"))
            || name.contains(&format!("-{abi}-"))
            || name.ends_with(&format!("-{abi}"))
    };
    let image = |p: &InstalledPackage| {
        p.name
            .strip_prefix("linux-image-")
            .is_some_and(|rest| rest.starts_with(|c: char| c.is_ascii_digit()))
    };
    let running_version = packages
        .iter()
        .find(|p| image(p) && p.name.ends_with(running))
        .map(|p| p.version.clone());
    let mut view = KernelView::default();
    if let Some(rv) = &running_version
        && let Some(newest) = packages
            .iter()
            .filter(|p| image(p) && !p.name.ends_with("-dbg") && !p.name.ends_with("-unsigned"))
            .filter(|p| Scheme::Dpkg.compare(&p.version, rv) == Ordering::Greater)
            .max_by(|a, b| Scheme::Dpkg.compare(&a.version, &b.version))
    {
        view.reboot_reasons.push(format!(
            "kernel {} ({}) is installed but {running} ({rv}) is running",
            newest.name.trim_start_matches("linux-image-"),
            newest.version
        ));
    }
    for mut p in packages {
        if !is_debian_kernel(&p) {
            view.packages.push(p);
            continue;
        }
        if !contains_release(&p.name) {
            continue; // another kernel, or a kernel package not tied to the running one
        }
        // Signed images come from `linux-signed-*` whose version is not the kernel's; OSV
        // names the kernel source (`linux`, `linux-hwe-6.5`) with the image's own version.
        if p.source.starts_with("linux-signed") {
            let rest = p.source.trim_start_matches("linux-signed");
            let rest = rest.trim_start_matches('-');
            let is_arch = [
                "amd64", "arm64", "i386", "armhf", "ppc64el", "s390x", "armel", "riscv64",
                "mips64el",
            ]
            .contains(&rest);
            p.source = if rest.is_empty() || is_arch {
                "linux".into()
            } else {
                format!("linux-{rest}")
            };
            p.source_version = p.version.clone();
        }
        view.packages.push(p);
    }
    view
}

fn rpm(running: &str, packages: Vec<InstalledPackage>) -> KernelView {
    let is_kernel = |p: &InstalledPackage| RPM_INSTALLONLY.contains(&p.name.as_str());
    // `uname -r` is VERSION-RELEASE.ARCH of the running kernel package.
    let vra = |p: &InstalledPackage| {
        let vr = p
            .version
            .split_once(':')
            .map_or(p.version.as_str(), |(_, vr)| vr);
        match &p.arch {
            Some(a) => format!("{vr}.{a}"),
            None => vr.to_string(),
        }
    };
    let running_version = packages
        .iter()
        .find(|p| is_kernel(p) && (vra(p) == running || running.starts_with(&vra(p))))
        .map(|p| p.version.clone());
    let mut view = KernelView::default();
    if let Some(rv) = &running_version
        && let Some(newest) = packages
            .iter()
            .filter(|p| {
                matches!(
                    p.name.as_str(),
                    "kernel" | "kernel-core" | "kernel-uek" | "kernel-rt" | "kernel-default"
                )
            })
            .filter(|p| Scheme::Rpm.compare(&p.version, rv) == Ordering::Greater)
            .max_by(|a, b| Scheme::Rpm.compare(&a.version, &b.version))
    {
        view.reboot_reasons.push(format!(
            "kernel {} is installed but {running} is running",
            vra(newest)
        ));
    }
    for p in packages {
        if is_kernel(&p) && Some(&p.version) != running_version.as_ref() {
            continue;
        }
        view.packages.push(p);
    }
    view
}

fn alpine(running: &str, packages: Vec<InstalledPackage>) -> KernelView {
    // `6.6.14-0-lts`: version 6.6.14, package revision 0, flavour lts → linux-lts 6.6.14-r0.
    let mut parts = running.splitn(3, '-');
    let (Some(version), Some(rev), Some(flavor)) = (parts.next(), parts.next(), parts.next())
    else {
        return KernelView {
            packages,
            reboot_reasons: Vec::new(),
        };
    };
    let running_pkg = format!("linux-{flavor}");
    let running_version = format!("{version}-r{rev}");
    let mut view = KernelView::default();
    for mut p in packages {
        if p.name == running_pkg {
            if Scheme::Apk.compare(&p.version, &running_version) == Ordering::Greater {
                view.reboot_reasons.push(format!(
                    "{} {} is installed but {running} is running",
                    p.name, p.version
                ));
            }
            // apk replaces the kernel in place: what runs is the older version.
            p.version = running_version.clone();
            p.source_version = running_version.clone();
        }
        view.packages.push(p);
    }
    view
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pkg(name: &str, version: &str, source: &str, source_version: &str) -> InstalledPackage {
        InstalledPackage {
            name: name.into(),
            version: version.into(),
            arch: None,
            source: source.into(),
            source_version: source_version.into(),
        }
    }

    #[test]
    fn debian_keeps_only_the_running_kernel() {
        let pkgs = vec![
            pkg(
                "linux-image-6.1.0-18-amd64",
                "6.1.76-1",
                "linux-signed-amd64",
                "6.1.76+1",
            ),
            pkg(
                "linux-image-6.1.0-20-amd64",
                "6.1.85-1",
                "linux-signed-amd64",
                "6.1.85+1",
            ),
            pkg(
                "linux-headers-6.1.0-18-common",
                "6.1.76-1",
                "linux",
                "6.1.76-1",
            ),
            pkg(
                "linux-image-amd64",
                "6.1.85-1",
                "linux-signed-amd64",
                "6.1.85+1",
            ),
            pkg("linux-libc-dev", "6.1.85-1", "linux", "6.1.85-1"),
            pkg("bash", "5.2.15-2+b2", "bash", "5.2.15-2"),
        ];
        let v = apply(Family::Debian, Some("6.1.0-18-amd64"), pkgs);
        let names: Vec<&str> = v.packages.iter().map(|p| p.name.as_str()).collect();
        assert_eq!(
            names,
            [
                "linux-image-6.1.0-18-amd64",
                "linux-headers-6.1.0-18-common",
                "bash"
            ]
        );
        assert_eq!(v.packages[0].source, "linux");
        assert_eq!(v.packages[0].source_version, "6.1.76-1");
        assert_eq!(v.reboot_reasons.len(), 1);
        assert!(v.reboot_reasons[0].contains("6.1.0-20-amd64"));
    }

    #[test]
    fn rpm_keeps_only_the_running_kernel() {
        let mut a = pkg(
            "kernel-core",
            "5.14.0-362.8.1.el9_3",
            "kernel",
            "5.14.0-362.8.1.el9_3",
        );
        a.arch = Some("x86_64".into());
        let mut b = pkg(
            "kernel-core",
            "5.14.0-362.24.1.el9_3",
            "kernel",
            "5.14.0-362.24.1.el9_3",
        );
        b.arch = Some("x86_64".into());
        let tools = pkg(
            "kernel-tools",
            "5.14.0-362.24.1.el9_3",
            "kernel",
            "5.14.0-362.24.1.el9_3",
        );
        let v = apply(
            Family::Rpm,
            Some("5.14.0-362.8.1.el9_3.x86_64"),
            vec![a, b, tools],
        );
        let kept: Vec<&str> = v.packages.iter().map(|p| p.version.as_str()).collect();
        assert_eq!(kept, ["5.14.0-362.8.1.el9_3", "5.14.0-362.24.1.el9_3"]);
        assert_eq!(v.packages[1].name, "kernel-tools");
        assert_eq!(v.reboot_reasons.len(), 1);
    }

    #[test]
    fn alpine_matches_the_running_version() {
        let v = apply(
            Family::Alpine,
            Some("6.6.14-0-lts"),
            vec![pkg("linux-lts", "6.6.31-r0", "linux-lts", "6.6.31-r0")],
        );
        assert_eq!(v.packages[0].version, "6.6.14-r0");
        assert_eq!(v.reboot_reasons.len(), 1);
    }
}
