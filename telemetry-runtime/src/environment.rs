//! The environment variables telemetry reads, captured once so that every decision in a
//! process sees the same values (and tests can supply their own without touching the process's
//! environment).

use std::ffi::{OsStr, OsString};
use std::path::PathBuf;

/// The variables that affect telemetry. Their values are only ever compared, never recorded.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Environment {
    /// `DO_NOT_TRACK`: the cross-tool opt-out.
    pub do_not_track: Option<OsString>,
    /// `ARCHON_NO_TELEMETRY`.
    pub archon_no_telemetry: Option<OsString>,
    /// `ARCHON_TELEMETRY`.
    pub archon_telemetry: Option<OsString>,
    /// `ARCHON_TELEMETRY_HOST`: another PostHog host or a proxy, for this run.
    pub archon_telemetry_host: Option<OsString>,
    /// `ARCHON_TELEMETRY_DEBUG`: print events instead of sending them.
    pub archon_telemetry_debug: Option<OsString>,
    /// `ARCHON_HOME`: where archon keeps its files.
    pub archon_home: Option<OsString>,
    /// `HOME`.
    pub home: Option<OsString>,
    /// Whether a CI service's variable is set (only the yes/no is kept).
    pub is_ci: bool,
}

impl Environment {
    /// The current process's environment.
    pub fn from_process() -> Self {
        let var = |name: &str| std::env::var_os(name);
        Environment {
            do_not_track: var("DO_NOT_TRACK"),
            archon_no_telemetry: var("ARCHON_NO_TELEMETRY"),
            archon_telemetry: var("ARCHON_TELEMETRY"),
            archon_telemetry_host: var("ARCHON_TELEMETRY_HOST"),
            archon_telemetry_debug: var("ARCHON_TELEMETRY_DEBUG"),
            archon_home: var("ARCHON_HOME"),
            home: var("HOME"),
            is_ci: telemetry_schema::base::is_ci_environment(var),
        }
    }

    /// The folder archon keeps its files in: `$ARCHON_HOME`, else `$HOME/.archon`; `None` when
    /// neither is set (or both are empty). A relative path is taken from the current folder and
    /// made absolute, so that `status` shows where the files are.
    pub fn archon_home(&self) -> Option<PathBuf> {
        let home = match (&self.archon_home, &self.home) {
            (Some(home), _) if !home.is_empty() => PathBuf::from(home),
            (_, Some(home)) if !home.is_empty() => PathBuf::from(home).join(".archon"),
            _ => return None,
        };
        if home.is_relative() {
            if let Ok(current) = std::env::current_dir() {
                return Some(current.join(home));
            }
        }
        Some(home)
    }

    /// Whether `ARCHON_TELEMETRY_DEBUG` asks for events on stderr instead of being sent: any
    /// value but empty and the words for no (`0`, `false`, `no`, `off`, in any case), which
    /// must not fill stderr with JSON.
    pub fn debug(&self) -> bool {
        self.archon_telemetry_debug
            .as_deref()
            .is_some_and(|value| !matches!(flag(value), Flag::Empty | Flag::Off))
    }
}

/// Set to something other than empty or `0`.
pub(crate) fn is_set(value: &Option<OsString>) -> bool {
    value.as_ref().is_some_and(|v| !v.is_empty() && v != "0")
}

/// What a yes-or-no variable's value says (`ARCHON_TELEMETRY`, `ARCHON_TELEMETRY_DEBUG`).
pub(crate) enum Flag {
    /// Set to nothing (or blanks): no choice, as if it were not set.
    Empty,
    On,
    Off,
    NotUnderstood,
}

/// `1`/`true`/`yes`/`on` → on, `0`/`false`/`no`/`off` → off, in any case and with blanks around.
pub(crate) fn flag(value: &OsStr) -> Flag {
    let Some(value) = value.to_str() else {
        return Flag::NotUnderstood;
    };
    match value.trim().to_ascii_lowercase().as_str() {
        "" => Flag::Empty,
        "1" | "true" | "yes" | "on" => Flag::On,
        "0" | "false" | "no" | "off" => Flag::Off,
        _ => Flag::NotUnderstood,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_on_for_any_value_but_the_words_for_no() {
        let debug = |value: Option<&str>| {
            Environment {
                archon_telemetry_debug: value.map(Into::into),
                ..Environment::default()
            }
            .debug()
        };
        for on in ["1", "true", "YES", "on", "2", "please"] {
            assert!(debug(Some(on)), "{on}");
        }
        for off in ["", " ", "0", "false", "False", " no ", "OFF"] {
            assert!(!debug(Some(off)), "{off:?}");
        }
        assert!(!debug(None));
    }

    #[test]
    fn a_relative_archon_home_is_made_absolute() {
        let env = Environment {
            archon_home: Some("relative/home".into()),
            ..Environment::default()
        };
        let home = env.archon_home().unwrap();
        assert!(home.is_absolute(), "{}", home.display());
        assert!(home.ends_with("relative/home"));
        let env = Environment {
            home: Some("/h".into()),
            ..Environment::default()
        };
        assert_eq!(env.archon_home().unwrap(), PathBuf::from("/h/.archon"));
    }
}
