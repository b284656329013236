//! Telemetry for one run of archon: started once, shared with the panic hook, and finished
//! exactly once, however the run ends.
//!
//! Nothing here prints (apart from the first-run notice), fails or changes the exit code: the
//! worst telemetry can do is not record.
//!
//! Built without the `telemetry` feature, a session holds no [`telemetry_runtime::Telemetry`]:
//! nothing is recorded, queued or delivered and no notice is shown. [`Session::record`] is then
//! an empty generic function, so the events the commands build for it are optimised away (at
//! most a clock read is left). The interrupt flag and the signal handlers stay: they also stop a
//! running workflow's node, which then ends archon as the signal would have.
//!
//! The signal handlers only set flags, and no thread waits for them: a thread would cost every
//! command about a tenth of a millisecond to start, and only a running workflow has anything to
//! do on Ctrl-C. Before a workflow starts, a signal ends archon as if it had no handler.

use crate::exit;
#[cfg(feature = "telemetry")]
use crate::notice;
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, Ordering};
use std::sync::Arc;
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};
use telemetry_runtime::Environment;
#[cfg(feature = "telemetry")]
use telemetry_runtime::Telemetry;
use telemetry_schema::{
    BinaryStartup, CliCommand, CliCommandCompleted, CliCommandInvoked, CliSubcommand, DurationMs,
    ErrorClass, ErrorSite, ErrorUncaught, TelemetryEvent,
};

/// The command being run, for `cli.command_completed`.
struct Running {
    command: CliCommand,
    subcommand: Option<CliSubcommand>,
    started: Instant,
}

/// This run's telemetry.
pub struct Session {
    /// The process's environment, read once (`ARCHON_HOME` and `HOME` for config.yaml, and
    /// telemetry's variables).
    env: Environment,
    #[cfg(feature = "telemetry")]
    telemetry: Telemetry,
    running: Mutex<Option<Running>>,
    site: Mutex<ErrorSite>,
    completed: AtomicBool,
    /// Set by Ctrl-C / SIGTERM: a running workflow stops its node and returns.
    interrupt: Arc<AtomicBool>,
    /// The exit code the signal asks for (0: none yet).
    signal_code: AtomicI32,
    /// When the first signal came, in milliseconds after `signals_from` plus one (0: none yet).
    first_signal_at: AtomicU64,
    /// The start of the clock `first_signal_at` is read on.
    signals_from: Instant,
    /// Whether a signal ends archon at once, as if it had no handler: true until a workflow
    /// starts. From then on a signal only asks: the workflow stops its node and records its
    /// failure, the run's events are written, and then archon ends as the signal would have.
    signal_ends_archon: AtomicBool,
}

