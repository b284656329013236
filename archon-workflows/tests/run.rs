//! Running workflows: order, output, failures and their classification, the message, the
//! assistants (a fake `claude` / `codex`), interruption.

mod support;

use std::sync::atomic::AtomicBool;
use std::sync::Arc;
use std::time::{Duration, Instant};

use archon_workflows::{
    load, run_with_output, FailureKind, NodeFailure, NodeKind, Provider, Retryability, RunObserver,
    RunOptions, RunOutcome, Workflow,
};
use support::{captured_output, Dir};

/// Loads workflow `name` from `dir` (it must be valid).
fn workflow(dir: &Dir, name: &str) -> Workflow {
    let loaded = load(dir.path());
    assert!(loaded.problems.is_empty(), "{:#?}", loaded.problems);
    loaded.find(name).unwrap().clone()
}

/// Runs `workflow` with `options`, capturing output. Returns the outcome, every failure passed to
/// the callback, stdout and stderr.
fn run(
    workflow: &Workflow,
    options: &RunOptions,
) -> (RunOutcome, Vec<NodeFailure>, String, String) {
    let (output, stdout, stderr) = captured_output();
    let mut failures = Vec::new();
    let outcome = run_with_output(workflow, options, &output, &mut |f: &NodeFailure| {
        failures.push(f.clone())
    });
    (outcome, failures, stdout.text(), stderr.text())
}

fn options(dir: &Dir) -> RunOptions {
    RunOptions::new(dir.path(), Provider::Claude)
}

#[test]
fn nodes_run_after_their_dependencies_in_declaration_order_otherwise() {
    let dir = Dir::new();
    dir.workflow(
        "w.yaml",
        r#"
name: w
nodes:
  - {id: report, depends_on: [test, lint], bash: echo report >> log}
  - {id: test, depends_on: [build], bash: echo test >> log}
  - {id: lint, bash: echo lint >> log}
  - {id: build, bash: echo build >> log}
"#,
    );
    let (outcome, failures, _, _) = run(&workflow(&dir, "w"), &options(&dir));
    assert_eq!(dir.read("log"), "lint\nbuild\ntest\nreport\n");
    assert!(failures.is_empty());
    assert_eq!(
        outcome,
        RunOutcome {
            node_count: 4,
            nodes_completed: 4,
            failed: None
        }
    );
}

#[test]
fn output_is_prefixed_with_the_node_id_and_each_node_has_status_lines() {
    let dir = Dir::new();
    dir.workflow(
        "w.yaml",
        "name: w\nnodes:\n  - id: build\n    bash: |\n      echo one\n      echo two >&2\n      printf 'no newline'\n",
    );
    let (outcome, _, stdout, stderr) = run(&workflow(&dir, "w"), &options(&dir));
    assert!(outcome.succeeded());
    assert_eq!(stdout, "[build] one\n[build] no newline\n");
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines[0], "==> build (bash)");
    assert_eq!(lines[1], "[build] two");
    assert!(
        lines[2].starts_with("<== build done (") && lines[2].ends_with("s)"),
        "{stderr}"
    );
    assert_eq!(lines.len(), 3, "{stderr}");
}

#[test]
fn a_failing_node_stops_the_workflow() {
    let dir = Dir::new();
    dir.workflow(
        "w.yaml",
        r#"
name: w
nodes:
  - {id: first, bash: touch first}
  - {id: broken, bash: "echo oops >&2; exit 3"}
  - {id: after, bash: touch after}
"#,
    );
    let (outcome, failures, _, stderr) = run(&workflow(&dir, "w"), &options(&dir));
    let expected = NodeFailure {
        node_id: "broken".into(),
        kind: NodeKind::Bash,
        failure: FailureKind::NodeFailed,
        retryability: Retryability::Fatal,
        message: "exit code 3".into(),
    };
    assert_eq!(failures, std::slice::from_ref(&expected));
    assert_eq!(
        outcome,
        RunOutcome {
            node_count: 3,
            nodes_completed: 1,
            failed: Some(expected)
        }
    );
    assert!(dir.exists("first"));
    assert!(!dir.exists("after"), "a node after the failure ran");
    assert!(
        stderr.contains("[broken] oops\n<== broken failed: exit code 3\n"),
        "{stderr}"
    );
    assert!(!stderr.contains("==> after"), "{stderr}");
}

