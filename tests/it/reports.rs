//! The JUnit and JSON reports, written by the real binary: their shape, counts, failure texts
//! and timings, their order, that they are written on failure and on Ctrl-C, that an
//! unwritable report is an I/O error, and that no secret of the PingOne scenarios reaches
//! any byte stepwise writes (issue 4, point 4). The XML is read back with roxmltree, a real
//! parser, so a report that is not well-formed fails here as it would in CI.

use crate::support::server::TestServer;
use crate::support::{cli, contains_bytes, refused_port, Cli};
use roxmltree::{Document, Node};
use serde_json::Value;
use std::path::{Path, PathBuf};
use stepwise::exit_code;
use stepwise::mask::MASK;

/// Where one run's reports go.
struct Paths {
    _dir: tempfile::TempDir,
    junit: PathBuf,
    json: PathBuf,
}

impl Paths {
    fn new() -> Paths {
        let dir = tempfile::tempdir().unwrap();
        Paths {
            junit: dir.path().join("out/junit.xml"),
            json: dir.path().join("out/report.json"),
            _dir: dir,
        }
    }
}

/// One run of the binary with both reports, read back.
struct Run {
    out: Cli,
    xml: String,
    json_text: String,
    json: Value,
}

async fn run_with_reports(args: &[&str], env: &[(&str, &str)]) -> Run {
    let paths = Paths::new();
    let junit = paths.junit.to_string_lossy().into_owned();
    let json = paths.json.to_string_lossy().into_owned();
    let mut all = args.to_vec();
    all.extend(["--junit", junit.as_str(), "--report-json", json.as_str()]);
    let out = cli(&all, env).await;
    let xml = std::fs::read_to_string(&paths.junit)
        .unwrap_or_else(|e| panic!("no JUnit report ({e}):\n{}", out.all()));
    let json_text = std::fs::read_to_string(&paths.json)
        .unwrap_or_else(|e| panic!("no JSON report ({e}):\n{}", out.all()));
    let json = serde_json::from_str(&json_text)
        .unwrap_or_else(|e| panic!("the JSON report does not parse ({e}):\n{json_text}"));
    Run {
        out,
        xml,
        json_text,
        json,
    }
}

fn parse(xml: &str) -> Document<'_> {
    Document::parse(xml).unwrap_or_else(|e| panic!("the JUnit report is not XML ({e}):\n{xml}"))
}

fn children<'a, 'i>(node: Node<'a, 'i>, name: &str) -> Vec<Node<'a, 'i>> {
    node.children()
        .filter(|n| n.is_element() && n.tag_name().name() == name)
        .collect()
}

fn child<'a, 'i>(node: Node<'a, 'i>, name: &str) -> Option<Node<'a, 'i>> {
    children(node, name).into_iter().next()
}

fn attr<'a>(node: Node<'a, '_>, name: &str) -> &'a str {
    node.attribute(name)
        .unwrap_or_else(|| panic!("<{}> has no `{name}`", node.tag_name().name()))
}

fn seconds(node: Node<'_, '_>) -> f64 {
    attr(node, "time")
        .parse()
        .unwrap_or_else(|e| panic!("`time` is not a number: {e}"))
}

/// Every step at every depth of a JSON scenario, depth first.
fn all_steps(scenario: &Value) -> Vec<&Value> {
    let mut out = Vec::new();
    for step in scenario["steps"].as_array().unwrap() {
        out.push(step);
        if let Some(included) = step.get("included") {
            out.extend(all_steps(included));
        }
    }
    out
}

const FIXTURES: [&str; 8] = [
    "a_passes",
    "b_assertion",
    "c_poll",
    "d_capture",
    "e_include",
    "f_invalid",
    "g_network",
    "h_markup",
];

async fn run_fixtures(server: &TestServer, jobs: &str) -> Run {
    let base = format!("base={}", server.base());
    let refused = format!("refused=http://127.0.0.1:{}", refused_port());
    let run = run_with_reports(
        &[
            "run",
            "tests/fixtures/reports",
            "--var",
            &base,
            "--var",
            &refused,
            "--jobs",
            jobs,
        ],
        &[],
    )
    .await;
    // The worst outcome (an invalid scenario) wins, and the reports are there all the same.
    run.out.expect_code(exit_code::INVALID);
    run
}

