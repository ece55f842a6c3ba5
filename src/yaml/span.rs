//! Source positions and values that carry them.

use serde::de::{self, Deserialize, Deserializer, MapAccess, Visitor};
use serde::{Serialize, Serializer};
use std::fmt;
use std::marker::PhantomData;

/// A position in a source file: line (1-based) and column (0-based, in characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct Pos {
    // u32, not usize: a span is in every node and every `Spanned` value of the model, and
    // halving it takes about a fifth off a loaded scenario (docs/performance.md). Files are
    // capped at 8 MiB, far below 2^32 lines or columns.
    pub line: u32,
    pub col: u32,
}

impl Pos {
    /// A position from a line and a column counted in `usize`; past `u32::MAX` (which an
    /// 8 MiB file cannot reach) they stay at `u32::MAX`.
    pub fn new(line: usize, col: usize) -> Pos {
        Pos {
            line: u32::try_from(line).unwrap_or(u32::MAX),
            col: u32::try_from(col).unwrap_or(u32::MAX),
        }
    }
}

/// A range in a source file. `Span::default()` (line 0) means "position unknown".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Span {
    pub start: Pos,
    pub end: Pos,
}

impl Span {
    pub(crate) fn from_saphyr(span: &saphyr_parser::Span) -> Span {
        Span {
            start: Pos::new(span.start.line(), span.start.col()),
            end: Pos::new(span.end.line(), span.end.col()),
        }
    }

    /// Whether this span points somewhere.
    pub fn is_known(&self) -> bool {
        self.start.line > 0
    }
}

/// A value together with where it was written. Deserializing it through
/// [`crate::yaml::from_node`] fills the span; any other deserializer leaves it unknown.
#[derive(Clone, Default)]
pub struct Spanned<T> {
    pub span: Span,
    pub value: T,
}

impl<T> Spanned<T> {
    pub fn new(value: T) -> Self {
        Spanned {
            span: Span::default(),
            value,
        }
    }
    pub fn with_span(value: T, span: Span) -> Self {
        Spanned { span, value }
    }
}

impl<T: fmt::Debug> fmt::Debug for Spanned<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.value.fmt(f)
    }
}

impl<T: PartialEq> PartialEq for Spanned<T> {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl<T> std::ops::Deref for Spanned<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.value
    }
}

impl<T: Serialize> Serialize for Spanned<T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.value.serialize(s)
    }
}

/// The private protocol between [`Spanned`] and the node deserializer.
pub(crate) const NAME: &str = "$__stepwise_spanned";
pub(crate) const FIELDS: &[&str] = &["$__line", "$__col", "$__end_line", "$__end_col", "$__value"];

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Spanned<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct SpannedVisitor<T>(PhantomData<T>);
        impl<'de, T: Deserialize<'de>> Visitor<'de> for SpannedVisitor<T> {
            type Value = Spanned<T>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a value")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut nums = [0u32; 4];
                for slot in &mut nums {
                    let _: Option<de::IgnoredAny> = map.next_key()?;
                    *slot = map.next_value()?;
                }
                let _: Option<de::IgnoredAny> = map.next_key()?;
                let value = map.next_value()?;
                Ok(Spanned {
                    span: Span {
                        start: Pos {
                            line: nums[0],
                            col: nums[1],
                        },
                        end: Pos {
                            line: nums[2],
                            col: nums[3],
                        },
                    },
                    value,
                })
            }
        }
        d.deserialize_struct(NAME, FIELDS, SpannedVisitor(PhantomData))
    }
}

/// In the JSON Schema a `Spanned<T>` is a `T`: where a value sits is not part of the format.
impl<T: schemars::JsonSchema> schemars::JsonSchema for Spanned<T> {
    fn inline_schema() -> bool {
        T::inline_schema()
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        T::schema_name()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        T::schema_id()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        T::json_schema(generator)
    }
}

impl<T: Eq> Eq for Spanned<T> {}

impl<T: std::hash::Hash> std::hash::Hash for Spanned<T> {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.value.hash(state);
    }
}

impl std::borrow::Borrow<str> for Spanned<String> {
    fn borrow(&self) -> &str {
        &self.value
    }
}
