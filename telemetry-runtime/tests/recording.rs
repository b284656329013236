//! Recording: what each consent state writes, and the queue under parallel writers.

mod common;

use common::*;
use std::collections::HashSet;
use telemetry_runtime::recent::{DeliveryStatus, Recorded};
use telemetry_runtime::{control, queue, Environment, Telemetry};

#[test]
fn off_writes_nothing_at_all() {
    let home = Home::new();
    for env in [
        Environment {
            do_not_track: Some("1".into()),
            ..home.env_on()
        },
        Environment {
            archon_telemetry: Some("0".into()),
            ..home.env()
        },
        Environment {
            archon_no_telemetry: Some("1".into()),
            ..home.env_on()
        },
    ] {
        let telemetry = Telemetry::start_with_key(env, Some(TEST_KEY));
        telemetry.record(&startup());
        telemetry.record(&invoked());
        telemetry.finish();
        assert!(!telemetry.is_sending());
    }
    assert_eq!(home.files(), Vec::<String>::new());
}

#[test]
fn undecided_keeps_events_locally_without_an_identity() {
    let home = Home::new();
    let telemetry = Telemetry::start_with_key(home.env(), Some(TEST_KEY));
    telemetry.record(&invoked());
    telemetry.finish();
    assert!(!telemetry.is_sending());
    assert!(
        !home.store().identity_path().exists(),
        "no id unless opted in"
    );
    assert_eq!(queue::read(&home.store()).unwrap().events.len(), 0);

    let recent = control::inspect(&home.env(), 10).unwrap();
    assert_eq!(recent.len(), 1);
    let (entry, status) = &recent[0];
    assert_eq!(entry.recorded, Recorded::LocalOnly);
    assert_eq!(*status, DeliveryStatus::WithoutId);
    assert_eq!(entry.event.distinct_id, None);
    assert_eq!(entry.event.event, "cli.command_invoked");
    assert_eq!(entry.event.properties["command"], "workflow");
}

#[test]
fn on_queues_the_exact_wire_object() {
    let home = Home::new();
    let telemetry = Telemetry::start_with_key(home.env_on(), Some(TEST_KEY));
    assert!(telemetry.is_sending());
    telemetry.record(&invoked());
    telemetry.flush();

    let queued = queue::read(&home.store()).unwrap().events;
    assert_eq!(queued.len(), 1);
    let (entry, status) = control::inspect(&home.env_on(), 10).unwrap().remove(0);
    assert_eq!(entry.event, queued[0]);
    assert_eq!(status, DeliveryStatus::Waiting);

    let id = std::fs::read_to_string(home.store().identity_path()).unwrap();
    assert_eq!(queued[0].distinct_id.as_deref(), Some(id.trim()));
    let properties = &queued[0].properties;
    assert_eq!(properties["$process_person_profile"], false);
    assert_eq!(properties["$geoip_disable"], true);
    assert_eq!(properties["event_version"], 1);
    assert!(properties.contains_key("archon_version"));
}

#[test]
fn on_in_a_build_without_a_key_keeps_events_local() {
    let home = Home::new();
    let telemetry = Telemetry::start_with_key(home.env_on(), None);
    assert!(!telemetry.is_sending());
    telemetry.record(&invoked());
    telemetry.flush();
    assert_eq!(queue::read(&home.store()).unwrap().events.len(), 0);
    let (entry, status) = control::inspect(&home.env_on(), 10).unwrap().remove(0);
    assert_eq!(
        (entry.recorded, status),
        (Recorded::LocalOnly, DeliveryStatus::KeptLocal)
    );
}

#[test]
fn inspect_keeps_the_last_ten() {
    let home = Home::new();
    let telemetry = Telemetry::start_with_key(home.env(), None);
    for _ in 0..200 {
        telemetry.record(&startup());
    }
    assert_eq!(control::inspect(&home.env(), 100).unwrap().len(), 10);
    assert_eq!(control::inspect(&home.env(), 3).unwrap().len(), 3);
}

#[test]
fn parallel_writers_neither_lose_nor_corrupt_events() {
    let home = Home::new();
    const THREADS: usize = 8;
    const EACH: usize = 50;
    std::thread::scope(|scope| {
        for _ in 0..THREADS {
            scope.spawn(|| {
                let telemetry = Telemetry::start_with_key(home.env_on(), Some(TEST_KEY));
                for _ in 0..EACH {
                    telemetry.record(&invoked());
                    // One append each, so that the threads' appends interleave.
                    telemetry.flush();
                }
            });
        }
    });
    let contents = queue::read(&home.store()).unwrap();
    assert_eq!(contents.unreadable_lines, 0);
    assert_eq!(contents.events.len(), THREADS * EACH);
    let uuids: HashSet<_> = contents.events.iter().map(|e| e.uuid).collect();
    assert_eq!(uuids.len(), THREADS * EACH, "no duplicates");
    let ids: HashSet<_> = contents
        .events
        .iter()
        .map(|e| e.distinct_id.clone())
        .collect();
    assert_eq!(ids.len(), 1, "one identity");
}