#[tokio::test(flavor = "multi_thread")]
async fn junit_report_has_one_case_per_scenario_with_failures_errors_and_timings() {
    let server = TestServer::start().await;
    let run = run_fixtures(&server, "4").await;
    let doc = parse(&run.xml);
    // Only the characters XML 1.0 allows, raw.
    assert!(
        !run.xml
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t'),
        "control characters in:\n{}",
        run.xml
    );

    let root = doc.root_element();
    assert_eq!(root.tag_name().name(), "testsuites");
    let suites = children(root, "testsuite");
    assert_eq!(suites.len(), 1);
    let suite = suites[0];
    assert_eq!(attr(suite, "name"), "stepwise");
    for node in [root, suite] {
        assert_eq!(attr(node, "tests"), "8", "{}", run.xml);
        assert_eq!(attr(node, "failures"), "5", "{}", run.xml);
        assert_eq!(attr(node, "errors"), "2", "{}", run.xml);
        assert_eq!(attr(node, "skipped"), "0");
        assert!(seconds(node) > 0.0);
    }
    assert!(attr(suite, "timestamp").ends_with('Z'));
    assert!(child(suite, "properties").is_none(), "not interrupted");

    let cases = children(suite, "testcase");
    assert_eq!(cases.len(), 8);
    // In the order of the files, whatever order the jobs finished in.
    for (case, stem) in cases.iter().zip(FIXTURES) {
        let path = format!("tests/fixtures/reports/{stem}.yaml");
        assert_eq!(attr(*case, "classname"), path);
        assert_eq!(attr(*case, "file"), path);
        assert!(seconds(*case) >= 0.0);
    }
    assert_eq!(
        attr(cases[0], "name"),
        "Reports — passes, with a skipped step"
    );
    // Markup and control characters survive a round trip (controls as their pictures).
    assert_eq!(
        attr(cases[7], "name"),
        "Reports — <markup> & \"quotes\" \u{2401} in the name"
    );

    let problem = |case: Node<'_, '_>| -> (String, String, String, String) {
        let el = child(case, "failure")
            .or_else(|| child(case, "error"))
            .unwrap_or_else(|| panic!("no failure in {}", attr(case, "name")));
        (
            el.tag_name().name().to_owned(),
            attr(el, "type").to_owned(),
            attr(el, "message").to_owned(),
            el.text().unwrap_or_default().to_owned(),
        )
    };
    assert!(child(cases[0], "failure").is_none() && child(cases[0], "error").is_none());

    let (el, kind, message, body) = problem(cases[1]);
    assert_eq!((el.as_str(), kind.as_str()), ("failure", "assertion"));
    assert_eq!(
        message,
        "expects 200 from a 500: status: expected 200, got 500"
    );
    assert!(
        body.starts_with(
            "── Reports — a failing assertion › expects 200 from a 500 (tests/fixtures/reports/b_assertion.yaml)\n"
        ),
        "{body}"
    );
    assert!(
        body.contains("      expected: 200\n      actual:   500\n"),
        "{body}"
    );
    assert!(body.contains("  response:\n    │ HTTP 500"), "{body}");

    let (el, kind, message, body) = problem(cases[2]);
    assert_eq!((el.as_str(), kind.as_str()), ("failure", "poll"));
    assert!(
        message.starts_with("poll that never succeeds: polling failed: gave up after 3 attempts"),
        "{message}"
    );
    assert!(body.contains("polling: 3 attempt(s)"), "{body}");

    let (el, kind, message, _) = problem(cases[3]);
    assert_eq!((el.as_str(), kind.as_str()), ("failure", "capture"));
    assert!(
        message.starts_with("capture a missing field: "),
        "{message}"
    );

    let (el, kind, message, body) = problem(cases[4]);
    assert_eq!((el.as_str(), kind.as_str()), ("failure", "assertion"));
    assert_eq!(
        message,
        "run the sub-flow › the sub-flow expects a 404: status: expected 404, got 200"
    );
    assert!(
        body.contains("› A failing sub-flow › the sub-flow expects a 404"),
        "{body}"
    );

    let (el, kind, message, body) = problem(cases[5]);
    assert_eq!((el.as_str(), kind.as_str()), ("error", "invalid"));
    assert_eq!(
        message,
        "uses a misspelled variable: undefined variable `bsae`"
    );
    assert!(
        body.contains("--> tests/fixtures/reports/f_invalid.yaml:7:"),
        "{body}"
    );
    assert!(body.contains("= hint: did you mean `base`?"), "{body}");

    let (el, kind, message, _) = problem(cases[6]);
    assert_eq!((el.as_str(), kind.as_str()), ("error", "network"));
    assert!(
        message.starts_with("connection refused: request failed"),
        "{message}"
    );

    let (_, kind, _, body) = problem(cases[7]);
    assert_eq!(kind, "assertion");
    assert!(body.contains("]]> &amp; <tag>"), "{body}");
    assert!(
        body.contains('\u{2401}') && body.contains('\u{241b}'),
        "{body}"
    );

    // The failure text is what the terminal prints for it (the markup case aside: the
    // terminal shows names as written).
    for case in &cases[1..7] {
        let (_, _, _, body) = problem(*case);
        assert!(
            run.out.stdout.contains(&body),
            "not in the terminal's output:\n{body}\n{}",
            run.out.all()
        );
    }

    // Step timings: a line per step, included steps indented under their include.
    let system_out = |case: Node<'_, '_>| {
        child(case, "system-out")
            .and_then(|n| n.text())
            .unwrap_or_default()
            .to_owned()
    };
    let timing = regex::Regex::new(r"  \d+(\.\d+)?(ms|s)").unwrap();
    let port = server.addr.port();
    let a = system_out(cases[0]);
    let lines: Vec<&str> = a.lines().collect();
    assert_eq!(lines.len(), 2, "{a}");
    assert!(
        lines[0].starts_with(&format!(
            "passed  read the widget  GET http://127.0.0.1:{port}/json → 200  "
        )),
        "{a}"
    );
    assert!(lines[1].starts_with("skipped skipped when false  "), "{a}");
    assert!(lines.iter().all(|l| timing.is_match(l)), "{a}");
    let c = system_out(cases[2]);
    assert!(
        c.contains("/status/204 → 204  ") && c.ends_with("  3 poll attempts\n"),
        "{c}"
    );
    let e = system_out(cases[4]);
    let lines: Vec<&str> = e.lines().collect();
    assert_eq!(lines.len(), 3, "{e}");
    assert!(
        lines[0].starts_with("failed  run the sub-flow  ")
            && lines[0].ends_with("(include tests/fixtures/reports/include/failing.yaml)"),
        "{e}"
    );
    assert!(
        lines[1].starts_with("  passed  the sub-flow reads the widget  GET"),
        "{e}"
    );
    assert!(
        lines[2].starts_with("  failed  the sub-flow expects a 404  GET"),
        "{e}"
    );
    // An invalid scenario's step, which sent nothing, still has its line and time.
    let f = system_out(cases[5]);
    assert!(f.starts_with("invalid uses a misspelled variable  "), "{f}");
}

