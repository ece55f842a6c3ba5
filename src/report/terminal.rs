//! The terminal reporter: prints each step as it finishes, `-v` traces, poll progress, and at
//! the end a summary and every failure in detail. All text passes through the masker.

use crate::eval::assert::fmt_duration;
use crate::http::{HttpError, PreparedRequest, Response};
use crate::mask::Masker;
use crate::result::{Outcome, RunResult, ScenarioResult, StepResult};
use crate::runner::Observer;
use std::io::Write;
use std::path::Path;
use std::sync::Mutex;
use std::time::Duration;

/// Output settings.
#[derive(Debug, Clone, Copy, Default)]
pub struct Style {
    pub color: bool,
    pub verbose: bool,
    /// Show an updating progress line for long polls (only on a terminal).
    pub progress: bool,
}

/// Prints progress to a writer (stdout in the CLI, a buffer in tests).
pub struct TerminalReporter {
    out: Mutex<Box<dyn Write + Send>>,
    style: Style,
    masker: Masker,
}

impl TerminalReporter {
    pub fn new(out: Box<dyn Write + Send>, style: Style, masker: Masker) -> Self {
        TerminalReporter {
            out: Mutex::new(out),
            style,
            masker,
        }
    }

    fn write(&self, text: &str) {
        let masked = self.masker.mask(text);
        let mut out = self.out.lock().unwrap_or_else(|e| e.into_inner());
        // A closed pipe (e.g. `| head`) must not panic the run.
        let _ = out.write_all(masked.as_bytes());
        let _ = out.flush();
    }

    fn paint(&self, code: &str, text: &str) -> String {
        paint(self.style.color, code, text)
    }

    /// Prints the summary and every failure in detail.
    pub fn finish(&self, run: &RunResult) {
        self.write(&render_summary(run, self.style.color));
    }
}

fn paint(color: bool, code: &str, text: &str) -> String {
    if color {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_owned()
    }
}

fn mark(color: bool, outcome: Outcome) -> String {
    match outcome {
        Outcome::Passed => paint(color, "32", "✓"),
        Outcome::Skipped => paint(color, "33", "↷"),
        Outcome::Failed => paint(color, "31", "✗"),
        Outcome::NetworkError | Outcome::Invalid => paint(color, "1;31", "!"),
    }
}

impl Observer for TerminalReporter {
    fn scenario_started(&self, name: &str, path: &Path) {
        let line = format!(
            "{} {} {}\n",
            self.paint("1;36", "▶"),
            self.paint("1", name),
            self.paint("2", &format!("({})", crate::diagnostic::display_path(path)))
        );
        self.write(&line);
    }

    fn scenario_skipped(&self, _name: &str, reason: &str) {
        let line = format!(
            "  {} {}\n",
            mark(self.style.color, Outcome::Skipped),
            self.paint("2", &format!("skipped: {reason}"))
        );
        self.write(&line);
    }

    fn include_started(&self, depth: usize, name: &str, path: &Path) {
        let line = format!(
            "{}{} {name} {}\n",
            "  ".repeat(depth + 1),
            self.paint("36", "↳"),
            self.paint(
                "2",
                &format!("(include {})", crate::diagnostic::display_path(path))
            )
        );
        self.write(&line);
    }

    fn step_finished(&self, depth: usize, step: &StepResult) {
        self.write(&render_step_line(
            step,
            depth,
            self.style.color,
            self.style.verbose,
        ));
    }

    fn poll_attempt(&self, step: &str, attempt: u32, verdict: &str, next: Option<Duration>) {
        if self.style.verbose {
            let next = next
                .map(|n| format!(", next attempt in {}", fmt_duration(n)))
                .unwrap_or_default();
            self.write(&format!(
                "    … poll `{step}` attempt {attempt}: {verdict}{next}\n"
            ));
        } else if self.style.progress {
            match next {
                Some(n) => self.write(&format!(
                    "\r\x1b[2K    … `{step}`: attempt {attempt} ({verdict}), next in {}",
                    fmt_duration(n)
                )),
                None => self.write("\r\x1b[2K"),
            }
        }
    }

    fn exchange(&self, response: &Response, _masker: &Masker) {
        if !self.style.verbose {
            return;
        }
        let mut text = String::new();
        let sent = &response.sent;
        for hop in &response.redirects {
            text.push_str(&format!(
                "    * {} {} → {} (followed)\n",
                hop.status, hop.url, hop.location
            ));
        }
        text.push_str(&format!("    > {} {}\n", sent.method, sent.url));
        for (n, v) in &sent.headers {
            text.push_str(&format!("    > {n}: {}\n", trace_header(n, v)));
        }
        if let Some(body) = &sent.body {
            text.push_str("    >\n");
            for line in body_text(&self.masker, body, 2000).lines() {
                text.push_str(&format!("    > {line}\n"));
            }
        }
        text.push_str(&format!(
            "    < {} {} ({})\n",
            response.version,
            response.status,
            fmt_duration(response.duration)
        ));
        for (n, v) in &response.headers {
            text.push_str(&format!("    < {n}: {}\n", trace_header(n, v)));
        }
        if !response.body.is_empty() {
            text.push_str("    <\n");
            for line in body_text(&self.masker, &response.body, 4000).lines() {
                text.push_str(&format!("    < {line}\n"));
            }
        }
        self.write(&self.paint("2", &text));
    }

