//! The base properties: sent with every event, describing the build and the kind of machine,
//! never the person or the machine itself.

use crate::build_info;
use crate::property::{Property, PropertySchema, Sealed, ValueKind};
use crate::{telemetry_base_properties, TelemetryEnum};
use serde_json::Value;

include!("base_property_names.rs");

/// Sent with every event. They say which build of archon is running and on what kind of system,
/// which is what it takes to tell a bug on one platform from a bug everywhere.
#[telemetry_base_properties]
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BaseProperties {
    /// archon's version, fixed when the binary was built (for example `0.3.1`).
    pub archon_version: ArchonVersion,
    /// The commit of archon's own source code the binary was built from (`unknown` for
    /// development builds). Never the commit of one of your repositories.
    pub archon_git_commit: ArchonGitCommit,
    /// True for an official release binary, false for a build from source.
    pub archon_is_binary: bool,
    /// The operating system family.
    pub platform: Platform,
    /// The processor architecture.
    pub arch: Arch,
    /// True when one of the usual CI environment variables (`CI`, `GITHUB_ACTIONS`, ...) is set.
    /// Only whether it is set is sent, never its value.
    pub is_ci: bool,
}

impl BaseProperties {
    /// The base properties of this process.
    pub fn current() -> Self {
        BaseProperties::for_this_build(is_ci_environment(|name| std::env::var_os(name)))
    }

    /// The base properties of this build on this platform, with `is_ci` as given.
    pub fn for_this_build(is_ci: bool) -> Self {
        BaseProperties {
            archon_version: ArchonVersion(()),
            archon_git_commit: ArchonGitCommit(()),
            archon_is_binary: build_info::IS_RELEASE,
            platform: Platform::current(),
            arch: Arch::current(),
            is_ci,
        }
    }
}

/// Environment variables that CI services set. Only their presence is read.
pub const CI_ENVIRONMENT_VARIABLES: &[&str] = &[
    "CI",
    "GITHUB_ACTIONS",
    "GITLAB_CI",
    "BUILDKITE",
    "CIRCLECI",
    "TRAVIS",
    "JENKINS_URL",
    "TEAMCITY_VERSION",
    "TF_BUILD",
    "BITBUCKET_BUILD_NUMBER",
    "CODEBUILD_BUILD_ID",
];

/// Whether any of [`CI_ENVIRONMENT_VARIABLES`] is set to something other than empty, `0` or
/// `false`, as read by `var`.
pub fn is_ci_environment(var: impl Fn(&str) -> Option<std::ffi::OsString>) -> bool {
    CI_ENVIRONMENT_VARIABLES.iter().any(|name| {
        var(name).is_some_and(|value| !value.is_empty() && value != "0" && value != "false")
    })
}

/// archon's version; the only value is this build's ([`build_info::VERSION`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchonVersion(());

/// The git commit of archon's source; the only value is this build's
/// ([`build_info::GIT_COMMIT`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ArchonGitCommit(());

impl Sealed for ArchonVersion {}
impl Property for ArchonVersion {
    const SCHEMA: PropertySchema = PropertySchema::required(ValueKind::BuildConstant);

    fn to_json(&self) -> Value {
        Value::from(build_info::VERSION)
    }
}

impl Sealed for ArchonGitCommit {}
impl Property for ArchonGitCommit {
    const SCHEMA: PropertySchema = PropertySchema::required(ValueKind::BuildConstant);

    fn to_json(&self) -> Value {
        Value::from(build_info::GIT_COMMIT)
    }
}

/// Operating system family.
#[derive(TelemetryEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Platform {
    /// Linux.
    Linux,
    /// macOS.
    Macos,
    /// Windows.
    Windows,
    /// Any other system.
    Other,
}

impl Platform {
    /// The platform archon was compiled for.
    pub const fn current() -> Self {
        if cfg!(target_os = "linux") {
            Platform::Linux
        } else if cfg!(target_os = "macos") {
            Platform::Macos
        } else if cfg!(target_os = "windows") {
            Platform::Windows
        } else {
            Platform::Other
        }
    }
}

/// Processor architecture.
#[derive(TelemetryEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arch {
    /// 64-bit x86 (Intel and AMD).
    X86_64,
    /// 64-bit ARM (Apple silicon, Graviton, ...).
    Aarch64,
    /// Any other architecture.
    Other,
}

impl Arch {
    /// The architecture archon was compiled for.
    pub const fn current() -> Self {
        if cfg!(target_arch = "x86_64") {
            Arch::X86_64
        } else if cfg!(target_arch = "aarch64") {
            Arch::Aarch64
        } else {
            Arch::Other
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::PropertySet;

    #[test]
    fn the_macros_refuse_exactly_these_names() {
        let fields: Vec<&str> = BaseProperties::FIELDS.iter().map(|f| f.name).collect();
        assert_eq!(fields, BASE_PROPERTY_NAMES);
    }

    #[test]
    fn ci_detection_reads_presence_not_value() {
        let env = |set: &'static [(&'static str, &'static str)]| {
            move |name: &str| {
                set.iter()
                    .find(|(key, _)| *key == name)
                    .map(|(_, value)| std::ffi::OsString::from(value))
            }
        };
        assert!(!is_ci_environment(env(&[])));
        assert!(is_ci_environment(env(&[("CI", "true")])));
        assert!(is_ci_environment(env(&[("GITHUB_ACTIONS", "1")])));
        assert!(is_ci_environment(env(&[(
            "JENKINS_URL",
            "https://ci.acme.internal"
        )])));
        assert!(!is_ci_environment(env(&[("CI", "")])));
        assert!(!is_ci_environment(env(&[("CI", "0")])));
        assert!(!is_ci_environment(env(&[("CI", "false")])));
        assert!(!is_ci_environment(env(&[("HOME", "/home/me")])));
    }
}
