//! Management API (`/v1/environments/{envID}/...`, PingOne's `api` host): the Bearer-token
//! guard, the environment resource, applications and populations. Users and passwords live
//! in `users.rs`.

use std::sync::{Arc, LazyLock};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use regex::Regex;
use serde_json::{json, Map, Value};

use super::errors::{Detail, P1Error};
use super::http::{
    bearer_token, created, hal, json_object, link, random_string, require_json, timestamp,
};
use super::store::{Application, Environment, Population, Store, TokenKind};
use super::Shared;

/// Allowed values of `type`.
pub(crate) const APP_TYPES: &[&str] = &[
    "WEB_APP",
    "NATIVE_APP",
    "SINGLE_PAGE_APP",
    "WORKER",
    "SERVICE",
    "CUSTOM_APP",
    "PING_ONE_SELF_SERVICE",
    "PING_ONE_ADMIN_CONSOLE",
    "PING_ONE_PORTAL",
    "TEMPLATE_APP",
    "PORTAL_LINK_APP",
];
/// Allowed values of `protocol`.
pub(crate) const PROTOCOLS: &[&str] = &["OPENID_CONNECT", "SAML", "WS_FED", "EXTERNAL_LINK"];
/// Allowed values of `grantTypes[]`.
pub(crate) const GRANT_TYPES: &[&str] = &[
    "AUTHORIZATION_CODE",
    "IMPLICIT",
    "REFRESH_TOKEN",
    "CLIENT_CREDENTIALS",
    "DEVICE_CODE",
    "TOKEN_EXCHANGE",
    "CIBA",
];
/// Allowed values of `tokenEndpointAuthMethod`.
pub(crate) const AUTH_METHODS: &[&str] = &[
    "NONE",
    "CLIENT_SECRET_BASIC",
    "CLIENT_SECRET_POST",
    "PRIVATE_KEY_JWT",
    "CLIENT_SECRET_JWT",
];
const PKCE_ENFORCEMENT: &[&str] = &["OPTIONAL", "REQUIRED", "S256_REQUIRED"];
/// `devicePathId` pattern.
pub(crate) const DEVICE_PATH_ID_PATTERN: &str = "^[a-zA-Z0-9_-]{1,50}$";
static DEVICE_PATH_ID: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(DEVICE_PATH_ID_PATTERN).ok());

/// The message PingOne uses for a value of the wrong type.
pub(crate) const INVALID_VALUE_MESSAGE: &str = "Invalid value for attribute.";

/// Checks the Bearer token and the environment of a management call.
///
/// Missing, unknown or expired token → 401 `ACCESS_FAILED`/`INVALID_TOKEN`; a token that is not
/// the worker's (a user's or another client's) → 403 `INSUFFICIENT_PERMISSIONS`; unknown
/// environment → 404 `NOT_FOUND`.
pub(crate) fn authorize(
    shared: &Shared,
    store: &Store,
    headers: &HeaderMap,
    env_id: &str,
) -> Result<(), P1Error> {
    let now = shared.now();
    let token = bearer_token(headers).ok_or_else(P1Error::invalid_token)?;
    let record = store
        .tokens
        .get(&token)
        .filter(|t| t.expires_at > now)
        .ok_or_else(P1Error::invalid_token)?;
    if record.kind != TokenKind::Worker {
        return Err(P1Error::insufficient_permissions());
    }
    if !store.envs.contains_key(env_id) {
        return Err(P1Error::not_found());
    }
    Ok(())
}

/// `{api}/environments/{envID}`.
pub(crate) fn env_href(base: &str, env_id: &str) -> String {
    format!("{base}/v1/environments/{env_id}")
}

fn env_mut<'a>(store: &'a mut Store, env_id: &str) -> Result<&'a mut Environment, P1Error> {
    store.envs.get_mut(env_id).ok_or_else(P1Error::not_found)
}

fn env_ref<'a>(store: &'a Store, env_id: &str) -> Result<&'a Environment, P1Error> {
    store.envs.get(env_id).ok_or_else(P1Error::not_found)
}

