//! Running scenarios in process against the test server.

use crate::support::describe;
use crate::support::fixtures;
use crate::support::server::TestServer;
use stepwise::result::{Outcome, ScenarioResult};
use stepwise::runner::{RunOptions, Runner, Silent};

pub async fn run_fixture(name: &str, base: &str, extra: &[(&str, &str)]) -> ScenarioResult {
    let mut overrides = vec![("base".to_owned(), minijinja::Value::from(base))];
    for (k, v) in extra {
        overrides.push(((*k).to_owned(), minijinja::Value::from(*v)));
    }
    let runner = Runner::new(RunOptions {
        overrides,
        ..RunOptions::default()
    });
    runner.run_file(&fixtures().join(name), &Silent).await
}

#[tokio::test(flavor = "multi_thread")]
async fn every_feature_passes() {
    let server = TestServer::start().await;
    let result = run_fixture("features.yaml", &server.base(), &[]).await;
    assert_eq!(result.outcome, Outcome::Passed, "{}", describe(&result));
    let names: Vec<_> = result
        .steps
        .iter()
        .map(|s| (s.name.as_str(), s.outcome))
        .collect();
    assert_eq!(names.len(), 11);
    assert_eq!(
        names[10],
        ("skipped when the condition is false", Outcome::Skipped)
    );
    let poll = result.steps[8]
        .poll
        .as_ref()
        .expect("the token step polled");
    assert_eq!(poll.attempts, 5);
    assert_eq!(
        poll.history,
        vec!["while", "while", "slow_down", "while", "until"]
    );
    assert_eq!(poll.final_interval, std::time::Duration::from_millis(500));
    let passed = result
        .steps
        .iter()
        .flat_map(|s| &s.assertions)
        .filter(|a| a.passed)
        .count();
    assert!(passed > 40, "{passed} assertions passed");
}

#[tokio::test(flavor = "multi_thread")]
async fn polling_honours_retry_after() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("retry.yaml");
    std::fs::write(
        &file,
        r#"name: Retry-After
vars: {base: "http://127.0.0.1:9"}
steps:
  - name: wait for the job
    request:
      url: "{{ base }}/retry-after/{{ uuid() }}"
    poll:
      until: response.status == 200
      while: response.status == 503
      interval: 10ms
      max_attempts: 5
    capture:
      waited: $.waited_ms
    expect:
      jsonpath:
        $.status: done
"#,
    )
    .unwrap();
    let runner = Runner::new(RunOptions::default().with_vars([("base", server.base())]));
    let result = runner.run_file(&file, &Silent).await;
    assert_eq!(result.outcome, Outcome::Passed, "{}", describe(&result));
    let poll = result.steps[0].poll.as_ref().unwrap();
    assert_eq!(poll.attempts, 2);
    // The 10 ms interval gave way to the server's one second.
    let waited: u64 = result.steps[0].captures[0].value.parse().unwrap();
    assert!(waited >= 990, "the second attempt came after {waited} ms");
}
