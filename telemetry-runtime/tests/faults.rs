//! Fault injection at the library level, where a delivery can be given short timeouts: a slow
//! server, a server that keeps failing, body limits and 413s, and queue and recent-events files
//! that are broken or far too large. (The binary-level faults are in archon-cli/tests/faults.rs.)
//!
//! Time bounds here are hang detectors with wide margins, never speed checks.

mod common;

use capture_server::{CaptureServer, Reply};
use common::*;
use std::collections::HashMap;
use std::time::{Duration, Instant};
use telemetry_posthog::deliver;
use telemetry_runtime::delivery::spawn::{self, Launcher, SpawnDecision};
use telemetry_runtime::delivery::DeliveryConfig;
use telemetry_runtime::{control, queue, recent, state, Telemetry};

/// How many times each uuid was accepted.
fn accepted_counts(server: &CaptureServer) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for event in server.accepted_events() {
        *counts
            .entry(event["uuid"].as_str().unwrap().to_owned())
            .or_default() += 1;
    }
    counts
}

fn queued_uuids(home: &Home) -> Vec<String> {
    queue::read(&home.store())
        .unwrap()
        .events
        .iter()
        .map(|event| event.uuid.to_string())
        .collect()
}

/// A launcher that must never be started (the checks below expect a decision not to start).
fn no_launcher() -> Launcher {
    Launcher::new("/nonexistent/archon-test-launcher", Vec::new())
}

#[test]
fn a_server_answering_in_10_s_costs_a_bounded_time_and_a_few_requests() {
    let home = Home::new();
    let env = record(&home, 20);
    let queued = queued_uuids(&home);
    let server = CaptureServer::start();
    // Every request is answered, but only after 10 s (the answer goes to a closed connection).
    server.script(std::iter::repeat_n(
        Reply::Delay(Duration::from_secs(10), Box::new(Reply::Status(200))),
        50,
    ));
    let config = DeliveryConfig {
        request_timeout: Duration::from_secs(1),
        time_limit: Duration::from_secs(3),
        first_backoff: Duration::from_millis(100),
        ..fast_config(server.url())
    };
    let start = Instant::now();
    let report = deliver(&home.store(), &env, &config);
    let took = start.elapsed();

    assert_eq!(report.delivered, 0);
    assert!(report.gave_up.is_some(), "{report:?}");
    // Bounded: the time limit plus one last request, with a wide margin (a hang detector).
    assert!(
        took < config.time_limit + config.request_timeout + Duration::from_secs(20),
        "{took:?}"
    );
    // Not a storm: each request waits out its timeout, then a growing pause; the SDK makes no
    // retries of its own (the server saw exactly the requests the delivery counted).
    assert!(report.requests <= 5, "{report:?}");
    assert_eq!(server.requests().len() as u64, report.requests);
    // Nothing lost, and the next archon command does not try again straight away.
    assert_eq!(queued_uuids(&home), queued);
    let state = state::read(&home.store());
    assert_eq!(state.consecutive_failures, 1);
    assert_eq!(
        spawn::start_delivery_if_due(&home.store(), &no_launcher()),
        SpawnDecision::BackingOff
    );
    // The real delivery process is bounded the same way: at most its limit plus one request.
    let real = DeliveryConfig::new(TEST_KEY, server.url());
    assert!(real.time_limit + real.request_timeout <= Duration::from_secs(60));
}

#[test]
fn a_server_failing_every_request_gets_backoff_not_a_retry_storm() {
    let home = Home::new();
    let env = record(&home, 5);
    let server = CaptureServer::start();
    server.script(std::iter::repeat_n(Reply::Status(503), 1000));
    let config = DeliveryConfig {
        time_limit: Duration::from_secs(3),
        first_backoff: Duration::from_millis(100),
        ..fast_config(server.url())
    };
    let report = deliver(&home.store(), &env, &config);
    assert_eq!(report.delivered, 0);
    // Pauses of 0.1, 0.2, 0.4, 0.8 s... within 3 s: a handful of requests, never hundreds.
    assert!(
        (2..=6).contains(&report.requests),
        "{} requests",
        report.requests
    );
    assert_eq!(server.requests().len() as u64, report.requests);
    assert_eq!(queued_uuids(&home).len(), 5);
    // Another archon command right after does not start another delivery.
    assert_eq!(
        spawn::start_delivery_if_due(&home.store(), &no_launcher()),
        SpawnDecision::BackingOff
    );
}

