//! The HTTP executor: sends concrete requests (no templates here) and returns complete
//! responses. One [`HttpClient`] per scenario run: one cookie jar shared by every step,
//! connections kept alive across steps. Redirects are followed here, not by reqwest, so that
//! cookies set on every hop land in the jar, 303 turns into GET, and each hop is recorded.

use reqwest::cookie::{CookieStore, Jar};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue};
use reqwest::{Method, Url};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Settings shared by every request of a run.
#[derive(Debug, Clone, Default)]
pub struct HttpConfig {
    /// Accept any TLS certificate (`--insecure`).
    pub insecure: bool,
    /// Extra trusted root certificates, PEM (`--cacert`).
    pub ca_certs: Vec<Vec<u8>>,
}

/// A request with every template already rendered.
#[derive(Debug, Clone)]
pub struct PreparedRequest {
    pub method: Method,
    pub url: Url,
    pub headers: Vec<(String, String)>,
    pub body: Option<PreparedBody>,
    pub timeout: Duration,
    pub follow_redirects: bool,
    pub max_redirects: u32,
    pub max_body_size: u64,
}

/// A request body, kept so that a 307/308 redirect can send it again.
#[derive(Debug, Clone)]
pub enum PreparedBody {
    Bytes {
        data: Vec<u8>,
        content_type: Option<String>,
    },
    Multipart(Vec<Part>),
}

/// One part of a multipart body.
#[derive(Debug, Clone)]
pub struct Part {
    pub name: String,
    pub data: Vec<u8>,
    pub filename: Option<String>,
    pub content_type: Option<String>,
}

/// One redirect that was followed.
#[derive(Debug, Clone)]
pub struct Hop {
    pub status: u16,
    pub url: String,
    pub location: String,
    /// The cookies this redirect set (name, value), in the order of its `Set-Cookie` headers.
    pub set_cookies: Vec<(String, String)>,
}

/// What a request sent on the wire (for `-v` and reports).
#[derive(Debug, Clone)]
pub struct SentRequest {
    pub method: String,
    pub url: String,
    pub headers: Vec<(String, String)>,
    pub body: Option<Vec<u8>>,
}

/// A complete response.
#[derive(Debug, Clone)]
pub struct Response {
    pub status: u16,
    pub version: String,
    /// Header names in lower case, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    /// The URL of the last request (after redirects).
    pub url: String,
    pub duration: Duration,
    pub redirects: Vec<Hop>,
    /// Cookies held by the jar for the final URL, after this response.
    pub jar_cookies: Vec<(String, String)>,
    /// The last request sent.
    pub sent: SentRequest,
}

impl Response {
    /// First value of a header (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Cookies set by this exchange (name, value), in the order they were set: those of each
    /// redirect followed, then those of this response's `Set-Cookie` headers. A cookie scoped
    /// to a path that the final URL is not under is still here (the jar keeps it for its path).
    pub fn set_cookies(&self) -> Vec<(String, String)> {
        let own = self
            .headers
            .iter()
            .filter(|(n, _)| n == "set-cookie")
            .filter_map(|(_, v)| set_cookie_pair(v));
        self.redirects
            .iter()
            .flat_map(|hop| hop.set_cookies.iter().cloned())
            .chain(own)
            .collect()
    }

    /// The `Location` header resolved against the URL that answered.
    pub fn location(&self) -> Option<String> {
        let loc = self.header("location")?;
        Url::parse(&self.url)
            .ok()
            .and_then(|base| base.join(loc).ok())
            .map(|u| u.to_string())
            .or_else(|| Some(loc.to_owned()))
    }

    /// The body as text (lossy for invalid UTF-8).
    pub fn text(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.body)
    }
}

/// The name and value of a `Set-Cookie` header, without its attributes.
fn set_cookie_pair(header: &str) -> Option<(String, String)> {
    let pair = header.split(';').next()?;
    let (name, value) = pair.split_once('=')?;
    Some((name.trim().to_owned(), value.trim().to_owned()))
}