#[tokio::test(flavor = "multi_thread")]
async fn json_report_follows_the_documented_schema() {
    let server = TestServer::start().await;
    let run = run_fixtures(&server, "4").await;
    let j = &run.json;
    assert_eq!(j["version"], 1);
    assert_eq!(j["stepwise"], env!("CARGO_PKG_VERSION"));
    assert!(j["started_at"].as_str().unwrap().ends_with('Z'));
    assert!(j["duration_ms"].is_u64());
    assert_eq!(j["interrupted"], false);
    assert_eq!(j["summary"]["passed"], false);
    assert_eq!(
        j["summary"]["scenarios"],
        serde_json::json!({"total": 8, "passed": 1, "failed": 5, "network_error": 1, "invalid": 1, "skipped": 0})
    );
    // Steps are counted through includes: the include step itself is not one.
    assert_eq!(j["summary"]["steps"]["total"], 10);
    assert_eq!(j["summary"]["steps"]["skipped"], 1);
    assert!(run.json_text.ends_with("}\n"));

    let scenarios = j["scenarios"].as_array().unwrap();
    let paths: Vec<&str> = scenarios
        .iter()
        .map(|s| s["path"].as_str().unwrap())
        .collect();
    let expected: Vec<String> = FIXTURES
        .iter()
        .map(|s| format!("tests/fixtures/reports/{s}.yaml"))
        .collect();
    assert_eq!(paths, expected);
    let outcomes: Vec<&str> = scenarios
        .iter()
        .map(|s| s["outcome"].as_str().unwrap())
        .collect();
    assert_eq!(
        outcomes,
        [
            "passed",
            "failed",
            "failed",
            "failed",
            "failed",
            "invalid",
            "network_error",
            "failed"
        ]
    );
    for s in scenarios {
        assert!(s["duration_ms"].is_u64(), "{s}");
        for step in all_steps(s) {
            assert!(step["duration_ms"].is_u64(), "{step}");
            assert!(step["captures"].is_array() && step["assertions"].is_array());
        }
    }

    let a = &scenarios[0]["steps"];
    let port = server.addr.port();
    assert_eq!(a[0]["request"]["method"], "GET");
    assert_eq!(
        a[0]["request"]["url"],
        format!("http://127.0.0.1:{port}/json")
    );
    assert_eq!(a[0]["status"], 200);
    assert_eq!(a[0]["captures"][0]["name"], "widget");
    assert_eq!(a[0]["captures"][0]["secret"], false);
    assert_eq!(
        a[0]["assertions"][0],
        serde_json::json!({"what": "status", "passed": true, "expected": "200", "actual": "200",
            "position": "tests/fixtures/reports/a_passes.yaml:11:15"})
    );
    assert_eq!(a[1]["outcome"], "skipped");
    assert!(a[1].get("request").is_none() && a[1].get("status").is_none());

    let b = &scenarios[1]["steps"][0];
    assert_eq!(b["assertions"][0]["passed"], false);
    assert_eq!(b["assertions"][0]["actual"], "500");
    assert!(b["excerpt"].as_str().unwrap().starts_with("HTTP 500 ("));

    let poll = &scenarios[2]["steps"][0]["poll"];
    assert_eq!(poll["attempts"], 3);
    assert_eq!(
        poll["history"],
        serde_json::json!(["while", "while", "while"])
    );
    assert_eq!(poll["final_interval_ms"], 10);
    assert!(poll["stopped"]
        .as_str()
        .unwrap()
        .starts_with("gave up after 3 attempts"));

    let included = &scenarios[4]["steps"][0]["included"];
    assert_eq!(included["name"], "A failing sub-flow");
    assert_eq!(
        included["path"],
        "tests/fixtures/reports/include/failing.yaml"
    );
    assert_eq!(included["steps"][1]["outcome"], "failed");

    let error = &scenarios[5]["steps"][0]["error"];
    assert_eq!(error["message"], "undefined variable `bsae`");
    assert!(error["position"]
        .as_str()
        .unwrap()
        .starts_with("tests/fixtures/reports/f_invalid.yaml:7:"));
    assert_eq!(error["hint"], "did you mean `base`?");
    assert!(error["rendered"].as_str().unwrap().contains("^^^^"));

    let network = &scenarios[6]["steps"][0];
    assert!(network["error"]["message"]
        .as_str()
        .unwrap()
        .starts_with("request failed"));
    assert!(network.get("status").is_none());
}

