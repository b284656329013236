//! `archon telemetry on|off|status|inspect|clear|policy`
//!
//! In a build without the `telemetry` feature, `status`, `inspect` and `policy` say so, `on`
//! refuses, and `off` and `clear` work as usual: they only write config.yaml and delete files
//! that a build with telemetry may have left in the same `$ARCHON_HOME`.

use super::CommandError;
#[cfg(feature = "telemetry")]
use crate::cli::InspectArgs;
use crate::cli::TelemetryCommand;
use crate::exit;
#[cfg(feature = "telemetry")]
use crate::output;
use crate::output::outln;
use crate::session::Session;
use telemetry_runtime::control::{self, ControlError};
use telemetry_runtime::Environment;
use telemetry_schema::ErrorClass;
#[cfg(feature = "telemetry")]
use {
    serde_json::{json, Map, Value},
    telemetry_runtime::consent::{ConsentSource, ConsentState},
    telemetry_runtime::control::Status,
    telemetry_runtime::host::{HostError, HostSource},
};

/// Where the policy page lives.
pub const POLICY_URL: &str = "https://github.com/coleam00/Archon/blob/main/docs/telemetry.md";

/// Runs one `archon telemetry` subcommand.
#[cfg(feature = "telemetry")]
pub fn run(command: TelemetryCommand, session: &Session) -> Result<i32, CommandError> {
    let env = session.environment();
    match command {
        TelemetryCommand::On => on(env, session.telemetry().consent().state),
        TelemetryCommand::Off => {
            let result = off(env);
            // This run records nothing (see `main`), so that nothing of it is queued after the
            // queue was emptied; and should it have, it stops here.
            session.telemetry().stop();
            result
        }
        TelemetryCommand::Status => {
            // Looking starts no delivery: the events this shows go with the next command (or
            // with a delivery already running).
            session.telemetry().hold_delivery();
            output::stdout(format_args!(
                "{}",
                render_status(&control::status_of(session.telemetry()))
            ))?;
            Ok(exit::SUCCESS)
        }
        TelemetryCommand::Inspect(args) => {
            session.telemetry().hold_delivery();
            inspect(env, &args)
        }
        TelemetryCommand::Clear => {
            let telemetry = session.telemetry();
            let consent = telemetry.consent();
            let on_by = (consent.state == ConsentState::On).then_some(&consent.source);
            let result = clear(env, on_by);
            // This run records nothing (see `main`): its events would carry the id it deletes,
            // and its start would make one.
            session.telemetry().stop();
            result
        }
        TelemetryCommand::Policy => policy(),
    }
}

/// Runs one `archon telemetry` subcommand in a build without telemetry.
#[cfg(not(feature = "telemetry"))]
pub fn run(command: TelemetryCommand, session: &Session) -> Result<i32, CommandError> {
    let env = session.environment();
    match command {
        TelemetryCommand::On => Err(CommandError {
            message: format!(
                "telemetry cannot be turned on: this archon was {BUILT_WITHOUT}.\n\
                 To share anonymous usage events, install a build of archon with telemetry, \
                 such as the release binaries."
            ),
            code: exit::FAILURE,
            class: ErrorClass::Other,
            // Refusing is this build's designed behaviour, not a bug to report.
            unexpected: false,
        }),
        TelemetryCommand::Off => off(env),
        // The same JSON as a build with telemetry prints, with no events, so that a script
        // reading it works with either build; why there are none goes to stderr.
        TelemetryCommand::Inspect(args) => {
            let delivery = if args.status {
                ",\n  \"delivery\": {}"
            } else {
                ""
            };
            outln!("{{\n  \"events\": []{delivery}\n}}")?;
            crate::output::errln!(
                "note: no events: this archon was {BUILT_WITHOUT}, so it records none."
            );
            Ok(exit::SUCCESS)
        }
        TelemetryCommand::Status => {
            outln!("Telemetry: not built in")?;
            outln!("  This archon was {BUILT_WITHOUT}: it records and")?;
            outln!("  sends nothing, whatever DO_NOT_TRACK, ARCHON_TELEMETRY or config.yaml say.")?;
            if let Some(id) = leftover_identity(env) {
                outln!(
                    "  An anonymous id from a build with telemetry is still in {}; `archon telemetry clear` deletes it.",
                    id.display()
                )?;
            }
            Ok(exit::SUCCESS)
        }
        // This build never makes an id, so none will replace the one deleted.
        TelemetryCommand::Clear => clear(env, None),
        TelemetryCommand::Policy => {
            outln!("This archon was {BUILT_WITHOUT}: it records and sends nothing.")?;
            outln!()?;
            policy()
        }
    }
}

