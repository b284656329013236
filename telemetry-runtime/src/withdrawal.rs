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

/// The withdrawal mark as one process saw it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) enum Mark {
    /// There is none: nothing was ever withdrawn here.
    #[default]
    None,
    /// The token of the last withdrawal.
    Token(Vec<u8>),
    /// It cannot be read (a folder planted there, say), so withdrawals cannot be told apart:
    /// such a mark is never [`Mark::same_as`] another, and events that carry an id are not
    /// written while it lasts.
    Unreadable,
}

impl Mark {
    /// Whether `self` and `other` show that no withdrawal happened between them.
    pub(crate) fn same_as(&self, other: &Mark) -> bool {
        !matches!(self, Mark::Unreadable) && self == other
    }
}

/// The mark now. One `open` when there is none, as is usual.
pub(crate) fn current(store: &Store) -> Mark {
    match files::read_limited(&store.withdrawal_mark_path(), MAX_MARK_BYTES) {
        Ok(None) => Mark::None,
        Ok(Some(token)) => Mark::Token(token),
        Err(_) => Mark::Unreadable,
    }
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
        assert_eq!(none, Mark::None);
        let mut seen = vec![none];
        for _ in 0..20 {
            leave_locked(&store).unwrap();
            let mark = current(&store);
            assert!(
                current(&store).same_as(&mark),
                "a mark is stable while nothing happens"
            );
            assert!(
                !seen.contains(&mark),
                "a withdrawal left a mark seen before"
            );
            seen.push(mark);
        }
    }

    #[test]
    fn a_mark_that_cannot_be_read_is_never_the_same() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        std::fs::create_dir_all(store.withdrawal_mark_path()).unwrap();
        let mark = current(&store);
        assert_eq!(mark, Mark::Unreadable);
        assert!(!current(&store).same_as(&mark));
    }
}
