//! Facts about this build of archon, fixed at compile time from the environment of the build.
//!
//! A release build sets `ARCHON_VERSION`, `ARCHON_GIT_COMMIT` and `ARCHON_RELEASE=1`; cargo
//! rebuilds this crate when they change. A value that does not look like a version or a commit
//! hash is replaced by `unknown`, so whatever a build machine has in its environment, only
//! version-like text can reach the `archon_version` and `archon_git_commit` properties.

/// archon's version: `ARCHON_VERSION`, or the crate version in a development build.
pub const VERSION: &str = match option_env!("ARCHON_VERSION") {
    Some(version) if is_version_like(version) => version,
    Some(_) => "unknown",
    None => env!("CARGO_PKG_VERSION"),
};

/// The commit of archon's own source this build came from: `ARCHON_GIT_COMMIT`, a 7 to 40
/// character hexadecimal hash, or `unknown`.
pub const GIT_COMMIT: &str = match option_env!("ARCHON_GIT_COMMIT") {
    Some(commit) if is_commit_like(commit) => commit,
    _ => "unknown",
};

/// True for official release builds (`ARCHON_RELEASE=1` at build time).
pub const IS_RELEASE: bool = matches!(option_env!("ARCHON_RELEASE"), Some(flag) if is_true(flag));

const fn is_true(flag: &str) -> bool {
    matches!(flag.as_bytes(), b"1" | b"true")
}

/// `0.3.1`, `1.0.0-rc.2+build.5`: ASCII letters, digits, `.`, `-` and `+`, at most 64 of them.
pub const fn is_version_like(text: &str) -> bool {
    let bytes = text.as_bytes();
    if bytes.is_empty() || bytes.len() > 64 {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        let b = bytes[i];
        if !(b.is_ascii_alphanumeric() || b == b'.' || b == b'-' || b == b'+') {
            return false;
        }
        i += 1;
    }
    true
}

/// 7 to 40 lowercase hexadecimal digits.
pub const fn is_commit_like(text: &str) -> bool {
    let bytes = text.as_bytes();
    if bytes.len() < 7 || bytes.len() > 40 {
        return false;
    }
    let mut i = 0;
    while i < bytes.len() {
        if !matches!(bytes[i], b'0'..=b'9' | b'a'..=b'f') {
            return false;
        }
        i += 1;
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn version_like() {
        assert!(is_version_like("0.3.1"));
        assert!(is_version_like("1.0.0-rc.2+build.5"));
        assert!(!is_version_like(""));
        assert!(!is_version_like("0.3.1 /home/me"));
        assert!(!is_version_like(&"1".repeat(65)));
    }

    #[test]
    fn commit_like() {
        assert!(is_commit_like("abc1234"));
        assert!(is_commit_like(&"f".repeat(40)));
        assert!(!is_commit_like("abc123"));
        assert!(!is_commit_like("ABC1234"));
        assert!(!is_commit_like("feature/customer-x"));
    }
}
