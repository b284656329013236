//! A unified diff between a committed file and what would be generated, for check failures.

use similar::TextDiff;

/// Past this many lines the diff is cut: the first hunks say enough, and regenerating the file
/// shows the rest.
const MAX_LINES: usize = 200;

/// The unified diff that turns `committed` into `generated`, labelled with `path`.
pub fn unified(path: &str, committed: &str, generated: &str) -> String {
    let diff = TextDiff::from_lines(committed, generated)
        .unified_diff()
        .context_radius(3)
        .header(
            &format!("{path} (committed)"),
            &format!("{path} (generated)"),
        )
        .to_string();
    let total = diff.lines().count();
    if total <= MAX_LINES {
        return diff;
    }
    let mut cut: String = diff
        .lines()
        .take(MAX_LINES)
        .flat_map(|line| [line, "\n"])
        .collect();
    cut.push_str(&format!("... ({} more lines of diff)\n", total - MAX_LINES));
    cut
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shows_the_changed_line_with_context_and_labels() {
        let diff = unified("docs/x.md", "a\nb\nc\n", "a\nB\nc\n");
        assert!(diff.starts_with("--- docs/x.md (committed)\n+++ docs/x.md (generated)\n"));
        assert!(diff.contains("\n-b\n+B\n"), "{diff}");
        assert!(diff.contains("\n a\n"), "{diff}");
    }

    #[test]
    fn long_diffs_are_cut() {
        let old: String = (0..500).map(|i| format!("{i}\n")).collect();
        let diff = unified("f", &old, "");
        assert_eq!(diff.lines().count(), MAX_LINES + 1);
        assert!(diff.ends_with("more lines of diff)\n"));
    }
}
