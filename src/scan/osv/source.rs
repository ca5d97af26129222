//! Reading OSV records from a directory of JSON files or an ecosystem's `all.zip`. A record
//! that does not parse is skipped with a warning naming its file; a broken zip is an error.

use super::{Advisory, Record};
use crate::scan::ScanError;
use std::io::Read;
use std::path::{Path, PathBuf};

/// The largest single record read (real ones are a few KiB; this bounds a hostile file).
const MAX_RECORD_BYTES: u64 = 16 * 1024 * 1024;

/// What reading a source found besides the records.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ReadReport {
    pub records: usize,
    pub skipped: usize,
    /// One line per skipped file: `FILE: why`.
    pub warnings: Vec<String>,
}

/// Read every record under `path` (a directory or a zip), handing each to `on_record`.
pub fn read(
    path: &Path,
    mut on_record: impl FnMut(Advisory) -> Result<(), ScanError>,
) -> Result<ReadReport, ScanError> {
    let io = |source| ScanError::Io {
        path: path.to_path_buf(),
        source,
    };
    let meta = std::fs::metadata(path).map_err(io)?;
    let mut report = ReadReport::default();
    if meta.is_dir() {
        let mut files = Vec::new();
        walk(path, &mut files).map_err(io)?;
        files.sort();
        for file in files {
            let name = file.display().to_string();
            match crate::text::read_capped(&file, MAX_RECORD_BYTES) {
                Ok(bytes) => take(&bytes, &name, &mut report, &mut on_record)?,
                Err(e) => skip(&mut report, &name, &e.to_string()),
            }
        }
        return Ok(report);
    }
    // A zip is seeked in and a JSON record read whole: only a regular file will do (a FIFO
    // or a device such as /dev/zero is refused at once, not read forever).
    let mut file = crate::text::open_regular(path).map_err(io)?;
    let mut magic = [0u8; 4];
    let is_zip = file.read_exact(&mut magic).is_ok() && magic == *b"PK\x03\x04"
        || path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("zip"));
    if !is_zip {
        // A single JSON record is fine too.
        if path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        {
            let bytes = crate::text::read_capped(path, MAX_RECORD_BYTES).map_err(io)?;
            take(
                &bytes,
                &path.display().to_string(),
                &mut report,
                &mut on_record,
            )?;
            return Ok(report);
        }
        return Err(ScanError::NotOsv {
            path: path.to_path_buf(),
        });
    }
    let zip_err = |e: &dyn std::fmt::Display| ScanError::Zip {
        path: path.to_path_buf(),
        why: e.to_string(),
    };
    let file = crate::text::open_regular(path).map_err(io)?;
    let mut archive = zip::ZipArchive::new(file).map_err(|e| zip_err(&e))?;
    for i in 0..archive.len() {
        let mut entry = archive.by_index(i).map_err(|e| zip_err(&e))?;
        let entry_name = entry.name().map_err(|e| zip_err(&e))?.into_owned();
        if !entry.is_file() || !entry_name.to_ascii_lowercase().ends_with(".json") {
            continue;
        }
        let name = format!("{}:{}", path.display(), entry_name);
        if entry.size() > MAX_RECORD_BYTES {
            skip(&mut report, &name, "larger than 16 MiB");
            continue;
        }
        let mut bytes = Vec::with_capacity(usize::try_from(entry.size()).unwrap_or(0));
        // A read error inside the archive means it is damaged: stop, import nothing.
        entry
            .read_to_end(&mut bytes)
            .map_err(|e| zip_err(&format!("{entry_name}: {e}")))?;
        take(&bytes, &name, &mut report, &mut on_record)?;
    }
    Ok(report)
}

fn take(
    bytes: &[u8],
    name: &str,
    report: &mut ReadReport,
    on_record: &mut impl FnMut(Advisory) -> Result<(), ScanError>,
) -> Result<(), ScanError> {
    match serde_json::from_slice::<Record>(bytes) {
        Ok(r) if !r.id.trim().is_empty() => {
            report.records += 1;
            on_record(Advisory::from_record(r))
        }
        Ok(_) => {
            skip(report, name, "the record has no id");
            Ok(())
        }
        Err(e) => {
            skip(report, name, &format!("not an OSV record ({e})"));
            Ok(())
        }
    }
}

fn skip(report: &mut ReadReport, name: &str, why: &str) {
    report.skipped += 1;
    report.warnings.push(format!("skipped {name}: {why}"));
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let path = entry.path();
        let kind = entry.file_type()?;
        if kind.is_dir() {
            walk(&path, out)?;
        } else if kind.is_file()
            && path
                .extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("json"))
        {
            out.push(path);
        }
    }
    Ok(())
}

/// All records of a directory or zip in memory (for `--osv-db PATH`).
pub fn load(path: &Path) -> Result<(super::MemoryIndex, ReadReport), ScanError> {
    let mut index = super::MemoryIndex::default();
    let report = read(path, |a| {
        index.insert(a);
        Ok(())
    })?;
    Ok((index, report))
}
