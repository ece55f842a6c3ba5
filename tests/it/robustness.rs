//! Nothing may panic or hang: binary and non-UTF-8 bodies, a 50 MB body, bodies past the
//! limit, servers that close mid-response, redirect loops, JSON expected but not received,
//! server errors. Every case ends in a clear passed or failed step and a documented exit code.
//! (`Cli::expect_code` also fails on a panic message, and the binary is killed after 60 s.)

use crate::support::server::TestServer;
use crate::support::{run, scrub, Cli};
use stepwise::exit_code;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

async fn case(fixture: &str, base: &str, case: &str) -> Cli {
    let var = format!("case={case}");
    run(fixture, base, &["--var", &var]).await
}

/// A raw HTTP/1.1 server on 127.0.0.1: reads each request head, writes `response`, and
/// closes the connection (whatever the response promised).
async fn raw_server(response: &'static [u8]) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut buf = [0u8; 1024];
                while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                    match socket.read(&mut buf).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => head.extend_from_slice(&buf[..n]),
                    }
                }
                let _ = socket.write_all(response).await;
                let _ = socket.flush().await;
                let _ = socket.shutdown().await;
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
