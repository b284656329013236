//! One module per command family; each returns an exit code or a [`CommandError`].

pub mod setup;
pub mod telemetry;
pub mod version;
pub mod workflow;

use crate::cli::Command;
use crate::exit;
use crate::output::errln;
use crate::session::Session;
use std::fmt;
use telemetry_schema::{ErrorClass, ErrorSite};

/// A command that could not do its job. [`run`] prints it as `error: ...` and returns `code`,
/// which archon exits with.
#[derive(Debug)]
pub struct CommandError {
    /// What went wrong and, where there is one, the fix. Printed, never sent.
    pub message: String,
    /// The exit code.
    pub code: i32,
    /// Its category, for telemetry.
    pub class: ErrorClass,
    /// Whether this is an error nothing anticipated (sent as `error.uncaught`), rather than a
    /// mistake in the user's input that archon explains.
    pub unexpected: bool,
}

impl CommandError {
    /// A mistake in the request (arguments, a workflow file, config.yaml): exit 2.
    pub fn usage(class: ErrorClass, message: impl Into<String>) -> Self {
        CommandError {
            message: message.into(),
            code: exit::USAGE,
            class,
            unexpected: false,
        }
    }

    /// Something failed that should not have (a file that cannot be written): exit 1.
    pub fn failed(class: ErrorClass, message: impl Into<String>) -> Self {
        CommandError {
            message: message.into(),
            code: exit::FAILURE,
            class,
            unexpected: true,
        }
    }

    /// Stdout's reader went away: nothing more to say, to anyone.
    pub fn output_closed() -> Self {
        CommandError {
            message: String::new(),
            code: exit::OUTPUT_CLOSED,
            class: ErrorClass::Io,
            unexpected: false,
        }
    }
}

impl fmt::Display for CommandError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// Runs `command` and returns archon's exit code.
pub fn run(command: Command, session: &Session) -> i32 {
    let (name, subcommand) = command.telemetry_names();
    session.command_started(name, subcommand, site_of(&command));
    let result = match command {
        Command::Workflow(command) => workflow::run(command, session),
        Command::Setup(args) => setup::run(args, session),
        Command::Telemetry(command) => telemetry::run(command, session),
        Command::Version => version::run(),
    };
    match result {
        Ok(code) => code,
        Err(error) => {
            if error.code != exit::OUTPUT_CLOSED {
                errln!("error: {error}");
            }
            if error.unexpected {
                session.uncaught(error.class);
            }
            error.code
        }
    }
}

fn site_of(command: &Command) -> ErrorSite {
    use crate::cli::WorkflowCommand;
    match command {
        Command::Workflow(WorkflowCommand::List(_)) => ErrorSite::WorkflowList,
        Command::Workflow(WorkflowCommand::Run(_)) => ErrorSite::WorkflowRun,
        Command::Setup(_) => ErrorSite::Setup,
        Command::Telemetry(_) => ErrorSite::TelemetryCommand,
        Command::Version => ErrorSite::Main,
    }
}
