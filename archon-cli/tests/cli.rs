//! The `archon` binary as a user meets it: help, errors, the first-run notice, config.yaml
//! handling, and telemetry in a build that cannot send.

// Most of these expect the telemetry default features build in (the notice, `inspect`, the
// status text); a build without it is tested in without_telemetry.rs.
#![cfg(feature = "telemetry")]

mod common;

use capture_server::CaptureServer;
use common::*;
use std::time::Duration;

fn user() -> User {
    User::new(keyless_binary())
}

const NOTICE: &str = "Archon collects no usage data by default.";

/// Writes `.archon/workflows/NAME.yaml` in the project: a workflow of one node, `NAME`, that
/// runs `bash` (a YAML value: a plain line, or `|` and an indented block).
fn write_one_node_workflow(user: &User, name: &str, bash: &str) {
    user.write_workflow(
        &format!("{name}.yaml"),
        &format!("name: {name}\ndescription: a test\nnodes:\n  - id: {name}\n    bash: {bash}\n"),
    );
}

/// Waits (up to 20 s) for a node to create `file` in the project folder.
fn node_made(user: &User, file: &str) -> bool {
    wait_until(Duration::from_secs(20), || {
        user.project().join(file).exists()
    })
}

#[test]
fn help_lists_the_commands() {
    let (stdout, _) = user().expect(&["--help"], 0);
    for command in ["workflow", "setup", "telemetry", "version"] {
        assert!(stdout.contains(command), "{stdout}");
    }
    assert!(stdout.contains("Telemetry sends nothing unless you turn it on"));
    let (stdout, _) = user().expect(&["telemetry", "--help"], 0);
    for sub in ["on", "off", "status", "inspect", "clear", "policy"] {
        assert!(
            stdout.contains(&format!("  {sub} ")),
            "{sub} missing:\n{stdout}"
        );
    }
    assert!(stdout.contains("DO_NOT_TRACK=1"));
}

#[test]
fn dash_dash_version_names_the_commit_as_archon_version_does() {
    let user = user();
    user.seen_notice();
    let (long, _) = user.expect(&["--version"], 0);
    let (command, _) = user.expect(&["version"], 0);
    assert!(long.starts_with("archon "), "{long}");
    assert_eq!(long, command);
}

#[test]
fn usage_errors_exit_2_and_say_what_is_wrong() {
    let user = user();
    user.seen_notice();
    let (_, stderr) = user.expect(&["frobnicate"], 2);
    assert!(
        stderr.contains("unrecognized subcommand 'frobnicate'"),
        "{stderr}"
    );
    // No command ran, as the policy page says: only the start is recorded.
    assert_eq!(names(&user.inspect()), ["binary.startup"]);
    let (_, stderr) = user.expect(&["telemetry", "inspect", "--limit", "11"], 2);
    assert!(stderr.contains("11"), "{stderr}");
    let (_, stderr) = user.expect(&["workflow", "run", "no-such-flow"], 2);
    assert!(
        stderr.starts_with("error: no workflow named `no-such-flow`"),
        "{stderr}"
    );
    assert!(stderr.contains("available: archon-assist"), "{stderr}");
    let (_, stderr) = user.expect(&["workflow", "list", "--cwd", "/no/such/dir"], 2);
    assert!(
        stderr.contains("--cwd /no/such/dir: no such directory"),
        "{stderr}"
    );
}

#[test]
fn the_first_run_notice_is_printed_once_to_stderr() {
    let user = user();
    let (stdout, stderr) = user.expect(&["version"], 0);
    assert!(stderr.contains(NOTICE), "{stderr}");
    assert!(stderr.contains("archon telemetry on") && stderr.contains("archon telemetry inspect"));
    assert!(!stdout.contains(NOTICE), "the notice stays off stdout");
    let (_, stderr) = user.expect(&["version"], 0);
    assert!(!stderr.contains(NOTICE), "printed twice: {stderr}");
    assert!(user.archon_home().join(".first-run-completed").exists());
}

#[test]
fn a_telemetry_command_as_the_first_run_marks_the_notice_seen_without_printing_it() {
    for first in [
        ["telemetry", "on"],
        ["telemetry", "status"],
        ["telemetry", "off"],
        ["telemetry", "clear"],
    ] {
        let user = user();
        let (stdout, stderr) = user.expect(&first, 0);
        assert!(!stderr.contains(NOTICE), "{first:?}: {stderr}");
        assert!(!stdout.contains(NOTICE), "{first:?}: {stdout}");
        assert!(user.archon_home().join(".first-run-completed").exists());
        let (_, stderr) = user.expect(&["version"], 0);
        assert!(!stderr.contains(NOTICE), "{first:?}: {stderr}");
    }
}

/// `policy` and `inspect` do not say whether telemetry is on: as a first command, they show the
/// notice (here, with telemetry already on by a variable, the notice that says so).
#[test]
fn policy_or_inspect_as_the_first_run_shows_the_notice() {
    // And nor do `status` and the others when they only print help or a usage error.
    for (first, code) in [
        (&["telemetry", "policy"][..], 0),
        (&["telemetry", "inspect"], 0),
        (&["telemetry", "status", "--help"], 0),
        (&["telemetry", "off", "extra"], 2),
    ] {
        let mut user = user();
        user.set("ARCHON_TELEMETRY", "1");
        let (_, stderr) = user.expect(first, code);
        assert!(
            stderr.contains("telemetry is on here"),
            "{first:?}: {stderr}"
        );
    }
}

#[test]
fn the_notice_draws_its_lines_in_ascii_for_a_dumb_terminal() {
    let mut user = user();
    user.set("TERM", "dumb");
    let (_, stderr) = user.expect(&["version"], 0);
    assert!(stderr.contains(NOTICE), "{stderr}");
    assert!(stderr.starts_with(&"-".repeat(65)), "{stderr}");
    assert!(stderr.is_ascii(), "{stderr}");
}

