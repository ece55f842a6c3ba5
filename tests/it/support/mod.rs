//! Test support: a local HTTP server with the behaviours scenarios need (JSON, redirects with
//! cookies, RFC 8628-style polling, HTML forms, misbehaviour), and helpers to run scenarios.

pub mod server;

use std::path::{Path, PathBuf};
use std::process::Output;

/// The folder of test fixtures.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Runs the real `stepwise` binary with arguments, from the crate root.
pub async fn stepwise(args: Vec<String>) -> Output {
    tokio::task::spawn_blocking(move || {
        std::process::Command::new(env!("CARGO_BIN_EXE_stepwise"))
            .args(&args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("NO_COLOR", "1")
            .env_remove("CI")
            .output()
            .expect("the stepwise binary runs")
    })
    .await
    .expect("the blocking task finishes")
}

/// Makes output stable for golden files: ports, durations, temp paths.
pub fn normalize(text: &str) -> String {
    let port = regex::Regex::new(r"127\.0\.0\.1:\d+").unwrap();
    let dur = regex::Regex::new(r"\b\d+(\.\d+)?(ms|s)\b").unwrap();
    let text = port.replace_all(text, "127.0.0.1:[port]");
    dur.replace_all(&text, "[time]").into_owned()
}
