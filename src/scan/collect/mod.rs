//! Collecting facts from a host over a [`Runner`]: each command read-only, with a timeout and
//! an output cap. A command that fails, hangs or prints garbage makes that fact "unknown" (an
//! entry in `errors`), never a crash; a lost connection stops the rest.

pub mod hardening;
pub mod packages;
pub mod system;

use crate::scan::engine::ScanOptions;
use crate::scan::os::{Family, OsRelease};
use crate::scan::report::ConfigFinding;
use crate::scan::runner::{RunError, RunOptions, Runner};
use hardening::Verdict;
pub use packages::InstalledPackage;
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

pub const OS_RELEASE_COMMAND: &str = "cat /etc/os-release 2>/dev/null || cat /usr/lib/os-release";
pub const UNAME_COMMAND: &str = "uname -r; uname -m";
/// Ubuntu Pro's ESM repositories show as sources files named after them.
pub const ESM_COMMAND: &str = "ls /etc/apt/sources.list.d/ 2>/dev/null; true";

/// Everything collected from one host, before matching.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Collected {
    pub os: Option<OsRelease>,
    pub kernel: Option<String>,
    pub arch: Option<String>,
    pub packages: Vec<InstalledPackage>,
    /// False when the package list could not be read (then no findings can be trusted).
    pub packages_known: bool,
    pub esm: bool,
    pub reboot_reasons: Vec<String>,
    pub security_updates: Option<usize>,
    pub listening: Vec<String>,
    pub suid_files: Option<Vec<String>>,
    pub config_findings: Vec<ConfigFinding>,
    pub errors: Vec<String>,
    /// How long each collector's command took, in the order they were started.
    #[serde(default)]
    pub timings: Vec<Timing>,
}

/// How long one collector took (`lumen scan --timings`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Timing {
    /// The collector, in words ("packages", "SUID/SGID files").
    pub what: String,
    pub seconds: f64,
}

/// How the error for a lost connection ends.
const CONNECTION_LOST: &str = "; everything after it is unknown";

/// One host's command runner with the scan's limits, remembering failures.
struct Host<'a> {
    runner: &'a dyn Runner,
    opts: &'a ScanOptions,
    errors: Vec<String>,
    timings: Vec<Timing>,
    /// Set when the connection dropped: nothing more is run.
    gone: bool,
}

use crate::text::sh_quote;

impl<'a> Host<'a> {
    fn new(runner: &'a dyn Runner, opts: &'a ScanOptions) -> Self {
        Self {
            runner,
            opts,
            errors: Vec::new(),
            timings: Vec::new(),
            gone: false,
        }
    }

