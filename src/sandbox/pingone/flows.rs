//! The browser side of the device grant on the auth host: `GET /{envID}/device[/{app}]`
//! starts a sign-on flow (302 to the hosted sign-on page, `ST` session cookie), and
//! `GET`/`POST /{envID}/flows/{flowID}` drive its state machine:
//!
//! ```text
//! USERNAME_PASSWORD_REQUIRED --usernamePassword.check--> DAG_USER_CODE_REQUIRED
//!     (or MUST_CHANGE_PASSWORD --password.reset--> DAG_USER_CODE_REQUIRED)
//! DAG_USER_CODE_REQUIRED --deviceAuthGrant.userCode.verify--> DAG_CONSENT_REQUIRED
//! DAG_CONSENT_REQUIRED --deviceAuthGrant.consent--> COMPLETED | FAILED
//! ```

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Duration, Utc};
use serde_json::{json, Map, Value};

use super::errors::{Detail, P1Error};
use super::http::{
    cookie, hal, json_object, link, media_type, query_param, random_string, timestamp,
};
use super::password_policy::{self, LOCKOUT_FAILURES, LOCKOUT_SECONDS};
use super::store::{
    normalize_user_code, DeviceState, Flow, FlowStatus, Session, Store, FLOW_TTL, SESSION_TTL,
};
use super::users::{password_history, profile_of, store_password};
use super::Shared;

/// Name of the session cookie set by `GET /{envID}/device`.
pub(crate) const SESSION_COOKIE: &str = "ST";
/// Wrong user codes a flow accepts before it fails.
pub(crate) const USER_CODE_ATTEMPTS: u32 = 5;
/// Message for bad credentials.
pub(crate) const BAD_CREDENTIALS: &str = "Invalid username and/or password.";

/// The flow actions, named after their media type `application/vnd.pingidentity.<name>+json`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Action {
    UsernamePasswordCheck,
    PasswordReset,
    UserCodeVerify,
    Consent,
}

impl Action {
    const ALL: [Action; 4] = [
        Action::UsernamePasswordCheck,
        Action::PasswordReset,
        Action::UserCodeVerify,
        Action::Consent,
    ];

    fn name(self) -> &'static str {
        match self {
            Self::UsernamePasswordCheck => "usernamePassword.check",
            Self::PasswordReset => "password.reset",
            Self::UserCodeVerify => "deviceAuthGrant.userCode.verify",
            Self::Consent => "deviceAuthGrant.consent",
        }
    }

    fn from_media_type(media: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| {
            media == format!("application/vnd.pingidentity.{}+json", a.name()).to_ascii_lowercase()
        })
    }

    /// The status in which the action is allowed.
    fn allowed_in(self) -> FlowStatus {
        match self {
            Self::UsernamePasswordCheck => FlowStatus::UsernamePasswordRequired,
            Self::PasswordReset => FlowStatus::MustChangePassword,
            Self::UserCodeVerify => FlowStatus::DagUserCodeRequired,
            Self::Consent => FlowStatus::DagConsentRequired,
        }
    }

    /// `_links` keys advertising the action. The user-code link is given under both names
    /// PingOne's docs use for it (unconfirmed which one the service sends).
    fn link_keys(self) -> &'static [&'static str] {
        match self {
            Self::UsernamePasswordCheck => &["usernamePassword.check"],
            Self::PasswordReset => &["password.reset"],
            Self::UserCodeVerify => &["deviceAuthGrant.userCode.verify", "userCode.verify"],
            Self::Consent => &["deviceAuthGrant.consent"],
        }
    }
}

fn action_for(status: FlowStatus) -> Option<Action> {
    Action::ALL.into_iter().find(|a| a.allowed_in() == status)
}

fn flow_href(base: &str, env_id: &str, flow_id: &str) -> String {
    format!("{base}/{env_id}/flows/{flow_id}")
}

fn signon_href(base: &str, env_id: &str, flow_id: &str) -> String {
    format!("{base}/{env_id}/signon/?flowId={flow_id}")
}

