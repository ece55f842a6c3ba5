//! Every ```yaml example in `README.md` and `docs/*.md` is checked here, so the docs never lie.
//!
//! The first line of a block says what it is:
//!
//! - no marker: a whole scenario. It is run against the test server (`base` is overridden
//!   with the server's URL) and must pass, and `stepwise validate` must accept it.
//! - `# expect: fail`: a whole scenario that must fail (an assertion, a capture, a poll or
//!   the network), and that `stepwise validate` must still accept.
//! - `# expect: invalid`: a whole scenario that must stop as invalid (exit code 2).
//! - `# file: PATH`: a file that other examples of the same page use (an included scenario,
//!   a file to upload). It is written, without the marker line, to PATH relative to the
//!   page's scenarios before any of them runs; it must be valid YAML, and a valid scenario
//!   when it has `steps`.
//! - `# fragment`: a piece of a file; it must be valid YAML.
//! - `# fragment: KIND`: a piece that must also deserialize as a `scenario` (and pass the
//!   loader's checks), a `step` (or a list of steps), a `request`, a `capture` (a mapping of
//!   names to captures), an `expect`, a `poll` or `defaults`; `env` is a YAML env file
//!   (`--env`).

use crate::support::describe;
use crate::support::server::TestServer;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use stepwise::model::{Capture, Defaults, Expect, Poll, Request, Step};
use stepwise::result::Outcome;
use stepwise::runner::{RunOptions, Runner, Silent};

/// No docs example may take longer than this.
const EXAMPLE_TIMEOUT: Duration = Duration::from_secs(60);

/// What a block claims to be.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Kind {
    Scenario(Expectation),
    File(String),
    Fragment(Option<String>),
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Expectation {
    Pass,
    Fail,
    Invalid,
}

/// One ```yaml block of a Markdown page.
#[derive(Debug, Clone)]
pub(crate) struct Block {
    /// The page, relative to the crate root (for messages).
    pub(crate) page: String,
    /// The line of the opening fence (1-based).
    pub(crate) line: usize,
    pub(crate) text: String,
    pub(crate) kind: Kind,
}

impl Block {
    pub(crate) fn place(&self) -> String {
        format!("{}:{}", self.page, self.line)
    }
}

/// The ```yaml blocks of a Markdown text. Fences may be indented (inside a list); the
/// indentation of the opening fence is removed from every line of the block.
pub(crate) fn yaml_blocks(page: &str, markdown: &str) -> Result<Vec<Block>, String> {
    let mut blocks = Vec::new();
    let mut open: Option<(usize, usize, String)> = None;
    for (i, line) in markdown.lines().enumerate() {
        let trimmed = line.trim_start();
        let indent = line.len() - trimmed.len();
        match &mut open {
            None => {
                if trimmed.trim_end() == "```yaml" {
                    open = Some((i + 1, indent, String::new()));
                }
            }
            Some((start, fence_indent, text)) => {
                if trimmed.trim_end() == "```" {
                    let kind = classify(text).map_err(|e| format!("{page}:{start}: {e}"))?;
                    blocks.push(Block {
                        page: page.to_owned(),
                        line: *start,
                        text: std::mem::take(text),
                        kind,
                    });
                    open = None;
                } else {
                    let cut = line
                        .char_indices()
                        .take_while(|(j, c)| *j < *fence_indent && *c == ' ')
                        .count();
                    text.push_str(&line[cut..]);
                    text.push('\n');
                }
            }
        }
    }
    match open {
        Some((start, _, _)) => Err(format!("{page}:{start}: the ```yaml block is never closed")),
        None => Ok(blocks),
    }
}

fn classify(text: &str) -> Result<Kind, String> {
    let first = text.lines().next().unwrap_or("").trim();
    let Some(marker) = first.strip_prefix('#').map(str::trim) else {
        return Ok(Kind::Scenario(Expectation::Pass));
    };
    if marker == "fragment" {
        return Ok(Kind::Fragment(None));
    }
    if let Some(kind) = marker.strip_prefix("fragment:") {
        return Ok(Kind::Fragment(Some(kind.trim().to_owned())));
    }
    if let Some(path) = marker.strip_prefix("file:") {
        return Ok(Kind::File(path.trim().to_owned()));
    }
    match marker {
        "expect: fail" => Ok(Kind::Scenario(Expectation::Fail)),
        "expect: invalid" => Ok(Kind::Scenario(Expectation::Invalid)),
        m if m.starts_with("expect") => Err(format!(
            "unknown marker `# {m}` (use `# expect: fail` or `# expect: invalid`)"
        )),
        // An ordinary comment: a scenario that passes.
        _ => Ok(Kind::Scenario(Expectation::Pass)),
    }
}

