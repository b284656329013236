//! archon's `config.yaml`: reading the telemetry settings strictly, and changing one value
//! without disturbing anything else the user wrote (other keys, comments, formatting).
//!
//! config.yaml is the user's file: a symlink (as dotfile managers make) is followed, for reading
//! and for editing, which replaces the file the link points to.
//!
//! Reading uses `serde-saphyr`, a strict parser with limits against alias bombs, except that a
//! plain file (`section:` and `key: word` lines, the form archon writes) is read by `quick`
//! without the parser, with the same answer and without loading the parser's code; editing uses
//! `yaml-edit`, which keeps the file's syntax tree. An edit is only made to a file that parses,
//! and its result is parsed again before it replaces the file.

mod quick;

use crate::files;
use serde::Deserialize;
use std::fmt;
use std::io;
use std::path::{Path, PathBuf};
use std::str::FromStr;

/// A config file larger than this is refused rather than read: it cannot be a hand-written
/// archon config, and reading it should not cost the user's command anything.
pub const MAX_CONFIG_BYTES: u64 = 1024 * 1024;

/// What `config.yaml` says about telemetry.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TelemetrySettings {
    /// `telemetry.enabled`.
    pub enabled: Option<bool>,
    /// `telemetry.host`.
    pub host: Option<String>,
}

/// Why `config.yaml` could not be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// The file.
    pub path: PathBuf,
    /// The line the problem is on, when known.
    pub line: Option<u64>,
    /// What is wrong, and where relevant how to fix it.
    pub reason: String,
    /// True when the file (or its folder) could not be read or written, as with a read-only
    /// home; false when what it holds is the problem.
    pub io: bool,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "{} line {}: {}", self.path.display(), line, self.reason),
            None => write!(f, "{}: {}", self.path.display(), self.reason),
        }
    }
}

impl std::error::Error for ConfigError {}

#[derive(Deserialize, Default)]
struct RawConfig {
    #[serde(default)]
    telemetry: Option<RawTelemetry>,
}

#[derive(Deserialize, Default)]
struct RawTelemetry {
    #[serde(default)]
    enabled: Option<bool>,
    #[serde(default)]
    host: Option<String>,
}

/// The text of the config file, `None` when there is none.
fn read_text(path: &Path) -> Result<Option<String>, ConfigError> {
    let error = |reason: String, io: bool| ConfigError {
        path: path.to_owned(),
        line: None,
        reason,
        io,
    };
    let bytes = match files::read_limited_following_links(path, MAX_CONFIG_BYTES) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == io::ErrorKind::FileTooLarge => {
            return Err(error(
                format!(
                    "larger than {} KiB; an archon config is a few lines",
                    MAX_CONFIG_BYTES / 1024
                ),
                false,
            ))
        }
        Err(e) => match files::file_in_the_way(path) {
            // `$ARCHON_HOME` set to a file, say: "Not a directory" about config.yaml would send
            // the user looking at a file that does not exist.
            Some(file) => {
                return Err(error(
                    format!(
                        "cannot be read: {} is a file, not a folder (archon keeps its files in a \
                         folder: check ARCHON_HOME)",
                        file.display()
                    ),
                    true,
                ))
            }
            None => return Err(error(format!("cannot be read ({e})"), true)),
        },
    };
    bytes
        .map(|bytes| {
            String::from_utf8(bytes).map_err(|_| error("is not UTF-8 text".to_owned(), false))
        })
        .transpose()
}

/// True for a file with nothing but whitespace and comments.
fn is_blank_yaml(text: &str) -> bool {
    text.lines()
        .all(|line| line.trim().is_empty() || line.trim_start().starts_with('#'))
}

fn parse(path: &Path, text: &str) -> Result<TelemetrySettings, ConfigError> {
    if is_blank_yaml(text) {
        return Ok(TelemetrySettings::default());
    }
    if let Some(settings) = quick::settings(text) {
        return Ok(settings);
    }
    parse_yaml(path, text)
}