fn flow_json(base: &str, store: &Store, flow: &Flow) -> Value {
    let href = flow_href(base, &flow.env_id, &flow.id);
    let mut links = Map::new();
    links.insert("self".into(), link(&href));
    if let Some(action) = action_for(flow.status) {
        for key in action.link_keys() {
            links.insert((*key).into(), link(&href));
        }
    }
    links.insert(
        "signOnPage".into(),
        link(signon_href(base, &flow.env_id, &flow.id)),
    );
    let env = store.envs.get(&flow.env_id);
    let user = flow
        .user_id
        .as_ref()
        .and_then(|id| env.and_then(|e| e.users.get(id)));
    let app = flow
        .app_id
        .as_ref()
        .and_then(|id| env.and_then(|e| e.applications.get(id)));

    let mut body = Map::new();
    body.insert("_links".into(), Value::Object(links));
    body.insert("id".into(), json!(flow.id));
    body.insert("environment".into(), json!({ "id": flow.env_id }));
    if flow.user_id.is_some() {
        if let Some(session) = store.sessions.get(&flow.session_token) {
            body.insert("session".into(), json!({ "id": session.id }));
        }
    }
    body.insert(
        "resumeUrl".into(),
        json!(format!(
            "{base}/{}/as/resume?flowId={}",
            flow.env_id, flow.id
        )),
    );
    body.insert("status".into(), json!(flow.status.as_str()));
    body.insert("createdAt".into(), json!(timestamp(flow.created_at)));
    body.insert("expiresAt".into(), json!(timestamp(flow.expires_at)));
    if flow.status == FlowStatus::DagUserCodeRequired {
        if let Some(code) = &flow.prefilled_user_code {
            body.insert("userCode".into(), json!(code));
        }
    }
    if let Some((code, message)) = &flow.failure {
        body.insert("error".into(), json!({ "code": code, "message": message }));
    }
    let mut embedded = Map::new();
    if let Some(app) = app {
        embedded.insert("application".into(), json!({ "name": app.name }));
    }
    if let Some(user) = user {
        let mut u = Map::new();
        u.insert("id".into(), json!(user.id));
        u.insert("username".into(), json!(user.username));
        if let Some(name) = user.name() {
            u.insert("name".into(), name.clone());
        }
        embedded.insert("user".into(), Value::Object(u));
    }
    if flow.status == FlowStatus::DagConsentRequired {
        let scopes = flow
            .device_code
            .as_ref()
            .and_then(|c| store.devices.get(c))
            .map(|d| {
                d.scope
                    .split(' ')
                    .map(|s| json!({ "name": s }))
                    .collect::<Vec<_>>()
            })
            .unwrap_or_default();
        embedded.insert("scopes".into(), Value::Array(scopes));
    }
    if !embedded.is_empty() {
        body.insert("_embedded".into(), Value::Object(embedded));
    }
    Value::Object(body)
}

