//! Captures: values taken from a response into variables.

use super::value::shorthand;
use super::{Template, Value, ValueKind};
use crate::yaml::Spanned;
use serde::Deserialize;

/// Where a captured value comes from, piped through an optional `regex`.
/// A plain string is shorthand for `jsonpath`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct Capture {
    /// A JSONPath (RFC 9535) into the JSON body; one match gives the value, several a list.
    #[serde(default)]
    pub jsonpath: Option<Template>,
    /// A response header (case-insensitive).
    #[serde(default)]
    pub header: Option<Template>,
    /// A cookie set by the response, or held by the cookie jar for the request URL.
    #[serde(default)]
    pub cookie: Option<Template>,
    /// The status code.
    #[serde(default)]
    pub status: Option<bool>,
    /// The whole body as text.
    #[serde(default)]
    pub body: Option<bool>,
    /// The final URL (after any redirects followed).
    #[serde(default)]
    pub url: Option<bool>,
    /// The `Location` header, resolved against the request URL.
    #[serde(default)]
    pub location: Option<bool>,
    /// A CSS selector into an HTML body (first match).
    #[serde(default)]
    pub css: Option<Template>,
    /// With `css`: the attribute to read (default: the element's text).
    #[serde(default)]
    pub attribute: Option<Template>,
    /// A regular expression applied to the value; the first group (or the whole match).
    #[serde(default)]
    pub regex: Option<Spanned<String>>,
    /// The value used when the source has nothing.
    #[serde(default)]
    pub default: Option<Value>,
    /// Mask the value everywhere it would be printed.
    #[serde(default)]
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
                jsonpath: Some(Spanned::with_span(s, v.span)),
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
            found.push(Source::Css(t, self.attribute.as_ref()));
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
