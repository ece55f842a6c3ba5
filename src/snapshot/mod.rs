//! Response snapshots: a step's response, redacted and masked, compared with the one stored
//! in insta's `.snap` format under `__snapshots__/` beside the scenario. New or changed
//! snapshots are written as `.snap.new` for `cargo insta review`, or straight to `.snap`, as
//! the [`UpdateMode`] says (insta's `INSTA_UPDATE` values and meanings).
//!
//! [`content`] renders a response, [`redact`] makes it stable, [`file`] owns the format.

pub mod content;
pub mod file;
pub mod redact;

use crate::mask::Masker;
use crate::model::Snapshot;
use crate::response::ResponseView;
use crate::result::AssertionResult;
use file::SnapFile;
use std::path::Path;

/// When snapshot files are written (insta's `INSTA_UPDATE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum UpdateMode {
    /// Write `.snap.new` for new and changed snapshots, except on CI (`CI` set), where
    /// nothing is written
    #[default]
    Auto,
    /// Write new and changed snapshots straight to `.snap`; the run passes
    #[value(alias = "1")]
    Always,
    /// `always` for snapshots not stored yet, `new` for changed ones
    Unseen,
    /// Write `.snap.new` for new and changed snapshots, also on CI
    New,
    /// Write nothing
    #[value(alias = "0")]
    No,
    /// Like `always`, and rewrite matching snapshots too (refreshes their header)
    Force,
}

impl UpdateMode {
    /// Parses a mode as `--update-snapshots` and `INSTA_UPDATE` take it; empty means `auto`
    /// (as insta reads an empty `INSTA_UPDATE`).
    pub fn parse(text: &str) -> Result<UpdateMode, String> {
        let text = text.trim();
        if text.is_empty() {
            return Ok(UpdateMode::Auto);
        }
        <UpdateMode as clap::ValueEnum>::from_str(text, true).map_err(|_| {
            format!("`{text}` is not an update mode; use auto, always, unseen, new, no or force")
        })
    }
}

/// What happens to a snapshot that is new or differs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Write {
    /// Overwrite `.snap`: the check passes.
    InPlace,
    /// Write `.snap.new` for review: the check fails.
    Pending,
    /// Write nothing: the check fails.
    Nothing,
}

impl UpdateMode {
    fn write_for(self, stored: bool) -> Write {
        match self {
            UpdateMode::Always | UpdateMode::Force => Write::InPlace,
            UpdateMode::Auto if is_ci() => Write::Nothing,
            UpdateMode::Auto | UpdateMode::New => Write::Pending,
            UpdateMode::Unseen if stored => Write::Pending,
            UpdateMode::Unseen => Write::InPlace,
            UpdateMode::No => Write::Nothing,
        }
    }
}

/// Whether this is a CI run, as insta decides it: `CI` set to anything but `false`/`0`/empty
/// (or Azure's `TF_BUILD`).
pub fn is_ci() -> bool {
    match std::env::var("CI").ok().as_deref() {
        Some("false") | Some("0") | Some("") => false,
        None => std::env::var_os("TF_BUILD").is_some(),
        Some(_) => true,
    }
}

/// A diff longer than this many lines is cut (the `.snap.new` file has it all).
const MAX_DIFF_LINES: usize = 300;

/// One snapshot check of a step's response.
pub struct Check<'a> {
    pub spec: &'a Snapshot,
    pub step_name: &'a str,
    /// The scenario file; snapshots live in `__snapshots__/` beside it.
    pub scenario: &'a Path,
    pub response: &'a ResponseView,
    pub mode: UpdateMode,
    pub masker: &'a Masker,
    /// The step already failed (a capture, an assertion, polling): its response is never
    /// stored as the reference, only offered as `.snap.new`.
    pub step_failed: bool,
    /// `file:line:col` of the `snapshot` key.
    pub position: Option<String>,
}

