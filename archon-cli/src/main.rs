//! The `archon` command-line tool.

use clap::{Parser, Subcommand};

/// archon: run AI-assisted workflows from the command line.
#[derive(Parser)]
#[command(name = "archon", version = telemetry_schema::build_info::VERSION)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Print archon's version and the commit it was built from.
    Version,
}

fn main() {
    let cli = Cli::parse();
    match cli.command {
        Command::Version => {
            use telemetry_schema::build_info;
            println!(
                "archon {} ({})",
                build_info::VERSION,
                build_info::GIT_COMMIT
            );
        }
    }
}
