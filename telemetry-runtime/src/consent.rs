//! Whether telemetry may record and send, and which signal decided it.
//!
//! The signals, strongest first: `DO_NOT_TRACK`; `ARCHON_NO_TELEMETRY` / `ARCHON_TELEMETRY`;
//! `telemetry.enabled` in config.yaml; otherwise undecided, which sends nothing. A config file
//! that cannot be read counts as "off", never as "on".

use crate::config::{ConfigError, TelemetrySettings};
use crate::environment::{flag, is_set, Environment, Flag};
use std::fmt;
use std::path::PathBuf;

/// What telemetry may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsentState {
    /// Nothing is recorded, nothing is sent, no telemetry file is written.
    Off,
    /// The default: nothing is sent; the last events are kept locally, without an identity, so
    /// `archon telemetry inspect` can show what would be sent.
    Undecided,
    /// Events are recorded and sent.
    On,
}

/// The signal that decided the [`ConsentState`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsentSource {
    /// `DO_NOT_TRACK` is set.
    DoNotTrack,
    /// `ARCHON_NO_TELEMETRY` is set.
    ArchonNoTelemetry,
    /// `ARCHON_TELEMETRY` is `1`/`true`/`yes`/`on` or `0`/`false`/`no`/`off`.
    ArchonTelemetry,
    /// `ARCHON_TELEMETRY` is set to something else, which turns telemetry off: whoever set it
    /// meant to choose, and "off" is the choice that cannot surprise them.
    ArchonTelemetryNotUnderstood,
    /// `telemetry.enabled` in this config file.
    ConfigFile(PathBuf),
    /// The config file could not be read, which turns telemetry off.
    BrokenConfig(ConfigError),
    /// Nothing was chosen.
    Default,
}

impl fmt::Display for ConsentSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConsentSource::DoNotTrack => write!(f, "the DO_NOT_TRACK environment variable"),
            ConsentSource::ArchonNoTelemetry => {
                write!(f, "the ARCHON_NO_TELEMETRY environment variable")
            }
            ConsentSource::ArchonTelemetry => {
                write!(f, "the ARCHON_TELEMETRY environment variable")
            }
            ConsentSource::ArchonTelemetryNotUnderstood => write!(
                f,
                "the ARCHON_TELEMETRY environment variable, set to a value archon does not \
                 understand, which counts as off (use 1 or 0)"
            ),
            ConsentSource::ConfigFile(path) => {
                write!(f, "telemetry.enabled in {}", path.display())
            }
            ConsentSource::BrokenConfig(error) => write!(
                f,
                "{}, which cannot be used, and so counts as off",
                error.path.display()
            ),
            ConsentSource::Default => write!(f, "the default (you have not chosen)"),
        }
    }
}

/// The outcome of consent resolution.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Consent {
    /// What telemetry may do.
    pub state: ConsentState,
    /// Which signal decided it.
    pub source: ConsentSource,
}

/// Resolves consent from the environment and the config file (as read from `config_path`).
pub fn resolve(
    env: &Environment,
    config_path: Option<PathBuf>,
    config: Result<TelemetrySettings, ConfigError>,
) -> Consent {
    from_environment(env).unwrap_or_else(|| from_config(config_path, config))
}

/// Consent when no environment variable decides it: what the config file (as read from
/// `config_path`) says, off when it is broken, undecided when it says nothing.
pub fn from_config(
    config_path: Option<PathBuf>,
    config: Result<TelemetrySettings, ConfigError>,
) -> Consent {
    let decided = |state, source| Consent { state, source };
    match (config, config_path) {
        (Err(error), _) => decided(ConsentState::Off, ConsentSource::BrokenConfig(error)),
        (
            Ok(TelemetrySettings {
                enabled: Some(enabled),
                ..
            }),
            Some(path),
        ) => decided(
            if enabled {
                ConsentState::On
            } else {
                ConsentState::Off
            },
            ConsentSource::ConfigFile(path),
        ),
        _ => decided(ConsentState::Undecided, ConsentSource::Default),
    }
}