#[test]
fn continue_on_error_reports_the_failure_and_goes_on_to_the_dependents() {
    let dir = Dir::new();
    dir.workflow(
        "w.yaml",
        r#"
name: w
nodes:
  - {id: flaky, continue_on_error: true, bash: exit 1}
  - {id: dependent, depends_on: [flaky], bash: touch dependent}
"#,
    );
    let (outcome, failures, _, stderr) = run(&workflow(&dir, "w"), &options(&dir));
    assert_eq!(failures.len(), 1);
    assert_eq!(failures[0].node_id, "flaky");
    assert!(outcome.succeeded());
    assert_eq!(
        outcome.nodes_completed, 1,
        "the failed node did not complete"
    );
    assert!(dir.exists("dependent"));
    assert!(
        stderr.contains("<== flaky failed: exit code 1 (continue_on_error: the workflow goes on)"),
        "{stderr}"
    );
}

#[test]
fn the_message_reaches_bash_nodes_as_archon_message() {
    let dir = Dir::new();
    dir.workflow(
        "w.yaml",
        "name: w\nnodes:\n  - {id: a, bash: 'printf %s \"$ARCHON_MESSAGE\" > message; printf %s \"$ARGUMENTS\" > arguments'}\n",
    );
    let workflow = workflow(&dir, "w");
    let message = "fix issue #12; rm -rf / $(whoami) 'quoted'";
    let (outcome, ..) = run(
        &workflow,
        &RunOptions {
            message: Some(message.into()),
            ..options(&dir)
        },
    );
    assert!(outcome.succeeded());
    assert_eq!(dir.read("message"), message);
    assert_eq!(dir.read("arguments"), "", "$ARGUMENTS is for prompts only");

    let (outcome, ..) = run(&workflow, &options(&dir));
    assert!(outcome.succeeded());
    assert_eq!(dir.read("message"), "", "no message is the empty string");
}

#[test]
fn bash_nodes_run_in_the_working_directory_with_empty_stdin() {
    let dir = Dir::new();
    dir.workflow(
        "w.yaml",
        "name: w\nnodes:\n  - {id: a, bash: 'pwd > where; cat > stdin'}\n",
    );
    let (outcome, ..) = run(&workflow(&dir, "w"), &options(&dir));
    assert!(outcome.succeeded());
    let where_ = std::fs::canonicalize(dir.read("where").trim()).unwrap();
    assert_eq!(where_, std::fs::canonicalize(dir.path()).unwrap());
    assert_eq!(dir.read("stdin"), "");
}

#[test]
fn a_prompt_node_runs_claude_with_dash_p_and_the_message_in_place_of_arguments() {
    let dir = Dir::new();
    let claude = dir.fake_assistant("claude", "echo 'the answer'");
    dir.workflow(
        "w.yaml",
        "name: w\nnodes:\n  - id: ask\n    prompt: |\n      Explain $ARGUMENTS.\n      Then explain $ARGUMENTS again.\n",
    );
    let mut options = RunOptions {
        message: Some("the build".into()),
        ..options(&dir)
    };
    options.assistant_programs.insert(Provider::Claude, claude);
    let (outcome, failures, stdout, stderr) = run(&workflow(&dir, "w"), &options);

    assert!(failures.is_empty(), "{failures:?}");
    assert!(outcome.succeeded());
    assert_eq!(
        dir.fake_args("claude"),
        ["-p", "Explain the build.\nThen explain the build again.\n"]
    );
    assert_eq!(dir.read("claude.message"), "the build");
    assert_eq!(stdout, "[ask] the answer\n");
    assert!(stderr.starts_with("==> ask (prompt, claude)\n"), "{stderr}");
}

#[test]
fn a_command_node_sends_the_prompt_file_and_the_workflow_provider_wins() {
    let dir = Dir::new();
    let codex = dir.fake_assistant("codex", "");
    dir.command("review", "Review $ARGUMENTS carefully.");
    dir.workflow(
        "w.yaml",
        "name: w\nprovider: codex\nnodes:\n  - {id: r, command: review}\n",
    );
    let mut options = RunOptions {
        message: Some("main".into()),
        ..options(&dir) // default provider: claude
    };
    options.assistant_programs.insert(Provider::Codex, codex);
    let (outcome, _, _, stderr) = run(&workflow(&dir, "w"), &options);
    assert!(outcome.succeeded(), "{stderr}");
    assert_eq!(dir.fake_args("codex"), ["exec", "Review main carefully."]);
    assert!(
        stderr.starts_with("==> r (command review, codex)\n"),
        "{stderr}"
    );
}

