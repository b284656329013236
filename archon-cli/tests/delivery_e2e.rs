//! End to end: the keyed archon binary, a temporary home, and the capture server on 127.0.0.1.

// These tests are about telemetry; a build without it is tested in without_telemetry.rs.
#![cfg(feature = "telemetry")]

mod common;

use capture_server::CaptureServer;
use common::*;
use serde_json::Value;
use std::collections::HashMap;
use std::process::Command;
use std::time::Duration;

#[test]
fn a_default_install_sends_nothing_and_creates_no_id() {
    let server = CaptureServer::start();
    let user = User::keyed(server.url());
    user.expect(&["version"], 0);
    user.expect(&["workflow", "list"], 0);
    user.expect(&["telemetry", "status"], 0);
    // Nothing is queued, so no delivery process starts; give one the time anyway.
    std::thread::sleep(Duration::from_secs(2));
    assert!(server.requests().is_empty());
    assert!(!user.archon_home().join("telemetry-id").exists());
    assert!(!user.archon_home().join("telemetry/queue.jsonl").exists());
}

#[test]
fn after_opting_in_the_next_command_arrives_and_inspect_matches_it() {
    let server = CaptureServer::start();
    let user = User::keyed(server.url());
    user.seen_notice();
    let (stdout, _) = user.expect(&["telemetry", "on"], 0);
    assert!(stdout.contains("Telemetry is on"), "{stdout}");
    assert!(
        !stdout.contains("cannot send"),
        "the keyed build can send: {stdout}"
    );
    let id = std::fs::read_to_string(user.archon_home().join("telemetry-id")).unwrap();

    user.expect(&["version"], 0);
    let received = server.wait_for_events(3, DELIVERY_WAIT);
    assert_eq!(
        names(&received),
        [
            "binary.startup",
            "cli.command_invoked",
            "cli.command_completed"
        ]
    );
    for event in &received {
        assert_eq!(event["distinct_id"], id.trim());
    }
    assert_eq!(received[1]["properties"]["command"], "version");
    assert_eq!(received[2]["properties"]["exit_code"], 0);
    for request in server.requests() {
        assert_eq!(request.body.unwrap()["api_key"], E2E_KEY);
    }

    // What `inspect` shows is exactly what arrived, key for key.
    let shown: HashMap<String, Value> = user
        .inspect()
        .into_iter()
        .map(|event| (event["uuid"].as_str().unwrap().to_owned(), event))
        .collect();
    for event in &received {
        let uuid = event["uuid"].as_str().unwrap();
        assert_eq!(shown.get(uuid), Some(event), "inspect differs for {uuid}");
    }
}

/// Looking at the waiting events (`status`, `inspect`) does not send them: the next command
/// starts the delivery.
#[test]
fn status_and_inspect_start_no_delivery() {
    let server = CaptureServer::start();
    let user = User::keyed(server.url());
    user.seen_notice();
    let running_delivery = hold_delivery_lock(&user.archon_home());
    user.expect(&["telemetry", "on"], 0);
    user.expect(&["version"], 0);
    drop(running_delivery);

    user.expect(&["telemetry", "inspect", "--status"], 0);
    user.expect(&["telemetry", "status"], 0);
    std::thread::sleep(Duration::from_secs(2));
    assert!(
        server.requests().is_empty(),
        "looking sent the waiting events"
    );

    // version, inspect and status (their own events are queued too), then this version.
    user.expect(&["version"], 0);
    let received = server.wait_for_events(12, DELIVERY_WAIT);
    assert_eq!(received.len(), 12, "{:?}", names(&received));
}

/// An id file deleted by hand: `status` counts the events under the old id apart, since the
/// next delivery discards them.
#[test]
fn status_counts_events_under_a_deleted_id_apart() {
    let server = CaptureServer::start();
    let user = User::keyed(server.url());
    user.seen_notice();
    let _running_delivery = hold_delivery_lock(&user.archon_home());
    user.expect(&["telemetry", "on"], 0);
    user.expect(&["version"], 0);
    std::fs::remove_file(user.archon_home().join("telemetry-id")).unwrap();
    user.expect(&["version"], 0);
    let (stdout, _) = user.expect(&["telemetry", "status"], 0);
    assert!(
        stdout.contains(
            "  Waiting:       3 events to send; 3 events under a deleted anonymous id, which \
             the next delivery discards unsent"
        ),
        "{stdout}"
    );
}

