use telemetry_schema::*;

/// An event declared outside telemetry-schema, which the catalog would never see.
#[telemetry_event(name = "test.event")]
pub struct TestEvent {
    /// Whether it worked.
    pub ok: bool,
}

fn main() {}
