//! The command line: argument parsing (clap) and the `run` and `validate` commands.

use crate::diagnostic::Diagnostic;
use crate::exit_code;
use crate::http::HttpConfig;
use crate::inputs;
use crate::loader;
use crate::report::terminal::{Style, TerminalReporter};
use crate::result::{Outcome, ScenarioResult};
use crate::runner::{RunOptions, Runner};
use clap::{Args, Parser, Subcommand};
use minijinja::value::Value as MjValue;
use std::io::IsTerminal;
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "stepwise",
    version,
    about = "Replay documented HTTP API workflows from YAML scenario files, as a test suite",
    propagate_version = true
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run scenario files (or every scenario in folders)
    Run(RunArgs),
    /// Check scenario files without sending any request
    Validate(ValidateArgs),
    /// Serve a built-in API sandbox on 127.0.0.1 (for Postman, curl, or stepwise itself)
    #[command(subcommand)]
    Sandbox(SandboxCommand),
    /// Export scenarios to other tools' formats
    #[command(subcommand)]
    Export(ExportCommand),
    /// Import other tools' files as scenarios (a Postman collection)
    #[command(subcommand)]
    Import(crate::import::ImportCommand),
    /// Print a shell completion script (e.g. `stepwise completions bash > /etc/bash_completion.d/stepwise`)
    Completions {
        /// The shell
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), e.g. `stepwise man > stepwise.1 && man ./stepwise.1`
    Man,
    /// Print the JSON Schema of scenario files, for editors (also in docs/scenario.schema.json)
    Schema,
}

/// Export formats.
#[derive(Debug, Subcommand)]
pub enum ExportCommand {
    /// Each step as a runnable curl command (a bash script), with the variables known before
    /// the run; values captured at run time become shell variables
    Curl(ExportCurlArgs),
}

#[derive(Debug, Args)]
pub struct ExportCurlArgs {
    /// Scenario files or folders
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub vars: VarArgs,
    /// Print secret values as they are (default: masked)
    #[arg(long)]
    pub show_secrets: bool,
}

/// The built-in sandboxes.
#[derive(Debug, Subcommand)]
pub enum SandboxCommand {
    /// The PingOne sandbox: the endpoints of the device authorization grant workflow
    Pingone(PingOneArgs),
}

/// Which built-in sandbox `run --sandbox` starts.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum SandboxKind {
    /// PingOne (sets apiPath, authPath, envID, adminEnvID, adminAppID, adminAppSecret)
    Pingone,
}

#[derive(Debug, Args, Clone)]
pub struct PingOneArgs {
    /// Port on 127.0.0.1 (0 = any free port)
    #[arg(long, default_value_t = 0)]
    pub port: u16,
    /// The environment the workflow configures
    #[arg(long, default_value = crate::sandbox::pingone::DEFAULT_ENV_ID)]
    pub env_id: String,
    /// The worker application's client ID (adminAppID)
    #[arg(long, default_value = crate::sandbox::pingone::DEFAULT_WORKER_CLIENT_ID)]
    pub worker_client_id: String,
    /// The worker application's client secret (adminAppSecret)
    #[arg(long, default_value = crate::sandbox::pingone::DEFAULT_WORKER_CLIENT_SECRET)]
    pub worker_client_secret: String,
    /// Never answer `slow_down` to fast token polls (PingOne may never send it)
    #[arg(long)]
    pub no_slow_down: bool,
}

impl PingOneArgs {
    fn config(&self) -> crate::sandbox::pingone::SandboxConfig {
        crate::sandbox::pingone::SandboxConfig {
            env_id: self.env_id.clone(),
            admin_env_id: self.env_id.clone(),
            worker_client_id: self.worker_client_id.clone(),
            worker_client_secret: self.worker_client_secret.clone(),
            slow_down: !self.no_slow_down,
            ..Default::default()
        }
    }
}

