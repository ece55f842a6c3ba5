//! A read-only view of a response for captures, assertions and expressions. The body is
//! parsed as JSON at most once, and only when something asks for it.

use crate::eval::jsonpath;
use crate::http::Response;
use jsonpath_rust::parser::model::JpQuery;
use minijinja::value::{Enumerator, Object, Value as MjValue};
use std::sync::{Arc, OnceLock};

/// Bodies from this size on are searched in their text by [`ResponseView::select`]; smaller
/// ones are parsed once and the tree serves every path.
const SEARCHED_IN_TEXT_FROM: usize = 1 << 20;

/// A response plus lazily parsed forms of its body.
#[derive(Debug)]
pub struct ResponseView {
    pub response: Response,
    json: OnceLock<Result<serde_json::Value, String>>,
    json_mj: OnceLock<MjValue>,
}

impl ResponseView {
    pub fn new(response: Response) -> Arc<ResponseView> {
        Arc::new(ResponseView {
            response,
            json: OnceLock::new(),
            json_mj: OnceLock::new(),
        })
    }

    /// The body parsed as JSON, or why it is not JSON.
    pub fn json(&self) -> Result<&serde_json::Value, &str> {
        self.json
            .get_or_init(|| {
                if self.response.body.is_empty() {
                    return Err("the response has no body".to_owned());
                }
                serde_json::from_slice(&self.response.body).map_err(|e| {
                    let ct = self
                        .response
                        .header("content-type")
                        .unwrap_or("no content type");
                    format!("the body is not JSON ({ct}): {e}")
                })
            })
            .as_ref()
            .map_err(String::as_str)
    }

    /// What a JSONPath selects in the body (one match: the value, several: an array, none:
    /// `None`), or why the body is not JSON.
    pub fn select(&self, q: &JpQuery) -> Result<Option<serde_json::Value>, &str> {
        // A large body not parsed yet is searched in its text when the path names a single
        // value: parsed, it would take about ten times its size in memory (see
        // `jsonpath::select_in_text`). Anything else goes through the parsed body, as before.
        if self.response.body.len() >= SEARCHED_IN_TEXT_FROM && self.json.get().is_none() {
            if let Some(found) = jsonpath::select_in_text(q, &self.response.body) {
                return Ok(found);
            }
        }
        self.json().map(|json| jsonpath::select(q, json))
    }

    /// A cookie seen by this response: the last one set by it (or by a redirect it followed),
    /// else the one the jar holds for its URL.
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.response
            .set_cookies()
            .into_iter()
            .rev()
            .chain(self.response.jar_cookies.iter().cloned())
            .find(|(n, _)| n == name)
            .map(|(_, v)| v)
    }

    /// The response as the `response` variable of expressions.
    pub fn to_value(self: &Arc<Self>) -> MjValue {
        MjValue::from_dyn_object(Arc::new(ResponseObject(self.clone())))
    }
}

#[derive(Debug)]
struct ResponseObject(Arc<ResponseView>);

const FIELDS: &[&str] = &[
    "status", "headers", "json", "body", "cookies", "duration", "url", "location",
];

impl Object for ResponseObject {
    fn get_value(self: &Arc<Self>, key: &MjValue) -> Option<MjValue> {
        let view = &self.0;
        let r = &view.response;
        Some(match key.as_str()? {
            "status" => MjValue::from(r.status),
            "headers" => {
                let mut map = std::collections::BTreeMap::new();
                for (n, v) in &r.headers {
                    map.entry(n.to_ascii_lowercase())
                        .or_insert_with(|| MjValue::from(v.as_str()));
                }
                MjValue::from(map)
            }
            "json" => view
                .json_mj
                .get_or_init(|| match view.json() {
                    Ok(json) => MjValue::from_serialize(json),
                    Err(_) => MjValue::from(()),
                })
                .clone(),
            "body" => MjValue::from(r.text().into_owned()),
            "cookies" => {
                let mut map = std::collections::BTreeMap::new();
                for (n, v) in r.jar_cookies.iter().cloned().chain(r.set_cookies()) {
                    map.insert(n, MjValue::from(v));
                }
                MjValue::from(map)
            }
            "duration" => MjValue::from(r.duration.as_secs_f64() * 1000.0),
            "url" => MjValue::from(r.url.as_str()),
            "location" => r.location().map(MjValue::from).unwrap_or(MjValue::from(())),
            _ => return None,
        })
    }

    fn enumerate(self: &Arc<Self>) -> Enumerator {
        Enumerator::Str(FIELDS)
    }
}