/// GET `/environments/{envID}`.
pub(crate) async fn get_environment(
    State(shared): State<Arc<Shared>>,
    Path(env_id): Path<String>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, P1Error> {
    let store = shared.lock();
    authorize(&shared, &store, &headers, &env_id)?;
    let env = env_ref(&store, &env_id)?;
    let base = shared.base(&headers, &uri);
    let body = json!({
        "_links": { "self": link(env_href(&base, &env_id)) },
        "id": env.id,
        "name": "Stepwise Sandbox",
        "type": "SANDBOX",
        "region": "NA",
        "createdAt": timestamp(env.created_at),
        "updatedAt": timestamp(env.created_at),
    });
    Ok(hal(StatusCode::OK, &body))
}

/// Reads an integer the way PingOne's management services do: floats are truncated.
pub(crate) fn int_value(v: &Value) -> Option<i64> {
    if let Some(i) = v.as_i64() {
        return Some(i);
    }
    v.as_f64()
        .filter(|f| f.is_finite() && f.abs() < 9.0e18)
        .map(|f| f.trunc() as i64)
}

fn enum_detail(target: &str, value: &str, allowed: &[&str]) -> Detail {
    Detail::invalid(
        target,
        format!("'{value}' is not a valid value for '{target}'."),
    )
    .with_inner(json!({ "allowedValues": allowed }))
}

fn range_detail(target: &str, min: i64, max: i64) -> Detail {
    Detail::invalid(target, format!("Value must be between {min} and {max}."))
        .with_inner(json!({ "rangeMinimumValue": min, "rangeMaximumValue": max }))
}

/// Validation helpers that collect every problem of a body.
pub(crate) struct Checker<'a> {
    pub body: &'a Map<String, Value>,
    pub details: Vec<Detail>,
}

impl<'a> Checker<'a> {
    pub(crate) fn new(body: &'a Map<String, Value>) -> Self {
        Self {
            body,
            details: Vec::new(),
        }
    }

