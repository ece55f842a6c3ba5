//! What a snapshot holds: `HTTP <status>`, the chosen headers (lower case, sorted), a blank
//! line, and the body — JSON pretty-printed with sorted keys, other text as it is, binary as
//! its length and SHA-256 — after redaction, and with every known secret masked.

use super::redact::Redactor;
use crate::mask::Masker;
use crate::model::Snapshot;
use crate::response::ResponseView;
use serde_json::Value as Json;

/// The snapshot text of a response. `Err` names a `redact` JSONPath that does not compile.
pub fn render(spec: &Snapshot, response: &ResponseView, masker: &Masker) -> Result<String, String> {
    let r = &response.response;
    // The body first: values it redacts are redacted in the headers too.
    let mut redactor = Redactor::default();
    let body = if spec.body && !r.body.is_empty() {
        Some(body(spec, response, &mut redactor)?)
    } else {
        None
    };
    let mut out = format!("HTTP {}\n", r.status);
    let mut wanted: Vec<String> = spec
        .headers
        .iter()
        .map(|h| h.value.trim().to_ascii_lowercase())
        .collect();
    wanted.sort();
    wanted.dedup();
    for name in &wanted {
        let values = r
            .headers
            .iter()
            .filter(|(n, _)| n.eq_ignore_ascii_case(name));
        for (_, value) in values {
            let value = redactor.text(value, spec.volatile);
            out.push_str(&format!("{name}: {value}\n"));
        }
    }
    if let Some(body) = body {
        out.push('\n');
        out.push_str(&body);
    }
    // Last, over everything: a secret never reaches a snapshot file.
    Ok(masker.mask(&out).into_owned())
}

fn body(
    spec: &Snapshot,
    response: &ResponseView,
    redactor: &mut Redactor,
) -> Result<String, String> {
    if let Ok(json) = response.json() {
        let mut json = json.clone();
        for (path, placeholder) in &spec.redact {
            redactor.jsonpath(&mut json, &path.value, &placeholder.value)?;
        }
        if spec.volatile {
            redactor.volatile_json(&mut json);
        }
        redactor.spread_json(&mut json, spec.volatile);
        let sorted = sort_keys(json);
        return serde_json::to_string_pretty(&sorted).map_err(|e| e.to_string());
    }
    let bytes = &response.response.body;
    match std::str::from_utf8(bytes) {
        Ok(text) => Ok(redactor.text(text, spec.volatile).into_owned()),
        Err(_) => Ok(format!(
            "<{} bytes of binary data, sha256 {}>",
            bytes.len(),
            sha256_hex(bytes)
        )),
    }
}

/// The same document with every object's keys in sorted order (serde_json keeps insertion
/// order in this crate, so the order is rebuilt).
fn sort_keys(json: Json) -> Json {
    match json {
        Json::Object(map) => {
            let mut entries: Vec<(String, Json)> = map.into_iter().collect();
            entries.sort_by(|a, b| a.0.cmp(&b.0));
            Json::Object(
                entries
                    .into_iter()
                    .map(|(k, v)| (k, sort_keys(v)))
                    .collect(),
            )
        }
        Json::Array(items) => Json::Array(items.into_iter().map(sort_keys).collect()),
        other => other,
    }
}

fn sha256_hex(bytes: &[u8]) -> String {
    ring::digest::digest(&ring::digest::SHA256, bytes)
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn keys_are_sorted_at_every_level() {
        let v = sort_keys(json!({"b": 1, "a": {"d": [{"z": 1, "y": 2}], "c": 3}}));
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"{"a":{"c":3,"d":[{"y":2,"z":1}]},"b":1}"#
        );
    }

    #[test]
    fn sha256_matches_a_known_digest() {
        assert_eq!(
            sha256_hex(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
