//! What the `archon telemetry` commands do: opt in, opt out, forget the id, report the state,
//! show the recent events. The CLI formats; this module acts.

use crate::build_config;
use crate::config::{self, ConfigError, ConfigValue};
use crate::consent::{self, Consent, ConsentState};
use crate::delivery::spawn;
use crate::environment::Environment;
use crate::host::{self, Host, HostError};
use crate::identity::{self, Identity};
use crate::queue;
use crate::recent::{self, DeliveryStatus, RecentEntry};
use crate::state::{self, TelemetryState};
use crate::store::Store;
use crate::wire::format_timestamp;
use crate::Telemetry;
use std::fmt;
use std::io;
use std::path::PathBuf;
use uuid::Uuid;

/// Why a telemetry command could not do what was asked.
#[derive(Debug)]
pub enum ControlError {
    /// Neither `ARCHON_HOME` nor `HOME` is set.
    NoHome,
    /// config.yaml cannot be read or changed.
    Config(ConfigError),
    /// `archon telemetry off` could not record the choice in config.yaml.
    OptOutNotRecorded {
        /// Why config.yaml could not be changed.
        config: ConfigError,
        /// The events waiting to be sent were deleted all the same.
        waiting_deleted: bool,
    },
    /// `archon telemetry clear` deleted the anonymous id, but not every event that carries it.
    IdDeletedNotItsEvents {
        /// Why not.
        error: io::Error,
        /// The events waiting to be sent with it were deleted all the same (what failed was
        /// the copies kept for `inspect`).
        waiting_deleted: bool,
    },
    /// A telemetry file cannot be read or written.
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The error.
        error: io::Error,
    },
}

impl fmt::Display for ControlError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ControlError::NoHome => write!(
                f,
                "neither ARCHON_HOME nor HOME is set, so archon has nowhere to keep its settings; set ARCHON_HOME to a folder"
            ),
            ControlError::Config(error) | ControlError::OptOutNotRecorded { config: error, .. } => {
                write!(f, "{error}")
            }
            ControlError::IdDeletedNotItsEvents {
                error,
                waiting_deleted: true,
            } => write!(
                f,
                "{error}\nThe anonymous id and the events waiting to be sent with it were deleted, \
                 but not the copies kept for `archon telemetry inspect`."
            ),
            ControlError::IdDeletedNotItsEvents {
                error,
                waiting_deleted: false,
            } => write!(
                f,
                "{error}\nThe anonymous id was deleted, but not every event on this machine that \
                 carries it."
            ),
            ControlError::Io { path, error } => {
                // The error may name the file already, or another in the same folder (see
                // `files::with_path`).
                let text = error.to_string();
                let named = |p: &std::path::Path| text.starts_with(&p.display().to_string());
                if named(path) || path.parent().is_some_and(named) {
                    write!(f, "{text}")
                } else {
                    write!(f, "{}: {text}", path.display())
                }
            }
        }
    }
}

impl std::error::Error for ControlError {}

fn store_of(env: &Environment) -> Result<Store, ControlError> {
    env.archon_home()
        .map(Store::new)
        .ok_or(ControlError::NoHome)
}

fn consent_of(env: &Environment, store: &Store) -> Consent {
    let settings = config::read_settings(&store.config_path());
    consent::resolve(env, Some(store.config_path()), settings)
}

/// The result of opting in or out.
#[derive(Debug)]
pub struct ConsentChange {
    /// The config file that now records the choice.
    pub config_path: PathBuf,
    /// The anonymous id, after opting in (none while a variable keeps telemetry off).
    pub id: Option<Uuid>,
    /// Consent as it now resolves: an environment variable can still override the file.
    pub effective: Consent,
    /// The file already said so: nothing changed.
    pub unchanged: bool,
}

/// `archon telemetry on`: creates the anonymous id (unless a variable keeps telemetry off: the
/// first run after it is unset creates it), notes the time so that nothing recorded before this
/// moment is ever sent, and records `telemetry.enabled: true`.
///
/// The choice is recorded last: if telemetry's files cannot be written, telemetry is not turned
/// on (an error that says so, and nothing changed), rather than on with no id to send under.
/// An id this call made is deleted again if config.yaml cannot be changed: the id exists only
/// once the user has opted in.
pub fn opt_in(env: &Environment) -> Result<ConsentChange, ControlError> {
    let store = store_of(env)?;
    let was_on = config::read_settings(&store.config_path()).is_ok_and(|s| s.enabled == Some(true));
    let io_error = |path: PathBuf| move |error| ControlError::Io { path, error };
    // A variable that keeps telemetry off (DO_NOT_TRACK) means off whatever the file says: no
    // id until it is unset (the first run after that makes one).
    let kept_off = consent::from_environment(env).is_some_and(|c| c.state == ConsentState::Off);
    let (id, created) = if kept_off {
        (None, false)
    } else {
        let (id, created) =
            identity::get_or_create_noting(&store).map_err(io_error(store.identity_path()))?;
        (Some(id), created)
    };
    let forget_new_id = || {
        if created {
            let _ = identity::clear(&store);
        }
    };
    if !was_on {
        let noted = state::update(&store, |s| {
            s.opted_in_at = Some(format_timestamp(chrono::Utc::now()))
        });
        if let Err(error) = noted {
            forget_new_id();
            return Err(ControlError::Io {
                path: store.dir(),
                error,
            });
        }
    }
    if let Err(error) = config::set_value(
        &store.config_path(),
        "telemetry",
        "enabled",
        ConfigValue::Bool(true),
    ) {
        forget_new_id();
        return Err(ControlError::Config(error));
    }
    Ok(ConsentChange {
        effective: consent_of(env, &store),
        config_path: store.config_path(),
        id,
        unchanged: was_on,
    })
}

