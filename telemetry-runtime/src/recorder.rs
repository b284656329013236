//! Recording events: the one way into telemetry for the rest of archon.
//!
//! [`Telemetry::start`] decides once per process what recording means (nothing, local only,
//! queued, or printed for debugging); [`Telemetry::record`] accepts only `#[telemetry_event]`
//! structs from the catalog; [`Telemetry::finish`] writes what is pending and starts the
//! delivery process when there is something to send. None of it can fail or panic, and nothing
//! is printed but the events `ARCHON_TELEMETRY_DEBUG` asks for: problems degrade telemetry and
//! are explained by `archon telemetry status`.
//!
//! Events recorded in a process's first second are kept in memory and written in one append
//! under the lock: by [`Telemetry::finish`] or an explicit [`Telemetry::flush`], by the first
//! event recorded after that second, or once 64 KiB are pending (there is no timer). A short
//! command records about three events, so this saves it two of three lock-and-append rounds. A
//! command that runs longer writes each later event as it happens, so a process killed
//! mid-workflow loses at most its first second's events.

use crate::build_config;
use crate::config;
use crate::consent::{self, Consent, ConsentState};
use crate::delivery::spawn;
use crate::environment::Environment;
use crate::files::HeldLock;
use crate::identity;
use crate::queue;
use crate::recent::{self, Recorded};
use crate::store::Store;
use crate::wire::{self, SharedProperties, WireEvent};
use crate::withdrawal;
use std::io::Write;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};
use telemetry_schema::{event_by_name, BaseProperties, TelemetryEvent};
use uuid::Uuid;

thread_local! {
    /// Whether this thread is keeping or writing an event (see [`Telemetry::guarded`]).
    static STORING: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// What `ARCHON_TELEMETRY_DEBUG` prints instead of the anonymous id.
const DEBUG_ID_PLACEHOLDER: &str = "<your anonymous id: see `archon telemetry status`>";

/// Events recorded this long after start are written at once, with everything pending.
const WRITE_BEHIND: Duration = Duration::from_secs(1);
/// Pending events are written once they reach this size, however young the process.
const MAX_PENDING_BYTES: usize = 64 * 1024;

/// Serialised lines not written yet.
#[derive(Debug, Default)]
struct Pending {
    /// Wire objects for the queue, one a line.
    queue: Vec<u8>,
    /// Entries for the recent events (events kept locally only).
    recent: Vec<u8>,
}

/// Where a recorded event is kept until it is written.
#[derive(Debug, Clone, Copy)]
enum Kept {
    /// In the queue, to be sent.
    Queued,
    /// In the recent events only, for `inspect`.
    LocalOnly,
}

/// What recording does in this process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    /// Nothing at all.
    Off,
    /// Kept in the recent events for `inspect`, never queued: telemetry is undecided, on in a
    /// build that cannot send, on without an anonymous id (it could not be created), or on in
    /// the run that showed the first-run notice.
    LocalOnly { distinct_id: Option<Uuid> },
    /// Queued for delivery and kept in the recent events.
    Queue { distinct_id: Uuid },
    /// `ARCHON_TELEMETRY_DEBUG`: printed to stderr, nothing stored or sent.
    Debug { distinct_id: Option<Uuid> },
}

/// Telemetry for one archon process.
///
/// It can be shared between threads (archon's panic hook records through the same one as the
/// thread that panicked).
#[derive(Debug)]
pub struct Telemetry {
    mode: Mutex<Mode>,
    /// The store's lock file, opened on the first write and kept open.
    lock_file: Mutex<Option<std::fs::File>>,
    /// Recorded, not yet written.
    pending: Mutex<Pending>,
    started: Instant,
    /// The withdrawal mark when this process started, noted before consent was read: a new
    /// one means the waiting events were withdrawn (`archon telemetry off` or `clear`) since,
    /// perhaps after this process read config.yaml as on, and its events are no longer wanted.
    withdrawal_mark: withdrawal::Mark,
    consent: Consent,
    store: Option<Store>,
    env: Environment,
    base: BaseProperties,
    /// `base` and PostHog's properties as JSON, made by the first event written.
    shared: OnceLock<SharedProperties>,
    queued_any: AtomicBool,
    /// Whether [`Telemetry::finish`] may start a delivery (see [`Telemetry::hold_delivery`]).
    delivery_held: AtomicBool,
    /// Why this process could not record as consent asks, if it could not (the first reason).
    problem: Mutex<Option<String>>,
}

