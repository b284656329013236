use telemetry_schema::*;

/// An event used by this test.
#[telemetry_event(name = "test.event")]
pub struct TestEvent<'a> {
    /// The branch the user is on.
    pub branch: &'a str,
}

fn main() {}
