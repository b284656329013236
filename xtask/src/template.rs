//! Filling a hand-written template: `{{name}}` placeholders are replaced by generated text.
//!
//! Deliberately tiny: no loops, no conditions, no escaping rules. The prose stays plain Markdown
//! that anyone can edit, and everything that repeats per event is generated in Rust.

/// A template that could not be filled, with the line it is about (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    /// The line of the template, or `None` when the problem is the template as a whole.
    pub line: Option<usize>,
    /// What is wrong and what to do.
    pub message: String,
}

/// Returns `template` with every `{{name}}` replaced by the text `values` gives for `name`.
/// An unknown or unclosed placeholder is an error (a typo would otherwise stay on the page), and
/// so is a `required` placeholder that does not appear.
pub fn fill(
    template: &str,
    values: &[(&str, String)],
    required: &[&str],
) -> Result<String, TemplateError> {
    let mut out = String::with_capacity(template.len() * 2);
    let mut used: Vec<&str> = Vec::new();
    let mut rest = template;
    while let Some(start) = rest.find("{{") {
        out.push_str(&rest[..start]);
        let line = line_of(template, template.len() - rest.len() + start);
        let after = &rest[start + 2..];
        let Some(end) = after.find("}}") else {
            return Err(TemplateError {
                line: Some(line),
                message: "`{{` without a closing `}}`".to_owned(),
            });
        };
        let name = after[..end].trim();
        let Some((_, text)) = values.iter().find(|(known, _)| *known == name) else {
            let known: Vec<String> = values.iter().map(|(n, _)| format!("{{{{{n}}}}}")).collect();
            return Err(TemplateError {
                line: Some(line),
                message: format!(
                    "unknown placeholder `{{{{{name}}}}}`; the placeholders are {}",
                    known.join(", ")
                ),
            });
        };
        out.push_str(text);
        used.push(name);
        rest = &after[end + 2..];
    }
    out.push_str(rest);
    if let Some(missing) = required.iter().find(|name| !used.contains(name)) {
        return Err(TemplateError {
            line: None,
            message: format!("the placeholder `{{{{{missing}}}}}` is missing; the page needs it"),
        });
    }
    Ok(out)
}

/// `template` without a leading HTML comment: the note to editors that opens a template is not
/// part of the generated file, which gets its own "generated, do not edit" header instead.
pub fn without_editor_note(template: &str) -> &str {
    let trimmed = template.trim_start();
    if trimmed.starts_with("<!--") {
        if let Some(end) = trimmed.find("-->") {
            return trimmed[end + 3..].trim_start_matches(['\r', '\n']);
        }
    }
    template
}

fn line_of(text: &str, byte: usize) -> usize {
    text[..byte].matches('\n').count() + 1
}

#[cfg(test)]
mod tests {
    use super::*;

    fn values() -> Vec<(&'static str, String)> {
        vec![("a", "AAA".to_owned()), ("b", "B".to_owned())]
    }

    #[test]
    fn replaces_placeholders_inline_and_on_their_own_line() {
        let filled = fill("x {{a}} y\n{{ b }}\n", &values(), &["a"]).unwrap();
        assert_eq!(filled, "x AAA y\nB\n");
    }

    #[test]
    fn an_unknown_placeholder_names_its_line_and_the_known_ones() {
        let error = fill("one\ntwo {{c}}\n", &values(), &[]).unwrap_err();
        assert_eq!(error.line, Some(2));
        assert!(error.message.contains("`{{c}}`"), "{}", error.message);
        assert!(error.message.contains("{{a}}, {{b}}"), "{}", error.message);
    }

    #[test]
    fn unclosed_and_missing_placeholders_are_errors() {
        assert_eq!(fill("{{a", &values(), &[]).unwrap_err().line, Some(1));
        let missing = fill("{{b}}", &values(), &["a"]).unwrap_err();
        assert_eq!(missing.line, None);
        assert!(missing.message.contains("`{{a}}`"));
    }

    #[test]
    fn the_editor_note_is_dropped() {
        assert_eq!(
            without_editor_note("<!-- note\nmore -->\n\n# Title\n"),
            "# Title\n"
        );
        assert_eq!(without_editor_note("# Title\n"), "# Title\n");
    }
}
