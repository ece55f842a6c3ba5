//! The top level of a scenario file and its steps.

use super::schema::{DurationText, ExpressionText, TemplateText};
use super::{Capture, Expect, Request, Snapshot, Template, Value};
use crate::yaml::Spanned;
use indexmap::IndexMap;
use schemars::JsonSchema;
use serde::Deserialize;

/// A scenario file: variables, defaults and steps run in order.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Scenario {
    /// A human name, shown in the output and reports; defaults to the file name.
    #[serde(default)]
    #[schemars(example = &"PingOne — Configure Device Authorization Grant Flow")]
    pub name: Option<Spanned<String>>,
    /// Free text for the people who read the file; not templated, not printed.
    #[serde(default)]
    #[schemars(example = &"Creates an application, then signs in with it.")]
    pub description: Option<String>,
    /// Free-form labels; `stepwise run --tag` selects scenarios by them.
    #[serde(default)]
    #[schemars(example = serde_json::json!(["smoke", "device-flow"]))]
    pub tags: Vec<String>,
    /// Variables that must come from outside the file (env files, `--var`, `--secret`,
    /// `STEPWISE_VAR_<name>`, `--sandbox`); when one is missing, the scenario is skipped and
    /// says why. For scenarios that need a server only some runs have.
    #[serde(default)]
    #[schemars(example = serde_json::json!(["issuer"]))]
    pub requires: Vec<Spanned<String>>,
    /// Variables, evaluated in order; each may use the ones before it. Values are
    /// templates, and one that is exactly `{{ expr }}` keeps the expression's type.
    /// Variables given from outside (env files, `--var`) replace them.
    #[serde(default)]
    #[schemars(example = serde_json::json!({
        "base": "http://127.0.0.1:8080",
        "apiPath": "{{ env('PINGONE_API_PATH', 'https://api.pingone.com/v1') }}",
        "runID": "{{ timestamp() }}"
    }))]
    pub vars: IndexMap<Spanned<compact_str::CompactString>, Value>,
    /// Names of variables (or captures) whose values are masked in every output.
    #[serde(default)]
    #[schemars(example = serde_json::json!(["adminAppSecret", "accessToken"]))]
    pub secrets: Vec<Spanned<String>>,
    /// Settings every step inherits unless it says otherwise.
    #[serde(default)]
    #[schemars(example = serde_json::json!({
        "headers": {"Accept": "application/json"},
        "timeout": "10s"
    }))]
    pub defaults: Defaults,
    /// The steps, run in order; the first failing one stops the scenario.
    #[schemars(length(min = 1))]
    #[schemars(example = serde_json::json!([{
        "name": "read the widget",
        "request": {"url": "{{ base }}/json"},
        "expect": {"status": 200}
    }]))]
    pub steps: Vec<Spanned<Step>>,
}

/// Settings every step inherits unless it says otherwise.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Defaults {
    /// Headers sent with every request (a step's `auth` and `headers` win). Rendered once,
    /// when the scenario starts: they can use `vars`, not captures.
    #[serde(default)]
    #[schemars(
        with = "IndexMap<String, TemplateText>",
        example = serde_json::json!({"Accept": "application/json", "X-Api-Key": "{{ api_key }}"})
    )]
    pub headers: IndexMap<Spanned<compact_str::CompactString>, Template>,
    /// Per-request timeout (default 30 s): the whole exchange, redirects and body included.
    #[serde(default)]
    #[schemars(with = "Option<DurationText>", example = &"10s")]
    pub timeout: Option<Template>,
    /// Whether 3xx responses are followed (default: no).
    #[serde(default)]
    #[schemars(example = false)]
    pub follow_redirects: Option<bool>,
    /// How many redirects one request may follow (default 10).
    #[serde(default)]
    #[schemars(example = 5)]
    pub max_redirects: Option<u32>,
    /// The largest response body read, in bytes (default 128 MiB); a larger one fails the
    /// step.
    #[serde(default)]
    #[schemars(example = 1048576)]
    pub max_body_size: Option<u64>,
}

