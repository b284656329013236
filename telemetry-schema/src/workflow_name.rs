//! Workflow names, sanitised: archon's bundled workflows by name, every other workflow as
//! `user-defined`.

use crate::{EnumValue, TelemetryEnum};

/// The workflows bundled with archon. Only these names are ever sent; the bundled workflow files
/// (in archon-workflows) must use exactly these names (archon-cli has a test for it).
pub const BUNDLED_WORKFLOWS: &[&str] = &[
    "archon-assist",
    "archon-comprehensive-pr-review",
    "archon-fix-github-issue",
];

/// What is sent for a workflow that is not bundled with archon.
const USER_DEFINED: &str = "user-defined";

/// The values a `WorkflowName` can take: the bundled names, then `user-defined`. Kept in step with
/// [`BUNDLED_WORKFLOWS`] by a test.
const VALUES: &[EnumValue] = &[
    EnumValue {
        value: "archon-assist",
        doc: "bundled workflow",
    },
    EnumValue {
        value: "archon-comprehensive-pr-review",
        doc: "bundled workflow",
    },
    EnumValue {
        value: "archon-fix-github-issue",
        doc: "bundled workflow",
    },
    EnumValue {
        value: USER_DEFINED,
        doc: "any workflow that does not come with archon: its name is never sent, because it could name a company project",
    },
];

/// A workflow's name as telemetry may send it.
///
/// Made only by [`WorkflowName::sanitize`], where a name that is exactly one of
/// [`BUNDLED_WORKFLOWS`] is kept and anything else (a workflow the user wrote, or a bundled name
/// with different case or surrounding spaces) becomes `user-defined`, or by
/// [`WorkflowName::user_defined`]; no constructor takes a name through unchanged.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct WorkflowName {
    /// Position in `VALUES`.
    index: usize,
}

impl WorkflowName {
    /// The telemetry form of the workflow called `name`.
    pub fn sanitize(name: &str) -> Self {
        let index = BUNDLED_WORKFLOWS
            .iter()
            .position(|bundled| *bundled == name)
            .unwrap_or(BUNDLED_WORKFLOWS.len());
        WorkflowName { index }
    }

    /// The value for a workflow that does not come with archon, whatever its name (also for a
    /// user's workflow that reuses a bundled name).
    pub fn user_defined() -> Self {
        WorkflowName {
            index: BUNDLED_WORKFLOWS.len(),
        }
    }

    /// True when the workflow is not one of archon's bundled ones.
    pub fn is_user_defined(self) -> bool {
        self.index >= BUNDLED_WORKFLOWS.len()
    }
}

impl TelemetryEnum for WorkflowName {
    const VALUES: &'static [EnumValue] = VALUES;

    fn index(&self) -> usize {
        self.index
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Property;

    #[test]
    fn values_are_the_bundled_names_then_user_defined() {
        let values: Vec<&str> = VALUES.iter().map(|v| v.value).collect();
        let mut expected = BUNDLED_WORKFLOWS.to_vec();
        expected.push(USER_DEFINED);
        assert_eq!(values, expected);
    }

    #[test]
    fn bundled_names_pass_through() {
        for name in BUNDLED_WORKFLOWS {
            let sanitized = WorkflowName::sanitize(name);
            assert_eq!(sanitized.as_str(), *name);
            assert!(!sanitized.is_user_defined());
            assert_eq!(sanitized.to_json(), serde_json::json!(name));
        }
    }

    #[test]
    fn user_defined_is_user_defined() {
        assert_eq!(WorkflowName::user_defined().as_str(), "user-defined");
        assert!(WorkflowName::user_defined().is_user_defined());
    }

    #[test]
    fn everything_else_is_user_defined() {
        for name in [
            "",
            "my-internal-deploy",
            "acme/customer-x",
            "ARCHON-ASSIST",
            "Archon-Assist",
            " archon-assist",
            "archon-assist ",
            "archon-assist\n",
            "archon-assist\0",
            "archon_assist",
            "archon-assist-2",
            "archon-ass",
            "аrchon-assist", // Cyrillic а
            "user-defined",
            "/home/me/secret/.archon/workflows/archon-assist.yaml",
        ] {
            let sanitized = WorkflowName::sanitize(name);
            assert!(sanitized.is_user_defined(), "{name:?} slipped through");
            assert_eq!(sanitized.to_json(), serde_json::json!("user-defined"));
        }
    }
}
