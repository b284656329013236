//! `archon version`

use super::CommandError;
use crate::exit;
use crate::output::outln;
use telemetry_schema::build_info;

/// Prints the version and the commit archon was built from, and says when this build has no
/// telemetry (so that a bug report shows it).
pub fn run() -> Result<i32, CommandError> {
    outln!(
        "archon {} ({})",
        build_info::VERSION,
        build_info::GIT_COMMIT
    )?;
    if !cfg!(feature = "telemetry") {
        outln!("telemetry: not built in")?;
    }
    Ok(exit::SUCCESS)
}
