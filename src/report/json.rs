//! The JSON report: the one home of its schema, documented field by field in
//! `docs/report.md`. The report structs here are mapped from the result types, so that the
//! schema changes only on purpose: adding a field keeps [`VERSION`], removing or renaming one
//! bumps it. A pure function of the run's result.

use super::{outcome_name, timestamp};
use crate::diagnostic::{display_path, Diagnostic};
use crate::result::{Outcome, RunResult, ScenarioResult, StepResult};
use serde::Serialize;
use std::time::Duration;

/// The version of the schema; see the version policy in `docs/report.md`.
pub const VERSION: u32 = 1;

/// Renders the whole run as a pretty-printed JSON document, ending with a line break.
pub fn render(run: &RunResult) -> String {
    let mut out = Vec::new();
    // Writing into a vector cannot fail.
    let _ = render_to(run, &mut out);
    String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

/// [`render`], written to `out` as it is serialised.
pub fn render_to(run: &RunResult, out: &mut dyn std::io::Write) -> std::io::Result<()> {
    let report = Report {
        version: VERSION,
        stepwise: env!("CARGO_PKG_VERSION"),
        started_at: run.started_at.map(timestamp),
        duration_ms: millis(run.duration),
        interrupted: run.interrupted,
        summary: summary(run),
        scenarios: run.scenarios.iter().map(scenario).collect(),
    };
    // Serialising plain structs of strings and numbers cannot fail but for the writer.
    serde_json::to_writer_pretty(&mut *out, &report).map_err(std::io::Error::from)?;
    out.write_all(b"\n")
}

#[derive(Serialize)]
struct Report<'a> {
    version: u32,
    stepwise: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    started_at: Option<String>,
    duration_ms: u64,
    interrupted: bool,
    summary: Summary,
    scenarios: Vec<Scenario<'a>>,
}

#[derive(Serialize)]
struct Summary {
    passed: bool,
    scenarios: Counts,
    steps: Counts,
}

#[derive(Serialize, Default)]
struct Counts {
    total: usize,
    passed: usize,
    failed: usize,
    network_error: usize,
    invalid: usize,
    skipped: usize,
}

impl Counts {
    fn add(&mut self, outcome: Outcome) {
        self.total += 1;
        match outcome {
            Outcome::Passed => self.passed += 1,
            Outcome::Skipped => self.skipped += 1,
            Outcome::Failed => self.failed += 1,
            Outcome::NetworkError => self.network_error += 1,
            Outcome::Invalid => self.invalid += 1,
        }
    }
}

#[derive(Serialize)]
struct Scenario<'a> {
    name: &'a str,
    path: String,
    outcome: &'static str,
    duration_ms: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<Error<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    skip_reason: Option<&'a str>,
    steps: Vec<Step<'a>>,
}

#[derive(Serialize)]
struct Error<'a> {
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    position: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hint: Option<&'a str>,
    #[serde(skip_serializing_if = "<[String]>::is_empty")]
    notes: &'a [String],
    rendered: String,
}

#[derive(Serialize)]
struct Step<'a> {
    name: &'a str,
    outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    request: Option<Request<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    status: Option<u16>,
    duration_ms: u64,
    captures: Vec<Capture<'a>>,
    assertions: Vec<Assertion<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    poll: Option<Poll<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    error: Option<Error<'a>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    excerpt: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    included: Option<Box<Scenario<'a>>>,
}

#[derive(Serialize)]
struct Request<'a> {
    method: &'a str,
    url: &'a str,
}

#[derive(Serialize)]
struct Capture<'a> {
    name: &'a str,
    value: &'a str,
    secret: bool,
}

#[derive(Serialize)]
struct Assertion<'a> {
    what: &'a str,
    passed: bool,
    expected: &'a str,
    actual: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    position: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    diff: Option<&'a str>,
}

#[derive(Serialize)]
struct Poll<'a> {
    attempts: u32,
    stopped: &'a str,
    history: &'a [String],
    final_interval_ms: u64,
}

fn summary(run: &RunResult) -> Summary {
    let mut scenarios = Counts::default();
    let mut steps = Counts::default();
    for s in &run.scenarios {
        scenarios.add(s.outcome);
        count_steps(s, &mut steps);
    }
    Summary {
        passed: run.passed() && !run.interrupted,
        scenarios,
        steps,
    }
}

