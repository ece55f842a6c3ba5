//! Integration tests of the PingOne sandbox: plain HTTP against `RunningSandbox` on
//! `127.0.0.1:0`, checking the documented shapes directly (status codes, headers, P1Error and
//! OAuth error bodies, every flow transition and token-poll outcome).

#![expect(
    clippy::expect_used,
    reason = "a test should stop at the first broken expectation"
)]

use std::sync::Arc;
use std::time::Duration;

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use reqwest::header::HeaderMap;
use reqwest::{Client, RequestBuilder};
use serde_json::{json, Value};
use stepwise::sandbox::pingone::{RunningSandbox, SandboxConfig, TestClock};

const DEVICE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
const PASSWORD: &str = "2FederateM0re!";

// ---------------------------------------------------------------- harness

/// reqwest is built with `rustls-no-provider`: a crypto provider must be installed before a
/// client is built, even for plain HTTP.
fn install_crypto_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// A client without cookie jar.
fn bare_client() -> Client {
    install_crypto_provider();
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .expect("reqwest client")
}

fn http_client() -> Client {
    install_crypto_provider();
    Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .cookie_store(true)
        .build()
        .expect("reqwest client")
}

struct Ctx {
    sb: RunningSandbox,
    http: Client,
    clock: TestClock,
}

async fn start() -> Ctx {
    start_with(|_| {}).await
}

async fn start_with(f: impl FnOnce(&mut SandboxConfig)) -> Ctx {
    let clock = TestClock::new();
    let mut config = SandboxConfig {
        clock: Arc::new(clock.clone()),
        ..SandboxConfig::default()
    };
    f(&mut config);
    let sb = RunningSandbox::start(config).await.expect("sandbox starts");
    Ctx {
        sb,
        http: http_client(),
        clock,
    }
}

#[derive(Debug)]
struct Res {
    status: u16,
    headers: HeaderMap,
    body: Value,
}

impl Res {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
    fn correlation_id(&self) -> &str {
        self.header("correlation-id").expect("Correlation-Id")
    }
}

/// Sends a request and checks the `Correlation-Id` header every response must carry.
async fn send(rb: RequestBuilder) -> Res {
    let res = rb.send().await.expect("request sent");
    let status = res.status().as_u16();
    let headers = res.headers().clone();
    let bytes = res.bytes().await.expect("body");
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or(Value::String(String::from_utf8_lossy(&bytes).into()))
    };
    let cid = headers
        .get("correlation-id")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_else(|| panic!("no Correlation-Id on {status} response: {body}"));
    uuid::Uuid::parse_str(cid).expect("Correlation-Id is a UUID");
    Res {
        status,
        headers,
        body,
    }
}

fn assert_p1(res: &Res, status: u16, code: &str) {
    assert_eq!(res.status, status, "{}", res.body);
    assert_eq!(res.body["code"], code, "{}", res.body);
    assert!(res.body["message"].as_str().is_some_and(|m| !m.is_empty()));
    let id = res.body["id"].as_str().expect("P1Error id");
    uuid::Uuid::parse_str(id).expect("P1Error id is a UUID");
    assert!(res.header("content-type").unwrap_or("").contains("json"));
}

fn detail<'a>(res: &'a Res, code: &str, target: &str) -> &'a Value {
    res.body["details"]
        .as_array()
        .and_then(|d| {
            d.iter()
                .find(|x| x["code"] == code && x["target"] == target)
        })
        .unwrap_or_else(|| panic!("no detail {code}/{target} in {}", res.body))
}

fn assert_oauth(res: &Res, status: u16, error: &str) {
    assert_eq!(res.status, status, "{}", res.body);
    assert_eq!(res.body["error"], error, "{}", res.body);
    let desc = res.body["error_description"]
        .as_str()
        .expect("error_description");
    let suffix = format!(" (Correlation ID: {})", res.correlation_id());
    assert!(desc.ends_with(&suffix), "{desc}");
    assert_eq!(res.header("cache-control"), Some("no-store"));
    assert_eq!(res.header("pragma"), Some("no-cache"));
}

