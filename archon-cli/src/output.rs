//! Printing without panicking.
//!
//! `println!` panics when stdout cannot be written, which is what happens whenever the reader
//! of a pipe stops early (`archon telemetry status | head -n 1`). Commands print with
//! [`outln!`] instead, which returns an error: a reader that went away ends the command quietly
//! with [`OUTPUT_CLOSED`](crate::exit::OUTPUT_CLOSED), as the default SIGPIPE action ends `cat`
//! or `grep`; any other write failure (a full disk behind a redirect) is reported. Messages to
//! stderr are best effort ([`errln!`]): there is nowhere left to report their failure.

use crate::commands::CommandError;
use std::io::{self, Write};
use telemetry_schema::ErrorClass;

/// `println!` to stdout, as a `Result<(), CommandError>`.
macro_rules! outln {
    () => {
        $crate::output::stdout(format_args!("\n"))
    };
    ($($arg:tt)*) => {
        $crate::output::stdout(format_args!("{}\n", format_args!($($arg)*)))
    };
}

/// `eprintln!` that ignores a stderr that cannot be written.
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::output::stderr(format_args!("{}\n", format_args!($($arg)*)))
    };
}

pub(crate) use {errln, outln};

/// Writes `text` to stdout.
pub fn stdout(text: std::fmt::Arguments<'_>) -> Result<(), CommandError> {
    io::stdout().lock().write_fmt(text).map_err(|error| {
        if error.kind() == io::ErrorKind::BrokenPipe {
            CommandError::output_closed()
        } else {
            CommandError::failed(
                ErrorClass::Io,
                format!("the output cannot be written ({error})"),
            )
        }
    })
}

/// Writes `text` to stderr, if it can be written.
pub fn stderr(text: std::fmt::Arguments<'_>) {
    let _ = io::stderr().lock().write_fmt(text);
}
