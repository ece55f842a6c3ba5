//! JSONPath (RFC 9535) through jsonpath-rust: compiled once per distinct path.

use jsonpath_rust::parser::model::JpQuery;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// Parses a JSONPath, with a process-wide cache (scenarios reuse the same paths on every
/// step and every poll attempt).
pub fn compile(path: &str) -> Result<Arc<JpQuery>, String> {
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<JpQuery>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(q) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(path) {
        return Ok(q.clone());
    }
    let parsed = jsonpath_rust::parser::parse_json_path(path).map_err(|e| describe(path, &e))?;
    let parsed = Arc::new(parsed);
    let mut guard = cache.lock().unwrap_or_else(|e| e.into_inner());
    if guard.len() < 10_000 {
        guard.insert(path.to_owned(), parsed.clone());
    }
    Ok(parsed)
}

/// Every node the path selects.
pub fn query<'a>(q: &JpQuery, value: &'a serde_json::Value) -> Vec<&'a serde_json::Value> {
    jsonpath_rust::query::js_path_process(q, value)
        .map(|refs| refs.into_iter().map(|r| r.val()).collect())
        .unwrap_or_default()
}

/// Selects with a path: one match gives the value, several an array, none `None`.
pub fn select(q: &JpQuery, value: &serde_json::Value) -> Option<serde_json::Value> {
    let mut found = query(q, value);
    match found.len() {
        0 => None,
        1 => found.pop().cloned(),
        _ => Some(serde_json::Value::Array(
            found.into_iter().cloned().collect(),
        )),
    }
}

fn describe(path: &str, e: &jsonpath_rust::parser::errors::JsonPathError) -> String {
    if !path.starts_with('$') {
        return format!("invalid JSONPath `{path}`: a JSONPath starts with `$`");
    }
    let text = e.to_string();
    // pest reports "--> 1:COL"; name the text from there.
    let col = regex::Regex::new(r"--> 1:(\d+)")
        .ok()
        .and_then(|re| re.captures(&text))
        .and_then(|c| c[1].parse::<usize>().ok());
    match col {
        Some(col) if col >= 1 && col <= path.chars().count() => {
            let rest: String = path.chars().skip(col - 1).collect();
            let hint = if rest.starts_with('-') || rest.contains('-') {
                " (names with `-` or other symbols need brackets: `$['x-name']`)"
            } else {
                ""
            };
            format!("invalid JSONPath `{path}`: unexpected `{rest}` at character {col}{hint}")
        }
        Some(_) => format!(
            "invalid JSONPath `{path}`: it ends too early (an unclosed `[` or `(`, or a trailing `.`?)"
        ),
        _ => {
            let first = text.lines().find(|l| !l.trim().is_empty()).unwrap_or(&text);
            format!("invalid JSONPath `{path}`: {}", first.trim())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn selects_one_many_none() {
        let v = json!({"a": {"b": 1}, "l": [1, 2]});
        assert_eq!(select(&compile("$.a.b").unwrap(), &v), Some(json!(1)));
        assert_eq!(select(&compile("$.l[*]").unwrap(), &v), Some(json!([1, 2])));
        assert_eq!(select(&compile("$.zz").unwrap(), &v), None);
        assert!(compile("$.[").is_err());
        assert!(compile("a.b").is_err());
    }
}
