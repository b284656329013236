//! The mark a withdrawal of the waiting events leaves (`archon telemetry off`, `clear`, or a
//! delivery that finds telemetry off), for archon processes that started before it.
//!
//! Such a process may have read config.yaml while it still said on, and may still hold events
//! (a long workflow writes them as it goes). It reads the mark as it starts, before it reads
//! consent, and again under the store's lock before it writes events that carry an id: a
//! different mark means the user withdrew meanwhile, and those events must go the way of the
//! ones that were waiting, or a later opt-in would send them.
//!
//! The mark is `telemetry/withdrawn`, rewritten by each withdrawal with a new random token. The
//! tokens are compared, not times or file identities: a clock may step or differ from the file
//! system's (a home on NFS), file times may be coarser than two withdrawals apart, and a new
//! file may get the inode number of the one it replaced.

use crate::files;
use crate::store::Store;
use std::io;

/// The mark's size limit: a token and a time, with room to spare.
const MAX_MARK_BYTES: u64 = 256;

/// The withdrawal mark as one process saw it: `None` when there is none (one that cannot be
/// read counts as none: a process cannot tell withdrawals apart by it, and reads it the same way
/// both times).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Mark(Option<Vec<u8>>);

/// The mark now. One `open` when there is none, as is usual.
pub(crate) fn current(store: &Store) -> Mark {
    Mark(
        files::read_limited(&store.withdrawal_mark_path(), MAX_MARK_BYTES)
            .ok()
            .flatten(),
    )
}

/// Leaves a new mark: a withdrawal is happening. The caller holds the lock.
pub(crate) fn leave_locked(store: &Store) -> io::Result<()> {
    // The time is for a person looking at the folder; the token tells marks apart.
    let now = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Millis, true);
    files::write_atomic(
        &store.withdrawal_mark_path(),
        format!("{} events withdrawn at {now}\n", uuid::Uuid::new_v4()).as_bytes(),
        files::PRIVATE_FILE_MODE,
    )
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
        let mut seen = vec![none];
        for _ in 0..20 {
            leave_locked(&store).unwrap();
            let mark = current(&store);
            assert_eq!(
                current(&store),
                mark,
                "a mark is stable while nothing happens"
            );
            assert!(
                !seen.contains(&mark),
                "a withdrawal left a mark seen before"
            );
            seen.push(mark);
        }
    }
}
