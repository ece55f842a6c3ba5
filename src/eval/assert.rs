//! Assertions: check a response against a step's `expect`. Every assertion is evaluated and
//! reported, passing or failing, with expected and actual values (masked).

use super::capture::{compile_regex, excerpt};
use super::jsonpath;
use crate::diagnostic::Diagnostic;
use crate::mask::Masker;
use crate::model::{Expect, JsonType, Predicate, Value};
use crate::render::{json_text, Renderer};
use crate::response::ResponseView;
use crate::result::AssertionResult;
use crate::yaml::Span;
use serde_json::Value as Json;

/// Checks every expectation. Errors are problems of the scenario itself (bad template,
/// bad JSONPath), not failed assertions.
pub fn check(
    expect: &Expect,
    view: &ResponseView,
    r: &Renderer<'_>,
    masker: &Masker,
) -> Result<Vec<AssertionResult>, Diagnostic> {
    let mut c = Checker {
        r,
        masker,
        out: Vec::new(),
        shown_path: None,
    };
    let resp = &view.response;
    if let Some(status) = &expect.status {
        let passed = status.patterns.iter().any(|p| p.matches(resp.status));
        let expected = status
            .patterns
            .iter()
            .map(|p| p.to_string())
            .collect::<Vec<_>>()
            .join(" or ");
        c.push(
            "status",
            passed,
            expected,
            resp.status.to_string(),
            status.span,
        );
    }
    for (name, pred) in &expect.headers {
        let actual = resp.header(&name.value).map(|v| Json::String(v.to_owned()));
        c.predicate(
            &format!("header {}", name.value),
            pred,
            actual.as_ref(),
            name.span,
        )?;
    }
    if !expect.jsonpath.is_empty() {
        for (path, pred) in &expect.jsonpath {
            let q = jsonpath::compile(&path.value)
                .map_err(|m| Diagnostic::new(m).at(r.file, path.span))?;
            match view.select(&q) {
                Ok(actual) => {
                    c.predicate(
                        &format!("jsonpath {}", path.value),
                        pred,
                        actual.as_ref(),
                        path.span,
                    )?;
                }
                Err(why) => c.push(
                    &format!("jsonpath {}", path.value),
                    false,
                    "a JSON body".into(),
                    why.to_owned(),
                    path.span,
                ),
            }
        }
    }
    if let Some(pred) = &expect.body {
        let text = resp.text();
        // A structured expected value compares with the parsed body.
        let structured = pred
            .equals
            .as_ref()
            .map(|v| {
                matches!(
                    v.kind,
                    crate::model::ValueKind::Map(_) | crate::model::ValueKind::Seq(_)
                )
            })
            .unwrap_or(false);
        let actual = if structured {
            view.json().ok().cloned()
        } else {
            Some(Json::String(text.into_owned()))
        };
        c.predicate("body", pred, actual.as_ref(), first_span(pred))?;
    }
    if let Some(limit) = &expect.duration {
        let max = r.duration(limit)?;
        let took = resp.duration;
        c.push(
            "duration",
            took <= max,
            format!("at most {}", fmt_duration(max)),
            fmt_duration(took),
            limit.span,
        );
    }
    for expr in &expect.that {
        let text = crate::render::strip_braces(&expr.value);
        // A field the response lacks makes the expression false (a failed assertion, not
        // an invalid scenario); `explain_false` then shows it as undefined.
        let passed = r
            .templater
            .eval_condition(text, r.vars)
            .map_err(|e| r.template_error(e, expr.span))?;
        let actual = if passed {
            "true".to_owned()
        } else {
            explain_false(r, text)
        };
        c.push(
            &format!("that {}", text.trim()),
            passed,
            "true".into(),
            actual,
            expr.span,
        );
    }
    Ok(c.out)
}

struct Checker<'a, 'r> {
    r: &'a Renderer<'r>,
    masker: &'a Masker,
    out: Vec<AssertionResult>,
    /// The scenario's path as positions show it, worked out once per step rather than once
    /// per assertion (it asks the OS for the current directory).
    shown_path: Option<String>,
}

impl Checker<'_, '_> {
    fn push(&mut self, what: &str, passed: bool, expected: String, actual: String, span: Span) {
        let position = if span.is_known() {
            let file = self.r.file;
            let path = self
                .shown_path
                .get_or_insert_with(|| crate::diagnostic::display_path(&file.path));
            Some(compact_str::format_compact!(
                "{path}:{}:{}",
                span.start.line,
                span.start.col + 1
            ))
        } else {
            None
        };
        self.out.push(AssertionResult {
            what: what.into(),
            passed,
            // Mask before cutting: a cut secret would no longer match.
            expected: excerpt(&self.masker.mask(&expected), 300).into(),
            actual: excerpt(&self.masker.mask(&actual), 300).into(),
            position,
            diff: None,
        });
    }

    fn expected(&self, v: &Value) -> Result<Json, Diagnostic> {
        self.r.value(v)
    }