/// Why a request produced no response.
#[derive(Debug, Clone, thiserror::Error)]
pub enum HttpError {
    #[error("invalid request: {0}")]
    InvalidRequest(String),
    #[error("timed out after {0:?}")]
    Timeout(Duration),
    /// The deadline passed while the body was still coming (a server that trickles it).
    #[error("timed out after {after:?} while reading the body ({received} bytes received)")]
    BodyTimeout { after: Duration, received: u64 },
    /// The response head is past hyper's limits (100 header lines, about 400 KB).
    #[error("the response headers are too large: more than 100 header lines or about 400 KB")]
    HeadersTooLarge,
    #[error("could not connect to {url}: {reason}")]
    Connect { url: String, reason: String },
    /// The host name did not resolve to an address.
    #[error("cannot resolve the host name `{host}`: {reason}")]
    Dns { host: String, reason: String },
    /// The server's TLS certificate was refused (or the handshake failed).
    #[error("TLS handshake with {url} failed: {reason}")]
    Tls { url: String, reason: String },
    #[error("response body larger than the limit of {limit} bytes (set `defaults.max_body_size` to raise it)")]
    BodyTooLarge { limit: u64 },
    #[error("too many redirects: more than {max} (last: {last})")]
    TooManyRedirects { max: u32, last: String },
    #[error("{0}")]
    Transport(String),
}

/// Checks that `pem` (the contents of a `--cacert` file) holds at least one certificate.
/// Without this, a file of anything else would add no certificate, silently, and the
/// server's certificate would be refused later with no word about the file.
pub fn check_ca_pem(pem: &[u8]) -> Result<(), String> {
    match reqwest::Certificate::from_pem_bundle(pem) {
        Ok(certs) if !certs.is_empty() => Ok(()),
        Ok(_) => Err("it holds no certificate (PEM, `-----BEGIN CERTIFICATE-----`)".into()),
        Err(e) => Err(format!(
            "it is not a PEM certificate file: {}",
            error_chain(&e)
        )),
    }
}

/// A client for one scenario run.
pub struct HttpClient {
    client: reqwest::Client,
    jar: Arc<Jar>,
}

impl HttpClient {
    pub fn new(config: &HttpConfig) -> Result<HttpClient, HttpError> {
        install_crypto_provider();
        let mut builder = reqwest::Client::builder()
            .dns_resolver(Arc::new(Resolver))
            .redirect(reqwest::redirect::Policy::none())
            .connect_timeout(CONNECT_TIMEOUT)
            .tcp_nodelay(true)
            .user_agent(concat!("stepwise/", env!("CARGO_PKG_VERSION")));
        if config.insecure {
            builder = builder.tls_danger_accept_invalid_certs(true);
        } else {
            builder = builder.tls_backend_preconfigured(verifying_tls(&config.ca_certs)?);
        }
        let client = builder
            .build()
            .map_err(|e| HttpError::Transport(format!("cannot build the HTTP client: {e}")))?;
        Ok(HttpClient {
            client,
            jar: Arc::new(Jar::default()),
        })
    }

    /// Cookies the jar holds for a URL.
    pub fn cookies_for(&self, url: &Url) -> Vec<(String, String)> {
        parse_cookie_header(self.jar.cookies(url))
    }

    /// Sends a request, following redirects when asked, and reads the whole body.
    pub async fn send(&self, request: &PreparedRequest) -> Result<Response, HttpError> {
        let started = Instant::now();
        let deadline = request.timeout;
        // How much of a body had come when the deadline passed (-1: none was being read), so
        // that a body trickling in is told apart from a server that never answers.
        let body = AtomicI64::new(-1);
        match tokio::time::timeout(deadline, self.send_inner(request, started, &body)).await {
            Ok(result) => result,
            Err(_) => Err(match u64::try_from(body.load(Ordering::Relaxed)) {
                Ok(received) => HttpError::BodyTimeout {
                    after: deadline,
                    received,
                },
                Err(_) => HttpError::Timeout(deadline),
            }),
        }
    }

