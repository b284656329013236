//! The schema lock's history: a property an event's version ever required stays required for
//! that version.
//!
//! `cargo xtask schema` takes which properties an event's version requires from the committed
//! lock itself (one added later at the same version is optional: archons installed before send
//! that version without it). The lock is therefore an input as well as an output, and a hand edit
//! that drops a property from `required` would be carried forward, and pass `--check`, since
//! the file then agrees with itself. Git keeps the lock's earlier versions: for each event and
//! version, every property any committed version of the lock required must still be required by
//! the lock in the working tree. Nothing `cargo xtask schema` writes drops one; putting it back
//! (or raising the event's version) clears the error, whatever the history in between.

use crate::lock;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

/// One committed version of the lock.
pub struct LockVersion {
    /// The commit.
    pub commit: String,
    /// The file's text in it.
    pub text: String,
}

/// Why the history could not be read.
#[derive(Debug, PartialEq, Eq)]
pub enum NoHistory {
    /// git is not installed, or `root` is not the top of a git work tree (a source archive,
    /// perhaps unpacked inside another repository).
    NotAClone,
    /// A shallow clone (CI's usual checkout) holds only the newest commits.
    Shallow,
}

/// The committed versions of `relative` under `root`, oldest first.
pub fn committed_versions(root: &Path, relative: &str) -> Result<Vec<LockVersion>, NoHistory> {
    let git = |args: &[&str]| {
        Command::new("git")
            .current_dir(root)
            .args(args)
            .output()
            .ok()
            .filter(|output| output.status.success())
            .map(|output| String::from_utf8_lossy(&output.stdout).into_owned())
    };
    let top = git(&["rev-parse", "--show-toplevel"]).ok_or(NoHistory::NotAClone)?;
    let same_folder = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if !same_folder(Path::new(top.trim()), root) {
        return Err(NoHistory::NotAClone);
    }
    if git(&["rev-parse", "--is-shallow-repository"]).is_some_and(|answer| answer.trim() == "true")
    {
        return Err(NoHistory::Shallow);
    }
    let log =
        git(&["log", "--format=%H", "--reverse", "--", relative]).ok_or(NoHistory::NotAClone)?;
    Ok(log
        .lines()
        // Nothing to read in a commit that deleted the file.
        .filter_map(|commit| {
            let text = git(&["show", &format!("{commit}:{relative}")])?;
            Some(LockVersion {
                commit: commit.to_owned(),
                text: text.replace("\r\n", "\n"),
            })
        })
        .collect())
}

