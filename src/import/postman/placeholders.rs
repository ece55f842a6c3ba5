//! Postman's `{{name}}` text substitution → stepwise templates: `{{name}}` becomes
//! `{{ name }}` (or `{{ vars["a-b"] }}` when the name is not an identifier), `{{$timestamp}}`
//! and the other dynamic variables become stepwise functions, and literal text that Jinja
//! would read as syntax (`{%`, `{#`, a stray `{{`) is escaped.

use crate::template::postman_dynamic;
use std::collections::BTreeSet;

/// The prefix of the variable that stands in for a Postman dynamic variable stepwise has no
/// function for (`{{$randomCity}}` → `{{ postman_randomCity }}`).
pub(super) const UNKNOWN_DYNAMIC_PREFIX: &str = "postman_";

/// Converts Postman text and remembers what it met.
#[derive(Debug, Default)]
pub(super) struct Converter {
    /// Variables the converted text reads, by their Postman name.
    pub referenced: BTreeSet<String>,
    /// Dynamic variables (without `$`) that have no stepwise function.
    pub unknown_dynamic: BTreeSet<String>,
}

impl Converter {
    /// Postman text (URL, header, body, ...) as a stepwise template.
    pub fn text(&mut self, s: &str) -> String {
        let mut out = String::with_capacity(s.len() + 8);
        let mut rest = s;
        while let Some(open) = rest.find("{{") {
            // Postman's pattern is `{{` + no braces + `}}`.
            let after = &rest[open + 2..];
            let close = after.find("}}");
            let inner_ok = close.is_some_and(|c| !after[..c].contains(['{', '}']));
            match (close, inner_ok) {
                (Some(c), true) => {
                    let (literal, inner) = (&rest[..open], &after[..c]);
                    out.push_str(&escape_literal_before_tag(literal));
                    out.push_str("{{ ");
                    out.push_str(&self.expression(inner));
                    out.push_str(" }}");
                    rest = &after[c + 2..];
                }
                _ => {
                    // Not a placeholder: the first `{` is text.
                    out.push_str(&escape_literal_before_tag(&rest[..open]));
                    out.push_str(LBRACE);
                    rest = &rest[open + 1..];
                }
            }
        }
        out.push_str(&escape_literal(rest));
        out
    }

    /// Postman text that is a JSON string. A string that is exactly one `{{...}}` keeps the
    /// type of its expression in stepwise, but is always text in Postman; a dynamic variable
    /// that gives a number or a boolean (`{{$timestamp}}`) is made text again.
    pub fn json_string(&mut self, s: &str) -> String {
        let inner = s
            .strip_prefix("{{")
            .and_then(|r| r.strip_suffix("}}"))
            .filter(|i| !i.contains(['{', '}']))
            .map(str::trim);
        match inner.and_then(|i| i.strip_prefix('$')) {
            Some(dynamic) if postman_dynamic(dynamic).is_some_and(|e| !is_text(e)) => {
                let expr = self.expression(&format!("${dynamic}"));
                if expr.contains(' ') {
                    format!("{{{{ ({expr}) | string }}}}")
                } else {
                    format!("{{{{ {expr} | string }}}}")
                }
            }
            _ => self.text(s),
        }
    }

    /// The stepwise expression for what sits between Postman's braces.
    pub fn expression(&mut self, inner: &str) -> String {
        let name = inner.trim();
        if let Some(dynamic) = name.strip_prefix('$') {
            return match postman_dynamic(dynamic) {
                Some(expr) => expr.to_owned(),
                None => {
                    self.unknown_dynamic.insert(dynamic.to_owned());
                    unknown_dynamic_var(dynamic)
                }
            };
        }
        self.var(name)
    }

    /// A reference to a variable, by its Postman name.
    pub fn var(&mut self, name: &str) -> String {
        self.referenced.insert(name.to_owned());
        var_expression(name)
    }
}

/// Whether a dynamic variable's stepwise expression gives text.
fn is_text(expr: &str) -> bool {
    expr.starts_with("uuid(")
        || expr.starts_with("now(")
        || expr.starts_with("random_string(")
        || expr.ends_with("'@example.com'")
}

/// The name of the variable standing in for an unknown dynamic variable.
pub(super) fn unknown_dynamic_var(dynamic: &str) -> String {
    let clean: String = dynamic
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    format!("{UNKNOWN_DYNAMIC_PREFIX}{clean}")
}

