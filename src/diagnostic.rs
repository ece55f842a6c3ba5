//! The one renderer for every error a user can fix: a title, `--> file:line:col`, the source
//! line with carets under the offending value, and a hint. Load-time errors (bad YAML, unknown
//! keys) and run-time errors inside a value (an undefined variable in a URL) both use it.

use crate::yaml::{Pos, Span};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

/// A source file kept in memory so that errors can quote it.
#[derive(Debug)]
pub struct SourceFile {
    pub path: PathBuf,
    pub text: String,
    /// Where each line starts (byte offsets), computed when a line is first asked for: a file
    /// with many errors asks for many lines, and walking the text from the top for each one
    /// is quadratic (hours for an 8 MiB file with an error on every step).
    line_starts: OnceLock<Vec<usize>>,
}

impl SourceFile {
    pub fn new(path: impl Into<PathBuf>, text: impl Into<String>) -> Arc<SourceFile> {
        Arc::new(SourceFile {
            path: path.into(),
            text: text.into(),
            line_starts: OnceLock::new(),
        })
    }

    /// Line `n` (1-based), without its line break.
    pub fn line(&self, n: usize) -> Option<&str> {
        if n == 0 {
            return None;
        }
        let starts = self.line_starts.get_or_init(|| {
            std::iter::once(0)
                .chain(self.text.match_indices('\n').map(|(i, _)| i + 1))
                .collect()
        });
        let start = *starts.get(n - 1)?;
        let end = starts.get(n).map_or(self.text.len(), |next| next - 1);
        let line = self.text.get(start..end)?;
        Some(line.strip_suffix('\r').unwrap_or(line))
    }

    /// Narrows `span` to the first occurrence of `needle` inside it on its first line, so that
    /// carets can sit under a variable name inside a longer template.
    pub fn narrow(&self, span: Span, needle: &str) -> Span {
        if needle.is_empty() || !span.is_known() {
            return span;
        }
        let Some(line) = self.line(span.start.line as usize) else {
            return span;
        };
        let chars: Vec<char> = line.chars().collect();
        let start = (span.start.col as usize).min(chars.len());
        let end = if span.end.line == span.start.line {
            (span.end.col as usize).min(chars.len())
        } else {
            chars.len()
        };
        let hay: String = chars[start..end].iter().collect();
        match hay.find(needle) {
            Some(byte) => {
                let col = start + hay[..byte].chars().count();
                let line = span.start.line as usize;
                Span {
                    start: Pos::new(line, col),
                    end: Pos::new(line, col + needle.chars().count()),
                }
            }
            None => span,
        }
    }
}

/// At most this many problems are reported for one file. Past a hundred, more help no one,
/// and each costs time to find and print: a generated 8 MiB file can hold a hundred thousand
/// (one per step), and rendering each quotes its line, which may be megabytes long.
pub const MAX_PER_FILE: usize = 100;

/// Where a diagnostic points.
#[derive(Debug, Clone)]
pub struct Location {
    pub file: Arc<SourceFile>,
    pub span: Span,
}

/// An error a user can fix, with everything needed to show where and how.
#[derive(Debug, Clone)]
pub struct Diagnostic {
    pub title: String,
    pub location: Option<Location>,
    /// Text beside the carets.
    pub label: Option<String>,
    pub hint: Option<String>,
    /// Extra lines, e.g. "in step `Get a token`".
    pub notes: Vec<String>,
}

impl Diagnostic {
    pub fn new(title: impl Into<String>) -> Self {
        Diagnostic {
            title: title.into(),
            location: None,
            label: None,
            hint: None,
            notes: Vec::new(),
        }
    }

    /// Points the diagnostic at `span` — unless it already points somewhere: the innermost
    /// place found first is the most precise.
    pub fn at(mut self, file: &Arc<SourceFile>, span: Span) -> Self {
        if self.location.is_some() {
            return self;
        }
        if span.is_known() {
            self.location = Some(Location {
                file: file.clone(),
                span,
            });
        } else if self.location.is_none() {
            self.notes.push(format!("in {}", file.path.display()));
        }
        self
    }

    pub fn label(mut self, label: impl Into<String>) -> Self {
        self.label = Some(label.into());
        self
    }

    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }

    pub fn maybe_hint(mut self, hint: Option<String>) -> Self {
        if hint.is_some() {
            self.hint = hint;
        }
        self
    }

    pub fn note(mut self, note: impl Into<String>) -> Self {
        self.notes.push(note.into());
        self
    }

    /// `file:line:col` of the diagnostic, if it has a place.
    pub fn position(&self) -> Option<String> {
        self.location.as_ref().map(|l| {
            format!(
                "{}:{}:{}",
                display_path(&l.file.path),
                l.span.start.line,
                l.span.start.col + 1
            )
        })
    }

    /// Renders the diagnostic, with ANSI colours when `color` is set.
    pub fn render(&self, color: bool) -> String {
        let paint = |code: &str, text: &str| {
            if color {
                format!("\x1b[{code}m{text}\x1b[0m")
            } else {
                text.to_owned()
            }
        };
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{}{}",
            paint("1;31", "error"),
            paint("1", &format!(": {}", self.title))
        );
        if let Some(loc) = &self.location {
            let line_no = loc.span.start.line as usize;
            let width = line_no.to_string().len();
            let pad = " ".repeat(width);
            let _ = writeln!(
                out,
                "{pad}{} {}",
                paint("1;34", "-->"),
                self.position().unwrap_or_default()
            );
            if let Some(line) = loc.file.line(line_no) {
                let line = line.replace('\t', " ");
                let len = line.chars().count();
                let start = (loc.span.start.col as usize).min(len);
                let end = if loc.span.end.line as usize == line_no {
                    (loc.span.end.col as usize).min(len)
                } else {
                    len
                };
                let (shown, start, end) = window(&line, start, end);
                let carets = end.saturating_sub(start).max(1);
                let _ = writeln!(out, "{pad} {}", paint("1;34", "|"));
                let _ = writeln!(
                    out,
                    "{} {} {shown}",
                    paint("1;34", &line_no.to_string()),
                    paint("1;34", "|")
                );
                let label = self
                    .label
                    .as_ref()
                    .map(|l| format!(" {l}"))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "{pad} {} {}{}",
                    paint("1;34", "|"),
                    " ".repeat(start),
                    paint("1;31", &format!("{}{label}", "^".repeat(carets)))
                );
            }
        }
        for note in &self.notes {
            let _ = writeln!(out, "  {} {note}", paint("1;34", "="));
        }
        if let Some(hint) = &self.hint {
            let _ = writeln!(out, "  {} {hint}", paint("1;34", "= hint:"));
        }
        out
    }
}

