//! Templating: minijinja with strict undefined, the functions scenario authors expect, and
//! errors that name the variable at fault. Knows nothing of YAML positions; callers attach
//! the span of the value that held the template.

use minijinja::value::Value as MjValue;
use minijinja::{Environment, Error as MjError, ErrorKind, UndefinedBehavior};
use rand::Rng;
use regex::Regex;
use std::collections::{BTreeMap, HashSet};
use std::sync::OnceLock;

/// Variables visible to templates, in definition order of their latest value.
pub type Vars = BTreeMap<String, MjValue>;

/// Why a template could not be rendered.
#[derive(Debug, Clone, PartialEq)]
pub struct TemplateError {
    pub message: String,
    /// A piece of the template text the error is about (to put carets under it).
    pub needle: Option<String>,
    pub hint: Option<String>,
}

impl std::fmt::Display for TemplateError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.message)
    }
}

/// `x is defined`, `x is not defined` and `x | default(...)` make an undefined `x` fine.
pub fn guarded(text: &str, name: &str) -> bool {
    let pattern = format!(
        r"\b{}\s+is\s+(not\s+)?defined|\b{}\s*\|\s*(default|d)\b",
        regex::escape(name),
        regex::escape(name)
    );
    regex::Regex::new(&pattern)
        .map(|re| re.is_match(text))
        .unwrap_or(false)
}

/// Names that templates may use without defining them.
pub const BUILTIN_NAMES: &[&str] = &[
    "env",
    "uuid",
    "now",
    "timestamp",
    "timestamp_ms",
    "random_string",
    "random_int",
    "vars",
    "range",
    "dict",
    "namespace",
    "debug",
];

/// Renders templates and evaluates expressions.
pub struct Templater {
    env: Environment<'static>,
    /// For conditions: attributes missing from a value are undefined rather than errors
    /// (top-level variables are still checked first, see [`Templater::eval_condition`]).
    lenient: Environment<'static>,
}

/// The environment every template sees: functions, filters, Python-style methods.
fn environment(undefined: UndefinedBehavior) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(undefined);
    env.set_keep_trailing_newline(true);
    // Python string/dict methods (`startswith`, `split`, `items`, ...) that Jinja users expect.
    env.set_unknown_method_callback(minijinja_contrib::pycompat::unknown_method_callback);
    env.add_function("env", fn_env);
    env.add_function("uuid", || uuid::Uuid::new_v4().to_string());
    env.add_function("now", || {
        chrono::Utc::now()
            .format("%Y-%m-%dT%H:%M:%S%.3fZ")
            .to_string()
    });
    env.add_function("timestamp", || chrono::Utc::now().timestamp());
    env.add_function("timestamp_ms", || chrono::Utc::now().timestamp_millis());
    env.add_function("random_string", fn_random_string);
    env.add_function("random_int", fn_random_int);
    env.add_filter("b64encode", filter_b64encode);
    env.add_filter("b64decode", filter_b64decode);
    env.add_filter("urldecode", filter_urldecode);
    env
}

impl Default for Templater {
    fn default() -> Self {
        Self::new()
    }
}

impl Templater {
    pub fn new() -> Self {
        Templater {
            env: environment(UndefinedBehavior::Strict),
            lenient: environment(UndefinedBehavior::Chainable),
        }
    }

    /// Renders a template string.
    pub fn render_str(&self, template: &str, vars: &Vars) -> Result<String, TemplateError> {
        if !template.contains("{{") && !template.contains("{%") && !template.contains("{#") {
            return Ok(template.to_owned());
        }
        postman_spelling(template)?;
        self.env
            .render_str(template, Ctx(vars))
            .map_err(|e| self.explain(e, template, vars))
    }

    /// Renders a template string; if it is exactly one `{{ expr }}`, the result keeps the
    /// expression's type (numbers stay numbers).
    pub fn render_typed(&self, template: &str, vars: &Vars) -> Result<MjValue, TemplateError> {
        match single_expression(template) {
            Some(expr) => {
                postman_spelling(template)?;
                self.eval(expr, vars)
            }
            None => self.render_str(template, vars).map(MjValue::from),
        }
    }

