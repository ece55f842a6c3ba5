//! The JUnit XML report, in the dialect GitLab, GitHub (action-junit-report,
//! dorny/test-reporter) and Jenkins read: one `<testsuite>`, one `<testcase>` per scenario
//! file, a `<failure>` or `<error>` holding the failure text the terminal prints, and the step
//! timings in `<system-out>`. A pure function of the run's result.

use super::outcome_name;
use crate::diagnostic::display_path;
use crate::eval::assert::fmt_duration;
use crate::report::terminal::render_scenario_failures;
use crate::result::{Outcome, RunResult, ScenarioResult, StepResult};
use std::fmt::Write as _;
use std::time::Duration;

/// The longest `message` attribute; the whole text is in the element's body.
const MAX_MESSAGE_CHARS: usize = 500;

/// Renders the whole run as a JUnit XML document.
pub fn render(run: &RunResult) -> String {
    let mut out = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let counts = counts(&run.scenarios, run.duration);
    let _ = writeln!(out, "<testsuites name=\"stepwise\" {counts}>");
    let _ = write!(out, "  <testsuite name=\"stepwise\" {counts}");
    if let Some(started) = run.started_at {
        let _ = write!(out, " timestamp=\"{}\"", attr(&super::timestamp(started)));
    }
    out.push_str(">\n");
    if run.interrupted {
        // Tells a reader that the cases below are only those that ran before Ctrl-C.
        out.push_str("    <properties>\n");
        out.push_str("      <property name=\"interrupted\" value=\"true\"/>\n");
        out.push_str("    </properties>\n");
    }
    for scenario in &run.scenarios {
        testcase(&mut out, scenario);
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

/// The `tests`, `failures`, `errors`, `skipped` and `time` attributes, shared by
/// `<testsuites>` and `<testsuite>`.
fn counts(scenarios: &[ScenarioResult], duration: Duration) -> String {
    let count = |f: fn(Outcome) -> bool| scenarios.iter().filter(|s| f(s.outcome)).count();
    format!(
        "tests=\"{}\" failures=\"{}\" errors=\"{}\" skipped=\"{}\" time=\"{}\"",
        scenarios.len(),
        count(|o| o == Outcome::Failed),
        count(|o| matches!(o, Outcome::NetworkError | Outcome::Invalid)),
        count(|o| o == Outcome::Skipped),
        seconds(duration)
    )
}

fn testcase(out: &mut String, s: &ScenarioResult) {
    let path = attr(&display_path(&s.path));
    let _ = writeln!(
        out,
        "    <testcase name=\"{}\" classname=\"{path}\" file=\"{path}\" time=\"{}\">",
        attr(&s.name),
        seconds(s.duration)
    );
    let element = match s.outcome {
        Outcome::Passed => None,
        Outcome::Skipped => {
            match &s.skip_reason {
                Some(reason) => {
                    let _ = writeln!(out, "      <skipped message=\"{}\"/>", attr(reason));
                }
                None => out.push_str("      <skipped/>\n"),
            }
            None
        }
        Outcome::Failed => Some("failure"),
        Outcome::NetworkError | Outcome::Invalid => Some("error"),
    };
    if let Some(element) = element {
        let (message, kind) = failure_message(s);
        let body = render_scenario_failures(s, false);
        let _ = writeln!(
            out,
            "      <{element} message=\"{}\" type=\"{kind}\">{}</{element}>",
            attr(&message),
            text(body.trim_start_matches('\n'))
        );
    }
    let mut steps = String::new();
    step_lines(&mut steps, &s.steps, 0);
    if !steps.is_empty() {
        let _ = writeln!(out, "      <system-out>{}</system-out>", text(&steps));
    }
    out.push_str("    </testcase>\n");
}

/// One line per step: outcome, name, method, URL, status, duration, poll attempts; the steps
/// of an include follow its line, indented.
fn step_lines(out: &mut String, steps: &[StepResult], depth: usize) {
    for step in steps {
        let _ = write!(
            out,
            "{}{:<7} {}",
            "  ".repeat(depth),
            outcome_name(step.outcome),
            step.name
        );
        if let Some(request) = &step.request {
            let _ = write!(out, "  {} {}", request.method, request.url);
        }
        if let Some(status) = step.status {
            let _ = write!(out, " → {status}");
        }
        let _ = write!(out, "  {}", fmt_duration(step.duration));
        if let Some(poll) = &step.poll {
            let plural = if poll.attempts == 1 { "" } else { "s" };
            let _ = write!(out, "  {} poll attempt{plural}", poll.attempts);
        }
        if let Some(included) = &step.included {
            let _ = write!(out, "  (include {})", display_path(&included.path));
        }
        out.push('\n');
        if let Some(included) = &step.included {
            step_lines(out, &included.steps, depth + 1);
        }
    }
}

/// A one-line summary of why a scenario failed, and the kind of failure for `type`:
/// `assertion`, `capture` or `poll` for a `<failure>`, `network` or `invalid` for an `<error>`.
fn failure_message(s: &ScenarioResult) -> (String, &'static str) {
    let mut trail = Vec::new();
    let (detail, kind) = first_failure(s, &mut trail);
    let message = if trail.is_empty() {
        detail
    } else {
        format!("{}: {detail}", trail.join(" › "))
    };
    let one_line = message.split_whitespace().collect::<Vec<_>>().join(" ");
    (
        crate::eval::capture::excerpt(&one_line, MAX_MESSAGE_CHARS),
        kind,
    )
}

/// Follows the first failing step (into includes), collecting step names on the way.
fn first_failure<'a>(s: &'a ScenarioResult, trail: &mut Vec<&'a str>) -> (String, &'static str) {
    if let Some(error) = &s.error {
        return (error.title.clone(), kind_of(s.outcome, false));
    }
    let Some(step) = s.steps.iter().find(|st| st.outcome.is_failure()) else {
        return (
            format!("scenario {}", outcome_name(s.outcome)),
            kind_of(s.outcome, false),
        );
    };
    trail.push(&step.name);
    if let Some(included) = &step.included {
        return first_failure(included, trail);
    }
    if let Some(a) = step.assertions.iter().find(|a| !a.passed) {
        return (
            format!("{}: expected {}, got {}", a.what, a.expected, a.actual),
            "assertion",
        );
    }
    let poll_failed = step
        .poll
        .as_ref()
        .is_some_and(|p| !p.stopped.starts_with("until"));
    let detail = match &step.error {
        Some(error) => error.title.clone(),
        None => format!("step {}", outcome_name(step.outcome)),
    };
    (detail, kind_of(step.outcome, poll_failed))
}

fn kind_of(outcome: Outcome, poll_failed: bool) -> &'static str {
    match outcome {
        Outcome::NetworkError => "network",
        Outcome::Invalid => "invalid",
        _ if poll_failed => "poll",
        // A failed step without a failing assertion failed in a capture.
        _ => "capture",
    }
}