static SESSION: OnceLock<Session> = OnceLock::new();

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Session {
    /// Starts telemetry for this run: consent, the first-run notice (whose run sends nothing;
    /// `notice_said_by_command`: an `archon telemetry` command that says what telemetry does,
    /// which marks the notice seen without printing it), the panic hook and the signal
    /// handlers; records `binary.startup` unless `records` is false (consent is still resolved,
    /// for the command to report).
    pub fn start(notice_said_by_command: bool, records: bool) -> &'static Session {
        let env = Environment::from_process();
        #[cfg(not(feature = "telemetry"))]
        let _ = (notice_said_by_command, records);
        #[cfg(feature = "telemetry")]
        let telemetry = {
            let telemetry = if records {
                Telemetry::start(env.clone())
            } else {
                Telemetry::start_without_recording(env.clone())
            };
            if notice::show_once(&env, telemetry.consent(), !notice_said_by_command) {
                telemetry.keep_local();
            }
            telemetry
        };
        let session = SESSION.get_or_init(|| Session {
            env,
            #[cfg(feature = "telemetry")]
            telemetry,
            running: Mutex::new(None),
            site: Mutex::new(ErrorSite::Main),
            completed: AtomicBool::new(false),
            interrupt: Arc::new(AtomicBool::new(false)),
            signal_code: AtomicI32::new(0),
            first_signal_at: AtomicU64::new(0),
            signals_from: Instant::now(),
            signal_ends_archon: AtomicBool::new(true),
        });
        install_panic_hook();
        install_signal_handlers(session);
        session.record(&BinaryStartup);
        session
    }

    /// The environment archon was started with.
    pub fn environment(&self) -> &Environment {
        &self.env
    }

    /// The telemetry handle, for the `archon telemetry` commands.
    #[cfg(feature = "telemetry")]
    pub fn telemetry(&self) -> &Telemetry {
        &self.telemetry
    }

    /// Records one event; in a build without telemetry, does nothing.
    pub fn record<E: TelemetryEvent>(&self, event: &E) {
        #[cfg(feature = "telemetry")]
        self.telemetry.record(event);
        #[cfg(not(feature = "telemetry"))]
        let _ = event;
    }

    /// Records `cli.command_invoked` and remembers the command for its completion.
    pub fn command_started(
        &self,
        command: CliCommand,
        subcommand: Option<CliSubcommand>,
        site: ErrorSite,
    ) {
        *lock(&self.site) = site;
        *lock(&self.running) = Some(Running {
            command,
            subcommand,
            started: Instant::now(),
        });
        self.record(&CliCommandInvoked {
            command,
            subcommand,
        });
    }

    /// A workflow starts: from now until archon ends, Ctrl-C and SIGTERM raise the interrupt
    /// flag; the workflow stops its node, records its failure and returns, the run's events are
    /// written, and [`Session::end_if_interrupted`] then ends archon as the signal would have. A
    /// second signal ends archon at once.
    pub fn workflow_started(&self) {
        self.signal_ends_archon.store(false, Ordering::SeqCst);
    }

    /// Writes the events recorded so far: a workflow can run for
    /// minutes, and a process killed meanwhile should not take them with it. Cheap when nothing
    /// is pending.
    pub fn write_pending(&self) {
        #[cfg(feature = "telemetry")]
        self.telemetry.flush();
    }

    /// The flag a running workflow watches to stop early.
    pub fn interrupt_flag(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.interrupt)
    }

    /// The exit code for the signal that interrupted archon, if one did.
    pub fn interrupted_code(&self) -> Option<i32> {
        match self.signal_code.load(Ordering::SeqCst) {
            0 => None,
            code => Some(code),
        }
    }

    /// Call once the run is complete: if a signal came while a workflow ran (or after, while
    /// its events were written), ends archon by the signal's default action, so that a calling
    /// shell sees it killed by the signal (a shell reports 130/143) and stops a loop, as it would
    /// for a program without a handler. Otherwise returns.
    ///
    /// Nothing is flushed first: archon's own lines are flushed as they end (stdout is
    /// line-buffered), and a flush would wait for a node's output thread that is stuck writing
    /// to a reader that stopped reading.
    #[cfg(unix)]
    pub fn end_if_interrupted(&self) {
        use signal_hook::consts::{SIGINT, SIGTERM};
        let signal = match self.interrupted_code() {
            Some(exit::INTERRUPTED) => SIGINT,
            Some(exit::TERMINATED) => SIGTERM,
            _ => return,
        };
        let _ = signal_hook::low_level::emulate_default_handler(signal);
    }

    #[cfg(not(unix))]
    pub fn end_if_interrupted(&self) {}

    /// Records an error that reached the top of archon: its class and where, nothing else.
    pub fn uncaught(&self, error_class: ErrorClass) {
        let site = *lock(&self.site);
        self.record(&ErrorUncaught {
            error_class,
            r#where: site,
        });
    }

    /// Ends the run's telemetry once: records `cli.command_completed` with `exit_code` and
    /// starts delivery if there is something to send (never in a build without telemetry).
    /// Later calls do nothing.
    pub fn complete(&self, exit_code: i32) {
        if self.completed.swap(true, Ordering::SeqCst) {
            return;
        }
        if let Some(running) = lock(&self.running).take() {
            self.record(&CliCommandCompleted {
                command: running.command,
                subcommand: running.subcommand,
                exit_code,
                duration_ms: DurationMs::since(running.started),
            });
        }
        #[cfg(feature = "telemetry")]
        self.telemetry.finish();
    }
}

/// Records `error.uncaught` for a panic (class and site only: never the message or the
/// location), then lets Rust's own hook print it for the user as usual.
fn install_panic_hook() {
    let print = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if let Some(session) = SESSION.get() {
            session.uncaught(ErrorClass::Panic);
        }
        print(info);
    }));
}