#[test]
fn a_notice_seen_with_telemetry_already_on_says_so_and_how_to_turn_it_off() {
    let mut user = user();
    user.set("ARCHON_TELEMETRY", "1");
    let (_, stderr) = user.expect(&["version"], 0);
    assert!(stderr.contains("but telemetry is on here"), "{stderr}");
    assert!(
        stderr.contains("turned on by the ARCHON_TELEMETRY environment variable"),
        "{stderr}"
    );
    assert!(stderr.contains("unset ARCHON_TELEMETRY"), "{stderr}");
    assert!(!stderr.contains("archon telemetry on"), "{stderr}");
}

#[test]
fn the_notice_is_not_printed_when_telemetry_is_off() {
    let mut user = user();
    user.set("DO_NOT_TRACK", "1");
    let (_, stderr) = user.expect(&["version"], 0);
    assert!(!stderr.contains(NOTICE), "{stderr}");
    assert_eq!(stderr, "");
}

#[test]
fn on_and_off_keep_config_comments_and_other_keys() {
    let user = user();
    user.seen_notice();
    let config = user.archon_home().join("config.yaml");
    let original = "# my archon settings\nassistant:\n  default: codex   # the one I pay for\n\ntelemetry:\n  # decided after reading the policy\n  enabled: false\n";
    std::fs::write(&config, original).unwrap();
    user.expect(&["telemetry", "on"], 0);
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        original.replace("enabled: false", "enabled: true")
    );
    user.expect(&["telemetry", "off"], 0);
    assert_eq!(std::fs::read_to_string(&config).unwrap(), original);
}

