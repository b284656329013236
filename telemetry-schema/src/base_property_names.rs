// The names of the base properties, shared by `telemetry-schema` (a test checks they are exactly
// the fields of `BaseProperties`) and `telemetry-macros` (which refuses event fields with these
// names). Plain Rust included by both with `include!`, because a proc-macro crate cannot depend on
// the crate its expansions refer to.

/// The properties the runtime adds to every event. An event field with one of these names would
/// collide with them on the wire, so the macro refuses it.
pub const BASE_PROPERTY_NAMES: &[&str] = &[
    "archon_version",
    "archon_git_commit",
    "archon_is_binary",
    "platform",
    "arch",
    "is_ci",
];

/// The property that carries an event's schema version (`#[telemetry_event(version = N)]`),
/// added to every event next to the base properties.
pub const EVENT_VERSION_PROPERTY: &str = "event_version";
