//! Response snapshots: `.snap` files under `__snapshots__/`, update modes (`--update-snapshots`,
//! `INSTA_UPDATE`, `CI`), diffs, redaction placeholders, masking, and insta's own reader.

use crate::support::server::TestServer;
use crate::support::{cli, contains_bytes, Cli};
use std::path::{Path, PathBuf};
use stepwise::exit_code;

/// Values that must never reach a snapshot file or the output.
const TOKEN: &str = "tok-snapshot-secret-4242";
const ISSUED: &str = "srv-issued-7d1f0c9a";

const SCENARIO: &str = r#"name: snapshots
steps:
  - name: "Read the JSON document"
    request:
      url: "{{ base }}/json"
    snapshot:
      headers: [X-Request-Id, content-type]
      redact: {$.name: "[name]"}
  - name: Echo with a bearer token
    request:
      url: "{{ base }}/echo?v={{ v }}"
      auth: {bearer: "{{ token }}"}
    snapshot:
      name: echo
      redact: {$.headers.host: "[host]"}
  - name: Issue a secret
    request:
      url: "{{ base }}/issue-secret"
    capture:
      issued: {jsonpath: $.secret, secret: true}
    snapshot: {name: issued, headers: [x-issued]}
  - name: Binary
    request:
      url: "{{ base }}/binary"
    snapshot: true
"#;

/// A scenario in a fresh folder, and the folder (kept alive by the caller).
fn fixture() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("flow.yaml");
    std::fs::write(&path, SCENARIO).unwrap();
    (dir, path)
}

fn snap_dir(scenario: &Path) -> PathBuf {
    scenario.parent().unwrap().join("__snapshots__")
}

