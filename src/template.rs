//! Templating: minijinja with strict undefined, the functions scenario authors expect, and
//! errors that name the variable at fault. Knows nothing of YAML positions; callers attach
//! the span of the value that held the template.

use minijinja::value::Value as MjValue;
use minijinja::{Environment, Error as MjError, ErrorKind, Expression, UndefinedBehavior};
use rand::Rng;
use regex::Regex;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::{Arc, OnceLock, RwLock};

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
    env: &'static Environment<'static>,
    /// For conditions: attributes missing from a value are undefined rather than errors
    /// (top-level variables are still checked first, see [`Templater::eval_condition`]).
    lenient: &'static Environment<'static>,
    /// What this templater compiled, by source, to render it again without compiling.
    compiled: Compiled,
}

/// Expressions compiled once, and templates split once into text and compiled expressions,
/// by their source text.
///
/// Why: minijinja's `render_str` and `compile_expression` parse and compile their source on
/// every call, while a scenario renders the same few templates on every step, poll attempt
/// and run; compiling was about a fifth of the instructions of a chained step's own work
/// (callgrind, docs/performance.md). Each map keeps at most [`COMPILED_LIMIT`] sources, so a
/// process that renders endless distinct sources still has a bounded cache.
#[derive(Default)]
struct Compiled {
    expressions: RwLock<HashMap<String, Arc<Expression<'static, 'static>>>>,
    /// `None`: not only text and `{{ expr }}` blocks; minijinja renders it each time.
    templates: RwLock<HashMap<String, Option<Arc<[Piece]>>>>,
}

/// How many sources each map of [`Compiled`] keeps.
const COMPILED_LIMIT: usize = 10_000;

/// A part of a template made only of text and `{{ expr }}` blocks.
enum Piece {
    Text(String),
    /// `{{ name }}`, the most common block: read from the variables, without a VM.
    Name(String),
    Expr(Arc<Expression<'static, 'static>>),
}

/// A piece of a template's text, before compiling.
enum Part<'a> {
    Text(&'a str),
    Expr(&'a str),
}

/// How many minijinja instructions one render or evaluation may run. Scenario templates are
/// a few dozen instructions (a loop over a 100,000-item capture stays far below); without a
/// budget, `{% for a in range(99999) %}{% for b in range(99999) %}` runs for hours, and a
/// run must end. Past it, the render fails with a message naming the budget.
pub const TEMPLATE_FUEL: u64 = 10_000_000;

/// The environment every template sees: functions, filters, Python-style methods.
fn environment(undefined: UndefinedBehavior) -> Environment<'static> {
    let mut env = Environment::new();
    env.set_undefined_behavior(undefined);
    env.set_fuel(Some(TEMPLATE_FUEL));
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

/// The strict environment, built once per process: it never changes, and a compiled
/// expression borrows its environment, so a `'static` one lets [`Compiled`] keep expressions.
fn strict_environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| environment(UndefinedBehavior::Strict))
}

/// The lenient environment (see [`Templater::eval_condition`]), built once per process.
fn lenient_environment() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| environment(UndefinedBehavior::Chainable))
}

impl Templater {
    pub fn new() -> Self {
        Templater {
            env: strict_environment(),
            lenient: lenient_environment(),
            compiled: Compiled::default(),
        }
    }

    /// Renders a template string.
    pub fn render_str(&self, template: &str, vars: &Vars) -> Result<String, TemplateError> {
        if !template.contains("{{") && !template.contains("{%") && !template.contains("{#") {
            return Ok(template.to_owned());
        }
        // A template seen before passed the Postman check then (it depends on the text only).
        let known = read(&self.compiled.templates).get(template).cloned();
        let pieces = match known {
            Some(pieces) => pieces,
            None => {
                postman_spelling(template)?;
                self.pieces(template)
            }
        };
        if let Some(text) = pieces.and_then(|p| self.render_pieces(&p, template.len(), vars)) {
            return Ok(text);
        }
        self.env
            .render_str(template, Ctx(vars))
            .map_err(|e| self.explain(e, template, vars))
    }

    /// Renders a template made only of text and `{{ expr }}` blocks from its compiled
    /// expressions, as minijinja would (without auto-escaping, `{{ value }}` writes the value's
    /// `Display`). `None` for a template of another kind, and whenever an expression fails or
    /// is undefined: `render_str` then lets minijinja render it, with the exact output or
    /// error it always gave.
    fn render_pieces(&self, pieces: &[Piece], len: usize, vars: &Vars) -> Option<String> {
        use std::fmt::Write as _;
        // One context for every expression of the template, as a render has; none when
        // every block is a bare name.
        let mut ctx = None;
        let mut out = String::with_capacity(len + 32);
        for piece in pieces.iter() {
            match piece {
                Piece::Text(text) => out.push_str(text),
                Piece::Name(name) => {
                    // Not a variable: a global, `vars`, or an error; minijinja says which.
                    let value = vars.get(name)?;
                    if value.is_undefined() {
                        return None;
                    }
                    write!(out, "{value}").ok()?;
                }
                Piece::Expr(expr) => {
                    let ctx = ctx.get_or_insert_with(|| MjValue::from_serialize(Ctx(vars)));
                    let value = expr.eval(&*ctx).ok()?;
                    if value.is_undefined() {
                        return None;
                    }
                    write!(out, "{value}").ok()?;
                }
            }
        }
        Some(out)
    }

