//! The JSON Schema of scenario files (`docs/scenario.schema.json`, `stepwise schema`): the
//! committed file is the generated one, every scenario file points editors at it, and the
//! schema agrees with `stepwise validate` on every scenario and docs example.
//!
//! Agreement is one-sided on purpose. What the schema cannot see — template syntax,
//! JSONPath and regex syntax, undefined variables, include cycles — only `stepwise validate`
//! catches; [`VALIDATE_ONLY`] lists the fixtures of that kind. Everything structural (an
//! unknown key, a wrong type, two body kinds) both reject.

use crate::docs::{pages, relative, write_file, yaml_blocks, Block, Expectation, Kind};
use crate::support::cli;
use jsonschema::{Validator, ValidatorMap};
use serde_json::Value as Json;
use std::path::{Path, PathBuf};
use stepwise::model::schema::{scenario_schema, scenario_schema_text, SCHEMA_PATH};
use stepwise::{exit_code, validate::validate_file};

/// The first line of every file under `scenarios/`, before the relative path.
const MODELINE: &str = "# yaml-language-server: $schema=";

/// Invalid fixtures (`tests/fixtures/invalid/NAME.yaml`) whose problem is structural: both
/// the schema and `stepwise validate` reject them.
const STRUCTURAL: &[&str] = &[
    "misspelled_key",
    "wrong_type",
    "bad_status",
    "unknown_auth",
    "two_bodies",
    "two_sources",
];

/// Invalid fixtures that only `stepwise validate` rejects, with what is wrong in them: a
/// JSON Schema sees the shape of the file, not the languages inside its strings, and not
/// which variables the steps define.
const VALIDATE_ONLY: &[(&str, &str)] = &[
    ("bad_template", "template syntax"),
    ("bad_jsonpath", "JSONPath syntax"),
    ("bad_regex", "regex syntax"),
    ("postman", "a Postman `{{$timestamp}}` in a template"),
    ("undefined_variable", "a variable that no step defines"),
];

/// Invalid fixtures that are not a YAML mapping at all: nothing to give the schema, and
/// `stepwise validate` rejects them (editors flag them as YAML errors).
const NOT_A_SCENARIO_DOCUMENT: &[&str] = &["binary", "non_utf8", "malformed", "empty"];

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Validators for the whole schema (`#`) and each of its `$defs` (`#/$defs/Step`, ...).
fn validators() -> ValidatorMap {
    let schema = scenario_schema().to_value();
    jsonschema::meta::validate(&schema)
        .unwrap_or_else(|e| panic!("the schema is not a valid draft 2020-12 schema: {e}"));
    jsonschema::validator_map_for(&schema).expect("the schema compiles")
}

/// The schema's complaints about a YAML text (parsed with stepwise's own parser, as the
/// loader does), or `Err` when it is not YAML.
fn schema_errors(validator: &Validator, yaml: &str) -> Result<Vec<String>, String> {
    let node = stepwise::yaml::parse(yaml).map_err(|e| e.message)?;
    let json = node.as_ref().map_or(Json::Null, stepwise::yaml::to_json);
    Ok(validator
        .iter_errors(&json)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect())
}

fn render(diagnostics: &[stepwise::diagnostic::Diagnostic]) -> String {
    diagnostics.iter().map(|d| d.render(false)).collect()
}

/// Every YAML file under `scenarios/` (sub-flows in `include/` too); env files are variables,
/// not scenarios, and `__snapshots__` holds responses.
fn scenario_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
        for entry in std::fs::read_dir(dir).expect("a readable folder") {
            let path = entry.expect("a folder entry").path();
            let name = path.file_name().unwrap_or_default().to_string_lossy();
            if path.is_dir() {
                if name != "env" && name != "__snapshots__" {
                    walk(&path, out);
                }
            } else if name.ends_with(".yaml") || name.ends_with(".yml") {
                out.push(path);
            }
        }
    }
    let mut out = Vec::new();
    walk(&root().join("scenarios"), &mut out);
    out.sort();
    assert!(out.len() >= 10, "too few scenario files: {out:?}");
    out
}

