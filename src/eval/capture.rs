//! Captures: take a value from a response.

use super::jsonpath;
use crate::diagnostic::Diagnostic;
use crate::model::{Capture, CaptureSource};
use crate::render::Renderer;
use crate::response::ResponseView;
use crate::yaml::Spanned;
use minijinja::value::Value as MjValue;

/// Evaluates one capture. A source that yields nothing falls back to `default`, or fails.
pub fn capture(
    name: &Spanned<compact_str::CompactString>,
    cap: &Capture,
    view: &ResponseView,
    r: &Renderer<'_>,
) -> Result<MjValue, Diagnostic> {
    let source = cap
        .source()
        .map_err(|m| Diagnostic::new(m).at(r.file, name.span))?;
    let (found, span, what) = match source {
        CaptureSource::JsonPath(path) => {
            let path_text = r.text(path)?;
            let q = jsonpath::compile(&path_text)
                .map_err(|m| Diagnostic::new(m).at(r.file, path.span))?;
            let found = match view.select(&q) {
                Ok(found) => found,
                // A body that is not JSON has nothing to match: the default applies.
                Err(m) => {
                    return fallback(cap, r, || {
                        Diagnostic::new(format!("cannot capture `{}`: {m}", name.value))
                            .at(r.file, path.span)
                    })
                }
            };
            (
                found.map(|v| MjValue::from_serialize(&v)),
                path.span,
                format!("JSONPath `{path_text}` matched nothing"),
            )
        }
        CaptureSource::Header(h) => {
            let header = r.text(h)?;
            (
                view.response.header(&header).map(MjValue::from),
                h.span,
                format!("the response has no `{header}` header"),
            )
        }
        CaptureSource::Cookie(c) => {
            let cookie = r.text(c)?;
            (
                view.cookie(&cookie).map(MjValue::from),
                c.span,
                format!("no cookie `{cookie}` was set or is held for this URL"),
            )
        }
        CaptureSource::Status => (
            Some(MjValue::from(view.response.status)),
            name.span,
            String::new(),
        ),
        CaptureSource::Body => (
            Some(MjValue::from(view.response.text().into_owned())),
            name.span,
            String::new(),
        ),
        CaptureSource::Url => (
            Some(MjValue::from(view.response.url.as_str())),
            name.span,
            String::new(),
        ),
        CaptureSource::Location => (
            view.response.location().map(MjValue::from),
            name.span,
            "the response has no `Location` header".to_owned(),
        ),
        CaptureSource::Css(sel, attr) => {
            let selector_text = r.text(sel)?;
            let attribute = attr.map(|a| r.text(a)).transpose()?;
            let selector = scraper::Selector::parse(&selector_text).map_err(|e| {
                Diagnostic::new(format!("invalid CSS selector `{selector_text}`: {e}"))
                    .at(r.file, sel.span)
            })?;
            let html = scraper::Html::parse_document(&view.response.text());
            let value = html
                .select(&selector)
                .next()
                .and_then(|el| match &attribute {
                    Some(a) => el.value().attr(a).map(str::to_owned),
                    None => Some(el.text().collect::<String>().trim().to_owned()),
                });
            let what = match &attribute {
                Some(a) => format!("no element matches `{selector_text}` with an attribute `{a}`"),
                None => format!("no element matches `{selector_text}`"),
            };
            (value.map(MjValue::from), sel.span, what)
        }
    };
    let found = match (found, &cap.regex) {
        (Some(value), Some(re)) => {
            let regex =
                compile_regex(&re.value).map_err(|m| Diagnostic::new(m).at(r.file, re.span))?;
            let text = value_text(&value);
            match regex.captures(&text) {
                Some(c) => Some(MjValue::from(
                    c.get(1)
                        .or_else(|| c.get(0))
                        .map(|m| m.as_str())
                        .unwrap_or(""),
                )),
                None => {
                    return fallback(cap, r, || {
                        Diagnostic::new(format!(
                            "cannot capture `{}`: regex `{}` does not match",
                            name.value, re.value
                        ))
                        .at(r.file, re.span)
                        .note(format!("the value was: {text}"))
                    })
                }
            }
        }
        (found, _) => found,
    };
    match found {
        Some(v) => Ok(v),
        None => fallback(cap, r, || {
            Diagnostic::new(format!("cannot capture `{}`: {what}", name.value)).at(r.file, span)
        }),
    }
}

fn fallback(
    cap: &Capture,
    r: &Renderer<'_>,
    error: impl FnOnce() -> Diagnostic,
) -> Result<MjValue, Diagnostic> {
    match &cap.default {
        Some(d) => r.variable(d),
        None => Err(error()),
    }
}

/// A regex from a scenario, with an error message that says it is a regex.
pub fn compile_regex(pattern: &str) -> Result<regex::Regex, String> {
    regex::RegexBuilder::new(pattern)
        .size_limit(1 << 20)
        .build()
        .map_err(|e| {
            let text = e.to_string();
            let last = text.lines().last().unwrap_or(&text).trim();
            let last = last.strip_prefix("error: ").unwrap_or(last).to_owned();
            format!("invalid regex `{pattern}`: {last}")
        })
}

/// The text of a template value: strings bare, others as JSON.
pub fn value_text(v: &MjValue) -> String {
    match v.as_str() {
        Some(s) => s.to_owned(),
        None => crate::render::json_text(&crate::render::to_json(v)),
    }
}

/// The first `max` characters of a text, with an ellipsis when cut.
pub fn excerpt(text: &str, max: usize) -> String {
    let mut out: String = text.chars().take(max).collect();
    if text.chars().nth(max).is_some() {
        out.push('…');
    }
    out
}
