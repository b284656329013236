use telemetry_schema::*;

/// An event used by this test.
#[telemetry_event(name = "test.event")]
pub enum TestEvent {
    Started,
    Finished,
}

fn main() {}