fn is_timestamp(v: &Value) -> bool {
    let re = regex::Regex::new(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$").expect("regex");
    v.as_str().is_some_and(|s| re.is_match(s))
}

fn basic(id: &str, secret: &str) -> String {
    format!("Basic {}", STANDARD.encode(format!("{id}:{secret}")))
}

impl Ctx {
    fn env(&self) -> String {
        self.sb.config().env_id.clone()
    }
    fn api(&self, path: &str) -> String {
        format!("{}/environments/{}{path}", self.sb.api_path(), self.env())
    }
    fn auth(&self, path: &str) -> String {
        format!("{}/{}{path}", self.sb.auth_path(), self.env())
    }

    async fn worker_token(&self) -> String {
        let cfg = self.sb.config();
        let res = send(
            self.http
                .post(format!(
                    "{}/{}/as/token",
                    self.sb.auth_path(),
                    cfg.admin_env_id
                ))
                .header(
                    "authorization",
                    basic(&cfg.worker_client_id, &cfg.worker_client_secret),
                )
                .form(&[("grant_type", "client_credentials")]),
        )
        .await;
        assert_eq!(res.status, 200, "{}", res.body);
        res.body["access_token"].as_str().expect("token").to_owned()
    }

    async fn post_json(&self, token: &str, path: &str, body: Value) -> Res {
        send(
            self.http
                .post(self.api(path))
                .bearer_auth(token)
                .header("content-type", "application/json")
                .body(body.to_string()),
        )
        .await
    }

    async fn get(&self, token: &str, path: &str) -> Res {
        send(self.http.get(self.api(path)).bearer_auth(token)).await
    }

    async fn create_app(&self, token: &str, extra: Value) -> Res {
        let mut body = json!({
            "enabled": true,
            "name": format!("Device-App{}", uuid::Uuid::new_v4()),
            "description": "App for Device Auth Grant",
            "type": "CUSTOM_APP",
            "protocol": "OPENID_CONNECT",
            "grantTypes": ["DEVICE_CODE", "REFRESH_TOKEN"],
            "deviceTimeout": 600,
            "devicePollingInterval": 5,
            "tokenEndpointAuthMethod": "NONE",
        });
        if let (Some(b), Some(e)) = (body.as_object_mut(), extra.as_object()) {
            for (k, v) in e {
                if v.is_null() {
                    b.remove(k);
                } else {
                    b.insert(k.clone(), v.clone());
                }
            }
        }
        self.post_json(token, "/applications", body).await
    }

    async fn device_app(&self, token: &str, extra: Value) -> String {
        let res = self.create_app(token, extra).await;
        assert_eq!(res.status, 201, "{}", res.body);
        res.body["id"].as_str().expect("app id").to_owned()
    }

    /// Population + user + password; returns (user id, username).
    async fn user(&self, token: &str, force_change: bool) -> (String, String) {
        let tag = uuid::Uuid::new_v4().simple().to_string();
        let pop = self
            .post_json(
                token,
                "/populations",
                json!({ "name": format!("deviceAuthPopulation_{tag}") }),
            )
            .await;
        assert_eq!(pop.status, 201, "{}", pop.body);
        let username = format!("deviceuser_{tag}");
        let user = self
            .post_json(
                token,
                "/users",
                json!({
                    "email": format!("{username}@example.com"),
                    "name": { "given": "Dee", "family": "Vice" },
                    "population": { "id": pop.body["id"] },
                    "username": username,
                }),
            )
            .await;
        assert_eq!(user.status, 201, "{}", user.body);
        let id = user.body["id"].as_str().expect("user id").to_owned();
        let pw = self
            .set_password(
                token,
                &id,
                json!({ "value": PASSWORD, "forceChange": force_change }),
            )
            .await;
        assert_eq!(pw.status, 200, "{}", pw.body);
        (id, username)
    }

    async fn set_password(&self, token: &str, user_id: &str, body: Value) -> Res {
        send(
            self.http
                .put(self.api(&format!("/users/{user_id}/password")))
                .bearer_auth(token)
                .header(
                    "content-type",
                    "application/vnd.pingidentity.password.set+json",
                )
                .body(body.to_string()),
        )
        .await
    }

    async fn device_authorization(&self, client_id: &str) -> Res {
        send(
            self.http
                .post(self.auth("/as/device_authorization"))
                .form(&[("client_id", client_id), ("scope", "openid")]),
        )
        .await
    }

    async fn poll(&self, client_id: &str, device_code: &str) -> Res {
        send(self.http.post(self.auth("/as/token")).form(&[
            ("grant_type", DEVICE_GRANT),
            ("device_code", device_code),
            ("client_id", client_id),
        ]))
        .await
    }
}

/// Starts a flow with `http` (cookie jar) and returns its id.
async fn start_flow(ctx: &Ctx, http: &Client, path: &str) -> String {
    let res = send(http.get(ctx.auth(path))).await;
    assert_eq!(res.status, 302, "{}", res.body);
    let location = res.header("location").expect("Location").to_owned();
    let prefix = format!("{}/{}/signon/?flowId=", ctx.sb.base_url(), ctx.env());
    assert!(location.starts_with(&prefix), "{location}");
    location[prefix.len()..].to_owned()
}

async fn flow_get(ctx: &Ctx, http: &Client, flow: &str) -> Res {
    send(http.get(ctx.auth(&format!("/flows/{flow}")))).await
}

async fn flow_post(ctx: &Ctx, http: &Client, flow: &str, action: &str, body: &str) -> Res {
    send(
        http.post(ctx.auth(&format!("/flows/{flow}")))
            .header(
                "content-type",
                format!("application/vnd.pingidentity.{action}+json"),
            )
            .body(body.to_owned()),
    )
    .await
}

const LOGIN: &str = "usernamePassword.check";
const VERIFY: &str = "deviceAuthGrant.userCode.verify";
const CONSENT: &str = "deviceAuthGrant.consent";

/// Runs steps 0–10 for a fresh app and user; returns (app id, device code) with the flow at
/// `DAG_CONSENT_REQUIRED` or finished per `accept`.
async fn authorize_device(ctx: &Ctx, accept: Option<bool>) -> (String, String) {
    let token = ctx.worker_token().await;
    let app = ctx.device_app(&token, json!({})).await;
    let (_, username) = ctx.user(&token, false).await;
    let da = ctx.device_authorization(&app).await;
    assert_eq!(da.status, 200, "{}", da.body);
    let http = http_client();
    let flow = start_flow(ctx, &http, "/device").await;
    let login = json!({ "username": username, "password": PASSWORD }).to_string();
    assert_eq!(
        flow_post(ctx, &http, &flow, LOGIN, &login).await.status,
        200
    );
    let code = json!({ "userCode": da.body["user_code"] }).to_string();
    assert_eq!(
        flow_post(ctx, &http, &flow, VERIFY, &code).await.status,
        200
    );
    if let Some(accept) = accept {
        let res = flow_post(
            ctx,
            &http,
            &flow,
            CONSENT,
            &json!({ "accept": accept }).to_string(),
        )
        .await;
        assert_eq!(res.status, 200, "{}", res.body);
    }
    (
        app,
        da.body["device_code"]
            .as_str()
            .expect("device_code")
            .to_owned(),
    )
}

// ---------------------------------------------------------------- worker token and bearer

#[tokio::test]
async fn worker_token_with_basic_and_post_auth() {
    let ctx = start().await;
    let cfg = ctx.sb.config().clone();
    let url = format!("{}/{}/as/token", ctx.sb.auth_path(), cfg.admin_env_id);

    let res = send(
        ctx.http
            .post(&url)
            .header(
                "authorization",
                basic(&cfg.worker_client_id, &cfg.worker_client_secret),
            )
            .form(&[("grant_type", "client_credentials")]),
    )
    .await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["token_type"], "Bearer");
    assert_eq!(res.body["expires_in"], 3600);
    assert!(res.body["access_token"]
        .as_str()
        .is_some_and(|t| t.split('.').count() == 3));
    assert_eq!(res.header("cache-control"), Some("no-store"));
    assert_eq!(res.header("pragma"), Some("no-cache"));
    assert!(res
        .header("content-type")
        .unwrap_or("")
        .starts_with("application/json"));

    let res = send(ctx.http.post(&url).form(&[
        ("grant_type", "client_credentials"),
        ("client_id", cfg.worker_client_id.as_str()),
        ("client_secret", cfg.worker_client_secret.as_str()),
    ]))
    .await;
    assert_eq!(res.status, 200, "{}", res.body);

    let res = send(
        ctx.http
            .post(&url)
            .header("authorization", basic(&cfg.worker_client_id, "wrong"))
            .form(&[("grant_type", "client_credentials")]),
    )
    .await;
    assert_oauth(&res, 401, "invalid_client");
    assert!(res.body["error_description"]
        .as_str()
        .is_some_and(|d| d
            .starts_with("Request denied: Unsupported authentication method (Correlation ID: ")));

    let res = send(
        ctx.http
            .post(&url)
            .header(
                "authorization",
                basic("someone-else", &cfg.worker_client_secret),
            )
            .form(&[("grant_type", "client_credentials")]),
    )
    .await;
    assert_oauth(&res, 401, "invalid_client");

    let res = send(
        ctx.http
            .post(&url)
            .header(
                "authorization",
                basic(&cfg.worker_client_id, &cfg.worker_client_secret),
            )
            .form(&[("scope", "openid")]),
    )
    .await;
    assert_oauth(&res, 400, "invalid_request");

    let res = send(
        ctx.http
            .post(&url)
            .header(
                "authorization",
                basic(&cfg.worker_client_id, &cfg.worker_client_secret),
            )
            .form(&[("grant_type", "password")]),
    )
    .await;
    assert_oauth(&res, 400, "unsupported_grant_type");

    let res = send(
        ctx.http
            .post(&url)
            .header(
                "authorization",
                basic(&cfg.worker_client_id, &cfg.worker_client_secret),
            )
            .header("content-type", "application/json")
            .body(r#"{"grant_type":"client_credentials"}"#),
    )
    .await;
    assert_oauth(&res, 400, "invalid_request");

    let res = send(
        ctx.http
            .post(format!(
                "{}/{}/as/token",
                ctx.sb.auth_path(),
                uuid::Uuid::new_v4()
            ))
            .form(&[("grant_type", "client_credentials")]),
    )
    .await;
    assert_p1(&res, 404, "NOT_FOUND");
}

#[tokio::test]
async fn management_bearer_checks() {
    let ctx = start().await;
    let path = "/populations";
    let body = json!({ "name": "p" }).to_string();

    let res = send(
        ctx.http
            .post(ctx.api(path))
            .header("content-type", "application/json")
            .body(body.clone()),
    )
    .await;
    assert_p1(&res, 401, "ACCESS_FAILED");
    assert_eq!(res.body["details"][0]["code"], "INVALID_TOKEN");
    assert_eq!(
        res.body["details"][0]["message"],
        "The authorization token is either missing or invalid, or it has expired."
    );

    let res = ctx
        .post_json("not-a-token", path, json!({ "name": "p" }))
        .await;
    assert_p1(&res, 401, "ACCESS_FAILED");
    assert_eq!(res.body["details"][0]["code"], "INVALID_TOKEN");

    let token = ctx.worker_token().await;
    assert_eq!(
        ctx.post_json(&token, path, json!({ "name": "p1" }))
            .await
            .status,
        201
    );
    ctx.clock.advance(Duration::from_secs(3599));
    assert_eq!(
        ctx.post_json(&token, path, json!({ "name": "p2" }))
            .await
            .status,
        201
    );
    ctx.clock.advance(Duration::from_secs(2));
    let res = ctx.post_json(&token, path, json!({ "name": "p3" })).await;
    assert_p1(&res, 401, "ACCESS_FAILED");
    assert_eq!(res.body["details"][0]["code"], "INVALID_TOKEN");

    let token = ctx.worker_token().await;
    let res = send(
        ctx.http
            .get(format!(
                "{}/environments/{}/users/x",
                ctx.sb.api_path(),
                uuid::Uuid::new_v4()
            ))
            .bearer_auth(&token),
    )
    .await;
    assert_p1(&res, 404, "NOT_FOUND");
    let res = ctx
        .get(&token, &format!("/users/{}", uuid::Uuid::new_v4()))
        .await;
    assert_p1(&res, 404, "NOT_FOUND");
    let res = send(ctx.http.get(format!("{}/nowhere", ctx.sb.base_url()))).await;
    assert_eq!(res.status, 404);
}

// ---------------------------------------------------------------- applications

#[tokio::test]
async fn create_application_returns_201_location_and_defaults() {
    let ctx = start().await;
    let token = ctx.worker_token().await;
    let res = ctx
        .create_app(
            &token,
            json!({ "deviceTimeout": 600.9, "devicePollingInterval": null }),
        )
        .await;
    assert_eq!(res.status, 201, "{}", res.body);
    let b = &res.body;
    let id = b["id"].as_str().expect("id");
    uuid::Uuid::parse_str(id).expect("uuid id");
    let self_href = ctx.api(&format!("/applications/{id}"));
    assert_eq!(res.header("location"), Some(self_href.as_str()));
    assert_eq!(b["_links"]["self"]["href"], self_href);
    assert_eq!(
        b["_links"]["environment"]["href"],
        format!("{}/environments/{}", ctx.sb.api_path(), ctx.env())
    );
    assert_eq!(b["environment"]["id"], ctx.env());
    assert_eq!(b["deviceTimeout"], 600);
    assert_eq!(b["devicePollingInterval"], 5);
    assert_eq!(b["grantTypes"], json!(["DEVICE_CODE", "REFRESH_TOKEN"]));
    assert_eq!(b["tokenEndpointAuthMethod"], "NONE");
    assert_eq!(b["type"], "CUSTOM_APP");
    assert_eq!(b["enabled"], true);
    assert!(
        is_timestamp(&b["createdAt"]) && is_timestamp(&b["updatedAt"]),
        "{b}"
    );
    assert!(b["_links"].get("secret").is_none());
    assert!(res.header("content-type").unwrap_or("").contains("json"));

    let got = ctx.get(&token, &format!("/applications/{id}")).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body, res.body);
    let missing = ctx
        .get(&token, &format!("/applications/{}", uuid::Uuid::new_v4()))
        .await;
    assert_p1(&missing, 404, "NOT_FOUND");
}

