//! Loading: a scenario file from disk to a checked [`Scenario`], and finding scenario files
//! in folders. Every problem becomes a [`Diagnostic`] that points into the file.

use crate::diagnostic::{Diagnostic, SourceFile};
use crate::model::Scenario;
use crate::yaml::{self, Span};
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A scenario and the source it came from.
#[derive(Debug, Clone)]
pub struct LoadedScenario {
    pub file: Arc<SourceFile>,
    pub scenario: Scenario,
}

impl LoadedScenario {
    /// The scenario's name, or its file name.
    pub fn name(&self) -> String {
        match &self.scenario.name {
            Some(n) => n.value.clone(),
            None => self
                .file
                .path
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_else(|| "scenario".into()),
        }
    }
}

/// Why a scenario could not be loaded.
#[derive(Debug, Clone)]
pub enum LoadError {
    /// The file could not be read.
    Io(Diagnostic),
    /// The file is not a valid scenario.
    Invalid(Vec<Diagnostic>),
}

impl LoadError {
    pub fn diagnostics(&self) -> Vec<&Diagnostic> {
        match self {
            LoadError::Io(d) => vec![d],
            LoadError::Invalid(ds) => ds.iter().collect(),
        }
    }
}

/// Scenario files are at most this large; bigger ones are refused before parsing.
pub const MAX_SCENARIO_SIZE: u64 = 8 * 1024 * 1024;

/// Reads and checks a scenario file.
pub fn load(path: &Path) -> Result<LoadedScenario, LoadError> {
    let meta = std::fs::metadata(path).map_err(|e| {
        LoadError::Io(Diagnostic::new(format!(
            "cannot read `{}`: {e}",
            path.display()
        )))
    })?;
    if meta.len() > MAX_SCENARIO_SIZE {
        return Err(too_large(path, Some(meta.len())));
    }
    // At most one byte past the limit, whatever the metadata said: a pipe, `/dev/zero` or a
    // file that grows while it is read has no (or a wrong) size, and would be read forever.
    // Room for the size the metadata gave (plus the one byte that detects growth), so that
    // the text kept for diagnostics is not a vector doubled past it.
    let mut bytes = Vec::with_capacity(meta.len().min(MAX_SCENARIO_SIZE) as usize + 1);
    std::fs::File::open(path)
        .and_then(|f| {
            use std::io::Read as _;
            f.take(MAX_SCENARIO_SIZE + 1).read_to_end(&mut bytes)
        })
        .map_err(|e| {
            LoadError::Io(Diagnostic::new(format!(
                "cannot read `{}`: {e}",
                path.display()
            )))
        })?;
    if bytes.len() as u64 > MAX_SCENARIO_SIZE {
        return Err(too_large(path, None));
    }
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let valid = &e.as_bytes()[..e.utf8_error().valid_up_to()];
            let valid = String::from_utf8_lossy(valid);
            let line = valid.matches('\n').count() + 1;
            let col = valid
                .rsplit('\n')
                .next()
                .map(|l| l.chars().count())
                .unwrap_or(0);
            let file = SourceFile::new(path, printable(&String::from_utf8_lossy(e.as_bytes())));
            let span = Span {
                start: yaml::Pos::new(line, col),
                end: yaml::Pos::new(line, col + 1),
            };
            return Err(LoadError::Invalid(vec![Diagnostic::new(
                "the file is not UTF-8 text",
            )
            .at(&file, span)
            .hint("scenario files are YAML text in UTF-8")]));
        }
    };
    parse(path, text)
}

/// The error for a file over [`MAX_SCENARIO_SIZE`] (`size` when known before reading).
fn too_large(path: &Path, size: Option<u64>) -> LoadError {
    let size = match size {
        Some(n) => format!("{n} bytes"),
        None => format!("more than {MAX_SCENARIO_SIZE} bytes"),
    };
    LoadError::Invalid(vec![Diagnostic::new(format!(
        "`{}` is {size}; scenario files are limited to {MAX_SCENARIO_SIZE} bytes (8 MiB)",
        path.display(),
    ))
    .hint(
        "split it into several files, or move large bodies to files (`body: {file: ...}`)",
    )])
}

