//! Measuring: repeated samples summarised as median and spread, child processes timed with
//! their peak RSS, and this process's own RSS.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// The median and the spread of repeated samples.
#[derive(Debug, Clone, Copy)]
pub struct Summary {
    pub median: f64,
    pub min: f64,
    pub max: f64,
    pub runs: usize,
}

impl Summary {
    pub fn of(samples: &[f64]) -> Summary {
        assert!(!samples.is_empty(), "no samples");
        let mut s = samples.to_vec();
        s.sort_by(f64::total_cmp);
        let n = s.len();
        let median = if n % 2 == 1 {
            s[n / 2]
        } else {
            (s[n / 2 - 1] + s[n / 2]) / 2.0
        };
        Summary {
            median,
            min: s[0],
            max: s[n - 1],
            runs: n,
        }
    }

    /// `min–max (n runs)`, with `digits` decimals.
    pub fn spread(&self, digits: usize) -> String {
        format!(
            "{:.digits$}–{:.digits$} ({} runs)",
            self.min, self.max, self.runs
        )
    }
}

/// How the peak RSS of a child process is read.
#[derive(Debug, Clone)]
pub enum RssMethod {
    /// GNU time's `%M`: the kernel's `ru_maxrss` of the child, from `wait4` (exact).
    GnuTime(PathBuf),
    /// Sampling `VmHWM` in `/proc/<pid>/status` every millisecond (the kernel's own
    /// high-water mark, so only a peak in the last millisecond before exit can be missed).
    Sampling,
}

impl RssMethod {
    /// GNU time when `/usr/bin/time` works, else sampling.
    pub fn detect(scratch: &Path) -> RssMethod {
        let time = PathBuf::from("/usr/bin/time");
        let out = scratch.join("time-probe.txt");
        let ok = Command::new(&time)
            .args(["-f", "%M", "-o"])
            .arg(&out)
            .arg("true")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map(|s| s.success())
            .unwrap_or(false)
            && std::fs::read_to_string(&out)
                .ok()
                .and_then(|t| t.trim().parse::<u64>().ok())
                .is_some();
        if ok {
            RssMethod::GnuTime(time)
        } else {
            RssMethod::Sampling
        }
    }

    pub fn describe(&self) -> &'static str {
        match self {
            RssMethod::GnuTime(_) => {
                "`/usr/bin/time -f %M` (GNU time: the child's `ru_maxrss` from `wait4`, exact)"
            }
            RssMethod::Sampling => {
                "sampling `VmHWM` in `/proc/<pid>/status` every 1 ms (GNU time not found)"
            }
        }
    }
}

/// One run of a child process.
#[derive(Debug)]
pub struct ChildRun {
    pub wall: Duration,
    /// Peak resident set size, bytes.
    pub peak_rss: u64,
    pub status: ExitStatus,
}

/// Runs `program args` with stdout and stderr discarded, measuring wall time and peak RSS.
/// Killed after `limit` (a benchmark never hangs).
pub fn run_child(
    method: &RssMethod,
    scratch: &Path,
    program: &Path,
    args: &[String],
    limit: Duration,
) -> ChildRun {
    let rss_file = scratch.join("peak-rss.txt");
    let _ = std::fs::remove_file(&rss_file);
    let mut cmd = match method {
        RssMethod::GnuTime(time) => {
            let mut c = Command::new(time);
            c.args(["-f", "%M", "-o"]).arg(&rss_file).arg(program);
            c
        }
        RssMethod::Sampling => Command::new(program),
    };
    cmd.args(args).stdout(Stdio::null()).stderr(Stdio::null());
    let started = Instant::now();
    let mut child = cmd.spawn().expect("cannot start the child process");
    let status_path = format!("/proc/{}/status", child.id());
    let mut hwm = 0u64;
    let status = loop {
        if let Some(status) = child.try_wait().expect("cannot wait for the child") {
            break status;
        }
        if started.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{} {args:?} ran longer than {limit:?}", program.display());
        }
        if matches!(method, RssMethod::Sampling) {
            if let Some(kb) = status_field_kb(&status_path, "VmHWM:") {
                hwm = hwm.max(kb);
            }
        }
        std::thread::sleep(Duration::from_millis(1));
    };
    let wall = started.elapsed();
    let peak_kb = match method {
        RssMethod::GnuTime(_) => std::fs::read_to_string(&rss_file)
            .ok()
            .and_then(|t| t.lines().last().and_then(|l| l.trim().parse::<u64>().ok()))
            .unwrap_or(0),
        RssMethod::Sampling => hwm,
    };
    ChildRun {
        wall,
        peak_rss: peak_kb * 1024,
        status,
    }
}