/// `archon telemetry off`: records `telemetry.enabled: false`, then empties the queue, so
/// nothing waiting is sent. The anonymous id is left as it is (`clear` removes it).
///
/// In that order: an archon process that started before the queue was emptied may have read
/// config.yaml while it still said on, and the withdrawal's mark tells it to write none of the
/// events it holds (see the `withdrawal` module); one that starts after reads off.
///
/// Each step is tried whatever became of the other: a config.yaml that cannot be changed (it
/// does not parse) must not keep the events of someone who asked to stop, and a queue that
/// cannot be emptied (a folder left to root by `sudo archon`) must not keep their choice from
/// being recorded. A failure to record the choice is reported first
/// ([`ControlError::OptOutNotRecorded`], saying whether the events were deleted).
pub fn opt_out(env: &Environment) -> Result<ConsentChange, ControlError> {
    let store = store_of(env)?;
    let was_off =
        config::read_settings(&store.config_path()).is_ok_and(|s| s.enabled == Some(false));
    let recorded = config::set_value(
        &store.config_path(),
        "telemetry",
        "enabled",
        ConfigValue::Bool(false),
    );
    // Without telemetry's folder nothing waits; but with an id, a process may be recording
    // under it without having written anything yet, and must learn of the withdrawal.
    let emptied = if store.dir().exists() || store.identity_path().exists() {
        queue::withdraw(&store).map_err(|error| ControlError::Io {
            path: store.dir(),
            error,
        })
    } else {
        Ok(())
    };
    if let Err(config) = recorded {
        return Err(ControlError::OptOutNotRecorded {
            config,
            waiting_deleted: emptied.is_ok(),
        });
    }
    emptied?;
    Ok(ConsentChange {
        effective: consent_of(env, &store),
        config_path: store.config_path(),
        id: None,
        unchanged: was_off,
    })
}

/// What `archon telemetry clear` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cleared {
    /// There was an id file to delete.
    pub existed: bool,
    /// Events that were waiting to be sent with the id, deleted with it.
    pub waiting_deleted: usize,
}

/// `archon telemetry clear`: deletes the anonymous id, and every event on this machine that
/// carries it: those waiting to be sent and those kept for `inspect`. Sent later, or sent in
/// the same request as the next id's events, they would link the two ids.
pub fn clear_identity(env: &Environment) -> Result<Cleared, ControlError> {
    let store = store_of(env)?;
    let io_error = |path: PathBuf| move |error| ControlError::Io { path, error };
    // With neither telemetry's folder nor an id there is nothing to delete, and no reason to
    // create the folder. With an id and no folder, a process may be recording under it without
    // having written anything yet: the folder is made, for the withdrawal's mark.
    if !store.dir().is_dir() && !store.identity_path().exists() {
        return Ok(Cleared {
            existed: false,
            waiting_deleted: 0,
        });
    }
    // One hold of the lock for the id and its events, so that a process starting meanwhile
    // cannot make a new id whose events would be deleted as the old one's.
    let _lock = store.lock().map_err(io_error(store.dir()))?;
    let existed = identity::clear_locked(&store).map_err(io_error(store.identity_path()))?;
    let waiting_deleted = queue::forget_identified_locked(&store).map_err(|error| {
        if existed {
            ControlError::IdDeletedNotItsEvents {
                error,
                // The queue goes first; what is left of it, if anything, says whether it went.
                waiting_deleted: !store.queue_path().exists(),
            }
        } else {
            io_error(store.dir())(error)
        }
    })?;
    Ok(Cleared {
        existed,
        waiting_deleted,
    })
}

