//! Captures: values taken from a response into variables.

use super::schema::{self, TemplateText};
use super::value::shorthand;
use super::{Template, Value, ValueKind};
use crate::yaml::Spanned;
use schemars::JsonSchema;
use serde::Deserialize;

/// Where a captured value comes from, piped through an optional `regex`. A mapping names
/// exactly one source (`jsonpath`, `header`, `cookie`, `status`, `body`, `url`, `location` or
/// `css`); a plain string is shorthand for `jsonpath`.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(remote = "Self", deny_unknown_fields)]
// The loader's rule, for editors: exactly one source.
#[schemars(extend("oneOf" = [
    {"required": ["jsonpath"]},
    {"required": ["header"]},
    {"required": ["cookie"]},
    {"required": ["css"]},
    {"required": ["status"], "properties": {"status": {"const": true}}},
    {"required": ["body"], "properties": {"body": {"const": true}}},
    {"required": ["url"], "properties": {"url": {"const": true}}},
    {"required": ["location"], "properties": {"location": {"const": true}}}
]))]
#[schemars(rename = "Capture", transform = schema::capture_shorthand)]
pub struct Capture {
    /// A JSONPath (RFC 9535) into the JSON body; one match gives the value (with its JSON
    /// type), several a list. A template.
    #[serde(default)]
    #[schemars(
        with = "Option<TemplateText>",
        example = "$.access_token",
        example = "$.tags[*]"
    )]
    pub jsonpath: Option<Template>,
    /// A response header (case-insensitive): its first value. A template.
    #[serde(default)]
    #[schemars(with = "Option<TemplateText>", example = "X-Request-ID")]
    pub header: Option<Box<Template>>,
    /// A cookie set by the response, or held by the cookie jar for the request URL. A template.
    #[serde(default)]
    #[schemars(with = "Option<TemplateText>", example = &"ST")]
    pub cookie: Option<Box<Template>>,
    /// `true`: the status code, a number.
    #[serde(default)]
    #[schemars(example = true)]
    pub status: Option<bool>,
    /// `true`: the whole body as text.
    #[serde(default)]
    #[schemars(example = true)]
    pub body: Option<bool>,
    /// `true`: the final URL (after any redirects followed).
    #[serde(default)]
    #[schemars(example = true)]
    pub url: Option<bool>,
    /// `true`: the `Location` header, resolved against the request URL.
    #[serde(default)]
    #[schemars(example = true)]
    pub location: Option<bool>,
    /// A CSS selector into an HTML body: the first element it matches (its trimmed text, or
    /// the `attribute`). A template.
    #[serde(default)]
    #[schemars(with = "Option<TemplateText>", example = "input[name=xsrf]")]
    pub css: Option<Box<Template>>,
    /// With `css`: the attribute to read (default: the element's text). A template.
    #[serde(default)]
    #[schemars(with = "Option<TemplateText>", example = &"value")]
    pub attribute: Option<Box<Template>>,
    /// A regular expression (Rust `regex` syntax) applied to the value as text: the first
    /// group, or the whole match when it has none. Not templated.
    #[serde(default)]
    #[schemars(example = "flowId=([^&]+)")]
    pub regex: Option<Box<Spanned<String>>>,
    /// The value used when the source finds nothing or the regex does not match; without
    /// it, the capture fails the step. A single `{{ expr }}` keeps its type.
    #[serde(default)]
    #[schemars(example = 5, example = "n/a")]
    pub default: Option<Box<Value>>,
    /// Mask the captured value in every output.
    #[serde(default)]
    #[schemars(example = true)]
    pub secret: bool,
}

shorthand!(Capture);

/// The source of a capture, once checked that there is exactly one.
#[derive(Debug, Clone, Copy)]
pub enum Source<'a> {
    JsonPath(&'a Template),
    Header(&'a Template),
    Cookie(&'a Template),
    Status,
    Body,
    Url,
    Location,
    Css(&'a Template, Option<&'a Template>),
}

impl Capture {
    fn from_short(v: Value) -> Result<Self, String> {
        match v.kind {
            ValueKind::Str(s) => Ok(Capture {
                jsonpath: Some(Spanned::with_span(s.into(), v.span)),
                ..Capture::default()
            }),
            _ => Err("expected a JSONPath string or a mapping with one source key (`jsonpath`, `header`, `cookie`, `status`, `body`, `url`, `location`, `css`)".into()),
        }
    }

    /// The one source of this capture, or an error naming what is wrong.
    pub fn source(&self) -> Result<Source<'_>, String> {
        let mut found = Vec::new();
        if let Some(t) = &self.jsonpath {
            found.push(Source::JsonPath(t));
        }
        if let Some(t) = &self.header {
            found.push(Source::Header(t));
        }
        if let Some(t) = &self.cookie {
            found.push(Source::Cookie(t));
        }
        if self.status == Some(true) {
            found.push(Source::Status);
        }
        if self.body == Some(true) {
            found.push(Source::Body);
        }
        if self.url == Some(true) {
            found.push(Source::Url);
        }
        if self.location == Some(true) {
            found.push(Source::Location);
        }
        if let Some(t) = &self.css {
            found.push(Source::Css(t, self.attribute.as_deref()));
        }
        if self.attribute.is_some() && self.css.is_none() {
            return Err("`attribute` only goes with `css`".into());
        }
        match found.len() {
            1 => Ok(found[0]),
            0 => Err("a capture needs one source: `jsonpath`, `header`, `cookie`, `status`, `body`, `url`, `location` or `css`".into()),
            _ => Err("a capture takes exactly one source, found several".into()),
        }
    }
}