#[test]
fn a_bundled_workflow_runs_with_a_fake_assistant() {
    let dir = Dir::new();
    let claude = dir.fake_assistant("claude", "");
    let mut options = RunOptions {
        message: Some("where are the tests?".into()),
        ..options(&dir)
    };
    options.assistant_programs.insert(Provider::Claude, claude);
    let (outcome, ..) = run(&workflow(&dir, "archon-assist"), &options);
    assert!(outcome.succeeded());
    let args = dir.fake_args("claude");
    assert_eq!(args[0], "-p");
    assert!(
        args[1].contains("Request: where are the tests?"),
        "{}",
        args[1]
    );
}

#[test]
fn a_missing_assistant_fails_the_node_saying_what_to_install() {
    let dir = Dir::new();
    dir.workflow(
        "w.yaml",
        "name: w\nnodes:\n  - {id: ask, prompt: hi}\n  - {id: after, bash: touch after}\n",
    );
    let mut options = options(&dir);
    options.assistant_programs.insert(
        Provider::Claude,
        dir.path().join("bin/claude-not-installed"),
    );
    let (outcome, failures, _, stderr) = run(&workflow(&dir, "w"), &options);

    let failure = outcome.failed.expect("the run failed");
    assert_eq!(failure.failure, FailureKind::AssistantNotInstalled);
    assert_eq!(failure.kind, NodeKind::Prompt);
    assert_eq!(failure.retryability, Retryability::Fatal);
    assert!(
        failure
            .message
            .contains("npm install -g @anthropic-ai/claude-code"),
        "{}",
        failure.message
    );
    assert_eq!(failures, [failure]);
    assert!(!dir.exists("after"));
    assert!(stderr.contains("<== ask failed: "), "{stderr}");
}

#[test]
fn an_out_of_credit_assistant_is_credit_exhausted() {
    let dir = Dir::new();
    let claude = dir.fake_assistant(
        "claude",
        "echo 'Error: Credit balance is too low' >&2; exit 1",
    );
    dir.workflow("w.yaml", "name: w\nnodes:\n  - {id: ask, prompt: hi}\n");
    let mut options = options(&dir);
    options.assistant_programs.insert(Provider::Claude, claude);
    let (outcome, ..) = run(&workflow(&dir, "w"), &options);
    let failure = outcome.failed.unwrap();
    assert_eq!(failure.failure, FailureKind::NodeFailed);
    assert_eq!(failure.retryability, Retryability::CreditExhausted);
    assert_eq!(failure.message, "exit code 1");
}

#[test]
fn a_rate_limited_assistant_and_a_timeout_are_transient() {
    let dir = Dir::new();
    let claude = dir.fake_assistant("claude", "echo 'API Error: rate limit exceeded'; exit 1");
    dir.workflow(
        "w.yaml",
        "name: w\nnodes:\n  - {id: ask, prompt: hi, continue_on_error: true}\n  - {id: slow, bash: exit 124}\n",
    );
    let mut options = options(&dir);
    options.assistant_programs.insert(Provider::Claude, claude);
    let (_, failures, ..) = run(&workflow(&dir, "w"), &options);
    let classes: Vec<_> = failures
        .iter()
        .map(|f| (f.node_id.as_str(), f.kind, f.retryability))
        .collect();
    assert_eq!(
        classes,
        [
            ("ask", NodeKind::Prompt, Retryability::Transient),
            ("slow", NodeKind::Bash, Retryability::Transient)
        ]
    );
}

#[test]
fn a_node_killed_by_a_signal_is_interrupted() {
    let dir = Dir::new();
    dir.workflow(
        "w.yaml",
        "name: w\nnodes:\n  - {id: a, bash: 'kill -9 $$'}\n",
    );
    let (outcome, ..) = run(&workflow(&dir, "w"), &options(&dir));
    let failure = outcome.failed.unwrap();
    assert_eq!(failure.failure, FailureKind::Interrupted);
    assert_eq!(failure.message, "killed by signal 9");
}