#[test]
fn with_a_20_mb_body_limit_every_batch_stays_far_below_it() {
    const LIMIT: usize = 20 * 1024 * 1024;
    let home = Home::new();
    let env = record(&home, 3_000);
    let server = CaptureServer::start();
    server.set_body_limit(LIMIT);
    let config = DeliveryConfig {
        time_limit: Duration::from_secs(60),
        ..fast_config(server.url())
    };
    let report = deliver(&home.store(), &env, &config);
    assert_eq!(report.delivered, 3_000, "{report:?}");
    assert_eq!(report.requests, 30, "batches of 100");
    let requests = server.requests();
    assert!(requests.iter().all(|r| r.status == Some(200)));
    let largest = requests.iter().map(|r| r.size).max().unwrap();
    assert!(largest < LIMIT / 100, "a batch of {largest} bytes");
    assert!(accepted_counts(&server).values().all(|&n| n == 1));
    assert_eq!(accepted_counts(&server).len(), 3_000);
    assert!(queued_uuids(&home).is_empty());
}

#[test]
fn a_body_limit_below_a_full_batch_splits_batches_and_delivers_everything_once() {
    let home = Home::new();
    let env = record(&home, 250);
    let queued = queued_uuids(&home);
    let server = CaptureServer::start();
    // A proxy with a small body limit: a full batch of 100 is refused, a few dozen pass.
    const LIMIT: usize = 24 * 1024;
    server.set_body_limit(LIMIT);
    let report = deliver(&home.store(), &env, &fast_config(server.url()));
    assert_eq!(report.delivered, 250, "{report:?}");
    assert_eq!(report.dropped_rejected, 0);

    let requests = server.requests();
    let refused = requests.iter().filter(|r| r.status == Some(413)).count();
    let accepted = requests.iter().filter(|r| r.status == Some(200)).count();
    assert!(refused > 0, "the limit was meant to refuse a full batch");
    assert!(requests
        .iter()
        .all(|r| r.status == Some(200) || r.size > LIMIT));
    // Bounded: halving from 100 reaches a size that passes within 7 refusals per batch sent.
    assert!(
        refused <= 7 * accepted,
        "{refused} refused, {accepted} accepted"
    );
    let counts = accepted_counts(&server);
    assert_eq!(counts.len(), 250);
    assert!(counts.values().all(|&n| n == 1));
    assert!(queued.iter().all(|uuid| counts.contains_key(uuid)));
    assert!(queued_uuids(&home).is_empty());
}

#[test]
fn a_server_refusing_every_body_with_413_drops_the_events_with_a_count_and_no_storm() {
    const EVENTS: u64 = 30;
    let home = Home::new();
    let env = record(&home, EVENTS as usize);
    let server = CaptureServer::start();
    server.set_body_limit(100); // smaller than any single event
    let report = deliver(&home.store(), &env, &fast_config(server.url()));
    assert_eq!(report.delivered, 0);
    assert_eq!(report.dropped_rejected, EVENTS);
    // 30 → 15 → 7 → 3 → 1, then one request for each remaining event: each event is offered
    // a bounded number of times, and none is retried after its own refusal.
    assert!(
        report.requests <= EVENTS + 7,
        "{} requests",
        report.requests
    );
    assert_eq!(server.requests().len() as u64, report.requests);
    assert!(server.accepted_events().is_empty());
    assert!(queued_uuids(&home).is_empty());
    let status = control::status(&env);
    assert_eq!(status.state.dropped_rejected, EVENTS);
    assert_eq!(status.waiting.unwrap().to_send, 0);
}