/// Parses and checks scenario text (the path is used for messages and relative files).
pub fn parse(path: &Path, text: String) -> Result<LoadedScenario, LoadError> {
    let file = SourceFile::new(path, text);
    // Each step is built into the model as soon as it is parsed, and its nodes dropped: the
    // tree of every step is never held at once (see `yaml::parse_streaming_steps`).
    let mut steps: Vec<yaml::Spanned<crate::model::Step>> = Vec::new();
    let mut step_failed = false;
    let parsed = yaml::parse_streaming_steps(&file.text, &mut |item| {
        if !step_failed {
            match yaml::from_node(&item) {
                Ok(step) => steps.push(step),
                Err(_) => step_failed = true,
            }
        }
    });
    let node = match parsed {
        Ok(Some(node)) => node,
        Ok(None) => {
            return Err(LoadError::Invalid(vec![Diagnostic::new(
                "the scenario file is empty",
            )
            .note(format!("in {}", path.display()))
            .hint("a scenario needs at least `steps:` with one step")]))
        }
        Err(e) => {
            // Quoted with control characters made visible: the parser refuses them, and
            // printed raw they would cut the line (NUL) or drive the terminal (ESC).
            let shown = SourceFile::new(path, printable(&file.text));
            let hint = unquoted_template_hint(&file, e.span);
            return Err(LoadError::Invalid(vec![Diagnostic::new(e.message)
                .at(&shown, e.span)
                .maybe_hint(hint)]));
        }
    };
    let built = match yaml::from_node::<Scenario>(&node) {
        Ok(mut scenario) if !step_failed => {
            // Streamed steps are not in the tree; steps that were not streamed are.
            if !steps.is_empty() {
                steps.shrink_to_fit();
                scenario.steps = steps;
            }
            Ok(scenario)
        }
        _ => {
            // Some problem: the whole tree, as without streaming, so that the problem
            // reported is the first one in the file.
            drop(steps);
            match yaml::parse(&file.text) {
                Ok(Some(whole)) => yaml::from_node::<Scenario>(&whole),
                _ => yaml::from_node::<Scenario>(&node),
            }
        }
    };
    let scenario: Scenario = built.map_err(|e| {
        let hint = e
            .hint
            .or_else(|| e.span.and_then(|span| unquoted_template_hint(&file, span)));
        let mut d = Diagnostic::new(e.message).maybe_hint(hint);
        if let Some(span) = e.span {
            d = d.at(&file, span);
        }
        LoadError::Invalid(vec![d])
    })?;
    let mut problems = check(&scenario, &file);
    if problems.len() > crate::diagnostic::MAX_PER_FILE {
        let more = problems.len() - crate::diagnostic::MAX_PER_FILE;
        problems.truncate(crate::diagnostic::MAX_PER_FILE);
        problems.push(
            Diagnostic::new(format!("{more} more problems in this file are not shown"))
                .note(format!("in {}", path.display()))
                .hint("fix the ones above and run again"),
        );
    }
    if !problems.is_empty() {
        return Err(LoadError::Invalid(problems));
    }
    Ok(LoadedScenario { file, scenario })
}

/// The hint for a template written at the start of a value without quotes, which YAML
/// reads as a mapping (`url: {{ base }}/x`): the line as it should be written. `None` when
/// the line of `span` has no such value.
fn unquoted_template_hint(file: &SourceFile, span: Span) -> Option<String> {
    let line = file.line(span.start.line as usize)?;
    let start = match line.find(": {{") {
        Some(i) => i + 2,
        None => {
            let item = line.trim_start().strip_prefix("- ")?;
            item.starts_with("{{").then(|| line.len() - item.len())?
        }
    };
    let (before, value) = line.split_at(start);
    let value = value.trim_end();
    let escaped = value.replace('\\', "\\\\").replace('"', "\\\"");
    Some(format!(
        "YAML reads a value that starts with `{{{{` as a mapping: quote it, as in `{}\"{escaped}\"`",
        before.trim_start()
    ))
}

/// The text with every control character but tab and line breaks replaced by one visible
/// character (its Unicode control picture, or U+FFFD), so that columns stay where they were.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\n' | '\r' | '\t' => c,
            '\u{0}'..='\u{1f}' => char::from_u32(0x2400 + c as u32).unwrap_or('\u{fffd}'),
            '\u{7f}' => '\u{2421}',
            c if c.is_control() => '\u{fffd}',
            c => c,
        })
        .collect()
}