/// [`parse`] with the YAML parser.
fn parse_yaml(path: &Path, text: &str) -> Result<TelemetrySettings, ConfigError> {
    // `Option`: a document with nothing in it (`---` alone) is an empty config.
    match from_yaml::<Option<RawConfig>>(text) {
        Ok(raw) => {
            let telemetry = raw.unwrap_or_default().telemetry.unwrap_or_default();
            Ok(TelemetrySettings {
                enabled: telemetry.enabled,
                host: telemetry.host,
            })
        }
        Err(error) => Err(ConfigError {
            path: path.to_owned(),
            line: error.location().map(|location| location.line()),
            reason: first_line(&error.to_string()),
            io: false,
        }),
    }
}

/// The first line of a parser message, without the location prefix the parser may add (the
/// line number is reported separately) or the echo of the file's text, in words a user of
/// the file (not of the parser) understands.
fn first_line(message: &str) -> String {
    let line = message.lines().next().unwrap_or("not valid YAML").trim();
    let line = line.strip_prefix("error: ").unwrap_or(line);
    plain_words(strip_location(line).unwrap_or(line))
}

/// The parser's messages for the mistakes people make in this file, said in the file's terms.
fn plain_words(message: &str) -> String {
    // One of the limits of `from_yaml` (the parser says which in Rust's debug notation:
    // `Nodes { nodes: 5001 }`).
    if let Some(limit) = message.strip_prefix("budget breached: ") {
        let what = if limit.starts_with("Depth") {
            format!("is nested more than {MAX_DEPTH} levels deep")
        } else {
            format!(
                "has more than {MAX_NODES} entries and values (or too many aliases) for archon \
                 to read"
            )
        };
        return format!("{what}; an archon config is a few lines: is this the right file?");
    }
    if let Some(key) = message.strip_prefix("duplicate mapping key: ") {
        let key = key.split(',').next().unwrap_or(key);
        return format!("`{key}` is set twice");
    }
    match message {
        // The only boolean archon reads here.
        "invalid boolean" => "telemetry.enabled must be true or false".to_owned(),
        "expected mapping start" => {
            "expected `key: value` lines here (such as `telemetry:`, then `  enabled: true`)"
                .to_owned()
        }
        "expected string scalar" => "expected text here".to_owned(),
        other => other.to_owned(),
    }
}

/// `rest` of `line N column M: rest`.
fn strip_location(message: &str) -> Option<&str> {
    let rest = message.strip_prefix("line ")?;
    let rest = rest.trim_start_matches(|c: char| c.is_ascii_digit());
    let rest = rest.strip_prefix(" column ")?;
    let rest = rest.trim_start_matches(|c: char| c.is_ascii_digit());
    rest.strip_prefix(": ").filter(|rest| !rest.is_empty())
}

/// The most YAML nodes (keys and values, aliases expanded) config.yaml may hold.
const MAX_NODES: usize = 5_000;
/// The deepest nesting config.yaml may have.
const MAX_DEPTH: usize = 32;

/// Parses config.yaml with limits sized for a file of a few lines: an alias bomb is refused
/// after a few thousand nodes instead of the parser's default quarter of a million, so even a
/// hostile config costs a command a millisecond or two, not a fifth of a second.
fn from_yaml<T: serde::de::DeserializeOwned>(text: &str) -> Result<T, serde_saphyr::Error> {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_events = 20_000;
    budget.max_nodes = MAX_NODES;
    budget.max_aliases = 1_000;
    budget.max_anchors = 1_000;
    budget.max_depth = MAX_DEPTH;
    let mut options = serde_saphyr::Options::default();
    options.budget = Some(budget);
    serde_saphyr::from_str_with_options(text, options)
}

/// The telemetry settings in the config file at `path`; all unset when there is no file.
pub fn read_settings(path: &Path) -> Result<TelemetrySettings, ConfigError> {
    match read_text(path)? {
        Some(text) => parse(path, &text),
        None => Ok(TelemetrySettings::default()),
    }
}

/// The text of `section.key` in the config file at `path`, if it is set to a plain scalar.
pub fn read_word(path: &Path, section: &str, key: &str) -> Result<Option<String>, ConfigError> {
    let Some(text) = read_text(path)? else {
        return Ok(None);
    };
    if let Some(word) = quick::word(&text, section, key) {
        return Ok(word);
    }
    parse(path, &text)?;
    read_word_yaml(path, &text, section, key)
}

