//! The last events recorded, whatever happened to them, so `archon telemetry inspect` can show
//! exactly what was (or would have been) sent.
//!
//! `recent.jsonl` keeps the last events that are not in the queue: those recorded only locally,
//! and those that left the queue (sent, or dropped with a count). `inspect` shows them together
//! with the newest events still waiting in the queue.

use crate::files;
use crate::identity;
use crate::queue;
use crate::store::Store;
use crate::wire::WireEvent;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::io;
use uuid::Uuid;

/// How many events `inspect` can show.
pub const KEEP: usize = 10;
/// The file is trimmed back to [`KEEP`] events when it grows past this.
const TRIM_AT_BYTES: u64 = 32 * 1024;
const MAX_READABLE_BYTES: u64 = 1024 * 1024;

/// How an event was recorded and, once it has left the queue, what became of it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Recorded {
    /// Queued to be sent: an event in the queue, as [`read`] shows it. In `recent.jsonl`, an
    /// event that has left the queue, sent or dropped, as earlier versions of archon wrote it
    /// before they told the two apart.
    Queued,
    /// Kept here only: telemetry was not on, or this build cannot send.
    LocalOnly,
    /// Queued, and sent: the server accepted it.
    Sent,
    /// Queued, and dropped by a delivery.
    Dropped,
}

/// One line of `recent.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecentEntry {
    /// How it was recorded, and what became of it.
    pub recorded: Recorded,
    /// The event as sent (or as it would have been sent).
    pub event: WireEvent,
}

/// What has become of a recent event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Never sent: recorded without an anonymous id, while telemetry was undecided (or on, in
    /// a run that could not make the id). Such an event is never sent, even after opting in.
    WithoutId,
    /// Not sent, kept here only: recorded with the id on the run that showed the first-run
    /// notice, or by a build that cannot send.
    KeptLocal,
    /// In the queue, waiting for the delivery process.
    Waiting,
    /// Sent: the server accepted it.
    Sent,
    /// Dropped by a delivery: recorded before the last opt-in, refused by the server, or not
    /// an event archon can send. (A request that timed out may still have reached the server,
    /// so this does not promise the server never saw it.)
    Dropped,
    /// In the queue under an anonymous id that has since been deleted (by hand, or by a
    /// `clear` while the command that recorded it ran): the next delivery discards it unsent.
    UnderDeletedId,
    /// No longer in the queue: sent, or dropped with a count in `status` (kept so by versions
    /// of archon that did not tell the two apart).
    LeftQueue,
}

impl DeliveryStatus {
    /// What became of `entry`, kept here and no longer in the queue.
    pub fn of_kept(entry: &RecentEntry) -> DeliveryStatus {
        match (entry.recorded, &entry.event.distinct_id) {
            (Recorded::LocalOnly, None) => DeliveryStatus::WithoutId,
            (Recorded::LocalOnly, Some(_)) => DeliveryStatus::KeptLocal,
            (Recorded::Queued, _) => DeliveryStatus::LeftQueue,
            (Recorded::Sent, _) => DeliveryStatus::Sent,
            (Recorded::Dropped, _) => DeliveryStatus::Dropped,
        }
    }

    /// A few words for people.
    pub fn describe(self) -> &'static str {
        match self {
            DeliveryStatus::WithoutId => {
                "not sent: recorded without an anonymous id (before you opted in, or when the id could not be made); never sent"
            }
            DeliveryStatus::KeptLocal => {
                "not sent: recorded on the run that showed the first-run notice, or by a build that cannot send"
            }
            DeliveryStatus::Waiting => "waiting to be sent",
            DeliveryStatus::UnderDeletedId => {
                "not sent: recorded under an anonymous id that has since been deleted; the next delivery discards it"
            }
            DeliveryStatus::Sent => "sent",
            DeliveryStatus::Dropped => {
                "dropped by a delivery: recorded before you last opted in, refused by the server, or not an event archon can send"
            }
            DeliveryStatus::LeftQueue => "sent (or dropped, see `archon telemetry status`)",
        }
    }
}

/// One line of `recent.jsonl` for the wire object `event_json`: `{"recorded":…,"event":…}` and a
/// newline, built around the bytes as they are so that `inspect` shows exactly those bytes.
pub(crate) fn entry_line(recorded: Recorded, event_json: &[u8]) -> Vec<u8> {
    let recorded = match recorded {
        Recorded::Queued => "\"queued\"",
        Recorded::LocalOnly => "\"local_only\"",
        Recorded::Sent => "\"sent\"",
        Recorded::Dropped => "\"dropped\"",
    };
    let mut line = Vec::with_capacity(event_json.len() + 40);
    line.extend_from_slice(b"{\"recorded\":");
    line.extend_from_slice(recorded.as_bytes());
    line.extend_from_slice(b",\"event\":");
    line.extend_from_slice(event_json);
    line.extend_from_slice(b"}\n");
    line
}

