//! The `.snap` file format, as insta writes it and cargo-insta reads it: a YAML header between
//! two `---` lines (`source`, `expression`), then the content. New or changed snapshots go to
//! `<name>.snap.new` beside `<name>.snap`, where `cargo insta review`/`accept`/`reject` find them.
//! This is the only module that reads or writes these files.

use std::path::{Path, PathBuf};

/// The folder, beside the scenario file, that holds its snapshots (insta's name for it).
pub const FOLDER: &str = "__snapshots__";

/// A snapshot as stored on disk.
#[derive(Debug, Clone, PartialEq)]
pub struct SnapFile {
    /// The scenario file, relative to the working directory (insta: the test's source file).
    pub source: String,
    /// The step's name (insta: the asserted expression).
    pub expression: String,
    /// The snapshot text.
    pub content: String,
}

/// `<scenario dir>/__snapshots__/<scenario file stem>__<name>.snap`.
pub fn path_for(scenario: &Path, name: &str) -> PathBuf {
    let stem = scenario
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_else(|| "scenario".into());
    scenario
        .parent()
        .unwrap_or(Path::new(""))
        .join(FOLDER)
        .join(format!("{stem}__{name}.snap"))
}

/// Where a pending snapshot for `snap` goes: `<name>.snap.new`.
pub fn pending_path(snap: &Path) -> PathBuf {
    let mut name = snap.as_os_str().to_owned();
    name.push(".new");
    PathBuf::from(name)
}

/// Content as insta compares it: trailing whitespace dropped, CRLF as LF.
pub fn normalize(content: &str) -> String {
    content.trim_end().replace("\r\n", "\n")
}

impl SnapFile {
    /// The file's bytes, exactly as insta's `Snapshot::save` would write them, so that a
    /// snapshot accepted by cargo-insta is byte for byte the one stepwise writes.
    pub fn to_text(&self) -> String {
        let mut out = String::from("---\n");
        out.push_str(&format!("source: {}\n", yaml_scalar(&self.source)));
        out.push_str(&format!("expression: {}\n", yaml_scalar(&self.expression)));
        out.push_str("---\n");
        out.push_str(&normalize(&self.content));
        out.push('\n');
        out
    }

    /// Parses a `.snap` file: the YAML header (or insta's legacy `key: value` lines up to a
    /// blank line), then the content.
    pub fn parse(text: &str) -> Result<SnapFile, String> {
        let mut lines = text.split('\n');
        let first = lines.next().unwrap_or("");
        let mut header = Vec::new();
        if first.trim_end() == "---" {
            let mut closed = false;
            for line in lines.by_ref() {
                if line.trim_end() == "---" {
                    closed = true;
                    break;
                }
                header.push(line);
            }
            if !closed {
                return Err("the header is not closed by a `---` line".into());
            }
        } else {
            // Legacy insta format: `key: value` lines, a blank line, the content.
            header.push(first);
            if !first.trim().is_empty() {
                for line in lines.by_ref() {
                    if line.trim().is_empty() {
                        break;
                    }
                    header.push(line);
                }
            }
        }
        let mut source = String::new();
        let mut expression = String::new();
        for line in header {
            if let Some((key, value)) = line.split_once(':') {
                let value = unquote(value.trim());
                match key.trim().to_ascii_lowercase().as_str() {
                    "source" => source = value,
                    "expression" => expression = value,
                    _ => {}
                }
            }
        }
        let content: Vec<&str> = lines.map(|l| l.strip_suffix('\r').unwrap_or(l)).collect();
        Ok(SnapFile {
            source,
            expression,
            content: content.join("\n"),
        })
    }
}

/// Reads a `.snap` file; `Ok(None)` when there is none.
pub fn read(path: &Path) -> Result<Option<SnapFile>, String> {
    match std::fs::read(path) {
        Ok(bytes) => {
            let text = String::from_utf8(bytes)
                .map_err(|_| format!("`{}` is not UTF-8 text", path.display()))?;
            SnapFile::parse(&text)
                .map(Some)
                .map_err(|e| format!("`{}` is not a snapshot file: {e}", path.display()))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read `{}`: {e}", path.display())),
    }
}

/// Writes a snapshot file atomically (a temporary file in the same folder, then a rename), so
/// that a concurrent reader never sees half a file.
pub fn write(path: &Path, snap: &SnapFile) -> Result<(), String> {
    let fail = |e: std::io::Error| format!("cannot write `{}`: {e}", path.display());
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(format!(
        ".tmp-{}-{}",
        std::process::id(),
        rand::random::<u32>()
    ));
    let tmp = PathBuf::from(tmp);
    std::fs::write(&tmp, snap.to_text()).map_err(fail)?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        fail(e)
    })
}

