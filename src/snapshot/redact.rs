//! Redactions: what makes a snapshot taken against a live server the same run after run.
//! A scenario's `redact` JSONPaths come first; then, with `volatile`, automatic placeholders
//! for values that change on every run (ids, times, tokens, codes, loopback ports).

use crate::eval::jsonpath;
use regex::Regex;
use serde_json::Value as Json;
use std::collections::HashSet;
use std::sync::OnceLock;

/// Values shorter than this are not replaced wherever else they appear (`OK`, `1`, ...).
const MIN_SPREAD_LEN: usize = 4;

/// Applies redactions to one response, remembering the string values it replaced so that
/// they are replaced wherever else they appear (a `user_code` inside
/// `verification_uri_complete`, a redacted name inside a `Location` header).
#[derive(Debug, Default)]
pub struct Redactor {
    /// (original value, placeholder), longest value first once [`Redactor::spread_json`] ran.
    learned: Vec<(String, String)>,
}

impl Redactor {
    /// Replaces every value selected by `path` with `placeholder`. Returns how many were.
    pub fn jsonpath(
        &mut self,
        json: &mut Json,
        path: &str,
        placeholder: &str,
    ) -> Result<usize, String> {
        let query = jsonpath::compile(path)?;
        // Selected nodes are recognised by address: the tree is not changed between the
        // query and the walk, and a replaced node is not descended into.
        let targets: HashSet<usize> = jsonpath::query(&query, json)
            .into_iter()
            .map(|v| v as *const Json as usize)
            .collect();
        if targets.is_empty() {
            return Ok(0);
        }
        let mut n = 0;
        self.replace_targets(json, &targets, placeholder, &mut n);
        Ok(n)
    }

    fn replace_targets(
        &mut self,
        node: &mut Json,
        targets: &HashSet<usize>,
        placeholder: &str,
        n: &mut usize,
    ) {
        if targets.contains(&(node as *const Json as usize)) {
            self.replace(node, placeholder);
            *n += 1;
            return;
        }
        match node {
            Json::Object(map) => map
                .values_mut()
                .for_each(|v| self.replace_targets(v, targets, placeholder, n)),
            Json::Array(items) => items
                .iter_mut()
                .for_each(|v| self.replace_targets(v, targets, placeholder, n)),
            _ => {}
        }
    }

    fn replace(&mut self, node: &mut Json, placeholder: &str) {
        if let Json::String(old) = node {
            if old.chars().count() >= MIN_SPREAD_LEN && old != placeholder {
                self.learned.push((old.clone(), placeholder.to_owned()));
            }
        }
        *node = Json::String(placeholder.to_owned());
    }

    /// Automatic placeholders by key name: codes, tokens, epoch times.
    pub fn volatile_json(&mut self, json: &mut Json) {
        self.volatile_node(json, 0);
    }

    fn volatile_node(&mut self, node: &mut Json, depth: usize) {
        if depth > 128 {
            return;
        }
        match node {
            Json::Object(map) => {
                for (key, value) in map.iter_mut() {
                    match key_placeholder(key, value) {
                        Some(p) => self.replace(value, p),
                        None => self.volatile_node(value, depth + 1),
                    }
                }
            }
            Json::Array(items) => items
                .iter_mut()
                .for_each(|v| self.volatile_node(v, depth + 1)),
            _ => {}
        }
    }

    /// Every string of the document through [`Redactor::text`].
    pub fn spread_json(&mut self, json: &mut Json, volatile: bool) {
        self.learned
            .sort_by(|a, b| b.0.len().cmp(&a.0.len()).then_with(|| a.0.cmp(&b.0)));
        self.learned.dedup();
        fn walk(r: &Redactor, node: &mut Json, volatile: bool, depth: usize) {
            if depth > 128 {
                return;
            }
            match node {
                Json::Object(map) => map
                    .values_mut()
                    .for_each(|v| walk(r, v, volatile, depth + 1)),
                Json::Array(items) => items
                    .iter_mut()
                    .for_each(|v| walk(r, v, volatile, depth + 1)),
                Json::String(s) => {
                    if let std::borrow::Cow::Owned(new) = r.text(s, volatile) {
                        *s = new;
                    }
                }
                _ => {}
            }
        }
        walk(self, json, volatile, 0);
    }

