//! PingOne sandbox: an in-process emulator of the PingOne endpoints used by the
//! "Configure Device Authorization Grant Flow" workflow (worker token, applications,
//! populations, users, password set, device authorization, the device sign-on flow and the
//! device-code token poll).
//!
//! One port serves both PingOne hosts: the management API under `/v1/environments/{envID}/...`
//! (PingOne's `api` host) and the auth API under `/{envID}/as/...`, `/{envID}/device...` and
//! `/{envID}/flows/...` (PingOne's `auth` host). The behaviour follows
//! `docs/pingone.md`; choices where PingOne's behaviour is unconfirmed are listed there.
//!
//! Use [`RunningSandbox::start`] to serve it on `127.0.0.1:0`, or [`router`] to embed it.

mod clock;
mod errors;
mod flows;
mod http;
mod management;
mod oauth;
mod password_policy;
mod store;
mod users;

use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use axum::http::{HeaderMap, Uri};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use chrono::{DateTime, Utc};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use clock::{Clock, SystemClock, TestClock};
pub use store::SandboxStats;

use errors::P1Error;
use store::Store;

/// Default id of the environment the workflow configures.
pub const DEFAULT_ENV_ID: &str = "6d0b8e2a-4c1f-4f5e-9a57-0c1b2d3e4f50";
/// Default client id of the worker application.
pub const DEFAULT_WORKER_CLIENT_ID: &str = "0f3a9c21-7b64-4d0e-8e5a-2c9d41b7e6a3";
/// Default client secret of the worker application.
pub const DEFAULT_WORKER_CLIENT_SECRET: &str = "q7Vd~Xk2pN9sRfT4mWz8LcY1bH6jG3eA5uK0oQ_iE";

/// How the sandbox is set up.
#[derive(Clone)]
pub struct SandboxConfig {
    /// The environment the workflow configures (`envID`).
    pub env_id: String,
    /// The environment holding the worker application (`adminEnvID`); may equal `env_id`.
    pub admin_env_id: String,
    /// The worker application's client id (`adminAppID`).
    pub worker_client_id: String,
    /// The worker application's client secret (`adminAppSecret`).
    pub worker_client_secret: String,
    /// Answer `slow_down` (and grow the interval by 5 s) when a device code is polled faster
    /// than its interval; when `false`, such polls get `authorization_pending`.
    pub slow_down: bool,
    /// Flows require the `ST` session cookie set by `GET /{envID}/device`.
    pub require_session_cookie: bool,
    /// The time source for every expiry.
    pub clock: Arc<dyn Clock>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            env_id: DEFAULT_ENV_ID.to_owned(),
            admin_env_id: DEFAULT_ENV_ID.to_owned(),
            worker_client_id: DEFAULT_WORKER_CLIENT_ID.to_owned(),
            worker_client_secret: DEFAULT_WORKER_CLIENT_SECRET.to_owned(),
            slow_down: true,
            require_session_cookie: true,
            clock: Arc::new(SystemClock),
        }
    }
}

impl std::fmt::Debug for SandboxConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SandboxConfig")
            .field("env_id", &self.env_id)
            .field("admin_env_id", &self.admin_env_id)
            .field("worker_client_id", &self.worker_client_id)
            .field("worker_client_secret", &"<redacted>")
            .field("slow_down", &self.slow_down)
            .field("require_session_cookie", &self.require_session_cookie)
            .finish_non_exhaustive()
    }
}

/// State shared by all handlers.
pub(crate) struct Shared {
    pub config: SandboxConfig,
    store: Mutex<Store>,
    /// The bound address, when known, for requests without a `Host` header.
    bound: OnceLock<SocketAddr>,
}

impl Shared {
    fn new(config: SandboxConfig) -> Self {
        let now = config.clock.now();
        let store = Store::new(&[&config.env_id, &config.admin_env_id], now);
        Self {
            config,
            store: Mutex::new(store),
            bound: OnceLock::new(),
        }
    }

    pub(crate) fn now(&self) -> DateTime<Utc> {
        self.config.clock.now()
    }