/// Counts the steps that sent requests (or were skipped, or failed before sending): an
/// include step is counted through its included steps, as in the terminal's summary.
fn count_steps(s: &ScenarioResult, counts: &mut Counts) {
    for step in &s.steps {
        match &step.included {
            Some(included) => count_steps(included, counts),
            None => counts.add(step.outcome),
        }
    }
}

fn scenario(s: &ScenarioResult) -> Scenario<'_> {
    Scenario {
        name: &s.name,
        path: display_path(&s.path),
        outcome: outcome_name(s.outcome),
        duration_ms: millis(s.duration),
        error: s.error.as_ref().map(error),
        skip_reason: s.skip_reason.as_deref(),
        steps: s.steps.iter().map(step).collect(),
    }
}

fn step(s: &StepResult) -> Step<'_> {
    Step {
        name: &s.name,
        outcome: outcome_name(s.outcome),
        request: s.request.as_ref().map(|r| Request {
            method: &r.method,
            url: &r.url,
        }),
        status: s.status,
        duration_ms: millis(s.duration),
        captures: s
            .captures
            .iter()
            .map(|c| Capture {
                name: &c.name,
                value: &c.value,
                secret: c.secret,
            })
            .collect(),
        assertions: s
            .assertions
            .iter()
            .map(|a| Assertion {
                what: &a.what,
                passed: a.passed,
                expected: &a.expected,
                actual: &a.actual,
                position: a.position.as_deref(),
                diff: a.diff.as_deref(),
            })
            .collect(),
        poll: s.poll.as_ref().map(|p| Poll {
            attempts: p.attempts,
            stopped: &p.stopped,
            history: &p.history,
            final_interval_ms: millis(p.final_interval),
        }),
        error: s.error.as_deref().map(error),
        excerpt: s.excerpt.as_deref(),
        included: s.included.as_deref().map(|i| Box::new(scenario(i))),
    }
}

fn error(d: &Diagnostic) -> Error<'_> {
    Error {
        message: &d.title,
        position: d.position(),
        hint: d.hint.as_deref(),
        notes: &d.notes,
        rendered: d.render(false),
    }
}

fn millis(d: Duration) -> u64 {
    u64::try_from(d.as_millis()).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::result::CaptureResult;
    use std::path::PathBuf;

    #[test]
    fn maps_every_field_and_leaves_out_absent_ones() {
        let mut step = StepResult::new("get");
        step.duration = Duration::from_millis(42);
        step.captures.push(CaptureResult {
            name: "token".into(),
            value: crate::mask::MASK.into(),
            secret: true,
        });
        let mut skipped = StepResult::new("later");
        skipped.outcome = Outcome::Skipped;
        let run = RunResult {
            scenarios: vec![ScenarioResult {
                skip_reason: None,
                name: "one".into(),
                path: PathBuf::from("one.yaml"),
                outcome: Outcome::Passed,
                steps: vec![step, skipped],
                error: None,
                duration: Duration::from_millis(50),
            }],
            duration: Duration::from_millis(60),
            ..RunResult::default()
        };
        let json: serde_json::Value = serde_json::from_str(&render(&run)).unwrap();
        assert_eq!(json["version"], 1);
        assert_eq!(json["stepwise"], env!("CARGO_PKG_VERSION"));
        assert!(json.get("started_at").is_none());
        assert_eq!(json["duration_ms"], 60);
        assert_eq!(json["interrupted"], false);
        assert_eq!(json["summary"]["passed"], true);
        assert_eq!(json["summary"]["steps"]["total"], 2);
        assert_eq!(json["summary"]["steps"]["skipped"], 1);
        let s = &json["scenarios"][0];
        assert_eq!(s["path"], "one.yaml");
        assert_eq!(s["steps"][0]["duration_ms"], 42);
        assert_eq!(s["steps"][0]["captures"][0]["value"], crate::mask::MASK);
        assert_eq!(s["steps"][0]["captures"][0]["secret"], true);
        assert!(s["steps"][0].get("request").is_none());
        assert_eq!(s["steps"][1]["outcome"], "skipped");
    }
}
