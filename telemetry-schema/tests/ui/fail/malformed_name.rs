use telemetry_schema::*;

/// An event used by this test.
#[telemetry_event(name = "Workflow.runStarted")]
pub struct TestEvent;

fn main() {}
