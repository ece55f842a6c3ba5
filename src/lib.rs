//! stepwise: replays documented HTTP API workflows from YAML scenario files, as a test suite.
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
pub mod template;
pub mod validate;
pub mod yaml;
