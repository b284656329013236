use telemetry_schema::TelemetryEnum;

#[derive(TelemetryEnum)]
pub struct Failure {
    pub code: u32,
}

fn main() {}
