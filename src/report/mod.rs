//! Reporters: pure readers of results (and of runner events, for live output).

pub mod terminal;
