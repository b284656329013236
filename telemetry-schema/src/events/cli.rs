use crate::{telemetry_event, DurationMs, TelemetryEnum};

/// A command starts. Only which command it is: never its arguments or option values. A command
/// line archon cannot parse (a mistyped command or option, `--help`, `--version`) runs no
/// command: it records `binary.startup` only, neither this event nor `cli.command_completed`.
#[telemetry_event(name = "cli.command_invoked")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliCommandInvoked {
    /// The command, such as `workflow`.
    pub command: CliCommand,
    /// The subcommand, such as `run`; `null` for a command without subcommands.
    pub subcommand: Option<CliSubcommand>,
}

/// A command ends, successfully or not (a command line archon cannot parse runs no command: see
/// `cli.command_invoked`). When Ctrl-C or a termination signal comes before a
/// workflow has started (or a second one comes while a workflow stops), archon stops at once, as
/// a program without telemetry would, and this event (with what the command recorded in its
/// first second) is not sent.
#[telemetry_event(name = "cli.command_completed")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CliCommandCompleted {
    /// The command, such as `workflow`.
    pub command: CliCommand,
    /// The subcommand, such as `run`; `null` for a command without subcommands.
    pub subcommand: Option<CliSubcommand>,
    /// The exit code archon ended with (0 is success; 130 and 143 mean interrupted).
    pub exit_code: i32,
    /// How long the command ran, in milliseconds.
    pub duration_ms: DurationMs,
}

/// archon's top-level commands.
#[derive(TelemetryEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum CliCommand {
    /// `archon setup`.
    Setup,
    /// `archon telemetry ...`.
    Telemetry,
    /// `archon version`.
    Version,
    /// `archon workflow ...`.
    Workflow,
}

/// archon's subcommands, across all commands.
#[derive(TelemetryEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum CliSubcommand {
    /// `archon telemetry clear`. Never sent: that run records nothing (its events would carry
    /// the id it deletes).
    Clear,
    /// `archon telemetry inspect`.
    Inspect,
    /// `archon workflow list`.
    List,
    /// `archon telemetry off`. Never sent: that run records nothing, so that nothing of it is
    /// queued after you opt out.
    Off,
    /// `archon telemetry on`.
    On,
    /// `archon telemetry policy`.
    Policy,
    /// `archon workflow run`.
    Run,
    /// `archon telemetry status`.
    Status,
}