/// Everything `archon telemetry status` reports.
#[derive(Debug)]
pub struct Status {
    /// `$ARCHON_HOME`, if it can be found.
    pub home: Option<PathBuf>,
    /// Consent and what decided it.
    pub consent: Consent,
    /// The anonymous id, if there is one.
    pub identity: Option<Identity>,
    /// The first characters of the build's key; `None` when this build cannot send.
    pub key_prefix: Option<String>,
    /// Where the delivery program should be, when this build can send and it is not there
    /// (events then stay queued).
    pub missing_delivery_program: Option<PathBuf>,
    /// Where events would go.
    pub host: Result<Host, HostError>,
    /// Events waiting in the queue, or why that is unknown.
    pub waiting: Result<recent::Waiting, String>,
    /// The last event recorded: its name and when.
    pub last_event: Option<(String, String)>,
    /// Delivery outcomes and drop counts.
    pub state: TelemetryState,
    /// `ARCHON_TELEMETRY_DEBUG` asks for debugging (see [`Environment::debug`]).
    pub debug: bool,
    /// Why the process asking could not record events as consent asks (see
    /// [`Telemetry::problem`]); only [`status_of`] fills it in.
    pub recording_problem: Option<String>,
    /// Why config.yaml cannot be used, if it cannot (whatever decided consent).
    pub config_problem: Option<ConfigError>,
    /// What config.yaml's `telemetry.enabled` says, if it says anything (a variable may
    /// outrank it).
    pub config_enabled: Option<bool>,
    /// The variables that are set and keep telemetry off (see
    /// [`consent::variables_keeping_off`]).
    pub off_variables: Vec<&'static str>,
    /// `ARCHON_TELEMETRY` says on (see [`consent::variable_turning_on`]).
    pub on_variable: bool,
}

/// [`status`] as seen by this process's telemetry: adds why it could not record, if it could
/// not (the anonymous id or telemetry's files cannot be created or written).
pub fn status_of(telemetry: &Telemetry) -> Status {
    // Read before this run's own events are written, so that the last event and the count of
    // those waiting are what came before `status` (as `inspect` leaves its own out); then
    // writing them shows whether events can be written at all.
    let status = status(telemetry.environment());
    telemetry.flush();
    Status {
        recording_problem: telemetry.problem(),
        ..status
    }
}

/// Gathers [`Status`]. Never fails: what cannot be read is reported as such.
pub fn status(env: &Environment) -> Status {
    let off_variables = consent::variables_keeping_off(env);
    let on_variable = consent::variable_turning_on(env);
    let key_prefix = build_config::POSTHOG_KEY.map(build_config::key_prefix);
    let missing_delivery_program = key_prefix
        .as_ref()
        .and_then(|_| spawn::delivery_program_path())
        .filter(|path| !path.is_file());
    let from_env = env
        .archon_telemetry_host
        .as_deref()
        .and_then(|h| h.to_str());
    let Ok(store) = store_of(env) else {
        return Status {
            home: None,
            consent: consent::resolve(env, None, Ok(config::TelemetrySettings::default())),
            identity: None,
            key_prefix,
            missing_delivery_program,
            host: host::choose(from_env, None),
            waiting: Err("no home folder".to_owned()),
            last_event: None,
            state: TelemetryState::default(),
            debug: env.debug(),
            recording_problem: None,
            config_problem: None,
            config_enabled: None,
            off_variables,
            on_variable,
        };
    };
    let settings = config::read_settings(&store.config_path());
    let config_enabled = settings.as_ref().ok().and_then(|settings| settings.enabled);
    let host = host::for_delivery(from_env, settings.as_ref());
    let config_problem = settings.as_ref().err().cloned();
    let consent = consent::resolve(env, Some(store.config_path()), settings);
    // No folder, nothing recorded yet; and a status check must not create one.
    let (waiting, last_event) = if store.dir().is_dir() {
        let cannot_read =
            |e: std::io::Error| format!("{} cannot be read ({e})", store.queue_path().display());
        match recent::overview(&store) {
            Ok(overview) => (
                overview.waiting.map_err(cannot_read),
                overview
                    .newest
                    .map(|entry| (entry.event.event, entry.event.timestamp)),
            ),
            Err(error) => (Err(cannot_read(error)), None),
        }
    } else {
        (Ok(recent::Waiting::default()), None)
    };
    Status {
        identity: identity::read(&store),
        host,
        state: state::read(&store),
        home: Some(store.home().to_owned()),
        consent,
        key_prefix,
        missing_delivery_program,
        waiting,
        last_event,
        debug: env.debug(),
        recording_problem: None,
        config_problem,
        config_enabled,
        off_variables,
        on_variable,
    }
}

/// `archon telemetry inspect`: the last `limit` events, oldest first, each exactly as it was
/// (or would be) sent, with what became of it. Never sends anything.
pub fn inspect(
    env: &Environment,
    limit: usize,
) -> Result<Vec<(RecentEntry, DeliveryStatus)>, ControlError> {
    let store = store_of(env)?;
    if !store.dir().exists() {
        return Ok(Vec::new());
    }
    recent::read(&store, limit).map_err(|error| ControlError::Io {
        path: store.dir(),
        error,
    })
}

/// Whether telemetry is on and this build can send.
pub fn is_sending(status: &Status) -> bool {
    status.consent.state == ConsentState::On && status.key_prefix.is_some()
}