/// Wall time of `program args` only (no wrapper), output discarded: for start-up times.
pub fn time_child(program: &Path, args: &[String]) -> (Duration, ExitStatus) {
    let started = Instant::now();
    let status = Command::new(program)
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .expect("cannot start the child process");
    (started.elapsed(), status)
}

/// Wall time from starting every one of `runs` (program and arguments) at once until the
/// last has exited, output discarded; and whether all succeeded.
pub fn time_children(program: &Path, runs: &[Vec<String>]) -> (Duration, bool) {
    let started = Instant::now();
    let children: Vec<_> = runs
        .iter()
        .map(|args| {
            Command::new(program)
                .args(args)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("cannot start the child process")
        })
        .collect();
    let mut ok = true;
    for mut child in children {
        ok &= child.wait().map(|s| s.success()).unwrap_or(false);
    }
    (started.elapsed(), ok)
}

/// The machine's CPU time so far, from `/proc/stat`: (all, idle) in clock ticks, every
/// core together.
pub fn cpu_ticks() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap_or_default();
    let fields: Vec<u64> = stat
        .lines()
        .next()
        .unwrap_or_default()
        .split_whitespace()
        .skip(1)
        .filter_map(|f| f.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal
    let all = fields.iter().take(8).sum();
    let idle = fields.get(3).copied().unwrap_or(0) + fields.get(4).copied().unwrap_or(0);
    (all, idle)
}

/// The share of every core's time that was busy between two [`cpu_ticks`] readings.
pub fn busy_share(before: (u64, u64), after: (u64, u64)) -> f64 {
    let all = after.0.saturating_sub(before.0) as f64;
    let idle = after.1.saturating_sub(before.1) as f64;
    if all == 0.0 {
        0.0
    } else {
        (all - idle) / all
    }
}

/// This process's current resident set size, bytes.
pub fn own_rss() -> u64 {
    status_field_kb("/proc/self/status", "VmRSS:").unwrap_or(0) * 1024
}

/// A `kB` field of a `/proc/<pid>/status` file.
fn status_field_kb(path: &str, field: &str) -> Option<u64> {
    let text = std::fs::read_to_string(path).ok()?;
    let line = text.lines().find(|l| l.starts_with(field))?;
    line[field.len()..]
        .split_whitespace()
        .next()?
        .parse::<u64>()
        .ok()
}

pub fn mib(bytes: u64) -> f64 {
    bytes as f64 / (1024.0 * 1024.0)
}

/// How much faster two threads of pure computation finish two units of work than one thread
/// finishes one, each: 2.0 on two idle cores, less when other work shares them. The ceiling
/// for anything that runs on two cores at once, measured at the same moment.
pub fn cpu_speedup() -> f64 {
    fn work() -> u64 {
        // xorshift: no memory traffic, no allocation, nothing to wait for.
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        for _ in 0..40_000_000u32 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
        }
        std::hint::black_box(x)
    }
    let started = Instant::now();
    work();
    let one = started.elapsed();
    let started = Instant::now();
    std::thread::scope(|s| {
        let other = s.spawn(work);
        work();
        let _ = other.join();
    });
    let two = started.elapsed();
    2.0 * one.as_secs_f64() / two.as_secs_f64()
}
