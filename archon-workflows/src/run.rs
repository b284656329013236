//! Running a workflow: its nodes one at a time, in dependency order.
//!
//! Nodes run sequentially, never in parallel, even when they are independent: the order is the
//! dependency order with ties broken by declaration order (see `graph.rs`), so a run is the same
//! every time and each node's output stays together on the terminal instead of interleaving with
//! another's. Parallel runs of independent nodes would be a change to this module only.

use std::ffi::OsString;
use std::path::PathBuf;
use std::process::Command;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Instant;

use crate::assistant::{self, AssistantPrograms};
use crate::commands;
use crate::failure::{self, FailureKind, NodeFailure, Retryability};
use crate::graph::{self, OrderError};
use crate::model::{Node, NodeKind, Provider, Workflow};
use crate::output::Output;
use crate::process::{self, Exit};
use crate::text::printable;

/// The text in prompts that the run's message replaces.
pub const ARGUMENTS_PLACEHOLDER: &str = "$ARGUMENTS";

/// The environment variable that carries the run's message to bash nodes (and to the assistants).
pub const MESSAGE_ENV: &str = "ARCHON_MESSAGE";

/// Exit codes a shell reports for a child killed by SIGINT (Ctrl-C) and SIGTERM: 128 + signal.
const SHELL_INTERRUPTED_CODES: [i32; 2] = [130, 143];

/// How to run a workflow.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The directory nodes run in, and where `command:` prompts are looked up.
    pub cwd: PathBuf,
    /// The message (`archon workflow run <name> [message]`): replaces `$ARGUMENTS` in prompts and
    /// is `ARCHON_MESSAGE` in every node's environment. `None` is the empty string.
    pub message: Option<String>,
    /// The assistant for AI nodes when the workflow names none.
    pub default_provider: Provider,
    /// Programs to run instead of `claude` / `codex` from `PATH`.
    pub assistant_programs: AssistantPrograms,
    /// When set and raised (a Ctrl-C or SIGTERM handler, say), the running node is sent
    /// SIGTERM (and killed if it has not ended within 5 s), no further node starts, and the run
    /// ends with a [`FailureKind::Interrupted`] failure.
    pub interrupt: Option<Arc<AtomicBool>>,
}

/// Runs in the current directory (`.`) with Claude as the default assistant, no message, no
/// program overrides and no interrupt flag. Callers set at least `cwd`:
/// `RunOptions { cwd, ..RunOptions::default() }`.
impl Default for RunOptions {
    fn default() -> RunOptions {
        RunOptions::new(".", Provider::Claude)
    }
}

impl RunOptions {
    /// Options with no message, no program overrides and no interrupt flag.
    pub fn new(cwd: impl Into<PathBuf>, default_provider: Provider) -> RunOptions {
        RunOptions {
            cwd: cwd.into(),
            message: None,
            default_provider,
            assistant_programs: AssistantPrograms::new(),
            interrupt: None,
        }
    }

    fn message(&self) -> &str {
        self.message.as_deref().unwrap_or("")
    }

    fn interrupted(&self) -> bool {
        self.interrupt
            .as_ref()
            .is_some_and(|flag| flag.load(Ordering::SeqCst))
    }
}

/// How a run went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunOutcome {
    /// Number of nodes in the workflow.
    pub node_count: u32,
    /// Number of nodes that ran and succeeded.
    pub nodes_completed: u32,
    /// The failure that stopped the run; `None` when the run went to the end (nodes with
    /// `continue_on_error` may have failed on the way: the observer heard of them).
    pub failed: Option<NodeFailure>,
}

impl RunOutcome {
    /// Whether the run went to the end.
    pub fn succeeded(&self) -> bool {
        self.failed.is_none()
    }
}

/// What the caller of [`run`] hears while the workflow runs.
///
/// A closure taking a [`NodeFailure`] is an observer that hears only of failures.
pub trait RunObserver {
    /// A node's process has started and the run is about to wait for it: time the caller can
    /// use without making the run longer (archon writes its pending telemetry events here).
    /// Called once per node that starts a process.
    fn node_running(&mut self) {}

