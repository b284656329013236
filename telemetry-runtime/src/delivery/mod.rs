//! Delivery: a separate, detached program (`archon-telemetry-deliver`, next to `archon`) sends
//! the queue to PostHog, so the command the user ran never waits for the network, and never
//! loads the HTTP/TLS stack either: the loop is here, the requests go through a [`Transport`],
//! which the delivery program takes from the `telemetry-posthog` crate.
//!
//! At exit, a process that queued events starts one (see [`spawn`]) unless one is running or
//! the last attempt failed recently. The delivery process holds `delivery.lock` while it runs,
//! and stays a few seconds after the queue is empty, so a burst of commands starts one delivery,
//! which picks up events queued while it works or waits, instead of one process a command. It
//! sends batches of at most 100, removes events from the queue only after a 2xx, retries
//! transient failures with backoff within a time limit, splits batches the server refuses as
//! malformed or too large, and drops (with a count) single events it still refuses.

pub mod spawn;
mod transport;

use crate::build_config;
use crate::config;
use crate::conformance;
use crate::consent::{self, ConsentState};
use crate::environment::Environment;
use crate::host;
use crate::identity;
use crate::queue;
use crate::state;
use crate::store::Store;
use crate::wire::{format_timestamp, WireEvent};
use std::collections::HashSet;
use std::time::{Duration, Instant};
pub use transport::{SendOutcome, Transport};

/// The delivery program, installed next to `archon` (with the platform's executable suffix).
pub const DELIVERY_PROGRAM: &str = "archon-telemetry-deliver";

/// The argument the delivery program is started with. Without it, the program only explains
/// itself: it is not meant to be run by hand.
pub const DELIVERY_ARG: &str = "__telemetry-deliver";

/// PostHog accepts at most this many events per request here.
pub const MAX_BATCH: usize = 100;

/// How a delivery sends.
#[derive(Debug, Clone)]
pub struct DeliveryConfig {
    /// The project key.
    pub key: String,
    /// The checked host URL.
    pub host: String,
    /// The longest one request may take.
    pub request_timeout: Duration,
    /// The delivery gives up (keeping the events) once this much time has passed; one last
    /// request may still take up to `request_timeout`.
    pub time_limit: Duration,
    /// The first wait after a transient failure; it doubles with each one.
    pub first_backoff: Duration,
    /// How long the delivery stays, once the queue is empty, for events from the next commands.
    pub linger: Duration,
}

impl DeliveryConfig {
    /// The settings of the real delivery process: at most a minute in all.
    pub fn new(key: &str, host: &str) -> Self {
        DeliveryConfig {
            key: key.to_owned(),
            host: host.to_owned(),
            request_timeout: Duration::from_secs(10),
            time_limit: Duration::from_secs(50),
            first_backoff: Duration::from_secs(1),
            linger: Duration::from_secs(5),
        }
    }
}

/// What one delivery did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeliveryReport {
    /// Events the server accepted.
    pub delivered: u64,
    /// Events the server refused one by one as malformed, dropped.
    pub dropped_rejected: u64,
    /// Events captured before the user opted in, dropped unsent.
    pub dropped_before_opt_in: u64,
    /// Events in the queue that archon could not have recorded (not in the catalog, or with
    /// properties or values it does not list), or dated ahead of the clock, dropped unsent.
    pub dropped_invalid: u64,
    /// Requests made.
    pub requests: u64,
    /// Why the delivery stopped with events left, if it did.
    pub gave_up: Option<String>,
    /// Why nothing was attempted, if so.
    pub skipped: Option<&'static str>,
    /// The user turned telemetry off (or cleared the id) while this delivery ran, and it
    /// stopped sending what it had read before.
    pub withdrawn: bool,
}

/// Delivers with this build's key to the host the settings choose, through the transport
/// `connect` makes. A build without a key sends nothing.
pub fn deliver_for_build<T: Transport>(
    env: &Environment,
    connect: impl Fn(&DeliveryConfig) -> Option<T>,
) -> DeliveryReport {
    let Some(home) = env.archon_home() else {
        return DeliveryReport::skipped("no home folder");
    };
    let store = Store::new(home);
    let Some(key) = build_config::POSTHOG_KEY else {
        return DeliveryReport::skipped("this build cannot send telemetry");
    };
    let settings = config::read_settings(&store.config_path());
    let from_env = env
        .archon_telemetry_host
        .as_deref()
        .and_then(|h| h.to_str());
    match host::for_delivery(from_env, settings.as_ref()) {
        Ok(host) => deliver(&store, env, &DeliveryConfig::new(key, &host.url), connect),
        Err(error) => {
            let _ = state::update(&store, |s| record_failure(s, &error.to_string()));
            DeliveryReport::skipped("the host is not usable")
        }
    }
}

