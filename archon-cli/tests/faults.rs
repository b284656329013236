//! Fault injection with the real archon binary (built with a test key) and the capture server
//! on 127.0.0.1: many processes at once, a delivery killed mid-batch, a host that is down for
//! a while, a full queue, hostile files in `$ARCHON_HOME`, and file permissions.
//! (Slow servers and body limits, which need short delivery timeouts, are tested at the library
//! level in telemetry-runtime/tests/faults.rs.)
//!
//! Every wait here is a generous bound on a background process, never a speed check. Delivery
//! processes a test leaves behind are killed when it ends (on Linux, where they can be found
//! through /proc; elsewhere they end by themselves within a minute).

// These tests are about telemetry; a build without it is tested in without_telemetry.rs.
#![cfg(all(unix, feature = "telemetry"))]

mod common;

use capture_server::{CaptureServer, Reply};
use common::*;
use serde_json::Value;
use std::collections::{HashMap, HashSet};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::Barrier;
use std::time::Duration;
use telemetry_runtime::store::Store;
use telemetry_runtime::wire::{format_timestamp, WireEvent};
use telemetry_runtime::{queue, recent, state, Environment, Telemetry};
use telemetry_schema::{BaseProperties, CliCommand, CliCommandInvoked, CliSubcommand};

/// Put into hostile files; archon must never print it.
const SECRET: &str = "zq7x-secret-token-never-print";
/// How long one archon command may take before the test calls it hung.
const RUN_LIMIT: Duration = Duration::from_secs(60);
/// How long to wait for detached delivery processes.
const ARRIVAL_WAIT: Duration = Duration::from_secs(60);

// ---------------------------------------------------------------------------------------------
// Running archon with a bound, and checking what it printed.

/// `command`'s output, or a failed test (with the process killed) if it runs past `limit`.
fn output_within(mut command: Command, limit: Duration) -> Output {
    command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = command.spawn().expect("archon starts");
    let pid = child.id();
    let (sender, receiver) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = sender.send(child.wait_with_output());
    });
    match receiver.recv_timeout(limit) {
        Ok(output) => output.expect("archon runs"),
        Err(_) => {
            kill(pid as i32);
            panic!("archon did not finish within {limit:?}: it hung");
        }
    }
}

/// Checks an archon run: the exit code is one of `codes`, nothing panicked, and neither the
/// project key nor [`SECRET`] was printed. Returns (stdout, stderr).
fn checked(output: &Output, what: &str, codes: &[i32]) -> (String, String) {
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    let context = format!("{what}\n--- stdout\n{stdout}\n--- stderr\n{stderr}");
    let code = output.status.code();
    assert!(
        code.is_some_and(|code| codes.contains(&code)),
        "exit {code:?}, expected one of {codes:?}: {context}"
    );
    assert!(!stderr.contains("panicked"), "a panic: {context}");
    for text in [&stdout, &stderr] {
        assert!(
            !text.contains(E2E_KEY),
            "the project key was printed: {context}"
        );
        assert!(!text.contains(SECRET), "a secret was printed: {context}");
    }
    (stdout, stderr)
}

/// `archon ARGS` for `user`, expecting exit code `code`.
fn run(user: &User, args: &[&str], code: i32) -> (String, String) {
    run_command(user.command(args), args, &[code])
}

fn run_command(command: Command, args: &[&str], codes: &[i32]) -> (String, String) {
    checked(
        &output_within(command, RUN_LIMIT),
        &format!("archon {args:?}"),
        codes,
    )
}

/// `archon ARGS` started `count` times at once.
fn at_once(user: &User, count: usize, args: &[&str]) -> Vec<Output> {
    let barrier = Barrier::new(count);
    std::thread::scope(|scope| {
        let runs: Vec<_> = (0..count)
            .map(|_| {
                scope.spawn(|| {
                    let command = user.command(args);
                    barrier.wait();
                    output_within(command, RUN_LIMIT)
                })
            })
            .collect();
        runs.into_iter().map(|run| run.join().unwrap()).collect()
    })
}

// ---------------------------------------------------------------------------------------------
// Finding and stopping this test's detached delivery processes.

#[allow(unsafe_code)]
fn kill(pid: i32) {
    // SAFETY: sends SIGKILL to a process this test started (directly or through archon).
    unsafe {
        libc::kill(pid, libc::SIGKILL);
    }
}

/// Live `archon __telemetry-deliver` processes whose `HOME` is `home` (each test's home is a
/// fresh temporary folder, so these are this test's own).
#[cfg(target_os = "linux")]
fn delivery_processes(home: &Path) -> Vec<i32> {
    let wanted = format!("HOME={}", home.display());
    let mut found = Vec::new();
    for entry in fs::read_dir("/proc").into_iter().flatten().flatten() {
        let Ok(pid) = entry.file_name().to_string_lossy().parse::<i32>() else {
            continue;
        };
        let Ok(cmdline) = fs::read(entry.path().join("cmdline")) else {
            continue;
        };
        if !cmdline
            .split(|b| *b == 0)
            .any(|arg| arg == b"__telemetry-deliver")
        {
            continue;
        }
        let Ok(environ) = fs::read(entry.path().join("environ")) else {
            continue;
        };
        if environ.split(|b| *b == 0).any(|v| v == wanted.as_bytes()) && !is_gone(pid) {
            found.push(pid);
        }
    }
    found
}