/// Source lines longer than this many characters are cut around the span for display: a
/// minified one-line file of megabytes would otherwise be printed whole (and its carets too)
/// for every error on it.
const MAX_SHOWN_LINE: usize = 160;

/// The part of `line` to show, and the span's columns within it: the whole line when it is
/// short, else a window that starts a little before the span, with `…` where it was cut.
fn window(line: &str, start: usize, end: usize) -> (String, usize, usize) {
    let len = line.chars().count();
    if len <= MAX_SHOWN_LINE {
        return (line.to_owned(), start, end);
    }
    let from = start.saturating_sub(MAX_SHOWN_LINE / 4);
    let to = (from + MAX_SHOWN_LINE).min(len);
    let mut shown = String::new();
    let mut shift = from;
    if from > 0 {
        shown.push('…');
        shift -= 1;
    }
    shown.extend(line.chars().skip(from).take(to - from));
    if to < len {
        shown.push('…');
    }
    let visible_end = to - from + usize::from(from > 0);
    (
        shown,
        start - shift,
        end.min(to).saturating_sub(shift).min(visible_end),
    )
}

impl std::fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.render(false))
    }
}

/// Paths are shown relative to the current directory when they are inside it.
pub fn display_path(path: &Path) -> String {
    if let Ok(cwd) = std::env::current_dir() {
        if let Ok(rel) = path.strip_prefix(&cwd) {
            return rel.display().to_string();
        }
    }
    path.display().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_carets_under_the_span() {
        let file = SourceFile::new("a.yaml", "name: x\nsteps:\n  - nme: y\n");
        let span = Span {
            start: Pos { line: 3, col: 4 },
            end: Pos { line: 3, col: 7 },
        };
        let d = Diagnostic::new("unknown key `nme`")
            .at(&file, span)
            .label("unknown key")
            .hint("did you mean `name`?");
        let text = d.render(false);
        assert_eq!(
            text,
            "error: unknown key `nme`\n --> a.yaml:3:5\n  |\n3 |   - nme: y\n  |     ^^^ unknown key\n  = hint: did you mean `name`?\n"
        );
    }

    #[test]
    fn a_long_line_is_cut_around_the_span() {
        let line = format!("steps: [{}bad, {}]", "x, ".repeat(3000), "y, ".repeat(3000));
        let col = line.find("bad").unwrap();
        let file = SourceFile::new("a.yaml", format!("name: x\n{line}\n"));
        let span = Span {
            start: Pos::new(2, col),
            end: Pos::new(2, col + 3),
        };
        let text = Diagnostic::new("bad").at(&file, span).render(false);
        let lines: Vec<&str> = text.lines().collect();
        assert!(lines[3].len() < 400, "{text}");
        // The carets still sit under `bad`.
        let shown: Vec<char> = lines[3].chars().collect();
        let caret = lines[4].chars().position(|c| c == '^').unwrap();
        assert_eq!(shown[caret..caret + 3].iter().collect::<String>(), "bad");
        assert_eq!(lines[4].matches('^').count(), 3);
        // A span running past the window is cut at its end.
        let wide = Span {
            start: Pos { line: 2, col: 10 },
            end: Pos { line: 2, col: 9000 },
        };
        let text = Diagnostic::new("wide").at(&file, wide).render(false);
        assert!(text.len() < 800, "{text}");
    }

    #[test]
    fn lines_are_found_by_number() {
        let file = SourceFile::new("a.yaml", "a\r\nb\n\nc");
        assert_eq!(file.line(0), None);
        assert_eq!(file.line(1), Some("a"));
        assert_eq!(file.line(2), Some("b"));
        assert_eq!(file.line(3), Some(""));
        assert_eq!(file.line(4), Some("c"));
        assert_eq!(file.line(5), None);
        assert_eq!(SourceFile::new("b", "x\n").line(2), Some(""));
    }

    #[test]
    fn narrows_to_a_substring() {
        let file = SourceFile::new("a.yaml", "url: \"{{ base }}/x/{{ missing }}\"\n");
        let span = Span {
            start: Pos { line: 1, col: 5 },
            end: Pos { line: 1, col: 34 },
        };
        let narrowed = file.narrow(span, "missing");
        assert_eq!(narrowed.start.col, 22);
        assert_eq!(narrowed.end.col, 29);
    }
}
