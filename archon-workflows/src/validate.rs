//! The checks that need a whole workflow: unique node ids, dependencies that exist, no cycle,
//! and a prompt for every `command:`. They run when workflows are loaded, so that a workflow with
//! a problem never starts.

use std::collections::HashMap;
use std::path::Path;

use crate::commands;
use crate::error::WorkflowError;
use crate::graph::{self, OrderError};
use crate::model::NodeKind;
use crate::parse::Parsed;

/// How many nodes of a cycle a message names before it abbreviates.
const CYCLE_NODES_SHOWN: usize = 12;

/// Checks `parsed`, read from `file`; `cwd` is where `command:` prompts are looked up.
pub(crate) fn validate(parsed: &Parsed, file: &str, cwd: &Path) -> Result<(), WorkflowError> {
    let workflow = &parsed.workflow;
    let fail = |node_index: Option<usize>, problem: String| WorkflowError {
        line: node_index.and_then(|i| parsed.node_lines.get(i).copied().flatten()),
        workflow: Some(workflow.name.clone()),
        ..WorkflowError::new(file, problem)
    };

    let mut first_with_id: HashMap<&str, usize> = HashMap::new();
    for (i, node) in workflow.nodes.iter().enumerate() {
        if let Some(first) = first_with_id.insert(&node.id, i) {
            return Err(fail(
                Some(i),
                format!(
                    "duplicate node id `{}` (nodes #{} and #{})",
                    node.id,
                    first + 1,
                    i + 1
                ),
            ));
        }
    }

    if let Err(error) = graph::execution_order(&workflow.nodes) {
        return Err(match error {
            OrderError::UnknownDependency { node, dependency } => fail(
                first_with_id.get(node.as_str()).copied(),
                format!(
                    "node `{node}` depends on `{}`, which is not a node of this workflow",
                    crate::text::printable(&dependency)
                ),
            ),
            OrderError::Cycle(cycle) => fail(
                cycle
                    .first()
                    .and_then(|id| first_with_id.get(id.as_str()).copied()),
                format!(
                    "dependency cycle: {} (each node depends on the next)",
                    describe_cycle(&cycle)
                ),
            ),
        });
    }

    for (i, node) in workflow.nodes.iter().enumerate() {
        if node.kind == NodeKind::Command && commands::locate(cwd, &node.action).is_none() {
            return Err(fail(
                Some(i),
                format!(
                    "node `{}`: {}",
                    node.id,
                    commands::not_found(cwd, &node.action)
                ),
            ));
        }
    }
    Ok(())
}

/// `a -> b -> a` (a depends on b, which depends on a), abbreviated when long.
fn describe_cycle(cycle: &[String]) -> String {
    if cycle.len() <= CYCLE_NODES_SHOWN {
        return cycle.join(" -> ");
    }
    format!(
        "{} -> ... ({} nodes in all)",
        cycle[..CYCLE_NODES_SHOWN].join(" -> "),
        cycle.len() - 1
    )
}
