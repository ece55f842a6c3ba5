//! Evaluation of captures and assertions against a response.

pub mod assert;
pub mod capture;
pub mod jsonpath;