#[test]
fn a_corrupt_queue_line_is_skipped_not_fatal() {
    let home = Home::new();
    let telemetry = Telemetry::start_with_key(home.env_on(), Some(TEST_KEY));
    telemetry.record(&invoked());
    telemetry.flush();
    let path = home.store().dir().join("queue.jsonl");
    let mut text = std::fs::read(&path).unwrap();
    text.extend_from_slice(b"{not json\n\x00\xff garbage\n");
    std::fs::write(&path, text).unwrap();
    telemetry.record(&startup());
    telemetry.flush();
    let contents = queue::read(&home.store()).unwrap();
    assert_eq!(contents.events.len(), 2);
    assert_eq!(contents.unreadable_lines, 2);
}

#[test]
fn opting_out_empties_the_queue_and_keeps_the_id() {
    let home = Home::new();
    record_opted_in(&home, 1);
    assert_eq!(queue::read(&home.store()).unwrap().events.len(), 1);
    let id = std::fs::read_to_string(home.store().identity_path()).unwrap();

    control::opt_out(&home.env()).unwrap();
    assert_eq!(queue::read(&home.store()).unwrap().events.len(), 0);
    assert_eq!(
        std::fs::read_to_string(home.store().identity_path()).unwrap(),
        id
    );
    let after = Telemetry::start_with_key(home.env(), Some(TEST_KEY));
    after.record(&invoked());
    after.flush();
    assert_eq!(queue::read(&home.store()).unwrap().events.len(), 0);
}

#[test]
fn opting_out_empties_the_queue_even_when_config_yaml_cannot_be_changed() {
    let home = Home::new();
    record_opted_in(&home, 2);
    assert_eq!(queue::read(&home.store()).unwrap().events.len(), 2);
    // A duplicate key: the file no longer parses, so `off` cannot record its choice there.
    std::fs::write(
        home.store().config_path(),
        "telemetry:\n  enabled: true\ntelemetry:\n  enabled: true\n",
    )
    .unwrap();
    let error = control::opt_out(&home.env()).unwrap_err();
    assert!(
        matches!(
            error,
            control::ControlError::OptOutNotRecorded {
                waiting_deleted: true,
                ..
            }
        ),
        "{error}"
    );
    assert_eq!(queue::read(&home.store()).unwrap().events.len(), 0);
}

#[test]
fn opting_out_is_recorded_even_when_the_queue_cannot_be_emptied() {
    let home = Home::new();
    record_opted_in(&home, 1);
    // The store's lock is not a file any more: the queue cannot be touched.
    let lock = home.store().dir().join("lock");
    std::fs::remove_file(&lock).unwrap();
    std::fs::create_dir(&lock).unwrap();
    let error = control::opt_out(&home.env()).unwrap_err();
    assert!(matches!(error, control::ControlError::Io { .. }), "{error}");
    let config = std::fs::read_to_string(home.store().config_path()).unwrap();
    assert!(config.contains("enabled: false"), "{config}");
}

#[test]
fn opting_in_changes_nothing_when_telemetry_files_cannot_be_written() {
    let home = Home::new();
    // A file where telemetry's folder belongs: no id, no queue.
    std::fs::create_dir_all(home.store().config_path().parent().unwrap()).unwrap();
    std::fs::write(home.store().dir(), "").unwrap();
    let error = control::opt_in(&home.env()).unwrap_err();
    assert!(matches!(error, control::ControlError::Io { .. }), "{error}");
    assert!(
        !home.store().config_path().exists(),
        "the choice is not recorded"
    );
}

#[test]
fn opting_in_forgets_the_new_id_when_config_yaml_cannot_be_changed() {
    let home = Home::new();
    std::fs::create_dir_all(home.store().config_path().parent().unwrap()).unwrap();
    std::fs::write(home.store().config_path(), "telemetry: [unclosed\n").unwrap();
    let error = control::opt_in(&home.env()).unwrap_err();
    assert!(matches!(error, control::ControlError::Config(_)), "{error}");
    assert!(!home.store().identity_path().exists());
}