/// GET `/{envID}/device`.
pub(crate) async fn start(
    State(shared): State<Arc<Shared>>,
    Path(env_id): Path<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, P1Error> {
    start_flow(&shared, &env_id, None, &headers, &uri)
}

/// GET `/{envID}/device/{appIdentifier}` (application id or `devicePathId`).
pub(crate) async fn start_for_app(
    State(shared): State<Arc<Shared>>,
    Path((env_id, app)): Path<(String, String)>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, P1Error> {
    start_flow(&shared, &env_id, Some(&app), &headers, &uri)
}

fn start_flow(
    shared: &Shared,
    env_id: &str,
    app_ident: Option<&str>,
    headers: &HeaderMap,
    uri: &Uri,
) -> Result<Response, P1Error> {
    let now = shared.now();
    let mut store = shared.lock();
    store.maybe_purge(now);
    let env = store.envs.get(env_id).ok_or_else(P1Error::not_found)?;
    let app_id = match app_ident {
        None => None,
        Some(ident) => Some(
            env.app_by_identifier(ident)
                .filter(|a| a.enabled && a.has_grant("DEVICE_CODE"))
                .map(|a| a.id.clone())
                .ok_or_else(P1Error::not_found)?,
        ),
    };
    // Reuse the browser's session when it presents a live one for this environment.
    let existing = cookie(headers, SESSION_COOKIE).filter(|st| {
        store
            .sessions
            .get(st)
            .is_some_and(|s| s.env_id == env_id && s.expires_at > now)
    });
    let st = existing.unwrap_or_else(|| random_string(32));
    let session = store.sessions.entry(st.clone()).or_insert_with(|| Session {
        id: uuid::Uuid::new_v4().to_string(),
        env_id: env_id.to_owned(),
        expires_at: now,
    });
    session.expires_at = now + SESSION_TTL;

    let flow = Flow {
        id: uuid::Uuid::new_v4().to_string(),
        env_id: env_id.to_owned(),
        app_id,
        status: FlowStatus::UsernamePasswordRequired,
        created_at: now,
        expires_at: now + FLOW_TTL,
        session_token: st.clone(),
        user_id: None,
        device_code: None,
        prefilled_user_code: query_param(uri, "user_code"),
        user_code_failures: 0,
        failure: None,
    };
    let base = shared.base(headers, uri);
    let location = signon_href(&base, env_id, &flow.id);
    store.flows.insert(flow.id.clone(), flow);
    drop(store);

    let mut res = StatusCode::FOUND.into_response();
    let h = res.headers_mut();
    if let Ok(v) = HeaderValue::from_str(&location) {
        h.insert(header::LOCATION, v);
    }
    if let Ok(v) =
        HeaderValue::from_str(&format!("{SESSION_COOKIE}={st}; Path=/{env_id}; HttpOnly"))
    {
        h.insert(header::SET_COOKIE, v);
    }
    Ok(res)
}

/// Finds a live flow and checks its session cookie.
fn live_flow<'a>(
    shared: &Shared,
    store: &'a mut Store,
    env_id: &str,
    flow_id: &str,
    headers: &HeaderMap,
    now: DateTime<Utc>,
) -> Result<&'a mut Flow, P1Error> {
    if !store.envs.contains_key(env_id) {
        return Err(P1Error::not_found());
    }
    let flow = store
        .flows
        .get(flow_id)
        .filter(|f| f.env_id == env_id && now <= f.expires_at)
        .ok_or_else(P1Error::not_found)?;
    if shared.config.require_session_cookie
        && cookie(headers, SESSION_COOKIE).as_deref() != Some(flow.session_token.as_str())
    {
        return Err(P1Error::invalid_token());
    }
    let st = flow.session_token.clone();
    if let Some(s) = store.sessions.get_mut(&st) {
        s.expires_at = s.expires_at.max(now + SESSION_TTL);
    }
    store.flows.get_mut(flow_id).ok_or_else(P1Error::not_found)
}

/// GET `/{envID}/flows/{flowID}`.
pub(crate) async fn get_flow(
    State(shared): State<Arc<Shared>>,
    Path((env_id, flow_id)): Path<(String, String)>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, P1Error> {
    let now = shared.now();
    let mut store = shared.lock();
    live_flow(&shared, &mut store, &env_id, &flow_id, &headers, now)?;
    let base = shared.base(&headers, &uri);
    let flow = store.flows.get(&flow_id).ok_or_else(P1Error::not_found)?;
    Ok(hal(StatusCode::OK, &flow_json(&base, &store, flow)))
}

/// POST `/{envID}/flows/{flowID}`: the action is chosen by the Content-Type.
pub(crate) async fn post_flow(
    State(shared): State<Arc<Shared>>,
    Path((env_id, flow_id)): Path<(String, String)>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Result<Response, P1Error> {
    let now = shared.now();
    let mut store = shared.lock();
    store.maybe_purge(now);
    let status = live_flow(&shared, &mut store, &env_id, &flow_id, &headers, now)?.status;
    let media = media_type(&headers).unwrap_or_default();
    let action = Action::from_media_type(&media).ok_or_else(|| {
        P1Error::invalid_request(Some(Detail::untargeted(
            "INVALID_VALUE",
            format!("Unsupported Content-Type '{media}' for a flow action."),
        )))
    })?;
    if action.allowed_in() != status {
        return Err(P1Error::invalid_request(Some(Detail::untargeted(
            "INVALID_VALUE",
            format!(
                "The action '{}' is not allowed when the flow status is {}.",
                action.name(),
                status.as_str()
            ),
        ))));
    }
    let input = json_object(&body)?;
    match action {
        Action::UsernamePasswordCheck => {
            check_username_password(&mut store, &flow_id, &input, now)?
        }
        Action::PasswordReset => reset_password(&mut store, &flow_id, &input, now)?,
        Action::UserCodeVerify => verify_user_code(&mut store, &flow_id, &input, now)?,
        Action::Consent => consent(&mut store, &flow_id, &input, now)?,
    }
    let base = shared.base(&headers, &uri);
    let flow = store.flows.get(&flow_id).ok_or_else(P1Error::not_found)?;
    Ok(hal(StatusCode::OK, &flow_json(&base, &store, flow)))
}

/// A required string field: missing → `INVALID_REQUEST`, not a string → `INVALID_DATA`.
fn string_field(input: &Map<String, Value>, key: &str) -> Result<String, P1Error> {
    match input.get(key) {
        None | Some(Value::Null) => Err(P1Error::invalid_request(Some(Detail::required(key)))),
        Some(Value::String(s)) => Ok(s.clone()),
        Some(_) => Err(P1Error::invalid_data(vec![Detail::invalid(
            key,
            "Invalid value for attribute.",
        )])),
    }
}

fn flow_mut<'a>(store: &'a mut Store, flow_id: &str) -> Result<&'a mut Flow, P1Error> {
    store.flows.get_mut(flow_id).ok_or_else(P1Error::not_found)
}

