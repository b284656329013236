//! What telemetry costs a command: starting it, recording one event, and the exit path, with
//! telemetry off, undecided and on. Run with `cargo bench -p telemetry-runtime`.
//!
//! Goals (issue 6): recording ≤ 20 µs with the queue append, ≤ 100 ns when off.
//!
//! The queue grows while these run; every few thousand appends it reaches its cap and is
//! compacted, which the medians leave out and the means include.

use std::ffi::OsString;
use telemetry_runtime::delivery::spawn::{self, Launcher};
use telemetry_runtime::store::Store;
use telemetry_runtime::{Environment, Telemetry};
use telemetry_schema::{CliCommand, CliCommandInvoked, CliSubcommand};

fn main() {
    divan::main();
}

#[derive(Debug, Clone, Copy)]
enum State {
    Off,
    Undecided,
    On,
}

const STATES: [State; 3] = [State::Off, State::Undecided, State::On];

fn environment(home: &std::path::Path, state: State) -> Environment {
    let mut env = Environment {
        archon_home: Some(home.into()),
        ..Environment::default()
    };
    match state {
        State::Off => env.do_not_track = Some(OsString::from("1")),
        State::Undecided => {}
        State::On => env.archon_telemetry = Some(OsString::from("1")),
    }
    env
}

fn event() -> CliCommandInvoked {
    CliCommandInvoked {
        command: CliCommand::Workflow,
        subcommand: Some(CliSubcommand::Run),
    }
}

/// `Telemetry::start`: reading config.yaml and resolving consent (and the id when on).
#[divan::bench(args = STATES)]
fn start(bencher: divan::Bencher, state: State) {
    let home = tempfile::tempdir().unwrap();
    bencher.bench(|| Telemetry::start_with_key(environment(home.path(), state), Some("phc_bench")));
}

/// Recording one event as a short command does: kept in memory, to be written when it finishes
/// (each telemetry here is new, and dropped, which writes it, outside the timing).
#[divan::bench(args = STATES)]
fn record_one_event(bencher: divan::Bencher, state: State) {
    let home = tempfile::tempdir().unwrap();
    let event = event();
    bencher
        .with_inputs(|| {
            Telemetry::start_with_key(environment(home.path(), state), Some("phc_bench"))
        })
        .bench_local_refs(|telemetry| telemetry.record(divan::black_box(&event)));
}

/// Recording one event and writing it at once, as a command past its first second does (on:
/// appended to the queue; undecided: to the recent events).
#[divan::bench(args = STATES)]
fn record_and_write_one_event(bencher: divan::Bencher, state: State) {
    let home = tempfile::tempdir().unwrap();
    let telemetry = Telemetry::start_with_key(environment(home.path(), state), Some("phc_bench"));
    let event = event();
    bencher.bench_local(|| {
        telemetry.record(divan::black_box(&event));
        telemetry.flush();
    });
}

/// What a short command's telemetry costs in all, short of starting a delivery: start, three
/// events, and writing them together.
#[divan::bench(args = STATES)]
fn short_command(bencher: divan::Bencher, state: State) {
    let home = tempfile::tempdir().unwrap();
    let event = event();
    bencher.bench_local(|| {
        let telemetry =
            Telemetry::start_with_key(environment(home.path(), state), Some("phc_bench"));
        for _ in 0..3 {
            telemetry.record(divan::black_box(&event));
        }
        telemetry.flush();
    });
}

/// The exit path when events were queued: the checks, and starting the delivery process (here
/// `/bin/true`, so the cost of the child's own work is not counted).
#[divan::bench(sample_count = 50)]
fn exit_path_with_events_queued(bencher: divan::Bencher) {
    let home = tempfile::tempdir().unwrap();
    let store = Store::new(home.path());
    let launcher = Launcher::new("/bin/true", Vec::new());
    let telemetry =
        Telemetry::start_with_key(environment(home.path(), State::On), Some("phc_bench"));
    telemetry.record(&event());
    bencher.bench(|| spawn::start_delivery_if_due(&store, &launcher));
}

/// The exit path with telemetry off or undecided: nothing to do.
#[divan::bench(args = [State::Off, State::Undecided])]
fn exit_path_nothing_queued(bencher: divan::Bencher, state: State) {
    let home = tempfile::tempdir().unwrap();
    let telemetry = Telemetry::start_with_key(environment(home.path(), state), Some("phc_bench"));
    telemetry.record(&event());
    bencher.bench_local(|| telemetry.finish());
}
