//! Scenarios that fail, run by the real binary against the test server: the outcome, the exit
//! code, and golden files of the terminal failure output. Passing counterparts sit next to each
//! failing case, so that every test can fail both ways.

use crate::support::server::TestServer;
use crate::support::{cli, contains_bytes, refused_port, run, run_in_process, scrub, Cli};
use stepwise::exit_code;
use stepwise::result::Outcome;

/// Runs `fixture` with `--var case=CASE` (the fixtures guard each case's step with `when`).
async fn case(fixture: &str, server: &TestServer, case: &str) -> Cli {
    let var = format!("case={case}");
    run(fixture, &server.base(), &["--var", &var]).await
}

// ---------------------------------------------------------------- captures

#[tokio::test(flavor = "multi_thread")]
async fn every_capture_kind_passes() {
    let server = TestServer::start().await;
    let out = run("failures/captures.yaml", &server.base(), &[]).await;
    out.expect_code(exit_code::SUCCESS);
    assert!(
        scrub(&out.stdout).contains(
            "PASSED  scenarios: 1 passed, 0 failed; steps: 4 passed, 0 failed, 0 skipped"
        ),
        "{}",
        out.all()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn capture_values_are_what_the_response_held() {
    let server = TestServer::start().await;
    let result = run_in_process("failures/captures.yaml", &server.base(), &[]).await;
    assert_eq!(result.outcome, Outcome::Passed, "{result:#?}");
    let captured: Vec<(String, String)> = result
        .steps
        .iter()
        .flat_map(|s| &s.captures)
        .map(|c| (c.name.to_string(), c.value.to_string()))
        .collect();
    let get = |name: &str| {
        captured
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no capture `{name}` in {captured:?}"))
    };
    assert_eq!(get("by_jsonpath"), "widget");
    assert_eq!(get("by_jsonpath_list"), r#"["a","b"]"#);
    assert_eq!(get("by_header"), "req-42");
    assert_eq!(get("by_status"), "200");
    assert!(get("by_body").starts_with(r#"{"id":"3f1c2b7e"#));
    assert_eq!(get("by_body_regex"), "deep");
    assert_eq!(get("by_url"), format!("{}/json", server.base()));
    assert_eq!(get("by_regex_whole"), "2024");
    assert_eq!(get("by_default"), "fallback");
    assert_eq!(get("by_default_typed"), "7");
    assert_eq!(get("by_cookie"), "session-xyz");
    assert_eq!(
        get("by_location"),
        format!("{}/landing?flowId=flow-abc123&x=1", server.base())
    );
    assert_eq!(get("by_location_regex"), "flow-abc123");
    assert_eq!(get("by_css_attribute"), "xsrf-token-77");
    assert_eq!(get("by_css_text"), "Welcome back");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_capture_that_finds_nothing_fails_the_step_and_says_why() {
    let server = TestServer::start().await;
    for (name, needle) in [
        (
            "jsonpath",
            "cannot capture `token`: JSONPath `$.access_token` matched nothing",
        ),
        (
            "header",
            "cannot capture `trace`: the response has no `X-Trace-Id` header",
        ),
        (
            "cookie",
            "cannot capture `session`: no cookie `ST` was set or is held for this URL",
        ),
        (
            "location",
            "cannot capture `next`: the response has no `Location` header",
        ),
        (
            "css",
            "cannot capture `token`: no element matches `input[name=csrf]`",
        ),
        ("css_attribute", "with an attribute `data-token`"),
        (
            "regex",
            "cannot capture `number`: regex `^id-(\\d+)$` does not match",
        ),
        ("not_json", "cannot capture `title`: the body is not JSON"),
        (
            "mixed",
            "cannot capture `missing`: JSONPath `$.nested.missing` matched nothing",
        ),
    ] {
        let out = case("failures/capture_failures.yaml", &server, name).await;
        out.expect_code(exit_code::ASSERTION_FAILED);
        assert!(out.stdout.contains(needle), "{name}: {}", out.all());
        insta::assert_snapshot!(format!("capture_{name}"), scrub(&out.stdout));
    }
}

// ---------------------------------------------------------------- assertions

#[tokio::test(flavor = "multi_thread")]
async fn every_assertion_operator_passes() {
    let server = TestServer::start().await;
    let result = run_in_process(
        "failures/assertions.yaml",
        &server.base(),
        &[("case", "pass")],
    )
    .await;
    assert_eq!(result.outcome, Outcome::Passed, "{result:#?}");
    let step = &result.steps[0];
    assert_eq!(step.outcome, Outcome::Passed);
    let what: Vec<&str> = step.assertions.iter().map(|a| a.what.as_str()).collect();
    assert!(step.assertions.iter().all(|a| a.passed), "{what:?}");
    assert_eq!(
        what,
        [
            "status",
            "header content-type equals",
            "header content-type contains",
            "header content-type matches",
            "header x-request-id not_equals",
            "header x-request-id length",
            "header x-request-id one_of",
            "header x-missing exists",
            "header x-missing absent",
            "jsonpath $.name equals",
            "jsonpath $.name not_equals",
            "jsonpath $.name one_of",
            "jsonpath $.count type",
            "jsonpath $.count lt",
            "jsonpath $.count le",
            "jsonpath $.count gt",
            "jsonpath $.count ge",
            "jsonpath $.price type",
            "jsonpath $.price lt",
            "jsonpath $.price gt",
            "jsonpath $.tags contains",
            "jsonpath $.tags type",
            "jsonpath $.tags length",
            "jsonpath $.nested contains",
            "jsonpath $.nested type",
            "jsonpath $.nested length",
            "jsonpath $.id matches",
            "jsonpath $.id type",
            "jsonpath $.id is_uuid",
            "jsonpath $.name2 absent",
            "jsonpath $.nothing exists",
            "jsonpath $.nothing type",
            "jsonpath $.created is_iso_datetime",
            "jsonpath $.name3 exists",
            "jsonpath $.active equals",
            "jsonpath $.active absent",
            "jsonpath $.count2 is_uuid",
            "jsonpath $.count2 is_iso_datetime",
            "jsonpath $['tags'][0] equals",
            "body contains",
            "body matches",
            "duration",
            "that response.status == 200",
            "that response.json.tags | length == 2",
            "that 'req-42' == response.headers['x-request-id']",
            "that expected_name in response.body",
        ]
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn every_failing_assertion_of_a_step_is_reported_with_expected_and_actual() {
    let server = TestServer::start().await;
    let out = case("failures/assertions.yaml", &server, "many").await;
    out.expect_code(exit_code::ASSERTION_FAILED);
    let stdout = scrub(&out.stdout);
    // Not just the first: every failing operator has its own entry in the details.
    let failed = stdout
        .lines()
        .skip_while(|l| *l != "Failures:")
        .filter(|l| l.starts_with("  ✗ "))
        .count();
    assert_eq!(failed, 36, "{stdout}");
    assert!(stdout.contains("  ✗ jsonpath $.count lt\n      at:       tests/fixtures/failures/assertions.yaml:51:23\n      expected: < 3\n      actual:   3\n"), "{stdout}");
    insta::assert_snapshot!("assertions_many", stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn status_expectations_fail_with_what_was_accepted() {
    let server = TestServer::start().await;
    for (name, expected, actual) in [
        ("status_exact", "expected: 200", "actual:   404"),
        (
            "status_list",
            "expected: 200 or 201 or 4xx",
            "actual:   500",
        ),
        ("status_class", "expected: 2xx", "actual:   302"),
        (
            "body_equals",
            "expected: {\"status\":200}",
            "actual:   {\"status\":418}",
        ),
    ] {
        let out = case("failures/assertions.yaml", &server, name).await;
        out.expect_code(exit_code::ASSERTION_FAILED);
        assert!(out.stdout.contains(expected), "{name}: {}", out.all());
        assert!(out.stdout.contains(actual), "{name}: {}", out.all());
        insta::assert_snapshot!(format!("assertions_{name}"), scrub(&out.stdout));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn an_expression_over_a_field_the_response_lacks_is_a_failed_assertion() {
    let server = TestServer::start().await;
    let out = case("failures/assertions.yaml", &server, "missing_field").await;
    // Exit 1 (the response is wrong), not 2 (the scenario is fine), and every `that` is
    // evaluated.
    out.expect_code(exit_code::ASSERTION_FAILED);
    let stdout = scrub(&out.stdout);
    assert!(
        stdout.contains(
            "  ✗ that response.json.missing == 'x'\n      at:       tests/fixtures/failures/assertions.yaml:102:11\n      expected: true\n      actual:   false (response.json.missing is undefined, 'x' is \"x\")\n"
        ),
        "{stdout}"
    );
    assert!(
        stdout
            .contains("actual:   false (response.json.nested.missing.deeper is undefined, 1 is 1)"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("✗ that response.json.name == 'widget'"),
        "{stdout}"
    );
    insta::assert_snapshot!("assertions_missing_field", stdout);
}

// ---------------------------------------------------------------- polling

async fn poll(server: &TestServer, client: &str, max_attempts: &str) -> Cli {
    let client = format!("client={client}");
    let max = format!("max_attempts={max_attempts}");
    run(
        "failures/poll.yaml",
        &server.base(),
        &["--var", &client, "--var", &max],
    )
    .await
}

#[tokio::test(flavor = "multi_thread")]
async fn polling_succeeds_through_pending_and_slow_down() {
    let server = TestServer::start().await;
    let out = poll(&server, "ok", "20").await;
    out.expect_code(exit_code::SUCCESS);
    assert!(
        out.stdout
            .contains("after 5 attempts (while ×3, slow_down, until)"),
        "{}",
        out.all()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn polling_stops_at_once_on_access_denied() {
    let server = TestServer::start().await;
    let out = poll(&server, "denied", "20").await;
    out.expect_code(exit_code::ASSERTION_FAILED);
    assert!(
        out.stdout.contains("after 2 attempts (while, neither)"),
        "{}",
        out.all()
    );
    assert!(
        out.stdout.contains(
            "polling: 2 attempt(s); attempt 2 matched neither `until` nor `while` (status 400)"
        ),
        "{}",
        out.all()
    );
    assert!(
        out.stdout.contains("\"error\":\"access_denied\""),
        "{}",
        out.all()
    );
    insta::assert_snapshot!("poll_access_denied", scrub(&out.stdout));
}

#[tokio::test(flavor = "multi_thread")]
async fn polling_stops_at_once_on_expired_token() {
    let server = TestServer::start().await;
    let out = poll(&server, "expired", "20").await;
    out.expect_code(exit_code::ASSERTION_FAILED);
    assert!(
        out.stdout.contains("after 1 attempt (neither)"),
        "{}",
        out.all()
    );
    assert!(
        out.stdout.contains("\"error\":\"expired_token\""),
        "{}",
        out.all()
    );
    insta::assert_snapshot!("poll_expired_token", scrub(&out.stdout));
}

#[tokio::test(flavor = "multi_thread")]
async fn polling_gives_up_at_max_attempts() {
    let server = TestServer::start().await;
    let out = poll(&server, "ok", "2").await;
    out.expect_code(exit_code::ASSERTION_FAILED);
    assert!(
        out.stdout.contains("after 2 attempts (while ×2)"),
        "{}",
        out.all()
    );
    assert!(
        out.stdout
            .contains("gave up after 2 attempts (max_attempts)"),
        "{}",
        out.all()
    );
    insta::assert_snapshot!("poll_max_attempts", scrub(&out.stdout));
}

#[tokio::test(flavor = "multi_thread")]
async fn polling_gives_up_at_its_deadline() {
    let server = TestServer::start().await;
    let out = run("failures/poll_deadline.yaml", &server.base(), &[]).await;
    out.expect_code(exit_code::ASSERTION_FAILED);
    // How many attempts fit in 300 ms depends on the machine; that it stopped, and why, not.
    let stopped = regex::Regex::new(
        r"polling: (\d+) attempt\(s\); deadline of 300ms reached after (\d+) attempts",
    )
    .unwrap();
    let c = stopped
        .captures(&out.stdout)
        .unwrap_or_else(|| panic!("{}", out.all()));
    assert_eq!(&c[1], &c[2]);
    let attempts: u32 = c[1].parse().unwrap();
    assert!((1..=7).contains(&attempts), "{}", out.all());
    assert!(
        out.stdout
            .contains("error: polling failed: deadline of 300ms reached"),
        "{}",
        out.all()
    );
}

// ---------------------------------------------------------------- network

#[tokio::test(flavor = "multi_thread")]
async fn a_request_timeout_is_a_network_error() {
    let server = TestServer::start().await;
    let out = case("failures/network.yaml", &server, "timeout").await;
    out.expect_code(exit_code::NETWORK_OR_IO);
    assert!(
        out.stdout.contains("request failed: timed out after 200ms"),
        "{}",
        out.all()
    );
    insta::assert_snapshot!("network_timeout", scrub(&out.stdout));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_connection_is_a_network_error() {
    let base = format!("http://127.0.0.1:{}", refused_port());
    let out = run("failures/network.yaml", &base, &["--var", "case=refused"]).await;
    out.expect_code(exit_code::NETWORK_OR_IO);
    let stdout = scrub(&out.stdout);
    assert!(
        stdout.contains("error: request failed: could not connect to http://127.0.0.1:[port]/json"),
        "{}",
        out.all()
    );
    // The error points at the URL of the step.
    assert!(
        stdout.contains(" --> tests/fixtures/failures/network.yaml:15:12"),
        "{}",
        out.all()
    );
    assert!(
        stdout.contains("= in step `nothing listens on the port`"),
        "{stdout}"
    );
}

// ---------------------------------------------------------------- run-time diagnostics

#[tokio::test(flavor = "multi_thread")]
async fn an_undefined_variable_in_a_url_points_at_its_name() {
    let server = TestServer::start().await;
    let out = run("failures/undefined_var.yaml", &server.base(), &[]).await;
    out.expect_code(exit_code::INVALID);
    let stdout = scrub(&out.stdout);
    assert!(
        stdout.contains(
            "error: undefined variable `item_idd`\n  --> tests/fixtures/failures/undefined_var.yaml:13:33\n   |\n13 |       url: \"{{ base }}/items/{{ item_idd }}?verbose=1\"\n   |                                 ^^^^^^^^\n"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("= hint: did you mean `item`?"), "{stdout}");
    insta::assert_snapshot!("undefined_variable_in_url", stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn when_and_delay() {
    let server = TestServer::start().await;
    let out = run("failures/when_delay.yaml", &server.base(), &[]).await;
    out.expect_code(exit_code::SUCCESS);
    assert!(
        out.stdout
            .contains("↷ skipped when the condition does not hold  skipped (`when` is false)"),
        "{}",
        out.all()
    );
    let result = run_in_process("failures/when_delay.yaml", &server.base(), &[]).await;
    let outcomes: Vec<Outcome> = result.steps.iter().map(|s| s.outcome).collect();
    assert_eq!(
        outcomes,
        [Outcome::Passed, Outcome::Skipped, Outcome::Passed]
    );
    // The delay happens before the request: the step cannot be quicker than it.
    assert!(
        result.steps[2].duration >= std::time::Duration::from_millis(150),
        "{:?}",
        result.steps[2].duration
    );
    // With the condition flipped, the skipped step runs and fails.
    let out = run(
        "failures/when_delay.yaml",
        &server.base(),
        &["--var", "mode=slow"],
    )
    .await;
    out.expect_code(exit_code::ASSERTION_FAILED);
    assert!(
        out.stdout
            .contains("↷ runs when the condition holds  skipped (`when` is false)"),
        "{}",
        out.all()
    );
    assert!(
        out.stdout
            .contains("✗ skipped when the condition does not hold  GET"),
        "{}",
        out.all()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn when_and_delay_errors_point_at_the_value() {
    let server = TestServer::start().await;
    for (name, needle) in [
        (
            "not_bool",
            "error: expected a true/false expression, it gave `http://127.0.0.1:[port]`",
        ),
        ("undefined", "error: undefined variable `mood`"),
        ("bad_delay", "error: `soon` is not a duration"),
    ] {
        let out = case("failures/when_errors.yaml", &server, name).await;
        out.expect_code(exit_code::INVALID);
        let stdout = scrub(&out.stdout);
        assert!(stdout.contains(needle), "{name}: {}", out.all());
        insta::assert_snapshot!(format!("when_{name}"), stdout);
        if name == "bad_delay" {
            // (normalize() hides the durations of the hint in the snapshot)
            assert!(
                out.stdout.contains(
                    "= hint: write seconds (`5`, `0.5`) or a number with a unit: `500ms`, `5s`, `2m`"
                ),
                "{}",
                out.all()
            );
        }
    }
}

// ---------------------------------------------------------------- include

#[tokio::test(flavor = "multi_thread")]
async fn an_include_takes_vars_in_and_gives_captures_back() {
    let server = TestServer::start().await;
    let out = run("include/main.yaml", &server.base(), &[]).await;
    out.expect_code(exit_code::SUCCESS);
    let stdout = scrub(&out.stdout);
    assert!(
        stdout.contains("    ✓ ask for a token  POST http://127.0.0.1:[port]/echo → 200"),
        "{stdout}"
    );
    assert!(
        stdout.contains("  ✓ get a token from the sub-flow  [2 step(s) included]"),
        "{stdout}"
    );
    assert!(
        stdout.contains("steps: 3 passed, 0 failed, 0 skipped"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_failure_inside_an_include_names_the_chain() {
    let server = TestServer::start().await;
    let out = run("include/main_fail.yaml", &server.base(), &[]).await;
    out.expect_code(exit_code::ASSERTION_FAILED);
    let stdout = scrub(&out.stdout);
    assert!(
        stdout.contains(
            "── An include that fails › failing sub-flow › check the name (tests/fixtures/include/sub/failing.yaml)"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("expected: \"gadget\"\n      actual:   \"widget\""),
        "{stdout}"
    );
    assert!(!stdout.contains("never runs"), "{stdout}");
    insta::assert_snapshot!("include_failure", stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_include_cycle_is_an_error_naming_the_chain() {
    let server = TestServer::start().await;
    let out = run("include/cycle_a.yaml", &server.base(), &[]).await;
    out.expect_code(exit_code::INVALID);
    let stdout = scrub(&out.stdout);
    assert!(
        stdout.contains(
            "error: include cycle: tests/fixtures/include/cycle_a.yaml → tests/fixtures/include/cycle_b.yaml → tests/fixtures/include/cycle_a.yaml"
        ),
        "{stdout}"
    );
    insta::assert_snapshot!("include_cycle", stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn including_a_missing_file_is_an_error() {
    let server = TestServer::start().await;
    let out = run("include/missing.yaml", &server.base(), &[]).await;
    out.expect_code(exit_code::INVALID);
    let stdout = scrub(&out.stdout);
    assert!(
        stdout.contains("error: cannot include `sub/does_not_exist.yaml`"),
        "{stdout}"
    );
    insta::assert_snapshot!("include_missing", stdout);
}

// ---------------------------------------------------------------- variables

async fn precedence(server: &TestServer, args: &[&str], env: &[(&str, &str)], want: &str) -> Cli {
    let base = format!("base={}", server.base());
    let want = format!("want={want}");
    let mut all = vec![
        "run",
        "tests/fixtures/vars/precedence.yaml",
        "--var",
        &base,
        "--var",
        &want,
    ];
    all.extend_from_slice(args);
    cli(&all, env).await
}

#[tokio::test(flavor = "multi_thread")]
async fn variables_scenario_then_env_files_then_environment_then_cli() {
    let server = TestServer::start().await;
    let yaml = "tests/fixtures/vars/env/dev.yaml";
    let dotenv = "tests/fixtures/vars/env/dev.env";
    let env = [
        ("STEPWISE_VAR_d", "environment"),
        ("STEPWISE_VAR_e", "environment"),
    ];
    /// Arguments, environment, and the values of `a,b,c,d,e` they should give.
    type Case<'a> = (&'a [&'a str], &'a [(&'a str, &'a str)], &'a str);
    let cases: [Case; 5] = [
        (&[], &[], "scenario,scenario,scenario,scenario,scenario"),
        (&["--env", yaml], &[], "scenario,yaml,yaml,yaml,yaml"),
        (
            &["--env", yaml, "--env", dotenv],
            &[],
            "scenario,yaml,dotenv,dotenv,dotenv",
        ),
        (
            &["--env", yaml, "--env", dotenv],
            &env,
            "scenario,yaml,dotenv,environment,environment",
        ),
        (
            &["--env", yaml, "--env", dotenv, "--var", "e=cli"],
            &env,
            "scenario,yaml,dotenv,environment,cli",
        ),
    ];
    for (args, env, want) in cases {
        let out = precedence(&server, args, env, want).await;
        out.expect_code(exit_code::SUCCESS);
        // The YAML env file's typed values are used only when it is given.
        let typed = if args.contains(&yaml) {
            "2 passed, 0 failed, 0 skipped"
        } else {
            "1 passed, 0 failed, 1 skipped"
        };
        assert!(out.stdout.contains(typed), "{args:?}: {}", out.all());
    }
    // And the check itself can fail: a wrong expectation is reported with both values.
    let out = precedence(
        &server,
        &["--env", dotenv],
        &[],
        "scenario,yaml,dotenv,dotenv,dotenv",
    )
    .await;
    out.expect_code(exit_code::ASSERTION_FAILED);
    assert!(
        out.stdout.contains(
            "expected: \"scenario,yaml,dotenv,dotenv,dotenv\"\n      actual:   \"scenario,scenario,dotenv,dotenv,dotenv\""
        ),
        "{}",
        out.all()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_env_file_or_assignment_is_a_usage_error() {
    let server = TestServer::start().await;
    let out = precedence(
        &server,
        &["--env", "tests/fixtures/vars/env/missing.env"],
        &[],
        "x",
    )
    .await;
    out.expect_code(exit_code::INVALID);
    assert!(
        out.stderr
            .contains("cannot read env file `tests/fixtures/vars/env/missing.env`"),
        "{}",
        out.all()
    );
    let out = precedence(&server, &["--var", "no-equals-sign"], &[], "x").await;
    out.expect_code(exit_code::INVALID);
    assert!(
        out.stderr.contains("`no-equals-sign` is not `name=value`"),
        "{}",
        out.all()
    );
}

// ---------------------------------------------------------------- secrets

#[tokio::test(flavor = "multi_thread")]
async fn secrets_never_appear_in_the_output_even_verbose() {
    let server = TestServer::start().await;
    let secrets = [
        "cli-secret-9f8e7d",     // --secret
        "pw-from-scenario-4d2a", // `secrets:` in the file
        "srv-issued-7d1f0c9a",   // `capture: {secret: true}`
    ];
    for verbose in [false, true] {
        let mut args = vec!["--secret", "api_key=cli-secret-9f8e7d"];
        if verbose {
            args.push("-v");
        }
        let out = run("secrets/secrets.yaml", &server.base(), &args).await;
        out.expect_code(exit_code::ASSERTION_FAILED);
        for secret in secrets {
            assert!(
                !contains_bytes(&out.bytes, secret),
                "`{secret}` leaked (verbose: {verbose}):\n{}",
                out.all()
            );
        }
        // Masked, not dropped: the failures are still reported, and public values shown.
        assert!(out.stdout.contains("••••••"), "{}", out.all());
        assert!(
            out.stdout
                .contains("expected: \"nope\"\n      actual:   \"••••••\""),
            "{}",
            out.all()
        );
        assert!(out.stdout.contains("visible-value"), "{}", out.all());
        assert!(out.stdout.contains("label=public-label"), "{}", out.all());
        if verbose {
            // The trace is there, with the secrets masked in it.
            assert!(
                out.stdout.contains("    > x-api-key: ••••••"),
                "{}",
                out.all()
            );
            assert!(
                out.stdout.contains("    < x-issued: ••••••"),
                "{}",
                out.all()
            );
        }
    }
}

// ---------------------------------------------------------------- bodies

#[tokio::test(flavor = "multi_thread")]
async fn multipart_fields_and_files_and_file_bodies() {
    let server = TestServer::start().await;
    let out = run("multipart.yaml", &server.base(), &[]).await;
    out.expect_code(exit_code::SUCCESS);
    assert!(out.stdout.contains("steps: 3 passed"), "{}", out.all());
    // The same scenario fails when the file content differs from what it expects.
    let out = run("multipart.yaml", &server.base(), &["--var", "n=2"]).await;
    out.expect_code(exit_code::ASSERTION_FAILED);
    assert!(
        out.stdout
            .contains("✗ that 'Content-Disposition: form-data; name=\"title\"\\r\\n\\r\\nreport 1\\r\\n' in response.json.body"),
        "{}",
        out.all()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_missing_upload_file_points_at_its_path() {
    let server = TestServer::start().await;
    let out = run("multipart_missing_file.yaml", &server.base(), &[]).await;
    out.expect_code(exit_code::INVALID);
    let stdout = scrub(&out.stdout);
    assert!(stdout.contains("error: cannot read `"), "{stdout}");
    assert!(
        stdout.contains(" --> tests/fixtures/multipart_missing_file.yaml:11:16"),
        "{stdout}"
    );
    assert!(
        stdout.contains("= hint: paths are relative to the scenario file"),
        "{stdout}"
    );
}

// ---------------------------------------------------------------- several files

#[tokio::test(flavor = "multi_thread")]
async fn a_folder_runs_every_scenario_in_it() {
    let server = TestServer::start().await;
    // One job: scenarios run (and print) in file order.
    let out = run("folder", &server.base(), &["--jobs", "1"]).await;
    out.expect_code(exit_code::ASSERTION_FAILED);
    let started: Vec<&str> = out.stdout.lines().filter(|l| l.starts_with("▶ ")).collect();
    assert_eq!(
        started,
        [
            "▶ folder a fails (tests/fixtures/folder/a_failing.yaml)",
            "▶ folder b passes (tests/fixtures/folder/b_passing.yaml)",
            "▶ folder c passes (nested, .yml) (tests/fixtures/folder/nested/c_passing.yml)",
        ],
        "{}",
        out.all()
    );
    assert!(
        scrub(&out.stdout).contains(
            "FAILED  scenarios: 2 passed, 1 failed; steps: 2 passed, 1 failed, 0 skipped"
        ),
        "{}",
        out.all()
    );
    insta::assert_snapshot!("folder", scrub(&out.stdout));
}

#[tokio::test(flavor = "multi_thread")]
async fn fail_fast_stops_after_the_first_failing_scenario() {
    let server = TestServer::start().await;
    let out = run("folder", &server.base(), &["--fail-fast", "--jobs", "1"]).await;
    out.expect_code(exit_code::ASSERTION_FAILED);
    assert!(out.stdout.contains("▶ folder a fails"), "{}", out.all());
    assert!(!out.stdout.contains("▶ folder b passes"), "{}", out.all());
    assert!(
        scrub(&out.stdout).contains(
            "FAILED  scenarios: 0 passed, 1 failed; steps: 0 passed, 1 failed, 0 skipped"
        ),
        "{}",
        out.all()
    );
    // Passing scenarios do not stop the run.
    let out = cli(
        &[
            "run",
            "tests/fixtures/folder/b_passing.yaml",
            "tests/fixtures/folder/nested/c_passing.yml",
            "--fail-fast",
            "--var",
            &format!("base={}", server.base()),
        ],
        &[],
    )
    .await;
    out.expect_code(exit_code::SUCCESS);
    assert!(
        out.stdout.contains("scenarios: 2 passed, 0 failed"),
        "{}",
        out.all()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn no_scenario_found() {
    let out = cli(&["run", "tests/fixtures/no_scenarios"], &[]).await;
    out.expect_code(exit_code::NO_SCENARIO);
    assert!(
        out.stderr
            .contains("error: no scenario files (*.yaml, *.yml) found in the given paths"),
        "{}",
        out.all()
    );
    let out = cli(&["run", "tests/fixtures/does/not/exist"], &[]).await;
    out.expect_code(exit_code::NO_SCENARIO);
    assert!(
        out.stderr
            .contains("`tests/fixtures/does/not/exist` does not exist"),
        "{}",
        out.all()
    );
    let out = cli(&["validate", "tests/fixtures/no_scenarios"], &[]).await;
    out.expect_code(exit_code::NO_SCENARIO);
}