    /// Another line of work on the same host, run beside this one (its own errors and
    /// timings, merged back in a fixed order by [`Host::absorb`]).
    fn fork(&self) -> Host<'a> {
        let mut h = Host::new(self.runner, self.opts);
        h.gone = self.gone;
        h
    }

    fn absorb(&mut self, other: Host<'_>) {
        // A lost connection is said once, by the first line of work in merge order.
        let lost = |e: &String| e.ends_with(CONNECTION_LOST);
        let said = self.errors.iter().any(lost);
        self.errors
            .extend(other.errors.into_iter().filter(|e| !(said && lost(e))));
        self.timings.extend(other.timings);
        self.gone |= other.gone;
    }

    async fn run(&mut self, what: &str, command: &str, timeout: Duration) -> Option<String> {
        self.run_with(what, command, timeout, None, false).await
    }

    /// Run `command`; with `privileged` and `--sudo`, through `sudo -n` (never a password
    /// prompt), falling back to the plain command when sudo refuses.
    async fn run_with(
        &mut self,
        what: &str,
        command: &str,
        timeout: Duration,
        stdin: Option<Vec<u8>>,
        privileged: bool,
    ) -> Option<String> {
        if self.gone {
            return None;
        }
        self.runner.step(what);
        let started = Instant::now();
        let out = self
            .run_timed(what, command, timeout, stdin, privileged)
            .await;
        self.timings.push(Timing {
            what: what.to_string(),
            seconds: started.elapsed().as_secs_f64(),
        });
        out
    }

    async fn run_timed(
        &mut self,
        what: &str,
        command: &str,
        timeout: Duration,
        stdin: Option<Vec<u8>>,
        privileged: bool,
    ) -> Option<String> {
        let opts = RunOptions {
            timeout,
            max_output: self.opts.max_output,
            stdin,
        };
        if privileged && self.opts.sudo {
            let sudo = format!("sudo -n sh -c {}", sh_quote(command));
            match self.runner.run(&sudo, opts.clone()).await {
                Ok(out) if out.ok() => return self.accept(what, out),
                Ok(out) if out.stderr_text().contains("sudo") => {
                    let why = first_line(&out.stderr_text());
                    self.errors.push(format!(
                        "{what}: sudo -n refused ({why}); checked without root"
                    ));
                }
                other => return self.outcome(what, other),
            }
        }
        let result = self.runner.run(command, opts).await;
        self.outcome(what, result)
    }

    fn outcome(
        &mut self,
        what: &str,
        result: Result<crate::scan::runner::RunOutput, RunError>,
    ) -> Option<String> {
        match result {
            // A cut output has no exit status (the command was stopped): keep what came.
            Ok(out) if out.ok() || out.truncated => self.accept(what, out),
            Ok(out) => {
                let status = out
                    .status
                    .map_or("a signal".to_string(), |s| format!("status {s}"));
                let why = first_line(&out.stderr_text());
                let why = if why.is_empty() {
                    String::new()
                } else {
                    format!(": {why}")
                };
                self.errors
                    .push(format!("{what}: unknown (ended with {status}{why})"));
                None
            }
            Err(RunError::Disconnected(e)) => {
                self.gone = true;
                self.errors.push(format!(
                    "{what}: the connection was lost ({e}){CONNECTION_LOST}"
                ));
                None
            }
            Err(e) => {
                self.errors.push(format!("{what}: unknown ({e})"));
                None
            }
        }
    }

    fn accept(&mut self, what: &str, out: crate::scan::runner::RunOutput) -> Option<String> {
        if out.truncated {
            self.errors.push(format!(
                "{what}: output over {} MiB was cut; the result may be incomplete",
                self.opts.max_output / (1024 * 1024)
            ));
        }
        Some(out.stdout_text())
    }

    fn verdicts(
        &mut self,
        found: &mut Vec<ConfigFinding>,
        verdicts: impl IntoIterator<Item = Verdict>,
    ) {
        for v in verdicts {
            match v {
                Verdict::Pass => {}
                Verdict::Fail(f) => found.push(f),
                Verdict::Unknown(why) => self.errors.push(format!("{why} (unknown)")),
            }
        }
    }
}

fn first_line(s: &str) -> String {
    s.lines()
        .map(str::trim)
        .find(|l| !l.is_empty())
        .unwrap_or("")
        .chars()
        .take(200)
        .collect()
}

/// A throw-away Ed25519 host key for `sshd -T`, in OpenSSH format (it never leaves memory
/// on either side: it goes to sshd's stdin).
fn throwaway_host_key() -> Option<Vec<u8>> {
    use rand::RngCore;
    use russh::keys::ssh_key::LineEnding;
    use russh::keys::ssh_key::private::{Ed25519Keypair, PrivateKey};
    let mut seed = zeroize::Zeroizing::new([0u8; 32]);
    rand::rngs::OsRng.try_fill_bytes(seed.as_mut()).ok()?;
    let key = PrivateKey::from(Ed25519Keypair::from_seed(&seed));
    key.to_openssh(LineEnding::LF)
        .ok()
        .map(|k| k.as_bytes().to_vec())
}