/// The files in `__snapshots__/`, sorted by name.
fn files(scenario: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(snap_dir(scenario)) else {
        return Vec::new();
    };
    let mut names: Vec<String> = entries
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

fn read(scenario: &Path, name: &str) -> String {
    std::fs::read_to_string(snap_dir(scenario).join(name)).unwrap()
}

/// `stepwise run SCENARIO --var base=… --var v=… --secret token=…` plus `extra`.
async fn run(
    server: &TestServer,
    scenario: &Path,
    v: &str,
    extra: &[&str],
    env: &[(&str, &str)],
) -> Cli {
    let path = scenario.display().to_string();
    let base = format!("base={}", server.base());
    let v = format!("v={v}");
    let token = format!("token={TOKEN}");
    let mut args = vec![
        "run",
        path.as_str(),
        "--var",
        base.as_str(),
        "--var",
        v.as_str(),
        "--secret",
        token.as_str(),
    ];
    args.extend_from_slice(extra);
    let out = cli(&args, env).await;
    for secret in [TOKEN, ISSUED] {
        assert!(
            !contains_bytes(&out.bytes, secret),
            "`{secret}` leaked:\n{}",
            out.all()
        );
    }
    out
}

const ALL: [&str; 4] = [
    "flow__binary.snap",
    "flow__echo.snap",
    "flow__issued.snap",
    "flow__read-the-json-document.snap",
];

fn pending() -> Vec<String> {
    ALL.iter().map(|f| format!("{f}.new")).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_first_run_writes_snap_new_files_for_review_and_fails() {
    let server = TestServer::start().await;
    let (_dir, scenario) = fixture();
    let out = run(&server, &scenario, "1", &[], &[]).await;
    out.expect_code(exit_code::ASSERTION_FAILED);
    assert_eq!(files(&scenario), pending(), "{}", out.all());
    assert!(out.stdout.contains("✗ snapshot echo"), "{}", out.all());
    assert!(out.stdout.contains("none stored yet"), "{}", out.all());
    assert!(out.stdout.contains("cargo insta review"), "{}", out.all());
    // The whole new snapshot shows as added lines.
    assert!(out.stdout.contains("│ +HTTP 200"), "{}", out.all());
}

#[tokio::test(flavor = "multi_thread")]
async fn always_stores_snapshots_then_runs_pass_until_the_response_changes() {
    let server = TestServer::start().await;
    let (_dir, scenario) = fixture();
    // A pending file from an earlier run is replaced by the stored snapshot.
    run(&server, &scenario, "1", &[], &[]).await;
    let out = run(
        &server,
        &scenario,
        "1",
        &["--update-snapshots", "always"],
        &[],
    )
    .await;
    out.expect_code(exit_code::SUCCESS);
    assert_eq!(files(&scenario), ALL, "{}", out.all());
    let stored: Vec<String> = ALL.iter().map(|f| read(&scenario, f)).collect();

    // Runs again and again: the same snapshots, nothing written.
    for _ in 0..2 {
        let out = run(&server, &scenario, "1", &[], &[]).await;
        out.expect_code(exit_code::SUCCESS);
        assert_eq!(files(&scenario), ALL);
    }
    let out = run(&server, &scenario, "1", &["-v"], &[]).await;
    assert!(out.stdout.contains("✓ snapshot echo"), "{}", out.all());

    // A changed response: a failure with a diff, and a `.snap.new` beside the `.snap`.
    let out = run(&server, &scenario, "2", &[], &[]).await;
    out.expect_code(exit_code::ASSERTION_FAILED);
    assert!(out.stdout.contains("✗ snapshot echo"), "{}", out.all());
    assert!(out.stdout.contains("a different response"), "{}", out.all());
    assert!(out.stdout.contains("│ --- stored"), "{}", out.all());
    assert!(out.stdout.contains("│ -    \"v\": \"1\""), "{}", out.all());
    assert!(out.stdout.contains("│ +    \"v\": \"2\""), "{}", out.all());
    let mut expected: Vec<String> = ALL.iter().map(|s| s.to_string()).collect();
    expected.push("flow__echo.snap.new".into());
    expected.sort();
    assert_eq!(files(&scenario), expected);
    assert!(read(&scenario, "flow__echo.snap.new").contains("\"v\": \"2\""));
    // The stored snapshots are untouched.
    let now: Vec<String> = ALL.iter().map(|f| read(&scenario, f)).collect();
    assert_eq!(now, stored);

    // Back to the stored response: it passes, and the stale review file goes away.
    run(&server, &scenario, "1", &[], &[])
        .await
        .expect_code(exit_code::SUCCESS);
    assert_eq!(files(&scenario), ALL);
}

#[tokio::test(flavor = "multi_thread")]
async fn on_ci_nothing_is_written_unless_asked() {
    let server = TestServer::start().await;
    let (_dir, scenario) = fixture();
    let out = run(&server, &scenario, "1", &[], &[("CI", "true")]).await;
    out.expect_code(exit_code::ASSERTION_FAILED);
    assert!(!snap_dir(&scenario).exists(), "{:?}", files(&scenario));
    assert!(
        out.stdout.contains("nothing written on CI"),
        "{}",
        out.all()
    );
    // `no` writes nothing anywhere.
    let out = run(&server, &scenario, "1", &["--update-snapshots", "no"], &[]).await;
    out.expect_code(exit_code::ASSERTION_FAILED);
    assert!(!snap_dir(&scenario).exists());
    // Asked explicitly (flag or INSTA_UPDATE), CI writes.
    let out = run(
        &server,
        &scenario,
        "1",
        &[],
        &[("CI", "true"), ("INSTA_UPDATE", "new")],
    )
    .await;
    out.expect_code(exit_code::ASSERTION_FAILED);
    assert_eq!(files(&scenario), pending());
    let out = run(
        &server,
        &scenario,
        "1",
        &["--update-snapshots", "always"],
        &[("CI", "true")],
    )
    .await;
    out.expect_code(exit_code::SUCCESS);
    assert_eq!(files(&scenario), ALL);
    // The flag wins over INSTA_UPDATE.
    let out = run(
        &server,
        &scenario,
        "2",
        &["--update-snapshots", "no"],
        &[("INSTA_UPDATE", "always")],
    )
    .await;
    out.expect_code(exit_code::ASSERTION_FAILED);
    assert_eq!(files(&scenario), ALL);
}

#[tokio::test(flavor = "multi_thread")]
async fn placeholders_replace_volatile_values_and_secrets_are_masked() {
    let server = TestServer::start().await;
    let (_dir, scenario) = fixture();
    run(&server, &scenario, "1", &[], &[("INSTA_UPDATE", "always")])
        .await
        .expect_code(exit_code::SUCCESS);
    let source = scenario.display().to_string();
    assert_eq!(
        read(&scenario, "flow__read-the-json-document.snap"),
        format!(
            r#"---
source: {source}
expression: Read the JSON document
---
HTTP 200
content-type: application/json
x-request-id: req-42

{{
  "_links": {{
    "self": {{
      "href": "http://example.test/json"
    }}
  }},
  "active": true,
  "count": 3,
  "created": "[timestamp]",
  "id": "[uuid]",
  "name": "[name]",
  "nested": {{
    "label": "deep",
    "x": 1
  }},
  "nothing": null,
  "price": 9.5,
  "tags": [
    "a",
    "b"
  ]
}}
"#
        )
    );
    let echo = read(&scenario, "flow__echo.snap");
    assert!(
        echo.contains("\"authorization\": \"Bearer ••••••\""),
        "{echo}"
    );
    assert!(echo.contains("\"host\": \"[host]\""), "{echo}");
    assert!(echo.contains("\"path\": \"/echo\""), "{echo}");
    let issued = read(&scenario, "flow__issued.snap");
    assert!(issued.contains("x-issued: ••••••\n"), "{issued}");
    assert!(issued.contains("\"secret\": \"••••••\""), "{issued}");
    assert!(issued.contains("\"public\": \"visible-value\""), "{issued}");
    assert!(read(&scenario, "flow__binary.snap").ends_with(
        "---\nHTTP 200\n\n<5 bytes of binary data, sha256 12349d8ba2df0fdd2725793160700a7eba25ce590ab765796b275eec7d7c10ad>\n"
    ));
    for f in ALL {
        let text = read(&scenario, f);
        for secret in [TOKEN, ISSUED] {
            assert!(!text.contains(secret), "{f} holds `{secret}`:\n{text}");
        }
    }
}

/// insta's own reader takes our files, and cargo-insta's `accept` (insta's
/// `Snapshot::from_file` then `save`, then removing the `.snap.new`) gives a snapshot that
/// stepwise then passes — byte for byte the file `always` writes.
#[tokio::test(flavor = "multi_thread")]
async fn cargo_insta_reads_and_accepts_our_snap_new_files() {
    let server = TestServer::start().await;
    let (_dir, scenario) = fixture();
    run(&server, &scenario, "1", &[], &[]).await;
    let dir = snap_dir(&scenario);
    for f in ALL {
        let new = dir.join(format!("{f}.new"));
        let snap = insta::Snapshot::from_file(&new).unwrap();
        assert_eq!(
            snap.metadata().source(),
            Some(scenario.display().to_string().as_str())
        );
        let ours = stepwise::snapshot::file::read(&new).unwrap().unwrap();
        assert_eq!(snap.metadata().expression(), Some(ours.expression.as_str()));
        assert_eq!(
            snap.contents().as_text().unwrap().to_string(),
            stepwise::snapshot::file::normalize(&ours.content)
        );
        // cargo insta accept
        snap.save(&dir.join(f)).unwrap();
        std::fs::remove_file(&new).unwrap();
    }
    assert_eq!(
        read(&scenario, "flow__read-the-json-document.snap")
            .lines()
            .nth(2),
        Some("expression: Read the JSON document")
    );
    let accepted: Vec<String> = ALL.iter().map(|f| read(&scenario, f)).collect();
    run(&server, &scenario, "1", &[], &[])
        .await
        .expect_code(exit_code::SUCCESS);
    assert_eq!(files(&scenario), ALL);

    // `always` on a fresh folder writes the very same bytes.
    let (_dir2, other) = fixture();
    std::fs::create_dir_all(snap_dir(&other)).unwrap();
    run(&server, &other, "1", &["--update-snapshots", "always"], &[])
        .await
        .expect_code(exit_code::SUCCESS);
    let written: Vec<String> = ALL
        .iter()
        .map(|f| {
            read(&other, f).replace(
                &other.display().to_string(),
                &scenario.display().to_string(),
            )
        })
        .collect();
    assert_eq!(written, accepted);
}

#[test]
fn snapshot_settings_are_checked_when_loading() {
    let load = |text: &str| {
        stepwise::loader::parse(Path::new("s.yaml"), text.to_owned())
            .err()
            .map(|e| {
                e.diagnostics()
                    .iter()
                    .map(|d| d.render(false))
                    .collect::<String>()
            })
    };
    let step = |name: &str, snapshot: &str| {
        format!("  - name: {name}\n    request: {{url: http://x}}\n    snapshot: {snapshot}\n")
    };
    assert_eq!(load(&format!("steps:\n{}", step("a", "true"))), None);
    assert_eq!(
        load(&format!(
            "steps:\n{}{}",
            step("a", "true"),
            step("b", "false")
        )),
        None
    );
    let dup = load(&format!(
        "steps:\n{}{}",
        step("Get it", "true"),
        step("get  it!", "true")
    ))
    .unwrap();
    assert!(
        dup.contains("two steps take the snapshot `get-it`"),
        "{dup}"
    );
    assert!(dup.contains("s.yaml:7:15"), "{dup}");
    let bad = load(&format!("steps:\n{}", step("a", "{redact: {\"$.[\": x}}"))).unwrap();
    assert!(bad.contains("invalid JSONPath `$.[`"), "{bad}");
    let name = load(&format!("steps:\n{}", step("a", "{name: a/b}"))).unwrap();
    assert!(name.contains("has `/`"), "{name}");
    let unknown = load(&format!("steps:\n{}", step("a", "{headrs: [x]}"))).unwrap();
    assert!(unknown.contains("headrs"), "{unknown}");
    let short = load(&format!("steps:\n{}", step("a", "yes please"))).unwrap();
    assert!(
        short.contains("expected `true`, `false` or a mapping"),
        "{short}"
    );
    let include = load("steps:\n  - name: i\n    include: x.yaml\n    snapshot: true\n").unwrap();
    assert!(include.contains("cannot have `snapshot`"), "{include}");
}

#[tokio::test(flavor = "multi_thread")]
async fn no_snapshots_neither_compares_nor_writes() {
    // A scenario whose stored snapshot would not match: --no-snapshots runs it green and
    // leaves the folder untouched.
    let server = crate::support::server::TestServer::start().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("snap.yaml");
    std::fs::write(
        &file,
        "name: snap\nvars: {base: x}\nsteps:\n  - name: echo\n    request: {url: \"{{ base }}/json\"}\n    snapshot: true\n",
    )
    .unwrap();
    std::fs::create_dir(dir.path().join("__snapshots__")).unwrap();
    let stored = dir.path().join("__snapshots__/snap__echo.snap");
    std::fs::write(&stored, "---\nsource: x\nexpression: echo\n---\nHTTP 500\n").unwrap();
    let out = crate::support::stepwise(vec![
        "run".into(),
        "--no-snapshots".into(),
        file.display().to_string(),
        "--var".into(),
        format!("base={}", server.base()),
    ])
    .await;
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stdout)
    );
    let names: Vec<_> = std::fs::read_dir(dir.path().join("__snapshots__"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(names, vec!["snap__echo.snap"]);
    assert!(std::fs::read_to_string(&stored)
        .unwrap()
        .contains("HTTP 500"));
}
