use crate::telemetry_event;

/// archon starts. Sent once per run, with only the base properties, so that the number of runs
/// per version and platform can be counted. `archon telemetry off` and `clear` record nothing,
/// this event included.
#[telemetry_event(name = "binary.startup")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BinaryStartup;
