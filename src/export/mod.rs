//! Exports of scenarios to other tools' formats.

pub mod curl;
