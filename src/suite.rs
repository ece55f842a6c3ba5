//! Suite mode: choosing scenario files (shards, filters, tags) and running many of them at
//! once, each with its own variables and cookie jar, with per-scenario output that never
//! interleaves and results in a stable (input) order.

use crate::loader;
use crate::report::terminal::{Style, TerminalReporter};
use crate::result::{RunResult, ScenarioResult};
use crate::runner::{Observer, Runner};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Instant;

/// Which scenario files of the discovered ones run.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// `(k, n)`: run only shard `k` of `n` (1-based).
    pub shard: Option<(u32, u32)>,
    /// Substrings (case-insensitive) of the scenario's path or name; any may match.
    pub filters: Vec<String>,
    /// Tags; a scenario runs when it has any of them.
    pub tags: Vec<String>,
}

/// Parses `K/N` (1 ≤ K ≤ N).
pub fn parse_shard(text: &str) -> Result<(u32, u32), String> {
    let bad = || format!("`{text}` is not a shard: write K/N with 1 <= K <= N, e.g. 2/4");
    let (k, n) = text.split_once('/').ok_or_else(bad)?;
    let k: u32 = k.trim().parse().map_err(|_| bad())?;
    let n: u32 = n.trim().parse().map_err(|_| bad())?;
    if n == 0 || k == 0 || k > n {
        return Err(bad());
    }
    Ok((k, n))
}

