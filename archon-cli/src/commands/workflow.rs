//! `archon workflow list` and `archon workflow run`, and the workflow events.
//!
//! What telemetry learns about a run: the workflow's name only if it is one of archon's
//! bundled workflows (anything else is `user-defined`), node counts, node types, durations and
//! failure categories. Never the message, the cwd, node ids, output or error text.

use super::setup::{ASSISTANT_KEY, ASSISTANT_SECTION};
use super::CommandError;
use crate::cli::{ListArgs, RunArgs, WorkflowCommand};
use crate::exit;
use crate::output::{errln, outln};
use crate::session::Session;
use archon_workflows::{
    self as workflows, FailureKind, NodeFailure, NodeKind, Retryability, Source, Workflow,
};
use std::path::{Path, PathBuf};
use std::time::Instant;
use telemetry_runtime::Environment;
use telemetry_schema::{
    DurationMs, ErrorClass, ErrorClassification, NodeType, Provider, WorkflowName,
    WorkflowNodeFailed, WorkflowRunCompleted, WorkflowRunFailed, WorkflowRunStarted,
};

/// Runs one `archon workflow` subcommand.
pub fn run(command: WorkflowCommand, session: &Session) -> Result<i32, CommandError> {
    match command {
        WorkflowCommand::List(args) => list(&args),
        WorkflowCommand::Run(args) => run_workflow(&args, session),
    }
}

fn working_dir(cwd: Option<&Path>) -> Result<PathBuf, CommandError> {
    match cwd {
        Some(dir) if dir.is_dir() => Ok(dir.to_owned()),
        Some(dir) => Err(CommandError::usage(
            ErrorClass::Io,
            format!("--cwd {}: no such directory", dir.display()),
        )),
        None => std::env::current_dir().map_err(|e| {
            CommandError::failed(
                ErrorClass::Io,
                format!("the current directory cannot be read: {e}"),
            )
        }),
    }
}

fn list(args: &ListArgs) -> Result<i32, CommandError> {
    let cwd = working_dir(args.cwd.as_deref())?;
    let loaded = workflows::load(&cwd);
    let width = loaded
        .workflows
        .iter()
        .map(|w| w.name.len())
        .max()
        .unwrap_or(0);
    for workflow in &loaded.workflows {
        let from = match &workflow.source {
            Source::Bundled => "bundled".to_owned(),
            Source::File(path) => path
                .strip_prefix(&cwd)
                .unwrap_or(path)
                .display()
                .to_string(),
        };
        outln!(
            "{:width$}  {}  [{from}]",
            workflow.name,
            workflow.description
        )?;
    }
    if loaded.workflows.is_empty() {
        outln!("No workflows found.")?;
    }
    for problem in &loaded.problems {
        errln!("error: {problem}");
    }
    Ok(if loaded.problems.is_empty() {
        exit::SUCCESS
    } else {
        exit::USAGE
    })
}

fn run_workflow(args: &RunArgs, session: &Session) -> Result<i32, CommandError> {
    let cwd = working_dir(args.cwd.as_deref())?;
    let loaded = workflows::load(&cwd);
    let workflow = loaded.find(&args.name).map_err(|error| {
        let class = match error {
            workflows::FindError::Invalid(_) => ErrorClass::WorkflowInvalid,
            workflows::FindError::NotFound { .. } => ErrorClass::WorkflowNotFound,
        };
        CommandError::usage(class, error.to_string())
    })?;
    // Other files that do not load are not this workflow's problem, but worth knowing about.
    for problem in &loaded.problems {
        errln!("warning: {problem}");
    }

    let default_provider = default_provider(session.environment());
    let provider = workflow.provider.unwrap_or(default_provider);
    let name = telemetry_name(workflow);
    let started = Instant::now();
    // Before anything is written: from here a signal only asks the workflow to stop.
    session.workflow_started();
    session.record(&WorkflowRunStarted {
        workflow_name: name,
        node_count: count(workflow.nodes.len()),
        provider: telemetry_provider(provider),
        is_cli_invoked: true,
    });

    let options = workflows::RunOptions {
        cwd,
        message: args.message.clone(),
        default_provider,
        interrupt: Some(session.interrupt_flag()),
        ..workflows::RunOptions::default()
    };
    let outcome = workflows::run(
        workflow,
        &options,
        &mut RunTelemetry {
            session,
            name,
            provider: telemetry_provider(provider),
        },
    );

    let code = match &outcome.failed {
        None => {
            session.record(&WorkflowRunCompleted {
                workflow_name: name,
                duration_ms: DurationMs::since(started),
                node_count: outcome.node_count,
                nodes_completed: outcome.nodes_completed,
            });
            errln!(
                "workflow {} completed: {}/{} nodes",
                workflow.name,
                outcome.nodes_completed,
                outcome.node_count
            );
            exit::SUCCESS
        }
        Some(failure) => {
            session.record(&WorkflowRunFailed {
                workflow_name: name,
                error_class: error_class(failure.failure),
                failed_node_type: Some(node_type(failure.kind)),
                duration_ms: DurationMs::since(started),
            });
            errln!(
                "workflow {} failed at node {}: {}",
                workflow.name,
                failure.node_id,
                failure.message
            );
            exit::FAILURE
        }
    };
    // A signal that came while the workflow ran (even after its last node ended, which the
    // runner no longer saw) decides the exit code; one that comes later still ends archon once
    // everything is written (see `Session::end_if_interrupted`).
    Ok(session.interrupted_code().unwrap_or(code))
}