impl DeliveryReport {
    fn skipped(reason: &'static str) -> Self {
        DeliveryReport {
            skipped: Some(reason),
            ..DeliveryReport::default()
        }
    }
}

/// Sends everything in the queue of `store` with `config`, unless another delivery is running,
/// through the transport `connect` makes (only once the delivery lock is taken).
///
/// Consent is checked first, from `env` and the store's config file: the user may have opted
/// out since the events were queued, and then what was waiting is deleted, never sent.
pub fn deliver<T: Transport>(
    store: &Store,
    env: &Environment,
    config: &DeliveryConfig,
    connect: impl Fn(&DeliveryConfig) -> Option<T>,
) -> DeliveryReport {
    match consent_now(store, env) {
        ConsentState::On => {}
        ConsentState::Off => return DeliveryReport::skipped("telemetry is off"),
        ConsentState::Undecided => return DeliveryReport::skipped("telemetry is not on"),
    }
    let mut report = DeliveryReport::default();
    let mut running = match store.try_lock_delivery() {
        Ok(Some(lock)) => lock,
        Ok(None) => {
            report.skipped = Some("another delivery is running");
            return report;
        }
        Err(_) => {
            report.skipped = Some("the delivery lock cannot be taken");
            return report;
        }
    };
    let Some(transport) = connect(config) else {
        report.skipped = Some("the PostHog client cannot be set up");
        return report;
    };
    let started = Instant::now();
    loop {
        drain(store, env, &transport, config, started, &mut report);
        if report.withdrawn {
            break;
        }
        if report.gave_up.is_none() && new_events_while_lingering(store, config, started) {
            // The user may have opted out since this delivery began.
            if still_on(store, env) {
                continue;
            }
            break;
        }
        drop(running);
        // A process that queued an event just as this delivery stopped lingering saw it
        // running and started none; look once more after letting go, so that event does not
        // wait for the next archon command.
        let more = queue::read(store).is_ok_and(|q| !q.events.is_empty());
        if report.gave_up.is_some()
            || started.elapsed() >= config.time_limit
            || !more
            || !still_on(store, env)
        {
            break;
        }
        match store.try_lock_delivery() {
            Ok(Some(lock)) => running = lock,
            // Another delivery took over, or the lock is gone: it is theirs now.
            _ => break,
        }
    }
    // A home deleted while the delivery ran stays deleted.
    if !store.dir().is_dir() {
        return report;
    }
    let _ = state::update(store, |s| {
        // Saturating: the counts come from a file, which may hold anything.
        s.delivered = s.delivered.saturating_add(report.delivered);
        s.dropped_rejected = s.dropped_rejected.saturating_add(report.dropped_rejected);
        s.dropped_before_opt_in = s
            .dropped_before_opt_in
            .saturating_add(report.dropped_before_opt_in);
        s.dropped_unreadable = s.dropped_unreadable.saturating_add(report.dropped_invalid);
        match &report.gave_up {
            Some(reason) => record_failure(s, reason),
            None if report.requests > 0 => {
                s.last_success_at = Some(format_timestamp(chrono::Utc::now()));
                s.last_outcome = Some(format!("sent {} events", report.delivered));
                s.consecutive_failures = 0;
            }
            None => {}
        }
    });
    report
}

/// Consent now, from `env` and the store's config file: the user may have opted out since the
/// events were queued, and then what was waiting is deleted, never sent.
fn consent_now(store: &Store, env: &Environment) -> ConsentState {
    let settings = config::read_settings(&store.config_path());
    let state = consent::resolve(env, Some(store.config_path()), settings).state;
    if state == ConsentState::Off {
        let _ = queue::clear(store);
    }
    state
}

fn still_on(store: &Store, env: &Environment) -> bool {
    consent_now(store, env) == ConsentState::On
}

/// How often a lingering delivery looks at the queue: one `stat` each time.
const LINGER_POLL: Duration = Duration::from_millis(200);

