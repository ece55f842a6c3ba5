//! The scenario format as a JSON Schema (draft 2020-12), derived from the model types with
//! schemars, for editors: `stepwise schema` prints it and `docs/scenario.schema.json` holds
//! it. The model's derives and `#[schemars]` attributes say what each key is; this module
//! holds the stand-ins for values whose serde impls are written by hand, the transforms that
//! give the shorthand forms, and the finishing touches.
//!
//! The schema uses no keyword newer than draft 7 except `$defs` (which draft 7 tools reach
//! as a plain JSON pointer), because the YAML language server behind VS Code and other
//! editors implements draft 7.

use super::Scenario;
use schemars::transform::{RecursiveTransform, Transform};
use schemars::{json_schema, JsonSchema, Schema, SchemaGenerator};
use serde_json::{Map, Value as Json};
use std::borrow::Cow;

/// The schema's `$id`: a name, not a location (the file is found by a relative path).
pub const SCHEMA_ID: &str = "urn:stepwise:scenario";

/// Where the schema is committed, relative to the crate root.
pub const SCHEMA_PATH: &str = "docs/scenario.schema.json";

/// The JSON Schema of a scenario file.
pub fn scenario_schema() -> Schema {
    let mut schema = schemars::generate::SchemaSettings::draft2020_12()
        .into_generator()
        .into_root_schema_for::<Scenario>();
    RecursiveTransform(drop_empty_default).transform(&mut schema);
    RecursiveTransform(unwrap_description).transform(&mut schema);
    let Some(generated) = schema.as_object_mut() else {
        return schema;
    };
    // The keys that say what the document is come first, then the generated ones.
    let mut root = Map::new();
    for key in ["$schema"] {
        if let Some(v) = generated.remove(key) {
            root.insert(key.into(), v);
        }
    }
    root.insert("$id".into(), SCHEMA_ID.into());
    root.insert("title".into(), "stepwise scenario".into());
    root.insert(
        "description".into(),
        "A stepwise scenario: an HTTP workflow replayed step by step, each step sending a \
         request, capturing values from the response and checking it. Generated from the \
         stepwise model by `stepwise schema`; the format is described in docs/format.md."
            .into(),
    );
    generated.remove("title");
    generated.remove("description");
    root.append(generated);
    Schema::from(root)
}

/// [`scenario_schema`] as pretty-printed JSON with a final newline, as committed in
/// [`SCHEMA_PATH`].
pub fn scenario_schema_text() -> String {
    format!("{:#}\n", scenario_schema().as_value())
}

/// `"default": null`, `{}` or `[]` say nothing a reader can use (the real default is in the
/// description), and editors would offer to insert them.
fn drop_empty_default(schema: &mut Schema) {
    let empty = match schema.get("default") {
        Some(Json::Null) => true,
        Some(Json::Object(m)) => m.is_empty(),
        Some(Json::Array(a)) => a.is_empty(),
        _ => false,
    };
    if empty {
        schema.remove("default");
    }
}

/// Doc comments are wrapped at 100 columns; editors show a description as one paragraph, so
/// single line breaks become spaces (blank lines stay).
fn unwrap_description(schema: &mut Schema) {
    if let Some(Json::String(text)) = schema.get_mut("description") {
        *text = text
            .split("\n\n")
            .map(|p| p.split('\n').map(str::trim).collect::<Vec<_>>().join(" "))
            .collect::<Vec<_>>()
            .join("\n\n");
    }
}

/// Stand-in for [`Template`](super::Template) in the schema: a template is a
/// `Spanned<String>` like other text, but also takes numbers and booleans as their text.
pub(crate) struct TemplateText;

impl JsonSchema for TemplateText {
    fn schema_name() -> Cow<'static, str> {
        "Template".into()
    }

    fn schema_id() -> Cow<'static, str> {
        concat!(module_path!(), "::Template").into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "Text that may hold templates: `{{ expression }}`, `{{ value | filter }}`, \
                `{% if %}` blocks (minijinja syntax), filled in when the step runs. Numbers and \
                booleans are taken as their text.",
            "anyOf": [{"type": "string"}, {"type": "number"}, {"type": "boolean"}]
        })
    }
}