    /// Evaluates an expression (no braces), e.g. `response.status == 200`.
    pub fn eval(&self, expr: &str, vars: &Vars) -> Result<MjValue, TemplateError> {
        let compiled = self
            .env
            .compile_expression(expr)
            .map_err(|e| syntax_error(e, expr))?;
        let value = compiled
            .eval(Ctx(vars))
            .map_err(|e| self.explain(e, expr, vars))?;
        // An expression that is only a name (or an attribute of one) evaluates to undefined
        // instead of failing, even in strict mode: make it the error strict mode promises.
        if value.is_undefined() {
            if let Some(name) = self.missing_variables(expr, vars).first() {
                return Err(TemplateError {
                    message: format!("undefined variable `{name}`"),
                    needle: Some(name.clone()),
                    hint: Some(undefined_hint(name, vars)),
                });
            }
            return Err(TemplateError {
                message: format!("`{}` is undefined", expr.trim()),
                needle: Some(expr.trim().to_owned()),
                hint: Some(
                    "a key or attribute is missing from the value; use `x is defined` or `x | default(...)` to allow it"
                        .into(),
                ),
            });
        }
        Ok(value)
    }

    /// Evaluates an expression that must give `true` or `false`.
    pub fn eval_bool(&self, expr: &str, vars: &Vars) -> Result<bool, TemplateError> {
        let value = self.eval(expr, vars)?;
        match value.kind() {
            minijinja::value::ValueKind::Bool => Ok(value.is_true()),
            _ => Err(not_boolean(&value)),
        }
    }

    /// Evaluates a condition (`when`, poll conditions, `expect.that`): like [`eval_bool`],
    /// except that a key or attribute missing from a value that exists — a field the response
    /// lacks, such as `response.json.error` on a 500 page — is undefined instead of an error:
    /// `response.json.error == 'x'` is false, `!= 'x'` is true, `is defined` tells. Undefined
    /// variables, syntax errors and non-boolean results stay errors.
    ///
    /// [`eval_bool`]: Templater::eval_bool
    pub fn eval_condition(&self, expr: &str, vars: &Vars) -> Result<bool, TemplateError> {
        let as_bool = |value: MjValue| match value.kind() {
            minijinja::value::ValueKind::Bool => Ok(value.is_true()),
            minijinja::value::ValueKind::Undefined => Ok(false),
            _ => Err(not_boolean(&value)),
        };
        let compiled = self
            .env
            .compile_expression(expr)
            .map_err(|e| syntax_error(e, expr))?;
        match compiled.eval(Ctx(vars)) {
            Ok(value) => as_bool(value),
            // Strict first, so an undefined variable on a branch that runs is an error; when
            // only an attribute is missing, evaluate again with missing attributes undefined.
            Err(e)
                if e.kind() == ErrorKind::UndefinedError
                    && self
                        .missing_variables(expr, vars)
                        .iter()
                        .all(|name| guarded(expr, name)) =>
            {
                let lenient = self
                    .lenient
                    .compile_expression(expr)
                    .map_err(|e| syntax_error(e, expr))?;
                match lenient.eval(Ctx(vars)) {
                    Ok(value) => as_bool(value),
                    Err(e) => Err(self.explain(e, expr, vars)),
                }
            }
            Err(e) => Err(self.explain(e, expr, vars)),
        }
    }

    /// Checks the syntax of a template and returns the variables it reads.
    pub fn template_variables(&self, template: &str) -> Result<HashSet<String>, TemplateError> {
        postman_spelling(template)?;
        let env: &Environment<'_> = &self.env;
        let compiled = env
            .template_from_str(template)
            .map_err(|e| syntax_error(e, template))?;
        Ok(compiled.undeclared_variables(false))
    }

    /// Checks the syntax of an expression and returns the variables it reads.
    pub fn expression_variables(&self, expr: &str) -> Result<HashSet<String>, TemplateError> {
        let compiled = self
            .env
            .compile_expression(expr)
            .map_err(|e| syntax_error(e, expr))?;
        Ok(compiled.undeclared_variables(false))
    }

    /// Turns a minijinja error into one that names what went wrong.
    fn explain(&self, err: MjError, source: &str, vars: &Vars) -> TemplateError {
        if err.kind() == ErrorKind::SyntaxError {
            return syntax_error(err, source);
        }
        let region = err.range().and_then(|r| source.get(r)).map(str::to_owned);
        if err.kind() == ErrorKind::UndefinedError {
            if let Some(name) = self.missing_variables(source, vars).first() {
                return TemplateError {
                    message: format!("undefined variable `{name}`"),
                    needle: Some(name.clone()),
                    hint: Some(undefined_hint(name, vars)),
                };
            }
            let what = region.clone().unwrap_or_else(|| source.to_owned());
            return TemplateError {
                message: format!("`{}` is undefined", what.trim()),
                needle: region,
                hint: Some(
                    "a key or attribute is missing from the value; use `x is defined` or `x | default(...)` to allow it"
                        .into(),
                ),
            };
        }
        let detail = err
            .detail()
            .map(str::to_owned)
            .unwrap_or_else(|| err.kind().to_string());
        TemplateError {
            message: format!("template error: {detail}"),
            needle: region,
            hint: None,
        }
    }
}

