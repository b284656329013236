//! The errors of loading and finding workflows.

use std::fmt;

/// A workflow file that cannot be used, and why. Nothing of a workflow with a problem runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WorkflowError {
    /// The file: its path, or `bundled workflow <name>`.
    pub file: String,
    /// The line of the file the problem is on, when known (1-based).
    pub line: Option<u64>,
    /// What is wrong, for a human (``node `test` depends on `lint`, which is not a node of this
    /// workflow``).
    pub problem: String,
    /// The name the file declares, when it got far enough to declare one. [`Loaded::find`] uses
    /// it to say "this workflow is broken" rather than "no such workflow".
    ///
    /// [`Loaded::find`]: crate::Loaded::find
    pub workflow: Option<String>,
}

impl WorkflowError {
    pub(crate) fn new(file: impl Into<String>, problem: impl Into<String>) -> Self {
        WorkflowError {
            file: file.into(),
            line: None,
            problem: problem.into(),
            workflow: None,
        }
    }
}

/// `<file>: <problem>`, or `<file>:<line>: <problem>` (the form editors and terminals link).
impl fmt::Display for WorkflowError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // A file name can hold anything a file system allows, newlines and escapes included.
        let file = crate::text::printable(&self.file);
        match self.line {
            Some(line) => write!(f, "{file}:{line}: {}", self.problem),
            None => write!(f, "{file}: {}", self.problem),
        }
    }
}

impl std::error::Error for WorkflowError {}

/// Why [`Loaded::find`](crate::Loaded::find) found no workflow to run.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FindError {
    /// No workflow has that name.
    NotFound {
        /// The name asked for.
        name: String,
        /// The names that do exist, sorted.
        available: Vec<String>,
        /// Workflow files that were skipped because they are broken: one of them may be the
        /// workflow asked for (a file whose YAML does not parse declares no name).
        problems: Vec<WorkflowError>,
    },
    /// A file declares that name but cannot be used (invalid, or the name is declared twice).
    Invalid(WorkflowError),
}

impl fmt::Display for FindError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FindError::NotFound {
                name,
                available,
                problems,
            } => {
                write!(f, "no workflow named `{}`", crate::text::printable(name))?;
                if available.is_empty() {
                    write!(f, "; there are no workflows")?;
                } else {
                    write!(f, "; available: {}", available.join(", "))?;
                }
                if !problems.is_empty() {
                    write!(f, "\nthese workflow files were skipped because of errors:")?;
                    for problem in problems {
                        write!(f, "\n  {problem}")?;
                    }
                }
                Ok(())
            }
            FindError::Invalid(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for FindError {}