    /// The store; a poisoned lock is recovered because every mutation leaves it consistent.
    pub(crate) fn lock(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// `http://host:port` the request was sent to.
    pub(crate) fn base(&self, headers: &HeaderMap, uri: &Uri) -> String {
        http::base_url(headers, uri, self.bound.get().copied())
    }

    fn stats(&self) -> SandboxStats {
        self.lock().stats()
    }
}

/// The sandbox as an axum router, for embedding in another server.
pub fn router(config: SandboxConfig) -> Router {
    build_router(Arc::new(Shared::new(config)))
}

fn build_router(shared: Arc<Shared>) -> Router {
    Router::new()
        .route("/v1/environments/{env}", get(management::get_environment))
        .route(
            "/v1/environments/{env}/applications",
            post(management::create_application),
        )
        .route(
            "/v1/environments/{env}/applications/{id}",
            get(management::get_application).delete(management::delete_application),
        )
        .route(
            "/v1/environments/{env}/applications/{id}/secret",
            get(management::get_application_secret),
        )
        .route(
            "/v1/environments/{env}/populations",
            post(management::create_population),
        )
        .route(
            "/v1/environments/{env}/populations/{id}",
            get(management::get_population).delete(management::delete_population),
        )
        .route("/v1/environments/{env}/users", post(users::create_user))
        .route(
            "/v1/environments/{env}/users/{id}",
            get(users::get_user).delete(users::delete_user),
        )
        .route(
            "/v1/environments/{env}/users/{id}/password",
            get(users::get_password).put(users::set_password),
        )
        .route(
            "/v1/environments/{env}/passwordPolicies/{id}",
            get(password_policy::get_policy),
        )
        .route("/{env}/as/token", post(oauth::token))
        .route(
            "/{env}/as/device_authorization",
            post(oauth::device_authorization),
        )
        .route("/{env}/device", get(flows::start))
        .route("/{env}/device/{app}", get(flows::start_for_app))
        .route(
            "/{env}/flows/{flow}",
            get(flows::get_flow).post(flows::post_flow),
        )
        .route("/{env}/signon", get(flows::signon_page))
        .route("/{env}/signon/", get(flows::signon_page))
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(axum::middleware::map_response(http::add_correlation_id))
        .with_state(shared)
}

async fn not_found() -> Response {
    P1Error::not_found().into_response()
}

async fn method_not_allowed() -> Response {
    P1Error::method_not_allowed().into_response()
}

/// A sandbox serving on a local port until [`RunningSandbox::shutdown`] (or drop).
pub struct RunningSandbox {
    addr: SocketAddr,
    shutdown: Option<oneshot::Sender<()>>,
    handle: Option<JoinHandle<()>>,
    config: SandboxConfig,
    shared: Arc<Shared>,
}

impl RunningSandbox {
    /// Serves `config` on `127.0.0.1` with an OS-chosen port.
    pub async fn start(config: SandboxConfig) -> std::io::Result<RunningSandbox> {
        Self::start_on(config, 0).await
    }

    /// Serves `config` on `127.0.0.1:port` (`0` lets the OS choose).
    pub async fn start_on(config: SandboxConfig, port: u16) -> std::io::Result<RunningSandbox> {
        let listener = tokio::net::TcpListener::bind((std::net::Ipv4Addr::LOCALHOST, port)).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared::new(config.clone()));
        let _ = shared.bound.set(addr);
        let app = build_router(Arc::clone(&shared));
        let (tx, rx) = oneshot::channel::<()>();
        let handle = tokio::spawn(async move {
            let serve = axum::serve(listener, app).with_graceful_shutdown(async move {
                let _ = rx.await;
            });
            // An accept error ends the server; there is no caller left to report it to.
            let _ = serve.await;
        });
        Ok(RunningSandbox {
            addr,
            shutdown: Some(tx),
            handle: Some(handle),
            config,
            shared,
        })
    }

    /// The bound socket address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:PORT`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The management base (`apiPath`): `base_url() + "/v1"`.
    pub fn api_path(&self) -> String {
        format!("{}/v1", self.base_url())
    }

    /// The auth base (`authPath`): `base_url()`.
    pub fn auth_path(&self) -> String {
        self.base_url()
    }

    /// The configuration the sandbox runs with.
    pub fn config(&self) -> &SandboxConfig {
        &self.config
    }

    /// The Postman variable names of the PingOne workflow and their values:
    /// `apiPath`, `authPath`, `envID`, `adminEnvID`, `adminAppID`, `adminAppSecret`.
    pub fn variables(&self) -> Vec<(String, String)> {
        vec![
            ("apiPath".to_owned(), self.api_path()),
            ("authPath".to_owned(), self.auth_path()),
            ("envID".to_owned(), self.config.env_id.clone()),
            ("adminEnvID".to_owned(), self.config.admin_env_id.clone()),
            (
                "adminAppID".to_owned(),
                self.config.worker_client_id.clone(),
            ),
            (
                "adminAppSecret".to_owned(),
                self.config.worker_client_secret.clone(),
            ),
        ]
    }

    /// Current record counts (tokens, device codes, flows, ... not yet purged).
    pub fn stats(&self) -> SandboxStats {
        self.shared.stats()
    }

    /// Stops accepting connections and waits (at most 5 s) for open ones to finish.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(mut handle) = self.handle.take() {
            if tokio::time::timeout(Duration::from_secs(5), &mut handle)
                .await
                .is_err()
            {
                handle.abort();
            }
        }
    }
}

impl Drop for RunningSandbox {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(handle) = self.handle.take() {
            handle.abort();
        }
    }
}

impl std::fmt::Debug for RunningSandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningSandbox")
            .field("addr", &self.addr)
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}
