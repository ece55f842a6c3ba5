//! `cargo bench --bench stepwise`: stepwise against the loopback floor, in one run.
//!
//! Measures, on this machine and in this one run: the floor (raw keep-alive reqwest requests
//! to a minimal in-process axum server), chained scenarios of 100, 1,000 and 10,000 steps
//! against that server, start-up, a suite of 500 files at `--jobs` 1, 2 and 4, a 50 MB JSON
//! body, and device flows through the PingOne sandbox. Every figure is the median of repeated
//! runs with its min–max spread, and is reported against its target as a ratio. The table is
//! printed and written between the markers of `docs/performance.md` (the analysis around them
//! is hand-written and kept).
//!
//! Options (after `--`): `--quick` (small counts, to try the benchmark itself; writes
//! nothing), `--no-write` (print only), `--only chained|startup|suite|big|sandbox` (the
//! floor and one section; writes nothing), `--serve DIR` (write the scenarios into `DIR` and
//! only serve, to profile one case by hand).
//!
//! Only servers started here, on 127.0.0.1, are contacted; every loop is bounded in count,
//! and every child process in time. No timing here is an assertion: a benchmark reports.

#![allow(clippy::unwrap_used, clippy::expect_used)] // a benchmark stops on a broken fixture

mod fixtures;
mod measure;
mod report;
mod server;

use measure::{mib, run_child, time_child, RssMethod, Summary};
use report::{Report, Row};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};
use stepwise::runner::Silent;
use stepwise::sandbox::pingone::{RunningSandbox, SandboxConfig, TestClock};
use stepwise::{Outcome, RunOptions, Runner};

/// How long any one child process may run before it is killed.
const CHILD_LIMIT: Duration = Duration::from_secs(600);

/// Counts, full or `--quick`.
struct Plan {
    floor_rounds: usize,
    floor_requests: usize,
    /// (steps, in-process runs, CLI runs)
    chains: Vec<(usize, usize, usize)>,
    startup_runs: usize,
    suite_files: usize,
    suite_rounds: usize,
    big_bytes: usize,
    big_runs: usize,
    flow_copies: usize,
    flow_rounds: usize,
    memory_batch: usize,
    memory_batches: usize,
}

impl Plan {
    fn full() -> Plan {
        Plan {
            floor_rounds: 7,
            floor_requests: 2_000,
            chains: vec![(100, 9, 5), (1_000, 7, 5), (10_000, 3, 3)],
            startup_runs: 50,
            suite_files: 500,
            suite_rounds: 5,
            big_bytes: 50_000_000,
            big_runs: 3,
            flow_copies: 200,
            flow_rounds: 3,
            memory_batch: 1_000,
            memory_batches: 10,
        }
    }

    fn quick() -> Plan {
        Plan {
            floor_rounds: 3,
            floor_requests: 300,
            chains: vec![(100, 3, 1), (1_000, 3, 1), (10_000, 1, 1)],
            startup_runs: 10,
            suite_files: 60,
            suite_rounds: 1,
            big_bytes: 5_000_000,
            big_runs: 1,
            flow_copies: 20,
            flow_rounds: 1,
            memory_batch: 50,
            memory_batches: 3,
        }
    }
}