/// Consent when the environment decides it, which it does before config.yaml: then the file
/// need not be read at all.
pub fn from_environment(env: &Environment) -> Option<Consent> {
    let decided = |state, source| Some(Consent { state, source });
    if is_set(&env.do_not_track) {
        return decided(ConsentState::Off, ConsentSource::DoNotTrack);
    }
    if is_set(&env.archon_no_telemetry) {
        return decided(ConsentState::Off, ConsentSource::ArchonNoTelemetry);
    }
    match env.archon_telemetry.as_deref().map(flag)? {
        Flag::Empty => None,
        Flag::On => decided(ConsentState::On, ConsentSource::ArchonTelemetry),
        Flag::Off => decided(ConsentState::Off, ConsentSource::ArchonTelemetry),
        Flag::NotUnderstood => decided(
            ConsentState::Off,
            ConsentSource::ArchonTelemetryNotUnderstood,
        ),
    }
}

/// The names of the variables that are set and keep telemetry off, in the order they are read.
/// All of them must be unset before config.yaml (or `ARCHON_TELEMETRY=1`) can turn it on.
pub fn variables_keeping_off(env: &Environment) -> Vec<&'static str> {
    let mut names = Vec::new();
    if is_set(&env.do_not_track) {
        names.push("DO_NOT_TRACK");
    }
    if is_set(&env.archon_no_telemetry) {
        names.push("ARCHON_NO_TELEMETRY");
    }
    if let Some(value) = &env.archon_telemetry {
        if matches!(flag(value), Flag::Off | Flag::NotUnderstood) {
            names.push("ARCHON_TELEMETRY");
        }
    }
    names
}