    /// A present, non-null attribute.
    fn present(&self, key: &str) -> Option<&'a Value> {
        self.body.get(key).filter(|v| !v.is_null())
    }

    pub(crate) fn required_string(&mut self, key: &str) -> Option<String> {
        match self.present(key) {
            None => {
                self.details.push(Detail::required(key));
                None
            }
            Some(v) => self.string_value(key, v),
        }
    }

    pub(crate) fn optional_string(&mut self, key: &str) -> Option<String> {
        let v = self.present(key)?;
        self.string_value(key, v)
    }

    fn string_value(&mut self, key: &str, v: &Value) -> Option<String> {
        match v.as_str() {
            Some(s) if !s.trim().is_empty() => Some(s.to_owned()),
            Some(_) => {
                self.details
                    .push(Detail::invalid(key, format!("'{key}' must not be empty.")));
                None
            }
            None => {
                self.details
                    .push(Detail::invalid(key, INVALID_VALUE_MESSAGE));
                None
            }
        }
    }

    pub(crate) fn required_bool(&mut self, key: &str) -> Option<bool> {
        match self.present(key) {
            None => {
                self.details.push(Detail::required(key));
                None
            }
            Some(v) => self.bool_value(key, v),
        }
    }

    pub(crate) fn optional_bool(&mut self, key: &str) -> Option<bool> {
        let v = self.present(key)?;
        self.bool_value(key, v)
    }

    fn bool_value(&mut self, key: &str, v: &Value) -> Option<bool> {
        let b = v.as_bool();
        if b.is_none() {
            self.details
                .push(Detail::invalid(key, INVALID_VALUE_MESSAGE));
        }
        b
    }

    fn required_enum(&mut self, key: &str, allowed: &[&str]) -> Option<String> {
        let s = self.required_string(key)?;
        self.check_enum(key, s, allowed)
    }

    fn optional_enum(&mut self, key: &str, allowed: &[&str]) -> Option<String> {
        let s = self.optional_string(key)?;
        self.check_enum(key, s, allowed)
    }

    fn check_enum(&mut self, key: &str, s: String, allowed: &[&str]) -> Option<String> {
        if allowed.contains(&s.as_str()) {
            Some(s)
        } else {
            self.details.push(enum_detail(key, &s, allowed));
            None
        }
    }

    fn optional_int(&mut self, key: &str, min: i64, max: i64) -> Option<i64> {
        let v = self.present(key)?;
        match int_value(v) {
            Some(i) if (min..=max).contains(&i) => Some(i),
            Some(_) => {
                self.details.push(range_detail(key, min, max));
                None
            }
            None => {
                self.details
                    .push(Detail::invalid(key, INVALID_VALUE_MESSAGE));
                None
            }
        }
    }

    fn optional_string_array(&mut self, key: &str) -> Option<Vec<String>> {
        let v = self.present(key)?;
        let items: Option<Vec<String>> = v
            .as_array()
            .and_then(|a| a.iter().map(|i| i.as_str().map(str::to_owned)).collect());
        if items.is_none() {
            self.details
                .push(Detail::invalid(key, INVALID_VALUE_MESSAGE));
        }
        items
    }

    fn required_enum_array(&mut self, key: &str, allowed: &[&str]) -> Option<Vec<String>> {
        let Some(v) = self.present(key) else {
            self.details.push(Detail::required(key));
            return None;
        };
        let Some(items) = v.as_array() else {
            self.details
                .push(Detail::invalid(key, INVALID_VALUE_MESSAGE));
            return None;
        };
        if items.is_empty() {
            self.details.push(
                Detail::invalid(key, format!("'{key}' must contain at least one value."))
                    .with_inner(json!({ "allowedValues": allowed })),
            );
            return None;
        }
        let mut out: Vec<String> = Vec::new();
        let mut ok = true;
        for item in items {
            match item.as_str() {
                Some(s) if allowed.contains(&s) => {
                    if !out.iter().any(|o| o == s) {
                        out.push(s.to_owned());
                    }
                }
                Some(s) => {
                    self.details.push(enum_detail(key, s, allowed));
                    ok = false;
                }
                None => {
                    self.details
                        .push(Detail::invalid(key, INVALID_VALUE_MESSAGE));
                    ok = false;
                }
            }
        }
        ok.then_some(out)
    }
}

fn application_json(base: &str, env_id: &str, app: &Application) -> Value {
    let self_href = format!("{}/applications/{}", env_href(base, env_id), app.id);
    let mut links = Map::new();
    links.insert("self".into(), link(&self_href));
    links.insert("environment".into(), link(env_href(base, env_id)));
    if app.secret.is_some() {
        links.insert("secret".into(), link(format!("{self_href}/secret")));
    }
    let mut body = Map::new();
    body.insert("_links".into(), Value::Object(links));
    body.insert("environment".into(), json!({ "id": env_id }));
    body.insert("id".into(), json!(app.id));
    for (k, v) in &app.attributes {
        body.insert(k.clone(), v.clone());
    }
    body.insert("createdAt".into(), json!(timestamp(app.created_at)));
    body.insert("updatedAt".into(), json!(timestamp(app.updated_at)));
    Value::Object(body)
}

