//! Resolution merged with the inventory (inventory wins), and the local identity (user, home,
//! hostname) ssh would use.

use super::{ConfigWarning, ResolveOptions, Resolved, resolve};
use std::path::PathBuf;

/// What the user's own list of hosts (lumen's inventory) says about a name, as ssh sees it:
/// `Keyword=value` lines that win over ssh_config (as `ssh -o` would), and the vault entry the
/// host logs in with. The ssh module asks through this trait, so it does not depend on where
/// the list lives.
pub trait HostLookup {
    /// The overrides for `name`, if the list has such a host.
    fn lookup(&self, name: &str) -> Option<HostOverrides>;
}

/// See [`HostLookup`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HostOverrides {
    /// `(Keyword, value)` pairs, applied before the command line's `-o`.
    pub options: Vec<(String, String)>,
    /// The vault entry holding the host's password or key.
    pub credential: Option<String>,
}

/// No list of hosts: ssh_config alone.
pub struct NoHosts;

impl HostLookup for NoHosts {
    fn lookup(&self, _name: &str) -> Option<HostOverrides> {
        None
    }
}

/// How lumen connects to `host_name`: the ssh_config resolution of that name, with every value
/// the inventory sets taking precedence (as if given with `ssh -o`), so `lumen connect db1`
/// behaves as `ssh db1` would plus the inventory. A config that cannot be read becomes a warning
/// and the defaults are used.
pub fn effective(host_name: &str, hosts: &dyn HostLookup, opts: &ResolveOptions) -> Resolved {
    let mut opts = opts.clone();
    if let Some(host) = hosts.lookup(host_name) {
        let mut lines = host.options;
        lines.append(&mut opts.overrides);
        opts.overrides = lines;
    }
    match resolve(host_name, &opts) {
        Ok(r) => r,
        Err(e) => {
            let warning = ConfigWarning {
                file: opts.config_file.clone().unwrap_or_default(),
                line: 0,
                message: format!("{e}; using the defaults"),
            };
            opts.config_file = None;
            opts.system_config = None;
            opts.home_dir = PathBuf::from("/nonexistent");
            let mut r = resolve(host_name, &opts).unwrap_or_else(|_| bare(host_name, &opts));
            r.warnings.insert(0, warning);
            r
        }
    }
}

/// The hops of `target`'s jump chain, each resolved the way ssh resolves them: hop `i` by its
/// own name (inventory and ssh_config), with the user and port written in the chain, and the
/// hops before it as its `-J` (ssh runs `ssh -J <earlier hops> hop -W target`). The first hop
/// keeps its own ProxyJump, if it has one; a caller following chains checks it.
pub fn effective_hops(
    target: &Resolved,
    hosts: &dyn HostLookup,
    opts: &ResolveOptions,
) -> Vec<Resolved> {
    let chain = target.jump_chain();
    let texts: Vec<String> = chain.iter().map(ToString::to_string).collect();
    chain
        .iter()
        .enumerate()
        .map(|(i, hop)| {
            let hop_opts = ResolveOptions {
                user: hop.user.clone(),
                port: hop.port,
                jump: (i > 0).then(|| texts[..i].join(",")),
                ..opts.clone()
            };
            effective(&hop.host, hosts, &hop_opts)
        })
        .collect()
}

/// Last resort when even a config-less resolution fails (an invalid -J, no host): the bare
/// host with ssh's defaults.
fn bare(host_name: &str, opts: &ResolveOptions) -> Resolved {
    Resolved {
        host_arg: host_name.to_string(),
        hostname: host_name.to_ascii_lowercase(),
        user: opts.user.clone().unwrap_or_else(|| opts.local_user.clone()),
        port: opts.port.unwrap_or(super::DEFAULT_PORT),
        proxy_jump: None,
        proxy_command: None,
        identity_files: super::DEFAULT_IDENTITY_FILES
            .iter()
            .map(|s| s.to_string())
            .collect(),
        identity_files_default: true,
        identities_only: false,
        forward_agent: super::ForwardAgent::No,
        server_alive_interval: 0,
        server_alive_count_max: super::DEFAULT_ALIVE_COUNT_MAX,
        strict_host_key_checking: super::StrictHostKeyChecking::Ask,
        user_known_hosts_files: Vec::new(),
        global_known_hosts_files: super::DEFAULT_GLOBAL_KNOWN_HOSTS
            .iter()
            .map(|s| s.to_string())
            .collect(),
        connect_timeout: None,
        other: Default::default(),
        unknown: Default::default(),
        origins: Default::default(),
        tokens: Default::default(),
        warnings: Vec::new(),
    }
}

/// The local user as ssh sees it (passwd entry of the real uid).
pub(crate) struct LocalIdentity {
    pub name: String,
    pub home: PathBuf,
    pub host: String,
    pub uid: u32,
}

pub(crate) fn local_identity() -> LocalIdentity {
    // SAFETY: getuid cannot fail.
    let uid = unsafe { libc::getuid() };
    let mut name = std::env::var("USER").unwrap_or_default();
    let mut home = PathBuf::from(std::env::var_os("HOME").unwrap_or_default());
    let mut buf = vec![0 as libc::c_char; 16 * 1024];
    let mut pwd: libc::passwd = unsafe { std::mem::zeroed() };
    let mut result: *mut libc::passwd = std::ptr::null_mut();
    // SAFETY: buffers are valid for their stated lengths; on success `result` points at `pwd`,
    // whose strings live in `buf`, which outlives their use below.
    let rc = unsafe { libc::getpwuid_r(uid, &mut pwd, buf.as_mut_ptr(), buf.len(), &mut result) };
    if rc == 0 && !result.is_null() {
        // SAFETY: getpwuid_r succeeded, so these are NUL-terminated strings inside `buf`.
        unsafe {
            name = std::ffi::CStr::from_ptr(pwd.pw_name)
                .to_string_lossy()
                .into_owned();
            home = PathBuf::from(
                std::ffi::CStr::from_ptr(pwd.pw_dir)
                    .to_string_lossy()
                    .into_owned(),
            );
        }
    }
    let mut hbuf = vec![0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname NUL-terminates on success.
    let hrc = unsafe { libc::gethostname(hbuf.as_mut_ptr().cast(), hbuf.len()) };
    let host = if hrc == 0 {
        let end = hbuf.iter().position(|b| *b == 0).unwrap_or(hbuf.len());
        String::from_utf8_lossy(&hbuf[..end]).into_owned()
    } else {
        String::new()
    };
    LocalIdentity {
        name,
        home,
        host,
        uid,
    }
}