/// Stand-in for a [`Template`](super::Template) read as a boolean expression (`when`,
/// `that`, the conditions of `poll`).
pub(crate) struct ExpressionText;

impl JsonSchema for ExpressionText {
    fn schema_name() -> Cow<'static, str> {
        "Expression".into()
    }

    fn schema_id() -> Cow<'static, str> {
        concat!(module_path!(), "::Expression").into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A boolean expression (minijinja syntax) over the variables, written \
                without braces (`response.status == 200`) or as one `{{ ... }}`.",
            "anyOf": [{"type": "string"}, {"type": "boolean"}]
        })
    }
}

/// Stand-in for a [`Template`](super::Template) read as a duration.
pub(crate) struct DurationText;

impl JsonSchema for DurationText {
    fn schema_name() -> Cow<'static, str> {
        "Duration".into()
    }

    fn schema_id() -> Cow<'static, str> {
        concat!(module_path!(), "::Duration").into()
    }

    fn json_schema(_: &mut SchemaGenerator) -> Schema {
        json_schema!({
            "description": "A duration: seconds as a number (`5`, `0.5`), a number with a unit \
                (`500ms`, `5s`, `2m`, `1h`), or a template that renders to one \
                (`\"{{ expires_in }}\"`).",
            "anyOf": [{"type": "number", "minimum": 0}, {"type": "string"}]
        })
    }
}

/// Replaces a mapping's schema with `anyOf [shorthand, mapping]`, the description moved up
/// so that editors show it whichever form is written.
fn or_shorthand(schema: &mut Schema, shorthand: Json) {
    let mut mapping = std::mem::replace(schema, Schema::from(true));
    let mut wrapper = Map::new();
    if let Some(d) = mapping.remove("description") {
        wrapper.insert("description".into(), d);
    }
    wrapper.insert(
        "anyOf".into(),
        Json::Array(vec![shorthand, mapping.to_value()]),
    );
    *schema = Schema::from(wrapper);
}

/// [`Capture`](super::Capture): a JSONPath string is short for `{jsonpath: ...}`.
pub(crate) fn capture_shorthand(schema: &mut Schema) {
    or_shorthand(
        schema,
        serde_json::json!({
            "type": "string",
            "description": "A JSONPath (RFC 9535) into the JSON body: short for `{jsonpath: ...}`.",
            "examples": ["$.access_token"]
        }),
    );
}

/// [`Predicate`](super::Predicate): any value but a mapping is short for `{equals: ...}`.
pub(crate) fn predicate_shorthand(schema: &mut Schema) {
    or_shorthand(
        schema,
        serde_json::json!({
            "type": ["string", "number", "boolean", "array", "null"],
            "description": "The expected value: short for `{equals: ...}`. A mapping is read as \
                operators; write `{equals: {...}}` to compare with a mapping.",
            "examples": ["Bearer", 200, true, ["a", "b"]]
        }),
    );
}

/// [`Body`](super::Body): a string is short for `{text: ...}`.
pub(crate) fn body_shorthand(schema: &mut Schema) {
    or_shorthand(
        schema,
        serde_json::json!({
            "type": "string",
            "description": "The body as text (a template): short for `{text: ...}`.",
            "examples": ["hello {{ who }}"]
        }),
    );
}

/// [`FilePart`](super::FilePart): a string is short for `{path: ...}`.
pub(crate) fn file_part_shorthand(schema: &mut Schema) {
    or_shorthand(
        schema,
        serde_json::json!({
            "type": "string",
            "description": "The file's path, relative to the scenario file: short for `{path: ...}`.",
            "examples": ["data/avatar.png"]
        }),
    );
}

