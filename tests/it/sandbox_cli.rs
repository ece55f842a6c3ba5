//! `stepwise sandbox pingone` serves the sandbox standalone: the curl walk in docs/pingone.md
//! runs against it, and Ctrl-C stops it cleanly.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Command, Stdio};

fn have(tool: &str) -> bool {
    Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false)
}

/// Stops the server even when an assertion fails, so that no process outlives the test.
struct KillOnDrop(std::process::Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
fn the_documented_curl_walk_runs_against_the_standalone_sandbox() {
    if !(have("curl") && have("jq")) {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "curl and jq are required in CI (.ci/run installs them)"
        );
        eprintln!("skipped: curl or jq is not installed");
        return;
    }
    let mut sandbox = KillOnDrop(
        Command::new(env!("CARGO_BIN_EXE_stepwise"))
            .args(["sandbox", "pingone", "--port", "0"])
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap(),
    );
    let child = &mut sandbox.0;
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next().unwrap().unwrap();
    let base = first
        .split_whitespace()
        .find(|w| w.starts_with("http://127.0.0.1:"))
        .unwrap_or_else(|| panic!("no URL in {first:?}"))
        .to_owned();
    let mut printed = vec![first];
    for line in lines.by_ref().take(10) {
        printed.push(line.unwrap());
    }
    let printed = printed.join("\n");
    for name in [
        "apiPath",
        "authPath",
        "envID",
        "adminEnvID",
        "adminAppID",
        "adminAppSecret",
    ] {
        assert!(printed.contains(name), "{name} not printed:\n{printed}");
    }
    assert!(printed.contains(&format!("{base}/v1")), "{printed}");

    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/pingone.md"))
            .unwrap();
    let start = doc
        .find("B=http://127.0.0.1:8080")
        .expect("the curl walk is in docs/pingone.md");
    let end = start + doc[start..].find("```").unwrap();
    let script = doc[start..end].replace("B=http://127.0.0.1:8080", &format!("B={base}"));
    let dir = tempfile::tempdir().unwrap();
    let out = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &script])
        .current_dir(dir.path())
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let statuses: Vec<&str> = stdout.lines().filter(|l| l.starts_with('"')).collect();
    assert_eq!(
        statuses,
        vec![
            "\"OK\"",
            "\"DAG_USER_CODE_REQUIRED\"",
            "\"DAG_CONSENT_REQUIRED\"",
            "\"COMPLETED\"",
            "\"Bearer\""
        ],
        "{stdout}"
    );

    // Ctrl-C (SIGINT) stops it cleanly.
    Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));
    let rest: Vec<String> = lines.map_while(Result::ok).collect();
    assert!(rest.iter().any(|l| l == "stopping"), "{rest:?}");
}
