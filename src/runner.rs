//! The runner: executes a scenario's steps in order — variables, `when`, `delay`, requests,
//! polling, captures, assertions, includes — and produces a [`ScenarioResult`]. It reports
//! progress to an [`Observer`] as it goes; it never prints anything itself.

use crate::diagnostic::Diagnostic;
use crate::eval;
use crate::http::{HttpClient, HttpConfig, HttpError, PreparedRequest, Response};
use crate::loader::{self, LoadedScenario};
use crate::mask::Masker;
use crate::model::{self, Step};
use crate::render::{Renderer, RequestDefaults};
use crate::response::ResponseView;
use crate::result::{
    CaptureResult, Outcome, PollSummary, RequestSummary, ScenarioResult, StepResult,
};
use crate::template::{Templater, Vars};
use crate::yaml::Spanned;
use minijinja::value::Value as MjValue;
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How long a poll may go on when the step sets neither `timeout` nor `max_attempts`.
pub const DEFAULT_POLL_TIMEOUT: Duration = Duration::from_secs(600);
/// The poll interval when `interval` is not given or renders empty (RFC 8628 section 3.5).
pub const DEFAULT_POLL_INTERVAL: Duration = Duration::from_secs(5);
/// What `slow_down` adds to the interval unless `slow_down_by` says otherwise (RFC 8628).
pub const DEFAULT_SLOW_DOWN_BY: Duration = Duration::from_secs(5);
/// How deep includes may nest.
const MAX_INCLUDE_DEPTH: usize = 16;

/// Receives progress while scenarios run. Every method has a default that ignores it.
pub trait Observer: Send + Sync {
    fn scenario_started(&self, _name: &str, _path: &Path) {}
    /// A step finished; `depth` is 0 for top-level steps, 1 inside an include, ...
    fn step_finished(&self, _depth: usize, _step: &StepResult) {}
    /// A scenario did not run, and why (e.g. a variable it `requires` is missing).
    fn scenario_skipped(&self, _name: &str, _reason: &str) {}
    /// An `include` step starts running the file at `path`; its steps follow at `depth + 1`.
    fn include_started(&self, _depth: usize, _name: &str, _path: &Path) {}
    /// An attempt of a polled step was classified; `next` is the wait before the next one.
    fn poll_attempt(&self, _step: &str, _attempt: u32, _verdict: &str, _next: Option<Duration>) {}
    /// One request/response exchange, for `-v` traces.
    fn exchange(&self, _response: &Response, _masker: &Masker) {}
    /// A request that got no response, for `-v` traces.
    fn exchange_failed(&self, _request: &PreparedRequest, _error: &HttpError, _masker: &Masker) {}
}

/// An observer that ignores everything.
pub struct Silent;
impl Observer for Silent {}

/// Settings of a run that come from outside the scenario files.
#[derive(Debug, Clone, Default)]
pub struct RunOptions {
    /// Variables from env files, `STEPWISE_VAR_*` and `--var`, highest precedence last.
    pub overrides: Vec<(String, MjValue)>,
    /// Names of variables to mask (from `--secret`, and `adminAppSecret` with `--sandbox`).
    pub secret_names: Vec<String>,
    pub http: HttpConfig,
    /// When snapshot files are written (`--update-snapshots`, `INSTA_UPDATE`).
    pub update_snapshots: crate::snapshot::UpdateMode,
    /// Neither compare nor write snapshots (`--no-snapshots`): e.g. against a real server
    /// whose responses differ from the ones recorded against a sandbox.
    pub skip_snapshots: bool,
}

impl RunOptions {
    /// Adds variables (they win over the scenario's own `vars`; later ones win).
    pub fn with_vars<K: Into<String>, V: Into<String>>(
        mut self,
        vars: impl IntoIterator<Item = (K, V)>,
    ) -> Self {
        self.overrides.extend(
            vars.into_iter()
                .map(|(k, v)| (k.into(), MjValue::from(v.into()))),
        );
        self
    }

