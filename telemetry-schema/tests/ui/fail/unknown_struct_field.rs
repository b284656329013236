use telemetry_schema::*;

pub struct Options {
    pub verbose: bool,
}

/// An event used by this test.
#[telemetry_event(name = "test.event")]
pub struct TestEvent {
    /// What this property means.
    pub value: Options,
}

fn main() {}
