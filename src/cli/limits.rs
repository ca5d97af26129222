//! Process limits: a scan of a large fleet holds a socket per host in flight, so the soft limit
//! on open files (often 1 024) is raised to the hard limit at start.

/// Raise `RLIMIT_NOFILE`'s soft limit to its hard limit; returns the new soft limit.
pub fn raise_open_files() -> Result<u64, String> {
    let mut lim = libc::rlimit {
        rlim_cur: 0,
        rlim_max: 0,
    };
    // SAFETY: getrlimit writes into the struct we own.
    if unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) } != 0 {
        return Err(format!(
            "cannot read the open-files limit: {}",
            std::io::Error::last_os_error()
        ));
    }
    if lim.rlim_cur >= lim.rlim_max {
        return Ok(lim.rlim_cur);
    }
    let raised = libc::rlimit {
        rlim_cur: lim.rlim_max,
        rlim_max: lim.rlim_max,
    };
    // SAFETY: setrlimit reads the struct we own.
    if unsafe { libc::setrlimit(libc::RLIMIT_NOFILE, &raised) } != 0 {
        return Err(format!(
            "cannot raise the open-files limit from {} to {}: {}; many hosts at once may fail \
             with \"too many open files\" (lower --parallel or raise `ulimit -n`)",
            lim.rlim_cur,
            lim.rlim_max,
            std::io::Error::last_os_error()
        ));
    }
    Ok(raised.rlim_cur)
}
