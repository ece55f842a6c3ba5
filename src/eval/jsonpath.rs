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

/// Like [`select`] over the parsed `body`, for a path that names at most one value (name and
/// index selectors only, as in `$.items[12].name`), in one pass over the text that builds
/// only the selected value. `None` when the path is of another kind or the text is not JSON:
/// the caller then parses the body and selects as usual (and reports why it is not JSON).
///
/// Why: a parsed document takes about ten times its text in memory (a 50 MB body took
/// 800 MB, docs/performance.md); this takes the size of what it selects. The pass checks
/// the text exactly as parsing it into a `serde_json::Value` does (every value is visited
/// through `deserialize_any`, with the same nesting limit, number and string checks), so it
/// fails on precisely the bodies that parsing fails on.
pub fn select_in_text(q: &JpQuery, body: &[u8]) -> Option<Option<serde_json::Value>> {
    let steps = singular(q)?;
    if steps.is_empty() {
        return None;
    }
    let mut de = serde_json::Deserializer::from_slice(body);
    let found = serde::de::DeserializeSeed::deserialize(Walk::On(&steps), &mut de).ok()?;
    de.end().ok()?;
    Some(found)
}

/// One selector of a singular path.
#[derive(Debug, Clone, Copy)]
enum Step<'a> {
    Name(&'a str),
    Index(i64),
}

/// Indices counted from the end further back than this are left to the parsed tree (the pass
/// keeps that many candidates).
const MAX_FROM_END: i64 = 64;

/// The steps of `q` when it names at most one value.
fn singular(q: &JpQuery) -> Option<Vec<Step<'_>>> {
    use jsonpath_rust::parser::model::{Segment, Selector};
    fn step(sel: &Selector) -> Option<Step<'_>> {
        match sel {
            Selector::Name(name) => Some(Step::Name(name.as_str())),
            Selector::Index(i) if *i >= -MAX_FROM_END => Some(Step::Index(*i)),
            _ => None,
        }
    }
    q.segments
        .iter()
        .map(|segment| match segment {
            Segment::Selector(sel) => step(sel),
            Segment::Selectors(sels) if sels.len() == 1 => step(&sels[0]),
            _ => None,
        })
        .collect()
}

/// A node of the document: on the path (with the steps left from it), or off it (checked,
/// then dropped).
#[derive(Clone, Copy)]
enum Walk<'p> {
    On(&'p [Step<'p>]),
    Off,
}

impl<'de> serde::de::DeserializeSeed<'de> for Walk<'_> {
    type Value = Option<serde_json::Value>;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        match self {
            Walk::On([]) => <serde_json::Value as serde::Deserialize>::deserialize(d).map(Some),
            _ => d.deserialize_any(self),
        }
    }
}

impl<'de> serde::de::Visitor<'de> for Walk<'_> {
    type Value = Option<serde_json::Value>;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_bool<E>(self, _: bool) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_i64<E>(self, _: i64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_u64<E>(self, _: u64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_f64<E>(self, _: f64) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_str<E>(self, _: &str) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_unit<E>(self) -> Result<Self::Value, E> {
        Ok(None)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
        let Walk::On([Step::Index(i), rest @ ..]) = self else {
            while seq.next_element_seed(Walk::Off)?.is_some() {}
            return Ok(None);
        };
        if *i >= 0 {
            let (mut found, mut n) = (None, 0i64);
            loop {
                let seed = if n == *i { Walk::On(rest) } else { Walk::Off };
                match seq.next_element_seed(seed)? {
                    Some(value) if n == *i => found = value,
                    Some(_) => {}
                    None => return Ok(found),
                }
                n += 1;
            }
        }
        // From the end: the candidates of the last |i| elements.
        let back = i.unsigned_abs() as usize;
        let mut last = std::collections::VecDeque::with_capacity(back);
        while let Some(value) = seq.next_element_seed(Walk::On(rest))? {
            if last.len() == back {
                last.pop_front();
            }
            last.push_back(value);
        }
        Ok(if last.len() == back {
            last.pop_front().flatten()
        } else {
            None
        })
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let name = match self {
            Walk::On([Step::Name(name), ..]) => Some(*name),
            _ => None,
        };
        let mut found = None;
        while let Some(is_name) = map.next_key_seed(KeyIs(name))? {
            match self {
                // The last of duplicate keys wins, as in the parsed map.
                Walk::On([_, rest @ ..]) if is_name => {
                    found = map.next_value_seed(Walk::On(rest))?
                }
                _ => {
                    map.next_value_seed(Walk::Off)?;
                }
            }
        }
        Ok(found)
    }
}

/// A map key, checked as a string, compared with a name (without allocating).
struct KeyIs<'a>(Option<&'a str>);

impl<'de> serde::de::DeserializeSeed<'de> for KeyIs<'_> {
    type Value = bool;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<bool, D::Error> {
        d.deserialize_str(self)
    }
}

impl serde::de::Visitor<'_> for KeyIs<'_> {
    type Value = bool;

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a key")
    }

    fn visit_str<E>(self, key: &str) -> Result<bool, E> {
        Ok(self.0 == Some(key))
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
    fn selects_in_the_text_as_in_the_parsed_document() {
        let text = r#"{"a": {"b": 1, "b": [true, {"c": "x\u00e9"}]}, "l": [1, 2, 3], "e": {}}"#;
        let parsed: serde_json::Value = serde_json::from_str(text).unwrap();
        for path in [
            "$.a",
            "$.a.b",
            "$.a.b[1].c",
            "$['a']['b'][0]",
            "$.l[0]",
            "$.l[2]",
            "$.l[3]",
            "$.l[-1]",
            "$.l[-3]",
            "$.l[-4]",
            "$.zz",
            "$.l.a",
            "$.a[0]",
            "$.e.x",
            "$.l[0].x",
        ] {
            let q = compile(path).unwrap();
            assert_eq!(
                select_in_text(&q, text.as_bytes()),
                Some(select(&q, &parsed)),
                "{path}"
            );
        }
        // Not singular, or not JSON: left to the parsed tree.
        assert_eq!(
            select_in_text(&compile("$.l[*]").unwrap(), text.as_bytes()),
            None
        );
        assert_eq!(
            select_in_text(&compile("$..b").unwrap(), text.as_bytes()),
            None
        );
        let q = compile("$.a").unwrap();
        for bad in [
            &br#"{"a": 1"#[..],
            br#"{"a": 1} x"#,
            br#"{"a": 1e999}"#,
            br#"{"a": "\x"}"#,
            b"{\"a\": \"\xff\"}",
        ] {
            assert!(serde_json::from_slice::<serde_json::Value>(bad).is_err());
            assert_eq!(
                select_in_text(&q, bad),
                None,
                "{}",
                String::from_utf8_lossy(bad)
            );
        }
        // Nested past serde_json's limit: refused as parsing refuses it.
        let deep = format!(
            "{{\"a\": 1, \"d\": {}{}}}",
            "[".repeat(200),
            "]".repeat(200)
        );
        assert!(serde_json::from_str::<serde_json::Value>(&deep).is_err());
        assert_eq!(select_in_text(&q, deep.as_bytes()), None);
    }

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
