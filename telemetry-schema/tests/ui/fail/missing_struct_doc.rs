use telemetry_schema::*;

#[telemetry_event(name = "test.event")]
pub struct TestEvent {
    /// Number of nodes.
    pub node_count: u32,
}

fn main() {}