/// The span of `key:` written as a key of the block mapping that starts at `map` (same
/// indentation), for rules about keys whose values keep no position of their own.
fn key_span(file: &SourceFile, map: Span, key: &str) -> Option<Span> {
    let col = map.start.col as usize;
    (map.start.line as usize..=map.end.line as usize).find_map(|n| {
        let line = file.line(n)?;
        let chars: Vec<char> = line.chars().collect();
        if chars.len() < col || chars[..col].iter().any(|c| !c.is_whitespace()) {
            return None;
        }
        let rest: String = chars[col..].iter().collect();
        let after = rest.strip_prefix(key)?;
        after.trim_start().starts_with(':').then_some(Span {
            start: yaml::Pos::new(n, col),
            end: yaml::Pos::new(n, col + key.chars().count()),
        })
    })
}

/// Rules that the types alone cannot express.
fn check(scenario: &Scenario, file: &Arc<SourceFile>) -> Vec<Diagnostic> {
    let mut out = Vec::new();
    if scenario.steps.is_empty() {
        out.push(
            Diagnostic::new("the scenario has no steps")
                .note(format!("in {}", file.path.display())),
        );
    }
    for step in &scenario.steps {
        let s = &step.value;
        let in_step = format!("in step `{}`", s.name.value);
        match (&s.request, &s.include) {
            (Some(_), Some(inc)) => out.push(
                Diagnostic::new("a step has either `request` or `include`, not both")
                    .at(file, inc.span)
                    .note(in_step.clone()),
            ),
            (None, None) => out.push(
                Diagnostic::new("a step needs a `request` (or an `include`)")
                    .at(file, s.name.span)
                    .note(in_step.clone()),
            ),
            _ => {}
        }
        if s.include.is_none() && s.with.as_ref().is_some_and(|w| !w.is_empty()) {
            if let Some((k, _)) = s.with.as_ref().and_then(|w| w.first()) {
                out.push(
                    Diagnostic::new("`with` only goes with `include`")
                        .at(file, k.span)
                        .note(in_step.clone()),
                );
            }
        }
        if s.include.is_some() && (s.expect.is_some() || s.poll.is_some() || !s.capture.is_empty())
        {
            out.push(
                Diagnostic::new("an `include` step cannot have `expect`, `poll` or `capture`; put them in the included file (its captures come back)")
                    .at(file, s.name.span)
                    .note(in_step.clone()),
            );
        }
        if let Some(req) = &s.request {
            let r = &req.value;
            let kinds: Vec<&str> = [
                ("json", r.json.is_some()),
                ("form", r.form.is_some()),
                ("multipart", r.multipart.is_some()),
                ("body", r.body.is_some()),
            ]
            .into_iter()
            .filter_map(|(k, given)| given.then_some(k))
            .collect();
            if kinds.len() > 1 {
                // Carets under the second body kind, the one too many.
                let span = key_span(file, req.span, kinds[1]).unwrap_or(req.span);
                let found = kinds
                    .iter()
                    .map(|k| format!("`{k}`"))
                    .collect::<Vec<_>>()
                    .join(" and ");
                out.push(
                    Diagnostic::new(
                        "a request takes one body kind: `json`, `form`, `multipart` or `body`",
                    )
                    .at(file, span)
                    .label(format!("found {found}"))
                    .note(in_step.clone())
                    .hint("keep one; a file upload with fields is one `multipart` body"),
                );
            }
            if let Some(body) = &r.body {
                if body.text.is_some() == body.file.is_some() {
                    out.push(
                        Diagnostic::new("`body` takes either `text` or `file`")
                            .at(file, key_span(file, req.span, "body").unwrap_or(req.span))
                            .note(in_step.clone()),
                    );
                }
            }
        }
        for (name, cap) in &s.capture {
            if let Err(m) = cap.source() {
                out.push(Diagnostic::new(m).at(file, name.span).note(in_step.clone()));
            }
        }
        if let Some(poll) = &s.poll {
            let p = &poll.value;
            if p.until.is_none() && p.while_.is_none() {
                out.push(
                    Diagnostic::new("`poll` needs `until` (done) and/or `while` (keep waiting)")
                        .at(file, poll.span)
                        .note(in_step.clone()),
                );
            }
        }
        if let Some(expect) = &s.expect {
            for (name, pred) in expect.headers.iter().chain(expect.jsonpath.iter()) {
                if pred.is_empty() {
                    out.push(
                        Diagnostic::new(format!("no operator given for `{}`", name.value))
                            .at(file, name.span)
                            .note(in_step.clone()),
                    );
                }
            }
        }
    }
    check_snapshots(scenario, file, &mut out);
    out
}