/// Run every collector on the host, in lines of work side by side, each on its own channel:
/// the SUID search and apt's pending updates from the start (apt's simulation is the slowest
/// command on Debian, and `apt-get` exists on few other hosts: its answer is used only when the
/// OS release says Debian or Ubuntu); after the OS release, the packages with the rest of the
/// host's state, the hardening checks, and dnf's pending updates on RPM hosts. A scan so takes
/// about as long as its slowest command rather than the sum. Errors and timings are merged in
/// the same order every time.
pub async fn collect(runner: &dyn Runner, opts: &ScanOptions) -> Collected {
    let mut host = Host::new(runner, opts);
    let mut suid_host = host.fork();
    let mut apt_host = host.fork();
    let main = async {
        let mut c = Collected::default();
        collect_release(&mut host, &mut c).await;
        let family = c.os.as_ref().and_then(OsRelease::family);
        let (mut packages_host, mut updates_host, mut hardening_host) =
            (host.fork(), host.fork(), host.fork());
        let os = c.os.clone();
        let (_, dnf, found) = tokio::join!(
            async {
                collect_kernel_and_packages(&mut packages_host, &mut c, family).await;
                collect_state(&mut packages_host, &mut c, family).await;
            },
            collect_dnf_updates(&mut updates_host, family),
            collect_hardening(&mut hardening_host, os.as_ref(), family),
        );
        c.security_updates = dnf;
        c.config_findings = found;
        host.absorb(packages_host);
        host.absorb(updates_host);
        host.absorb(hardening_host);
        (c, family)
    };
    let ((mut c, family), apt, suid) = tokio::join!(
        main,
        collect_apt_updates(&mut apt_host),
        collect_suid(&mut suid_host)
    );
    // Elsewhere apt's answer (usually "command not found", at once) is not this host's.
    if family == Some(Family::Debian) {
        c.security_updates = apt;
        host.absorb(apt_host);
    }
    c.suid_files = suid;
    host.absorb(suid_host);
    c.errors = host.errors;
    c.timings = host.timings;
    c
}

/// Only the release, kernel and packages: what advisories are matched against (no state and
/// no hardening checks).
pub async fn collect_packages_only(runner: &dyn Runner, opts: &ScanOptions) -> Collected {
    let mut host = Host::new(runner, opts);
    let mut c = Collected::default();
    collect_release(&mut host, &mut c).await;
    let family = c.os.as_ref().and_then(OsRelease::family);
    collect_kernel_and_packages(&mut host, &mut c, family).await;
    c.errors = host.errors;
    c.timings = host.timings;
    c
}

async fn collect_release(host: &mut Host<'_>, c: &mut Collected) {
    let t = host.opts.timeout;
    if let Some(text) = host.run("OS release", OS_RELEASE_COMMAND, t).await {
        let os = OsRelease::parse(&text);
        if os.id.is_empty() {
            host.errors
                .push("OS release: /etc/os-release has no ID (unknown)".into());
        } else {
            c.os = Some(os);
        }
    }
}

async fn collect_kernel_and_packages(
    host: &mut Host<'_>,
    c: &mut Collected,
    family: Option<Family>,
) {
    let t = host.opts.timeout;
    if let Some(text) = host.run("kernel", UNAME_COMMAND, t).await {
        let mut lines = text.lines().map(str::trim);
        c.kernel = lines
            .next()
            .filter(|k| !k.is_empty() && !k.contains(' '))
            .map(str::to_string);
        c.arch = lines.next().filter(|a| !a.is_empty()).map(str::to_string);
        if c.kernel.is_none() {
            host.errors
                .push("kernel: `uname -r` printed nothing usable (unknown)".into());
        }
    }
    collect_packages(host, c, family).await;
    if c.os.as_ref().is_some_and(|o| o.id == "ubuntu") {
        if let Some(text) = host.run("Ubuntu Pro (ESM)", ESM_COMMAND, t).await {
            c.esm = text.lines().any(|l| l.contains("esm"));
        }
        c.esm |= c.packages.iter().any(|p| p.version.contains("+esm"));
    }
}

async fn collect_packages(host: &mut Host<'_>, c: &mut Collected, family: Option<Family>) {
    let (command, parse): (&str, fn(&str) -> packages::Parsed) = match family {
        Some(Family::Debian) => (packages::DPKG_COMMAND, packages::parse_dpkg),
        Some(Family::Rpm) => (packages::RPM_COMMAND, packages::parse_rpm),
        Some(Family::Alpine) => (packages::APK_COMMAND, packages::parse_apk),
        None => {
            host.errors
                .push("packages: unknown OS family, packages not collected".into());
            return;
        }
    };
    let Some(text) = host.run("packages", command, host.opts.slow_timeout).await else {
        return;
    };
    let parsed = parse(&text);
    if parsed.packages.is_empty() {
        host.errors.push(format!(
            "packages: the package list was not understood ({} unreadable lines; unknown)",
            parsed.bad_lines
        ));
        return;
    }
    if parsed.bad_lines > 0 {
        host.errors.push(format!(
            "packages: {} lines not understood were skipped",
            parsed.bad_lines
        ));
    }
    c.packages = parsed.packages;
    c.packages_known = true;
}

