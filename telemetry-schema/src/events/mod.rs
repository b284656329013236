//! archon's events, one module per area. Adding an event means adding one annotated struct in the
//! right module; the catalog, the policy page and the schema lock pick it up from there.

mod binary;
mod cli;
mod error;
mod setup;
mod workflow;

pub use binary::BinaryStartup;
pub use cli::{CliCommand, CliCommandCompleted, CliCommandInvoked, CliSubcommand};
pub use error::{ErrorClass, ErrorSite, ErrorUncaught};
pub use setup::{InstallMethod, SetupCompleted};
pub use workflow::{
    ErrorClassification, NodeType, Provider, WorkflowNodeFailed, WorkflowRunCompleted,
    WorkflowRunFailed, WorkflowRunStarted,
};