/// Everything the measurements share.
struct Bench {
    plan: Plan,
    exe: PathBuf,
    repo: PathBuf,
    scratch: tempfile::TempDir,
    rss: RssMethod,
    /// Runs the benchmark's server and the sandbox (two worker threads, like a small server).
    server_rt: tokio::runtime::Runtime,
    /// Drives in-process clients (the floor, the in-process runner): one thread.
    client_rt: tokio::runtime::Runtime,
    base: String,
    big_records: usize,
    big_len: usize,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    // `cargo bench` passes `--bench`; other unknown arguments are ignored too.
    let quick = args.iter().any(|a| a == "--quick");
    let write = !quick && !args.iter().any(|a| a == "--no-write" || a == "--only");
    if let Some(i) = args.iter().position(|a| a == "--serve") {
        let dir = args.get(i + 1).map(PathBuf::from).expect("--serve DIR");
        serve(&dir);
        return;
    }
    let started = Instant::now();
    let plan = if quick { Plan::quick() } else { Plan::full() };
    let repo = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let scratch = tempfile::tempdir().expect("cannot create a scratch folder");
    let rss = RssMethod::detect(scratch.path());
    // reqwest is built without a default crypto provider; stepwise installs ring the same way.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let server_rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(server_threads())
        .enable_all()
        .build()
        .expect("server runtime");
    let client_rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("client runtime");
    eprintln!("building the {} MB document…", plan.big_bytes / 1_000_000);
    let (big, big_records) = server::big_document(plan.big_bytes);
    let big_len = big.len();
    let addr = server_rt.block_on(server::start(big));
    let bench = Bench {
        plan,
        exe: PathBuf::from(env!("CARGO_BIN_EXE_stepwise")),
        repo,
        scratch,
        rss,
        server_rt,
        client_rt,
        base: format!("http://{addr}"),
        big_records,
        big_len,
    };
    let mut report = Report::new(quick, bench.rss.describe());
    report.machine_start();

    // `--only NAME` runs the floor and one section (chained, startup, suite, big, sandbox).
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1).cloned());
    let wanted = |name: &str| only.as_deref().is_none_or(|o| o == name);
    let floor = bench.floor(&mut report);
    if wanted("chained") {
        bench.chained(&mut report, floor);
    }
    if wanted("startup") {
        bench.startup(&mut report);
    }
    if wanted("suite") {
        bench.suite(&mut report);
    }
    if wanted("big") {
        bench.big_body(&mut report);
    }
    if wanted("sandbox") {
        bench.sandbox(&mut report);
    }

    report.machine_end(started.elapsed());
    let text = report.render();
    println!("{text}");
    if write {
        let doc = bench.repo.join("docs/performance.md");
        report::write_into(&doc, &text);
        eprintln!("written to {}", doc.display());
    }
}

/// Worker threads of the benchmark's server runtime (`STEPWISE_BENCH_SERVER_THREADS`, 1 by
/// default: the smallest server, and no wake-ups across its own threads).
fn server_threads() -> usize {
    std::env::var("STEPWISE_BENCH_SERVER_THREADS")
        .ok()
        .and_then(|t| t.parse().ok())
        .unwrap_or(1)
        .max(1)
}

/// `--serve DIR`: writes the benchmark's scenarios into `DIR`, serves the benchmark's server
/// and prints its URL, for profiling one case by hand (docs/performance.md, "Profiling").
/// Stops after 30 minutes or when standard input closes.
fn serve(dir: &Path) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(server_threads())
        .enable_all()
        .build()
        .expect("server runtime");
    let (big, records) = server::big_document(50_000_000);
    let addr = rt.block_on(server::start(big));
    for n in [100, 1_000, 10_000] {
        fixtures::write(
            dir,
            &format!("chain-{n}.yaml"),
            &fixtures::chain("chain", n),
        );
    }
    fixtures::suite(&dir.join("suite"), 500);
    fixtures::write(dir, "big.yaml", &fixtures::big_body(records));
    println!("base=http://{addr}");
    println!("scenarios in {}", dir.display());
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        // Read and drop, so that an endless input (`< /dev/zero`) is not kept in memory.
        let _ = std::io::copy(&mut std::io::stdin(), &mut std::io::sink());
        let _ = tx.send(());
    });
    let _ = rx.recv_timeout(Duration::from_secs(30 * 60));
}

impl Bench {
    /// The arguments of `stepwise run TARGET` against the benchmark's server, then `extra`.
    fn run_args(&self, target: &Path, extra: &[&str]) -> Vec<String> {
        let mut args = vec![
            "run".to_owned(),
            target.display().to_string(),
            "--no-color".into(),
            "--var".into(),
            format!("base={}", self.base),
        ];
        args.extend(extra.iter().map(|a| a.to_string()));
        args
    }