    async fn send_inner(
        &self,
        request: &PreparedRequest,
        started: Instant,
        progress: &AtomicI64,
    ) -> Result<Response, HttpError> {
        let mut method = request.method.clone();
        let mut url = request.url.clone();
        let mut body = request.body.clone();
        let mut headers = request.headers.clone();
        let mut redirects = Vec::new();
        loop {
            let (response, sent) = self
                .send_once(&method, &url, &headers, body.as_ref(), request)
                .await?;
            let status = response.status().as_u16();
            let is_redirect = matches!(status, 301 | 302 | 303 | 307 | 308);
            // Browsers read a `Location` that is not ASCII as UTF-8 (and `join` percent-encodes
            // it); skipping it would silently hand back the redirect instead of following it.
            let location = response
                .headers()
                .get(reqwest::header::LOCATION)
                .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned());
            if request.follow_redirects && is_redirect {
                if let Some(location) = location {
                    let next = url.join(&location).map_err(|e| {
                        HttpError::Transport(format!("bad Location header `{location}`: {e}"))
                    })?;
                    let set_cookies = response
                        .headers()
                        .get_all(reqwest::header::SET_COOKIE)
                        .iter()
                        .filter_map(|v| set_cookie_pair(&String::from_utf8_lossy(v.as_bytes())))
                        .collect();
                    // Drain the body so the connection can be reused.
                    let _ = read_body(response, request, progress).await;
                    progress.store(-1, Ordering::Relaxed);
                    redirects.push(Hop {
                        status,
                        url: url.to_string(),
                        location: location.clone(),
                        set_cookies,
                    });
                    if redirects.len() as u32 > request.max_redirects {
                        return Err(HttpError::TooManyRedirects {
                            max: request.max_redirects,
                            last: next.to_string(),
                        });
                    }
                    let to_get = status == 303 && method != Method::HEAD
                        || (matches!(status, 301 | 302) && method == Method::POST);
                    if to_get {
                        method = Method::GET;
                        body = None;
                        headers.retain(|(n, _)| {
                            !n.eq_ignore_ascii_case("content-type")
                                && !n.eq_ignore_ascii_case("content-length")
                        });
                    }
                    // Credentials the scenario set itself stay with the host they were meant for
                    // (as reqwest and curl do); the jar picks the cookies of the next host.
                    if next.host_str() != url.host_str()
                        || next.port_or_known_default() != url.port_or_known_default()
                    {
                        headers.retain(|(n, _)| {
                            !["authorization", "proxy-authorization", "cookie"]
                                .iter()
                                .any(|c| n.eq_ignore_ascii_case(c))
                        });
                    }
                    url = next;
                    continue;
                }
            }
            let version = format!("{:?}", response.version());
            let response_headers: Vec<(String, String)> = response
                .headers()
                .iter()
                .map(|(n, v)| {
                    (
                        n.as_str().to_owned(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect();
            let body = read_body(response, request, progress).await?;
            let jar_cookies = parse_cookie_header(self.jar.cookies(&url));
            return Ok(Response {
                status,
                version,
                headers: response_headers,
                body,
                url: url.to_string(),
                duration: started.elapsed(),
                redirects,
                jar_cookies,
                sent,
            });
        }
    }

    async fn send_once(
        &self,
        method: &Method,
        url: &Url,
        headers: &[(String, String)],
        body: Option<&PreparedBody>,
        request: &PreparedRequest,
    ) -> Result<(reqwest::Response, SentRequest), HttpError> {
        let mut map = HeaderMap::new();
        for (name, value) in headers {
            let n = HeaderName::from_bytes(name.as_bytes())
                .map_err(|_| HttpError::InvalidRequest(format!("invalid header name `{name}`")))?;
            let v = HeaderValue::from_str(value).map_err(|_| {
                HttpError::InvalidRequest(format!("invalid value for header `{name}`"))
            })?;
            map.append(n, v);
        }
        if !map.contains_key(reqwest::header::COOKIE) {
            if let Some(cookies) = self.jar.cookies(url) {
                map.insert(reqwest::header::COOKIE, cookies);
            }
        }
        let mut builder = self
            .client
            .request(method.clone(), url.clone())
            .timeout(request.timeout);
        let mut sent_body = None;
        match body {
            Some(PreparedBody::Bytes { data, content_type }) => {
                if let Some(ct) = content_type {
                    if !map.contains_key(reqwest::header::CONTENT_TYPE) {
                        if let Ok(v) = HeaderValue::from_str(ct) {
                            map.insert(reqwest::header::CONTENT_TYPE, v);
                        }
                    }
                }
                sent_body = Some(data.clone());
                builder = builder.body(data.clone());
            }
            Some(PreparedBody::Multipart(parts)) => {
                let mut form = reqwest::multipart::Form::new();
                let mut summary = Vec::new();
                for part in parts {
                    let mut p = reqwest::multipart::Part::bytes(part.data.clone());
                    if let Some(f) = &part.filename {
                        p = p.file_name(f.clone());
                    }
                    if let Some(ct) = &part.content_type {
                        p = p.mime_str(ct).map_err(|e| {
                            HttpError::InvalidRequest(format!("bad content type `{ct}`: {e}"))
                        })?;
                    }
                    summary.extend_from_slice(
                        format!(
                            "--part {}{}: {} bytes\n",
                            part.name,
                            part.filename
                                .as_ref()
                                .map(|f| format!(" (file {f})"))
                                .unwrap_or_default(),
                            part.data.len()
                        )
                        .as_bytes(),
                    );
                    form = form.part(part.name.clone(), p);
                }
                if let Ok(v) = HeaderValue::from_str(&format!(
                    "multipart/form-data; boundary={}",
                    form.boundary()
                )) {
                    map.insert(reqwest::header::CONTENT_TYPE, v);
                }
                sent_body = Some(summary);
                builder = builder.multipart(form);
            }
            None => {}
        }
        let sent = SentRequest {
            method: method.to_string(),
            url: url.to_string(),
            headers: map
                .iter()
                .map(|(n, v)| {
                    (
                        n.as_str().to_owned(),
                        String::from_utf8_lossy(v.as_bytes()).into_owned(),
                    )
                })
                .collect(),
            body: sent_body,
        };
        let response = builder
            .headers(map)
            .send()
            .await
            .map_err(|e| classify(e, url, request.timeout))?;
        let mut set_cookies = response
            .headers()
            .get_all(reqwest::header::SET_COOKIE)
            .iter();
        self.jar.set_cookies(&mut set_cookies, url);
        Ok((response, sent))
    }
}

/// Reads a whole body, within `max_body_size`, keeping `progress` at the bytes read so far.
async fn read_body(
    mut response: reqwest::Response,
    request: &PreparedRequest,
    progress: &AtomicI64,
) -> Result<Vec<u8>, HttpError> {
    let limit = request.max_body_size;
    progress.store(0, Ordering::Relaxed);
    if let Some(len) = response.content_length() {
        if len > limit {
            return Err(HttpError::BodyTooLarge { limit });
        }
    }
    let mut body = Vec::with_capacity(response.content_length().unwrap_or(0).min(1 << 20) as usize);
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() as u64 + chunk.len() as u64 > limit {
                    return Err(HttpError::BodyTooLarge { limit });
                }
                body.extend_from_slice(&chunk);
                progress.store(body.len() as i64, Ordering::Relaxed);
            }
            Ok(None) => return Ok(body),
            Err(e) if e.is_timeout() => {
                return Err(HttpError::BodyTimeout {
                    after: request.timeout,
                    received: body.len() as u64,
                })
            }
            Err(e) => {
                return Err(HttpError::Transport(format!(
                    "the connection failed while reading the body after {} bytes: {}",
                    body.len(),
                    error_chain(&e)
                )))
            }
        }
    }
}

