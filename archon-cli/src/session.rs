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
//! do on Ctrl-C. Outside a workflow, a signal ends archon as if it had no handler.

use crate::exit;
#[cfg(feature = "telemetry")]
use crate::notice;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::sync::{Mutex, OnceLock};
use std::time::Instant;
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
    /// The exit code the last signal asks for (0: none yet).
    signal_code: Arc<AtomicUsize>,
    /// Whether a signal ends archon at once, as if it had no handler: true except while a
    /// workflow runs, which stops its node and records its failure first.
    signal_ends_archon: Arc<AtomicBool>,
}

static SESSION: OnceLock<Session> = OnceLock::new();

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

impl Session {
    /// Starts telemetry for this run: consent, the first-run notice (whose run sends nothing;
    /// `about_telemetry`: an `archon telemetry` command, which marks it seen without printing
    /// it), the panic hook and the signal handlers; records `binary.startup`.
    pub fn start(about_telemetry: bool) -> &'static Session {
        let env = Environment::from_process();
        #[cfg(not(feature = "telemetry"))]
        let _ = about_telemetry;
        #[cfg(feature = "telemetry")]
        let telemetry = {
            let telemetry = Telemetry::start(env.clone());
            if notice::show_once(&env, telemetry.consent(), !about_telemetry) {
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
            signal_code: Arc::new(AtomicUsize::new(0)),
            signal_ends_archon: Arc::new(AtomicBool::new(true)),
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

    /// A workflow is running until the returned guard is dropped (a panic drops it too): until
    /// then Ctrl-C and SIGTERM raise the interrupt flag, and the workflow stops its node, records
    /// its failure and returns (a second signal ends archon at once).
    pub fn workflow_started(&self) -> WorkflowRunning<'_> {
        self.signal_ends_archon.store(false, Ordering::SeqCst);
        WorkflowRunning { session: self }
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
            code => i32::try_from(code).ok(),
        }
    }

    /// Ends archon as the signal that stopped its workflow would have, when `code` is that
    /// signal's exit code: the run is complete, and now the signal's default action kills
    /// archon, so that a calling shell sees it killed by the signal (a shell reports 130/143)
    /// and stops a loop, as it would for a program without a handler. Otherwise returns.
    #[cfg(unix)]
    pub fn end_as_interrupted(&self, code: i32) {
        use signal_hook::consts::{SIGINT, SIGTERM};
        if self.interrupted_code() != Some(code) {
            return;
        }
        let signal = match code {
            exit::INTERRUPTED => SIGINT,
            exit::TERMINATED => SIGTERM,
            _ => return,
        };
        // What archon printed must not be lost with the process.
        let _ = std::io::Write::flush(&mut std::io::stdout());
        let _ = signal_hook::low_level::emulate_default_handler(signal);
    }

    #[cfg(not(unix))]
    pub fn end_as_interrupted(&self, _code: i32) {}

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

/// A running workflow (see [`Session::workflow_started`]).
pub struct WorkflowRunning<'a> {
    session: &'a Session,
}

impl Drop for WorkflowRunning<'_> {
    /// The workflow's own events have been recorded: a signal ends archon at once again.
    fn drop(&mut self) {
        self.session
            .signal_ends_archon
            .store(true, Ordering::SeqCst);
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

/// Ctrl-C and SIGTERM: while a workflow runs, they raise the interrupt flag and note the exit
/// code (130 / 143, recorded as the command's); the workflow stops its node, records its failure
/// and returns, and archon then ends as the signal's default action would have ended it (see
/// [`Session::end_as_interrupted`]). Otherwise, or on a second signal while the workflow stops,
/// the default action ends archon at once. Nothing else is recorded: only a workflow runs
/// long enough for its end to be worth recording.
///
/// signal-hook runs a signal's actions in the order they were registered:
/// 1. a second signal (the interrupt flag is already up) ends archon at once;
/// 2. the exit code is noted and the interrupt flag raised;
/// 3. outside a workflow, the signal ends archon at once.
///
/// Noting the code before checking for a workflow leaves no gap when the workflow ends: either
/// the handler sees that it ended and ends archon, or the code that ended it (by dropping
/// [`WorkflowRunning`]) then sees the signal's exit code.
/// Only the first registration for a signal installs its handler and can fail (archon then keeps
/// the default action); the others only add to the handler's list.
///
/// A signal that archon was started with ignored stays ignored: a shell script runs its
/// background jobs so, and a Ctrl-C meant for the script must not end them.
///
/// The first signal stops a workflow only when its runner next looks at the flag (between nodes
/// and while a node runs); if archon is stuck elsewhere, such as waiting for another process's
/// lock on telemetry's files, the second signal ends it.
#[cfg(unix)]
fn install_signal_handlers(session: &Session) {
    use signal_hook::consts::{SIGINT, SIGTERM};
    use signal_hook::flag;
    for (signal, code) in [(SIGINT, exit::INTERRUPTED), (SIGTERM, exit::TERMINATED)] {
        if ignored_from_the_start(signal) {
            continue;
        }
        let installed = flag::register_conditional_default(signal, Arc::clone(&session.interrupt));
        if installed.is_err() {
            continue;
        }
        let code = usize::try_from(code).unwrap_or_default();
        let _ = flag::register_usize(signal, Arc::clone(&session.signal_code), code);
        let _ = flag::register(signal, Arc::clone(&session.interrupt));
        let _ = flag::register_conditional_default(signal, Arc::clone(&session.signal_ends_archon));
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
fn install_signal_handlers(_session: &Session) {}