/// Ctrl-C and SIGTERM: once a workflow has started, they raise the interrupt flag and note the
/// exit code (130 / 143, recorded as the command's); the workflow stops its node, records its
/// failure and returns, the run's events are written, and archon then ends as the signal's
/// default action would have ended it (see [`Session::end_if_interrupted`]). Before a workflow,
/// or on a second signal, the default action ends archon at once. Nothing else is recorded:
/// only a workflow runs long enough for its end to be worth recording.
///
/// One action a signal, [`on_signal`], so that a signal finds either all of archon's handling
/// or none of it. If it cannot be registered, the signal keeps its default action.
///
/// A signal that archon was started with ignored stays ignored: a shell script runs its
/// background jobs so, and a Ctrl-C meant for the script must not end them.
///
/// The first signal stops a workflow only when its runner next looks at the flag (between nodes
/// and while a node runs); if archon is stuck elsewhere, such as waiting for another process's
/// lock on telemetry's files, a second signal ends it.
#[cfg(unix)]
#[allow(unsafe_code)]
fn install_signal_handlers(session: &'static Session) {
    use signal_hook::consts::{SIGINT, SIGTERM};
    for (signal, code) in [(SIGINT, exit::INTERRUPTED), (SIGTERM, exit::TERMINATED)] {
        if ignored_from_the_start(signal) {
            continue;
        }
        // SAFETY: `on_signal` only does what a signal handler may: it loads and stores atomics,
        // reads the monotonic clock (clock_gettime) and may run the default action (sigaction
        // and raise, as signal-hook's own `flag::register_conditional_default` does). It takes
        // no lock and allocates nothing.
        let _ = unsafe {
            signal_hook::low_level::register(signal, move || on_signal(session, signal, code))
        };
    }
}

/// A signal closer to the first than this is the same one sent twice: GNU `timeout` signals
/// archon and then its whole process group, and a script may do the same.
#[cfg(unix)]
const SAME_SIGNAL_WITHIN: Duration = Duration::from_secs(1);

/// The signal handler (see [`install_signal_handlers`]).
#[cfg(unix)]
fn on_signal(session: &Session, signal: libc::c_int, code: i32) {
    let now = u64::try_from(session.signals_from.elapsed().as_millis())
        .unwrap_or(u64::MAX - 1)
        .saturating_add(1);
    match session
        .first_signal_at
        .compare_exchange(0, now, Ordering::SeqCst, Ordering::SeqCst)
    {
        Ok(_) => {}
        Err(first) => {
            let within = u64::try_from(SAME_SIGNAL_WITHIN.as_millis()).unwrap_or(u64::MAX);
            if now.saturating_sub(first) >= within {
                // Asked again: the user will not wait for the workflow to stop.
                let _ = signal_hook::low_level::emulate_default_handler(signal);
            }
            return;
        }
    }
    // Noted before the check below: either the check sees that a workflow started and archon
    // goes on, or the workflow, started after, sees the code when it returns.
    session.signal_code.store(code, Ordering::SeqCst);
    session.interrupt.store(true, Ordering::SeqCst);
    if session.signal_ends_archon.load(Ordering::SeqCst) {
        let _ = signal_hook::low_level::emulate_default_handler(signal);
    }
}

/// Whether `signal` is ignored (`SIG_IGN`): archon has not touched it yet, so its parent ignored
/// it. If that cannot be told, it is not.
#[cfg(unix)]
#[allow(unsafe_code)]
fn ignored_from_the_start(signal: libc::c_int) -> bool {
    let mut current = std::mem::MaybeUninit::<libc::sigaction>::zeroed();
    // SAFETY: with a null new action, sigaction only writes the current one into `current`,
    // which is ours and large enough; it was zeroed, so it is initialised whatever happens.
    let result = unsafe { libc::sigaction(signal, std::ptr::null(), current.as_mut_ptr()) };
    // SAFETY: zeroed above, and filled in by sigaction on success.
    let current = unsafe { current.assume_init() };
    result == 0 && current.sa_sigaction == libc::SIG_IGN
}

#[cfg(not(unix))]
fn install_signal_handlers(_session: &'static Session) {}
