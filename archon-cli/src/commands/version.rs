//! `archon version`

use super::CommandError;
use crate::exit;
use telemetry_schema::build_info;

/// Prints the version and the commit archon was built from.
pub fn run() -> Result<i32, CommandError> {
    println!(
        "archon {} ({})",
        build_info::VERSION,
        build_info::GIT_COMMIT
    );
    Ok(exit::SUCCESS)
}