    /// Checks every operator of a predicate against an actual value (`None`: absent).
    fn predicate(
        &mut self,
        subject: &str,
        p: &Predicate,
        actual: Option<&Json>,
        subject_span: Span,
    ) -> Result<(), Diagnostic> {
        let shown = |a: Option<&Json>| match a {
            Some(v) => show(v),
            None => "nothing (absent)".to_owned(),
        };
        let span_of = |v: &Value| {
            if v.span.is_known() {
                v.span
            } else {
                subject_span
            }
        };
        if p.is_empty() {
            return Err(Diagnostic::new(format!("no operator given for `{subject}`"))
                .at(self.r.file, subject_span)
                .hint("use `equals`, `contains`, `matches`, `exists`, `type`, `lt`, ... or a plain value for `equals`"));
        }
        if let Some(e) = &p.equals {
            let exp = self.expected(e)?;
            let ok = actual.map(|a| json_eq(a, &exp)).unwrap_or(false);
            self.push(
                &format!("{subject} equals"),
                ok,
                show(&exp),
                shown(actual),
                span_of(e),
            );
        }
        if let Some(e) = &p.not_equals {
            let exp = self.expected(e)?;
            let ok = actual.map(|a| !json_eq(a, &exp)).unwrap_or(true);
            self.push(
                &format!("{subject} not_equals"),
                ok,
                format!("not {}", show(&exp)),
                shown(actual),
                span_of(e),
            );
        }
        if let Some(e) = &p.contains {
            let exp = self.expected(e)?;
            let ok = match actual {
                Some(Json::String(s)) => s.contains(&json_text(&exp)),
                Some(Json::Array(items)) => items.iter().any(|i| json_eq(i, &exp)),
                Some(Json::Object(map)) => map.contains_key(&json_text(&exp)),
                _ => false,
            };
            self.push(
                &format!("{subject} contains"),
                ok,
                format!("contains {}", show(&exp)),
                shown(actual),
                span_of(e),
            );
        }
        if let Some(m) = &p.matches {
            let pattern = self.r.text(m)?;
            let re = compile_regex(&pattern)
                .map_err(|msg| Diagnostic::new(msg).at(self.r.file, m.span))?;
            let ok = actual.map(|a| re.is_match(&json_text(a))).unwrap_or(false);
            self.push(
                &format!("{subject} matches"),
                ok,
                format!("matches /{pattern}/"),
                shown(actual),
                m.span,
            );
        }
        if let Some(e) = &p.exists {
            let ok = actual.is_some() == e.value;
            let expected = if e.value { "present" } else { "absent" };
            self.push(
                &format!("{subject} exists"),
                ok,
                expected.into(),
                shown(actual),
                e.span,
            );
        }
        if let Some(e) = &p.absent {
            let ok = actual.is_none() == e.value;
            let expected = if e.value { "absent" } else { "present" };
            self.push(
                &format!("{subject} absent"),
                ok,
                expected.into(),
                shown(actual),
                e.span,
            );
        }
        if let Some(t) = &p.type_ {
            let ok = actual.map(|a| has_type(a, t.value)).unwrap_or(false);
            let actual_type = actual.map(type_name).unwrap_or("absent");
            self.push(
                &format!("{subject} type"),
                ok,
                t.value.name().into(),
                format!("{actual_type} {}", shown(actual)),
                t.span,
            );
        }
        if let Some(e) = &p.is_uuid {
            let is = matches!(actual, Some(Json::String(s)) if is_uuid(s));
            self.push(
                &format!("{subject} is_uuid"),
                is == e.value,
                if e.value { "a UUID" } else { "not a UUID" }.into(),
                shown(actual),
                e.span,
            );
        }
        if let Some(e) = &p.is_iso_datetime {
            let is = matches!(actual, Some(Json::String(s)) if chrono::DateTime::parse_from_rfc3339(s).is_ok());
            self.push(
                &format!("{subject} is_iso_datetime"),
                is == e.value,
                if e.value {
                    "an ISO-8601 date-time"
                } else {
                    "not an ISO-8601 date-time"
                }
                .into(),
                shown(actual),
                e.span,
            );
        }
        for (op, bound, cmp) in [
            (
                "lt",
                &p.lt,
                (|o| o == std::cmp::Ordering::Less) as fn(std::cmp::Ordering) -> bool,
            ),
            ("le", &p.le, |o| o != std::cmp::Ordering::Greater),
            ("gt", &p.gt, |o| o == std::cmp::Ordering::Greater),
            ("ge", &p.ge, |o| o != std::cmp::Ordering::Less),
        ] {
            if let Some(b) = bound {
                let exp = self.expected(b)?;
                let ok = match (actual.and_then(as_number), as_number(&exp)) {
                    (Some(a), Some(e)) => a.partial_cmp(&e).map(cmp).unwrap_or(false),
                    _ => false,
                };
                let sym = match op {
                    "lt" => "<",
                    "le" => "<=",
                    "gt" => ">",
                    _ => ">=",
                };
                self.push(
                    &format!("{subject} {op}"),
                    ok,
                    format!("{sym} {}", show(&exp)),
                    shown(actual),
                    span_of(b),
                );
            }
        }
        if let Some(l) = &p.length {
            let exp = self.expected(l)?;
            let len = actual.and_then(|a| match a {
                Json::String(s) => Some(s.chars().count()),
                Json::Array(items) => Some(items.len()),
                Json::Object(map) => Some(map.len()),
                _ => None,
            });
            let ok = match (len, as_number(&exp)) {
                (Some(n), Some(e)) => (n as f64 - e).abs() < f64::EPSILON,
                _ => false,
            };
            let actual_text = match len {
                Some(n) => format!("length {n}"),
                None => shown(actual),
            };
            self.push(
                &format!("{subject} length"),
                ok,
                format!("length {}", show(&exp)),
                actual_text,
                span_of(l),
            );
        }
        if let Some(o) = &p.one_of {
            let exp = self.expected(o)?;
            let Json::Array(options) = &exp else {
                return Err(Diagnostic::new("`one_of` takes a list").at(self.r.file, span_of(o)));
            };
            let ok = actual
                .map(|a| options.iter().any(|e| json_eq(a, e)))
                .unwrap_or(false);
            self.push(
                &format!("{subject} one_of"),
                ok,
                format!("one of {}", show(&exp)),
                shown(actual),
                span_of(o),
            );
        }
        Ok(())
    }
}

