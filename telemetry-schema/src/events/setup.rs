use crate::{telemetry_event, Provider, TelemetryEnum};

/// `archon setup` finishes.
#[telemetry_event(name = "setup.completed")]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetupCompleted {
    /// How archon was installed.
    pub install_method: InstallMethod,
    /// The assistant chosen as the default.
    pub default_assistant: Provider,
}

/// Ways archon is installed.
#[derive(TelemetryEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum InstallMethod {
    /// Homebrew.
    Homebrew,
    /// The curl install script.
    Curl,
    /// Built from source (a clone or `cargo install`).
    Source,
    /// Could not be told.
    Unknown,
}