/// `snapshot` rules: request steps only, file-name-safe names unique within the scenario,
/// `redact` keys that are JSONPaths.
fn check_snapshots(scenario: &Scenario, file: &Arc<SourceFile>, out: &mut Vec<Diagnostic>) {
    let mut seen: Vec<(String, &str)> = Vec::new();
    for step in &scenario.steps {
        let s = &step.value;
        let Some(snap) = s.snapshot.as_ref().filter(|x| x.enabled) else {
            continue;
        };
        let in_step = format!("in step `{}`", s.name.value);
        if s.include.is_some() {
            out.push(
                Diagnostic::new("an `include` step cannot have `snapshot`; put it on the steps of the included file")
                    .at(file, snap.span)
                    .note(in_step.clone()),
            );
            continue;
        }
        let name = snap.name_for(&s.name.value);
        let name_span = snap.name.as_ref().map_or(snap.span, |n| n.span);
        if let Err(m) = crate::model::check_snapshot_name(&name) {
            out.push(Diagnostic::new(m).at(file, name_span).note(in_step.clone()));
        } else if let Some((_, other)) = seen.iter().find(|(n, _)| *n == name) {
            out.push(
                Diagnostic::new(format!("two steps take the snapshot `{name}`"))
                    .at(file, name_span)
                    .note(format!("{in_step}; also taken by step `{other}`"))
                    .hint("give one of them `snapshot: {name: ...}`"),
            );
        } else {
            seen.push((name, &s.name.value));
        }
        for (path, _) in &snap.redact {
            if let Err(m) = crate::eval::jsonpath::compile(&path.value) {
                out.push(Diagnostic::new(m).at(file, path.span).note(in_step.clone()));
            }
        }
        for h in &snap.headers {
            if h.value.trim().is_empty() {
                out.push(
                    Diagnostic::new("an empty header name")
                        .at(file, h.span)
                        .note(in_step.clone()),
                );
            }
        }
    }
}

