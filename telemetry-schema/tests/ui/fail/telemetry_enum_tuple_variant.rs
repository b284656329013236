use telemetry_schema::TelemetryEnum;

#[derive(TelemetryEnum)]
pub enum Failure {
    /// Timed out.
    Timeout,
    /// Failed with a message.
    Message(String),
}

fn main() {}