    /// A text (a JSON string, a header value, a text body) with the values redacted so far
    /// replaced, then, with `volatile`, the shapes of volatile values.
    pub fn text<'t>(&self, text: &'t str, volatile: bool) -> std::borrow::Cow<'t, str> {
        let mut out = std::borrow::Cow::Borrowed(text);
        for (old, placeholder) in &self.learned {
            if out.contains(old.as_str()) {
                out = std::borrow::Cow::Owned(out.replace(old.as_str(), placeholder));
            }
        }
        if volatile {
            if let std::borrow::Cow::Owned(new) = volatile_text(&out) {
                out = std::borrow::Cow::Owned(new);
            }
        }
        out
    }
}

/// The placeholder for a value because of its key: `device_code`, `user_code`, tokens, and
/// epoch numbers under time-like keys (`expiresAt`, `created_at`, `iat`, `exp`, ...).
fn key_placeholder(key: &str, value: &Json) -> Option<&'static str> {
    let scalar = matches!(value, Json::String(_) | Json::Number(_));
    if !scalar {
        return None;
    }
    let flat: String = key
        .chars()
        .filter(|c| *c != '_' && *c != '-')
        .flat_map(char::to_lowercase)
        .collect();
    match flat.as_str() {
        "devicecode" => return Some("[device_code]"),
        "usercode" => return Some("[user_code]"),
        "accesstoken" | "refreshtoken" | "idtoken" => return Some("[token]"),
        _ => {}
    }
    let epoch = match value {
        Json::Number(_) => true,
        Json::String(s) => !s.is_empty() && s.len() <= 20 && s.bytes().all(|b| b.is_ascii_digit()),
        _ => false,
    };
    (epoch && is_time_key(key)).then_some("[timestamp]")
}

/// `iat`, `exp`, `nbf`, `auth_time`, and keys ending in `At` (camel case) or `_at`.
fn is_time_key(key: &str) -> bool {
    if matches!(key, "iat" | "exp" | "nbf" | "auth_time" | "authTime") {
        return true;
    }
    if key.len() > 3 && key.to_ascii_lowercase().ends_with("_at") {
        return true;
    }
    match key.strip_suffix("At") {
        Some(stem) => stem
            .chars()
            .last()
            .is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit()),
        None => false,
    }
}

/// Automatic placeholders inside a text (a JSON string, a header value, a text body).
pub fn volatile_text(text: &str) -> std::borrow::Cow<'_, str> {
    let mut out = std::borrow::Cow::Borrowed(text);
    for (re, replacement) in patterns() {
        if re.is_match(&out) {
            out = std::borrow::Cow::Owned(re.replace_all(&out, *replacement).into_owned());
        }
    }
    out
}

