//! What a failed node reports: a human message for the terminal, and categories (no user text)
//! that a caller such as telemetry can use.

use crate::model::NodeKind;

/// Why a node failed, as a category.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FailureKind {
    /// The node ran and failed: a non-zero exit code, or a `command:` prompt that could not be
    /// found or read when the node started.
    NodeFailed,
    /// The assistant's command-line program (`claude`, `codex`) is not installed.
    AssistantNotInstalled,
    /// The node's process could not be started (`sh` missing, permission denied, a prompt too
    /// long for the command line, ...).
    StartFailed,
    /// The node was stopped: killed by a signal, exited with the shell's code for SIGINT or
    /// SIGTERM (130, 143), or stopped through [`RunOptions::interrupt`](crate::RunOptions).
    Interrupted,
}

/// Whether trying the node again could help.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Retryability {
    /// Might succeed if tried again: a rate limit, an overloaded service, a timeout, a dropped
    /// connection, an interruption.
    Transient,
    /// Will fail again the same way until something is changed.
    Fatal,
    /// The assistant account has run out of credit or quota.
    CreditExhausted,
}

/// A node that failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeFailure {
    /// The node's id (user text: for the terminal, never for telemetry).
    pub node_id: String,
    /// The node's kind.
    pub kind: NodeKind,
    /// Why it failed.
    pub failure: FailureKind,
    /// Whether trying again could help.
    pub retryability: Retryability,
    /// What happened, for a human (`exit code 3`); may contain paths and program output, so it is
    /// for the terminal only.
    pub message: String,
}

/// Output that means the account is out of credit (Anthropic's "Credit balance is too low",
/// OpenAI's `insufficient_quota` / "You exceeded your current quota").
const CREDIT_EXHAUSTED: &[&str] = &[
    "credit balance is too low",
    "insufficient_quota",
    "quota exceeded",
    "exceeded your current quota",
];

/// Output that means a passing condition: rate limits, overload, timeouts, dropped connections.
const TRANSIENT: &[&str] = &[
    "rate limit",
    "rate_limit",
    "too many requests",
    "overloaded",
    "timed out",
    "econnreset",
    "etimedout",
];

/// The exit code of `timeout(1)` when the time ran out.
const TIMEOUT_EXIT_CODE: i32 = 124;

/// Classifies a node that exited with `exit_code` after printing `output` (the end of its stdout
/// and stderr; only the end is kept because that is where programs print the error that stopped
/// them).
///
/// These are heuristics on the assistants' own error messages. They are applied to every kind of
/// node: a bash node running `gh` can hit a rate limit too.
pub(crate) fn retryability(exit_code: Option<i32>, output: &str) -> Retryability {
    let output = output.to_lowercase();
    // Credit first: an out-of-credit message can also mention limits.
    if CREDIT_EXHAUSTED.iter().any(|p| output.contains(p)) {
        Retryability::CreditExhausted
    } else if exit_code == Some(TIMEOUT_EXIT_CODE) || TRANSIENT.iter().any(|p| output.contains(p)) {
        Retryability::Transient
    } else {
        Retryability::Fatal
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credit_messages_are_credit_exhausted() {
        for output in [
            "Error: Credit balance is too low",
            r#"{"error":{"type":"insufficient_quota"}}"#,
            "Quota exceeded for this month",
            "You exceeded your current quota, please check your plan (rate limit)",
        ] {
            assert_eq!(
                retryability(Some(1), output),
                Retryability::CreditExhausted,
                "{output}"
            );
        }
    }

    #[test]
    fn passing_conditions_are_transient() {
        for output in [
            "API Error: Rate limit reached",
            "529 Overloaded",
            "request timed out",
            "read ECONNRESET",
        ] {
            assert_eq!(
                retryability(Some(1), output),
                Retryability::Transient,
                "{output}"
            );
        }
        assert_eq!(retryability(Some(124), ""), Retryability::Transient);
    }

    #[test]
    fn anything_else_is_fatal() {
        assert_eq!(
            retryability(Some(1), "error: no such file"),
            Retryability::Fatal
        );
        assert_eq!(retryability(None, ""), Retryability::Fatal);
    }
}
