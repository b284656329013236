//! Making text from workflow files safe to show on a terminal.

use std::borrow::Cow;

/// `s` with control characters (newlines, escape sequences, ...) written as escapes, so that a
/// key or value quoted in an error message cannot rewrite the user's terminal or fake a line.
pub(crate) fn printable(s: &str) -> Cow<'_, str> {
    if !s.chars().any(char::is_control) {
        return Cow::Borrowed(s);
    }
    Cow::Owned(
        s.chars()
            .map(|c| {
                if c.is_control() {
                    c.escape_default().to_string()
                } else {
                    c.to_string()
                }
            })
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::printable;

    #[test]
    fn control_characters_are_escaped_and_the_rest_kept() {
        assert_eq!(printable("build-1 'x' é"), "build-1 'x' é");
        assert_eq!(printable("a\nb\u{1b}[31m"), "a\\nb\\u{1b}[31m");
    }
}
