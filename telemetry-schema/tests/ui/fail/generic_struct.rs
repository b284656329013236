use telemetry_schema::*;

/// An event used by this test.
#[telemetry_event(name = "test.event")]
pub struct TestEvent<T> {
    /// Some value.
    pub value: T,
}

fn main() {}
