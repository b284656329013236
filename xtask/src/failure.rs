//! How a task fails: a message for the person at the terminal and the exit code that goes with it.
//!
//! The exit codes are part of the interface, since CI and scripts read them:
//! 0 = done, 1 = a check failed (or the build it ran failed), 2 = a usage or environment problem
//! (a missing file, a bad variable), which is also what clap uses for a bad command line.

use std::fmt;

/// A task that did not succeed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Failure {
    code: u8,
    message: String,
}

impl Failure {
    /// Exit code 1: what was checked is not as it should be, and `message` says how to fix it.
    pub fn check(message: impl Into<String>) -> Self {
        Failure {
            code: 1,
            message: message.into(),
        }
    }

    /// Exit code 2: the task could not run as asked (a bad variable, an unreadable file).
    pub fn environment(message: impl Into<String>) -> Self {
        Failure {
            code: 2,
            message: message.into(),
        }
    }

    /// The process exit code.
    pub fn code(&self) -> u8 {
        self.code
    }
}

impl fmt::Display for Failure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}
