use telemetry_schema::*;

/// An event used by this test.
#[telemetry_event(name = "test.event", owner = "growth-team")]
pub struct TestEvent;

fn main() {}