/// Where variables come from.
#[derive(Debug, Args, Clone, Default)]
pub struct VarArgs {
    /// Set a variable (`name=value`); wins over env files and STEPWISE_VAR_*
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// Set a variable whose value is masked in every output
    #[arg(long = "secret", value_name = "NAME=VALUE")]
    pub secrets: Vec<String>,
    /// Read variables from a file (YAML mapping, or dotenv `NAME=value` lines)
    #[arg(long = "env", value_name = "FILE")]
    pub env_files: Vec<PathBuf>,
}

#[derive(Debug, Args)]
pub struct RunArgs {
    /// Scenario files or folders
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub vars: VarArgs,
    /// Stop at the first failing scenario
    #[arg(long)]
    pub fail_fast: bool,
    /// Print requests and responses (secrets masked)
    #[arg(short, long)]
    pub verbose: bool,
    /// No colours (also when NO_COLOR is set or output is not a terminal)
    #[arg(long)]
    pub no_color: bool,
    /// Accept invalid TLS certificates
    #[arg(long)]
    pub insecure: bool,
    /// Trust this CA certificate (PEM) in addition to the system's
    #[arg(long, value_name = "FILE")]
    pub cacert: Vec<PathBuf>,
    /// Start a built-in sandbox in process and run against it (its variables are set)
    #[arg(long, value_enum, value_name = "NAME")]
    pub sandbox: Option<SandboxKind>,
    /// How many scenarios run at once (default: the number of CPU cores)
    #[arg(short = 'j', long, value_name = "N")]
    pub jobs: Option<usize>,
    /// Run only shard K of N (e.g. 2/4): the same file always lands in the same shard
    #[arg(long, value_name = "K/N", value_parser = parse_shard_arg)]
    pub shard: Option<(u32, u32)>,
    /// Run only scenarios whose path or name contains this text (repeatable; any matches)
    #[arg(long, value_name = "TEXT")]
    pub filter: Vec<String>,
    /// Run only scenarios with this tag (repeatable; any matches)
    #[arg(long, value_name = "TAG")]
    pub tag: Vec<String>,
    /// Write a JUnit XML report to FILE (also when scenarios fail or the run is interrupted)
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write a JSON report to FILE (schema: docs/report.md)
    #[arg(long, value_name = "FILE")]
    pub report_json: Option<PathBuf>,
    /// When to write snapshot files: auto (default: `.snap.new` for review, nothing on CI),
    /// always (to `.snap`), unseen, new (`.snap.new`, also on CI), no, force
    #[arg(
        long,
        value_name = "MODE",
        env = "INSTA_UPDATE",
        value_parser = crate::snapshot::UpdateMode::parse
    )]
    pub update_snapshots: Option<crate::snapshot::UpdateMode>,
    /// Neither compare nor write response snapshots (e.g. against a real tenant whose
    /// responses differ from those recorded against the sandbox)
    #[arg(long)]
    pub no_snapshots: bool,
}

fn parse_shard_arg(text: &str) -> Result<(u32, u32), String> {
    crate::suite::parse_shard(text)
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Scenario files or folders
    #[arg(required = true, value_name = "PATH")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub vars: VarArgs,
    /// No colours
    #[arg(long)]
    pub no_color: bool,
}

/// Parses the command line, runs the command, returns the exit code.
pub fn main() -> i32 {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return match e.kind() {
                clap::error::ErrorKind::DisplayHelp | clap::error::ErrorKind::DisplayVersion => {
                    exit_code::SUCCESS
                }
                _ => exit_code::INVALID,
            };
        }
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return exit_code::NETWORK_OR_IO;
        }
    };
    let code = match cli.command {
        Command::Run(args) => runtime.block_on(run(args)),
        Command::Validate(args) => validate(args),
        Command::Sandbox(SandboxCommand::Pingone(args)) => runtime.block_on(serve_pingone(args)),
        Command::Export(ExportCommand::Curl(args)) => export_curl(args),
        Command::Import(command) => import(command),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "stepwise",
                &mut std::io::stdout(),
            );
            exit_code::SUCCESS
        }
        Command::Schema => {
            use std::io::Write as _;
            let text = crate::model::schema::scenario_schema_text();
            match std::io::stdout().write_all(text.as_bytes()) {
                Ok(()) => exit_code::SUCCESS,
                // `stepwise schema | head` is not a failure.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => exit_code::SUCCESS,
                Err(e) => {
                    eprintln!("error: cannot write the schema: {e}");
                    exit_code::NETWORK_OR_IO
                }
            }
        }
        Command::Man => {
            use clap::CommandFactory;
            match clap_mangen::Man::new(Cli::command()).render(&mut std::io::stdout()) {
                Ok(()) => exit_code::SUCCESS,
                Err(e) => {
                    eprintln!("error: cannot write the man page: {e}");
                    exit_code::NETWORK_OR_IO
                }
            }
        }
    };
    // Everything is reported by now. Dropping the runtime would wait for its blocking threads,
    // and one may still sit in the system resolver (a DNS lookup that outlived its request's
    // timeout, or Ctrl-C) for as long as the resolver likes: the process must end now.
    runtime.shutdown_background();
    code
}

