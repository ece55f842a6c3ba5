//! PingOne's default "Standard" password policy: the rule checks applied when a password is
//! set (management `password.set`, flow `password.reset`), the `P1Error` detail listing the
//! unsatisfied rules, and the policy resource itself.

use std::sync::Arc;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::Response;
use serde_json::{json, Map, Value};

use super::errors::{Detail, P1Error};
use super::http::{hal, link, timestamp};
use super::management::{authorize, env_href};
use super::Shared;

/// Minimum and maximum password length.
const MIN_LENGTH: usize = 8;
const MAX_LENGTH: usize = 255;
/// Character sets of which at least one character is required.
const CHARACTER_SETS: [&str; 4] = [
    "~!@#$%^&*()-_=+[]{}|;:,.<>/?",
    "0123456789",
    "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
    "abcdefghijklmnopqrstuvwxyz",
];
const MAX_REPEATED: usize = 2;
const MIN_UNIQUE: usize = 5;
/// How many earlier passwords may not be reused.
pub(crate) const HISTORY_COUNT: usize = 6;
/// Failed sign-ons before the account is locked, and for how long.
pub(crate) const LOCKOUT_FAILURES: u32 = 5;
pub(crate) const LOCKOUT_SECONDS: i64 = 900;

/// A small stand-in for PingOne's list of prohibited passwords; variants (case, common
/// letter/digit substitutions, trailing digits and symbols) are caught too.
const COMMON_PASSWORDS: &[&str] = &[
    "password",
    "passw0rd",
    "letmein",
    "welcome",
    "qwerty",
    "qwertyuiop",
    "abc123",
    "admin",
    "administrator",
    "iloveyou",
    "monkey",
    "dragon",
    "football",
    "baseball",
    "sunshine",
    "princess",
    "trustno",
    "changeme",
    "secret",
    "master",
    "login",
];

/// One unsatisfied rule: its policy attribute name and PingOne's message.
#[derive(Debug, Clone)]
pub(crate) struct Violation {
    pub rule: &'static str,
    pub message: String,
}

/// Profile values a password must not contain.
#[derive(Debug, Default)]
pub(crate) struct Profile<'a> {
    pub values: Vec<&'a str>,
}

/// Checks `password` against the Standard policy.
pub(crate) fn check(password: &str, profile: &Profile<'_>, history: &[&str]) -> Vec<Violation> {
    let mut out = Vec::new();
    let chars: Vec<char> = password.chars().collect();
    for set in CHARACTER_SETS {
        if !chars.iter().any(|c| set.contains(*c)) {
            // PingOne prints the set reversed.
            let shown: String = set.chars().rev().collect();
            out.push(Violation {
                rule: "minCharacters",
                message: format!(
                    "The provided password did not contain enough characters from the character set '{shown}'.  The minimum number of characters from that set that must be present in user passwords is 1"
                ),
            });
        }
    }
    if is_common(password) {
        out.push(Violation {
            rule: "excludesCommonlyUsed",
            message: "The provided password (or a variant of that password) was found in a list of prohibited passwords".into(),
        });
    }
    let lower = password.to_lowercase();
    if profile
        .values
        .iter()
        .map(|v| v.to_lowercase())
        .any(|v| v.chars().count() >= 3 && lower.contains(&v))
    {
        out.push(Violation {
            rule: "excludesProfileData",
            message: "The provided password is not acceptable because it contains data from the user's profile".into(),
        });
    }
    if chars.len() < MIN_LENGTH {
        out.push(Violation {
            rule: "length",
            message: format!(
                "The provided password is shorter than the minimum required length of {MIN_LENGTH} characters"
            ),
        });
    } else if chars.len() > MAX_LENGTH {
        out.push(Violation {
            rule: "length",
            message: format!(
                "The provided password is longer than the maximum allowed length of {MAX_LENGTH} characters"
            ),
        });
    }
    if chars
        .windows(MAX_REPEATED + 1)
        .any(|w| w.iter().all(|c| *c == w[0]))
    {
        out.push(Violation {
            rule: "maxRepeatedCharacters",
            message: format!(
                "The provided password is not acceptable because it contains a character repeated more than {MAX_REPEATED} times in a row"
            ),
        });
    }
    let mut unique = chars.clone();
    unique.sort_unstable();
    unique.dedup();
    if unique.len() < MIN_UNIQUE {
        out.push(Violation {
            rule: "minUniqueCharacters",
            message: format!(
                "The provided password does not contain enough unique characters.  The minimum number of unique characters that may appear in a user password is {MIN_UNIQUE}"
            ),
        });
    }
    if history
        .iter()
        .rev()
        .take(HISTORY_COUNT)
        .any(|h| *h == password)
    {
        out.push(Violation {
            rule: "history",
            message: format!(
                "The provided password is not acceptable because it matches one of the last {HISTORY_COUNT} passwords"
            ),
        });
    }
    out
}