#[tokio::test]
async fn application_validation_errors() {
    let ctx = start().await;
    let token = ctx.worker_token().await;

    let res = ctx.post_json(&token, "/applications", json!({})).await;
    assert_p1(&res, 400, "INVALID_DATA");
    for target in [
        "enabled",
        "name",
        "type",
        "protocol",
        "grantTypes",
        "tokenEndpointAuthMethod",
    ] {
        detail(&res, "REQUIRED_VALUE", target);
    }

    let res = ctx
        .create_app(
            &token,
            json!({
                "type": "TOASTER",
                "protocol": "CARRIER_PIGEON",
                "grantTypes": ["DEVICE_CODE", "TELEPATHY"],
                "tokenEndpointAuthMethod": "SHOUTING",
                "enabled": "yes",
                "deviceTimeout": 0,
                "devicePollingInterval": 61,
                "devicePathId": "not valid!",
            }),
        )
        .await;
    assert_p1(&res, 400, "INVALID_DATA");
    let d = detail(&res, "INVALID_VALUE", "type");
    assert!(d["innerError"]["allowedValues"]
        .as_array()
        .is_some_and(|a| a.contains(&json!("CUSTOM_APP"))));
    detail(&res, "INVALID_VALUE", "protocol");
    detail(&res, "INVALID_VALUE", "grantTypes");
    detail(&res, "INVALID_VALUE", "tokenEndpointAuthMethod");
    detail(&res, "INVALID_VALUE", "enabled");
    let d = detail(&res, "INVALID_VALUE", "deviceTimeout");
    assert_eq!(d["innerError"]["rangeMinimumValue"], 1);
    assert_eq!(d["innerError"]["rangeMaximumValue"], 3600);
    let d = detail(&res, "INVALID_VALUE", "devicePollingInterval");
    assert_eq!(d["innerError"]["rangeMaximumValue"], 60);
    let d = detail(&res, "INVALID_VALUE", "devicePathId");
    assert_eq!(d["innerError"]["allowedPattern"], "^[a-zA-Z0-9_-]{1,50}$");

    let res = ctx
        .create_app(&token, json!({ "deviceTimeout": 3601 }))
        .await;
    detail(&res, "INVALID_VALUE", "deviceTimeout");

    let first = ctx
        .create_app(&token, json!({ "name": "Same", "devicePathId": "go" }))
        .await;
    assert_eq!(first.status, 201, "{}", first.body);
    let dup = ctx
        .create_app(&token, json!({ "name": "Same", "devicePathId": "go" }))
        .await;
    assert_p1(&dup, 400, "INVALID_DATA");
    detail(&dup, "UNIQUENESS_VIOLATION", "name");
    detail(&dup, "UNIQUENESS_VIOLATION", "devicePathId");

    let res = send(
        ctx.http
            .post(ctx.api("/applications"))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body("{not json"),
    )
    .await;
    assert_p1(&res, 400, "INVALID_REQUEST");
}

// ---------------------------------------------------------------- populations and users

#[tokio::test]
async fn populations_and_users() {
    let ctx = start().await;
    let token = ctx.worker_token().await;

    let pop = ctx
        .post_json(
            &token,
            "/populations",
            json!({ "name": "devicePop", "description": "d" }),
        )
        .await;
    assert_eq!(pop.status, 201, "{}", pop.body);
    let pop_id = pop.body["id"].as_str().expect("pop id").to_owned();
    let href = ctx.api(&format!("/populations/{pop_id}"));
    assert_eq!(pop.header("location"), Some(href.as_str()));
    assert_eq!(pop.body["_links"]["self"]["href"], href);
    assert_eq!(pop.body["name"], "devicePop");
    assert_eq!(pop.body["environment"]["id"], ctx.env());
    assert!(is_timestamp(&pop.body["createdAt"]));
    assert_eq!(
        ctx.get(&token, &format!("/populations/{pop_id}"))
            .await
            .status,
        200
    );

    let dup = ctx
        .post_json(&token, "/populations", json!({ "name": "devicePop" }))
        .await;
    assert_p1(&dup, 400, "INVALID_DATA");
    detail(&dup, "UNIQUENESS_VIOLATION", "name");
    let missing = ctx
        .post_json(&token, "/populations", json!({ "description": "x" }))
        .await;
    assert_p1(&missing, 400, "INVALID_DATA");
    detail(&missing, "REQUIRED_VALUE", "name");

    let user = ctx
        .post_json(
            &token,
            "/users",
            json!({
                "email": "dee@example.com",
                "name": { "given": "Dee", "family": "Vice" },
                "population": { "id": pop_id },
                "username": "dee",
            }),
        )
        .await;
    assert_eq!(user.status, 201, "{}", user.body);
    let b = &user.body;
    let user_id = b["id"].as_str().expect("user id");
    let href = ctx.api(&format!("/users/{user_id}"));
    assert_eq!(user.header("location"), Some(href.as_str()));
    assert_eq!(b["_links"]["self"]["href"], href);
    for rel in [
        "password",
        "password.set",
        "password.reset",
        "password.check",
        "password.recover",
    ] {
        assert_eq!(
            b["_links"][rel]["href"],
            format!("{href}/password"),
            "{rel}"
        );
    }
    assert!(b["_links"]["account.sendVerificationCode"]["href"].is_string());
    assert!(b["_links"]["linkedAccounts"]["href"].is_string());
    assert_eq!(
        b["account"],
        json!({ "canAuthenticate": true, "status": "OK" })
    );
    assert_eq!(b["lifecycle"]["status"], "ACCOUNT_OK");
    assert_eq!(b["identityProvider"]["type"], "PING_ONE");
    assert_eq!(b["enabled"], true);
    assert_eq!(b["mfaEnabled"], false);
    assert_eq!(b["verifyStatus"], "NOT_INITIATED");
    assert_eq!(b["population"]["id"], pop_id);
    assert_eq!(b["name"]["given"], "Dee");
    assert_eq!(b["username"], "dee");
    assert_eq!(b["email"], "dee@example.com");
    let got = ctx.get(&token, &format!("/users/{user_id}")).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body["username"], "dee");

    let dup = ctx
        .post_json(
            &token,
            "/users",
            json!({ "email": "d2@example.com", "population": { "id": pop_id }, "username": "DEE" }),
        )
        .await;
    assert_p1(&dup, 400, "INVALID_DATA");
    detail(&dup, "UNIQUENESS_VIOLATION", "username");

    let bad_pop = ctx
        .post_json(
            &token,
            "/users",
            json!({ "email": "e@example.com", "population": { "id": uuid::Uuid::new_v4().to_string() }, "username": "e" }),
        )
        .await;
    assert_p1(&bad_pop, 400, "INVALID_DATA");
    detail(&bad_pop, "INVALID_VALUE", "population.id");

    let missing = ctx
        .post_json(&token, "/users", json!({ "population": { "id": pop_id } }))
        .await;
    assert_p1(&missing, 400, "INVALID_DATA");
    detail(&missing, "REQUIRED_VALUE", "username");
    detail(&missing, "REQUIRED_VALUE", "email");
}

