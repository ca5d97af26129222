//! The asciicast v2 format: a JSON header line, then one `[time, code, data]` line per event
//! (`"o"` output, `"r"` resize as `"COLSxROWS"`, `"m"` marker). Writing one line at a time,
//! and reading a file (plain or gzip) up to where it breaks.

use serde::{Deserialize, Serialize};
use std::io::{BufRead, BufReader, Read};
use std::path::Path;

/// The header lumen writes: asciicast's own keys, and what lumen adds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub version: u32,
    pub width: u16,
    pub height: u16,
    /// Unix time the recording started.
    #[serde(default)]
    pub timestamp: i64,
    #[serde(default)]
    pub env: std::collections::BTreeMap<String, String>,
    #[serde(default)]
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lumen_version: Option<String>,
    /// Every output event went through lumen's redactor before it was written.
    #[serde(default)]
    pub redacted: bool,
}

/// One event of a recording.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Output(f64, String),
    Resize(f64, u16, u16),
    Marker(f64, String),
}

impl Event {
    pub fn time(&self) -> f64 {
        match self {
            Event::Output(t, _) | Event::Resize(t, _, _) | Event::Marker(t, _) => *t,
        }
    }

    /// The line asciicast v2 stores it as (with its `\n`).
    pub fn line(&self) -> String {
        let (t, code, data) = match self {
            Event::Output(t, d) => (*t, "o", d.clone()),
            Event::Resize(t, c, r) => (*t, "r", format!("{c}x{r}")),
            Event::Marker(t, m) => (*t, "m", m.clone()),
        };
        let data = serde_json::to_string(&data).unwrap_or_else(|_| "\"\"".into());
        format!("[{t:.6}, \"{code}\", {data}]\n")
    }

    fn parse(line: &str) -> Result<Option<Event>, String> {
        let v: (f64, String, String) =
            serde_json::from_str(line).map_err(|e| format!("not an event: {e}"))?;
        let (t, code, data) = v;
        if !(0.0..=MAX_TIME).contains(&t) {
            return Err(format!("bad time {t}"));
        }
        Ok(match code.as_str() {
            "o" => Some(Event::Output(t, data)),
            "m" => Some(Event::Marker(t, data)),
            "r" => {
                let (c, r) = data
                    .split_once('x')
                    .and_then(|(c, r)| Some((c.parse().ok()?, r.parse().ok()?)))
                    .ok_or_else(|| format!("bad resize {data:?}"))?;
                Some(Event::Resize(t, c, r))
            }
            // Input ("i") and other codes: lumen never writes them; a reader skips them.
            _ => None,
        })
    }
}

/// How reading a recording ended.
#[derive(Debug, Clone, PartialEq)]
pub struct Reading {
    pub header: Option<Header>,
    /// Where and why the file stopped making sense (truncated, corrupt); the events before
    /// were delivered.
    pub broken: Option<String>,
}

/// Open a recording, decompressing a `.gz` one.
pub fn open(path: &Path) -> std::io::Result<Box<dyn BufRead>> {
    let file = std::fs::File::open(path)?;
    let gz = path.extension().is_some_and(|e| e == "gz");
    Ok(if gz {
        Box::new(BufReader::new(flate2::read::MultiGzDecoder::new(file)))
    } else {
        Box::new(BufReader::new(file))
    })
}

/// The header of `path`, or why there is none.
pub fn header(path: &Path) -> Result<Header, String> {
    let reading = read(path, |_| false);
    match (reading.header, reading.broken) {
        (Some(h), _) => Ok(h),
        (None, Some(why)) => Err(why),
        (None, None) => Err("empty file".into()),
    }
}

/// Event times past this many seconds (about 31 years) are taken as corruption: replaying
/// them would wait longer than any timer can.
const MAX_TIME: f64 = 1e9;

/// Lines longer than this are taken as corruption (lumen writes events far shorter).
const MAX_LINE: u64 = 16 * 1024 * 1024;

/// Read `path`'s events in order, each to `each` (which returns false to stop), up to the end
/// or the first thing that breaks.
pub fn read(path: &Path, mut each: impl FnMut(Event) -> bool) -> Reading {
    let mut reading = Reading {
        header: None,
        broken: None,
    };
    let mut input = match open(path) {
        Ok(r) => r,
        Err(e) => {
            reading.broken = Some(format!("cannot open: {e}"));
            return reading;
        }
    };
    let mut line = String::new();
    let mut n = 0usize;
    loop {
        line.clear();
        n += 1;
        match (&mut input).take(MAX_LINE).read_line(&mut line) {
            Ok(0) => break,
            Ok(_) if !line.ends_with('\n') => {
                reading.broken = Some(format!("line {n}: cut short (the file is truncated)"));
                break;
            }
            Ok(_) => {}
            Err(e) => {
                reading.broken = Some(format!("line {n}: {e}"));
                break;
            }
        }
        let text = line.trim_end();
        if text.is_empty() {
            continue;
        }
        if reading.header.is_none() {
            match serde_json::from_str::<Header>(text) {
                Ok(h) if h.version == 2 => reading.header = Some(h),
                Ok(h) => {
                    reading.broken = Some(format!("asciicast version {} (not 2)", h.version));
                    break;
                }
                Err(e) => {
                    reading.broken = Some(format!("line 1: not an asciicast v2 header: {e}"));
                    break;
                }
            }
            continue;
        }
        match Event::parse(text) {
            Ok(Some(ev)) => {
                if !each(ev) {
                    break;
                }
            }
            Ok(None) => {}
            Err(why) => {
                reading.broken = Some(format!("line {n}: {why}"));
                break;
            }
        }
    }
    reading
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_round_trip() {
        for ev in [
            Event::Output(1.5, "a\"\\\u{1b}[0m\r\n".into()),
            Event::Resize(2.0, 120, 40),
            Event::Marker(3.25, "ls {{vault:x}}".into()),
        ] {
            let line = ev.line();
            assert_eq!(Event::parse(line.trim_end()).unwrap(), Some(ev));
        }
    }

    #[test]
    fn a_time_no_replay_could_wait_for_is_refused() {
        for line in [r#"[1e300, "o", "x"]"#, r#"[-1, "o", "x"]"#] {
            let err = Event::parse(line).unwrap_err();
            assert!(err.starts_with("bad time"), "{err}");
        }
        assert!(Event::parse(r#"[86400.5, "o", "x"]"#).is_ok());
    }
}
