//! Telemetry for one run of archon: started once, shared with the panic hook and the signal
//! handler, and finished exactly once, however the run ends.
//!
//! Nothing here prints (apart from the first-run notice), fails or changes the exit code: the
//! worst telemetry can do is not record.
//!
//! Built without the `telemetry` feature, a session holds no [`telemetry_runtime::Telemetry`]:
//! nothing is recorded, queued or delivered and no notice is shown. [`Session::record`] is then
//! an empty generic function, so the events the commands build for it are optimised away (at
//! most a clock read is left). The interrupt flag and the signal handlers stay: they also stop a
//! running workflow's node and give archon its 130/143 exit codes.

use crate::exit;
#[cfg(feature = "telemetry")]
use crate::notice;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::Arc;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;
use std::time::Instant;
use telemetry_runtime::Environment;
#[cfg(feature = "telemetry")]
use telemetry_runtime::Telemetry;
use telemetry_schema::{
    BinaryStartup, CliCommand, CliCommandCompleted, CliCommandInvoked, CliSubcommand, DurationMs,
    ErrorClass, ErrorSite, ErrorUncaught, TelemetryEvent, WorkflowName, WorkflowRunFailed,
};

/// The command being run, for `cli.command_completed`.
struct Running {
    command: CliCommand,
    subcommand: Option<CliSubcommand>,
    started: Instant,
}

/// The workflow being run, for `workflow.run_failed` when archon is interrupted.
struct ActiveWorkflow {
    name: WorkflowName,
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
    workflow: Mutex<Option<ActiveWorkflow>>,
    site: Mutex<ErrorSite>,
    completed: AtomicBool,
    /// Set by Ctrl-C / SIGTERM: a running workflow stops its node and returns.
    interrupt: Arc<AtomicBool>,
    /// The exit code the signal asks for (0: none yet).
    signal_code: AtomicI32,
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
            workflow: Mutex::new(None),
            site: Mutex::new(ErrorSite::Main),
            completed: AtomicBool::new(false),
            interrupt: Arc::new(AtomicBool::new(false)),
            signal_code: AtomicI32::new(0),
        });
        install_panic_hook();
        install_signal_handlers();
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

    /// Remembers that a workflow is running, so an interruption can be recorded as its failure.
    pub fn workflow_started(&self, name: WorkflowName) {
        *lock(&self.workflow) = Some(ActiveWorkflow {
            name,
            started: Instant::now(),
        });
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

    /// The workflow's own events have been recorded.
    pub fn workflow_finished(&self) {
        *lock(&self.workflow) = None;
    }

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

    /// Ctrl-C or SIGTERM: stop a running workflow (its node is killed, and the workflow
    /// records its own failure), wait briefly for that, record what is still cut short, then
    /// complete.
    fn interrupted(&self, exit_code: i32) {
        self.signal_code.store(exit_code, Ordering::SeqCst);
        self.interrupt.store(true, Ordering::SeqCst);
        for _ in 0..40 {
            if lock(&self.workflow).is_none() {
                break;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        if let Some(workflow) = lock(&self.workflow).take() {
            self.record(&WorkflowRunFailed {
                workflow_name: workflow.name,
                error_class: ErrorClass::Interrupted,
                failed_node_type: None,
                duration_ms: DurationMs::since(workflow.started),
            });
        }
        self.complete(exit_code);
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

/// Ctrl-C and SIGTERM end archon promptly with 130 / 143, after recording the completion.
/// The handlers are registered by the thread that waits for them: if it cannot be started,
/// the default handlers stay and archon still stops on Ctrl-C.
#[cfg(unix)]
fn install_signal_handlers() {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let _ = std::thread::Builder::new()
        .name("archon-signals".into())
        .spawn(|| {
            let Ok(mut signals) = signal_hook::iterator::Signals::new([SIGINT, SIGTERM]) else {
                return;
            };
            if let Some(signal) = signals.forever().next() {
                let code = if signal == SIGINT {
                    exit::INTERRUPTED
                } else {
                    exit::TERMINATED
                };
                if let Some(session) = SESSION.get() {
                    session.interrupted(code);
                }
                std::process::exit(code);
            }
        });
}

#[cfg(not(unix))]
fn install_signal_handlers() {}
