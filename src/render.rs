//! Applies templates to model values: turns a step's [`Request`](crate::model::Request) into a
//! concrete [`PreparedRequest`], deep JSON values into `serde_json` values, durations into
//! [`Duration`]s. Errors point at the YAML value that held the template.

use crate::diagnostic::{Diagnostic, SourceFile};
use crate::http::{Part, PreparedBody, PreparedRequest};
use crate::model::{self, Template, Value, ValueKind};
use crate::template::{TemplateError, Templater, Vars};
use crate::yaml::Span;
use minijinja::value::Value as MjValue;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

/// Everything needed to render the values of one scenario file.
pub struct Renderer<'a> {
    pub templater: &'a Templater,
    pub vars: &'a Vars,
    pub file: &'a Arc<SourceFile>,
}

/// Step-independent settings that requests inherit.
#[derive(Debug, Clone)]
pub struct RequestDefaults {
    pub timeout: Duration,
    pub follow_redirects: bool,
    pub max_redirects: u32,
    pub max_body_size: u64,
}

impl Default for RequestDefaults {
    fn default() -> Self {
        RequestDefaults {
            timeout: Duration::from_secs(30),
            follow_redirects: false,
            max_redirects: 10,
            max_body_size: 128 * 1024 * 1024,
        }
    }
}