/// POST `/environments/{envID}/applications`.
pub(crate) async fn create_application(
    State(shared): State<Arc<Shared>>,
    Path(env_id): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Result<Response, P1Error> {
    let now = shared.now();
    let mut store = shared.lock();
    authorize(&shared, &store, &headers, &env_id)?;
    store.maybe_purge(now);
    require_json(&headers)?;
    let input = json_object(&body)?;
    let env = env_mut(&mut store, &env_id)?;

    let mut c = Checker::new(&input);
    let enabled = c.required_bool("enabled");
    let name = c.required_string("name");
    let description = c.optional_string("description");
    let app_type = c.required_enum("type", APP_TYPES);
    let protocol = c.required_enum("protocol", PROTOCOLS);
    let grant_types = c.required_enum_array("grantTypes", GRANT_TYPES);
    let auth_method = c.required_enum("tokenEndpointAuthMethod", AUTH_METHODS);
    let device_timeout = c.optional_int("deviceTimeout", 1, 3600);
    let device_polling_interval = c.optional_int("devicePollingInterval", 1, 60);
    let device_path_id = c.optional_string("devicePathId");
    let custom_uri = c.optional_string("deviceCustomVerificationUri");
    let redirect_uris = c.optional_string_array("redirectUris");
    let post_logout = c.optional_string_array("postLogoutRedirectUris");
    let response_types = c.optional_string_array("responseTypes");
    let home_page = c.optional_string("homePageUrl");
    let login_page = c.optional_string("loginPageUrl");
    let pkce = c.optional_enum("pkceEnforcement", PKCE_ENFORCEMENT);
    let refresh_duration = c.optional_int("refreshTokenDuration", 60, 2_147_483_647);
    let refresh_rolling = c.optional_int("refreshTokenRollingDuration", 60, 2_147_483_647);
    let mut details = c.details;

    if let Some(p) = &protocol {
        if p != "OPENID_CONNECT" {
            details.push(
                Detail::invalid(
                    "protocol",
                    format!("The sandbox only emulates OPENID_CONNECT applications, not '{p}'."),
                )
                .with_inner(json!({ "allowedValues": ["OPENID_CONNECT"] })),
            );
        }
    }
    if let Some(id) = &device_path_id {
        let valid = DEVICE_PATH_ID.as_ref().is_some_and(|re| re.is_match(id));
        if !valid {
            details.push(
                Detail::invalid("devicePathId", "Value does not match the allowed pattern.")
                    .with_inner(json!({ "allowedPattern": DEVICE_PATH_ID_PATTERN })),
            );
        } else if env
            .applications
            .values()
            .any(|a| a.device_path_id.as_deref() == Some(id.as_str()))
        {
            details.push(Detail::new(
                "UNIQUENESS_VIOLATION",
                "devicePathId",
                "'devicePathId' must be unique within the environment.",
            ));
        }
    }
    if let Some(n) = &name {
        if env.applications.values().any(|a| a.name == *n) {
            details.push(Detail::new(
                "UNIQUENESS_VIOLATION",
                "name",
                "An application with this name already exists in the environment.",
            ));
        }
    }
    let (
        Some(enabled),
        Some(name),
        Some(app_type),
        Some(protocol),
        Some(grant_types),
        Some(auth_method),
    ) = (enabled, name, app_type, protocol, grant_types, auth_method)
    else {
        return Err(P1Error::invalid_data(details));
    };
    if !details.is_empty() {
        return Err(P1Error::invalid_data(details));
    }

    let device_timeout = device_timeout.unwrap_or(600);
    let device_polling_interval = device_polling_interval.unwrap_or(5);
    let mut attrs = Map::new();
    attrs.insert("enabled".into(), json!(enabled));
    attrs.insert("name".into(), json!(name));
    if let Some(d) = description {
        attrs.insert("description".into(), json!(d));
    }
    attrs.insert("type".into(), json!(app_type));
    attrs.insert("protocol".into(), json!(protocol));
    attrs.insert("grantTypes".into(), json!(grant_types));
    attrs.insert("tokenEndpointAuthMethod".into(), json!(auth_method));
    for (key, value) in [
        ("responseTypes", response_types),
        ("redirectUris", redirect_uris),
        ("postLogoutRedirectUris", post_logout),
    ] {
        if let Some(v) = value {
            attrs.insert(key.into(), json!(v));
        }
    }
    for (key, value) in [("homePageUrl", home_page), ("loginPageUrl", login_page)] {
        if let Some(v) = value {
            attrs.insert(key.into(), json!(v));
        }
    }
    attrs.insert(
        "pkceEnforcement".into(),
        json!(pkce.unwrap_or_else(|| "OPTIONAL".to_owned())),
    );
    attrs.insert(
        "refreshTokenDuration".into(),
        json!(refresh_duration.unwrap_or(2_592_000)),
    );
    attrs.insert(
        "refreshTokenRollingDuration".into(),
        json!(refresh_rolling.unwrap_or(15_552_000)),
    );
    let is_device = grant_types.iter().any(|g| g == "DEVICE_CODE");
    if is_device || input.contains_key("deviceTimeout") {
        attrs.insert("deviceTimeout".into(), json!(device_timeout));
    }
    if is_device || input.contains_key("devicePollingInterval") {
        attrs.insert(
            "devicePollingInterval".into(),
            json!(device_polling_interval),
        );
    }
    if let Some(p) = &device_path_id {
        attrs.insert("devicePathId".into(), json!(p));
    }
    if let Some(u) = &custom_uri {
        attrs.insert("deviceCustomVerificationUri".into(), json!(u));
    }

    let secret = matches!(
        auth_method.as_str(),
        "CLIENT_SECRET_BASIC" | "CLIENT_SECRET_POST" | "CLIENT_SECRET_JWT"
    )
    .then(|| random_string(48));
    let app = Application {
        id: uuid::Uuid::new_v4().to_string(),
        name,
        enabled,
        grant_types,
        auth_method,
        secret,
        device_timeout,
        device_polling_interval,
        device_path_id,
        device_custom_verification_uri: custom_uri,
        attributes: attrs,
        created_at: now,
        updated_at: now,
    };
    let base = shared.base(&headers, &uri);
    let body = application_json(&base, &env_id, &app);
    env.applications.insert(app.id.clone(), app);
    Ok(created(&body))
}

/// GET `/environments/{envID}/applications/{id}`.
pub(crate) async fn get_application(
    State(shared): State<Arc<Shared>>,
    Path((env_id, id)): Path<(String, String)>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, P1Error> {
    let store = shared.lock();
    authorize(&shared, &store, &headers, &env_id)?;
    let app = env_ref(&store, &env_id)?
        .applications
        .get(&id)
        .ok_or_else(P1Error::not_found)?;
    let base = shared.base(&headers, &uri);
    Ok(hal(StatusCode::OK, &application_json(&base, &env_id, app)))
}

/// GET `/environments/{envID}/applications/{id}/secret` (only apps with a secret).
pub(crate) async fn get_application_secret(
    State(shared): State<Arc<Shared>>,
    Path((env_id, id)): Path<(String, String)>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, P1Error> {
    let store = shared.lock();
    authorize(&shared, &store, &headers, &env_id)?;
    let app = env_ref(&store, &env_id)?
        .applications
        .get(&id)
        .ok_or_else(P1Error::not_found)?;
    let secret = app.secret.as_ref().ok_or_else(P1Error::not_found)?;
    let base = shared.base(&headers, &uri);
    let app_href = format!("{}/applications/{}", env_href(&base, &env_id), app.id);
    let body = json!({
        "_links": {
            "self": link(format!("{app_href}/secret")),
            "application": link(&app_href),
            "environment": link(env_href(&base, &env_id)),
        },
        "environment": { "id": env_id },
        "application": { "id": app.id },
        "secret": secret,
    });
    Ok(hal(StatusCode::OK, &body))
}

/// DELETE `/environments/{envID}/applications/{id}`.
pub(crate) async fn delete_application(
    State(shared): State<Arc<Shared>>,
    Path((env_id, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, P1Error> {
    let mut store = shared.lock();
    authorize(&shared, &store, &headers, &env_id)?;
    env_mut(&mut store, &env_id)?
        .applications
        .shift_remove(&id)
        .ok_or_else(P1Error::not_found)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn population_json(base: &str, env: &Environment, pop: &Population) -> Value {
    let env_link = env_href(base, &env.id);
    let user_count = env
        .users
        .values()
        .filter(|u| u.population_id == pop.id)
        .count();
    let mut body = Map::new();
    body.insert(
        "_links".into(),
        json!({
            "self": link(format!("{env_link}/populations/{}", pop.id)),
            "environment": link(&env_link),
        }),
    );
    body.insert("id".into(), json!(pop.id));
    body.insert("environment".into(), json!({ "id": env.id }));
    for (k, v) in &pop.attributes {
        body.insert(k.clone(), v.clone());
    }
    body.insert("userCount".into(), json!(user_count));
    body.insert("default".into(), json!(pop.default));
    body.insert("createdAt".into(), json!(timestamp(pop.created_at)));
    body.insert("updatedAt".into(), json!(timestamp(pop.updated_at)));
    Value::Object(body)
}

/// POST `/environments/{envID}/populations`.
pub(crate) async fn create_population(
    State(shared): State<Arc<Shared>>,
    Path(env_id): Path<String>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Result<Response, P1Error> {
    let now = shared.now();
    let mut store = shared.lock();
    authorize(&shared, &store, &headers, &env_id)?;
    store.maybe_purge(now);
    require_json(&headers)?;
    let input = json_object(&body)?;
    let env = env_mut(&mut store, &env_id)?;

    let mut c = Checker::new(&input);
    let name = c.required_string("name");
    let description = c.optional_string("description");
    let default = c.optional_bool("default");
    let preferred_language = c.optional_string("preferredLanguage");
    let mut details = c.details;
    if let Some(n) = &name {
        if env
            .populations
            .values()
            .any(|p| p.name.eq_ignore_ascii_case(n))
        {
            details.push(Detail::new(
                "UNIQUENESS_VIOLATION",
                "name",
                "A population with this name already exists in the environment.",
            ));
        }
    }
    let Some(name) = name.filter(|_| details.is_empty()) else {
        return Err(P1Error::invalid_data(details));
    };
    let default = default.unwrap_or(false);
    if default {
        // Only one population is the environment's default.
        for p in env.populations.values_mut() {
            p.default = false;
        }
    }
    let mut attrs = Map::new();
    attrs.insert("name".into(), json!(name));
    if let Some(d) = description {
        attrs.insert("description".into(), json!(d));
    }
    if let Some(l) = preferred_language {
        attrs.insert("preferredLanguage".into(), json!(l));
    }
    let pop = Population {
        id: uuid::Uuid::new_v4().to_string(),
        name,
        default,
        attributes: attrs,
        created_at: now,
        updated_at: now,
    };
    let base = shared.base(&headers, &uri);
    let body = population_json(&base, env, &pop);
    env.populations.insert(pop.id.clone(), pop);
    Ok(created(&body))
}

/// GET `/environments/{envID}/populations/{id}`.
pub(crate) async fn get_population(
    State(shared): State<Arc<Shared>>,
    Path((env_id, id)): Path<(String, String)>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, P1Error> {
    let store = shared.lock();
    authorize(&shared, &store, &headers, &env_id)?;
    let env = env_ref(&store, &env_id)?;
    let pop = env.populations.get(&id).ok_or_else(P1Error::not_found)?;
    let base = shared.base(&headers, &uri);
    Ok(hal(StatusCode::OK, &population_json(&base, env, pop)))
}

/// DELETE `/environments/{envID}/populations/{id}` (refused while it has users).
pub(crate) async fn delete_population(
    State(shared): State<Arc<Shared>>,
    Path((env_id, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, P1Error> {
    let mut store = shared.lock();
    authorize(&shared, &store, &headers, &env_id)?;
    let env = env_mut(&mut store, &env_id)?;
    if !env.populations.contains_key(&id) {
        return Err(P1Error::not_found());
    }
    if env.users.values().any(|u| u.population_id == id) {
        return Err(P1Error::invalid_request(Some(Detail::untargeted(
            "INVALID_VALUE",
            "The population cannot be deleted because it contains users.",
        ))));
    }
    env.populations.shift_remove(&id);
    Ok(StatusCode::NO_CONTENT.into_response())
}