/// Seconds with millisecond precision, as JUnit's `time` attributes want them.
fn seconds(d: Duration) -> String {
    format!("{:.3}", d.as_secs_f64())
}

/// Escapes text for an element's content.
pub fn text(s: &str) -> String {
    escape(s, false)
}

/// Escapes text for a double-quoted attribute value. Line breaks and tabs are written as
/// character references, which survive attribute-value normalisation.
pub fn attr(s: &str) -> String {
    escape(s, true)
}

fn escape(s: &str, in_attribute: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' if in_attribute => out.push_str("&quot;"),
            '\n' if in_attribute => out.push_str("&#10;"),
            '\t' if in_attribute => out.push_str("&#9;"),
            // A raw CR would be read back as a line feed.
            '\r' => out.push_str("&#13;"),
            '\n' | '\t' => out.push(c),
            // XML 1.0 forbids the other C0 controls, even as references: show them as their
            // control pictures, as the terminal does.
            '\u{0}'..='\u{1f}' => out.push(char::from_u32(0x2400 + c as u32).unwrap_or('\u{fffd}')),
            '\u{7f}' => out.push('\u{2421}'),
            // Allowed but discouraged (C1 controls), or forbidden (U+FFFE, U+FFFF).
            '\u{80}'..='\u{9f}' | '\u{fffe}' | '\u{ffff}' => out.push('\u{fffd}'),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diagnostic::Diagnostic;
    use crate::result::{AssertionResult, PollSummary, RequestSummary};
    use std::path::PathBuf;

    fn scenario(name: &str, outcome: Outcome, steps: Vec<StepResult>) -> ScenarioResult {
        ScenarioResult {
            skip_reason: None,
            name: name.into(),
            path: PathBuf::from(format!("{name}.yaml")),
            outcome,
            steps,
            error: None,
            duration: Duration::from_millis(1500),
        }
    }

    #[test]
    fn escapes_markup_and_forbidden_characters() {
        assert_eq!(
            attr("a<b>&\"c\"\n\t\r"),
            "a&lt;b&gt;&amp;&quot;c&quot;&#10;&#9;&#13;"
        );
        assert_eq!(
            text("x\ny\u{0}\u{1b}[31m\u{7f}\u{85}\u{ffff}'"),
            "x\ny␀␛[31m␡\u{fffd}\u{fffd}'"
        );
    }

    #[test]
    fn one_testcase_per_scenario_with_failures_and_errors() {
        let mut failing = StepResult::new("check <it>");
        failing.outcome = Outcome::Failed;
        failing.request = Some(RequestSummary {
            method: "GET".into(),
            url: "http://h/x?a=1&b=2".into(),
        });
        failing.status = Some(500);
        failing.poll = Some(Box::new(PollSummary {
            attempts: 3,
            stopped: "until held after 3 attempt(s)".into(),
            history: vec![],
            final_interval: Duration::from_secs(1),
        }));
        failing.assertions.push(AssertionResult {
            what: "status".into(),
            passed: false,
            expected: "200".into(),
            actual: "500".into(),
            position: Some("a.yaml:3:5".into()),
            diff: None,
        });
        let mut invalid = scenario("b", Outcome::Invalid, vec![]);
        invalid.error = Some(Diagnostic::new("undefined variable `x`"));
        let run = RunResult {
            scenarios: vec![
                scenario("a", Outcome::Failed, vec![failing]),
                invalid,
                scenario("c", Outcome::Passed, vec![StepResult::new("fine")]),
            ],
            duration: Duration::from_millis(2345),
            ..RunResult::default()
        };
        let xml = render(&run);
        assert!(xml.contains(
            "<testsuites name=\"stepwise\" tests=\"3\" failures=\"1\" errors=\"1\" skipped=\"0\" time=\"2.345\">"
        ));
        assert_eq!(xml.matches("<testcase ").count(), 3);
        assert!(xml.contains(
            "<failure message=\"check &lt;it&gt;: status: expected 200, got 500\" type=\"assertion\">"
        ));
        assert!(xml.contains("<error message=\"undefined variable `x`\" type=\"invalid\">"));
        assert!(xml.contains(
            "<system-out>failed  check &lt;it&gt;  GET http://h/x?a=1&amp;b=2 → 500  0ms  3 poll attempts\n</system-out>"
        ));
        assert!(!xml.contains("properties"));
    }
}
