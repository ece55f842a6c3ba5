//! The test server that every example in the docs runs against, on 127.0.0.1, for trying the
//! examples (and your first scenarios) by hand:
//!
//! ```sh
//! cargo run --example test-server          # http://127.0.0.1:8080
//! cargo run --example test-server -- 9000  # another port
//! ```
//!
//! Its routes are described in `tests/it/support/server.rs`. Stop it with Ctrl-C.
#![allow(clippy::unwrap_used, clippy::expect_used)] // a test fixture may panic

#[path = "../tests/it/support/server.rs"]
#[allow(dead_code)] // `start` (any port) is for the tests
mod server;

#[tokio::main]
async fn main() {
    let port = match std::env::args().nth(1) {
        None => 8080,
        Some(arg) => arg.parse().unwrap_or_else(|_| {
            eprintln!("usage: cargo run --example test-server [-- PORT]");
            std::process::exit(2);
        }),
    };
    let server = server::TestServer::start_on(port).await;
    println!("test server on {} (Ctrl-C stops it)", server.base());
    if let Err(e) = tokio::signal::ctrl_c().await {
        eprintln!("error: cannot wait for Ctrl-C: {e}");
    }
}