#[test]
fn a_queue_line_cut_short_does_not_swallow_the_next_event() {
    let home = Home::new();
    std::fs::create_dir_all(home.store().dir()).unwrap();
    // A write cut short by a full disk or a crash: half a line, no newline.
    let queue_path = home.store().dir().join("queue.jsonl");
    std::fs::write(&queue_path, br#"{"uuid":"6f1c2a4e-0000-4000-8000-00000000"#).unwrap();
    let env = record(&home, 2);
    let contents = queue::read(&home.store()).unwrap();
    assert_eq!(contents.events.len(), 2, "both new events are intact");
    assert_eq!(contents.unreadable_lines, 1);

    let server = CaptureServer::start();
    let report = deliver(&home.store(), &env, &fast_config(server.url()));
    assert_eq!(report.delivered, 2);
    assert_eq!(server.accepted_events().len(), 2);
    assert_eq!(state::read(&home.store()).dropped_unreadable, 1);
    assert!(queued_uuids(&home).is_empty());
}

#[test]
fn a_queue_too_large_to_read_is_started_afresh_and_keeps_the_new_event() {
    let home = Home::new();
    std::fs::create_dir_all(home.store().dir()).unwrap();
    let queue_path = home.store().dir().join("queue.jsonl");
    // 100 MB, sparse: made at once, and not something archon ever wrote.
    std::fs::File::create(&queue_path)
        .unwrap()
        .set_len(100 * 1024 * 1024)
        .unwrap();
    let env = record(&home, 3);
    let contents = queue::read(&home.store()).unwrap();
    assert_eq!(contents.events.len(), 3, "the events recorded are kept");
    assert_eq!(contents.unreadable_lines, 0);
    assert!(std::fs::metadata(&queue_path).unwrap().len() < 1024 * 1024);
    let status = control::status(&env);
    assert_eq!(status.state.dropped_unreadable, 1, "counted, for status");
    assert_eq!(status.waiting.unwrap().to_send, 3);
}

#[test]
fn a_recent_events_file_too_large_to_read_is_started_afresh() {
    let home = Home::new();
    std::fs::create_dir_all(home.store().dir()).unwrap();
    let recent_path = home.store().dir().join("recent.jsonl");
    std::fs::File::create(&recent_path)
        .unwrap()
        .set_len(100 * 1024 * 1024)
        .unwrap();
    let env = record(&home, 2);
    // `inspect` still shows what is waiting in the queue.
    let shown = control::inspect(&env, recent::KEEP).unwrap();
    assert_eq!(shown.len(), 2);
    // The delivery moves the sent events to a recent-events file started afresh.
    let server = CaptureServer::start();
    assert_eq!(
        deliver(&home.store(), &env, &fast_config(server.url())).delivered,
        2
    );
    assert!(std::fs::metadata(&recent_path).unwrap().len() < 64 * 1024);
    record(&home, 1);
    let shown = control::inspect(&env, recent::KEEP).unwrap();
    let statuses: Vec<_> = shown.iter().map(|(_, status)| *status).collect();
    assert_eq!(
        statuses,
        [
            recent::DeliveryStatus::Sent,
            recent::DeliveryStatus::Sent,
            recent::DeliveryStatus::Waiting
        ]
    );
    assert_eq!(queue::read(&home.store()).unwrap().events.len(), 1);
}

#[cfg(unix)]
#[test]
fn a_process_that_cannot_record_says_why_in_status() {
    // The anonymous id cannot be created: its path is a folder.
    let home = Home::new();
    std::fs::create_dir_all(home.store().identity_path()).unwrap();
    let telemetry = Telemetry::start_with_key(home.env_on(), Some(TEST_KEY));
    telemetry.record(&invoked());
    assert!(!telemetry.is_sending());
    let status = control::status_of(&telemetry);
    let problem = status.recording_problem.expect("a problem is reported");
    assert!(
        problem.contains("anonymous id cannot be created"),
        "{problem}"
    );
    assert!(control::status(&home.env_on()).recording_problem.is_none());

    // The queue cannot be written: it is a symlink, which is never followed.
    let home = Home::new();
    let elsewhere = home.path().join("elsewhere");
    std::fs::write(&elsewhere, "keep me").unwrap();
    std::fs::create_dir_all(home.store().dir()).unwrap();
    std::os::unix::fs::symlink(&elsewhere, home.store().dir().join("queue.jsonl")).unwrap();
    let telemetry = Telemetry::start_with_key(home.env_on(), Some(TEST_KEY));
    telemetry.record(&invoked());
    let status = control::status_of(&telemetry);
    let problem = status.recording_problem.expect("a problem is reported");
    assert!(problem.contains("events cannot be stored"), "{problem}");
    let waiting = status.waiting.unwrap_err();
    assert!(waiting.contains("queue.jsonl cannot be read"), "{waiting}");
    assert_eq!(std::fs::read_to_string(&elsewhere).unwrap(), "keep me");
}

/// The telemetry folder replaced by another user's link while a long command runs (root with
/// that user's `$HOME`, say): the command's later writes, its delivery's lock and a delivery
/// started meanwhile write nothing where the link leads, and the command notes why. Only root
/// can give a link to another user, so run as anyone else the test says so and stops.
#[cfg(unix)]
#[test]
fn a_folder_swapped_for_another_users_link_mid_command_is_not_written_through() {
    let home = Home::new();
    let telemetry = Telemetry::start_with_key(home.env_on(), Some(TEST_KEY));
    telemetry.record(&invoked());
    telemetry.flush();
    assert_eq!(queued_uuids(&home).len(), 1);

    let foreign = tempfile::tempdir().unwrap();
    let dir = home.store().dir();
    std::fs::rename(&dir, home.path().join("moved-away")).unwrap();
    std::os::unix::fs::symlink(foreign.path(), &dir).unwrap();
    if std::os::unix::fs::lchown(&dir, Some(65534), Some(65534)).is_err() {
        eprintln!("not run as root: cannot give the link to another user");
        return;
    }
    telemetry.record(&invoked());
    telemetry.finish();
    let server = CaptureServer::start();
    deliver(&home.store(), &home.env_on(), &fast_config(server.url()));

    let written: Vec<_> = std::fs::read_dir(foreign.path()).unwrap().collect();
    assert!(written.is_empty(), "written through the link: {written:?}");
    let problem = telemetry.problem().unwrap_or_default();
    assert!(problem.contains("owned by another user"), "{problem}");
    assert!(server.requests().is_empty());
}
