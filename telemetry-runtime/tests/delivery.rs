//! Delivery against a real PostHog-compatible server on 127.0.0.1.

mod common;

use capture_server::{CaptureServer, Reply};
use common::*;
use serde_json::Value;
use std::collections::HashSet;
use std::time::{Duration, Instant};
use telemetry_posthog::deliver;
use telemetry_runtime::delivery::{self, DeliveryConfig};
use telemetry_runtime::{control, queue, state, Environment, Telemetry};

#[test]
fn delivers_everything_once_and_empties_the_queue() {
    let home = Home::new();
    let env = record(&home, 250);
    let server = CaptureServer::start();
    let report = deliver(&home.store(), &env, &fast_config(server.url()));
    assert_eq!(report.delivered, 250);
    assert_eq!(report.requests, 3, "batches of at most 100");
    let received = server.accepted_events();
    let unique: HashSet<_> = uuids(&received).into_iter().collect();
    assert_eq!(unique.len(), 250);
    assert_eq!(received.len(), 250);
    for request in server.requests() {
        let body = request.body.unwrap();
        assert_eq!(body["api_key"], TEST_KEY);
        assert!(body["batch"].as_array().unwrap().len() <= 100);
    }
    assert!(queue::read(&home.store()).unwrap().events.is_empty());
    let state = state::read(&home.store());
    assert_eq!(state.delivered, 250);
    assert!(state.last_success_at.is_some());
}

#[test]
fn what_inspect_shows_is_what_the_server_receives() {
    let home = Home::new();
    let env = record(&home, 3);
    let shown: Vec<Value> = control::inspect(&env, 10)
        .unwrap()
        .into_iter()
        .map(|(entry, _)| serde_json::to_value(entry.event).unwrap())
        .collect();
    let server = CaptureServer::start();
    deliver(&home.store(), &env, &fast_config(server.url()));
    let received = server.accepted_events();
    assert_eq!(received.len(), 3);
    // Key for key, value for value: nothing added by the SDK, nothing lost.
    assert_eq!(received, shown);
}

#[test]
fn server_errors_are_retried_until_delivered_once() {
    let home = Home::new();
    let env = record(&home, 5);
    let server = CaptureServer::start();
    server.script([Reply::Status(503), Reply::Status(503)]);
    let report = deliver(&home.store(), &env, &fast_config(server.url()));
    assert_eq!(report.delivered, 5);
    assert_eq!(report.requests, 3);
    let statuses: Vec<_> = server.requests().iter().map(|r| r.status).collect();
    assert_eq!(statuses, [Some(503), Some(503), Some(200)]);
    assert_eq!(server.accepted_events().len(), 5);
    // The retried batch carried the same uuids each time, so PostHog could deduplicate.
    let bodies: Vec<Vec<String>> = server
        .requests()
        .iter()
        .map(|r| uuids(r.body.as_ref().unwrap()["batch"].as_array().unwrap()))
        .collect();
    assert!(bodies.windows(2).all(|pair| pair[0] == pair[1]));
}

#[test]
fn rate_limits_and_timeouts_are_retried() {
    let home = Home::new();
    let env = record(&home, 2);
    let server = CaptureServer::start();
    server.script([Reply::RetryAfter(1), Reply::Status(408), Reply::Status(429)]);
    let report = deliver(&home.store(), &env, &fast_config(server.url()));
    assert_eq!(report.delivered, 2);
    assert_eq!(server.accepted_events().len(), 2);
}

#[test]
fn malformed_batches_are_split_and_single_rejects_dropped_with_a_count() {
    let home = Home::new();
    let env = record(&home, 3);
    let server = CaptureServer::start();
    // [e1 e2 e3] refused → [e1] ok → [e2 e3] refused → [e2] refused, dropped → [e3] ok.
    server.script([
        Reply::Status(400),
        Reply::Status(200),
        Reply::Status(413),
        Reply::Status(400),
        Reply::Status(200),
    ]);
    let report = deliver(&home.store(), &env, &fast_config(server.url()));
    assert_eq!(report.delivered, 2);
    assert_eq!(report.dropped_rejected, 1);
    assert_eq!(report.requests, 5);
    assert!(queue::read(&home.store()).unwrap().events.is_empty());
    assert_eq!(state::read(&home.store()).dropped_rejected, 1);
    // `inspect --status` tells the dropped event from the sent ones.
    use telemetry_runtime::recent::DeliveryStatus::{Dropped, Sent};
    let shown = telemetry_runtime::control::inspect(&env, 10).unwrap();
    let statuses: Vec<_> = shown.iter().map(|(_, status)| *status).collect();
    assert_eq!(statuses, [Sent, Dropped, Sent]);
}

