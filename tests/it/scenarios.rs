//! The PingOne scenario in detail, and 50 of it at once against one sandbox. (Every file
//! under `scenarios/` also runs as its own test: see tests/scenarios.rs.)

use crate::support::describe;
use std::path::Path;
use std::sync::Arc;
use stepwise::result::Outcome;
use stepwise::runner::{RunOptions, Runner, Silent};
use stepwise::sandbox::pingone::{RunningSandbox, SandboxConfig};

fn runner_for(sandbox: &RunningSandbox) -> Runner {
    let overrides = sandbox
        .variables()
        .into_iter()
        .map(|(k, v)| (k, minijinja::Value::from(v)))
        .collect();
    Runner::new(RunOptions {
        overrides,
        secret_names: vec!["adminAppSecret".into()],
        ..RunOptions::default()
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn the_device_flow_runs_all_twelve_steps() {
    let sandbox = RunningSandbox::start(SandboxConfig::default())
        .await
        .unwrap();
    let runner = runner_for(&sandbox);
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios/pingone/device-authorization-grant.yaml");
    let result = runner.run_file(&file, &Silent).await;
    assert_eq!(result.outcome, Outcome::Passed, "{}", describe(&result));
    let names: Vec<&str> = result.steps.iter().map(|s| s.name.as_str()).collect();
    for n in 0..=11 {
        assert!(
            names.iter().any(|s| s.starts_with(&format!("Step {n}:"))),
            "step {n} missing from {names:?}"
        );
    }
    let early = &result.steps[6];
    assert_eq!(early.status, Some(400));
    let last = result.steps.last().unwrap();
    assert_eq!(last.status, Some(200));
    assert!(last.poll.is_some());
    // Every step asserted something, and every secret stayed masked in the results.
    assert!(result.steps.iter().all(|s| !s.assertions.is_empty()));
    for step in &result.steps {
        for c in &step.captures {
            if ["accessToken", "deviceCode", "deviceAccessToken"].contains(&c.name.as_str()) {
                assert_eq!(c.value, stepwise::mask::MASK, "{} leaked", c.name);
            }
        }
    }
    sandbox.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fifty_device_flows_run_concurrently_against_one_sandbox() {
    let sandbox = RunningSandbox::start(SandboxConfig::default())
        .await
        .unwrap();
    let runner = Arc::new(runner_for(&sandbox));
    let file = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios/pingone/device-authorization-grant.yaml");
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..50 {
        let runner = runner.clone();
        let file = file.clone();
        tasks.spawn(async move { runner.run_file(&file, &Silent).await });
    }
    let mut passed = 0;
    while let Some(result) = tasks.join_next().await {
        let result = result.unwrap();
        assert_eq!(result.outcome, Outcome::Passed, "{}", describe(&result));
        passed += 1;
    }
    assert_eq!(passed, 50);
    let stats = sandbox.stats();
    assert!(stats.applications >= 50, "{stats:?}");
    sandbox.shutdown().await;
}