impl Templater {
    /// The variables a template or expression reads that are neither defined nor built in,
    /// sorted.
    fn missing_variables(&self, source: &str, vars: &Vars) -> Vec<String> {
        let used = if single_expression(source).is_some() || !source.contains("{{") {
            self.env
                .compile_expression(single_expression(source).unwrap_or(source))
                .map(|e| e.undeclared_variables(false))
                .unwrap_or_default()
        } else {
            self.template_variables(source).unwrap_or_default()
        };
        let mut missing: Vec<String> = used
            .into_iter()
            .filter(|v| !vars.contains_key(v.as_str()) && !BUILTIN_NAMES.contains(&v.as_str()))
            .collect();
        missing.sort();
        missing
    }
}

fn not_boolean(value: &MjValue) -> TemplateError {
    TemplateError {
        message: format!("expected a true/false expression, it gave `{value}`"),
        needle: None,
        hint: Some("compare with `==`, `!=`, `<`, `in`, ... to get a boolean".into()),
    }
}

/// The context of a render: the variables, plus `vars` (all of them as a map, for names that
/// are not identifiers such as `base-url`).
struct Ctx<'a>(&'a Vars);

impl serde::Serialize for Ctx<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let mut map = s.serialize_map(Some(self.0.len() + 1))?;
        for (k, v) in self.0 {
            map.serialize_entry(k, v)?;
        }
        if !self.0.contains_key("vars") {
            map.serialize_entry("vars", self.0)?;
        }
        map.end()
    }
}

/// `{{ expr }}` and nothing else: returns `expr`.
pub fn single_expression(template: &str) -> Option<&str> {
    let inner = template.strip_prefix("{{")?.strip_suffix("}}")?;
    let inner = inner.strip_prefix('-').unwrap_or(inner);
    let inner = inner.strip_suffix('-').unwrap_or(inner);
    if inner.contains("{{") || inner.contains("}}") || inner.contains("{%") {
        return None;
    }
    Some(inner.trim())
}

fn syntax_error(err: MjError, source: &str) -> TemplateError {
    // The region minijinja names (often just `}}`) may occur earlier in the text too; the
    // whole `{{ ... }}` or `{% ... %}` block it closes is what carets should sit under.
    let region = err
        .range()
        .and_then(|r| {
            let head = source.get(..r.start)?;
            let open = match (head.rfind("{{"), head.rfind("{%")) {
                (Some(a), Some(b)) => Some(a.max(b)),
                (a, b) => a.or(b),
            };
            source.get(open.unwrap_or(r.start)..r.end)
        })
        .filter(|s| !s.is_empty())
        .map(str::to_owned);
    let detail = err
        .detail()
        .map(str::to_owned)
        .unwrap_or_else(|| err.kind().to_string());
    TemplateError {
        message: format!("template syntax error: {detail}"),
        needle: region,
        hint: Some("templates use minijinja (Jinja2) syntax: `{{ variable }}`, `{{ value | filter }}`, `{{ function() }}`".into()),
    }
}

fn undefined_hint(name: &str, vars: &Vars) -> String {
    let close = vars
        .keys()
        .map(|k| (strsim::jaro_winkler(k, name), k))
        .filter(|(s, _)| *s > 0.85)
        .max_by(|a, b| a.0.total_cmp(&b.0));
    match close {
        Some((_, k)) => format!("did you mean `{k}`?"),
        None => "define it in `vars`, capture it in an earlier step, or pass it with `--var`, `--env` or `STEPWISE_VAR_<name>`".into(),
    }
}

