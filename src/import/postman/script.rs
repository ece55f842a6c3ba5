//! Postman scripts → stepwise: the common idioms of test scripts become captures and
//! assertions, pre-request scripts that only set variables become `vars`. Whatever is not
//! recognised is given back line by line, so that it can be kept as a comment and reported.

use super::js::{self, format_number, Expr, Stmt, StmtKind};
use super::placeholders::{escape_literal, Converter};
use std::collections::{BTreeSet, HashMap};

/// When a script runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Phase {
    PreRequest,
    Test,
}

/// A translated script.
#[derive(Debug, Default)]
pub(super) struct Translated {
    pub actions: Vec<Action>,
    /// The lines that were not translated, trimmed, in order.
    pub untranslated: Vec<String>,
}

/// Something a script does, in stepwise terms, with the script text it came from.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Action {
    pub kind: ActionKind,
    pub source: String,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum ActionKind {
    Capture(String, CaptureSpec),
    Status(Vec<StatusPattern>),
    Header(String, Op),
    JsonPath(String, Op),
    Body(Op),
    DurationMs(f64),
    That(String),
    Var(String, Val),
}

/// A value: JSON (strings are literal text) or a stepwise template.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Val {
    Json(serde_json::Value),
    /// A template and the Postman variables it reads.
    Template(String, BTreeSet<String>),
}

impl Val {
    /// The value as template text, as JavaScript would turn it into a string.
    fn template_text(&self) -> Option<String> {
        use serde_json::Value as J;
        match self {
            Val::Template(t, _) => Some(t.clone()),
            Val::Json(J::String(s)) => Some(escape_literal(s)),
            Val::Json(J::Number(n)) => Some(format_number(n.as_f64()?)),
            Val::Json(J::Bool(b)) => Some(b.to_string()),
            Val::Json(J::Null) => Some("null".into()),
            Val::Json(_) => None,
        }
    }

    fn refs(&self) -> BTreeSet<String> {
        match self {
            Val::Template(_, r) => r.clone(),
            Val::Json(_) => BTreeSet::new(),
        }
    }

    /// JavaScript's `a + b` for two known values.
    fn plus(&self, other: &Val) -> Option<Val> {
        use serde_json::Value as J;
        if let (Val::Json(J::Number(a)), Val::Json(J::Number(b))) = (self, other) {
            return Some(Val::Json(json_number(a.as_f64()? + b.as_f64()?)));
        }
        if let (Val::Json(J::String(a)), Val::Json(J::String(b))) = (self, other) {
            return Some(Val::Json(J::String(format!("{a}{b}"))));
        }
        let text = format!("{}{}", self.template_text()?, other.template_text()?);
        let mut refs = self.refs();
        refs.extend(other.refs());
        Some(Val::Template(text, refs))
    }
}

fn json_number(n: f64) -> serde_json::Value {
    if n.fract() == 0.0 && n.abs() < 9e15 {
        serde_json::Value::from(n as i64)
    } else {
        serde_json::Number::from_f64(n).map_or(serde_json::Value::Null, serde_json::Value::Number)
    }
}

/// Where a capture reads from, and an optional regex (its first group is kept).
#[derive(Debug, Clone, PartialEq)]
pub(super) struct CaptureSpec {
    pub source: CaptureSource,
    pub regex: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub(super) enum CaptureSource {
    JsonPath(String),
    Header(String),
    Cookie(String),
    Status,
    Body,
}

/// An accepted status or class of statuses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum StatusPattern {
    Exact(u16),
    /// `2xx` is `Class(2)`.
    Class(u16),
}

/// One predicate operator.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Op {
    Equals(Val),
    NotEquals(Val),
    Exists(bool),
    Contains(Val),
    Matches(String),
    Type(&'static str),
    Gt(Val),
    Ge(Val),
    Lt(Val),
    Le(Val),
    Length(Val),
    OneOf(Val),
}

impl Op {
    /// The operator's key in a predicate mapping.
    pub fn key(&self) -> &'static str {
        match self {
            Op::Equals(_) => "equals",
            Op::NotEquals(_) => "not_equals",
            Op::Exists(_) => "exists",
            Op::Contains(_) => "contains",
            Op::Matches(_) => "matches",
            Op::Type(_) => "type",
            Op::Gt(_) => "gt",
            Op::Ge(_) => "ge",
            Op::Lt(_) => "lt",
            Op::Le(_) => "le",
            Op::Length(_) => "length",
            Op::OneOf(_) => "one_of",
        }
    }
}

