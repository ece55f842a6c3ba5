//! Reporters: pure readers of results (and of runner events, for live output). The terminal
//! prints as the run goes; the JUnit and JSON reports are rendered from the finished
//! [`RunResult`] and written atomically, so that a CI job never reads half a report.

pub mod json;
pub mod junit;
pub mod terminal;

use crate::mask::Masker;
use crate::result::{Outcome, RunResult};
use std::fs::{File, OpenOptions};
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The report files asked for (`--junit`, `--report-json`).
#[derive(Debug, Clone, Copy, Default)]
pub struct ReportFiles<'a> {
    pub junit: Option<&'a Path>,
    pub json: Option<&'a Path>,
}

/// Renders each report asked for, masks it once more and writes it atomically. Returns a
/// message for each report that could not be written (the others are still written).
///
/// The JSON report is serialised straight into the file through the masker's writer, so a
/// long run's report is never held in memory, let alone twice (docs/performance.md).
pub fn write_reports(files: ReportFiles<'_>, run: &RunResult, masker: &Masker) -> Vec<String> {
    type Render = fn(&RunResult, &mut dyn io::Write) -> io::Result<()>;
    let junit: Render = |run, out| out.write_all(junit::render(run).as_bytes());
    let reports: [(&str, Option<&Path>, Render); 2] = [
        ("JUnit", files.junit, junit),
        ("JSON", files.json, json::render_to),
    ];
    let mut errors = Vec::new();
    for (kind, path, render) in reports {
        let Some(path) = path else { continue };
        // Defence in depth: the runner masks values as it records them; this pass catches
        // any secret that reached a result some other way (the masker also knows the JSON-
        // and XML-escaped forms of each secret).
        let written = write_atomically_with(path, |file| {
            let mut out = masker.writer(io::BufWriter::new(file));
            render(run, &mut out)?;
            out.finish()?.flush()
        });
        if let Err(e) = written {
            errors.push(format!(
                "cannot write the {kind} report `{}`: {e}",
                path.display()
            ));
        }
    }
    errors
}

/// Writes `contents` to `path` so that readers see the old file or the new one, never a
/// part: a temporary file in the same directory, flushed to disk, then renamed over `path`.
pub fn write_atomically(path: &Path, contents: &str) -> io::Result<()> {
    write_atomically_with(path, |file| file.write_all(contents.as_bytes()))
}

/// [`write_atomically`] for contents that `write` produces into the temporary file.
pub fn write_atomically_with(
    path: &Path,
    write: impl FnOnce(&mut File) -> io::Result<()>,
) -> io::Result<()> {
    let name = path.file_name().ok_or_else(|| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("`{}` does not name a file", path.display()),
        )
    })?;
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    std::fs::create_dir_all(dir)?;
    let (temp, mut file) = create_temp(dir, &name.to_string_lossy())?;
    let written = write(&mut file).and_then(|()| file.sync_all());
    drop(file);
    if let Err(e) = written.and_then(|()| std::fs::rename(&temp, path)) {
        let _ = std::fs::remove_file(&temp);
        return Err(e);
    }
    sync_dir(dir);
    Ok(())
}

/// A new, hidden file beside the target: `.NAME.PID.RANDOM.tmp`.
fn create_temp(dir: &Path, name: &str) -> io::Result<(PathBuf, File)> {
    let mut last = None;
    for _ in 0..16 {
        let temp = dir.join(format!(
            ".{name}.{}.{:08x}.tmp",
            std::process::id(),
            rand::random::<u32>()
        ));
        match OpenOptions::new().write(true).create_new(true).open(&temp) {
            Ok(file) => return Ok((temp, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| io::Error::other("no free temporary file name")))
}

/// Makes the rename itself durable (POSIX: the directory entry lives in the directory).
#[cfg(unix)]
fn sync_dir(dir: &Path) {
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
}

#[cfg(not(unix))]
fn sync_dir(_dir: &Path) {}

/// The name of an outcome in reports (`outcome` fields, JUnit step lines).
pub fn outcome_name(outcome: Outcome) -> &'static str {
    match outcome {
        Outcome::Passed => "passed",
        Outcome::Skipped => "skipped",
        Outcome::Failed => "failed",
        Outcome::NetworkError => "network_error",
        Outcome::Invalid => "invalid",
    }
}

/// RFC 3339 in UTC with milliseconds, e.g. `2026-03-01T09:15:02.317Z`.
pub fn timestamp(t: SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn writes_atomically_and_replaces_and_cleans_up() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("sub/out.xml");
        write_atomically(&path, "one").unwrap();
        write_atomically(&path, "two").unwrap();
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "two");
        // A directory in the way: an error, and no temporary file left behind.
        assert!(write_atomically(dir.path().join("sub").as_path(), "x").is_err());
        let names: Vec<_> = std::fs::read_dir(dir.path().join("sub"))
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, vec![std::ffi::OsString::from("out.xml")]);
        let top: Vec<_> = std::fs::read_dir(dir.path()).unwrap().collect();
        assert_eq!(top.len(), 1);
    }
}
