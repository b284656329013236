//! The `archon` command-line tool.
//!
//! `main` starts telemetry (which may print the first-run notice), parses the command line,
//! runs the command, and finishes telemetry exactly once with the command's exit code. Events
//! are sent by a separate program, `archon-telemetry-deliver` (`deliver.rs`), which archon
//! starts detached when there is something to send.
//!
//! Built without the `telemetry` feature (`--no-default-features`), archon records nothing,
//! shows no notice and has no delivery process: see `session.rs`.

mod cli;
mod commands;
mod exit;
#[cfg(feature = "telemetry")]
mod notice;
mod output;
mod session;

use clap::Parser;
use session::Session;

fn main() {
    // Known before the command line is parsed, so that telemetry starts first (and sees a
    // parse error through); only the first arguments matter: archon has no global options.
    let args: Vec<std::ffi::OsString> = std::env::args_os().skip(1).take(3).collect();
    let telemetry_command = match args.as_slice() {
        [first, second, ..] if first == "telemetry" => Some(second),
        _ => None,
    };
    let is = |names: &[&str]| {
        telemetry_command.is_some_and(|command| names.iter().any(|name| command == name))
    };
    // These say what telemetry is doing: the first-run notice would only repeat it. Only when
    // run as they are (with more arguments, they may print help or a usage error instead).
    let notice_said_by_command = args.len() == 2 && is(&["status", "on", "off", "clear"]);
    // `archon telemetry off` and `clear` keep nothing of their own run: they record nothing,
    // so they never make an anonymous id (after `clear`, a new one).
    let records = !is(&["off", "clear"]);
    let session = Session::start(notice_said_by_command, records);
    let code = match cli::Cli::try_parse() {
        Ok(cli) => {
            // A panic is reported by the panic hook (and printed by Rust's own); here it only
            // becomes the exit code, which telemetry is then completed with.
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
    // A workflow stopped by Ctrl-C or SIGTERM: end as the signal would have.
    session.end_if_interrupted();
    std::process::exit(code);
}