fn color_enabled(no_color: bool) -> bool {
    !no_color && std::env::var_os("NO_COLOR").is_none() && std::io::stdout().is_terminal()
}

fn print_error(d: &Diagnostic, color: bool) {
    eprint!("{}", d.render(color));
}

/// Variables with their values, lowest precedence first.
pub type Overrides = Vec<(String, MjValue)>;

/// Variables from env files, the environment and the command line, lowest precedence first,
/// and the names given with `--secret`.
pub fn collect_vars(args: &VarArgs) -> Result<(Overrides, Vec<String>), Diagnostic> {
    let mut vars = Vec::new();
    for file in &args.env_files {
        vars.extend(inputs::read_env_file(file)?);
    }
    vars.extend(inputs::from_environment());
    for v in &args.vars {
        vars.push(inputs::parse_assignment(v)?);
    }
    let mut secret_names = Vec::new();
    for s in &args.secrets {
        let (name, value) = inputs::parse_assignment(s)?;
        secret_names.push(name.clone());
        vars.push((name, value));
    }
    Ok((vars, secret_names))
}

async fn run(args: RunArgs) -> i32 {
    let color = color_enabled(args.no_color);
    let (mut overrides, mut secret_names) = match collect_vars(&args.vars) {
        Ok(v) => v,
        Err(d) => {
            print_error(&d, color);
            return exit_code::INVALID;
        }
    };
    // The sandbox's variables sit below env files and the command line.
    let sandbox = match args.sandbox {
        Some(SandboxKind::Pingone) => {
            let config = crate::sandbox::pingone::SandboxConfig::default();
            match crate::sandbox::pingone::RunningSandbox::start(config).await {
                Ok(sb) => {
                    let vars: Overrides = sb
                        .variables()
                        .into_iter()
                        .map(|(k, v)| (k, MjValue::from(v)))
                        .collect();
                    overrides.splice(0..0, vars);
                    secret_names.push("adminAppSecret".into());
                    println!("PingOne sandbox on {}", sb.base_url());
                    Some(sb)
                }
                Err(e) => {
                    eprintln!("error: cannot start the PingOne sandbox: {e}");
                    return exit_code::NETWORK_OR_IO;
                }
            }
        }
        None => None,
    };
    let code = run_with(args, overrides, secret_names, color).await;
    if let Some(sb) = sandbox {
        sb.shutdown().await;
    }
    code
}

async fn serve_pingone(args: PingOneArgs) -> i32 {
    let sb = match crate::sandbox::pingone::RunningSandbox::start_on(args.config(), args.port).await
    {
        Ok(sb) => sb,
        Err(e) => {
            eprintln!("error: cannot listen on 127.0.0.1:{}: {e}", args.port);
            return exit_code::NETWORK_OR_IO;
        }
    };
    // Listen before announcing, so that a Ctrl-C right after the banner is not lost.
    let interrupted = crate::suite::interrupt_listener();
    println!(
        "PingOne sandbox listening on {}  (Ctrl-C to stop)",
        sb.base_url()
    );
    println!();
    println!("Variables (Postman names; use them in an env file or with --var):");
    for (name, value) in sb.variables() {
        println!("  {name:<15} {value}");
    }
    println!();
    println!(
        "slow_down on fast token polls: {}",
        if args.no_slow_down { "off" } else { "on" }
    );
    println!(
        "try: curl -s -u '{}:{}' -d grant_type=client_credentials {}/{}/as/token",
        args.worker_client_id,
        args.worker_client_secret,
        sb.auth_path(),
        args.env_id
    );
    use std::io::Write as _;
    let _ = std::io::stdout().flush();
    interrupted.await;
    println!("stopping");
    sb.shutdown().await;
    exit_code::SUCCESS
}