    /// A node failed; called as it fails.
    fn node_failed(&mut self, failure: &NodeFailure);
}

impl<F: FnMut(&NodeFailure)> RunObserver for F {
    fn node_failed(&mut self, failure: &NodeFailure) {
        self(failure)
    }
}

/// Runs `workflow`, writing node output and status lines to the terminal. See [`run_with_output`].
pub fn run(
    workflow: &Workflow,
    options: &RunOptions,
    observer: &mut dyn RunObserver,
) -> RunOutcome {
    run_with_output(workflow, options, &Output::terminal(), observer)
}

/// Runs `workflow`: its nodes one at a time, each after its dependencies. A node that fails stops
/// the run, unless it has `continue_on_error` (then the nodes after it, its dependents included,
/// still run). `observer` hears of each node's process once it runs, and of each failed node as
/// it fails.
///
/// Writes, to `output`: each node's stdout and stderr, every line prefixed `[<node id>] `, and
/// to stderr a line when a node starts (`==> build (bash)`) and one when it ends
/// (`<== build done (0.4s)`, `<== build failed: exit code 3`).
///
/// Never panics, and never fails as a whole: a node that cannot start is a failed node. A
/// workflow that was not validated and has no possible order (a cycle, an unknown dependency)
/// fails on its first node with [`FailureKind::StartFailed`], running nothing.
pub fn run_with_output(
    workflow: &Workflow,
    options: &RunOptions,
    output: &Output,
    observer: &mut dyn RunObserver,
) -> RunOutcome {
    let mut outcome = RunOutcome {
        node_count: u32::try_from(workflow.nodes.len()).unwrap_or(u32::MAX),
        nodes_completed: 0,
        failed: None,
    };
    let order = match graph::execution_order(&workflow.nodes) {
        Ok(order) => order,
        Err(error) => {
            let Some(first) = workflow.nodes.first() else {
                return outcome;
            };
            let problem = match error {
                OrderError::UnknownDependency { node, dependency } => {
                    format!("node `{node}` depends on unknown node `{dependency}`")
                }
                OrderError::Cycle(cycle) => format!("dependency cycle: {}", cycle.join(" -> ")),
            };
            let failure = failure_of(
                first,
                FailureKind::StartFailed,
                Retryability::Fatal,
                problem,
            );
            report_failure(output, &failure, false);
            observer.node_failed(&failure);
            outcome.failed = Some(failure);
            return outcome;
        }
    };

    let provider = workflow.provider_or(options.default_provider);
    for index in order {
        let node = &workflow.nodes[index];
        if options.interrupted() {
            let failure = failure_of(
                node,
                FailureKind::Interrupted,
                Retryability::Transient,
                "interrupted before it started".into(),
            );
            report_failure(output, &failure, false);
            observer.node_failed(&failure);
            outcome.failed = Some(failure);
            break;
        }

        output.status(&format!(
            "==> {} ({})",
            printable(&node.id),
            describe(node, provider)
        ));
        let started = Instant::now();
        match run_node(node, provider, options, output, &mut || {
            observer.node_running()
        }) {
            Ok(()) => {
                outcome.nodes_completed += 1;
                output.status(&format!(
                    "<== {} done ({:.1}s)",
                    printable(&node.id),
                    started.elapsed().as_secs_f64()
                ));
            }
            Err(failure) => {
                // An interruption stops the run whatever the node says: the user asked to stop.
                let goes_on = node.continue_on_error && failure.failure != FailureKind::Interrupted;
                report_failure(output, &failure, goes_on);
                observer.node_failed(&failure);
                if !goes_on {
                    outcome.failed = Some(failure);
                    break;
                }
            }
        }
    }
    outcome
}

/// What the start line says about a node: `bash`, `prompt, claude`, `command review, claude`.
fn describe(node: &Node, provider: Provider) -> String {
    match node.kind {
        NodeKind::Bash => "bash".into(),
        NodeKind::Prompt => format!("prompt, {provider}"),
        NodeKind::Command => format!("command {}, {provider}", printable(&node.action)),
    }
}

