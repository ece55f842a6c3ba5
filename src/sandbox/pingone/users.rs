//! Management API for users (`/environments/{envID}/users...`) and their password
//! (`PUT .../password` with `application/vnd.pingidentity.password.set+json`).

use std::sync::{Arc, LazyLock};

use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use regex::Regex;
use serde_json::{json, Map, Value};

use super::errors::{Detail, P1Error};
use super::http::{created, hal, json_object, link, media_type, require_json, timestamp};
use super::management::{authorize, env_href, Checker, INVALID_VALUE_MESSAGE};
use super::password_policy::{self, Profile};
use super::store::{Environment, Password, User};
use super::Shared;

/// The only media type `PUT .../password` accepts.
pub(crate) const PASSWORD_SET: &str = "application/vnd.pingidentity.password.set+json";
/// Message of a password that failed the policy.
pub(crate) const POLICY_MESSAGE: &str =
    "User password did not satisfy password policy requirements";

static EMAIL: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"^[^@\s]+@[^@\s]+\.[^@\s]+$").ok());

const NAME_PARTS: &[&str] = &[
    "formatted",
    "given",
    "middle",
    "family",
    "honorificPrefix",
    "honorificSuffix",
];
const OPTIONAL_STRINGS: &[&str] = &[
    "nickname",
    "title",
    "preferredLanguage",
    "locale",
    "timezone",
    "primaryPhone",
    "mobilePhone",
    "externalId",
    "type",
];

fn user_href(base: &str, env_id: &str, user_id: &str) -> String {
    format!("{}/users/{user_id}", env_href(base, env_id))
}

/// The user resource as PingOne renders it.
pub(crate) fn user_json(base: &str, env_id: &str, user: &User, now: DateTime<Utc>) -> Value {
    let href = user_href(base, env_id, &user.id);
    let pw = format!("{href}/password");
    let env_link = env_href(base, env_id);
    let mut links = Map::new();
    links.insert("self".into(), link(&href));
    links.insert("environment".into(), link(&env_link));
    links.insert(
        "population".into(),
        link(format!("{env_link}/populations/{}", user.population_id)),
    );
    for rel in [
        "password",
        "password.set",
        "password.reset",
        "password.check",
        "password.recover",
    ] {
        links.insert(rel.into(), link(&pw));
    }
    links.insert("account.sendVerificationCode".into(), link(&href));
    links.insert(
        "linkedAccounts".into(),
        link(format!("{href}/linkedAccounts")),
    );

    let locked = user.locked_until.filter(|t| *t > now);
    let account = match locked {
        Some(until) => json!({
            "canAuthenticate": false,
            "status": "LOCKED",
            "secondsUntilUnlock": (until - now).num_seconds(),
        }),
        None => json!({ "canAuthenticate": true, "status": "OK" }),
    };
    let mut body = Map::new();
    body.insert("_links".into(), Value::Object(links));
    body.insert("id".into(), json!(user.id));
    body.insert("environment".into(), json!({ "id": env_id }));
    body.insert("account".into(), account);
    body.insert("createdAt".into(), json!(timestamp(user.created_at)));
    body.insert("email".into(), json!(user.email));
    body.insert("enabled".into(), json!(user.enabled));
    body.insert("identityProvider".into(), json!({ "type": "PING_ONE" }));
    body.insert("lifecycle".into(), json!({ "status": "ACCOUNT_OK" }));
    body.insert("mfaEnabled".into(), json!(false));
    for (k, v) in &user.attributes {
        body.insert(k.clone(), v.clone());
    }
    body.insert("population".into(), json!({ "id": user.population_id }));
    body.insert("updatedAt".into(), json!(timestamp(user.updated_at)));
    body.insert("username".into(), json!(user.username));
    body.insert("verifyStatus".into(), json!("NOT_INITIATED"));
    Value::Object(body)
}

