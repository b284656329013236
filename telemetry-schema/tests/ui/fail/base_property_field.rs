use telemetry_schema::*;

/// An event used by this test.
#[telemetry_event(name = "test.event")]
pub struct TestEvent {
    /// The platform, again.
    pub platform: Platform,
}

fn main() {}