/// Waits, holding the delivery lock, until the queue changes (true) or `config.linger` passes
/// without a change or the time limit is near (false). Commands run meanwhile see a delivery
/// running and start none; their events go in this one.
fn new_events_while_lingering(store: &Store, config: &DeliveryConfig, started: Instant) -> bool {
    let quiet_size = queue::size(store);
    let until = Instant::now() + config.linger;
    loop {
        let left_in_limit = config.time_limit.saturating_sub(started.elapsed());
        let left = until
            .saturating_duration_since(Instant::now())
            .min(left_in_limit);
        if left.is_zero() {
            return false;
        }
        std::thread::sleep(left.min(LINGER_POLL));
        let size = queue::size(store);
        if size != quiet_size && size > 0 {
            return true;
        }
    }
}

/// Delivered (or dropped) events are removed from the queue after this many, and whenever the
/// delivery pauses or stops. Removing after every batch would rewrite the whole queue a hundred
/// times for 10,000 events; a crash between removals only means PostHog sees some events
/// again, with the same uuids, and drops them.
const REMOVE_EVERY: usize = 1_000;

/// How one pass over the queue ended.
enum Pass {
    /// Everything read was sent (or dropped): read the queue again for newer events.
    Done,
    /// Stop delivering (`report.gave_up` says why).
    Stop,
}

/// Sends batches until the queue is empty, the time limit is reached or the server refuses.
/// The caller holds the delivery lock.
fn drain(
    store: &Store,
    env: &Environment,
    transport: &impl Transport,
    config: &DeliveryConfig,
    started: Instant,
    report: &mut DeliveryReport,
) {
    let opted_in_at = state::read(store)
        .opted_in_at
        .and_then(|t| chrono::DateTime::parse_from_rfc3339(&t).ok());
    loop {
        // Read before the queue: a withdrawal after this changes it, and stops the sending of
        // what is read next.
        let withdrawals = state::read(store).withdrawals;
        let Ok(contents) = queue::read(store) else {
            report.gave_up = Some("the queue cannot be read".to_owned());
            return;
        };
        // Read after the queue, so it is at least as new as what the queue held: read before,
        // a `clear` and a new id in between would make the new id's events look stale.
        let current_id = identity::read_id(store);
        // Events under an id that is no longer the current one were recorded by a process that
        // started before `archon telemetry clear` (or before the id file was deleted): sent,
        // they would link the deleted id to the new one. They go without a trace, as `clear`
        // asked.
        let (events, unlinked): (Vec<WireEvent>, Vec<WireEvent>) = contents
            .events
            .into_iter()
            .partition(|event| identity::still_linked(event, current_id.as_ref()));
        if !unlinked.is_empty() {
            let _ = queue::discard(store, &uuids(&unlinked));
        }
        // Only what archon could have recorded leaves the machine, whatever the file holds.
        let (events, invalid): (Vec<WireEvent>, Vec<WireEvent>) =
            events.into_iter().partition(conformance::conforms);
        let (sendable, stale): (Vec<WireEvent>, Vec<WireEvent>) =
            events.into_iter().partition(|event| {
                event.distinct_id.is_some()
                    && match (event.captured_at(), opted_in_at) {
                        (Some(captured), Some(opted_in)) => captured >= opted_in,
                        (Some(_), None) => true,
                        (None, _) => false,
                    }
            });
        if !stale.is_empty() || !invalid.is_empty() {
            report.dropped_before_opt_in += stale.len() as u64;
            report.dropped_invalid += invalid.len() as u64;
            let dropped = queue::Done {
                sent: HashSet::new(),
                dropped: uuids(&stale).union(&uuids(&invalid)).copied().collect(),
            };
            let _ = queue::remove(store, &dropped);
        }
        if sendable.is_empty() {
            return;
        }
        let mut finished = queue::Done::default();
        let pass = send_all(
            sendable,
            Sender {
                store,
                env,
                transport,
                config,
                started,
                withdrawals,
            },
            report,
            &mut finished,
        );
        if !finished.is_empty() && queue::remove(store, &finished).is_err() {
            report.gave_up = Some("delivered events cannot be removed from the queue".to_owned());
            return;
        }
        if let Pass::Stop = pass {
            return;
        }
    }
}

/// What [`send_all`] sends with, and what it checks before each request.
struct Sender<'a, T> {
    store: &'a Store,
    env: &'a Environment,
    transport: &'a T,
    config: &'a DeliveryConfig,
    started: Instant,
    /// [`state::TelemetryState::withdrawals`] when the events were read.
    withdrawals: u64,
}

