//! `command:` nodes name a prompt file: `<cwd>/.archon/commands/<name>.md` when the user has one,
//! else one bundled with archon. This module finds and reads them.

use std::path::{Path, PathBuf};

use crate::bundled;
use crate::files;
use crate::text::printable;

/// Where a command's prompt comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CommandPrompt {
    /// The user's file.
    Local(PathBuf),
    /// Compiled into archon.
    Bundled(&'static str),
}

/// The directory of the user's command prompts.
pub fn commands_dir(cwd: &Path) -> PathBuf {
    cwd.join(".archon").join("commands")
}

/// Checks a command name. Names become file names, so they are kept to one path component of
/// ordinary characters: `command: ../../secrets` must not read a file outside the directory.
pub(crate) fn check_name(name: &str) -> Result<(), String> {
    let ordinary = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
    if name.is_empty() || name.starts_with('.') || !name.chars().all(ordinary) {
        return Err(format!(
            "`{}` is not a command name (use letters, digits, `-`, `_` and `.`, not starting with `.`)",
            printable(name)
        ));
    }
    Ok(())
}

/// Where the prompt of command `name` is: the user's file first, so that a user can replace a
/// bundled prompt; `None` when neither exists (or the name is not a valid command name).
pub(crate) fn locate(cwd: &Path, name: &str) -> Option<CommandPrompt> {
    check_name(name).ok()?;
    let local = commands_dir(cwd).join(format!("{name}.md"));
    if local.is_file() {
        return Some(CommandPrompt::Local(local));
    }
    bundled::command(name).map(CommandPrompt::Bundled)
}

/// The prompt text of command `name`, or a message saying why there is none.
pub(crate) fn read(cwd: &Path, name: &str) -> Result<String, String> {
    match locate(cwd, name) {
        Some(CommandPrompt::Bundled(text)) => Ok(text.to_owned()),
        Some(CommandPrompt::Local(path)) => {
            files::read_text(&path).map_err(|problem| format!("{}: {problem}", path.display()))
        }
        None => Err(not_found(cwd, name)),
    }
}

/// The message for a command that exists neither in the user's directory nor bundled.
pub(crate) fn not_found(cwd: &Path, name: &str) -> String {
    if let Err(problem) = check_name(name) {
        return problem;
    }
    format!(
        "command `{name}` not found: there is no {} and no bundled command of that name",
        commands_dir(cwd).join(format!("{name}.md")).display()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_stay_inside_the_commands_directory() {
        assert!(check_name("review-code_2.v1").is_ok());
        for bad in ["", "../x", "a/b", ".hidden", "a b", "x\n"] {
            assert!(check_name(bad).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn a_local_prompt_replaces_the_bundled_one() {
        let dir = tempfile::tempdir().unwrap();
        let name = bundled::COMMANDS[0].0;
        assert!(matches!(
            locate(dir.path(), name),
            Some(CommandPrompt::Bundled(_))
        ));
        std::fs::create_dir_all(commands_dir(dir.path())).unwrap();
        std::fs::write(commands_dir(dir.path()).join(format!("{name}.md")), "mine").unwrap();
        assert_eq!(read(dir.path(), name).unwrap(), "mine");
    }

    #[test]
    fn a_missing_command_says_where_it_looked() {
        let dir = tempfile::tempdir().unwrap();
        let message = read(dir.path(), "nope").unwrap_err();
        assert!(message.contains("command `nope` not found"), "{message}");
        assert!(message.contains("nope.md"), "{message}");
    }
}