/// `Err` naming each property that a committed version in `history` required for an event at
/// some version and that `current` (the lock in the working tree) does not require for that
/// event at that version. Versions that do not parse are skipped: the lock check reports the
/// current one.
pub fn check(history: &[LockVersion], current: &str, file: &str) -> Result<(), String> {
    let Ok(current) = lock::parse(current) else {
        return Ok(());
    };
    // (event, version) -> property -> the first commit that required it.
    let mut ever_required: BTreeMap<(String, u64), BTreeMap<String, &str>> = BTreeMap::new();
    for version in history {
        let Ok(events) = lock::parse(&version.text) else {
            continue;
        };
        for event in events {
            let required = ever_required
                .entry((event.name.clone(), event.version))
                .or_default();
            for property in event.properties.iter().filter(|p| p.required) {
                required
                    .entry(property.name.clone())
                    .or_insert(&version.commit);
            }
        }
    }
    let mut problems = Vec::new();
    for event in &current {
        let Some(required) = ever_required.get(&(event.name.clone(), event.version)) else {
            continue;
        };
        for (property, commit) in required {
            let still_required = event
                .properties
                .iter()
                .any(|p| &p.name == property && p.required);
            if !still_required {
                problems.push(format!(
                    "  - `{}` version {}: `{property}` (required since commit {})",
                    event.name,
                    event.version,
                    &commit[..commit.len().min(10)],
                ));
            }
        }
    }
    if problems.is_empty() {
        return Ok(());
    }
    Err(format!(
        "{file} no longer requires properties that these event versions required before:\n{}\n\
         A property an event's version required stays required for that version (this file \
         records it, and `cargo xtask schema` reads it back): put it back in the event's \
         `required` list, or raise the event's version (`--allow-breaking` writes the file \
         anyway).",
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

    fn version(commit: &str, text: &str) -> LockVersion {
        LockVersion {
            commit: commit.to_owned(),
            text: text.to_owned(),
        }
    }

    fn committed_lock() -> String {
        crate::workspace::read(crate::workspace::SCHEMA_LOCK).unwrap()
    }

    #[test]
    fn a_property_dropped_from_required_is_refused() {
        let lock = committed_lock();
        let tampered = without_required(&lock, "workflow.run_started", "$geoip_disable");
        let history = [version("aaaaaaaaaaaaaaaa", &lock)];
        let error = check(&history, &tampered, "docs/telemetry-schema.json").unwrap_err();
        assert!(
            error.contains(
                "`workflow.run_started` version 1: `$geoip_disable` (required since commit aaaaaaaaaa)"
            ),
            "{error}"
        );
        // Dropped in a commit, and carried on after it: still found.
        let tampered = without_required(&lock, "workflow.run_started", "node_count");
        let history = [version("aaaa", &lock), version("bbbb", &tampered)];
        let error = check(&history, &tampered, "lock").unwrap_err();
        assert!(
            error.contains("`node_count` (required since commit aaaa)"),
            "{error}"
        );
    }

    #[test]
    fn putting_it_back_clears_the_error_whatever_the_history() {
        let lock = committed_lock();
        let tampered = without_required(&lock, "workflow.run_started", "node_count");
        // A commit dropped it, a later one put it back.
        let history = [
            version("aaaa", &lock),
            version("bbbb", &tampered),
            version("cccc", &lock),
        ];
        assert_eq!(check(&history, &lock, "lock"), Ok(()));
        assert_eq!(check(&[], &lock, "lock"), Ok(()));
    }

    #[test]
    fn a_raised_version_starts_afresh() {
        let lock = committed_lock();
        let mut raised: serde_json::Value = serde_json::from_str(&lock).unwrap();
        let properties = &mut raised["$defs"]["workflow.run_started"]["properties"]["properties"];
        properties["properties"]["event_version"]["const"] = 2.into();
        properties["required"]
            .as_array_mut()
            .unwrap()
            .retain(|name| name != "node_count");
        let raised = serde_json::to_string_pretty(&raised).unwrap();
        assert_eq!(check(&[version("aaaa", &lock)], &raised, "lock"), Ok(()));
    }

    /// `git` in `dir`, whatever the user's git configuration says about signing.
    fn git(dir: &Path, args: &[&str]) -> Option<std::process::Output> {
        Command::new("git")
            .current_dir(dir)
            .args(["-c", "user.name=t", "-c", "user.email=t@example.com"])
            .args([
                "-c",
                "commit.gpgsign=false",
                "-c",
                "init.defaultBranch=main",
            ])
            .args(args)
            .output()
            .ok()
    }

    #[test]
    fn the_history_comes_from_git() {
        let dir = tempfile::tempdir().unwrap();
        if git(dir.path(), &["--version"]).is_none() {
            // Without git, `cargo xtask schema` says it cannot check the history.
            eprintln!("git is not installed: the history cannot be read");
            return;
        }
        let run = |args: &[&str]| {
            let output = git(dir.path(), args).unwrap();
            assert!(output.status.success(), "git {args:?}: {output:?}");
        };
        run(&["init", "-q"]);
        for text in ["one\r\n", "two\n"] {
            std::fs::write(dir.path().join("lock.json"), text).unwrap();
            run(&["add", "lock.json"]);
            run(&["commit", "-q", "-m", text.trim()]);
        }
        let versions = committed_versions(dir.path(), "lock.json").unwrap();
        let texts: Vec<&str> = versions.iter().map(|v| v.text.as_str()).collect();
        assert_eq!(texts, ["one\n", "two\n"]);
        assert!(versions.iter().all(|v| v.commit.len() == 40));

        // A folder inside the clone is not the top of one (a source archive unpacked in
        // another repository).
        let inner = dir.path().join("inner");
        std::fs::create_dir(&inner).unwrap();
        assert_eq!(
            committed_versions(&inner, "lock.json").err(),
            Some(NoHistory::NotAClone)
        );

        // A shallow clone has no history to compare with.
        let shallow = tempfile::tempdir().unwrap();
        let url = format!("file://{}", dir.path().display());
        let output = git(
            shallow.path(),
            &["clone", "-q", "--depth", "1", &url, "clone"],
        )
        .unwrap();
        assert!(output.status.success(), "{output:?}");
        assert_eq!(
            committed_versions(&shallow.path().join("clone"), "lock.json").err(),
            Some(NoHistory::Shallow)
        );
    }
}
