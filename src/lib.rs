//! stepwise replays documented HTTP API workflows from YAML scenario files, as a test suite.
//!
//! The pipeline, one module each:
//! [`loader`] (YAML → [`model`], via [`yaml`]) → [`render`] (templates, via [`template`]) →
//! [`http`] (send) → [`eval`] (captures and assertions, on a [`response`] view) →
//! [`result`] → [`report`]. The [`runner`] drives it; [`cli`] is the command line.
//! [`sandbox`] holds servers that emulate real APIs (PingOne) and never imports the runner.
//! [`snapshot`] compares responses with the `.snap` files stored beside a scenario.
//!
//! # Running a scenario from a Rust test
//!
//! [`Runner`] runs a scenario file in one call and returns a [`ScenarioResult`] to inspect.
//! Here against the built-in PingOne sandbox, started in process on a free loopback port:
//!
//! ```
//! use stepwise::sandbox::pingone::{RunningSandbox, SandboxConfig};
//! use stepwise::{Outcome, RunOptions, Runner};
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() -> std::io::Result<()> {
//! let sandbox = RunningSandbox::start(SandboxConfig::default()).await?;
//! let runner = Runner::new(RunOptions::default().with_vars(sandbox.variables()));
//! let result = runner
//!     .run_file(
//!         "scenarios/pingone/device-authorization-grant.yaml".as_ref(),
//!         &stepwise::runner::Silent,
//!     )
//!     .await;
//! assert_eq!(result.outcome, Outcome::Passed);
//! assert_eq!(result.steps.len(), 13);
//! let token_step = result.steps.last().unwrap();
//! assert_eq!(token_step.status, Some(200));
//! // Captured secrets are masked in results.
//! assert!(token_step.captures.iter().all(|c| c.value == stepwise::mask::MASK));
//! sandbox.shutdown().await;
//! # Ok(())
//! # }
//! ```
//!
//! From a plain `#[test]` function, [`Runner::run_file_blocking`] does the same without an
//! async runtime of your own.

pub mod cli;
pub mod diagnostic;
pub mod eval;
pub mod exit_code;
pub mod export;
pub mod http;
pub mod import;
pub mod inputs;
pub mod loader;
pub mod mask;
pub mod model;
pub mod render;
pub mod report;
pub mod response;
pub mod result;
pub mod runner;
pub mod sandbox;
pub mod snapshot;
pub mod suite;
pub mod template;
pub mod validate;
pub mod yaml;

// The Rust examples in docs/ are compiled (and run, unless marked `no_run`) as doctests.
#[cfg(doctest)]
#[doc = include_str!("../docs/cli.md")]
struct CliDocExamples;

pub use result::{Outcome, RunResult, ScenarioResult, StepResult};
pub use runner::{RunOptions, Runner};
