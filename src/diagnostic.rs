//! The one renderer for every error a user can fix: a title, `--> file:line:col`, the source
//! line with carets under the offending value, and a hint. Load-time errors (bad YAML, unknown
//! keys) and run-time errors inside a value (an undefined variable in a URL) both use it.

use crate::yaml::{Pos, Span};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A source file kept in memory so that errors can quote it.
#[derive(Debug)]
pub struct SourceFile {
    pub path: PathBuf,
    pub text: String,
}

impl SourceFile {
    pub fn new(path: impl Into<PathBuf>, text: impl Into<String>) -> Arc<SourceFile> {
        Arc::new(SourceFile {
            path: path.into(),
            text: text.into(),
        })
    }

    /// Line `n` (1-based), without its line break.
    pub fn line(&self, n: usize) -> Option<&str> {
        if n == 0 {
            return None;
        }
        self.text
            .split('\n')
            .nth(n - 1)
            .map(|l| l.strip_suffix('\r').unwrap_or(l))
    }

    /// Narrows `span` to the first occurrence of `needle` inside it on its first line, so that
    /// carets can sit under a variable name inside a longer template.
    pub fn narrow(&self, span: Span, needle: &str) -> Span {
        if needle.is_empty() || !span.is_known() {
            return span;
        }
        let Some(line) = self.line(span.start.line) else {
            return span;
        };
        let chars: Vec<char> = line.chars().collect();
        let start = span.start.col.min(chars.len());
        let end = if span.end.line == span.start.line {
            span.end.col.min(chars.len())
        } else {
            chars.len()
        };
        let hay: String = chars[start..end].iter().collect();
        match hay.find(needle) {
            Some(byte) => {
                let col = start + hay[..byte].chars().count();
                Span {
                    start: Pos {
                        line: span.start.line,
                        col,
                    },
                    end: Pos {
                        line: span.start.line,
                        col: col + needle.chars().count(),
                    },
                }
            }
            None => span,
        }
    }
}

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
            let line_no = loc.span.start.line;
            let width = line_no.to_string().len();
            let pad = " ".repeat(width);
            let _ = writeln!(
                out,
                "{pad}{} {}",
                paint("1;34", "-->"),
                self.position().unwrap_or_default()
            );
            if let Some(line) = loc.file.line(line_no) {
                let shown = line.replace('\t', " ");
                let len = shown.chars().count();
                let start = loc.span.start.col.min(len);
                let end = if loc.span.end.line == line_no {
                    loc.span.end.col.min(len)
                } else {
                    len
                };
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
