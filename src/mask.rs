//! Secret values and their masking. Every sink (terminal, traces, errors, reports) passes
//! text through [`Masker::mask`] before writing it.

use std::borrow::Cow;
use std::sync::{Arc, RwLock};

/// What a masked value is replaced with.
pub const MASK: &str = "••••••";

/// Values too short to mask without hiding unrelated text (e.g. `1`).
const MIN_SECRET_LEN: usize = 3;

/// The set of secret values known so far in a run; cheap to clone and share.
#[derive(Debug, Clone, Default)]
pub struct Masker {
    secrets: Arc<RwLock<Vec<String>>>,
}

impl Masker {
    pub fn new() -> Self {
        Self::default()
    }

    /// Registers a secret value (and its common encodings).
    pub fn add(&self, value: &str) {
        if value.chars().count() < MIN_SECRET_LEN {
            return;
        }
        let mut secrets = self.secrets.write().unwrap_or_else(|e| e.into_inner());
        let encoded: String =
            percent_encoding::utf8_percent_encode(value, percent_encoding::NON_ALPHANUMERIC)
                .to_string();
        for v in [value.to_owned(), encoded] {
            if !secrets.contains(&v) {
                secrets.push(v);
            }
        }
        // Longest first, so that a secret containing another is masked whole.
        secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
    }

    /// Replaces every known secret in `text`.
    pub fn mask<'a>(&self, text: &'a str) -> Cow<'a, str> {
        let secrets = self.secrets.read().unwrap_or_else(|e| e.into_inner());
        if secrets.is_empty() || !secrets.iter().any(|s| text.contains(s.as_str())) {
            return Cow::Borrowed(text);
        }
        let mut out = text.to_owned();
        for s in secrets.iter() {
            if out.contains(s.as_str()) {
                out = out.replace(s.as_str(), MASK);
            }
        }
        Cow::Owned(out)
    }

    pub fn is_secret(&self, value: &str) -> bool {
        let secrets = self.secrets.read().unwrap_or_else(|e| e.into_inner());
        secrets.iter().any(|s| s == value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_values_and_url_encodings() {
        let m = Masker::new();
        m.add("p@ss word");
        assert_eq!(m.mask("x=p@ss word"), format!("x={MASK}"));
        assert_eq!(m.mask("x=p%40ss%20word&y"), format!("x={MASK}&y"));
        m.add("1");
        assert_eq!(m.mask("1"), "1");
    }
}
