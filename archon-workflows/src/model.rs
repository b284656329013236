//! What a workflow is, once loaded and validated: plain data, no behaviour beyond naming things.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

/// The AI assistants whose command-line programs run a workflow's `prompt:` and `command:` nodes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Provider {
    /// Anthropic's Claude Code, run as `claude -p <prompt>`.
    Claude,
    /// OpenAI's Codex CLI, run as `codex exec <prompt>`.
    Codex,
}

impl Provider {
    /// Every provider, in a fixed order (for help texts and error messages).
    pub const ALL: [Provider; 2] = [Provider::Claude, Provider::Codex];

    /// The name used in workflow files, config.yaml and on the command line.
    pub fn as_str(self) -> &'static str {
        match self {
            Provider::Claude => "claude",
            Provider::Codex => "codex",
        }
    }
}

impl fmt::Display for Provider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error of parsing a [`Provider`] from text that names none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct UnknownProvider(pub String);

impl fmt::Display for UnknownProvider {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "unknown provider `{}` (use claude or codex)",
            crate::text::printable(&self.0)
        )
    }
}

impl std::error::Error for UnknownProvider {}

impl FromStr for Provider {
    type Err = UnknownProvider;

    /// `claude` or `codex`; case does not matter (`Claude` is accepted).
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Provider::ALL
            .into_iter()
            .find(|p| p.as_str().eq_ignore_ascii_case(s))
            .ok_or_else(|| UnknownProvider(s.to_owned()))
    }
}

/// The three kinds of node.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum NodeKind {
    /// `bash:` a shell script, run with `sh -c` in the working directory.
    Bash,
    /// `prompt:` text sent to the assistant.
    Prompt,
    /// `command:` the name of a prompt file sent to the assistant.
    Command,
}

impl NodeKind {
    /// The key that declares this kind of node in a workflow file (`bash`, `prompt`, `command`).
    pub fn as_str(self) -> &'static str {
        match self {
            NodeKind::Bash => "bash",
            NodeKind::Prompt => "prompt",
            NodeKind::Command => "command",
        }
    }

    /// Whether the node runs the assistant (prompt and command nodes) rather than a shell.
    pub fn uses_assistant(self) -> bool {
        matches!(self, NodeKind::Prompt | NodeKind::Command)
    }
}

impl fmt::Display for NodeKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Where a workflow came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Source {
    /// Compiled into archon (`archon-workflows/bundled/workflows/`).
    Bundled,
    /// A file of the user's `.archon/workflows/` directory. A user file that reuses a bundled
    /// workflow's name replaces it and is still `File`: it is the user's workflow.
    File(PathBuf),
}

impl Source {
    /// How error messages and listings name this source: the path, or `bundled workflow <name>`.
    pub fn describe(&self, workflow_name: &str) -> String {
        match self {
            Source::Bundled => format!("bundled workflow {workflow_name}"),
            Source::File(path) => path.display().to_string(),
        }
    }
}

/// A loaded, validated workflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workflow {
    /// The name `archon workflow run <name>` uses.
    pub name: String,
    /// One line for `archon workflow list`; empty when the file has none.
    pub description: String,
    /// The assistant for the AI nodes; `None` means the caller's default.
    pub provider: Option<Provider>,
    /// The nodes, in the order the file declares them.
    pub nodes: Vec<Node>,
    /// Where the workflow came from.
    pub source: Source,
}

impl Workflow {
    /// Whether any node runs the assistant (so whether the provider matters at all).
    pub fn uses_assistant(&self) -> bool {
        self.nodes.iter().any(|n| n.kind.uses_assistant())
    }

    /// The provider the AI nodes use: the workflow's own, else `default`.
    pub fn provider_or(&self, default: Provider) -> Provider {
        self.provider.unwrap_or(default)
    }
}

/// One step of a workflow.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Node {
    /// Unique within its workflow; prefixes the node's output (`[id] ...`).
    pub id: String,
    /// Which of `bash:`, `prompt:`, `command:` the node has.
    pub kind: NodeKind,
    /// The value of that key: the script, the prompt text, or the command name.
    pub action: String,
    /// Ids of the nodes that must finish before this one starts.
    pub depends_on: Vec<String>,
    /// When true, a failure of this node is reported but the workflow goes on (and the nodes that
    /// depend on it still run).
    pub continue_on_error: bool,
}
