use telemetry_schema::*;


/// An event used by this test.
#[telemetry_event(name = "test.event")]
pub struct TestEvent {
    /// What this property means.
    pub value: usize,
}

fn main() {}
