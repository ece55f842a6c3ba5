//! A test server on 127.0.0.1:0 with the behaviours stepwise must handle.
//!
//! The docs' examples run against it, and so can a reader's: `cargo run --example
//! test-server` serves it on port 8080 (`examples/test-server.rs`).

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, post};
use axum::Router;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Instant;

#[derive(Default)]
struct Polls {
    /// device_code -> times of each poll
    times: HashMap<String, Vec<Instant>>,
}

#[derive(Clone, Default)]
struct AppState {
    polls: Arc<Mutex<Polls>>,
    /// access token -> (client_id, scope), issued by `/oauth/token`
    tokens: Arc<Mutex<HashMap<String, (String, String)>>>,
}

/// A running test server.
pub struct TestServer {
    pub addr: SocketAddr,
}

impl TestServer {
    pub async fn start() -> TestServer {
        TestServer::start_on(0).await
    }

    /// Starts on this port of 127.0.0.1 (0: any free port).
    pub async fn start_on(port: u16) -> TestServer {
        let state = AppState::default();
        let app = Router::new()
            .route("/json", get(json_doc))
            .route("/echo", any(echo))
            .route("/login", get(login))
            .route("/landing", get(landing))
            .route("/whoami", get(whoami))
            .route("/device", post(device))
            .route("/token", post(token))
            .route("/polls/{code}", get(polls))
            .route("/html", get(html))
            .route("/status/{code}", any(status))
            .route("/slow", get(slow))
            .route("/binary", get(binary))
            .route("/big", get(big))
            .route("/submit", post(submit))
            .route("/loop", get(redirect_loop))
            .route("/not-json", get(not_json))
            .route("/retry-after/{key}", get(retry_after))
            .route("/big-json", get(big_json))
            .route("/always-pending", post(always_pending))
            .route("/issue-secret", get(issue_secret))
            .route("/oauth/token", post(oauth_token))
            .route("/set-cookie", get(set_cookie))
            .route("/api/me", get(api_me))
            .route("/redirect", get(redirect_to))
            .route("/web/sign-in", get(web_sign_in_page).post(web_sign_in))
            .route("/web/continue", get(web_continue))
            .route("/web/flow/resume", get(web_resume))
            .route("/web/done", get(web_done))
            .route("/web/unicode", get(web_unicode))
            .with_state(state);
        let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
            .await
            .unwrap_or_else(|e| panic!("cannot listen on 127.0.0.1:{port}: {e}"));
        let addr = listener.local_addr().unwrap();
        tokio::spawn(async move {
            axum::serve(listener, app).await.unwrap();
        });
        TestServer { addr }
    }

    pub fn base(&self) -> String {
        format!("http://{}", self.addr)
    }
}

async fn json_doc() -> impl IntoResponse {
    (
        [("x-request-id", "req-42")],
        axum::Json(json!({
            "id": "3f1c2b7e-9a4d-4c3b-8e2f-1a2b3c4d5e6f",
            "name": "widget",
            "count": 3,
            "price": 9.5,
            "tags": ["a", "b"],
            "active": true,
            "nothing": null,
            "created": "2024-01-02T03:04:05.678Z",
            "nested": {"x": 1, "label": "deep"},
            "_links": {"self": {"href": "http://example.test/json"}}
        })),
    )
}

async fn echo(method: Method, uri: Uri, headers: HeaderMap, body: Bytes) -> impl IntoResponse {
    let headers: serde_json::Map<String, Value> = headers
        .iter()
        .map(|(k, v)| {
            (
                k.to_string(),
                Value::String(v.to_str().unwrap_or("").to_owned()),
            )
        })
        .collect();
    let text = String::from_utf8_lossy(&body).into_owned();
    let json_body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
    let form: serde_json::Map<String, Value> = url_pairs(&text);
    let query: serde_json::Map<String, Value> = url_pairs(uri.query().unwrap_or(""));
    axum::Json(json!({
        "method": method.as_str(),
        "path": uri.path(),
        "query": query,
        "headers": headers,
        "body": text,
        "json": json_body,
        "form": form,
    }))
}