/// Removes a file if it is there.
pub fn remove(path: &Path) -> Result<(), String> {
    match std::fs::remove_file(path) {
        Ok(()) => Ok(()),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
        Err(e) => Err(format!("cannot remove `{}`: {e}", path.display())),
    }
}

/// A YAML scalar as insta's emitter writes it: plain when that reads back as the same string,
/// double-quoted with escapes otherwise.
fn yaml_scalar(s: &str) -> String {
    if !needs_quotes(s) {
        return s.to_owned();
    }
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\u{8}' => out.push_str("\\b"),
            '\t' => out.push_str("\\t"),
            '\n' => out.push_str("\\n"),
            '\u{c}' => out.push_str("\\f"),
            '\r' => out.push_str("\\r"),
            c if (c as u32) < 0x20 || c == '\u{7f}' => {
                out.push_str(&format!("\\u{:04x}", c as u32));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// insta's rule (its vendored yaml-rust emitter) for when a string must be quoted.
fn needs_quotes(s: &str) -> bool {
    const WORDS: &[&str] = &[
        "yes", "Yes", "YES", "no", "No", "NO", "True", "TRUE", "true", "False", "FALSE", "false",
        "on", "On", "ON", "off", "Off", "OFF", "null", "Null", "NULL", "~",
    ];
    s.is_empty()
        || s.starts_with(' ')
        || s.ends_with(' ')
        || s.starts_with(['&', '*', '?', '|', '-', '<', '>', '=', '!', '%', '@'])
        || s.contains(|c: char| {
            matches!(
                c,
                ':' | '{'
                    | '}'
                    | '['
                    | ']'
                    | ','
                    | '#'
                    | '`'
                    | '"'
                    | '\''
                    | '\\'
                    | '\0'..='\x06'
                    | '\t'
                    | '\n'
                    | '\r'
                    | '\x0e'..='\x1a'
                    | '\x1c'..='\x1f'
            )
        })
        || WORDS.contains(&s)
        || s.starts_with('.')
        || s.starts_with("0x")
        || s.parse::<i64>().is_ok()
        || s.parse::<f64>().is_ok()
}

/// The value of a header line: a double-quoted YAML string unescaped, a single-quoted one
/// unquoted, anything else as it is.
fn unquote(s: &str) -> String {
    if let Some(inner) = s.strip_prefix('\'').and_then(|s| s.strip_suffix('\'')) {
        return inner.replace("''", "'");
    }
    if s.len() >= 2 && s.starts_with('"') && s.ends_with('"') {
        // A double-quoted YAML scalar uses JSON's escapes for everything insta writes.
        if let Ok(v) = serde_json::from_str::<String>(s) {
            return v;
        }
    }
    s.to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips_with_quoted_names() {
        let snap = SnapFile {
            source: "scenarios/pingone/flow.yaml".into(),
            expression: "Step 1: Create a \"custom\" app".into(),
            content: "HTTP 200\n\n{\n  \"a\": 1\n}\n\n".into(),
        };
        let text = snap.to_text();
        assert_eq!(
            text,
            "---\nsource: scenarios/pingone/flow.yaml\nexpression: \"Step 1: Create a \\\"custom\\\" app\"\n---\nHTTP 200\n\n{\n  \"a\": 1\n}\n"
        );
        let back = SnapFile::parse(&text).unwrap();
        assert_eq!(back.expression, snap.expression);
        assert_eq!(normalize(&back.content), normalize(&snap.content));
    }

    #[test]
    fn names_files_like_insta() {
        let p = path_for(Path::new("scenarios/x/flow.yaml"), "step-1");
        assert_eq!(p, Path::new("scenarios/x/__snapshots__/flow__step-1.snap"));
        assert_eq!(
            pending_path(&p),
            Path::new("scenarios/x/__snapshots__/flow__step-1.snap.new")
        );
        assert!(needs_quotes("true") && needs_quotes("12") && needs_quotes("-x"));
        assert!(!needs_quotes("Read the flow"));
    }

    #[test]
    fn reads_the_legacy_format() {
        let snap = SnapFile::parse("Created: 2019\nSource: x\n\nHTTP 200").unwrap();
        assert_eq!(snap.content, "HTTP 200");
    }
}
