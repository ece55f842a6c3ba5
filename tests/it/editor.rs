//! Editors: the YAML language server behind VS Code's YAML extension (yaml-language-server,
//! pinned in tests/editor/package.json) reads the `# yaml-language-server: $schema=...` line
//! of a scenario, offers the format's keys as completions and underlines unknown keys. This
//! drives the real server over LSP (tests/editor/check.mjs).

use std::path::{Path, PathBuf};
use std::process::Command;

fn editor_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/editor")
}

/// `None` when node (and the pinned server) can run here; the reason otherwise.
fn prepare() -> Option<String> {
    match Command::new("node").arg("--version").output() {
        Ok(out) if out.status.success() => {}
        _ => return Some("node not found on PATH".into()),
    }
    if !editor_dir()
        .join("node_modules/yaml-language-server")
        .is_dir()
    {
        let out = Command::new("npm")
            .args(["ci", "--no-audit", "--no-fund"])
            .current_dir(editor_dir())
            .output();
        match out {
            Ok(out) if out.status.success() => {}
            Ok(out) => {
                return Some(format!(
                    "npm ci failed: {}",
                    String::from_utf8_lossy(&out.stderr)
                ))
            }
            Err(e) => return Some(format!("cannot run npm: {e}")),
        }
    }
    None
}

fn check(file: &Path, position: Option<(u32, u32)>) -> serde_json::Value {
    let mut cmd = Command::new("timeout");
    cmd.arg("60")
        .arg("node")
        .arg(editor_dir().join("check.mjs"))
        .arg(file);
    if let Some((line, character)) = position {
        cmd.arg(line.to_string()).arg(character.to_string());
    }
    let out = cmd.output().expect("node runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).expect("check.mjs prints JSON")
}

#[test]
fn vs_code_s_yaml_server_completes_and_underlines_from_the_schema() {
    if let Some(why) = prepare() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "CI needs node: {why}"
        );
        eprintln!("skipped: {why}");
        return;
    }
    // A repository scenario, with its relative modeline: no diagnostics at all.
    let good = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("scenarios/pingone/device-authorization-grant.yaml");
    let result = check(&good, None);
    assert_eq!(result["diagnostics"], serde_json::json!([]), "{result}");

    // A teammate's file beside it with a typo: a red squiggle under the key, and completion
    // offers the keys a step may have.
    let dir = tempfile::Builder::new()
        .prefix(".editor-check-")
        .tempdir_in(Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios"))
        .unwrap();
    let bad = dir.path().join("typo.yaml");
    std::fs::write(
        &bad,
        "# yaml-language-server: $schema=../../docs/scenario.schema.json\nname: typo\nsteps:\n  - name: one\n    request:\n      url: http://127.0.0.1:9/\n      timout: 5s\n    \n",
    )
    .unwrap();
    let result = check(&bad, Some((7, 4)));
    let diagnostics = result["diagnostics"].as_array().expect("diagnostics");
    assert_eq!(diagnostics.len(), 1, "{result}");
    assert_eq!(diagnostics[0]["message"], "Property timout is not allowed.");
    assert_eq!(diagnostics[0]["range"]["start"]["line"], 6);
    assert_eq!(diagnostics[0]["severity"], 1, "an error, shown red");
    let labels: Vec<&str> = result["completion"]
        .as_array()
        .expect("completion items")
        .iter()
        .filter_map(|l| l.as_str())
        .collect();
    for key in ["capture", "expect", "poll", "when", "snapshot"] {
        assert!(labels.contains(&key), "{key} not offered: {labels:?}");
    }
}
