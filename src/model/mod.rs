//! The scenario model: plain serde types that mirror the YAML format, with the position of
//! every user-written value. No I/O, no HTTP, no templating happens here.

mod capture;
mod expect;
pub mod map;
mod request;
mod scenario;
pub mod schema;
mod snapshot;
pub(crate) mod value;

pub use capture::{Capture, Source as CaptureSource};
pub use expect::{Expect, JsonType, Predicate, StatusExpect, StatusPattern};
pub use map::Map;
pub use request::{Auth, BasicAuth, Body, FilePart, Multipart, Request};
pub use scenario::{Defaults, Include, Poll, Scenario, Step};
pub use snapshot::{check_name as check_snapshot_name, Snapshot};
pub use value::{Value, ValueKind};

use crate::yaml::Spanned;

/// A string that may contain `{{ template }}` expressions, with its position.
pub type Template = Spanned<compact_str::CompactString>;
