use telemetry_schema::*;

// A Rust field cannot start with `$`, PostHog's prefix; `_` is refused for the same reason.
/// An event used by this test.
#[telemetry_event(name = "test.event")]
pub struct TestEvent {
    /// Looks like one of PostHog's own properties.
    pub _geoip_disable: bool,
}

fn main() {}