/// Compares the response with the stored snapshot and writes files as the mode says.
pub fn check(c: &Check<'_>) -> AssertionResult {
    let name = c.spec.name_for(c.step_name);
    let path = file::path_for(c.scenario, &name);
    let shown = crate::diagnostic::display_path(&path);
    let mut result = AssertionResult {
        what: format!("snapshot {name}").into(),
        passed: false,
        expected: format!("the stored snapshot `{shown}`").into(),
        actual: String::new().into(),
        position: c.position.clone().map(Into::into),
        diff: None,
    };
    let content = match content::render(c.spec, c.response, c.masker) {
        Ok(text) => text,
        Err(e) => {
            result.actual = format!("no snapshot: {e}").into();
            return result;
        }
    };
    let new = SnapFile {
        source: crate::diagnostic::display_path(c.scenario).replace('\\', "/"),
        expression: c.masker.mask(c.step_name).into_owned(),
        content,
    };
    let pending = file::pending_path(&path);
    let (old, problem) = match file::read(&path) {
        Ok(old) => (old, None),
        Err(e) => (None, Some(e)),
    };
    if let Some(old) = &old {
        if file::normalize(&old.content) == file::normalize(&new.content) {
            result.passed = true;
            result.actual = "the same".into();
            let outcome = match c.mode {
                UpdateMode::Force => file::write(&path, &new),
                // A review left over from an earlier run is out of date now.
                mode if mode.write_for(true) != Write::Nothing => file::remove(&pending),
                _ => Ok(()),
            };
            if let Err(e) = outcome {
                result.passed = false;
                result.actual = format!("the same, but {e}").into();
            }
            return result;
        }
    }
    let stored = old.is_some() || problem.is_some();
    let mut write = c.mode.write_for(stored);
    if write == Write::InPlace && c.step_failed {
        write = Write::Pending;
    }
    let old_text = old
        .as_ref()
        .map(|o| file::normalize(&o.content))
        .unwrap_or_default();
    result.diff = Some(
        c.masker
            .mask(&diff(&old_text, &file::normalize(&new.content)))
            .into_owned(),
    );
    let what_happened = match (&old, &problem) {
        (Some(_), _) => "a different response".to_owned(),
        (None, Some(e)) => format!("a response, but {e}"),
        (None, None) => {
            result.expected = format!("a stored snapshot `{shown}`").into();
            "none stored yet".to_owned()
        }
    };
    let written = match write {
        Write::InPlace => file::write(&path, &new)
            .and_then(|()| file::remove(&pending))
            .map(|()| {
                result.passed = true;
                // Passed checks show only their `what` (with `-v`): say there what happened.
                result.what = format!("snapshot {name} (written to `{shown}`)").into();
                format!("written to `{shown}`")
            }),
        Write::Pending => file::write(&pending, &new).map(|()| {
            let why = if c.step_failed && c.mode.write_for(stored) == Write::InPlace {
                " (not stored as `.snap`: the step failed)"
            } else {
                ""
            };
            format!(
                "new snapshot in `{}`{why}; review it with `cargo insta review`, or run with `--update-snapshots always`",
                crate::diagnostic::display_path(&pending)
            )
        }),
        Write::Nothing if c.mode == UpdateMode::Auto => Ok(
            "nothing written on CI; run with `--update-snapshots new` (or `always`) to write it"
                .to_owned(),
        ),
        Write::Nothing => Ok("nothing written (`--update-snapshots no`)".to_owned()),
    };
    result.actual = match written {
        Ok(note) => format!("{what_happened}; {note}").into(),
        Err(e) => {
            result.passed = false;
            format!("{what_happened}; {e}").into()
        }
    };
    if result.passed {
        result.diff = None;
    }
    result
}

/// A unified diff from the stored snapshot to the new one, cut at [`MAX_DIFF_LINES`].
fn diff(old: &str, new: &str) -> String {
    // Nothing stored: every line is new (no blank line to match the new one against).
    let old = if old.is_empty() {
        String::new()
    } else {
        format!("{old}\n")
    };
    let new = format!("{new}\n");
    let text = similar::TextDiff::from_lines(&old, &new)
        .unified_diff()
        .context_radius(3)
        .header("stored", "new")
        .to_string();
    let total = text.lines().count();
    if total <= MAX_DIFF_LINES {
        return text;
    }
    let mut cut: String = text
        .lines()
        .take(MAX_DIFF_LINES)
        .flat_map(|l| [l, "\n"])
        .collect();
    cut.push_str(&format!(
        "… {} more diff lines (the `.snap.new` file has the whole snapshot)\n",
        total - MAX_DIFF_LINES
    ));
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_like_insta_update() {
        assert_eq!(UpdateMode::parse(""), Ok(UpdateMode::Auto));
        assert_eq!(UpdateMode::parse("1"), Ok(UpdateMode::Always));
        assert_eq!(UpdateMode::parse("Always"), Ok(UpdateMode::Always));
        assert_eq!(UpdateMode::parse("0"), Ok(UpdateMode::No));
        assert!(UpdateMode::parse("sometimes").is_err());
    }

    #[test]
    fn modes_follow_insta() {
        assert_eq!(UpdateMode::Always.write_for(true), Write::InPlace);
        assert_eq!(UpdateMode::New.write_for(false), Write::Pending);
        assert_eq!(UpdateMode::No.write_for(false), Write::Nothing);
        assert_eq!(UpdateMode::Unseen.write_for(false), Write::InPlace);
        assert_eq!(UpdateMode::Unseen.write_for(true), Write::Pending);
    }

    #[test]
    fn diffs_are_unified() {
        let d = diff(
            "HTTP 200\n\n{\n  \"a\": 1\n}",
            "HTTP 200\n\n{\n  \"a\": 2\n}",
        );
        assert!(d.contains("--- stored\n+++ new\n"), "{d}");
        assert!(d.contains("-  \"a\": 1\n+  \"a\": 2\n"), "{d}");
    }
}