/// [`read_word`] of a file that parses, with the YAML parser.
fn read_word_yaml(
    path: &Path,
    text: &str,
    section: &str,
    key: &str,
) -> Result<Option<String>, ConfigError> {
    if is_blank_yaml(text) {
        return Ok(None);
    }
    let value: serde_json::Value = from_yaml(text).map_err(|error| ConfigError {
        path: path.to_owned(),
        line: error.location().map(|location| location.line()),
        reason: first_line(&error.to_string()),
        io: false,
    })?;
    Ok(match &value[section][key] {
        serde_json::Value::String(word) => Some(word.clone()),
        serde_json::Value::Bool(b) => Some(b.to_string()),
        serde_json::Value::Number(n) => Some(n.to_string()),
        _ => None,
    })
}

/// A scalar value to write into the config.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConfigValue<'a> {
    /// `true` / `false`.
    Bool(bool),
    /// A plain word such as `claude`.
    Word(&'a str),
}

/// Sets `section.key` to `value` in the config file at `path`, creating the file (and the
/// section) if needed, keeping every other key and comment, and replacing the file atomically.
/// A file that does not parse is left untouched and reported.
pub fn set_value(
    path: &Path,
    section: &str,
    key: &str,
    value: ConfigValue<'_>,
) -> Result<(), ConfigError> {
    let error = |line: Option<u64>, reason: String| ConfigError {
        path: path.to_owned(),
        line,
        reason,
        io: false,
    };
    let io_error = |reason: String| ConfigError {
        io: true,
        ..error(None, reason)
    };
    let original = read_text(path)?.unwrap_or_default();
    // Refuse to edit what we cannot read: the user's file stays as it is.
    parse(path, &original)?;

    let edited = if is_blank_yaml(&original) {
        let mut text = original.clone();
        if !text.is_empty() && !text.ends_with('\n') {
            text.push('\n');
        }
        text.push_str(&format!("{section}:\n  {key}: {}\n", render(value)));
        text
    } else {
        // `telemetry:` with nothing after it reads as no settings; it is replaced by a mapping.
        let section_is_null = from_yaml::<serde_json::Value>(&original)
            .is_ok_and(|data| data.get(section).is_some_and(serde_json::Value::is_null));
        edit_mapping(&original, section, key, value, section_is_null).map_err(|reason| {
            error(
                None,
                format!("{reason}; edit it by hand to set {section}.{key}"),
            )
        })?
    };

    // Check the edit did what it should, and nothing else, before the user's file is
    // replaced: the file must now mean exactly what it meant plus `section.key: value`. (An
    // alias of the value that was replaced, for one, would have changed with it.)
    let unsafe_edit = |reason: Option<String>| {
        let reason = reason.map(|r| format!(" ({r})")).unwrap_or_default();
        error(
            None,
            format!("could not be edited safely{reason}; edit it by hand to set {section}.{key}"),
        )
    };
    let as_data = |text: &str| {
        from_yaml::<serde_json::Value>(text)
            .map_err(|e| unsafe_edit(Some(first_line(&e.to_string()))))
    };
    let mut expected = if is_blank_yaml(&original) {
        serde_json::Value::Null
    } else {
        as_data(&original)?
    };
    let value_data = match value {
        ConfigValue::Bool(b) => serde_json::Value::Bool(b),
        ConfigValue::Word(w) => serde_json::Value::from(w),
    };
    if !set_in(&mut expected, section, key, value_data) || as_data(&edited)? != expected {
        return Err(unsafe_edit(None));
    }

    // The folder it is in, `$ARCHON_HOME`, is followed by the same rule as the file.
    if let Some(home) = path.parent() {
        files::refuse_foreign_link(home)
            .map_err(|e| io_error(format!("cannot be written ({e})")))?;
    }
    // A symlinked config.yaml (a dotfile manager's) stays a link: the file it points to is
    // the one replaced.
    let target =
        files::link_target(path).map_err(|e| io_error(format!("cannot be followed ({e})")))?;
    // The folder of archon's own home is made if missing; a link target's is not.
    if let (Some(dir), true) = (target.parent(), target == path) {
        files::ensure_private_dir(dir)
            .map_err(|e| io_error(format!("folder cannot be created ({e})")))?;
    }
    files::write_atomic(&target, edited.as_bytes(), existing_mode(&target))
        .map_err(|e| io_error(format!("cannot be written ({e})")))
}

