//! The assistants' command-line programs: which program, how to call it non-interactively, and
//! what to tell a user who has not installed it.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::path::PathBuf;

use crate::model::Provider;

/// Programs to use instead of looking `claude` / `codex` up on `PATH`, by provider. A value may
/// be a path or a bare program name (looked up on `PATH`). Tests use it to substitute a fake
/// assistant; a caller could also fill it from configuration.
pub type AssistantPrograms = BTreeMap<Provider, PathBuf>;

impl Provider {
    /// The program's name on `PATH`.
    pub fn program_name(self) -> &'static str {
        match self {
            Provider::Claude => "claude",
            Provider::Codex => "codex",
        }
    }

    /// The product's name, for messages.
    pub fn product_name(self) -> &'static str {
        match self {
            Provider::Claude => "Claude Code",
            Provider::Codex => "Codex CLI",
        }
    }

    /// The command that installs the program.
    pub fn install_command(self) -> &'static str {
        match self {
            Provider::Claude => "npm install -g @anthropic-ai/claude-code",
            Provider::Codex => "npm install -g @openai/codex",
        }
    }

    /// The arguments that run `prompt` non-interactively: the assistant works in the current
    /// directory, prints its answer and exits.
    pub(crate) fn prompt_args(self, prompt: &str) -> Vec<OsString> {
        let subcommand = match self {
            Provider::Claude => "-p",
            Provider::Codex => "exec",
        };
        vec![subcommand.into(), prompt.into()]
    }
}

/// The program that runs `provider`: the override if there is one, else `claude` / `codex` from
/// `PATH`. The error is the message for the user: what to install, or which override is wrong.
pub fn find_assistant(
    provider: Provider,
    overrides: &AssistantPrograms,
) -> Result<PathBuf, String> {
    match overrides.get(&provider) {
        Some(program) => which::which(program).map_err(|_| {
            format!(
                "the program given for {provider}, `{}`, was not found or is not executable \
                 ({} is installed with `{}`)",
                program.display(),
                provider.product_name(),
                provider.install_command()
            )
        }),
        None => which::which(provider.program_name()).map_err(|_| not_installed(provider)),
    }
}

/// The message for an assistant that is not installed.
pub(crate) fn not_installed(provider: Provider) -> String {
    format!(
        "{} (`{}`) is not installed or not on PATH; install it with `{}`",
        provider.product_name(),
        provider.program_name(),
        provider.install_command()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_assistant_runs_non_interactively() {
        assert_eq!(Provider::Claude.prompt_args("hi"), ["-p", "hi"]);
        assert_eq!(Provider::Codex.prompt_args("hi"), ["exec", "hi"]);
    }

    #[test]
    fn a_missing_override_names_it() {
        let overrides =
            AssistantPrograms::from([(Provider::Codex, PathBuf::from("/nonexistent/codex"))]);
        let message = find_assistant(Provider::Codex, &overrides).unwrap_err();
        assert!(message.contains("/nonexistent/codex"), "{message}");
    }

    #[test]
    fn the_install_message_says_what_to_install() {
        assert!(
            not_installed(Provider::Claude).contains("npm install -g @anthropic-ai/claude-code")
        );
        assert!(not_installed(Provider::Codex).contains("npm install -g @openai/codex"));
    }
}
