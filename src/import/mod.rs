//! Importers: other tools' files → scenario files. Each importer owns its source format; the
//! YAML they write goes through one writer ([`yaml_writer`]), and every scenario written is
//! checked with `stepwise validate`'s checks before the command says it is done.

pub mod postman;
pub(crate) mod yaml_writer;

use crate::exit_code;
use clap::{Args, Subcommand};
use std::path::{Component, Path, PathBuf};

/// `stepwise import <format>`.
#[derive(Debug, Subcommand)]
pub enum ImportCommand {
    /// A Postman collection (v2.0 or v2.1) → a scenario file; its environment → env.yaml
    Postman(PostmanArgs),
}

#[derive(Debug, Args)]
pub struct PostmanArgs {
    /// The collection, as exported by Postman (Export → Collection v2.1)
    #[arg(value_name = "COLLECTION.json")]
    pub collection: PathBuf,
    /// A Postman environment (exported from Postman): its values go to env.yaml, its secret
    /// values are listed in the scenario's `secrets`
    #[arg(short = 'e', long, value_name = "ENV.json")]
    pub environment: Option<PathBuf>,
    /// The folder to write the scenario (and env.yaml) to; created if needed
    #[arg(short = 'o', long = "output", value_name = "DIR", default_value = ".")]
    pub output: PathBuf,
    /// Overwrite files that exist already
    #[arg(long)]
    pub force: bool,
}

/// Where the scenario schema lives in a project, relative to the working directory.
const SCHEMA: &str = "docs/scenario.schema.json";

/// Runs `stepwise import ...` and returns the exit code.
pub fn run(command: ImportCommand) -> i32 {
    match command {
        ImportCommand::Postman(args) => postman_command(&args),
    }
}

fn postman_command(args: &PostmanArgs) -> i32 {
    let options = postman::ImportOptions {
        schema: schema_reference(&args.output),
    };
    let imported = match postman::import(&args.collection, args.environment.as_deref(), &options) {
        Ok(i) => i,
        Err(e) => {
            eprintln!("error: {e}");
            return e.exit_code();
        }
    };
    let written = match postman::write(&imported, &args.output, args.force) {
        Ok(w) => w,
        Err(e) => {
            eprintln!("error: {e}");
            return e.exit_code();
        }
    };
    let scenario = &written[0];
    println!(
        "wrote {} ({} steps from \"{}\")",
        crate::diagnostic::display_path(scenario),
        imported.steps,
        imported.name
    );
    if let Some(env) = written.get(1) {
        println!(
            "wrote {} ({} variables)",
            crate::diagnostic::display_path(env),
            imported.env_names.len()
        );
    }
    eprint!("{}", imported.summary());
    let problems = crate::validate::validate_file(scenario, &imported.outside_names());
    if !problems.is_empty() {
        for d in &problems {
            eprint!("{}", d.render(false));
        }
        eprintln!(
            "error: {} was written, but does not pass `stepwise validate` ({} problem(s) above); fix them in the file",
            crate::diagnostic::display_path(scenario),
            problems.len()
        );
        return exit_code::INVALID;
    }
    let env = written
        .get(1)
        .map(|p| format!("--env {} ", crate::diagnostic::display_path(p)))
        .unwrap_or_default();
    println!(
        "ok: it passes `stepwise validate`; run it with: stepwise run {env}{}",
        crate::diagnostic::display_path(scenario)
    );
    exit_code::SUCCESS
}

/// The path of the project's scenario schema as seen from `dir`, if the working directory
/// has one and `dir` is inside the working directory.
fn schema_reference(dir: &Path) -> Option<String> {
    let schema = Path::new(SCHEMA);
    if !schema.is_file() {
        return None;
    }
    let cwd = normalize(&std::env::current_dir().ok()?);
    let dir = normalize(&std::path::absolute(dir).ok()?);
    if !dir.starts_with(&cwd) {
        return None;
    }
    let schema = normalize(&std::path::absolute(schema).ok()?);
    let common = dir
        .components()
        .zip(schema.components())
        .take_while(|(a, b)| a == b)
        .count();
    let mut rel = PathBuf::new();
    for _ in dir.components().skip(common) {
        rel.push("..");
    }
    for c in schema.components().skip(common) {
        rel.push(c);
    }
    Some(rel.to_string_lossy().replace('\\', "/"))
}

/// Removes `.` and resolves `..` without touching the file system.
fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in path.components() {
        match c {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}
