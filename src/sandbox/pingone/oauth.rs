//! OAuth endpoints of the auth host: `POST /{envID}/as/token` (client credentials for the
//! worker and other clients, the device-code grant poll) and
//! `POST /{envID}/as/device_authorization` (RFC 8628 §3.1–3.2), with client authentication
//! per the application's `tokenEndpointAuthMethod`.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use chrono::{DateTime, Duration, Utc};
use rand::Rng as _;
use serde_json::{json, Value};

use super::errors::{OAuthError, P1Error};
use super::http::{basic_auth, is_form, parse_form, random_string, Form};
use super::store::{
    normalize_user_code, AccessToken, DeviceRecord, DeviceState, Store, TokenKind, TOKEN_TTL_SECS,
};
use super::Shared;

/// `grant_type` of the device-code poll.
pub(crate) const DEVICE_CODE_GRANT: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// Scopes a device authorization may request without resource grants (OIDC scopes), plus
/// PingOne platform scopes (`p1:...`).
const OIDC_SCOPES: &[&str] = &[
    "openid",
    "profile",
    "email",
    "address",
    "phone",
    "offline_access",
];
/// Characters of user codes: consonants and digits without look-alikes (0/O, 1/I).
const USER_CODE_ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ23456789";

/// How the client presented its credentials.
#[derive(Debug, PartialEq, Eq)]
enum Via {
    None,
    Basic,
    Post,
}

struct Presented {
    client_id: Option<String>,
    secret: Option<String>,
    via: Via,
}

/// A client as the token endpoint sees it.
struct ClientView {
    id: String,
    secret: Option<String>,
    method: String,
    grant_types: Vec<String>,
    worker: bool,
}

impl ClientView {
    fn has_grant(&self, g: &str) -> bool {
        self.grant_types.iter().any(|x| x == g)
    }
}

fn oauth_json(status: StatusCode, body: &Value) -> Response {
    let mut res = (status, body.to_string()).into_response();
    let h = res.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
    res
}

fn read_form(headers: &HeaderMap, body: &Bytes) -> Result<Form, OAuthError> {
    if !is_form(headers) {
        return Err(OAuthError::bad_request(
            "invalid_request",
            "The request must be sent with Content-Type application/x-www-form-urlencoded",
        ));
    }
    let pairs = parse_form(body).map_err(|e| OAuthError::bad_request("invalid_request", e))?;
    Form::new(pairs).map_err(|e| OAuthError::bad_request("invalid_request", e))
}

fn presented(headers: &HeaderMap, form: &Form) -> Result<Presented, OAuthError> {
    match basic_auth(headers) {
        Some(Err(())) => Err(OAuthError::invalid_client()),
        Some(Ok((id, secret))) => {
            if form.get("client_secret").is_some() {
                return Err(OAuthError::bad_request(
                    "invalid_request",
                    "Only one client authentication method may be used",
                ));
            }
            if form.get("client_id").is_some_and(|f| f != id) {
                return Err(OAuthError::invalid_client());
            }
            Ok(Presented {
                client_id: Some(id),
                secret: Some(secret),
                via: Via::Basic,
            })
        }
        None => {
            let secret = form.get("client_secret").map(str::to_owned);
            let via = if secret.is_some() {
                Via::Post
            } else {
                Via::None
            };
            Ok(Presented {
                client_id: form.get("client_id").map(str::to_owned),
                secret,
                via,
            })
        }
    }
}

/// The worker (in the admin environment) or an enabled application of `env_id`.
fn find_client(
    shared: &Shared,
    store: &Store,
    env_id: &str,
    client_id: &str,
) -> Option<ClientView> {
    let cfg = &shared.config;
    if env_id == cfg.admin_env_id && client_id == cfg.worker_client_id {
        return Some(ClientView {
            id: cfg.worker_client_id.clone(),
            secret: Some(cfg.worker_client_secret.clone()),
            method: "CLIENT_SECRET_BASIC".into(),
            grant_types: vec!["CLIENT_CREDENTIALS".into()],
            worker: true,
        });
    }
    let app = store.envs.get(env_id)?.applications.get(client_id)?;
    app.enabled.then(|| ClientView {
        id: app.id.clone(),
        secret: app.secret.clone(),
        method: app.auth_method.clone(),
        grant_types: app.grant_types.clone(),
        worker: false,
    })
}