fn report_failure(output: &Output, failure: &NodeFailure, goes_on: bool) {
    let id = printable(&failure.node_id);
    let message = printable(&failure.message);
    output.status(&if goes_on {
        format!("<== {id} failed: {message} (continue_on_error: the workflow goes on)")
    } else {
        format!("<== {id} failed: {message}")
    });
}

fn failure_of(
    node: &Node,
    failure: FailureKind,
    retryability: Retryability,
    message: String,
) -> NodeFailure {
    NodeFailure {
        node_id: node.id.clone(),
        kind: node.kind,
        failure,
        retryability,
        message,
    }
}

/// Runs one node to its end.
fn run_node(
    node: &Node,
    provider: Provider,
    options: &RunOptions,
    output: &Output,
    running: &mut dyn FnMut(),
) -> Result<(), NodeFailure> {
    let fail =
        |failure, retryability, message| Err(failure_of(node, failure, retryability, message));

    // What to run: `sh -c <script>`, or the assistant with the prompt.
    let (program, args): (PathBuf, Vec<OsString>) = match node.kind {
        NodeKind::Bash => ("sh".into(), vec!["-c".into(), node.action.clone().into()]),
        NodeKind::Prompt | NodeKind::Command => {
            let prompt = match node.kind {
                NodeKind::Command => match commands::read(&options.cwd, &node.action) {
                    Ok(text) => text,
                    Err(message) => {
                        return fail(FailureKind::NodeFailed, Retryability::Fatal, message)
                    }
                },
                _ => node.action.clone(),
            };
            let prompt = prompt.replace(ARGUMENTS_PLACEHOLDER, options.message());
            match assistant::find_assistant(provider, &options.assistant_programs) {
                Ok(program) => (program, provider.prompt_args(&prompt)),
                Err(message) => {
                    return fail(
                        FailureKind::AssistantNotInstalled,
                        Retryability::Fatal,
                        message,
                    )
                }
            }
        }
    };

    let mut command = Command::new(&program);
    command
        .args(&args)
        .current_dir(&options.cwd)
        .env(MESSAGE_ENV, options.message());
    let prefix = format!("[{}] ", printable(&node.id));
    let finished = match process::run(
        command,
        &prefix,
        output,
        options.interrupt.as_deref(),
        running,
    ) {
        Ok(finished) => finished,
        Err(error) => {
            let program = program.display();
            // The program vanished between the PATH lookup and now: still "not installed".
            if node.kind.uses_assistant() && error.kind() == std::io::ErrorKind::NotFound {
                return fail(
                    FailureKind::AssistantNotInstalled,
                    Retryability::Fatal,
                    format!("could not start `{program}`: {error}"),
                );
            }
            if !options.cwd.is_dir() {
                return fail(
                    FailureKind::StartFailed,
                    Retryability::Fatal,
                    format!("the directory {} does not exist", options.cwd.display()),
                );
            }
            return fail(
                FailureKind::StartFailed,
                Retryability::Fatal,
                format!("could not start `{program}`: {error}"),
            );
        }
    };

    match finished.exit {
        Exit::Code(0) => Ok(()),
        Exit::Code(code) if SHELL_INTERRUPTED_CODES.contains(&code) => fail(
            FailureKind::Interrupted,
            Retryability::Transient,
            format!("exit code {code} (interrupted)"),
        ),
        Exit::Code(code) => fail(
            FailureKind::NodeFailed,
            failure::retryability(Some(code), &finished.output_tail),
            format!("exit code {code}"),
        ),
        Exit::Signal(signal) => fail(
            FailureKind::Interrupted,
            Retryability::Transient,
            format!("killed by signal {signal}"),
        ),
        Exit::Interrupted => fail(
            FailureKind::Interrupted,
            Retryability::Transient,
            "interrupted".into(),
        ),
        Exit::Unknown => fail(
            FailureKind::NodeFailed,
            failure::retryability(None, &finished.output_tail),
            "the process ended without an exit status".into(),
        ),
    }
}