#[test]
fn a_broken_config_leaves_every_command_working() {
    let user = user();
    user.seen_notice();
    let config = user.archon_home().join("config.yaml");
    let broken = "telemetry:\n  enabled: [true\nassistant: {default: claude\n";
    std::fs::write(&config, broken).unwrap();

    user.expect(&["version"], 0);
    user.expect(&["workflow", "list"], 0);
    let (stdout, _) = user.expect(&["telemetry", "status"], 0);
    assert!(
        stdout.contains("Telemetry: OFF"),
        "a broken config is off: {stdout}"
    );
    assert!(
        stdout.contains("Problem:") && stdout.contains("config.yaml line"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Fix:           correct the file"),
        "{stdout}"
    );
    assert!(stdout.contains("To turn it on:"), "{stdout}");
    assert!(!stdout.contains("To turn it off:"), "{stdout}");

    let (_, stderr) = user.expect(&["telemetry", "on"], 2);
    assert!(
        stderr.contains(&format!("{} line", config.display())),
        "{stderr}"
    );
    assert!(stderr.contains("Nothing was changed"), "{stderr}");
    assert_eq!(std::fs::read_to_string(&config).unwrap(), broken);
    // `off` cannot record itself in the file either, but it deletes what waits to be sent.
    let (_, stderr) = user.expect(&["telemetry", "off"], 2);
    assert!(
        stderr.contains("The events waiting to be sent were deleted, but telemetry.enabled"),
        "{stderr}"
    );
    assert_eq!(std::fs::read_to_string(&config).unwrap(), broken);
    user.expect(&["setup", "--assistant", "codex"], 2);
    assert_eq!(std::fs::read_to_string(&config).unwrap(), broken);

    // On by a variable, the file still decides where events go, and it cannot be read: no
    // host, rather than the default one around a proxy the file may name.
    let output = user
        .command(&["telemetry", "status"])
        .env("ARCHON_TELEMETRY", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(stdout.contains("Telemetry: ON"), "{stdout}");
    assert!(
        stdout.contains("PostHog host:  unknown: ")
            && stdout.contains("config.yaml cannot be used, and it may name the host"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Problem:") && stdout.contains("config.yaml line"),
        "{stdout}"
    );
    assert!(stdout.contains("until then nothing is sent"), "{stdout}");
    // With a host from the environment too, events do go out: the Fix line does not say
    // otherwise.
    let output = user
        .command(&["telemetry", "status"])
        .env("ARCHON_TELEMETRY", "1")
        .env("ARCHON_TELEMETRY_HOST", "https://posthog.example.org")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("Fix:           correct the file or remove it\n"),
        "{stdout}"
    );
    // Off by the broken file: `telemetry on` alone would not help.
    let (stdout, _) = user.expect(&["telemetry", "status"], 0);
    assert!(
        stdout.contains("To turn it on:   fix config.yaml, then archon telemetry on"),
        "{stdout}"
    );
}

#[test]
fn a_build_without_a_key_says_so_and_never_sends() {
    let server = CaptureServer::start();
    let mut user = user();
    user.seen_notice();
    user.set("ARCHON_TELEMETRY_HOST", server.url());
    user.set("ARCHON_TELEMETRY", "1");
    let (stdout, _) = user.expect(&["telemetry", "status"], 0);
    assert!(
        stdout.contains("PostHog key:   none: this build cannot send telemetry"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Telemetry: ON (but this build cannot send)"),
        "{stdout}"
    );
    user.expect(&["version"], 0);
    std::thread::sleep(Duration::from_secs(2));
    assert!(server.requests().is_empty());
    // Events are kept for `inspect`, marked as never sent.
    assert!(!user.inspect().is_empty());
}

#[test]
fn status_explains_the_default() {
    let user = user();
    user.seen_notice();
    let (stdout, _) = user.expect(&["telemetry", "status"], 0);
    assert!(stdout.contains("Telemetry: UNDECIDED"), "{stdout}");
    assert!(stdout.contains("Decided by:    the default"), "{stdout}");
    assert!(stdout.contains("Anonymous id:  none"), "{stdout}");
    // Undecided: both ways are open.
    assert!(
        stdout.contains("To turn it on:   archon telemetry on"),
        "{stdout}"
    );
    assert!(
        stdout.contains("To turn it off:  archon telemetry off"),
        "{stdout}"
    );
    user.expect(&["telemetry", "on"], 0);
    let (stdout, _) = user.expect(&["telemetry", "status"], 0);
    assert!(!stdout.contains("To turn it on:"), "{stdout}");
    assert!(stdout.contains("To turn it off:"), "{stdout}");
    user.expect(&["telemetry", "off"], 0);
    let (stdout, _) = user.expect(&["telemetry", "status"], 0);
    assert!(stdout.contains("To turn it on:"), "{stdout}");
    assert!(!stdout.contains("To turn it off:"), "{stdout}");
    let (stdout, _) = user.expect(&["telemetry", "policy"], 0);
    assert!(stdout.contains("docs/telemetry.md"), "{stdout}");
}

#[test]
fn off_says_when_an_environment_variable_keeps_telemetry_on() {
    let mut user = user();
    user.seen_notice();
    user.set("ARCHON_TELEMETRY", "1");
    let (stdout, _) = user.expect(&["telemetry", "off"], 0);
    // The first line says what is true now, not what the file says.
    let first = stdout.lines().next().unwrap_or_default();
    assert!(
        first.contains("telemetry stays on: the ARCHON_TELEMETRY environment variable turns it on"),
        "{stdout}"
    );
    assert!(!stdout.contains("Nothing will be sent"), "{stdout}");
    // This build has no key: what stays on is recording, not sending.
    assert!(
        first.contains("Events are recorded (this build cannot send them)"),
        "{stdout}"
    );
    // Without it, `off` is the whole story.
    let mut user = self::user();
    user.seen_notice();
    user.set("ARCHON_TELEMETRY", "0");
    let (stdout, _) = user.expect(&["telemetry", "off"], 0);
    assert!(stdout.starts_with("Telemetry is off."), "{stdout}");
    assert!(!stdout.contains("stays on"), "{stdout}");
}

#[test]
fn on_says_when_an_environment_variable_keeps_telemetry_off_and_makes_no_id() {
    let mut user = user();
    user.seen_notice();
    user.set("DO_NOT_TRACK", "1");
    let (stdout, _) = user.expect(&["telemetry", "on"], 0);
    let first = stdout.lines().next().unwrap_or_default();
    assert!(
        first.contains("telemetry stays off: the DO_NOT_TRACK environment variable turns it off"),
        "{stdout}"
    );
    assert!(!stdout.contains("Thank you"), "{stdout}");
    assert!(!stdout.contains("Anonymous id"), "{stdout}");
    assert!(!user.archon_home().join("telemetry-id").exists());
    // Several variables: all are named, and a value archon does not understand reads plainly.
    let output = user
        .command(&["telemetry", "on"])
        .env("ARCHON_TELEMETRY", "nope")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.starts_with(
            "Your choice is recorded, but telemetry stays off: the DO_NOT_TRACK and \
             ARCHON_TELEMETRY environment variables turn it off, whatever config.yaml says. \
             Nothing is recorded or sent until you unset them."
        ),
        "{stdout}"
    );
    // The choice is in the file: without the variable, telemetry is on and makes its id.
    user.set("DO_NOT_TRACK", "");
    let (stdout, _) = user.expect(&["telemetry", "status"], 0);
    assert!(stdout.contains("Telemetry: ON"), "{stdout}");
    assert!(user.archon_home().join("telemetry-id").is_file());
}

#[test]
fn an_archon_telemetry_value_not_understood_is_off_and_status_says_so() {
    let mut user = user();
    user.seen_notice();
    user.expect(&["telemetry", "on"], 0);
    user.set("ARCHON_TELEMETRY", "disable");
    let (stdout, _) = user.expect(&["telemetry", "status"], 0);
    assert!(stdout.contains("Telemetry: OFF"), "{stdout}");
    // config.yaml says on already.
    assert!(
        stdout.contains("To turn it on:   unset ARCHON_TELEMETRY\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("set to a value archon does not understand"),
        "{stdout}"
    );
    // The value itself is not echoed: it is the user's environment.
    assert!(!stdout.contains("disable"), "{stdout}");
    user.set("ARCHON_TELEMETRY", "off");
    let (stdout, _) = user.expect(&["telemetry", "status"], 0);
    assert!(stdout.contains("Telemetry: OFF"), "{stdout}");
    assert!(
        stdout.contains("Decided by:    the ARCHON_TELEMETRY environment variable\n"),
        "{stdout}"
    );
}

#[test]
fn clear_deletes_the_id() {
    let user = user();
    user.seen_notice();
    user.expect(&["version"], 0);
    user.expect(&["telemetry", "on"], 0);
    user.expect(&["version"], 0);
    let id_file = user.archon_home().join("telemetry-id");
    let old_id = std::fs::read_to_string(&id_file).unwrap().trim().to_owned();
    assert!(user.all_file_contents().contains(&old_id));
    let (stdout, _) = user.expect(&["telemetry", "clear"], 0);
    assert!(stdout.contains("Deleted your anonymous id"), "{stdout}");
    assert!(stdout.contains("a new, unrelated id"), "{stdout}");
    // Nothing on this machine carries the old id any more, not even the clear run's own
    // events; the events recorded before opting in (no id) are still there for `inspect`.
    assert!(!user.all_file_contents().contains(&old_id));
    user.expect(&["version"], 0);
    let new_id = std::fs::read_to_string(&id_file).unwrap().trim().to_owned();
    assert_ne!(new_id, old_id);
    let ids: std::collections::HashSet<String> = user
        .inspect()
        .iter()
        .map(|event| event["distinct_id"].as_str().unwrap_or("none").to_owned())
        .collect();
    assert_eq!(
        ids,
        ["none".to_owned(), new_id].into_iter().collect(),
        "only events without an id and the new id's"
    );
    user.expect(&["telemetry", "off"], 0);
    user.expect(&["telemetry", "clear"], 0);
    assert!(!id_file.exists());
    let (stdout, _) = user.expect(&["telemetry", "clear"], 0);
    assert!(stdout.contains("There was no anonymous id"), "{stdout}");
}

#[test]
fn clear_with_telemetry_on_and_no_id_says_there_was_none() {
    let mut user = user();
    user.seen_notice();
    user.set("ARCHON_TELEMETRY", "1");
    let (stdout, _) = user.expect(&["telemetry", "clear"], 0);
    assert!(
        stdout.contains("There was no anonymous id to delete."),
        "{stdout}"
    );
    assert!(!user.archon_home().join("telemetry-id").exists());
    // With one, it is deleted.
    user.expect(&["version"], 0);
    let (stdout, _) = user.expect(&["telemetry", "clear"], 0);
    assert!(stdout.contains("Deleted your anonymous id"), "{stdout}");
}

#[test]
fn with_archon_telemetry_set_the_way_off_is_to_unset_it() {
    let mut user = user();
    user.seen_notice();
    user.set("ARCHON_TELEMETRY", "1");
    let (stdout, _) = user.expect(&["telemetry", "status"], 0);
    assert!(
        stdout.contains("To turn it off:  unset ARCHON_TELEMETRY"),
        "{stdout}"
    );
    user.expect(&["version"], 0);
    let (stdout, _) = user.expect(&["telemetry", "clear"], 0);
    assert!(
        stdout.contains("To stop sending as well: unset ARCHON_TELEMETRY"),
        "{stdout}"
    );
}

#[test]
fn on_changes_nothing_when_telemetry_files_cannot_be_written() {
    let user = user();
    user.seen_notice();
    // A file where telemetry's folder belongs.
    std::fs::write(user.archon_home().join("telemetry"), "").unwrap();
    let (_, stderr) = user.expect(&["telemetry", "on"], 1);
    assert!(
        stderr.contains("Nothing was changed: telemetry is not on."),
        "{stderr}"
    );
    assert!(!user.archon_home().join("config.yaml").exists());
    let (stdout, _) = user.expect(&["telemetry", "status"], 0);
    assert!(!stdout.contains("Telemetry: ON"), "{stdout}");
    // On already (config.yaml says so), with no id to send under: `on` does not say it is off.
    std::fs::write(
        user.archon_home().join("config.yaml"),
        "telemetry:\n  enabled: true\n",
    )
    .unwrap();
    let (_, stderr) = user.expect(&["telemetry", "on"], 1);
    assert!(
        stderr.contains("Nothing was changed: telemetry stays on, but nothing is sent"),
        "{stderr}"
    );
}

#[test]
fn on_failing_after_the_id_does_not_say_nothing_is_sent() {
    let mut user = user();
    user.seen_notice();
    // On by a variable, with an id: events are sent whatever `on` then fails to write.
    user.set("ARCHON_TELEMETRY", "1");
    user.expect(&["version"], 0);
    assert!(user.archon_home().join("telemetry-id").is_file());
    // A folder where the opt-in time is noted.
    std::fs::create_dir(user.archon_home().join("telemetry/state.json")).unwrap();
    let (_, stderr) = user.expect(&["telemetry", "on"], 1);
    assert!(
        stderr.contains("Nothing was changed: telemetry stays on."),
        "{stderr}"
    );
    assert!(!stderr.contains("nothing is sent"), "{stderr}");
}

#[test]
fn inspect_prints_the_events_as_json() {
    let user = user();
    user.seen_notice();
    user.expect(&["version"], 0);
    let events = user.inspect();
    let names = names(&events);
    assert_eq!(
        &names[..3],
        [
            "binary.startup",
            "cli.command_invoked",
            "cli.command_completed"
        ]
    );
    assert_eq!(
        events[0]["distinct_id"],
        serde_json::Value::Null,
        "no identity before opting in"
    );
    let (stdout, _) = user.expect(&["telemetry", "inspect", "--limit", "1", "--status"], 0);
    let json: serde_json::Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["events"].as_array().unwrap().len(), 1);
    let delivery = json["delivery"].as_object().unwrap();
    assert!(delivery.values().all(|v| v
        .as_str()
        .unwrap()
        .starts_with("not sent: recorded without an anonymous id")));
}

#[test]
fn setup_records_the_assistant_and_keeps_the_rest() {
    let user = user();
    user.seen_notice();
    let config = user.archon_home().join("config.yaml");
    std::fs::write(&config, "# keep me\ntelemetry:\n  enabled: false\n").unwrap();
    let (stdout, _) = user.expect(&["setup", "--assistant", "codex"], 0);
    assert!(stdout.contains("Default assistant: codex"), "{stdout}");
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(
        text.starts_with("# keep me\ntelemetry:\n  enabled: false\n"),
        "{text}"
    );
    assert!(text.contains("assistant:\n  default: codex"), "{text}");
}

#[cfg(unix)]
#[test]
fn setup_says_whether_it_found_the_assistant_it_chose() {
    use std::os::unix::fs::PermissionsExt;
    let mut user = user();
    user.seen_notice();
    let bin = user.home().join("bin");
    std::fs::create_dir_all(&bin).unwrap();
    user.set("PATH", bin.to_str().unwrap());
    let (stdout, _) = user.expect(&["setup"], 0);
    assert!(
        stdout.contains("Default assistant: claude (neither claude nor codex is on your PATH"),
        "{stdout}"
    );
    assert!(
        stdout.contains("`claude` is not on your PATH yet"),
        "{stdout}"
    );

    let codex = bin.join("codex");
    std::fs::write(&codex, "#!/bin/sh\n").unwrap();
    std::fs::set_permissions(&codex, std::fs::Permissions::from_mode(0o755)).unwrap();
    let (stdout, _) = user.expect(&["setup"], 0);
    assert!(
        stdout.contains("Default assistant: codex (found on your PATH"),
        "{stdout}"
    );
    assert!(!stdout.contains("not on your PATH"), "{stdout}");
}

#[cfg(unix)]
#[test]
fn sigterm_stops_a_running_workflow_which_records_143_and_ends_killed_by_it() {
    use std::os::unix::process::ExitStatusExt;
    let user = user();
    user.seen_notice();
    write_one_node_workflow(&user, "slow", "sleep 30");
    let mut child = user.spawn_quietly(&["workflow", "run", "slow"]);
    // Wait until the workflow has started (its run_started event is recorded).
    let started = wait_until(Duration::from_secs(20), || {
        user.all_file_contents().contains("workflow.run_started")
    });
    assert!(started);
    // Killed by the signal once the run is recorded: a shell reports 143.
    let status = terminate(&mut child);
    assert_eq!(status.signal(), Some(libc::SIGTERM), "{status:?}");
    let events = user.inspect();
    let completed = events
        .iter()
        .rev()
        .find(|e| e["event"] == "cli.command_completed" && e["properties"]["command"] == "workflow")
        .expect("completion recorded");
    assert_eq!(completed["properties"]["exit_code"], 143);
    let failed = events
        .iter()
        .find(|e| e["event"] == "workflow.run_failed")
        .unwrap();
    assert_eq!(failed["properties"]["error_class"], "interrupted");
}

/// Outside a workflow nothing needs stopping: a signal ends archon as if it had no handler
/// (killed by the signal, so that a calling shell stops its loop too), even while telemetry
/// waits for another process's lock.
#[cfg(target_os = "linux")]
#[test]
fn outside_a_workflow_a_signal_ends_archon_at_once() {
    use std::os::unix::process::ExitStatusExt;
    let user = user();
    user.seen_notice();
    let lock = hold_store_lock(&user.archon_home());
    let mut child = user.spawn_quietly(&["version"]);
    // Waiting for the lock: its handlers were installed before the command ran.
    assert!(wait_until(Duration::from_secs(20), || has_store_lock_open(
        child.id(),
        &user.archon_home()
    )));
    // SIGTERM, not SIGINT: a test run started in the background of a script has SIGINT ignored,
    // and archon rightly keeps it so (`a_signal_ignored_when_archon_starts_stays_ignored`).
    // Both signals go through the same handlers.
    send_signal(&child, libc::SIGTERM);
    let status = ended_within(&mut child, Duration::from_secs(10));
    drop(lock);
    let status = status.expect("archon ends on SIGTERM");
    assert_eq!(status.signal(), Some(libc::SIGTERM), "{status:?}");
}

/// The first signal asks a workflow to stop; if it cannot (here: telemetry waits for another
/// process's lock), a second one, a while later, ends archon at once. The same signal sent
/// twice at once counts as one.
#[cfg(target_os = "linux")]
#[test]
fn a_second_signal_ends_a_workflow_that_has_not_stopped() {
    use std::os::unix::process::ExitStatusExt;
    let user = user();
    user.seen_notice();
    write_one_node_workflow(
        &user,
        "wait",
        "echo $$ > node.pid && touch started && sleep 5",
    );
    let mut child = user.spawn_quietly(&["workflow", "run", "wait"]);
    // The node runs, so the workflow has started.
    assert!(node_made(&user, "started"));
    // Once stopped, archon must write its events, under a lock it cannot have now.
    let lock = hold_store_lock(&user.archon_home());
    let node = std::fs::read_to_string(user.project().join("node.pid")).unwrap();
    let node = std::path::PathBuf::from(format!("/proc/{}", node.trim()));
    send_signal(&child, libc::SIGTERM);
    // The handler has run once the runner has stopped the node.
    assert!(wait_until(Duration::from_secs(20), || !node.exists()));
    // Again at once, as GNU timeout sends it (to archon, then to its process group): the same
    // signal, not a second one.
    send_signal(&child, libc::SIGTERM);
    // Not a timing assertion: archon cannot end while it waits for the lock, unless a signal
    // ended it.
    std::thread::sleep(Duration::from_millis(300));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the first signal only asks, and its repeat is the same signal"
    );
    // Asked again a while later: the user will not wait.
    std::thread::sleep(Duration::from_millis(1200));
    send_signal(&child, libc::SIGTERM);
    let status = ended_within(&mut child, Duration::from_secs(10));
    drop(lock);
    let status = status.expect("archon ends on the second signal");
    assert_eq!(status.signal(), Some(libc::SIGTERM), "{status:?}");
}

/// A signal that comes after the workflow's last node has ended, while archon writes the run's
/// events (here: waiting for another process's lock), does not lose them: archon writes them,
/// then ends as the signal would have. `node_seconds`: over a second, archon writes the outcome
/// as it records it; under, together with the command's completion as it exits.
#[cfg(target_os = "linux")]
fn a_signal_after_the_last_node(node_seconds: &str) {
    use std::os::unix::process::ExitStatusExt;
    let user = user();
    user.seen_notice();
    write_one_node_workflow(
        &user,
        "short",
        &format!("touch started && sleep {node_seconds} && touch done"),
    );
    let mut child = user.spawn_quietly(&["workflow", "run", "short"]);
    assert!(node_made(&user, "started"));
    let lock = hold_store_lock(&user.archon_home());
    assert!(node_made(&user, "done"));
    // The runner sees the node end within milliseconds and then waits for the lock. (Should the
    // signal come before that, the node is stopped instead: the same end either way.)
    std::thread::sleep(Duration::from_millis(300));
    send_signal(&child, libc::SIGTERM);
    // Not a timing assertion: archon cannot end while it waits for the lock, unless the signal
    // ended it there and then.
    std::thread::sleep(Duration::from_millis(200));
    assert!(
        child.try_wait().unwrap().is_none(),
        "the signal waits for the events to be written"
    );
    drop(lock);
    let status = ended_within(&mut child, Duration::from_secs(10)).expect("archon ends");
    assert_eq!(status.signal(), Some(libc::SIGTERM), "{status:?}");
    let events = names(&user.inspect());
    assert!(
        events
            .iter()
            .any(|name| name.starts_with("workflow.run_") && name != "workflow.run_started"),
        "{events:?}"
    );
    assert!(
        events.iter().any(|name| name == "cli.command_completed"),
        "{events:?}"
    );
}

#[cfg(target_os = "linux")]
#[test]
fn a_signal_after_the_last_node_of_a_long_run_keeps_its_events() {
    a_signal_after_the_last_node("1.5");
}

#[cfg(target_os = "linux")]
#[test]
fn a_signal_after_the_last_node_of_a_short_run_keeps_its_events() {
    a_signal_after_the_last_node("0.2");
}

/// A signal ends archon even while a node's output is stuck on its way to a reader that stopped
/// reading (`archon workflow run x | less`, left alone): archon does not wait to flush it.
#[cfg(target_os = "linux")]
#[test]
fn a_signal_ends_archon_when_its_reader_has_stopped_reading() {
    use std::os::unix::process::ExitStatusExt;
    let user = user();
    user.seen_notice();
    write_one_node_workflow(
        &user,
        "flood",
        "touch started && yes archon | head -c 1000000 && sleep 30",
    );
    // Archon's stdout is a pipe this test never reads: it fills, and the thread that copies
    // the node's output blocks on it.
    let mut child = user
        .command(&["workflow", "run", "flood"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    assert!(node_made(&user, "started"));
    std::thread::sleep(Duration::from_millis(300));
    send_signal(&child, libc::SIGTERM);
    let status = ended_within(&mut child, Duration::from_secs(15)).expect("archon ends");
    assert_eq!(status.signal(), Some(libc::SIGTERM), "{status:?}");
}

/// An interrupted node is asked to stop (SIGTERM) and can clean up; it is killed only if it has
/// not ended within a grace period.
#[cfg(target_os = "linux")]
#[test]
fn an_interrupted_node_is_asked_to_stop_and_can_clean_up() {
    use std::os::unix::process::ExitStatusExt;
    let user = user();
    user.seen_notice();
    write_one_node_workflow(
        &user,
        "tidy",
        "|\n      trap 'echo cleaned > cleaned; exit 0' TERM\n      touch started\n      sleep 3 &\n      wait",
    );
    let mut child = user.spawn_quietly(&["workflow", "run", "tidy"]);
    assert!(node_made(&user, "started"));
    // To archon alone, as `kill` or a service manager sends it: the node hears it from archon.
    let status = terminate(&mut child);
    assert_eq!(status.signal(), Some(libc::SIGTERM), "{status:?}");
    assert!(
        user.project().join("cleaned").exists(),
        "the node's trap ran"
    );
}

/// A shell script runs its background jobs with Ctrl-C ignored, so that a Ctrl-C meant for the
/// script leaves them running: archon keeps a signal ignored that it was started with.
#[cfg(unix)]
#[test]
fn a_signal_ignored_when_archon_starts_stays_ignored() {
    let user = user();
    user.seen_notice();
    write_one_node_workflow(&user, "wait", "touch started && sleep 1 && touch done");
    let archon = user.binary.to_str().unwrap();
    let mut child = user
        .command_of(
            std::path::Path::new("/bin/sh"),
            &["-c", "trap '' INT; exec \"$0\" workflow run wait", archon],
        )
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    assert!(node_made(&user, "started"));
    send_signal(&child, libc::SIGINT);
    let status = ended_within(&mut child, Duration::from_secs(20)).expect("archon ends");
    assert_eq!(status.code(), Some(0), "{status:?}");
    assert!(
        user.project().join("done").exists(),
        "the node ran to its end"
    );
}

#[test]
fn an_invalid_workflow_runs_nothing_and_exits_2() {
    let user = user();
    user.seen_notice();
    let ran = user.project().join("ran");
    user.write_workflow(
        "cyclic.yaml",
        &format!(
            "name: cyclic\nnodes:\n  - id: a\n    bash: touch {}\n    depends_on: [b]\n  - id: b\n    bash: touch {}\n    depends_on: [a]\n",
            ran.display(),
            ran.display()
        ),
    );
    let (_, stderr) = user.expect(&["workflow", "run", "cyclic"], 2);
    assert!(stderr.contains("cyclic.yaml"), "names the file: {stderr}");
    assert!(!ran.exists(), "nothing ran");
}

#[test]
fn status_does_not_promise_debug_output_while_telemetry_is_off() {
    let mut user = user();
    user.seen_notice();
    user.set("ARCHON_TELEMETRY_DEBUG", "1");
    user.set("DO_NOT_TRACK", "1");
    let (_, stderr) = user.expect(&["version"], 0);
    assert!(!stderr.contains("archon telemetry (debug"), "{stderr}");
    let (stdout, _) = user.expect(&["telemetry", "status"], 0);
    assert!(
        stdout.contains("but telemetry is off: nothing is recorded or printed"),
        "{stdout}"
    );
}

#[test]
fn debug_mode_prints_events_and_stores_nothing_to_send() {
    let mut user = user();
    user.seen_notice();
    user.set("ARCHON_TELEMETRY", "1");
    user.set("ARCHON_TELEMETRY_DEBUG", "1");
    let (stdout, stderr) = user.expect(&["version"], 0);
    assert!(stdout.starts_with("archon "), "{stdout}");
    assert!(
        stderr.contains("archon telemetry (debug, not sent)"),
        "{stderr}"
    );
    for name in [
        "binary.startup",
        "cli.command_invoked",
        "cli.command_completed",
    ] {
        assert!(
            stderr.contains(&format!("\"event\": \"{name}\"")),
            "{name} missing:\n{stderr}"
        );
    }
    assert!(!user.archon_home().join("telemetry/queue.jsonl").exists());
    // Output meant to be pasted into bug reports does not carry the anonymous id.
    let id = std::fs::read_to_string(user.archon_home().join("telemetry-id")).unwrap();
    assert!(!stderr.contains(id.trim()), "{stderr}");
    assert!(
        stderr.contains("\"distinct_id\": \"<your anonymous id: see `archon telemetry status`>\""),
        "{stderr}"
    );
    let (stdout, _) = user.expect(&["telemetry", "status"], 0);
    assert!(stdout.contains("ARCHON_TELEMETRY_DEBUG is set"), "{stdout}");
}

#[test]
fn a_reader_that_goes_away_ends_archon_quietly() {
    let user = user();
    user.seen_notice();
    for args in [
        &["version"][..],
        &["telemetry", "status"],
        &["telemetry", "inspect"],
        &["telemetry", "policy"],
        &["workflow", "list"],
    ] {
        // The pipe's reading end is closed before archon starts, so its first write fails
        // with EPIPE, as when `head` has read what it wanted.
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let output = user
            .command(args)
            .stdout(writer)
            .stderr(std::process::Stdio::piped())
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(141), "{args:?}: {stderr}");
        assert!(stderr.is_empty(), "{args:?}: {stderr}");
    }
    // Not a failure of archon's: no error event anywhere, and each command completed with 141.
    assert!(!user.all_file_contents().contains("error.uncaught"));
    let events = user.inspect();
    let names = names(&events);
    let completed: Vec<&serde_json::Value> = events
        .iter()
        .filter(|event| event["event"] == "cli.command_completed")
        .collect();
    assert!(!completed.is_empty(), "{names:?}");
    for event in completed {
        assert_eq!(event["properties"]["exit_code"], 141, "{event}");
    }
}

#[test]
fn on_and_off_say_when_nothing_changed() {
    let user = user();
    user.seen_notice();
    let (stdout, _) = user.expect(&["telemetry", "on"], 0);
    assert!(
        stdout.starts_with("Telemetry is on. Thank you!"),
        "{stdout}"
    );
    let (stdout, _) = user.expect(&["telemetry", "on"], 0);
    assert!(stdout.starts_with("Telemetry was already on."), "{stdout}");
    let (stdout, _) = user.expect(&["telemetry", "off"], 0);
    assert!(stdout.starts_with("Telemetry is off."), "{stdout}");
    let (stdout, _) = user.expect(&["telemetry", "off"], 0);
    assert!(stdout.starts_with("Telemetry was already off."), "{stdout}");
}

#[test]
fn an_unknown_default_assistant_is_named_not_silently_replaced() {
    let user = user();
    user.seen_notice();
    std::fs::write(
        user.archon_home().join("config.yaml"),
        "assistant:\n  default: gpt5\n",
    )
    .unwrap();
    user.write_workflow(
        "hello.yaml",
        "name: hello\ndescription: says hello\nnodes:\n  - id: hi\n    bash: echo hi\n",
    );
    let (stdout, stderr) = user.expect(&["workflow", "run", "hello"], 0);
    assert!(stdout.contains("hi"), "{stdout}");
    assert!(
        stderr.contains("assistant.default is neither claude nor codex; using claude"),
        "{stderr}"
    );
}

#[test]
fn the_delivery_program_run_by_hand_says_what_it_is() {
    let program = env!("CARGO_BIN_EXE_archon-telemetry-deliver");
    let output = std::process::Command::new(program)
        .arg("--help")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&output.stdout).contains("there is nothing to run by hand"));
    let output = std::process::Command::new(program).output().unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(output.stdout.is_empty());
    assert!(String::from_utf8_lossy(&output.stderr).contains("there is nothing to run by hand"));
}

