//! The real OpenID provider of `tests/interop/oidc-provider/` (panva's oidc-provider on
//! Node.js), for tests: checks that Node.js can run it, installs the pinned packages with
//! `npm ci` when `node_modules` does not hold exactly those of `package-lock.json`, starts
//! `server.mjs` on a free port of 127.0.0.1 and waits for its ready line. The server stops
//! when [`OidcProvider::stop`] is called, and on its own when the test process goes away (it
//! watches its standard input).

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{mpsc, Arc, Mutex};
use std::time::{Duration, Instant};

/// The oldest Node.js that oidc-provider 9 runs on (it warns below 22, and works).
const MIN_NODE_MAJOR: u32 = 18;

/// What the server prints once it accepts connections, before the issuer URL.
const READY: &str = "oidc-provider ready: issuer=";

/// How long `npm ci` may take (a cold npm cache downloads about 40 small packages).
const INSTALL_TIMEOUT: Duration = Duration::from_secs(300);

/// How long the server may take to print its ready line.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// The Node.js project: `package.json`, `package-lock.json`, `server.mjs`.
pub fn project_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/oidc-provider")
}

/// Why Node.js cannot run the provider on this machine, or `None` when it can: `node` 18 or
/// later, and `npm` too when the packages still have to be installed.
pub fn node_problem() -> Option<String> {
    let version = match Command::new("node").arg("--version").output() {
        Ok(out) if out.status.success() => String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        Ok(out) => {
            return Some(format!(
                "`node --version` failed: {}",
                String::from_utf8_lossy(&out.stderr).trim()
            ))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Some("node not found on PATH".into())
        }
        Err(e) => return Some(format!("cannot run node: {e}")),
    };
    let major = version
        .trim_start_matches('v')
        .split('.')
        .next()
        .and_then(|m| m.parse::<u32>().ok());
    if major.is_none_or(|m| m < MIN_NODE_MAJOR) {
        return Some(format!(
            "node {version} is too old: oidc-provider needs Node.js {MIN_NODE_MAJOR} or later"
        ));
    }
    if !installed(&project_dir()) && Command::new("npm").arg("--version").output().is_err() {
        return Some("npm not found on PATH, and the packages are not installed".into());
    }
    None
}

/// Whether `node_modules` holds exactly the packages (and versions) of `package-lock.json`.
/// npm writes `node_modules/.package-lock.json` on every install, so the two compare.
fn installed(dir: &Path) -> bool {
    let read = |path: PathBuf| -> Option<serde_json::Value> {
        serde_json::from_slice(&std::fs::read(path).ok()?).ok()
    };
    let (Some(lock), Some(hidden)) = (
        read(dir.join("package-lock.json")),
        read(dir.join("node_modules/.package-lock.json")),
    ) else {
        return false;
    };
    let versions = |doc: &serde_json::Value| -> Vec<(String, String)> {
        let mut out: Vec<(String, String)> = doc["packages"]
            .as_object()
            .into_iter()
            .flatten()
            .filter(|(path, _)| !path.is_empty())
            .map(|(path, entry)| {
                let version = entry["version"].as_str().unwrap_or_default().to_owned();
                (path.clone(), version)
            })
            .collect();
        out.sort();
        out
    };
    versions(&lock) == versions(&hidden) && dir.join("node_modules/oidc-provider").is_dir()
}

/// `npm ci`, unless `node_modules` is already what the lock file says.
fn install(dir: &Path) -> Result<(), String> {
    if installed(dir) {
        return Ok(());
    }
    let child = Command::new("npm")
        .args(["ci", "--no-audit", "--no-fund"])
        .current_dir(dir)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| format!("cannot run `npm ci`: {e}"))?;
    let (status, output) = wait_with_timeout(child, INSTALL_TIMEOUT)
        .map_err(|e| format!("`npm ci` in {}: {e}", dir.display()))?;
    if !status.success() {
        return Err(format!(
            "`npm ci` in {} failed ({status}):\n{output}",
            dir.display()
        ));
    }
    Ok(())
}

/// Waits for a child, killing it after `timeout`; gives its exit status and its output.
fn wait_with_timeout(
    mut child: Child,
    timeout: Duration,
) -> Result<(std::process::ExitStatus, String), String> {
    let output = Arc::new(Mutex::new(String::new()));
    let mut readers = Vec::new();
    let streams: [Option<Box<dyn Read + Send>>; 2] = [
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    ];
    for mut stream in streams.into_iter().flatten() {
        let output = output.clone();
        readers.push(std::thread::spawn(move || {
            let mut text = String::new();
            let _ = stream.read_to_string(&mut text);
            if let Ok(mut all) = output.lock() {
                all.push_str(&text);
            }
        }));
    }
    let started = Instant::now();
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if started.elapsed() > timeout => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("timed out after {timeout:?}"));
            }
            Ok(None) => std::thread::sleep(Duration::from_millis(50)),
            Err(e) => return Err(e.to_string()),
        }
    };
    for reader in readers {
        let _ = reader.join();
    }
    let text = output.lock().map(|o| o.clone()).unwrap_or_default();
    Ok((status, text))
}

/// A running oidc-provider.
pub struct OidcProvider {
    /// `http://127.0.0.1:PORT`, the issuer and base URL of every endpoint.
    pub issuer: String,
    child: Mutex<Child>,
    stderr: Arc<Mutex<String>>,
}

impl OidcProvider {
    /// Installs the packages when needed, starts the server and waits until it is ready.
    pub fn start() -> Result<OidcProvider, String> {
        let dir = project_dir();
        install(&dir)?;
        let mut child = Command::new("node")
            .args(["server.mjs", "0", "--exit-with-stdin"])
            .current_dir(&dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start node: {e}"))?;
        let stderr = Arc::new(Mutex::new(String::new()));
        if let Some(pipe) = child.stderr.take() {
            let stderr = stderr.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    if let Ok(mut text) = stderr.lock() {
                        text.push_str(&line);
                        text.push('\n');
                    }
                }
            });
        }
        let (tx, rx) = mpsc::channel();
        if let Some(pipe) = child.stdout.take() {
            std::thread::spawn(move || {
                // Keep reading after the ready line, so that the server never blocks on a
                // full pipe.
                for line in BufReader::new(pipe).lines().map_while(Result::ok) {
                    if let Some(issuer) = line.strip_prefix(READY) {
                        let _ = tx.send(issuer.trim().to_owned());
                    }
                }
            });
        }
        let ready = rx.recv_timeout(START_TIMEOUT);
        let provider = OidcProvider {
            issuer: ready.clone().unwrap_or_default(),
            child: Mutex::new(child),
            stderr,
        };
        match ready {
            Ok(_) => Ok(provider),
            Err(_) => {
                provider.stop();
                // Let the reader take the last lines of a server that exited.
                std::thread::sleep(Duration::from_millis(200));
                Err(format!(
                    "oidc-provider did not print `{READY}...` within {START_TIMEOUT:?}; its \
                     stderr:\n{}",
                    provider.stderr()
                ))
            }
        }
    }

    /// What the server printed on stderr so far (its warnings, and any `server_error`).
    pub fn stderr(&self) -> String {
        self.stderr.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Stops the server and waits for it to exit.
    pub fn stop(&self) {
        if let Ok(mut child) = self.child.lock() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for OidcProvider {
    fn drop(&mut self) {
        self.stop();
    }
}
