//! The top level of a scenario file and its steps.

use super::{Capture, Expect, Request, Snapshot, Template, Value};
use crate::yaml::Spanned;
use indexmap::IndexMap;
use serde::Deserialize;

/// A scenario file: variables, defaults and steps run in order.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// A human name; defaults to the file name.
    #[serde(default)]
    pub name: Option<Spanned<String>>,
    #[serde(default)]
    pub description: Option<String>,
    /// Free-form labels used to select scenarios.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Variables, evaluated in order; each may use the ones before it.
    #[serde(default)]
    pub vars: IndexMap<Spanned<String>, Value>,
    /// Names of variables whose values are never printed.
    #[serde(default)]
    pub secrets: Vec<Spanned<String>>,
    #[serde(default)]
    pub defaults: Defaults,
    pub steps: Vec<Spanned<Step>>,
}

/// Settings every step inherits unless it says otherwise.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    /// Headers sent with every request (a step's own headers win).
    #[serde(default)]
    pub headers: IndexMap<Spanned<String>, Template>,
    /// Per-request timeout (default 30 s).
    #[serde(default)]
    pub timeout: Option<Template>,
    /// Whether redirects are followed (default: no).
    #[serde(default)]
    pub follow_redirects: Option<bool>,
    /// How many redirects one request may follow (default 10).
    #[serde(default)]
    pub max_redirects: Option<u32>,
    /// The largest response body read, in bytes (default 128 MiB).
    #[serde(default)]
    pub max_body_size: Option<u64>,
}

/// One step: an HTTP request (or an included scenario) with captures and expectations.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    pub name: Spanned<String>,
    #[serde(default)]
    pub request: Option<Spanned<Request>>,
    /// Another scenario file run as this step.
    #[serde(default)]
    pub include: Option<Template>,
    /// Variables passed to the included scenario.
    #[serde(default, rename = "with")]
    pub with: IndexMap<Spanned<String>, Value>,
    #[serde(default)]
    pub capture: IndexMap<Spanned<String>, Capture>,
    #[serde(default)]
    pub expect: Option<Expect>,
    #[serde(default)]
    pub poll: Option<Spanned<Poll>>,
    /// An expression; the step runs only when it is true.
    #[serde(default)]
    pub when: Option<Template>,
    /// A pause before the step.
    #[serde(default)]
    pub delay: Option<Template>,
    /// Store the response in a `.snap` file beside the scenario and compare later runs with it.
    #[serde(default)]
    pub snapshot: Option<Spanned<Snapshot>>,
}

/// An `include` step's settings (kept as a type for documentation and schema purposes).
#[derive(Debug, Clone, Deserialize)]
pub struct Include {
    pub path: Template,
}

/// Re-send a step until a condition holds (RFC 8628 section 3.5 polling and the like).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Poll {
    /// Expression: polling succeeded.
    #[serde(default)]
    pub until: Option<Template>,
    /// Expression: not yet, keep waiting.
    #[serde(default, rename = "while")]
    pub while_: Option<Template>,
    /// Expression: the server asks to slow down; the interval grows by `slow_down_by`.
    #[serde(default)]
    pub slow_down: Option<Template>,
    /// How much `slow_down` adds to the interval (default 5 s).
    #[serde(default)]
    pub slow_down_by: Option<Template>,
    /// Time between attempts (default 5 s, RFC 8628's default).
    #[serde(default)]
    pub interval: Option<Template>,
    /// Give up after this long.
    #[serde(default)]
    pub timeout: Option<Template>,
    /// Give up after this many attempts.
    #[serde(default)]
    pub max_attempts: Option<Template>,
}
