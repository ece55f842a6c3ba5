//! The HTTP request of a step.

use super::schema::{self, DurationText, TemplateText};
use super::value::shorthand;
use super::{Template, Value, ValueKind};
use crate::yaml::Spanned;
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

/// An HTTP request. At most one body kind (`json`, `form`, `multipart`, `body`) may be given.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
// The loader's rule, for editors: no two body kinds.
#[schemars(extend("not" = {"anyOf": [
    {"required": ["json", "form"]},
    {"required": ["json", "multipart"]},
    {"required": ["json", "body"]},
    {"required": ["form", "multipart"]},
    {"required": ["form", "body"]},
    {"required": ["multipart", "body"]}
]}))]
// The body kinds and `auth` are boxed: most steps have one body kind or none, and inline
// they made every request 900 bytes (docs/performance.md).
pub struct Request {
    /// The HTTP method, in any case (default `GET`). Not templated.
    #[serde(default)]
    #[schemars(example = &"POST", example = &"GET")]
    pub method: Option<Box<Spanned<String>>>,
    /// An absolute URL with a scheme and a host. A template.
    #[schemars(
        with = "TemplateText",
        example = &"{{ apiPath }}/environments/{{ envID }}/applications"
    )]
    pub url: Template,
    /// Query parameters appended to the URL (after any already in it). Values are templates;
    /// a list repeats the parameter, `null` gives an empty value.
    #[serde(default)]
    #[schemars(
        with = "IndexMap<String, Value>",
        example = serde_json::json!({"limit": 10, "tag": ["red", "blue"], "after": "{{ cursor }}"})
    )]
    pub query: Option<Box<IndexMap<Spanned<compact_str::CompactString>, Value>>>,
    /// Request headers, name → template; they replace `defaults.headers` and `auth` of the
    /// same name (compared case-insensitively). Names are not templated.
    #[serde(default)]
    #[schemars(
        with = "IndexMap<String, TemplateText>",
        example = serde_json::json!({"Accept": "application/json", "X-Trace": "trace-{{ runID }}"})
    )]
    pub headers: super::Map<Spanned<compact_str::CompactString>, Template>,
    /// Sets the `Authorization` header: `basic` (username and password) or `bearer` (a token).
    #[serde(default)]
    #[schemars(example = serde_json::json!({"bearer": "{{ accessToken }}"}))]
    pub auth: Option<Spanned<Box<Auth>>>,
    /// A JSON body (`Content-Type: application/json` unless `headers` sets one). Strings are
    /// templates at any depth, and a string that is exactly one `{{ expr }}` keeps the type
    /// of the expression.
    #[serde(default)]
    #[schemars(example = serde_json::json!({"name": "app-{{ runID }}", "enabled": true}))]
    pub json: Option<Box<Value>>,
    /// An `application/x-www-form-urlencoded` body: name → value (templates); a list
    /// repeats the field.
    #[serde(default)]
    #[schemars(example = serde_json::json!({
        "grant_type": "client_credentials",
        "client_id": "{{ clientID }}"
    }))]
    pub form: Option<Box<IndexMap<Spanned<compact_str::CompactString>, Value>>>,
    /// A `multipart/form-data` body: text `fields` and `files`.
    #[serde(default)]
    #[schemars(example = serde_json::json!({
        "fields": {"title": "A greeting"},
        "files": {"upload": "data/hello.txt"}
    }))]
    pub multipart: Option<Box<Multipart>>,
    /// A raw body: text (a template), or `{file: path}` sent as it is. No `Content-Type` is
    /// set; give one in `headers`.
    #[serde(default)]
    #[schemars(example = &"hello {{ who }}", example = serde_json::json!({"file": "data/hello.txt"}))]
    pub body: Option<Box<Body>>,
    /// Follow 3xx responses (default: `defaults.follow_redirects`, which is `false`).
    #[serde(default)]
    #[schemars(example = true)]
    pub follow_redirects: Option<bool>,
    /// At most this many redirects are followed (default: `defaults.max_redirects`, 10).
    #[serde(default)]
    #[schemars(example = 3)]
    pub max_redirects: Option<u32>,
    /// This request's timeout: the whole exchange, redirects and body included (default:
    /// `defaults.timeout`, 30 s).
    #[serde(default)]
    #[schemars(with = "Option<DurationText>", example = &"10s", example = 5)]
    pub timeout: Option<Box<Template>>,
}