/// Appends `lines` (whole [`entry_line`]s). The caller holds the lock.
///
/// Events recorded locally only are appended as they are recorded; queued events are appended
/// by the delivery as they leave the queue, so recording an event that will be sent writes one
/// file, not two.
pub(crate) fn append_locked(store: &Store, lines: &[u8]) -> io::Result<()> {
    if files::append(&store.recent_path(), lines)? > TRIM_AT_BYTES {
        let bytes = match files::read_limited(&store.recent_path(), MAX_READABLE_BYTES) {
            Ok(bytes) => bytes.unwrap_or_default(),
            // Far too large to be ours: start afresh with the lines just appended.
            Err(error) if error.kind() == io::ErrorKind::FileTooLarge => lines.to_vec(),
            Err(error) => return Err(error),
        };
        files::write_atomic(
            &store.recent_path(),
            &last_entries(&bytes, KEEP),
            files::PRIVATE_FILE_MODE,
        )?;
    }
    Ok(())
}

/// Removes the entries that carry an anonymous id, keeping the others as they are (see
/// [`queue::forget_identified_locked`]). The caller holds the lock.
pub(crate) fn forget_identified_locked(store: &Store) -> io::Result<()> {
    let bytes = match files::read_limited(&store.recent_path(), MAX_READABLE_BYTES) {
        Ok(Some(bytes)) => bytes,
        Ok(None) => return Ok(()),
        Err(error) if error.kind() == io::ErrorKind::FileTooLarge => {
            return files::remove_if_exists(&store.recent_path())
        }
        Err(error) => return Err(error),
    };
    // A line that cannot be read may hold an id too: it goes.
    let kept: Vec<&[u8]> = bytes
        .split(|b| *b == b'\n')
        .filter(|line| {
            serde_json::from_slice::<RecentEntry>(line)
                .is_ok_and(|entry| entry.event.distinct_id.is_none())
        })
        .collect();
    files::write_atomic(
        &store.recent_path(),
        &lines_text(&kept),
        files::PRIVATE_FILE_MODE,
    )
}

/// The last `count` lines of `bytes` that are entries, as they are (only those are parsed, and
/// nothing is written again differently), each with its newline.
fn last_entries(bytes: &[u8], count: usize) -> Vec<u8> {
    let mut kept: Vec<&[u8]> = bytes
        .rsplit(|b| *b == b'\n')
        .filter(|line| serde_json::from_slice::<RecentEntry>(line).is_ok())
        .take(count)
        .collect();
    kept.reverse();
    lines_text(&kept)
}

/// `lines` as a file's text, each with its newline.
fn lines_text(lines: &[&[u8]]) -> Vec<u8> {
    let mut text = Vec::with_capacity(lines.iter().map(|line| line.len() + 1).sum());
    for line in lines {
        text.extend_from_slice(line);
        text.push(b'\n');
    }
    text
}

fn read_unlocked(store: &Store) -> io::Result<Vec<RecentEntry>> {
    let bytes = files::read_limited(&store.recent_path(), MAX_READABLE_BYTES)?.unwrap_or_default();
    Ok(parse(&bytes))
}

/// The entries in `bytes`, skipping lines that are not one.
fn parse(bytes: &[u8]) -> Vec<RecentEntry> {
    bytes
        .split(|b| *b == b'\n')
        .filter_map(|line| serde_json::from_slice(line).ok())
        .collect()
}

/// The last `limit` events (at most [`KEEP`]) recorded, oldest first, each with what became of
/// it: those kept here, then those still waiting in the queue.
///
/// The order is the order of the files, not of the timestamps, so that a clock set wrong once
/// never hides the event just recorded. Events waiting in the queue are shown after those kept
/// here, which is the order they were recorded in unless an event was kept locally while others
/// waited (a first run with `ARCHON_TELEMETRY=1`, say).
///
/// Like [`overview`], it does not wait for the lock: held by another process, the files are
/// read without it.
pub fn read(store: &Store, limit: usize) -> io::Result<Vec<(RecentEntry, DeliveryStatus)>> {
    // No folder, nothing recorded; and showing that is no reason to make one.
    if !store.dir().is_dir() {
        return Ok(Vec::new());
    }
    let _lock = store.try_lock_existing()?;
    let queued = queue::read_unlocked(store)
        .map(|contents| contents.events)
        .unwrap_or_default();
    shown_with(store, queued, identity::read_id(store), limit)
}

/// What `archon telemetry status` shows of the files, read together under one lock.
#[derive(Debug)]
pub struct Overview {
    /// How many events wait in the queue, or why the queue cannot be read.
    pub waiting: io::Result<Waiting>,
    /// The newest event, as [`read`] orders them; `None` when there is none or the files
    /// cannot be read.
    pub newest: Option<RecentEntry>,
}

/// The events in the queue, by what the next delivery does with them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Waiting {
    /// Sent (if telemetry is still on).
    pub to_send: usize,
    /// Discarded unsent: recorded under an anonymous id that has since been deleted
    /// ([`DeliveryStatus::UnderDeletedId`]).
    pub under_deleted_id: usize,
}

