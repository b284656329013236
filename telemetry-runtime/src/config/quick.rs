//! Reading the telemetry settings of a plain config.yaml without the YAML parser.
//!
//! archon reads config.yaml at the start of every command whose consent no environment variable
//! decides, which includes every command of someone who ran `archon telemetry off`. The full
//! parser costs such a command about 0.2 ms on a 2-core machine, mostly in loading its code,
//! more than recording events costs someone who opted in. Files that archon writes, and most
//! that people write by hand, are a few `section:` lines with indented `key: word` lines under
//! them; this reads those, and answers `None` ("ask the parser") for anything else.
//!
//! It only ever answers what the parser would: a test feeds generated files to both and requires
//! that every answer given here is the parser's. To keep that easy to uphold it is strict:
//! - at most 200 lines, only ASCII, no tabs or carriage returns;
//! - blank lines, comments, `key:` or `key: word` at column 0, and `key: word` indented by the
//!   section's first indentation under a `key:` line;
//! - keys are letters, digits, `_` and `-`, start with a letter or `_`, are not a word YAML
//!   reads as null or a boolean, and never repeat within their mapping;
//! - a word is a plain scalar of letters, digits and `_ . / : @ % + ~ -`, starting with a
//!   letter or one of `_ / ~`, or a whole number of at most 18 digits (the parser refuses
//!   `.inf` and `1e999` even where it ignores the value), and a comment after it is separated
//!   by a space;
//! - in the `telemetry` section, `enabled` is `true` or `false` and there is no other key (a
//!   `host` is left to the parser, which knows which words are strings).

use super::TelemetrySettings;

/// Longer files are left to the parser, whose limits they may exceed.
const MAX_LINES: usize = 200;

/// A config file in the plain form: its top-level keys in order, each with what it holds.
struct Plain<'a> {
    sections: Vec<(&'a str, Section<'a>)>,
}

/// What a top-level key holds.
enum Section<'a> {
    /// `key: word`: what the word is does not matter here, only that it is not a mapping.
    Word,
    /// `key:` and the indented `key: word` lines under it (none: the key is null).
    Mapping(Vec<(&'a str, &'a str)>),
}

impl<'a> Plain<'a> {
    /// `text` as a plain config, or `None` when it is not one.
    fn read(text: &'a str) -> Option<Plain<'a>> {
        if !text.is_ascii() || text.contains(['\t', '\r']) {
            return None;
        }
        // The parser's budget refuses files with thousands of nodes; a config this long is
        // left to it.
        if text.lines().count() > MAX_LINES {
            return None;
        }
        let mut sections: Vec<(&str, Section)> = Vec::new();
        // The indentation of the open section's lines, once its first line sets it.
        let mut indentation = None;
        for line in text.lines() {
            let content = line.trim_start_matches(' ');
            if content.is_empty() || content.starts_with('#') {
                continue;
            }
            let indent = line.len() - content.len();
            let (key, word) = key_and_word(content)?;
            if indent == 0 {
                if sections.iter().any(|(name, _)| *name == key) {
                    return None;
                }
                indentation = None;
                sections.push(match word {
                    Some(_) => (key, Section::Word),
                    None => (key, Section::Mapping(Vec::new())),
                });
                continue;
            }
            let Some((_, Section::Mapping(keys))) = sections.last_mut() else {
                return None;
            };
            if *indentation.get_or_insert(indent) != indent
                || keys.iter().any(|(name, _)| *name == key)
            {
                return None;
            }
            // A nested mapping (`key:` with nothing after it) is left to the parser.
            keys.push((key, word?));
        }
        if sections.is_empty() {
            return None;
        }
        Some(Plain { sections })
    }

    fn section(&self, name: &str) -> Option<&Section<'a>> {
        self.sections
            .iter()
            .find(|(key, _)| *key == name)
            .map(|(_, section)| section)
    }

