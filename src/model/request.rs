//! The HTTP request of a step.

use super::value::shorthand;
use super::{Template, Value, ValueKind};
use crate::yaml::Spanned;
use indexmap::IndexMap;
use serde::Deserialize;

/// An HTTP request. At most one body kind (`json`, `form`, `multipart`, `body`) may be given.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Request {
    /// HTTP method (default `GET`).
    #[serde(default)]
    pub method: Option<Spanned<String>>,
    pub url: Template,
    /// Query parameters appended to the URL; a list value repeats the parameter.
    #[serde(default)]
    pub query: IndexMap<Spanned<String>, Value>,
    #[serde(default)]
    pub headers: IndexMap<Spanned<String>, Template>,
    #[serde(default)]
    pub auth: Option<Spanned<Auth>>,
    /// A JSON body; strings are templates, and a string that is exactly one `{{ expr }}`
    /// keeps the type of the expression.
    #[serde(default)]
    pub json: Option<Value>,
    /// An `application/x-www-form-urlencoded` body.
    #[serde(default)]
    pub form: Option<IndexMap<Spanned<String>, Value>>,
    #[serde(default)]
    pub multipart: Option<Multipart>,
    /// A raw body: text, or `{file: path}`.
    #[serde(default)]
    pub body: Option<Body>,
    #[serde(default)]
    pub follow_redirects: Option<bool>,
    #[serde(default)]
    pub max_redirects: Option<u32>,
    #[serde(default)]
    pub timeout: Option<Template>,
}

/// Authentication helpers.
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum Auth {
    /// HTTP Basic: `Authorization: Basic base64(username:password)`.
    Basic(BasicAuth),
    /// `Authorization: Bearer <token>`.
    Bearer(Template),
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BasicAuth {
    pub username: Template,
    pub password: Template,
}

/// A `multipart/form-data` body.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Multipart {
    #[serde(default)]
    pub fields: IndexMap<Spanned<String>, Template>,
    #[serde(default)]
    pub files: IndexMap<Spanned<String>, FilePart>,
}

/// A file in a multipart body: a path, or a mapping with `path`, `filename`, `content_type`.
#[derive(Debug, Clone, Deserialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct FilePart {
    pub path: Template,
    #[serde(default)]
    pub filename: Option<Template>,
    #[serde(default)]
    pub content_type: Option<Template>,
}

impl FilePart {
    fn from_short(v: Value) -> Result<Self, String> {
        match v.kind {
            ValueKind::Str(s) => Ok(FilePart {
                path: Spanned::with_span(s, v.span),
                filename: None,
                content_type: None,
            }),
            _ => Err("expected a file path or a mapping with `path`".into()),
        }
    }
}

/// A raw body.
#[derive(Debug, Clone, Deserialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct Body {
    /// Inline text (a template).
    #[serde(default)]
    pub text: Option<Template>,
    /// A file whose bytes are sent as they are, relative to the scenario file.
    #[serde(default)]
    pub file: Option<Template>,
}

impl Body {
    fn from_short(v: Value) -> Result<Self, String> {
        match v.kind {
            ValueKind::Str(s) => Ok(Body {
                text: Some(Spanned::with_span(s, v.span)),
                file: None,
            }),
            _ => Err("expected text or a mapping with `text` or `file`".into()),
        }
    }
}

shorthand!(Body);
shorthand!(FilePart);
