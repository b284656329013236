use telemetry_schema::*;

// Every mistake is reported in one build, each at its own token.
#[telemetry_event(name = "Test")]
pub struct TestEvent {
    pub node_count: u32,
    /// The working directory.
    pub cwd: std::path::PathBuf,
    /// Collides with a base property.
    pub arch: Arch,
}

fn main() {}
