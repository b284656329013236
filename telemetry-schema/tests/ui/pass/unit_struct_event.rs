use telemetry_schema::*;

/// Something happened; nothing more to say.
#[telemetry_event(name = "test.happened")]
pub struct Happened;

fn main() {
    assert!(Properties::of(&Happened).as_map().is_empty());
    assert_eq!(<Happened as TelemetryEvent>::SCHEMA.name, "test.happened");
    assert_eq!(<Happened as TelemetryEvent>::SCHEMA.version, 1);
}