/// Every thread of the process has exited (the process may linger as a zombie until something
/// reaps it).
///
/// Each thread, not only the main one: after SIGKILL the main thread can show as a zombie
/// while others are still exiting, and until the last one has, the process's files stay open
/// and its delivery lock stays taken. An archon run started in that moment sees a delivery
/// running and starts none.
#[cfg(target_os = "linux")]
fn is_gone(pid: i32) -> bool {
    let Ok(threads) = fs::read_dir(format!("/proc/{pid}/task")) else {
        return true;
    };
    threads.flatten().all(|thread| {
        fs::read_to_string(thread.path().join("stat")).map_or(true, |stat| {
            stat.rsplit_once(')')
                .is_none_or(|(_, rest)| rest.trim_start().starts_with(['Z', 'X']))
        })
    })
}

/// Waits (bounded) until no delivery process of `home` runs.
fn wait_for_deliveries_to_end(home: &Path) {
    #[cfg(target_os = "linux")]
    assert!(
        wait_until(ARRIVAL_WAIT, || delivery_processes(home).is_empty()),
        "a delivery process is still running"
    );
    #[cfg(not(target_os = "linux"))]
    {
        let _ = home;
        std::thread::sleep(Duration::from_secs(3));
    }
}

/// Kills the delivery processes of a home when dropped, however the test ends.
struct StopDeliveries(PathBuf);

