//! `archon setup`: records the default assistant in config.yaml. Never asks a question.

use super::CommandError;
use crate::cli::{Assistant, SetupArgs};
use crate::exit;
use crate::output::outln;
use crate::session::Session;
use std::path::Path;
use telemetry_runtime::config::{self, ConfigValue};
use telemetry_schema::{ErrorClass, InstallMethod, Provider, SetupCompleted};

/// Where the default assistant is kept in config.yaml: `assistant.default`.
pub const ASSISTANT_SECTION: &str = "assistant";
/// See [`ASSISTANT_SECTION`].
pub const ASSISTANT_KEY: &str = "default";

/// Records the default assistant.
pub fn run(args: SetupArgs, session: &Session) -> Result<i32, CommandError> {
    let env = session.environment();
    let home = env.archon_home().ok_or_else(|| {
        CommandError::usage(
            ErrorClass::Io,
            "neither ARCHON_HOME nor HOME is set, so archon has nowhere to keep its settings; set ARCHON_HOME to a folder",
        )
    })?;
    let (assistant, detected) = match args.assistant {
        Some(assistant) => (assistant, false),
        None => (detect_assistant(), true),
    };
    let name = program(assistant);
    let config_path = home.join("config.yaml");
    config::set_value(&config_path, ASSISTANT_SECTION, ASSISTANT_KEY, ConfigValue::Word(name)).map_err(|error| {
        if error.io {
            // The file or its folder cannot be read or written: a failure, not a mistake.
            CommandError::failed(ErrorClass::Io, format!("{error}\nNothing was changed."))
        } else {
            CommandError::usage(
                ErrorClass::ConfigInvalid,
                format!("{error}\nNothing was changed. Fix the file (or remove it) and run `archon setup` again."),
            )
        }
    })?;
    session.record(&SetupCompleted {
        install_method: install_method(std::env::current_exe().ok().as_deref()),
        default_assistant: match assistant {
            Assistant::Claude => Provider::Claude,
            Assistant::Codex => Provider::Codex,
        },
    });
    let on_path = which::which(name).is_ok();
    let how = match (detected, on_path) {
        (false, _) => "",
        (true, true) => " (found on your PATH; change it with --assistant)",
        (true, false) => " (neither claude nor codex is on your PATH; change it with --assistant)",
    };
    outln!("Default assistant: {name}{how}")?;
    outln!(
        "  Recorded in: {} ({ASSISTANT_SECTION}.{ASSISTANT_KEY}: {name})",
        config_path.display()
    )?;
    if !on_path {
        outln!(
            "  `{name}` is not on your PATH yet: {}",
            install_hint(assistant)
        )?;
    }
    outln!("Next: archon workflow list")?;
    Ok(exit::SUCCESS)
}

fn program(assistant: Assistant) -> &'static str {
    match assistant {
        Assistant::Claude => "claude",
        Assistant::Codex => "codex",
    }
}

fn install_hint(assistant: Assistant) -> &'static str {
    match assistant {
        Assistant::Claude => "install Claude Code with `npm install -g @anthropic-ai/claude-code`",
        Assistant::Codex => "install the Codex CLI with `npm install -g @openai/codex`",
    }
}

/// Claude when its program is installed (or neither is), else Codex when that is.
fn detect_assistant() -> Assistant {
    if which::which("claude").is_err() && which::which("codex").is_ok() {
        Assistant::Codex
    } else {
        Assistant::Claude
    }
}

/// How archon was installed, judged from where the binary is. Only the category is sent.
pub fn install_method(executable: Option<&Path>) -> InstallMethod {
    let Some(path) = executable.map(|p| p.to_string_lossy().replace('\\', "/")) else {
        return InstallMethod::Unknown;
    };
    if ["/Cellar/", "/homebrew/", "/linuxbrew/"]
        .iter()
        .any(|part| path.contains(part))
    {
        InstallMethod::Homebrew
    } else if ["/.cargo/bin/", "/target/debug/", "/target/release/"]
        .iter()
        .any(|part| path.contains(part))
    {
        InstallMethod::Source
    } else if path.contains("/.archon/bin/") {
        InstallMethod::Curl
    } else {
        InstallMethod::Unknown
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn install_method_from_the_binary_path() {
        let method = |p: &str| install_method(Some(Path::new(p)));
        assert_eq!(
            method("/opt/homebrew/Cellar/archon/0.3.1/bin/archon"),
            InstallMethod::Homebrew
        );
        assert_eq!(method("/home/me/.cargo/bin/archon"), InstallMethod::Source);
        assert_eq!(
            method("/home/me/src/archon/target/release/archon"),
            InstallMethod::Source
        );
        assert_eq!(method("/home/me/.archon/bin/archon"), InstallMethod::Curl);
        assert_eq!(method("/usr/bin/archon"), InstallMethod::Unknown);
        assert_eq!(install_method(None), InstallMethod::Unknown);
    }
}