/// An event dated ahead of the clock (recorded while it was ahead, and set back since) cannot be
/// sent with the time it was recorded at: it is dropped with a count and shown as dropped, and
/// the others arrive and are shown as sent. None is counted, or shown, as sent without arriving.
#[test]
fn an_event_dated_in_the_future_is_dropped_and_never_counted_as_sent() {
    let home = Home::new();
    let env = record(&home, 3);
    let queue_path = home.store().dir().join("queue.jsonl");
    let text = std::fs::read_to_string(&queue_path).unwrap();
    let mut lines: Vec<serde_json::Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).unwrap())
        .collect();
    let ahead = chrono::Utc::now() + chrono::Duration::days(1);
    lines[1]["timestamp"] = telemetry_runtime::wire::format_timestamp(ahead).into();
    let future_uuid = lines[1]["uuid"].as_str().unwrap().to_owned();
    let rewritten: String = lines.iter().map(|line| format!("{line}\n")).collect();
    std::fs::write(&queue_path, rewritten).unwrap();

    let server = CaptureServer::start();
    let report = deliver(&home.store(), &env, &fast_config(server.url()));
    assert_eq!(report.delivered, 2);
    assert_eq!(report.dropped_invalid, 1);
    let received = uuids(&server.accepted_events());
    assert_eq!(received.len(), 2);
    assert!(!received.contains(&future_uuid));
    use telemetry_runtime::recent::DeliveryStatus::{Dropped, Sent};
    for (entry, status) in control::inspect(&env, 10).unwrap() {
        let uuid = entry.event.uuid.to_string();
        let expected = if uuid == future_uuid { Dropped } else { Sent };
        assert_eq!(status, expected, "{uuid}");
        assert_eq!(received.contains(&uuid), status == Sent);
    }
}

#[test]
fn other_refusals_keep_the_events_for_later() {
    let home = Home::new();
    let env = record(&home, 4);
    let server = CaptureServer::start();
    server.script([Reply::Status(401)]);
    let report = deliver(&home.store(), &env, &fast_config(server.url()));
    assert_eq!(report.delivered, 0);
    assert!(report.gave_up.unwrap().contains("401"));
    assert_eq!(queue::read(&home.store()).unwrap().events.len(), 4);
    let state = state::read(&home.store());
    assert_eq!(state.consecutive_failures, 1);
    assert!(state.last_outcome.unwrap().starts_with("not sent yet"));
}

#[test]
fn a_server_that_never_answers_makes_delivery_give_up_within_its_limit() {
    let home = Home::new();
    let env = record(&home, 3);
    let server = CaptureServer::start();
    server.script(std::iter::repeat_n(Reply::NeverAnswer, 20));
    let config = fast_config(server.url());
    let start = Instant::now();
    let report = deliver(&home.store(), &env, &config);
    let took = start.elapsed();
    assert_eq!(report.delivered, 0);
    assert!(report.gave_up.is_some());
    // Not a speed check: a hang detector with a wide margin over limit + one request.
    assert!(
        took < config.time_limit + config.request_timeout + Duration::from_secs(20),
        "{took:?}"
    );
    assert_eq!(
        queue::read(&home.store()).unwrap().events.len(),
        3,
        "nothing lost"
    );
}

#[test]
fn a_refused_port_keeps_the_events() {
    let home = Home::new();
    let env = record(&home, 2);
    let url = {
        let server = CaptureServer::start();
        server.url().to_owned()
    }; // stopped: the port now refuses connections
    let report = deliver(&home.store(), &env, &fast_config(&url));
    assert_eq!(report.delivered, 0);
    assert!(report.gave_up.is_some());
    assert_eq!(queue::read(&home.store()).unwrap().events.len(), 2);
}

