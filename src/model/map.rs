//! [`Map`]: the ordered maps of a step (headers, captures, assertions).

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use std::borrow::Borrow;
use std::fmt;
use std::marker::PhantomData;

/// An ordered map of the few entries a scenario writes under a key, kept as a vector of
/// pairs: looked up by scanning, iterated in the order written.
///
/// Why not `IndexMap`: each one carries a hash table beside its entries, an allocation of
/// its own that a step's handful of headers, captures and assertions never needs; with
/// three per step it was a tenth of a loaded scenario (docs/performance.md). Duplicate
/// keys never reach it: the YAML reader refuses them.
#[derive(Debug, Clone, PartialEq)]
pub struct Map<K, V>(Vec<(K, V)>);

impl<K, V> Default for Map<K, V> {
    fn default() -> Self {
        Map(Vec::new())
    }
}

/// The iterator of `&Map`: pairs of references.
pub type Iter<'a, K, V> = std::iter::Map<std::slice::Iter<'a, (K, V)>, fn(&(K, V)) -> (&K, &V)>;

impl<K, V> Map<K, V> {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn iter(&self) -> Iter<'_, K, V> {
        self.0.iter().map(|(k, v)| (k, v))
    }

    pub fn keys(&self) -> impl Iterator<Item = &K> {
        self.0.iter().map(|(k, _)| k)
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.0.iter().map(|(_, v)| v)
    }

    pub fn first(&self) -> Option<(&K, &V)> {
        self.0.first().map(|(k, v)| (k, v))
    }

    /// The value of `key`, found by scanning.
    pub fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: Borrow<Q>,
        Q: PartialEq + ?Sized,
    {
        self.0
            .iter()
            .find(|(k, _)| k.borrow() == key)
            .map(|(_, v)| v)
    }

    /// Sets `key` to `value`, in place when the key is there, else at the end.
    pub fn insert(&mut self, key: K, value: V)
    where
        K: PartialEq,
    {
        match self.0.iter_mut().find(|(k, _)| *k == key) {
            Some((_, v)) => *v = value,
            None => self.0.push((key, value)),
        }
    }
}

impl<'a, K, V> IntoIterator for &'a Map<K, V> {
    type Item = (&'a K, &'a V);
    type IntoIter = Iter<'a, K, V>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

impl<K: PartialEq, V> FromIterator<(K, V)> for Map<K, V> {
    fn from_iter<I: IntoIterator<Item = (K, V)>>(items: I) -> Self {
        let mut map = Map::new();
        for (k, v) in items {
            map.insert(k, v);
        }
        map
    }
}

impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Deserialize<'de> for Map<K, V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct MapVisitor<K, V>(PhantomData<(K, V)>);
        impl<'de, K: Deserialize<'de>, V: Deserialize<'de>> Visitor<'de> for MapVisitor<K, V> {
            type Value = Map<K, V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a mapping")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Self::Value, A::Error> {
                let mut entries = Vec::with_capacity(access.size_hint().unwrap_or(0).min(64));
                while let Some(entry) = access.next_entry()? {
                    entries.push(entry);
                }
                Ok(Map(entries))
            }
        }
        d.deserialize_map(MapVisitor(PhantomData))
    }
}

// The schema of a map is the same whatever keeps it.
impl<K: schemars::JsonSchema, V: schemars::JsonSchema> schemars::JsonSchema for Map<K, V> {
    fn inline_schema() -> bool {
        <indexmap::IndexMap<K, V> as schemars::JsonSchema>::inline_schema()
    }

    fn schema_name() -> std::borrow::Cow<'static, str> {
        <indexmap::IndexMap<K, V> as schemars::JsonSchema>::schema_name()
    }

    fn schema_id() -> std::borrow::Cow<'static, str> {
        <indexmap::IndexMap<K, V> as schemars::JsonSchema>::schema_id()
    }

    fn json_schema(generator: &mut schemars::SchemaGenerator) -> schemars::Schema {
        <indexmap::IndexMap<K, V> as schemars::JsonSchema>::json_schema(generator)
    }
}

#[cfg(test)]
mod tests {
    use super::Map;

    #[test]
    fn keeps_the_order_written_and_replaces_in_place() {
        let mut m: Map<String, i32> = [("b".into(), 1), ("a".into(), 2)].into_iter().collect();
        m.insert("b".into(), 3);
        m.insert("c".into(), 4);
        let pairs: Vec<(&String, &i32)> = m.iter().collect();
        assert_eq!(
            pairs,
            [(&"b".into(), &3), (&"a".into(), &2), (&"c".into(), &4)]
        );
        assert_eq!(m.get("a"), Some(&2));
        assert_eq!(m.get("z"), None);
        assert_eq!(m.len(), 3);
        assert_eq!(m.first(), Some((&"b".to_string(), &3)));
    }
}