fn first_span(p: &Predicate) -> Span {
    p.equals
        .as_ref()
        .map(|v| v.span)
        .or(p.contains.as_ref().map(|v| v.span))
        .or(p.matches.as_ref().map(|v| v.span))
        .unwrap_or_default()
}

/// Equality with numbers compared by value (`1 == 1.0`).
pub fn json_eq(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => match (x.as_f64(), y.as_f64()) {
            (Some(x), Some(y)) => x == y,
            _ => x == y,
        },
        (Json::Array(x), Json::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| json_eq(a, b))
        }
        (Json::Object(x), Json::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).map(|w| json_eq(v, w)).unwrap_or(false))
        }
        _ => a == b,
    }
}

fn as_number(v: &Json) -> Option<f64> {
    match v {
        Json::Number(n) => n.as_f64(),
        Json::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

fn has_type(v: &Json, t: JsonType) -> bool {
    match t {
        JsonType::String => v.is_string(),
        JsonType::Number => v.is_number(),
        JsonType::Integer => v.is_i64() || v.is_u64(),
        JsonType::Boolean => v.is_boolean(),
        JsonType::Array => v.is_array(),
        JsonType::Object => v.is_object(),
        JsonType::Null => v.is_null(),
    }
}

fn type_name(v: &Json) -> &'static str {
    match v {
        Json::String(_) => "string",
        Json::Number(_) => "number",
        Json::Bool(_) => "boolean",
        Json::Array(_) => "array",
        Json::Object(_) => "object",
        Json::Null => "null",
    }
}

fn is_uuid(s: &str) -> bool {
    s.len() == 36 && uuid::Uuid::parse_str(s).is_ok()
}

fn show(v: &Json) -> String {
    v.to_string()
}

pub fn fmt_duration(d: std::time::Duration) -> String {
    let ms = d.as_secs_f64() * 1000.0;
    if ms < 1000.0 {
        format!("{ms:.0}ms")
    } else {
        format!("{:.2}s", ms / 1000.0)
    }
}

/// For a false `a == b`-like expression, shows both sides' values.
fn explain_false(r: &Renderer<'_>, expr: &str) -> String {
    for op in [" == ", " != ", " <= ", " >= ", " < ", " > ", " in "] {
        let parts: Vec<&str> = expr.splitn(3, op).collect();
        if parts.len() == 2 {
            // A side that is missing from the response is shown as `undefined`.
            let side = |text: &str| match r.templater.eval(text, r.vars) {
                Ok(v) => Some(show_mj(&v)),
                Err(e) if e.message.ends_with("is undefined") => Some("undefined".to_owned()),
                Err(_) => None,
            };
            if let (Some(left), Some(right)) = (side(parts[0]), side(parts[1])) {
                return format!(
                    "false ({} is {left}, {} is {right})",
                    parts[0].trim(),
                    parts[1].trim(),
                );
            }
        }
    }
    "false".into()
}

fn show_mj(v: &minijinja::value::Value) -> String {
    if v.is_undefined() {
        return "undefined".into();
    }
    // Not cut here: the caller masks, then cuts.
    crate::render::to_json(v).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_compare_by_value() {
        assert!(json_eq(&json!(1), &json!(1.0)));
        assert!(json_eq(&json!({"a": [1]}), &json!({"a": [1.0]})));
        assert!(!json_eq(&json!("1"), &json!(1)));
    }
}