/// The shard (1-based) a file belongs to among `n`: a hash of its path relative to the
/// current directory with `/` separators, so the same file always lands in the same shard on
/// every machine, whatever other files exist.
pub fn shard_of(path: &Path, n: u32) -> u32 {
    let shown = crate::diagnostic::display_path(path).replace('\\', "/");
    // FNV-1a, 64 bit: stable across Rust versions (unlike the std hasher).
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in shown.as_bytes() {
        hash ^= u64::from(*b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (hash % u64::from(n.max(1))) as u32 + 1
}

/// Applies a selection to discovered files, keeping their order. Files that fail to load are
/// kept when only the shard selects (their error is reported by the run), and matched on
/// their path when filters or tags are given.
pub fn select(files: Vec<PathBuf>, selection: &Selection) -> Vec<PathBuf> {
    files
        .into_iter()
        .filter(|f| match selection.shard {
            Some((k, n)) => shard_of(f, n) == k,
            None => true,
        })
        .filter(|f| {
            if selection.filters.is_empty() && selection.tags.is_empty() {
                return true;
            }
            let loaded = loader::load(f).ok();
            let path_text = crate::diagnostic::display_path(f).to_lowercase();
            let name = loaded.as_ref().map(|l| l.name().to_lowercase());
            let filter_ok = selection.filters.is_empty()
                || selection.filters.iter().any(|p| {
                    let p = p.to_lowercase();
                    path_text.contains(&p) || name.as_ref().is_some_and(|n| n.contains(&p))
                });
            let tags_ok = selection.tags.is_empty()
                || loaded.as_ref().is_some_and(|l| {
                    l.scenario
                        .tags
                        .iter()
                        .any(|t| selection.tags.iter().any(|s| s.eq_ignore_ascii_case(t)))
                });
            filter_ok && tags_ok
        })
        .collect()
}

/// How a suite ended.
#[derive(Debug, Default)]
pub struct SuiteOutcome {
    pub result: RunResult,
    /// Ctrl-C stopped the run; `result` holds the scenarios that finished.
    pub interrupted: bool,
    /// Scenarios that did not run because of `--fail-fast` or Ctrl-C.
    pub not_run: Vec<PathBuf>,
}

/// A `Write` sink into shared memory, so a scenario's output can be printed in one piece.
#[derive(Clone, Default)]
struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs files with up to `jobs` at once. With one job, `live` prints as steps finish; with
/// more, each scenario's output is buffered and written to `out` when it finishes.
pub async fn run(
    runner: Arc<Runner>,
    mut files: Vec<PathBuf>,
    jobs: usize,
    fail_fast: bool,
    style: Style,
    live: &dyn Observer,
    out: Arc<Mutex<dyn Write + Send>>,
) -> SuiteOutcome {
    let started = Instant::now();
    let jobs = jobs.max(1);
    let mut slots: Vec<Option<ScenarioResult>> = vec![None; files.len()];
    let mut interrupted = false;
    let mut stop = false;
    let started_at = std::time::SystemTime::now();
    // Listen for Ctrl-C before anything runs: `tokio::signal::ctrl_c()` would only start
    // listening when first polled, and a SIGINT before that would kill the process unreported.
    let ctrl_c = interrupt_listener();
    tokio::pin!(ctrl_c);
    if jobs == 1 {
        let sequential = async {
            for (i, file) in files.iter().enumerate() {
                tokio::select! {
                    scenario = runner.run_file(file, live) => {
                        let failed = scenario.outcome.is_failure();
                        slots[i] = Some(scenario);
                        if failed && fail_fast {
                            break;
                        }
                    }
                    _ = &mut ctrl_c => {
                        interrupted = true;
                        break;
                    }
                }
            }
        };
        on_current_thread(sequential).await;
    } else {
        // `jobs` threads, each running scenarios one after another on a current-thread
        // runtime of its own, taking the next file from a shared counter. Why not tasks on the
        // multi-thread runtime: there, every I/O wake-up of a scenario crossed threads (see
        // `on_current_thread`), and `--jobs 2` ran hardly faster than `--jobs 1`
        // (docs/performance.md). Results come back in the order scenarios finish.
        let shared = Arc::new(std::mem::take(&mut files));
        let next = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let (cancel, cancelled) = tokio::sync::watch::channel(false);
        let (done, mut finished) = tokio::sync::mpsc::unbounded_channel();
        for _ in 0..jobs {
            let (runner, files, next) = (runner.clone(), shared.clone(), next.clone());
            let (done, mut cancelled) = (done.clone(), cancelled.clone());
            let worker = move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                rt.block_on(async move {
                    loop {
                        let index = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                        let Some(file) = files.get(index) else { break };
                        if *cancelled.borrow() {
                            break;
                        }
                        let buffer = Buffer::default();
                        let reporter = TerminalReporter::new(
                            Box::new(buffer.clone()),
                            style,
                            runner.masker().clone(),
                        );
                        tokio::select! {
                            result = runner.run_file(file, &reporter) => {
                                let text = std::mem::take(
                                    &mut *buffer.0.lock().unwrap_or_else(|e| e.into_inner()),
                                );
                                if done.send((index, result, text)).is_err() {
                                    break;
                                }
                            }
                            // Ctrl-C or --fail-fast: the scenario in progress is dropped.
                            _ = cancelled.wait_for(|c| *c) => break,
                        }
                    }
                });
            };
            // A job that cannot start leaves its share to the others.
            let _ = std::thread::Builder::new()
                .name("stepwise-job".into())
                .spawn(worker);
        }
        // Once every worker has ended, `finished` yields `None`.
        drop(done);
        loop {
            tokio::select! {
                message = finished.recv() => {
                    let Some((index, result, text)) = message else { break };
                    {
                        let mut out = out.lock().unwrap_or_else(|e| e.into_inner());
                        let _ = out.write_all(&text);
                        let _ = out.flush();
                    }
                    if result.outcome.is_failure() && fail_fast && !stop {
                        stop = true;
                        let _ = cancel.send(true);
                    }
                    slots[index] = Some(result);
                }
                _ = &mut ctrl_c, if !interrupted => {
                    interrupted = true;
                    let _ = cancel.send(true);
                }
            }
        }
        files = Arc::try_unwrap(shared).unwrap_or_else(|shared| shared.as_ref().clone());
    }
    let mut outcome = SuiteOutcome {
        interrupted,
        ..SuiteOutcome::default()
    };
    for (file, slot) in files.into_iter().zip(slots) {
        match slot {
            Some(result) => outcome.result.scenarios.push(result),
            None => outcome.not_run.push(file),
        }
    }
    outcome.result.duration = started.elapsed();
    outcome.result.started_at = Some(started_at);
    outcome.result.interrupted = interrupted;
    outcome
}

/// Runs `work` to completion on a current-thread runtime of its own when called from a
/// multi-thread runtime (as `stepwise run` is); otherwise in place.
///
/// Why: a future driven by a multi-thread runtime's `block_on` does its I/O through a driver
/// that a worker thread runs, so every wake-up crosses threads: about six context switches
/// and five futex calls per step, which made `stepwise run` of one scenario take three times
/// as long per step as the same scenario run in process (docs/performance.md). A
/// current-thread runtime polls I/O on the thread that runs the scenario. Ctrl-C still
/// arrives: the signal listeners belong to the calling runtime, whose workers keep running.
async fn on_current_thread(work: impl std::future::Future<Output = ()>) {
    use tokio::runtime::{Builder, Handle, RuntimeFlavor};
    let multi_thread =
        Handle::try_current().is_ok_and(|h| h.runtime_flavor() == RuntimeFlavor::MultiThread);
    let own = multi_thread
        .then(|| Builder::new_current_thread().enable_all().build().ok())
        .flatten();
    let Some(rt) = own else {
        return work.await;
    };
    // Outside the calling runtime's context, where a runtime may block and be dropped.
    tokio::task::block_in_place(move || {
        rt.block_on(work);
        drop(rt);
    });
}

/// Resolves on the first Ctrl-C (SIGINT) or SIGTERM (what CI systems send when they cancel a
/// job); the listeners are installed when this is called, not when it is first polled.
pub(crate) fn interrupt_listener() -> impl std::future::Future<Output = ()> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let int = signal(SignalKind::interrupt()).ok();
        let term = signal(SignalKind::terminate()).ok();
        async move {
            let wait = |s: Option<tokio::signal::unix::Signal>| async move {
                match s {
                    Some(mut s) => {
                        s.recv().await;
                    }
                    None => std::future::pending::<()>().await,
                }
            };
            tokio::select! {
                _ = wait(int) => {}
                _ = wait(term) => {}
            }
        }
    }
    #[cfg(not(unix))]
    {
        async {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shards_partition_files_stably() {
        let files: Vec<PathBuf> = (0..40)
            .map(|i| PathBuf::from(format!("s/{i}.yaml")))
            .collect();
        let mut seen = 0;
        for k in 1..=3 {
            let part = select(
                files.clone(),
                &Selection {
                    shard: Some((k, 3)),
                    ..Selection::default()
                },
            );
            assert!(!part.is_empty());
            seen += part.len();
        }
        assert_eq!(seen, files.len());
        assert_eq!(
            shard_of(Path::new("s/7.yaml"), 3),
            shard_of(Path::new("s/7.yaml"), 3)
        );
        assert_eq!(parse_shard("2/4"), Ok((2, 4)));
        assert!(
            parse_shard("0/4").is_err() && parse_shard("5/4").is_err() && parse_shard("x").is_err()
        );
    }
}
