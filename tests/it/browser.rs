//! The browser side of web flows (identity providers' login, consent and device pages):
//! HTML forms with hidden fields, 303s to relative and absolute `Location`s, cookies scoped to
//! paths, against the test server. The same features replay oidc-provider's real pages in
//! `scenarios/interop/oidc-provider/`.

use crate::run::run_fixture;
use crate::support::describe;
use crate::support::server::{TestServer, WEB_CSRF};
use stepwise::result::{Outcome, ScenarioResult};
use stepwise::runner::{RunOptions, Runner, Silent};

#[tokio::test(flavor = "multi_thread")]
async fn a_sign_in_form_is_replayed_as_a_browser_would() {
    let server = TestServer::start().await;
    let result = run_fixture("browser.yaml", &server.base(), &[]).await;
    assert_eq!(result.outcome, Outcome::Passed, "{}", describe(&result));
    assert_eq!(result.steps.len(), 6);

    // The hidden field's value, HTML entities decoded.
    let csrf = result.steps[0]
        .captures
        .iter()
        .find(|c| c.name == "csrf")
        .expect("the csrf capture");
    assert_eq!(csrf.value, WEB_CSRF);
}

/// Runs a scenario written here, with variables from outside.
async fn run_text(yaml: &str, vars: &[(&str, String)]) -> ScenarioResult {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("scenario.yaml");
    std::fs::write(&file, yaml).unwrap();
    let runner = Runner::new(RunOptions::default().with_vars(vars.iter().cloned()));
    runner.run_file(&file, &Silent).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_location_that_is_not_ascii_is_followed() {
    let server = TestServer::start().await;
    let result = run_text(
        r#"
steps:
  - name: the redirect is raw UTF-8
    request:
      url: "{{ base }}/web/unicode"
      follow_redirects: true
    expect:
      status: 200
      jsonpath:
        $.path: /echo
        $.query.city: Zürich
"#,
        &[("base", server.base())],
    )
    .await;
    assert_eq!(result.outcome, Outcome::Passed, "{}", describe(&result));
}

#[tokio::test(flavor = "multi_thread")]
async fn credentials_set_by_a_step_do_not_follow_a_redirect_to_another_host() {
    let server = TestServer::start().await;
    let other = TestServer::start().await;
    let result = run_text(
        r#"
name: Redirects and credentials
steps:
  - name: same host, same port
    request:
      url: "{{ base }}/redirect"
      query: {to: /echo}
      follow_redirects: true
      headers: {Cookie: mine=1, Authorization: Bearer tok-123}
    expect:
      jsonpath:
        $.headers.cookie: mine=1
        $.headers.authorization: Bearer tok-123

  - name: another port
    request:
      url: "{{ base }}/redirect"
      query: {to: "{{ other }}/echo"}
      follow_redirects: true
      headers: {Cookie: mine=1, Authorization: Bearer tok-123}
    expect:
      jsonpath:
        $.path: /echo
        $.headers.cookie: {absent: true}
        $.headers.authorization: {absent: true}
"#,
        &[("base", server.base()), ("other", other.base())],
    )
    .await;
    assert_eq!(result.outcome, Outcome::Passed, "{}", describe(&result));
}