/// Postman writes `{{$timestamp}}` and `{{base-url}}`; neither is Jinja.
fn postman_spelling(template: &str) -> Result<(), TemplateError> {
    static DYNAMIC: OnceLock<Regex> = OnceLock::new();
    static DASHED: OnceLock<Regex> = OnceLock::new();
    let dynamic = DYNAMIC.get_or_init(|| {
        Regex::new(r"\{\{\s*\$([A-Za-z]+)\s*\}\}").unwrap_or_else(|_| unreachable!())
    });
    let dashed = DASHED.get_or_init(|| {
        Regex::new(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:-[A-Za-z0-9_]+)+)\s*\}\}")
            .unwrap_or_else(|_| unreachable!())
    });
    if let Some(c) = dynamic.captures(template) {
        let name = &c[1];
        let replacement = postman_dynamic(name);
        return Err(TemplateError {
            message: format!("`{}` is Postman syntax, not a stepwise template", &c[0]),
            needle: Some(c[0].to_owned()),
            hint: Some(match replacement {
                Some(r) => format!("write `{{{{ {r} }}}}`"),
                None => "stepwise functions: `uuid()`, `now()`, `timestamp()`, `random_int(a, b)`, `random_string(n)`".into(),
            }),
        });
    }
    if let Some(c) = dashed.captures(template) {
        let name = &c[1];
        return Err(TemplateError {
            message: format!("`{}` is Postman syntax: `-` is subtraction in a template", &c[0]),
            needle: Some(c[0].to_owned()),
            hint: Some(format!(
                "write `{{{{ vars[\"{name}\"] }}}}`, or rename the variable with `_`; for a subtraction put spaces around `-`"
            )),
        });
    }
    Ok(())
}

/// The stepwise spelling of a Postman dynamic variable (`$timestamp` without the `$`): an
/// expression to put inside `{{ }}`. Used for the hint on Postman spellings and by
/// `stepwise import postman`. Postman's fake-data variables (`$randomCity`, ...) have no
/// equivalent.
pub fn postman_dynamic(name: &str) -> Option<&'static str> {
    Some(match name {
        "timestamp" => "timestamp()",
        "isoTimestamp" => "now()",
        "guid" | "randomUUID" => "uuid()",
        "randomInt" => "random_int(0, 1000)",
        "randomAlphaNumeric" => "random_string(1)",
        "randomPassword" => "random_string(16)",
        "randomBoolean" => "random_int(0, 1) == 1",
        "randomUserName" => "random_string(10) | lower",
        "randomEmail" | "randomExampleEmail" => "(random_string(10) | lower) ~ '@example.com'",
        _ => return None,
    })
}

fn fn_env(name: String, default: Option<MjValue>) -> Result<MjValue, MjError> {
    match std::env::var(&name) {
        Ok(v) => Ok(MjValue::from(v)),
        Err(_) => default.ok_or_else(|| {
            MjError::new(
                ErrorKind::InvalidOperation,
                format!("environment variable `{name}` is not set (give a default: env(\"{name}\", \"...\"))"),
            )
        }),
    }
}

fn fn_random_string(len: Option<u32>) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    let mut rng = rand::rng();
    (0..len.unwrap_or(16).min(4096))
        .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
        .collect()
}

fn fn_random_int(low: i64, high: i64) -> Result<i64, MjError> {
    if low > high {
        return Err(MjError::new(
            ErrorKind::InvalidOperation,
            format!("random_int({low}, {high}): the first bound must not exceed the second"),
        ));
    }
    Ok(rand::rng().random_range(low..=high))
}

fn filter_b64encode(value: String) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(value)
}

fn filter_b64decode(value: String) -> Result<String, MjError> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(value.trim())
        .or_else(|_| base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(value.trim()))
        .map_err(|e| MjError::new(ErrorKind::InvalidOperation, format!("not base64: {e}")))?;
    String::from_utf8(bytes).map_err(|_| {
        MjError::new(
            ErrorKind::InvalidOperation,
            "decoded base64 is not UTF-8 text",
        )
    })
}