    fn exchange_failed(&self, request: &PreparedRequest, error: &HttpError, _masker: &Masker) {
        if self.style.verbose {
            self.write(&format!(
                "    > {} {}\n    ! {error}\n",
                request.method, request.url
            ));
        }
    }
}

/// Credentials in headers are masked even when no variable declared them secret.
fn trace_header(name: &str, value: &str) -> String {
    if name.eq_ignore_ascii_case("authorization")
        || name.eq_ignore_ascii_case("proxy-authorization")
    {
        match value.split_once(' ') {
            Some((scheme, _)) => format!("{scheme} {}", crate::mask::MASK),
            None => crate::mask::MASK.to_owned(),
        }
    } else {
        value.to_owned()
    }
}

/// A body for a trace: masked first, then cut (a cut secret would no longer match).
fn body_text(masker: &Masker, body: &[u8], max: usize) -> String {
    match std::str::from_utf8(body) {
        Ok(text) => visible(&crate::eval::capture::excerpt(&masker.mask(text), max)).into_owned(),
        Err(_) => format!("<{} bytes of binary data>", body.len()),
    }
}

/// Text that came from a server, made safe for a terminal: control characters other than
/// tab and line breaks (NUL, ESC starting a colour or cursor sequence, ...) are shown as their
/// Unicode control pictures instead of being sent as they are.
pub fn visible(text: &str) -> std::borrow::Cow<'_, str> {
    let hidden = |c: char| c.is_control() && !matches!(c, '\n' | '\t' | '\r');
    if !text.chars().any(hidden) {
        return std::borrow::Cow::Borrowed(text);
    }
    text.chars()
        .map(|c| match c {
            c if !hidden(c) => c,
            '\u{0}'..='\u{1f}' => char::from_u32(0x2400 + c as u32).unwrap_or('\u{fffd}'),
            '\u{7f}' => '\u{2421}',
            _ => '\u{fffd}',
        })
        .collect()
}

/// One line per step, with failing assertions under it (all of them with `verbose`).
pub fn render_step_line(step: &StepResult, depth: usize, color: bool, verbose: bool) -> String {
    let indent = "  ".repeat(depth + 1);
    let mut line = format!("{indent}{} {}", mark(color, step.outcome), step.name);
    if let Some(req) = &step.request {
        line.push_str(&format!("  {} {}", req.method, paint(color, "2", &req.url)));
    }
    if let Some(status) = step.status {
        line.push_str(&format!(" → {status}"));
    }
    if let Some(poll) = &step.poll {
        line.push_str(&format!(
            " after {} attempt{}",
            poll.attempts,
            if poll.attempts == 1 { "" } else { "s" }
        ));
        let counts = summarize_history(&poll.history);
        if !counts.is_empty() {
            line.push_str(&format!(" ({counts})"));
        }
    }
    if step.outcome == Outcome::Skipped {
        line.push_str(&paint(color, "2", "  skipped (`when` is false)"));
    } else if let Some(inc) = &step.included {
        line.push_str(&format!("  [{} step(s) included]", inc.steps.len()));
    }
    line.push_str(&paint(
        color,
        "2",
        &format!("  {}", fmt_duration(step.duration)),
    ));
    line.push('\n');
    for a in &step.assertions {
        if !a.passed || verbose {
            let m = if a.passed {
                mark(color, Outcome::Passed)
            } else {
                mark(color, Outcome::Failed)
            };
            if a.passed {
                line.push_str(&format!("{indent}    {m} {}\n", a.what));
            } else {
                line.push_str(&format!(
                    "{indent}    {m} {}: expected {}, got {}\n",
                    visible(&a.what),
                    visible(&a.expected),
                    visible(&a.actual)
                ));
            }
        }
    }
    if verbose {
        for c in &step.captures {
            line.push_str(&format!(
                "{indent}    = {} ← {}\n",
                c.name,
                visible(&c.value)
            ));
        }
    }
    if let Some(err) = &step.error {
        line.push_str(&format!(
            "{indent}    {} {}\n",
            paint(color, "31", "error:"),
            err.title
        ));
    }
    line
}

