//! `stepwise validate`: everything that can be checked without a network — YAML shape and
//! unknown keys (done by the loader), template syntax, JSONPath, regex and CSS syntax, and
//! variables used before anything defines them.

use crate::diagnostic::{Diagnostic, SourceFile};
use crate::eval::{capture::compile_regex, jsonpath};
use crate::loader::{self, LoadedScenario};
use crate::model::{Predicate, Scenario, Template, Value};
use crate::template::{TemplateError, Templater, BUILTIN_NAMES};
use crate::yaml::Span;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// Checks one scenario file; `known` are variables given from outside (env files, `--var`).
pub fn validate_file(path: &Path, known: &[String]) -> Vec<Diagnostic> {
    match loader::load(path) {
        Ok(loaded) => validate_loaded(&loaded, known),
        Err(e) => e.diagnostics().into_iter().cloned().collect(),
    }
}

/// Checks a scenario that loaded (what [`validate_file`] does after loading; the fuzz
/// targets call it on scenario text that never touched the disk).
pub fn validate_loaded(loaded: &LoadedScenario, known: &[String]) -> Vec<Diagnostic> {
    let mut defined: HashSet<String> = known.iter().cloned().collect();
    defined.extend(
        crate::inputs::from_environment()
            .into_iter()
            .map(|(k, _)| k),
    );
    let mut v = Validator {
        templater: Templater::new(),
        out: Vec::new(),
        stack: vec![canonical(&loaded.file.path)],
        outside: defined.clone(),
    };
    v.scenario(loaded, &mut defined);
    if v.full() {
        v.out.truncate(crate::diagnostic::MAX_PER_FILE);
        v.out.push(
            Diagnostic::new(format!(
                "stopped after {} problems; more may follow",
                crate::diagnostic::MAX_PER_FILE
            ))
            .note(format!("in {}", loaded.file.path.display()))
            .hint("fix the ones above and run again"),
        );
    }
    v.out
}

struct Validator {
    templater: Templater,
    out: Vec<Diagnostic>,
    stack: Vec<PathBuf>,
    /// Variables from outside every scenario (env files, `--var`, `STEPWISE_VAR_*`).
    outside: HashSet<String>,
}

struct Ctx<'a> {
    file: &'a Arc<SourceFile>,
    step: Option<&'a str>,
}