async fn run_with(
    args: RunArgs,
    overrides: Overrides,
    secret_names: Vec<String>,
    color: bool,
) -> i32 {
    let files = match loader::discover(&args.paths) {
        Ok(f) => f,
        Err(d) => {
            print_error(&d, color);
            return exit_code::NO_SCENARIO;
        }
    };
    if files.is_empty() {
        eprintln!("error: no scenario files (*.yaml, *.yml) found in the given paths");
        return exit_code::NO_SCENARIO;
    }
    let mut ca_certs = Vec::new();
    for path in &args.cacert {
        match std::fs::read(path) {
            Ok(pem) => {
                if let Err(why) = crate::http::check_ca_pem(&pem) {
                    eprintln!(
                        "error: cannot use CA certificate `{}`: {why}",
                        path.display()
                    );
                    return exit_code::INVALID;
                }
                ca_certs.push(pem)
            }
            Err(e) => {
                eprintln!(
                    "error: cannot read CA certificate `{}`: {e}",
                    path.display()
                );
                return exit_code::NETWORK_OR_IO;
            }
        }
    }
    let options = RunOptions {
        overrides,
        secret_names,
        http: HttpConfig {
            insecure: args.insecure,
            ca_certs,
        },
        update_snapshots: args.update_snapshots.unwrap_or_default(),
        skip_snapshots: args.no_snapshots,
    };
    let files = crate::suite::select(
        files,
        &crate::suite::Selection {
            shard: args.shard,
            filters: args.filter.clone(),
            tags: args.tag.clone(),
        },
    );
    // With hash sharding a shard may well be empty: that is a passing (empty) run with
    // (empty) reports, not an error. Filters and tags that match nothing are an error.
    let empty_shard = files.is_empty() && args.shard.is_some();
    if files.is_empty() && !empty_shard {
        eprintln!("error: no scenario matches the filters and tags given");
        return exit_code::NO_SCENARIO;
    }
    if empty_shard {
        println!("no scenario falls in this shard");
    }
    let runner = std::sync::Arc::new(Runner::new(options));
    let style = Style {
        color,
        verbose: args.verbose,
        progress: std::io::stdout().is_terminal(),
    };
    let jobs = args
        .jobs
        .unwrap_or_else(|| std::thread::available_parallelism().map_or(1, |n| n.get()))
        .max(1)
        .min(files.len());
    // Several scenarios at once: no live progress line, output comes per scenario.
    let style = Style {
        progress: style.progress && jobs == 1,
        ..style
    };
    let reporter =
        TerminalReporter::new(Box::new(std::io::stdout()), style, runner.masker().clone());
    let out: std::sync::Arc<std::sync::Mutex<dyn std::io::Write + Send>> =
        std::sync::Arc::new(std::sync::Mutex::new(std::io::stdout()));
    let suite = crate::suite::run(
        runner.clone(),
        files,
        jobs,
        args.fail_fast,
        style,
        &reporter,
        out,
    )
    .await;
    let result = suite.result;
    let interrupted = suite.interrupted;
    if !suite.not_run.is_empty() {
        println!(
            "\n{} scenario(s) not run ({})",
            suite.not_run.len(),
            if interrupted {
                "interrupted"
            } else {
                "--fail-fast"
            }
        );
    }
    reporter.finish(&result);
    // Reports: written whatever happened, Ctrl-C included; an unwritable one is an I/O error.
    let result = crate::result::RunResult {
        interrupted,
        started_at: result
            .started_at
            .or_else(|| std::time::SystemTime::now().checked_sub(result.duration)),
        ..result
    };
    let files = crate::report::ReportFiles {
        junit: args.junit.as_deref(),
        json: args.report_json.as_deref(),
    };
    let report_errors = crate::report::write_reports(files, &result, runner.masker());
    for e in &report_errors {
        eprintln!("error: {e}");
    }
    if interrupted {
        eprintln!("interrupted");
        return exit_code::INTERRUPTED;
    }
    let code = if empty_shard {
        exit_code::SUCCESS
    } else {
        exit_code_for(&result.scenarios)
    };
    match code {
        code if !report_errors.is_empty() && code != exit_code::INVALID => exit_code::NETWORK_OR_IO,
        code => code,
    }
}

