//! The first-run notice: printed once per `$ARCHON_HOME`, to stderr, never a question.
//!
//! Only in builds with the `telemetry` feature: a build without it has nothing to opt in to.

use crate::commands::telemetry::{turn_off, POLICY_URL};
use std::io::Write;
use std::path::Path;
use telemetry_runtime::consent::{Consent, ConsentState};
use telemetry_runtime::Environment;

const MARKER: &str = ".first-run-completed";

/// The notice for `consent` (undecided or on).
fn text(consent: &Consent) -> String {
    // A terminal that says it cannot draw lines gets ASCII.
    let line = if std::env::var_os("TERM").is_some_and(|term| term == "dumb") {
        "-"
    } else {
        "─"
    };
    let rule = line.repeat(65);
    // Already on (a variable, or a config.yaml copied from elsewhere): inviting the user to opt
    // in would be wrong; say what turned it on and how to turn it off.
    let choice = if consent.state == ConsentState::On {
        let turn_off = turn_off(&consent.source);
        format!(
            "Archon collects no usage data by default, but telemetry is on here:\n\
             it was turned on by {}.\n\
             Nothing from this first command is sent.\n\n\
             To turn it off:\n  \
             {turn_off}   (or set DO_NOT_TRACK=1)\n\n\
             Review what is sent at any time:\n  \
             archon telemetry inspect\n",
            consent.source
        )
    } else {
        "Archon collects no usage data by default.\n\n\
         If you'd like to share anonymous usage events to help improve archon:\n  \
         archon telemetry on\n\n\
         Review what would be sent at any time:\n  \
         archon telemetry inspect\n"
            .to_owned()
    };
    format!(
        "{rule}\n\
         {choice}\n\
         Full telemetry policy:\n  \
         {POLICY_URL}\n\
         {rule}\n"
    )
}

/// Prints the notice if this home has not seen it and telemetry is not off, and returns
/// whether this run is the one that showed it. The marker is created first and the notice is
/// printed only if that worked: a home that cannot be written shows no notice, rather than one
/// on every run.
///
/// `print` is false for `archon telemetry status`, `on`, `off` and `clear`, which say what
/// telemetry is doing already: the notice would only repeat it, so the run marks it as seen
/// without printing it (and counts as the run that showed it).
pub fn show_once(env: &Environment, consent: &Consent, print: bool) -> bool {
    if consent.state == ConsentState::Off {
        return false;
    }
    let Some(home) = env.archon_home() else {
        return false;
    };
    if !mark_seen(&home) {
        return false;
    }
    if print {
        let _ = std::io::stderr().lock().write_all(text(consent).as_bytes());
    }
    true
}

/// Creates the marker; false when it exists already or cannot be created.
fn mark_seen(home: &Path) -> bool {
    let marker = home.join(MARKER);
    if std::fs::symlink_metadata(&marker).is_ok() {
        return false;
    }
    // A home that is another user's link is not written in (see `Store::refuse_foreign_links`).
    if telemetry_runtime::store::Store::new(home)
        .refuse_foreign_links()
        .is_err()
    {
        return false;
    }
    let mut folder = std::fs::DirBuilder::new();
    folder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut folder, 0o700);
    if !home.is_dir() && folder.create(home).is_err() {
        return false;
    }
    // create_new: exactly one of several archon processes started at once prints the notice.
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(&marker)
        .is_ok()
}
