//! Finding the workflows a directory can run: the bundled ones, and the user's
//! `.archon/workflows/*.yaml` (and `*.yml`), which replace bundled ones of the same name.

use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

use crate::bundled;
use crate::error::{FindError, WorkflowError};
use crate::files;
use crate::model::{Source, Workflow};
use crate::parse;
use crate::validate;

/// A user file and what loading it gave.
type UserFile = (PathBuf, Result<Workflow, WorkflowError>);

/// Everything [`load`] found.
#[derive(Debug, Clone, Default)]
pub struct Loaded {
    /// The workflows that can run, sorted by name; at most one per name.
    pub workflows: Vec<Workflow>,
    /// The files that cannot be used: folders that cannot be read and files that declare no
    /// name, in path order, then the others by the name they declare, then bundled workflows
    /// that do not load. A bundled workflow whose name
    /// a broken user file declares is not in `workflows` either: the user meant to replace it.
    pub problems: Vec<WorkflowError>,
}

/// The directory of the user's workflows.
pub fn workflows_dir(cwd: &Path) -> PathBuf {
    cwd.join(".archon").join("workflows")
}

/// Loads and validates every workflow `cwd` can run. Never fails as a whole: a file with a
/// problem is reported in [`Loaded::problems`] and the others are still usable.
pub fn load(cwd: &Path) -> Loaded {
    let mut problems = Vec::new();

    // Every user file, valid or not, grouped by the workflow name it declares (when it got far
    // enough to declare one): a name declared twice is a problem for both files.
    let mut by_name: BTreeMap<String, Vec<UserFile>> = BTreeMap::new();
    for path in user_files(cwd, &mut problems) {
        let result = load_file(&path, cwd);
        let name = match &result {
            Ok(workflow) => Some(workflow.name.clone()),
            Err(error) => error.workflow.clone(),
        };
        match name {
            Some(name) => by_name.entry(name).or_default().push((path, result)),
            None => problems.extend(result.err()),
        }
    }

    let mut workflows = Vec::new();
    for (name, mut files) in by_name {
        if files.len() > 1 {
            problems.push(duplicate_name(&name, &files));
            continue;
        }
        if let Some((_, result)) = files.pop() {
            match result {
                Ok(workflow) => workflows.push(workflow),
                Err(error) => problems.push(error),
            }
        }
    }

    // The bundled workflows the user has not replaced (or tried to replace: see `problems`).
    for (name, yaml) in bundled::WORKFLOWS {
        let declared_by_user = workflows.iter().any(|w| w.name == *name)
            || problems
                .iter()
                .any(|p| p.workflow.as_deref() == Some(*name));
        if !declared_by_user {
            match load_bundled(name, yaml, cwd) {
                Ok(workflow) => workflows.push(workflow),
                Err(error) => problems.push(error),
            }
        }
    }

    workflows.sort_by(|a, b| a.name.cmp(&b.name));
    Loaded {
        workflows,
        problems,
    }
}

impl Loaded {
    /// The workflow named `name`.
    ///
    /// A name that a broken file declares is [`FindError::Invalid`], even when a bundled workflow
    /// has the same name: running the bundled one instead would surprise the user who meant to
    /// replace it.
    pub fn find(&self, name: &str) -> Result<&Workflow, FindError> {
        if let Some(problem) = self
            .problems
            .iter()
            .find(|p| p.workflow.as_deref() == Some(name))
        {
            return Err(FindError::Invalid(problem.clone()));
        }
        self.workflows
            .iter()
            .find(|w| w.name == name)
            .ok_or_else(|| FindError::NotFound {
                name: name.to_owned(),
                available: self.workflows.iter().map(|w| w.name.clone()).collect(),
                problems: self.problems.clone(),
            })
    }
}

/// Parses and validates the bundled workflow `name`. Only fails if archon itself is broken (the
/// tests load every bundled workflow), or if it names a command prompt that is missing, which
/// the tests also rule out.
fn load_bundled(name: &str, yaml: &str, cwd: &Path) -> Result<Workflow, WorkflowError> {
    let file = Source::Bundled.describe(name);
    let parsed = parse::parse(yaml, &file, Source::Bundled)?;
    validate::validate(&parsed, &file, cwd)?;
    Ok(parsed.workflow)
}

/// Reads, parses and validates one user file.
fn load_file(path: &Path, cwd: &Path) -> Result<Workflow, WorkflowError> {
    let file = path.display().to_string();
    let text = files::read_text(path).map_err(|problem| WorkflowError::new(&file, problem))?;
    let parsed = parse::parse(&text, &file, Source::File(path.to_owned()))?;
    validate::validate(&parsed, &file, cwd)?;
    Ok(parsed.workflow)
}

/// The `.yaml` and `.yml` files of the user's workflow directory, sorted so that loading (and
/// the order of problems) does not depend on the file system. No directory is no workflows.
/// Hidden files are skipped: editors leave lock files such as `.#deploy.yaml` next to the ones
/// being edited.
fn user_files(cwd: &Path, problems: &mut Vec<WorkflowError>) -> Vec<PathBuf> {
    let dir = workflows_dir(cwd);
    let entries = match fs::read_dir(&dir) {
        Ok(entries) => entries,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Vec::new(),
        Err(e) => {
            problems.push(WorkflowError::new(
                dir.display().to_string(),
                format!("cannot read the workflow directory: {e}"),
            ));
            return Vec::new();
        }
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|entry| match entry {
            Ok(entry) => Some(entry.path()),
            Err(e) => {
                problems.push(WorkflowError::new(
                    dir.display().to_string(),
                    format!("cannot read the workflow directory: {e}"),
                ));
                None
            }
        })
        .filter(|path| {
            !path
                .file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        })
        .filter(|path| {
            path.extension()
                .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
        })
        .collect();
    paths.sort();
    paths
}

/// The problem of a workflow name declared by several user files: it names every file (the
/// others in the message, made printable like the first one is when shown).
fn duplicate_name(name: &str, files: &[UserFile]) -> WorkflowError {
    let others: Vec<String> = files[1..]
        .iter()
        .map(|(path, _)| crate::text::printable(&path.display().to_string()).into_owned())
        .collect();
    WorkflowError {
        workflow: Some(name.to_owned()),
        ..WorkflowError::new(
            files[0].0.display().to_string(),
            format!(
                "workflow `{name}` is also declared in {}; workflow names must be unique (rename one)",
                others.join(" and ")
            ),
        )
    }
}
