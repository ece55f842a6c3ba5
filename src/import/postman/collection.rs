//! Postman's file formats as serde types: collections v2.0 and v2.1
//! (<https://schema.postman.com>) and environments. Only what the importer reads is declared;
//! unknown fields are ignored. Where the two versions (or Postman's own exports) differ in
//! shape — a URL as text or as an object, auth parameters as a list or as a mapping — an enum
//! takes either.

use serde::Deserialize;
use serde_json::Value;

/// A collection: `info`, the items (requests and folders), and what the items inherit.
#[derive(Debug, Deserialize)]
pub(super) struct Collection {
    pub info: Info,
    #[serde(default)]
    pub item: Vec<Item>,
    #[serde(default)]
    pub auth: Option<Auth>,
    #[serde(default)]
    pub event: Vec<Event>,
    #[serde(default)]
    pub variable: Vec<Variable>,
    #[serde(default, rename = "protocolProfileBehavior")]
    pub protocol_profile_behavior: Option<serde_json::Map<String, Value>>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Info {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub description: Option<Description>,
}

/// A description: text, or `{content, type}`.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum Description {
    Text(String),
    Object {
        #[serde(default)]
        content: Option<String>,
    },
    Other(serde::de::IgnoredAny),
}

impl Description {
    pub fn text(&self) -> Option<&str> {
        match self {
            Description::Text(t) => Some(t.as_str()),
            Description::Object { content } => content.as_deref(),
            Description::Other(_) => None,
        }
        .filter(|t| !t.trim().is_empty())
    }
}

/// A request (it has `request`) or a folder (it has `item`).
#[derive(Debug, Deserialize)]
pub(super) struct Item {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub item: Option<Vec<Item>>,
    #[serde(default)]
    pub request: Option<RequestOrUrl>,
    #[serde(default)]
    pub auth: Option<Auth>,
    #[serde(default)]
    pub event: Vec<Event>,
    #[serde(default, rename = "protocolProfileBehavior")]
    pub protocol_profile_behavior: Option<serde_json::Map<String, Value>>,
}

/// v2.1 allows a request to be just its URL.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum RequestOrUrl {
    Url(String),
    Request(Box<Request>),
}