    /// Runs the release binary with `args`: wall time, peak RSS, status.
    fn child(&self, args: &[String]) -> measure::ChildRun {
        run_child(&self.rss, self.scratch.path(), &self.exe, args, CHILD_LIMIT)
    }

    fn scratch(&self, name: &str) -> PathBuf {
        self.scratch.path().join(name)
    }

    /// The floor: sequential keep-alive requests with a plain reqwest client, µs each.
    fn floor_round(&self, client: &reqwest::Client, requests: usize) -> f64 {
        let base = &self.base;
        self.client_rt.block_on(async {
            let started = Instant::now();
            for i in 0..requests {
                let response = client
                    .get(format!("{base}/items/{i}"))
                    .header("x-prev", i.to_string())
                    .send()
                    .await
                    .expect("floor request");
                assert_eq!(response.status(), 200);
                let body = response.bytes().await.expect("floor body");
                assert!(!body.is_empty());
            }
            started.elapsed().as_secs_f64() * 1e6 / requests as f64
        })
    }

    fn floor_client() -> reqwest::Client {
        reqwest::Client::builder()
            .tcp_nodelay(true)
            .build()
            .expect("reqwest client")
    }

    fn floor(&self, report: &mut Report) -> Summary {
        eprintln!("floor…");
        let client = Self::floor_client();
        self.floor_round(&client, 500); // warm-up: connection, caches
        let samples: Vec<f64> = (0..self.plan.floor_rounds)
            .map(|_| self.floor_round(&client, self.plan.floor_requests))
            .collect();
        let s = Summary::of(&samples);
        report.row(Row {
            measure: format!(
                "Floor: raw keep-alive GET with reqwest ({} requests per run)",
                self.plan.floor_requests
            ),
            value: format!("{:.1} µs/request", s.median),
            spread: s.spread(1),
            target: "—".into(),
            ratio: "1.00× (reference)".into(),
            met: None,
        });
        s
    }

