//! Time source of the sandbox: every expiry (tokens, device codes, flows, `slow_down`) reads
//! the clock through [`Clock`], so tests can jump time with [`TestClock`].

use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};

/// A source of "now" for the sandbox.
pub trait Clock: Send + Sync + 'static {
    /// The current instant.
    fn now(&self) -> DateTime<Utc>;
}

/// The wall clock.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A manual clock for tests: it starts at a fixed instant and only moves when
/// [`TestClock::advance`] is called. Clones share the same time.
#[derive(Debug, Clone)]
pub struct TestClock {
    now: Arc<Mutex<DateTime<Utc>>>,
}

impl TestClock {
    /// The instant every new test clock starts at: 2026-01-01T00:00:00Z.
    pub fn start_instant() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 1, 1, 0, 0, 0)
            .single()
            .unwrap_or(DateTime::UNIX_EPOCH)
    }

    /// A clock standing at [`TestClock::start_instant`].
    pub fn new() -> Self {
        Self {
            now: Arc::new(Mutex::new(Self::start_instant())),
        }
    }

    /// Moves the clock forward by `d` (for every clone).
    pub fn advance(&self, d: Duration) {
        let step = chrono::Duration::from_std(d).unwrap_or(chrono::Duration::MAX);
        let mut now = self.now.lock().unwrap_or_else(|e| e.into_inner());
        *now = now.checked_add_signed(step).unwrap_or(*now);
    }
}

impl Default for TestClock {
    fn default() -> Self {
        Self::new()
    }
}

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        *self.now.lock().unwrap_or_else(|e| e.into_inner())
    }
}