/// The TLS configuration of a client that verifies certificates: the system's roots plus
/// `ca_certs`, what reqwest builds by itself (rustls-platform-verifier, TLS 1.2 and 1.3, ALPN
/// `h2` then `http/1.1`).
///
/// Built once per process and set of CA files, then copied into each scenario's client:
/// making the verifier loads and parses every root certificate of the system
/// (`/etc/ssl/certs`), which was most of a small scenario's time (docs/performance.md); it is
/// now made at the first TLS handshake ([`LazyVerifier`]). Each client still gets its own
/// connection pool, cookie jar and TLS session cache, as before.
fn verifying_tls(ca_certs: &[Vec<u8>]) -> Result<rustls::ClientConfig, HttpError> {
    type Cache = Vec<(Vec<Vec<u8>>, Arc<rustls::ClientConfig>)>;
    static CACHE: std::sync::OnceLock<std::sync::Mutex<Cache>> = std::sync::OnceLock::new();
    let mut cache = CACHE
        .get_or_init(Default::default)
        .lock()
        .unwrap_or_else(|e| e.into_inner());
    let shared = match cache.iter().find(|(key, _)| key.as_slice() == ca_certs) {
        Some((_, config)) => config.clone(),
        None => {
            let config = Arc::new(build_verifying_tls(ca_certs)?);
            cache.push((ca_certs.to_vec(), config.clone()));
            config
        }
    };
    let mut config = (*shared).clone();
    // Sessions stay with the scenario that opened them, as with a client of its own.
    config.resumption = rustls::client::Resumption::default();
    Ok(config)
}

