//! `cargo test` runs every scenario file under `scenarios/` as its own test, against the
//! built-in sandbox started in process (`cargo test --test scenarios -- --list` lists them).
//! A scenario's folder picks its sandbox: `scenarios/pingone/` runs against the PingOne one.

use libtest_mimic::{Arguments, Failed, Trial};
use std::path::Path;
use stepwise::report::terminal::render_summary;
use stepwise::sandbox::pingone::{RunningSandbox, SandboxConfig};
use stepwise::{Outcome, RunOptions, RunResult, Runner};

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
            let name = file
                .strip_prefix(&root)
                .unwrap_or(&file)
                .display()
                .to_string();
            Trial::test(name, move || run(&file)).with_kind("scenario")
        })
        .collect();
    libtest_mimic::run(&args, trials).exit();
}

fn run(file: &Path) -> Result<(), Failed> {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| Failed::from(format!("cannot start a runtime: {e}")))?;
    rt.block_on(async {
        let sandbox = RunningSandbox::start(SandboxConfig::default())
            .await
            .map_err(|e| Failed::from(format!("cannot start the sandbox: {e}")))?;
        let options = RunOptions::default()
            .with_vars(sandbox.variables())
            .with_secret(
                "adminAppSecret",
                sandbox.config().worker_client_secret.clone(),
            );
        let runner = Runner::new(options);
        let result = runner.run_file(file, &stepwise::runner::Silent).await;
        sandbox.shutdown().await;
        if result.outcome == Outcome::Passed {
            Ok(())
        } else {
            let run = RunResult {
                duration: result.duration,
                scenarios: vec![result],
                ..RunResult::default()
            };
            Err(Failed::from(render_summary(&run, false)))
        }
    })
}
