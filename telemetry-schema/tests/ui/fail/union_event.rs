use telemetry_schema::*;

/// An event used by this test.
#[telemetry_event(name = "test.event")]
pub union TestEvent {
    /// A count.
    pub count: u32,
    /// A flag.
    pub flag: bool,
}

fn main() {}