fn filter_urldecode(value: String) -> String {
    percent_encoding::percent_decode_str(&value.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars(pairs: &[(&str, MjValue)]) -> Vars {
        pairs
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect()
    }

    #[test]
    fn single_expression_keeps_type() {
        let t = Templater::new();
        let v = vars(&[("n", MjValue::from(5))]);
        let out = t.render_typed("{{ n }}", &v).unwrap();
        assert_eq!(out, MjValue::from(5));
        let out = t.render_typed("n={{ n }}", &v).unwrap();
        assert_eq!(out, MjValue::from("n=5"));
    }

    #[test]
    fn a_single_expression_over_an_undefined_name_is_an_error() {
        let t = Templater::new();
        let v = vars(&[(
            "user",
            MjValue::from_serialize(serde_json::json!({"name": "a"})),
        )]);
        let err = t.render_typed("{{ widgt }}", &v).unwrap_err();
        assert_eq!(err.message, "undefined variable `widgt`");
        let err = t.render_typed("{{ user.nmae }}", &v).unwrap_err();
        assert_eq!(err.message, "`user.nmae` is undefined");
        assert_eq!(
            t.render_typed("{{ user.nmae | default('x') }}", &v)
                .unwrap(),
            MjValue::from("x")
        );
    }

    #[test]
    fn undefined_variable_is_named() {
        let t = Templater::new();
        let v = vars(&[("base", MjValue::from("http://x"))]);
        let err = t.render_str("{{ base }}/{{ missing }}", &v).unwrap_err();
        assert_eq!(err.message, "undefined variable `missing`");
        assert_eq!(err.needle.as_deref(), Some("missing"));
    }

    #[test]
    fn postman_spellings_get_a_hint() {
        let t = Templater::new();
        let err = t.render_str("App{{$timestamp}}", &Vars::new()).unwrap_err();
        assert!(err.hint.unwrap().contains("timestamp()"));
        let err = t.render_str("{{base-url}}/x", &Vars::new()).unwrap_err();
        assert!(err.hint.unwrap().contains("vars[\"base-url\"]"));
    }

    #[test]
    fn functions_and_filters() {
        let t = Templater::new();
        let v = Vars::new();
        assert_eq!(t.render_str("{{ 'a:b' | b64encode }}", &v).unwrap(), "YTpi");
        assert_eq!(
            t.render_str("{{ random_string(7) | length }}", &v).unwrap(),
            "7"
        );
        assert_eq!(
            t.render_str("{{ 'a b' | urlencode }}", &v).unwrap(),
            "a%20b"
        );
        assert_eq!(
            t.render_str("{{ {'a': 1} | tojson }}", &v).unwrap(),
            "{\"a\":1}"
        );
        let ts: i64 = t
            .render_str("{{ timestamp() }}", &v)
            .unwrap()
            .parse()
            .unwrap();
        assert!(ts > 1_700_000_000);
        assert!(uuid::Uuid::parse_str(&t.render_str("{{ uuid() }}", &v).unwrap()).is_ok());
    }

    #[test]
    fn conditions_tolerate_missing_keys_but_not_missing_variables() {
        let t = Templater::new();
        let v = vars(&[("r", MjValue::from_serialize(serde_json::json!({"a": 1})))]);
        assert!(!t.eval_condition("r.error == 'x'", &v).unwrap());
        assert!(t.eval_condition("r.error != 'x'", &v).unwrap());
        assert!(!t.eval_condition("r.error is defined", &v).unwrap());
        assert!(t.eval_condition("r.a == 1", &v).unwrap());
        assert!(!t.eval_condition("r.b.c == 1", &v).unwrap());
        let err = t.eval_condition("missing == 1", &v).unwrap_err();
        assert_eq!(err.message, "undefined variable `missing`");
        assert!(t.eval_condition("r.a", &v).is_err());
        assert!(!t.eval_condition("missing is defined", &v).unwrap());
        assert!(t.eval_condition("missing is not defined", &v).unwrap());
    }

    #[test]
    fn conditions_treat_a_missing_field_as_false() {
        let t = Templater::new();
        let v = vars(&[("r", MjValue::from_serialize(serde_json::json!({"a": 1})))]);
        assert_eq!(t.eval_condition("r.a == 1", &v), Ok(true));
        assert_eq!(t.eval_condition("r.b == 1", &v), Ok(false));
        assert_eq!(t.eval_condition("r.b.c == 1", &v), Ok(false));
        assert_eq!(t.eval_condition("r.b is not defined", &v), Ok(true));
        // Undefined variables and non-booleans stay errors.
        let err = t.eval_condition("nope == 1", &v).unwrap_err();
        assert_eq!(err.message, "undefined variable `nope`");
        assert!(t.eval_condition("r.a", &v).is_err());
        // Plain evaluation stays strict.
        assert!(t.eval_bool("r.b == 1", &v).is_err());
    }

    #[test]
    fn a_syntax_error_names_its_whole_block() {
        let t = Templater::new();
        let v = vars(&[("base", MjValue::from("http://x"))]);
        let err = t.render_str("{{ base }}/items/{{ 1 + }}", &v).unwrap_err();
        assert_eq!(err.needle.as_deref(), Some("{{ 1 + }}"));
    }

    #[test]
    fn lists_variables() {
        let t = Templater::new();
        let used = t
            .template_variables("{{ a }}-{{ b.c }}{% if d %}x{% endif %}")
            .unwrap();
        let mut used: Vec<_> = used.into_iter().collect();
        used.sort();
        assert_eq!(used, vec!["a", "b", "d"]);
    }
}