impl Drop for StopDeliveries {
    fn drop(&mut self) {
        #[cfg(target_os = "linux")]
        {
            let pids = delivery_processes(&self.0);
            for &pid in &pids {
                kill(pid);
            }
            wait_until(Duration::from_secs(10), || {
                pids.iter().all(|&pid| is_gone(pid))
            });
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Reading what was queued and what arrived.

fn store(user: &User) -> Store {
    Store::new(user.archon_home())
}

fn queue_path(user: &User) -> PathBuf {
    store(user).dir().join("queue.jsonl")
}

fn uuid_of(event: &Value) -> String {
    event["uuid"].as_str().unwrap().to_owned()
}

/// How many times each uuid was accepted.
fn accepted_counts(events: &[Value]) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for event in events {
        *counts.entry(uuid_of(event)).or_default() += 1;
    }
    counts
}

fn name_counts(events: &[Value]) -> HashMap<String, usize> {
    let mut counts = HashMap::new();
    for name in names(events) {
        *counts.entry(name).or_default() += 1;
    }
    counts
}

fn invoked() -> CliCommandInvoked {
    CliCommandInvoked {
        command: CliCommand::Workflow,
        subcommand: Some(CliSubcommand::List),
    }
}

/// A user of the keyed binary sending to `server`, past the first-run notice, with telemetry on
/// through `archon telemetry on`.
fn opted_in_user(server: &CaptureServer) -> User {
    let user = User::keyed(server.url());
    user.seen_notice();
    run(&user, &["telemetry", "on"], 0);
    user
}

// ---------------------------------------------------------------------------------------------
// 50 processes at once.

#[test]
fn fifty_processes_at_once_record_every_event_once_under_one_id_and_deliver_it_once() {
    const PROCESSES: usize = 50;
    let server = CaptureServer::start();
    let user = opted_in_user(&server);
    let _stop = StopDeliveries(user.home());
    // As after `archon telemetry clear`: whichever process comes first makes the id, and all
    // fifty must agree on it.
    fs::remove_file(user.archon_home().join("telemetry-id")).unwrap();

    // Round 1: the test holds the delivery lock, as a running delivery would, so the queue can
    // be checked exactly as fifty processes left it.
    let lock = fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(store(&user).dir().join("delivery.lock"))
        .unwrap();
    lock.lock().unwrap();
    for output in at_once(&user, PROCESSES, &["version"]) {
        checked(&output, "archon version", &[0]);
    }
    let id = fs::read_to_string(user.archon_home().join("telemetry-id")).unwrap();
    let id = id.trim();
    let text = fs::read_to_string(queue_path(&user)).unwrap();
    let lines: Vec<Value> = text
        .lines()
        .map(|line| serde_json::from_str(line).expect("every queue line is a whole event"))
        .collect();
    assert_eq!(lines.len(), 3 * PROCESSES, "every event recorded once");
    let contents = queue::read(&store(&user)).unwrap();
    assert_eq!(contents.unreadable_lines, 0);
    assert_eq!(contents.events.len(), 3 * PROCESSES);
    assert!(
        lines.iter().all(|event| event["distinct_id"] == id),
        "one id"
    );
    let round_one: HashSet<String> = lines.iter().map(uuid_of).collect();
    assert_eq!(round_one.len(), 3 * PROCESSES, "uuids are unique");
    for (name, count) in name_counts(&lines) {
        assert_eq!(count, PROCESSES, "{name}");
    }
    assert!(
        server.requests().is_empty(),
        "no delivery while the lock is held"
    );
    drop(lock);

    // Round 2: fifty more at once, each free to start a delivery; one runs at a time, and
    // everything from both rounds arrives exactly once.
    for output in at_once(&user, PROCESSES, &["version"]) {
        checked(&output, "archon version", &[0]);
    }
    let total = 6 * PROCESSES;
    server.wait_for_events(total, ARRIVAL_WAIT);
    wait_for_deliveries_to_end(&user.home());
    let accepted = server.accepted_events();
    let counts = accepted_counts(&accepted);
    assert_eq!(counts.len(), total, "every event arrived");
    assert!(counts.values().all(|&n| n == 1), "some arrived twice");
    assert!(round_one.iter().all(|uuid| counts.contains_key(uuid)));
    assert!(accepted.iter().all(|event| event["distinct_id"] == id));
    for (name, count) in name_counts(&accepted) {
        assert_eq!(count, 2 * PROCESSES, "{name}");
    }
    assert!(queue::read(&store(&user)).unwrap().events.is_empty());
    let state = state::read(&store(&user));
    assert_eq!(state.delivered, total as u64);
    assert_eq!(
        (
            state.dropped_queue_full,
            state.dropped_unreadable,
            state.dropped_rejected
        ),
        (0, 0, 0)
    );
}

// ---------------------------------------------------------------------------------------------
// A delivery killed mid-batch.

#[cfg(target_os = "linux")]
#[test]
fn a_delivery_killed_mid_batch_loses_nothing_and_what_is_sent_again_keeps_its_uuid() {
    let server = CaptureServer::start();
    let user = opted_in_user(&server);
    let _stop = StopDeliveries(user.home());
    // 150 events already waiting (recorded through the library, as archon records them), so
    // the delivery sends a batch of 100, then one of 53.
    let env = Environment {
        archon_home: Some(user.archon_home().into()),
        ..Environment::default()
    };
    let telemetry = Telemetry::start_with_key(env, Some(E2E_KEY));
    for _ in 0..150 {
        telemetry.record(&invoked());
    }
    drop(telemetry);
    let prefilled: Vec<String> = queue::read(&store(&user))
        .unwrap()
        .events
        .iter()
        .map(|event| event.uuid.to_string())
        .collect();
    assert_eq!(prefilled.len(), 150);

    // The first batch is accepted; the answer to the second is held back long enough to kill
    // the delivery while it waits. (The server still stores that batch, as PostHog would.)
    server.script([
        Reply::Status(200),
        Reply::Delay(Duration::from_secs(8), Box::new(Reply::Status(200))),
    ]);
    run(&user, &["version"], 0);
    assert!(
        wait_until(ARRIVAL_WAIT, || server.requests().len() >= 2),
        "the second batch was sent"
    );
    let pids = delivery_processes(&user.home());
    assert_eq!(pids.len(), 1, "one delivery process: {pids:?}");
    kill(pids[0]);
    assert!(wait_until(Duration::from_secs(10), || is_gone(pids[0])));
    let requests = server.requests();
    assert_eq!(requests[0].status, Some(200));
    assert_eq!(
        requests[1].status, None,
        "killed before the second batch was answered"
    );
    let killed_batch: Vec<String> = requests[1].body.as_ref().unwrap()["batch"]
        .as_array()
        .unwrap()
        .iter()
        .map(uuid_of)
        .collect();

    // archon runs again; its delivery sends what is still queued.
    run(&user, &["version"], 0);
    // Every event recorded: the prefilled ones and the last ten recorded (both runs' events).
    let mut expected: HashSet<String> = prefilled.into_iter().collect();
    for (entry, _) in recent::read(&store(&user), recent::KEEP).unwrap() {
        expected.insert(entry.event.uuid.to_string());
    }
    assert_eq!(expected.len(), 156);
    let arrived = wait_until(ARRIVAL_WAIT, || {
        let counts = accepted_counts(&server.accepted_events());
        expected.iter().all(|uuid| counts.contains_key(uuid))
            && server.requests().iter().all(|r| r.status.is_some())
    });
    if !arrived {
        let counts = accepted_counts(&server.accepted_events());
        let missing = expected.iter().filter(|u| !counts.contains_key(*u)).count();
        let statuses: Vec<_> = server.requests().iter().map(|r| r.status).collect();
        panic!(
            "not everything arrived: {missing} of {} missing; request statuses {statuses:?}; \
             {} still queued; delivery processes {:?}; last outcome {:?}",
            expected.len(),
            queue::read(&store(&user)).map_or(0, |q| q.events.len()),
            delivery_processes(&user.home()),
            state::read(&store(&user)).last_outcome,
        );
    }
    wait_for_deliveries_to_end(&user.home());

    let accepted = server.accepted_events();
    let counts = accepted_counts(&accepted);
    // Nothing lost, and nothing sent under a new uuid.
    assert_eq!(counts.keys().cloned().collect::<HashSet<_>>(), expected);
    // The batch whose answer never came was stored and sent again: same uuid, same event.
    assert!(killed_batch.iter().all(|uuid| counts[uuid] >= 2));
    let mut first_seen: HashMap<String, &Value> = HashMap::new();
    for event in &accepted {
        let first = first_seen.entry(uuid_of(event)).or_insert(event);
        assert_eq!(*first, event, "sent twice with different contents");
    }
    assert!(queue::read(&store(&user)).unwrap().events.is_empty());
}

// ---------------------------------------------------------------------------------------------
// Offline, then back.

#[test]
fn offline_for_twenty_runs_then_every_event_arrives_in_order_with_its_original_timestamp() {
    // A server that is stopped: its port refuses connections.
    let port = CaptureServer::start().port();
    let user = User::keyed(&format!("http://127.0.0.1:{port}"));
    let _stop = StopDeliveries(user.home());
    user.seen_notice();
    run(&user, &["telemetry", "on"], 0);

    // 20 runs while the host is down; each exits as usual. The last one is `status`, which
    // counts what waited before it (its own three events are queued after).
    for run_number in 0..19 {
        let args: &[&str] = if run_number % 2 == 0 {
            &["version"]
        } else {
            &["workflow", "list"]
        };
        run(&user, args, 0);
    }
    let (status, _) = run(&user, &["telemetry", "status"], 0);
    assert!(status.contains("Waiting:       57 events"), "{status}");
    let waiting = queue::read(&store(&user)).unwrap();
    assert_eq!(waiting.unreadable_lines, 0);
    assert_eq!(waiting.events.len(), 60);
    let captured: Vec<Value> = waiting
        .events
        .iter()
        .map(|event| serde_json::to_value(event).unwrap())
        .collect();

    // The host comes back on the same port. Nothing is reset and nothing is called directly:
    // the delivery process the first offline run started is still retrying with growing pauses
    // (1, 2, 4, 8, 16 s within its 50 s limit), and its next attempt finds the server.
    let back = chrono::Utc::now();
    let server = CaptureServer::start_on_port(port);
    let received = server.wait_for_events(captured.len(), ARRIVAL_WAIT);
    wait_for_deliveries_to_end(&user.home());
    let received_now = server.accepted_events();
    assert_eq!(received_now.len(), received.len(), "nothing arrived twice");
    // Every event, in the order captured, exactly as captured: same uuid, same timestamp.
    assert_eq!(received_now, captured);
    let times: Vec<_> = received_now
        .iter()
        .map(|event| {
            chrono::DateTime::parse_from_rfc3339(event["timestamp"].as_str().unwrap()).unwrap()
        })
        .collect();
    assert!(times.windows(2).all(|pair| pair[0] <= pair[1]));
    assert!(
        times.iter().all(|time| *time <= back),
        "re-stamped when sent"
    );
    assert!(queue::read(&store(&user)).unwrap().events.is_empty());
    let state = state::read(&store(&user));
    assert_eq!(state.delivered, 60);
    assert_eq!(state.consecutive_failures, 0);
}

#[test]
fn past_the_queue_cap_the_oldest_are_dropped_and_status_says_how_many() {
    let mut user = User::new(keyless_binary());
    user.seen_notice();
    user.set("ARCHON_TELEMETRY", "1");
    let store = store(&user);
    // Offline long enough to fill the queue: events written oldest first, up to the 5 MB cap.
    let base = BaseProperties::for_this_build(false);
    let start = chrono::Utc::now() - chrono::Duration::days(3);
    // Under this installation's id: events under another one would be discarded, not waiting.
    let id = uuid::Uuid::new_v4();
    fs::create_dir_all(store.dir()).unwrap();
    fs::write(store.identity_path(), format!("{id}\n")).unwrap();
    let template = WireEvent::new(&invoked(), &base, Some(id), start);
    let mut text = Vec::new();
    let mut prefilled = Vec::new();
    for second in 0.. {
        let mut event = template.clone();
        event.uuid = uuid::Uuid::new_v4();
        event.timestamp = format_timestamp(start + chrono::Duration::seconds(second));
        let line = serde_json::to_vec(&event).unwrap();
        if (text.len() + line.len() + 1) as u64 > queue::MAX_QUEUE_BYTES {
            break;
        }
        text.extend_from_slice(&line);
        text.push(b'\n');
        prefilled.push(event.uuid);
    }
    fs::create_dir_all(store.dir()).unwrap();
    fs::write(queue_path(&user), &text).unwrap();

    // Ten more events are recorded, as archon records them.
    let env = Environment {
        archon_home: Some(user.archon_home().into()),
        archon_telemetry: Some("1".into()),
        ..Environment::default()
    };
    let telemetry = Telemetry::start_with_key(env, Some(E2E_KEY));
    for _ in 0..10 {
        telemetry.record(&invoked());
    }
    telemetry.flush();

    let dropped = state::read(&store).dropped_queue_full;
    assert!(dropped > 0, "the queue was full");
    let left: Vec<uuid::Uuid> = queue::read(&store)
        .unwrap()
        .events
        .iter()
        .map(|event| event.uuid)
        .collect();
    assert_eq!(left.len() as u64 + dropped, prefilled.len() as u64 + 10);
    // The oldest went; the rest are kept in order, the new ones last.
    assert_eq!(left[..left.len() - 10], prefilled[dropped as usize..]);
    assert!(fs::metadata(queue_path(&user)).unwrap().len() <= queue::MAX_QUEUE_BYTES);

    let (stdout, _) = run(&user, &["telemetry", "status"], 0);
    assert!(
        stdout.contains(&format!(
            "Dropped:       {dropped} (queue full, oldest dropped)"
        )),
        "{stdout}"
    );
    assert!(
        stdout.contains(&format!("Waiting:       {} events", left.len())),
        "{stdout}"
    );
}

// ---------------------------------------------------------------------------------------------
// Hostile files in $ARCHON_HOME.

/// A file outside `$ARCHON_HOME` that a symlink points at; it must never change.
const TARGET_TEXT: &str = "the user's own file, not archon's";

/// Builds a user whose `$ARCHON_HOME` is prepared by `prepare`, with telemetry on through
/// `ARCHON_TELEMETRY=1` (config.yaml may be one of the hostile files), sending to `server`.
fn hostile_user(server: &CaptureServer, prepare: impl FnOnce(&User)) -> User {
    let mut user = User::keyed(server.url());
    user.seen_notice();
    fs::write(user.dir.path().join("target"), TARGET_TEXT).unwrap();
    fs::create_dir_all(store(&user).dir()).unwrap();
    prepare(&user);
    user.set("ARCHON_TELEMETRY", "1");
    user
}

fn symlink_to_target(user: &User, link: &Path) {
    std::os::unix::fs::symlink(user.dir.path().join("target"), link).unwrap();
}

fn target_unchanged(user: &User) {
    assert_eq!(
        fs::read_to_string(user.dir.path().join("target")).unwrap(),
        TARGET_TEXT,
        "written through a symlink"
    );
}

/// Random-looking bytes, newlines and all, with [`SECRET`] inside and no final newline.
fn garbage() -> Vec<u8> {
    let mut bytes: Vec<u8> = (0..4000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8)
        .collect();
    bytes.splice(1000..1000, SECRET.bytes());
    bytes.push(0xff);
    bytes
}

/// A 100 MB file, sparse: made at once.
fn hundred_megabytes(path: &Path) {
    fs::File::create(path)
        .unwrap()
        .set_len(100 * 1024 * 1024)
        .unwrap();
}

/// archon's own commands in a hostile home: each exits as usual, nothing panics, nothing
/// secret is printed. `inspect` belongs to telemetry: it may fail (exit 1) when telemetry's
/// files cannot be read, saying why. Returns the output of `telemetry status`.
fn commands_keep_working(user: &User) -> String {
    run(user, &["version"], 0);
    run(user, &["workflow", "list"], 0);
    let (status, _) = run(user, &["telemetry", "status"], 0);
    run_command(
        user.command(&["telemetry", "inspect"]),
        &["telemetry", "inspect"],
        &[0, 1],
    );
    status
}

/// Events recorded by [`commands_keep_working`]: three for each of its four commands.
const EVENTS_OF_FOUR_COMMANDS: usize = 12;

/// Telemetry worked despite the hostile file: every event of the four commands arrived once.
fn all_events_arrive(user: &User, server: &CaptureServer) -> Vec<Value> {
    server.wait_for_events(EVENTS_OF_FOUR_COMMANDS, ARRIVAL_WAIT);
    wait_for_deliveries_to_end(&user.home());
    let accepted = server.accepted_events();
    let counts = accepted_counts(&accepted);
    assert_eq!(counts.len(), EVENTS_OF_FOUR_COMMANDS, "{accepted:?}");
    assert!(counts.values().all(|&n| n == 1));
    accepted
}

/// Telemetry degraded: status says it is on and explains the problem, and nothing was sent.
/// (Nothing was queued, so no delivery process could have started.)
fn degraded(status: &str, explanation: &str, server: &CaptureServer) {
    assert!(status.contains("Telemetry: ON"), "{status}");
    assert!(status.contains("Problem:"), "{status}");
    assert!(status.contains(explanation), "{status}");
    assert!(server.requests().is_empty());
}

#[test]
fn a_hostile_telemetry_id_is_replaced_or_reported_never_written_through() {
    fn id_path(user: &User) -> PathBuf {
        user.archon_home().join("telemetry-id")
    }

    // A symlink to another file: replaced by a real id; the target is untouched.
    let server = CaptureServer::start();
    let user = hostile_user(&server, |user| symlink_to_target(user, &id_path(user)));
    let _stop = StopDeliveries(user.home());
    let status = commands_keep_working(&user);
    target_unchanged(&user);
    let meta = fs::symlink_metadata(id_path(&user)).unwrap();
    assert!(meta.is_file(), "the link was replaced by a file");
    let id = fs::read_to_string(id_path(&user)).unwrap();
    assert!(
        status.contains(&format!("Anonymous id:  {}", id.trim())),
        "{status}"
    );
    let accepted = all_events_arrive(&user, &server);
    assert!(accepted.iter().all(|e| e["distinct_id"] == id.trim()));

    // Garbage (with a secret in it) and 100 MB: replaced by a real id, never printed.
    for prepare in [
        (|user: &User| fs::write(id_path(user), garbage()).unwrap()) as fn(&User),
        |user: &User| hundred_megabytes(&id_path(user)),
    ] {
        let server = CaptureServer::start();
        let user = hostile_user(&server, prepare);
        let _stop = StopDeliveries(user.home());
        commands_keep_working(&user);
        let id = fs::read_to_string(id_path(&user)).unwrap();
        assert!(uuid::Uuid::try_parse(id.trim()).is_ok(), "{id:?}");
        all_events_arrive(&user, &server);
    }

    // A folder: the id cannot be made, so nothing is sent, and status says why.
    let server = CaptureServer::start();
    let user = hostile_user(&server, |user| fs::create_dir(id_path(user)).unwrap());
    let status = commands_keep_working(&user);
    degraded(&status, "anonymous id cannot be created", &server);
    assert!(id_path(&user).is_dir(), "the user's folder is left alone");
}

#[test]
fn a_hostile_queue_is_never_written_through_and_loses_no_new_event() {
    // A symlink or a folder: events cannot be stored; status says so; the target is untouched.
    for prepare in [
        (|user: &User| symlink_to_target(user, &queue_path(user))) as fn(&User),
        |user: &User| fs::create_dir(queue_path(user)).unwrap(),
    ] {
        let server = CaptureServer::start();
        let user = hostile_user(&server, prepare);
        let status = commands_keep_working(&user);
        degraded(&status, "events cannot be stored", &server);
        assert!(status.contains("queue.jsonl cannot be read"), "{status}");
        target_unchanged(&user);
    }

    // Garbage (with a secret in it, and no final newline) and 100 MB: every new event still
    // arrives, and the lines that are not events are dropped with a count.
    for prepare in [
        (|user: &User| fs::write(queue_path(user), garbage()).unwrap()) as fn(&User),
        |user: &User| hundred_megabytes(&queue_path(user)),
    ] {
        let server = CaptureServer::start();
        let user = hostile_user(&server, prepare);
        let _stop = StopDeliveries(user.home());
        commands_keep_working(&user);
        all_events_arrive(&user, &server);
        assert!(state::read(&store(&user)).dropped_unreadable > 0);
        let (status, _) = run(&user, &["telemetry", "status"], 0);
        assert!(
            status.contains("(unreadable or invalid in the queue, or dated in the future)"),
            "{status}"
        );
    }
}

#[test]
fn a_hostile_config_turns_telemetry_off_and_says_why() {
    let config_path = |user: &User| user.archon_home().join("config.yaml");
    let bomb = {
        let mut text = String::from(
            "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n",
        );
        for (name, previous) in ["b", "c", "d", "e", "f", "g", "h", "i"]
            .iter()
            .zip(["a", "b", "c", "d", "e", "f", "g", "h"])
        {
            let refs = vec![format!("*{previous}"); 9].join(",");
            text.push_str(&format!("{name}: &{name} [{refs}]\n"));
        }
        text.push_str("telemetry:\n  enabled: true\n");
        text
    };
    let mut binary = b"telemetry:\n  enabled: true\n".to_vec();
    binary.extend(garbage());
    for (contents, explanation) in [
        (binary, "is not UTF-8 text"),
        (bomb.into_bytes(), "config.yaml line"),
    ] {
        let server = CaptureServer::start();
        let user = User::keyed(server.url());
        user.seen_notice();
        fs::write(config_path(&user), &contents).unwrap();
        let status = commands_keep_working(&user);
        assert!(status.contains("Telemetry: OFF"), "{status}");
        assert!(status.contains("Problem:"), "{status}");
        assert!(status.contains(explanation), "{status}");
        // `telemetry on` will not edit a file it cannot read: exit 2, file unchanged.
        let (_, stderr) = run(&user, &["telemetry", "on"], 2);
        assert!(stderr.contains("Nothing was changed"), "{stderr}");
        assert_eq!(fs::read(config_path(&user)).unwrap(), contents);
        assert!(!user.archon_home().join("telemetry-id").exists());
        assert!(server.requests().is_empty());
    }

    // An empty file is no choice at all: undecided, and `telemetry on` works.
    let server = CaptureServer::start();
    let user = User::keyed(server.url());
    let _stop = StopDeliveries(user.home());
    user.seen_notice();
    fs::write(config_path(&user), "").unwrap();
    let status = commands_keep_working(&user);
    assert!(status.contains("Telemetry: UNDECIDED"), "{status}");
    assert!(!status.contains("Problem:"), "{status}");
    run(&user, &["telemetry", "on"], 0);
    run(&user, &["version"], 0);
    assert_eq!(server.wait_for_events(3, ARRIVAL_WAIT).len(), 3);
}

#[test]
fn hostile_telemetry_folder_and_state_files() {
    // The telemetry folder is a file, or its lock is a symlink: nothing can be stored; status
    // says why; nothing is written through the link.
    for prepare in [
        (|user: &User| {
            let dir = store(user).dir();
            fs::remove_dir(&dir).unwrap();
            fs::write(&dir, "not a folder").unwrap();
        }) as fn(&User),
        |user: &User| symlink_to_target(user, &store(user).dir().join("lock")),
    ] {
        let server = CaptureServer::start();
        let user = hostile_user(&server, prepare);
        let status = commands_keep_working(&user);
        degraded(&status, "cannot be", &server);
        target_unchanged(&user);
    }

    // state.json as garbage, recent.jsonl as 100 MB: telemetry works and repairs them.
    for prepare in [
        (|user: &User| fs::write(store(user).dir().join("state.json"), garbage()).unwrap())
            as fn(&User),
        |user: &User| hundred_megabytes(&store(user).dir().join("recent.jsonl")),
    ] {
        let server = CaptureServer::start();
        let user = hostile_user(&server, prepare);
        let _stop = StopDeliveries(user.home());
        commands_keep_working(&user);
        all_events_arrive(&user, &server);
        assert_eq!(state::read(&store(&user)).delivered, 12);
        run(&user, &["telemetry", "inspect"], 0);
    }
}

/// Every file in `folder`, with its contents, in name order.
fn folder_contents(folder: &Path) -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = fs::read_dir(folder)
        .unwrap()
        .map(|entry| {
            let entry = entry.unwrap();
            let name = entry.file_name().to_string_lossy().into_owned();
            (name, fs::read(entry.path()).unwrap_or_default())
        })
        .collect();
    files.sort();
    files
}

/// Another user's symbolic links in place of archon's folders (`~/.archon`, or its `telemetry`
/// folder), as root running with that user's `$HOME` would meet them: nothing is created,
/// replaced or deleted where they lead; archon's commands work and say why telemetry cannot.
/// Only root can give a link to another user, so run as anyone else the test says so and stops.
#[cfg(unix)]
#[test]
fn folders_that_are_another_users_links_are_not_written_in() {
    let foreign = tempfile::tempdir().unwrap();
    fs::write(foreign.path().join("queue.jsonl"), "root's own queue\n").unwrap();
    fs::write(foreign.path().join("state.json"), "root's own state\n").unwrap();
    fs::write(foreign.path().join("config.yaml"), "root: own\n").unwrap();
    let before = folder_contents(foreign.path());
    let link = |link: &Path| {
        std::os::unix::fs::symlink(foreign.path(), link).unwrap();
        std::os::unix::fs::lchown(link, Some(65534), Some(65534)).is_ok()
    };

    // The telemetry folder: telemetry is on, and degrades.
    let server = CaptureServer::start();
    let mut given_away = false;
    let user = hostile_user(&server, |user| {
        let dir = store(user).dir();
        fs::remove_dir(&dir).unwrap();
        given_away = link(&dir);
    });
    if !given_away {
        eprintln!("not run as root: cannot give a link to another user");
        return;
    }
    let status = commands_keep_working(&user);
    degraded(
        &status,
        "owned by another user, which archon does not follow",
        &server,
    );
    let (_, stderr) = run(&user, &["telemetry", "off"], 1);
    assert!(stderr.contains("owned by another user"), "{stderr}");
    assert_eq!(folder_contents(foreign.path()), before);

    // `~/.archon` itself: its config.yaml is not edited, nor a first-run marker left.
    let user = User::keyed(server.url());
    assert!(link(&user.archon_home()));
    let (_, stderr) = run(&user, &["setup", "--assistant", "codex"], 1);
    assert!(stderr.contains("owned by another user"), "{stderr}");
    run(&user, &["version"], 0);
    run(&user, &["workflow", "list"], 0);
    assert_eq!(folder_contents(foreign.path()), before);
}

/// Another process holds the store's lock and never lets go (a stopped archon, a hung file
/// system): telemetry waits a bounded time, then gives up; commands end as usual, and status
/// names the lock.
#[test]
fn a_lock_that_is_never_released_delays_commands_but_never_hangs_them() {
    let server = CaptureServer::start();
    let user = hostile_user(&server, |user| {
        user.write_workflow(
            "hello.yaml",
            "name: hello\ndescription: a test\nnodes:\n  - id: hello\n    bash: echo hello\n",
        )
    });
    let _held = hold_store_lock(&user.archon_home());
    run(&user, &["version"], 0);
    // Debugging stores nothing: it still prints what would be sent.
    let mut debug = user.command(&["version"]);
    debug.env("ARCHON_TELEMETRY_DEBUG", "1");
    let (_, stderr) = run_command(debug, &["version"], &[0]);
    assert!(
        stderr.contains("archon telemetry (debug, not sent)"),
        "{stderr}"
    );
    run(&user, &["workflow", "run", "hello"], 0);
    let (status, _) = run(&user, &["telemetry", "status"], 0);
    degraded(&status, "locked by another process", &server);
    assert!(status.contains("telemetry/lock"), "{status}");
}

#[test]
fn a_home_that_cannot_be_written_degrades_telemetry_and_nothing_else() {
    // $ARCHON_HOME under a regular file: no folder can be made there, and config.yaml cannot be
    // read (ENOTDIR), which counts as "off" and is explained.
    let server = CaptureServer::start();
    let mut user = User::keyed(server.url());
    let file = user.dir.path().join("a-file");
    fs::write(&file, "").unwrap();
    let home = file.join("archon-home");
    user.set("ARCHON_HOME", home.to_str().unwrap());
    let status = commands_keep_working(&user);
    assert!(status.contains("Telemetry: OFF"), "{status}");
    assert!(
        status.contains("Problem:") && status.contains("config.yaml: cannot be read"),
        "{status}"
    );
    // The file in the way is named, not config.yaml's "Not a directory".
    assert!(
        status.contains(&format!("{} is a file, not a folder", file.display())),
        "{status}"
    );
    assert!(
        status.contains("Fix:           make the path above"),
        "{status}"
    );
    // Changing the settings is a failure to write (exit 1), not a mistake in the request.
    let (_, stderr) = run(&user, &["telemetry", "on"], 1);
    assert!(stderr.contains("Nothing was changed"), "{stderr}");
    assert!(server.requests().is_empty());
}

/// A home the user cannot write, with telemetry on in its config.yaml. Permissions do not
/// stop root, so when the tests run as root the commands run as uid/gid 65534 ("nobody"),
/// which they do stop; the temporary folder is made traversable for it.
#[test]
fn a_read_only_home_degrades_telemetry_and_nothing_else() {
    use std::os::unix::fs::PermissionsExt;
    use std::os::unix::process::CommandExt;
    let server = CaptureServer::start();
    let mut user = User::keyed(server.url());
    user.seen_notice();
    fs::write(
        user.archon_home().join("config.yaml"),
        "telemetry:\n  enabled: true\n",
    )
    .unwrap();
    let mode = |path: &Path, mode: u32| {
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
    };
    mode(user.dir.path(), 0o755);
    #[allow(unsafe_code)]
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    if root {
        // Run as uid 65534, which must reach the binaries: copies in this test's folder, since
        // the build's may sit in a folder of root's (a checkout under /root).
        let bin = user.dir.path().join("bin");
        fs::create_dir(&bin).unwrap();
        mode(&bin, 0o755);
        for program in ["archon", "archon-telemetry-deliver"] {
            fs::copy(user.binary.with_file_name(program), bin.join(program)).unwrap();
        }
        user.binary = bin.join("archon");
        assert!(
            reachable_by_others(&user.binary),
            "{} cannot be reached by other users, so the read-only home cannot be tested as \
             root: set TMPDIR to a folder every user can enter",
            user.binary.display()
        );
    }
    mode(&user.home(), 0o555);
    mode(&user.archon_home(), 0o555);
    let command = |args: &[&str]| {
        let mut command = user.command(args);
        if root {
            command.uid(65534).gid(65534);
        }
        command
    };
    let listing = fs::read_dir(user.archon_home()).unwrap().count();
    run_command(command(&["version"]), &["version"], &[0]);
    run_command(command(&["workflow", "list"]), &["workflow", "list"], &[0]);
    let (status, _) = run_command(
        command(&["telemetry", "status"]),
        &["telemetry", "status"],
        &[0],
    );
    degraded(&status, "anonymous id cannot be created", &server);
    run_command(
        command(&["telemetry", "inspect"]),
        &["telemetry", "inspect"],
        &[0, 1],
    );
    // Settings cannot be changed: a failure to write (exit 1), saying so.
    let (_, stderr) = run_command(command(&["telemetry", "off"]), &["telemetry", "off"], &[1]);
    assert!(stderr.contains("cannot be written"), "{stderr}");
    assert_eq!(fs::read_dir(user.archon_home()).unwrap().count(), listing);
    mode(&user.archon_home(), 0o755);
    mode(&user.home(), 0o755);
    mode(user.dir.path(), 0o700);
}

/// Whether every folder above `path`, and `path` itself, can be entered/run by anyone.
fn reachable_by_others(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    path.ancestors().all(|p| {
        p.as_os_str().is_empty()
            || fs::metadata(p).is_ok_and(|meta| meta.permissions().mode() & 0o001 != 0)
    })
}

#[test]
fn with_neither_home_nor_archon_home_archon_works_and_records_nothing() {
    let server = CaptureServer::start();
    let user = User::keyed(server.url());
    for blank in [false, true] {
        let command = |args: &[&str]| {
            let mut command = Command::new(&user.binary);
            command
                .args(args)
                .current_dir(user.project())
                .env_clear()
                .env("PATH", std::env::var_os("PATH").unwrap_or_default())
                .env("ARCHON_TELEMETRY", "1")
                .env("ARCHON_TELEMETRY_HOST", server.url());
            if blank {
                command.env("HOME", "").env("ARCHON_HOME", "");
            }
            command
        };
        run_command(command(&["version"]), &["version"], &[0]);
        run_command(command(&["workflow", "list"]), &["workflow", "list"], &[0]);
        let (status, _) = run_command(
            command(&["telemetry", "status"]),
            &["telemetry", "status"],
            &[0],
        );
        assert!(
            status.contains("Files:         none: neither ARCHON_HOME nor HOME is set"),
            "{status}"
        );
        let (_, stderr) = run_command(command(&["telemetry", "on"]), &["telemetry", "on"], &[2]);
        assert!(stderr.contains("set ARCHON_HOME to a folder"), "{stderr}");
    }
    std::thread::sleep(Duration::from_secs(1));
    assert!(server.requests().is_empty());
    assert!(!user.project().join(".archon").exists());
}

// ---------------------------------------------------------------------------------------------
// File permissions.

#[test]
fn telemetry_files_are_private_and_its_folders_too_when_it_made_them() {
    use std::os::unix::fs::PermissionsExt;
    let mode = |path: &Path| {
        fs::symlink_metadata(path)
            .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
            .permissions()
            .mode()
            & 0o777
    };
    let server = CaptureServer::start();
    let user = User::keyed(server.url());
    let _stop = StopDeliveries(user.home());
    // Under umask 000, so only archon's own choice of modes counts.
    let under_umask_000 = |args: &[&str]| {
        let mut shell = Command::new("/bin/sh");
        shell
            .arg("-c")
            .arg("umask 000 && exec \"$0\" \"$@\"")
            .arg(&user.binary)
            .args(args)
            .current_dir(user.project())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", user.home());
        for (name, value) in &user.env {
            shell.env(name, value);
        }
        run_command(shell, args, &[0])
    };
    // archon makes $ARCHON_HOME (first run), then telemetry its folder, id and files.
    under_umask_000(&["telemetry", "on"]);
    under_umask_000(&["version"]);
    assert_eq!(server.wait_for_events(3, ARRIVAL_WAIT).len(), 3);
    wait_for_deliveries_to_end(&user.home());

    let home = user.archon_home();
    let dir = store(&user).dir();
    assert_eq!(mode(&home), 0o700, "$ARCHON_HOME, made by archon");
    assert_eq!(mode(&dir), 0o700, "the telemetry folder");
    for file in [home.join("telemetry-id"), home.join("config.yaml")] {
        assert_eq!(mode(&file), 0o600, "{}", file.display());
    }
    let files: Vec<PathBuf> = fs::read_dir(&dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .collect();
    for name in [
        "queue.jsonl",
        "recent.jsonl",
        "state.json",
        "lock",
        "delivery.lock",
    ] {
        assert!(files.contains(&dir.join(name)), "{name} missing: {files:?}");
    }
    for file in &files {
        assert_eq!(mode(file), 0o600, "{}", file.display());
    }

    // A home the user made is theirs: its mode is left alone; telemetry's folder is private.
    let server = CaptureServer::start();
    let user = User::keyed(server.url());
    let _stop = StopDeliveries(user.home());
    user.seen_notice();
    fs::set_permissions(user.archon_home(), fs::Permissions::from_mode(0o755)).unwrap();
    run(&user, &["telemetry", "on"], 0);
    run(&user, &["version"], 0);
    server.wait_for_events(3, ARRIVAL_WAIT);
    wait_for_deliveries_to_end(&user.home());
    assert_eq!(mode(&user.archon_home()), 0o755);
    assert_eq!(mode(&store(&user).dir()), 0o700);
    assert_eq!(mode(&user.archon_home().join("telemetry-id")), 0o600);
    for entry in fs::read_dir(store(&user).dir()).unwrap() {
        let path = entry.unwrap().path();
        assert_eq!(mode(&path), 0o600, "{}", path.display());
    }
}