/// How a build without the `telemetry` feature describes itself.
#[cfg(not(feature = "telemetry"))]
const BUILT_WITHOUT: &str = "built without telemetry (cargo feature `telemetry` off)";

/// The anonymous id file a build with telemetry left in this home, if there is one that
/// `archon telemetry clear` can delete (a folder planted there, it cannot).
fn leftover_identity(env: &Environment) -> Option<std::path::PathBuf> {
    let id = telemetry_runtime::store::Store::new(env.archon_home()?).identity_path();
    std::fs::symlink_metadata(&id)
        .is_ok_and(|metadata| !metadata.is_dir())
        .then_some(id)
}

fn policy() -> Result<i32, CommandError> {
    outln!("The telemetry policy lists every event and property archon can send:")?;
    outln!("  {POLICY_URL}")?;
    outln!("  (docs/telemetry.md in archon's repository)")?;
    Ok(exit::SUCCESS)
}

/// How to turn telemetry off when `source` turned it on: the variable outranks config.yaml,
/// which `archon telemetry off` writes.
pub fn turn_off(source: &telemetry_runtime::consent::ConsentSource) -> &'static str {
    match source {
        telemetry_runtime::consent::ConsentSource::ArchonTelemetry => "unset ARCHON_TELEMETRY",
        _ => "archon telemetry off",
    }
}

fn control_error(error: ControlError) -> CommandError {
    control_error_saying(error, None)
}

/// The command error for `error`; `io_outcome`: what became of the command when one of
/// telemetry's files could not be written (`ControlError::Io`), if the command can say.
fn control_error_saying(error: ControlError, io_outcome: Option<&str>) -> CommandError {
    match error {
        ControlError::Config(config) => config_error(&config, "Nothing was changed."),
        ControlError::OptOutNotRecorded {
            config,
            waiting_deleted,
        } => config_error(
            &config,
            if waiting_deleted {
                "The events waiting to be sent were deleted, but telemetry.enabled could not be \
                 set to false."
            } else {
                "Nothing was changed."
            },
        ),
        ControlError::NoHome => CommandError::usage(ErrorClass::Io, error.to_string()),
        ControlError::Io { .. } | ControlError::IdDeletedNotItsEvents { .. } => {
            CommandError::failed(
                ErrorClass::Io,
                match io_outcome {
                    Some(outcome) => format!("{error}\n{outcome}"),
                    None => error.to_string(),
                },
            )
        }
    }
}

/// config.yaml could not be read or changed; `done`: what became of the command.
fn config_error(config: &telemetry_runtime::config::ConfigError, done: &str) -> CommandError {
    if config.io {
        // The file or its folder cannot be read or written (a read-only home): a failure, not
        // a mistake in the file.
        CommandError::failed(ErrorClass::Io, format!("{config}\n{done}"))
    } else {
        CommandError::usage(
            ErrorClass::ConfigInvalid,
            format!("{config}\n{done} Fix the file (or remove it) and try again."),
        )
    }
}