/// The exit code of a run: invalid > network > assertion > success.
pub fn exit_code_for(scenarios: &[ScenarioResult]) -> i32 {
    let worst = scenarios.iter().map(|s| s.outcome).max();
    match worst {
        None => exit_code::NO_SCENARIO,
        Some(Outcome::Invalid) => exit_code::INVALID,
        Some(Outcome::NetworkError) => exit_code::NETWORK_OR_IO,
        Some(Outcome::Failed) => exit_code::ASSERTION_FAILED,
        Some(Outcome::Passed) | Some(Outcome::Skipped) => exit_code::SUCCESS,
    }
}

fn validate(args: ValidateArgs) -> i32 {
    let color = color_enabled(args.no_color);
    let (vars, _) = match collect_vars(&args.vars) {
        Ok(v) => v,
        Err(d) => {
            print_error(&d, color);
            return exit_code::INVALID;
        }
    };
    let files = match loader::discover(&args.paths) {
        Ok(f) => f,
        Err(d) => {
            print_error(&d, color);
            return exit_code::NO_SCENARIO;
        }
    };
    if files.is_empty() {
        eprintln!("error: no scenario files (*.yaml, *.yml) found in the given paths");
        return exit_code::NO_SCENARIO;
    }
    let known: Vec<String> = vars.into_iter().map(|(k, _)| k).collect();
    let mut problems = 0;
    for file in &files {
        let diagnostics = crate::validate::validate_file(file, &known);
        if diagnostics.is_empty() {
            println!("ok    {}", crate::diagnostic::display_path(file));
        } else {
            println!("error {}", crate::diagnostic::display_path(file));
            for d in &diagnostics {
                eprint!("{}", d.render(color));
            }
            problems += diagnostics.len();
        }
    }
    if problems > 0 {
        eprintln!("\n{problems} problem(s) found in {} file(s)", files.len());
        exit_code::INVALID
    } else {
        exit_code::SUCCESS
    }
}

/// `stepwise import ...`: the importer writes the files, checks them and prints its summary.
fn import(command: crate::import::ImportCommand) -> i32 {
    crate::import::run(command)
}

fn export_curl(args: ExportCurlArgs) -> i32 {
    let color = color_enabled(false);
    let (overrides, secret_names) = match collect_vars(&args.vars) {
        Ok(v) => v,
        Err(d) => {
            print_error(&d, color);
            return exit_code::INVALID;
        }
    };
    let files = match loader::discover(&args.paths) {
        Ok(f) if !f.is_empty() => f,
        Ok(_) => {
            eprintln!("error: no scenario files (*.yaml, *.yml) found in the given paths");
            return exit_code::NO_SCENARIO;
        }
        Err(d) => {
            print_error(&d, color);
            return exit_code::NO_SCENARIO;
        }
    };
    let options = crate::export::curl::ExportOptions {
        overrides: &overrides,
        secret_names: &secret_names,
        show_secrets: args.show_secrets,
    };
    let mut code = exit_code::SUCCESS;
    for file in &files {
        match crate::export::curl::export(file, &options) {
            Ok(script) => print!("{script}"),
            Err(ds) => {
                for d in ds {
                    print_error(&d, color);
                }
                code = exit_code::INVALID;
            }
        }
    }
    code
}
