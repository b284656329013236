//! The `archon` command-line tool.
//!
//! `main` starts telemetry (which may print the first-run notice), parses the command line,
//! runs the command, and finishes telemetry exactly once with the command's exit code. The
//! delivery process is this same binary started with a hidden first argument.
//!
//! Built without the `telemetry` feature (`--no-default-features`), archon records nothing,
//! shows no notice and has no delivery process: see [`session`].

mod cli;
mod commands;
mod exit;
#[cfg(feature = "telemetry")]
mod notice;
mod session;

use clap::Parser;
use session::Session;

fn main() {
    // Without telemetry there is no delivery process, so the hidden argument is not special:
    // clap rejects it like any unknown command.
    #[cfg(feature = "telemetry")]
    if std::env::args_os()
        .nth(1)
        .is_some_and(|arg| arg == telemetry_runtime::delivery::DELIVERY_ARG)
    {
        telemetry_runtime::delivery::run_delivery_process();
        return;
    }
    let session = Session::start();
    let code = match cli::Cli::try_parse() {
        Ok(cli) => {
            // A panic is reported by the panic hook (and printed by Rust's own); here it only
            // becomes the exit code, after telemetry has been completed.
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                commands::run(cli.command, session)
            }))
            .unwrap_or(exit::PANIC)
        }
        // Usage mistakes, and --help and --version, which clap prints with the exit code each
        // deserves. No command ran, so only `binary.startup` is recorded.
        Err(error) => {
            let _ = error.print();
            error.exit_code()
        }
    };
    session.complete(code);
    std::process::exit(code);
}
