//! What archon's exit codes mean.

/// Everything worked.
pub const SUCCESS: i32 = 0;
/// The work failed (a workflow node failed, a file could not be written).
pub const FAILURE: i32 = 1;
/// The request was wrong: bad arguments, an invalid workflow, a config file that does not
/// parse. Nothing was run or changed.
pub const USAGE: i32 = 2;
/// A bug in archon (Rust's own code for a panic).
pub const PANIC: i32 = 101;
/// Stdout's reader went away (`archon ... | head -n 1`): 128 + SIGPIPE, what a shell reports
/// for a program that signal stopped.
pub const OUTPUT_CLOSED: i32 = 141;
/// Interrupted by Ctrl-C (128 + SIGINT): recorded as the command's exit code, and what a shell
/// reports, since archon then ends killed by the signal itself (see `Session::end_if_interrupted`).
pub const INTERRUPTED: i32 = 130;
/// Stopped by SIGTERM (128 + SIGTERM), in the same way.
pub const TERMINATED: i32 = 143;
