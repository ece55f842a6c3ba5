//! Scenario files the benchmark writes into its scratch folder.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// An `n`-step chain: each step's URL and `X-Prev` header come from the previous step's
/// capture; each step has one JSONPath capture and two assertions (status, JSONPath).
pub fn chain(name: &str, n: usize) -> String {
    let mut y = String::with_capacity(200 * n + 200);
    let _ = writeln!(y, "name: {name}");
    y.push_str("vars:\n  next: 0\nsteps:\n");
    for i in 1..=n {
        let _ = write!(
            y,
            concat!(
                "  - name: step {}\n",
                "    request:\n",
                "      url: \"{{{{ base }}}}/items/{{{{ next }}}}\"\n",
                "      headers:\n",
                "        X-Prev: \"{{{{ next }}}}\"\n",
                "    capture:\n",
                "      next: $.next\n",
                "    expect:\n",
                "      status: 200\n",
                "      jsonpath:\n",
                "        $.ok: true\n",
            ),
            i
        );
    }
    y
}

/// One step that downloads the big document and captures a field deep inside it.
pub fn big_body(records: usize) -> String {
    format!(
        concat!(
            "name: big body\n",
            "steps:\n",
            "  - name: download\n",
            "    request:\n",
            "      url: \"{{{{ base }}}}/big\"\n",
            "    capture:\n",
            "      last: \"$.items[{last}].name\"\n",
            "    expect:\n",
            "      status: 200\n",
            "      jsonpath:\n",
            "        $.total: {records}\n",
        ),
        last = records - 1,
        records = records
    )
}

/// Writes `text` to `dir/name`, creating `dir`.
pub fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    std::fs::create_dir_all(dir).expect("cannot create a scratch folder");
    let path = dir.join(name);
    std::fs::write(&path, text).expect("cannot write a scenario");
    path
}

/// `count` small scenarios (a 3-step chain each) in `dir`.
pub fn suite(dir: &Path, count: usize) {
    for i in 1..=count {
        let name = format!("s-{i:04}.yaml");
        write(dir, &name, &chain(&format!("suite {i}"), 3));
    }
}

/// Steps that delete what the PingOne device-flow scenario creates (its user, population
/// and application), appended to its steps: then a flow leaves nothing behind that is meant
/// to last, and the sandbox's memory shows what the flows themselves cost.
pub const PINGONE_CLEANUP: &str = r#"
  - name: "Clean-up: delete the user"
    request:
      method: DELETE
      url: "{{ apiPath }}/environments/{{ envID }}/users/{{ deviceAuthUserID }}"
      auth: {bearer: "{{ accessToken }}"}
    expect:
      status: 204
  - name: "Clean-up: delete the population"
    request:
      method: DELETE
      url: "{{ apiPath }}/environments/{{ envID }}/populations/{{ deviceAuthPopID }}"
      auth: {bearer: "{{ accessToken }}"}
    expect:
      status: 204
  - name: "Clean-up: delete the application"
    request:
      method: DELETE
      url: "{{ apiPath }}/environments/{{ envID }}/applications/{{ deviceAuthAppID }}"
      auth: {bearer: "{{ accessToken }}"}
    expect:
      status: 204
"#;

/// `count` copies of a scenario file in `dir`, named `flow-NNNNN.yaml`, with `extra` appended
/// (more steps: `steps` is the file's last key), each with a copy of the scenario's stored
/// snapshots under its own name.
pub fn copies(scenario: &Path, dir: &Path, count: usize, extra: &str) {
    let mut text = std::fs::read_to_string(scenario).expect("cannot read the scenario");
    text.push_str(extra);
    let stem = scenario
        .file_stem()
        .and_then(|s| s.to_str())
        .expect("scenario name");
    let snapshots: Vec<(String, String)> = scenario
        .parent()
        .map(|p| p.join("__snapshots__"))
        .and_then(|d| std::fs::read_dir(d).ok())
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let name = e.file_name().to_string_lossy().into_owned();
            let rest = name.strip_prefix(&format!("{stem}__"))?.to_owned();
            if !rest.ends_with(".snap") {
                return None;
            }
            Some((rest, std::fs::read_to_string(e.path()).ok()?))
        })
        .collect();
    let snap_dir = dir.join("__snapshots__");
    std::fs::create_dir_all(&snap_dir).expect("cannot create a scratch folder");
    for i in 1..=count {
        let copy = format!("flow-{i:05}");
        write(dir, &format!("{copy}.yaml"), &text);
        for (rest, snap) in &snapshots {
            std::fs::write(snap_dir.join(format!("{copy}__{rest}")), snap)
                .expect("cannot write a snapshot");
        }
    }
}
