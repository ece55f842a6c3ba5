//! HTTP plumbing shared by the handlers: the `Correlation-Id` middleware, the request's base
//! URL, media types, form and JSON body parsing, cookies, Basic auth and HAL responses.

use axum::body::Bytes;
use axum::http::{header, HeaderMap, HeaderName, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use base64::Engine as _;
use chrono::{DateTime, SecondsFormat, Utc};
use rand::RngCore as _;
use serde_json::{Map, Value};

use super::errors::{Detail, P1Error};

/// Header PingOne puts on every response.
pub(crate) const CORRELATION_ID: HeaderName = HeaderName::from_static("correlation-id");

/// Content type of management and flow resources.
pub(crate) const HAL_JSON: &str = "application/hal+json;charset=UTF-8";

/// Middleware: gives every response that has none a fresh `Correlation-Id`.
pub(crate) async fn add_correlation_id(mut res: Response) -> Response {
    if !res.headers().contains_key(&CORRELATION_ID) {
        if let Ok(v) = HeaderValue::from_str(&uuid::Uuid::new_v4().to_string()) {
            res.headers_mut().insert(CORRELATION_ID, v);
        }
    }
    res
}

/// `scheme://host[:port]` the request was sent to: the `Host` header, else the URI's
/// authority (HTTP/2), else the address the sandbox is bound to.
pub(crate) fn base_url(
    headers: &HeaderMap,
    uri: &Uri,
    bound: Option<std::net::SocketAddr>,
) -> String {
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| !h.is_empty() && h.bytes().all(|b| b.is_ascii_graphic()))
        .map(str::to_owned)
        .or_else(|| uri.authority().map(|a| a.to_string()))
        .or_else(|| bound.map(|a| a.to_string()))
        .unwrap_or_else(|| "127.0.0.1".to_owned());
    format!("http://{host}")
}

/// ISO-8601 UTC with milliseconds, e.g. `2021-07-23T16:19:34.570Z`.
pub(crate) fn timestamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

/// The media type of the request without parameters, lower-cased (`None` when absent).
pub(crate) fn media_type(headers: &HeaderMap) -> Option<String> {
    let raw = headers.get(header::CONTENT_TYPE)?.to_str().ok()?;
    let essence = raw.split(';').next().unwrap_or("").trim();
    Some(essence.to_ascii_lowercase())
}

/// Whether the request declares `application/x-www-form-urlencoded`.
pub(crate) fn is_form(headers: &HeaderMap) -> bool {
    media_type(headers).as_deref() == Some("application/x-www-form-urlencoded")
}

/// Decodes an `application/x-www-form-urlencoded` body (or query string).
pub(crate) fn parse_form(raw: &[u8]) -> Result<Vec<(String, String)>, String> {
    let text = std::str::from_utf8(raw).map_err(|_| "the body is not valid UTF-8".to_owned())?;
    let mut out = Vec::new();
    for pair in text.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        out.push((percent_decode(k)?, percent_decode(v)?));
    }
    Ok(out)
}

fn percent_decode(s: &str) -> Result<String, String> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => {
                let hex = bytes
                    .get(i + 1..i + 3)
                    .and_then(|h| std::str::from_utf8(h).ok())
                    .and_then(|h| u8::from_str_radix(h, 16).ok())
                    .ok_or_else(|| format!("invalid percent-encoding in '{s}'"))?;
                out.push(hex);
                i += 2;
            }
            b => out.push(b),
        }
        i += 1;
    }
    String::from_utf8(out).map_err(|_| "a parameter is not valid UTF-8".to_owned())
}

/// Form parameters with RFC 6749's "no repeated parameters" rule applied.
pub(crate) struct Form {
    pairs: Vec<(String, String)>,
}

impl Form {
    pub(crate) fn new(pairs: Vec<(String, String)>) -> Result<Self, String> {
        for (i, (k, _)) in pairs.iter().enumerate() {
            if pairs[..i].iter().any(|(other, _)| other == k) {
                return Err(format!("The request parameter '{k}' is repeated"));
            }
        }
        Ok(Self { pairs })
    }

