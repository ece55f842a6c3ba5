//! Test support: a local HTTP server with the behaviours scenarios need (JSON, redirects with
//! cookies, RFC 8628-style polling, HTML forms, misbehaviour), and helpers to run scenarios.

pub mod server;

use std::path::{Path, PathBuf};
use std::process::Output;

/// The folder of test fixtures.
pub fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures")
}

/// Runs the real `stepwise` binary with arguments, from the crate root.
pub async fn stepwise(args: Vec<String>) -> Output {
    stepwise_env(args, Vec::new()).await
}

/// Runs the real `stepwise` binary with arguments and extra environment variables. Any
/// `STEPWISE_VAR_*` of the test process itself is removed, so that runs are reproducible.
pub async fn stepwise_env(args: Vec<String>, env: Vec<(String, String)>) -> Output {
    tokio::task::spawn_blocking(move || {
        let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_stepwise"));
        cmd.args(&args)
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env("NO_COLOR", "1")
            .env_remove("CI");
        for (k, _) in std::env::vars_os() {
            if k.to_string_lossy().starts_with("STEPWISE_VAR_") {
                cmd.env_remove(k);
            }
        }
        cmd.envs(env);
        // A hung binary must fail the test, not hang it.
        let child = cmd
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("the stepwise binary starts");
        let pid = child.id();
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            if rx.recv_timeout(std::time::Duration::from_secs(60)).is_err() {
                let _ = std::process::Command::new("kill")
                    .args(["-9", &pid.to_string()])
                    .status();
            }
        });
        let out = child.wait_with_output().expect("the stepwise binary runs");
        let _ = tx.send(());
        out
    })
    .await
    .expect("the blocking task finishes")
}

/// The outcome of one run of the binary, as text.
#[derive(Debug)]
pub struct Cli {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
    /// stdout then stderr, as raw bytes (to search for leaked secrets).
    pub bytes: Vec<u8>,
}

impl Cli {
    /// Everything printed, for assertion messages.
    pub fn all(&self) -> String {
        format!(
            "exit code: {:?}\n--- stdout\n{}\n--- stderr\n{}",
            self.code, self.stdout, self.stderr
        )
    }

    /// Asserts the exit code, showing all output when it is wrong.
    pub fn expect_code(&self, code: i32) -> &Self {
        assert_eq!(self.code, Some(code), "{}", self.all());
        assert!(
            !self.stderr.contains("panicked"),
            "the binary panicked:\n{}",
            self.all()
        );
        self
    }
}

/// Runs the binary with string arguments and environment variables.
pub async fn cli(args: &[&str], env: &[(&str, &str)]) -> Cli {
    let out = stepwise_env(
        args.iter().map(|a| (*a).to_owned()).collect(),
        env.iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
    )
    .await;
    let mut bytes = out.stdout.clone();
    bytes.extend_from_slice(&out.stderr);
    Cli {
        code: out.status.code(),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        bytes,
    }
}

/// `stepwise run FIXTURE --var base=BASE [extra...]`, with the fixture relative to
/// `tests/fixtures`.
pub async fn run(fixture: &str, base: &str, extra: &[&str]) -> Cli {
    let path = format!("tests/fixtures/{fixture}");
    let base = format!("base={base}");
    let mut args = vec!["run", path.as_str(), "--var", base.as_str()];
    args.extend_from_slice(extra);
    cli(&args, &[]).await
}

/// [`normalize`], plus what else varies between runs: UUIDs and `Date` headers in response
/// excerpts.
pub fn scrub(text: &str) -> String {
    let text = normalize(text);
    let uuid =
        regex::Regex::new(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}").unwrap();
    let date = regex::Regex::new(r"(?m)^(\s*│ date: ).*$").unwrap();
    let text = uuid.replace_all(&text, "[uuid]");
    date.replace_all(&text, "${1}[date]").into_owned()
}

/// Whether `needle` occurs anywhere in `haystack`.
pub fn contains_bytes(haystack: &[u8], needle: &str) -> bool {
    let needle = needle.as_bytes();
    !needle.is_empty() && haystack.windows(needle.len()).any(|w| w == needle)
}

/// A port on 127.0.0.1 where nothing listens (bound, then released).
pub fn refused_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    port
}

/// Runs a fixture in process (no binary), with `base` and extra variables as overrides.
pub async fn run_in_process(
    fixture: &str,
    base: &str,
    extra: &[(&str, &str)],
) -> stepwise::result::ScenarioResult {
    use stepwise::runner::{RunOptions, Runner, Silent};
    let mut overrides = vec![("base".to_owned(), minijinja::Value::from(base))];
    for (k, v) in extra {
        overrides.push(((*k).to_owned(), minijinja::Value::from(*v)));
    }
    let runner = Runner::new(RunOptions {
        overrides,
        ..RunOptions::default()
    });
    runner.run_file(&fixtures().join(fixture), &Silent).await
}

/// Makes output stable for golden files: ports, durations, temp paths.
pub fn normalize(text: &str) -> String {
    let port = regex::Regex::new(r"127\.0\.0\.1:\d+").unwrap();
    let dur = regex::Regex::new(r"\b\d+(\.\d+)?(ms|s)\b").unwrap();
    let text = port.replace_all(text, "127.0.0.1:[port]");
    dur.replace_all(&text, "[time]").into_owned()
}

/// Why a run came out as it did, for failure messages: the outcome, errors, failed
/// assertions, how polling stopped, and included scenarios, indented.
pub fn describe(result: &stepwise::result::ScenarioResult) -> String {
    use std::fmt::Write as _;
    fn steps(result: &stepwise::result::ScenarioResult, depth: usize, text: &mut String) {
        for s in &result.steps {
            let pad = "  ".repeat(depth + 1);
            let _ = writeln!(text, "{pad}{} {:?}", s.name, s.outcome);
            if let Some(e) = &s.error {
                for line in e.render(false).lines() {
                    let _ = writeln!(text, "{pad}  {line}");
                }
            }
            for a in s.assertions.iter().filter(|a| !a.passed) {
                let _ = writeln!(
                    text,
                    "{pad}  ✗ {}: expected {}, got {}",
                    a.what, a.expected, a.actual
                );
            }
            if let Some(p) = &s.poll {
                let _ = writeln!(text, "{pad}  polling: {} ({:?})", p.stopped, p.history);
            }
            if let Some(inc) = &s.included {
                steps(inc, depth + 1, text);
            }
        }
    }
    let mut text = format!("{} {:?}\n", result.path.display(), result.outcome);
    if let Some(e) = &result.error {
        text.push_str(&e.render(false));
    }
    steps(result, 0, &mut text);
    text
}