#[tokio::test(flavor = "multi_thread")]
async fn report_order_does_not_depend_on_jobs() {
    let server = TestServer::start().await;
    let shape = |run: &Run| -> Vec<(String, String, Vec<String>)> {
        run.json["scenarios"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| {
                (
                    s["path"].as_str().unwrap().to_owned(),
                    s["outcome"].as_str().unwrap().to_owned(),
                    all_steps(s)
                        .iter()
                        .map(|st| st["name"].as_str().unwrap().to_owned())
                        .collect(),
                )
            })
            .collect()
    };
    let one = run_fixtures(&server, "1").await;
    let four = run_fixtures(&server, "4").await;
    assert_eq!(shape(&one), shape(&four));
    let names = |run: &Run| -> Vec<String> {
        let doc = parse(&run.xml);
        doc.descendants()
            .filter(|n| n.has_tag_name("testcase"))
            .map(|n| attr(n, "name").to_owned())
            .collect()
    };
    assert_eq!(names(&one), names(&four));
}

#[tokio::test(flavor = "multi_thread")]
async fn an_unwritable_report_is_an_io_error_and_the_other_is_still_written() {
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    // A directory where the report should go: the rename fails.
    let in_the_way = dir.path().join("taken");
    std::fs::create_dir(&in_the_way).unwrap();
    std::fs::write(in_the_way.join("keep"), "x").unwrap();
    let json = dir.path().join("report.json");
    let base = format!("base={}", server.base());
    for (fixture, code) in [
        ("a_passes", exit_code::NETWORK_OR_IO),
        ("b_assertion", exit_code::NETWORK_OR_IO),
        // Worse than an I/O error: kept.
        ("f_invalid", exit_code::INVALID),
    ] {
        let _ = std::fs::remove_file(&json);
        let path = format!("tests/fixtures/reports/{fixture}.yaml");
        let out = cli(
            &[
                "run",
                &path,
                "--var",
                &base,
                "--junit",
                &in_the_way.to_string_lossy(),
                "--report-json",
                &json.to_string_lossy(),
            ],
            &[],
        )
        .await;
        out.expect_code(code);
        assert!(
            out.stderr.contains(&format!(
                "error: cannot write the JUnit report `{}`: ",
                in_the_way.display()
            )),
            "{}",
            out.all()
        );
        let report: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
        assert_eq!(report["scenarios"].as_array().unwrap().len(), 1);
    }
    // Nothing was left behind: no temporary file beside either target.
    let mut names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, ["report.json", "taken"]);
}

