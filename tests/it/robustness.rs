//! Nothing may panic or hang: binary and non-UTF-8 bodies, a 50 MB body, bodies past the
//! limit, servers that close mid-response, never answer, trickle or send a megabyte of
//! headers, names that do not resolve, TLS certificates nobody trusts, redirect loops, JSON
//! expected but not received, server errors, scenario files that are empty, binary or too
//! large. Every case ends in a clear passed or failed step, a documented exit code and
//! complete reports ([`reported`]). (`Cli::expect_code` also fails on a panic message, and the
//! binary is killed after 60 s.)

use crate::support::server::TestServer;
use crate::support::{cli, run, scrub, Cli};
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};
use stepwise::exit_code;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn case(fixture: &str, base: &str, case: &str) -> Cli {
    let var = format!("case={case}");
    run(fixture, base, &["--var", &var]).await
}

/// A raw HTTP/1.1 server on 127.0.0.1: reads each request head, writes `response`, and
/// closes the connection (whatever the response promised).
async fn raw_server(response: impl AsRef<[u8]> + Send + Sync + 'static) -> String {
    let response = Arc::new(response);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let response = response.clone();
            tokio::spawn(async move {
                if !read_head(&mut socket).await {
                    return;
                }
                let _ = socket.write_all((*response).as_ref()).await;
                let _ = socket.flush().await;
                let _ = socket.shutdown().await;
            });
        }
    });
    format!("http://{addr}")
}

/// Reads a request head; false when the client went away first.
async fn read_head<S: tokio::io::AsyncRead + Unpin>(socket: &mut S) -> bool {
    let mut head = Vec::new();
    let mut buf = [0u8; 1024];
    while !head.windows(4).any(|w| w == b"\r\n\r\n") {
        match socket.read(&mut buf).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => head.extend_from_slice(&buf[..n]),
        }
    }
    true
}

/// A server that accepts, reads the request, and never answers (until the client leaves).
async fn silent_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 1024];
                // Hold the connection open; reading tells when the client closes it.
                while let Ok(n) = socket.read(&mut buf).await {
                    if n == 0 {
                        return;
                    }
                }
            });
        }
    });
    format!("http://{addr}")
}