/// Pending security updates from apt's simulated upgrade (slow: apt rebuilds its cache).
async fn collect_apt_updates(host: &mut Host<'_>) -> Option<usize> {
    let slow = host.opts.slow_timeout;
    host.run("security updates", system::APT_UPDATES_COMMAND, slow)
        .await
        .map(|text| system::parse_apt_updates(&text))
}

/// Pending security advisories from dnf's (or yum's) local cache, on RPM hosts.
async fn collect_dnf_updates(host: &mut Host<'_>, family: Option<Family>) -> Option<usize> {
    if family != Some(Family::Rpm) {
        return None;
    }
    let slow = host.opts.slow_timeout;
    host.run("security updates", system::DNF_UPDATES_COMMAND, slow)
        .await
        .map(|text| system::parse_dnf_updates(&text))
}

async fn collect_state(host: &mut Host<'_>, c: &mut Collected, family: Option<Family>) {
    let t = host.opts.timeout;
    if family == Some(Family::Debian)
        && let Some(text) = host
            .run("reboot flag", system::REBOOT_DEBIAN_COMMAND, t)
            .await
    {
        c.reboot_reasons.extend(system::parse_reboot_debian(&text));
    }
    if let Some(text) = host
        .run("listening sockets", system::SOCKETS_COMMAND, t)
        .await
    {
        c.listening = system::parse_sockets(&text);
    }
}

/// The hardening checks' failures, most severe first.
async fn collect_hardening(
    host: &mut Host<'_>,
    os: Option<&OsRelease>,
    family: Option<Family>,
) -> Vec<ConfigFinding> {
    let t = host.opts.timeout;
    let mut found = Vec::new();
    let key = throwaway_host_key();
    if let Some(text) = host
        .run_with("sshd settings", hardening::SSHD_COMMAND, t, key, true)
        .await
    {
        let v = hardening::check_sshd(&text);
        host.verdicts(&mut found, v);
    }
    if let Some(text) = host
        .run("UID-0 accounts", hardening::PASSWD_COMMAND, t)
        .await
    {
        let v = hardening::check_uid0(&text);
        host.verdicts(&mut found, [v]);
    }
    if let Some(text) = host.run("PATH", hardening::PATH_COMMAND, t).await {
        let v = hardening::check_path(&text);
        host.verdicts(&mut found, [v]);
    }
    if let Some(text) = host.run("sysctls", hardening::SYSCTL_COMMAND, t).await {
        let v = hardening::check_sysctls(&text);
        host.verdicts(&mut found, v);
    }
    if let Some(text) = host
        .run("time synchronisation", hardening::TIME_COMMAND, t)
        .await
    {
        let v = hardening::check_time_sync(&text);
        host.verdicts(&mut found, [v]);
    }
    let auto = match family {
        Some(Family::Debian) => Some(hardening::AUTO_UPDATES_DEBIAN_COMMAND),
        Some(Family::Rpm) => Some(hardening::AUTO_UPDATES_RPM_COMMAND),
        _ => None,
    };
    if let (Some(command), Some(family)) = (auto, family)
        && let Some(text) = host.run("automatic updates", command, t).await
    {
        let v = hardening::check_auto_updates(family, &text);
        host.verdicts(&mut found, [v]);
    }
    if let Some(os) = os {
        let v = hardening::check_end_of_life(os, host.opts.today);
        host.verdicts(&mut found, [v]);
    }
    ConfigFinding::sort_by_severity(&mut found);
    found
}

/// SUID/SGID files in the standard trees, or None when the search did not finish within
/// [`hardening::SUID_TIMEOUT`] (a partial list would show files as removed next time).
async fn collect_suid(host: &mut Host<'_>) -> Option<Vec<String>> {
    let limit = hardening::SUID_TIMEOUT.min(host.opts.slow_timeout);
    let text = host
        .run_with(
            "SUID/SGID files",
            hardening::SUID_COMMAND,
            limit,
            None,
            true,
        )
        .await?;
    Some(hardening::parse_suid(&text))
}
