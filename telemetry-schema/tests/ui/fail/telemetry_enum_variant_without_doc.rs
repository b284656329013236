use telemetry_schema::*;

/// A property type used by this test.
#[derive(TelemetryEnum)]
pub enum Origin {
    /// Shipped with archon.
    Bundled,
    Downloaded,
}

fn main() {}