    /// The value of `name`; an empty value counts as absent (RFC 6749 §3.1).
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, v)| k == name && !v.is_empty())
            .map(|(_, v)| v.as_str())
    }
}

/// The query string's parameters (repeated names keep the first value).
pub(crate) fn query_param(uri: &Uri, name: &str) -> Option<String> {
    let pairs = parse_form(uri.query()?.as_bytes()).ok()?;
    pairs
        .into_iter()
        .find(|(k, v)| k == name && !v.is_empty())
        .map(|(_, v)| v)
}

/// Credentials of an `Authorization: Basic` header: `None` when there is no Basic header,
/// `Some(Err(()))` when it is malformed.
pub(crate) fn basic_auth(headers: &HeaderMap) -> Option<Result<(String, String), ()>> {
    let raw = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = raw.trim().split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = STANDARD
        .decode(rest.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok());
    Some(
        decoded
            .and_then(|s| {
                let (id, secret) = s.split_once(':')?;
                // RFC 6749 §2.3.1 form-encodes both parts before Base64; most clients don't.
                let id = percent_decode(id).unwrap_or_else(|_| id.to_owned());
                let secret = percent_decode(secret).unwrap_or_else(|_| secret.to_owned());
                Some((id, secret))
            })
            .ok_or(()),
    )
}

/// The token of an `Authorization: Bearer` header.
pub(crate) fn bearer_token(headers: &HeaderMap) -> Option<String> {
    let raw = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, rest) = raw.trim().split_once(' ')?;
    let token = rest.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then(|| token.to_owned())
}

/// The value of cookie `name` (the first one wins: user agents list the most specific path first).
pub(crate) fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|h| h.to_str().ok())
        .flat_map(|h| h.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .filter(|(k, v)| *k == name && !v.is_empty())
        .map(|(_, v)| v.trim_matches('"').to_owned())
        .next()
}

/// `n` random bytes, Base64url without padding.
pub(crate) fn random_string(n: usize) -> String {
    let mut buf = vec![0u8; n];
    rand::rng().fill_bytes(&mut buf);
    URL_SAFE_NO_PAD.encode(buf)
}

/// A HAL JSON response.
pub(crate) fn hal(status: StatusCode, body: &Value) -> Response {
    let mut res = (status, body.to_string()).into_response();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static(HAL_JSON));
    res
}

/// `201 Created` with `Location` = the resource's `_links.self.href`.
pub(crate) fn created(body: &Value) -> Response {
    let mut res = hal(StatusCode::CREATED, body);
    let location = body
        .pointer("/_links/self/href")
        .and_then(Value::as_str)
        .and_then(|s| HeaderValue::from_str(s).ok());
    if let Some(loc) = location {
        res.headers_mut().insert(header::LOCATION, loc);
    }
    res
}

/// A `{ "href": ... }` link.
pub(crate) fn link(href: impl Into<String>) -> Value {
    let mut m = Map::new();
    m.insert("href".into(), Value::String(href.into()));
    Value::Object(m)
}

/// Parses a JSON object body of a management or flow request.
pub(crate) fn json_object(body: &Bytes) -> Result<Map<String, Value>, P1Error> {
    match serde_json::from_slice::<Value>(body) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(P1Error::invalid_request(Some(Detail::untargeted(
            "INVALID_VALUE",
            "The request body must be a JSON object.",
        )))),
        Err(e) => Err(P1Error::invalid_request(Some(Detail::untargeted(
            "INVALID_VALUE",
            format!("Unable to parse the request body as JSON: {e}"),
        )))),
    }
}

/// Rejects management bodies that are not declared as JSON (`application/json` or `*+json`).
pub(crate) fn require_json(headers: &HeaderMap) -> Result<(), P1Error> {
    match media_type(headers) {
        Some(t) if t == "application/json" || t.ends_with("+json") => Ok(()),
        other => Err(P1Error::invalid_request(Some(Detail::untargeted(
            "INVALID_VALUE",
            format!(
                "Unsupported Content-Type '{}'; expected application/json.",
                other.unwrap_or_default()
            ),
        )))),
    }
}