/// The shapes of volatile values, in the order they are replaced (a JWT before the UUIDs its
/// parts might look like, a loopback port before anything else reads the URL).
fn patterns() -> &'static [(Regex, &'static str)] {
    static PATTERNS: OnceLock<Vec<(Regex, &'static str)>> = OnceLock::new();
    PATTERNS.get_or_init(|| {
        [
            (r"\beyJ[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*", "[jwt]"),
            (
                r"(?i)\b((?:https?|wss?)://(?:[^/@\s]*@)?(?:127\.0\.0\.1|localhost|\[::1\])):\d{1,5}\b",
                "$1:[port]",
            ),
            (
                r"(?i)\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b",
                "[uuid]",
            ),
            (
                r"\b\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:[.,]\d+)?)?(?:Z|[+-]\d{2}(?::?\d{2})?)?",
                "[timestamp]",
            ),
            // HTTP dates (`Date`, `Expires`, `Last-Modified` headers).
            (
                r"\b(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT",
                "[timestamp]",
            ),
        ]
        .into_iter()
        .filter_map(|(re, to)| Regex::new(re).ok().map(|re| (re, to)))
        .collect()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn redact(v: &mut Json, paths: &[(&str, &str)]) -> Redactor {
        let mut r = Redactor::default();
        for (p, to) in paths {
            r.jsonpath(v, p, to).unwrap();
        }
        r.volatile_json(v);
        r.spread_json(v, true);
        r
    }

    #[test]
    fn jsonpath_redactions_replace_every_match() {
        let mut v = json!({"a": {"id": 1}, "l": [{"id": 2}, {"id": 3}], "id": 4});
        let mut r = Redactor::default();
        assert_eq!(r.jsonpath(&mut v, "$..id", "[id]").unwrap(), 4);
        assert_eq!(
            v,
            json!({"a": {"id": "[id]"}, "l": [{"id": "[id]"}, {"id": "[id]"}], "id": "[id]"})
        );
        assert_eq!(r.jsonpath(&mut v, "$.none", "x").unwrap(), 0);
        assert!(r.jsonpath(&mut v, "$.[", "x").is_err());
        // A whole subtree.
        let mut v = json!({"_links": {"self": {"href": "x"}}, "k": 1});
        r.jsonpath(&mut v, "$._links", "[links]").unwrap();
        assert_eq!(v, json!({"_links": "[links]", "k": 1}));
    }

    #[test]
    fn redacted_values_are_replaced_wherever_they_appear() {
        let mut v = json!({
            "user_code": "WJS8-WCDW",
            "verification_uri_complete": "http://127.0.0.1:4000/device?user_code=WJS8-WCDW",
            "name": "Device-App1234",
            "_embedded": {"application": {"name": "Device-App1234"}, "status": "OK"},
            "short": "OK"
        });
        let r = redact(
            &mut v,
            &[("$.name", "[app-name]"), ("$._embedded.status", "[s]")],
        );
        assert_eq!(
            v,
            json!({
                "user_code": "[user_code]",
                "verification_uri_complete": "http://127.0.0.1:[port]/device?user_code=[user_code]",
                "name": "[app-name]",
                "_embedded": {"application": {"name": "[app-name]"}, "status": "[s]"},
                "short": "OK"
            })
        );
        assert_eq!(r.text("/apps/Device-App1234", false), "/apps/[app-name]");
    }

    #[test]
    fn volatile_values_get_placeholders() {
        let mut v = json!({
            "id": "3f1c2b7e-9a4d-4c3b-8e2f-1a2b3c4d5e6f",
            "createdAt": "2024-01-02T03:04:05.678Z",
            "expiresAt": 1700000000,
            "expires_at": 1700000000,
            "expires_in": 600,
            "format": 12,
            "iat": 1700000000,
            "device_code": "Xyz-opaque",
            "userCode": "BVKV-2GZ2",
            "access_token": "opaque-token",
            "id_token": "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2ln",
            "note": "token eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.c2lu here",
            "_links": {"self": {"href": "http://127.0.0.1:41234/v1/apps/3F1C2B7E-9A4D-4C3B-8E2F-1A2B3C4D5E6F?x=1"}},
            "other": "https://example.com:8443/a",
            "plain": "BVKV-2GZ3"
        });
        redact(&mut v, &[]);
        assert_eq!(
            v,
            json!({
                "id": "[uuid]",
                "createdAt": "[timestamp]",
                "expiresAt": "[timestamp]",
                "expires_at": "[timestamp]",
                "expires_in": 600,
                "format": 12,
                "iat": "[timestamp]",
                "device_code": "[device_code]",
                "userCode": "[user_code]",
                "access_token": "[token]",
                "id_token": "[token]",
                "note": "token [jwt] here",
                "_links": {"self": {"href": "http://127.0.0.1:[port]/v1/apps/[uuid]?x=1"}},
                "other": "https://example.com:8443/a",
                "plain": "BVKV-2GZ3"
            })
        );
    }

    #[test]
    fn texts_and_headers_are_redacted_too() {
        assert_eq!(
            volatile_text(
                "http://localhost:8080/signon/?flowId=a51b3483-72d8-495e-9b60-4e818fe69c40"
            ),
            "http://localhost:[port]/signon/?flowId=[uuid]"
        );
        assert_eq!(
            volatile_text("Sun, 29 Nov 2026 16:40:42 GMT"),
            "[timestamp]"
        );
        assert_eq!(
            volatile_text("nothing here 2024-01-02"),
            "nothing here 2024-01-02"
        );
    }
}
