//! The sandbox's whole state behind one mutex: environments with their applications,
//! populations and users, plus the short-lived records (access tokens, device codes, flows,
//! sign-on sessions) and their opportunistic purge.

use std::collections::HashMap;

use chrono::{DateTime, Duration, Utc};
use indexmap::IndexMap;
use serde_json::{Map, Value};

/// How long a device code is kept after it expired, so polls keep getting `expired_token`
/// (and reuse keeps getting `invalid_grant`) before the record is forgotten.
pub(crate) const DEVICE_CODE_GRACE: Duration = Duration::minutes(15);
/// Purges run at most this often (clock time), on writes.
pub(crate) const PURGE_EVERY: Duration = Duration::seconds(10);
/// Flow inactivity lifetime.
pub(crate) const FLOW_TTL: Duration = Duration::minutes(15);
/// Sign-on session (`ST` cookie) inactivity lifetime.
pub(crate) const SESSION_TTL: Duration = Duration::minutes(30);
/// Access token and ID token lifetime (seconds).
pub(crate) const TOKEN_TTL_SECS: i64 = 3600;

/// Record counts, for tests that check memory stays bounded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SandboxStats {
    /// Environments served (1 or 2).
    pub environments: usize,
    /// Applications over all environments.
    pub applications: usize,
    /// Populations over all environments.
    pub populations: usize,
    /// Users over all environments.
    pub users: usize,
    /// Live (not yet purged) access tokens.
    pub access_tokens: usize,
    /// Device-code records not yet purged.
    pub device_codes: usize,
    /// Flows not yet purged.
    pub flows: usize,
    /// Sign-on sessions (`ST` cookies) not yet purged.
    pub sessions: usize,
}

pub(crate) struct Environment {
    pub id: String,
    pub created_at: DateTime<Utc>,
    pub password_policy_id: String,
    pub applications: IndexMap<String, Application>,
    pub populations: IndexMap<String, Population>,
    pub users: IndexMap<String, User>,
}

impl Environment {
    pub(crate) fn new(id: &str, now: DateTime<Utc>) -> Self {
        Self {
            id: id.to_owned(),
            created_at: now,
            password_policy_id: uuid::Uuid::new_v4().to_string(),
            applications: IndexMap::new(),
            populations: IndexMap::new(),
            users: IndexMap::new(),
        }
    }

    /// Case-insensitive username lookup.
    pub(crate) fn user_by_username(&self, username: &str) -> Option<&User> {
        self.users
            .values()
            .find(|u| u.username.eq_ignore_ascii_case(username))
    }

    /// An application by id or `devicePathId`.
    pub(crate) fn app_by_identifier(&self, ident: &str) -> Option<&Application> {
        self.applications.get(ident).or_else(|| {
            self.applications
                .values()
                .find(|a| a.device_path_id.as_deref() == Some(ident))
        })
    }
}

