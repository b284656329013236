use telemetry_schema::*;

/// An event used by this test.
#[telemetry_event(name = "test.event")]
pub struct TestEvent {
    /// The version, by hand.
    pub event_version: u32,
}

fn main() {}