/// `archon telemetry off` while a workflow runs: the run, which read config.yaml when telemetry
/// was on, keeps none of the events it records after that (here, in a build that cannot send,
/// the local copies under the id; with a key, the queue), so nothing of it can be sent after a
/// later opt-in.
#[test]
fn a_workflow_running_when_telemetry_is_turned_off_keeps_nothing_after_it() {
    let user = user();
    user.seen_notice();
    user.expect(&["telemetry", "on"], 0);
    write_one_node_workflow(
        &user,
        "wait",
        "touch started; while [ ! -e go ]; do sleep 0.05; done",
    );
    let mut child = user.spawn_quietly(&["workflow", "run", "wait"]);
    assert!(node_made(&user, "started"));
    // The run writes its first events while its node runs: let that happen first.
    let recent = user.archon_home().join("telemetry/recent.jsonl");
    assert!(wait_until(Duration::from_secs(20), || {
        std::fs::read_to_string(&recent).is_ok_and(|text| text.contains("workflow.run_started"))
    }));
    user.expect(&["telemetry", "off"], 0);
    std::fs::write(user.project().join("go"), "").unwrap();
    let status = ended_within(&mut child, Duration::from_secs(20)).expect("the workflow ends");
    assert!(status.success(), "{status:?}");
    // The workflow's own events, after those of `archon telemetry on`.
    let names = names(&user.inspect());
    let run = names
        .iter()
        .rposition(|name| name == "binary.startup")
        .unwrap();
    assert_eq!(
        names[run..],
        [
            "binary.startup",
            "cli.command_invoked",
            "workflow.run_started"
        ],
        "written before `off`, and nothing after: {names:?}"
    );
}