pub(crate) struct Application {
    pub id: String,
    pub name: String,
    pub enabled: bool,
    pub grant_types: Vec<String>,
    pub auth_method: String,
    pub secret: Option<String>,
    pub device_timeout: i64,
    pub device_polling_interval: i64,
    pub device_path_id: Option<String>,
    pub device_custom_verification_uri: Option<String>,
    /// The client-settable attributes as they are echoed back (validated, defaults applied).
    pub attributes: Map<String, Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Application {
    pub(crate) fn has_grant(&self, grant: &str) -> bool {
        self.grant_types.iter().any(|g| g == grant)
    }
}

pub(crate) struct Population {
    pub id: String,
    pub name: String,
    pub default: bool,
    pub attributes: Map<String, Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

pub(crate) struct User {
    pub id: String,
    pub username: String,
    pub email: String,
    pub population_id: String,
    pub enabled: bool,
    pub attributes: Map<String, Value>,
    pub password: Option<Password>,
    pub failed_logins: u32,
    pub locked_until: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl User {
    /// `name.given` / `name.family` etc., as given.
    pub(crate) fn name(&self) -> Option<&Value> {
        self.attributes.get("name")
    }
}

pub(crate) struct Password {
    pub value: String,
    pub must_change: bool,
    pub last_changed_at: DateTime<Utc>,
    /// Earlier values, newest last (for the policy's history rule).
    pub history: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum TokenKind {
    /// The configured worker application.
    Worker,
    /// A `client_credentials` token of an application of the environment.
    Client,
    /// A user's token from the device grant.
    User,
}

pub(crate) struct AccessToken {
    pub kind: TokenKind,
    pub expires_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DeviceState {
    Pending,
    Authorized,
    Denied,
    Consumed,
}

pub(crate) struct DeviceRecord {
    pub env_id: String,
    pub client_id: String,
    pub user_code: String,
    pub scope: String,
    pub expires_at: DateTime<Utc>,
    /// Current polling interval in seconds (grows by 5 per `slow_down`).
    pub interval: i64,
    pub last_poll: Option<DateTime<Utc>>,
    pub state: DeviceState,
    pub flow_id: Option<String>,
    pub user_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FlowStatus {
    UsernamePasswordRequired,
    MustChangePassword,
    DagUserCodeRequired,
    DagConsentRequired,
    Completed,
    Failed,
}

impl FlowStatus {
    pub(crate) fn as_str(self) -> &'static str {
        match self {
            Self::UsernamePasswordRequired => "USERNAME_PASSWORD_REQUIRED",
            Self::MustChangePassword => "MUST_CHANGE_PASSWORD",
            Self::DagUserCodeRequired => "DAG_USER_CODE_REQUIRED",
            Self::DagConsentRequired => "DAG_CONSENT_REQUIRED",
            Self::Completed => "COMPLETED",
            Self::Failed => "FAILED",
        }
    }
}

pub(crate) struct Flow {
    pub id: String,
    pub env_id: String,
    pub app_id: Option<String>,
    pub status: FlowStatus,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The `ST` cookie of the session that started the flow.
    pub session_token: String,
    pub user_id: Option<String>,
    pub device_code: Option<String>,
    pub prefilled_user_code: Option<String>,
    pub user_code_failures: u32,
    /// Why a `FAILED` flow failed: a code and a message.
    pub failure: Option<(&'static str, String)>,
}

pub(crate) struct Session {
    pub id: String,
    pub env_id: String,
    pub expires_at: DateTime<Utc>,
}

pub(crate) struct Store {
    pub envs: HashMap<String, Environment>,
    pub tokens: HashMap<String, AccessToken>,
    pub devices: HashMap<String, DeviceRecord>,
    /// Normalized user code → device code.
    pub user_codes: HashMap<String, String>,
    pub flows: HashMap<String, Flow>,
    /// `ST` cookie value → session.
    pub sessions: HashMap<String, Session>,
    last_purge: Option<DateTime<Utc>>,
}

impl Store {
    pub(crate) fn new(env_ids: &[&str], now: DateTime<Utc>) -> Self {
        let mut envs = HashMap::new();
        for id in env_ids {
            envs.entry((*id).to_owned())
                .or_insert_with(|| Environment::new(id, now));
        }
        Self {
            envs,
            tokens: HashMap::new(),
            devices: HashMap::new(),
            user_codes: HashMap::new(),
            flows: HashMap::new(),
            sessions: HashMap::new(),
            last_purge: None,
        }
    }

    /// Drops expired records, at most once per [`PURGE_EVERY`] of clock time.
    pub(crate) fn maybe_purge(&mut self, now: DateTime<Utc>) {
        if let Some(last) = self.last_purge {
            if now >= last && now - last < PURGE_EVERY {
                return;
            }
        }
        self.last_purge = Some(now);
        self.purge(now);
    }

    fn purge(&mut self, now: DateTime<Utc>) {
        self.tokens.retain(|_, t| t.expires_at > now);
        let user_codes = &mut self.user_codes;
        self.devices.retain(|_, d| {
            let keep = d.expires_at + DEVICE_CODE_GRACE > now;
            if !keep {
                user_codes.remove(&normalize_user_code(&d.user_code));
            }
            keep
        });
        self.flows.retain(|_, f| f.expires_at > now);
        self.sessions.retain(|_, s| s.expires_at > now);
    }

    pub(crate) fn stats(&self) -> SandboxStats {
        SandboxStats {
            environments: self.envs.len(),
            applications: self.envs.values().map(|e| e.applications.len()).sum(),
            populations: self.envs.values().map(|e| e.populations.len()).sum(),
            users: self.envs.values().map(|e| e.users.len()).sum(),
            access_tokens: self.tokens.len(),
            device_codes: self.devices.len(),
            flows: self.flows.len(),
            sessions: self.sessions.len(),
        }
    }
}

/// RFC 8628 §6.1: compare user codes upper-cased, without dashes and whitespace.
pub(crate) fn normalize_user_code(code: &str) -> String {
    code.chars()
        .filter(|c| *c != '-' && !c.is_whitespace())
        .flat_map(char::to_uppercase)
        .collect()
}