impl Telemetry {
    /// Resolves consent from `env` and config.yaml and prepares to record accordingly.
    pub fn start(env: Environment) -> Telemetry {
        Telemetry::start_with_key(env, build_config::POSTHOG_KEY)
    }

    /// [`Telemetry::start`] as if this build had been given `key`: events are queued when
    /// telemetry is on. For tests and benchmarks; sending still needs consent and a delivery
    /// (only the build's own key is used by the delivery process).
    pub fn start_with_key(env: Environment, key: Option<&str>) -> Telemetry {
        let store = env.archon_home().map(Store::new);
        let from_environment = consent::from_environment(&env);
        // Before config.yaml is read (see `withdrawal`); not needed when a variable says off.
        let withdrawal_mark = match (&store, &from_environment) {
            (Some(_), Some(consent)) if consent.state == ConsentState::Off => Default::default(),
            (Some(store), _) => withdrawal::current(store),
            (None, _) => Default::default(),
        };
        let consent = from_environment.unwrap_or_else(|| consent_from_config(store.as_ref()));
        let can_send = key.is_some_and(|key| !key.is_empty());
        let mut problem = None;
        let mode = match (&store, consent.state) {
            (None, _) | (_, ConsentState::Off) => Mode::Off,
            (Some(store), ConsentState::On) => {
                // An id that cannot be created means events cannot be attributed: keep them
                // local rather than send them under a made-up id.
                let mut lock_timed_out = false;
                let distinct_id = identity::get_or_create(store)
                    .map_err(|error| {
                        lock_timed_out = error.kind() == std::io::ErrorKind::TimedOut;
                        problem = Some(format!(
                            "the anonymous id cannot be created ({error}), so nothing is sent"
                        ));
                    })
                    .ok();
                match (env.debug(), can_send, distinct_id) {
                    // Debugging writes nothing, so a stuck lock does not stop it.
                    (true, _, id) => Mode::Debug { distinct_id: id },
                    // The store's lock is held elsewhere: writing would wait as long again.
                    _ if lock_timed_out => Mode::Off,
                    (false, true, Some(id)) => Mode::Queue { distinct_id: id },
                    (false, _, id) => Mode::LocalOnly { distinct_id: id },
                }
            }
            (Some(_), ConsentState::Undecided) if env.debug() => Mode::Debug { distinct_id: None },
            (Some(_), ConsentState::Undecided) => Mode::LocalOnly { distinct_id: None },
        };
        Telemetry {
            mode: Mutex::new(mode),
            lock_file: Mutex::new(None),
            pending: Mutex::new(Pending::default()),
            started: Instant::now(),
            withdrawal_mark,
            consent,
            store,
            base: BaseProperties::for_this_build(env.is_ci),
            shared: OnceLock::new(),
            env,
            queued_any: AtomicBool::new(false),
            delivery_held: AtomicBool::new(false),
            problem: Mutex::new(problem),
        }
    }

    /// Resolves consent as [`Telemetry::start`] does, and records nothing: for a command whose
    /// own events would be discarded (`archon telemetry off` and `clear`), so that it never
    /// creates an anonymous id either, not even the one `clear` has just deleted.
    pub fn start_without_recording(env: Environment) -> Telemetry {
        let store = env.archon_home().map(Store::new);
        let mut telemetry = Telemetry::disabled();
        telemetry.consent =
            consent::from_environment(&env).unwrap_or_else(|| consent_from_config(store.as_ref()));
        telemetry.store = store;
        telemetry.env = env;
        telemetry
    }

    /// Telemetry that records nothing.
    pub fn disabled() -> Telemetry {
        Telemetry {
            mode: Mutex::new(Mode::Off),
            lock_file: Mutex::new(None),
            pending: Mutex::new(Pending::default()),
            started: Instant::now(),
            withdrawal_mark: Default::default(),
            consent: Consent {
                state: ConsentState::Off,
                source: consent::ConsentSource::Default,
            },
            store: None,
            env: Environment::default(),
            base: BaseProperties::for_this_build(false),
            shared: OnceLock::new(),
            queued_any: AtomicBool::new(false),
            delivery_held: AtomicBool::new(false),
            problem: Mutex::new(None),
        }
    }

    fn mode(&self) -> Mode {
        *lock(&self.mode)
    }

    /// True when events recorded by this process may be sent.
    pub fn is_sending(&self) -> bool {
        matches!(self.mode(), Mode::Queue { .. })
    }

    /// Consent as resolved at start.
    pub fn consent(&self) -> &Consent {
        &self.consent
    }

