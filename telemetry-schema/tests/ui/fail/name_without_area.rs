use telemetry_schema::*;

/// An event used by this test.
#[telemetry_event(name = "startup")]
pub struct TestEvent;

fn main() {}
