//! The schema lock's history: a property an event's version ever required stays required for
//! that version, as long as the event has it.
//!
//! `cargo xtask schema` takes which properties an event's version requires from the committed
//! lock itself (one added later at the same version is optional: archons installed before send
//! that version without it). The lock is therefore an input as well as an output, and a hand edit
//! that drops a property from `required` would be carried forward, and pass `--check`, since
//! the file then agrees with itself. Git keeps the lock's earlier versions: for each event and
//! version, every property that any committed version of the lock required, and that the event
//! still has, must still be required by the lock in the working tree. Nothing `cargo xtask
//! schema` writes drops one. Removing a property altogether is another matter, judged by the
//! lock itself (`lock.rs`: breaking, so `--allow-breaking` or a new version).

use crate::lock;
use std::collections::{BTreeMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::path::Path;
use std::process::{Command, Stdio};

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
    /// git refused (a clone owned by another user, say: "dubious ownership"); what it said.
    GitFailed(String),
}

/// The committed versions of `relative` under `root`, oldest first, each distinct text once.
pub fn committed_versions(root: &Path, relative: &str) -> Result<Vec<LockVersion>, NoHistory> {
    let git = |args: &[&str]| -> Result<String, NoHistory> {
        let output = Command::new("git")
            .current_dir(root)
            .args(args)
            .output()
            .map_err(|_| NoHistory::NotAClone)?;
        let stderr = String::from_utf8_lossy(&output.stderr);
        match output.status.success() {
            true => Ok(String::from_utf8_lossy(&output.stdout).into_owned()),
            false if stderr.contains("not a git repository") => Err(NoHistory::NotAClone),
            false => Err(NoHistory::GitFailed(stderr.trim().to_owned())),
        }
    };
    let top = git(&["rev-parse", "--show-toplevel"])?;
    let same_folder = |a: &Path, b: &Path| match (a.canonicalize(), b.canonicalize()) {
        (Ok(a), Ok(b)) => a == b,
        _ => false,
    };
    if !same_folder(Path::new(top.trim()), root) {
        return Err(NoHistory::NotAClone);
    }
    if git(&["rev-parse", "--is-shallow-repository"])?.trim() == "true" {
        return Err(NoHistory::Shallow);
    }
    let log = git(&["log", "--format=%H", "--reverse", "--", relative])?;
    let commits: Vec<&str> = log.lines().collect();
    read_blobs(root, &commits, relative).map_err(|error| NoHistory::GitFailed(error.to_string()))
}

/// `relative` in each of `commits`, read by one `git cat-file --batch` (a process a commit
/// would take seconds over a long history); a text already read is not kept twice, and a commit
/// that deleted the file has none.
fn read_blobs(root: &Path, commits: &[&str], relative: &str) -> std::io::Result<Vec<LockVersion>> {
    let mut child = Command::new("git")
        .current_dir(root)
        .args(["cat-file", "--batch"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()?;
    let requests: String = commits
        .iter()
        .map(|commit| format!("{commit}:{relative}\n"))
        .collect();
    let mut stdin = child.stdin.take().expect("stdin is piped");
    // Written from another thread: git answers as it reads, and a long history's answers would
    // fill the pipe while this thread was still writing.
    let writer = std::thread::spawn(move || stdin.write_all(requests.as_bytes()));
    let mut answers = BufReader::new(child.stdout.take().expect("stdout is piped"));
    let mut seen = HashSet::new();
    let mut versions = Vec::new();
    for commit in commits {
        let mut header = String::new();
        answers.read_line(&mut header)?;
        // `<blob id> blob <size>`, or `<request> missing`.
        let fields: Vec<&str> = header.split_whitespace().collect();
        let [blob, "blob", size] = fields[..] else {
            continue;
        };
        let size: usize = size
            .parse()
            .map_err(|_| std::io::Error::other(format!("git cat-file said {header:?}")))?;
        let mut text = vec![0; size + 1];
        answers.read_exact(&mut text)?;
        text.pop();
        if seen.insert(blob.to_owned()) {
            versions.push(LockVersion {
                commit: (*commit).to_owned(),
                text: String::from_utf8_lossy(&text).replace("\r\n", "\n"),
            });
        }
    }
    writer
        .join()
        .map_err(|_| std::io::Error::other("writing to git failed"))??;
    child.wait()?;
    Ok(versions)
}

/// `Err` naming each property that a committed version in `history` required for an event at
/// some version and that `current` (the lock in the working tree) has for that event at that
/// version but does not require. Versions that do not parse are skipped: the lock check reports
/// the current one.
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
        let optional = event.properties.iter().filter(|p| !p.required);
        for property in optional {
            if let Some(commit) = required.get(&property.name) {
                problems.push(format!(
                    "  - `{}` version {}: `{}` (required since commit {})",
                    event.name,
                    event.version,
                    property.name,
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
         `required` list, or raise the event's version.",
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
    fn a_property_removed_altogether_is_left_to_the_lock() {
        // `--allow-breaking` removed it from the event: the lock judged that, not this.
        let lock = committed_lock();
        let mut removed: serde_json::Value = serde_json::from_str(&lock).unwrap();
        let properties = &mut removed["$defs"]["workflow.run_started"]["properties"]["properties"];
        properties["properties"]
            .as_object_mut()
            .unwrap()
            .remove("node_count")
            .unwrap();
        properties["required"]
            .as_array_mut()
            .unwrap()
            .retain(|name| name != "node_count");
        let removed = serde_json::to_string_pretty(&removed).unwrap();
        let history = [version("aaaa", &lock), version("bbbb", &removed)];
        assert_eq!(check(&history, &removed, "lock"), Ok(()));
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
        // A text seen before is kept once; a commit that deleted the file has none.
        for text in ["one\r\n", "two\n", "one\r\n", "", "three\n"] {
            let path = dir.path().join("lock.json");
            if text.is_empty() {
                run(&["rm", "-q", "lock.json"]);
            } else {
                std::fs::write(&path, text).unwrap();
                run(&["add", "lock.json"]);
            }
            run(&["commit", "-q", "-m", "change"]);
        }
        let versions = committed_versions(dir.path(), "lock.json").unwrap();
        let texts: Vec<&str> = versions.iter().map(|v| v.text.as_str()).collect();
        assert_eq!(texts, ["one\n", "two\n", "three\n"]);
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
