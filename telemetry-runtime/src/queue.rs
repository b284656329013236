//! The queue: events waiting to be sent, one wire object per line of `queue.jsonl`, oldest
//! first. Every change happens under the store's lock; a line that cannot be read is skipped
//! (and counted), never fatal. The queue is capped: past the cap the oldest events go.

use crate::files;
use crate::recent::{self, Recorded};
use crate::state;
use crate::store::Store;
use crate::wire::WireEvent;
use crate::withdrawal;
use std::collections::HashSet;
use std::io;
use uuid::Uuid;

/// The queue's size cap in bytes (about 10,000 events of 450 to 500 bytes): an append that
/// takes the queue past it compacts the queue.
pub const MAX_QUEUE_BYTES: u64 = 5 * 1024 * 1024;
/// The cap in events that compaction applies too (it cuts the queue to 90 % of both caps). It
/// is not checked on each append, so between compactions the queue can hold somewhat more.
pub const MAX_QUEUE_EVENTS: usize = 10_000;
/// A queue file larger than this was not written by archon and is not read at all.
const MAX_READABLE_BYTES: u64 = 2 * MAX_QUEUE_BYTES;

/// What the queue holds.
#[derive(Debug, Default)]
pub struct QueueContents {
    /// The events, oldest first.
    pub events: Vec<WireEvent>,
    /// Lines that are not a wire object.
    pub unreadable_lines: u64,
}

/// Appends `lines` (serialised wire objects, each with its newline). The caller holds the lock.
pub(crate) fn append_locked(store: &Store, lines: &[u8]) -> io::Result<()> {
    if files::append(&store.queue_path(), lines)? > MAX_QUEUE_BYTES {
        compact_locked(store, lines)?;
    }
    Ok(())
}

/// Reads the queue. The caller holds the lock, or accepts seeing a line being appended as
/// unreadable.
pub(crate) fn read_unlocked(store: &Store) -> io::Result<QueueContents> {
    let Some(bytes) = files::read_limited(&store.queue_path(), MAX_READABLE_BYTES)? else {
        return Ok(QueueContents::default());
    };
    let mut contents = QueueContents::default();
    for line in bytes.split(|b| *b == b'\n').filter(|line| !line.is_empty()) {
        match serde_json::from_slice::<WireEvent>(line) {
            Ok(event) => contents.events.push(event),
            Err(_) => contents.unreadable_lines += 1,
        }
    }
    Ok(contents)
}

/// Reads the queue under the lock.
pub fn read(store: &Store) -> io::Result<QueueContents> {
    // No folder, no queue; and a delivery reading here must not bring back a deleted home.
    if !store.dir().is_dir() {
        return Ok(QueueContents::default());
    }
    let _lock = store.lock_existing()?;
    read_unlocked(store)
}

/// The queue file's size in bytes (0 when there is none): a cheap way to notice new events.
pub(crate) fn size(store: &Store) -> u64 {
    std::fs::symlink_metadata(store.queue_path()).map_or(0, |metadata| metadata.len())
}

/// Replaces the queue with `events`. The caller holds the lock.
pub(crate) fn rewrite_locked(store: &Store, events: &[WireEvent]) -> io::Result<()> {
    let mut text = Vec::with_capacity(events.len() * 700);
    for event in events {
        serde_json::to_writer(&mut text, event).map_err(io::Error::other)?;
        text.push(b'\n');
    }
    files::write_atomic(&store.queue_path(), &text, files::PRIVATE_FILE_MODE)
}

/// Events a delivery is done with, by what became of them.
#[derive(Debug, Default)]
pub(crate) struct Done {
    /// Accepted by the server.
    pub(crate) sent: HashSet<Uuid>,
    /// Dropped (and counted in the state by the delivery).
    pub(crate) dropped: HashSet<Uuid>,
}

