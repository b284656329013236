//! The last events recorded, whatever happened to them, so `archon telemetry inspect` can show
//! exactly what was (or would have been) sent.

use crate::files;
use crate::queue;
use crate::store::Store;
use crate::wire::WireEvent;
use serde::{Deserialize, Serialize};
use std::io;

/// How many events `inspect` can show.
pub const KEEP: usize = 10;
/// The file is trimmed back to [`KEEP`] events when it grows past this.
const TRIM_AT_BYTES: u64 = 32 * 1024;
const MAX_READABLE_BYTES: u64 = 1024 * 1024;

/// Why an event was recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Recorded {
    /// Queued to be sent.
    Queued,
    /// Kept here only: telemetry was not on, or this build cannot send.
    LocalOnly,
}

/// One line of `recent.jsonl`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RecentEntry {
    /// Why it was recorded.
    pub recorded: Recorded,
    /// The event as sent (or as it would have been sent).
    pub event: WireEvent,
}

/// What has become of a recent event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliveryStatus {
    /// Never sent: recorded while telemetry was not on (or by a build that cannot send).
    NotSent,
    /// In the queue, waiting for the delivery process.
    Waiting,
    /// No longer in the queue: sent, or dropped with a count in `status`.
    LeftQueue,
}

impl DeliveryStatus {
    /// A few words for people.
    pub fn describe(self) -> &'static str {
        match self {
            DeliveryStatus::NotSent => {
                "not sent: recorded while telemetry was not on, on the first run, or by a build that cannot send"
            }
            DeliveryStatus::Waiting => "waiting to be sent",
            DeliveryStatus::LeftQueue => "sent (or dropped, see `archon telemetry status`)",
        }
    }
}

/// Appends `line` (one serialised [`RecentEntry`] and a newline). The caller holds the lock.
pub(crate) fn append_locked(store: &Store, line: &[u8]) -> io::Result<()> {
    if files::append(&store.recent_path(), line)? > TRIM_AT_BYTES {
        let entries = match read_unlocked(store) {
            Ok(entries) => entries,
            // Far too large to be ours: start afresh with the line just appended.
            Err(error) if error.kind() == io::ErrorKind::FileTooLarge => {
                serde_json::from_slice::<RecentEntry>(line)
                    .into_iter()
                    .collect()
            }
            Err(error) => return Err(error),
        };
        let keep = &entries[entries.len().saturating_sub(KEEP)..];
        let mut text = Vec::new();
        for entry in keep {
            serde_json::to_writer(&mut text, entry).map_err(io::Error::other)?;
            text.push(b'\n');
        }
        files::write_atomic(&store.recent_path(), &text, files::PRIVATE_FILE_MODE)?;
    }
    Ok(())
}

fn read_unlocked(store: &Store) -> io::Result<Vec<RecentEntry>> {
    let bytes = files::read_limited(&store.recent_path(), MAX_READABLE_BYTES)?.unwrap_or_default();
    Ok(bytes
        .split(|b| *b == b'\n')
        .filter_map(|line| serde_json::from_slice(line).ok())
        .collect())
}

/// The last `limit` events (at most [`KEEP`]), oldest first, each with what became of it.
pub fn read(store: &Store, limit: usize) -> io::Result<Vec<(RecentEntry, DeliveryStatus)>> {
    let _lock = store.lock()?;
    let entries = read_unlocked(store)?;
    let waiting: std::collections::HashSet<_> = queue::read_unlocked(store)
        .map(|q| q.events.into_iter().map(|e| e.uuid).collect())
        .unwrap_or_default();
    let start = entries.len().saturating_sub(limit.min(KEEP));
    Ok(entries[start..]
        .iter()
        .cloned()
        .map(|entry| {
            let status = match entry.recorded {
                Recorded::LocalOnly => DeliveryStatus::NotSent,
                Recorded::Queued if waiting.contains(&entry.event.uuid) => DeliveryStatus::Waiting,
                Recorded::Queued => DeliveryStatus::LeftQueue,
            };
            (entry, status)
        })
        .collect())
}
