//! archon's command line, as clap derive types.

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use std::sync::LazyLock;
use telemetry_schema::{CliCommand, CliSubcommand};

/// What `archon --help` ends with: how telemetry stands in this build.
const AFTER_HELP: &str = if cfg!(feature = "telemetry") {
    "Telemetry sends nothing unless you turn it on; see `archon telemetry --help`."
} else {
    "This archon was built without telemetry: it records and sends nothing."
};

/// `archon telemetry --help`.
const TELEMETRY_LONG_ABOUT: &str = if cfg!(feature = "telemetry") {
    "See and change what archon's anonymous usage telemetry does.\n\n\
     Nothing is sent unless you run `archon telemetry on`, which sets telemetry.enabled in \
     $ARCHON_HOME/config.yaml (~/.archon unless ARCHON_HOME is set).\n\n\
     Environment variables, stronger than the file: DO_NOT_TRACK=1, ARCHON_NO_TELEMETRY=1 and \
     ARCHON_TELEMETRY=0 turn it off; ARCHON_TELEMETRY=1 turns it on; \
     ARCHON_TELEMETRY_DEBUG=1 prints events to stderr instead of keeping or sending them."
} else {
    "See and change what archon's anonymous usage telemetry does.\n\n\
     This archon was built without telemetry (cargo feature `telemetry` off): it records and \
     sends nothing, and `archon telemetry on` is refused. `off` and `clear` still tidy up after \
     a build with telemetry that used the same ARCHON_HOME."
};

/// What `--version` prints after the name: the same as `archon version` (the version, the
/// commit, and in a build without telemetry a line that says so), so that either can be pasted
/// into a bug report.
static VERSION_AND_COMMIT: LazyLock<String> = LazyLock::new(|| {
    let without_telemetry = if cfg!(feature = "telemetry") {
        ""
    } else {
        "\ntelemetry: not built in"
    };
    format!(
        "{} ({}){without_telemetry}",
        telemetry_schema::build_info::VERSION,
        telemetry_schema::build_info::GIT_COMMIT
    )
});

/// Run AI-assisted workflows from the command line.
#[derive(Debug, Parser)]
#[command(
    name = "archon",
    version = VERSION_AND_COMMIT.as_str(),
    after_help = AFTER_HELP
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// archon's commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// List and run workflows.
    #[command(subcommand)]
    Workflow(WorkflowCommand),
    /// Choose your default AI assistant (recorded in config.yaml).
    Setup(SetupArgs),
    /// See and change what archon's anonymous usage telemetry does.
    #[command(subcommand, long_about = TELEMETRY_LONG_ABOUT)]
    Telemetry(TelemetryCommand),
    /// Print archon's version and the commit it was built from.
    Version,
}

/// `archon workflow ...`
#[derive(Debug, Subcommand)]
pub enum WorkflowCommand {
    /// List the bundled workflows and those in .archon/workflows/ of the current folder.
    List(ListArgs),
    /// Run a workflow.
    Run(RunArgs),
}

/// `archon workflow list`
#[derive(Debug, Args)]
pub struct ListArgs {
    /// Look for workflows in this folder instead of the current one.
    #[arg(long, value_name = "DIR")]
    pub cwd: Option<PathBuf>,
}

/// `archon workflow run`
#[derive(Debug, Args)]
pub struct RunArgs {
    /// The workflow's name (see `archon workflow list`).
    pub name: String,
    /// Text for the workflow: `$ARGUMENTS` in prompts, `ARCHON_MESSAGE` in bash nodes.
    pub message: Option<String>,
    /// Run in this folder instead of the current one.
    #[arg(long, value_name = "DIR")]
    pub cwd: Option<PathBuf>,
}

/// `archon setup`
#[derive(Debug, Args)]
pub struct SetupArgs {
    /// The assistant workflows use unless they name one [default: the one installed, else claude].
    #[arg(long, value_enum)]
    pub assistant: Option<Assistant>,
}

/// The AI assistants archon can drive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Assistant {
    /// Anthropic's Claude Code (`claude`).
    Claude,
    /// OpenAI's Codex CLI (`codex`).
    Codex,
}

/// `archon telemetry ...`
#[derive(Debug, Subcommand)]
pub enum TelemetryCommand {
    /// Opt in: send anonymous usage events (see `archon telemetry policy`).
    On,
    /// Opt out: send nothing, and delete events waiting to be sent.
    Off,
    /// Show whether telemetry is on, what decided it, and how delivery is going.
    Status,
    /// Print the last events as the exact JSON that is (or would be) sent. Sends nothing.
    Inspect(InspectArgs),
    /// Delete your anonymous id and the events on this machine that carry it.
    ///
    /// If telemetry stays on, a new, unrelated id is made for later events.
    Clear,
    /// Show where the telemetry policy is.
    Policy,
}

/// `archon telemetry inspect`
#[derive(Debug, Args)]
pub struct InspectArgs {
    /// How many of the most recent events to print, from 1 to 10.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u8).range(1..=10))]
    pub limit: u8,
    /// Add what became of each event (waiting, sent, never sent) under "delivery".
    #[arg(long)]
    pub status: bool,
}

impl Command {
    /// The command and subcommand as telemetry names them: which command ran, never with
    /// what arguments.
    pub fn telemetry_names(&self) -> (CliCommand, Option<CliSubcommand>) {
        match self {
            Command::Workflow(WorkflowCommand::List(_)) => {
                (CliCommand::Workflow, Some(CliSubcommand::List))
            }
            Command::Workflow(WorkflowCommand::Run(_)) => {
                (CliCommand::Workflow, Some(CliSubcommand::Run))
            }
            Command::Setup(_) => (CliCommand::Setup, None),
            Command::Telemetry(command) => (
                CliCommand::Telemetry,
                Some(match command {
                    TelemetryCommand::On => CliSubcommand::On,
                    TelemetryCommand::Off => CliSubcommand::Off,
                    TelemetryCommand::Status => CliSubcommand::Status,
                    TelemetryCommand::Inspect(_) => CliSubcommand::Inspect,
                    TelemetryCommand::Clear => CliSubcommand::Clear,
                    TelemetryCommand::Policy => CliSubcommand::Policy,
                }),
            ),
            Command::Version => (CliCommand::Version, None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_consistent() {
        Cli::command().debug_assert();
    }
}
