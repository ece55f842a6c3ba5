//! Expectations: assertions on a response.

use super::value::shorthand;
use super::{Template, Value, ValueKind};
use crate::yaml::Spanned;
use indexmap::IndexMap;
use serde::{Deserialize, Deserializer};

/// Assertions on a response. Every failing one is reported.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// A status (`200`), a class (`2xx`), or a list of them.
    #[serde(default)]
    pub status: Option<StatusExpect>,
    /// Header name (case-insensitive) to predicate.
    #[serde(default)]
    pub headers: IndexMap<Spanned<String>, Predicate>,
    /// JSONPath to predicate.
    #[serde(default)]
    pub jsonpath: IndexMap<Spanned<String>, Predicate>,
    /// A predicate on the body text.
    #[serde(default)]
    pub body: Option<Predicate>,
    /// The response must arrive within this time.
    #[serde(default)]
    pub duration: Option<Template>,
    /// Boolean expressions over `response` and the variables.
    #[serde(default)]
    pub that: Vec<Template>,
}

/// Accepted statuses.
#[derive(Debug, Clone)]
pub struct StatusExpect {
    pub span: crate::yaml::Span,
    pub patterns: Vec<StatusPattern>,
}

/// One accepted status or class of statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusPattern {
    Exact(u16),
    /// `2xx` is `Class(2)`.
    Class(u16),
}

impl StatusPattern {
    pub fn matches(&self, status: u16) -> bool {
        match self {
            StatusPattern::Exact(s) => *s == status,
            StatusPattern::Class(c) => status / 100 == *c,
        }
    }
}

impl std::fmt::Display for StatusPattern {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StatusPattern::Exact(s) => write!(f, "{s}"),
            StatusPattern::Class(c) => write!(f, "{c}xx"),
        }
    }
}

fn status_pattern(v: &Value) -> Result<StatusPattern, String> {
    let bad = || "expected a status code (100-599) or a class such as `2xx`".to_owned();
    match &v.kind {
        ValueKind::Int(i) if (100..=599).contains(i) => Ok(StatusPattern::Exact(*i as u16)),
        ValueKind::Str(s) => {
            let lower = s.trim().to_ascii_lowercase();
            if let Some(c) = lower.strip_suffix("xx") {
                match c.parse::<u16>() {
                    Ok(c) if (1..=5).contains(&c) => Ok(StatusPattern::Class(c)),
                    _ => Err(bad()),
                }
            } else {
                match lower.parse::<u16>() {
                    Ok(s) if (100..=599).contains(&s) => Ok(StatusPattern::Exact(s)),
                    _ => Err(bad()),
                }
            }
        }
        _ => Err(bad()),
    }
}

impl<'de> Deserialize<'de> for StatusExpect {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        let patterns = match &v.kind {
            ValueKind::Seq(items) if !items.is_empty() => items
                .iter()
                .map(status_pattern)
                .collect::<Result<Vec<_>, _>>(),
            _ => status_pattern(&v).map(|p| vec![p]),
        }
        .map_err(serde::de::Error::custom)?;
        Ok(StatusExpect {
            span: v.span,
            patterns,
        })
    }
}

/// JSON types for the `type` operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JsonType {
    String,
    Number,
    Integer,
    Boolean,
    Array,
    Object,
    Null,
}

impl JsonType {
    pub fn name(self) -> &'static str {
        match self {
            JsonType::String => "string",
            JsonType::Number => "number",
            JsonType::Integer => "integer",
            JsonType::Boolean => "boolean",
            JsonType::Array => "array",
            JsonType::Object => "object",
            JsonType::Null => "null",
        }
    }
}

/// Conditions on one value. A plain value is shorthand for `equals`; a mapping may combine
/// several operators, all of which must hold.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(remote = "Self", deny_unknown_fields)]
pub struct Predicate {
    #[serde(default)]
    pub equals: Option<Value>,
    #[serde(default)]
    pub not_equals: Option<Value>,
    /// A substring of a string, an element of a list, or a key of an object.
    #[serde(default)]
    pub contains: Option<Value>,
    /// A regular expression the (string) value matches.
    #[serde(default)]
    pub matches: Option<Spanned<String>>,
    #[serde(default)]
    pub exists: Option<Spanned<bool>>,
    #[serde(default)]
    pub absent: Option<Spanned<bool>>,
    #[serde(default, rename = "type")]
    pub type_: Option<Spanned<JsonType>>,
    #[serde(default)]
    pub is_uuid: Option<Spanned<bool>>,
    #[serde(default)]
    pub is_iso_datetime: Option<Spanned<bool>>,
    #[serde(default)]
    pub lt: Option<Value>,
    #[serde(default)]
    pub le: Option<Value>,
    #[serde(default)]
    pub gt: Option<Value>,
    #[serde(default)]
    pub ge: Option<Value>,
    /// The length of a string, list or object.
    #[serde(default)]
    pub length: Option<Value>,
    #[serde(default)]
    pub one_of: Option<Value>,
}

shorthand!(Predicate);

impl Predicate {
    fn from_short(v: Value) -> Result<Self, String> {
        Ok(Predicate {
            equals: Some(v),
            ..Predicate::default()
        })
    }

    /// Whether the predicate has any operator at all.
    pub fn is_empty(&self) -> bool {
        self.equals.is_none()
            && self.not_equals.is_none()
            && self.contains.is_none()
            && self.matches.is_none()
            && self.exists.is_none()
            && self.absent.is_none()
            && self.type_.is_none()
            && self.is_uuid.is_none()
            && self.is_iso_datetime.is_none()
            && self.lt.is_none()
            && self.le.is_none()
            && self.gt.is_none()
            && self.ge.is_none()
            && self.length.is_none()
            && self.one_of.is_none()
    }
}