    /// Chained scenarios: in process (the runner's own time per step, with a floor round
    /// right before each run so the ratio is paired), then the release binary (wall time,
    /// peak RSS, JSON report size).
    fn chained(&self, report: &mut Report, floor: Summary) {
        let client = Self::floor_client();
        self.floor_round(&client, 200);
        let dir = self.scratch("chain");
        let mut lines = Vec::new();
        let mut rss_by_n = Vec::new();
        for &(n, in_runs, cli_runs) in &self.plan.chains {
            eprintln!("chain of {n} steps…");
            let path = fixtures::write(
                &dir,
                &format!("chain-{n}.yaml"),
                &fixtures::chain("chain", n),
            );
            let yaml_bytes = std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
            let mut per_step = Vec::new();
            let mut ratios = Vec::new();
            for _ in 0..in_runs {
                let f = self.floor_round(&client, 1_000.min(n.max(200)));
                let runner =
                    Runner::new(RunOptions::default().with_vars([("base", self.base.clone())]));
                let result = self.client_rt.block_on(runner.run_file(&path, &Silent));
                assert_eq!(result.outcome, Outcome::Passed, "chain of {n} failed");
                assert_eq!(result.steps.len(), n);
                let us = result.duration.as_secs_f64() * 1e6 / n as f64;
                per_step.push(us);
                ratios.push(us / f);
            }
            let step = Summary::of(&per_step);
            let ratio = Summary::of(&ratios);
            let json = dir.join(format!("chain-{n}.json"));
            let mut walls = Vec::new();
            let mut rss = Vec::new();
            let mut loaded = Vec::new();
            for _ in 0..cli_runs {
                let json_arg = json.display().to_string();
                let run = self.child(&self.run_args(&path, &["--report-json", &json_arg]));
                assert!(run.status.success(), "stepwise run chain-{n} failed");
                walls.push(run.wall.as_secs_f64() * 1e6 / n as f64);
                rss.push(run.peak_rss as f64);
                // The same file loaded and checked only: the memory of the scenario itself.
                let load = self.child(&[
                    "validate".into(),
                    path.display().to_string(),
                    "--var".into(),
                    format!("base={}", self.base),
                ]);
                assert!(load.status.success(), "stepwise validate chain-{n} failed");
                loaded.push(load.peak_rss as f64);
            }
            let wall = Summary::of(&walls);
            let peak = Summary::of(&rss);
            let load = Summary::of(&loaded);
            let report_bytes = std::fs::metadata(&json).map(|m| m.len()).unwrap_or(0);
            let run_growth = (peak.median - load.median) / n as f64;
            let report_per_step = report_bytes as f64 / n as f64;
            rss_by_n.push((n, peak.median, load.median, report_per_step));
            lines.push(format!(
                "| {n} | {:.1} ({}) | {:.2}× ({:.2}–{:.2}) | {:.1} ({}) | {:.1} MiB ({:.1}–{:.1}) | {:.1} MiB | {:.0} B | {:.0} B | {:.0} B |",
                step.median,
                step.spread(1),
                ratio.median,
                ratio.min,
                ratio.max,
                wall.median,
                wall.spread(1),
                mib(peak.median as u64),
                mib(peak.min as u64),
                mib(peak.max as u64),
                mib(load.median as u64),
                run_growth,
                report_per_step,
                yaml_bytes as f64 / n as f64,
            ));
            if n == 1_000 {
                report.row(Row {
                    measure: "Chained steps, N = 1,000 (in-process runner time per step)".into(),
                    value: format!("{:.1} µs/step", step.median),
                    spread: step.spread(1),
                    target: "≤ 1.5× floor".into(),
                    ratio: format!(
                        "{:.2}× floor (paired runs {:.2}–{:.2})",
                        ratio.median, ratio.min, ratio.max
                    ),
                    met: Some(ratio.median <= 1.5),
                });
            }
            if n == 10_000 {
                report.row(Row {
                    measure: "Peak RSS, `stepwise run` of N = 10,000 steps (JSON report on)".into(),
                    value: format!("{:.1} MiB", mib(peak.median as u64)),
                    spread: format!(
                        "{:.1}–{:.1} MiB ({} runs); loading alone: {:.1} MiB",
                        mib(peak.min as u64),
                        mib(peak.max as u64),
                        peak.runs,
                        mib(load.median as u64)
                    ),
                    target: "< 40 MB".into(),
                    ratio: format!("{:.2} of the limit", peak.median / 40e6),
                    met: Some(peak.median < 40e6),
                });
            }
        }
        // Growth: what each extra step adds to the peak while running, beyond what it adds
        // to loading (the scenario's own model), from the two largest N, so that fixed
        // costs (the runtime, the HTTP client) cancel out.
        if let [.., (n1, r1, l1, _), (n2, r2, l2, report_per_step)] = rss_by_n[..] {
            let per_step = |a: f64, b: f64| (b - a) / (n2 - n1) as f64;
            let growth = per_step(r1, r2) - per_step(l1, l2);
            report.row(Row {
                measure: format!(
                    "Peak RSS growth per step while running, N = {n1} → {n2} (run − load)"
                ),
                value: format!("{growth:.0} B/step"),
                spread: "from the medians".into(),
                target: "≤ per-step report data".into(),
                ratio: format!(
                    "{:.2}× the JSON report's {report_per_step:.0} B/step",
                    growth / report_per_step
                ),
                met: Some(growth <= report_per_step),
            });
            report.note(format!(
                "Chained RSS, N = {n1} → {n2}: {:.0} B per step in all, of which loading the \
                 scenario (`stepwise validate`) {:.0} B and running it {growth:.0} B.",
                per_step(r1, r2),
                per_step(l1, l2)
            ));
        }
        report.section(
            "Chained steps",
            &format!(
                "Each step: URL and `X-Prev` header templated from the previous capture, one \
                 JSONPath capture, two assertions (status, JSONPath). In process: \
                 `Runner::run_file` on one thread, the scenario's own duration (loading \
                 excluded), each run paired with a 1,000-request floor round just before it. \
                 CLI: the release binary, `stepwise run chain.yaml --report-json r.json`, wall \
                 time from spawn to exit (start-up, loading and the report included) divided \
                 by N. Load: peak RSS of `stepwise validate chain.yaml` (the scenario loaded \
                 and checked, nothing sent). Floor: {:.1} µs/request.\n\n\
                 | N | in process, µs/step (spread) | ratio to floor (paired) | CLI wall, µs/step (spread) | CLI peak RSS (spread) | load peak RSS | (run − load) per step | JSON report per step | scenario text per step |\n\
                 |---|---|---|---|---|---|---|---|---|\n{}",
                floor.median,
                lines.join("\n")
            ),
        );
    }