/// Sets `section.key` to `value` in `data` (plain data read from YAML), creating the mapping
/// and the section as an edit of the file would. False when `data` or its section is not a
/// mapping, which no edit can change.
fn set_in(
    data: &mut serde_json::Value,
    section: &str,
    key: &str,
    value: serde_json::Value,
) -> bool {
    if data.is_null() {
        *data = serde_json::Value::Object(serde_json::Map::new());
    }
    let section = data.as_object_mut().map(|root| {
        let section = root.entry(section).or_insert(serde_json::Value::Null);
        if section.is_null() {
            *section = serde_json::json!({});
        }
        section
    });
    match section.and_then(serde_json::Value::as_object_mut) {
        Some(section) => {
            section.insert(key.to_owned(), value);
            true
        }
        None => false,
    }
}

fn render(value: ConfigValue<'_>) -> String {
    match value {
        ConfigValue::Bool(b) => b.to_string(),
        ConfigValue::Word(w) => w.to_owned(),
    }
}

/// `section_is_null`: the section is there with no value (`telemetry:`), and is replaced.
fn edit_mapping(
    text: &str,
    section: &str,
    key: &str,
    value: ConfigValue<'_>,
    section_is_null: bool,
) -> Result<String, String> {
    // The whole stream, not just its document: directives (`%YAML 1.2`) and comments before
    // `---` or after `...` are kept too.
    let file =
        yaml_edit::YamlFile::from_str(text).map_err(|e| format!("cannot be edited ({e})"))?;
    let mut documents = file.documents();
    let root = match (documents.next(), documents.next()) {
        (Some(document), None) => document,
        (None, _) => file.ensure_document(),
        (Some(_), Some(_)) => return Err("holds more than one YAML document".to_owned()),
    };
    match root.get_mapping(section) {
        Some(existing) => match value {
            ConfigValue::Bool(b) => existing.set(key, b),
            ConfigValue::Word(w) => existing.set(key, w),
        },
        None => {
            if root.contains_key(section) && !section_is_null {
                return Err(format!("`{section}` is not a mapping"));
            }
            let builder = yaml_edit::MappingBuilder::new();
            let builder = match value {
                ConfigValue::Bool(b) => builder.pair(key, b),
                ConfigValue::Word(w) => builder.pair(key, w),
            };
            let new_section = builder.build_document();
            let new_section = new_section.as_mapping().ok_or("cannot be edited")?;
            // Also gives a document with nothing in it (`---` alone) its mapping.
            if !root.set(section, new_section) {
                return Err("is not a mapping of keys to values".to_owned());
            }
        }
    };
    Ok(file.to_string())
}