impl<T> Sender<'_, T> {
    /// Whether the events read may still be sent: telemetry is still on and nothing was
    /// withdrawn since they were read. Checked before every request, so that opting out stops
    /// a delivery between two batches or two retries (a request already made cannot be
    /// recalled).
    fn may_send(&self) -> bool {
        state::read(self.store).withdrawals == self.withdrawals && still_on(self.store, self.env)
    }
}

/// Sends `events` in order, collecting the uuids that are done with (sent or dropped) in
/// `finished`, whose events it removes from the queue every [`REMOVE_EVERY`] events and before
/// each wait between retries.
fn send_all<T: Transport>(
    mut events: Vec<WireEvent>,
    sender: Sender<'_, T>,
    report: &mut DeliveryReport,
    finished: &mut queue::Done,
) -> Pass {
    let Sender {
        store,
        transport,
        config,
        started,
        ..
    } = sender;
    let mut batch_size = MAX_BATCH;
    let mut backoff = config.first_backoff;
    let mut next = 0;
    while next < events.len() {
        if started.elapsed() >= config.time_limit {
            report.gave_up = Some("the time limit for one delivery was reached".to_owned());
            return Pass::Stop;
        }
        if finished.len() >= REMOVE_EVERY {
            if queue::remove(store, finished).is_err() {
                report.gave_up =
                    Some("delivered events cannot be removed from the queue".to_owned());
                return Pass::Stop;
            }
            finished.clear();
        }
        if !sender.may_send() {
            report.withdrawn = true;
            return Pass::Stop;
        }
        let end = (next + batch_size).min(events.len());
        // Checked just before the request, as the client checks it (see `dated_ahead`); such
        // an event is dropped with the invalid ones.
        let now = chrono::Utc::now();
        if let Some(ahead) = events[next..end]
            .iter()
            .position(|event| dated_ahead(event, now))
        {
            let event = events.remove(next + ahead);
            report.dropped_invalid += 1;
            finished.dropped.insert(event.uuid);
            continue;
        }
        let batch = &events[next..end];
        report.requests += 1;
        match transport.send(batch) {
            SendOutcome::Delivered => {
                report.delivered += batch.len() as u64;
                finished.sent.extend(batch.iter().map(|event| event.uuid));
                next += batch.len();
                batch_size = MAX_BATCH;
                backoff = config.first_backoff;
            }
            SendOutcome::Retry(reason) => {
                if started.elapsed() + backoff >= config.time_limit {
                    report.gave_up = Some(reason.to_owned());
                    return Pass::Stop;
                }
                // Record progress before waiting: the process may be stopped while it sleeps.
                if !finished.is_empty() && queue::remove(store, finished).is_ok() {
                    finished.clear();
                }
                std::thread::sleep(backoff);
                backoff = (backoff * 2).min(Duration::from_secs(16));
            }
            SendOutcome::Rejected if batch.len() > 1 => batch_size = batch.len() / 2,
            SendOutcome::Rejected => {
                report.dropped_rejected += 1;
                finished.dropped.insert(batch[0].uuid);
                next += 1;
            }
            SendOutcome::Refused(reason) => {
                report.gave_up = Some(reason);
                return Pass::Stop;
            }
        }
    }
    Pass::Done
}

fn record_failure(state: &mut state::TelemetryState, reason: &str) {
    state.last_failure_at = Some(format_timestamp(chrono::Utc::now()));
    state.last_outcome = Some(format!("not sent yet: {reason}"));
    state.consecutive_failures = state.consecutive_failures.saturating_add(1);
}

/// How far ahead of the clock an event's time may be: PostHog's client refuses events dated
/// later than a second from now.
const MAX_AHEAD: chrono::TimeDelta = chrono::TimeDelta::seconds(1);

/// Whether `event` is dated more than [`MAX_AHEAD`] after `now`: recorded while the clock was
/// ahead and set back since. It cannot be sent with the time it was recorded at (the client
/// refuses it), and sending it with another would not be what `inspect` shows, so it is
/// dropped with the invalid events. Checked just before each request, at an earlier `now` than
/// the client's own check, so an event that passes here passes there unless the clock is set
/// back in between.
fn dated_ahead(event: &WireEvent, now: chrono::DateTime<chrono::Utc>) -> bool {
    event
        .captured_at()
        .is_some_and(|captured| captured > now + MAX_AHEAD)
}

fn uuids(events: &[WireEvent]) -> HashSet<uuid::Uuid> {
    events.iter().map(|event| event.uuid).collect()
}
