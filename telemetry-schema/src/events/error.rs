use crate::{telemetry_event, TelemetryEnum};

/// archon stops because of an error that nothing else handled, or an internal bug.
#[telemetry_event(name = "error.uncaught")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ErrorUncaught {
    /// What kind of error it was (a category, never the message).
    pub error_class: ErrorClass,
    /// Which part of archon it came from (a fixed name, never a file path or line).
    pub r#where: ErrorSite,
}

/// Categories of error. The message of an error is never sent: it could name a host, a file or a
/// customer.
#[derive(TelemetryEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClass {
    /// archon's configuration file could not be read or understood.
    ConfigInvalid,
    /// The workflow asked for does not exist.
    WorkflowNotFound,
    /// A workflow file is not a valid workflow (bad YAML, unknown node type, a cycle, ...).
    WorkflowInvalid,
    /// A node of the workflow failed.
    NodeFailed,
    /// The assistant's command-line program is not installed.
    AssistantNotInstalled,
    /// Reading or writing a file, or starting a program, failed.
    Io,
    /// The user interrupted archon (Ctrl-C or a termination signal).
    Interrupted,
    /// An internal bug in archon.
    Panic,
    /// Anything else.
    Other,
}

/// The parts of archon an error can come from.
#[derive(TelemetryEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorSite {
    /// Start-up and argument handling.
    Main,
    /// `archon setup`.
    Setup,
    /// `archon telemetry ...`.
    TelemetryCommand,
    /// Listing workflows.
    WorkflowList,
    /// Running a workflow.
    WorkflowRun,
}