/// Whether `ARCHON_TELEMETRY` says on: behind a variable that keeps telemetry off, it turns
/// telemetry on once that one is unset, whatever config.yaml says.
pub fn variable_turning_on(env: &Environment) -> bool {
    env.archon_telemetry
        .as_deref()
        .is_some_and(|value| matches!(flag(value), Flag::On))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(vars: &[(&str, &str)]) -> Environment {
        let get = |name: &str| {
            vars.iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| value.into())
        };
        Environment {
            do_not_track: get("DO_NOT_TRACK"),
            archon_no_telemetry: get("ARCHON_NO_TELEMETRY"),
            archon_telemetry: get("ARCHON_TELEMETRY"),
            ..Environment::default()
        }
    }

    fn config(enabled: Option<bool>) -> Result<TelemetrySettings, ConfigError> {
        Ok(TelemetrySettings {
            enabled,
            host: None,
        })
    }

    fn broken() -> Result<TelemetrySettings, ConfigError> {
        Err(ConfigError {
            path: "/h/config.yaml".into(),
            line: Some(3),
            reason: "bad".into(),
            io: false,
        })
    }

    fn resolved(
        vars: &[(&str, &str)],
        settings: Result<TelemetrySettings, ConfigError>,
    ) -> (ConsentState, ConsentSource) {
        let consent = resolve(&env(vars), Some("/h/config.yaml".into()), settings);
        (consent.state, consent.source)
    }

    use ConsentSource::*;
    use ConsentState::*;

    #[test]
    fn every_variable_keeping_telemetry_off_is_named() {
        assert!(variables_keeping_off(&env(&[])).is_empty());
        assert!(variables_keeping_off(&env(&[("ARCHON_TELEMETRY", "1")])).is_empty());
        assert_eq!(
            variables_keeping_off(&env(&[
                ("DO_NOT_TRACK", "1"),
                ("ARCHON_NO_TELEMETRY", "yes"),
                ("ARCHON_TELEMETRY", "nope"),
            ])),
            ["DO_NOT_TRACK", "ARCHON_NO_TELEMETRY", "ARCHON_TELEMETRY"]
        );
        assert_eq!(
            variables_keeping_off(&env(&[("DO_NOT_TRACK", "0"), ("ARCHON_TELEMETRY", "off")])),
            ["ARCHON_TELEMETRY"]
        );
        let hidden_on = env(&[("DO_NOT_TRACK", "1"), ("ARCHON_TELEMETRY", "yes")]);
        assert_eq!(variables_keeping_off(&hidden_on), ["DO_NOT_TRACK"]);
        assert!(variable_turning_on(&hidden_on));
        assert!(!variable_turning_on(&env(&[("ARCHON_TELEMETRY", "nope")])));
    }

    #[test]
    fn default_is_undecided() {
        assert_eq!(resolved(&[], config(None)), (Undecided, Default));
        for blank in ["", "  "] {
            assert_eq!(
                resolved(&[("ARCHON_TELEMETRY", blank)], config(None)),
                (Undecided, Default),
                "ARCHON_TELEMETRY={blank:?}"
            );
        }
    }

    #[test]
    fn archon_telemetry_understands_the_usual_words() {
        for value in ["1", "true", "YES", "On", " on "] {
            assert_eq!(
                resolved(&[("ARCHON_TELEMETRY", value)], config(Some(false))),
                (On, ArchonTelemetry),
                "ARCHON_TELEMETRY={value:?}"
            );
        }
        for value in ["0", "false", "No", "OFF"] {
            assert_eq!(
                resolved(&[("ARCHON_TELEMETRY", value)], config(Some(true))),
                (Off, ArchonTelemetry),
                "ARCHON_TELEMETRY={value:?}"
            );
        }
    }

    #[test]
    fn an_archon_telemetry_value_not_understood_is_off_never_ignored() {
        for value in ["maybe", "2", "enabled", "disable"] {
            for settings in [config(Some(true)), config(None)] {
                assert_eq!(
                    resolved(&[("ARCHON_TELEMETRY", value)], settings),
                    (Off, ArchonTelemetryNotUnderstood),
                    "ARCHON_TELEMETRY={value:?}"
                );
            }
        }
    }

    #[test]
    fn config_decides_when_no_variable_does() {
        assert_eq!(
            resolved(&[], config(Some(true))),
            (On, ConfigFile("/h/config.yaml".into()))
        );
        assert_eq!(
            resolved(&[], config(Some(false))),
            (Off, ConfigFile("/h/config.yaml".into()))
        );
    }

    #[test]
    fn a_broken_config_is_off_never_on() {
        let (state, source) = resolved(&[], broken());
        assert_eq!(state, Off);
        assert!(matches!(source, BrokenConfig(_)));
    }

    #[test]
    fn archon_telemetry_overrides_config() {
        assert_eq!(
            resolved(&[("ARCHON_TELEMETRY", "1")], config(Some(false))),
            (On, ArchonTelemetry)
        );
        assert_eq!(
            resolved(&[("ARCHON_TELEMETRY", "0")], config(Some(true))),
            (Off, ArchonTelemetry)
        );
        assert_eq!(
            resolved(&[("ARCHON_TELEMETRY", "1")], broken()),
            (On, ArchonTelemetry)
        );
    }

    #[test]
    fn archon_no_telemetry_beats_archon_telemetry() {
        assert_eq!(
            resolved(
                &[("ARCHON_NO_TELEMETRY", "1"), ("ARCHON_TELEMETRY", "1")],
                config(Some(true))
            ),
            (Off, ArchonNoTelemetry)
        );
        assert_eq!(
            resolved(&[("ARCHON_NO_TELEMETRY", "0")], config(Some(true))).0,
            On
        );
    }

    #[test]
    fn do_not_track_always_wins() {
        for value in ["1", "true", "yes", "anything"] {
            assert_eq!(
                resolved(
                    &[("DO_NOT_TRACK", value), ("ARCHON_TELEMETRY", "1")],
                    config(Some(true))
                ),
                (Off, DoNotTrack),
                "DO_NOT_TRACK={value}"
            );
        }
        for value in ["", "0"] {
            assert_eq!(
                resolved(&[("DO_NOT_TRACK", value)], config(Some(true))).0,
                On,
                "DO_NOT_TRACK={value:?}"
            );
        }
    }
}
