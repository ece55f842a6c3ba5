//! stepwise: replays documented HTTP API workflows from YAML scenario files, as a test suite.
pub mod yaml;
pub mod model;
pub mod diagnostic;
pub mod template;