#[tokio::test]
async fn password_set_and_policy() {
    let ctx = start().await;
    let token = ctx.worker_token().await;
    let pop = ctx
        .post_json(&token, "/populations", json!({ "name": "p" }))
        .await;
    let user = ctx
        .post_json(
            &token,
            "/users",
            json!({ "email": "a@example.com", "population": { "id": pop.body["id"] }, "username": "alice" }),
        )
        .await;
    let id = user.body["id"].as_str().expect("id").to_owned();
    let url = ctx.api(&format!("/users/{id}/password"));

    let res = send(
        ctx.http
            .put(&url)
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(json!({ "value": PASSWORD }).to_string()),
    )
    .await;
    assert_p1(&res, 400, "INVALID_REQUEST");

    let res = ctx
        .set_password(&token, &id, json!({ "value": "aaa" }))
        .await;
    assert_p1(&res, 400, "INVALID_DATA");
    let d = detail(&res, "INVALID_VALUE", "password");
    assert_eq!(
        d["message"],
        "User password did not satisfy password policy requirements"
    );
    let errors = d["innerError"]["errors"].as_array().expect("errors[]");
    let rules: Vec<&str> = errors
        .iter()
        .filter_map(|e| e["requirement"].as_str())
        .collect();
    for rule in [
        "length",
        "minCharacters",
        "maxRepeatedCharacters",
        "minUniqueCharacters",
    ] {
        assert!(rules.contains(&rule), "{rule} missing in {rules:?}");
    }
    assert!(d["innerError"]["unsatisfiedRequirements"].is_array());

    let res = ctx
        .set_password(&token, &id, json!({ "value": "Password1!" }))
        .await;
    assert!(
        detail(&res, "INVALID_VALUE", "password")["innerError"]["excludesCommonlyUsed"].is_string()
    );

    let res = ctx
        .set_password(&token, &id, json!({ "forceChange": false }))
        .await;
    assert_p1(&res, 400, "INVALID_DATA");
    detail(&res, "REQUIRED_VALUE", "value");

    let res = ctx
        .set_password(
            &token,
            &id,
            json!({ "value": PASSWORD, "forceChange": false }),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["status"], "OK");
    assert!(is_timestamp(&res.body["lastChangedAt"]));
    assert_eq!(res.body["user"]["id"], id);
    assert_eq!(res.body["_links"]["self"]["href"], url);
    assert!(res.body["passwordPolicy"]["id"].is_string());
    let policy = send(
        ctx.http
            .get(
                res.body["_links"]["passwordPolicy"]["href"]
                    .as_str()
                    .expect("href"),
            )
            .bearer_auth(&token),
    )
    .await;
    assert_eq!(policy.status, 200);
    assert_eq!(policy.body["name"], "Standard");

    // Content-Type parameters are ignored; forceChange → MUST_CHANGE_PASSWORD.
    let res = send(
        ctx.http
            .put(&url)
            .bearer_auth(&token)
            .header(
                "content-type",
                "application/vnd.pingidentity.password.set+json; charset=utf-8",
            )
            .body(json!({ "value": "An0ther#Secret", "forceChange": true }).to_string()),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["status"], "MUST_CHANGE_PASSWORD");

    let res = ctx
        .set_password(
            &token,
            &id,
            json!({ "value": "weak", "bypassPolicy": true }),
        )
        .await;
    assert_eq!(res.status, 200, "{}", res.body);

    let res = ctx
        .set_password(
            &token,
            &uuid::Uuid::new_v4().to_string(),
            json!({ "value": PASSWORD }),
        )
        .await;
    assert_p1(&res, 404, "NOT_FOUND");
}

// ---------------------------------------------------------------- device authorization