    fn startup(&self, report: &mut Report) {
        eprintln!("start-up…");
        let scenarios = self.repo.join("scenarios").display().to_string();
        let cases: [(&str, Vec<String>); 2] = [
            ("`stepwise --version`", vec!["--version".into()]),
            (
                "`stepwise validate scenarios/` (every file of the folder)",
                vec!["validate".into(), scenarios],
            ),
        ];
        for (what, args) in cases {
            for _ in 0..3 {
                time_child(&self.exe, &args); // warm-up: page cache
            }
            let samples: Vec<f64> = (0..self.plan.startup_runs)
                .map(|_| {
                    let (t, status) = time_child(&self.exe, &args);
                    assert!(status.success(), "{what} failed");
                    t.as_secs_f64() * 1e3
                })
                .collect();
            let s = Summary::of(&samples);
            report.row(Row {
                measure: format!("Start-up: {what}"),
                value: format!("{:.1} ms", s.median),
                spread: s.spread(1),
                target: "< 20 ms".into(),
                ratio: format!("{:.2} of the limit", s.median / 20.0),
                met: Some(s.median < 20.0),
            });
        }
    }

    fn suite(&self, report: &mut Report) {
        eprintln!("suite of {} files…", self.plan.suite_files);
        let dir = self.scratch("suite");
        fixtures::suite(&dir, self.plan.suite_files);
        // The same files split in two folders, for the machine's own ceiling: two separate
        // `--jobs 1` processes, one per half, started at once. Nothing is shared between them
        // but the cores, the loopback and the server, so their speed-up over one process is
        // what this machine can give two jobs of this very work.
        let halves = [self.scratch("suite-a"), self.scratch("suite-b")];
        let mut names: Vec<_> = std::fs::read_dir(&dir)
            .expect("cannot list the suite")
            .filter_map(|e| e.ok().map(|e| e.file_name()))
            .collect();
        names.sort();
        for (i, name) in names.iter().enumerate() {
            let half = &halves[i % 2];
            std::fs::create_dir_all(half).expect("cannot create a half");
            std::fs::copy(dir.join(name), half.join(name)).expect("cannot copy a scenario");
        }
        let run_args =
            |folder: &Path, jobs: usize| self.run_args(folder, &["--jobs", &jobs.to_string()]);
        let jobs = [1usize, 2, 4];
        let mut rates: Vec<Vec<f64>> = vec![Vec::new(); jobs.len()];
        let mut busy: Vec<Vec<f64>> = vec![Vec::new(); jobs.len()];
        let mut machine = Vec::new();
        let mut two_processes = Vec::new();
        for _ in 0..self.plan.suite_rounds {
            machine.push(measure::cpu_speedup());
            let (wall, ok) = measure::time_children(
                &self.exe,
                &[run_args(&halves[0], 1), run_args(&halves[1], 1)],
            );
            assert!(ok, "a half of the suite failed");
            two_processes.push(self.plan.suite_files as f64 / wall.as_secs_f64());
            // Interleaved, so that a noisy minute hurts every setting alike.
            for (k, j) in jobs.iter().enumerate() {
                let ticks = measure::cpu_ticks();
                let run = self.child(&run_args(&dir, *j));
                busy[k].push(measure::busy_share(ticks, measure::cpu_ticks()));
                assert!(run.status.success(), "suite with --jobs {j} failed");
                rates[k].push(self.plan.suite_files as f64 / run.wall.as_secs_f64());
            }
        }
        let s: Vec<Summary> = rates.iter().map(|r| Summary::of(r)).collect();
        let machine = Summary::of(&machine);
        let pair = Summary::of(&two_processes);
        let busy: Vec<Summary> = busy.iter().map(|b| Summary::of(b)).collect();
        report.fact(
            "two threads of pure computation vs one (measured during the suite runs)",
            format!("{:.2}× ({})", machine.median, machine.spread(2)),
        );
        for (k, j) in jobs.iter().enumerate() {
            let (target, ratio, met) = match j {
                1 => ("—".into(), "1.00× (reference)".into(), None),
                2 => {
                    let r = s[k].median / s[0].median;
                    (
                        "≥ 1.7× `--jobs 1`".into(),
                        format!(
                            "{r:.2}× `--jobs 1`; two `--jobs 1` processes at once: {:.2}×",
                            pair.median / s[0].median
                        ),
                        Some(r >= 1.7),
                    )
                }
                _ => (
                    "—".into(),
                    format!("{:.2}× `--jobs 1`", s[k].median / s[0].median),
                    None,
                ),
            };
            if *j == 2 {
                report.row(Row {
                    measure: format!(
                        "Suite ceiling: two `--jobs 1` processes at once, {} files each",
                        self.plan.suite_files / 2
                    ),
                    value: format!("{:.0} scenarios/s", pair.median),
                    spread: pair.spread(0),
                    target: "—".into(),
                    ratio: format!("{:.2}× `--jobs 1`", pair.median / s[0].median),
                    met: None,
                });
            }
            report.row(Row {
                measure: format!(
                    "Suite: {} files of 3 chained steps, `--jobs {j}`",
                    self.plan.suite_files
                ),
                value: format!("{:.0} scenarios/s", s[k].median),
                spread: format!(
                    "{}; cores busy {:.0}%",
                    s[k].spread(0),
                    100.0 * busy[k].median
                ),
                target,
                ratio,
                met,
            });
        }
    }