/// Translates a script (its `exec` lines joined with line breaks).
pub(super) fn translate(source: &str, phase: Phase, conv: &mut Converter) -> Translated {
    let lines: Vec<&str> = source.split('\n').collect();
    let Some(statements) = js::parse_script(source) else {
        return Translated {
            actions: Vec::new(),
            untranslated: lines
                .iter()
                .map(|l| l.trim())
                .filter(|l| !l.is_empty())
                .map(str::to_owned)
                .collect(),
        };
    };
    let mut t = Translator {
        phase,
        conv,
        locals: HashMap::new(),
        lines: &lines,
        state: vec![LineState::Untouched; lines.len()],
        actions: Vec::new(),
    };
    t.statements(&statements);
    let untranslated = lines
        .iter()
        .zip(&t.state)
        .filter(|(_, s)| **s == LineState::Untranslated)
        .map(|(l, _)| l.trim())
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect();
    Translated {
        actions: t.actions,
        untranslated,
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum LineState {
    Untouched,
    /// Part of a `pm.test(...)` wrapper.
    Structure,
    Translated,
    Untranslated,
}

/// What an expression stands for.
#[derive(Debug, Clone, PartialEq)]
enum Src {
    /// `pm.response` itself.
    Response,
    Json(Vec<Seg>),
    /// `.length` of a JSON value.
    Len(Vec<Seg>),
    Text(TextSrc, Vec<TextOp>),
    /// A `.split(...)` or `.match(...)` waiting for its `[k]`.
    Pieces(TextSrc, Vec<TextOp>, Piece),
    /// `new URL(text)` and its `.searchParams`.
    Url(TextSrc, Vec<TextOp>),
    Params(TextSrc, Vec<TextOp>),
    Status,
    ResponseTime,
    Cookie(String),
    /// `new Date()`.
    Date,
    Static(Val),
}

#[derive(Debug, Clone, PartialEq)]
enum Seg {
    Key(String),
    Idx(u64),
}

#[derive(Debug, Clone, PartialEq)]
enum TextSrc {
    Header(String),
    Body,
}

#[derive(Debug, Clone, PartialEq)]
enum TextOp {
    /// `.split(sep)[k]`
    Split(String, usize),
    /// `.match(re)[k]`, `re` already in Rust syntax.
    Match(String, usize),
    /// `new URL(x).searchParams.get(name)`
    Param(String),
}

#[derive(Debug, Clone, PartialEq)]
enum Piece {
    Split(String),
    Match(String),
}

struct Translator<'a, 'c> {
    phase: Phase,
    conv: &'c mut Converter,
    locals: HashMap<String, Src>,
    lines: &'a [&'a str],
    state: Vec<LineState>,
    actions: Vec<Action>,
}

/// What became of a statement.
enum Outcome {
    Actions(Vec<ActionKind>),
    /// `pm.test("name", function () { ... })`: its body is translated on its own.
    Wrapper(Vec<Stmt>),
    No,
}

const SETTERS: &[&str] = &[
    "pm.environment.set",
    "pm.collectionVariables.set",
    "pm.globals.set",
    "pm.variables.set",
    "postman.setEnvironmentVariable",
    "postman.setGlobalVariable",
];

const GETTERS: &[&str] = &[
    "pm.environment.get",
    "pm.collectionVariables.get",
    "pm.globals.get",
    "pm.variables.get",
    "pm.iterationData.get",
    "postman.getEnvironmentVariable",
    "postman.getGlobalVariable",
];

/// Chai's words that only make an assertion read well.
const CHAINS: &[&str] = &[
    "to", "be", "been", "is", "that", "which", "and", "has", "have", "with", "at", "of", "same",
    "but", "does", "still", "deep", "own", "nested", "ordered", "any", "all", "also", "a", "an",
];

impl Translator<'_, '_> {
    fn mark(&mut self, stmt: &Stmt, state: LineState) {
        for l in stmt.first_line..=stmt.last_line.min(self.state.len().saturating_sub(1)) {
            if let Some(s) = self.state.get_mut(l) {
                *s = (*s).max(state);
            }
        }
    }

    fn source(&self, stmt: &Stmt) -> String {
        (stmt.first_line..=stmt.last_line)
            .filter_map(|l| self.lines.get(l))
            .map(|l| l.trim())
            .collect::<Vec<_>>()
            .join(" ")
    }

    fn statements(&mut self, stmts: &[Stmt]) {
        for stmt in stmts {
            match self.statement(stmt) {
                Outcome::Actions(kinds) => {
                    self.mark(stmt, LineState::Translated);
                    let source = self.source(stmt);
                    self.actions.extend(kinds.into_iter().map(|kind| Action {
                        kind,
                        source: source.clone(),
                    }));
                }
                Outcome::Wrapper(body) => {
                    self.mark(stmt, LineState::Structure);
                    self.statements(&body);
                }
                Outcome::No => self.mark(stmt, LineState::Untranslated),
            }
        }
    }

    fn statement(&mut self, stmt: &Stmt) -> Outcome {
        match &stmt.kind {
            StmtKind::Decl(decls) => {
                let mut found = Vec::new();
                for (name, value) in decls {
                    match value {
                        None => {}
                        Some(v) => match self.eval(v) {
                            Some(src) => found.push((name.clone(), src)),
                            None => return Outcome::No,
                        },
                    }
                }
                self.locals.extend(found);
                Outcome::Actions(Vec::new())
            }
            StmtKind::Expr(e) => self.expression_statement(e),
            StmtKind::Assign(target, value) => match (self.phase, target) {
                (Phase::Test, Expr::Index(obj, _)) if **obj == Expr::Ident("tests".into()) => self
                    .legacy_test(value)
                    .map_or(Outcome::No, |k| Outcome::Actions(vec![k])),
                _ => Outcome::No,
            },
            StmtKind::Other => Outcome::No,
        }
    }

    fn expression_statement(&mut self, e: &Expr) -> Outcome {
        if let Expr::Call(callee, args) = e {
            let name = dotted(callee);
            if name.as_deref() == Some("pm.test") && self.phase == Phase::Test {
                if let [_, Expr::Func(body)] = args.as_slice() {
                    return Outcome::Wrapper(body.clone());
                }
                return Outcome::No;
            }
            if name.as_deref().is_some_and(|n| SETTERS.contains(&n)) {
                let [Expr::Str(var), value] = args.as_slice() else {
                    return Outcome::No;
                };
                return self
                    .set(var, value)
                    .map_or(Outcome::No, |k| Outcome::Actions(vec![k]));
            }
        }
        if self.phase == Phase::Test {
            if let Some(kinds) = self.assertion(e) {
                return Outcome::Actions(kinds);
            }
        }
        Outcome::No
    }

    /// `pm.environment.set(name, value)` and its kin.
    fn set(&mut self, var: &str, value: &Expr) -> Option<ActionKind> {
        let src = self.eval(value)?;
        if self.phase == Phase::PreRequest {
            return match src {
                Src::Static(v) => Some(ActionKind::Var(var.to_owned(), v)),
                _ => None,
            };
        }
        let (source, ops) = match src {
            Src::Json(p) => (CaptureSource::JsonPath(jsonpath(&p)), Vec::new()),
            Src::Text(TextSrc::Header(h), ops) => (CaptureSource::Header(h), ops),
            Src::Text(TextSrc::Body, ops) => (CaptureSource::Body, ops),
            Src::Status => (CaptureSource::Status, Vec::new()),
            Src::Cookie(c) => (CaptureSource::Cookie(c), Vec::new()),
            _ => return None,
        };
        let regex = text_regex(&ops)?;
        Some(ActionKind::Capture(
            var.to_owned(),
            CaptureSpec { source, regex },
        ))
    }

    /// What an expression stands for, if this translator knows.
    fn eval(&mut self, e: &Expr) -> Option<Src> {
        use serde_json::Value as J;
        match e {
            Expr::Str(s) => Some(Src::Static(Val::Json(J::String(s.clone())))),
            Expr::Num(n) => Some(Src::Static(Val::Json(json_number(*n)))),
            Expr::Bool(b) => Some(Src::Static(Val::Json(J::Bool(*b)))),
            Expr::Null => Some(Src::Static(Val::Json(J::Null))),
            Expr::Undefined | Expr::Regex { .. } | Expr::Func(_) => None,
            Expr::Array(items) => {
                let mut out = Vec::new();
                for item in items {
                    match self.eval(item)? {
                        Src::Static(Val::Json(v)) => out.push(v),
                        _ => return None,
                    }
                }
                Some(Src::Static(Val::Json(J::Array(out))))
            }
            Expr::Object(pairs) => {
                let mut out = serde_json::Map::new();
                for (k, v) in pairs {
                    match self.eval(v)? {
                        Src::Static(Val::Json(v)) => {
                            out.insert(k.clone(), v);
                        }
                        _ => return None,
                    }
                }
                Some(Src::Static(Val::Json(J::Object(out))))
            }
            Expr::Ident(name) => {
                if let Some(src) = self.locals.get(name) {
                    return Some(src.clone());
                }
                match (self.phase, name.as_str()) {
                    (Phase::Test, "responseBody") => Some(Src::Text(TextSrc::Body, Vec::new())),
                    (Phase::Test, "responseTime") => Some(Src::ResponseTime),
                    _ => None,
                }
            }
            Expr::Unary("-", inner) => match self.eval(inner)? {
                Src::Static(Val::Json(J::Number(n))) => {
                    Some(Src::Static(Val::Json(json_number(-n.as_f64()?))))
                }
                _ => None,
            },
            Expr::Unary(..) => None,
            Expr::Binary("+", a, b) => match (self.eval(a)?, self.eval(b)?) {
                (Src::Static(a), Src::Static(b)) => a.plus(&b).map(Src::Static),
                _ => None,
            },
            Expr::Binary(..) => None,
            Expr::New(name, args) => match (name.as_str(), args.as_slice()) {
                ("Date", []) => Some(Src::Date),
                ("URL", [x]) => match self.eval(x)? {
                    Src::Text(t, ops) => Some(Src::Url(t, ops)),
                    _ => None,
                },
                _ => None,
            },
            Expr::Member(obj, name) => self.member(e, obj, name),
            Expr::Index(obj, index) => self.index(obj, index),
            Expr::Call(callee, args) => self.call(callee, args),
        }
    }

    fn member(&mut self, whole: &Expr, obj: &Expr, name: &str) -> Option<Src> {
        if self.phase == Phase::Test {
            match dotted(whole).as_deref() {
                Some("pm.response") => return Some(Src::Response),
                Some("pm.response.code" | "responseCode.code") => return Some(Src::Status),
                Some("pm.response.responseTime") => return Some(Src::ResponseTime),
                _ => {}
            }
        }
        match self.eval(obj)? {
            Src::Json(mut p) => {
                if name == "length" {
                    return Some(Src::Len(p));
                }
                p.push(Seg::Key(name.to_owned()));
                Some(Src::Json(p))
            }
            Src::Url(t, ops) if name == "searchParams" => Some(Src::Params(t, ops)),
            Src::Static(Val::Json(serde_json::Value::Object(map))) => {
                map.get(name).map(|v| Src::Static(Val::Json(v.clone())))
            }
            _ => None,
        }
    }

    fn index(&mut self, obj: &Expr, index: &Expr) -> Option<Src> {
        use serde_json::Value as J;
        if self.phase == Phase::Test && *obj == Expr::Ident("responseHeaders".into()) {
            if let Src::Static(Val::Json(J::String(h))) = self.eval(index)? {
                return Some(Src::Text(TextSrc::Header(h), Vec::new()));
            }
            return None;
        }
        let base = self.eval(obj)?;
        let key = match self.eval(index)? {
            Src::Static(Val::Json(J::String(k))) => Seg::Key(k),
            Src::Static(Val::Json(J::Number(n))) => Seg::Idx(n.as_u64()?),
            _ => return None,
        };
        match (base, key) {
            (Src::Json(mut p), key) => {
                p.push(key);
                Some(Src::Json(p))
            }
            (Src::Pieces(t, mut ops, piece), Seg::Idx(k)) => {
                let k = usize::try_from(k).ok()?;
                ops.push(match piece {
                    Piece::Split(sep) => TextOp::Split(sep, k),
                    Piece::Match(re) => TextOp::Match(re, k),
                });
                Some(Src::Text(t, ops))
            }
            (Src::Static(Val::Json(J::Array(items))), Seg::Idx(k)) => items
                .get(usize::try_from(k).ok()?)
                .map(|v| Src::Static(Val::Json(v.clone()))),
            (Src::Static(Val::Json(J::Object(map))), Seg::Key(k)) => {
                map.get(&k).map(|v| Src::Static(Val::Json(v.clone())))
            }
            _ => None,
        }
    }

    fn call(&mut self, callee: &Expr, args: &[Expr]) -> Option<Src> {
        use serde_json::Value as J;
        let name = dotted(callee);
        let test = self.phase == Phase::Test;
        match (name.as_deref(), args) {
            (Some("pm.response.json"), []) if test => return Some(Src::Json(Vec::new())),
            (Some("pm.response.text"), []) if test => {
                return Some(Src::Text(TextSrc::Body, Vec::new()))
            }
            (Some("pm.response.headers.get" | "postman.getResponseHeader"), [Expr::Str(h)])
                if test =>
            {
                return Some(Src::Text(TextSrc::Header(h.clone()), Vec::new()))
            }
            (Some("pm.cookies.get"), [Expr::Str(c)]) if test => {
                return Some(Src::Cookie(c.clone()))
            }
            (Some("JSON.parse"), [x]) => {
                return match self.eval(x)? {
                    Src::Text(TextSrc::Body, ops) if ops.is_empty() => Some(Src::Json(Vec::new())),
                    _ => None,
                }
            }
            (Some(getter), [Expr::Str(var)]) if GETTERS.contains(&getter) => {
                let expr = self.conv.var(var);
                return Some(Src::Static(Val::Template(
                    format!("{{{{ {expr} }}}}"),
                    BTreeSet::from([var.clone()]),
                )));
            }
            (Some("pm.variables.replaceIn"), [Expr::Str(text)]) => {
                let template = self.conv.text(text);
                let refs = placeholder_names(text);
                return Some(Src::Static(Val::Template(template, refs)));
            }
            (Some("Date.now"), []) => {
                return Some(Src::Static(Val::Template(
                    "{{ timestamp_ms() }}".into(),
                    BTreeSet::new(),
                )))
            }
            _ => {}
        }
        let Expr::Member(obj, method) = callee else {
            return None;
        };
        let base = self.eval(obj)?;
        match (base, method.as_str(), args) {
            (Src::Text(t, ops), "split", [Expr::Str(sep)]) if !sep.is_empty() => {
                Some(Src::Pieces(t, ops, Piece::Split(sep.clone())))
            }
            (Src::Text(t, ops), "match", [Expr::Regex { pattern, flags }]) => Some(Src::Pieces(
                t,
                ops,
                Piece::Match(rust_regex(pattern, flags)?),
            )),
            (src @ (Src::Text(..) | Src::Json(_) | Src::Static(_)), "toString", []) => Some(src),
            (Src::Date, "toISOString" | "toJSON", []) => Some(Src::Static(Val::Template(
                "{{ now() }}".into(),
                BTreeSet::new(),
            ))),
            (Src::Date, "getTime" | "valueOf", []) => Some(Src::Static(Val::Template(
                "{{ timestamp_ms() }}".into(),
                BTreeSet::new(),
            ))),
            (Src::Params(t, mut ops), "get", [Expr::Str(p)]) => {
                ops.push(TextOp::Param(p.clone()));
                Some(Src::Text(t, ops))
            }
            (Src::Static(Val::Json(J::String(_))), _, _) => None,
            _ => None,
        }
    }

    /// `pm.expect(x).to...` and `pm.response.to...`.
    fn assertion(&mut self, e: &Expr) -> Option<Vec<ActionKind>> {
        let mut links: Vec<(&str, Option<&[Expr]>)> = Vec::new();
        let mut cur = e;
        let subject = loop {
            match cur {
                Expr::Call(callee, args) => {
                    if dotted(callee).as_deref() == Some("pm.expect") {
                        let [x] = args.as_slice() else {
                            return None;
                        };
                        break self.eval(x)?;
                    }
                    let Expr::Member(obj, name) = &**callee else {
                        return None;
                    };
                    links.push((name, Some(args)));
                    cur = obj;
                }
                Expr::Member(obj, name) => {
                    if dotted(cur).as_deref() == Some("pm.response") {
                        break Src::Response;
                    }
                    links.push((name, None));
                    cur = obj;
                }
                _ => return None,
            }
        };
        links.reverse();
        let mut subject = subject;
        let mut negate = false;
        let mut out = Vec::new();
        for (name, args) in links {
            match (name, args) {
                ("not", None) => negate = !negate,
                (w, None) if CHAINS.contains(&w) => {}
                ("length" | "lengthOf", None) => match subject {
                    Src::Json(p) => subject = Src::Len(p),
                    _ => return None,
                },
                ("property", Some(args)) => {
                    let Src::Json(mut p) = subject else {
                        return None;
                    };
                    let (key, value) = match args {
                        [Expr::Str(k)] => (k, None),
                        [Expr::Str(k), v] => (k, Some(self.static_value(v)?)),
                        _ => return None,
                    };
                    p.push(Seg::Key(key.clone()));
                    let path = jsonpath(&p);
                    out.push(match (value, negate) {
                        (None, n) => ActionKind::JsonPath(path, Op::Exists(!n)),
                        (Some(v), false) => ActionKind::JsonPath(path, Op::Equals(v)),
                        (Some(v), true) => ActionKind::JsonPath(path, Op::NotEquals(v)),
                    });
                    subject = Src::Json(p);
                }
                (name, args) => out.extend(self.check(&subject, name, args, negate)?),
            }
        }
        (!out.is_empty()).then_some(out)
    }

    /// One assertion word (`eql`, `exist`, `status`, ...) on a subject.
    fn check(
        &mut self,
        subject: &Src,
        name: &str,
        args: Option<&[Expr]>,
        negate: bool,
    ) -> Option<Vec<ActionKind>> {
        use ActionKind as K;
        match subject {
            Src::Response => self.response_check(name, args, negate),
            Src::Status => {
                let number = |e: &Expr| match e {
                    Expr::Num(n) if n.fract() == 0.0 && (100.0..=599.0).contains(n) => {
                        Some(*n as u16)
                    }
                    _ => None,
                };
                match (name, args?) {
                    ("eql" | "equal" | "equals" | "eq", [n]) => {
                        let n = number(n)?;
                        Some(vec![if negate {
                            K::That(format!("response.status != {n}"))
                        } else {
                            K::Status(vec![StatusPattern::Exact(n)])
                        }])
                    }
                    ("oneOf", [Expr::Array(items)]) if !negate => Some(vec![K::Status(
                        items
                            .iter()
                            .map(|i| number(i).map(StatusPattern::Exact))
                            .collect::<Option<Vec<_>>>()?,
                    )]),
                    (word, [n]) => {
                        let n = number(n)?;
                        let op = comparison(word, negate)?;
                        Some(vec![K::That(format!("response.status {op} {n}"))])
                    }
                    _ => None,
                }
            }
            Src::ResponseTime => {
                let [Expr::Num(ms)] = args? else {
                    return None;
                };
                match (name, negate) {
                    ("below" | "lt" | "lessThan" | "most" | "lte" | "lessThanOrEqual", false)
                    | (
                        "above" | "gt" | "greaterThan" | "least" | "gte" | "greaterThanOrEqual",
                        true,
                    ) => Some(vec![K::DurationMs(*ms)]),
                    _ => None,
                }
            }
            Src::Len(p) => {
                let that =
                    |op: &str, n: &str| K::That(format!("{} | length {op} {n}", jinja_path(p)));
                match (name, args) {
                    ("empty", None) => Some(vec![if negate {
                        that(">", "0")
                    } else {
                        K::JsonPath(jsonpath(p), Op::Length(Val::Json(0.into())))
                    }]),
                    (word, Some([Expr::Num(n)])) => {
                        let n = format_number(*n);
                        match (word, negate) {
                            ("eql" | "equal" | "equals" | "eq" | "lengthOf" | "length", false) => {
                                Some(vec![K::JsonPath(
                                    jsonpath(p),
                                    Op::Length(Val::Json(serde_json::from_str(&n).ok()?)),
                                )])
                            }
                            ("eql" | "equal" | "equals" | "eq", true) => Some(vec![that("!=", &n)]),
                            _ => Some(vec![that(comparison(word, negate)?, &n)]),
                        }
                    }
                    _ => None,
                }
            }
            Src::Json(p) => {
                if name == "empty" && negate && args.is_none() {
                    return Some(vec![K::That(format!("{} | length > 0", jinja_path(p)))]);
                }
                let path = jsonpath(p);
                Some(
                    self.value_ops(name, args, negate)?
                        .into_iter()
                        .map(|op| K::JsonPath(path.clone(), op))
                        .collect(),
                )
            }
            // A variable's value: `pm.expect(pm.environment.get("x")).to.eql("y")`.
            Src::Static(Val::Template(t, _)) => {
                let subject = crate::template::single_expression(t)?.to_owned();
                self.value_ops(name, args, negate)?
                    .iter()
                    .map(|op| op_condition(&subject, op).map(K::That))
                    .collect()
            }
            Src::Text(TextSrc::Header(h), ops) if ops.is_empty() => Some(
                self.value_ops(name, args, negate)?
                    .into_iter()
                    .map(|op| K::Header(h.clone(), op))
                    .collect(),
            ),
            Src::Text(TextSrc::Body, ops) if ops.is_empty() => Some(
                self.value_ops(name, args, negate)?
                    .into_iter()
                    .map(K::Body)
                    .collect(),
            ),
            _ => None,
        }
    }

    /// `pm.response.to.have.status(200)`, `pm.response.to.be.ok`, `.to.have.header(...)`.
    fn response_check(
        &mut self,
        name: &str,
        args: Option<&[Expr]>,
        negate: bool,
    ) -> Option<Vec<ActionKind>> {
        use ActionKind as K;
        use StatusPattern::{Class, Exact};
        let named = match name {
            "ok" => Some(Exact(200)),
            "created" => Some(Exact(201)),
            "accepted" => Some(Exact(202)),
            "withoutContent" | "noContent" => Some(Exact(204)),
            "badRequest" => Some(Exact(400)),
            "unauthorized" | "unauthorised" => Some(Exact(401)),
            "forbidden" => Some(Exact(403)),
            "notFound" => Some(Exact(404)),
            "rateLimited" => Some(Exact(429)),
            "info" => Some(Class(1)),
            "success" => Some(Class(2)),
            "redirection" => Some(Class(3)),
            "clientError" => Some(Class(4)),
            "serverError" => Some(Class(5)),
            _ => None,
        };
        let status = |p: StatusPattern| {
            if !negate {
                return K::Status(vec![p]);
            }
            K::That(match p {
                Exact(n) => format!("response.status != {n}"),
                Class(c) => format!("response.status // 100 != {c}"),
            })
        };
        match (name, args) {
            (_, None) if named.is_some() => named.map(|p| vec![status(p)]),
            ("error", None) => Some(vec![K::That(
                if negate {
                    "response.status < 400"
                } else {
                    "response.status >= 400"
                }
                .into(),
            )]),
            ("json", None) if !negate => Some(vec![K::Header(
                "content-type".into(),
                Op::Contains(Val::Json("json".into())),
            )]),
            ("status", Some([Expr::Num(n)])) if n.fract() == 0.0 && (100.0..=599.0).contains(n) => {
                Some(vec![status(Exact(*n as u16))])
            }
            ("header", Some([Expr::Str(h)])) => {
                Some(vec![K::Header(h.clone(), Op::Exists(!negate))])
            }
            ("header", Some([Expr::Str(h), v])) => {
                let v = self.static_value(v)?;
                Some(vec![K::Header(
                    h.clone(),
                    if negate {
                        Op::NotEquals(v)
                    } else {
                        Op::Equals(v)
                    },
                )])
            }
            ("body", Some([v])) => {
                let v = self.static_value(v)?;
                Some(vec![K::Body(if negate {
                    Op::NotEquals(v)
                } else {
                    Op::Equals(v)
                })])
            }
            _ => None,
        }
    }

    /// Assertion words on a value (a JSON node, a header, the body) as predicate operators.
    fn value_ops(&mut self, name: &str, args: Option<&[Expr]>, negate: bool) -> Option<Vec<Op>> {
        use serde_json::Value as J;
        let one = |op: Op| Some(vec![op]);
        match (name, args) {
            ("exist" | "exists", None) => one(Op::Exists(!negate)),
            ("undefined", None) => one(Op::Exists(negate)),
            ("null", None) => one(if negate {
                Op::NotEquals(Val::Json(J::Null))
            } else {
                Op::Equals(Val::Json(J::Null))
            }),
            ("true" | "false", None) => {
                let v = Val::Json(J::Bool(name == "true"));
                one(if negate {
                    Op::NotEquals(v)
                } else {
                    Op::Equals(v)
                })
            }
            ("empty", None) if !negate => one(Op::Length(Val::Json(0.into()))),
            (_, None) => None,
            ("eql" | "equal" | "equals" | "eq" | "deepEqual", Some([v])) => {
                let v = self.static_value(v)?;
                one(if negate {
                    Op::NotEquals(v)
                } else {
                    Op::Equals(v)
                })
            }
            ("include" | "includes" | "contain" | "contains" | "string", Some([v])) if !negate => {
                one(Op::Contains(self.static_value(v)?))
            }
            ("match" | "matches", Some([Expr::Regex { pattern, flags }])) if !negate => {
                one(Op::Matches(rust_regex(pattern, flags)?))
            }
            ("a" | "an", Some([Expr::Str(t)])) if !negate => match t.to_lowercase().as_str() {
                "undefined" => one(Op::Exists(false)),
                "string" => one(Op::Type("string")),
                "number" => one(Op::Type("number")),
                "boolean" => one(Op::Type("boolean")),
                "array" => one(Op::Type("array")),
                "object" => one(Op::Type("object")),
                "null" => one(Op::Type("null")),
                _ => None,
            },
            ("lengthOf" | "length", Some([v])) if !negate => one(Op::Length(self.static_value(v)?)),
            ("oneOf", Some([v])) if !negate => match self.static_value(v)? {
                v @ Val::Json(J::Array(_)) => one(Op::OneOf(v)),
                _ => None,
            },
            ("within", Some([lo, hi])) if !negate => Some(vec![
                Op::Ge(self.static_value(lo)?),
                Op::Le(self.static_value(hi)?),
            ]),
            (word, Some([v])) => {
                let v = self.static_value(v)?;
                match comparison(word, negate)? {
                    ">" => one(Op::Gt(v)),
                    ">=" => one(Op::Ge(v)),
                    "<" => one(Op::Lt(v)),
                    "<=" => one(Op::Le(v)),
                    _ => None,
                }
            }
            _ => None,
        }
    }

    /// An expected value: a literal, a variable's value, or a value of the JSON body (expected
    /// values are templates that may read `response`).
    fn static_value(&mut self, e: &Expr) -> Option<Val> {
        match self.eval(e)? {
            Src::Static(v) => Some(v),
            Src::Json(p) => Some(Val::Template(
                format!("{{{{ {} }}}}", jinja_path(&p)),
                BTreeSet::new(),
            )),
            _ => None,
        }
    }

    /// `tests["name"] = <condition>` (Postman's legacy test syntax).
    fn legacy_test(&mut self, value: &Expr) -> Option<ActionKind> {
        use ActionKind as K;
        match value {
            Expr::Binary(op @ ("===" | "==" | "!==" | "!=" | "<" | "<=" | ">" | ">="), a, b) => {
                let (subject, expected) = match (self.eval(a)?, self.eval(b)?) {
                    (Src::Static(v), s) | (s, Src::Static(v)) => (s, v),
                    _ => return None,
                };
                let negate = matches!(*op, "!==" | "!=");
                let word = match *op {
                    "===" | "==" | "!==" | "!=" => "eql",
                    "<" => "below",
                    "<=" => "most",
                    ">" => "above",
                    _ => "least",
                };
                let arg = match &expected {
                    Val::Json(serde_json::Value::Number(n)) => Expr::Num(n.as_f64()?),
                    Val::Json(serde_json::Value::String(s)) => Expr::Str(s.clone()),
                    Val::Json(serde_json::Value::Bool(b)) => Expr::Bool(*b),
                    Val::Json(serde_json::Value::Null) => Expr::Null,
                    _ => return None,
                };
                let mut kinds = self.check(&subject, word, Some(&[arg]), negate)?;
                (kinds.len() == 1).then(|| kinds.remove(0))
            }
            Expr::Call(callee, args) => {
                let Expr::Member(obj, method) = &**callee else {
                    // `postman.getResponseHeader("X")` alone: the header is there.
                    return match self.eval(value)? {
                        Src::Text(TextSrc::Header(h), ops) if ops.is_empty() => {
                            Some(K::Header(h, Op::Exists(true)))
                        }
                        _ => None,
                    };
                };
                match (self.eval(obj)?, method.as_str(), args.as_slice()) {
                    (Src::Text(TextSrc::Body, ops), "has", [v]) if ops.is_empty() => {
                        Some(K::Body(Op::Contains(self.static_value(v)?)))
                    }
                    _ => match self.eval(value)? {
                        Src::Text(TextSrc::Header(h), ops) if ops.is_empty() => {
                            Some(K::Header(h, Op::Exists(true)))
                        }
                        _ => None,
                    },
                }
            }
            _ => None,
        }
    }
}

/// `a.b.c` for a chain of plain member accesses on an identifier.
fn dotted(e: &Expr) -> Option<String> {
    match e {
        Expr::Ident(name) => Some(name.clone()),
        Expr::Member(obj, name) => Some(format!("{}.{name}", dotted(obj)?)),
        _ => None,
    }
}

/// Chai's comparison words as operators (negated: the opposite comparison).
fn comparison(word: &str, negate: bool) -> Option<&'static str> {
    let op = match word {
        "above" | "gt" | "greaterThan" => ">",
        "least" | "gte" | "greaterThanOrEqual" => ">=",
        "below" | "lt" | "lessThan" => "<",
        "most" | "lte" | "lessThanOrEqual" => "<=",
        _ => return None,
    };
    Some(if negate {
        match op {
            ">" => "<=",
            ">=" => "<",
            "<" => ">=",
            _ => ">",
        }
    } else {
        op
    })
}