#[test]
fn reports_are_written_when_the_run_is_interrupted() {
    use std::io::BufRead;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("a_quick.yaml"),
        "name: quick\nsteps:\n  - name: skipped\n    when: 'false'\n    request:\n      url: http://127.0.0.1:9/\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("b_slow.yaml"),
        "name: slow\nsteps:\n  - name: waits a minute\n    delay: 60s\n    request:\n      url: http://127.0.0.1:9/\n",
    )
    .unwrap();
    let paths = Paths::new();
    let mut process = std::process::Command::new(env!("CARGO_BIN_EXE_stepwise"))
        .args(["run", "--no-color", "--jobs", "1", "--junit"])
        .arg(&paths.junit)
        .arg("--report-json")
        .arg(&paths.json)
        .arg(dir.path())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // Interrupt once the slow scenario has started (the quick one has finished by then).
    let stdout = process.stdout.take().unwrap();
    let (tx, rx) = std::sync::mpsc::channel();
    let reader = std::thread::spawn(move || {
        let mut all = String::new();
        for line in std::io::BufReader::new(stdout).lines() {
            let line = line.unwrap();
            if line.starts_with("▶ slow") {
                let _ = tx.send(());
            }
            all.push_str(&line);
            all.push('\n');
        }
        all
    });
    rx.recv_timeout(std::time::Duration::from_secs(30))
        .expect("the slow scenario starts");
    // The run listens for Ctrl-C once its loop is waiting; give a loaded machine time to
    // get there (a signal before that ends the process the default way).
    std::thread::sleep(std::time::Duration::from_millis(300));
    std::process::Command::new("kill")
        .args(["-INT", &process.id().to_string()])
        .status()
        .unwrap();
    let started = std::time::Instant::now();
    let out = process.wait_with_output().unwrap();
    let stdout = reader.join().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    assert_eq!(out.status.code(), Some(130), "{stdout}\n{stderr}");

    let xml = std::fs::read_to_string(&paths.junit).unwrap();
    let doc = parse(&xml);
    let suite = child(doc.root_element(), "testsuite").unwrap();
    assert_eq!(attr(suite, "tests"), "1");
    let props = child(suite, "properties").expect("an interrupted run says so");
    let prop = child(props, "property").unwrap();
    assert_eq!(
        (attr(prop, "name"), attr(prop, "value")),
        ("interrupted", "true")
    );
    assert_eq!(children(suite, "testcase").len(), 1);

    let json: Value = serde_json::from_str(&std::fs::read_to_string(&paths.json).unwrap()).unwrap();
    assert_eq!(json["interrupted"], true);
    assert_eq!(json["summary"]["passed"], false);
    assert_eq!(json["scenarios"].as_array().unwrap().len(), 1);
    assert_eq!(json["scenarios"][0]["name"], "quick");
}

