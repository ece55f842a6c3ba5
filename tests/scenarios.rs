//! `cargo test` runs every scenario file under `scenarios/` as its own test
//! (`cargo test --test scenarios -- --list` lists them). A scenario's folder picks its server:
//!
//! - `scenarios/interop/oidc-provider/` runs against a real OpenID provider, panva's
//!   oidc-provider on Node.js (`tests/interop/oidc-provider/`). The harness installs it with
//!   `npm ci` when needed, starts it once for all its files and passes `issuer` and a short
//!   `poll_interval`. Without Node.js (18 or later) these tests are ignored with the reason,
//!   unless `CI=true`: then they fail.
//! - every other file runs against the built-in PingOne sandbox, started in process.

#[path = "interop/oidc_provider.rs"]
mod oidc_provider;

use libtest_mimic::{Arguments, Completion, Failed, Trial};
use oidc_provider::OidcProvider;
use std::path::Path;
use std::sync::OnceLock;
use stepwise::report::terminal::render_summary;
use stepwise::sandbox::pingone::{RunningSandbox, SandboxConfig};
use stepwise::{Outcome, RunOptions, RunResult, Runner};

/// The folder (under `scenarios/`) whose files run against oidc-provider.
const OIDC_PROVIDER_FOLDER: &str = "interop/oidc-provider";

/// The wait between token polls in the oidc-provider scenarios (RFC 8628's 5 s by default),
/// so that they take well under a second each.
const POLL_INTERVAL: &str = "100ms";

/// Why Node.js cannot run oidc-provider here (`None`: it can); looked at once.
static NODE_PROBLEM: OnceLock<Option<String>> = OnceLock::new();

/// The one oidc-provider of this run, started by the first test that needs it.
static OIDC_PROVIDER: OnceLock<Result<OidcProvider, String>> = OnceLock::new();

fn main() {
    let args = Arguments::from_args();
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("scenarios");
    let files = match stepwise::loader::discover(std::slice::from_ref(&root)) {
        Ok(files) => files,
        Err(d) => {
            eprintln!("{}", d.render(false));
            std::process::exit(2);
        }
    };
    let trials = files
        .into_iter()
        .map(|file| {
            let relative = file.strip_prefix(&root).unwrap_or(&file).to_path_buf();
            let name = relative.display().to_string();
            if relative.starts_with(OIDC_PROVIDER_FOLDER) {
                Trial::ignorable_test(name, move || run_against_oidc_provider(&file))
            } else {
                Trial::test(name, move || run_against_sandbox(&file))
            }
            .with_kind("scenario")
        })
        .collect();
    let conclusion = libtest_mimic::run(&args, trials);
    if let Some(Ok(provider)) = OIDC_PROVIDER.get() {
        provider.stop();
    }
    conclusion.exit();
}

fn run_against_sandbox(file: &Path) -> Result<(), Failed> {
    block_on(async {
        let sandbox = RunningSandbox::start(SandboxConfig::default())
            .await
            .map_err(|e| Failed::from(format!("cannot start the sandbox: {e}")))?;
        let options = RunOptions::default()
            .with_vars(sandbox.variables())
            .with_secret(
                "adminAppSecret",
                sandbox.config().worker_client_secret.clone(),
            );
        let result = run(file, options).await;
        sandbox.shutdown().await;
        result
    })
}

fn run_against_oidc_provider(file: &Path) -> Result<Completion, Failed> {
    if let Some(problem) = NODE_PROBLEM.get_or_init(oidc_provider::node_problem) {
        if std::env::var("CI").as_deref() == Ok("true") {
            return Err(Failed::from(format!(
                "Node.js is required in CI (CI=true) for the oidc-provider scenarios: {problem}. \
                 .ci/run installs it."
            )));
        }
        return Ok(Completion::ignored_with(format!("skipped: {problem}")));
    }
    let provider = OIDC_PROVIDER
        .get_or_init(OidcProvider::start)
        .as_ref()
        .map_err(|e| Failed::from(format!("cannot start oidc-provider: {e}")))?;
    let options = RunOptions::default().with_vars([
        ("issuer", provider.issuer.clone()),
        ("poll_interval", POLL_INTERVAL.to_owned()),
    ]);
    block_on(run(file, options)).map_err(|failed| {
        // The server's own account of what went wrong, under stepwise's.
        Failed::from(format!(
            "{}\n--- oidc-provider stderr\n{}",
            failed.message().unwrap_or_default(),
            provider.stderr()
        ))
    })?;
    Ok(Completion::Completed)
}

/// Runs one scenario file; a failure carries the summary `stepwise run` would print.
async fn run(file: &Path, options: RunOptions) -> Result<(), Failed> {
    let result = Runner::new(options)
        .run_file(file, &stepwise::runner::Silent)
        .await;
    if result.outcome == Outcome::Passed {
        return Ok(());
    }
    let run = RunResult {
        duration: result.duration,
        scenarios: vec![result],
        ..RunResult::default()
    };
    Err(Failed::from(render_summary(&run, false)))
}

fn block_on<F: std::future::Future<Output = Result<(), Failed>>>(future: F) -> Result<(), Failed> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failed::from(format!("cannot start a runtime: {e}")))?
        .block_on(future)
}
