//! `stepwise validate`: every problem that can be found without a network, rendered with
//! file:line:col and carets, exit code 2; valid files print `ok` and exit 0.

use crate::support::cli;
use stepwise::exit_code;

/// Validates one file of `tests/fixtures/invalid`, checks that it is refused, and returns the
/// rendered errors.
async fn refused(name: &str) -> String {
    let path = format!("tests/fixtures/invalid/{name}.yaml");
    let out = cli(&["validate", &path], &[]).await;
    out.expect_code(exit_code::INVALID);
    assert_eq!(out.stdout, format!("error {path}\n"), "{}", out.all());
    assert!(
        out.stderr.ends_with("\n1 problem(s) found in 1 file(s)\n"),
        "{}",
        out.all()
    );
    // No ports or timings here: the output is compared as it is.
    out.stderr.clone()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_undefined_variable() {
    let err = refused("undefined_variable").await;
    assert!(
        err.starts_with(
            "error: undefined variable `tokn`\n  --> tests/fixtures/invalid/undefined_variable.yaml:14:35\n   |\n14 |         Authorization: \"Bearer {{ tokn }}\"\n   |                                   ^^^^\n"
        ),
        "{err}"
    );
    assert!(err.contains("= hint: did you mean `token`?"), "{err}");
    insta::assert_snapshot!("undefined_variable", err);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_misspelled_key() {
    let err = refused("misspelled_key").await;
    assert!(
        err.starts_with(
            "error: unknown key `timout`\n --> tests/fixtures/invalid/misspelled_key.yaml:8:7\n  |\n8 |       timout: 5s\n  |       ^^^^^^\n"
        ),
        "{err}"
    );
    assert!(err.contains("= hint: did you mean `timeout`?"), "{err}");
    insta::assert_snapshot!("misspelled_key", err);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_jsonpath() {
    let err = refused("bad_jsonpath").await;
    assert!(
        err.starts_with(
            "error: invalid JSONPath `$.items[0.id`: unexpected `0.id` at character 9\n --> tests/fixtures/invalid/bad_jsonpath.yaml:9:11\n"
        ),
        "{err}"
    );
    insta::assert_snapshot!("bad_jsonpath", err);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_regex() {
    let err = refused("bad_regex").await;
    assert!(
        err.starts_with(
            "error: invalid regex `^wid(get`: unclosed group\n  --> tests/fixtures/invalid/bad_regex.yaml:10:27\n"
        ),
        "{err}"
    );
    insta::assert_snapshot!("bad_regex", err);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_bad_template() {
    let err = refused("bad_template").await;
    // The carets sit under the broken `{{ 1 + }}`, not under the `}}` of `{{ base }}`.
    assert!(
        err.contains(
            " --> tests/fixtures/invalid/bad_template.yaml:7:30\n  |\n7 |       url: \"{{ base }}/items/{{ 1 + }}\"\n  |                              ^^^^^^^^^\n"
        ),
        "{err}"
    );
    insta::assert_snapshot!("bad_template", err);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_postman_spelling() {
    let err = refused("postman").await;
    assert!(
        err.starts_with(
            "error: `{{$timestamp}}` is Postman syntax, not a stepwise template\n  --> tests/fixtures/invalid/postman.yaml:10:20\n"
        ),
        "{err}"
    );
    assert!(err.contains("= hint: write `{{ timestamp() }}`"), "{err}");
    insta::assert_snapshot!("postman", err);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_capture_with_two_sources() {
    let err = refused("two_sources").await;
    assert!(
        err.starts_with(
            "error: a capture takes exactly one source, found several\n --> tests/fixtures/invalid/two_sources.yaml:9:7\n"
        ),
        "{err}"
    );
    insta::assert_snapshot!("two_sources", err);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_request_with_two_body_kinds() {
    let err = refused("two_bodies").await;
    assert!(
        err.contains(
            "  --> tests/fixtures/invalid/two_bodies.yaml:10:7\n   |\n10 |       form: {a: \"1\"}\n   |       ^^^^ found `json` and `form`\n"
        ),
        "{err}"
    );
    insta::assert_snapshot!("two_bodies", err);
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_yaml() {
    let err = refused("malformed").await;
    assert!(
        err.starts_with("error: invalid YAML: ")
            && err.contains(" --> tests/fixtures/invalid/malformed.yaml:5:12\n"),
        "{err}"
    );
    insta::assert_snapshot!("malformed", err);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_empty_file() {
    let err = refused("empty").await;
    assert!(
        err.starts_with("error: the scenario file is empty\n"),
        "{err}"
    );
    insta::assert_snapshot!("empty", err);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_file_that_is_not_utf8() {
    let err = refused("non_utf8").await;
    // The position of the first bad byte (`é` in Latin-1), counted in characters.
    assert!(
        err.starts_with(
            "error: the file is not UTF-8 text\n --> tests/fixtures/invalid/non_utf8.yaml:1:10\n  |\n1 | name: caf\u{fffd} cr\u{fffd}me\n  |          ^\n"
        ),
        "{err}"
    );
    insta::assert_snapshot!("non_utf8", err);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_binary_file() {
    let err = refused("binary").await;
    assert!(err.starts_with("error: invalid YAML: "), "{err}");
    // Control characters are shown, not sent to the terminal.
    assert!(!err.chars().any(|c| c.is_control() && c != '\n'), "{err:?}");
    assert!(err.contains("1 | ␀␁␂␃steps␀␀␐␛[1m␡␀\n  | ^\n"), "{err}");
    insta::assert_snapshot!("binary", err);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_include_cycle() {
    let out = cli(&["validate", "tests/fixtures/include/cycle_a.yaml"], &[]).await;
    out.expect_code(exit_code::INVALID);
    assert!(
        out.stderr.contains(
            "error: include cycle: tests/fixtures/include/cycle_a.yaml → tests/fixtures/include/cycle_b.yaml → tests/fixtures/include/cycle_a.yaml\n --> tests/fixtures/include/cycle_b.yaml:4:14\n"
        ),
        "{}",
        out.all()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn valid_files_print_ok() {
    let out = cli(
        &[
            "validate",
            "tests/fixtures/features.yaml",
            "tests/fixtures/failures/captures.yaml",
            "tests/fixtures/include/main.yaml",
        ],
        &[],
    )
    .await;
    out.expect_code(exit_code::SUCCESS);
    assert_eq!(
        out.stdout,
        "ok    tests/fixtures/features.yaml\nok    tests/fixtures/failures/captures.yaml\nok    tests/fixtures/include/main.yaml\n",
        "{}",
        out.all()
    );
    assert_eq!(out.stderr, "", "{}", out.all());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_folder_reports_every_file() {
    let out = cli(&["validate", "tests/fixtures/invalid"], &[]).await;
    out.expect_code(exit_code::INVALID);
    let errors = out
        .stdout
        .lines()
        .filter(|l| l.starts_with("error "))
        .count();
    assert_eq!(errors, 15, "{}", out.all());
    assert!(
        out.stderr
            .ends_with("\n15 problem(s) found in 15 file(s)\n"),
        "{}",
        out.all()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn variables_from_the_command_line_and_env_files_count_as_defined() {
    let file = "tests/fixtures/valid/needs_a_var.yaml";
    let out = cli(&["validate", file], &[]).await;
    out.expect_code(exit_code::INVALID);
    assert!(
        out.stderr.contains("error: undefined variable `base`"),
        "{}",
        out.all()
    );
    assert!(
        out.stderr.contains("error: undefined variable `token`"),
        "{}",
        out.all()
    );
    assert!(out.stderr.contains("2 problem(s) found"), "{}", out.all());

    for extra in [
        &["--var", "base=http://x", "--var", "token=t"][..],
        &["--env", "tests/fixtures/valid/env/vars.yaml"],
        &["--env", "tests/fixtures/valid/env/vars.env"],
        &["--var", "base=http://x", "--secret", "token=t"],
    ] {
        let mut args = vec!["validate", file];
        args.extend_from_slice(extra);
        let out = cli(&args, &[]).await;
        out.expect_code(exit_code::SUCCESS);
        assert_eq!(
            out.stdout,
            format!("ok    {file}\n"),
            "{extra:?}: {}",
            out.all()
        );
    }

    // STEPWISE_VAR_<name> counts too; one variable alone is not enough.
    let out = cli(
        &["validate", file, "--var", "base=http://x"],
        &[("STEPWISE_VAR_token", "t")],
    )
    .await;
    out.expect_code(exit_code::SUCCESS);
    let out = cli(&["validate", file, "--var", "base=http://x"], &[]).await;
    out.expect_code(exit_code::INVALID);
    assert!(out.stderr.contains("1 problem(s) found"), "{}", out.all());
}
