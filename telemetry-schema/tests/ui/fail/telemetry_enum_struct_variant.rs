use telemetry_schema::TelemetryEnum;

#[derive(TelemetryEnum)]
pub enum Failure {
    /// Timed out.
    Timeout,
    /// Could not reach a host.
    Unreachable { host: String },
}

fn main() {}
