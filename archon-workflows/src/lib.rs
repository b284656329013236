//! archon's workflows: YAML files of bash, prompt and command nodes, loaded from a directory's
//! `.archon/workflows/` and from the workflows bundled with archon, validated before anything
//! runs, and run node by node in dependency order.
//!
//! ```yaml
//! name: check
//! description: Build, then test.
//! provider: claude            # optional: claude or codex; else the caller's default
//! nodes:
//!   - id: build
//!     bash: cargo build       # run with `sh -c` in the working directory
//!   - id: test
//!     depends_on: [build]
//!     continue_on_error: true # a failure is reported but the workflow goes on
//!     bash: cargo test
//!   - id: explain
//!     depends_on: [test]
//!     prompt: Explain the test results. $ARGUMENTS   # `claude -p <prompt>` / `codex exec <prompt>`
//!   - id: review
//!     command: archon-review-code  # the prompt in .archon/commands/<name>.md, or a bundled one
//! ```
//!
//! [`load()`] finds and validates the workflows of a directory; [`Loaded::find`] picks one by name;
//! [`run()`] runs it, telling a [`RunObserver`] of each node's process and each failure. This crate
//! knows nothing about telemetry: its failure categories ([`NodeKind`], [`FailureKind`],
//! [`Retryability`]) carry no user text, and the caller maps them.
//!
//! Modules, one concept each: `model` (the types), `parse` (YAML to a workflow), `validate` and
//! `graph` (whole-workflow checks, dependency order), `bundled` and `commands` (the files that
//! ship with archon, command prompts), `load` (a directory's workflows), `run` and `process`
//! (running nodes, streaming output), `assistant` (the assistants' programs), `failure`
//! (classifying failures).

mod assistant;
mod bundled;
mod commands;
mod error;
mod failure;
mod files;
mod graph;
mod load;
mod model;
mod output;
mod parse;
mod process;
mod run;
mod text;
mod validate;

pub use assistant::{find_assistant, AssistantPrograms};
pub use bundled::{bundled_command_names, BUNDLED_WORKFLOW_NAMES};
pub use commands::commands_dir;
pub use error::{FindError, WorkflowError};
pub use failure::{FailureKind, NodeFailure, Retryability};
pub use files::MAX_FILE_BYTES;
pub use load::{load, workflows_dir, Loaded};
pub use model::{Node, NodeKind, Provider, Source, UnknownProvider, Workflow};
pub use output::Output;
pub use run::{
    run, run_with_output, RunObserver, RunOptions, RunOutcome, ARGUMENTS_PLACEHOLDER, MESSAGE_ENV,
};
