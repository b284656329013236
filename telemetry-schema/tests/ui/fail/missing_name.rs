use telemetry_schema::*;

/// An event used by this test.
#[telemetry_event]
pub struct TestEvent;

fn main() {}
