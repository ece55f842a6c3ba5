//! stepwise replays documented HTTP API workflows from YAML scenario files, as a test suite.
//!
//! The pipeline, one module each:
//! [`loader`] (YAML → [`model`], via [`yaml`]) → [`render`] (templates, via [`template`]) →
//! [`http`] (send) → [`eval`] (captures and assertions, on a [`response`] view) →
//! [`result`] → [`report`]. The [`runner`] drives it; [`cli`] is the command line.
//! [`sandbox`] holds servers that emulate real APIs (PingOne) and never imports the runner.

pub mod cli;
pub mod diagnostic;
pub mod eval;
pub mod exit_code;
pub mod http;
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
pub mod suite;
pub mod template;
pub mod validate;
pub mod yaml;
