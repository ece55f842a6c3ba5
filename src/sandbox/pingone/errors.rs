//! Error responses: PingOne's `P1Error` body (management and flows APIs) and the OAuth
//! `{"error","error_description"}` body (`/as/*`). Both carry a fresh `Correlation-Id`
//! header, which is also the P1Error `id` and the id quoted in `error_description`.

use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::{json, Map, Value};

use super::http::CORRELATION_ID;

/// Message of the top-level `INVALID_DATA` code.
pub(crate) const INVALID_DATA_MESSAGE: &str =
    "The request could not be completed. One or more validation errors were in the request.";
/// Message of the top-level `INVALID_REQUEST` code.
pub(crate) const INVALID_REQUEST_MESSAGE: &str =
    "The request could not be completed. The request was malformed or invalid.";
/// Message of the top-level `ACCESS_FAILED` code.
pub(crate) const ACCESS_FAILED_MESSAGE: &str =
    "The request could not be completed. You do not have access to this resource.";
/// Message of the top-level `NOT_FOUND` code ([INF] wording).
pub(crate) const NOT_FOUND_MESSAGE: &str = "The requested resource was not found.";
/// Message of the `INVALID_TOKEN` detail.
pub(crate) const INVALID_TOKEN_MESSAGE: &str =
    "The authorization token is either missing or invalid, or it has expired.";

/// One entry of a P1Error's `details[]`.
#[derive(Debug, Clone)]
pub(crate) struct Detail {
    pub code: &'static str,
    pub target: Option<String>,
    pub message: String,
    pub inner_error: Option<Value>,
}

impl Detail {
    pub(crate) fn new(code: &'static str, target: &str, message: impl Into<String>) -> Self {
        Self {
            code,
            target: Some(target.to_owned()),
            message: message.into(),
            inner_error: None,
        }
    }

    pub(crate) fn untargeted(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            target: None,
            message: message.into(),
            inner_error: None,
        }
    }

    pub(crate) fn with_inner(mut self, inner: Value) -> Self {
        self.inner_error = Some(inner);
        self
    }

    /// `REQUIRED_VALUE` for a missing attribute.
    pub(crate) fn required(target: &str) -> Self {
        Self::new(
            "REQUIRED_VALUE",
            target,
            format!("A value is required for attribute '{target}'."),
        )
    }

    /// `INVALID_VALUE` for an attribute of the wrong type or out of its domain.
    pub(crate) fn invalid(target: &str, message: impl Into<String>) -> Self {
        Self::new("INVALID_VALUE", target, message)
    }

    fn to_json(&self) -> Value {
        let mut m = Map::new();
        m.insert("code".into(), json!(self.code));
        if let Some(t) = &self.target {
            m.insert("target".into(), json!(t));
        }
        m.insert("message".into(), json!(self.message));
        if let Some(inner) = &self.inner_error {
            m.insert("innerError".into(), inner.clone());
        }
        Value::Object(m)
    }
}

/// A PingOne `P1Error` response.
#[derive(Debug, Clone)]
pub(crate) struct P1Error {
    pub status: StatusCode,
    pub code: &'static str,
    pub message: String,
    pub details: Vec<Detail>,
}

impl P1Error {
    pub(crate) fn invalid_data(details: Vec<Detail>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: "INVALID_DATA",
            message: INVALID_DATA_MESSAGE.into(),
            details,
        }
    }

    pub(crate) fn invalid_request(detail: Option<Detail>) -> Self {
        Self {
            status: StatusCode::BAD_REQUEST,
            code: "INVALID_REQUEST",
            message: INVALID_REQUEST_MESSAGE.into(),
            details: detail.into_iter().collect(),
        }
    }

    /// 401 `ACCESS_FAILED` with detail `INVALID_TOKEN`.
    pub(crate) fn invalid_token() -> Self {
        Self {
            status: StatusCode::UNAUTHORIZED,
            code: "ACCESS_FAILED",
            message: ACCESS_FAILED_MESSAGE.into(),
            details: vec![Detail::untargeted("INVALID_TOKEN", INVALID_TOKEN_MESSAGE)],
        }
    }

    /// 403 `ACCESS_FAILED` with detail `INSUFFICIENT_PERMISSIONS`.
    pub(crate) fn insufficient_permissions() -> Self {
        Self {
            status: StatusCode::FORBIDDEN,
            code: "ACCESS_FAILED",
            message: ACCESS_FAILED_MESSAGE.into(),
            details: vec![Detail::untargeted(
                "INSUFFICIENT_PERMISSIONS",
                "The actor attempting to perform the request is not authorized.",
            )],
        }
    }

    pub(crate) fn not_found() -> Self {
        Self {
            status: StatusCode::NOT_FOUND,
            code: "NOT_FOUND",
            message: NOT_FOUND_MESSAGE.into(),
            details: Vec::new(),
        }
    }

    pub(crate) fn method_not_allowed() -> Self {
        Self {
            status: StatusCode::METHOD_NOT_ALLOWED,
            code: "METHOD_NOT_ALLOWED",
            message: "The request could not be completed. The HTTP method is not supported for this resource."
                .into(),
            details: Vec::new(),
        }
    }
}

impl IntoResponse for P1Error {
    fn into_response(self) -> Response {
        let id = uuid::Uuid::new_v4().to_string();
        let mut body = Map::new();
        body.insert("id".into(), json!(id));
        body.insert("code".into(), json!(self.code));
        body.insert("message".into(), json!(self.message));
        if !self.details.is_empty() {
            body.insert(
                "details".into(),
                Value::Array(self.details.iter().map(Detail::to_json).collect()),
            );
        }
        let mut res = (self.status, Value::Object(body).to_string()).into_response();
        let headers = res.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        if let Ok(v) = HeaderValue::from_str(&id) {
            headers.insert(CORRELATION_ID, v);
        }
        res
    }
}

/// An OAuth 2.0 error (RFC 6749 §5.2) from `/as/token` or `/as/device_authorization`.
#[derive(Debug, Clone)]
pub(crate) struct OAuthError {
    pub status: StatusCode,
    pub error: &'static str,
    pub description: String,
}

impl OAuthError {
    pub(crate) fn new(
        status: StatusCode,
        error: &'static str,
        description: impl Into<String>,
    ) -> Self {
        Self {
            status,
            error,
            description: description.into(),
        }
    }

    pub(crate) fn bad_request(error: &'static str, description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, error, description)
    }

    /// 401 `invalid_client` with PingOne's observed wording.
    pub(crate) fn invalid_client() -> Self {
        Self::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Request denied: Unsupported authentication method",
        )
    }
}

impl IntoResponse for OAuthError {
    fn into_response(self) -> Response {
        let id = uuid::Uuid::new_v4().to_string();
        let body = json!({
            "error": self.error,
            "error_description": format!("{} (Correlation ID: {id})", self.description),
        });
        let mut res = (self.status, body.to_string()).into_response();
        let headers = res.headers_mut();
        headers.insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
        headers.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
        if self.status == StatusCode::UNAUTHORIZED {
            headers.insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"PingOne\""),
            );
        }
        if let Ok(v) = HeaderValue::from_str(&id) {
            headers.insert(CORRELATION_ID, v);
        }
        res
    }
}
