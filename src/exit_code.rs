//! Process exit codes, as documented in `docs/cli.md`.

/// Every scenario passed.
pub const SUCCESS: i32 = 0;
/// At least one assertion (or capture, poll or snapshot) failed.
pub const ASSERTION_FAILED: i32 = 1;
/// A scenario file is invalid, or the command line is wrong.
pub const INVALID: i32 = 2;
/// A request got no response (connection, timeout, TLS) or a file could not be read.
pub const NETWORK_OR_IO: i32 = 3;
/// No scenario file was found in the given paths.
pub const NO_SCENARIO: i32 = 4;
/// The run was interrupted (Ctrl-C or SIGTERM).
pub const INTERRUPTED: i32 = 130;