#[tokio::test]
async fn device_authorization_responses_and_errors() {
    let ctx = start().await;
    let token = ctx.worker_token().await;
    let app = ctx
        .device_app(
            &token,
            json!({ "deviceTimeout": 300, "devicePollingInterval": 7 }),
        )
        .await;

    let res = ctx.device_authorization(&app).await;
    assert_eq!(res.status, 200, "{}", res.body);
    let b = &res.body;
    uuid::Uuid::parse_str(b["device_code"].as_str().expect("device_code")).expect("uuid");
    let code = b["user_code"].as_str().expect("user_code");
    assert!(
        regex::Regex::new("^[A-Z0-9]{4}-[A-Z0-9]{4}$")
            .expect("re")
            .is_match(code),
        "{code}"
    );
    let uri = format!("{}/device", ctx.auth(""));
    assert_eq!(b["verification_uri"], uri);
    assert_eq!(
        b["verification_uri_complete"],
        format!("{uri}?user_code={code}")
    );
    assert_eq!(b["expires_in"], 300);
    assert_eq!(b["interval"], 7);
    assert_eq!(res.header("cache-control"), Some("no-store"));

    let with_path = ctx
        .device_app(&token, json!({ "devicePathId": "go" }))
        .await;
    let res = ctx.device_authorization(&with_path).await;
    assert_eq!(res.body["verification_uri"], ctx.auth("/device/go"));

    let url = ctx.auth("/as/device_authorization");
    let res = send(
        ctx.http
            .post(&url)
            .header("content-type", "application/json")
            .body(json!({ "client_id": app }).to_string()),
    )
    .await;
    assert_oauth(&res, 400, "invalid_request");
    let res = send(ctx.http.post(&url).form(&[("scope", "openid")])).await;
    assert_oauth(&res, 400, "invalid_request");
    let res = ctx
        .device_authorization(&uuid::Uuid::new_v4().to_string())
        .await;
    assert_oauth(&res, 401, "invalid_client");

    let no_device = ctx
        .device_app(&token, json!({ "grantTypes": ["CLIENT_CREDENTIALS"], "tokenEndpointAuthMethod": "CLIENT_SECRET_BASIC" }))
        .await;
    let res = ctx.device_authorization(&no_device).await;
    assert_oauth(&res, 400, "unauthorized_client");

    // NONE app presenting a secret.
    let res = send(
        ctx.http
            .post(&url)
            .form(&[("client_id", app.as_str()), ("client_secret", "x")]),
    )
    .await;
    assert_oauth(&res, 401, "invalid_client");
    assert!(res.body["error_description"]
        .as_str()
        .is_some_and(|d| d.starts_with("Request denied: Unsupported authentication method")));

    // CLIENT_SECRET_BASIC app: must authenticate with Basic and its generated secret.
    let basic_app = ctx
        .create_app(
            &token,
            json!({ "tokenEndpointAuthMethod": "CLIENT_SECRET_BASIC" }),
        )
        .await;
    assert!(basic_app.body["_links"]["secret"]["href"].is_string());
    let basic_id = basic_app.body["id"].as_str().expect("id").to_owned();
    let secret = ctx
        .get(&token, &format!("/applications/{basic_id}/secret"))
        .await;
    assert_eq!(secret.status, 200);
    let secret = secret.body["secret"].as_str().expect("secret").to_owned();
    let res = ctx.device_authorization(&basic_id).await;
    assert_oauth(&res, 401, "invalid_client");
    let res = send(
        ctx.http
            .post(&url)
            .header("authorization", basic(&basic_id, &secret))
            .form(&[("scope", "openid profile")]),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let res = send(ctx.http.post(&url).form(&[
        ("client_id", basic_id.as_str()),
        ("client_secret", secret.as_str()),
    ]))
    .await;
    assert_oauth(&res, 401, "invalid_client");

    let res = send(
        ctx.http
            .post(format!(
                "{}/{}/as/device_authorization",
                ctx.sb.base_url(),
                uuid::Uuid::new_v4()
            ))
            .form(&[("client_id", app.as_str())]),
    )
    .await;
    assert_eq!(res.status, 404);
}

// ---------------------------------------------------------------- flows

#[tokio::test]
async fn device_start_redirects_and_sets_session_cookie() {
    let ctx = start().await;
    let token = ctx.worker_token().await;
    let app = ctx
        .device_app(&token, json!({ "devicePathId": "tv" }))
        .await;

    for path in [
        "/device".to_owned(),
        format!("/device/{app}"),
        "/device/tv".to_owned(),
        "/device?user_code=ABCD-EFGH".to_owned(),
    ] {
        let http = http_client();
        let res = send(http.get(ctx.auth(&path))).await;
        assert_eq!(res.status, 302, "{path}");
        let loc = res.header("location").expect("location");
        assert!(
            loc.starts_with(&format!(
                "{}/{}/signon/?flowId=",
                ctx.sb.base_url(),
                ctx.env()
            )),
            "{loc}"
        );
        let cookie = res.header("set-cookie").expect("Set-Cookie");
        assert!(cookie.starts_with("ST="), "{cookie}");
        assert!(cookie.contains(&format!("Path=/{}", ctx.env())), "{cookie}");
        assert!(cookie.contains("HttpOnly"), "{cookie}");
    }
    let res = send(ctx.http.get(ctx.auth("/device/unknown-app"))).await;
    assert_p1(&res, 404, "NOT_FOUND");
    let res = send(ctx.http.get(format!(
        "{}/{}/device",
        ctx.sb.base_url(),
        uuid::Uuid::new_v4()
    )))
    .await;
    assert_eq!(res.status, 404);

    // The flow needs the ST cookie.
    let http = http_client();
    let flow = start_flow(&ctx, &http, &format!("/device/{app}")).await;
    let res = flow_get(&ctx, &http, &flow).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(
        res.body["_embedded"]["application"]["name"]
            .as_str()
            .map(|n| n.starts_with("Device-App")),
        Some(true)
    );
    let res = send(bare_client().get(ctx.auth(&format!("/flows/{flow}")))).await;
    assert_p1(&res, 401, "ACCESS_FAILED");
    assert_eq!(res.body["details"][0]["code"], "INVALID_TOKEN");
    let res = flow_get(&ctx, &http, &uuid::Uuid::new_v4().to_string()).await;
    assert_p1(&res, 404, "NOT_FOUND");

    // Without the requirement, no cookie is needed.
    let relaxed = start_with(|c| c.require_session_cookie = false).await;
    let http = http_client();
    let flow = start_flow(&relaxed, &http, "/device").await;
    let res = send(bare_client().get(relaxed.auth(&format!("/flows/{flow}")))).await;
    assert_eq!(res.status, 200);
}

#[tokio::test]
async fn flow_state_machine_and_wrong_actions() {
    let ctx = start().await;
    let token = ctx.worker_token().await;
    let app = ctx.device_app(&token, json!({})).await;
    let (user_id, username) = ctx.user(&token, false).await;
    let da = ctx.device_authorization(&app).await;
    let user_code = da.body["user_code"].as_str().expect("code").to_owned();
    let device_code = da.body["device_code"].as_str().expect("code").to_owned();
    let http = http_client();
    let flow = start_flow(&ctx, &http, "/device").await;
    let flow_url = ctx.auth(&format!("/flows/{flow}"));

    // Step 7.
    let res = flow_get(&ctx, &http, &flow).await;
    assert_eq!(res.status, 200);
    let b = &res.body;
    assert_eq!(b["status"], "USERNAME_PASSWORD_REQUIRED");
    assert_eq!(b["id"], flow);
    assert_eq!(b["environment"]["id"], ctx.env());
    assert_eq!(b["_links"]["self"]["href"], flow_url);
    assert_eq!(b["_links"][LOGIN]["href"], flow_url);
    assert!(b["_links"]["signOnPage"]["href"]
        .as_str()
        .is_some_and(|h| h.contains("/signon/?flowId=")));
    assert!(b["resumeUrl"]
        .as_str()
        .is_some_and(|u| u.ends_with(&format!("/as/resume?flowId={flow}"))));
    assert!(is_timestamp(&b["createdAt"]) && is_timestamp(&b["expiresAt"]));
    assert!(b.get("session").is_none());

    // Wrong actions, media types and bodies.
    let res = flow_post(
        &ctx,
        &http,
        &flow,
        VERIFY,
        &json!({ "userCode": user_code }).to_string(),
    )
    .await;
    assert_p1(&res, 400, "INVALID_REQUEST");
    let res = flow_post(&ctx, &http, &flow, CONSENT, r#"{"accept":true}"#).await;
    assert_p1(&res, 400, "INVALID_REQUEST");
    let res = flow_post(&ctx, &http, &flow, "otp.check", r#"{"otp":"123"}"#).await;
    assert_p1(&res, 400, "INVALID_REQUEST");
    let res = flow_post(&ctx, &http, &flow, LOGIN, "{broken").await;
    assert_p1(&res, 400, "INVALID_REQUEST");
    let res = flow_post(
        &ctx,
        &http,
        &flow,
        LOGIN,
        &json!({ "username": username }).to_string(),
    )
    .await;
    assert_p1(&res, 400, "INVALID_REQUEST");
    let res = flow_post(
        &ctx,
        &http,
        &flow,
        LOGIN,
        &json!({ "username": username, "password": 5 }).to_string(),
    )
    .await;
    assert_p1(&res, 400, "INVALID_DATA");
    detail(&res, "INVALID_VALUE", "password");

    // Bad credentials: 400, the flow stays.
    for (u, p) in [(username.as_str(), "Wr0ng#Password"), ("nobody", PASSWORD)] {
        let res = flow_post(
            &ctx,
            &http,
            &flow,
            LOGIN,
            &json!({ "username": u, "password": p }).to_string(),
        )
        .await;
        assert_p1(&res, 400, "INVALID_DATA");
        let d = detail(&res, "INVALID_VALUE", "username");
        assert_eq!(d["message"], "Invalid username and/or password.");
    }
    assert_eq!(
        flow_get(&ctx, &http, &flow).await.body["status"],
        "USERNAME_PASSWORD_REQUIRED"
    );

    // Step 8 (Content-Type parameters are ignored).
    let res = send(
        http.post(&flow_url)
            .header(
                "content-type",
                "application/vnd.pingidentity.usernamePassword.check+json; charset=utf-8",
            )
            .body(json!({ "username": username, "password": PASSWORD }).to_string()),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    let b = &res.body;
    assert_eq!(b["status"], "DAG_USER_CODE_REQUIRED");
    assert_eq!(b["_links"][VERIFY]["href"], flow_url);
    assert!(b["_links"].get(LOGIN).is_none());
    assert!(b["session"]["id"].is_string());
    assert_eq!(b["_embedded"]["user"]["id"], user_id);
    assert_eq!(b["_embedded"]["user"]["username"], username);
    assert_eq!(b["_embedded"]["user"]["name"]["given"], "Dee");

    let res = flow_post(
        &ctx,
        &http,
        &flow,
        LOGIN,
        &json!({ "username": username, "password": PASSWORD }).to_string(),
    )
    .await;
    assert_p1(&res, 400, "INVALID_REQUEST");
    let res = flow_post(&ctx, &http, &flow, VERIFY, "{}").await;
    assert_p1(&res, 400, "INVALID_REQUEST");

    // Wrong user code: 400, the flow stays.
    let res = flow_post(&ctx, &http, &flow, VERIFY, r#"{"userCode":"ZZZZ-ZZZZ"}"#).await;
    assert_p1(&res, 400, "INVALID_DATA");
    let d = detail(&res, "INVALID_VALUE", "userCode");
    assert_eq!(d["innerError"]["failuresRemaining"], 4);
    assert_eq!(
        flow_get(&ctx, &http, &flow).await.body["status"],
        "DAG_USER_CODE_REQUIRED"
    );

    // Pending while the user is busy.
    assert_oauth(
        &ctx.poll(&app, &device_code).await,
        400,
        "authorization_pending",
    );

    // Step 9, with the code typed in lower case and without the dash.
    let typed = user_code.replace('-', "").to_lowercase();
    let res = flow_post(
        &ctx,
        &http,
        &flow,
        VERIFY,
        &json!({ "userCode": typed }).to_string(),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["status"], "DAG_CONSENT_REQUIRED");
    assert_eq!(res.body["_links"][CONSENT]["href"], flow_url);
    assert!(res.body["_embedded"]["application"]["name"].is_string());

    let res = flow_post(&ctx, &http, &flow, CONSENT, r#"{"accept":"yes"}"#).await;
    assert_p1(&res, 400, "INVALID_DATA");
    detail(&res, "INVALID_VALUE", "accept");
    let res = flow_post(&ctx, &http, &flow, CONSENT, "{}").await;
    assert_p1(&res, 400, "INVALID_REQUEST");

    // Step 10.
    let res = flow_post(&ctx, &http, &flow, CONSENT, r#"{"accept":true}"#).await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["status"], "COMPLETED");
    let res = flow_post(&ctx, &http, &flow, CONSENT, r#"{"accept":true}"#).await;
    assert_p1(&res, 400, "INVALID_REQUEST");

    // Step 11 (an extra user_code is ignored), then reuse.
    ctx.clock.advance(Duration::from_secs(10));
    let res = send(ctx.http.post(ctx.auth("/as/token")).form(&[
        ("grant_type", DEVICE_GRANT),
        ("device_code", device_code.as_str()),
        ("client_id", app.as_str()),
        ("user_code", user_code.as_str()),
    ]))
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["token_type"], "Bearer");
    assert_eq!(res.body["expires_in"], 3600);
    assert_eq!(res.body["scope"], "openid");
    assert!(res.body["access_token"].is_string());
    assert!(res.body["id_token"]
        .as_str()
        .is_some_and(|t| t.split('.').count() == 3));
    assert!(res.body["refresh_token"].is_string());
    assert_eq!(res.header("cache-control"), Some("no-store"));
    assert_eq!(res.header("pragma"), Some("no-cache"));
    assert_oauth(&ctx.poll(&app, &device_code).await, 400, "invalid_grant");

    // A user's token is no management token.
    let user_token = res.body["access_token"].as_str().expect("token");
    let res = ctx.get(user_token, &format!("/users/{user_id}")).await;
    assert_p1(&res, 403, "ACCESS_FAILED");
}

#[tokio::test]
async fn token_poll_outcomes() {
    let ctx = start().await;
    let token = ctx.worker_token().await;
    let app = ctx
        .device_app(
            &token,
            json!({ "deviceTimeout": 60, "devicePollingInterval": 5 }),
        )
        .await;
    let da = ctx.device_authorization(&app).await;
    let code = da.body["device_code"].as_str().expect("code").to_owned();

    assert_oauth(&ctx.poll(&app, &code).await, 400, "authorization_pending");
    // Too fast: slow_down, and the interval grows by 5 s each time (persisted).
    ctx.clock.advance(Duration::from_secs(1));
    let res = ctx.poll(&app, &code).await;
    assert_oauth(&res, 400, "slow_down");
    assert!(res.body["error_description"]
        .as_str()
        .is_some_and(|d| d.contains("10 seconds")));
    ctx.clock.advance(Duration::from_secs(6));
    let res = ctx.poll(&app, &code).await;
    assert_oauth(&res, 400, "slow_down");
    assert!(res.body["error_description"]
        .as_str()
        .is_some_and(|d| d.contains("15 seconds")));
    ctx.clock.advance(Duration::from_secs(15));
    assert_oauth(&ctx.poll(&app, &code).await, 400, "authorization_pending");

    // Expired (and stays expired until purged).
    ctx.clock.advance(Duration::from_secs(60));
    assert_oauth(&ctx.poll(&app, &code).await, 400, "expired_token");
    ctx.clock.advance(Duration::from_secs(60));
    assert_oauth(&ctx.poll(&app, &code).await, 400, "expired_token");

    // Unknown code, another client's code, other client errors.
    assert_oauth(
        &ctx.poll(&app, &uuid::Uuid::new_v4().to_string()).await,
        400,
        "invalid_grant",
    );
    let other = ctx.device_app(&token, json!({})).await;
    let fresh = ctx.device_authorization(&app).await;
    let fresh_code = fresh.body["device_code"].as_str().expect("code").to_owned();
    assert_oauth(&ctx.poll(&other, &fresh_code).await, 400, "invalid_grant");
    assert_oauth(
        &ctx.poll(&uuid::Uuid::new_v4().to_string(), &fresh_code)
            .await,
        401,
        "invalid_client",
    );
    let res = send(
        ctx.http
            .post(ctx.auth("/as/token"))
            .form(&[("grant_type", DEVICE_GRANT), ("client_id", app.as_str())]),
    )
    .await;
    assert_oauth(&res, 400, "invalid_request");
    let cc_app = ctx.device_app(&token, json!({ "grantTypes": ["CLIENT_CREDENTIALS"], "tokenEndpointAuthMethod": "CLIENT_SECRET_POST" })).await;
    assert_oauth(
        &ctx.poll(&cc_app, &fresh_code).await,
        400,
        "unauthorized_client",
    );

    // Refused consent → access_denied.
    let (app, code) = authorize_device(&ctx, Some(false)).await;
    assert_oauth(&ctx.poll(&app, &code).await, 400, "access_denied");

    // slow_down can be switched off.
    let quiet = start_with(|c| c.slow_down = false).await;
    let token = quiet.worker_token().await;
    let app = quiet.device_app(&token, json!({})).await;
    let da = quiet.device_authorization(&app).await;
    let code = da.body["device_code"].as_str().expect("code").to_owned();
    for _ in 0..3 {
        assert_oauth(&quiet.poll(&app, &code).await, 400, "authorization_pending");
    }
}

#[tokio::test]
async fn refused_consent_fails_the_flow() {
    let ctx = start().await;
    let token = ctx.worker_token().await;
    let app = ctx.device_app(&token, json!({})).await;
    let (_, username) = ctx.user(&token, false).await;
    let da = ctx.device_authorization(&app).await;
    let http = http_client();
    let flow = start_flow(
        &ctx,
        &http,
        &format!(
            "/device?user_code={}",
            da.body["user_code"].as_str().expect("c")
        ),
    )
    .await;
    flow_post(
        &ctx,
        &http,
        &flow,
        LOGIN,
        &json!({ "username": username, "password": PASSWORD }).to_string(),
    )
    .await;
    let res = flow_get(&ctx, &http, &flow).await;
    assert_eq!(res.body["userCode"], da.body["user_code"]);
    flow_post(
        &ctx,
        &http,
        &flow,
        VERIFY,
        &json!({ "userCode": da.body["user_code"] }).to_string(),
    )
    .await;
    let res = flow_post(&ctx, &http, &flow, CONSENT, r#"{"accept":false}"#).await;
    assert_eq!(res.status, 200);
    assert_eq!(res.body["status"], "FAILED");
    let code = da.body["device_code"].as_str().expect("code");
    assert_oauth(&ctx.poll(&app, code).await, 400, "access_denied");

    // The used user code cannot be verified again by another flow.
    let http2 = http_client();
    let flow2 = start_flow(&ctx, &http2, "/device").await;
    flow_post(
        &ctx,
        &http2,
        &flow2,
        LOGIN,
        &json!({ "username": username, "password": PASSWORD }).to_string(),
    )
    .await;
    let res = flow_post(
        &ctx,
        &http2,
        &flow2,
        VERIFY,
        &json!({ "userCode": da.body["user_code"] }).to_string(),
    )
    .await;
    assert_p1(&res, 400, "INVALID_DATA");
    detail(&res, "INVALID_VALUE", "userCode");
}

#[tokio::test]
async fn user_code_attempt_limit_and_expired_code() {
    let ctx = start().await;
    let token = ctx.worker_token().await;
    let app = ctx.device_app(&token, json!({ "deviceTimeout": 30 })).await;
    let (_, username) = ctx.user(&token, false).await;
    let da = ctx.device_authorization(&app).await;
    let login = json!({ "username": username, "password": PASSWORD }).to_string();

    let http = http_client();
    let flow = start_flow(&ctx, &http, "/device").await;
    flow_post(&ctx, &http, &flow, LOGIN, &login).await;
    for remaining in (0..5).rev() {
        let res = flow_post(&ctx, &http, &flow, VERIFY, r#"{"userCode":"BBBB-BBBB"}"#).await;
        assert_eq!(
            detail(&res, "INVALID_VALUE", "userCode")["innerError"]["failuresRemaining"],
            remaining
        );
    }
    assert_eq!(flow_get(&ctx, &http, &flow).await.body["status"], "FAILED");
    let res = flow_post(
        &ctx,
        &http,
        &flow,
        VERIFY,
        &json!({ "userCode": da.body["user_code"] }).to_string(),
    )
    .await;
    assert_p1(&res, 400, "INVALID_REQUEST");

    // An expired user code is rejected and the flow stays.
    let http = http_client();
    let flow = start_flow(&ctx, &http, "/device").await;
    flow_post(&ctx, &http, &flow, LOGIN, &login).await;
    ctx.clock.advance(Duration::from_secs(31));
    let res = flow_post(
        &ctx,
        &http,
        &flow,
        VERIFY,
        &json!({ "userCode": da.body["user_code"] }).to_string(),
    )
    .await;
    detail(&res, "INVALID_VALUE", "userCode");
    assert_eq!(
        flow_get(&ctx, &http, &flow).await.body["status"],
        "DAG_USER_CODE_REQUIRED"
    );
}

#[tokio::test]
async fn flow_expires_after_15_minutes_of_inactivity() {
    let ctx = start().await;
    let token = ctx.worker_token().await;
    let (_, username) = ctx.user(&token, false).await;
    let http = http_client();
    let flow = start_flow(&ctx, &http, "/device").await;
    let created = flow_get(&ctx, &http, &flow).await.body;
    assert_eq!(created["createdAt"], "2026-01-01T00:00:00.000Z");
    assert_eq!(created["expiresAt"], "2026-01-01T00:15:00.000Z");

    // A successful action at 10 min slides the expiry to 25 min.
    ctx.clock.advance(Duration::from_secs(600));
    let res = flow_post(
        &ctx,
        &http,
        &flow,
        LOGIN,
        &json!({ "username": username, "password": PASSWORD }).to_string(),
    )
    .await;
    assert_eq!(res.body["expiresAt"], "2026-01-01T00:25:00.000Z");
    ctx.clock.advance(Duration::from_secs(14 * 60));
    assert_eq!(flow_get(&ctx, &http, &flow).await.status, 200);
    ctx.clock.advance(Duration::from_secs(61));
    let res = flow_get(&ctx, &http, &flow).await;
    assert_p1(&res, 404, "NOT_FOUND");
    let res = flow_post(&ctx, &http, &flow, VERIFY, r#"{"userCode":"BBBB-BBBB"}"#).await;
    assert_p1(&res, 404, "NOT_FOUND");
}

#[tokio::test]
async fn must_change_password_and_lockout() {
    let ctx = start().await;
    let token = ctx.worker_token().await;
    let (_, username) = ctx.user(&token, true).await;
    let http = http_client();
    let flow = start_flow(&ctx, &http, "/device").await;
    let res = flow_post(
        &ctx,
        &http,
        &flow,
        LOGIN,
        &json!({ "username": username, "password": PASSWORD }).to_string(),
    )
    .await;
    assert_eq!(res.body["status"], "MUST_CHANGE_PASSWORD");
    assert!(res.body["_links"]["password.reset"].is_object());
    let res = flow_post(
        &ctx,
        &http,
        &flow,
        "password.reset",
        &json!({ "currentPassword": "nope", "newPassword": "N3w#Passw0rdX" }).to_string(),
    )
    .await;
    detail(&res, "INVALID_VALUE", "currentPassword");
    let res = flow_post(
        &ctx,
        &http,
        &flow,
        "password.reset",
        &json!({ "currentPassword": PASSWORD, "newPassword": "N3w#Pass" }).to_string(),
    )
    .await;
    assert_eq!(res.status, 200, "{}", res.body);
    assert_eq!(res.body["status"], "DAG_USER_CODE_REQUIRED");

    // Five failures lock the account for 15 minutes.
    let http = http_client();
    let flow = start_flow(&ctx, &http, "/device").await;
    for _ in 0..5 {
        let res = flow_post(
            &ctx,
            &http,
            &flow,
            LOGIN,
            &json!({ "username": username, "password": "Bad#Pass1" }).to_string(),
        )
        .await;
        assert_p1(&res, 400, "INVALID_DATA");
    }
    let good = json!({ "username": username, "password": "N3w#Pass" }).to_string();
    let res = flow_post(&ctx, &http, &flow, LOGIN, &good).await;
    assert_p1(&res, 400, "INVALID_DATA");
    ctx.clock.advance(Duration::from_secs(901));
    let flow = start_flow(&ctx, &http, "/device").await;
    let res = flow_post(&ctx, &http, &flow, LOGIN, &good).await;
    assert_eq!(res.status, 200, "{}", res.body);
}

#[tokio::test]
async fn links_follow_the_host_header_and_methods_are_checked() {
    let ctx = start().await;
    let res = send(
        ctx.http
            .get(ctx.auth("/device"))
            .header("host", "auth.example.test:8443"),
    )
    .await;
    assert_eq!(res.status, 302);
    let location = res.header("location").expect("location");
    assert!(
        location.starts_with(&format!(
            "http://auth.example.test:8443/{}/signon/?flowId=",
            ctx.env()
        )),
        "{location}"
    );
    let res = send(
        ctx.http
            .get(location.replace("auth.example.test:8443", &ctx.sb.addr().to_string())),
    )
    .await;
    assert_eq!(res.status, 200);

    let res = send(ctx.http.delete(ctx.auth("/as/token"))).await;
    assert_p1(&res, 405, "METHOD_NOT_ALLOWED");
    let res = send(ctx.http.get(ctx.auth("/device/a/b/c"))).await;
    assert_eq!(res.status, 404);
}

#[tokio::test]
async fn router_can_be_embedded() {
    install_crypto_provider();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = stepwise::sandbox::pingone::router(SandboxConfig::default());
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let res = send(bare_client().get(format!(
        "http://{addr}/{}/device",
        SandboxConfig::default().env_id
    )))
    .await;
    assert_eq!(res.status, 302);
    server.abort();
}

// ---------------------------------------------------------------- lifecycle, purge, load

#[tokio::test]
async fn variables_and_shutdown() {
    let ctx = start_with(|c| c.admin_env_id = "11111111-2222-4333-8444-555555555555".into()).await;
    let vars = ctx.sb.variables();
    let names: Vec<&str> = vars.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(
        names,
        [
            "apiPath",
            "authPath",
            "envID",
            "adminEnvID",
            "adminAppID",
            "adminAppSecret"
        ]
    );
    assert_eq!(vars[0].1, format!("http://{}/v1", ctx.sb.addr()));
    assert_eq!(vars[1].1, ctx.sb.base_url());
    assert_eq!(vars[3].1, "11111111-2222-4333-8444-555555555555");

    // The worker lives in the admin environment and manages envID.
    let token = ctx.worker_token().await;
    assert_eq!(
        ctx.post_json(&token, "/populations", json!({ "name": "x" }))
            .await
            .status,
        201
    );
    let res = send(
        ctx.http
            .post(ctx.auth("/as/token"))
            .header("authorization", basic(&vars[4].1, &vars[5].1))
            .form(&[("grant_type", "client_credentials")]),
    )
    .await;
    assert_oauth(&res, 401, "invalid_client");

    let base = ctx.sb.base_url();
    ctx.sb.shutdown().await;
    assert!(bare_client()
        .get(format!("{base}/v1"))
        .send()
        .await
        .is_err());
}

#[tokio::test]
async fn purge_keeps_memory_bounded() {
    let ctx = start().await;
    let token = ctx.worker_token().await;
    let app = ctx.device_app(&token, json!({ "deviceTimeout": 5 })).await;
    for _ in 0..40 {
        assert_eq!(ctx.device_authorization(&app).await.status, 200);
        let http = http_client();
        start_flow(&ctx, &http, "/device").await;
        ctx.worker_token().await;
    }
    let before = ctx.sb.stats();
    assert_eq!(before.device_codes, 40);
    assert_eq!(before.flows, 40);
    assert_eq!(before.access_tokens, 41);
    assert_eq!(before.sessions, 40);

    // Device codes outlive their expiry by a grace period (polls keep seeing expired_token).
    ctx.clock.advance(Duration::from_secs(20 * 60));
    let token = ctx.worker_token().await;
    let after_flows = ctx.sb.stats();
    assert_eq!(after_flows.flows, 0);
    assert_eq!(after_flows.device_codes, 0);

    ctx.clock.advance(Duration::from_secs(2 * 3600));
    ctx.worker_token().await;
    let after = ctx.sb.stats();
    assert_eq!(after.access_tokens, 1, "{after:?}");
    assert_eq!(after.sessions, 0);
    assert_eq!(after.applications, 1);
    let _ = token;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_concurrent_device_flows() {
    let sb = Arc::new(
        RunningSandbox::start(SandboxConfig::default())
            .await
            .expect("start"),
    );
    let mut tasks = Vec::new();
    for i in 0..50 {
        let sb = Arc::clone(&sb);
        tasks.push(tokio::spawn(async move { one_run(&sb, i).await }));
    }
    for t in tasks {
        t.await.expect("task");
    }
    let stats = sb.stats();
    assert_eq!(stats.applications, 50);
    assert_eq!(stats.users, 50);
}

async fn one_run(sb: &RunningSandbox, i: usize) {
    let http = http_client();
    let cfg = sb.config();
    let env = &cfg.env_id;
    let api = |p: &str| format!("{}/environments/{env}{p}", sb.api_path());
    let auth = |p: &str| format!("{}/{env}{p}", sb.auth_path());
    let tok = send(
        http.post(format!("{}/{}/as/token", sb.auth_path(), cfg.admin_env_id))
            .header(
                "authorization",
                basic(&cfg.worker_client_id, &cfg.worker_client_secret),
            )
            .form(&[("grant_type", "client_credentials")]),
    )
    .await;
    let token = tok.body["access_token"].as_str().expect("token").to_owned();
    let post = |p: &str, b: Value| {
        http.post(api(p))
            .bearer_auth(&token)
            .header("content-type", "application/json")
            .body(b.to_string())
    };
    let app = send(post("/applications", json!({
        "enabled": true, "name": format!("Device-App{i}"), "type": "CUSTOM_APP", "protocol": "OPENID_CONNECT",
        "grantTypes": ["DEVICE_CODE", "REFRESH_TOKEN"], "tokenEndpointAuthMethod": "NONE",
    }))).await;
    assert_eq!(app.status, 201, "{}", app.body);
    let app_id = app.body["id"].as_str().expect("id").to_owned();
    let pop = send(post("/populations", json!({ "name": format!("pop{i}") }))).await;
    assert_eq!(pop.status, 201);
    let user = send(post("/users", json!({
        "email": format!("u{i}@example.com"), "population": { "id": pop.body["id"] }, "username": format!("user{i}"),
    }))).await;
    assert_eq!(user.status, 201);
    let pw = send(
        http.put(api(&format!(
            "/users/{}/password",
            user.body["id"].as_str().expect("id")
        )))
        .bearer_auth(&token)
        .header(
            "content-type",
            "application/vnd.pingidentity.password.set+json",
        )
        .body(json!({ "value": PASSWORD, "forceChange": false }).to_string()),
    )
    .await;
    assert_eq!(pw.status, 200, "{}", pw.body);
    let da = send(
        http.post(auth("/as/device_authorization"))
            .form(&[("client_id", app_id.as_str()), ("scope", "openid")]),
    )
    .await;
    assert_eq!(da.status, 200);
    let start = send(http.get(auth("/device"))).await;
    assert_eq!(start.status, 302);
    let loc = start.header("location").expect("location");
    let flow = loc.split("flowId=").nth(1).expect("flowId").to_owned();
    let step = |ct: &str, b: Value| {
        http.post(auth(&format!("/flows/{flow}")))
            .header(
                "content-type",
                format!("application/vnd.pingidentity.{ct}+json"),
            )
            .body(b.to_string())
    };
    let r = send(step(
        LOGIN,
        json!({ "username": format!("user{i}"), "password": PASSWORD }),
    ))
    .await;
    assert_eq!(r.body["status"], "DAG_USER_CODE_REQUIRED", "{}", r.body);
    let r = send(step(VERIFY, json!({ "userCode": da.body["user_code"] }))).await;
    assert_eq!(r.body["status"], "DAG_CONSENT_REQUIRED", "{}", r.body);
    let r = send(step(CONSENT, json!({ "accept": true }))).await;
    assert_eq!(r.body["status"], "COMPLETED", "{}", r.body);
    let r = send(http.post(auth("/as/token")).form(&[
        ("grant_type", DEVICE_GRANT),
        ("device_code", da.body["device_code"].as_str().expect("dc")),
        ("client_id", app_id.as_str()),
    ]))
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.body["access_token"].is_string());
}