/// Client authentication per `tokenEndpointAuthMethod` (the worker accepts Basic and POST).
fn authenticate(client: &ClientView, p: &Presented) -> Result<(), OAuthError> {
    let secret_ok = || client.secret.is_some() && p.secret == client.secret;
    let ok = match (client.method.as_str(), &p.via) {
        _ if client.worker => p.via != Via::None && secret_ok(),
        ("NONE", Via::None) => true,
        ("CLIENT_SECRET_BASIC", Via::Basic) | ("CLIENT_SECRET_POST", Via::Post) => secret_ok(),
        _ => false,
    };
    if ok {
        Ok(())
    } else {
        Err(OAuthError::invalid_client())
    }
}

fn check_env(shared: &Shared, env_id: &str) -> Result<(), P1Error> {
    if shared.lock().envs.contains_key(env_id) {
        Ok(())
    } else {
        Err(P1Error::not_found())
    }
}

/// An unsigned-but-JWT-shaped token: header and claims are readable, the signature is
/// random bytes (the sandbox publishes no keys).
fn jwt(claims: &Value) -> String {
    let header = json!({ "alg": "RS256", "kid": "stepwise-sandbox", "typ": "JWT" });
    format!(
        "{}.{}.{}",
        URL_SAFE_NO_PAD.encode(header.to_string()),
        URL_SAFE_NO_PAD.encode(claims.to_string()),
        random_string(64)
    )
}

fn issue_access_token(
    store: &mut Store,
    kind: TokenKind,
    claims: &Value,
    now: DateTime<Utc>,
) -> String {
    let token = jwt(claims);
    store.tokens.insert(
        token.clone(),
        AccessToken {
            kind,
            expires_at: now + Duration::seconds(TOKEN_TTL_SECS),
        },
    );
    token
}

