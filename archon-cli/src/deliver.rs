//! `archon-telemetry-deliver`: the one archon program that talks to the network.
//!
//! archon starts it, detached, with a hidden argument when events are queued and telemetry is
//! on; it sends the queue to PostHog (see `telemetry_posthog`), records the outcome
//! for `archon telemetry status`, and exits. It prints nothing while delivering. Run by hand
//! without that argument, it only says what it is. Installed next to `archon`; without it,
//! events stay queued and nothing is ever sent.

use std::process::ExitCode;
use telemetry_posthog::run_delivery_process;
use telemetry_runtime::delivery::DELIVERY_ARG;

/// What the program says when run by hand.
const ABOUT: &str = "archon-telemetry-deliver sends the anonymous usage events archon has \
                     queued, when telemetry is on. archon starts it; there is nothing to run by \
                     hand.\nSee `archon telemetry status` and `archon telemetry policy`.\n";

fn main() -> ExitCode {
    use std::io::Write;
    let mut args = std::env::args_os().skip(1);
    match (args.next(), args.next()) {
        (Some(arg), None) if arg == DELIVERY_ARG => {
            run_delivery_process();
            ExitCode::SUCCESS
        }
        // Asked what it is: the answer, on stdout, and success.
        (Some(arg), None) if arg == "--help" || arg == "-h" => {
            let _ = std::io::stdout().write_all(ABOUT.as_bytes());
            ExitCode::SUCCESS
        }
        _ => {
            let _ = std::io::stderr().write_all(ABOUT.as_bytes());
            ExitCode::from(2)
        }
    }
}
