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

fn main() -> ExitCode {
    let mut args = std::env::args_os().skip(1);
    match (args.next(), args.next()) {
        (Some(arg), None) if arg == DELIVERY_ARG => {
            run_delivery_process();
            ExitCode::SUCCESS
        }
        _ => {
            eprintln!(
                "archon-telemetry-deliver sends the anonymous usage events archon has queued, \
                 when telemetry is on. archon starts it; there is nothing to run by hand.\n\
                 See `archon telemetry status` and `archon telemetry policy`."
            );
            ExitCode::from(2)
        }
    }
}