impl Renderer<'_> {
    /// A diagnostic for a template error in the value at `span`.
    pub fn template_error(&self, err: TemplateError, span: Span) -> Diagnostic {
        let span = match &err.needle {
            Some(needle) => locate(self.file, span, needle),
            None => span,
        };
        Diagnostic::new(err.message)
            .at(self.file, span)
            .maybe_hint(err.hint)
    }

    /// Renders a template string.
    pub fn text(&self, t: &Template) -> Result<String, Diagnostic> {
        self.templater
            .render_str(&t.value, self.vars)
            .map_err(|e| self.template_error(e, t.span))
    }

    /// Evaluates a condition (no braces needed) to a boolean; a key missing from a value
    /// (e.g. a field the response lacks) makes it false, see [`Templater::eval_condition`].
    pub fn condition(&self, t: &Template) -> Result<bool, Diagnostic> {
        self.templater
            .eval_condition(strip_braces(&t.value), self.vars)
            .map_err(|e| self.template_error(e, t.span))
    }

    /// Renders a deep value; strings that are exactly one `{{ expr }}` keep their type.
    pub fn value(&self, v: &Value) -> Result<serde_json::Value, Diagnostic> {
        Ok(match &v.kind {
            ValueKind::Null => serde_json::Value::Null,
            ValueKind::Bool(b) => serde_json::Value::Bool(*b),
            ValueKind::Int(i) => serde_json::Value::from(*i),
            ValueKind::Float(f) => serde_json::Number::from_f64(*f)
                .map(serde_json::Value::Number)
                .unwrap_or(serde_json::Value::Null),
            ValueKind::Str(s) => {
                let rendered = self
                    .templater
                    .render_typed(s, self.vars)
                    .map_err(|e| self.template_error(e, v.span))?;
                to_json(&rendered)
            }
            ValueKind::Seq(items) => serde_json::Value::Array(
                items
                    .iter()
                    .map(|i| self.value(i))
                    .collect::<Result<_, _>>()?,
            ),
            ValueKind::Map(map) => {
                let mut out = serde_json::Map::new();
                for (k, item) in map {
                    out.insert(k.clone(), self.value(item)?);
                }
                serde_json::Value::Object(out)
            }
        })
    }

    /// Renders a deep value into a template variable.
    pub fn variable(&self, v: &Value) -> Result<MjValue, Diagnostic> {
        match &v.kind {
            ValueKind::Str(s) => self
                .templater
                .render_typed(s, self.vars)
                .map_err(|e| self.template_error(e, v.span)),
            _ => Ok(MjValue::from_serialize(self.value(v)?)),
        }
    }

    /// Renders and parses a duration: `30`, `1.5` (seconds), `500ms`, `2s`, `1m`.
    pub fn duration(&self, t: &Template) -> Result<Duration, Diagnostic> {
        let text = self.text(t)?;
        parse_duration(&text).ok_or_else(|| {
            Diagnostic::new(format!("`{text}` is not a duration"))
                .at(self.file, t.span)
                .hint("write seconds (`5`, `0.5`) or a number with a unit: `500ms`, `5s`, `2m`")
        })
    }

    /// Renders and parses a non-negative integer.
    pub fn count(&self, t: &Template) -> Result<u32, Diagnostic> {
        let text = self.text(t)?;
        text.trim().parse::<u32>().map_err(|_| {
            Diagnostic::new(format!("`{text}` is not a whole number")).at(self.file, t.span)
        })
    }

    /// Builds the concrete request of a step.
    pub fn request(
        &self,
        req: &model::Request,
        req_span: Span,
        default_headers: &[(String, String)],
        defaults: &RequestDefaults,
    ) -> Result<PreparedRequest, Diagnostic> {
        let method_text = match &req.method {
            Some(m) => m.value.trim().to_ascii_uppercase(),
            None => "GET".to_owned(),
        };
        let method = reqwest::Method::from_bytes(method_text.as_bytes()).map_err(|_| {
            Diagnostic::new(format!("`{method_text}` is not an HTTP method")).at(
                self.file,
                req.method.as_ref().map(|m| m.span).unwrap_or(req_span),
            )
        })?;
        let url_text = self.text(&req.url)?;
        let mut url = reqwest::Url::parse(url_text.trim()).map_err(|e| {
            Diagnostic::new(format!("`{url_text}` is not a valid URL: {e}"))
                .at(self.file, req.url.span)
                .hint("URLs need a scheme and a host, e.g. `http://127.0.0.1:8080/path`")
        })?;
        if let Some(query) = req.query.as_ref().filter(|q| !q.is_empty()) {
            let mut pairs = Vec::new();
            for (name, value) in query.iter() {
                for text in self.scalars(value)? {
                    pairs.push((name.value.clone(), text));
                }
            }
            url.query_pairs_mut().extend_pairs(pairs);
        }
        let mut headers: Vec<(String, String)> = Vec::new();
        let mut set_header = |name: String, value: String| {
            headers.retain(|(n, _)| !n.eq_ignore_ascii_case(&name));
            headers.push((name, value));
        };
        for (n, v) in default_headers {
            set_header(n.clone(), v.clone());
        }
        if let Some(auth) = &req.auth {
            let value = match &*auth.value {
                model::Auth::Basic(b) => {
                    use base64::Engine;
                    let user = self.text(&b.username)?;
                    let pass = self.text(&b.password)?;
                    format!(
                        "Basic {}",
                        base64::engine::general_purpose::STANDARD.encode(format!("{user}:{pass}"))
                    )
                }
                model::Auth::Bearer(token) => format!("Bearer {}", self.text(token)?),
            };
            set_header("Authorization".into(), value);
        }
        for (name, value) in &req.headers {
            let rendered = self.text(value)?;
            set_header(name.value.to_string(), rendered);
        }
        let body = self.body(req)?;
        let timeout = match &req.timeout {
            Some(t) => self.duration(t)?,
            None => defaults.timeout,
        };
        Ok(PreparedRequest {
            method,
            url,
            headers,
            body,
            timeout,
            follow_redirects: req.follow_redirects.unwrap_or(defaults.follow_redirects),
            max_redirects: req.max_redirects.unwrap_or(defaults.max_redirects),
            max_body_size: defaults.max_body_size,
        })
    }

    fn body(&self, req: &model::Request) -> Result<Option<PreparedBody>, Diagnostic> {
        if let Some(json) = &req.json {
            let value = self.value(json)?;
            let data = serde_json::to_vec(&value).map_err(|e| {
                Diagnostic::new(format!("cannot encode the JSON body: {e}"))
                    .at(self.file, json.span)
            })?;
            return Ok(Some(PreparedBody::Bytes {
                data,
                content_type: Some("application/json".into()),
            }));
        }
        if let Some(form) = &req.form {
            let mut ser = url::form_urlencoded::Serializer::new(String::new());
            for (name, value) in form.iter() {
                for text in self.scalars(value)? {
                    ser.append_pair(&name.value, &text);
                }
            }
            return Ok(Some(PreparedBody::Bytes {
                data: ser.finish().into_bytes(),
                content_type: Some("application/x-www-form-urlencoded".into()),
            }));
        }
        if let Some(mp) = &req.multipart {
            let mut parts = Vec::new();
            for (name, value) in &mp.fields {
                parts.push(Part {
                    name: name.value.to_string(),
                    data: self.text(value)?.into_bytes(),
                    filename: None,
                    content_type: None,
                });
            }
            for (name, file) in &mp.files {
                let path = self.text(&file.path)?;
                let data = self.read_file(&path, file.path.span)?;
                let filename = match &file.filename {
                    Some(f) => Some(self.text(f)?),
                    None => Path::new(&path)
                        .file_name()
                        .map(|f| f.to_string_lossy().into_owned()),
                };
                let content_type = match &file.content_type {
                    Some(c) => Some(self.text(c)?),
                    None => Some("application/octet-stream".into()),
                };
                parts.push(Part {
                    name: name.value.to_string(),
                    data,
                    filename,
                    content_type,
                });
            }
            return Ok(Some(PreparedBody::Multipart(parts)));
        }
        if let Some(body) = &req.body {
            let data = match (&body.text, &body.file) {
                (Some(text), None) => self.text(text)?.into_bytes(),
                (None, Some(file)) => {
                    let path = self.text(file)?;
                    self.read_file(&path, file.span)?
                }
                _ => {
                    return Err(Diagnostic::new(
                        "`body` takes either `text` or `file`, not both and not neither",
                    ))
                }
            };
            return Ok(Some(PreparedBody::Bytes {
                data,
                content_type: None,
            }));
        }
        Ok(None)
    }

    /// A file named in the scenario, relative to the scenario file.
    fn read_file(&self, path: &str, span: Span) -> Result<Vec<u8>, Diagnostic> {
        let base = self.file.path.parent().unwrap_or(Path::new("."));
        let full = base.join(path);
        std::fs::read(&full).map_err(|e| {
            Diagnostic::new(format!("cannot read `{}`: {e}", full.display()))
                .at(self.file, span)
                .hint("paths are relative to the scenario file")
        })
    }

    /// A query or form value: a scalar, or a list of scalars (repeated parameter).
    fn scalars(&self, value: &Value) -> Result<Vec<String>, Diagnostic> {
        let rendered = self.value(value)?;
        Ok(match rendered {
            serde_json::Value::Array(items) => items.iter().map(json_text).collect(),
            other => vec![json_text(&other)],
        })
    }
}