fn is_common(password: &str) -> bool {
    let folded: String = password
        .to_lowercase()
        .chars()
        .map(|c| match c {
            '0' => 'o',
            '1' | '!' => 'i',
            '3' => 'e',
            '4' | '@' => 'a',
            '5' | '$' => 's',
            '7' => 't',
            other => other,
        })
        .collect();
    let core = folded.trim_end_matches(|c: char| !c.is_ascii_lowercase());
    // Trailing digits were folded to letters above; also try the unfolded prefix.
    let raw_lower = password.to_lowercase();
    let raw_core = raw_lower.trim_end_matches(|c: char| !c.is_ascii_lowercase());
    COMMON_PASSWORDS.iter().any(|p| {
        core == *p || raw_core == *p || folded.starts_with(p) && folded.len() <= p.len() + 4
    })
}

/// The `INVALID_VALUE` detail for a password that failed the policy. `innerError` carries
/// PingOne's observed shape (one key per failed rule plus `unsatisfiedRequirements`) and an
/// `errors` array with one entry per failed rule.
pub(crate) fn violation_detail(target: &str, message: &str, violations: &[Violation]) -> Detail {
    let mut inner = Map::new();
    for v in violations {
        inner.insert(v.rule.into(), json!(v.message));
    }
    inner.insert(
        "unsatisfiedRequirements".into(),
        json!(violations.iter().map(|v| v.rule).collect::<Vec<_>>()),
    );
    inner.insert(
        "errors".into(),
        Value::Array(
            violations
                .iter()
                .map(|v| json!({ "requirement": v.rule, "message": v.message }))
                .collect(),
        ),
    );
    Detail::invalid(target, message).with_inner(Value::Object(inner))
}

/// The policy resource.
pub(crate) fn policy_json(base: &str, env_id: &str, policy_id: &str, created: &str) -> Value {
    let env_link = env_href(base, env_id);
    json!({
        "_links": {
            "self": link(format!("{env_link}/passwordPolicies/{policy_id}")),
            "environment": link(&env_link),
        },
        "id": policy_id,
        "environment": { "id": env_id },
        "name": "Standard",
        "description": "A standard policy that incorporates industry best practices",
        "excludesProfileData": true,
        "notSimilarToCurrent": true,
        "excludesCommonlyUsed": true,
        "maxAgeDays": 182,
        "minAgeDays": 1,
        "maxRepeatedCharacters": MAX_REPEATED,
        "minUniqueCharacters": MIN_UNIQUE,
        "history": { "count": HISTORY_COUNT, "retentionDays": 365 },
        "lockout": { "failureCount": LOCKOUT_FAILURES, "durationSeconds": LOCKOUT_SECONDS },
        "length": { "min": MIN_LENGTH, "max": MAX_LENGTH },
        "minCharacters": {
            CHARACTER_SETS[0]: 1,
            CHARACTER_SETS[1]: 1,
            CHARACTER_SETS[2]: 1,
            CHARACTER_SETS[3]: 1,
        },
        "createdAt": created,
        "updatedAt": created,
        "default": true,
    })
}

/// GET `/environments/{envID}/passwordPolicies/{id}`.
pub(crate) async fn get_policy(
    State(shared): State<Arc<Shared>>,
    Path((env_id, id)): Path<(String, String)>,
    headers: HeaderMap,
    uri: Uri,
) -> Result<Response, P1Error> {
    let store = shared.lock();
    authorize(&shared, &store, &headers, &env_id)?;
    let env = store.envs.get(&env_id).ok_or_else(P1Error::not_found)?;
    if env.password_policy_id != id {
        return Err(P1Error::not_found());
    }
    let base = shared.base(&headers, &uri);
    let body = policy_json(&base, &env_id, &id, &timestamp(env.created_at));
    Ok(hal(StatusCode::OK, &body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rules(p: &str) -> Vec<&'static str> {
        check(p, &Profile::default(), &[])
            .into_iter()
            .map(|v| v.rule)
            .collect()
    }

    #[test]
    fn strong_password_passes() {
        assert!(rules("2FederateM0re!").is_empty());
        assert!(rules("Xk9#mT2$vLq").is_empty());
    }

    #[test]
    fn weak_passwords_fail_each_rule() {
        assert!(rules("Ab1!").contains(&"length"));
        assert!(rules("abcdefg1!").contains(&"minCharacters"));
        assert!(rules("Aaaa1!bcd").contains(&"maxRepeatedCharacters"));
        assert!(rules("Ab1!Ab1!Ab1!").contains(&"minUniqueCharacters"));
        assert!(rules("Password1!").contains(&"excludesCommonlyUsed"));
    }

    #[test]
    fn profile_and_history() {
        let profile = Profile {
            values: vec!["jdoe"],
        };
        let found: Vec<_> = check("Xx-jdoe-42!", &profile, &["Xx-jdoe-42!"])
            .into_iter()
            .map(|v| v.rule)
            .collect();
        assert!(found.contains(&"excludesProfileData"));
        assert!(found.contains(&"history"));
    }
}