/// [`Snapshot`](super::Snapshot): `true` takes every default, `false` takes no snapshot.
pub(crate) fn snapshot_shorthand(schema: &mut Schema) {
    or_shorthand(
        schema,
        serde_json::json!({
            "type": "boolean",
            "description": "`true`: a snapshot with every default; `false`: no snapshot.",
            "examples": [true]
        }),
    );
}

/// For an externally tagged enum (`basic: {...}` or `bearer: ...`): each variant's
/// description and examples go on its key, where editors show them, rather than on the
/// one-key mapping around it.
pub(crate) fn variant_docs_on_keys(schema: &mut Schema) {
    let Some(Json::Array(variants)) = schema.get_mut("oneOf") else {
        return;
    };
    for variant in variants {
        let Json::Object(variant) = variant else {
            continue;
        };
        let docs: Vec<(String, Json)> = ["description", "examples"]
            .into_iter()
            .filter_map(|k| variant.remove(k).map(|v| (k.to_owned(), v)))
            .collect();
        let Some(Json::Object(properties)) = variant.get_mut("properties") else {
            continue;
        };
        if properties.len() != 1 {
            continue;
        }
        if let Some(Json::Object(key)) = properties.values_mut().next() {
            key.extend(docs);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every schema of a mapping (`"type": "object"` with `properties`), with the JSON
    /// pointer to it. Rules such as `{"required": ["status"], "properties": ...}` in a
    /// `oneOf` have no type and are not mappings of their own.
    fn objects<'a>(at: String, value: &'a Json, out: &mut Vec<(String, &'a Map<String, Json>)>) {
        let Json::Object(map) = value else {
            return;
        };
        if map.contains_key("properties") && map.get("type") == Some(&Json::from("object")) {
            out.push((at.clone(), map));
        }
        for (key, child) in map {
            // Examples and defaults are instances, not schemas.
            if matches!(key.as_str(), "examples" | "default" | "const" | "enum") {
                continue;
            }
            match child {
                Json::Array(items) => {
                    for (i, item) in items.iter().enumerate() {
                        objects(format!("{at}/{key}/{i}"), item, out);
                    }
                }
                _ => objects(format!("{at}/{key}"), child, out),
            }
        }
    }

    #[test]
    fn every_key_has_a_description_and_an_example() {
        let schema = scenario_schema().to_value();
        let mut found = Vec::new();
        objects(String::new(), &schema, &mut found);
        assert!(found.len() >= 15, "too few mappings found: {}", found.len());
        let mut missing = Vec::new();
        for (at, object) in found {
            if object.get("additionalProperties") != Some(&Json::Bool(false)) {
                missing.push(format!("{at}: no `additionalProperties: false`"));
            }
            for (key, property) in object["properties"].as_object().into_iter().flatten() {
                for needed in ["description", "examples"] {
                    if property.get(needed).is_none() {
                        missing.push(format!("{at}/properties/{key}: no {needed}"));
                    }
                }
            }
        }
        assert!(missing.is_empty(), "{}", missing.join("\n"));
    }

    #[test]
    fn only_draft_7_keywords_besides_defs() {
        let text = scenario_schema_text();
        for newer in [
            "prefixItems",
            "unevaluatedProperties",
            "unevaluatedItems",
            "dependentSchemas",
            "dependentRequired",
            "$dynamicRef",
            "$anchor",
        ] {
            assert!(
                !text.contains(&format!("\"{newer}\"")),
                "{newer} in the schema"
            );
        }
    }

    #[test]
    fn the_root_says_what_it_is() {
        let schema = scenario_schema().to_value();
        let keys: Vec<&str> = schema
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .take(5)
            .collect();
        assert_eq!(
            keys,
            ["$schema", "$id", "title", "description", "type"],
            "{schema:#}"
        );
        assert_eq!(
            schema["$schema"],
            "https://json-schema.org/draft/2020-12/schema"
        );
        assert!(scenario_schema_text().ends_with("}\n"));
    }
}
