//! Delivering 10,000 queued events to a PostHog-compatible server on 127.0.0.1: wall time,
//! requests made, and that every uuid arrived exactly once. Goal: ≤ 2 s, ≤ 100 events a
//! request. Run with `cargo bench -p telemetry-runtime --bench delivery`.

use capture_server::CaptureServer;
use std::collections::HashSet;
use std::ffi::OsString;
use std::time::{Duration, Instant};
use telemetry_posthog::deliver;
use telemetry_runtime::delivery::DeliveryConfig;
use telemetry_runtime::store::Store;
use telemetry_runtime::{Environment, Telemetry};
use telemetry_schema::{CliCommand, CliCommandInvoked, CliSubcommand};

const EVENTS: usize = 10_000;

fn main() {
    check_once();
    divan::main();
}

/// A home with `EVENTS` events queued, and its environment (telemetry on).
fn queued_home() -> (tempfile::TempDir, Environment) {
    let home = tempfile::tempdir().unwrap();
    let env = Environment {
        archon_home: Some(home.path().into()),
        archon_telemetry: Some(OsString::from("1")),
        ..Environment::default()
    };
    let telemetry = Telemetry::start_with_key(env.clone(), Some("phc_bench"));
    let event = CliCommandInvoked {
        command: CliCommand::Workflow,
        subcommand: Some(CliSubcommand::Run),
    };
    for _ in 0..EVENTS {
        telemetry.record(&event);
    }
    (home, env)
}

fn config(server: &CaptureServer) -> DeliveryConfig {
    DeliveryConfig {
        key: "phc_bench".into(),
        host: server.url().into(),
        request_timeout: Duration::from_secs(10),
        time_limit: Duration::from_secs(50),
        first_backoff: Duration::from_millis(100),
        // Measure the sending, not the wait for more events afterwards.
        linger: Duration::ZERO,
    }
}

/// One delivery, checked: counts, batch sizes, and every uuid exactly once.
fn check_once() {
    let (home, env) = queued_home();
    let server = CaptureServer::start();
    let start = Instant::now();
    let report = deliver(&Store::new(home.path()), &env, &config(&server));
    let took = start.elapsed();
    let requests = server.requests();
    let largest = requests
        .iter()
        .filter_map(|r| r.body.as_ref()?.get("batch")?.as_array().map(Vec::len))
        .max()
        .unwrap_or(0);
    let received = server.accepted_events();
    let unique: HashSet<&str> = received.iter().filter_map(|e| e["uuid"].as_str()).collect();
    println!(
        "delivery of {EVENTS} events: {:.2} s, {} requests (largest batch {largest}), {} received, every uuid exactly once: {}",
        took.as_secs_f64(),
        requests.len(),
        received.len(),
        unique.len() == EVENTS && received.len() == EVENTS && report.delivered == EVENTS as u64,
    );
}

#[divan::bench(sample_count = 5, sample_size = 1)]
fn deliver_10000_events(bencher: divan::Bencher) {
    let server = CaptureServer::start();
    bencher
        .with_inputs(queued_home)
        .bench_values(|(home, env)| {
            let report = deliver(&Store::new(home.path()), &env, &config(&server));
            assert_eq!(report.delivered, EVENTS as u64);
            home
        });
}