impl Validator {
    fn scenario(&mut self, loaded: &LoadedScenario, defined: &mut HashSet<String>) {
        let file = &loaded.file;
        let s: &Scenario = &loaded.scenario;
        let cx = Ctx { file, step: None };
        // Variables a scenario `requires` come from outside, by definition.
        defined.extend(s.requires.iter().map(|r| r.value.clone()));
        for (name, value) in &s.vars {
            // A var may be overridden from outside; its own template still has to make sense.
            self.value(&cx, value, defined);
            defined.insert(name.value.to_string());
        }
        for (_, h) in &s.defaults.headers {
            self.template(&cx, h, defined);
        }
        if let Some(t) = &s.defaults.timeout {
            self.template(&cx, t, defined);
        }
        for step in &s.steps {
            // Past the limit, checking more steps only costs time (see MAX_PER_FILE).
            if self.full() {
                break;
            }
            let st = &step.value;
            let cx = Ctx {
                file,
                step: Some(&st.name.value),
            };
            if let Some(w) = &st.when {
                self.expression(&cx, w, defined, false);
            }
            if let Some(d) = &st.delay {
                self.template(&cx, d, defined);
            }
            if let Some(inc) = &st.include {
                for v in st.with.iter().flat_map(|w| w.values()) {
                    self.value(&cx, v, defined);
                }
                self.include(
                    &cx,
                    inc,
                    st.with
                        .iter()
                        .flat_map(|w| w.keys())
                        .map(|k| k.value.to_string())
                        .collect(),
                    defined,
                );
                continue;
            }
            if let Some(req) = &st.request {
                let r = &req.value;
                self.template(&cx, &r.url, defined);
                for v in r.query.iter().flat_map(|q| q.values()) {
                    self.value(&cx, v, defined);
                }
                for h in r.headers.values() {
                    self.template(&cx, h, defined);
                }
                if let Some(auth) = &r.auth {
                    match &*auth.value {
                        crate::model::Auth::Basic(b) => {
                            self.template(&cx, &b.username, defined);
                            self.template(&cx, &b.password, defined);
                        }
                        crate::model::Auth::Bearer(t) => self.template(&cx, t, defined),
                    }
                }
                if let Some(j) = &r.json {
                    self.value(&cx, j, defined);
                }
                if let Some(f) = &r.form {
                    for v in f.values() {
                        self.value(&cx, v, defined);
                    }
                }
                if let Some(m) = &r.multipart {
                    for v in m.fields.values() {
                        self.template(&cx, v, defined);
                    }
                    for f in m.files.values() {
                        self.template(&cx, &f.path, defined);
                    }
                }
                if let Some(b) = &r.body {
                    for t in b.text.iter().chain(b.file.iter()) {
                        self.template(&cx, t, defined);
                    }
                }
                if let Some(t) = &r.timeout {
                    self.template(&cx, t, defined);
                }
            }
            if let Some(p) = &st.poll {
                let p = &p.value;
                for t in [&p.until, &p.while_, &p.slow_down].into_iter().flatten() {
                    self.expression(&cx, t, defined, true);
                }
                for t in [&p.interval, &p.timeout, &p.slow_down_by, &p.max_attempts]
                    .into_iter()
                    .flatten()
                {
                    self.template(&cx, t, defined);
                }
            }
            for (_, cap) in &st.capture {
                for t in [
                    cap.jsonpath.as_ref(),
                    cap.header.as_deref(),
                    cap.cookie.as_deref(),
                    cap.css.as_deref(),
                    cap.attribute.as_deref(),
                ]
                .into_iter()
                .flatten()
                {
                    self.template(&cx, t, defined);
                }
                if let Some(path) = &cap.jsonpath {
                    self.jsonpath(&cx, &path.value, path.span);
                }
                if let Some(re) = &cap.regex {
                    if let Err(m) = compile_regex(&re.value) {
                        self.push(&cx, Diagnostic::new(m).at(file, re.span));
                    }
                }
                if let Some(css) = &cap.css {
                    if !css.value.contains("{{") {
                        if let Err(e) = scraper::Selector::parse(&css.value) {
                            self.push(
                                &cx,
                                Diagnostic::new(format!(
                                    "invalid CSS selector `{}`: {e}",
                                    css.value
                                ))
                                .at(file, css.span),
                            );
                        }
                    }
                }
                if let Some(d) = &cap.default {
                    self.value(&cx, d, defined);
                }
            }
            // Captures are defined for the expectations of their own step and for later steps.
            for name in st.capture.keys() {
                defined.insert(name.value.to_string());
            }
            if let Some(e) = &st.expect {
                for (name, pred) in &e.headers {
                    let _ = name;
                    self.predicate(&cx, pred, defined);
                }
                for (path, pred) in &e.jsonpath {
                    self.jsonpath(&cx, &path.value, path.span);
                    self.predicate(&cx, pred, defined);
                }
                if let Some(b) = &e.body {
                    self.predicate(&cx, b, defined);
                }
                if let Some(d) = &e.duration {
                    self.template(&cx, d, defined);
                }
                for t in &e.that {
                    self.expression(&cx, t, defined, true);
                }
            }
        }
    }

    fn include(
        &mut self,
        cx: &Ctx<'_>,
        inc: &Template,
        with: Vec<String>,
        defined: &mut HashSet<String>,
    ) {
        if inc.value.contains("{{") {
            self.template(cx, inc, defined);
            return;
        }
        let base = cx.file.path.parent().unwrap_or(Path::new("."));
        let path = base.join(&inc.value);
        let key = canonical(&path);
        if self.stack.contains(&key) {
            let chain: Vec<String> = self
                .stack
                .iter()
                .chain(std::iter::once(&key))
                .map(|p| crate::diagnostic::display_path(p))
                .collect();
            self.push(
                cx,
                Diagnostic::new(format!("include cycle: {}", chain.join(" → ")))
                    .at(cx.file, inc.span),
            );
            return;
        }
        match loader::load(&path) {
            Ok(loaded) => {
                // The included file sees the run's outside variables and `with` (not the
                // caller's own variables); its captures come back.
                let mut inner = self.outside.clone();
                inner.extend(with);
                self.stack.push(key);
                self.scenario(&loaded, &mut inner);
                self.stack.pop();
                for step in &loaded.scenario.steps {
                    defined.extend(step.value.capture.keys().map(|k| k.value.to_string()));
                }
            }
            Err(e) => {
                let mut d = Diagnostic::new(format!("cannot include `{}`", inc.value))
                    .at(cx.file, inc.span);
                for inner in e.diagnostics() {
                    d = d.note(format!("because:\n{}", inner.render(false)));
                }
                self.push(cx, d);
            }
        }
    }

    fn predicate(&mut self, cx: &Ctx<'_>, p: &Predicate, defined: &HashSet<String>) {
        let with_response = {
            let mut d = defined.clone();
            d.insert("response".into());
            d
        };
        for v in [
            &p.equals,
            &p.not_equals,
            &p.contains,
            &p.lt,
            &p.le,
            &p.gt,
            &p.ge,
            &p.length,
            &p.one_of,
        ]
        .into_iter()
        .flatten()
        {
            self.value(cx, v, &with_response);
        }
        if let Some(m) = &p.matches {
            if m.value.contains("{{") {
                self.template(cx, m, &with_response);
            } else if let Err(msg) = compile_regex(&m.value) {
                self.push(cx, Diagnostic::new(msg).at(cx.file, m.span));
            }
        }
    }