/// One step: an HTTP request (or an included scenario) with captures and expectations.
/// A step has exactly one of `request` and `include`.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
// The loader's rule, for editors: exactly one of `request` and `include`.
#[schemars(extend("oneOf" = [{"required": ["request"]}, {"required": ["include"]}]))]
// `request`, `expect` and `snapshot` are boxed: inline they made a step 3.4 KB even when
// absent, so a generated 8 MiB file of short steps took more than a gigabyte to load.
pub struct Step {
    /// The step's name, shown in the output. Required.
    #[schemars(example = &"Get a worker access token")]
    pub name: Spanned<compact_str::CompactString>,
    /// The HTTP request to send.
    #[serde(default)]
    #[schemars(example = serde_json::json!({
        "method": "POST",
        "url": "{{ authPath }}/{{ envID }}/as/token",
        "form": {"grant_type": "client_credentials"}
    }))]
    pub request: Option<Spanned<Box<Request>>>,
    /// Another scenario file run as this step, relative to this file (a template). The
    /// variables it captures come back.
    #[serde(default)]
    #[schemars(with = "Option<TemplateText>", example = &"include/worker-token.yaml")]
    pub include: Option<Box<Template>>,
    /// Variables passed to the included scenario (only with `include`); they replace its
    /// `vars` of the same name.
    #[serde(default, rename = "with")]
    #[schemars(
        with = "IndexMap<String, Value>",
        example = serde_json::json!({"who": "{{ user }}"})
    )]
    // Boxed, as the other rare fields: only `include` steps have it.
    pub with: Option<Box<IndexMap<Spanned<compact_str::CompactString>, Value>>>,
    /// Values taken from the response into variables, in order: name → source. A plain
    /// string is a JSONPath.
    #[serde(default)]
    #[schemars(example = serde_json::json!({
        "accessToken": "$.access_token",
        "requestID": {"header": "X-Request-ID"}
    }))]
    pub capture: super::Map<Spanned<compact_str::CompactString>, Capture>,
    /// Assertions on the response; every failing one is reported.
    #[serde(default)]
    #[schemars(example = serde_json::json!({
        "status": 200,
        "jsonpath": {"$.token_type": "Bearer"}
    }))]
    pub expect: Option<Box<Expect>>,
    /// Re-send the request until a condition holds (RFC 8628 token polling and the like).
    #[serde(default)]
    #[schemars(example = serde_json::json!({
        "until": "response.status == 200",
        "while": "response.json.error == 'authorization_pending'",
        "interval": "{{ interval }}"
    }))]
    // Boxed: 392 bytes inline in every step, and few steps poll.
    pub poll: Option<Box<Spanned<Poll>>>,
    /// An expression; the step runs only when it is true, and is reported as skipped
    /// otherwise. `response` is not available yet.
    #[serde(default)]
    #[schemars(with = "Option<ExpressionText>", example = &"mode == 'full'")]
    pub when: Option<Box<Template>>,
    /// A pause before the step's request.
    #[serde(default)]
    #[schemars(with = "Option<DurationText>", example = &"500ms")]
    pub delay: Option<Box<Template>>,
    /// Store the response in a `.snap` file beside the scenario and compare later runs with
    /// it: `true`, or a mapping of settings.
    #[serde(default)]
    #[schemars(example = true, example = serde_json::json!({"headers": ["location"], "redact": {"$.name": "[name]"}}))]
    pub snapshot: Option<Box<Spanned<Snapshot>>>,
}

/// An `include` step's settings (kept as a type for documentation and schema purposes).
#[derive(Debug, Clone, Deserialize)]
pub struct Include {
    pub path: Template,
}

/// Re-send a step until a condition holds (RFC 8628 section 3.5 polling and the like).
/// Needs `until`, `while`, or both; after each attempt `until` is checked, then
/// `slow_down`, then `while`, and a response that matches none stops polling.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
// The loader's rule, for editors: `until`, `while`, or both.
#[schemars(extend("anyOf" = [{"required": ["until"]}, {"required": ["while"]}]))]
pub struct Poll {
    /// Expression: polling succeeded.
    #[serde(default)]
    #[schemars(with = "Option<ExpressionText>", example = &"response.status == 200")]
    pub until: Option<Template>,
    /// Expression: not yet, keep waiting.
    #[serde(default, rename = "while")]
    #[schemars(
        with = "Option<ExpressionText>",
        example = &"response.json.error == 'authorization_pending'"
    )]
    pub while_: Option<Template>,
    /// Expression: the server asks to slow down; the interval grows by `slow_down_by`.
    #[serde(default)]
    #[schemars(with = "Option<ExpressionText>", example = &"response.json.error == 'slow_down'")]
    pub slow_down: Option<Template>,
    /// How much `slow_down` adds to the interval (default 5 s, RFC 8628's).
    #[serde(default)]
    #[schemars(with = "Option<DurationText>", example = &"5s")]
    pub slow_down_by: Option<Template>,
    /// Time between attempts (default 5 s, RFC 8628's); a longer `Retry-After` wins.
    #[serde(default)]
    #[schemars(with = "Option<DurationText>", example = &"{{ interval }}", example = 2)]
    pub interval: Option<Template>,
    /// Give up after this long, counted from the first attempt (default 10 minutes when
    /// `max_attempts` is not set either).
    #[serde(default)]
    #[schemars(with = "Option<DurationText>", example = &"{{ expires_in }}", example = &"5m")]
    pub timeout: Option<Template>,
    /// Give up after this many attempts (a whole number, or a template that renders to one).
    #[serde(default)]
    #[schemars(with = "Option<TemplateText>", example = 10)]
    pub max_attempts: Option<Template>,
}