/// `archon telemetry off` and `clear` never make an anonymous id, which their own run would
/// only throw away: following `clear`'s advice to turn telemetry off leaves no id behind.
#[test]
fn off_and_clear_never_make_an_anonymous_id() {
    let user = user();
    user.seen_notice();
    user.expect(&["telemetry", "on"], 0);
    let id = user.archon_home().join("telemetry-id");
    assert!(id.exists());
    let (stdout, _) = user.expect(&["telemetry", "clear"], 0);
    assert!(stdout.contains("To stop sending as well"), "{stdout}");
    assert!(!id.exists(), "clear deletes the id");
    user.expect(&["telemetry", "off"], 0);
    assert!(!id.exists(), "off made an id");
    let (stdout, _) = user.expect(&["telemetry", "clear"], 0);
    assert!(stdout.contains("There was no anonymous id"), "{stdout}");
    assert!(!id.exists(), "clear made an id");
}

/// What status shows from telemetry's files cannot drive the terminal: a control character
/// planted in state.json is shown escaped.
#[test]
fn status_never_prints_control_characters_from_files() {
    let user = user();
    user.seen_notice();
    let dir = user.archon_home().join("telemetry");
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(
        dir.join("state.json"),
        r#"{"last_outcome": "sent 3 events\u001b[31m\u0007", "last_success_at": "2026-11-26T05:00:00Z"}"#,
    )
    .unwrap();
    let (stdout, _) = user.expect(&["telemetry", "status"], 0);
    assert!(
        stdout.contains("sent 3 events\\u{1b}[31m\\u{7}"),
        "{stdout}"
    );
    assert!(
        !stdout.contains('\u{1b}') && !stdout.contains('\u{7}'),
        "{stdout}"
    );
}