    fn jsonpath(&mut self, cx: &Ctx<'_>, path: &str, span: Span) {
        if path.contains("{{") {
            return;
        }
        if let Err(m) = jsonpath::compile(path) {
            self.push(cx, Diagnostic::new(m).at(cx.file, span).hint("JSONPath follows RFC 9535, e.g. `$.items[0].id` or `$['_links']['self']['href']`"));
        }
    }

    fn value(&mut self, cx: &Ctx<'_>, v: &Value, defined: &HashSet<String>) {
        let mut strings = Vec::new();
        v.for_each_str(&mut |s, span| strings.push((s.to_owned(), span)));
        for (s, span) in strings {
            let t = crate::yaml::Spanned::with_span(s.into(), span);
            self.template(cx, &t, defined);
        }
    }

    fn template(&mut self, cx: &Ctx<'_>, t: &Template, defined: &HashSet<String>) {
        if self.full() || !t.value.contains("{{") && !t.value.contains("{%") {
            return;
        }
        let used = self.templater.template_variables(&t.value);
        self.check_used(cx, t, used, defined);
    }

    fn expression(
        &mut self,
        cx: &Ctx<'_>,
        t: &Template,
        defined: &HashSet<String>,
        response: bool,
    ) {
        if self.full() {
            return;
        }
        let text = crate::render::strip_braces(&t.value);
        let used = self.templater.expression_variables(text);
        if response {
            let mut d = defined.clone();
            d.insert("response".into());
            self.check_used(cx, t, used, &d);
        } else {
            self.check_used(cx, t, used, defined);
        }
    }

    fn check_used(
        &mut self,
        cx: &Ctx<'_>,
        t: &Template,
        used: Result<HashSet<String>, TemplateError>,
        defined: &HashSet<String>,
    ) {
        let used = match used {
            Ok(u) => u,
            Err(e) => {
                let span = match &e.needle {
                    Some(n) => crate::render::locate(cx.file, t.span, n),
                    None => t.span,
                };
                self.push(
                    cx,
                    Diagnostic::new(e.message)
                        .at(cx.file, span)
                        .maybe_hint(e.hint),
                );
                return;
            }
        };
        let mut used: Vec<String> = used.into_iter().collect();
        used.sort();
        for name in used {
            if defined.contains(&name)
                || BUILTIN_NAMES.contains(&name.as_str())
                || crate::template::guarded(&t.value, &name)
            {
                continue;
            }
            let close = defined
                .iter()
                .map(|k| (strsim::jaro_winkler(k, &name), k))
                .filter(|(s, _)| *s > 0.85)
                .max_by(|a, b| a.0.total_cmp(&b.0))
                .map(|(_, k)| format!("did you mean `{k}`?"));
            let hint = close.unwrap_or_else(|| {
                "define it in `vars`, capture it in an earlier step, or pass it with `--var` or `--env`".into()
            });
            self.push(
                cx,
                Diagnostic::new(format!("undefined variable `{name}`"))
                    .at(cx.file, crate::render::locate(cx.file, t.span, &name))
                    .hint(hint),
            );
        }
    }

    /// Whether more than [`MAX_PER_FILE`](crate::diagnostic::MAX_PER_FILE) problems were
    /// found (the first of the rest is kept, to tell that there are more).
    fn full(&self) -> bool {
        self.out.len() > crate::diagnostic::MAX_PER_FILE
    }

    fn push(&mut self, cx: &Ctx<'_>, d: Diagnostic) {
        let d = match cx.step {
            Some(step) => d.note(format!("in step `{step}`")),
            None => d,
        };
        self.out.push(d);
    }
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validation_stops_after_a_hundred_problems() {
        let mut text = String::from("steps:\n");
        for i in 0..300 {
            text.push_str(&format!(
                "  - name: s{i}\n    request:\n      url: \"{{{{ missing{i} }}}}\"\n"
            ));
        }
        let loaded = loader::parse(Path::new("/nonexistent/a.yaml"), text)
            .unwrap_or_else(|_| panic!("the scenario does not load"));
        let ds = validate_loaded(&loaded, &[]);
        assert_eq!(ds.len(), crate::diagnostic::MAX_PER_FILE + 1);
        assert_eq!(ds[0].title, "undefined variable `missing0`");
        assert_eq!(ds[100].title, "stopped after 100 problems; more may follow");
    }
}