/// `inspect --status`: why each event was not sent, told apart.
#[test]
fn inspect_status_says_why_each_event_was_not_sent() {
    let server = CaptureServer::start();
    let reasons = |user: &User| -> Vec<String> {
        let (stdout, _) = user.expect(&["telemetry", "inspect", "--status"], 0);
        let json: Value = serde_json::from_str(&stdout).unwrap();
        let delivery = json["delivery"].as_object().unwrap();
        assert_eq!(delivery.len(), json["events"].as_array().unwrap().len());
        delivery
            .values()
            .map(|reason| reason.as_str().unwrap().to_owned())
            .collect()
    };

    let undecided = User::keyed(server.url());
    undecided.expect(&["version"], 0);
    let shown = reasons(&undecided);
    assert_eq!(shown.len(), 3);
    for reason in &shown {
        assert!(reason.contains("without an anonymous id"), "{reason}");
    }

    // On from the start: the run that shows the notice keeps its events, id and all.
    let mut on = User::keyed(server.url());
    on.set("ARCHON_TELEMETRY", "1");
    on.expect(&["version"], 0);
    let shown = reasons(&on);
    assert_eq!(shown.len(), 3);
    for reason in &shown {
        assert!(reason.contains("first-run notice"), "{reason}");
    }
    assert!(on
        .inspect()
        .iter()
        .all(|event| event["distinct_id"].is_string()));
}

#[test]
fn every_opt_out_stops_all_sending() {
    let server = CaptureServer::start();
    let mut user = User::keyed(server.url());
    user.seen_notice();
    user.expect(&["telemetry", "on"], 0);

    for (name, value) in [
        ("DO_NOT_TRACK", "1"),
        ("ARCHON_NO_TELEMETRY", "1"),
        ("ARCHON_TELEMETRY", "0"),
    ] {
        let mut command = user.command(&["version"]);
        command.env(name, value);
        assert!(command.output().unwrap().status.success());
    }
    user.expect(&["telemetry", "off"], 0);
    user.expect(&["version"], 0);
    user.set("ARCHON_TELEMETRY", "maybe");
    user.expect(&["version"], 0);

    std::thread::sleep(Duration::from_secs(3));
    // Only the `telemetry on` run itself queued nothing (it started undecided), and every run
    // after it was off: the server has seen nothing.
    assert!(
        server.requests().is_empty(),
        "{:?}",
        server.accepted_events()
    );
}

#[test]
fn nothing_the_user_wrote_reaches_the_server() {
    const MARKER: &str = "zq7xmarker";
    let server = CaptureServer::start();
    let mut user = User::keyed(server.url());
    user.seen_notice();
    user.set("ARCHON_SECRET_SETTING", MARKER);
    user.expect(&["telemetry", "on"], 0);

    let project = user.project().join(format!("{MARKER}-repo"));
    let workflows = project.join(".archon/workflows");
    std::fs::create_dir_all(&workflows).unwrap();
    std::fs::write(
        workflows.join(format!("{MARKER}.yaml")),
        format!(
            "name: {MARKER}-flow\ndescription: {MARKER} deploys\nnodes:\n  - id: {MARKER}-node\n    bash: |\n      echo \"{MARKER} output $ARCHON_MESSAGE\"\n      echo \"{MARKER} error\" >&2\n      exit 3\n"
        ),
    )
    .unwrap();
    let project = project.to_str().unwrap();
    let (stdout, stderr) = user.expect(
        &[
            "workflow",
            "run",
            &format!("{MARKER}-flow"),
            &format!("{MARKER} message"),
            "--cwd",
            project,
        ],
        1,
    );
    assert!(
        stdout.contains(&format!("{MARKER} output")),
        "the node ran: {stdout}"
    );
    assert!(stderr.contains(&format!("{MARKER} error")), "{stderr}");

    let received = server.wait_for_events(6, DELIVERY_WAIT);
    let sent = names(&received);
    for expected in [
        "workflow.run_started",
        "workflow.node_failed",
        "workflow.run_failed",
        "cli.command_completed",
    ] {
        assert!(
            sent.iter().any(|name| name == expected),
            "{expected} missing from {sent:?}"
        );
    }
    let failed = received
        .iter()
        .find(|e| e["event"] == "workflow.run_failed")
        .unwrap();
    assert_eq!(failed["properties"]["workflow_name"], "user-defined");
    assert_eq!(failed["properties"]["error_class"], "node_failed");
    assert_eq!(failed["properties"]["failed_node_type"], "bash");

    let everything_sent = serde_json::to_string(
        &server
            .requests()
            .iter()
            .map(|r| r.body.clone())
            .collect::<Vec<_>>(),
    )
    .unwrap();
    assert!(
        !everything_sent.contains(MARKER),
        "the marker leaked: {everything_sent}"
    );
    assert!(!everything_sent.contains(user.dir.path().to_str().unwrap()));
    // Nor was it written into telemetry's own files.
    let telemetry_files = user.all_file_contents();
    let leaked = telemetry_files
        .lines()
        .filter(|line| line.contains("\"event\"") && line.contains(MARKER))
        .count();
    assert_eq!(leaked, 0);
}