    /// Adds a variable whose value is masked in every output.
    pub fn with_secret(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let name = name.into();
        self.overrides
            .push((name.clone(), MjValue::from(value.into())));
        self.secret_names.push(name);
        self
    }
}

/// Runs scenario files.
pub struct Runner {
    templater: Templater,
    options: RunOptions,
    masker: Masker,
}

/// State of one scenario run.
struct Run<'a> {
    loaded: &'a LoadedScenario,
    vars: Vars,
    /// Variables captured by this scenario's steps (given back to an including scenario).
    captured: Vars,
    secret_names: HashSet<String>,
    client: Arc<HttpClient>,
    defaults: RequestDefaults,
    default_headers: Vec<(String, String)>,
    stack: Vec<PathBuf>,
    depth: usize,
}

/// An exchange waiting to be shown to the observer. Traces are held until the step's
/// captures ran, so that a value captured as secret is masked in its own response.
enum Traced {
    Response(Arc<ResponseView>),
    Failed(Box<PreparedRequest>, HttpError),
}

impl Runner {
    pub fn new(options: RunOptions) -> Self {
        let masker = Masker::new();
        for (name, value) in &options.overrides {
            if options.secret_names.contains(name) {
                masker.add(&eval::capture::value_text(value));
            }
        }
        Runner {
            templater: Templater::new(),
            options,
            masker,
        }
    }

    /// The masker holding every secret seen so far.
    pub fn masker(&self) -> &Masker {
        &self.masker
    }

