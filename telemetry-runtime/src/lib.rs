//! archon's telemetry at run time: consent, the anonymous identity, the local queue, and the
//! delivery loop, which runs in a separate program so that archon never waits for it (its
//! requests to PostHog are in the `telemetry-posthog` crate, which archon does not link).
//!
//! Recording goes through [`Telemetry`]: [`Telemetry::start`] once, [`Telemetry::record`] for
//! each event (only `#[telemetry_event]` structs from `telemetry-schema` are accepted), and
//! [`Telemetry::finish`] at exit. The `archon telemetry` commands use [`control`], and archon's
//! own settings in config.yaml use [`config`]. There is no API that takes an event name and a
//! map of values.

pub mod build_config;
pub mod config;
mod conformance;
pub mod consent;
pub mod control;
pub mod delivery;
pub mod environment;
mod files;
pub mod host;
pub mod identity;
pub mod queue;
pub mod recent;
mod recorder;
pub mod state;
pub mod store;
pub mod wire;
mod withdrawal;

pub use environment::Environment;
pub use recorder::Telemetry;
