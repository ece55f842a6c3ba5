//! The real binary: output, exit codes.

use crate::support::server::TestServer;
use crate::support::{normalize, stepwise};

#[tokio::test(flavor = "multi_thread")]
async fn run_prints_each_step_and_a_summary() {
    let server = TestServer::start().await;
    let out = stepwise(vec![
        "run".into(),
        "tests/fixtures/features.yaml".into(),
        "--var".into(),
        format!("base={}", server.base()),
    ])
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("✓ poll the token endpoint  POST http://127.0.0.1"),
        "{stdout}"
    );
    assert!(
        normalize(&stdout).contains(
            "PASSED  scenarios: 1 passed, 0 failed; steps: 10 passed, 0 failed, 1 skipped"
        ),
        "{stdout}"
    );
}