/// What a run tells telemetry while it goes on.
struct RunTelemetry<'a> {
    session: &'a Session,
    name: WorkflowName,
    provider: Provider,
}

impl workflows::RunObserver for RunTelemetry<'_> {
    /// While a node's process runs, archon only waits: the events recorded so far are written
    /// then, so that a process killed mid-workflow does not take them with it, without the run
    /// waiting for the write.
    fn node_running(&mut self) {
        self.session.write_pending();
    }

    fn node_failed(&mut self, failure: &NodeFailure) {
        self.session.record(&WorkflowNodeFailed {
            workflow_name: self.name,
            node_type: node_type(failure.kind),
            error_classification: classification(failure.retryability),
            provider: self.provider,
        });
    }
}

/// The workflow's name as telemetry may send it: a bundled workflow by name, every other one
/// (including a user's file that reuses a bundled name) as `user-defined`.
pub fn telemetry_name(workflow: &Workflow) -> WorkflowName {
    match workflow.source {
        Source::Bundled => WorkflowName::sanitize(&workflow.name),
        Source::File(_) => WorkflowName::user_defined(),
    }
}

/// The default assistant from config.yaml (`assistant.default`), else Claude. A config file
/// that cannot be read does not stop a workflow.
fn default_provider(env: &Environment) -> workflows::Provider {
    let Some(home) = env.archon_home() else {
        return workflows::Provider::Claude;
    };
    let config = home.join("config.yaml");
    match telemetry_runtime::config::read_word(&config, ASSISTANT_SECTION, ASSISTANT_KEY) {
        Ok(Some(name)) => name.parse().unwrap_or_else(|_| {
            errln!(
                "warning: {}: {ASSISTANT_SECTION}.{ASSISTANT_KEY} is neither claude nor codex; using claude (`archon setup --assistant` sets it)",
                config.display()
            );
            workflows::Provider::Claude
        }),
        Ok(None) => workflows::Provider::Claude,
        Err(error) => {
            errln!("warning: {error}; using claude as the assistant");
            workflows::Provider::Claude
        }
    }
}

fn count(n: usize) -> u32 {
    u32::try_from(n).unwrap_or(u32::MAX)
}

fn telemetry_provider(provider: workflows::Provider) -> Provider {
    match provider {
        workflows::Provider::Claude => Provider::Claude,
        workflows::Provider::Codex => Provider::Codex,
    }
}

fn node_type(kind: NodeKind) -> NodeType {
    match kind {
        NodeKind::Bash => NodeType::Bash,
        NodeKind::Prompt => NodeType::Prompt,
        NodeKind::Command => NodeType::Command,
    }
}

fn classification(retryability: Retryability) -> ErrorClassification {
    match retryability {
        Retryability::Transient => ErrorClassification::Transient,
        Retryability::Fatal => ErrorClassification::Fatal,
        Retryability::CreditExhausted => ErrorClassification::CreditExhausted,
    }
}

fn error_class(failure: FailureKind) -> ErrorClass {
    match failure {
        FailureKind::NodeFailed => ErrorClass::NodeFailed,
        FailureKind::AssistantNotInstalled => ErrorClass::AssistantNotInstalled,
        FailureKind::StartFailed => ErrorClass::Io,
        FailureKind::Interrupted => ErrorClass::Interrupted,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bundled_workflows_are_exactly_the_names_telemetry_lets_through() {
        assert_eq!(
            workflows::BUNDLED_WORKFLOW_NAMES,
            telemetry_schema::BUNDLED_WORKFLOWS
        );
        let loaded = workflows::load(Path::new("/nonexistent-archon-test-dir"));
        for workflow in &loaded.workflows {
            assert_eq!(workflow.source, Source::Bundled);
            assert!(
                !telemetry_name(workflow).is_user_defined(),
                "{}",
                workflow.name
            );
            assert_eq!(
                telemetry_schema::TelemetryEnum::as_str(&telemetry_name(workflow)),
                workflow.name
            );
        }
    }

    #[test]
    fn a_user_file_with_a_bundled_name_is_user_defined() {
        let workflow = Workflow {
            name: "archon-assist".into(),
            description: String::new(),
            provider: None,
            nodes: Vec::new(),
            source: Source::File("/home/me/.archon/workflows/archon-assist.yaml".into()),
        };
        assert!(telemetry_name(&workflow).is_user_defined());
    }
}
