//! Reading the telemetry settings of a plain config.yaml without the YAML parser.
//!
//! archon reads config.yaml at the start of every command whose consent no environment variable
//! decides, which includes every command of someone who ran `archon telemetry off`. The full
//! parser costs such a command about 0.2 ms on a 2-core machine, mostly in loading its code,
//! more than recording events costs someone who opted in. Files that archon writes, and most
//! that people write by hand, are a few `section:` lines with indented `key: word` lines under
//! them; this reads those, and answers `None` ("ask the parser") for anything else.
//!
//! It only ever answers what the parser would: a test feeds both generated files and requires
//! that every answer given here is the parser's. To keep that easy to uphold it is strict:
//! - only ASCII, no tabs or carriage returns;
//! - blank lines, comments, `key:` or `key: word` at column 0, and `key: word` indented by the
//!   section's first indentation under a `key:` line;
//! - keys are letters, digits, `_` and `-`, start with a letter or `_`, are not a word YAML
//!   reads as null or a boolean, and never repeat within their mapping;
//! - a word is a plain scalar of letters, digits and `_ . / : @ % + ~ -`, starting with a
//!   letter, a digit or one of `_ . / ~ +`, and a comment after it is separated by a space;
//! - in the `telemetry` section, `enabled` is `true` or `false` and there is no other key (a
//!   `host` is left to the parser, which knows which words are strings).

use super::TelemetrySettings;

/// The telemetry settings in `text`, or `None` when `text` is not in the plain form above.
pub(super) fn settings(text: &str) -> Option<TelemetrySettings> {
    if !text.is_ascii() || text.contains(['\t', '\r']) {
        return None;
    }
    let mut sections: Vec<&str> = Vec::new();
    // The section the indented lines belong to: its name, its indentation once known, and
    // the keys seen in it. `None` after a `key: word` line at column 0, which has no keys.
    let mut open: Option<(&str, Option<usize>, Vec<&str>)> = None;
    let mut enabled = None;
    for line in text.lines() {
        let content = line.trim_start_matches(' ');
        if content.is_empty() || content.starts_with('#') {
            continue;
        }
        let indent = line.len() - content.len();
        let (key, word) = key_and_word(content)?;
        if indent == 0 {
            if sections.contains(&key) {
                return None;
            }
            sections.push(key);
            open = match word {
                None => Some((key, None, Vec::new())),
                // `telemetry: something` is not a mapping: the parser refuses it.
                Some(_) if key == "telemetry" => return None,
                Some(_) => None,
            };
            continue;
        }
        let (section, section_indent, keys) = open.as_mut()?;
        if *section_indent.get_or_insert(indent) != indent || keys.contains(&key) {
            return None;
        }
        keys.push(key);
        // A nested mapping (`key:` with nothing after it) is left to the parser.
        let word = word?;
        if *section == "telemetry" {
            enabled = match (key, word) {
                ("enabled", "true") => Some(true),
                ("enabled", "false") => Some(false),
                _ => return None,
            };
        }
    }
    if sections.is_empty() {
        return None;
    }
    Some(TelemetrySettings {
        enabled,
        host: None,
    })
}

/// `key` and, if the line has one, the word after `key: `, without a trailing comment.
fn key_and_word(content: &str) -> Option<(&str, Option<&str>)> {
    let (key, rest) = content.split_once(':')?;
    let is_key_char = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    // Not a word YAML reads as something else (`null`, `true`, `1`: serde would even take a
    // number as a field's position).
    let special = ["null", "true", "false", "yes", "no", "on", "off", "y", "n"]
        .iter()
        .any(|word| key.eq_ignore_ascii_case(word));
    if !key.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        || !key.chars().all(is_key_char)
        || special
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
    let starts_plainly =
        word.starts_with(|c: char| c.is_ascii_alphanumeric() || "_./~+".contains(c));
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

    proptest::proptest! {
        #![proptest_config(proptest::test_runner::Config::with_cases(4096))]

        /// Whatever this answers is what the parser answers.
        #[test]
        fn every_answer_is_the_parsers(lines in proptest::collection::vec(line(), 0..8)) {
            let text = lines.join("\n");
            if let Some(quick) = settings(&text) {
                let parsed = super::super::parse_yaml(std::path::Path::new("config.yaml"), &text);
                proptest::prop_assert_eq!(Ok(quick), parsed.map_err(|e| e.to_string()), "{:?}", text);
            }
        }
    }
}