// ---------------------------------------------------------------- secrets

/// The values that follow `prefix` everywhere in `text` (up to the next quote, `&` or
/// whitespace).
fn values_after<'t>(text: &'t str, prefix: &str) -> Vec<&'t str> {
    text.match_indices(prefix)
        .map(|(i, _)| {
            let rest = &text[i + prefix.len()..];
            let end = rest
                .find(|c: char| c == '"' || c == '\\' || c == '&' || c.is_whitespace())
                .unwrap_or(rest.len());
            &rest[..end]
        })
        .collect()
}

/// Every file under `__snapshots__` folders below `dir` (snapshots are a sink too).
fn snapshot_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            snapshot_files(&path, out);
        } else if path.components().any(|c| c.as_os_str() == "__snapshots__") {
            out.push(path);
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn pingone_scenarios_leak_no_secret_in_any_output() {
    const PASSWORD: &str = "Dev!ce-Gr4nt-Fl0w";
    const EXTRA: &str = "xtra-Secr3t-0f-the-cli";
    let extra = format!("extra={EXTRA}");
    let run = run_with_reports(
        &[
            "run",
            "--sandbox",
            "pingone",
            "scenarios/pingone",
            "-v",
            "--secret",
            &extra,
        ],
        &[("PINGONE_USER_PASSWORD", PASSWORD)],
    )
    .await;
    run.out.expect_code(exit_code::SUCCESS);
    let files = stepwise::loader::discover(&[
        PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scenarios/pingone")
    ])
    .unwrap();
    let doc = parse(&run.xml);
    assert_eq!(
        attr(doc.root_element(), "tests"),
        files.len().to_string(),
        "one test case per scenario file"
    );
    assert_eq!(attr(doc.root_element(), "failures"), "0");
    assert_eq!(run.json["summary"]["passed"], true);

    let mut bytes = run.out.bytes.clone();
    bytes.extend_from_slice(run.xml.as_bytes());
    bytes.extend_from_slice(run.json_text.as_bytes());
    let mut snapshots = Vec::new();
    snapshot_files(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios/pingone"),
        &mut snapshots,
    );
    for file in &snapshots {
        bytes.extend_from_slice(&std::fs::read(file).unwrap());
    }

    use base64::Engine as _;
    let worker_secret = stepwise::sandbox::pingone::DEFAULT_WORKER_CLIENT_SECRET;
    let basic = base64::engine::general_purpose::STANDARD.encode(format!(
        "{}:{worker_secret}",
        stepwise::sandbox::pingone::DEFAULT_WORKER_CLIENT_ID
    ));
    let mut needles = vec![
        worker_secret.to_owned(),
        basic,
        PASSWORD.to_owned(),
        EXTRA.to_owned(),
        // JWTs: every access and ID token the sandbox issues.
        "eyJ".to_owned(),
    ];
    for value in [worker_secret, PASSWORD] {
        needles.push(
            percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC)
                .to_string(),
        );
        needles.push(url::form_urlencoded::byte_serialize(value.as_bytes()).collect());
        let json = serde_json::to_string(value).unwrap();
        needles.push(json[1..json.len() - 1].to_owned());
    }
    for needle in &needles {
        assert!(
            !contains_bytes(&bytes, needle),
            "`{needle}` leaked:\n{}",
            String::from_utf8_lossy(&bytes)
        );
    }

    // Refresh tokens and device codes are random: wherever one is shown, in a JSON body
    // (raw, or escaped inside a JSON string of the report) or a form body, it is masked.
    let text = String::from_utf8_lossy(&bytes);
    let mut seen = 0;
    for key in ["access_token", "id_token", "refresh_token", "device_code"] {
        for prefix in [
            format!("\"{key}\":\""),
            format!("\"{key}\": \""),
            format!("\\\"{key}\\\":\\\""),
            format!("{key}="),
        ] {
            for value in values_after(&text, &prefix) {
                // Masked, or a snapshot's redaction placeholder such as `[token]`.
                let placeholder = value.len() > 2 && value.starts_with('[') && value.ends_with(']');
                assert!(
                    value == MASK || placeholder,
                    "`{prefix}` followed by `{value}`"
                );
                seen += 1;
            }
        }
    }
    // The traces and excerpts did show those fields (masked): the search found something.
    assert!(seen >= 10, "only {seen} credential fields seen");
    assert!(text.contains(&format!("\"access_token\":\"{MASK}\"")));
    assert!(text.contains(&format!("device_code={MASK}")));
}

