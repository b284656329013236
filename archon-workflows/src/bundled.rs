//! The workflows and command prompts compiled into archon, from `archon-workflows/bundled/`.
//!
//! Adding one: put the file in `bundled/workflows/` or `bundled/commands/` and list it below (a
//! test fails while a file is not listed). A new bundled *workflow* name must also be added to
//! the telemetry sanitiser's list (`telemetry-schema/src/workflow_name.rs`), or telemetry reports
//! it as `user-defined`; archon-cli has a test that the two lists are equal.

/// The names of the bundled workflows, in alphabetical order.
pub const BUNDLED_WORKFLOW_NAMES: &[&str] = &[
    "archon-assist",
    "archon-comprehensive-pr-review",
    "archon-fix-github-issue",
];

/// The bundled workflow files: (workflow name, YAML).
pub(crate) const WORKFLOWS: &[(&str, &str)] = &[
    (
        "archon-assist",
        include_str!("../bundled/workflows/archon-assist.yaml"),
    ),
    (
        "archon-comprehensive-pr-review",
        include_str!("../bundled/workflows/archon-comprehensive-pr-review.yaml"),
    ),
    (
        "archon-fix-github-issue",
        include_str!("../bundled/workflows/archon-fix-github-issue.yaml"),
    ),
];

/// The bundled command prompts: (command name, markdown).
pub(crate) const COMMANDS: &[(&str, &str)] = &[
    (
        "archon-fix-github-issue",
        include_str!("../bundled/commands/archon-fix-github-issue.md"),
    ),
    (
        "archon-review-code",
        include_str!("../bundled/commands/archon-review-code.md"),
    ),
    (
        "archon-review-security",
        include_str!("../bundled/commands/archon-review-security.md"),
    ),
    (
        "archon-review-summary",
        include_str!("../bundled/commands/archon-review-summary.md"),
    ),
    (
        "archon-review-tests",
        include_str!("../bundled/commands/archon-review-tests.md"),
    ),
];

/// The bundled prompt of command `name`, if there is one.
pub(crate) fn command(name: &str) -> Option<&'static str> {
    COMMANDS
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, text)| *text)
}

/// The names of the bundled command prompts, in alphabetical order.
pub fn bundled_command_names() -> Vec<&'static str> {
    COMMANDS.iter().map(|(name, _)| *name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    /// The file names (without extension) of a `bundled/` subdirectory, sorted.
    fn files_in(subdir: &str, extension: &str) -> Vec<String> {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("bundled")
            .join(subdir);
        let mut names: Vec<String> = std::fs::read_dir(&dir)
            .unwrap()
            .map(|entry| entry.unwrap().path())
            .filter(|path| path.extension().is_some_and(|e| e == extension))
            .map(|path| path.file_stem().unwrap().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn every_bundled_workflow_file_is_listed_under_its_name() {
        let listed: Vec<&str> = WORKFLOWS.iter().map(|(name, _)| *name).collect();
        assert_eq!(listed, BUNDLED_WORKFLOW_NAMES);
        assert_eq!(files_in("workflows", "yaml"), BUNDLED_WORKFLOW_NAMES);
    }

    #[test]
    fn every_bundled_command_file_is_listed() {
        assert_eq!(files_in("commands", "md"), bundled_command_names());
    }

    #[test]
    fn the_names_are_the_ones_the_telemetry_sanitiser_lets_through() {
        // A copy of telemetry-schema's list, on purpose: this crate does not depend on telemetry
        // (archon-cli compares the two lists directly). Changing a name here needs it there too.
        assert_eq!(
            BUNDLED_WORKFLOW_NAMES,
            [
                "archon-assist",
                "archon-comprehensive-pr-review",
                "archon-fix-github-issue"
            ]
        );
    }
}