#[cfg(feature = "telemetry")]
fn on(env: &Environment, before: ConsentState) -> Result<i32, CommandError> {
    // The id and the opt-in time are written before config.yaml: a failure there changed nothing.
    // Telemetry may have been on already (config.yaml or a variable says so): then it is sent
    // as before, unless what failed is the anonymous id, without which nothing is sent (as
    // status reports).
    let change = control::opt_in(env).map_err(|error| {
        let identity_path = env
            .archon_home()
            .map(|home| telemetry_runtime::store::Store::new(home).identity_path());
        let outcome = match &error {
            _ if before != ConsentState::On => "Nothing was changed: telemetry is not on.",
            ControlError::Io { path, .. } if Some(path) == identity_path.as_ref() => {
                "Nothing was changed: telemetry stays on, but nothing is sent until this is fixed."
            }
            _ => "Nothing was changed: telemetry stays on.",
        };
        let no_home = matches!(error, ControlError::NoHome);
        let mut command_error = control_error_saying(error, Some(outcome));
        // Setting ARCHON_HOME would not be enough: say so now, not on the next try.
        let names = telemetry_runtime::consent::variables_keeping_off(env);
        if no_home && !names.is_empty() {
            command_error.message.push_str(&format!(
                "; and unset {}, which {} telemetry off",
                names.join(" "),
                if names.len() == 1 { "keeps" } else { "keep" }
            ));
        }
        command_error
    })?;
    // A variable outranks the file: say first what is true now.
    let kept_off = change.effective.state != ConsentState::On;
    if kept_off {
        let names = telemetry_runtime::consent::variables_keeping_off(env);
        let who = match names.as_slice() {
            [] => format!("{} turns", change.effective.source),
            _ => format!(
                "the {}",
                named(
                    &names,
                    "environment variable turns",
                    "environment variables turn"
                )
            ),
        };
        let them = if names.len() > 1 { "them" } else { "it" };
        outln!(
            "Your choice is recorded, but telemetry stays off: {who} it off, whatever \
             config.yaml says. Nothing is recorded or sent until you unset {them}."
        )?;
    } else if change.unchanged {
        outln!("Telemetry was already on.")?;
    } else {
        outln!("Telemetry is on. Thank you!")?;
    }
    outln!(
        "  Recorded in:  {} (telemetry.enabled: true)",
        change.config_path.display()
    )?;
    if let Some(id) = change.id {
        outln!("  Anonymous id: {id}")?;
    }
    outln!()?;
    if kept_off {
        outln!("Once it is on, archon will send the events listed in the policy:")?;
        outln!("{WHAT_IS_SENT}")?;
        outln!()?;
        outln!("See what would be sent:   archon telemetry inspect")?;
        outln!("Policy:                   {POLICY_URL}")?;
        no_key_note()?;
        return Ok(exit::SUCCESS);
    }
    outln!("archon will send the events listed in the policy:")?;
    outln!("{WHAT_IS_SENT}")?;
    outln!()?;
    outln!("See exactly what is sent: archon telemetry inspect")?;
    outln!("Turn it off again:        archon telemetry off")?;
    outln!("Policy:                   {POLICY_URL}")?;
    no_key_note()?;
    Ok(exit::SUCCESS)
}

/// What `archon telemetry on` says the events hold, after "archon will send the events listed
/// in the policy:".
#[cfg(feature = "telemetry")]
const WHAT_IS_SENT: &str = "\
which commands and workflows run, how long they take and how they fail, what `archon setup`
chose, with archon's version, your OS and CPU family, and whether it runs in CI. Never paths,
file names, the names of your own workflows, messages, or anything you type.";

/// `names` as a list in a sentence ("A", "A and B", "A, B and C"), with `one` or `several`
/// after it to agree: `named(&names, "is", "are")`.
#[cfg(feature = "telemetry")]
fn named(names: &[&str], one: &str, several: &str) -> String {
    match names {
        [name] => format!("{name} {one}"),
        [first @ .., last] => format!("{} and {last} {several}", first.join(", ")),
        [] => format!("the variable {one}"),
    }
}

/// Says that this build cannot send, if it cannot.
#[cfg(feature = "telemetry")]
fn no_key_note() -> Result<(), CommandError> {
    if telemetry_runtime::build_config::POSTHOG_KEY.is_none() {
        outln!()?;
        outln!("Note: this build of archon has no PostHog key, so it cannot send anything;")?;
        outln!("events are only kept locally for `archon telemetry inspect`.")?;
    }
    Ok(())
}

