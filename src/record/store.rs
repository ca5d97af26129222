//! Where recordings live and how they are found: `recordings/<host>/<YYYY-MM-DD>/<HHMMSS>-<pane>.cast[.gz]`
//! under the data dir (dates and times in UTC), files 0600 and directories 0700; an ID is the
//! path below `recordings/` without its extension; pruning by age and by total size.

use super::cast;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// A recording as `lumen logs list` shows it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Listed {
    pub id: String,
    pub host: String,
    /// RFC 3339, UTC.
    pub started: String,
    pub duration_s: f64,
    pub bytes: u64,
    pub file: PathBuf,
    /// Why the file could not be read to its end, when it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub warning: Option<String>,
    /// The first approved command (marker), for the log browser.
    #[serde(skip)]
    pub first_marker: Option<String>,
    #[serde(skip)]
    pub unix: i64,
}

/// `user@host_port` (or any name) made safe as one path component.
pub fn safe_name(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || "@._-".contains(c) {
                c
            } else {
                '_'
            }
        })
        .collect();
    match s.trim_start_matches('.') {
        "" => "_".to_string(),
        t => t.to_string(),
    }
}

/// Create `path` new, 0600 (its directories 0700).
pub fn create_private(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    if let Some(dir) = path.parent() {
        crate::paths::ensure_private_dir(dir)?;
    }
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

/// A fresh path for a recording of `pane` on `host` started at `now`.
pub fn new_path(root: &Path, host: &str, pane: u64, now: SystemTime) -> std::io::Result<PathBuf> {
    let t = time::OffsetDateTime::from(now);
    let dir = root.join(safe_name(host)).join(format!(
        "{:04}-{:02}-{:02}",
        t.year(),
        u8::from(t.month()),
        t.day()
    ));
    let stem = format!("{:02}{:02}{:02}-{pane}", t.hour(), t.minute(), t.second());
    // A second file in the same second (a cut at the cap) sorts after the first.
    for n in 1..10_000 {
        let name = if n == 1 {
            stem.clone()
        } else {
            format!("{stem}.part{n:04}")
        };
        let plain = dir.join(format!("{name}.cast"));
        let gz = dir.join(format!("{name}.cast.gz"));
        if !plain.exists() && !gz.exists() {
            return Ok(plain);
        }
    }
    Err(std::io::Error::other("no free recording name"))
}

/// Every recording file under `root`: (host, path).
pub fn files(root: &Path) -> Vec<(String, PathBuf)> {
    let mut out = Vec::new();
    let Ok(hosts) = std::fs::read_dir(root) else {
        return out;
    };
    for host in hosts.flatten() {
        let host_name = host.file_name().to_string_lossy().into_owned();
        let Ok(days) = std::fs::read_dir(host.path()) else {
            continue;
        };
        for day in days.flatten() {
            let Ok(casts) = std::fs::read_dir(day.path()) else {
                continue;
            };
            for f in casts.flatten() {
                let p = f.path();
                let name = p.to_string_lossy();
                if name.ends_with(".cast") || name.ends_with(".cast.gz") {
                    out.push((host_name.clone(), p));
                }
            }
        }
    }
    out.sort_by(|a, b| a.1.cmp(&b.1));
    out
}

/// The ID of a recording file: its path below `root`, extension off.
pub fn id_of(root: &Path, path: &Path) -> String {
    let rel = path.strip_prefix(root).unwrap_or(path).to_string_lossy();
    rel.trim_end_matches(".gz")
        .trim_end_matches(".cast")
        .to_string()
}

/// A FILE or an ID → the file.
pub fn resolve(root: &Path, file_or_id: &str) -> Result<PathBuf, String> {
    let given = Path::new(file_or_id);
    if given.is_file() {
        return Ok(given.to_path_buf());
    }
    if !file_or_id.contains("..") {
        for ext in [".cast.gz", ".cast"] {
            let p = root.join(format!("{file_or_id}{ext}"));
            if p.is_file() {
                return Ok(p);
            }
        }
    }
    Err(format!(
        "no recording '{file_or_id}': give a file, or an ID from 'lumen logs list'"
    ))
}

/// When a recording started, from its path (`<date>/<HHMMSS>-…`), else its file's mtime.
fn started_at(path: &Path) -> i64 {
    let from_name = (|| {
        let day = path.parent()?.file_name()?.to_str()?;
        let name = path.file_name()?.to_str()?;
        let hms = name.get(..6)?;
        let date = time::Date::parse(
            day,
            time::macros::format_description!("[year]-[month]-[day]"),
        )
        .ok()?;
        let h: u8 = hms.get(..2)?.parse().ok()?;
        let m: u8 = hms.get(2..4)?.parse().ok()?;
        let s: u8 = hms.get(4..6)?.parse().ok()?;
        let t = time::Time::from_hms(h, m, s).ok()?;
        Some(date.with_time(t).assume_utc().unix_timestamp())
    })();
    from_name.unwrap_or_else(|| {
        std::fs::metadata(path)
            .and_then(|m| m.modified())
            .ok()
            .and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
            .map_or(0, |d| d.as_secs() as i64)
    })
}

fn rfc3339(unix: i64) -> String {
    time::OffsetDateTime::from_unix_timestamp(unix)
        .ok()
        .and_then(|t| {
            t.format(&time::format_description::well_known::Rfc3339)
                .ok()
        })
        .unwrap_or_default()
}

/// Read one recording for the list: its length and first marker, whether `grep` (if given)
/// is in its text, and where it broke.
pub fn describe(root: &Path, host: &str, path: &Path, grep: Option<&str>) -> (Listed, bool) {
    let mut last = 0.0f64;
    let mut first_marker = None;
    let mut found = grep.is_none();
    let needle = grep.map(str::to_lowercase);
    let mut tail = String::new();
    let reading = cast::read(path, |ev| {
        last = last.max(ev.time());
        match &ev {
            cast::Event::Marker(_, m) if first_marker.is_none() => first_marker = Some(m.clone()),
            cast::Event::Output(_, data) if !found => {
                if let Some(n) = &needle {
                    let text = crate::ai::redact::visible_text(data.as_bytes()).to_lowercase();
                    tail.push_str(&text);
                    found = tail.contains(n.as_str());
                    let keep = tail.len().saturating_sub(n.len() * 4 + 64);
                    let keep = (keep..=tail.len())
                        .find(|&i| tail.is_char_boundary(i))
                        .unwrap_or(tail.len());
                    tail.drain(..keep);
                }
            }
            _ => {}
        }
        true
    });
    let unix = reading
        .header
        .as_ref()
        .map(|h| h.timestamp)
        .filter(|t| *t > 0)
        .unwrap_or_else(|| started_at(path));
    let listed = Listed {
        id: id_of(root, path),
        host: host.to_string(),
        started: rfc3339(unix),
        duration_s: (last * 1000.0).round() / 1000.0,
        bytes: std::fs::metadata(path).map_or(0, |m| m.len()),
        file: path.to_path_buf(),
        warning: reading.broken,
        first_marker,
        unix,
    };
    (listed, found)
}

/// Delete the oldest recordings: those started more than `keep_days` ago, then the oldest
/// until all together take at most `max_total` bytes. Files still being written (`.cast`)
/// count toward the total but go only by age. Returns what was deleted.
pub fn prune(root: &Path, keep_days: u64, max_total: u64, now: SystemTime) -> Vec<PathBuf> {
    let now_unix = now
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs() as i64);
    let limit = now_unix.saturating_sub((keep_days.saturating_mul(86_400)) as i64);
    let mut all: Vec<(i64, u64, PathBuf)> = files(root)
        .into_iter()
        .map(|(_, p)| {
            let size = std::fs::metadata(&p).map_or(0, |m| m.len());
            (started_at(&p), size, p)
        })
        .collect();
    all.sort();
    let mut removed = Vec::new();
    let mut total: u64 = all.iter().map(|a| a.1).sum();
    for (started, size, path) in &all {
        let finished = path.to_string_lossy().ends_with(".gz");
        let old = *started < limit;
        if (old || (finished && total > max_total)) && std::fs::remove_file(path).is_ok() {
            total = total.saturating_sub(*size);
            removed.push(path.clone());
            if let Some(day) = path.parent() {
                let _ = std::fs::remove_dir(day); // only when empty
                if let Some(host) = day.parent() {
                    let _ = std::fs::remove_dir(host);
                }
            }
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_made_safe() {
        assert_eq!(safe_name("alice@db1.example_22"), "alice@db1.example_22");
        assert_eq!(safe_name("../x/y"), "_x_y");
        assert_eq!(safe_name("fe80::1%eth0"), "fe80__1_eth0");
    }
}