fn advance(flow: &mut Flow, status: FlowStatus, now: DateTime<Utc>) {
    flow.status = status;
    flow.expires_at = now + FLOW_TTL;
}

fn check_username_password(
    store: &mut Store,
    flow_id: &str,
    input: &Map<String, Value>,
    now: DateTime<Utc>,
) -> Result<(), P1Error> {
    let username = string_field(input, "username")?;
    let password = string_field(input, "password")?;
    let env_id = flow_mut(store, flow_id)?.env_id.clone();
    let bad_credentials =
        || P1Error::invalid_data(vec![Detail::invalid("username", BAD_CREDENTIALS)]);
    let env = store.envs.get_mut(&env_id).ok_or_else(P1Error::not_found)?;
    let Some(user) = env
        .users
        .values_mut()
        .find(|u| u.username.eq_ignore_ascii_case(&username))
    else {
        return Err(bad_credentials());
    };
    if let Some(until) = user.locked_until.filter(|t| *t > now) {
        return Err(P1Error::invalid_data(vec![Detail::invalid(
            "username",
            "The account is locked because of too many failed sign-on attempts.",
        )
        .with_inner(
            json!({ "secondsUntilUnlock": (until - now).num_seconds() }),
        )]));
    }
    let matches = user.enabled && user.password.as_ref().is_some_and(|p| p.value == password);
    if !matches {
        user.failed_logins += 1;
        if user.failed_logins >= LOCKOUT_FAILURES {
            user.failed_logins = 0;
            user.locked_until = Some(now + Duration::seconds(LOCKOUT_SECONDS));
        }
        return Err(bad_credentials());
    }
    user.failed_logins = 0;
    user.locked_until = None;
    let must_change = user.password.as_ref().is_some_and(|p| p.must_change);
    let user_id = user.id.clone();
    let flow = flow_mut(store, flow_id)?;
    flow.user_id = Some(user_id);
    let next = if must_change {
        FlowStatus::MustChangePassword
    } else {
        FlowStatus::DagUserCodeRequired
    };
    advance(flow, next, now);
    Ok(())
}

fn reset_password(
    store: &mut Store,
    flow_id: &str,
    input: &Map<String, Value>,
    now: DateTime<Utc>,
) -> Result<(), P1Error> {
    let current = string_field(input, "currentPassword")?;
    let new = string_field(input, "newPassword")?;
    let flow = flow_mut(store, flow_id)?;
    let (env_id, user_id) = (
        flow.env_id.clone(),
        flow.user_id.clone().unwrap_or_default(),
    );
    let user = store
        .envs
        .get_mut(&env_id)
        .and_then(|e| e.users.get_mut(&user_id))
        .ok_or_else(P1Error::not_found)?;
    if user.password.as_ref().map(|p| p.value.as_str()) != Some(current.as_str()) {
        return Err(P1Error::invalid_data(vec![Detail::invalid(
            "currentPassword",
            "The current password provided for the user is invalid",
        )]));
    }
    let violations = password_policy::check(&new, &profile_of(user), &password_history(user));
    if !violations.is_empty() {
        return Err(P1Error::invalid_data(vec![
            password_policy::violation_detail(
                "newPassword",
                "New password did not satisfy password policy requirements",
                &violations,
            ),
        ]));
    }
    store_password(user, new, false, now);
    advance(
        flow_mut(store, flow_id)?,
        FlowStatus::DagUserCodeRequired,
        now,
    );
    Ok(())
}