    fn big_body(&self, report: &mut Report) {
        eprintln!("big body…");
        let path = fixtures::write(
            &self.scratch("big"),
            "big.yaml",
            &fixtures::big_body(self.big_records),
        );
        let mut walls = Vec::new();
        let mut rss = Vec::new();
        for _ in 0..self.plan.big_runs {
            let run = self.child(&self.run_args(&path, &[]));
            assert!(run.status.success(), "big body scenario failed");
            walls.push(run.wall.as_secs_f64() * 1e3);
            rss.push(run.peak_rss as f64);
        }
        let wall = Summary::of(&walls);
        let peak = Summary::of(&rss);
        let size = self.big_len as f64;
        report.row(Row {
            measure: format!(
                "Big body: {:.0} MB JSON ({} records), JSONPath capture of the last — time",
                size / 1e6,
                self.big_records
            ),
            value: format!("{:.0} ms", wall.median),
            spread: wall.spread(0),
            target: "—".into(),
            ratio: format!("{:.0} MB/s", size / 1e6 / (wall.median / 1e3)),
            met: None,
        });
        report.row(Row {
            measure: "Big body — peak RSS".into(),
            value: format!("{:.1} MiB", mib(peak.median as u64)),
            spread: format!(
                "{:.1}–{:.1} MiB ({} runs)",
                mib(peak.min as u64),
                mib(peak.max as u64),
                peak.runs
            ),
            target: "< 3× body size".into(),
            ratio: format!("{:.2}× body size", peak.median / size),
            met: Some(peak.median < 3.0 * size),
        });
    }