#[test]
fn raising_the_interrupt_flag_stops_the_running_node_promptly() {
    let dir = Dir::new();
    dir.workflow(
        "w.yaml",
        "name: w\nnodes:\n  - {id: long, bash: 'sleep 30', continue_on_error: true}\n  - {id: after, bash: touch after}\n",
    );
    let flag = Arc::new(AtomicBool::new(false));
    let options = RunOptions {
        interrupt: Some(Arc::clone(&flag)),
        ..options(&dir)
    };
    let raiser = {
        let flag = Arc::clone(&flag);
        std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(300));
            flag.store(true, std::sync::atomic::Ordering::SeqCst);
        })
    };
    let started = Instant::now();
    let (outcome, failures, ..) = run(&workflow(&dir, "w"), &options);
    raiser.join().unwrap();

    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    let failure = outcome.failed.unwrap();
    assert_eq!(failure.node_id, "long");
    assert_eq!(failure.failure, FailureKind::Interrupted);
    assert_eq!(
        failures.len(),
        1,
        "continue_on_error does not outlive an interruption"
    );
    assert!(!dir.exists("after"));
}

#[test]
fn a_node_whose_background_child_keeps_the_output_open_does_not_hang_the_run() {
    let dir = Dir::new();
    dir.workflow(
        "w.yaml",
        "name: w\nnodes:\n  - {id: a, bash: 'sleep 20 & echo started'}\n  - {id: b, bash: touch b}\n",
    );
    let started = Instant::now();
    let (outcome, ..) = run(&workflow(&dir, "w"), &options(&dir));
    assert!(outcome.succeeded());
    assert!(dir.exists("b"));
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_working_directory_that_does_not_exist_fails_the_node_without_panicking() {
    let dir = Dir::new();
    dir.workflow("w.yaml", "name: w\nnodes:\n  - {id: a, bash: 'true'}\n");
    let workflow = workflow(&dir, "w");
    let options = RunOptions::new(dir.path().join("gone"), Provider::Claude);
    let (outcome, ..) = run(&workflow, &options);
    let failure = outcome.failed.unwrap();
    assert_eq!(failure.failure, FailureKind::StartFailed);
    assert!(
        failure.message.contains("does not exist"),
        "{}",
        failure.message
    );
}

#[test]
fn an_unvalidated_workflow_with_a_cycle_runs_nothing() {
    let dir = Dir::new();
    dir.workflow(
        "w.yaml",
        "name: w\nnodes:\n  - {id: a, bash: touch a}\n  - {id: b, bash: touch b}\n",
    );
    let mut workflow = workflow(&dir, "w");
    workflow.nodes[0].depends_on = vec!["b".into()];
    workflow.nodes[1].depends_on = vec!["a".into()];
    let (outcome, failures, ..) = run(&workflow, &options(&dir));
    assert_eq!(outcome.nodes_completed, 0);
    assert_eq!(outcome.failed.unwrap().failure, FailureKind::StartFailed);
    assert_eq!(failures.len(), 1);
    assert!(!dir.exists("a") && !dir.exists("b"));
}

/// Counts the nodes it hears are running; when told, it creates `go` in `dir`.
struct Observer {
    go: std::path::PathBuf,
    running: usize,
    failed: usize,
}

impl RunObserver for Observer {
    fn node_running(&mut self) {
        self.running += 1;
        std::fs::write(&self.go, "").unwrap();
    }

    fn node_failed(&mut self, _failure: &NodeFailure) {
        self.failed += 1;
    }
}

#[test]
fn the_observer_hears_of_each_node_while_its_process_runs() {
    let dir = Dir::new();
    // Each node waits (up to 10 s) for the file the observer writes when told the node runs, so
    // a call made only after the node ended would fail the node.
    let wait_for_go = "for i in $(seq 1000); do [ -f go ] && break; sleep 0.01; done; rm go";
    dir.workflow(
        "w.yaml",
        &format!(
            "name: w\nnodes:\n  - {{id: one, bash: '{wait_for_go}'}}\n  - {{id: two, depends_on: [one], bash: '{wait_for_go}'}}\n  - {{id: ask, depends_on: [two], prompt: hi, continue_on_error: true}}\n"
        ),
    );
    let mut options = options(&dir);
    options.assistant_programs.insert(
        Provider::Claude,
        dir.path().join("bin/claude-not-installed"),
    );
    let mut observer = Observer {
        go: dir.path().join("go"),
        running: 0,
        failed: 0,
    };
    let (output, _, stderr) = captured_output();
    let outcome = run_with_output(&workflow(&dir, "w"), &options, &output, &mut observer);

    assert_eq!(outcome.nodes_completed, 2, "{}", stderr.text());
    // The assistant that is not installed never ran: a failure, not a running node.
    assert_eq!((observer.running, observer.failed), (2, 1));
}