/// POST `/{envID}/as/token`.
pub(crate) async fn token(
    State(shared): State<Arc<Shared>>,
    Path(env_id): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    if let Err(e) = check_env(&shared, &env_id) {
        return e.into_response();
    }
    match token_inner(&shared, &env_id, &headers, &uri, &body) {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

fn token_inner(
    shared: &Shared,
    env_id: &str,
    headers: &HeaderMap,
    uri: &Uri,
    body: &Bytes,
) -> Result<Response, OAuthError> {
    let form = read_form(headers, body)?;
    let grant = form.get("grant_type").ok_or_else(|| {
        OAuthError::bad_request("invalid_request", "Missing grant_type parameter")
    })?;
    match grant {
        "client_credentials" => client_credentials(shared, env_id, headers, uri, &form),
        DEVICE_CODE_GRANT => device_code(shared, env_id, headers, uri, &form),
        other => Err(OAuthError::bad_request(
            "unsupported_grant_type",
            format!("Unsupported grant type: {other}"),
        )),
    }
}

fn client_credentials(
    shared: &Shared,
    env_id: &str,
    headers: &HeaderMap,
    uri: &Uri,
    form: &Form,
) -> Result<Response, OAuthError> {
    let p = presented(headers, form)?;
    let now = shared.now();
    let mut store = shared.lock();
    store.maybe_purge(now);
    let client_id = p.client_id.clone().ok_or_else(OAuthError::invalid_client)?;
    let client =
        find_client(shared, &store, env_id, &client_id).ok_or_else(OAuthError::invalid_client)?;
    authenticate(&client, &p)?;
    if !client.has_grant("CLIENT_CREDENTIALS") {
        return Err(OAuthError::bad_request(
            "unauthorized_client",
            "The client is not authorized to use the client_credentials grant type",
        ));
    }
    let base = shared.base(headers, uri);
    let claims = json!({
        "client_id": client.id,
        "iss": format!("{base}/{env_id}/as"),
        "iat": now.timestamp(),
        "exp": now.timestamp() + TOKEN_TTL_SECS,
        "aud": [format!("{base}/v1")],
        "env": env_id,
        "jti": uuid::Uuid::new_v4().to_string(),
    });
    let kind = if client.worker {
        TokenKind::Worker
    } else {
        TokenKind::Client
    };
    let access_token = issue_access_token(&mut store, kind, &claims, now);
    Ok(oauth_json(
        StatusCode::OK,
        &json!({
            "access_token": access_token,
            "token_type": "Bearer",
            "expires_in": TOKEN_TTL_SECS,
        }),
    ))
}

/// The device-code poll, checks in the order of the reference's emulator notes.
fn device_code(
    shared: &Shared,
    env_id: &str,
    headers: &HeaderMap,
    uri: &Uri,
    form: &Form,
) -> Result<Response, OAuthError> {
    // 1. Parameters, then the grant type of the client.
    let p = presented(headers, form)?;
    let device_code = form
        .get("device_code")
        .ok_or_else(|| OAuthError::bad_request("invalid_request", "Missing device_code parameter"))?
        .to_owned();
    let client_id = p
        .client_id
        .clone()
        .ok_or_else(|| OAuthError::bad_request("invalid_request", "Missing client_id parameter"))?;
    let now = shared.now();
    let mut store = shared.lock();
    store.maybe_purge(now);
    let client =
        find_client(shared, &store, env_id, &client_id).ok_or_else(OAuthError::invalid_client)?;
    if !client.has_grant("DEVICE_CODE") {
        return Err(OAuthError::bad_request(
            "unauthorized_client",
            "The client is not authorized to use the device_code grant type",
        ));
    }
    // 2. Client authentication.
    authenticate(&client, &p)?;
    // 3. The device code must exist and belong to this client.
    let slow_down_enabled = shared.config.slow_down;
    let record = store
        .devices
        .get_mut(&device_code)
        .filter(|r| r.env_id == env_id && r.client_id == client.id)
        .ok_or_else(|| {
            OAuthError::bad_request(
                "invalid_grant",
                "The device code is invalid or was issued to another client",
            )
        })?;
    // 4. Already exchanged.
    if record.state == DeviceState::Consumed {
        return Err(OAuthError::bad_request(
            "invalid_grant",
            "The device code has already been used",
        ));
    }
    let previous_poll = record.last_poll.replace(now);
    // 5. Expired.
    if now > record.expires_at {
        return Err(OAuthError::bad_request(
            "expired_token",
            "The device code has expired",
        ));
    }
    match record.state {
        // 6. Refused.
        DeviceState::Denied => Err(OAuthError::bad_request(
            "access_denied",
            "The user denied the authorization request",
        )),
        // 7. Still waiting.
        DeviceState::Pending | DeviceState::Consumed => {
            let too_fast =
                previous_poll.is_some_and(|last| now - last < Duration::seconds(record.interval));
            if slow_down_enabled && too_fast {
                record.interval += 5;
                Err(OAuthError::bad_request(
                    "slow_down",
                    format!(
                        "The client is polling too quickly; the interval is now {} seconds",
                        record.interval
                    ),
                ))
            } else {
                Err(OAuthError::bad_request(
                    "authorization_pending",
                    "The authorization request is still pending",
                ))
            }
        }
        // 8. Authorized: issue the tokens once.
        DeviceState::Authorized => {
            record.state = DeviceState::Consumed;
            let scope = record.scope.clone();
            let user_id = record.user_id.clone().unwrap_or_default();
            let session = record.flow_id.clone();
            let base = shared.base(headers, uri);
            let iss = format!("{base}/{env_id}/as");
            let claims = json!({
                "client_id": client.id,
                "iss": iss,
                "sub": user_id,
                "iat": now.timestamp(),
                "exp": now.timestamp() + TOKEN_TTL_SECS,
                "scope": scope,
                "env": env_id,
                "jti": uuid::Uuid::new_v4().to_string(),
            });
            let access_token = issue_access_token(&mut store, TokenKind::User, &claims, now);
            let mut body = json!({
                "access_token": access_token,
                "token_type": "Bearer",
                "expires_in": TOKEN_TTL_SECS,
                "scope": scope,
            });
            if let Some(obj) = body.as_object_mut() {
                if scope.split(' ').any(|s| s == "openid") {
                    let id_claims = json!({
                        "iss": iss,
                        "sub": user_id,
                        "aud": client.id,
                        "iat": now.timestamp(),
                        "exp": now.timestamp() + TOKEN_TTL_SECS,
                        "auth_time": now.timestamp(),
                        "sid": session,
                        "env": env_id,
                    });
                    obj.insert("id_token".into(), json!(jwt(&id_claims)));
                }
                if client.has_grant("REFRESH_TOKEN") {
                    obj.insert("refresh_token".into(), json!(random_string(48)));
                }
            }
            Ok(oauth_json(StatusCode::OK, &body))
        }
    }
}

fn new_user_code(store: &Store) -> String {
    let mut rng = rand::rng();
    loop {
        let chars: String = (0..8)
            .map(|_| {
                let i = rng.random_range(0..USER_CODE_ALPHABET.len());
                char::from(USER_CODE_ALPHABET[i])
            })
            .collect();
        let code = format!("{}-{}", &chars[..4], &chars[4..]);
        if !store.user_codes.contains_key(&normalize_user_code(&code)) {
            return code;
        }
    }
}

fn valid_scope(scope: &str) -> bool {
    scope
        .split(' ')
        .filter(|s| !s.is_empty())
        .all(|s| OIDC_SCOPES.contains(&s) || s.starts_with("p1:"))
}

/// POST `/{envID}/as/device_authorization`.
pub(crate) async fn device_authorization(
    State(shared): State<Arc<Shared>>,
    Path(env_id): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Response {
    if let Err(e) = check_env(&shared, &env_id) {
        return e.into_response();
    }
    match device_authorization_inner(&shared, &env_id, &headers, &uri, &body) {
        Ok(r) => r,
        Err(e) => e.into_response(),
    }
}

fn device_authorization_inner(
    shared: &Shared,
    env_id: &str,
    headers: &HeaderMap,
    uri: &Uri,
    body: &Bytes,
) -> Result<Response, OAuthError> {
    let form = read_form(headers, body)?;
    let p = presented(headers, &form)?;
    let client_id = p
        .client_id
        .clone()
        .ok_or_else(|| OAuthError::bad_request("invalid_request", "Missing client_id parameter"))?;
    let now = shared.now();
    let mut store = shared.lock();
    store.maybe_purge(now);
    let client =
        find_client(shared, &store, env_id, &client_id).ok_or_else(OAuthError::invalid_client)?;
    if !client.has_grant("DEVICE_CODE") {
        return Err(OAuthError::bad_request(
            "unauthorized_client",
            "The client is not authorized to use the device_code grant type",
        ));
    }
    authenticate(&client, &p)?;
    let scope = form
        .get("scope")
        .map(|s| {
            s.split(' ')
                .filter(|x| !x.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "openid".to_owned());
    if !valid_scope(&scope) {
        return Err(OAuthError::bad_request(
            "invalid_scope",
            format!("The requested scope is invalid or not granted to the application: {scope}"),
        ));
    }
    let app = store
        .envs
        .get(env_id)
        .and_then(|e| e.applications.get(&client.id))
        .ok_or_else(OAuthError::invalid_client)?;
    let (timeout, interval) = (app.device_timeout, app.device_polling_interval);
    let base = shared.base(headers, uri);
    let verification_uri = match (&app.device_custom_verification_uri, &app.device_path_id) {
        (Some(custom), _) => custom.clone(),
        (None, Some(path_id)) => format!("{base}/{env_id}/device/{path_id}"),
        (None, None) => format!("{base}/{env_id}/device"),
    };
    let user_code = new_user_code(&store);
    let device_code = uuid::Uuid::new_v4().to_string();
    store
        .user_codes
        .insert(normalize_user_code(&user_code), device_code.clone());
    store.devices.insert(
        device_code.clone(),
        DeviceRecord {
            env_id: env_id.to_owned(),
            client_id: client.id.clone(),
            user_code: user_code.clone(),
            scope,
            expires_at: now + Duration::seconds(timeout),
            interval,
            last_poll: None,
            state: DeviceState::Pending,
            flow_id: None,
            user_id: None,
        },
    );
    let sep = if verification_uri.contains('?') {
        '&'
    } else {
        '?'
    };
    let complete = format!("{verification_uri}{sep}user_code={user_code}");
    Ok(oauth_json(
        StatusCode::OK,
        &json!({
            "device_code": device_code,
            "user_code": user_code,
            "verification_uri": verification_uri,
            "verification_uri_complete": complete,
            "expires_in": timeout,
            "interval": interval,
        }),
    ))
}