/// POST `/environments/{envID}/users`.
pub(crate) async fn create_user(
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
    let env = store.envs.get_mut(&env_id).ok_or_else(P1Error::not_found)?;

    let mut c = Checker::new(&input);
    let username = c.required_string("username");
    let email = c.required_string("email");
    let enabled = c.optional_bool("enabled");
    let mut attrs = Map::new();
    for key in OPTIONAL_STRINGS {
        if let Some(v) = c.optional_string(key) {
            attrs.insert((*key).into(), json!(v));
        }
    }
    let mut details = c.details;

    if let Some(u) = &username {
        let len = u.chars().count();
        if len > 128 {
            details.push(
                Detail::invalid(
                    "username",
                    "'username' must be between 1 and 128 characters.",
                )
                .with_inner(json!({ "rangeMinimumValue": 1, "rangeMaximumValue": 128 })),
            );
        } else if env.user_by_username(u).is_some() {
            details.push(Detail::new(
                "UNIQUENESS_VIOLATION",
                "username",
                "A user with this username already exists in the environment.",
            ));
        }
    }
    if let Some(e) = &email {
        let ok = EMAIL.as_ref().map(|re| re.is_match(e)).unwrap_or(true);
        if !ok {
            details.push(Detail::invalid(
                "email",
                "'email' must be a valid email address.",
            ));
        }
    }
    match input.get("name").filter(|v| !v.is_null()) {
        None => {}
        Some(Value::Object(parts)) => {
            let mut name = Map::new();
            for part in NAME_PARTS {
                match parts.get(*part) {
                    None | Some(Value::Null) => {}
                    Some(Value::String(s)) => {
                        name.insert((*part).into(), json!(s));
                    }
                    Some(_) => details.push(Detail::invalid(
                        &format!("name.{part}"),
                        INVALID_VALUE_MESSAGE,
                    )),
                }
            }
            attrs.insert("name".into(), Value::Object(name));
        }
        Some(_) => details.push(Detail::invalid("name", INVALID_VALUE_MESSAGE)),
    }
    let population_id = population_for(env, &input, &mut details);

    let (Some(username), Some(email), Some(population_id), true) =
        (username, email, population_id, details.is_empty())
    else {
        return Err(P1Error::invalid_data(details));
    };
    let user = User {
        id: uuid::Uuid::new_v4().to_string(),
        username,
        email,
        population_id,
        enabled: enabled.unwrap_or(true),
        attributes: attrs,
        password: None,
        failed_logins: 0,
        locked_until: None,
        created_at: now,
        updated_at: now,
    };
    let base = shared.base(&headers, &uri);
    let body = user_json(&base, &env_id, &user, now);
    env.users.insert(user.id.clone(), user);
    Ok(created(&body))
}

/// `population.id` of a new user: given and existing, else the environment's default population.
fn population_for(
    env: &Environment,
    input: &Map<String, Value>,
    details: &mut Vec<Detail>,
) -> Option<String> {
    match input.get("population").filter(|v| !v.is_null()) {
        None => {
            let default = env.populations.values().find(|p| p.default);
            if default.is_none() {
                details.push(Detail::new(
                    "REQUIRED_VALUE",
                    "population.id",
                    "A value is required for attribute 'population.id' (the environment has no default population).",
                ));
            }
            default.map(|p| p.id.clone())
        }
        Some(pop) => match pop.get("id").and_then(Value::as_str) {
            None => {
                details.push(Detail::invalid("population.id", INVALID_VALUE_MESSAGE));
                None
            }
            Some(id) if env.populations.contains_key(id) => Some(id.to_owned()),
            Some(id) => {
                details.push(
                    Detail::invalid(
                        "population.id",
                        format!("The population '{id}' does not exist in the environment."),
                    )
                    .with_inner(json!({ "referencedValues": [id] })),
                );
                None
            }
        },
    }
}

