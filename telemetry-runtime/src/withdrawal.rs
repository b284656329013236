//! The mark a withdrawal of the waiting events leaves (`archon telemetry off`, `clear`, or a
//! delivery that finds telemetry off), for archon processes that started before it.
//!
//! Such a process may have read config.yaml while it still said on, and may still hold events
//! (a long workflow writes them as it goes). It notes the mark as it starts, before it reads
//! consent, and looks again under the store's lock before it writes events that carry an id: a
//! different mark means the user withdrew meanwhile, and those events must go the way of the
//! ones that were waiting, or a later opt-in would send them.
//!
//! The mark is `telemetry/withdrawn`, replaced by each withdrawal (so it is a new file each
//! time). What is compared is the file's identity and times as the file system reports them,
//! against themselves: never against a clock, which may step, or differ from the file
//! system's (a home on NFS).

use crate::files;
use crate::store::Store;
use std::io;

/// The withdrawal mark as one process saw it: `None` when there is none.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Mark(Option<Stamp>);

/// What tells one mark file from the next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Stamp {
    device: u64,
    inode: u64,
    modified: (i64, i64),
    changed: (i64, i64),
}

/// The mark now. A stat; no mark, or one that cannot be read, is `Mark(None)`.
pub(crate) fn current(store: &Store) -> Mark {
    Mark(
        std::fs::symlink_metadata(store.withdrawal_mark_path())
            .ok()
            .map(|metadata| stamp(&metadata)),
    )
}

/// Leaves a new mark: a withdrawal is happening. The caller holds the lock.
pub(crate) fn leave_locked(store: &Store) -> io::Result<()> {
    // The contents are for a person looking at the folder; only the file's identity counts.
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    files::write_atomic(
        &store.withdrawal_mark_path(),
        format!("events withdrawn at {now}\n").as_bytes(),
        files::PRIVATE_FILE_MODE,
    )
}

#[cfg(unix)]
fn stamp(metadata: &std::fs::Metadata) -> Stamp {
    use std::os::unix::fs::MetadataExt;
    Stamp {
        device: metadata.dev(),
        inode: metadata.ino(),
        modified: (metadata.mtime(), metadata.mtime_nsec()),
        changed: (metadata.ctime(), metadata.ctime_nsec()),
    }
}

#[cfg(not(unix))]
fn stamp(metadata: &std::fs::Metadata) -> Stamp {
    let nanos = |time: io::Result<std::time::SystemTime>| {
        time.ok()
            .and_then(|t| t.duration_since(std::time::UNIX_EPOCH).ok())
            .map_or((0, 0), |d| {
                (d.as_secs() as i64, i64::from(d.subsec_nanos()))
            })
    };
    Stamp {
        device: 0,
        inode: metadata.len(),
        modified: nanos(metadata.modified()),
        changed: nanos(metadata.created()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_withdrawal_leaves_a_different_mark() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        std::fs::create_dir_all(store.dir()).unwrap();
        let none = current(&store);
        assert_eq!(none, Mark(None));
        leave_locked(&store).unwrap();
        let first = current(&store);
        assert_ne!(first, none);
        assert_eq!(
            current(&store),
            first,
            "a mark is stable while nothing happens"
        );
        // Twice in a row, at once: still a new mark each time (a new file).
        leave_locked(&store).unwrap();
        let second = current(&store);
        leave_locked(&store).unwrap();
        let third = current(&store);
        assert_ne!(second, first);
        assert_ne!(third, second);
        assert_ne!(third, first);
    }
}
