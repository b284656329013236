//! The schema lock's history: a property an event's version came out with stays required for
//! that version.
//!
//! `cargo xtask schema` takes which properties an event's version requires from the committed
//! lock itself (one added later at the same version is optional: archons installed before send
//! that version without it). The lock is therefore an input as well as an output, and a hand edit
//! that drops a property from `required` would be carried forward, and pass `--check`, since
//! the file then agrees with itself. Git keeps the lock's earlier versions: this compares each
//! committed version with the one before, and the lock in the working tree with the newest,
//! and refuses any property that stopped being required while the event kept its version.
//! Nothing `cargo xtask schema` writes does that.

use crate::lock::{self, ChangeKind};
use std::path::Path;
use std::process::Command;

/// One version of the lock: the commit it is from (`None`: the working tree) and its text.
pub struct LockVersion {
    /// The commit, or `None` for the file in the working tree.
    pub commit: Option<String>,
    /// The file's text.
    pub text: String,
}

/// The committed versions of `relative` under `root`, oldest first; `None` when git cannot say
/// (git is not installed, or the tree is not a clone, such as a source archive).
pub fn committed_versions(root: &Path, relative: &str) -> Option<Vec<LockVersion>> {
    let git = |args: &[&str]| {
        Command::new("git")
            .current_dir(root)
            .args(args)
            .output()
            .ok()
            .filter(|output| output.status.success())
    };
    let log = git(&["log", "--format=%H", "--reverse", "--", relative])?;
    let mut versions = Vec::new();
    for commit in String::from_utf8_lossy(&log.stdout).lines() {
        // Nothing to read in a commit that deleted the file.
        if let Some(show) = git(&["show", &format!("{commit}:{relative}")]) {
            versions.push(LockVersion {
                commit: Some(commit.to_owned()),
                text: String::from_utf8_lossy(&show.stdout).replace("\r\n", "\n"),
            });
        }
    }
    Some(versions)
}

/// `Err` naming each property that a version in `history` (oldest first) required and the next
/// version no longer requires, for the same event at the same version. Versions that do not
/// parse are skipped: the lock check reports the current one.
pub fn check(history: &[LockVersion], file: &str) -> Result<(), String> {
    let parsed: Vec<(&LockVersion, Vec<lock::LockedEvent>)> = history
        .iter()
        .filter_map(|version| Some((version, lock::parse(&version.text).ok()?)))
        .collect();
    let mut problems = Vec::new();
    for pair in parsed.windows(2) {
        let [(older, before), (newer, after)] = pair else {
            continue;
        };
        for change in lock::compare(before, after) {
            if let ChangeKind::NoLongerRequired { property } = change.kind {
                let short = |version: &LockVersion| match &version.commit {
                    Some(commit) => format!("commit {}", &commit[..commit.len().min(10)]),
                    None => "the working tree".to_owned(),
                };
                problems.push(format!(
                    "  - `{}` version {}: `{property}` was required in {} and is not in {}",
                    change.event,
                    change.version,
                    short(older),
                    short(newer),
                ));
            }
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(format!(
        "{file} no longer requires properties that an event's version came out with:\n{}\n\
         A property an event carried when its version came out stays required for that version \
         (this file records it, and `cargo xtask schema` reads it back): put it back in the \
         event's `required` list, or raise the event's version.",
        problems.join("\n")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The committed lock with `property` taken out of `event`'s `required` list.
    fn without_required(text: &str, event: &str, property: &str) -> String {
        let mut lock: serde_json::Value = serde_json::from_str(text).unwrap();
        let required = lock["$defs"][event]["properties"]["properties"]["required"]
            .as_array_mut()
            .unwrap();
        let before = required.len();
        required.retain(|name| name != property);
        assert_eq!(required.len(), before - 1, "{property} was not required");
        serde_json::to_string_pretty(&lock).unwrap()
    }

    fn version(commit: Option<&str>, text: String) -> LockVersion {
        LockVersion {
            commit: commit.map(str::to_owned),
            text,
        }
    }

    fn committed_lock() -> String {
        crate::workspace::read(crate::workspace::SCHEMA_LOCK).unwrap()
    }

    #[test]
    fn a_property_dropped_from_required_is_refused() {
        let lock = committed_lock();
        let tampered = without_required(&lock, "workflow.run_started", "$geoip_disable");
        let history = [
            version(Some("aaaaaaaaaaaaaaaa"), lock.clone()),
            version(None, tampered),
        ];
        let error = check(&history, "docs/telemetry-schema.json").unwrap_err();
        assert!(
            error.contains("`workflow.run_started` version 1: `$geoip_disable` was required in commit aaaaaaaaaa and is not in the working tree"),
            "{error}"
        );
        // Dropped in a commit, and carried on after it: still found.
        let tampered = without_required(&lock, "workflow.run_started", "node_count");
        let history = [
            version(Some("aaaa"), lock.clone()),
            version(Some("bbbb"), tampered.clone()),
            version(None, tampered),
        ];
        let error = check(&history, "lock").unwrap_err();
        assert!(
            error.contains("`node_count` was required in commit aaaa"),
            "{error}"
        );
    }

    #[test]
    fn the_same_lock_or_an_added_property_passes() {
        let lock = committed_lock();
        let history = [version(Some("aaaa"), lock.clone()), version(None, lock)];
        assert_eq!(check(&history, "lock"), Ok(()));
        assert_eq!(check(&[], "lock"), Ok(()));
    }

    #[test]
    fn the_history_comes_from_git() {
        let dir = tempfile::tempdir().unwrap();
        let git = |args: &[&str]| {
            let status = Command::new("git")
                .current_dir(dir.path())
                .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
                .args(args)
                .output()
                .unwrap();
            assert!(status.status.success(), "git {args:?}: {status:?}");
        };
        git(&["init", "-q"]);
        for text in ["one\r\n", "two\n"] {
            std::fs::write(dir.path().join("lock.json"), text).unwrap();
            git(&["add", "lock.json"]);
            git(&["commit", "-q", "-m", text.trim()]);
        }
        let versions = committed_versions(dir.path(), "lock.json").unwrap();
        let texts: Vec<&str> = versions.iter().map(|v| v.text.as_str()).collect();
        assert_eq!(texts, ["one\n", "two\n"]);
        assert!(versions
            .iter()
            .all(|v| v.commit.as_ref().unwrap().len() == 40));
        // Not a clone: git cannot say.
        let elsewhere = tempfile::tempdir().unwrap();
        assert!(committed_versions(elsewhere.path(), "lock.json").is_none());
    }
}
