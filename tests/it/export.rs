//! `stepwise export curl`: runnable curl commands, secrets masked unless asked.

use crate::support::stepwise;
use stepwise::sandbox::pingone::{RunningSandbox, SandboxConfig, DEFAULT_WORKER_CLIENT_SECRET};

async fn export(sandbox: &RunningSandbox, extra: &[&str]) -> (Option<i32>, String) {
    let mut args: Vec<String> = vec![
        "export".into(),
        "curl".into(),
        "scenarios/pingone/device-authorization-grant.yaml".into(),
    ];
    for (k, v) in sandbox.variables() {
        let flag = if k == "adminAppSecret" {
            "--secret"
        } else {
            "--var"
        };
        args.push(flag.into());
        args.push(format!("{k}={v}"));
    }
    args.extend(extra.iter().map(|s| s.to_string()));
    let out = stepwise(args).await;
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn exports_every_step_with_secrets_masked() {
    let sandbox = RunningSandbox::start(SandboxConfig::default())
        .await
        .unwrap();
    let (code, script) = export(&sandbox, &[]).await;
    assert_eq!(code, Some(0), "{script}");
    assert_eq!(
        script.lines().filter(|l| l.starts_with("curl ")).count(),
        13,
        "{script}"
    );
    assert!(!script.contains(DEFAULT_WORKER_CLIENT_SECRET));
    assert!(!script.contains("Dev!ce-Gr4nt-Fl0w"));
    assert!(script.contains("\"password\\\":\\\"••••••\\\""), "{script}");
    // A value captured by an earlier step is a shell variable.
    assert!(script.contains("/flows/${flowID}\""), "{script}");
    assert!(
        script.contains("# flowID <- the Location header, regex flowId=([^&#]+)"),
        "{script}"
    );

    let (_, shown) = export(&sandbox, &["--show-secrets"]).await;
    assert!(shown.contains("Dev!ce-Gr4nt-Fl0w"));

    // The first command runs as it is and gets a worker token from the sandbox.
    let first = shown
        .lines()
        .find(|l| l.starts_with("curl "))
        .unwrap()
        .to_owned();
    let out = tokio::task::spawn_blocking(move || {
        std::process::Command::new("bash")
            .args(["-c", &format!("JAR=$(mktemp); {first}")])
            .output()
    })
    .await
    .unwrap();
    if let Ok(out) = out {
        if out.status.success() {
            let body: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
            assert_eq!(body["token_type"], "Bearer", "{body}");
        } else {
            // curl is missing here; .ci/run installs it for CI.
            assert!(std::env::var("CI").as_deref() != Ok("true"), "{out:?}");
        }
    }
    sandbox.shutdown().await;
}