/// `name`, or `vars["name"]` when `name` cannot be written bare in a template.
pub(super) fn var_expression(name: &str) -> String {
    if is_identifier(name) {
        name.to_owned()
    } else {
        let escaped = name.replace('\\', "\\\\").replace('"', "\\\"");
        format!("vars[\"{escaped}\"]")
    }
}

/// A name that a template can use bare: an identifier that is not a Jinja keyword.
pub(super) fn is_identifier(name: &str) -> bool {
    const KEYWORDS: &[&str] = &[
        "true",
        "false",
        "none",
        "True",
        "False",
        "None",
        "and",
        "or",
        "not",
        "in",
        "is",
        "if",
        "else",
        "elif",
        "for",
        "endfor",
        "loop",
        "self",
        "vars",
        "super",
        "block",
        "set",
        "with",
        "macro",
        "call",
        "filter",
        "import",
        "include",
        "from",
        "as",
        "extends",
        "recursive",
        "raw",
    ];
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    first_ok && chars.all(|c| c.is_ascii_alphanumeric() || c == '_') && !KEYWORDS.contains(&name)
}

/// `{` as a template (for a brace that would otherwise open a Jinja tag).
const LBRACE: &str = "{{ '{' }}";

/// Literal text as a template that renders to exactly that text.
pub(super) fn escape_literal(s: &str) -> String {
    escape(s, false)
}

/// Like [`escape_literal`], for text followed by a `{{ ... }}` tag: a trailing `{` would join
/// the tag's braces.
fn escape_literal_before_tag(s: &str) -> String {
    escape(s, true)
}

fn escape(s: &str, tag_follows: bool) -> String {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars().peekable();
    while let Some(c) = chars.next() {
        let next = chars.peek().copied();
        let opens_tag = c == '{'
            && match next {
                Some(n) => matches!(n, '{' | '%' | '#'),
                None => tag_follows,
            };
        if opens_tag {
            out.push_str(LBRACE);
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::template::{Templater, Vars};

    fn render(template: &str, vars: &[(&str, &str)]) -> String {
        let vars: Vars = vars
            .iter()
            .map(|(k, v)| (k.to_string(), minijinja::Value::from(*v)))
            .collect();
        Templater::new()
            .render_str(template, &vars)
            .unwrap_or_else(|e| panic!("{template}: {e}"))
    }

    #[test]
    fn variables_and_dynamic_variables() {
        let mut c = Converter::default();
        assert_eq!(c.text("{{apiPath}}/x"), "{{ apiPath }}/x");
        assert_eq!(c.text("{{ spaced }}"), "{{ spaced }}");
        assert_eq!(c.text("{{base-url}}/y"), "{{ vars[\"base-url\"] }}/y");
        assert_eq!(c.text("App{{$timestamp}}"), "App{{ timestamp() }}");
        assert_eq!(c.text("{{$guid}}"), "{{ uuid() }}");
        assert_eq!(c.text("{{$randomCity}}"), "{{ postman_randomCity }}");
        assert_eq!(
            c.referenced.iter().cloned().collect::<Vec<_>>(),
            ["apiPath", "base-url", "spaced"]
        );
        assert_eq!(
            c.unknown_dynamic.iter().cloned().collect::<Vec<_>>(),
            ["randomCity"]
        );
        assert_eq!(
            c.json_string("{{$timestamp}}"),
            "{{ timestamp() | string }}"
        );
        assert_eq!(
            c.json_string("{{$randomBoolean}}"),
            "{{ (random_int(0, 1) == 1) | string }}"
        );
        assert_eq!(c.json_string("{{$guid}}"), "{{ uuid() }}");
        assert_eq!(c.json_string("a{{$timestamp}}"), "a{{ timestamp() }}");
    }

    #[test]
    fn literal_text_renders_unchanged() {
        let samples = [
            "plain",
            "{% raw %}",
            "{# not a comment #}",
            "{{ unclosed",
            "{{{x}}}",
            "{ \"a\": {\"b\": 1} }",
            "trailing {",
            "}} and {",
            "{{a{b}}",
        ];
        for s in samples {
            let mut c = Converter::default();
            let t = c.text(s);
            let vars: Vec<(&str, &str)> = c.referenced.iter().map(|n| (n.as_str(), "V")).collect();
            let expected = s.replace("{{x}}", "V");
            assert_eq!(render(&t, &vars), expected, "{s} → {t}");
            assert_eq!(render(&escape_literal(s), &[]), s);
        }
    }
}