/// The Markdown pages whose examples are checked.
pub(crate) fn pages() -> Vec<PathBuf> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut pages = vec![root.join("README.md")];
    let mut docs: Vec<PathBuf> = std::fs::read_dir(root.join("docs"))
        .expect("docs/ is readable")
        .map(|e| e.expect("a docs/ entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    docs.sort();
    pages.extend(docs);
    pages
}

pub(crate) fn relative(path: &Path) -> String {
    path.strip_prefix(env!("CARGO_MANIFEST_DIR"))
        .unwrap_or(path)
        .display()
        .to_string()
}

/// Checks a fragment; `Err` says why it is wrong.
fn check_fragment(block: &Block, kind: Option<&str>) -> Result<(), String> {
    let node = stepwise::yaml::parse(&block.text)
        .map_err(|e| {
            format!(
                "not valid YAML: {} (block line {})",
                e.message, e.span.start.line
            )
        })?
        .ok_or("the block is empty")?;
    fn de<T: serde::de::DeserializeOwned>(node: &stepwise::yaml::Node) -> Result<(), String> {
        stepwise::yaml::from_node::<T>(node)
            .map(|_| ())
            .map_err(|e| {
                let line = e.span.map(|s| s.start.line).unwrap_or(0);
                let hint = e.hint.map(|h| format!("; {h}")).unwrap_or_default();
                format!("{} (block line {line}){hint}", e.message)
            })
    }
    match kind {
        None => Ok(()),
        Some("scenario") => stepwise::loader::parse(Path::new("fragment.yaml"), block.text.clone())
            .map(|_| ())
            .map_err(|e| {
                e.diagnostics()
                    .iter()
                    .map(|d| d.render(false))
                    .collect::<String>()
            }),
        Some("step") => match node.kind {
            stepwise::yaml::NodeKind::Seq(_) => de::<Vec<Step>>(&node),
            _ => de::<Step>(&node),
        },
        Some("request") => de::<Request>(&node),
        Some("capture") => de::<BTreeMap<String, Capture>>(&node),
        Some("expect") => de::<Expect>(&node),
        Some("poll") => de::<Poll>(&node),
        Some("defaults") => de::<Defaults>(&node),
        Some("env") => {
            let dir = tempfile::tempdir().map_err(|e| e.to_string())?;
            let path = dir.path().join("env.yaml");
            std::fs::write(&path, &block.text).map_err(|e| e.to_string())?;
            let vars = stepwise::inputs::read_env_file(&path).map_err(|d| d.render(false))?;
            if vars.is_empty() {
                return Err("the env file sets no variable".into());
            }
            Ok(())
        }
        Some(other) => Err(format!("unknown fragment kind `{other}`")),
    }
}

/// Writes a `# file:` block without its marker line; checks it is YAML (and a valid scenario
/// when it has steps).
pub(crate) fn write_file(dir: &Path, block: &Block, rel: &str) -> Result<(), String> {
    let path = dir.join(rel);
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent).map_err(|e| e.to_string())?;
    }
    let content = block
        .text
        .split_once('\n')
        .map(|(_, rest)| rest)
        .unwrap_or("");
    std::fs::write(&path, content).map_err(|e| e.to_string())?;
    let node =
        stepwise::yaml::parse(content).map_err(|e| format!("not valid YAML: {}", e.message))?;
    let is_scenario = matches!(
        node.map(|n| n.kind),
        Some(stepwise::yaml::NodeKind::Map(entries))
            if entries.iter().any(|(k, _)| k.kind == stepwise::yaml::NodeKind::Str("steps".into()))
    );
    if is_scenario {
        stepwise::loader::load(&path).map_err(|e| {
            e.diagnostics()
                .iter()
                .map(|d| d.render(false))
                .collect::<String>()
        })?;
    }
    Ok(())
}