/// Records `count` events in `env`'s consent state, a little apart so their timestamps differ.
fn record_apart(env: &Environment, count: usize) {
    let telemetry = Telemetry::start_with_key(env.clone(), Some(TEST_KEY));
    for _ in 0..count {
        std::thread::sleep(std::time::Duration::from_millis(3));
        telemetry.record(&invoked());
    }
}

#[test]
fn inspect_shows_local_then_sent_then_waiting_events() {
    let home = Home::new();
    record_apart(&home.env(), 2);
    record_apart(&home.env_on(), 3);
    let server = capture_server::CaptureServer::start();
    let report =
        telemetry_posthog::deliver(&home.store(), &home.env_on(), &fast_config(server.url()));
    assert_eq!(report.delivered, 3);
    record_apart(&home.env_on(), 2);

    let shown = control::inspect(&home.env(), 10).unwrap();
    let statuses: Vec<_> = shown.iter().map(|(_, status)| *status).collect();
    use DeliveryStatus::*;
    assert_eq!(
        statuses,
        [WithoutId, WithoutId, Sent, Sent, Sent, Waiting, Waiting]
    );
    let times: Vec<_> = shown.iter().map(|(e, _)| e.event.captured_at()).collect();
    assert!(times.windows(2).all(|w| w[0] < w[1]), "{times:?}");
    // What `inspect` shows of a sent event is what the server received, key for key.
    let received = server.accepted_events();
    assert_eq!(received.len(), 3);
    for ((entry, _), received) in shown[2..5].iter().zip(&received) {
        assert_eq!(serde_json::to_value(&entry.event).unwrap(), *received);
    }
    assert_eq!(control::inspect(&home.env(), 3).unwrap(), shown[4..]);
}

/// An id file deleted by hand: the events still queued under the old id are discarded by the
/// next delivery, and `inspect` and `status` say so instead of "waiting".
#[test]
fn events_under_a_deleted_id_are_shown_as_discarded_not_waiting() {
    let home = Home::new();
    record_apart(&home.env_on(), 2);
    std::fs::remove_file(home.store().identity_path()).unwrap();
    record_apart(&home.env_on(), 3);

    let shown = control::inspect(&home.env_on(), 10).unwrap();
    let statuses: Vec<_> = shown.iter().map(|(_, status)| *status).collect();
    use DeliveryStatus::*;
    assert_eq!(
        statuses,
        [UnderDeletedId, UnderDeletedId, Waiting, Waiting, Waiting]
    );
    let waiting = control::status(&home.env_on()).waiting.unwrap();
    assert_eq!((waiting.to_send, waiting.under_deleted_id), (3, 2));

    // What the labels say is what the delivery does.
    let server = capture_server::CaptureServer::start();
    let report =
        telemetry_posthog::deliver(&home.store(), &home.env_on(), &fast_config(server.url()));
    assert_eq!(report.delivered, 3);
    let sent: HashSet<String> = uuids(&server.accepted_events()).into_iter().collect();
    let labelled_waiting: HashSet<String> = shown
        .iter()
        .filter(|(_, status)| *status == Waiting)
        .map(|(entry, _)| entry.event.uuid.to_string())
        .collect();
    assert_eq!(sent, labelled_waiting);
    assert_eq!(
        control::status(&home.env_on()).waiting.unwrap(),
        Default::default()
    );
}

#[test]
fn the_event_just_recorded_is_shown_last_whatever_the_clock_said_before() {
    let home = Home::new();
    // Ten events recorded while the clock was far ahead.
    record_apart(&home.env(), 10);
    let recent_path = home.store().dir().join("recent.jsonl");
    let mut future = String::new();
    for line in std::fs::read_to_string(&recent_path).unwrap().lines() {
        let mut entry: serde_json::Value = serde_json::from_str(line).unwrap();
        entry["event"]["timestamp"] = "2999-01-01T00:00:00.000Z".into();
        future.push_str(&format!("{entry}\n"));
    }
    std::fs::write(&recent_path, future).unwrap();

    record_apart(&home.env(), 1);
    record_apart(&home.env_on(), 1);
    let shown = control::inspect(&home.env(), 10).unwrap();
    assert_eq!(shown[8].1, DeliveryStatus::WithoutId);
    assert!(!shown[8].0.event.timestamp.starts_with("2999"));
    assert_eq!(shown[9].1, DeliveryStatus::Waiting);
    assert!(shown[..8]
        .iter()
        .all(|(entry, _)| entry.event.timestamp.starts_with("2999")));
}