impl Done {
    pub(crate) fn len(&self) -> usize {
        self.sent.len() + self.dropped.len()
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub(crate) fn clear(&mut self) {
        self.sent.clear();
        self.dropped.clear();
    }
}

/// Removes the events that are `done`, keeping everything else, including what was appended
/// while they were being sent. Kept lines are copied as they are, not parsed and written again;
/// lines without a readable uuid are dropped and counted. The last of the removed events go to
/// the recent events, each marked sent or dropped, for `inspect`.
pub(crate) fn remove(store: &Store, done: &Done) -> io::Result<()> {
    remove_keeping(
        store,
        |uuid| {
            if done.sent.contains(uuid) {
                Some(Recorded::Sent)
            } else if done.dropped.contains(uuid) {
                Some(Recorded::Dropped)
            } else {
                None
            }
        },
        true,
    )
}

/// Removes the events with these uuids without keeping copies for `inspect`: for events
/// carrying an id that was deleted, which no file should hold any more.
pub(crate) fn discard(store: &Store, uuids: &HashSet<Uuid>) -> io::Result<()> {
    remove_keeping(
        store,
        |uuid| uuids.contains(uuid).then_some(Recorded::Dropped),
        false,
    )
}

/// Removes the events for which `outcome` says what became of them, keeping copies of the
/// last ones, marked so, when `keep_copies`.
fn remove_keeping(
    store: &Store,
    outcome: impl Fn(&Uuid) -> Option<Recorded>,
    keep_copies: bool,
) -> io::Result<()> {
    let _lock = store.lock_existing()?;
    let Some(bytes) = files::read_limited(&store.queue_path(), MAX_READABLE_BYTES)? else {
        return Ok(());
    };
    let mut kept = Vec::with_capacity(bytes.len());
    let mut removed = Vec::new();
    let mut unreadable = 0;
    for line in bytes.split(|b| *b == b'\n').filter(|line| !line.is_empty()) {
        match line_uuid(line).map(|uuid| outcome(&uuid)) {
            Some(Some(became)) => removed.push((line, became)),
            Some(None) => {
                kept.extend_from_slice(line);
                kept.push(b'\n');
            }
            None => unreadable += 1,
        }
    }
    let mut left_queue = Vec::new();
    let kept_copies = if keep_copies { recent::KEEP } else { 0 };
    for (line, became) in &removed[removed.len().saturating_sub(kept_copies)..] {
        left_queue.extend(recent::entry_line(*became, line));
    }
    // Before the queue is rewritten, so that a delivery stopped in between leaves the events in
    // both (shown as waiting) rather than in neither. The recent events are a convenience for
    // `inspect`: failing to keep them must not keep delivered events in the queue.
    if !left_queue.is_empty() {
        let _ = recent::append_locked(store, &left_queue);
    }
    files::write_atomic(&store.queue_path(), &kept, files::PRIVATE_FILE_MODE)?;
    if unreadable > 0 {
        state::update_locked(store, |s| {
            // Saturating: the counts come from a file, which may hold anything.
            s.dropped_unreadable = s.dropped_unreadable.saturating_add(unreadable)
        })?;
    }
    Ok(())
}

/// The uuid of a queue line, read from the start of the line where archon writes it
/// (`{"uuid":"…"`), else by parsing the line; `None` for a line that is not a wire object.
fn line_uuid(line: &[u8]) -> Option<Uuid> {
    const PREFIX: &[u8] = b"{\"uuid\":\"";
    let fast = line
        .strip_prefix(PREFIX)
        .and_then(|rest| rest.get(..36))
        .and_then(|text| Uuid::try_parse_ascii(text).ok());
    // The fast path only trusts a line that is also a whole wire object.
    match fast {
        Some(uuid) if line.ends_with(b"}") && line.len() > 60 => Some(uuid),
        _ => serde_json::from_slice::<WireEvent>(line)
            .ok()
            .map(|event| event.uuid),
    }
}

/// Empties the queue (telemetry was turned off), and counts a withdrawal so that a delivery
/// running meanwhile stops sending the events it had read.
pub(crate) fn clear(store: &Store) -> io::Result<()> {
    // No folder, no queue; and a delivery must not bring back a home deleted while it ran.
    if !store.dir().is_dir() {
        return Ok(());
    }
    let _lock = store.lock_existing()?;
    withdraw_all_locked(store)
}

/// [`clear`] for `archon telemetry off`: makes telemetry's folder if it is missing, so that
/// the withdrawal's mark can be left for processes that have not written anything yet.
pub(crate) fn withdraw(store: &Store) -> io::Result<()> {
    let _lock = store.lock()?;
    withdraw_all_locked(store)
}

/// Forgets every event on this machine that carries an anonymous id, for `archon telemetry
/// clear`: kept, they would link the deleted id to the next one. Empties the queue (every
/// waiting event carries the id it was recorded with), drops such events from the recent
/// events, and counts a withdrawal so that a running delivery stops. Returns how many events
/// were waiting. The caller holds the lock.
pub(crate) fn forget_identified_locked(store: &Store) -> io::Result<usize> {
    let waiting = match read_unlocked(store) {
        Ok(contents) => contents.events.len(),
        // Not readable as a queue: nothing in it would have been sent.
        Err(_) => 0,
    };
    // The queue first, and the recent events whatever became of it: what could be sent
    // matters most, and one file that cannot be changed must not keep the other as it was.
    let withdrawn = withdraw_all_locked(store);
    let forgotten = recent::forget_identified_locked(store);
    withdrawn.and(forgotten).map(|()| waiting)
}

/// Deletes the queue and notes a withdrawal: in the state (see
/// [`state::TelemetryState::withdrawals`]), so that a running delivery sends nothing more of
/// what it read, and as a new [`withdrawal`] mark, so that an archon process that started
/// before it writes none of the events it still holds. The caller holds the lock.
///
/// Each step is tried whatever became of the others (a queue that cannot be removed must not
/// keep running processes from learning of the withdrawal); the first error is returned.
fn withdraw_all_locked(store: &Store) -> io::Result<()> {
    let counted = state::update_locked(store, |s| s.withdrawals = s.withdrawals.wrapping_add(1));
    let marked = withdrawal::leave_locked(store);
    let removed = files::remove_if_exists(&store.queue_path());
    counted.and(marked).and(removed)
}

/// Brings the queue back under its caps by dropping the oldest events, and counts them. A
/// queue that cannot be read at all (not ours, or far too large) is started afresh with only
/// `just_appended`, the lines whose append found it so.
fn compact_locked(store: &Store, just_appended: &[u8]) -> io::Result<()> {
    let contents = match read_unlocked(store) {
        Ok(contents) => contents,
        Err(error) if error.kind() == io::ErrorKind::FileTooLarge => QueueContents {
            events: just_appended
                .split(|b| *b == b'\n')
                .filter_map(|line| serde_json::from_slice::<WireEvent>(line).ok())
                .collect(),
            unreadable_lines: 1,
        },
        Err(error) => return Err(error),
    };
    // Aim below the caps so the next appends do not compact again straight away.
    let target_bytes = MAX_QUEUE_BYTES * 9 / 10;
    let target_events = MAX_QUEUE_EVENTS * 9 / 10;
    let sizes: Vec<u64> = contents
        .events
        .iter()
        .map(|event| serde_json::to_vec(event).map_or(0, |v| v.len() as u64 + 1))
        .collect();
    let mut total: u64 = sizes.iter().sum();
    let mut first_kept = 0;
    while first_kept < contents.events.len()
        && (total > target_bytes || contents.events.len() - first_kept > target_events)
    {
        total -= sizes[first_kept];
        first_kept += 1;
    }
    rewrite_locked(store, &contents.events[first_kept..])?;
    let dropped = first_kept as u64;
    let unreadable = contents.unreadable_lines;
    state::update_locked(store, |s| {
        s.dropped_queue_full = s.dropped_queue_full.saturating_add(dropped);
        s.dropped_unreadable = s.dropped_unreadable.saturating_add(unreadable);
    })
}