/// Sets the `Authorization` header. One key: `basic` or `bearer`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
#[schemars(transform = schema::variant_docs_on_keys)]
pub enum Auth {
    /// HTTP Basic: `Authorization: Basic base64(username:password)`.
    #[schemars(example = serde_json::json!({
        "username": "{{ clientID }}",
        "password": "{{ clientSecret }}"
    }))]
    Basic(BasicAuth),
    /// `Authorization: Bearer <token>`. A template.
    #[schemars(with = "TemplateText", example = &"{{ accessToken }}")]
    Bearer(Template),
}

/// The credentials of HTTP Basic authentication.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BasicAuth {
    /// The user name (an OAuth client's ID). A template.
    #[schemars(with = "TemplateText", example = &"{{ adminAppID }}")]
    pub username: Template,
    /// The password (an OAuth client's secret). A template.
    #[schemars(with = "TemplateText", example = &"{{ adminAppSecret }}")]
    pub password: Template,
}

/// A `multipart/form-data` body.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Multipart {
    /// Text parts: name → template.
    #[serde(default)]
    #[schemars(
        with = "IndexMap<String, TemplateText>",
        example = serde_json::json!({"title": "A greeting", "owner": "{{ userID }}"})
    )]
    pub fields: IndexMap<Spanned<compact_str::CompactString>, Template>,
    /// File parts: name → a path, or a mapping with `path`, `filename`, `content_type`.
    #[serde(default)]
    #[schemars(example = serde_json::json!({
        "avatar": "data/avatar.png",
        "note": {"path": "data/hello.txt", "filename": "greeting.txt", "content_type": "text/plain"}
    }))]
    pub files: IndexMap<Spanned<compact_str::CompactString>, FilePart>,
}

/// A file in a multipart body: a path, or a mapping with `path`, `filename`, `content_type`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(remote = "Self", deny_unknown_fields)]
#[schemars(rename = "FilePart", transform = schema::file_part_shorthand)]
pub struct FilePart {
    /// The file to send, relative to the scenario file. A template.
    #[schemars(with = "TemplateText", example = &"data/hello.txt")]
    pub path: Template,
    /// The file name the server is told (default: the file's own name). A template.
    #[serde(default)]
    #[schemars(with = "Option<TemplateText>", example = &"greeting.txt")]
    pub filename: Option<Template>,
    /// The part's `Content-Type` (default `application/octet-stream`). A template.
    #[serde(default)]
    #[schemars(with = "Option<TemplateText>", example = &"text/plain")]
    pub content_type: Option<Template>,
}

impl FilePart {
    fn from_short(v: Value) -> Result<Self, String> {
        match v.kind {
            ValueKind::Str(s) => Ok(FilePart {
                path: Spanned::with_span(s.into(), v.span),
                filename: None,
                content_type: None,
            }),
            _ => Err("expected a file path or a mapping with `path`".into()),
        }
    }
}

/// A raw body: inline `text`, or the bytes of a `file`. A plain string is shorthand for
/// `text`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(remote = "Self", deny_unknown_fields)]
// The loader's rule, for editors: `text` or `file`, not both.
#[schemars(extend("oneOf" = [{"required": ["text"]}, {"required": ["file"]}]))]
#[schemars(rename = "Body", transform = schema::body_shorthand)]
pub struct Body {
    /// Inline text (a template).
    #[serde(default)]
    #[schemars(with = "Option<TemplateText>", example = &"<greeting>{{ who }}</greeting>")]
    pub text: Option<Template>,
    /// A file whose bytes are sent as they are (not templated inside), relative to the
    /// scenario file. The path is a template.
    #[serde(default)]
    #[schemars(with = "Option<TemplateText>", example = &"data/hello.txt")]
    pub file: Option<Template>,
}

impl Body {
    fn from_short(v: Value) -> Result<Self, String> {
        match v.kind {
            ValueKind::Str(s) => Ok(Body {
                text: Some(Spanned::with_span(s.into(), v.span)),
                file: None,
            }),
            _ => Err("expected text or a mapping with `text` or `file`".into()),
        }
    }
}

shorthand!(Body);
shorthand!(FilePart);
