//! In-process emulators ("sandboxes") of the HTTP APIs that stepwise scenarios replay.
//!
//! A sandbox is a server: it never imports the runner, and the runner never imports it.
//! Tests and the CLI wire the two together over a socket on `127.0.0.1`.

pub mod pingone;