#[test]
fn events_recorded_before_opting_in_are_never_sent() {
    let home = Home::new();
    // Recorded while on by an environment variable, before the explicit opt-in.
    let early = record(&home, 2);
    let early_uuids: HashSet<String> = queue::read(&home.store())
        .unwrap()
        .events
        .iter()
        .map(|e| e.uuid.to_string())
        .collect();
    std::thread::sleep(Duration::from_millis(5));
    control::opt_in(&home.env()).unwrap();
    let telemetry = Telemetry::start_with_key(home.env(), Some(TEST_KEY));
    telemetry.record(&startup());
    telemetry.flush();

    let server = CaptureServer::start();
    let report = deliver(&home.store(), &early, &fast_config(server.url()));
    assert_eq!(report.delivered, 1);
    assert_eq!(report.dropped_before_opt_in, 2);
    let received = server.accepted_events();
    assert_eq!(received.len(), 1);
    assert_eq!(received[0]["event"], "binary.startup");
    assert!(!early_uuids.contains(received[0]["uuid"].as_str().unwrap()));
    // `inspect --status` says which were dropped and which sent.
    use telemetry_runtime::recent::DeliveryStatus::{Dropped, Sent};
    let shown = control::inspect(&home.env(), 10).unwrap();
    let statuses: Vec<_> = shown.iter().map(|(_, status)| *status).collect();
    assert_eq!(statuses, [Dropped, Dropped, Sent]);
}

#[test]
fn opting_out_after_queueing_sends_nothing() {
    let home = Home::new();
    record_opted_in(&home, 1);
    let server = CaptureServer::start();
    let off = Environment {
        do_not_track: Some("1".into()),
        ..home.env()
    };
    let report = deliver(&home.store(), &off, &fast_config(server.url()));
    assert_eq!(report.skipped, Some("telemetry is off"));
    assert!(server.requests().is_empty());
    assert!(queue::read(&home.store()).unwrap().events.is_empty());
}

#[test]
fn a_build_without_a_key_never_sends() {
    let home = Home::new();
    let server = CaptureServer::start();
    let env = Environment {
        archon_telemetry_host: Some(server.url().into()),
        ..record(&home, 2)
    };
    let report = telemetry_posthog::deliver_for_build(&env);
    assert_eq!(report.skipped, Some("this build cannot send telemetry"));
    assert!(server.requests().is_empty());
}

#[test]
fn one_delivery_at_a_time() {
    let home = Home::new();
    let env = record(&home, 1);
    let server = CaptureServer::start();
    server.script([Reply::Delay(
        Duration::from_millis(500),
        Box::new(Reply::Status(200)),
    )]);
    std::thread::scope(|scope| {
        let first = scope.spawn(|| deliver(&home.store(), &env, &fast_config(server.url())));
        // Wait until the first delivery holds the lock (it has made its request).
        while server.requests().is_empty() {
            std::thread::sleep(Duration::from_millis(5));
        }
        let second = deliver(&home.store(), &env, &fast_config(server.url()));
        assert_eq!(second.skipped, Some("another delivery is running"));
        assert_eq!(first.join().unwrap().delivered, 1);
    });
    assert_eq!(server.accepted_events().len(), 1);
}

/// A launcher that must never be started.
fn no_launcher() -> delivery::spawn::Launcher {
    delivery::spawn::Launcher::new("/nonexistent/archon-test-launcher", Vec::new())
}

#[test]
fn a_lingering_delivery_sends_the_next_commands_events_and_no_second_one_starts() {
    let home = Home::new();
    let env = record(&home, 2);
    let server = CaptureServer::start();
    let config = DeliveryConfig {
        linger: Duration::from_secs(2),
        ..fast_config(server.url())
    };
    std::thread::scope(|scope| {
        let delivery = scope.spawn(|| deliver(&home.store(), &env, &config));
        server.wait_for_events(2, Duration::from_secs(30));
        // The next command: its event is queued, and its exit path finds a delivery running.
        record(&home, 1);
        assert_eq!(
            delivery::spawn::start_delivery_if_due(&home.store(), &no_launcher()),
            delivery::spawn::SpawnDecision::AlreadyRunning
        );
        let report = delivery.join().unwrap();
        assert_eq!(report.delivered, 3, "{report:?}");
    });
    assert_eq!(server.accepted_events().len(), 3);
    assert!(queue::read(&home.store()).unwrap().events.is_empty());
}

