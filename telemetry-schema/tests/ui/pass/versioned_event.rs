use telemetry_schema::*;

/// An event whose meaning changed once.
#[telemetry_event(name = "test.versioned", version = 3)]
pub struct Versioned {
    /// A count.
    pub count: u32,
}

fn main() {
    assert_eq!(<Versioned as TelemetryEvent>::SCHEMA.version, 3);
    let wire = Properties::of_event(&Versioned { count: 1 }, &BaseProperties::for_this_build(false));
    assert_eq!(wire.as_map()["event_version"], 3);
}
