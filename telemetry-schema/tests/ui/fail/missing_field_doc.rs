use telemetry_schema::*;

/// An event used by this test.
#[telemetry_event(name = "test.event")]
pub struct TestEvent {
    /// Number of nodes.
    pub node_count: u32,
    pub is_cli_invoked: bool,
}

fn main() {}
