//! `stepwise import postman`: PingOne's device-flow collection (v2.1, with its environment) and
//! a small v2.0 collection become scenarios that pass against the PingOne sandbox with no hand
//! edits; a feature tour passes against the test server; the generated YAML is golden; every
//! script line not translated is reported; bad input is refused.

use crate::support::describe;
use crate::support::{cli, fixtures, server::TestServer};
use std::path::{Path, PathBuf};
use stepwise::import::postman::{self, ImportOptions, Imported};
use stepwise::result::ScenarioResult;
use stepwise::runner::Silent;
use stepwise::sandbox::pingone::{RunningSandbox, SandboxConfig};
use stepwise::{Outcome, RunOptions, Runner};

const PINGONE: &str = "pingone-device-authorization.postman_collection.json";
const PINGONE_ENV: &str = "pingone.postman_environment.json";
const V2_0: &str = "pingone-applications.v2.0.postman_collection.json";
const FEATURES: &str = "features.postman_collection.json";

fn fixture(name: &str) -> PathBuf {
    fixtures().join("postman").join(name)
}

fn import(collection: &str, environment: Option<&str>) -> Imported {
    let env = environment.map(fixture);
    postman::import(
        &fixture(collection),
        env.as_deref(),
        &ImportOptions::default(),
    )
    .unwrap_or_else(|e| panic!("import of {collection} failed: {e}"))
}

/// Writes the generated files into a new folder and checks the scenario with `validate` and
/// with the JSON Schema editors use.
fn write_and_validate(imported: &Imported) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let paths = postman::write(imported, dir.path(), false).unwrap();
    let problems = stepwise::validate::validate_file(&paths[0], &imported.outside_names());
    let text: String = problems.iter().map(|d| d.render(false)).collect();
    assert!(
        problems.is_empty(),
        "`stepwise validate` rejects it:\n{text}"
    );
    // And the JSON Schema editors use.
    let schema = stepwise::model::schema::scenario_schema().to_value();
    let validator = jsonschema::validator_for(&schema).expect("the schema compiles");
    let node = stepwise::yaml::parse(&imported.scenario.text)
        .unwrap()
        .unwrap();
    let json = stepwise::yaml::to_json(&node);
    let errors: Vec<String> = validator
        .iter_errors(&json)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect();
    assert!(errors.is_empty(), "the schema rejects it: {errors:#?}");
    (dir, paths[0].clone())
}

async fn run_against_sandbox(path: &Path) -> ScenarioResult {
    let sandbox = RunningSandbox::start(SandboxConfig::default())
        .await
        .expect("the sandbox starts");
    let runner = Runner::new(RunOptions::default().with_vars(sandbox.variables()));
    let result = runner.run_file(path, &Silent).await;
    sandbox.shutdown().await;
    result
}