// ---------------------------------------------------------------- docs

/// The first fenced block of `lang` after `heading` in a Markdown page.
fn block_after(markdown: &str, heading: &str, lang: &str) -> String {
    let start = markdown
        .find(heading)
        .unwrap_or_else(|| panic!("no `{heading}`"));
    let fence = format!("```{lang}\n");
    let open = start
        + markdown[start..]
            .find(&fence)
            .unwrap_or_else(|| panic!("no {lang} block"))
        + fence.len();
    let close = open + markdown[open..].find("\n```").unwrap();
    markdown[open..=close].to_owned()
}

/// What varies between runs: timings, dates, the port, the version.
fn stable(value: &mut Value) {
    let port = regex::Regex::new(r"127\.0\.0\.1:\d+").unwrap();
    let date = regex::Regex::new(r"(?m)^date: .*$").unwrap();
    match value {
        Value::Object(map) => {
            for (key, v) in map.iter_mut() {
                match key.as_str() {
                    "duration_ms" => *v = Value::from(0),
                    "started_at" | "stepwise" => *v = Value::from("[varies]"),
                    _ => stable(v),
                }
            }
        }
        Value::Array(items) => items.iter_mut().for_each(stable),
        Value::String(s) => {
            let text = port.replace_all(s, "127.0.0.1:8080");
            *s = date.replace_all(&text, "date: [date]").into_owned();
        }
        _ => {}
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_example_in_docs_report_md_is_what_stepwise_writes() {
    let page =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/report.md"))
            .unwrap();
    let scenario = block_after(&page, "## An example", "yaml");
    let documented: Value = serde_json::from_str(&block_after(&page, "## An example", "json"))
        .expect("the example in docs/report.md is JSON");
    let server = TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("example.yaml"), scenario).unwrap();
    let out = tokio::task::spawn_blocking({
        let dir = dir.path().to_owned();
        let base = format!("base={}", server.base());
        move || {
            std::process::Command::new(env!("CARGO_BIN_EXE_stepwise"))
                .args(["run", "example.yaml", "--var", &base])
                .args(["--report-json", "report.json", "--junit", "junit.xml"])
                .current_dir(dir)
                .env("NO_COLOR", "1")
                .output()
                .unwrap()
        }
    })
    .await
    .unwrap();
    assert_eq!(
        out.status.code(),
        Some(exit_code::ASSERTION_FAILED),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let text = std::fs::read_to_string(dir.path().join("report.json")).unwrap();
    let mut real: Value = serde_json::from_str(&text).unwrap();
    let mut documented = documented;
    let shown = port_8080(&text);
    stable(&mut real);
    stable(&mut documented);
    assert_eq!(
        real, documented,
        "docs/report.md's example is out of date; stepwise writes:\n{shown}"
    );

    // The same run's JUnit test case is the example of docs/cli.md, line by line.
    let cli_page =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/cli.md")).unwrap();
    let documented = block_after(&cli_page, "**JUnit XML**", "text");
    let xml = std::fs::read_to_string(dir.path().join("junit.xml")).unwrap();
    let times = regex::Regex::new(r#"time="[0-9.]+"|  \d+(\.\d+)?(ms|s)\b"#).unwrap();
    let date = regex::Regex::new(r"date: [^\n]*").unwrap();
    let normal = |text: &str| {
        let text = times.replace_all(&port_8080(text), "[time]").into_owned();
        date.replace_all(&text, "date: [date]").into_owned()
    };
    let real = normal(&xml);
    for line in documented.lines() {
        assert!(
            real.contains(&normal(line.trim_start())),
            "docs/cli.md's JUnit example has `{line}`, stepwise writes:\n{}",
            port_8080(&xml)
        );
    }
}

fn port_8080(text: &str) -> String {
    regex::Regex::new(r"127\.0\.0\.1:\d+")
        .unwrap()
        .replace_all(text, "127.0.0.1:8080")
        .into_owned()
}
