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

#[tokio::test(flavor = "multi_thread")]
async fn completions_and_man_page_come_from_the_cli_definition() {
    for (shell, marker) in [
        ("bash", "complete -F _stepwise"),
        ("zsh", "#compdef stepwise"),
        ("fish", "complete -c stepwise"),
    ] {
        let out = stepwise(vec!["completions".into(), shell.into()]).await;
        let text = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{shell}");
        assert!(text.contains(marker), "{shell}: {text}");
        for sub in ["run", "validate", "sandbox", "export"] {
            assert!(text.contains(sub), "{shell} completion lacks {sub}");
        }
        assert!(
            text.contains("--fail-fast") || text.contains("fail-fast"),
            "{shell}"
        );
    }
    let out = stepwise(vec!["man".into()]).await;
    let text = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    assert!(text.contains(".TH stepwise 1"), "{text}");
    assert!(text.contains("validate"), "{text}");
}
