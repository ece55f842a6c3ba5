//! Results are data: the runner produces them, reporters only read them. Every value that
//! came from a variable or a response is already masked when it is stored here.

use crate::diagnostic::Diagnostic;
use std::path::PathBuf;
use std::time::{Duration, SystemTime};

/// How a step or scenario ended.
/// Text kept in results: up to 24 bytes inline, without an allocation of its own.
///
/// Why: results are kept until the reports are written, and most of their strings are short
/// (`status`, `200`, `true`, a step's name, a position): as `String`s, each took a heap block
/// with its header, and a run kept 1.25 KB per step, more than the report's JSON of it
/// (docs/performance.md).
pub type Text = compact_str::CompactString;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Outcome {
    Passed,
    /// Skipped by `when`.
    Skipped,
    /// An assertion or capture failed.
    Failed,
    /// The request could not be made or had no response (network, I/O).
    NetworkError,
    /// The scenario itself is wrong (undefined variable, bad template, ...).
    Invalid,
}

impl Outcome {
    pub fn is_failure(self) -> bool {
        matches!(
            self,
            Outcome::Failed | Outcome::NetworkError | Outcome::Invalid
        )
    }
}

/// The result of one scenario file.
#[derive(Debug, Clone)]
pub struct ScenarioResult {
    pub name: String,
    pub path: PathBuf,
    pub outcome: Outcome,
    pub steps: Vec<StepResult>,
    /// An error that stopped the scenario outside any step (e.g. in `vars`).
    pub error: Option<Diagnostic>,
    /// Why the scenario did not run (outcome `Skipped`), e.g. a variable it `requires` is
    /// not given.
    pub skip_reason: Option<String>,
    pub duration: Duration,
}

/// The result of one step.
// `poll` and `error` are boxed: most steps have neither, and results are kept until the
// reports are written (docs/performance.md).
#[derive(Debug, Clone)]
pub struct StepResult {
    pub name: Text,
    pub outcome: Outcome,
    /// `METHOD URL` of the (last) request, masked.
    pub request: Option<RequestSummary>,
    pub status: Option<u16>,
    pub duration: Duration,
    pub poll: Option<Box<PollSummary>>,
    pub captures: Vec<CaptureResult>,
    pub assertions: Vec<AssertionResult>,
    /// Why the step could not run or failed outside assertions.
    pub error: Option<Box<Diagnostic>>,
    /// The start of the response, masked, shown with failures.
    pub excerpt: Option<String>,
    /// The steps of an included scenario.
    pub included: Option<Box<ScenarioResult>>,
    /// The step failed only because snapshots differ from the stored ones (or none is stored
    /// yet): the response is fine for the steps that follow, so the scenario went on, and one
    /// run offers every snapshot for review.
    pub only_snapshots_failed: bool,
}

impl StepResult {
    pub fn new(name: impl Into<Text>) -> Self {
        StepResult {
            name: name.into(),
            outcome: Outcome::Passed,
            request: None,
            status: None,
            duration: Duration::ZERO,
            poll: None,
            captures: Vec::new(),
            assertions: Vec::new(),
            error: None,
            excerpt: None,
            included: None,
            only_snapshots_failed: false,
        }
    }
}

#[derive(Debug, Clone)]
pub struct RequestSummary {
    pub method: Text,
    pub url: Text,
}

/// How polling went.
#[derive(Debug, Clone)]
pub struct PollSummary {
    pub attempts: u32,
    /// Why polling stopped, in words.
    pub stopped: String,
    /// How each attempt was classified (`until`, `while`, `slow_down`, ...), in order.
    pub history: Vec<String>,
    /// The interval in force at the end.
    pub final_interval: Duration,
}

#[derive(Debug, Clone)]
pub struct CaptureResult {
    pub name: Text,
    /// The value as shown (masked when secret).
    pub value: Text,
    pub secret: bool,
}

/// One checked assertion.
#[derive(Debug, Clone)]
pub struct AssertionResult {
    /// What was checked, e.g. `jsonpath $.status equals`.
    pub what: Text,
    pub passed: bool,
    pub expected: Text,
    pub actual: Text,
    /// `file:line:col` of the assertion in the scenario.
    pub position: Option<Text>,
    /// A unified diff from what was expected to what came (snapshots), masked.
    pub diff: Option<String>,
}

/// The result of a whole run.
#[derive(Debug, Clone, Default)]
pub struct RunResult {
    pub scenarios: Vec<ScenarioResult>,
    pub duration: Duration,
    /// When the run started (wall clock), for reports; `None` when not recorded.
    pub started_at: Option<SystemTime>,
    /// The run was stopped (Ctrl-C) before every scenario ran: `scenarios` holds those that
    /// finished.
    pub interrupted: bool,
}

impl RunResult {
    pub fn passed(&self) -> bool {
        self.scenarios.iter().all(|s| !s.outcome.is_failure())
    }
}