/// Runs one whole-scenario example and checks it against its expectation.
async fn check_scenario(
    block: Block,
    path: PathBuf,
    expect: Expectation,
    base: String,
) -> Result<(), String> {
    std::fs::write(&path, &block.text).map_err(|e| e.to_string())?;
    if expect != Expectation::Invalid {
        let problems = stepwise::validate::validate_file(&path, &["base".into()]);
        if !problems.is_empty() {
            let text: String = problems.iter().map(|d| d.render(false)).collect();
            return Err(format!("`stepwise validate` rejects it:\n{text}"));
        }
    }
    let runner = Runner::new(RunOptions {
        overrides: vec![("base".to_owned(), minijinja::Value::from(base))],
        ..RunOptions::default()
    });
    let result = tokio::time::timeout(EXAMPLE_TIMEOUT, runner.run_file(&path, &Silent))
        .await
        .map_err(|_| format!("did not finish within {EXAMPLE_TIMEOUT:?}"))?;
    let ok = match expect {
        Expectation::Pass => result.outcome == Outcome::Passed,
        Expectation::Fail => result.outcome.is_failure() && result.outcome != Outcome::Invalid,
        Expectation::Invalid => result.outcome == Outcome::Invalid,
    };
    if ok {
        Ok(())
    } else {
        Err(format!(
            "expected the scenario to {}, but:\n{}",
            match expect {
                Expectation::Pass => "pass",
                Expectation::Fail => "fail (`# expect: fail`)",
                Expectation::Invalid => "stop as invalid (`# expect: invalid`)",
            },
            describe(&result)
        ))
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn every_docs_example_is_valid_and_runs() {
    let server = TestServer::start().await;
    let mut failures: Vec<String> = Vec::new();
    let mut counts: BTreeMap<&str, usize> = BTreeMap::new();
    let mut runs = tokio::task::JoinSet::new();
    // Kept alive until every run is over.
    let mut dirs = Vec::new();
    for page in pages() {
        let name = relative(&page);
        let markdown =
            std::fs::read_to_string(&page).unwrap_or_else(|e| panic!("cannot read {name}: {e}"));
        let blocks = match yaml_blocks(&name, &markdown) {
            Ok(b) => b,
            Err(e) => {
                failures.push(e);
                continue;
            }
        };
        let dir = tempfile::tempdir().expect("a temporary folder");
        // Files first: scenarios of the page may include or upload them.
        for block in &blocks {
            if let Kind::File(rel) = &block.kind {
                *counts.entry("files").or_default() += 1;
                if let Err(e) = write_file(dir.path(), block, rel) {
                    failures.push(format!("{}: `# file: {rel}`: {e}", block.place()));
                }
            }
        }
        for block in blocks {
            match block.kind.clone() {
                Kind::File(_) => {}
                Kind::Fragment(kind) => {
                    *counts.entry("fragments").or_default() += 1;
                    if let Err(e) = check_fragment(&block, kind.as_deref()) {
                        failures.push(format!("{}: fragment: {e}", block.place()));
                    }
                }
                Kind::Scenario(expect) => {
                    *counts.entry("scenarios").or_default() += 1;
                    let stem = Path::new(&block.page)
                        .file_stem()
                        .map(|s| s.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    let path = dir.path().join(format!("{stem}-line-{}.yaml", block.line));
                    let base = server.base();
                    runs.spawn(async move {
                        let place = block.place();
                        check_scenario(block, path, expect, base)
                            .await
                            .map_err(|e| format!("{place}: {e}"))
                    });
                }
            }
        }
        dirs.push(dir);
    }
    while let Some(joined) = runs.join_next().await {
        match joined {
            Ok(Ok(())) => {}
            Ok(Err(e)) => failures.push(e),
            Err(e) => failures.push(format!("an example panicked: {e}")),
        }
    }
    println!("docs examples checked: {counts:?}");
    assert!(
        counts.get("scenarios").copied().unwrap_or(0) >= 20,
        "suspiciously few runnable examples: {counts:?}"
    );
    failures.sort();
    assert!(
        failures.is_empty(),
        "{} docs example(s) are wrong:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn blocks_are_found_with_their_line_and_marker() {
    let md = "text\n```yaml\nsteps: []\n```\n\n- item\n  ```yaml\n  # fragment\n  a: 1\n  ```\n```yaml\n# expect: fail\nx: 1\n```\n```yaml\n# file: include/x.yaml\ny: 2\n```\n";
    let blocks = yaml_blocks("t.md", md).unwrap();
    let got: Vec<_> = blocks.iter().map(|b| (b.line, b.kind.clone())).collect();
    assert_eq!(
        got,
        vec![
            (2, Kind::Scenario(Expectation::Pass)),
            (7, Kind::Fragment(None)),
            (11, Kind::Scenario(Expectation::Fail)),
            (15, Kind::File("include/x.yaml".into())),
        ]
    );
    assert_eq!(blocks[1].text, "# fragment\na: 1\n");
    assert!(yaml_blocks("t.md", "```yaml\na: 1\n").is_err());
    assert!(classify("# expect: pass\n").is_err());
}