#[test]
fn opting_out_while_a_delivery_lingers_sends_nothing_more() {
    let home = Home::new();
    control::opt_in(&home.env()).unwrap();
    // A command that started while telemetry was on, and is still running.
    let running = Telemetry::start_with_key(home.env(), Some(TEST_KEY));
    running.record(&invoked());
    running.flush();
    let server = CaptureServer::start();
    let config = DeliveryConfig {
        linger: Duration::from_secs(2),
        ..fast_config(server.url())
    };
    std::thread::scope(|scope| {
        let delivery = scope.spawn(|| deliver(&home.store(), &home.env(), &config));
        server.wait_for_events(1, Duration::from_secs(30));
        control::opt_out(&home.env()).unwrap();
        running.record(&invoked());
        running.flush();
        let report = delivery.join().unwrap();
        assert_eq!(report.delivered, 1, "{report:?}");
    });
    assert_eq!(server.accepted_events().len(), 1);
    assert!(
        queue::read(&home.store()).unwrap().events.is_empty(),
        "what was queued after opting out is deleted"
    );
}

/// Starts a delivery of `count` events in `home` whose first request fails, runs `opt_out`
/// while it waits to retry, and returns what it did.
/// Checks that the delivery stopped after its first request, which failed, and sent nothing
/// more: `why` says what should have stopped it.
fn assert_stopped_after_the_first_request(
    report: &delivery::DeliveryReport,
    server: &CaptureServer,
    why: &str,
) {
    assert!(report.withdrawn, "{report:?}");
    assert_eq!(server.requests().len(), 1, "{why}");
    assert!(server.accepted_events().is_empty());
}

/// The distinct ids of the events the server accepted.
fn accepted_ids(server: &CaptureServer) -> HashSet<String> {
    server
        .accepted_events()
        .iter()
        .map(|event| event["distinct_id"].as_str().unwrap().to_owned())
        .collect()
}

fn opt_out_during_a_retry(
    home: &Home,
    delivery_env: &Environment,
    opt_out: impl FnOnce(),
) -> (delivery::DeliveryReport, CaptureServer) {
    let server = CaptureServer::start();
    server.script([Reply::Status(503)]);
    // A wait long enough that the opt-out surely lands in it, even on a loaded machine.
    let config = DeliveryConfig {
        first_backoff: Duration::from_secs(4),
        time_limit: Duration::from_secs(30),
        ..fast_config(server.url())
    };
    let report = std::thread::scope(|scope| {
        let delivery = scope.spawn(|| deliver(&home.store(), delivery_env, &config));
        assert!(wait_until(Duration::from_secs(30), || !server
            .requests()
            .is_empty()));
        opt_out();
        delivery.join().unwrap()
    });
    (report, server)
}

#[test]
fn opting_out_while_a_delivery_waits_to_retry_sends_nothing_more() {
    let home = Home::new();
    let env = record_opted_in(&home, 1);
    let (report, server) = opt_out_during_a_retry(&home, &env, || {
        control::opt_out(&home.env()).unwrap();
    });
    assert_stopped_after_the_first_request(&report, &server, "no retry after opting out");
}

#[test]
fn turning_telemetry_off_stops_a_delivery_even_one_started_with_archon_telemetry_1() {
    // The delivery's own environment keeps telemetry on; `telemetry off` deleted what was
    // waiting, and that is what counts.
    let home = Home::new();
    let env = record(&home, 3);
    let (report, server) = opt_out_during_a_retry(&home, &env, || {
        control::opt_out(&home.env()).unwrap();
    });
    assert_stopped_after_the_first_request(&report, &server, "no retry after opting out");
}

#[test]
fn opting_out_stops_a_long_delivery_between_two_batches() {
    let home = Home::new();
    record_opted_in(&home, 300);
    let server = CaptureServer::start();
    // The server holds the first batch long enough for the opt-out to land meanwhile, even on
    // a loaded machine.
    server.script([Reply::Delay(
        Duration::from_secs(3),
        Box::new(Reply::Status(200)),
    )]);
    let config = DeliveryConfig {
        request_timeout: Duration::from_secs(20),
        time_limit: Duration::from_secs(30),
        ..fast_config(server.url())
    };
    let report = std::thread::scope(|scope| {
        let delivery = scope.spawn(|| deliver(&home.store(), &home.env(), &config));
        // The first batch is on its way.
        assert!(wait_until(Duration::from_secs(30), || !server
            .requests()
            .is_empty()));
        control::opt_out(&home.env()).unwrap();
        delivery.join().unwrap()
    });
    assert!(report.withdrawn, "{report:?}");
    // The batch in flight could not be recalled; nothing after it was sent.
    assert_eq!(server.requests().len(), 1, "{report:?}");
    assert_eq!(server.accepted_events().len(), 100);
}

