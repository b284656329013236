use crate::{telemetry_event, DurationMs, ErrorClass, TelemetryEnum, WorkflowName};

/// A workflow execution begins.
#[telemetry_event(name = "workflow.run_started")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowRunStarted {
    /// Bundled workflow name, or `user-defined` for any other workflow.
    pub workflow_name: WorkflowName,
    /// Number of nodes in the workflow.
    pub node_count: u32,
    /// The assistant for the workflow's AI nodes: the workflow's own `provider`, else the
    /// default assistant (sent even when the workflow has no AI node).
    pub provider: Provider,
    /// True when started from the command line (`archon workflow run`). This version of archon
    /// starts workflows from nowhere else, so it is always true.
    pub is_cli_invoked: bool,
}

/// A workflow finishes and every node that had to succeed succeeded.
#[telemetry_event(name = "workflow.run_completed")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowRunCompleted {
    /// Bundled workflow name, or `user-defined` for any other workflow.
    pub workflow_name: WorkflowName,
    /// How long the workflow ran, in milliseconds.
    pub duration_ms: DurationMs,
    /// Number of nodes in the workflow.
    pub node_count: u32,
    /// Number of nodes that completed successfully.
    pub nodes_completed: u32,
}

/// A workflow stops because something failed.
#[telemetry_event(name = "workflow.run_failed")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowRunFailed {
    /// Bundled workflow name, or `user-defined` for any other workflow.
    pub workflow_name: WorkflowName,
    /// What kind of failure stopped the workflow (a category, never the error message).
    pub error_class: ErrorClass,
    /// The type of the node that failed (when archon was interrupted: the node that was running
    /// or about to run). This version of archon always sets it; `null` is kept for a failure
    /// outside any node.
    pub failed_node_type: Option<NodeType>,
    /// How long the workflow ran before it failed, in milliseconds.
    pub duration_ms: DurationMs,
}

/// A node of a workflow fails, whether or not the workflow continues.
#[telemetry_event(name = "workflow.node_failed")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowNodeFailed {
    /// Bundled workflow name, or `user-defined` for any other workflow.
    pub workflow_name: WorkflowName,
    /// The type of the node that failed.
    pub node_type: NodeType,
    /// Whether retrying could help, judged on this machine from the node's exit code and the
    /// last lines it printed (phrases such as "rate limit" or "timed out"); only the judgement
    /// is sent, never the text.
    pub error_classification: ErrorClassification,
    /// The assistant for the workflow's AI nodes: the workflow's own `provider`, else the
    /// default assistant (sent even when the workflow has no AI node).
    pub provider: Provider,
}

/// The AI assistants a workflow can use.
#[derive(TelemetryEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Provider {
    /// Anthropic's Claude Code (`claude`).
    Claude,
    /// OpenAI's Codex CLI (`codex`).
    Codex,
}

/// The kinds of workflow node.
#[derive(TelemetryEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum NodeType {
    /// A shell script.
    Bash,
    /// A prompt sent to the assistant.
    Prompt,
    /// A named prompt file sent to the assistant.
    Command,
}

/// Whether a node failure is worth retrying.
#[derive(TelemetryEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ErrorClassification {
    /// Might succeed if tried again (a timeout, a dropped connection, a rate limit).
    Transient,
    /// Will fail again the same way.
    Fatal,
    /// The assistant account has run out of credit.
    CreditExhausted,
}