    /// The telemetry settings, or `None` when the `telemetry` section is one only the parser
    /// can judge.
    fn settings(&self) -> Option<TelemetrySettings> {
        let enabled = match self.section("telemetry") {
            None => None,
            // `telemetry: something` is not a mapping: the parser refuses it.
            Some(Section::Word) => return None,
            Some(Section::Mapping(keys)) => match keys.as_slice() {
                [] => None,
                [("enabled", "true")] => Some(true),
                [("enabled", "false")] => Some(false),
                _ => return None,
            },
        };
        Some(TelemetrySettings {
            enabled,
            host: None,
        })
    }
}

/// The telemetry settings in `text`, or `None` when `text` is not in the plain form above.
pub(super) fn settings(text: &str) -> Option<TelemetrySettings> {
    Plain::read(text)?.settings()
}

/// What [`super::read_word`] answers for `section.key` in `text` (`Some(None)`: not set), or
/// `None` when `text` is not in the plain form or the word is one whose type YAML decides
/// (a number, null, ...): the parser knows how such a word is written back.
pub(super) fn word(text: &str, section: &str, key: &str) -> Option<Option<String>> {
    let plain = Plain::read(text)?;
    // `read_word` checks the whole file first; a telemetry section only the parser can judge
    // leaves that to the parser, and with it the word.
    plain.settings()?;
    let Some(Section::Mapping(keys)) = plain.section(section) else {
        // No such section, or a word where a mapping would be: nothing at `section.key`.
        return Some(None);
    };
    let Some((_, word)) = keys.iter().find(|(name, _)| *name == key) else {
        return Some(None);
    };
    let plain_text = word.starts_with(|c: char| c.is_ascii_alphabetic())
        && word
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        && !is_special(word);
    match *word {
        "true" | "false" => Some(Some((*word).to_owned())),
        _ if plain_text => Some(Some((*word).to_owned())),
        _ => None,
    }
}

/// A word YAML may read as something other than text: null, a boolean (in YAML 1.2 or 1.1),
/// or infinity and not-a-number.
fn is_special(word: &str) -> bool {
    [
        "null", "true", "false", "yes", "no", "on", "off", "y", "n", "inf", "nan",
    ]
    .iter()
    .any(|special| word.eq_ignore_ascii_case(special))
}