    /// Why this process could not record (or queue) events as consent asks, if it could not:
    /// the anonymous id or telemetry's files cannot be created or written. Telemetry degrades
    /// silently; `archon telemetry status` shows this.
    pub fn problem(&self) -> Option<String> {
        lock(&self.problem).clone()
    }

    fn note_problem(&self, problem: impl FnOnce() -> String) {
        let mut slot = lock(&self.problem);
        if slot.is_none() {
            *slot = Some(problem());
        }
    }

    /// Keeps this process's events local: recorded for `inspect`, never sent. Used for the run
    /// that shows the first-run notice, so nothing is sent before the user has seen it.
    pub fn keep_local(&self) {
        let mut mode = lock(&self.mode);
        if let Mode::Queue { distinct_id } = *mode {
            *mode = Mode::LocalOnly {
                distinct_id: Some(distinct_id),
            };
        }
    }

    /// Leaves this process's events, and those it finds waiting, for the next command to
    /// deliver (or for a delivery already running, which stays a few seconds after the command
    /// that started it): [`Telemetry::finish`] starts no delivery. For the commands that only
    /// show what is recorded (`archon telemetry status` and `inspect`): looking at the waiting
    /// events must not be what sends them.
    pub fn hold_delivery(&self) {
        self.delivery_held.store(true, Ordering::SeqCst);
    }

    /// Stops recording: this process turned telemetry off. What it recorded and has not
    /// written yet is forgotten, so nothing of the run that opted out is queued after it.
    pub fn stop(&self) {
        *lock(&self.mode) = Mode::Off;
        *lock(&self.pending) = Pending::default();
    }

    /// Records `event`. Events that are not in the catalog (which only a hand-written
    /// `TelemetryEvent` implementation could produce) are ignored.
    pub fn record<E: TelemetryEvent>(&self, event: &E) {
        let mode = self.mode();
        if mode == Mode::Off {
            return;
        }
        let in_catalog = event_by_name(E::SCHEMA.name)
            .is_some_and(|known| known.rust_name == E::SCHEMA.rust_name);
        if !in_catalog {
            return;
        }
        let now = chrono::Utc::now();
        match mode {
            Mode::Off => {}
            Mode::Debug { distinct_id } => {
                let mut wire = WireEvent::new(event, &self.base, distinct_id, now);
                // Debug output ends up pasted into bug reports: the id would link the report to
                // everything sent under it.
                if wire.distinct_id.is_some() {
                    wire.distinct_id = Some(DEBUG_ID_PLACEHOLDER.to_owned());
                }
                if let Ok(json) = serde_json::to_string_pretty(&wire) {
                    let _ = writeln!(
                        std::io::stderr().lock(),
                        "archon telemetry (debug, not sent): {json}"
                    );
                }
            }
            Mode::LocalOnly { distinct_id } => {
                self.keep(&self.event_json(event, distinct_id, now), Kept::LocalOnly)
            }
            Mode::Queue { distinct_id } => self.keep(
                &self.event_json(event, Some(distinct_id), now),
                Kept::Queued,
            ),
        }
    }