/// `off` points to `clear` for the id only when `clear` can delete it.
#[test]
fn off_does_not_advise_clear_for_an_id_it_cannot_delete() {
    let user = user();
    user.seen_notice();
    user.expect(&["telemetry", "on"], 0);
    let (stdout, _) = user.expect(&["telemetry", "off"], 0);
    assert!(
        stdout.contains("`archon telemetry clear` deletes it"),
        "{stdout}"
    );
    let id = user.archon_home().join("telemetry-id");
    std::fs::remove_file(&id).unwrap();
    std::fs::create_dir(&id).unwrap();
    let (stdout, _) = user.expect(&["telemetry", "off"], 0);
    assert!(!stdout.contains("deletes it"), "{stdout}");
}

#[test]
fn status_says_what_a_variable_overrides_and_how_to_undo_it() {
    let mut user = user();
    user.seen_notice();
    user.expect(&["telemetry", "on"], 0);
    user.set("DO_NOT_TRACK", "1");
    let (stdout, _) = user.expect(&["telemetry", "status"], 0);
    assert!(stdout.contains("Telemetry: OFF"), "{stdout}");
    assert!(
        stdout.contains("  Overrides:     telemetry.enabled: true in config.yaml"),
        "{stdout}"
    );
    // config.yaml says on already: unsetting the variable is all it takes.
    assert!(
        stdout.contains("To turn it on:   unset DO_NOT_TRACK\n"),
        "{stdout}"
    );
    // With two variables keeping it off, both must go.
    let output = user
        .command(&["telemetry", "status"])
        .env("ARCHON_NO_TELEMETRY", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains("which applies once DO_NOT_TRACK and ARCHON_NO_TELEMETRY are unset"),
        "{stdout}"
    );
    assert!(
        stdout.contains("To turn it on:   unset DO_NOT_TRACK ARCHON_NO_TELEMETRY\n"),
        "{stdout}"
    );
    // The file agrees with the variable: nothing to point out.
    user.set("DO_NOT_TRACK", "");
    user.expect(&["telemetry", "off"], 0);
    user.set("DO_NOT_TRACK", "1");
    let (stdout, _) = user.expect(&["telemetry", "status"], 0);
    assert!(!stdout.contains("Overrides:"), "{stdout}");
    assert!(
        stdout.contains("To turn it on:   unset DO_NOT_TRACK, then archon telemetry on"),
        "{stdout}"
    );
}