/// Expands paths: files are taken as they are, folders are searched for `*.yaml`/`*.yml`
/// (sorted, recursively; hidden folders and folders named `__snapshots__`, `env`, `include`
/// and `node_modules` are skipped: they hold snapshots, env files and sub-flows).
pub fn discover(paths: &[PathBuf]) -> Result<Vec<PathBuf>, Diagnostic> {
    let mut out = Vec::new();
    for path in paths {
        if path.is_dir() {
            let mut found = Vec::new();
            walk(path, &mut found).map_err(|e| {
                Diagnostic::new(format!("cannot read folder `{}`: {e}", path.display()))
            })?;
            found.sort();
            out.extend(found);
        } else if path.exists() {
            out.push(path.clone());
        } else {
            return Err(Diagnostic::new(format!(
                "`{}` does not exist",
                path.display()
            )));
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        if path.is_dir() {
            if name.starts_with('.')
                || name == "__snapshots__"
                || name == "env"
                || name == "include"
                || name == "node_modules"
            {
                continue;
            }
            walk(&path, out)?;
        } else if name.ends_with(".yaml") || name.ends_with(".yml") {
            out.push(path);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(text: &str) -> Vec<String> {
        let loaded = parse(Path::new("s.yaml"), text.into()).expect("loads");
        loaded
            .scenario
            .steps
            .iter()
            .map(|s| s.value.name.value.to_string())
            .collect()
    }

    /// Steps are built as they are parsed; aliases between steps, and a `steps` list that
    /// is itself anchored, load as they did from the whole tree.
    #[test]
    fn streamed_steps_keep_aliases_and_anchored_lists() {
        let step = |n: &str| format!("  - name: {n}\n    request: {{url: \"http://h/\"}}\n");
        let aliased = format!(
            "name: x\nsteps:\n  - &s\n    name: a\n    request: {{url: \"http://h/\"}}\n  - *s\n{}",
            step("c")
        );
        assert_eq!(names(&aliased), ["a", "a", "c"]);
        let anchored = format!("name: x\nsteps: &all\n{}{}", step("a"), step("b"));
        assert_eq!(names(&anchored), ["a", "b"]);
        let steps_first = format!("steps:\n{}name: x\n", step("a"));
        assert_eq!(names(&steps_first), ["a"]);
    }

    /// A template at the start of a value without quotes is read by YAML as a mapping; the
    /// error says how to write it, whether YAML or the model refuses it.
    #[test]
    fn an_unquoted_template_gets_a_quoting_hint() {
        let cases = [
            ("      url: {{ base }}/x\n", "`url: \"{{ base }}/x\"`"),
            ("      url: {{ base }}\n", "`url: \"{{ base }}\"`"),
        ];
        for (line, quoted) in cases {
            let text = format!("name: x\nsteps:\n  - name: a\n    request:\n{line}");
            let Err(LoadError::Invalid(problems)) = parse(Path::new("s.yaml"), text.clone()) else {
                panic!("{text} should not load");
            };
            let shown = problems[0].render(false);
            assert!(shown.contains("s.yaml:5:"), "{shown}");
            assert!(
                shown.contains(&format!("hint: YAML reads a value that starts with `{{{{` as a mapping: quote it, as in {quoted}")),
                "{shown}"
            );
        }
        // Quoted, the same value loads.
        names("name: x\nsteps:\n  - name: a\n    request:\n      url: \"{{ base }}/x\"\n");
    }

    /// With a problem anywhere, the first one in the file is the one reported, whether it
    /// is in a step or in a key after the steps.
    #[test]
    fn the_first_problem_is_reported_with_streamed_steps() {
        let first_in_step =
            "name: x\nsteps:\n  - name: a\n    requst: {url: \"http://h/\"}\nvarz: {}\n";
        let after_steps =
            "name: x\nsteps:\n  - name: a\n    request: {url: \"http://h/\"}\nvarz: {}\n";
        for (text, key, line) in [(first_in_step, "requst", 4), (after_steps, "varz", 5)] {
            let Err(LoadError::Invalid(problems)) = parse(Path::new("s.yaml"), text.into()) else {
                panic!("{text} should not load");
            };
            let shown = problems[0].render(false);
            assert!(shown.contains(&format!("unknown key `{key}`")), "{shown}");
            assert!(shown.contains(&format!("s.yaml:{line}:")), "{shown}");
        }
    }

    #[test]
    fn control_characters_are_shown_one_for_one() {
        assert_eq!(
            printable("a\u{0}b\u{1b}[1m\tc\u{7f}\u{85}\n"),
            "a␀b␛[1m\tc␡\u{fffd}\n"
        );
    }

    #[cfg(unix)]
    #[test]
    fn a_file_without_a_size_is_read_up_to_the_limit_only() {
        // `/dev/zero` says it is empty and never ends: read forever before the cap.
        let Err(LoadError::Invalid(ds)) = load(Path::new("/dev/zero")) else {
            panic!("/dev/zero loaded")
        };
        assert!(
            ds[0].title.contains("is more than 8388608 bytes"),
            "{}",
            ds[0].title
        );
    }

    #[test]
    fn more_than_a_hundred_problems_are_cut_short() {
        let mut text = String::from("steps:\n");
        for i in 0..250 {
            text.push_str(&format!("  - name: s{i}\n"));
        }
        let Err(LoadError::Invalid(ds)) = parse(Path::new("a.yaml"), text) else {
            panic!("steps without requests were accepted")
        };
        assert_eq!(ds.len(), crate::diagnostic::MAX_PER_FILE + 1);
        assert_eq!(
            ds[100].title,
            "150 more problems in this file are not shown"
        );
    }

    #[test]
    fn two_body_kinds_point_at_the_second() {
        let text = "steps:\n  - name: x\n    request:\n      url: http://x\n      json: {a: 1}\n      form: {a: \"1\"}\n";
        let Err(LoadError::Invalid(ds)) = parse(Path::new("a.yaml"), text.to_owned()) else {
            panic!("two body kinds were accepted")
        };
        assert_eq!(ds[0].position().as_deref(), Some("a.yaml:6:7"));
        assert_eq!(ds[0].label.as_deref(), Some("found `json` and `form`"));
    }
}
