//! Snapshots: a step's response stored in insta's `.snap` format and compared on later runs.
//! This is the setting as written in the scenario; [`crate::snapshot`] owns the files.

use super::schema;
use super::value::shorthand;
use super::{Value, ValueKind};
use crate::yaml::Spanned;
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

/// `snapshot:` on a step. `true` takes every default; a mapping sets some of them; `false`
/// takes no snapshot (as if the key were absent).
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(remote = "Self", deny_unknown_fields)]
#[schemars(rename = "Snapshot", transform = schema::snapshot_shorthand)]
pub struct Snapshot {
    /// The snapshot's name, part of its file name (`<scenario>__<name>.snap`). Default: the
    /// step's name in lower case with `-` between words. Letters, digits, `-`, `_` and `.`;
    /// unique within a scenario.
    #[serde(default)]
    #[schemars(example = &"application-create")]
    pub name: Option<Spanned<String>>,
    /// Response headers to include (case-insensitive); none by default.
    #[serde(default)]
    #[schemars(example = serde_json::json!(["location", "content-type"]))]
    pub headers: Vec<Spanned<String>>,
    /// JSONPath (RFC 9535) to the placeholder text that replaces every value it selects,
    /// e.g. `"$.name": "[app-name]"`. Not templated.
    #[serde(default)]
    #[schemars(example = serde_json::json!({"$.name": "[app-name]"}))]
    pub redact: IndexMap<Spanned<compact_str::CompactString>, Spanned<String>>,
    /// Replace volatile values (UUIDs, timestamps, JWTs, tokens, device and user codes, the
    /// port of loopback URLs) with placeholders (default: yes).
    #[serde(default = "yes")]
    #[schemars(example = false)]
    pub volatile: bool,
    /// Include the body (default: yes); without it only the status and headers are stored.
    #[serde(default = "yes")]
    #[schemars(example = false)]
    pub body: bool,
    /// `false` when written `snapshot: false`.
    #[serde(skip_deserializing, default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

shorthand!(Snapshot);

impl Default for Snapshot {
    fn default() -> Self {
        Snapshot {
            name: None,
            headers: Vec::new(),
            redact: IndexMap::new(),
            volatile: true,
            body: true,
            enabled: true,
        }
    }
}

impl Snapshot {
    fn from_short(v: Value) -> Result<Self, String> {
        match v.kind {
            ValueKind::Bool(enabled) => Ok(Snapshot {
                enabled,
                ..Snapshot::default()
            }),
            _ => Err("expected `true`, `false` or a mapping with `name`, `headers`, `redact`, `volatile`, `body`".into()),
        }
    }

    /// The snapshot's name: the one given, or the step's name made file-name safe.
    pub fn name_for(&self, step_name: &str) -> String {
        match &self.name {
            Some(n) => n.value.clone(),
            None => slug(step_name),
        }
    }
}

/// `Step 1: Create an app` → `step-1-create-an-app`: lower-case ASCII letters and digits,
/// one `-` between runs of anything else.
pub fn slug(text: &str) -> String {
    let mut out = String::new();
    for c in text.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    while out.ends_with('-') {
        out.pop();
    }
    if out.is_empty() {
        out.push_str("snapshot");
    }
    out
}

/// Why a snapshot name cannot be used in a file name, if it cannot.
pub fn check_name(name: &str) -> Result<(), String> {
    if name.is_empty() {
        return Err("a snapshot name cannot be empty".into());
    }
    if name.starts_with('.') {
        return Err(format!("the snapshot name `{name}` starts with `.`"));
    }
    if let Some(c) = name
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.')))
    {
        return Err(format!(
            "the snapshot name `{name}` has `{c}`; use letters, digits, `-`, `_` and `.`"
        ));
    }
    if name.len() > 200 {
        return Err("a snapshot name is at most 200 characters".into());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_file_name_safe() {
        assert_eq!(
            slug("Step 1: Create a custom application"),
            "step-1-create-a-custom-application"
        );
        assert_eq!(slug("  Écrire — ça  "), "crire-a");
        assert_eq!(slug("!!!"), "snapshot");
        assert!(check_name("step-1_x.v2").is_ok());
        assert!(check_name("a/b").is_err());
        assert!(check_name(".hidden").is_err());
    }
}