/// The Postman variable names in `{{...}}` placeholders (dynamic ones excluded).
fn placeholder_names(text: &str) -> BTreeSet<String> {
    let mut c = Converter::default();
    let _ = c.text(text);
    c.referenced
}

/// A JSONPath (RFC 9535) for a path into the JSON body.
fn jsonpath(p: &[Seg]) -> String {
    path_text("$", p, is_shorthand_name)
}

/// The same path as a template expression over `response.json`.
fn jinja_path(p: &[Seg]) -> String {
    path_text("response.json", p, super::placeholders::is_identifier)
}

/// `root` followed by each segment: `.name` where `plain` allows the name, else `['name']`
/// (escaped), and `[i]` for an index. JSONPath and template expressions write paths alike.
fn path_text(root: &str, p: &[Seg], plain: fn(&str) -> bool) -> String {
    let mut out = String::from(root);
    for seg in p {
        match seg {
            Seg::Key(k) if plain(k) => {
                out.push('.');
                out.push_str(k);
            }
            Seg::Key(k) => {
                out.push_str("['");
                out.push_str(&k.replace('\\', "\\\\").replace('\'', "\\'"));
                out.push_str("']");
            }
            Seg::Idx(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

/// The template expression over `response.json` for a JSONPath written by [`jsonpath`].
pub(super) fn jsonpath_to_jinja(path: &str) -> Option<String> {
    let mut rest = path.strip_prefix('$')?;
    let mut segs = Vec::new();
    while !rest.is_empty() {
        if let Some(r) = rest.strip_prefix('.') {
            let end = r.find(['.', '[']).unwrap_or(r.len());
            segs.push(Seg::Key(r[..end].to_owned()));
            rest = &r[end..];
        } else if let Some(r) = rest.strip_prefix("['") {
            let mut key = String::new();
            let mut chars = r.char_indices();
            let end = loop {
                match chars.next()? {
                    (_, '\\') => key.push(chars.next()?.1),
                    (i, '\'') => break i,
                    (_, c) => key.push(c),
                }
            };
            segs.push(Seg::Key(key));
            rest = r[end..].strip_prefix("']")?;
        } else if let Some(r) = rest.strip_prefix('[') {
            let end = r.find(']')?;
            segs.push(Seg::Idx(r[..end].parse().ok()?));
            rest = &r[end + 1..];
        } else {
            return None;
        }
    }
    Some(jinja_path(&segs))
}

/// A value as a template expression: a JSON literal, or the expression of a template that is
/// one `{{ expr }}`.
fn jinja_value(v: &Val) -> Option<String> {
    use serde_json::Value as J;
    fn literal(v: &J) -> Option<String> {
        Some(match v {
            J::Null => "none".into(),
            J::Bool(b) => b.to_string(),
            J::Number(n) => n.to_string(),
            J::String(s) if !s.contains(['\'', '\\']) && !s.chars().any(char::is_control) => {
                format!("'{s}'")
            }
            J::String(s) => J::String(s.clone()).to_string(),
            J::Array(items) => format!(
                "[{}]",
                items
                    .iter()
                    .map(literal)
                    .collect::<Option<Vec<_>>>()?
                    .join(", ")
            ),
            J::Object(map) => format!(
                "{{{}}}",
                map.iter()
                    .map(|(k, v)| Some(format!("{}: {}", J::String(k.clone()), literal(v)?)))
                    .collect::<Option<Vec<_>>>()?
                    .join(", ")
            ),
        })
    }
    match v {
        Val::Json(j) => literal(j),
        Val::Template(t, _) => crate::template::single_expression(t).map(|e| format!("({e})")),
    }
}

/// A predicate operator on `subject` (a template expression) as a condition for
/// `expect.that`.
pub(super) fn op_condition(subject: &str, op: &Op) -> Option<String> {
    Some(match op {
        Op::Equals(v) => format!("{subject} == {}", jinja_value(v)?),
        Op::NotEquals(v) => format!("{subject} != {}", jinja_value(v)?),
        Op::Contains(v) => format!("{} in {subject}", jinja_value(v)?),
        Op::Gt(v) => format!("{subject} > {}", jinja_value(v)?),
        Op::Ge(v) => format!("{subject} >= {}", jinja_value(v)?),
        Op::Lt(v) => format!("{subject} < {}", jinja_value(v)?),
        Op::Le(v) => format!("{subject} <= {}", jinja_value(v)?),
        Op::Length(v) => format!("{subject} | length == {}", jinja_value(v)?),
        Op::OneOf(v) => format!("{subject} in {}", jinja_value(v)?),
        Op::Exists(true) => format!("{subject} is defined"),
        Op::Exists(false) => format!("{subject} is not defined"),
        Op::Matches(_) | Op::Type(_) => return None,
    })
}

fn is_shorthand_name(k: &str) -> bool {
    let mut chars = k.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// A JavaScript regex literal in Rust `regex` syntax, if it means the same there.
fn rust_regex(pattern: &str, flags: &str) -> Option<String> {
    let mut prefix = String::new();
    for f in flags.chars() {
        match f {
            'i' | 'm' | 's' => prefix.push(f),
            'u' | 'd' => {}
            _ => return None,
        }
    }
    let body = pattern.replace("\\/", "/");
    let re = if prefix.is_empty() {
        body
    } else {
        format!("(?{prefix}){body}")
    };
    crate::eval::capture::compile_regex(&re).ok()?;
    Some(re)
}

/// The regex that takes what a chain of text operations takes from a string (its first
/// group), `Some(None)` for no operation, `None` when no regex can do it.
fn text_regex(ops: &[TextOp]) -> Option<Option<String>> {
    let Some((first, rest)) = ops.split_first() else {
        return Some(None);
    };
    let re = match first {
        TextOp::Match(re, k) if rest.is_empty() => {
            let groups = crate::eval::capture::compile_regex(re).ok()?.captures_len() - 1;
            match (*k, groups) {
                (0, 0) | (1, _) => re.clone(),
                _ => return None,
            }
        }
        TextOp::Param(p) if rest.is_empty() => {
            format!("[?&]{}=([^&#]*)", regex_text(p))
        }
        TextOp::Split(sep, k) => {
            // Everything after the k-th separator, up to the next separator or the first
            // separator of a later `.split(x)[0]`.
            let mut ends = vec![sep.clone()];
            for op in rest {
                match op {
                    TextOp::Split(s, 0) => {
                        if !ends.contains(s) {
                            ends.push(s.clone())
                        }
                    }
                    _ => return None,
                }
            }
            let start = match k {
                0 => "^".to_owned(),
                1 => regex_text(sep),
                k => format!("^(?:.*?{}){{{k}}}", regex_text(sep)),
            };
            let group = if ends.iter().all(|e| e.chars().count() == 1) {
                let class: String = ends.iter().map(|e| regex_class_char(e)).collect();
                format!("([^{class}]*)")
            } else {
                let alts: Vec<String> = ends.iter().map(|e| regex_text(e)).collect();
                format!("(.*?)(?:{}|$)", alts.join("|"))
            };
            format!("{start}{group}")
        }
        _ => return None,
    };
    crate::eval::capture::compile_regex(&re).ok()?;
    Some(Some(re))
}

/// Text as a regex that matches it, escaping only what must be (easier to read than
/// `regex::escape`, which also escapes `&`, `-`, `~` and `#`).
fn regex_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(
            c,
            '\\' | '.' | '+' | '*' | '?' | '(' | ')' | '|' | '[' | ']' | '{' | '}' | '^' | '$'
        ) {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

fn regex_class_char(c: &str) -> String {
    match c {
        "\\" | "]" | "[" | "^" | "-" | "&" | "~" => format!("\\{c}"),
        _ => c.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str, phase: Phase) -> (Vec<ActionKind>, Vec<String>) {
        let mut conv = Converter::default();
        let t = translate(src, phase, &mut conv);
        (
            t.actions.into_iter().map(|a| a.kind).collect(),
            t.untranslated,
        )
    }

    fn test(src: &str) -> (Vec<ActionKind>, Vec<String>) {
        kinds(src, Phase::Test)
    }

    fn capture(name: &str, source: CaptureSource, regex: Option<&str>) -> ActionKind {
        ActionKind::Capture(
            name.into(),
            CaptureSpec {
                source,
                regex: regex.map(str::to_owned),
            },
        )
    }

    #[test]
    fn captures_from_json_headers_and_status() {
        let (got, left) = test(
            r#"var jsonData = pm.response.json();
pm.environment.set("id", jsonData.id);
pm.collectionVariables.set("first", jsonData["items"][0].name);
pm.globals.set("link", pm.response.json()._links["usernamePassword.check"].href);
pm.variables.set("code", pm.response.code);
var data = JSON.parse(responseBody); postman.setEnvironmentVariable("x", data.a_b);
pm.environment.set("loc", pm.response.headers.get("Location"));
const loc = pm.response.headers.get("Location");
pm.environment.set("flowID", loc.split("flowId=")[1]);
pm.environment.set("f2", loc.split("flowId=")[1].split("&")[0]);
pm.environment.set("f3", loc.match(/flowId=([^&]+)/)[1]);
pm.environment.set("f4", new URL(loc).searchParams.get("flowId"));
pm.environment.set("st", pm.cookies.get("ST"));"#,
        );
        assert!(left.is_empty(), "{left:?}");
        use CaptureSource as C;
        assert_eq!(
            got,
            vec![
                capture("id", C::JsonPath("$.id".into()), None),
                capture("first", C::JsonPath("$.items[0].name".into()), None),
                capture(
                    "link",
                    C::JsonPath("$._links['usernamePassword.check'].href".into()),
                    None
                ),
                capture("code", C::Status, None),
                capture("x", C::JsonPath("$.a_b".into()), None),
                capture("loc", C::Header("Location".into()), None),
                capture(
                    "flowID",
                    C::Header("Location".into()),
                    Some("flowId=(.*?)(?:flowId=|$)")
                ),
                capture(
                    "f2",
                    C::Header("Location".into()),
                    Some("flowId=(.*?)(?:flowId=|&|$)")
                ),
                capture("f3", C::Header("Location".into()), Some("flowId=([^&]+)")),
                capture(
                    "f4",
                    C::Header("Location".into()),
                    Some("[?&]flowId=([^&#]*)")
                ),
                capture("st", C::Cookie("ST".into()), None),
            ]
        );
    }

    #[test]
    fn split_regexes_take_what_split_takes() {
        let cases = [
            ("a=1&b=2", "split('=')[1]", "1&b"),
            ("a=1&b=2", "split('=')[2]", "2"),
            ("a=1&b=2", "split('&')[0]", "a=1"),
            (
                "x?flowId=abc&y=1",
                "split('flowId=')[1].split('&')[0]",
                "abc",
            ),
        ];
        for (text, chain, want) in cases {
            let (got, left) = test(&format!(
                "pm.environment.set('v', pm.response.headers.get('H').{chain})"
            ));
            assert!(left.is_empty(), "{chain}");
            let ActionKind::Capture(
                _,
                CaptureSpec {
                    regex: Some(re), ..
                },
            ) = &got[0]
            else {
                panic!("{got:?}")
            };
            let caps = regex::Regex::new(re).unwrap().captures(text).unwrap();
            assert_eq!(&caps[1], want, "{chain} → {re}");
        }
    }

    #[test]
    fn assertions() {
        let (got, left) = test(
            r#"pm.test("Status code is 201", function () {
    pm.response.to.have.status(201);
});
pm.test("body", () => {
    const jsonData = pm.response.json();
    pm.expect(jsonData.name).to.eql("x");
    pm.expect(jsonData.id).to.exist;
    pm.expect(jsonData.tags).to.include("a");
    pm.expect(jsonData.count).to.be.above(2);
    pm.expect(jsonData.items.length).to.eql(3);
    pm.expect(jsonData).to.have.property("enabled", true);
    pm.expect(jsonData.kind).to.be.a("string");
    pm.expect(jsonData.id).to.eql(pm.environment.get("appID"));
    pm.expect(jsonData.gone).to.not.exist;
});
pm.expect(pm.response.code).to.eql(201);
pm.expect(pm.response.code).to.be.oneOf([200, 201]);
pm.response.to.be.success;
pm.response.to.have.header("Location");
pm.expect(pm.response.responseTime).to.be.below(500);
pm.expect(pm.response.text()).to.include("id");
tests["Status code is 200"] = responseCode.code === 200;"#,
        );
        assert!(left.is_empty(), "{left:?}");
        use ActionKind as K;
        let s = |v: &str| Val::Json(v.into());
        assert_eq!(
            got,
            vec![
                K::Status(vec![StatusPattern::Exact(201)]),
                K::JsonPath("$.name".into(), Op::Equals(s("x"))),
                K::JsonPath("$.id".into(), Op::Exists(true)),
                K::JsonPath("$.tags".into(), Op::Contains(s("a"))),
                K::JsonPath("$.count".into(), Op::Gt(Val::Json(2.into()))),
                K::JsonPath("$.items".into(), Op::Length(Val::Json(3.into()))),
                K::JsonPath("$.enabled".into(), Op::Equals(Val::Json(true.into()))),
                K::JsonPath("$.kind".into(), Op::Type("string")),
                K::JsonPath(
                    "$.id".into(),
                    Op::Equals(Val::Template(
                        "{{ appID }}".into(),
                        BTreeSet::from(["appID".into()])
                    ))
                ),
                K::JsonPath("$.gone".into(), Op::Exists(false)),
                K::Status(vec![StatusPattern::Exact(201)]),
                K::Status(vec![StatusPattern::Exact(200), StatusPattern::Exact(201)]),
                K::Status(vec![StatusPattern::Class(2)]),
                K::Header("Location".into(), Op::Exists(true)),
                K::DurationMs(500.0),
                K::Body(Op::Contains(s("id"))),
                K::Status(vec![StatusPattern::Exact(200)]),
            ]
        );
    }

    #[test]
    fn what_is_not_translated_is_given_back_by_line() {
        let (got, left) = test(
            "console.log(pm.response.json());\npm.test('x', function () {\n  if (pm.response.code === 200) {\n    postman.setNextRequest(null);\n  }\n  pm.response.to.have.status(200);\n});\npm.environment.set('fixed', 'value');\npm.environment.set('msg', `id ${x}`);",
        );
        assert_eq!(
            got,
            vec![ActionKind::Status(vec![StatusPattern::Exact(200)])]
        );
        assert_eq!(
            left,
            [
                "console.log(pm.response.json());",
                "if (pm.response.code === 200) {",
                "postman.setNextRequest(null);",
                "}",
                "pm.environment.set('fixed', 'value');",
                "pm.environment.set('msg', `id ${x}`);"
            ]
        );
    }

    #[test]
    fn pre_request_scripts_set_vars() {
        let (got, left) = kinds(
            r#"pm.collectionVariables.set("userPassword", "2FederateM0re!");
pm.environment.set("n", 5);
pm.variables.set("name", "user_" + pm.variables.replaceIn("{{$timestamp}}"));
const ts = Date.now();
pm.environment.set("stamp", "t" + ts);
pm.environment.set("copy", pm.environment.get("base-url"));
pm.sendRequest("https://example.com", function () {});"#,
            Phase::PreRequest,
        );
        use ActionKind as K;
        assert_eq!(
            got,
            vec![
                K::Var("userPassword".into(), Val::Json("2FederateM0re!".into())),
                K::Var("n".into(), Val::Json(5.into())),
                K::Var(
                    "name".into(),
                    Val::Template("user_{{ timestamp() }}".into(), BTreeSet::new())
                ),
                K::Var(
                    "stamp".into(),
                    Val::Template("t{{ timestamp_ms() }}".into(), BTreeSet::new())
                ),
                K::Var(
                    "copy".into(),
                    Val::Template(
                        "{{ vars[\"base-url\"] }}".into(),
                        BTreeSet::from(["base-url".into()])
                    )
                ),
            ]
        );
        assert_eq!(
            left,
            ["pm.sendRequest(\"https://example.com\", function () {});"]
        );
    }
}

#[cfg(test)]
mod condition_tests {
    use super::*;

    #[test]
    fn jsonpaths_become_template_paths() {
        for (path, jinja) in [
            ("$.a.b", "response.json.a.b"),
            ("$['a-b'][0].c", "response.json['a-b'][0].c"),
            (
                "$._links['usernamePassword.check'].href",
                "response.json._links['usernamePassword.check'].href",
            ),
            ("$['it\\'s']", "response.json['it\\'s']"),
        ] {
            assert_eq!(jsonpath_to_jinja(path).as_deref(), Some(jinja), "{path}");
        }
        assert_eq!(
            op_condition("response.body", &Op::Contains(Val::Json("A \"b\"".into()))).as_deref(),
            Some("'A \"b\"' in response.body")
        );
    }
}