fn verify_user_code(
    store: &mut Store,
    flow_id: &str,
    input: &Map<String, Value>,
    now: DateTime<Utc>,
) -> Result<(), P1Error> {
    let given = string_field(input, "userCode")?;
    let flow = flow_mut(store, flow_id)?;
    let (env_id, app_id) = (flow.env_id.clone(), flow.app_id.clone());
    let device_code = store
        .user_codes
        .get(&normalize_user_code(&given))
        .cloned()
        .filter(|code| {
            store.devices.get(code).is_some_and(|d| {
                d.env_id == env_id
                    && d.state == DeviceState::Pending
                    && now <= d.expires_at
                    && d.flow_id.as_deref().is_none_or(|f| f == flow_id)
                    && app_id.as_deref().is_none_or(|a| a == d.client_id)
            })
        });
    let Some(device_code) = device_code else {
        let flow = flow_mut(store, flow_id)?;
        flow.user_code_failures += 1;
        let remaining = USER_CODE_ATTEMPTS.saturating_sub(flow.user_code_failures);
        if remaining == 0 {
            flow.status = FlowStatus::Failed;
            flow.failure = Some((
                "TOO_MANY_ATTEMPTS",
                "Too many invalid user codes were entered.".to_owned(),
            ));
        }
        return Err(P1Error::invalid_data(vec![Detail::invalid(
            "userCode",
            "The user code is invalid, expired or already used.",
        )
        .with_inner(json!({ "failuresRemaining": remaining }))]));
    };
    let flow = flow_mut(store, flow_id)?;
    let user_id = flow.user_id.clone();
    let mut client_id = None;
    if let Some(record) = store.devices.get_mut(&device_code) {
        record.flow_id = Some(flow_id.to_owned());
        record.user_id = user_id;
        client_id = Some(record.client_id.clone());
    }
    let flow = flow_mut(store, flow_id)?;
    flow.device_code = Some(device_code);
    if flow.app_id.is_none() {
        flow.app_id = client_id;
    }
    advance(flow, FlowStatus::DagConsentRequired, now);
    Ok(())
}

fn consent(
    store: &mut Store,
    flow_id: &str,
    input: &Map<String, Value>,
    now: DateTime<Utc>,
) -> Result<(), P1Error> {
    let accept = match input.get("accept") {
        None | Some(Value::Null) => {
            return Err(P1Error::invalid_request(Some(Detail::required("accept"))))
        }
        Some(Value::Bool(b)) => *b,
        Some(_) => {
            return Err(P1Error::invalid_data(vec![Detail::invalid(
                "accept",
                "Invalid value for attribute.",
            )]))
        }
    };
    let device_code = flow_mut(store, flow_id)?
        .device_code
        .clone()
        .unwrap_or_default();
    let live = store
        .devices
        .get_mut(&device_code)
        .filter(|d| d.state == DeviceState::Pending && now <= d.expires_at);
    let Some(record) = live else {
        let flow = flow_mut(store, flow_id)?;
        advance(flow, FlowStatus::Failed, now);
        flow.failure = Some((
            "EXPIRED",
            "The device authorization request expired before consent.".to_owned(),
        ));
        return Err(P1Error::invalid_data(vec![Detail::invalid(
            "userCode",
            "The device authorization request has expired.",
        )]));
    };
    record.state = if accept {
        DeviceState::Authorized
    } else {
        DeviceState::Denied
    };
    let flow = flow_mut(store, flow_id)?;
    if accept {
        advance(flow, FlowStatus::Completed, now);
    } else {
        advance(flow, FlowStatus::Failed, now);
        flow.failure = Some((
            "ACCESS_DENIED",
            "The user refused to grant the device access.".to_owned(),
        ));
    }
    Ok(())
}

/// GET `/{envID}/signon/`: a placeholder for PingOne's hosted sign-on UI.
pub(crate) async fn signon_page(
    State(shared): State<Arc<Shared>>,
    Path(env_id): Path<String>,
    uri: Uri,
) -> Result<Response, P1Error> {
    if !shared.lock().envs.contains_key(&env_id) {
        return Err(P1Error::not_found());
    }
    let flow = query_param(&uri, "flowId").unwrap_or_default();
    let escaped: String = flow
        .chars()
        .filter(|c| c.is_ascii_alphanumeric() || *c == '-')
        .collect();
    let html = format!(
        "<!doctype html><html><head><title>PingOne sandbox sign-on</title></head><body>\
         <p>Stepwise PingOne sandbox: this page stands in for the hosted sign-on UI of flow \
         <code>{escaped}</code>. Drive the flow through <code>/{env_id}/flows/{escaped}</code>.</p>\
         </body></html>"
    );
    let mut res = (StatusCode::OK, html).into_response();
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("text/html; charset=utf-8"),
    );
    Ok(res)
}