/// A unified diff, indented under its assertion; removed lines red, added green.
fn render_diff(diff: &str, color: bool) -> String {
    let mut out = String::new();
    for line in diff.lines() {
        let line = visible(line);
        let painted = if line.starts_with("---") || line.starts_with("+++") {
            paint(color, "1", &line)
        } else if line.starts_with('-') {
            paint(color, "31", &line)
        } else if line.starts_with('+') {
            paint(color, "32", &line)
        } else if line.starts_with("@@") {
            paint(color, "36", &line)
        } else {
            line.into_owned()
        };
        out.push_str(&format!("      │ {painted}\n"));
    }
    out
}

fn summarize_history(history: &[String]) -> String {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for h in history {
        let key = h.split(':').next().unwrap_or(h).to_owned();
        match counts.iter_mut().find(|(k, _)| *k == key) {
            Some((_, n)) => *n += 1,
            None => counts.push((key, 1)),
        }
    }
    counts
        .iter()
        .map(|(k, n)| {
            if *n > 1 {
                format!("{k} ×{n}")
            } else {
                k.clone()
            }
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The summary and the failures in detail.
pub fn render_summary(run: &RunResult, color: bool) -> String {
    let mut out = String::new();
    let failed: Vec<&ScenarioResult> = run
        .scenarios
        .iter()
        .filter(|s| s.outcome.is_failure())
        .collect();
    if !failed.is_empty() {
        out.push_str(&format!("\n{}\n", paint(color, "1;31", "Failures:")));
        for s in &failed {
            render_failure(s, color, &mut out, &[]);
        }
    }
    let (mut passed, mut failed_steps, mut skipped) = (0, 0, 0);
    fn count(s: &ScenarioResult, p: &mut usize, f: &mut usize, k: &mut usize) {
        for step in &s.steps {
            match &step.included {
                Some(inc) => count(inc, p, f, k),
                None => match step.outcome {
                    Outcome::Passed => *p += 1,
                    Outcome::Skipped => *k += 1,
                    _ => *f += 1,
                },
            }
        }
    }
    for s in &run.scenarios {
        count(s, &mut passed, &mut failed_steps, &mut skipped);
    }
    let skipped_scenarios = run
        .scenarios
        .iter()
        .filter(|s| s.outcome == Outcome::Skipped)
        .count();
    let ok = run.scenarios.len() - failed.len() - skipped_scenarios;
    let skipped_text = if skipped_scenarios > 0 {
        format!(", {skipped_scenarios} skipped")
    } else {
        String::new()
    };
    let verdict = if failed.is_empty() {
        paint(color, "1;32", "PASSED")
    } else {
        paint(color, "1;31", "FAILED")
    };
    out.push_str(&format!(
        "\n{verdict}  scenarios: {ok} passed, {} failed{skipped_text}; steps: {passed} passed, {failed_steps} failed, {skipped} skipped ({})\n",
        failed.len(),
        fmt_duration(run.duration)
    ));
    out
}

/// The failures of one scenario in detail, as the summary prints them (the JUnit report
/// puts this text in its `<failure>` and `<error>` elements).
pub fn render_scenario_failures(s: &ScenarioResult, color: bool) -> String {
    let mut out = String::new();
    render_failure(s, color, &mut out, &[]);
    out
}

fn render_failure(s: &ScenarioResult, color: bool, out: &mut String, trail: &[&str]) {
    let mut trail: Vec<&str> = trail.to_vec();
    trail.push(&s.name);
    if let Some(e) = &s.error {
        out.push_str(&format!(
            "\n── {} ({})\n",
            trail.join(" › "),
            crate::diagnostic::display_path(&s.path)
        ));
        out.push_str(&e.render(color));
    }
    for step in s.steps.iter().filter(|st| st.outcome.is_failure()) {
        if let Some(inc) = &step.included {
            render_failure(inc, color, out, &trail);
            continue;
        }
        out.push_str(&format!(
            "\n── {} › {} ({})\n",
            trail.join(" › "),
            step.name,
            crate::diagnostic::display_path(&s.path)
        ));
        if let Some(e) = &step.error {
            out.push_str(&e.render(color));
        }
        for a in step.assertions.iter().filter(|a| !a.passed) {
            out.push_str(&format!("  {} {}\n", mark(color, Outcome::Failed), a.what));
            if let Some(p) = &a.position {
                out.push_str(&format!("      at:       {p}\n"));
            }
            out.push_str(&format!(
                "      expected: {}\n      actual:   {}\n",
                visible(&a.expected),
                visible(&a.actual)
            ));
            if let Some(diff) = &a.diff {
                out.push_str(&render_diff(diff, color));
            }
        }
        if let Some(p) = &step.poll {
            out.push_str(&format!(
                "  polling: {} attempt(s); {}\n",
                p.attempts, p.stopped
            ));
        }
        if let Some(x) = &step.excerpt {
            out.push_str("  response:\n");
            for line in visible(x).lines() {
                out.push_str(&format!("    │ {line}\n"));
            }
        }
    }
}
