//! Events are declared only in telemetry-schema, whose catalog the policy page, the schema lock
//! and the delivery program read. The same struct that compiles in telemetry-schema's own UI
//! tests is refused here: this crate's trybuild project, `telemetry-macros-tests`, is not one of
//! the packages allowed to declare events.
//!
//! Regenerate the snapshot after an intended change in the message with
//! `TRYBUILD=overwrite cargo test -p telemetry-macros --test events_outside_schema`.

#[test]
fn an_event_declared_outside_telemetry_schema_is_refused() {
    trybuild::TestCases::new().compile_fail("tests/ui/event_outside_schema.rs");
}