fn off(env: &Environment) -> Result<i32, CommandError> {
    // A file error comes after config.yaml was written (see `control::opt_out`).
    let change = control::opt_out(env).map_err(|error| {
        control_error_saying(
            error,
            Some(
                "telemetry.enabled: false was recorded, so nothing more is sent; but the file \
                 above could not be changed, so events already waiting may not have been deleted.",
            ),
        )
    })?;
    // A variable outranks the file: say first what is true now.
    #[cfg(feature = "telemetry")]
    let kept_on = change.effective.state == ConsentState::On;
    #[cfg(not(feature = "telemetry"))]
    let kept_on = false;
    if kept_on {
        let recorded = if telemetry_runtime::build_config::POSTHOG_KEY.is_some() {
            "recorded and sent"
        } else {
            "recorded (this build cannot send them)"
        };
        outln!(
            "Your choice is recorded and the events waiting to be sent were deleted, but \
             telemetry stays on: {} turns it on, whatever config.yaml says. Events are {recorded} \
             until you unset it.",
            change.effective.source
        )?;
    } else if change.unchanged {
        outln!("Telemetry was already off. Nothing will be sent.")?;
    } else {
        outln!(
            "Telemetry is off. Nothing will be sent; any events waiting to be sent were deleted."
        )?;
    }
    // Off now because of another variable, with ARCHON_TELEMETRY=1 behind it, which the file
    // does not outrank.
    #[cfg(feature = "telemetry")]
    {
        let names = telemetry_runtime::consent::variables_keeping_off(env);
        if telemetry_runtime::consent::variable_turning_on(env) && !names.is_empty() {
            outln!(
                "Note: ARCHON_TELEMETRY turns telemetry on again once {} unset; unset it too.",
                named(&names, "is", "are")
            )?;
        }
    }
    outln!(
        "  Recorded in: {} (telemetry.enabled: false)",
        change.config_path.display()
    )?;
    if let Some(id) = leftover_identity(env) {
        outln!(
            "Your anonymous id is still in {}; `archon telemetry clear` deletes it.",
            id.display()
        )?;
    }
    Ok(exit::SUCCESS)
}

/// `on_by`: what keeps telemetry on as this run resolved consent, if it is on (clearing the id
/// does not change that), so a new id will be made.
fn clear(
    env: &Environment,
    on_by: Option<&telemetry_runtime::consent::ConsentSource>,
) -> Result<i32, CommandError> {
    let cleared = control::clear_identity(env).map_err(control_error)?;
    if cleared.existed {
        outln!("Deleted your anonymous id, and the events on this machine that carry it.")?;
    } else {
        outln!("There was no anonymous id to delete.")?;
    }
    match cleared.waiting_deleted {
        0 => {}
        1 => outln!("  1 event waiting to be sent with it was deleted, not sent.")?,
        n => outln!("  {n} events waiting to be sent with it were deleted, not sent.")?,
    }
    if let Some(source) = on_by {
        outln!(
            "Telemetry is still on: a new, unrelated id will be made the next time archon runs."
        )?;
        outln!("To stop sending as well: {}", turn_off(source))?;
    }
    Ok(exit::SUCCESS)
}

#[cfg(feature = "telemetry")]
fn inspect(env: &Environment, args: &InspectArgs) -> Result<i32, CommandError> {
    let events = control::inspect(env, usize::from(args.limit)).map_err(control_error)?;
    let mut output = Map::new();
    output.insert(
        "events".into(),
        Value::Array(
            events
                .iter()
                .filter_map(|(entry, _)| serde_json::to_value(&entry.event).ok())
                .collect(),
        ),
    );
    if args.status {
        let delivery: Map<String, Value> = events
            .iter()
            .map(|(entry, status)| (entry.event.uuid.to_string(), json!(status.describe())))
            .collect();
        output.insert("delivery".into(), Value::Object(delivery));
    }
    let text = serde_json::to_string_pretty(&Value::Object(output))
        .map_err(|e| CommandError::failed(ErrorClass::Other, e.to_string()))?;
    outln!("{text}")?;
    Ok(exit::SUCCESS)
}