#[derive(Debug, Deserialize)]
pub(super) struct Request {
    #[serde(default)]
    pub method: Option<String>,
    #[serde(default)]
    pub url: Option<Url>,
    #[serde(default)]
    pub header: Option<Headers>,
    #[serde(default)]
    pub body: Option<Body>,
    /// Absent or `null`: inherited from the folder or the collection.
    #[serde(default)]
    pub auth: Option<Auth>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum Url {
    Text(String),
    Object(Box<UrlObject>),
}

#[derive(Debug, Default, Deserialize)]
pub(super) struct UrlObject {
    #[serde(default)]
    pub raw: Option<String>,
    #[serde(default)]
    pub protocol: Option<String>,
    #[serde(default)]
    pub host: Option<StringOrList>,
    #[serde(default)]
    pub port: Option<Value>,
    #[serde(default)]
    pub path: Option<PathParts>,
    #[serde(default)]
    pub query: Option<Vec<Param>>,
    #[serde(default)]
    pub variable: Vec<Variable>,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum StringOrList {
    Text(String),
    List(Vec<String>),
}

impl StringOrList {
    pub fn joined(&self, sep: &str) -> String {
        match self {
            StringOrList::Text(t) => t.clone(),
            StringOrList::List(l) => l.join(sep),
        }
    }
}

/// `url.path`: text, or a list of segments (text or `{value}`).
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum PathParts {
    Text(String),
    List(Vec<PathSegment>),
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum PathSegment {
    Text(String),
    Object {
        #[serde(default)]
        value: Option<String>,
    },
}

/// A key/value pair of a query, a header, an urlencoded or a form-data body.
#[derive(Debug, Deserialize)]
pub(super) struct Param {
    #[serde(default)]
    pub key: Option<String>,
    #[serde(default)]
    pub value: Option<Value>,
    #[serde(default)]
    pub disabled: bool,
    /// form-data: `text` or `file`.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    /// form-data files: a path or a list of paths.
    #[serde(default)]
    pub src: Option<Value>,
    #[serde(default, rename = "contentType")]
    pub content_type: Option<String>,
}

impl Param {
    pub fn key(&self) -> &str {
        self.key.as_deref().unwrap_or("")
    }

    /// The value as text (`None` for no value at all).
    pub fn value_text(&self) -> Option<String> {
        self.value.as_ref().and_then(value_text)
    }
}

/// A JSON value as the text Postman would use.
pub(super) fn value_text(v: &Value) -> Option<String> {
    match v {
        Value::Null => None,
        Value::String(s) => Some(s.clone()),
        other => Some(other.to_string()),
    }
}

/// Headers: a list, or (v2.0) a text block of `Name: value` lines.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum Headers {
    List(Vec<Param>),
    Text(String),
}

#[derive(Debug, Deserialize)]
pub(super) struct Body {
    #[serde(default)]
    pub mode: Option<String>,
    #[serde(default)]
    pub raw: Option<String>,
    #[serde(default)]
    pub urlencoded: Vec<Param>,
    #[serde(default)]
    pub formdata: Vec<Param>,
    #[serde(default)]
    pub file: Option<FileBody>,
    #[serde(default)]
    pub graphql: Option<Graphql>,
    #[serde(default)]
    pub options: Option<BodyOptions>,
    #[serde(default)]
    pub disabled: bool,
}

#[derive(Debug, Deserialize)]
pub(super) struct FileBody {
    #[serde(default)]
    pub src: Option<String>,
    #[serde(default)]
    pub content: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct Graphql {
    #[serde(default)]
    pub query: Option<String>,
    #[serde(default)]
    pub variables: Option<String>,
}

#[derive(Debug, Deserialize)]
pub(super) struct BodyOptions {
    #[serde(default)]
    pub raw: Option<RawOptions>,
}

#[derive(Debug, Deserialize)]
pub(super) struct RawOptions {
    #[serde(default)]
    pub language: Option<String>,
}

/// Request, folder or collection auth: `type` and the parameters of that type, under the
/// type's name.
#[derive(Debug, Deserialize)]
pub(super) struct Auth {
    #[serde(default, rename = "type")]
    pub kind: String,
    #[serde(default)]
    pub bearer: Option<AuthParams>,
    #[serde(default)]
    pub basic: Option<AuthParams>,
    #[serde(default)]
    pub apikey: Option<AuthParams>,
    #[serde(default)]
    pub oauth2: Option<AuthParams>,
}

/// v2.1: a list of `{key, value}`; v2.0: a mapping.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum AuthParams {
    List(Vec<Param>),
    Map(serde_json::Map<String, Value>),
}

impl AuthParams {
    pub fn get(&self, key: &str) -> Option<String> {
        match self {
            AuthParams::List(items) => items
                .iter()
                .find(|p| p.key() == key)
                .and_then(Param::value_text),
            AuthParams::Map(map) => map.get(key).and_then(value_text),
        }
    }
}

#[derive(Debug, Deserialize)]
pub(super) struct Event {
    #[serde(default)]
    pub listen: String,
    #[serde(default)]
    pub script: Option<Script>,
    #[serde(default)]
    pub disabled: bool,
}

#[derive(Debug, Deserialize)]
pub(super) struct Script {
    #[serde(default)]
    pub exec: Option<Exec>,
}

/// Script source: a list of lines, or one text.
#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub(super) enum Exec {
    Lines(Vec<String>),
    Text(String),
}

impl Exec {
    pub fn source(&self) -> String {
        match self {
            Exec::Lines(lines) => lines.join("\n"),
            Exec::Text(t) => t.clone(),
        }
    }
}

/// A collection variable, or a path variable of a URL.
#[derive(Debug, Deserialize)]
pub(super) struct Variable {
    #[serde(default)]
    pub key: Option<String>,
    /// v2.0 exports name variables by `id`.
    #[serde(default)]
    pub id: Option<String>,
    #[serde(default)]
    pub value: Option<Value>,
    #[serde(default)]
    pub disabled: bool,
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
}

impl Variable {
    pub fn name(&self) -> Option<&str> {
        self.key
            .as_deref()
            .or(self.id.as_deref())
            .filter(|n| !n.is_empty())
    }
}

/// A Postman environment export.
#[derive(Debug, Deserialize)]
pub(super) struct Environment {
    #[serde(default)]
    pub name: String,
    pub values: Vec<EnvValue>,
}

#[derive(Debug, Deserialize)]
pub(super) struct EnvValue {
    pub key: String,
    #[serde(default)]
    pub value: Option<Value>,
    /// `default` or `secret`.
    #[serde(default, rename = "type")]
    pub kind: Option<String>,
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}