fn build_verifying_tls(ca_certs: &[Vec<u8>]) -> Result<rustls::ClientConfig, HttpError> {
    use rustls::pki_types::pem::PemObject;
    let failed = |e: &dyn std::fmt::Display| {
        HttpError::Transport(format!("cannot build the HTTP client: {e}"))
    };
    let provider = rustls::crypto::CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()));
    let mut extra = Vec::new();
    for pem in ca_certs {
        for cert in rustls::pki_types::CertificateDer::pem_slice_iter(pem) {
            extra.push(cert.map_err(|e| failed(&format!("bad CA certificate: {e}")))?);
        }
    }
    let verifier = LazyVerifier {
        provider: provider.clone(),
        extra,
        verifier: std::sync::OnceLock::new(),
    };
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_protocol_versions(rustls::ALL_VERSIONS)
        .map_err(|e| failed(&e))?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(config)
}

/// The platform verifier (the system's roots plus `--cacert`), made at the first TLS
/// handshake rather than with the client.
///
/// Why: making it reads and parses every root certificate of the system, some 18 million
/// instructions (callgrind; 28 % of a 50-scenario suite's), and a run whose URLs are all
/// `http://` — the sandbox, a local server — never needs it. The `--cacert` files are still
/// parsed up front, so a bad one is reported before anything is sent.
#[derive(Debug)]
struct LazyVerifier {
    provider: Arc<rustls::crypto::CryptoProvider>,
    extra: Vec<rustls::pki_types::CertificateDer<'static>>,
    verifier: std::sync::OnceLock<Result<rustls_platform_verifier::Verifier, String>>,
}

impl LazyVerifier {
    fn get(&self) -> Result<&rustls_platform_verifier::Verifier, rustls::Error> {
        let made = self.verifier.get_or_init(|| {
            let provider = self.provider.clone();
            if self.extra.is_empty() {
                rustls_platform_verifier::Verifier::new(provider)
            } else {
                rustls_platform_verifier::Verifier::new_with_extra_roots(
                    self.extra.clone(),
                    provider,
                )
            }
            .map_err(|e| e.to_string())
        });
        made.as_ref().map_err(|e| {
            rustls::Error::General(format!("cannot load the trusted root certificates: {e}"))
        })
    }
}

impl rustls::client::danger::ServerCertVerifier for LazyVerifier {
    fn verify_server_cert(
        &self,
        end_entity: &rustls::pki_types::CertificateDer<'_>,
        intermediates: &[rustls::pki_types::CertificateDer<'_>],
        server_name: &rustls::pki_types::ServerName<'_>,
        ocsp_response: &[u8],
        now: rustls::pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        self.get()?
            .verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now)
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.get()?.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &rustls::pki_types::CertificateDer<'_>,
        dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        self.get()?.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        // What the platform verifier answers on Linux, without making it.
        self.provider
            .signature_verification_algorithms
            .supported_schemes()
    }
}

/// How long a TCP (and TLS) connection may take to open, within the request's timeout.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

fn classify(e: reqwest::Error, url: &Url, timeout: Duration) -> HttpError {
    if e.is_timeout() && e.is_connect() && timeout > CONNECT_TIMEOUT {
        // The connect timeout, not the request's: saying "timed out after 30s" ten seconds
        // in would be wrong.
        HttpError::Connect {
            url: url.to_string(),
            reason: if url.scheme() == "https" {
                format!("no TLS connection within {CONNECT_TIMEOUT:?} (a server that does not speak TLS on this port, a firewall that drops packets, or a host that is down?)")
            } else {
                format!("no connection within {CONNECT_TIMEOUT:?} (a firewall that drops packets, or a host that is down?)")
            },
        }
    } else if e.is_timeout() {
        HttpError::Timeout(timeout)
    } else if e.is_dns() {
        HttpError::Dns {
            host: url.host_str().unwrap_or_default().to_owned(),
            reason: dns_reason(&e),
        }
    } else if let Some(reason) = tls_reason(&e, url) {
        HttpError::Tls {
            url: url.to_string(),
            reason,
        }
    } else if causes(&e).any(|c| c.to_string() == "message head is too large") {
        // hyper's words (its error type is not ours to name); both of its head limits.
        HttpError::HeadersTooLarge
    } else if e.is_connect() {
        HttpError::Connect {
            url: url.to_string(),
            reason: error_chain(&e),
        }
    } else if e.is_builder() {
        HttpError::InvalidRequest(error_chain(&e))
    } else {
        HttpError::Transport(error_chain(&e))
    }
}

