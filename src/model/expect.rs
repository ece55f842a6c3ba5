//! Expectations: assertions on a response.

use super::schema::{self, DurationText, ExpressionText};
use super::value::shorthand;
use super::{Template, Value, ValueKind};
use crate::yaml::Spanned;
use schemars::JsonSchema;
use serde::{Deserialize, Deserializer};

/// Assertions on a response. Every one is checked, and every failing one is reported.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Expect {
    /// The accepted status: a code (`200`), a class (`2xx`), or a list of them (any may
    /// match). Without it any status passes, 500 included.
    #[serde(default)]
    #[schemars(example = 200, example = &"2xx", example = serde_json::json!([200, 201]))]
    pub status: Option<StatusExpect>,
    /// Header name (case-insensitive; its first value) → predicate.
    #[serde(default)]
    #[schemars(example = serde_json::json!({
        "content-type": {"contains": "json"},
        "x-request-id": {"matches": "^req-\\d+$"}
    }))]
    pub headers: super::Map<Spanned<compact_str::CompactString>, Predicate>,
    /// JSONPath (RFC 9535) → predicate. No match is "absent"; several matches are a list.
    #[serde(default)]
    #[schemars(example = serde_json::json!({
        "$.token_type": "Bearer",
        "$.expires_in": {"type": "integer", "gt": 0}
    }))]
    pub jsonpath: super::Map<Spanned<compact_str::CompactString>, Predicate>,
    /// A predicate on the body as text; `equals` with a mapping or a list compares the
    /// parsed JSON body.
    #[serde(default)]
    #[schemars(example = serde_json::json!({"contains": "widget"}))]
    pub body: Option<Box<Predicate>>,
    /// The response must arrive within this duration (redirects included).
    #[serde(default)]
    #[schemars(with = "Option<DurationText>", example = &"500ms", example = 2)]
    pub duration: Option<Box<Template>>,
    /// Boolean expressions over `response` and the variables; each must be true.
    #[serde(default)]
    #[schemars(
        with = "Vec<ExpressionText>",
        example = serde_json::json!(["response.status == 200", "response.json.count == count"])
    )]
    pub that: Vec<Template>,
}

/// Accepted statuses.
#[derive(Debug, Clone)]
pub struct StatusExpect {
    pub span: crate::yaml::Span,
    pub patterns: Vec<StatusPattern>,
}

/// What [`status_pattern`] accepts: a code, or a class (`2xx`, any case) or code as text.
fn status_pattern_schemas() -> [serde_json::Value; 2] {
    [
        serde_json::json!({"type": "integer", "minimum": 100, "maximum": 599}),
        serde_json::json!({"type": "string", "pattern": "^[1-5]([0-9][0-9]|[xX][xX])$"}),
    ]
}

/// Hand-written like its `Deserialize`: one pattern, or a non-empty list of them.
impl JsonSchema for StatusExpect {
    fn schema_name() -> std::borrow::Cow<'static, str> {
        "StatusExpect".into()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        concat!(module_path!(), "::StatusExpect").into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        let [code, text] = status_pattern_schemas();
        schemars::json_schema!({
            "description": "A status code (100-599), a class of codes (`2xx`, `4XX`), or a \
                non-empty list of them (any may match).",
            "anyOf": [
                code.clone(),
                text.clone(),
                {"type": "array", "minItems": 1, "items": {"anyOf": [code, text]}}
            ]
        })
    }
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

/// A JSON type, for the `type` operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, JsonSchema)]
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
/// several operators, all of which must hold. Expected values are templates (a single
/// `{{ expr }}` keeps its type) and may use `response` and the step's captures.
// The values are boxed: a `Value` is 104 bytes and a predicate has nine of them, nearly
// always with one set; inline, each JSONPath assertion of a scenario took 2.5 KB of memory
// (massif, docs/performance.md).
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(remote = "Self", deny_unknown_fields)]
// The loader's rule, for editors: at least one operator.
#[schemars(extend("minProperties" = 1))]
#[schemars(rename = "Predicate", transform = schema::predicate_shorthand)]
pub struct Predicate {
    /// The value equals this. Numbers compare by value (`1` equals `1.0`); a string never
    /// equals a number.
    #[serde(default)]
    #[schemars(example = &"Bearer", example = 3)]
    pub equals: Option<Box<Value>>,
    /// The value does not equal this (an absent value equals nothing).
    #[serde(default)]
    #[schemars(example = &"error")]
    pub not_equals: Option<Box<Value>>,
    /// A substring of a string, an element of a list, or a key of an object.
    #[serde(default)]
    #[schemars(example = &"json")]
    pub contains: Option<Box<Value>>,
    /// A regular expression (Rust `regex` syntax) the value matches, searched anywhere
    /// (anchor with `^...$`); non-strings are matched as JSON text. A template.
    #[serde(default)]
    #[schemars(example = &"^req-\\d+$")]
    pub matches: Option<Box<Template>>,
    /// `true`: the value is present; `false`: it is absent.
    #[serde(default)]
    #[schemars(example = true)]
    pub exists: Option<Spanned<bool>>,
    /// `true`: the value is absent; `false`: it is present.
    #[serde(default)]
    #[schemars(example = true)]
    pub absent: Option<Spanned<bool>>,
    /// The value's JSON type. Quote `"null"`: a bare `null` is YAML's null.
    #[serde(default, rename = "type")]
    #[schemars(example = &"integer")]
    pub type_: Option<Spanned<JsonType>>,
    /// `true`: the value is a UUID in the 36-character hyphenated form; `false`: it is not.
    #[serde(default)]
    #[schemars(example = true)]
    pub is_uuid: Option<Spanned<bool>>,
    /// `true`: the value is an RFC 3339 date-time with an offset
    /// (`2024-01-02T03:04:05.678Z`); `false`: it is not.
    #[serde(default)]
    #[schemars(example = true)]
    pub is_iso_datetime: Option<Spanned<bool>>,
    /// The value is a number less than this (strings holding numbers count).
    #[serde(default)]
    #[schemars(example = 400)]
    pub lt: Option<Box<Value>>,
    /// The value is a number less than or equal to this.
    #[serde(default)]
    #[schemars(example = 6)]
    pub le: Option<Box<Value>>,
    /// The value is a number greater than this.
    #[serde(default)]
    #[schemars(example = 0)]
    pub gt: Option<Box<Value>>,
    /// The value is a number greater than or equal to this.
    #[serde(default)]
    #[schemars(example = 1)]
    pub ge: Option<Box<Value>>,
    /// The length: characters of a string, items of a list, or keys of an object.
    #[serde(default)]
    #[schemars(example = 16)]
    pub length: Option<Box<Value>>,
    /// The value equals one of these.
    #[serde(default)]
    #[schemars(example = serde_json::json!(["authorization_pending", "slow_down"]))]
    pub one_of: Option<Box<Value>>,
}

shorthand!(Predicate);

impl Predicate {
    fn from_short(v: Value) -> Result<Self, String> {
        Ok(Predicate {
            equals: Some(Box::new(v)),
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
