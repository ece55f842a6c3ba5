//! Free-form YAML values that may hold templates at any depth (JSON bodies, vars, expected
//! values). Each value remembers where it was written.

use crate::yaml::{Span, Spanned};
use indexmap::IndexMap;
use serde::de::{self, Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::{Serialize, Serializer};
use std::fmt;

/// A YAML value whose strings are templates.
#[derive(Debug, Clone, PartialEq)]
pub struct Value {
    pub span: Span,
    pub kind: ValueKind,
}

/// The content of a [`Value`].
#[derive(Debug, Clone, PartialEq)]
pub enum ValueKind {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    Seq(Vec<Value>),
    Map(IndexMap<String, Value>),
}

impl Value {
    pub fn str(s: impl Into<String>) -> Self {
        Value {
            span: Span::default(),
            kind: ValueKind::Str(s.into()),
        }
    }

    /// Visits every string in the value, with its span.
    pub fn for_each_str<'a>(&'a self, f: &mut dyn FnMut(&'a str, Span)) {
        match &self.kind {
            ValueKind::Str(s) => f(s, self.span),
            ValueKind::Seq(items) => items.iter().for_each(|v| v.for_each_str(f)),
            ValueKind::Map(map) => map.values().for_each(|v| v.for_each_str(f)),
            _ => {}
        }
    }
}

impl<'de> Deserialize<'de> for Value {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let spanned = Spanned::<ValueKind>::deserialize(d)?;
        Ok(Value {
            span: spanned.span,
            kind: spanned.value,
        })
    }
}

impl<'de> Deserialize<'de> for ValueKind {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = ValueKind;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("any value")
            }
            fn visit_unit<E>(self) -> Result<ValueKind, E> {
                Ok(ValueKind::Null)
            }
            fn visit_none<E>(self) -> Result<ValueKind, E> {
                Ok(ValueKind::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<ValueKind, D::Error> {
                ValueKind::deserialize(d)
            }
            fn visit_bool<E>(self, b: bool) -> Result<ValueKind, E> {
                Ok(ValueKind::Bool(b))
            }
            fn visit_i64<E>(self, i: i64) -> Result<ValueKind, E> {
                Ok(ValueKind::Int(i))
            }
            fn visit_u64<E>(self, u: u64) -> Result<ValueKind, E> {
                Ok(i64::try_from(u)
                    .map(ValueKind::Int)
                    .unwrap_or(ValueKind::Float(u as f64)))
            }
            fn visit_f64<E>(self, f: f64) -> Result<ValueKind, E> {
                Ok(ValueKind::Float(f))
            }
            fn visit_str<E>(self, s: &str) -> Result<ValueKind, E> {
                Ok(ValueKind::Str(s.to_owned()))
            }
            fn visit_string<E>(self, s: String) -> Result<ValueKind, E> {
                Ok(ValueKind::Str(s))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ValueKind, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element::<Value>()? {
                    items.push(item);
                }
                Ok(ValueKind::Seq(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<ValueKind, A::Error> {
                let mut out = IndexMap::new();
                while let Some(key) = map.next_key::<String>()? {
                    let value: Value = map.next_value()?;
                    out.insert(key, value);
                }
                Ok(ValueKind::Map(out))
            }
        }
        d.deserialize_any(V)
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match &self.kind {
            ValueKind::Null => s.serialize_unit(),
            ValueKind::Bool(b) => s.serialize_bool(*b),
            ValueKind::Int(i) => s.serialize_i64(*i),
            ValueKind::Float(f) => s.serialize_f64(*f),
            ValueKind::Str(v) => s.serialize_str(v),
            ValueKind::Seq(items) => items.serialize(s),
            ValueKind::Map(map) => map.serialize(s),
        }
    }
}

/// Any YAML value is a `Value`, so its schema accepts anything; the key that holds it says
/// what it means.
impl schemars::JsonSchema for Value {
    fn inline_schema() -> bool {
        true
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        "Value".into()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        concat!(module_path!(), "::Value").into()
    }

    fn json_schema(_: &mut schemars::SchemaGenerator) -> schemars::Schema {
        schemars::Schema::default()
    }
}

/// Accepts either a mapping (deserialized as `M`) or a shorthand scalar/list (converted by
/// `from_short`, which receives the value with its span). Used for keys like
/// `capture: {token: $.access_token}`.
pub(crate) fn map_or_shorthand<'de, D, M, F>(d: D, from_short: F) -> Result<M, D::Error>
where
    D: Deserializer<'de>,
    M: MapForm,
    F: FnOnce(Value) -> Result<M, String>,
{
    let spanned = Spanned::<Short<M>>::deserialize(d)?;
    match spanned.value {
        Short::Map(m) => Ok(m),
        Short::Scalar(kind) => from_short(Value {
            span: spanned.span,
            kind,
        })
        .map_err(de::Error::custom),
    }
}

enum Short<M> {
    Map(M),
    Scalar(ValueKind),
}

impl<'de, M: MapForm> Deserialize<'de> for Short<M> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Vis<M>(std::marker::PhantomData<M>);
        impl<'de, M: MapForm> Visitor<'de> for Vis<M> {
            type Value = Short<M>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping or a shorthand value")
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Short<M>, A::Error> {
                M::deserialize_map(de::value::MapAccessDeserializer::new(map)).map(Short::Map)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, seq: A) -> Result<Short<M>, A::Error> {
                let items: Vec<Value> =
                    Deserialize::deserialize(de::value::SeqAccessDeserializer::new(seq))?;
                Ok(Short::Scalar(ValueKind::Seq(items)))
            }
            fn visit_unit<E>(self) -> Result<Short<M>, E> {
                Ok(Short::Scalar(ValueKind::Null))
            }
            fn visit_bool<E>(self, b: bool) -> Result<Short<M>, E> {
                Ok(Short::Scalar(ValueKind::Bool(b)))
            }
            fn visit_i64<E>(self, i: i64) -> Result<Short<M>, E> {
                Ok(Short::Scalar(ValueKind::Int(i)))
            }
            fn visit_u64<E>(self, u: u64) -> Result<Short<M>, E> {
                Ok(Short::Scalar(ValueKind::Float(u as f64)))
            }
            fn visit_f64<E>(self, f: f64) -> Result<Short<M>, E> {
                Ok(Short::Scalar(ValueKind::Float(f)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Short<M>, E> {
                Ok(Short::Scalar(ValueKind::Str(s.to_owned())))
            }
        }
        d.deserialize_any(Vis(std::marker::PhantomData))
    }
}

/// A type whose mapping form is derived (with `#[serde(remote = "Self")]`) and which also has
/// a shorthand form; see [`shorthand!`](crate::model).
pub(crate) trait MapForm: Sized {
    fn deserialize_map<'de, D: Deserializer<'de>>(d: D) -> Result<Self, D::Error>;
}

/// Implements `Deserialize` for a type that accepts a mapping (its derived, `remote = "Self"`
/// form) or a shorthand value handled by its `from_short` function.
macro_rules! shorthand {
    ($ty:ty) => {
        impl $crate::model::value::MapForm for $ty {
            fn deserialize_map<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                <$ty>::deserialize(d)
            }
        }
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                $crate::model::value::map_or_shorthand(d, <$ty>::from_short)
            }
        }
    };
}
pub(crate) use shorthand;