/// Reads the queue and the recent events once, for `status`. Does not create telemetry's
/// folder: a status check leaves no trace. Nor does it wait for the lock: held by another
/// process, the files are read without it, and an event being written may be missed.
pub fn overview(store: &Store) -> io::Result<Overview> {
    let _lock = store.try_lock_existing()?;
    let current_id = identity::read_id(store);
    let (queued, waiting) = match queue::read_unlocked(store) {
        Ok(contents) => {
            let to_send = contents
                .events
                .iter()
                .filter(|event| identity::still_linked(event, current_id.as_ref()))
                .count();
            let waiting = Waiting {
                to_send,
                under_deleted_id: contents.events.len() - to_send,
            };
            (contents.events, Ok(waiting))
        }
        Err(error) => (Vec::new(), Err(error)),
    };
    let newest = shown_with(store, queued, current_id, 1)
        .ok()
        .and_then(|mut shown| shown.pop())
        .map(|(entry, _)| entry);
    Ok(Overview { waiting, newest })
}

/// The last `limit` events (at most [`KEEP`]) of those kept here followed by `queued`, the
/// queue's events, each with what became of it (`current_id`: the anonymous id now, which
/// tells the queued events that will be discarded). The caller holds the lock.
fn shown_with(
    store: &Store,
    queued: Vec<WireEvent>,
    current_id: Option<Uuid>,
    limit: usize,
) -> io::Result<Vec<(RecentEntry, DeliveryStatus)>> {
    let limit = limit.min(KEEP);
    let waiting: HashSet<Uuid> = queued.iter().map(|event| event.uuid).collect();
    // A file too large to be archon's is replaced at the next append; until then the queue
    // still shows what is waiting.
    let kept = match read_unlocked(store) {
        Err(error) if error.kind() == io::ErrorKind::FileTooLarge => Vec::new(),
        other => other?,
    };
    let mut shown: Vec<(RecentEntry, DeliveryStatus)> = kept
        .into_iter()
        // Left in both by a delivery stopped between its two writes: still waiting.
        .filter(|entry| !waiting.contains(&entry.event.uuid))
        .map(|entry| {
            let status = DeliveryStatus::of_kept(&entry);
            (entry, status)
        })
        .collect();
    let newest_queued = queued.len().saturating_sub(limit);
    shown.extend(queued.into_iter().skip(newest_queued).map(|event| {
        let status = if identity::still_linked(&event, current_id.as_ref()) {
            DeliveryStatus::Waiting
        } else {
            DeliveryStatus::UnderDeletedId
        };
        let entry = RecentEntry {
            recorded: Recorded::Queued,
            event,
        };
        (entry, status)
    }));
    Ok(shown.split_off(shown.len().saturating_sub(limit)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(n: u128) -> Vec<u8> {
        let event = WireEvent {
            uuid: Uuid::from_u128(n),
            event: "binary.startup".to_owned(),
            distinct_id: None,
            properties: serde_json::Map::new(),
            timestamp: "2026-11-25T18:00:00.000Z".to_owned(),
        };
        entry_line(Recorded::LocalOnly, &serde_json::to_vec(&event).unwrap())
    }

    /// A line as earlier versions wrote it when an event left the queue, spelled out rather than
    /// serialised by this version: still read, with the label that does not tell sent from
    /// dropped.
    #[test]
    fn a_copy_written_before_sent_and_dropped_were_told_apart_is_still_read() {
        let line = br#"{"recorded":"queued","event":{"uuid":"00000000-0000-4000-8000-000000000001","event":"binary.startup","distinct_id":"00000000-0000-4000-8000-000000000002","properties":{},"timestamp":"2026-11-25T18:00:00.000Z"}}"#;
        let entries = parse(line);
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0].recorded, Recorded::Queued);
        assert_eq!(
            DeliveryStatus::of_kept(&entries[0]),
            DeliveryStatus::LeftQueue
        );
        for (word, status) in [
            ("sent", DeliveryStatus::Sent),
            ("dropped", DeliveryStatus::Dropped),
        ] {
            let text = String::from_utf8_lossy(line).replace("\"queued\"", &format!("\"{word}\""));
            assert_eq!(DeliveryStatus::of_kept(&parse(text.as_bytes())[0]), status);
        }
    }

    #[test]
    fn trimming_keeps_the_last_entries_byte_for_byte_and_drops_garbage() {
        let mut bytes = Vec::new();
        for n in 1..=5 {
            bytes.extend(entry(n));
            bytes.extend_from_slice(b"{garbage\n");
        }
        bytes.extend_from_slice(b"\n\n");
        let kept = last_entries(&bytes, 3);
        assert_eq!(kept, [entry(3), entry(4), entry(5)].concat());
        assert_eq!(last_entries(&kept, 10), kept);
        assert!(last_entries(b"not json\n", 10).is_empty());
    }
}
