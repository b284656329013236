//! Project tasks for archon-telemetry, run as `cargo xtask <task>` (an alias in
//! .cargo/config.toml). Each task is a module; this file only reads the command line.

mod bench;
mod catalog;
mod diff;
mod dist;
mod docs;
mod failure;
mod json_schema;
mod lock;
mod lock_history;
mod policy_page;
mod schema;
mod template;
mod workspace;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Project tasks for archon-telemetry: the policy page, the schema lock, the release build and
/// the benchmark.
#[derive(Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    after_help = "Exit status: 0 done, 1 a check failed (the message says how to fix it), 2 a usage or environment problem.\n\n\
                  After adding or changing an event in telemetry-schema/src/events/, run\n  \
                  cargo xtask schema && cargo xtask docs\nand commit docs/ with the change."
)]
struct Cli {
    #[command(subcommand)]
    task: Task,
}

#[derive(Subcommand)]
enum Task {
    /// Write docs/telemetry.md, the telemetry policy page, from the event catalog and
    /// docs/telemetry.template.md.
    Docs {
        /// Write nothing; exit 1 with a diff if docs/telemetry.md is not what would be written.
        #[arg(long)]
        check: bool,
    },
    /// Write docs/telemetry-schema.json, the JSON Schema of every event, which is also the schema
    /// lock. Refuses breaking changes to an event whose version was not raised.
    Schema {
        /// Write nothing; exit 1 if the lock does not record the current catalog, listing what
        /// changed and which changes are breaking.
        #[arg(long)]
        check: bool,
        /// Write the lock even with breaking changes (removing an event, or a break you intend;
        /// say why in the commit).
        #[arg(long, conflicts_with = "check")]
        allow_breaking: bool,
    },
    /// Build a release archon (cargo build --release -p archon-cli) with ARCHON_POSTHOG_KEY,
    /// ARCHON_POSTHOG_HOST, ARCHON_VERSION and ARCHON_GIT_COMMIT (default: git rev-parse HEAD)
    /// from the environment, and ARCHON_RELEASE=1.
    ///
    /// Refuses (exit 2) when the key is set and the host is not https. Without a key the binary
    /// cannot send telemetry.
    Dist {
        /// Build for this target triple (for example aarch64-apple-darwin).
        #[arg(long)]
        target: Option<String>,
    },
    /// Measure what telemetry costs: archon's run time with telemetry off, undecided and on
    /// (server reachable, port refused, host silent), its memory, the binary's size, and the
    /// runtime's micro-benchmarks. Builds a release archon with a test key first.
    Bench {
        /// Timed runs of each command in each setting (the median is reported).
        #[arg(long, default_value_t = 30)]
        runs: usize,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match &cli.task {
        Task::Docs { check } => docs::run(*check),
        Task::Schema {
            check,
            allow_breaking,
        } => schema::run(*check, *allow_breaking),
        Task::Dist { target } => dist::run(target.as_deref()),
        Task::Bench { runs } => bench::run(*runs),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("error: {failure}");
            ExitCode::from(failure.code())
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