    /// Splits and compiles a template not seen before, and keeps the result (`None`: not only
    /// text and `{{ expr }}` blocks).
    fn pieces(&self, template: &str) -> Option<Arc<[Piece]>> {
        let pieces = split_simple(template).and_then(|parts| {
            parts
                .into_iter()
                .map(|part| match part {
                    Part::Text(text) => Some(Piece::Text(text.to_owned())),
                    Part::Expr(expr) => match bare_name(expr) {
                        Some(name) => Some(Piece::Name(name.to_owned())),
                        None => self.expression(expr).ok().map(Piece::Expr),
                    },
                })
                .collect::<Option<Vec<_>>>()
                .map(Arc::from)
        });
        let mut templates = write(&self.compiled.templates);
        if templates.len() < COMPILED_LIMIT {
            templates.insert(template.to_owned(), pieces.clone());
        }
        pieces
    }

    /// `expr` compiled with the strict environment, once.
    fn expression(&self, expr: &str) -> Result<Arc<Expression<'static, 'static>>, MjError> {
        let known = read(&self.compiled.expressions).get(expr).cloned();
        if let Some(compiled) = known {
            return Ok(compiled);
        }
        let compiled = Arc::new(compile_expression_owned(self.env, expr)?);
        let mut expressions = write(&self.compiled.expressions);
        if expressions.len() < COMPILED_LIMIT {
            expressions.insert(expr.to_owned(), compiled.clone());
        }
        Ok(compiled)
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
        // A bare name of a variable is that variable's value (what minijinja's VM would look
        // up first), without building a context and a VM for it.
        if let Some(value) = bare_name(expr).and_then(|name| vars.get(name)) {
            if !value.is_undefined() {
                return Ok(value.clone());
            }
        }
        let compiled = self.expression(expr).map_err(|e| syntax_error(e, expr))?;
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
        let compiled = self.expression(expr).map_err(|e| syntax_error(e, expr))?;
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
                let lenient =
                    compile_expression(self.lenient, expr).map_err(|e| syntax_error(e, expr))?;
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
        let env: &Environment<'_> = self.env;
        let compiled = env
            .template_from_str(template)
            .map_err(|e| syntax_error(e, template))?;
        Ok(compiled.undeclared_variables(false))
    }