/// GET `/environments/{envID}/users/{id}`.
pub(crate) async fn get_user(
    State(shared): State<Arc<Shared>>,
    Path((env_id, id)): Path<(String, String)>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, P1Error> {
    let now = shared.now();
    let store = shared.lock();
    authorize(&shared, &store, &headers, &env_id)?;
    let env = store.envs.get(&env_id).ok_or_else(P1Error::not_found)?;
    let user = env.users.get(&id).ok_or_else(P1Error::not_found)?;
    let base = shared.base(&headers, &uri);
    Ok(hal(StatusCode::OK, &user_json(&base, &env_id, user, now)))
}

/// DELETE `/environments/{envID}/users/{id}`.
pub(crate) async fn delete_user(
    State(shared): State<Arc<Shared>>,
    Path((env_id, id)): Path<(String, String)>,
    headers: HeaderMap,
) -> Result<Response, P1Error> {
    let mut store = shared.lock();
    authorize(&shared, &store, &headers, &env_id)?;
    let env = store.envs.get_mut(&env_id).ok_or_else(P1Error::not_found)?;
    env.users.shift_remove(&id).ok_or_else(P1Error::not_found)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

fn password_json(base: &str, env: &Environment, user: &User) -> Value {
    let env_link = env_href(base, &env.id);
    let href = user_href(base, &env.id, &user.id);
    let pw = format!("{href}/password");
    let (status, changed) = match &user.password {
        None => ("NO_PASSWORD", None),
        Some(p) if p.must_change => ("MUST_CHANGE_PASSWORD", Some(p.last_changed_at)),
        Some(p) => ("OK", Some(p.last_changed_at)),
    };
    let mut body = json!({
        "_links": {
            "self": link(&pw),
            "environment": link(&env_link),
            "user": link(&href),
            "passwordPolicy": link(format!("{env_link}/passwordPolicies/{}", env.password_policy_id)),
            "password.check": link(&pw),
            "password.reset": link(&pw),
            "password.set": link(&pw),
            "password.recover": link(&pw),
        },
        "environment": { "id": env.id },
        "user": { "id": user.id },
        "passwordPolicy": { "id": env.password_policy_id },
        "status": status,
    });
    if let (Some(t), Some(obj)) = (changed, body.as_object_mut()) {
        obj.insert("lastChangedAt".into(), json!(timestamp(t)));
    }
    body
}

/// GET `/environments/{envID}/users/{id}/password`.
pub(crate) async fn get_password(
    State(shared): State<Arc<Shared>>,
    Path((env_id, id)): Path<(String, String)>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, P1Error> {
    let store = shared.lock();
    authorize(&shared, &store, &headers, &env_id)?;
    let env = store.envs.get(&env_id).ok_or_else(P1Error::not_found)?;
    let user = env.users.get(&id).ok_or_else(P1Error::not_found)?;
    let base = shared.base(&headers, &uri);
    Ok(hal(StatusCode::OK, &password_json(&base, env, user)))
}

/// The profile values a user's password may not contain.
pub(crate) fn profile_of(user: &User) -> Profile<'_> {
    let mut values = vec![user.username.as_str()];
    if let Some(local) = user.email.split('@').next() {
        values.push(local);
    }
    if let Some(name) = user.name() {
        for part in ["given", "family"] {
            if let Some(s) = name.get(part).and_then(Value::as_str) {
                values.push(s);
            }
        }
    }
    Profile { values }
}

/// Stores a new password, keeping the old one in the history.
pub(crate) fn store_password(
    user: &mut User,
    value: String,
    must_change: bool,
    now: DateTime<Utc>,
) {
    let history = match user.password.take() {
        Some(mut old) => {
            old.history.push(old.value);
            let excess = old
                .history
                .len()
                .saturating_sub(password_policy::HISTORY_COUNT);
            old.history.drain(..excess);
            old.history
        }
        None => Vec::new(),
    };
    user.password = Some(Password {
        value,
        must_change,
        last_changed_at: now,
        history,
    });
    user.failed_logins = 0;
    user.locked_until = None;
    user.updated_at = now;
}

/// Earlier and current password values, for the history rule.
pub(crate) fn password_history(user: &User) -> Vec<&str> {
    match &user.password {
        None => Vec::new(),
        Some(p) => p
            .history
            .iter()
            .map(String::as_str)
            .chain(std::iter::once(p.value.as_str()))
            .collect(),
    }
}

/// PUT `/environments/{envID}/users/{id}/password` (`password.set`).
pub(crate) async fn set_password(
    State(shared): State<Arc<Shared>>,
    Path((env_id, id)): Path<(String, String)>,
    headers: HeaderMap,
    uri: Uri,
    body: Bytes,
) -> Result<Response, P1Error> {
    let now = shared.now();
    let mut store = shared.lock();
    authorize(&shared, &store, &headers, &env_id)?;
    store.maybe_purge(now);
    let env = store.envs.get_mut(&env_id).ok_or_else(P1Error::not_found)?;
    let user = env.users.get_mut(&id).ok_or_else(P1Error::not_found)?;
    let media = media_type(&headers).unwrap_or_default();
    if media != PASSWORD_SET {
        return Err(P1Error::invalid_request(Some(Detail::untargeted(
            "INVALID_VALUE",
            format!(
                "Unsupported Content-Type '{media}'; the sandbox supports only {PASSWORD_SET} on this resource."
            ),
        ))));
    }
    let input = json_object(&body)?;
    let mut c = Checker::new(&input);
    let value = match input.get("value") {
        None | Some(Value::Null) => {
            c.details.push(Detail::required("value"));
            None
        }
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => {
            c.details
                .push(Detail::invalid("value", INVALID_VALUE_MESSAGE));
            None
        }
    };
    let force_change = c.optional_bool("forceChange").unwrap_or(false);
    let bypass = c.optional_bool("bypassPolicy").unwrap_or(false);
    let details = c.details;
    let Some(value) = value.filter(|_| details.is_empty()) else {
        return Err(P1Error::invalid_data(details));
    };
    if !bypass {
        let history = password_history(user);
        let violations = password_policy::check(&value, &profile_of(user), &history);
        if !violations.is_empty() {
            return Err(P1Error::invalid_data(vec![
                password_policy::violation_detail("password", POLICY_MESSAGE, &violations),
            ]));
        }
    }
    store_password(user, value, force_change, now);
    let base = shared.base(&headers, &uri);
    let env = store.envs.get(&env_id).ok_or_else(P1Error::not_found)?;
    let user = env.users.get(&id).ok_or_else(P1Error::not_found)?;
    Ok(hal(StatusCode::OK, &password_json(&base, env, user)))
}