/// A user of the keyed archon copied alone into a folder of its own (returned, to keep it), with
/// no archon-telemetry-deliver next to it.
fn keyed_user_of_archon_alone(server: &CaptureServer) -> (User, tempfile::TempDir) {
    let mut user = User::keyed(server.url());
    let alone = tempfile::tempdir().unwrap();
    let archon = alone.path().join("archon");
    std::fs::copy(&user.binary, &archon).unwrap();
    user.binary = archon;
    (user, alone)
}

#[test]
fn without_the_delivery_program_nothing_is_sent_and_status_says_why() {
    let server = CaptureServer::start();
    let deliver = keyed_binary().with_file_name("archon-telemetry-deliver");
    let (user, alone) = keyed_user_of_archon_alone(&server);
    user.seen_notice();
    user.expect(&["telemetry", "on"], 0);
    user.expect(&["version"], 0);

    let (stdout, _) = user.expect(&["telemetry", "status"], 0);
    assert!(stdout.contains("Telemetry: ON\n"), "{stdout}");
    let missing = alone.path().join("archon-telemetry-deliver");
    assert!(
        stdout.contains(&format!("  Sender:        missing: {}", missing.display())),
        "{stdout}"
    );
    // `version`'s 3 events; status leaves its own out.
    assert!(stdout.contains("  Waiting:       3 events"), "{stdout}");
    assert!(
        stdout.contains("  Last event:    cli.command_completed"),
        "{stdout}"
    );

    // Run by hand, the delivery program only says what it is.
    let output = user.command_of(&deliver, &[]).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(stderr.contains("archon starts it"), "{stderr}");
    assert!(output.stdout.is_empty());
    std::thread::sleep(Duration::from_secs(2));
    assert!(server.requests().is_empty());

    // Installed next to archon: the next command sends everything that waited.
    std::fs::copy(&deliver, &missing).unwrap();
    user.expect(&["version"], 0);
    assert_eq!(server.wait_for_events(9, DELIVERY_WAIT).len(), 9);
}

/// Functions defined in `binary` that belong to the network stack (by symbol name, from `nm`).
fn network_functions(binary: &std::path::Path) -> usize {
    let output = Command::new("nm")
        .args(["--demangle", "--defined-only"])
        .arg(binary)
        .output()
        .expect("nm (binutils) is installed");
    assert!(output.status.success(), "nm {}", binary.display());
    String::from_utf8_lossy(&output.stdout)
        .lines()
        .filter(|line| {
            let mut fields = line.split_whitespace();
            let kind = fields.nth(1).unwrap_or_default();
            let name = fields.collect::<Vec<_>>().join(" ");
            ["t", "T", "w", "W"].contains(&kind)
                && ["posthog_rs::", "reqwest::", "hyper::", "rustls::"]
                    .iter()
                    .any(|prefix| name.contains(prefix))
        })
        .count()
}

#[test]
fn only_the_delivery_program_contains_code_for_the_network() {
    let archon = keyed_binary();
    let deliver = archon.with_file_name("archon-telemetry-deliver");
    assert_eq!(network_functions(&archon), 0, "archon links network code");
    assert!(
        network_functions(&deliver) > 100,
        "the check finds it where it is"
    );
}

#[test]
fn telemetry_off_leaves_nothing_of_its_own_run_in_the_queue() {
    let server = CaptureServer::start();
    // Without the delivery program, whatever is queued stays where the test can see it.
    let (user, _alone) = keyed_user_of_archon_alone(&server);
    user.seen_notice();
    user.expect(&["telemetry", "on"], 0);
    user.expect(&["version"], 0);
    user.expect(&["telemetry", "off"], 0);
    let (stdout, _) = user.expect(&["telemetry", "status"], 0);
    assert!(stdout.contains("Telemetry: OFF"), "{stdout}");
    assert!(stdout.contains("  Waiting:       0 events"), "{stdout}");
}