    fn sandbox(&self, report: &mut Report) {
        eprintln!("sandbox…");
        let clock = TestClock::new();
        let config = SandboxConfig {
            clock: Arc::new(clock.clone()),
            ..SandboxConfig::default()
        };
        let rss_before = measure::own_rss();
        let sandbox = self
            .server_rt
            .block_on(RunningSandbox::start(config))
            .expect("cannot start the sandbox");
        let mut vars = Vec::new();
        for (name, value) in sandbox.variables() {
            let flag = if name == "adminAppSecret" {
                "--secret"
            } else {
                "--var"
            };
            vars.push(flag.to_owned());
            vars.push(format!("{name}={value}"));
        }
        let scenario = self
            .repo
            .join("scenarios/pingone/device-authorization-grant.yaml");
        let run_folder = |dir: &Path, jobs: usize| {
            let mut args = vec![
                "run".to_owned(),
                dir.display().to_string(),
                "--no-color".into(),
                "--update-snapshots".into(),
                "no".into(),
                "--jobs".into(),
                jobs.to_string(),
            ];
            args.extend(vars.iter().cloned());
            let run = self.child(&args);
            assert!(
                run.status.success(),
                "device flows in {} failed",
                dir.display()
            );
            run
        };

        // Throughput: a folder of copies (each with its stored snapshots), `--jobs` 1 and 2.
        let dir = self.scratch("flows");
        fixtures::copies(&scenario, &dir, self.plan.flow_copies, "");
        let mut rates = [Vec::new(), Vec::new()];
        for _ in 0..self.plan.flow_rounds {
            for (k, jobs) in [1usize, 2].into_iter().enumerate() {
                let run = run_folder(&dir, jobs);
                rates[k].push(self.plan.flow_copies as f64 / run.wall.as_secs_f64());
            }
        }
        for (k, jobs) in [1usize, 2].into_iter().enumerate() {
            let s = Summary::of(&rates[k]);
            report.row(Row {
                measure: format!(
                    "Sandbox: device-flow scenarios (13 steps, 5 snapshots), `--jobs {jobs}`"
                ),
                value: format!("{:.0} flows/s", s.median),
                spread: s.spread(0),
                target: "—".into(),
                ratio: format!("{:.1} ms/flow", 1e3 / s.median),
                met: None,
            });
        }

        // What the throughput runs left: the applications, populations and users each flow
        // creates are kept (as PingOne keeps them), the rest expires.
        let kept = sandbox.stats();
        let rss_kept = measure::own_rss();
        let throughput_flows = 2 * self.plan.flow_rounds * self.plan.flow_copies;

        // Memory: batches of flows that delete what they create; before each batch, the
        // sandbox's clock moves 61 minutes, past every lifetime (tokens 60 min, sessions 30,
        // device codes 10 + 15 grace, flows 15), so the first request of a batch purges the
        // records of the one before.
        let dir = self.scratch("memory");
        fixtures::copies(
            &scenario,
            &dir,
            self.plan.memory_batch,
            fixtures::PINGONE_CLEANUP,
        );
        let mut lines = Vec::new();
        let mut rss_after = Vec::new();
        let mut flows = 0usize;
        for b in 1..=self.plan.memory_batches {
            clock.advance(Duration::from_secs(61 * 60));
            run_folder(&dir, 2);
            flows += self.plan.memory_batch;
            let st = sandbox.stats();
            let rss = measure::own_rss();
            rss_after.push(rss);
            lines.push(format!(
                "| {b} | {flows} | {} | {} | {} | {} | {} | {} / {} / {} | {:.1} MiB |",
                st.access_tokens,
                st.device_codes,
                st.flows,
                st.sessions,
                st.applications,
                st.populations,
                st.users,
                st.environments,
                mib(rss.saturating_sub(rss_before)),
            ));
        }
        // After the last batch: one more jump and a single worker-token request, whose purge
        // leaves only that token.
        clock.advance(Duration::from_secs(61 * 60));
        self.worker_token(&sandbox);
        let st = sandbox.stats();
        let rss = measure::own_rss();
        lines.push(format!(
            "| expired | {flows} | {} | {} | {} | {} | {} | {} / {} / {} | {:.1} MiB |",
            st.access_tokens,
            st.device_codes,
            st.flows,
            st.sessions,
            st.applications,
            st.populations,
            st.users,
            st.environments,
            mib(rss.saturating_sub(rss_before)),
        ));
        // Flat: from the second batch on (the first one fills the allocator's free lists),
        // the RSS stays where it was, within 1 MiB.
        let second = rss_after.get(1).or(rss_after.first()).copied().unwrap_or(0) as f64;
        let last = rss_after.last().copied().unwrap_or(0) as f64;
        let later_flows =
            (self.plan.memory_batches.saturating_sub(2) * self.plan.memory_batch).max(1);
        let growth = (last - second) / later_flows as f64;
        report.row(Row {
            measure: format!(
                "Sandbox after {flows} flows: tokens / device codes / flows / sessions left once expired"
            ),
            value: format!(
                "{} / {} / {} / {}",
                st.access_tokens, st.device_codes, st.flows, st.sessions
            ),
            spread: "—".into(),
            target: "all purged".into(),
            ratio: format!(
                "{} records (the one token asked for after expiry)",
                st.access_tokens + st.device_codes + st.flows + st.sessions
            ),
            met: Some(st.device_codes + st.flows + st.sessions == 0 && st.access_tokens <= 1),
        });
        report.row(Row {
            measure: format!(
                "Sandbox RSS over {} batches of {} flows (each batch's records expire before the next)",
                self.plan.memory_batches, self.plan.memory_batch
            ),
            value: format!("{growth:.0} B/flow after batch 2"),
            spread: format!(
                "{:.1} MiB after batch 2, {:.1} MiB after batch {}",
                mib((second as u64).saturating_sub(rss_before)),
                mib((last as u64).saturating_sub(rss_before)),
                self.plan.memory_batches
            ),
            target: "flat (within 1 MiB)".into(),
            ratio: format!("{:+.2} MiB", mib((last as u64).saturating_sub(second as u64))),
            met: Some(last - second <= 1024.0 * 1024.0),
        });
        report.note(format!(
            "Sandbox: the {throughput_flows} throughput flows, which keep what they create, \
             left {} applications, {} populations and {} users and {:.1} MiB of RSS \
             ({:.0} B per flow): data a flow creates on purpose, as on a real tenant, not \
             records that expire.",
            kept.applications,
            kept.populations,
            kept.users,
            mib(rss_kept.saturating_sub(rss_before)),
            rss_kept.saturating_sub(rss_before) as f64 / throughput_flows.max(1) as f64,
        ));
        report.section(
            "Sandbox memory",
            &format!(
                "The PingOne sandbox runs in the benchmark's process with a `TestClock`; \
                 `stepwise run --jobs 2` (release binary) runs batches of {} copies of \
                 `scenarios/pingone/device-authorization-grant.yaml`, each with three more \
                 steps that delete the user, population and application it created \
                 (`PINGONE_CLEANUP` in `benches/stepwise/fixtures.rs`). Before each batch the \
                 clock moves 61 minutes, past every lifetime, so the batch's first request \
                 purges the short-lived records of the previous one. Counts are the \
                 sandbox's `stats()` after each batch; RSS is the benchmark process's `VmRSS` \
                 above its value before the sandbox started (the throughput runs before \
                 included).\n\n\
                 | batch | flows | access tokens | device codes | flows | sessions | applications | populations / users / environments | RSS above start |\n\
                 |---|---|---|---|---|---|---|---|---|\n{}",
                self.plan.memory_batch,
                lines.join("\n")
            ),
        );
        self.server_rt.block_on(sandbox.shutdown());
    }

    /// A client-credentials token request with the worker application: a write, so it runs
    /// the sandbox's purge.
    fn worker_token(&self, sandbox: &RunningSandbox) {
        let config = sandbox.config();
        let url = format!("{}/{}/as/token", sandbox.auth_path(), config.admin_env_id);
        let client = Self::floor_client();
        self.client_rt.block_on(async {
            let response = client
                .post(url)
                .basic_auth(&config.worker_client_id, Some(&config.worker_client_secret))
                .form(&[("grant_type", "client_credentials")])
                .send()
                .await
                .expect("worker token request");
            assert_eq!(response.status(), 200, "worker token refused");
        });
    }
}
