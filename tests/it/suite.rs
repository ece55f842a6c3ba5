//! Suite mode through the real binary: many scenarios at once, shards, filters and tags,
//! fail-fast and Ctrl-C.

use crate::support::stepwise;
use std::collections::BTreeMap;

/// Scenario name → its output lines, checking that no scenario's lines interleave with
/// another's (each block starts with its `▶` line and runs until the next one).
fn blocks(stdout: &str) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut current: Option<String> = None;
    for line in stdout.lines() {
        if let Some(rest) = line.strip_prefix("▶ ") {
            let name = rest.split(" (").next().unwrap().to_owned();
            assert!(!out.contains_key(&name), "{name} printed twice:\n{stdout}");
            out.insert(name.clone(), Vec::new());
            current = Some(name);
        } else if line.is_empty() || line.starts_with("PASSED") || line.starts_with("FAILED") {
            current = None;
        } else if let Some(name) = &current {
            out.get_mut(name).unwrap().push(line.to_owned());
        }
    }
    out
}

#[tokio::test(flavor = "multi_thread")]
async fn four_jobs_run_every_scenario_with_output_in_one_piece_each() {
    let out = stepwise(
        [
            "run",
            "--sandbox",
            "pingone",
            "scenarios/pingone/",
            "--jobs",
            "4",
        ]
        .map(String::from)
        .to_vec(),
    )
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    let blocks = blocks(&stdout);
    assert_eq!(blocks.len(), 8, "{stdout}");
    let main = &blocks["PingOne — Configure Device Authorization Grant Flow"];
    // Its 13 steps, in order, with nothing from another scenario in between.
    assert_eq!(main.len(), 13, "{main:#?}");
    assert!(
        main[0].contains("Step 0:") && main[12].contains("Step 11:"),
        "{main:#?}"
    );
    assert!(
        stdout.contains("PASSED  scenarios: 8 passed, 0 failed"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn shards_together_run_every_scenario_exactly_once() {
    let mut seen: Vec<String> = Vec::new();
    for shard in ["1/2", "2/2"] {
        let out = stepwise(
            [
                "run",
                "--sandbox",
                "pingone",
                "scenarios/pingone/",
                "--shard",
                shard,
            ]
            .map(String::from)
            .to_vec(),
        )
        .await;
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{stdout}");
        seen.extend(blocks(&stdout).into_keys());
    }
    let total = seen.len();
    seen.sort();
    seen.dedup();
    assert_eq!(total, 8, "{seen:?}");
    assert_eq!(seen.len(), 8, "a scenario ran in both shards");
    let bad = stepwise(
        ["run", "scenarios/pingone/", "--shard", "3/2"]
            .map(String::from)
            .to_vec(),
    )
    .await;
    assert_eq!(bad.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&bad.stderr).contains("is not a shard"));
}

#[tokio::test(flavor = "multi_thread")]
async fn filters_and_tags_select_scenarios() {
    let out = stepwise(
        [
            "run",
            "--sandbox",
            "pingone",
            "scenarios/pingone/",
            "--filter",
            "CONSENT",
        ]
        .map(String::from)
        .to_vec(),
    )
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let names: Vec<String> = blocks(&stdout).into_keys().collect();
    assert_eq!(
        names,
        vec!["PingOne — refused consent ends in access_denied"],
        "{stdout}"
    );

    let out = stepwise(
        [
            "run",
            "--sandbox",
            "pingone",
            "scenarios/pingone/",
            "--tag",
            "smoke",
        ]
        .map(String::from)
        .to_vec(),
    )
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let names: Vec<String> = blocks(&stdout).into_keys().collect();
    assert_eq!(
        names,
        vec!["PingOne — Configure Device Authorization Grant Flow"],
        "{stdout}"
    );

    let none = stepwise(
        ["run", "scenarios/pingone/", "--tag", "no-such-tag"]
            .map(String::from)
            .to_vec(),
    )
    .await;
    assert_eq!(none.status.code(), Some(4));
}

#[test]
fn ctrl_c_stops_a_long_poll_and_exits_130() {
    signal_stops_a_long_poll("-INT");
}

#[test]
fn sigterm_from_a_ci_runner_stops_the_run_the_same_way() {
    signal_stops_a_long_poll("-TERM");
}

fn signal_stops_a_long_poll(signal: &str) {
    use std::io::Read;
    let server = std::thread::spawn(|| {
        // A server that always answers "pending", so the poll would go on for a minute.
        let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let port = listener.local_addr().unwrap().port();
        (listener, port)
    })
    .join()
    .unwrap();
    let (listener, port) = server;
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { break };
            std::thread::spawn(move || {
                use std::io::Write;
                let mut buf = [0u8; 4096];
                loop {
                    match stream.read(&mut buf) {
                        Ok(0) | Err(_) => break,
                        Ok(_) => {
                            let body = r#"{"error":"authorization_pending"}"#;
                            let reply = format!(
                                "HTTP/1.1 400 Bad Request\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
                                body.len()
                            );
                            if stream.write_all(reply.as_bytes()).is_err() {
                                break;
                            }
                        }
                    }
                }
            });
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let scenario = dir.path().join("poll.yaml");
    std::fs::write(
        &scenario,
        format!(
            r#"name: a poll that never ends
steps:
  - name: poll
    request:
      method: POST
      url: http://127.0.0.1:{port}/token
    poll:
      until: response.status == 200
      while: response.json.error == 'authorization_pending'
      interval: 100ms
      timeout: 60s
"#
        ),
    )
    .unwrap();
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_stepwise"))
        .args(["run", "--no-color"])
        .arg(&scenario)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(800));
    std::process::Command::new("kill")
        .args([signal, &child.id().to_string()])
        .status()
        .unwrap();
    let started = std::time::Instant::now();
    let out = child.wait_with_output().unwrap();
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "did not stop promptly"
    );
    assert_eq!(out.status.code(), Some(130));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("1 scenario(s) not run (interrupted)"),
        "{stdout}"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("interrupted"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scenario_that_requires_a_missing_variable_is_skipped_not_failed() {
    let server = crate::support::server::TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("needs.yaml");
    std::fs::write(
        &file,
        "name: needs a base\nrequires: [base]\nsteps:\n  - name: read\n    request: {url: \"{{ base }}/json\"}\n    expect: {status: 200}\n",
    )
    .unwrap();
    let junit = dir.path().join("out.xml");
    let out = stepwise(vec![
        "run".into(),
        file.display().to_string(),
        "--junit".into(),
        junit.display().to_string(),
    ])
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("↷ skipped: needs `base` from outside"),
        "{stdout}"
    );
    assert!(
        stdout.contains("scenarios: 0 passed, 0 failed, 1 skipped"),
        "{stdout}"
    );
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert!(
        xml.contains("<skipped message=\"needs `base` from outside"),
        "{xml}"
    );

    let out = stepwise(vec![
        "run".into(),
        file.display().to_string(),
        "--var".into(),
        format!("base={}", server.base()),
    ])
    .await;
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains("scenarios: 1 passed, 0 failed;"),
        "{stdout}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn an_empty_shard_is_a_passing_run_with_empty_reports() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("only.yaml"),
        "name: only\nsteps:\n  - name: s\n    request: {url: \"http://127.0.0.1:9/\"}\n",
    )
    .unwrap();
    let mut empty = 0;
    for k in 1..=4 {
        let report = dir.path().join(format!("r{k}.json"));
        let out = stepwise(vec![
            "run".into(),
            dir.path().join("only.yaml").display().to_string(),
            "--shard".into(),
            format!("{k}/4"),
            "--report-json".into(),
            report.display().to_string(),
        ])
        .await;
        let stdout = String::from_utf8_lossy(&out.stdout);
        if stdout.contains("no scenario falls in this shard") {
            empty += 1;
            assert_eq!(out.status.code(), Some(0), "{stdout}");
            let json: serde_json::Value =
                serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
            assert_eq!(json["scenarios"].as_array().unwrap().len(), 0);
        } else {
            // The shard that has the file runs it (nothing listens on port 9: exit 3).
            assert_eq!(out.status.code(), Some(3), "{stdout}");
        }
    }
    assert_eq!(empty, 3);
}