#[test]
fn recording_with_telemetry_on_writes_only_the_queue() {
    let home = Home::new();
    record(&home, 3);
    // The recent events get queued events when they leave the queue: one append a record.
    assert_eq!(
        home.files(),
        ["telemetry-id", "telemetry/lock", "telemetry/queue.jsonl"]
    );
}

#[test]
fn a_short_command_writes_its_events_together_when_it_finishes() {
    let home = Home::new();
    let telemetry = Telemetry::start_with_key(home.env_on(), Some(TEST_KEY));
    telemetry.record(&startup());
    telemetry.record(&invoked());
    // Kept in memory so far: the first second's events are written together.
    assert_eq!(queue::read(&home.store()).unwrap().events.len(), 0);
    telemetry.flush();
    let queued = queue::read(&home.store()).unwrap().events;
    let names: Vec<_> = queued.iter().map(|event| event.event.as_str()).collect();
    assert_eq!(names, ["binary.startup", "cli.command_invoked"]);
    // A telemetry dropped without finishing still writes what it holds.
    let telemetry = Telemetry::start_with_key(home.env(), Some(TEST_KEY));
    telemetry.record(&startup());
    drop(telemetry);
    assert_eq!(control::inspect(&home.env(), 10).unwrap().len(), 3);
}

#[test]
fn a_command_running_past_its_first_second_writes_each_event_at_once() {
    let home = Home::new();
    let telemetry = Telemetry::start_with_key(home.env_on(), Some(TEST_KEY));
    telemetry.record(&startup());
    std::thread::sleep(std::time::Duration::from_millis(1100));
    telemetry.record(&invoked());
    // Written without a flush: a process killed now loses nothing recorded so far.
    assert_eq!(queue::read(&home.store()).unwrap().events.len(), 2);
    std::mem::forget(telemetry);
}

#[test]
fn many_events_in_the_first_second_are_written_before_they_pile_up() {
    let home = Home::new();
    let telemetry = Telemetry::start_with_key(home.env_on(), Some(TEST_KEY));
    for _ in 0..1000 {
        telemetry.record(&invoked());
    }
    // About 450 bytes each: written every 64 KiB or so, not held to the end.
    let written = queue::read(&home.store()).unwrap().events.len();
    assert!((900..1000).contains(&written), "{written}");
    std::mem::forget(telemetry);
}

#[test]
fn a_process_that_turns_telemetry_off_queues_nothing_more() {
    let home = Home::new();
    control::opt_in(&home.env()).unwrap();
    let telemetry = Telemetry::start_with_key(home.env(), Some(TEST_KEY));
    telemetry.record(&startup());
    control::opt_out(&home.env()).unwrap();
    telemetry.stop();
    telemetry.record(&invoked());
    telemetry.finish();
    assert_eq!(queue::read(&home.store()).unwrap().events.len(), 0);
    assert!(control::inspect(&home.env(), 10).unwrap().is_empty());
}

#[test]
fn a_process_running_when_telemetry_is_turned_off_writes_none_of_its_events() {
    let home = Home::new();
    control::opt_in(&home.env()).unwrap();
    // A long workflow, started while telemetry was on: one event written, two still held.
    let running = Telemetry::start_with_key(home.env(), Some(TEST_KEY));
    running.record(&startup());
    running.flush();
    running.record(&invoked());
    running.record(&invoked());
    control::opt_out(&home.env()).unwrap();
    running.record(&invoked());
    running.finish();
    assert_eq!(queue::read(&home.store()).unwrap().events.len(), 0);
    // So opting in again by a variable, which keeps `opted_in_at`, finds nothing to send.
    let later = Telemetry::start_with_key(home.env_on(), Some(TEST_KEY));
    later.record(&startup());
    later.finish();
    assert_eq!(queue::read(&home.store()).unwrap().events.len(), 1);
}

#[test]
fn a_process_started_after_a_withdrawal_records_as_usual() {
    let home = Home::new();
    record_opted_in(&home, 1);
    control::opt_out(&home.env()).unwrap();
    // At once after the withdrawal: the mark it left is the one this process starts with.
    let after = Telemetry::start_with_key(home.env_on(), Some(TEST_KEY));
    after.record(&invoked());
    after.finish();
    assert_eq!(queue::read(&home.store()).unwrap().events.len(), 1);
}