fn url_pairs(text: &str) -> serde_json::Map<String, Value> {
    let mut out = serde_json::Map::new();
    for pair in text.split('&').filter(|p| !p.is_empty()) {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let k = percent_decode(k);
        let v = Value::String(percent_decode(v));
        match out.get_mut(&k) {
            Some(Value::Array(items)) => items.push(v),
            Some(existing) => {
                let first = existing.take();
                *existing = Value::Array(vec![first, v]);
            }
            None => {
                out.insert(k, v);
            }
        }
    }
    out
}

fn percent_decode(s: &str) -> String {
    percent_encoding::percent_decode_str(&s.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

/// Like PingOne's `GET /device`: a 302 that sets a session cookie; must not be followed.
async fn login() -> Response {
    (
        StatusCode::FOUND,
        [
            ("location", "/landing?flowId=flow-abc123&x=1"),
            ("set-cookie", "ST=session-xyz; Path=/; HttpOnly"),
        ],
    )
        .into_response()
}

async fn landing() -> impl IntoResponse {
    axum::Json(json!({"landed": true}))
}

async fn whoami(headers: HeaderMap) -> impl IntoResponse {
    let cookie = headers
        .get("cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned();
    axum::Json(json!({"cookie": cookie}))
}

async fn device(body: Bytes) -> impl IntoResponse {
    let form = url_pairs(&String::from_utf8_lossy(&body));
    let scenario = form
        .get("client_id")
        .and_then(Value::as_str)
        .unwrap_or("ok")
        .to_owned();
    axum::Json(json!({
        "device_code": format!("{scenario}-{}", uuid::Uuid::new_v4()),
        "user_code": "BVKV-2GZ2",
        "verification_uri": "http://example.test/device",
        "expires_in": 30,
        "interval": 0.2
    }))
}

/// RFC 8628 token polling. The device code's prefix picks the story:
/// `ok-...`: pending, pending, slow_down, pending, then a token;
/// `denied-...`: pending, then access_denied;
/// `expired-...`: expired_token at once.
async fn token(State(state): State<AppState>, body: Bytes) -> Response {
    let form = url_pairs(&String::from_utf8_lossy(&body));
    let code = form
        .get("device_code")
        .and_then(Value::as_str)
        .unwrap_or("")
        .to_owned();
    let n = {
        let mut polls = state.polls.lock().unwrap();
        let times = polls.times.entry(code.clone()).or_default();
        times.push(Instant::now());
        times.len()
    };
    let error = |e: &str| {
        (
            StatusCode::BAD_REQUEST,
            [("cache-control", "no-store")],
            axum::Json(json!({"error": e, "error_description": format!("{e} (test)")})),
        )
            .into_response()
    };
    let story = code.split('-').next().unwrap_or("");
    match (story, n) {
        ("ok", 1 | 2 | 4) => error("authorization_pending"),
        ("ok", 3) => error("slow_down"),
        ("ok", _) => (
            [("cache-control", "no-store")],
            axum::Json(json!({
                "access_token": "at-secret-value-123",
                "token_type": "Bearer",
                "expires_in": 3600
            })),
        )
            .into_response(),
        ("denied", 1) => error("authorization_pending"),
        ("denied", _) => error("access_denied"),
        ("expired", _) => error("expired_token"),
        _ => error("invalid_grant"),
    }
}

/// Gaps between polls of a device code, in milliseconds.
async fn polls(State(state): State<AppState>, Path(code): Path<String>) -> impl IntoResponse {
    let polls = state.polls.lock().unwrap();
    let times = polls.times.get(&code).cloned().unwrap_or_default();
    let gaps: Vec<u64> = times
        .windows(2)
        .map(|w| w[1].duration_since(w[0]).as_millis() as u64)
        .collect();
    axum::Json(json!({"count": times.len(), "gaps": gaps}))
}

async fn html() -> impl IntoResponse {
    axum::response::Html(
        r#"<!doctype html><html><head><title>Sign in</title></head><body>
<form method="post" action="/submit"><input type="hidden" name="xsrf" value="xsrf-token-77"/>
<input name="user"/><button>Go</button></form><p class="msg"> Welcome back </p></body></html>"#,
    )
}

async fn status(Path(code): Path<u16>) -> Response {
    let status = StatusCode::from_u16(code).unwrap_or(StatusCode::BAD_REQUEST);
    (status, axum::Json(json!({"status": code}))).into_response()
}

async fn slow() -> impl IntoResponse {
    tokio::time::sleep(std::time::Duration::from_secs(5)).await;
    "late"
}

async fn binary() -> impl IntoResponse {
    (
        [("content-type", "application/octet-stream")],
        vec![0xff_u8, 0xfe, 0x00, 0x80, 0x81],
    )
}

async fn big(Query(q): Query<HashMap<String, usize>>) -> impl IntoResponse {
    let size = q.get("size").copied().unwrap_or(1024);
    "x".repeat(size)
}

/// A form post answered with 303 See Other to `/echo` (a browser turns it into GET).
async fn submit() -> Response {
    (
        StatusCode::SEE_OTHER,
        [
            ("location", "/echo?from=submit"),
            ("set-cookie", "done=yes; Path=/"),
        ],
    )
        .into_response()
}

async fn redirect_loop() -> Response {
    (StatusCode::FOUND, [("location", "/loop")]).into_response()
}

async fn not_json() -> impl IntoResponse {
    ([("content-type", "application/json")], "{not json")
}

/// A JSON document of about `size` bytes: `{"size": N, "data": "xxx…"}`.
async fn big_json(Query(q): Query<HashMap<String, usize>>) -> impl IntoResponse {
    let size = q.get("size").copied().unwrap_or(1024);
    let mut body = format!("{{\"size\":{size},\"data\":\"");
    body.reserve(size + 2);
    body.extend(std::iter::repeat_n('x', size));
    body.push_str("\"}");
    ([("content-type", "application/json")], body)
}

/// A token endpoint that never makes up its mind (for poll deadlines and attempt limits).
async fn always_pending() -> Response {
    (
        StatusCode::BAD_REQUEST,
        axum::Json(json!({"error": "authorization_pending"})),
    )
        .into_response()
}

/// Hands out a fixed credential that scenarios capture as a secret.
async fn issue_secret() -> impl IntoResponse {
    (
        [("x-issued", "srv-issued-7d1f0c9a")],
        axum::Json(json!({"secret": "srv-issued-7d1f0c9a", "public": "visible-value"})),
    )
}

/// `503` with `Retry-After: 1` on the first call for a key, then `200`; the body says how long
/// after the first call the second one came.
async fn retry_after(State(state): State<AppState>, Path(key): Path<String>) -> Response {
    let (n, first) = {
        let mut polls = state.polls.lock().unwrap();
        let times = polls.times.entry(format!("retry-{key}")).or_default();
        times.push(Instant::now());
        (times.len(), times[0])
    };
    if n == 1 {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            [("retry-after", "1")],
            axum::Json(json!({"status": "busy"})),
        )
            .into_response()
    } else {
        axum::Json(json!({"status": "done", "waited_ms": first.elapsed().as_millis() as u64}))
            .into_response()
    }
}

/// The one client `/oauth/token` knows.
const OAUTH_CLIENT: (&str, &str) = ("my-client", "s3cret");

fn oauth_error(status: StatusCode, error: &str, description: &str, challenge: &str) -> Response {
    (
        status,
        [
            ("cache-control", "no-store"),
            ("www-authenticate", challenge),
        ],
        axum::Json(json!({"error": error, "error_description": description})),
    )
        .into_response()
}

/// An OAuth 2.0 token endpoint for the client credentials grant (RFC 6749 section 4.4).
/// The client (`my-client` / `s3cret`) authenticates with HTTP Basic or with `client_id` and
/// `client_secret` in the form; a bad client gets 401 `invalid_client`.
async fn oauth_token(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    use base64::Engine as _;
    let form = url_pairs(&String::from_utf8_lossy(&body));
    let field = |name: &str| form.get(name).and_then(Value::as_str).map(str::to_owned);
    let basic = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Basic "))
        .and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok())
        .and_then(|b| String::from_utf8(b).ok())
        .and_then(|s| s.split_once(':').map(|(u, p)| (u.to_owned(), p.to_owned())));
    let client = basic.or_else(|| Some((field("client_id")?, field("client_secret")?)));
    let challenge = r#"Basic realm="test""#;
    match client {
        Some((id, secret)) if (id.as_str(), secret.as_str()) == OAUTH_CLIENT => {}
        _ => {
            return oauth_error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                "client authentication failed",
                challenge,
            )
        }
    }
    if field("grant_type").as_deref() != Some("client_credentials") {
        return oauth_error(
            StatusCode::BAD_REQUEST,
            "unsupported_grant_type",
            "only client_credentials is supported",
            challenge,
        );
    }
    let scope = field("scope").unwrap_or_else(|| "read".to_owned());
    let token = format!("cc-{}", uuid::Uuid::new_v4().simple());
    state
        .tokens
        .lock()
        .unwrap()
        .insert(token.clone(), (OAUTH_CLIENT.0.to_owned(), scope.clone()));
    (
        [("cache-control", "no-store")],
        axum::Json(json!({
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": 3600,
            "scope": scope
        })),
    )
        .into_response()
}