/// The text of `archon telemetry status`.
#[cfg(feature = "telemetry")]
pub fn render_status(status: &Status) -> String {
    let mut out = String::new();
    // Some of what status shows comes from files (the last delivery's outcome, the last
    // event's name, a host in config.yaml): a control character in them (a terminal escape
    // sequence) is shown escaped, never sent to the terminal.
    let mut line = |text: String| {
        for c in text.chars() {
            if c.is_control() {
                out.extend(c.escape_default());
            } else {
                out.push(c);
            }
        }
        out.push('\n');
    };
    let state = match status.consent.state {
        ConsentState::On if status.key_prefix.is_some() => "ON",
        ConsentState::On => "ON (but this build cannot send)",
        ConsentState::Off => "OFF",
        ConsentState::Undecided => "UNDECIDED (nothing is sent until you opt in)",
    };
    line(format!("Telemetry: {state}"));
    line(format!("  Decided by:    {}", status.consent.source));
    // ARCHON_TELEMETRY=1 behind a variable that keeps telemetry off: unsetting that one turns
    // telemetry on, whatever the file says.
    let on_once_unset = status.on_variable && !status.off_variables.is_empty();
    if on_once_unset {
        line(format!(
            "  Overrides:     ARCHON_TELEMETRY, which turns telemetry on once {} unset",
            named(&status.off_variables, "is", "are")
        ));
    } else if let Some(enabled) = status.config_enabled {
        // The variables that decide, if any do, and the file says otherwise: unsetting them
        // changes the state (and, to on, sends what is recorded from then on). Only
        // ARCHON_TELEMETRY turns telemetry on; any of several may keep it off.
        let variables = match status.consent.state {
            ConsentState::On if status.on_variable => vec!["ARCHON_TELEMETRY"],
            _ => status.off_variables.clone(),
        };
        let file_says = if enabled {
            ConsentState::On
        } else {
            ConsentState::Off
        };
        if !variables.is_empty() && file_says != status.consent.state {
            line(format!(
                "  Overrides:     telemetry.enabled: {enabled} in config.yaml, which applies once \
                 {} unset",
                named(&variables, "is", "are")
            ));
        }
    }
    match &status.home {
        Some(home) => line(format!("  Files:         {}", home.display())),
        None => line(
            "  Files:         none: neither ARCHON_HOME nor HOME is set, so nothing is recorded"
                .into(),
        ),
    }
    match &status.identity {
        Some(identity) => {
            let created = identity
                .created
                .map(chrono_date)
                .unwrap_or_else(|| "unknown".into());
            line(format!(
                "  Anonymous id:  {} (created {created})",
                identity.id
            ));
        }
        None => line("  Anonymous id:  none".into()),
    }
    match &status.host {
        Ok(host) => {
            let from = match host.source {
                HostSource::Environment => " (from ARCHON_TELEMETRY_HOST)",
                HostSource::ConfigFile => " (from telemetry.host in config.yaml)",
                HostSource::Build => "",
            };
            line(format!("  PostHog host:  {}{from}", host.url));
        }
        Err(error @ HostError::ConfigUnreadable { .. }) => {
            line(format!("  PostHog host:  unknown: {error}"))
        }
        Err(error) => line(format!("  PostHog host:  {error}")),
    }
    match &status.key_prefix {
        Some(prefix) => line(format!(
            "  PostHog key:   {prefix} (embedded at build time)"
        )),
        None => line("  PostHog key:   none: this build cannot send telemetry".into()),
    }
    if let Some(path) = &status.missing_delivery_program {
        line(format!(
            "  Sender:        missing: {} (events stay queued until it is installed next to archon)",
            path.display()
        ));
    }
    match &status.waiting {
        Ok(waiting) if waiting.under_deleted_id > 0 => line(format!(
            "  Waiting:       {} to send; {} under a deleted anonymous id, which the next \
             delivery discards unsent",
            events(waiting.to_send),
            events(waiting.under_deleted_id)
        )),
        Ok(waiting) => line(format!("  Waiting:       {}", events(waiting.to_send))),
        Err(problem) => line(format!("  Waiting:       unknown: {problem}")),
    }
    match &status.last_event {
        Some((name, time)) => line(format!("  Last event:    {name} ({time})")),
        None => line("  Last event:    none".into()),
    }
    let state = &status.state;
    match (
        &state.last_outcome,
        state
            .last_success_at
            .as_ref()
            .or(state.last_failure_at.as_ref()),
    ) {
        (Some(outcome), Some(_)) => {
            let when = if state.consecutive_failures > 0 {
                state.last_failure_at.as_deref()
            } else {
                state.last_success_at.as_deref()
            };
            line(format!(
                "  Last delivery: {outcome} ({})",
                when.unwrap_or("unknown")
            ));
        }
        _ => line("  Last delivery: none yet".into()),
    }
    let drops = [
        (state.dropped_queue_full, "queue full, oldest dropped"),
        (state.dropped_rejected, "rejected by the server"),
        (
            state.dropped_before_opt_in,
            "recorded before you last opted in",
        ),
        (
            state.dropped_unreadable,
            "unreadable or invalid in the queue, or dated in the future",
        ),
    ];
    for (count, why) in drops.iter().filter(|(count, _)| *count > 0) {
        line(format!("  Dropped:       {count} ({why})"));
    }
    match (status.debug, status.consent.state) {
        (false, _) => {}
        (true, ConsentState::Off) => line(
            "  Debug:         ARCHON_TELEMETRY_DEBUG is set, but telemetry is off: nothing is recorded or printed".into(),
        ),
        (true, _) => line(
            "  Debug:         ARCHON_TELEMETRY_DEBUG is set: events are printed to stderr, not sent"
                .into(),
        ),
    }
    if let Some(error) = &status.config_problem {
        line(format!("  Problem:       {error}"));
        let until = match (&status.consent.source, &status.host) {
            (ConsentSource::BrokenConfig(_), _) => "; until then telemetry is off",
            (_, Err(_)) => "; until then nothing is sent",
            // An environment variable decides consent and names the host: the file changes
            // nothing telemetry does, but archon's other settings are in it too.
            (_, Ok(_)) => "",
        };
        // A file that cannot be read (or a path through a file) needs a different fix from a
        // file that reads but says something wrong.
        let fix = if error.io {
            "make the path above a file archon can read, or remove it"
        } else {
            "correct the file or remove it"
        };
        line(format!("  Fix:           {fix}{until}"));
    }
    if let Some(problem) = &status.recording_problem {
        line(format!("  Problem:       {problem}"));
    }
    line(String::new());
    if status.consent.state != ConsentState::On {
        // `archon telemetry on` writes config.yaml, which does not help while a variable or an
        // unreadable file decides.
        // config.yaml (or ARCHON_TELEMETRY) already says on: unsetting the variable is enough.
        let then_on = if status.config_enabled == Some(true) || status.on_variable {
            ""
        } else if status.config_problem.is_some() {
            ", fix config.yaml, then archon telemetry on"
        } else {
            ", then archon telemetry on"
        };
        // Every variable that keeps it off must go, and without a home folder there is nowhere
        // to record the choice.
        let set_home = if status.home.is_none() {
            ", set ARCHON_HOME to a folder"
        } else {
            ""
        };
        let how = match &status.consent.source {
            _ if !status.off_variables.is_empty() => format!(
                "unset {}{set_home}{then_on}",
                status.off_variables.join(" ")
            ),
            _ if status.home.is_none() => {
                "set ARCHON_HOME to a folder, then archon telemetry on".to_owned()
            }
            ConsentSource::BrokenConfig(_) => "fix config.yaml, then archon telemetry on".into(),
            _ => "archon telemetry on".into(),
        };
        line(format!("To turn it on:   {how}"));
    }
    // Without a home folder nothing is recorded, and `archon telemetry off` has nowhere to
    // write; a variable that turns telemetry on can still be unset.
    let off_by_command = turn_off(&status.consent.source) == "archon telemetry off";
    if status.consent.state != ConsentState::Off && !(status.home.is_none() && off_by_command) {
        line(format!(
            "To turn it off:  {}   (or set DO_NOT_TRACK=1)",
            turn_off(&status.consent.source)
        ));
    }
    line("To inspect:      archon telemetry inspect".into());
    line(format!("Policy:          {POLICY_URL}"));
    out
}

/// "1 event", "2 events".
#[cfg(feature = "telemetry")]
fn events(count: usize) -> String {
    match count {
        1 => "1 event".to_owned(),
        n => format!("{n} events"),
    }
}

/// `YYYY-MM-DD` in UTC.
#[cfg(feature = "telemetry")]
fn chrono_date(time: std::time::SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(time)
        .format("%Y-%m-%d")
        .to_string()
}