/// Narrows `span` to `needle` inside it, like [`SourceFile::narrow`], but a name is looked for
/// as a whole word first: in `{{ base }}/tokens/{{ tok }}` the variable `tok` is the second
/// `tok`, not the start of `tokens`.
pub fn locate(file: &SourceFile, span: Span, needle: &str) -> Span {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    if needle.is_empty() || !span.is_known() || !needle.chars().all(is_word) {
        return file.narrow(span, needle);
    }
    let Some(line) = file.line(span.start.line as usize) else {
        return span;
    };
    let chars: Vec<char> = line.chars().collect();
    let start = (span.start.col as usize).min(chars.len());
    let end = if span.end.line == span.start.line {
        (span.end.col as usize).min(chars.len())
    } else {
        chars.len()
    };
    let needle: Vec<char> = needle.chars().collect();
    let n = needle.len();
    let whole_word = (start..end.saturating_sub(n - 1)).find(|&i| {
        chars[i..i + n] == needle[..]
            && (i == 0 || !is_word(chars[i - 1]))
            && chars.get(i + n).is_none_or(|c| !is_word(*c))
    });
    match whole_word {
        Some(col) => Span {
            start: crate::yaml::Pos::new(span.start.line as usize, col),
            end: crate::yaml::Pos::new(span.start.line as usize, col + n),
        },
        None => file.narrow(span, &needle.iter().collect::<String>()),
    }
}

/// Conditions may be written with or without `{{ }}`.
pub fn strip_braces(expr: &str) -> &str {
    crate::template::single_expression(expr.trim()).unwrap_or(expr)
}

/// A JSON value as text: strings bare, everything else as JSON.
pub fn json_text(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Converts a template value to JSON.
pub fn to_json(v: &MjValue) -> serde_json::Value {
    serde_json::to_value(v).unwrap_or(serde_json::Value::Null)
}

/// `30`, `1.5` (seconds), `500ms`, `2s`, `1m`, `1h`.
pub fn parse_duration(text: &str) -> Option<Duration> {
    let t = text.trim();
    let (num, scale) = if let Some(n) = t.strip_suffix("ms") {
        (n, 0.001)
    } else if let Some(n) = t.strip_suffix('s') {
        (n, 1.0)
    } else if let Some(n) = t.strip_suffix('m') {
        (n, 60.0)
    } else if let Some(n) = t.strip_suffix('h') {
        (n, 3600.0)
    } else {
        (t, 1.0)
    };
    let value: f64 = num.trim().parse().ok()?;
    if !value.is_finite() || value < 0.0 || value * scale > 1e9 {
        return None;
    }
    Some(Duration::from_secs_f64(value * scale))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locates_a_name_as_a_whole_word() {
        let file = SourceFile::new("a.yaml", "url: \"{{ base }}/tokens/{{ tok }}\"\n");
        let span = Span {
            start: crate::yaml::Pos { line: 1, col: 5 },
            end: crate::yaml::Pos { line: 1, col: 35 },
        };
        let at = locate(&file, span, "tok");
        assert_eq!((at.start.col, at.end.col), (27, 30));
        // Not a word: the first occurrence, as `narrow` finds it.
        let at = locate(&file, span, "}}");
        assert_eq!(at.start.col, 14);
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("5"), Some(Duration::from_secs(5)));
        assert_eq!(parse_duration("500ms"), Some(Duration::from_millis(500)));
        assert_eq!(parse_duration("1.5s"), Some(Duration::from_millis(1500)));
        assert_eq!(parse_duration("2m"), Some(Duration::from_secs(120)));
        assert_eq!(parse_duration("abc"), None);
        assert_eq!(parse_duration("-1"), None);
    }
}
