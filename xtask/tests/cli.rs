//! The xtask binary as CI and people run it: its help, and its exit codes.

use std::process::{Command, Output};

fn xtask(args: &[&str], env: &[(&str, &str)]) -> Output {
    let mut command = Command::new(env!("CARGO_BIN_EXE_xtask"));
    command.args(args);
    for name in [
        "ARCHON_POSTHOG_KEY",
        "ARCHON_POSTHOG_HOST",
        "ARCHON_VERSION",
        "ARCHON_GIT_COMMIT",
    ] {
        command.env_remove(name);
    }
    command.envs(env.iter().copied());
    command.output().expect("the xtask binary runs")
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

#[test]
fn help_lists_the_tasks_and_the_exit_codes() {
    let output = xtask(&["--help"], &[]);
    assert!(output.status.success());
    let help = text(&output.stdout);
    for expected in [
        "docs",
        "schema",
        "dist",
        "Exit status: 0 done, 1 a check failed",
    ] {
        assert!(
            help.contains(expected),
            "{expected:?} missing from:\n{help}"
        );
    }
    let schema_help = text(&xtask(&["schema", "--help"], &[]).stdout);
    assert!(schema_help.contains("--allow-breaking"), "{schema_help}");
}

#[test]
fn usage_errors_exit_2() {
    assert_eq!(xtask(&["publish"], &[]).status.code(), Some(2));
    assert_eq!(
        xtask(&["schema", "--check", "--allow-breaking"], &[])
            .status
            .code(),
        Some(2)
    );
}

#[test]
fn checks_pass_on_the_committed_tree() {
    for task in ["docs", "schema"] {
        let output = xtask(&[task, "--check"], &[]);
        assert_eq!(output.status.code(), Some(0), "{}", text(&output.stderr));
        assert!(text(&output.stdout).contains("is up to date"));
    }
}

#[test]
fn dist_refuses_a_key_with_a_plain_http_host_before_building() {
    let output = xtask(
        &["dist"],
        &[
            ("ARCHON_POSTHOG_KEY", "phc_test"),
            ("ARCHON_POSTHOG_HOST", "http://eu.i.posthog.com"),
        ],
    );
    assert_eq!(output.status.code(), Some(2));
    let stderr = text(&output.stderr);
    assert!(
        stderr.starts_with(
            "error: ARCHON_POSTHOG_HOST=\"http://eu.i.posthog.com\" is not an https:// address"
        ),
        "{stderr}"
    );
    assert!(text(&output.stdout).is_empty(), "nothing was built");
}