#[test]
fn clearing_the_id_deletes_what_waits_with_it_so_no_request_links_two_ids() {
    let home = Home::new();
    let env = record(&home, 3);
    let old_id = telemetry_runtime::identity::read(&home.store()).unwrap().id;
    let cleared = control::clear_identity(&env).unwrap();
    assert!(cleared.existed);
    assert_eq!(cleared.waiting_deleted, 3);
    assert!(queue::read(&home.store()).unwrap().events.is_empty());

    // Telemetry stays on: the next command makes a new id, and only its events are sent.
    record(&home, 2);
    let new_id = telemetry_runtime::identity::read(&home.store()).unwrap().id;
    assert_ne!(new_id, old_id);
    let server = CaptureServer::start();
    let report = deliver(&home.store(), &env, &fast_config(server.url()));
    assert_eq!(report.delivered, 2, "{report:?}");
    assert_eq!(accepted_ids(&server), HashSet::from([new_id.to_string()]));
}

#[test]
fn clearing_the_id_stops_a_delivery_that_is_waiting_to_retry() {
    let home = Home::new();
    let env = record(&home, 3);
    let (report, server) = opt_out_during_a_retry(&home, &env, || {
        control::clear_identity(&home.env()).unwrap();
    });
    assert_stopped_after_the_first_request(&report, &server, "no retry with the deleted id");
}

#[test]
fn a_queue_line_changed_to_carry_free_form_text_is_never_sent() {
    let home = Home::new();
    let env = record(&home, 2);
    let queue_file = home.store().dir().join("queue.jsonl");
    let text = std::fs::read_to_string(&queue_file).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 2);
    lines[1] = lines[1].replacen(
        "\"command\":\"workflow\"",
        "\"command\":\"/home/me/acme\"",
        1,
    );
    assert!(lines[1].contains("/home/me/acme"));
    std::fs::write(&queue_file, lines.join("\n") + "\n").unwrap();

    let server = CaptureServer::start();
    let report = deliver(&home.store(), &env, &fast_config(server.url()));
    assert_eq!(report.delivered, 1, "{report:?}");
    assert_eq!(report.dropped_invalid, 1, "{report:?}");
    assert!(server.requests().iter().all(|request| !request
        .body
        .as_ref()
        .unwrap()
        .to_string()
        .contains("/home/me")));
    assert!(queue::read(&home.store()).unwrap().events.is_empty());
    assert_eq!(state::read(&home.store()).dropped_unreadable, 1);
}

#[test]
fn a_command_that_started_before_clear_cannot_link_the_old_id_to_the_new_one() {
    let home = Home::new();
    let env = home.env_on();
    // A long command, running with the id of its start.
    let running = Telemetry::start_with_key(env.clone(), Some(TEST_KEY));
    let old_id = telemetry_runtime::identity::read(&home.store()).unwrap().id;
    control::clear_identity(&env).unwrap();
    // It goes on recording after the clear; the next command makes a new id.
    running.record(&invoked());
    running.flush();
    record(&home, 2);
    let new_id = telemetry_runtime::identity::read(&home.store()).unwrap().id;
    assert_ne!(new_id, old_id);

    let server = CaptureServer::start();
    let report = deliver(&home.store(), &env, &fast_config(server.url()));
    assert_eq!(report.delivered, 2, "{report:?}");
    assert_eq!(accepted_ids(&server), HashSet::from([new_id.to_string()]));
    // Nothing on disk carries the old id: not the queue, not the copies for `inspect`.
    for file in home.files() {
        let text = std::fs::read_to_string(home.path().join(&file)).unwrap_or_default();
        assert!(
            !text.contains(&old_id.to_string()),
            "{file} holds the old id"
        );
    }
}

#[test]
fn a_delivery_never_brings_back_a_deleted_telemetry_folder() {
    let home = Home::new();
    record_opted_in(&home, 1);
    control::opt_out(&home.env()).unwrap();
    std::fs::remove_dir_all(home.store().dir()).unwrap();
    // Telemetry is off: the delivery deletes what waits, of which there is nothing left.
    let report = deliver(
        &home.store(),
        &home.env(),
        &fast_config("http://127.0.0.1:9"),
    );
    assert_eq!(report.skipped, Some("telemetry is off"));
    assert!(!home.store().dir().exists(), "{:?}", home.files());
}