/// A server that sends `head` at once, then `trickle` one byte every 100 ms (10,000 bytes:
/// 17 minutes, far past any timeout under test). The head can be partial, so that the
/// trickle falls in the headers.
async fn trickle_server(head: &'static str) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                if !read_head(&mut socket).await || socket.write_all(head.as_bytes()).await.is_err()
                {
                    return;
                }
                for _ in 0..10_000 {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    if socket.write_all(b"x").await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    format!("http://{addr}")
}

/// A raw server that sends a chunked body forever (until the client goes away).
async fn endless_chunked_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut buf = [0u8; 4096];
                let _ = socket.read(&mut buf).await;
                let head = b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nTransfer-Encoding: chunked\r\n\r\n";
                if socket.write_all(head).await.is_err() {
                    return;
                }
                let chunk = format!("40\r\n{}\r\n", "y".repeat(64));
                for _ in 0..100_000 {
                    if socket.write_all(chunk.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    format!("http://{addr}")
}

// ---------------------------------------------------------------- reports

/// One run of the binary with `--junit` and `--report-json` into a temporary folder, both
/// reports read back and parsed (roxmltree, serde_json), and the wall time it took.
struct Reported {
    out: Cli,
    json: Value,
    xml: String,
    elapsed: Duration,
}

/// `stepwise run ARGS --junit DIR/junit.xml --report-json DIR/report.json`.
async fn reported(args: &[&str]) -> Reported {
    let dir = tempfile::tempdir().unwrap();
    let junit = dir.path().join("junit.xml").to_string_lossy().into_owned();
    let json = dir
        .path()
        .join("report.json")
        .to_string_lossy()
        .into_owned();
    let mut all = vec!["run"];
    all.extend_from_slice(args);
    all.extend(["--junit", junit.as_str(), "--report-json", json.as_str()]);
    let started = Instant::now();
    let out = cli(&all, &[]).await;
    let elapsed = started.elapsed();
    let xml = std::fs::read_to_string(&junit)
        .unwrap_or_else(|e| panic!("no JUnit report ({e}):\n{}", out.all()));
    let json_text = std::fs::read_to_string(&json)
        .unwrap_or_else(|e| panic!("no JSON report ({e}):\n{}", out.all()));
    let json = serde_json::from_str(&json_text)
        .unwrap_or_else(|e| panic!("the JSON report does not parse ({e}):\n{json_text}"));
    Reported {
        out,
        json,
        xml,
        elapsed,
    }
}

/// [`reported`] for a fixture under `tests/fixtures` with `base` and more variables.
async fn reported_fixture(fixture: &str, base: &str, extra: &[&str]) -> Reported {
    let path = format!("tests/fixtures/{fixture}");
    let base = format!("base={base}");
    let mut args = vec![path.as_str(), "--var", base.as_str()];
    args.extend_from_slice(extra);
    reported(&args).await
}

impl Reported {
    /// Checks a run of one scenario: the exit code, no panic, and both reports complete and
    /// in agreement — the scenario's outcome, every step that ran with its outcome (the
    /// summary counts match them), and `message` in the failure: the failing step's error
    /// (or the scenario's own, for a file that did not load) in the JSON report, the
    /// `<failure>`/`<error>` of the JUnit report, and the terminal output.
    fn expect(&self, code: i32, outcome: &str, message: &str) -> &Self {
        self.out.expect_code(code);
        let all = || {
            format!(
                "{}\n--- JSON\n{:#}\n--- JUnit\n{}",
                self.out.all(),
                self.json,
                self.xml
            )
        };
        let j = &self.json;
        assert_eq!(j["version"], 1, "{}", all());
        assert_eq!(j["interrupted"], false, "{}", all());
        let scenarios = j["scenarios"].as_array().unwrap();
        assert_eq!(scenarios.len(), 1, "{}", all());
        assert_eq!(j["summary"]["scenarios"]["total"], 1, "{}", all());
        assert_eq!(j["summary"]["scenarios"][outcome], 1, "{}", all());
        assert_eq!(
            j["summary"]["passed"],
            code == exit_code::SUCCESS,
            "{}",
            all()
        );
        let scenario = &scenarios[0];
        assert_eq!(scenario["outcome"], outcome, "{}", all());
        let steps = scenario["steps"].as_array().unwrap();
        assert_eq!(j["summary"]["steps"]["total"], steps.len(), "{}", all());
        for kind in ["passed", "failed", "network_error", "invalid", "skipped"] {
            let n = steps.iter().filter(|s| s["outcome"] == kind).count();
            assert_eq!(j["summary"]["steps"][kind], n, "{kind}: {}", all());
        }
        if outcome == "passed" {
            assert!(steps.iter().all(|s| s["outcome"] != "failed"), "{}", all());
        } else {
            // The failing step's error or failed assertions; the scenario's own error when
            // no step ran (a file that did not load).
            let failing = steps.iter().find(|s| s["outcome"] == outcome);
            let error = failing.map_or(&scenario["error"], |s| &s["error"]);
            let mut text = String::new();
            if let Some(m) = error["message"].as_str() {
                text.push_str(m);
                assert!(error["rendered"].as_str().unwrap().contains(m), "{}", all());
            }
            for a in failing
                .and_then(|s| s["assertions"].as_array())
                .into_iter()
                .flatten()
                .filter(|a| a["passed"] == false)
            {
                let field = |k: &str| a[k].as_str().unwrap_or_default().to_owned();
                text.push_str(&format!(
                    "\n{} {} {}",
                    field("what"),
                    field("expected"),
                    field("actual")
                ));
            }
            assert!(
                text.contains(message),
                "`{message}` not in the JSON report: {}",
                all()
            );
            let printed = format!("{}{}", self.out.stdout, self.out.stderr);
            assert!(
                printed.contains(message),
                "`{message}` not printed: {}",
                all()
            );
        }
        let doc = roxmltree::Document::parse(&self.xml)
            .unwrap_or_else(|e| panic!("the JUnit report is not XML ({e}): {}", all()));
        let suites = doc.root_element();
        assert_eq!(suites.attribute("tests"), Some("1"), "{}", all());
        let cases: Vec<_> = doc
            .descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .collect();
        assert_eq!(cases.len(), 1, "{}", all());
        let (element, count) = match outcome {
            "passed" => (None, None),
            "skipped" => (Some("skipped"), Some("skipped")),
            "failed" => (Some("failure"), Some("failures")),
            _ => (Some("error"), Some("errors")),
        };
        for attr in ["failures", "errors", "skipped"] {
            let want = if Some(attr) == count { "1" } else { "0" };
            assert_eq!(suites.attribute(attr), Some(want), "{attr}: {}", all());
        }
        if let Some(element) = element {
            let failure = cases[0]
                .children()
                .find(|n| n.has_tag_name(element))
                .unwrap_or_else(|| panic!("no <{element}>: {}", all()));
            if element != "skipped" {
                assert!(
                    failure.attribute("message").unwrap().contains(message),
                    "`{message}` not in the JUnit message: {}",
                    all()
                );
                assert!(
                    failure.text().unwrap_or_default().contains(message),
                    "{}",
                    all()
                );
            }
        }
        self
    }

    /// The run took less than `limit` (generous: the machine may be busy; what is tested is
    /// that nothing waits for something that never comes).
    fn within(&self, limit: Duration) -> &Self {
        assert!(
            self.elapsed < limit,
            "took {:?} (limit {limit:?}):\n{}",
            self.elapsed,
            self.out.all()
        );
        self
    }
}

// ---------------------------------------------------------------- binary bodies

#[tokio::test(flavor = "multi_thread")]
async fn a_binary_body_can_be_captured_and_asserted() {
    let server = TestServer::start().await;
    let out = case("robustness/binary.yaml", &server.base(), "pass").await;
    out.expect_code(exit_code::SUCCESS);
    // With -v, the body is described, not dumped on the terminal.
    let out = run(
        "robustness/binary.yaml",
        &server.base(),
        &["--var", "case=pass", "-v"],
    )
    .await;
    out.expect_code(exit_code::SUCCESS);
    assert!(
        out.stdout.contains("    < <5 bytes of binary data>\n"),
        "{}",
        out.all()
    );
    // The captured text (invalid bytes replaced) is shown without raw control characters.
    assert!(
        out.stdout
            .contains("      = raw ← \u{fffd}\u{fffd}␀\u{fffd}\u{fffd}\n"),
        "{}",
        out.all()
    );
    assert!(!out.stdout.contains('\u{0}'), "{}", out.all());
}

#[tokio::test(flavor = "multi_thread")]
async fn text_and_json_assertions_on_a_binary_body_fail_clearly() {
    let server = TestServer::start().await;
    let out = case("robustness/binary.yaml", &server.base(), "fail").await;
    out.expect_code(exit_code::ASSERTION_FAILED);
    let stdout = scrub(&out.stdout);
    assert!(
        stdout.contains("  ✗ jsonpath $.id\n      at:       tests/fixtures/robustness/binary.yaml:31:9\n      expected: a JSON body\n      actual:   the body is not JSON (application/octet-stream): "),
        "{stdout}"
    );
    assert!(
        stdout.contains("    │ <5 bytes of binary data>\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("actual:   false (response.json.id is undefined, 1 is 1)"),
        "{stdout}"
    );
    assert!(!stdout.contains('\u{0}'), "{stdout:?}");
    insta::assert_snapshot!("binary_body", stdout);
}

// ---------------------------------------------------------------- big bodies

#[tokio::test(flavor = "multi_thread")]
async fn a_50_mb_body_is_captured_by_jsonpath_and_as_text() {
    let server = TestServer::start().await;
    let out = run("robustness/big.yaml", &server.base(), &[]).await;
    out.expect_code(exit_code::SUCCESS);
    assert!(
        out.stdout.contains("steps: 2 passed, 0 failed"),
        "{}",
        out.all()
    );
    // The same body fails an expectation it does not meet, and the report stays short.
    let out = run(
        "robustness/big.yaml",
        &server.base(),
        &["--var", "size=52428801"],
    )
    .await;
    out.expect_code(exit_code::ASSERTION_FAILED);
    assert!(
        out.stdout
            .contains("✗ jsonpath $.size equals: expected \"52428801\", got 52428801"),
        "{}",
        out.all()
    );
    assert!(
        out.stdout.len() < 20_000,
        "{} bytes of output",
        out.stdout.len()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_over_max_body_size_is_a_clear_failed_step() {
    let server = TestServer::start().await;
    let out = case("robustness/limits.yaml", &server.base(), "under").await;
    out.expect_code(exit_code::SUCCESS);
    let out = case("robustness/limits.yaml", &server.base(), "over").await;
    out.expect_code(exit_code::NETWORK_OR_IO);
    let stdout = scrub(&out.stdout);
    assert!(
        stdout.contains("error: request failed: response body larger than the limit of 1000 bytes (set `defaults.max_body_size` to raise it)"),
        "{stdout}"
    );
    insta::assert_snapshot!("max_body_size", stdout);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_chunked_body_over_max_body_size_stops_reading() {
    let base = endless_chunked_server().await;
    let out = run("robustness/raw_limit.yaml", &base, &[]).await;
    out.expect_code(exit_code::NETWORK_OR_IO);
    assert!(
        out.stdout
            .contains("response body larger than the limit of 100 bytes"),
        "{}",
        out.all()
    );
}

// ---------------------------------------------------------------- broken servers

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_closes_mid_body() {
    let base = raw_server(
        b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"partial\":",
    )
    .await;
    let out = run("robustness/raw.yaml", &base, &[]).await;
    out.expect_code(exit_code::NETWORK_OR_IO);
    let stdout = scrub(&out.stdout);
    assert!(
        stdout.contains(
            "error: request failed: the connection failed while reading the body after 11 bytes"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains(" --> tests/fixtures/robustness/raw.yaml:7:12\n"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_closes_mid_headers() {
    let base = raw_server(b"HTTP/1.1 200 OK\r\nContent-Ty").await;
    let out = run("robustness/raw.yaml", &base, &[]).await;
    out.expect_code(exit_code::NETWORK_OR_IO);
    assert!(
        out.stdout.contains("error: request failed: "),
        "{}",
        out.all()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_closes_without_answering() {
    let base = raw_server(b"").await;
    let out = run("robustness/raw.yaml", &base, &[]).await;
    out.expect_code(exit_code::NETWORK_OR_IO);
    assert!(
        out.stdout.contains("error: request failed: "),
        "{}",
        out.all()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_answers_garbage() {
    let base = raw_server(b"\x00\xff garbage, not HTTP\r\n\r\n").await;
    let out = run("robustness/raw.yaml", &base, &[]).await;
    out.expect_code(exit_code::NETWORK_OR_IO);
    assert!(
        out.stdout.contains("error: request failed: "),
        "{}",
        out.all()
    );
}

// ---------------------------------------------------------------- redirects

#[tokio::test(flavor = "multi_thread")]
async fn a_redirect_loop_is_a_clear_error() {
    let server = TestServer::start().await;
    let out = case("robustness/limits.yaml", &server.base(), "loop").await;
    out.expect_code(exit_code::NETWORK_OR_IO);
    let stdout = scrub(&out.stdout);
    assert!(
        stdout.contains(
            "error: request failed: too many redirects: more than 10 (last: http://127.0.0.1:[port]/loop)"
        ),
        "{stdout}"
    );
    insta::assert_snapshot!("redirect_loop", stdout);

    let out = case("robustness/limits.yaml", &server.base(), "loop_limit").await;
    out.expect_code(exit_code::NETWORK_OR_IO);
    assert!(
        out.stdout.contains("too many redirects: more than 2"),
        "{}",
        out.all()
    );

    // Not followed (the default), the 302 is just a response.
    let out = case(
        "robustness/limits.yaml",
        &server.base(),
        "loop_not_followed",
    )
    .await;
    out.expect_code(exit_code::SUCCESS);
}

// ---------------------------------------------------------------- JSON expected

#[tokio::test(flavor = "multi_thread")]
async fn json_assertions_on_a_body_that_is_not_json() {
    let server = TestServer::start().await;
    let out = case("robustness/not_json.yaml", &server.base(), "assert").await;
    out.expect_code(exit_code::ASSERTION_FAILED);
    let stdout = scrub(&out.stdout);
    // One failure per path (not per operator): the body is not JSON at all.
    for path in ["$.id", "$.name"] {
        assert!(
            stdout.contains(&format!("  ✗ jsonpath {path}\n")),
            "{path}: {stdout}"
        );
    }
    assert!(
        stdout.contains("      expected: a JSON body\n      actual:   the body is not JSON (application/json): key must be a string at line 1 column 2\n"),
        "{stdout}"
    );
    // The body assertion on the same response passes; only the JSON ones fail.
    assert!(!stdout.contains("✗ body contains"), "{stdout}");
    insta::assert_snapshot!("not_json_assertions", stdout);

    let out = case("robustness/not_json.yaml", &server.base(), "capture").await;
    out.expect_code(exit_code::ASSERTION_FAILED);
    assert!(
        out.stdout.contains(
            "error: cannot capture `id`: the body is not JSON (application/json): key must be a string at line 1 column 2"
        ),
        "{}",
        out.all()
    );

    // A default covers a body that is not JSON.
    let out = case("robustness/not_json.yaml", &server.base(), "default").await;
    out.expect_code(exit_code::SUCCESS);
}

// ---------------------------------------------------------------- server errors

#[tokio::test(flavor = "multi_thread")]
async fn server_errors_are_responses_like_any_other() {
    let server = TestServer::start().await;
    for code in ["500", "502", "503"] {
        let var = format!("code={code}");
        let out = run(
            "robustness/server_errors.yaml",
            &server.base(),
            &["--var", "case=unexpected", "--var", &var],
        )
        .await;
        // A failed assertion (1), not a network error (3).
        out.expect_code(exit_code::ASSERTION_FAILED);
        assert!(
            out.stdout
                .contains(&format!("      expected: 2xx\n      actual:   {code}\n")),
            "{}",
            out.all()
        );
        assert!(
            out.stdout
                .contains(&format!("      expected: < 500\n      actual:   {code}\n")),
            "{}",
            out.all()
        );
        let out = run(
            "robustness/server_errors.yaml",
            &server.base(),
            &["--var", "case=expected", "--var", &var],
        )
        .await;
        out.expect_code(exit_code::SUCCESS);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn polling_stops_at_once_on_a_server_error() {
    let server = TestServer::start().await;
    // `while` reads `response.json.error`, which a 500 does not have: the attempt matches
    // neither condition, so polling stops there, as a failure (not an invalid scenario).
    let out = case("robustness/server_errors.yaml", &server.base(), "poll").await;
    out.expect_code(exit_code::ASSERTION_FAILED);
    let stdout = scrub(&out.stdout);
    assert!(
        stdout.contains("→ 500 after 1 attempt (neither)"),
        "{stdout}"
    );
    assert!(
        stdout.contains(
            "polling: 1 attempt(s); attempt 1 matched neither `until` nor `while` (status 500)"
        ),
        "{stdout}"
    );
    insta::assert_snapshot!("poll_server_error", stdout);
}

// ---------------------------------------------------------------- names, silence, trickles

#[tokio::test(flavor = "multi_thread")]
async fn a_name_that_does_not_resolve_fails_at_once() {
    // `.invalid` is refused by stepwise's resolver itself (RFC 6761): no DNS query leaves the
    // machine, and nothing waits on a resolver.
    let out = reported_fixture(
        "robustness/misbehaving.yaml",
        "http://127.0.0.1:9",
        &["--var", "case=dns"],
    )
    .await;
    out.expect(
        exit_code::NETWORK_OR_IO,
        "network_error",
        "request failed: cannot resolve the host name `stepwise-robustness.invalid`: `stepwise-robustness.invalid` is under `.invalid`, a top-level domain reserved never to resolve (RFC 6761)",
    )
    .within(Duration::from_secs(20));
    // The error points at the URL of the step.
    assert!(
        out.out
            .stdout
            .contains(" --> tests/fixtures/robustness/misbehaving.yaml:10:12\n"),
        "{}",
        out.out.all()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_server_that_never_answers_times_out() {
    let base = silent_server().await;
    reported_fixture(
        "robustness/misbehaving.yaml",
        &base,
        &["--var", "case=silent"],
    )
    .await
    .expect(
        exit_code::NETWORK_OR_IO,
        "network_error",
        "request failed: timed out after 300ms",
    )
    .within(Duration::from_secs(20));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_that_trickles_in_is_cut_by_the_request_timeout() {
    // The head at once, then a byte every 100 ms: every read makes progress, so only a
    // deadline on the whole exchange (not an idle timer) ends it.
    let base = trickle_server(
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 10000\r\n\r\n",
    )
    .await;
    reported_fixture(
        "robustness/misbehaving.yaml",
        &base,
        &["--var", "case=trickle"],
    )
    .await
    .expect(
        exit_code::NETWORK_OR_IO,
        "network_error",
        "request failed: timed out after 500ms while reading the body (",
    )
    .within(Duration::from_secs(20));
}

#[tokio::test(flavor = "multi_thread")]
async fn headers_that_trickle_in_are_cut_by_the_request_timeout() {
    let base = trickle_server("HTTP/1.1 200 OK\r\nX-Slow: ").await;
    reported_fixture(
        "robustness/misbehaving.yaml",
        &base,
        &["--var", "case=trickle"],
    )
    .await
    .expect(
        exit_code::NETWORK_OR_IO,
        "network_error",
        "request failed: timed out after 500ms",
    )
    .within(Duration::from_secs(20));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_trickling_body_is_cut_by_the_scenario_default_timeout() {
    // No `timeout` on the request: `defaults.timeout` applies (as the built-in 30 s would).
    let base = trickle_server("HTTP/1.1 200 OK\r\nContent-Length: 10000\r\n\r\n").await;
    reported_fixture("robustness/trickle_default.yaml", &base, &[])
        .await
        .expect(
            exit_code::NETWORK_OR_IO,
            "network_error",
            "request failed: timed out after 500ms while reading the body (",
        )
        .within(Duration::from_secs(20));
}

#[test]
fn without_any_timeout_requests_get_30_seconds() {
    assert_eq!(
        stepwise::render::RequestDefaults::default().timeout,
        Duration::from_secs(30)
    );
}

// ---------------------------------------------------------------- huge headers

#[tokio::test(flavor = "multi_thread")]
async fn a_one_megabyte_header_is_a_clear_error() {
    let mut response = b"HTTP/1.1 200 OK\r\nX-Big: ".to_vec();
    response.extend(std::iter::repeat_n(b'a', 1 << 20));
    response.extend_from_slice(b"\r\nContent-Length: 2\r\n\r\n{}");
    let base = raw_server(response).await;
    reported_fixture(
        "robustness/misbehaving.yaml",
        &base,
        &["--var", "case=headers"],
    )
    .await
    .expect(
        exit_code::NETWORK_OR_IO,
        "network_error",
        "request failed: the response headers are too large: more than 100 header lines or about 400 KB",
    )
    .within(Duration::from_secs(20));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_thousand_headers_is_a_clear_error() {
    let mut response = b"HTTP/1.1 200 OK\r\n".to_vec();
    for i in 0..1000 {
        response.extend_from_slice(format!("X-H{i}: {i}\r\n").as_bytes());
    }
    response.extend_from_slice(b"Content-Length: 2\r\n\r\n{}");
    let base = raw_server(response).await;
    reported_fixture(
        "robustness/misbehaving.yaml",
        &base,
        &["--var", "case=headers"],
    )
    .await
    .expect(
        exit_code::NETWORK_OR_IO,
        "network_error",
        "request failed: the response headers are too large: more than 100 header lines or about 400 KB",
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hundred_kilobyte_header_is_fine() {
    let mut response = b"HTTP/1.1 200 OK\r\nX-Big: ".to_vec();
    response.extend(std::iter::repeat_n(b'a', 100 << 10));
    response.extend_from_slice(b"\r\nContent-Length: 2\r\n\r\n{}");
    let base = raw_server(response).await;
    reported_fixture(
        "robustness/misbehaving.yaml",
        &base,
        &["--var", "case=headers"],
    )
    .await
    .expect(exit_code::SUCCESS, "passed", "");
}

// ---------------------------------------------------------------- TLS

/// A certificate authority and a server certificate it signed, made for this test run (no
/// key material lives in the repository), in PEM and in the forms rustls serves.
struct Pki {
    ca_pem: String,
    cert: rustls::pki_types::CertificateDer<'static>,
    key: rustls::pki_types::PrivateKeyDer<'static>,
}

/// How the server certificate is wrong (or not).
#[derive(Clone, Copy, PartialEq)]
enum Cert {
    /// For `localhost` and 127.0.0.1, valid now.
    Good,
    /// For another name only.
    OtherName,
    /// Expired last year.
    Expired,
}

fn pki(kind: Cert) -> Pki {
    use rcgen::{
        BasicConstraints, CertificateParams, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
        KeyUsagePurpose, SanType,
    };
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::<String>::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca.distinguished_name
        .push(DnType::CommonName, "stepwise robustness test CA");
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let key = KeyPair::generate().unwrap();
    let names = match kind {
        Cert::OtherName => vec!["other.example".to_owned()],
        _ => vec!["localhost".to_owned()],
    };
    let mut params = CertificateParams::new(names).unwrap();
    if kind != Cert::OtherName {
        params
            .subject_alt_names
            .push(SanType::IpAddress(std::net::Ipv4Addr::LOCALHOST.into()));
    }
    params
        .distinguished_name
        .push(DnType::CommonName, "stepwise robustness test server");
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    if kind == Cert::Expired {
        params.not_before = rcgen::date_time_ymd(2020, 1, 1);
        params.not_after = rcgen::date_time_ymd(2021, 1, 1);
    }
    let cert = params.signed_by(&key, &ca_cert, &ca_key).unwrap();
    Pki {
        ca_pem: ca_cert.pem(),
        cert: cert.der().clone(),
        key: rustls::pki_types::PrivateKeyDer::Pkcs8(key.serialize_der().into()),
    }
}

/// An HTTPS server on 127.0.0.1 (tokio-rustls, HTTP/1.1) that answers `{"ok":true}`.
async fn tls_server(pki: &Pki) -> String {
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_no_client_auth()
        .with_single_cert(vec![pki.cert.clone()], pki.key.clone_key())
        .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(config));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            let acceptor = acceptor.clone();
            tokio::spawn(async move {
                // A client that refuses the certificate ends the handshake here.
                let Ok(mut tls) = acceptor.accept(socket).await else {
                    return;
                };
                if read_head(&mut tls).await {
                    let body = r#"{"ok":true}"#;
                    let response = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
                        body.len()
                    );
                    let _ = tls.write_all(response.as_bytes()).await;
                    let _ = tls.shutdown().await;
                }
            });
        }
    });
    format!("https://127.0.0.1:{}", addr.port())
}

/// Runs the TLS step against a server with `kind` of certificate, with extra arguments
/// (`--insecure`, `--cacert`); `ca.pem` in a temporary folder holds the test CA.
async fn tls_case(kind: Cert, extra: &[&str]) -> Reported {
    let pki = pki(kind);
    let base = tls_server(&pki).await;
    let dir = tempfile::tempdir().unwrap();
    let ca = dir.path().join("ca.pem");
    std::fs::write(&ca, &pki.ca_pem).unwrap();
    let ca = ca.to_string_lossy().into_owned();
    let mut args = vec!["--var", "case=tls"];
    for a in extra {
        args.push(if *a == "CA" { ca.as_str() } else { a });
    }
    reported_fixture("robustness/misbehaving.yaml", &base, &args).await
}

#[tokio::test(flavor = "multi_thread")]
async fn a_certificate_from_an_unknown_authority_is_refused_by_default() {
    tls_case(Cert::Good, &[])
        .await
        .expect(
            exit_code::NETWORK_OR_IO,
            "network_error",
            "the server's certificate is not signed by a trusted certificate authority (self-signed, or from a private CA); trust its CA with `--cacert FILE`, or skip verification with `--insecure`",
        )
        .within(Duration::from_secs(20));
}

#[tokio::test(flavor = "multi_thread")]
async fn insecure_accepts_any_certificate() {
    tls_case(Cert::Good, &["--insecure"])
        .await
        .expect(exit_code::SUCCESS, "passed", "");
    tls_case(Cert::Expired, &["--insecure"])
        .await
        .expect(exit_code::SUCCESS, "passed", "");
}

#[tokio::test(flavor = "multi_thread")]
async fn cacert_trusts_the_authority_that_signed_the_certificate() {
    tls_case(Cert::Good, &["--cacert", "CA"])
        .await
        .expect(exit_code::SUCCESS, "passed", "");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_trusted_certificate_for_another_name_or_expired_is_refused() {
    tls_case(Cert::OtherName, &["--cacert", "CA"])
        .await
        .expect(
            exit_code::NETWORK_OR_IO,
            "network_error",
            "request failed: TLS handshake with https://127.0.0.1:",
        )
        .expect(
            exit_code::NETWORK_OR_IO,
            "network_error",
            "the server's certificate is not valid for the name `127.0.0.1`",
        );
    tls_case(Cert::Expired, &["--cacert", "CA"]).await.expect(
        exit_code::NETWORK_OR_IO,
        "network_error",
        "the server's certificate has expired",
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn https_to_a_plain_http_server_is_a_tls_error() {
    // A server that answers in plain HTTP at once (as one does to bytes it cannot parse).
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let _ = socket
                .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
                .await;
            let _ = socket.shutdown().await;
        }
    });
    reported_fixture(
        "robustness/misbehaving.yaml",
        &format!("https://{addr}"),
        &["--var", "case=tls"],
    )
    .await
    .expect(
        exit_code::NETWORK_OR_IO,
        "network_error",
        "request failed: TLS handshake with https://127.0.0.1:",
    )
    .within(Duration::from_secs(20));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_cacert_that_is_not_a_certificate_is_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("ca.pem");
    std::fs::write(&bad, "not a certificate\n").unwrap();
    let bad = bad.to_string_lossy().into_owned();
    let out = run(
        "robustness/misbehaving.yaml",
        "https://127.0.0.1:9",
        &["--var", "case=tls", "--cacert", &bad],
    )
    .await;
    out.expect_code(exit_code::INVALID);
    assert!(
        out.stderr.contains("error: cannot use CA certificate `")
            && out
                .stderr
                .contains("`: it holds no certificate (PEM, `-----BEGIN CERTIFICATE-----`)"),
        "{}",
        out.all()
    );
}

// ---------------------------------------------------------------- scenario files

#[tokio::test(flavor = "multi_thread")]
async fn a_poll_past_its_deadline_has_complete_reports() {
    let server = TestServer::start().await;
    reported_fixture("failures/poll_deadline.yaml", &server.base(), &[])
        .await
        .expect(
            exit_code::ASSERTION_FAILED,
            "failed",
            "polling failed: deadline of 300ms reached",
        );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_body_that_is_not_json_has_complete_reports() {
    let server = TestServer::start().await;
    reported_fixture(
        "robustness/not_json.yaml",
        &server.base(),
        &["--var", "case=assert"],
    )
    .await
    .expect(
        exit_code::ASSERTION_FAILED,
        "failed",
        "the body is not JSON (application/json): key must be a string",
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn empty_and_binary_scenario_files_have_complete_reports() {
    reported(&["tests/fixtures/invalid/empty.yaml"])
        .await
        .expect(exit_code::INVALID, "invalid", "the scenario file is empty");
    // Control characters in UTF-8, and bytes that are not UTF-8 at all.
    reported(&["tests/fixtures/invalid/binary.yaml"])
        .await
        .expect(
            exit_code::INVALID,
            "invalid",
            "invalid YAML: found unprintable character",
        );
    reported(&["tests/fixtures/invalid/non_utf8.yaml"])
        .await
        .expect(exit_code::INVALID, "invalid", "the file is not UTF-8 text");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_10_mb_scenario_file_is_refused_at_once() {
    // Valid-looking YAML throughout: only its size is wrong. Refused from its size before it
    // is read, so it costs neither time nor memory.
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("big.yaml");
    let mut text = String::from("name: big\nvars:\n");
    let mut i = 0;
    while text.len() < 10 * 1024 * 1024 {
        text.push_str(&format!("  v{i}: \"a value that makes the file grow\"\n"));
        i += 1;
    }
    text.push_str("steps:\n  - name: s\n    request:\n      url: http://127.0.0.1:9/\n");
    std::fs::write(&path, &text).unwrap();
    let shown = path.to_string_lossy().into_owned();
    let out = reported(&[shown.as_str()]).await;
    out.expect(
        exit_code::INVALID,
        "invalid",
        &format!(
            "is {} bytes; scenario files are limited to 8388608 bytes (8 MiB)",
            text.len()
        ),
    )
    .within(Duration::from_secs(20));
    // `validate` says the same.
    let out = cli(&["validate", &shown], &[]).await;
    out.expect_code(exit_code::INVALID);
    assert!(
        out.stderr
            .contains("scenario files are limited to 8388608 bytes"),
        "{}",
        out.all()
    );
}

/// Scenario files just under the size limit, in shapes that once took quadratic time: one
/// mapping with 300,000 keys (duplicate-key check), 100,000 errors in one file (each quoting
/// its line), one 7 MB line with errors on it (each printed whole). Each must be answered in
/// seconds, not hours.
#[tokio::test(flavor = "multi_thread")]
async fn big_scenario_files_under_the_limit_are_not_slow() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: String| {
        assert!(
            text.len() <= 8 * 1024 * 1024,
            "{name}: {} bytes",
            text.len()
        );
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        path.to_string_lossy().into_owned()
    };
    // 300,000 variables, then one step that passes nothing (an unreachable port, refused).
    let mut keys = String::from("name: many keys\nvars:\n");
    for i in 0..300_000 {
        keys.push_str(&format!("  v{i}: {i}\n"));
    }
    keys.push_str(
        "steps:\n  - name: s\n    when: v1 == 2\n    request:\n      url: http://127.0.0.1:9/\n",
    );
    let keys = write("keys.yaml", keys);
    // 100,000 steps, each without a request: 100,000 errors.
    let mut errors = String::from("name: many errors\nsteps:\n");
    for i in 0..100_000 {
        errors.push_str(&format!("  - name: step {i}\n"));
    }
    let errors = write("errors.yaml", errors);
    // The same on one line, in flow style.
    let mut flow = String::from("{name: one line, steps: [");
    for i in 0..100_000 {
        flow.push_str(&format!("{{name: s{i}}}, "));
    }
    flow.push_str("]}\n");
    let flow = write("flow.yaml", flow);

    let out = reported(&[keys.as_str()]).await;
    out.expect(exit_code::SUCCESS, "passed", "")
        .within(Duration::from_secs(50));
    for (path, title) in [
        (&errors, "a step needs a `request` (or an `include`)"),
        (&flow, "a step needs a `request` (or an `include`)"),
    ] {
        let out = reported(&[path.as_str()]).await;
        out.expect(exit_code::INVALID, "invalid", title)
            .within(Duration::from_secs(50));
        // Every line printed is short, even for the one-line file.
        let longest = out.out.stdout.lines().map(str::len).max().unwrap_or(0);
        assert!(longest < 1000, "a line of {longest} bytes");
        let out = cli(&["validate", path], &[]).await;
        out.expect_code(exit_code::INVALID);
        assert!(out.stderr.lines().all(|l| l.len() < 1000));
    }
}

/// Fuzz crash (loader target, through `validate`; template target, through conditions):
/// `}}` in an expression made minijinja's lexer panic. Now a syntax error, at `validate`
/// time and at run time.
#[tokio::test(flavor = "multi_thread")]
async fn a_stray_closing_brace_in_a_condition_is_an_error_not_a_panic() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("braces.yaml");
    std::fs::write(
        &path,
        "name: stray braces\nvars:\n  base: http://127.0.0.1:9\nsteps:\n  - name: read\n    request:\n      url: \"{{ base }}/json\"\n    expect:\n      that:\n        - response.json.nested.missing}}.deeper == 1\n",
    )
    .unwrap();
    let shown = path.to_string_lossy().into_owned();
    let message = "template syntax error: `}}` inside an expression";
    let out = cli(&["validate", &shown], &[]).await;
    out.expect_code(exit_code::INVALID);
    assert!(out.stderr.contains(message), "{}", out.all());
    let base = format!("base={}", server.base());
    reported(&[shown.as_str(), "--var", base.as_str()])
        .await
        .expect(exit_code::INVALID, "invalid", message);
    // A `when` written as a template, `{{ a }} and {{ b }}`, likewise.
    std::fs::write(
        &path,
        "name: a template as a condition\nvars:\n  a: true\n  b: true\nsteps:\n  - name: read\n    when: \"{{ a }} and {{ b }}\"\n    request:\n      url: http://127.0.0.1:9/\n",
    )
    .unwrap();
    reported(&[shown.as_str()])
        .await
        .expect(exit_code::INVALID, "invalid", message);
}
