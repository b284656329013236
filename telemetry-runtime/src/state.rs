//! What telemetry remembers between runs besides the events: when the user opted in, how the
//! last deliveries went, and how many events were dropped and why. `archon telemetry status`
//! reports it; the exit path reads it to back off while offline.

use crate::files;
use crate::store::Store;
use serde::{Deserialize, Serialize};
use std::io;

/// The contents of `state.json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TelemetryState {
    /// When telemetry was last turned on (RFC 3339). Events captured before it are never sent.
    pub opted_in_at: Option<String>,
    /// When a delivery last sent events successfully.
    pub last_success_at: Option<String>,
    /// When a delivery last failed.
    pub last_failure_at: Option<String>,
    /// What the last delivery did, in a few words.
    pub last_outcome: Option<String>,
    /// Failed deliveries since the last success; the exit path waits longer after each.
    pub consecutive_failures: u32,
    /// Events sent successfully, ever.
    pub delivered: u64,
    /// Events dropped because the queue was full (the oldest go first).
    pub dropped_queue_full: u64,
    /// Events the server rejected as malformed.
    pub dropped_rejected: u64,
    /// Events dropped because they were captured before the user opted in.
    pub dropped_before_opt_in: u64,
    /// Queue lines that could not be read, or that held an event archon could not have
    /// recorded.
    pub dropped_unreadable: u64,
    /// How many times waiting events were withdrawn (telemetry turned off, or the id
    /// cleared). A running delivery notices the change and sends nothing more of what it read
    /// before it.
    pub withdrawals: u64,
}

const MAX_STATE_BYTES: u64 = 64 * 1024;

/// The state, or the default when there is none or it cannot be read.
pub fn read(store: &Store) -> TelemetryState {
    files::read_limited(&store.state_path(), MAX_STATE_BYTES)
        .ok()
        .flatten()
        .and_then(|bytes| serde_json::from_slice(&bytes).ok())
        .unwrap_or_default()
}

/// Changes the state with `change`, under the store's lock.
pub fn update(store: &Store, change: impl FnOnce(&mut TelemetryState)) -> io::Result<()> {
    let _lock = store.lock()?;
    update_locked(store, change)
}

/// [`update`] for a caller that already holds the lock.
pub(crate) fn update_locked(
    store: &Store,
    change: impl FnOnce(&mut TelemetryState),
) -> io::Result<()> {
    let mut state = read(store);
    change(&mut state);
    let json = serde_json::to_vec_pretty(&state).map_err(io::Error::other)?;
    files::write_atomic(&store.state_path(), &json, files::PRIVATE_FILE_MODE)
}