    /// Checks the syntax of an expression and returns the variables it reads.
    pub fn expression_variables(&self, expr: &str) -> Result<HashSet<String>, TemplateError> {
        let compiled = compile_expression(self.env, expr).map_err(|e| syntax_error(e, expr))?;
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
        if err.kind() == ErrorKind::OutOfFuel {
            return TemplateError {
                message: format!(
                    "the template ran more than {TEMPLATE_FUEL} instructions and was stopped"
                ),
                needle: region,
                hint: Some("a loop over a very long range, or loops nested too deep?".into()),
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
            compile_expression(self.env, single_expression(source).unwrap_or(source))
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

/// `env.compile_expression(expr)`, except for an expression with `}}` outside its string
/// literals: minijinja 2.24's lexer panics ("empty lexer stack") on `}}` followed by more
/// text in an expression, and a condition written like a template, `{{ a }} and {{ b }}`,
/// is just that once its outer braces are stripped. Found by the `template` fuzz target.
fn compile_expression<'s>(
    env: &'s Environment<'static>,
    expr: &'s str,
) -> Result<minijinja::Expression<'s, 's>, MjError> {
    if closes_a_block(expr) {
        return Err(MjError::new(ErrorKind::SyntaxError, BRACES_IN_EXPRESSION));
    }
    env.compile_expression(expr)
}

/// [`compile_expression`] for an expression kept beyond `expr`'s lifetime (the same check).
fn compile_expression_owned(
    env: &'static Environment<'static>,
    expr: &str,
) -> Result<Expression<'static, 'static>, MjError> {
    if closes_a_block(expr) {
        return Err(MjError::new(ErrorKind::SyntaxError, BRACES_IN_EXPRESSION));
    }
    env.compile_expression_owned(expr.to_owned())
}

/// Splits a template made only of text and `{{ expr }}` blocks; `None` for any other:
/// statements or comments, whitespace control (`{{-`, `-}}`), or braces or quotes inside a
/// block (which minijinja's lexer reads in ways a plain scan does not).
fn split_simple(template: &str) -> Option<Vec<Part<'_>>> {
    let mut parts = Vec::new();
    let mut rest = template;
    while let Some(open) = rest.find("{{") {
        let text = &rest[..open];
        if text.contains("{%") || text.contains("{#") {
            return None;
        }
        let after = &rest[open + 2..];
        let close = after.find("}}")?;
        let expr = &after[..close];
        let bad_char = |c: char| matches!(c, '{' | '}' | '\'' | '"');
        if expr.contains(bad_char)
            || expr.trim().is_empty()
            || expr.starts_with(['-', '+'])
            || expr.ends_with(['-', '+'])
        {
            return None;
        }
        if !text.is_empty() {
            parts.push(Part::Text(text));
        }
        parts.push(Part::Expr(expr));
        rest = &after[close + 2..];
    }
    if rest.contains("{%") || rest.contains("{#") {
        return None;
    }
    if !rest.is_empty() {
        parts.push(Part::Text(rest));
    }
    Some(parts)
}

/// `expr` when it is a bare variable name (ASCII, not a word with a meaning of its own).
fn bare_name(expr: &str) -> Option<&str> {
    /// Literals to the lexer, and names minijinja gives a meaning in some places.
    const SPECIAL: &[&str] = &[
        "true", "false", "none", "True", "False", "None", "loop", "self", "super", "caller",
        "varargs", "kwargs",
    ];
    let name = expr.trim();
    let mut chars = name.chars();
    let first = chars.next()?;
    let is_name = (first.is_ascii_alphabetic() || first == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    (is_name && !SPECIAL.contains(&name)).then_some(name)
}

fn read<T>(lock: &RwLock<T>) -> std::sync::RwLockReadGuard<'_, T> {
    lock.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T>(lock: &RwLock<T>) -> std::sync::RwLockWriteGuard<'_, T> {
    lock.write().unwrap_or_else(|e| e.into_inner())
}

/// Why an expression with `}}` in it is refused.
const BRACES_IN_EXPRESSION: &str = "`}}` inside an expression: conditions and `that` take a bare expression (`a and b`), not templates (`{{ a }} and {{ b }}`)";

/// Whether `expr` holds `}}` outside a string literal.
fn closes_a_block(expr: &str) -> bool {
    let mut quote = None;
    let mut chars = expr.chars().peekable();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(_), '\\') => {
                chars.next();
            }
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '}') if chars.peek() == Some(&'}') => return true,
            (None, _) => {}
        }
    }
    false
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
        hint: Some(if detail.starts_with(BRACES_IN_EXPRESSION) {
            "write it without the inner braces, e.g. `ready and count > 2`".into()
        } else {
            "templates use minijinja (Jinja2) syntax: `{{ variable }}`, `{{ value | filter }}`, `{{ function() }}`".into()
        }),
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
    fn a_template_that_loops_too_long_runs_out_of_fuel() {
        let t = Templater::new();
        let started = std::time::Instant::now();
        let err = t
            .render_str(
                "{% for a in range(99999) %}{% for b in range(99999) %}x{% endfor %}{% endfor %}",
                &Vars::new(),
            )
            .unwrap_err();
        assert!(
            err.message.contains("instructions and was stopped"),
            "{err:?}"
        );
        assert!(started.elapsed() < std::time::Duration::from_secs(60));
        // A long but reasonable loop stays within the budget.
        let out = t
            .render_str(
                "{% for a in range(50000) %}{{ a }}{% endfor %}",
                &Vars::new(),
            )
            .unwrap();
        assert!(out.ends_with("49999"));
    }

    #[test]
    fn a_template_written_as_a_condition_is_a_syntax_error_not_a_panic() {
        // Fuzz crash (template target, and loader via validate): minijinja's lexer panicked
        // on `}}` followed by more text in an expression.
        let t = Templater::new();
        let v = vars(&[("a", MjValue::from(true)), ("b", MjValue::from(1))]);
        for expr in [
            "a }} and {{ b",
            "json.missifg2x == 0 }} \0\0\0\0\0\0\0\0\0\0n is defined",
            "a -}} x",
            "}}}}",
        ] {
            let err = t.eval_condition(expr, &v).unwrap_err();
            assert!(
                err.message
                    .starts_with("template syntax error: `}}` inside an expression"),
                "{expr}: {err:?}"
            );
            assert!(t.eval(expr, &v).is_err());
            assert!(t.eval_bool(expr, &v).is_err());
            assert!(t.expression_variables(expr).is_err());
            // As a template, it is text around expressions: no panic there either.
            let _ = t.render_typed(&format!("{{{{ {expr} }}}}"), &v);
        }
        // `}}` inside a string is just text.
        assert!(t
            .eval_condition("'}}' != 'x }} y' and \"}}\" == '}}'", &v)
            .unwrap());
        assert!(t.eval_condition(r"'it\'s }}' == 'it\'s }}'", &v).unwrap());
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