fn script_warnings(imported: &Imported) -> Vec<String> {
    imported
        .warnings
        .iter()
        .filter(|w| w.script_line)
        .map(|w| format!("{}: {}", w.place, w.text))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn pingone_collection_passes_against_the_sandbox() {
    let imported = import(PINGONE, Some(PINGONE_ENV));
    insta::assert_snapshot!("pingone_scenario", imported.scenario.text);
    insta::assert_snapshot!("pingone_env", imported.env.as_ref().unwrap().text);
    insta::assert_snapshot!("pingone_summary", imported.summary());
    assert_eq!(imported.steps, 12);
    assert_eq!(
        script_warnings(&imported),
        [
            "Step 5: Authorize the device: console.log(\"Enter \" + jsonData.user_code + \" at \" + jsonData.verification_uri);",
            "Step 6: Start the device flow: postman.setNextRequest(\"Step 7: Get the flow\");",
        ]
    );
    // Each warning points at its comment in the file.
    let lines: Vec<&str> = imported.scenario.text.lines().collect();
    for w in &imported.warnings {
        let line = lines[w.line - 1].trim();
        assert!(
            line.starts_with("# postman (not translated): ") && line.ends_with(w.text.as_str()),
            "line {} is `{line}`",
            w.line
        );
    }
    assert_eq!(
        imported.env_names,
        ["tld", "envID", "adminEnvID", "adminAppID", "adminAppSecret"]
    );
    assert!(imported.undefined.is_empty(), "{:?}", imported.undefined);

    docs_show(&imported);

    let (_dir, path) = write_and_validate(&imported);
    let result = run_against_sandbox(&path).await;
    assert_eq!(result.outcome, Outcome::Passed, "{}", describe(&result));
    assert_eq!(result.steps.len(), 12);
    assert!(result.steps.iter().all(|s| s.outcome == Outcome::Passed));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_command_writes_validates_and_lists_what_it_did_not_translate() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_string_lossy().into_owned();
    let collection = format!("tests/fixtures/postman/{PINGONE}");
    let env = format!("tests/fixtures/postman/{PINGONE_ENV}");
    let import = cli(
        &[
            "import",
            "postman",
            &collection,
            "--environment",
            &env,
            "-o",
            &out,
        ],
        &[],
    )
    .await;
    import.expect_code(0);
    let scenario = dir
        .path()
        .join("configure-device-authorization-grant-flow.yaml");
    assert!(scenario.is_file(), "{}", import.all());
    assert!(dir.path().join("env.yaml").is_file());
    assert!(import.stdout.contains("(12 steps from"), "{}", import.all());
    assert!(
        import.stdout.contains("passes `stepwise validate`"),
        "{}",
        import.all()
    );
    assert!(
        import
            .stderr
            .contains("warning: 2 script lines were not translated:\n"),
        "{}",
        import.all()
    );
    let listed: Vec<&str> = import
        .stderr
        .lines()
        .filter(|l| l.starts_with("  configure-device-authorization-grant-flow.yaml:"))
        .collect();
    assert_eq!(listed.len(), 2, "{}", import.all());
    assert!(listed[0].ends_with(": Step 5: Authorize the device: console.log(\"Enter \" + jsonData.user_code + \" at \" + jsonData.verification_uri);"));
    assert!(listed[1].ends_with(
        ": Step 6: Start the device flow: postman.setNextRequest(\"Step 7: Get the flow\");"
    ));
    // The secret value went to env.yaml, its name to `secrets`.
    let env_text = std::fs::read_to_string(dir.path().join("env.yaml")).unwrap();
    assert!(env_text.contains("adminAppSecret: replace-with-the-worker-secret"));
    let text = std::fs::read_to_string(&scenario).unwrap();
    assert!(text.contains("secrets:\n  - adminAppSecret\n"));
    assert!(!text.contains("replace-with-the-worker-secret"));

    // As written, against the sandbox, with no hand edits.
    let path = scenario.to_string_lossy().into_owned();
    let run = cli(&["run", "--sandbox", "pingone", &path], &[]).await;
    run.expect_code(0);
    assert!(
        run.stdout.contains("steps: 12 passed, 0 failed"),
        "{}",
        run.all()
    );

    // A second import does not overwrite the files, unless forced.
    let again = cli(&["import", "postman", &collection, "-o", &out], &[]).await;
    again.expect_code(2);
    assert!(again.stderr.contains("exists already"), "{}", again.all());
    assert!(again.stderr.contains("--force"), "{}", again.all());
    cli(
        &["import", "postman", &collection, "-o", &out, "--force"],
        &[],
    )
    .await
    .expect_code(0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_v2_0_collection_passes_against_the_sandbox() {
    let imported = import(V2_0, None);
    insta::assert_snapshot!("v2_0_scenario", imported.scenario.text);
    insta::assert_snapshot!("v2_0_summary", imported.summary());
    assert_eq!(
        imported.undefined,
        [
            "adminAppID",
            "adminAppSecret",
            "adminEnvID",
            "apiPath",
            "authPath",
            "envID"
        ]
    );
    let (_dir, path) = write_and_validate(&imported);
    let result = run_against_sandbox(&path).await;
    assert_eq!(result.outcome, Outcome::Passed, "{}", describe(&result));
    assert_eq!(result.steps.len(), 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_feature_tour_passes_against_the_test_server() {
    let imported = import(FEATURES, None);
    insta::assert_snapshot!("features_scenario", imported.scenario.text);
    insta::assert_snapshot!("features_summary", imported.summary());
    let (dir, path) = write_and_validate(&imported);
    std::fs::create_dir_all(dir.path().join("data")).unwrap();
    std::fs::write(dir.path().join("data/hello.txt"), "hello from a file\n").unwrap();
    let server = TestServer::start().await;
    let runner = Runner::new(RunOptions::default().with_vars([("base", server.base())]));
    let result = runner.run_file(&path, &Silent).await;
    assert_eq!(result.outcome, Outcome::Passed, "{}", describe(&result));
    assert_eq!(result.steps.len(), 11);
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_input_is_refused_with_a_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let write = |name: &str, text: &str| {
        let p = dir.path().join(name);
        std::fs::write(&p, text).unwrap();
        p.to_string_lossy().into_owned()
    };
    let out = dir.path().join("out").to_string_lossy().into_owned();
    let cases = [
        (
            write("notes.json", "name: not json"),
            "is not JSON (expected ident at line 1 column 2); expected a Postman collection exported as Collection v2.1 (or v2.0)",
        ),
        (
            write("array.json", "[1, 2]"),
            "is not a Postman collection (v2.0 or v2.1): expected a JSON object with `info` and `item`",
        ),
        (
            write("env.json", r#"{"name": "e", "values": []}"#),
            "is not a Postman collection (v2.0 or v2.1): it looks like an environment (it has `values`); give it with `--environment`",
        ),
        (
            write("v1.json", r#"{"id": "x", "name": "old", "order": [], "requests": []}"#),
            "is a Postman collection in format v1; stepwise imports v2.0 and v2.1 (in Postman: Export → Collection v2.1)",
        ),
        (
            write(
                "v3.json",
                r#"{"info": {"name": "n", "schema": "https://schema.getpostman.com/json/collection/v3.0.0/collection.json"}, "item": []}"#,
            ),
            "is a Postman collection in format v3.0.0; stepwise imports v2.0 and v2.1",
        ),
        (
            write("bad-item.json", r#"{"info": {"name": "n"}, "item": [{"name": 5}]}"#),
            "is not a Postman collection (v2.0 or v2.1): invalid type: integer `5`, expected a string at line 1 column 43",
        ),
    ];
    for (path, message) in &cases {
        let run = cli(&["import", "postman", path, "-o", &out], &[]).await;
        run.expect_code(2);
        assert!(
            run.stderr.starts_with(&format!("error: `{path}` ")) && run.stderr.contains(message),
            "{}",
            run.all()
        );
        assert!(!Path::new(&out).exists(), "nothing is written for {path}");
    }
    // An environment that is not one.
    let collection = format!("tests/fixtures/postman/{V2_0}");
    let run = cli(
        &[
            "import",
            "postman",
            &collection,
            "--environment",
            &collection,
            "-o",
            &out,
        ],
        &[],
    )
    .await;
    run.expect_code(2);
    assert!(
        run.stderr
            .contains("is not a Postman environment: it looks like a collection"),
        "{}",
        run.all()
    );
    // A file that is not there.
    let missing = dir
        .path()
        .join("missing.json")
        .to_string_lossy()
        .into_owned();
    let run = cli(&["import", "postman", &missing], &[]).await;
    run.expect_code(3);
    assert!(
        run.stderr
            .starts_with(&format!("error: cannot read `{missing}`")),
        "{}",
        run.all()
    );
}

/// The blocks of a Markdown page with a given info string (` ```json `), in order.
fn fenced_blocks<'a>(markdown: &'a str, info: &str) -> Vec<&'a str> {
    let fence = format!("```{info}\n");
    let mut out = Vec::new();
    let mut rest = markdown;
    while let Some(start) = rest.find(&fence) {
        let body = &rest[start + fence.len()..];
        let Some(end) = body.find("\n```") else { break };
        out.push(&body[..end + 1]);
        rest = &body[end + 4..];
    }
    out
}

#[test]
fn the_first_import_in_the_docs_is_what_the_importer_writes() {
    let page = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/migrating-from-postman.md");
    let markdown = std::fs::read_to_string(&page).unwrap();
    let collection = fenced_blocks(&markdown, "json")[0];
    let expected = fenced_blocks(&markdown, "yaml")
        .into_iter()
        .find(|b| b.starts_with("# Imported from the Postman collection \"Widgets\""))
        .expect("the Widgets scenario is on the page");
    let imported = postman::import_str(
        collection,
        Path::new("widgets.postman_collection.json"),
        None,
        &ImportOptions::default(),
    )
    .unwrap();
    assert_eq!(imported.scenario.text, expected);
    let output = fenced_blocks(&markdown, "text")
        .into_iter()
        .find(|b| b.starts_with("wrote widgets.yaml"))
        .expect("the command's output is on the page");
    assert!(
        output.contains(&imported.summary()),
        "the page shows:\n{output}\nthe importer says:\n{}",
        imported.summary()
    );
}

/// Whether the lines of `excerpt`, each indented by `indent`, appear in `text` in order.
fn appears_in(excerpt: &str, text: &str, indent: &str) -> bool {
    let mut lines = text.lines();
    excerpt.lines().all(|want| {
        let want = if want.is_empty() {
            String::new()
        } else {
            format!("{indent}{want}")
        };
        lines.any(|l| l == want)
    })
}

/// The worked example of docs/migrating-from-postman.md shows what the importer writes.
fn docs_show(imported: &Imported) {
    let page = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/migrating-from-postman.md");
    let markdown = std::fs::read_to_string(&page).unwrap();
    let yaml = fenced_blocks(&markdown, "yaml");
    let block = |marker: &str, start: &str| {
        yaml.iter()
            .find_map(|b| {
                b.strip_prefix(marker)
                    .filter(|rest| rest.starts_with(start))
            })
            .unwrap_or_else(|| panic!("no `{marker}` block starting `{start}` on the page"))
    };
    let scenario = block(
        "# fragment: scenario\n",
        "# Imported from the Postman collection \"Configure",
    );
    assert!(
        appears_in(scenario, &imported.scenario.text, ""),
        "the page's scenario excerpt differs:\n{scenario}"
    );
    let steps = block("# fragment: step\n", "- name: \"Step 6");
    assert!(
        appears_in(steps, &imported.scenario.text, "  "),
        "the page's steps differ:\n{steps}"
    );
    let env = block(
        "# fragment: env\n",
        "# Variables of the Postman environment",
    );
    assert_eq!(env, imported.env.as_ref().unwrap().text);
    let summary = imported.summary();
    assert!(
        fenced_blocks(&markdown, "text")
            .iter()
            .any(|b| b.contains(&summary)),
        "the page does not show the summary:\n{summary}"
    );
}

#[test]
fn odd_collections_still_give_valid_scenarios() {
    // Requests as bare URLs or without one, a v2.0 header block, auth types stepwise lacks,
    // form-data without a file, a body too odd for `json:`, a script that does not parse.
    let imported = import("edge-cases.postman_collection.json", None);
    insta::assert_snapshot!("edge_scenario", imported.scenario.text);
    insta::assert_snapshot!("edge_summary", imported.summary());
    let _ = write_and_validate(&imported);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_scenario_that_does_not_validate_is_written_and_reported() {
    // Postman sends the environment's stale `itemId` in the first request; a scenario has no
    // value for it until the second step captures it.
    let dir = tempfile::tempdir().unwrap();
    let collection = dir.path().join("late.json");
    std::fs::write(
        &collection,
        r#"{"info": {"name": "Late capture", "schema": "https://schema.getpostman.com/json/collection/v2.1.0/collection.json"},
            "item": [
              {"name": "uses it", "request": {"method": "GET", "url": "https://example.test/items/{{itemId}}"}},
              {"name": "captures it", "request": {"method": "GET", "url": "https://example.test/items"},
               "event": [{"listen": "test", "script": {"exec": ["pm.environment.set('itemId', pm.response.json()[0].id);"]}}]}
            ]}"#,
    )
    .unwrap();
    let collection = collection.to_string_lossy().into_owned();
    let out = dir.path().join("out").to_string_lossy().into_owned();
    let run = cli(&["import", "postman", &collection, "-o", &out], &[]).await;
    run.expect_code(2);
    assert!(dir.path().join("out/late-capture.yaml").is_file());
    assert!(
        run.stderr.contains("error: undefined variable `itemId`"),
        "{}",
        run.all()
    );
    assert!(
        run.stderr.contains("late-capture.yaml was written, but does not pass `stepwise validate` (1 problem(s) above); fix them in the file"),
        "{}",
        run.all()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn inside_a_project_with_the_schema_the_file_points_editors_at_it() {
    // The binary runs from the crate root, which has docs/scenario.schema.json.
    let out = "target/import-schema-test";
    let _ = std::fs::remove_dir_all(out);
    let collection = format!("tests/fixtures/postman/{V2_0}");
    cli(&["import", "postman", &collection, "-o", out], &[])
        .await
        .expect_code(0);
    let text = std::fs::read_to_string(format!("{out}/pingone-applications-v2-0.yaml")).unwrap();
    let _ = std::fs::remove_dir_all(out);
    assert!(
        text.starts_with(
            "# yaml-language-server: $schema=../../docs/scenario.schema.json\n# Imported from"
        ),
        "{text}"
    );
}