/// A resource that needs a bearer token from `/oauth/token` (RFC 6750): 401 without one
/// (no error code), 401 `invalid_token` with an unknown one.
async fn api_me(State(state): State<AppState>, headers: HeaderMap) -> Response {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "));
    let Some(token) = token else {
        return (
            StatusCode::UNAUTHORIZED,
            [("www-authenticate", r#"Bearer realm="test""#)],
            axum::Json(
                json!({"error": "unauthorized", "error_description": "a bearer token is required"}),
            ),
        )
            .into_response();
    };
    let found = state.tokens.lock().unwrap().get(token).cloned();
    match found {
        Some((client_id, scope)) => {
            axum::Json(json!({"client_id": client_id, "scope": scope})).into_response()
        }
        None => oauth_error(
            StatusCode::UNAUTHORIZED,
            "invalid_token",
            "the access token is unknown or expired",
            r#"Bearer realm="test", error="invalid_token""#,
        ),
    }
}

/// `?cookie=...` comes back as the response's `Set-Cookie` header, attributes and all
/// (`pref=dark; Path=/private`).
async fn set_cookie(Query(q): Query<HashMap<String, String>>) -> Response {
    let cookie = q.get("cookie").cloned().unwrap_or_default();
    match axum::http::HeaderValue::from_str(&cookie) {
        Ok(value) => (
            [(axum::http::header::SET_COOKIE, value)],
            axum::Json(json!({"set": cookie})),
        )
            .into_response(),
        Err(_) => StatusCode::BAD_REQUEST.into_response(),
    }
}

/// `?to=URL&status=N`: a redirect (default 302) to `to`, verbatim.
async fn redirect_to(Query(q): Query<HashMap<String, String>>) -> Response {
    let status = q
        .get("status")
        .and_then(|s| s.parse().ok())
        .and_then(|s| StatusCode::from_u16(s).ok())
        .unwrap_or(StatusCode::FOUND);
    let to = q.get("to").cloned().unwrap_or_else(|| "/".into());
    (status, [("location", to)]).into_response()
}

// The browser side of a sign-in, as identity providers serve it: an HTML form with a hidden
// CSRF token (written with HTML entities), a session cookie, a 303 to a path-relative
// `Location`, then to an absolute one, and a cookie scoped to the path of the step that needs
// it (`SameSite` and `HttpOnly` as well).

/// The CSRF token once its HTML entities are decoded.
pub const WEB_CSRF: &str = "c&s\"r<f'/é";
/// The same token as written in the page's `value="..."`.
const WEB_CSRF_HTML: &str = "c&amp;s&quot;r&lt;f&#39;&#x2F;&eacute;";

fn host_of(headers: &HeaderMap) -> String {
    headers
        .get("host")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("127.0.0.1")
        .to_owned()
}

fn cookie_header(headers: &HeaderMap) -> String {
    headers
        .get("cookie")
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_owned()
}

fn web_page(host: &str, message: &str) -> String {
    format!(
        r#"<!doctype html><html><head><title>Sign in</title></head><body>
<p class="message">{message}</p>
<form id="f.sign-in" method="post" action="http://{host}/web/sign-in">
  <input type="hidden" name="csrf" value="{WEB_CSRF_HTML}"/>
  <input type="text" name="login"/>
  <button type="submit">Sign in</button>
</form></body></html>"#
    )
}

/// `GET /web/sign-in`: the form, and a session cookie for the whole site.
async fn web_sign_in_page(headers: HeaderMap) -> Response {
    (
        [(
            "set-cookie",
            "web_session=s-1; Path=/; SameSite=Lax; HttpOnly",
        )],
        axum::response::Html(web_page(&host_of(&headers), "Enter any login")),
    )
        .into_response()
}

/// `POST /web/sign-in`: needs the session cookie and the decoded token; then a 303 to a
/// path-relative `Location`, and a cookie for `/web/flow` only.
async fn web_sign_in(headers: HeaderMap, body: Bytes) -> Response {
    let form = url_pairs(&String::from_utf8_lossy(&body));
    let field = |name: &str| form.get(name).and_then(Value::as_str).unwrap_or("");
    if !cookie_header(&headers).contains("web_session=s-1") {
        return (StatusCode::BAD_REQUEST, "no session cookie").into_response();
    }
    if field("csrf") != WEB_CSRF {
        let page = web_page(&host_of(&headers), "The token is wrong. Try again");
        return axum::response::Html(page).into_response();
    }
    let login =
        percent_encoding::utf8_percent_encode(field("login"), percent_encoding::NON_ALPHANUMERIC);
    (
        StatusCode::SEE_OTHER,
        [
            ("location", format!("continue?login={login}")),
            (
                "set-cookie",
                "web_flow=f-1; Path=/web/flow; SameSite=Strict; HttpOnly".to_owned(),
            ),
        ],
    )
        .into_response()
}

/// `GET /web/continue`: a 303 to an absolute `Location`.
async fn web_continue(headers: HeaderMap) -> Response {
    let to = format!("http://{}/web/flow/resume", host_of(&headers));
    (StatusCode::SEE_OTHER, [("location", to)]).into_response()
}

/// `GET /web/flow/resume`: only with the cookie scoped to `/web/flow`.
async fn web_resume(headers: HeaderMap) -> Response {
    if !cookie_header(&headers).contains("web_flow=f-1") {
        return (StatusCode::BAD_REQUEST, "no flow cookie").into_response();
    }
    (StatusCode::SEE_OTHER, [("location", "/web/done")]).into_response()
}

/// `GET /web/done`: the method and the cookies it was sent.
async fn web_done(method: Method, headers: HeaderMap) -> impl IntoResponse {
    axum::Json(json!({"method": method.as_str(), "cookie": cookie_header(&headers)}))
}

/// `GET /web/unicode`: a 303 whose `Location` is raw UTF-8, not ASCII.
async fn web_unicode() -> Response {
    let location = axum::http::HeaderValue::from_bytes("/echo?city=Zürich".as_bytes())
        .unwrap_or_else(|_| axum::http::HeaderValue::from_static("/echo"));
    (
        StatusCode::SEE_OTHER,
        [(axum::http::header::LOCATION, location)],
    )
        .into_response()
}
