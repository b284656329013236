use telemetry_schema::*;

/// An event used by this test.
#[telemetry_event(name = "test.event", version = 0)]
pub struct TestEvent;

fn main() {}