/// The permissions to give the replaced file: the user's own, or 0600 for a new file.
fn existing_mode(path: &Path) -> u32 {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        if let Ok(metadata) = std::fs::symlink_metadata(path) {
            if metadata.is_file() {
                return metadata.permissions().mode() & 0o777;
            }
        }
    }
    files::PRIVATE_FILE_MODE
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;

    fn with_config(text: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.yaml");
        fs::write(&path, text).unwrap();
        (dir, path)
    }

    #[test]
    fn common_mistakes_are_explained_in_the_files_terms() {
        for (text, line, reason) in [
            ("telemetry: yes\n", 1, "expected `key: value` lines here"),
            (
                "telemetry: {enabled: \"maybe\"}\n",
                1,
                "telemetry.enabled must be true or false",
            ),
            (
                "telemetry:\n  enabled: true\n  enabled: false\n",
                3,
                "`enabled` is set twice",
            ),
        ] {
            let (_dir, path) = with_config(text);
            let error = read_settings(&path).unwrap_err();
            assert_eq!(error.line, Some(line), "{text}: {error}");
            assert!(error.reason.starts_with(reason), "{text}: {error}");
        }
    }

    #[test]
    fn a_section_with_no_value_is_replaced_by_a_mapping() {
        for empty in ["telemetry:", "telemetry: ~", "telemetry: null"] {
            let text = format!("# mine\nassistant:\n  default: codex\n{empty}\nother: 1\n");
            let (_dir, path) = with_config(&text);
            assert_eq!(read_settings(&path).unwrap(), TelemetrySettings::default());
            set_value(&path, "telemetry", "enabled", ConfigValue::Bool(false)).unwrap();
            assert_eq!(
                read_settings(&path).unwrap().enabled,
                Some(false),
                "{empty}"
            );
            let edited = fs::read_to_string(&path).unwrap();
            assert!(
                edited.starts_with("# mine\nassistant:\n  default: codex\n"),
                "{edited}"
            );
            assert!(edited.contains("other: 1"), "{edited}");
        }
    }

    #[test]
    fn reads_telemetry_settings() {
        let (_dir, path) = with_config("# mine\ndefault_assistant: codex\ntelemetry:\n  enabled: true\n  host: https://ph.acme.dev\n");
        assert_eq!(
            read_settings(&path).unwrap(),
            TelemetrySettings {
                enabled: Some(true),
                host: Some("https://ph.acme.dev".into())
            }
        );
    }

    #[test]
    fn missing_empty_and_comment_only_files_set_nothing() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(
            read_settings(&dir.path().join("none.yaml")).unwrap(),
            TelemetrySettings::default()
        );
        for text in ["", "\n\n", "# only a comment\n"] {
            let (_dir, path) = with_config(text);
            assert_eq!(
                read_settings(&path).unwrap(),
                TelemetrySettings::default(),
                "{text:?}"
            );
        }
    }

    #[test]
    fn invalid_files_report_file_and_line() {
        let (_dir, path) = with_config("default_assistant: claude\ntelemetry:\n  enabled: [yes\n");
        let error = read_settings(&path).unwrap_err();
        assert_eq!(error.path, path);
        assert!(error.line.is_some(), "{error:?}");
        let shown = error.to_string();
        assert!(
            shown.starts_with(&format!("{} line ", path.display())),
            "{shown}"
        );

        let (_dir, path) = with_config("telemetry:\n  enabled: sometimes\n");
        let error = read_settings(&path).unwrap_err();
        assert_eq!(error.line, Some(2), "{error:?}");
        // The line is said once, by the error, not again by the parser's message.
        assert!(!error.reason.starts_with("line "), "{error:?}");
    }

    #[test]
    fn alias_bombs_are_refused_quickly() {
        let bomb = "a: &a [x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\nf: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\ng: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\nh: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\ni: &i [*h,*h,*h,*h,*h,*h,*h,*h,*h]\ntelemetry:\n  enabled: true\n";
        let (_dir, path) = with_config(bomb);
        // What matters is no hang and no memory blow-up (the parser's alias budget), and a
        // reason the user can read.
        let error = read_settings(&path).unwrap_err();
        assert!(
            error
                .to_string()
                .contains("an archon config is a few lines"),
            "{error}"
        );
        assert!(!error.to_string().contains('{'), "{error}");
    }

    #[test]
    fn a_home_that_is_a_file_is_named() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("f");
        fs::write(&file, "").unwrap();
        let error = read_settings(&file.join("config.yaml")).unwrap_err();
        assert!(error.io);
        assert!(
            error
                .to_string()
                .contains(&format!("{} is a file, not a folder", file.display())),
            "{error}"
        );
    }

    #[test]
    fn deep_nesting_is_refused_in_plain_words() {
        let deep = format!("a: {}1{}\n", "[".repeat(40), "]".repeat(40));
        let (_dir, path) = with_config(&deep);
        let error = read_settings(&path).unwrap_err();
        assert!(
            error.to_string().contains("nested more than 32 levels"),
            "{error}"
        );
    }

    #[test]
    fn binary_and_oversized_files_are_errors() {
        let (_dir, path) = with_config("");
        fs::write(&path, [0xff, 0xfe, 0x00, 0x12]).unwrap();
        assert!(read_settings(&path).unwrap_err().reason.contains("UTF-8"));
        fs::write(&path, vec![b'#'; MAX_CONFIG_BYTES as usize + 1]).unwrap();
        assert!(read_settings(&path).unwrap_err().reason.contains("KiB"));
    }

    #[test]
    fn set_value_keeps_comments_and_other_keys() {
        let original = "# my archon config\ndefault_assistant: claude  # the one I pay for\n\ntelemetry:\n  # decided 2026-01\n  enabled: false # for now\n  host: https://ph.acme.dev\nother: [1, 2]\n";
        let (_dir, path) = with_config(original);
        set_value(&path, "telemetry", "enabled", ConfigValue::Bool(true)).unwrap();
        let edited = fs::read_to_string(&path).unwrap();
        assert_eq!(edited, original.replace("enabled: false", "enabled: true"));
        set_value(&path, "telemetry", "enabled", ConfigValue::Bool(false)).unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), original);
    }

    #[test]
    fn read_word_reads_other_sections() {
        let (_dir, path) =
            with_config("assistant:\n  default: codex # mine\ntelemetry:\n  enabled: true\n");
        assert_eq!(
            read_word(&path, "assistant", "default").unwrap().as_deref(),
            Some("codex")
        );
        assert_eq!(read_word(&path, "assistant", "missing").unwrap(), None);
        assert_eq!(read_word(&path, "nothing", "here").unwrap(), None);
    }

    #[test]
    fn set_value_adds_a_missing_section() {
        let (_dir, path) = with_config("# mine\ndefault_assistant: codex # yes\n");
        set_value(&path, "telemetry", "enabled", ConfigValue::Bool(true)).unwrap();
        let edited = fs::read_to_string(&path).unwrap();
        assert!(
            edited.starts_with("# mine\ndefault_assistant: codex # yes\n"),
            "{edited}"
        );
        assert_eq!(read_settings(&path).unwrap().enabled, Some(true));
    }

    #[test]
    fn set_value_creates_a_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("new-home/config.yaml");
        set_value(&path, "telemetry", "enabled", ConfigValue::Bool(false)).unwrap();
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "telemetry:\n  enabled: false\n"
        );
        let (_dir, path) = with_config("# just a comment");
        set_value(
            &path,
            "setup",
            "default_assistant",
            ConfigValue::Word("codex"),
        )
        .unwrap();
        assert_eq!(
            fs::read_to_string(&path).unwrap(),
            "# just a comment\nsetup:\n  default_assistant: codex\n"
        );
    }

    #[test]
    fn set_value_refuses_a_broken_file_and_leaves_it_alone() {
        let broken = "telemetry:\n  enabled: [true\nother: 1\n";
        let (_dir, path) = with_config(broken);
        let error = set_value(&path, "telemetry", "enabled", ConfigValue::Bool(true)).unwrap_err();
        assert!(error.line.is_some());
        assert_eq!(fs::read_to_string(&path).unwrap(), broken);

        let not_a_map = "- a\n- b\n";
        let (_dir, path) = with_config(not_a_map);
        assert!(set_value(&path, "telemetry", "enabled", ConfigValue::Bool(true)).is_err());
        assert_eq!(fs::read_to_string(&path).unwrap(), not_a_map);
    }

    #[cfg(unix)]
    #[test]
    fn set_value_keeps_the_users_permissions() {
        use std::os::unix::fs::PermissionsExt;
        let (_dir, path) = with_config("a: 1\n");
        fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).unwrap();
        set_value(&path, "telemetry", "enabled", ConfigValue::Bool(true)).unwrap();
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o640
        );
    }

    /// A dotfile manager's config.yaml: a relative link to a file elsewhere. It is read through
    /// the link, and an edit replaces the file it points to and leaves the link a link.
    #[cfg(unix)]
    #[test]
    fn a_symlinked_file_is_read_and_edited_through_the_link() {
        let dir = tempfile::tempdir().unwrap();
        fs::create_dir_all(dir.path().join("dotfiles")).unwrap();
        fs::create_dir_all(dir.path().join("home")).unwrap();
        let target = dir.path().join("dotfiles/archon.yaml");
        fs::write(&target, "# mine\nassistant:\n  default: codex\n").unwrap();
        let link = dir.path().join("home/config.yaml");
        std::os::unix::fs::symlink("../dotfiles/archon.yaml", &link).unwrap();

        assert_eq!(
            read_word(&link, "assistant", "default").unwrap().as_deref(),
            Some("codex")
        );
        set_value(&link, "telemetry", "enabled", ConfigValue::Bool(false)).unwrap();
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        let text = fs::read_to_string(&target).unwrap();
        assert!(text.starts_with("# mine\n"), "{text}");
        assert_eq!(read_settings(&link).unwrap().enabled, Some(false));
    }

    /// A link to a file that does not exist yet: the edit creates that file.
    #[cfg(unix)]
    #[test]
    fn a_dangling_link_is_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("config.yaml");
        std::os::unix::fs::symlink(dir.path().join("elsewhere.yaml"), &link).unwrap();
        assert_eq!(read_settings(&link).unwrap().enabled, None);
        set_value(&link, "telemetry", "enabled", ConfigValue::Bool(true)).unwrap();
        assert!(fs::symlink_metadata(&link)
            .unwrap()
            .file_type()
            .is_symlink());
        assert_eq!(read_settings(&link).unwrap().enabled, Some(true));
    }

    /// A link to itself (or a loop) is an error that says so, not a hang.
    #[cfg(unix)]
    #[test]
    fn a_link_loop_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let link = dir.path().join("config.yaml");
        std::os::unix::fs::symlink("config.yaml", &link).unwrap();
        let error = read_settings(&link).unwrap_err();
        assert!(error.to_string().contains("cannot be read"), "{error}");
        assert!(set_value(&link, "telemetry", "enabled", ConfigValue::Bool(true)).is_err());
    }

    /// `sudo archon` with the user's `$HOME`: the user's link must not steer root into reading
    /// or replacing a file of root's. (Making a link another user's needs root: run as anyone
    /// else, the test has nothing to check and says so.)
    #[cfg(unix)]
    #[test]
    fn a_link_owned_by_another_user_is_not_followed() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("roots-file");
        fs::write(&target, "telemetry:\n  enabled: true\n").unwrap();
        let link = dir.path().join("config.yaml");
        std::os::unix::fs::symlink(&target, &link).unwrap();
        if std::os::unix::fs::lchown(&link, Some(65534), Some(65534)).is_err() {
            eprintln!("not run as root: cannot give the link to another user");
            return;
        }
        let error = read_settings(&link).unwrap_err();
        assert!(
            error.to_string().contains("owned by another user"),
            "{error}"
        );
        assert!(set_value(&link, "telemetry", "enabled", ConfigValue::Bool(false)).is_err());
        assert_eq!(
            fs::read_to_string(&target).unwrap(),
            "telemetry:\n  enabled: true\n"
        );
        // Where a link of this user's leads, the file's own permissions decide (a Nix store's
        // files are root's, and readable).
        let own_link = dir.path().join("own-link.yaml");
        std::os::unix::fs::symlink(&target, &own_link).unwrap();
        std::os::unix::fs::chown(&target, Some(65534), Some(65534)).unwrap();
        assert_eq!(read_settings(&own_link).unwrap().enabled, Some(true));
    }

    /// Root editing a user's file keeps it theirs. (Run as anyone else, the test cannot give
    /// the file away and says so.)
    #[cfg(unix)]
    #[test]
    fn an_edit_keeps_the_files_owner() {
        use std::os::unix::fs::MetadataExt;
        let (_dir, path) = with_config("a: 1\n");
        if std::os::unix::fs::chown(&path, Some(65534), Some(65534)).is_err() {
            eprintln!("not run as root: cannot give the file to another user");
            return;
        }
        set_value(&path, "telemetry", "enabled", ConfigValue::Bool(true)).unwrap();
        let metadata = fs::metadata(&path).unwrap();
        assert_eq!((metadata.uid(), metadata.gid()), (65534, 65534));
    }
}
