use telemetry_schema::*;

#[derive(serde::Serialize)]
pub struct Repository {
    pub owner: u32,
}

/// An event used by this test.
#[telemetry_event(name = "test.event")]
pub struct TestEvent {
    /// What this property means.
    pub value: Repository,
}

fn main() {}
