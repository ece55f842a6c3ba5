//! The integration tests: one binary, topic modules (a single link on a 2-core machine).
#![allow(clippy::unwrap_used, clippy::expect_used)] // tests may panic on broken fixtures

mod support;

mod browser;
mod cli;
mod docs;
mod editor;
mod export;
mod failures;
mod import;
mod reports;
mod robustness;
mod run;
mod sandbox_cli;
mod sandbox_pingone;
mod scenarios;
mod schema;
mod snapshots;
mod suite;
mod validate;