/// Resolves host names for the client: the system resolver (getaddrinfo, as reqwest's default
/// does), except for names under `.invalid`, which fail at once. RFC 6761 (section 6.4) asks
/// resolver libraries to answer those themselves; the system's would send the query to the
/// network's DNS server, and a test that wants "a name that does not resolve" must not wait
/// on, or send traffic to, anything.
struct Resolver;

/// Why a name under `.invalid` did not resolve.
#[derive(Debug)]
struct ReservedName(String);

impl std::fmt::Display for ReservedName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`{}` is under `.invalid`, a top-level domain reserved never to resolve (RFC 6761)",
            self.0
        )
    }
}

impl std::error::Error for ReservedName {}

impl reqwest::dns::Resolve for Resolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let bare = host.trim_end_matches('.').to_ascii_lowercase();
            if bare == "invalid" || bare.ends_with(".invalid") {
                return Err(Box::new(ReservedName(host)) as Box<_>);
            }
            let addrs: Vec<std::net::SocketAddr> =
                tokio::net::lookup_host((host.as_str(), 0)).await?.collect();
            Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
        })
    }
}

/// The resolver's own words, without reqwest's "error sending request for url (...)" and
/// hyper's "client error (Connect)" around them.
fn dns_reason(e: &reqwest::Error) -> String {
    causes(e)
        .last()
        .map(|s| s.to_string())
        .filter(|t| !t.is_empty())
        .unwrap_or_else(|| error_chain(e))
}

/// An error and its causes, outermost first. An `io::Error` that wraps another error is
/// followed into it: its own `source()` skips the wrapped error (hyper-rustls wraps
/// tokio-rustls' io::Error, which wraps rustls' error, in another io::Error).
fn causes<'a>(
    e: &'a (dyn std::error::Error + 'static),
) -> impl Iterator<Item = &'a (dyn std::error::Error + 'static)> {
    std::iter::successors(Some(e), |e| match e.downcast_ref::<std::io::Error>() {
        Some(io) => io
            .get_ref()
            .map(|inner| inner as &(dyn std::error::Error + 'static)),
        None => e.source(),
    })
}

/// When the error is a refused certificate (or another TLS failure), what is wrong with it,
/// in words, and how to get past it.
fn tls_reason(e: &reqwest::Error, url: &Url) -> Option<String> {
    use rustls::CertificateError as C;
    let tls = causes(e).find_map(|c| c.downcast_ref::<rustls::Error>())?;
    let host = url.host_str().unwrap_or_default();
    let insecure = "or skip verification with `--insecure`";
    Some(match tls {
        rustls::Error::InvalidCertificate(cert) => {
            // rustls' own words come along: they name the names and dates involved.
            let detail = tls.to_string();
            let detail = detail
                .strip_prefix("invalid peer certificate: ")
                .unwrap_or(&detail);
            match cert {
                C::UnknownIssuer => format!("the server's certificate is not signed by a trusted certificate authority (self-signed, or from a private CA); trust its CA with `--cacert FILE`, {insecure}"),
                C::NotValidForName | C::NotValidForNameContext { .. } => format!(
                    "the server's certificate is not valid for the name `{host}` ({detail}); use a name it is valid for, {insecure}"
                ),
                C::Expired | C::ExpiredContext { .. } => format!(
                    "the server's certificate has expired ({detail}); renew it (or check this machine's clock), {insecure}"
                ),
                C::NotValidYet | C::NotValidYetContext { .. } => format!(
                    "the server's certificate is not valid yet ({detail}); check this machine's clock, {insecure}"
                ),
                _ => format!("the server's certificate was refused ({detail}); {insecure}"),
            }
        }
        other => other.to_string(),
    })
}

/// The error and its causes, joined — reqwest's top-level message alone says little.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let s_text = s.to_string();
        if !text.contains(&s_text) {
            text.push_str(": ");
            text.push_str(&s_text);
        }
        source = s.source();
    }
    text
}

fn parse_cookie_header(value: Option<HeaderValue>) -> Vec<(String, String)> {
    let Some(value) = value else {
        return Vec::new();
    };
    let text = String::from_utf8_lossy(value.as_bytes()).into_owned();
    text.split(';')
        .filter_map(|pair| {
            let (n, v) = pair.split_once('=')?;
            Some((n.trim().to_owned(), v.trim().to_owned()))
        })
        .collect()
}

fn install_crypto_provider() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // Another part of the program may have installed one already; either is fine.
        let _ = rustls::crypto::ring::default_provider().install_default();
    });
}
