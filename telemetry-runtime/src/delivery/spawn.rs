//! Starting the delivery process from archon's exit path: cheap checks, then a detached child,
//! never a wait.

use super::{DELIVERY_ARG, DELIVERY_PROGRAM};
use crate::state::{self, TelemetryState};
use crate::store::Store;
use chrono::{DateTime, Utc};
use std::ffi::OsString;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;

/// How to start the delivery process.
#[derive(Debug, Clone)]
pub struct Launcher {
    /// `None`: the delivery program next to this one, looked up only when a delivery is
    /// started (most exits find one running and need not know where it is).
    program: Option<PathBuf>,
    args: Vec<OsString>,
}

impl Launcher {
    /// The delivery program next to this one, with [`DELIVERY_ARG`].
    pub fn delivery_program() -> Launcher {
        Launcher {
            program: None,
            args: vec![DELIVERY_ARG.into()],
        }
    }

    /// Any program (tests use a stand-in).
    pub fn new(program: impl Into<PathBuf>, args: Vec<OsString>) -> Launcher {
        Launcher {
            program: Some(program.into()),
            args,
        }
    }

    /// The program to start; `None` when this program's own path is unknown (never a program
    /// found through `PATH`, which could be another archon's).
    fn program(&self) -> Option<PathBuf> {
        self.program.clone().or_else(delivery_program_path)
    }
}

/// Where the delivery program should be: next to the running program.
pub fn delivery_program_path() -> Option<PathBuf> {
    let name = format!("{DELIVERY_PROGRAM}{}", std::env::consts::EXE_SUFFIX);
    Some(std::env::current_exe().ok()?.with_file_name(name))
}

/// What the exit path decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpawnDecision {
    /// A delivery process was started.
    Started,
    /// One is already running; it will pick up the new events.
    AlreadyRunning,
    /// The last delivery failed recently; wait before trying again.
    BackingOff,
    /// It could not be started (the events stay queued).
    Failed,
}

/// The wait after `failures` failed deliveries in a row: a minute, doubling, at most an hour.
pub fn backoff_after(failures: u32) -> Duration {
    let minutes = 1u64 << failures.saturating_sub(1).min(6);
    Duration::from_secs(60 * minutes.min(60))
}

/// Whether a delivery is due at `now` given the state of the last ones.
pub fn due(state: &TelemetryState, now: DateTime<Utc>) -> bool {
    let Some(last_failure) = state
        .last_failure_at
        .as_deref()
        .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
    else {
        return true;
    };
    if state.consecutive_failures == 0 {
        return true;
    }
    let wait = chrono::Duration::from_std(backoff_after(state.consecutive_failures))
        .unwrap_or(chrono::Duration::MAX);
    now >= last_failure.with_timezone(&Utc) + wait
}

/// Starts the delivery process for `store` unless one runs or a recent failure says wait.
pub fn start_delivery_if_due(store: &Store, launcher: &Launcher) -> SpawnDecision {
    // The lock first: in a burst of commands a delivery is usually running already, and then
    // the state file need not be read at all.
    match store.try_lock_delivery() {
        // Free now; released at once so the child can take it.
        Ok(Some(_free)) => {}
        Ok(None) => return SpawnDecision::AlreadyRunning,
        Err(_) => return SpawnDecision::Failed,
    }
    if !due(&state::read(store), Utc::now()) {
        return SpawnDecision::BackingOff;
    }
    let Some(program) = launcher.program() else {
        return SpawnDecision::Failed;
    };
    let mut command = Command::new(program);
    command
        .args(&launcher.args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    detach(&mut command);
    match command.spawn() {
        Ok(_child) => SpawnDecision::Started,
        Err(_) => SpawnDecision::Failed,
    }
}

/// Puts the child in a process group of its own: Ctrl-C in the terminal (which signals the
/// foreground group) does not reach it, it never reads from the terminal, and closing the
/// terminal does not stop it (SIGHUP goes to the session's foreground group). This is what
/// `setsid` would give here, without a `pre_exec` hook, which lets the standard library start the
/// child with `posix_spawn` instead of `fork`, a cheaper exit path for archon.
#[cfg(unix)]
fn detach(command: &mut Command) {
    use std::os::unix::process::CommandExt;
    command.process_group(0);
}

#[cfg(not(unix))]
fn detach(_command: &mut Command) {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_and_is_capped() {
        assert_eq!(backoff_after(1), Duration::from_secs(60));
        assert_eq!(backoff_after(2), Duration::from_secs(120));
        assert_eq!(backoff_after(7), Duration::from_secs(3600));
        assert_eq!(backoff_after(100), Duration::from_secs(3600));
    }

    #[test]
    fn due_after_the_backoff() {
        let now = Utc::now();
        let failed = |minutes_ago: i64, failures: u32| TelemetryState {
            last_failure_at: Some((now - chrono::Duration::minutes(minutes_ago)).to_rfc3339()),
            consecutive_failures: failures,
            ..TelemetryState::default()
        };
        assert!(due(&TelemetryState::default(), now));
        assert!(!due(&failed(0, 1), now));
        assert!(due(&failed(2, 1), now));
        assert!(!due(&failed(3, 3), now));
        assert!(due(&failed(5, 3), now));
    }
}