    /// The wire object of `event` as JSON text, with a new uuid.
    fn event_json<E: TelemetryEvent>(
        &self,
        event: &E,
        distinct_id: Option<Uuid>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Vec<u8> {
        let shared = self.shared.get_or_init(|| SharedProperties::of(&self.base));
        let mut json = Vec::with_capacity(1024);
        wire::write_json(&mut json, event, shared, distinct_id, Uuid::new_v4(), now);
        json
    }

    /// Runs `action` unless this thread is already keeping or writing an event: a panic there
    /// runs archon's panic hook, which records `error.uncaught`, and waiting for the locks this
    /// thread holds would deadlock.
    fn guarded(&self, action: impl FnOnce()) {
        if STORING.with(|storing| storing.replace(true)) {
            return;
        }
        action();
        STORING.with(|storing| storing.set(false));
    }

    /// Adds `event` to the pending events, and writes them all when the process is past its
    /// first second or they have grown large.
    fn keep(&self, json: &[u8], kept: Kept) {
        let mut write_now = self.started.elapsed() >= WRITE_BEHIND;
        self.guarded(|| {
            let mut pending = lock(&self.pending);
            match kept {
                Kept::Queued => {
                    pending.queue.extend_from_slice(json);
                    pending.queue.push(b'\n');
                }
                Kept::LocalOnly => pending
                    .recent
                    .extend(recent::entry_line(Recorded::LocalOnly, json)),
            }
            write_now |= pending.queue.len() + pending.recent.len() >= MAX_PENDING_BYTES;
        });
        if write_now {
            self.flush();
        }
    }

    /// Writes the pending events now. [`Telemetry::finish`] does this too; on failure the
    /// reason is noted for `status`.
    pub fn flush(&self) {
        self.guarded(|| {
            let pending = std::mem::take(&mut *lock(&self.pending));
            if pending.queue.is_empty() && pending.recent.is_empty() {
                return;
            }
            match self.write(&pending) {
                Ok(true) => self.queued_any.store(true, Ordering::SeqCst),
                Ok(false) => {}
                Err(error) => {
                    // The lock was held elsewhere for as long as telemetry waits: waiting again
                    // for each later event would make the command that much slower each time.
                    if error.kind() == std::io::ErrorKind::TimedOut {
                        *lock(&self.mode) = Mode::Off;
                    }
                    // Worth explaining only to someone who opted in; otherwise the events were
                    // only kept for `inspect`.
                    if let (Some(store), ConsentState::On) = (&self.store, self.consent.state) {
                        self.note_problem(|| {
                            format!(
                                "events cannot be stored in {} ({error})",
                                store.dir().display()
                            )
                        });
                    }
                }
            }
        });
    }

    /// Appends `pending` under the store's lock, unless the events it carries an id in were
    /// withdrawn since this process started. Returns whether events were queued.
    fn write(&self, pending: &Pending) -> std::io::Result<bool> {
        let Some(store) = &self.store else {
            return Ok(false);
        };
        let mut lock_file = lock(&self.lock_file);
        let first_write = lock_file.is_none();
        if first_write {
            // Checks that no folder is another user's link (see `Store::refuse_foreign_links`).
            *lock_file = Some(store.open_lock_file()?);
        }
        let Some(file) = lock_file.as_ref() else {
            return Ok(false);
        };
        let _held = HeldLock::acquire(file)?;
        // A long command writes again and again, and a folder may have been replaced by such a
        // link since the first write: checked again each time.
        if !first_write {
            store.refuse_foreign_links()?;
        }
        // Telemetry was turned off, or the id cleared, while this process ran (a long
        // workflow, say): it read config.yaml before, and what it still holds must go the way
        // of the events that were waiting, or a later opt-in would send them. Events without
        // an id (telemetry undecided) are only kept for `inspect`, and withdrawals leave those.
        let identified = matches!(
            self.mode(),
            Mode::Queue { .. }
                | Mode::LocalOnly {
                    distinct_id: Some(_)
                }
        );
        if identified {
            let mark = withdrawal::current(store);
            if !mark.same_as(&self.withdrawal_mark) {
                if mark == withdrawal::Mark::Unreadable {
                    self.note_problem(|| {
                        format!(
                            "{} cannot be read, so nothing is recorded; remove it",
                            store.withdrawal_mark_path().display()
                        )
                    });
                }
                *lock(&self.mode) = Mode::Off;
                return Ok(false);
            }
        }
        if !pending.queue.is_empty() {
            // The recent events get these when they leave the queue (see `queue::remove`).
            queue::append_locked(store, &pending.queue)?;
        }
        if !pending.recent.is_empty() {
            recent::append_locked(store, &pending.recent)?;
        }
        Ok(!pending.queue.is_empty())
    }

    /// Call once, as archon exits: writes the pending events, and starts the delivery process
    /// when this process queued events, one is due and [`Telemetry::hold_delivery`] was not
    /// called. Never waits for the network.
    pub fn finish(&self) {
        self.flush();
        let deliver =
            self.queued_any.load(Ordering::SeqCst) && !self.delivery_held.load(Ordering::SeqCst);
        if let (true, Some(store)) = (deliver, &self.store) {
            spawn::start_delivery_if_due(store, &spawn::Launcher::delivery_program());
        }
    }

    /// The environment this process resolved telemetry from.
    pub fn environment(&self) -> &Environment {
        &self.env
    }
}

impl Drop for Telemetry {
    /// Writes what is pending if [`Telemetry::finish`] was not called (archon's own telemetry
    /// lives until the process exits, and always finishes).
    fn drop(&mut self) {
        self.flush();
    }
}

/// Consent from config.yaml, for when the environment leaves the choice to it (only then is the
/// file read).
fn consent_from_config(store: Option<&Store>) -> Consent {
    let settings = match store {
        Some(store) => config::read_settings(&store.config_path()),
        None => Ok(config::TelemetrySettings::default()),
    };
    consent::from_config(store.map(Store::config_path), settings)
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