/// `key` and, if the line has one, the word after `key: `, without a trailing comment.
fn key_and_word(content: &str) -> Option<(&str, Option<&str>)> {
    let (key, rest) = content.split_once(':')?;
    let is_key_char = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    // Not a word YAML reads as something else (`null`, `true`, `1`: serde would even take a
    // number as a field's position).
    if !key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        || !key.chars().all(is_key_char)
        || is_special(key)
    {
        return None;
    }
    let rest = match rest.split_once(" #") {
        Some((before_comment, _)) => before_comment,
        None => rest,
    };
    if rest.trim().is_empty() {
        return Some((key, None));
    }
    // `key:word` is one scalar, not a key and a value.
    let word = rest.strip_prefix(' ')?.trim_matches(' ');
    let is_word_char = |c: char| c.is_ascii_alphanumeric() || "_./:@%+~-".contains(c);
    // A word that starts with a digit may be a number the parser refuses (`1e999` is
    // infinite): only small whole numbers are read here.
    let small_number = word.len() <= 18 && word.chars().all(|c| c.is_ascii_digit());
    let starts_plainly =
        small_number || word.starts_with(|c: char| c.is_ascii_alphabetic() || "_/~".contains(c));
    if !starts_plainly
        || !word.chars().all(is_word_char)
        || word.contains(": ")
        || word.ends_with(':')
    {
        return None;
    }
    Some((key, Some(word)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn enabled(text: &str) -> Option<Option<bool>> {
        settings(text).map(|settings| settings.enabled)
    }

    #[test]
    fn reads_what_archon_writes() {
        assert_eq!(enabled("telemetry:\n  enabled: false\n"), Some(Some(false)));
        assert_eq!(
            enabled("# mine\nassistant:\n  default: codex\ntelemetry:\n  enabled: true # on\n"),
            Some(Some(true))
        );
        assert_eq!(enabled("assistant:\n    default: claude\n"), Some(None));
        assert_eq!(enabled("telemetry:\n"), Some(None));
        assert_eq!(
            enabled("name: x\ntelemetry:\n  enabled: false"),
            Some(Some(false))
        );
    }

    #[test]
    fn reads_words_that_are_plainly_text() {
        let text = "assistant:\n  default: codex\n  model: 4\ntelemetry:\n  enabled: false\n";
        assert_eq!(
            word(text, "assistant", "default"),
            Some(Some("codex".to_owned()))
        );
        assert_eq!(
            word(text, "telemetry", "enabled"),
            Some(Some("false".to_owned()))
        );
        assert_eq!(word(text, "assistant", "other"), Some(None));
        assert_eq!(word(text, "missing", "default"), Some(None));
        // A number is written back the way the parser reads it (`4`, but `1.50` is `1.5`).
        assert_eq!(word(text, "assistant", "model"), None);
        assert_eq!(
            word("assistant:\n  default: null\n", "assistant", "default"),
            None
        );
        assert_eq!(
            word("assistant:\n  default: [a]\n", "assistant", "default"),
            None
        );
    }

    #[test]
    fn leaves_everything_else_to_the_parser() {
        for text in [
            "telemetry:\n  enabled: yes\n",
            "telemetry:\n  enabled: \"false\"\n",
            "telemetry:\n  enabled: false\n  host: http://127.0.0.1:9\n",
            "telemetry:\n  enabled: false\n  enabled: true\n",
            "telemetry:\n  enabled: false\ntelemetry:\n  enabled: true\n",
            "telemetry: {enabled: false}\n",
            "telemetry: off\n",
            "telemetry:\n\tenabled: false\n",
            "telemetry:\r\n  enabled: false\r\n",
            "telemetry:\n  enabled: false\n   other: x\n",
            "telemetry:\n  nested:\n    enabled: false\n",
            "---\ntelemetry:\n  enabled: false\n",
            "  enabled: false\n",
            "list:\n  - a\n",
            "a: &x b\n",
            "a: *x\n",
            "a:b\n",
            "a: b: c\n",
            "\"telemetry\":\n  enabled: false\n",
            "telemetry:\n  enabled: false # é\n",
            "",
            "a: %x\n",
            "a: @x\n",
            "0:\n  enabled: true\n",
            "null:\n  x: y\n",
        ] {
            assert_eq!(settings(text), None, "{text:?}");
        }
    }

    #[test]
    fn long_files_are_left_to_the_parser_whose_budget_they_may_exceed() {
        let keys = |count: usize| (0..count).map(|i| format!("k{i}: v\n")).collect::<String>();
        assert!(settings(&keys(MAX_LINES)).is_some());
        assert_eq!(settings(&keys(MAX_LINES + 1)), None);
        let path = std::path::Path::new("config.yaml");
        assert!(super::super::parse_yaml(path, &keys(3000)).is_err());
    }

    /// Lines that are mostly in the plain form, with the near misses the parser reads
    /// differently (or refuses) mixed in.
    fn line() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let key = prop_oneof![
            Just("telemetry"),
            Just("enabled"),
            Just("host"),
            Just("assistant"),
            Just("default"),
            Just("Telemetry"),
            Just("true"),
            Just("1"),
            Just("_x-y"),
            Just("\"telemetry\""),
            Just("-"),
        ];
        let word = prop_oneof![
            Just(""),
            Just(" true"),
            Just(" false"),
            Just(" True"),
            Just(" yes"),
            Just(" off"),
            Just(" ~"),
            Just(" null"),
            Just(" 12"),
            Just(" codex"),
            Just(" http://127.0.0.1:9"),
            Just(" a: b"),
            Just(" {enabled: false}"),
            Just(" [a]"),
            Just(" &a x"),
            Just(" *a"),
            Just(" false # c"),
            Just(" false#c"),
            Just(" 'x'"),
            Just(" %x"),
            Just("x"),
            Just(" -1"),
            Just(" .5"),
            Just(" +1"),
            Just(" 1.50"),
            Just(" 0x10"),
            Just(" No"),
            Just(" .inf"),
            Just(" claude-code"),
            Just(" x_1"),
            Just(" 99999999999999999999999"),
            Just(" 1e999"),
            Just(" 0o17"),
            Just(" 1_000"),
            Just(" 2001-12-14"),
            Just(" ~/x"),
        ];
        let indent = prop_oneof![
            Just(""),
            Just(""),
            Just("  "),
            Just("  "),
            Just("    "),
            Just(" ")
        ];
        prop_oneof![
            8 => (indent, key, word).prop_map(|(i, k, w)| format!("{i}{k}:{w}")),
            1 => Just(String::new()),
            1 => Just("# comment".to_owned()),
            1 => Just("  # comment".to_owned()),
            1 => Just("---".to_owned()),
            1 => Just("- item".to_owned()),
            1 => Just("\tenabled: true".to_owned()),
        ]
    }

    /// Files in the plain form (sections of `key: word` lines at one indentation, a telemetry
    /// section that says `enabled: true` or `false`), each with at most one near miss worked
    /// into it: the files this reader answers for, and those it must leave to the parser.
    fn near_plain_file() -> impl proptest::strategy::Strategy<Value = String> {
        use proptest::prelude::*;
        let word = || {
            prop_oneof![
                Just("true"),
                Just("false"),
                Just("codex"),
                Just("claude-code"),
                Just("12"),
                Just("x_1"),
                Just("~/x"),
                Just("http://127.0.0.1:9"),
                Just("null"),
                Just("yes"),
                Just("1.50"),
            ]
        };
        let key = prop_oneof![
            Just("default"),
            Just("model"),
            Just("host"),
            Just("enabled"),
            Just("other"),
        ];
        let indent = || prop_oneof![Just("  "), Just("  "), Just("    "), Just(" ")];
        let section = (
            prop_oneof![
                Just("assistant"),
                Just("name"),
                Just("_x-y"),
                Just("default")
            ],
            indent(),
            proptest::collection::vec((key, word()), 0..3),
            proptest::option::weighted(0.2, word()),
        )
            .prop_map(|(name, indent, keys, word)| match word {
                Some(word) => vec![format!("{name}: {word}")],
                None => std::iter::once(format!("{name}:"))
                    .chain(keys.iter().map(|(k, w)| format!("{indent}{k}: {w}")))
                    .collect(),
            });
        let telemetry = proptest::option::weighted(
            0.8,
            (indent(), any::<bool>()).prop_map(|(indent, enabled)| {
                vec![
                    "telemetry:".to_owned(),
                    format!("{indent}enabled: {enabled}"),
                ]
            }),
        );
        // A near miss, at a line chosen by `at`; `None` leaves the file plain.
        let near_miss = proptest::option::weighted(
            0.5,
            prop_oneof![
                Just("indent"),
                Just("repeat"),
                Just("comment"),
                Just("glued comment"),
                Just("no space"),
                Just("tab"),
                Just("list item"),
                Just("document start"),
                Just("quoted key"),
                Just("nested"),
            ],
        );
        (
            proptest::collection::vec(section, 0..3),
            telemetry,
            any::<proptest::sample::Index>(),
            near_miss,
            any::<proptest::sample::Index>(),
        )
            .prop_map(|(sections, telemetry, place, near_miss, at)| {
                let mut sections = sections;
                if let Some(telemetry) = telemetry {
                    let place = place.index(sections.len() + 1);
                    sections.insert(place, telemetry);
                }
                let mut lines: Vec<String> = sections.concat();
                if let (Some(near_miss), false) = (near_miss, lines.is_empty()) {
                    let at = at.index(lines.len());
                    let line = lines[at].clone();
                    match near_miss {
                        "indent" => lines[at] = format!(" {line}"),
                        "repeat" => lines.insert(at, line),
                        "comment" => lines[at] = format!("{line} # c"),
                        "glued comment" => lines[at] = format!("{line}#c"),
                        "no space" => lines[at] = line.replacen(": ", ":", 1),
                        "tab" => lines[at] = line.replacen("  ", "\t", 1),
                        "list item" => lines.insert(at + 1, "  - item".to_owned()),
                        "document start" => lines.insert(at, "---".to_owned()),
                        "quoted key" => lines[at] = line.replacen("enabled", "\"enabled\"", 1),
                        _ => lines.insert(at + 1, "      deeper: x".to_owned()),
                    }
                }
                lines.join("\n") + "\n"
            })
    }

    /// Whatever this answers for `text` is what the parser answers; returns whether it answered
    /// `enabled` (true or false) and whether it answered a word that is set.
    fn answers_as_the_parser(text: &str) -> Result<(bool, bool), String> {
        let path = std::path::Path::new("config.yaml");
        let mut answered = (false, false);
        if let Some(quick) = settings(text) {
            let parsed = super::super::parse_yaml(path, text).map_err(|e| e.to_string());
            if Ok(&quick) != parsed.as_ref() {
                return Err(format!(
                    "{quick:?} but the parser says {parsed:?} for {text:?}"
                ));
            }
            answered.0 = quick.enabled.is_some();
        }
        for (section, key) in [
            ("telemetry", "enabled"),
            ("assistant", "default"),
            ("telemetry", "host"),
            ("default", "enabled"),
        ] {
            if let Some(quick) = word(text, section, key) {
                let parsed = super::super::parse_yaml(path, text)
                    .and_then(|_| super::super::read_word_yaml(path, text, section, key))
                    .map_err(|e| e.to_string());
                if Ok(&quick) != parsed.as_ref() {
                    return Err(format!(
                        "{section}.{key}: {quick:?} but the parser says {parsed:?} for {text:?}"
                    ));
                }
                answered.1 |= quick.is_some();
            }
        }
        Ok(answered)
    }

    /// Near-plain files: every answer is the parser's, and enough of them are answers (a
    /// generator that only made files this leaves to the parser would check nothing).
    #[test]
    fn near_plain_files_are_answered_as_the_parser_answers() {
        use proptest::test_runner::{Config, TestCaseError, TestRunner};
        let cases = 2048;
        let mut runner = TestRunner::new(Config {
            cases,
            failure_persistence: None,
            ..Config::default()
        });
        let counts = std::cell::Cell::new((0u32, 0u32));
        let result = runner.run(&near_plain_file(), |text| {
            let (enabled, word) = answers_as_the_parser(&text).map_err(TestCaseError::fail)?;
            let (e, w) = counts.get();
            counts.set((e + u32::from(enabled), w + u32::from(word)));
            Ok(())
        });
        if let Err(error) = result {
            panic!("{error}");
        }
        // About half the files are plain, and most of those have a telemetry section.
        let (enabled, word) = counts.get();
        assert!(
            enabled >= cases / 5,
            "only {enabled} of {cases} files had `enabled` answered"
        );
        assert!(
            word >= cases / 5,
            "only {word} of {cases} files had a word answered"
        );
    }

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(4096))]

        /// Whatever this answers is what the parser answers.
        #[test]
        fn every_answer_is_the_parsers(lines in proptest::collection::vec(line(), 0..8)) {
            let text = lines.join("\n");
            answers_as_the_parser(&text).map_err(proptest::test_runner::TestCaseError::fail)?;
        }
    }
}
