//! archon's telemetry vocabulary and event catalog.
//!
//! An event exists only as a `#[telemetry_event]` struct, and each of its fields must have a type
//! that implements the sealed [`Property`] trait. The vocabulary is closed on purpose: booleans,
//! integers, [`DurationMs`], [`WorkflowName`] (sanitised against the bundled workflows), and
//! fieldless enums deriving [`TelemetryEnum`]. There is no string type, so a path, a message, a
//! branch name or anything else the user typed cannot become a property: the code that would send
//! it does not compile.
//!
//! ```
//! use telemetry_schema::{telemetry_event, Properties, Provider, WorkflowName};
//!
//! /// A workflow execution begins.
//! #[telemetry_event(name = "example.run_started")]
//! pub struct ExampleRunStarted {
//!     /// Bundled workflow name, or `user-defined` for any other workflow.
//!     pub workflow_name: WorkflowName,
//!     /// Number of nodes in the workflow.
//!     pub node_count: u32,
//!     /// Assistant that runs the workflow's AI nodes.
//!     pub provider: Provider,
//! }
//!
//! let event = ExampleRunStarted {
//!     workflow_name: WorkflowName::sanitize("deploy-acme-prod"),
//!     node_count: 3,
//!     provider: Provider::Claude,
//! };
//! assert_eq!(
//!     Properties::of(&event).to_json_string(),
//!     r#"{"workflow_name":"user-defined","node_count":3,"provider":"claude"}"#
//! );
//! ```
//!
//! This crate knows nothing about files, the network or consent: that is `telemetry-runtime`.

// The macros name this crate as `::telemetry_schema`, which must also work inside it.
extern crate self as telemetry_schema;

pub mod base;
pub mod build_info;
mod catalog;
mod duration;
mod event;
pub mod events;
pub mod posthog;
mod property;
mod telemetry_enum;
mod workflow_name;

pub use base::BaseProperties;
pub use catalog::{check_catalog, event_by_name, events, CatalogError, EVENTS};
pub use duration::DurationMs;
pub use event::{
    EventSchema, FieldSchema, Properties, PropertySet, PropertyWriter, TelemetryEvent,
};
pub use events::*;
pub use property::{Property, PropertySchema, ValueKind};
pub use telemetry_enum::{EnumValue, TelemetryEnum};
pub use telemetry_macros::{telemetry_base_properties, telemetry_event, TelemetryEnum};
pub use workflow_name::{WorkflowName, BUNDLED_WORKFLOWS};

/// What the macros' expansions need by path. Not part of the API.
#[doc(hidden)]
pub mod __private {
    pub use crate::event::{property, PropertyOps};
    pub use linkme;
}