    /// Loads and runs one scenario file, blocking the calling thread (it starts its own async
    /// runtime): the one-call form for plain `#[test]` functions. Inside async code, use
    /// [`Runner::run_file`].
    pub fn run_file_blocking(&self, path: &Path) -> ScenarioResult {
        match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt.block_on(self.run_file(path, &Silent)),
            Err(e) => ScenarioResult {
                skip_reason: None,
                name: path.display().to_string(),
                path: path.to_owned(),
                outcome: Outcome::NetworkError,
                steps: Vec::new(),
                error: Some(Diagnostic::new(format!(
                    "cannot start an async runtime: {e}"
                ))),
                duration: Duration::ZERO,
            },
        }
    }

    /// Loads and runs one scenario file.
    pub async fn run_file(&self, path: &Path, observer: &dyn Observer) -> ScenarioResult {
        let started = Instant::now();
        match loader::load(path) {
            Ok(loaded) => self.run_loaded(&loaded, observer).await,
            Err(e) => {
                let io = matches!(e, loader::LoadError::Io(_));
                let mut ds = e.diagnostics().into_iter().cloned();
                let first = ds.next();
                let rest: Vec<String> = ds.map(|d| d.render(false)).collect();
                let error = first.map(|d| {
                    rest.into_iter()
                        .fold(d, |d, r| d.note(format!("also:\n{r}")))
                });
                ScenarioResult {
                    skip_reason: None,
                    name: path
                        .file_stem()
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_default(),
                    path: path.to_owned(),
                    outcome: if io {
                        Outcome::NetworkError
                    } else {
                        Outcome::Invalid
                    },
                    steps: Vec::new(),
                    error,
                    duration: started.elapsed(),
                }
            }
        }
    }

    /// Runs a loaded scenario.
    pub async fn run_loaded(
        &self,
        loaded: &LoadedScenario,
        observer: &dyn Observer,
    ) -> ScenarioResult {
        observer.scenario_started(&loaded.name(), &loaded.file.path);
        let client = match HttpClient::new(&self.options.http) {
            Ok(c) => Arc::new(c),
            Err(e) => {
                return ScenarioResult {
                    skip_reason: None,
                    name: loaded.name(),
                    path: loaded.file.path.clone(),
                    outcome: Outcome::NetworkError,
                    steps: Vec::new(),
                    error: Some(Diagnostic::new(e.to_string())),
                    duration: Duration::ZERO,
                }
            }
        };
        let overrides = self.options.overrides.clone();
        let stack = vec![canonical(&loaded.file.path)];
        let (result, _) = self
            .run_scenario(loaded, overrides, client, stack, 0, observer)
            .await;
        result
    }

    fn run_scenario<'a>(
        &'a self,
        loaded: &'a LoadedScenario,
        overrides: Vec<(String, MjValue)>,
        client: Arc<HttpClient>,
        stack: Vec<PathBuf>,
        depth: usize,
        observer: &'a dyn Observer,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = (ScenarioResult, Vars)> + Send + 'a>>
    {
        Box::pin(async move {
            let started = Instant::now();
            let scenario = &loaded.scenario;
            let mut result = ScenarioResult {
                skip_reason: None,
                name: loaded.name(),
                path: loaded.file.path.clone(),
                outcome: Outcome::Passed,
                steps: Vec::new(),
                error: None,
                duration: Duration::ZERO,
            };
            let mut secret_names: HashSet<String> =
                self.options.secret_names.iter().cloned().collect();
            secret_names.extend(scenario.secrets.iter().map(|s| s.value.clone()));
            let mut run = Run {
                loaded,
                vars: Vars::new(),
                captured: Vars::new(),
                secret_names,
                client,
                defaults: RequestDefaults::default(),
                default_headers: Vec::new(),
                stack,
                depth,
            };
            let missing: Vec<&str> = scenario
                .requires
                .iter()
                .map(|r| r.value.as_str())
                .filter(|name| !overrides.iter().any(|(n, _)| n == name))
                .collect();
            if !missing.is_empty() {
                let reason = format!(
                    "needs {} from outside (--var, --env, STEPWISE_VAR_*)",
                    missing
                        .iter()
                        .map(|m| format!("`{m}`"))
                        .collect::<Vec<_>>()
                        .join(", ")
                );
                observer.scenario_skipped(&result.name, &reason);
                result.outcome = Outcome::Skipped;
                result.skip_reason = Some(reason);
                result.duration = started.elapsed();
                return (result, run.captured);
            }
            if let Err(d) = self.init(&mut run, &overrides) {
                result.outcome = Outcome::Invalid;
                result.error = Some(d);
                result.duration = started.elapsed();
                return (result, run.captured);
            }
            // Exactly the room needed: results are kept until the reports are written, and a
            // vector doubled past them would hold up to twice their size.
            result.steps.reserve_exact(scenario.steps.len());
            for step in &scenario.steps {
                let step_result = self.run_step(&mut run, step, observer).await;
                observer.step_finished(depth, &step_result);
                let outcome = step_result.outcome;
                let go_on = step_result.only_snapshots_failed;
                result.steps.push(step_result);
                if outcome.is_failure() {
                    result.outcome = outcome;
                    if !go_on {
                        break;
                    }
                }
            }
            result.duration = started.elapsed();
            (result, run.captured)
        })
    }

    /// Evaluates `vars` and `defaults`, applying overrides.
    fn init(&self, run: &mut Run<'_>, overrides: &[(String, MjValue)]) -> Result<(), Diagnostic> {
        let scenario = &run.loaded.scenario;
        // Outside values first, so that the scenario's own `vars` may use them; a var that
        // is given from outside keeps the outside value (its own template is not evaluated).
        for (name, value) in overrides {
            self.set_var(run, name, value.clone(), false);
        }
        for (name, value) in &scenario.vars {
            let v = match overrides
                .iter()
                .rev()
                .find(|(n, _)| n.as_str() == name.value.as_str())
            {
                Some((_, v)) => v.clone(),
                None => Renderer {
                    templater: &self.templater,
                    vars: &run.vars,
                    file: &run.loaded.file,
                }
                .variable(value)?,
            };
            self.set_var(run, &name.value, v, false);
        }
        let r = Renderer {
            templater: &self.templater,
            vars: &run.vars,
            file: &run.loaded.file,
        };
        let d = &scenario.defaults;
        if let Some(t) = &d.timeout {
            run.defaults.timeout = r.duration(t)?;
        }
        if let Some(f) = d.follow_redirects {
            run.defaults.follow_redirects = f;
        }
        if let Some(m) = d.max_redirects {
            run.defaults.max_redirects = m;
        }
        if let Some(m) = d.max_body_size {
            run.defaults.max_body_size = m;
        }
        let mut headers = Vec::new();
        for (name, value) in &d.headers {
            headers.push((name.value.to_string(), r.text(value)?));
        }
        run.default_headers = headers;
        Ok(())
    }

    fn set_var(&self, run: &mut Run<'_>, name: &str, value: MjValue, secret: bool) {
        if secret || run.secret_names.contains(name) {
            self.masker.add(&eval::capture::value_text(&value));
            run.secret_names.insert(name.to_owned());
        }
        run.vars.insert(name.to_owned(), value);
    }

    async fn run_step(
        &self,
        run: &mut Run<'_>,
        step: &Spanned<Step>,
        observer: &dyn Observer,
    ) -> StepResult {
        let mut trace = Vec::new();
        let result = self.run_step_traced(run, step, observer, &mut trace).await;
        for t in trace {
            match t {
                Traced::Response(view) => observer.exchange(&view.response, &self.masker),
                Traced::Failed(request, error) => {
                    observer.exchange_failed(&request, &error, &self.masker)
                }
            }
        }
        result
    }

    async fn run_step_traced(
        &self,
        run: &mut Run<'_>,
        step: &Spanned<Step>,
        observer: &dyn Observer,
        trace: &mut Vec<Traced>,
    ) -> StepResult {
        let started = Instant::now();
        let s = &step.value;
        let mut result = StepResult::new(self.masker.mask(&s.name.value).into_owned());
        let in_step = format!("in step `{}`", s.name.value);
        let file = run.loaded.file.clone();
        let fail = |mut result: StepResult, outcome: Outcome, d: Diagnostic| {
            result.outcome = outcome;
            result.error = Some(Box::new(self.mask_diagnostic(d.note(in_step.clone()))));
            result.duration = started.elapsed();
            result
        };
        if let Some(when) = &s.when {
            let r = self.renderer(run);
            match r.condition(when) {
                Ok(true) => {}
                Ok(false) => {
                    result.outcome = Outcome::Skipped;
                    return result;
                }
                Err(d) => return fail(result, Outcome::Invalid, d),
            }
        }
        if let Some(delay) = &s.delay {
            match self.renderer(run).duration(delay) {
                Ok(d) => tokio::time::sleep(d).await,
                Err(d) => return fail(result, Outcome::Invalid, d),
            }
        }
        if let Some(include) = &s.include {
            return match self.run_include(run, s, include, observer).await {
                Ok(sub) => {
                    result.outcome = sub.outcome;
                    result.only_snapshots_failed = sub.outcome == Outcome::Failed
                        && sub.error.is_none()
                        && sub
                            .steps
                            .iter()
                            .filter(|s| s.outcome.is_failure())
                            .all(|s| s.only_snapshots_failed);
                    result.duration = started.elapsed();
                    result.included = Some(Box::new(sub));
                    result
                }
                Err(d) => fail(result, Outcome::Invalid, d),
            };
        }
        let Some(request) = &s.request else {
            return fail(
                result,
                Outcome::Invalid,
                Diagnostic::new("a step needs a `request`").at(&file, s.name.span),
            );
        };
        let prepared = match self.renderer(run).request(
            &request.value,
            request.span,
            &run.default_headers,
            &run.defaults,
        ) {
            Ok(p) => p,
            Err(d) => return fail(result, Outcome::Invalid, d),
        };
        result.request = Some(RequestSummary {
            method: prepared.method.to_string().into(),
            url: self.masker.mask(prepared.url.as_str()).into_owned().into(),
        });
        let sent = match &s.poll {
            Some(poll) => self.poll(run, s, poll, &prepared, observer, trace).await,
            None => self.send(run, &prepared, trace).await.map(|r| (r, None)),
        };
        let (response, poll_summary) = match sent {
            Ok(r) => r,
            Err(StepError {
                outcome,
                diagnostic,
                poll,
            }) => {
                result.poll = poll.map(Box::new);
                let d = diagnostic.at(&file, request.value.url.span);
                return fail(result, outcome, d);
            }
        };
        result.poll = poll_summary.map(Box::new);
        result.status = Some(response.response.status);
        let failed_poll = result
            .poll
            .as_ref()
            .map(|p| !p.stopped.starts_with("until"))
            .unwrap_or(false);

        // Captures first, so that `expect.that` can use them.
        let mut capture_error: Option<Diagnostic> = None;
        for (name, cap) in &s.capture {
            let value = eval::capture::capture(name, cap, &response, &self.renderer(run));
            match value {
                Ok(v) => {
                    let secret = cap.secret || crate::mask::is_secret_name(&name.value);
                    self.set_var(run, &name.value, v.clone(), secret);
                    run.captured.insert(name.value.to_string(), v.clone());
                    result.captures.push(CaptureResult {
                        name: name.value.clone(),
                        // Mask before cutting: a cut secret would no longer match.
                        value: eval::capture::excerpt(
                            &self.masker.mask(&eval::capture::value_text(&v)),
                            200,
                        )
                        .into(),
                        secret: secret || run.secret_names.contains(name.value.as_str()),
                    });
                }
                Err(d) => {
                    // The first failing capture is the error shown with its source line; the
                    // others are listed under it, so every one is reported.
                    capture_error = Some(match capture_error {
                        None => d,
                        Some(first) => first.note(format!(
                            "also: {}{}",
                            d.title,
                            d.position()
                                .map(|p| format!(" (at {p})"))
                                .unwrap_or_default()
                        )),
                    });
                }
            }
        }
        if let Some(expect) = &s.expect {
            // `response` joins the variables for the assertions only. Set and taken back
            // rather than on a copy of every variable: that copy was made on every step.
            let shadowed = run.vars.insert("response".into(), response.to_value());
            let checked = eval::assert::check(expect, &response, &self.renderer(run), &self.masker);
            match shadowed {
                Some(value) => run.vars.insert("response".into(), value),
                None => run.vars.remove("response"),
            };
            match checked {
                Ok(a) => result.assertions = a,
                // An expectation that reads a capture which failed cannot be evaluated; the
                // failed capture is the cause to report, not an invalid scenario.
                Err(_) if capture_error.is_some() => {}
                Err(d) => return fail(result, Outcome::Invalid, d),
            }
        }
        if let Some(spec) = s
            .snapshot
            .as_ref()
            .filter(|x| x.enabled && !self.options.skip_snapshots)
        {
            let step_failed = capture_error.is_some()
                || failed_poll
                || result.assertions.iter().any(|a| !a.passed);
            let checked = crate::snapshot::check(&crate::snapshot::Check {
                spec,
                step_name: &s.name.value,
                scenario: &file.path,
                response: &response,
                mode: self.options.update_snapshots,
                masker: &self.masker,
                step_failed,
                position: Diagnostic::new("").at(&file, spec.span).position(),
            });
            result.only_snapshots_failed = !checked.passed && !step_failed;
            result.assertions.push(checked);
        }
        result.duration = started.elapsed();
        // Results are kept until the reports are written: without the room the vectors grew
        // into (four slots for two assertions), a step's result takes a third less.
        result.assertions.shrink_to_fit();
        result.captures.shrink_to_fit();
        let assertion_failed = result.assertions.iter().any(|a| !a.passed);
        if assertion_failed || capture_error.is_some() || failed_poll {
            result.outcome = Outcome::Failed;
            // A snapshot's diff already shows the response.
            if !result.only_snapshots_failed {
                result.excerpt = Some(self.excerpt(&response.response));
            }
            if let Some(d) = capture_error {
                result.error = Some(Box::new(self.mask_diagnostic(d.note(in_step))));
            } else if failed_poll {
                if let Some(p) = &result.poll {
                    result.error = Some(Box::new(
                        self.mask_diagnostic(
                            Diagnostic::new(format!("polling failed: {}", p.stopped))
                                .at(&file, s.poll.as_ref().map(|p| p.span).unwrap_or_default())
                                .note(in_step),
                        ),
                    ));
                }
            }
        }
        result
    }

    fn renderer<'r>(&'r self, run: &'r Run<'_>) -> Renderer<'r> {
        Renderer {
            templater: &self.templater,
            vars: &run.vars,
            file: &run.loaded.file,
        }
    }

    async fn send(
        &self,
        run: &Run<'_>,
        prepared: &PreparedRequest,
        trace: &mut Vec<Traced>,
    ) -> Result<Arc<ResponseView>, StepError> {
        match run.client.send(prepared).await {
            Ok(response) => Ok(self.received(response, trace)),
            Err(e) => {
                self.learn_from_request(prepared);
                trace.push(Traced::Failed(Box::new(prepared.clone()), e.clone()));
                Err(StepError {
                    outcome: Outcome::NetworkError,
                    diagnostic: Diagnostic::new(format!(
                        "request failed: {}",
                        self.masker.mask(&e.to_string())
                    )),
                    poll: None,
                })
            }
        }
    }

    /// Re-sends a request until `until` holds, while `while`/`slow_down` hold, within the
    /// deadline and attempt limit.
    async fn poll(
        &self,
        run: &Run<'_>,
        step: &Step,
        poll: &Spanned<model::Poll>,
        prepared: &PreparedRequest,
        observer: &dyn Observer,
        trace: &mut Vec<Traced>,
    ) -> Result<(Arc<ResponseView>, Option<PollSummary>), StepError> {
        let p = &poll.value;
        let invalid = |d: Diagnostic| StepError {
            outcome: Outcome::Invalid,
            diagnostic: d,
            poll: None,
        };
        let r = self.renderer(run);
        let optional_duration =
            |t: &Option<model::Template>| -> Result<Option<Duration>, StepError> {
                match t {
                    Some(t) if !r.text(t).map_err(invalid)?.trim().is_empty() => {
                        r.duration(t).map(Some).map_err(invalid)
                    }
                    _ => Ok(None),
                }
            };
        let mut interval = optional_duration(&p.interval)?.unwrap_or(DEFAULT_POLL_INTERVAL);
        let slow_down_by = optional_duration(&p.slow_down_by)?.unwrap_or(DEFAULT_SLOW_DOWN_BY);
        let timeout = optional_duration(&p.timeout)?;
        let max_attempts = match &p.max_attempts {
            Some(t) => Some(r.count(t).map_err(invalid)?),
            None => None,
        };
        let timeout = match (timeout, max_attempts) {
            (None, None) => Some(DEFAULT_POLL_TIMEOUT),
            (t, _) => t,
        };
        let started = Instant::now();
        let mut history: Vec<String> = Vec::new();
        let mut attempt = 0u32;
        let mut backoff = interval;
        loop {
            attempt += 1;
            let response = match run.client.send(prepared).await {
                Ok(response) => self.received(response, trace),
                Err(e) => {
                    self.learn_from_request(prepared);
                    trace.push(Traced::Failed(Box::new(prepared.clone()), e.clone()));
                    // RFC 8628 section 3.5: back off on network trouble, within the deadline.
                    history.push(format!("error: {e}"));
                    backoff = (backoff * 2).min(Duration::from_secs(60));
                    let stop = |why: String| StepError {
                        outcome: Outcome::NetworkError,
                        diagnostic: Diagnostic::new(format!(
                            "request failed: {} ({why})",
                            self.masker.mask(&e.to_string())
                        )),
                        poll: Some(PollSummary {
                            attempts: attempt,
                            stopped: why.clone(),
                            history: history.clone(),
                            final_interval: interval,
                        }),
                    };
                    if max_attempts.is_some_and(|m| attempt >= m) {
                        return Err(stop(format!("gave up after {attempt} attempts")));
                    }
                    if timeout.is_some_and(|t| started.elapsed() + backoff > t) {
                        return Err(stop("deadline reached".into()));
                    }
                    observer.poll_attempt(
                        &step.name.value,
                        attempt,
                        "network error",
                        Some(backoff),
                    );
                    tokio::time::sleep(backoff).await;
                    continue;
                }
            };
            let mut vars = run.vars.clone();
            vars.insert("response".into(), response.to_value());
            let r = Renderer {
                templater: &self.templater,
                vars: &vars,
                file: &run.loaded.file,
            };
            let holds = |t: &Option<model::Template>| -> Result<bool, StepError> {
                match t {
                    Some(t) => r.condition(t).map_err(invalid),
                    None => Ok(false),
                }
            };
            let verdict = if holds(&p.until)? {
                "until"
            } else if holds(&p.slow_down)? {
                interval += slow_down_by;
                "slow_down"
            } else if holds(&p.while_)? {
                "while"
            } else if p.until.is_none() {
                // Only `while` given: it stopped holding, so polling is done.
                "until (while no longer holds)"
            } else {
                "neither"
            };
            history.push(verdict.to_owned());
            let summary = |stopped: String, history: &Vec<String>| PollSummary {
                attempts: attempt,
                stopped,
                history: history.clone(),
                final_interval: interval,
            };
            if verdict.starts_with("until") {
                observer.poll_attempt(&step.name.value, attempt, verdict, None);
                return Ok((
                    response,
                    Some(summary(
                        format!("{verdict} held after {attempt} attempt(s)"),
                        &history,
                    )),
                ));
            }
            if verdict == "neither" {
                observer.poll_attempt(&step.name.value, attempt, verdict, None);
                return Ok((
                    response,
                    Some(summary(
                        format!(
                            "attempt {attempt} matched neither `until` nor `while` (status {})",
                            response_status(&vars)
                        ),
                        &history,
                    )),
                ));
            }
            if max_attempts.is_some_and(|m| attempt >= m) {
                observer.poll_attempt(&step.name.value, attempt, verdict, None);
                return Ok((
                    response,
                    Some(summary(
                        format!("gave up after {attempt} attempts (max_attempts)"),
                        &history,
                    )),
                ));
            }
            let mut wait = interval;
            if let Some(retry_after) = response
                .response
                .header("retry-after")
                .and_then(parse_retry_after)
            {
                wait = wait.max(retry_after);
            }
            backoff = interval;
            if let Some(t) = timeout {
                if started.elapsed() + wait > t {
                    observer.poll_attempt(&step.name.value, attempt, verdict, None);
                    return Ok((
                        response,
                        Some(summary(
                            format!(
                                "deadline of {} reached after {attempt} attempts",
                                eval::assert::fmt_duration(t)
                            ),
                            &history,
                        )),
                    ));
                }
            }
            observer.poll_attempt(&step.name.value, attempt, verdict, Some(wait));
            tokio::time::sleep(wait).await;
        }
    }

    async fn run_include(
        &self,
        run: &mut Run<'_>,
        step: &Step,
        include: &model::Template,
        observer: &dyn Observer,
    ) -> Result<ScenarioResult, Diagnostic> {
        let r = self.renderer(run);
        let rel = r.text(include)?;
        let base = run.loaded.file.path.parent().unwrap_or(Path::new("."));
        let path = base.join(&rel);
        let key = canonical(&path);
        if run.stack.contains(&key) {
            let chain: Vec<String> = run
                .stack
                .iter()
                .chain(std::iter::once(&key))
                .map(|p| crate::diagnostic::display_path(p))
                .collect();
            return Err(
                Diagnostic::new(format!("include cycle: {}", chain.join(" → ")))
                    .at(&run.loaded.file, include.span),
            );
        }
        if run.stack.len() >= MAX_INCLUDE_DEPTH {
            return Err(
                Diagnostic::new(format!("includes nest deeper than {MAX_INCLUDE_DEPTH}"))
                    .at(&run.loaded.file, include.span),
            );
        }
        let loaded = loader::load(&path).map_err(|e| {
            let first = e.diagnostics().first().map(|d| (*d).clone());
            let head = Diagnostic::new(format!("cannot include `{rel}`"))
                .at(&run.loaded.file, include.span);
            match first {
                Some(inner) => head.note(format!("because:\n{}", inner.render(false))),
                None => head,
            }
        })?;
        let mut overrides = self.options.overrides.clone();
        for (name, value) in step.with.iter().flat_map(|w| w.iter()) {
            overrides.push((name.value.to_string(), r.variable(value)?));
        }
        observer.include_started(run.depth, &self.masker.mask(&step.name.value), &path);
        let mut stack = run.stack.clone();
        stack.push(key);
        let (sub, captured) = self
            .run_scenario(
                &loaded,
                overrides,
                run.client.clone(),
                stack,
                run.depth + 1,
                observer,
            )
            .await;
        for (name, value) in captured {
            run.captured.insert(name.clone(), value.clone());
            run.vars.insert(name, value);
        }
        Ok(sub)
    }

    /// Learns the credentials of an exchange and queues it for the trace.
    fn received(&self, response: Response, trace: &mut Vec<Traced>) -> Arc<ResponseView> {
        self.masker.learn_from_exchange(
            &response.sent.headers,
            response.sent.body.as_deref(),
            &response.body,
        );
        let view = ResponseView::new(response);
        trace.push(Traced::Response(view.clone()));
        view
    }

    fn learn_from_request(&self, request: &PreparedRequest) {
        let body = match &request.body {
            Some(crate::http::PreparedBody::Bytes { data, .. }) => Some(data.as_slice()),
            _ => None,
        };
        self.masker.learn_from_exchange(&request.headers, body, &[]);
    }

    fn excerpt(&self, response: &Response) -> String {
        let mut text = format!("HTTP {} ({})\n", response.status, response.url);
        for (n, v) in response.headers.iter().take(12) {
            text.push_str(&format!("{n}: {v}\n"));
        }
        text.push('\n');
        let mut text = self.masker.mask(&text).into_owned();
        if std::str::from_utf8(&response.body).is_ok() {
            text.push_str(&eval::capture::excerpt(
                &self.masker.mask(&response.text()),
                600,
            ));
        } else {
            text.push_str(&format!("<{} bytes of binary data>", response.body.len()));
        }
        text
    }

    fn mask_diagnostic(&self, mut d: Diagnostic) -> Diagnostic {
        d.title = self.masker.mask(&d.title).into_owned();
        d.notes = d
            .notes
            .iter()
            // Mask, then cut: notes may quote whole response values.
            .map(|n| eval::capture::excerpt(&self.masker.mask(n), 1000))
            .collect();
        d
    }
}

struct StepError {
    outcome: Outcome,
    diagnostic: Diagnostic,
    poll: Option<PollSummary>,
}

fn response_status(vars: &Vars) -> String {
    vars.get("response")
        .and_then(|r| r.get_attr("status").ok())
        .map(|s| s.to_string())
        .unwrap_or_default()
}

/// `Retry-After` in seconds (HTTP dates are honoured too).
fn parse_retry_after(value: &str) -> Option<Duration> {
    if let Ok(secs) = value.trim().parse::<u64>() {
        return Some(Duration::from_secs(secs.min(3600)));
    }
    let date = chrono::DateTime::parse_from_rfc2822(value.trim()).ok()?;
    let delta = date.with_timezone(&chrono::Utc) - chrono::Utc::now();
    delta
        .to_std()
        .ok()
        .map(|d| d.min(Duration::from_secs(3600)))
}

fn canonical(path: &Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned())
}