#[test]
fn status_without_a_home_folder_suggests_only_what_works() {
    let user = user();
    let output = user
        .command(&["telemetry", "status"])
        .env_remove("HOME")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert_eq!(output.status.code(), Some(0), "{stdout}");
    assert!(
        stdout.contains("To turn it on:   set ARCHON_HOME to a folder, then archon telemetry on"),
        "{stdout}"
    );
    // `archon telemetry off` would fail: there is nowhere to write it.
    assert!(!stdout.contains("To turn it off:"), "{stdout}");
    // A variable that keeps it off must go too.
    let output = user
        .command(&["telemetry", "status"])
        .env_remove("HOME")
        .env("DO_NOT_TRACK", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.contains(
            "To turn it on:   unset DO_NOT_TRACK, set ARCHON_HOME to a folder, then archon telemetry on"
        ),
        "{stdout}"
    );
}

#[test]
fn archon_telemetry_on_behind_do_not_track_is_pointed_out() {
    let mut user = user();
    user.seen_notice();
    user.set("DO_NOT_TRACK", "1");
    user.set("ARCHON_TELEMETRY", "1");
    // off writes enabled: false, which ARCHON_TELEMETRY=1 outranks once DO_NOT_TRACK goes.
    let (stdout, _) = user.expect(&["telemetry", "off"], 0);
    assert!(
        stdout
            .contains("Note: ARCHON_TELEMETRY turns telemetry on again once DO_NOT_TRACK is unset"),
        "{stdout}"
    );
    let (stdout, _) = user.expect(&["telemetry", "status"], 0);
    assert!(stdout.contains("Telemetry: OFF"), "{stdout}");
    assert!(
        stdout.contains(
            "  Overrides:     ARCHON_TELEMETRY, which turns telemetry on once DO_NOT_TRACK is unset"
        ),
        "{stdout}"
    );
    assert!(!stdout.contains("telemetry.enabled: false"), "{stdout}");
    assert!(
        stdout.contains("To turn it on:   unset DO_NOT_TRACK\n"),
        "{stdout}"
    );
}

#[test]
fn every_step_to_turn_telemetry_on_is_named() {
    let mut user = user();
    user.seen_notice();
    user.set("DO_NOT_TRACK", "1");
    // A config.yaml that does not parse: `on` would refuse until it is fixed.
    std::fs::write(user.archon_home().join("config.yaml"), "telemetry: [\n").unwrap();
    let (stdout, _) = user.expect(&["telemetry", "status"], 0);
    assert!(
        stdout.contains(
            "To turn it on:   unset DO_NOT_TRACK, fix config.yaml, then archon telemetry on"
        ),
        "{stdout}"
    );
    // No home folder: `on` names the variable as well as ARCHON_HOME.
    let output = user
        .command(&["telemetry", "on"])
        .env_remove("HOME")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("set ARCHON_HOME to a folder; and unset DO_NOT_TRACK"),
        "{stderr}"
    );
}