#[test]
fn the_committed_schema_is_up_to_date() {
    let committed = std::fs::read_to_string(root().join(SCHEMA_PATH)).unwrap_or_default();
    let fresh = scenario_schema_text();
    if committed != fresh {
        let diff = similar::TextDiff::from_lines(&committed, &fresh)
            .unified_diff()
            .header(SCHEMA_PATH, "generated")
            .to_string();
        panic!(
            "{SCHEMA_PATH} is out of date; regenerate it with\n\n    \
             cargo run -- schema > {SCHEMA_PATH}\n\n{diff}"
        );
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn stepwise_schema_prints_it() {
    let out = cli(&["schema"], &[]).await;
    out.expect_code(exit_code::SUCCESS);
    assert_eq!(out.stdout, scenario_schema_text());
    assert_eq!(out.stderr, "");
}

#[test]
fn every_scenario_file_points_at_the_schema() {
    let schema = root()
        .join(SCHEMA_PATH)
        .canonicalize()
        .expect("the schema file");
    let mut wrong = Vec::new();
    for file in scenario_files() {
        let name = relative(&file);
        let text = std::fs::read_to_string(&file).expect("a scenario file");
        let first = text.lines().next().unwrap_or("");
        let Some(path) = first.strip_prefix(MODELINE) else {
            // The line to add: up from the file's folder to the crate root, then down.
            let depth = file
                .parent()
                .and_then(|d| d.strip_prefix(root()).ok())
                .map_or(0, |d| d.components().count());
            wrong.push(format!(
                "{name}: the first line must be `{MODELINE}{}{SCHEMA_PATH}`",
                "../".repeat(depth)
            ));
            continue;
        };
        let dir = file.parent().expect("a folder");
        match dir.join(path.trim()).canonicalize() {
            Ok(p) if p == schema => {}
            _ => wrong.push(format!("{name}: `{path}` does not lead to {SCHEMA_PATH}")),
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

/// Every file passes the schema on its own. `stepwise validate` checks the files that
/// `stepwise validate scenarios/` finds; a sub-flow in `include/` is checked through the
/// scenarios that include it, since only they give it its variables (`with`).
#[test]
fn every_scenario_file_passes_the_schema_and_validate() {
    let map = validators();
    let whole = map.get("#").expect("the root validator");
    let mut failures = Vec::new();
    for file in scenario_files() {
        let name = relative(&file);
        let text = std::fs::read_to_string(&file).expect("a scenario file");
        match schema_errors(whole, &text) {
            Ok(errors) if errors.is_empty() => {}
            Ok(errors) => failures.push(format!(
                "{name}: the schema rejects it:\n{}",
                errors.join("\n")
            )),
            Err(e) => failures.push(format!("{name}: not YAML: {e}")),
        }
    }
    let runnable = stepwise::loader::discover(&[root().join("scenarios")])
        .unwrap_or_else(|d| panic!("{}", d.render(false)));
    assert!(runnable.len() >= 5, "too few scenarios: {runnable:?}");
    for file in runnable {
        let problems = validate_file(&file, &[]);
        if !problems.is_empty() {
            failures.push(format!(
                "{}: `stepwise validate` rejects it:\n{}",
                relative(&file),
                render(&problems)
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// What the schema checks in one docs block: each value with the schema it must match (`#`
/// for a whole scenario, `#/$defs/Step` for a step, ...). Empty when the block is not
/// something the schema describes: an `env` file, a YAML piece without a kind, a file
/// without steps, or a scenario that is meant to be refused.
fn instances(block: &Block) -> Result<Vec<(&'static str, Json)>, String> {
    let yaml = match &block.kind {
        Kind::Scenario(Expectation::Invalid) | Kind::Fragment(None) => return Ok(Vec::new()),
        // A file other examples use: a scenario when it has steps (an included sub-flow).
        Kind::File(_) => {
            let body = block.text.split_once('\n').map_or("", |(_, rest)| rest);
            if !body.lines().any(|l| l.starts_with("steps:")) {
                return Ok(Vec::new());
            }
            body
        }
        Kind::Scenario(_) | Kind::Fragment(Some(_)) => block.text.as_str(),
    };
    let node = stepwise::yaml::parse(yaml).map_err(|e| e.message)?;
    let json = node.as_ref().map_or(Json::Null, stepwise::yaml::to_json);
    let Kind::Fragment(Some(kind)) = &block.kind else {
        return Ok(vec![("#", json)]);
    };
    Ok(match (kind.as_str(), json) {
        ("scenario", json) => vec![("#", json)],
        ("step", Json::Array(steps)) => steps.into_iter().map(|s| ("#/$defs/Step", s)).collect(),
        ("step", json) => vec![("#/$defs/Step", json)],
        ("capture", Json::Object(captures)) => captures
            .into_iter()
            .map(|(_, c)| ("#/$defs/Capture", c))
            .collect(),
        ("capture", _) => return Err("a capture fragment maps names to captures".into()),
        ("request", json) => vec![("#/$defs/Request", json)],
        ("expect", json) => vec![("#/$defs/Expect", json)],
        ("poll", json) => vec![("#/$defs/Poll", json)],
        ("defaults", json) => vec![("#/$defs/Defaults", json)],
        _ => Vec::new(),
    })
}

#[test]
fn every_docs_example_passes_the_schema_and_validate() {
    let map = validators();
    let mut failures = Vec::new();
    let mut checked = 0;
    for page in pages() {
        let name = relative(&page);
        let markdown = std::fs::read_to_string(&page).expect("a docs page");
        let blocks = yaml_blocks(&name, &markdown).expect("well-formed ```yaml blocks");
        let dir = tempfile::tempdir().expect("a temporary folder");
        // The page's files first: its scenarios include them.
        for block in &blocks {
            if let Kind::File(rel) = &block.kind {
                write_file(dir.path(), block, rel)
                    .unwrap_or_else(|e| panic!("{}: `# file: {rel}`: {e}", block.place()));
            }
        }
        for block in &blocks {
            match instances(block) {
                Ok(values) if values.is_empty() => {}
                Ok(values) => {
                    checked += 1;
                    let errors: Vec<String> = values
                        .iter()
                        .flat_map(|(pointer, value)| {
                            let validator = map.get(pointer).expect("a validator per $defs entry");
                            validator
                                .iter_errors(value)
                                .map(|e| format!("{}: {e}", e.instance_path()))
                                .collect::<Vec<_>>()
                        })
                        .collect();
                    if !errors.is_empty() {
                        failures.push(format!(
                            "{}: the schema rejects it:\n{}",
                            block.place(),
                            errors.join("\n")
                        ));
                    }
                }
                Err(e) => failures.push(format!("{}: {e}", block.place())),
            }
            if let Kind::Scenario(Expectation::Pass | Expectation::Fail) = block.kind {
                let path = dir.path().join(format!("example-line-{}.yaml", block.line));
                std::fs::write(&path, &block.text).expect("a temporary file");
                let problems = validate_file(&path, &["base".into()]);
                if !problems.is_empty() {
                    failures.push(format!(
                        "{}: `stepwise validate` rejects it:\n{}",
                        block.place(),
                        render(&problems)
                    ));
                }
            }
        }
    }
    println!("docs examples checked against the schema: {checked}");
    assert!(
        checked >= 40,
        "suspiciously few examples checked: {checked}"
    );
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

#[test]
fn invalid_fixtures_are_rejected_by_both_or_by_validate_alone() {
    let map = validators();
    let whole = map.get("#").expect("the root validator");
    let dir = root().join("tests/fixtures/invalid");
    let mut failures = Vec::new();

    // Every fixture is classified, so a new one says which side catches it.
    let mut listed: Vec<&str> = STRUCTURAL
        .iter()
        .copied()
        .chain(VALIDATE_ONLY.iter().map(|(n, _)| *n))
        .chain(NOT_A_SCENARIO_DOCUMENT.iter().copied())
        .collect();
    listed.sort_unstable();
    let mut present: Vec<String> = std::fs::read_dir(&dir)
        .expect("tests/fixtures/invalid")
        .filter_map(|e| {
            let name = e.ok()?.file_name().to_string_lossy().into_owned();
            Some(name.strip_suffix(".yaml")?.to_owned())
        })
        .collect();
    present.sort();
    assert_eq!(
        present, listed,
        "classify every fixture in this file's lists"
    );

    for name in listed {
        let path = dir.join(format!("{name}.yaml"));
        if validate_file(&path, &[]).is_empty() {
            failures.push(format!("{name}: `stepwise validate` accepts it"));
        }
        let schema_verdict = std::fs::read_to_string(&path)
            .map_err(|e| e.to_string())
            .and_then(|text| schema_errors(whole, &text));
        match schema_verdict {
            // Not text, or not YAML: there is nothing for a schema to judge.
            Err(_) => {
                if !NOT_A_SCENARIO_DOCUMENT.contains(&name) {
                    failures.push(format!("{name}: unexpectedly not YAML"));
                }
            }
            Ok(errors) => {
                let only_validate = VALIDATE_ONLY.iter().find(|(n, _)| *n == name);
                match (errors.is_empty(), only_validate) {
                    (false, None) | (true, Some(_)) => {}
                    (true, None) => failures.push(format!("{name}: the schema accepts it")),
                    (false, Some((_, what))) => failures.push(format!(
                        "{name}: the schema now rejects it ({what}); move it to STRUCTURAL:\n{}",
                        errors.join("\n")
                    )),
                }
            }
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn the_schema_takes_the_shorthands_and_refuses_wrong_types() {
    let map = validators();
    let whole = map.get("#").expect("the root validator");
    let ok = |yaml: &str| schema_errors(whole, yaml).expect("YAML");
    let scenario = |step: &str| format!("steps:\n  - name: s\n{step}");
    // Shorthands and their long forms.
    for step in [
        "    request: {url: x, body: text}\n",
        "    request: {url: x, body: {file: a.txt}}\n",
        "    request: {url: x, timeout: 5}\n",
        "    request: {url: x, multipart: {files: {a: a.txt, b: {path: b.txt}}}}\n",
        "    request: {url: x}\n    capture: {a: $.a, b: {header: X}, c: {status: true}}\n",
        "    request: {url: x}\n    expect: {status: [200, 2xx, \"4XX\"], jsonpath: {$.a: 1, $.b: [1], $.c: {gt: 1}}}\n",
        "    request: {url: x}\n    snapshot: true\n",
        "    request: {url: x, auth: {bearer: t}}\n",
        "    include: sub.yaml\n    with: {a: 1}\n",
    ] {
        let errors = ok(&scenario(step));
        assert!(errors.is_empty(), "{step}: {errors:?}");
    }
    // Wrong types and shapes the loader refuses too.
    for step in [
        "    request: {url: x, follow_redirects: sometimes}\n",
        "    request: {url: x}\n    expect: {status: 700}\n",
        "    request: {url: x}\n    expect: {status: 2xxx}\n",
        "    request: {url: x}\n    expect: {status: []}\n",
        "    request: {url: x, auth: {basic: {username: a}}}\n",
        "    request: {url: x, auth: {basic: {username: a, password: b}, bearer: c}}\n",
        "    request: {url: x, body: 42}\n",
        "    request: {url: x}\n    capture: {a: 42}\n",
        "    request: {url: x}\n    capture: {a: {status: false}}\n",
        "    request: {url: x}\n    snapshot: yes please\n",
        "    request: {url: x}\n    poll: {interval: 1s}\n",
        "    request: {url: x}\n    include: sub.yaml\n",
        "    with: {a: 1}\n",
    ] {
        let text = scenario(step);
        assert!(!ok(&text).is_empty(), "the schema accepts:\n{text}");
        let file = tempfile::Builder::new()
            .suffix(".yaml")
            .tempfile()
            .expect("a file");
        std::fs::write(file.path(), &text).expect("written");
        assert!(
            !validate_file(file.path(), &[]).is_empty(),
            "`stepwise validate` accepts:\n{text}"
        );
    }
}
