//! archon built without the `telemetry` feature, as a distribution may package it: asked for
//! telemetry every way a user can, it records nothing, writes no telemetry file, prints no
//! notice, and says honestly what it is. Run with
//! `cargo test -p archon-cli --no-default-features --test without_telemetry`.

#![cfg(not(feature = "telemetry"))]

mod common;

use common::*;
use std::time::Duration;

/// The first line of the first-run notice of a build with telemetry.
const NOTICE: &str = "Archon collects no usage data by default.";

/// A user who has turned telemetry on for this shell, with `$ARCHON_HOME` set (to a folder
/// that does not exist yet, so that anything archon writes there shows).
fn user_asking_for_telemetry() -> User {
    let mut user = User::new(keyless_binary());
    let archon_home = user.archon_home().to_str().unwrap().to_owned();
    user.set("ARCHON_HOME", &archon_home);
    user.set("ARCHON_TELEMETRY", "1");
    user
}

#[test]
fn asked_for_telemetry_it_records_nothing_and_says_why() {
    let user = user_asking_for_telemetry();

    let (stdout, stderr) = user.expect(&["version"], 0);
    assert!(stdout.starts_with("archon "), "{stdout}");
    assert!(stdout.contains("\ntelemetry: not built in\n"), "{stdout}");
    assert_eq!(stderr, "", "no first-run notice");
    // `--version` says the same, for a bug report pasted from either.
    let (long, _) = user.expect(&["--version"], 0);
    assert_eq!(long, stdout);

    let (stdout, stderr) = user.expect(&["workflow", "list"], 0);
    assert!(stdout.contains("archon-assist"), "{stdout}");
    assert!(!stderr.contains(NOTICE), "{stderr}");

    let (stdout, stderr) = user.expect(&["telemetry", "status"], 0);
    assert!(stdout.starts_with("Telemetry: not built in\n"), "{stdout}");
    assert!(
        stdout.contains("built without telemetry (cargo feature `telemetry` off)"),
        "{stdout}"
    );
    assert!(stdout.contains("records and\n  sends nothing"), "{stdout}");
    assert_eq!(stderr, "");

    // inspect prints the JSON a build with telemetry prints, with no events; the reason goes
    // to stderr.
    let (stdout, stderr) = user.expect(&["telemetry", "inspect"], 0);
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("inspect prints JSON");
    assert_eq!(json, serde_json::json!({ "events": [] }));
    assert!(stderr.contains("built without telemetry"), "{stderr}");
    let (stdout, _) = user.expect(&["telemetry", "inspect", "--status"], 0);
    let json: serde_json::Value = serde_json::from_str(&stdout).expect("inspect prints JSON");
    assert_eq!(json, serde_json::json!({ "events": [], "delivery": {} }));

    let (stdout, stderr) = user.expect(&["telemetry", "on"], 1);
    assert_eq!(stdout, "");
    assert!(
        stderr.starts_with(
            "error: telemetry cannot be turned on: this archon was built without telemetry"
        ),
        "{stderr}"
    );
    assert!(
        stderr.contains("install a build of archon with telemetry"),
        "{stderr}"
    );

    let (stdout, _) = user.expect(&["--help"], 0);
    assert!(
        stdout.contains("built without telemetry: it records and sends nothing"),
        "{stdout}"
    );

    // The argument the delivery program is started with means nothing to archon itself.
    user.expect(&["__telemetry-deliver"], 2);

    let home = user.archon_home();
    assert!(!home.join("telemetry").exists(), "no telemetry folder");
    assert!(!home.join("telemetry-id").exists(), "no anonymous id");
    assert!(
        !home.join(".first-run-completed").exists(),
        "no notice marker"
    );
    assert!(!home.exists(), "nothing written to $ARCHON_HOME at all");
}

#[test]
fn off_and_clear_tidy_up_after_a_build_with_telemetry() {
    let user = user_asking_for_telemetry();
    let home = user.archon_home();
    std::fs::create_dir_all(&home).unwrap();
    let config = home.join("config.yaml");
    std::fs::write(&config, "# mine\ntelemetry:\n  enabled: true\n").unwrap();
    let id = home.join("telemetry-id");
    std::fs::write(&id, "0b7e3a52-0d1c-4f5e-9a55-3c1c3f0e9d21\n").unwrap();

    let (stdout, _) = user.expect(&["telemetry", "status"], 0);
    assert!(
        stdout.contains("An anonymous id from a build with telemetry"),
        "{stdout}"
    );

    let (stdout, _) = user.expect(&["telemetry", "off"], 0);
    assert!(stdout.starts_with("Telemetry is off."), "{stdout}");
    assert_eq!(
        std::fs::read_to_string(&config).unwrap(),
        "# mine\ntelemetry:\n  enabled: false\n"
    );

    let (stdout, _) = user.expect(&["telemetry", "clear"], 0);
    assert!(stdout.contains("Deleted your anonymous id"), "{stdout}");
    assert!(
        !stdout.contains("new, unrelated id"),
        "this build never makes one: {stdout}"
    );
    assert!(!id.exists());

    let (stdout, _) = user.expect(&["telemetry", "policy"], 0);
    assert!(stdout.contains("built without telemetry"), "{stdout}");
    assert!(stdout.contains("docs/telemetry.md"), "{stdout}");

    // (`clear` takes telemetry-runtime's file lock, which creates `telemetry/lock`: that is
    // shared with builds with telemetry and orders it with them.)
    assert!(
        !home.join("telemetry/recent.jsonl").exists(),
        "nothing recorded"
    );
    assert!(
        !home.join(".first-run-completed").exists(),
        "no notice marker"
    );
}

/// Without telemetry the signal handlers still stop a running workflow, and archon then ends
/// killed by the signal.
#[cfg(unix)]
#[test]
fn sigterm_still_stops_a_running_workflow() {
    use std::os::unix::process::ExitStatusExt;
    let user = user_asking_for_telemetry();
    let started = user.project().join("started");
    user.write_workflow(
        "slow.yaml",
        &format!(
            "name: slow\ndescription: waits\nnodes:\n  - id: wait\n    bash: touch {} && sleep 30\n",
            started.display()
        ),
    );
    let mut child = user.spawn_quietly(&["workflow", "run", "slow"]);
    assert!(wait_until(Duration::from_secs(20), || started.exists()));
    let status = terminate(&mut child);
    assert_eq!(status.signal(), Some(libc::SIGTERM), "{status:?}");
    assert!(
        !user.archon_home().exists(),
        "nothing written to $ARCHON_HOME"
    );
}