#[test]
fn a_process_running_when_the_id_is_cleared_keeps_no_copy_under_the_old_id() {
    let home = Home::new();
    // On in a build without a key: events are kept locally, under the id.
    control::opt_in(&home.env()).unwrap();
    let running = Telemetry::start_with_key(home.env(), None);
    running.record(&startup());
    control::clear_identity(&home.env()).unwrap();
    running.finish();
    assert!(control::inspect(&home.env(), 10).unwrap().is_empty());
}

#[test]
fn undecided_events_are_kept_whatever_was_withdrawn() {
    let home = Home::new();
    let running = Telemetry::start_with_key(home.env(), Some(TEST_KEY));
    running.record(&startup());
    // A withdrawal (telemetry's folder exists, so `clear` notes one): it concerns events that
    // carry an id, and these carry none.
    std::fs::create_dir_all(home.store().dir()).unwrap();
    control::clear_identity(&home.env()).unwrap();
    assert!(home.store().dir().join("withdrawn").exists());
    running.finish();
    assert_eq!(control::inspect(&home.env(), 10).unwrap().len(), 1);
}

#[test]
fn clear_with_a_broken_recent_file_still_withdraws_and_says_what_was_done() {
    let home = Home::new();
    record_opted_in(&home, 2);
    let recent = home.store().dir().join("recent.jsonl");
    let _ = std::fs::remove_file(&recent);
    std::fs::create_dir(&recent).unwrap();
    let error = control::clear_identity(&home.env()).unwrap_err();
    assert!(
        matches!(error, control::ControlError::IdDeletedNotItsEvents { .. }),
        "{error:?}"
    );
    let text = error.to_string();
    assert!(text.contains("recent.jsonl"), "{text}");
    assert!(text.contains("remove it"), "{text}");
    assert!(
        text.contains(
            "The anonymous id and the events waiting to be sent with it were deleted, but not \
             the copies kept"
        ),
        "{text}"
    );
    // Nothing waiting is sent: the queue went first.
    assert_eq!(queue::read(&home.store()).unwrap().events.len(), 0);
    assert!(!home.store().identity_path().exists());
}

#[test]
fn a_withdrawal_is_noted_even_when_the_queue_cannot_be_removed() {
    let home = Home::new();
    record_opted_in(&home, 1);
    let queue_path = home.store().dir().join("queue.jsonl");
    std::fs::remove_file(&queue_path).unwrap();
    std::fs::create_dir(&queue_path).unwrap();
    std::fs::write(queue_path.join("x"), "").unwrap();
    let error = control::opt_out(&home.env()).unwrap_err();
    assert!(error.to_string().contains("queue.jsonl"), "{error}");
    // Running deliveries and processes still learn of it.
    assert_eq!(telemetry_runtime::state::read(&home.store()).withdrawals, 1);
    assert!(home.store().dir().join("withdrawn").exists());
}

#[test]
fn off_reaches_a_process_that_has_not_written_yet_when_telemetry_has_no_folder() {
    let home = Home::new();
    control::opt_in(&home.env()).unwrap();
    // The folder deleted by hand; the id (kept beside it) still there.
    let _ = std::fs::remove_dir_all(home.store().dir());
    let running = Telemetry::start_with_key(home.env(), Some(TEST_KEY));
    running.record(&startup());
    control::opt_out(&home.env()).unwrap();
    running.finish();
    assert_eq!(queue::read(&home.store()).unwrap().events.len(), 0);
}

#[test]
fn clear_reaches_a_process_that_has_not_written_yet_when_telemetry_has_no_folder() {
    let home = Home::new();
    control::opt_in(&home.env()).unwrap();
    let _ = std::fs::remove_dir_all(home.store().dir());
    // A build without a key keeps local copies under the id.
    let running = Telemetry::start_with_key(home.env(), None);
    running.record(&startup());
    assert!(control::clear_identity(&home.env()).unwrap().existed);
    running.finish();
    assert!(control::inspect(&home.env(), 10).unwrap().is_empty());
}

#[test]
fn a_withdrawal_mark_that_cannot_be_written_keeps_events_from_being_written() {
    let home = Home::new();
    record_opted_in(&home, 1);
    std::fs::create_dir(home.store().dir().join("withdrawn")).unwrap();
    let running = Telemetry::start_with_key(home.env(), Some(TEST_KEY));
    running.record(&startup());
    // The choice is recorded; the mark cannot be left.
    assert!(control::opt_out(&home.env()).is_err());
    running.finish();
    assert_eq!(queue::read(&home.store()).unwrap().events.len(), 0);
    let problem = running.problem().unwrap_or_default();
    assert!(problem.contains("withdrawn cannot be read"), "{problem}");
}
