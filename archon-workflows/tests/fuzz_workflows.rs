//! Fuzzing the workflow loader: `load(cwd)` on any `.archon/workflows/` directory (files of any
//! content and any name, also symlinks to themselves, dangling ones and directories named
//! `*.yaml`), and `Loaded::find`. Nothing is ever run.
//!
//! Properties: loading never panics or hangs (each case runs in a child process with a time
//! limit) and gives the same result twice; every problem names the file it is about (a file of
//! the directory, or the directory), shows no raw control character, and every workflow file
//! is accounted for (loaded or named by a problem); every workflow that loads has a usable
//! name, unique node ids, dependencies that exist, an acyclic graph and commands that exist,
//! and is what `find` returns; the bundled workflows the user did not replace are all there.
//! Workflows generated valid load without a problem, exactly as written.
//!
//! Inputs: arbitrary bytes, arbitrary text, generated workflows (valid or with cycles, unknown
//! dependencies, duplicate ids or names, missing commands), and generated workflows damaged by
//! a few edits (see `telemetry-runtime/tests/fuzzing/mod.rs`, shared with the runtime's fuzz
//! tests). Longer run, replaying `proptest-regressions/` first:
//!
//! ```sh
//! PROPTEST_CASES=20000 cargo test --release -p archon-workflows --test fuzz_workflows
//! ```

#[path = "../../telemetry-runtime/tests/fuzzing/mod.rs"]
mod fuzzing;
mod support;

use archon_workflows::{
    bundled_command_names, load, FindError, Loaded, Node, NodeKind, Source, Workflow,
    BUNDLED_WORKFLOW_NAMES,
};
use proptest::prelude::*;
use proptest::sample::Index;
use std::collections::{HashMap, HashSet};
use std::path::{Path, PathBuf};
use support::Dir;

/// Tokens inserted into workflow files by the mutating generator.
const WORKFLOW_TOKENS: &[&[u8]] = &[
    b"name: ",
    b"description: ",
    b"provider: ",
    b"nodes:\n",
    b"nodes: []\n",
    b"nodes: ~\n",
    b"  - id: ",
    b"- ",
    b"id: ",
    b"bash: ",
    b"prompt: ",
    b"command: ",
    b"depends_on: ",
    b"depends_on: [",
    b"continue_on_error: ",
    b"python: ",
    b"n0",
    b"n1",
    b"archon-review-code",
    b"../../etc/passwd",
    b": ",
    b":",
    b"? ",
    b"[",
    b"]",
    b"{",
    b"}",
    b", ",
    b"\"",
    b"'",
    b"|\n",
    b">-\n",
    b"#",
    b"&n ",
    b"*n",
    b"<<: *n\n",
    b"!!str ",
    b"!!binary ",
    b"!custom ",
    b"---\n",
    b"...\n",
    b"%YAML 1.2\n",
    b"\n",
    b"    ",
    b"~",
    b"null",
    b"true",
    b"yes",
    b"0",
    b"-1",
    b"\\e",
    b"\\x1b",
    b"\\u202e",
    b"a: &a [x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a]\nc: &c [*b, *b, *b, *b, *b, *b, *b, *b]\nd: &d [*c, *c, *c, *c, *c, *c, *c, *c]\ne: [*d, *d, *d, *d, *d, *d, *d, *d]\n",
];

/// Workflow names: some the bundled workflows have, some odd.
const NAMES: &[&str] = &[
    "ci",
    "deploy",
    "archon-assist",
    "archon-fix-github-issue",
    "x",
    "été",
    "with space",
    "name: colon",
];

/// What a command node names: bundled commands, a local one (written by the case), a missing
/// one, names that are not command names.
const COMMANDS: &[&str] = &[
    "archon-review-code",
    "archon-review-summary",
    "local-cmd",
    "missing-cmd",
    "../escape",
    ".hidden",
    "dir-cmd",
];

/// One node as generated.
#[derive(Debug, Clone)]
struct NodeSpec {
    /// 0 bash, 1 prompt, 2 command.
    kind: u8,
    /// An index into the kind's pool of actions.
    action: Index,
    /// Indices of earlier nodes (acyclic by construction).
    depends_on: Vec<Index>,
    /// `depends_on: x` rather than `depends_on: [x]` when there is one.
    single: bool,
    continue_on_error: Option<bool>,
    /// `- {id: ..., bash: ...}` rather than a block mapping.
    flow: bool,
}

/// One workflow file as generated, possibly with one mistake.
#[derive(Debug, Clone)]
struct WorkflowSpec {
    name: Index,
    description: Option<Index>,
    provider: Option<Index>,
    nodes: Vec<NodeSpec>,
    mistake: Mistake,
    comments: bool,
}

#[derive(Debug, Clone)]
enum Mistake {
    None,
    /// A dependency on a later node, closing a cycle.
    Cycle(Index, Index),
    /// A dependency on a node that does not exist.
    UnknownDependency(Index),
    /// Two nodes with the same id.
    DuplicateId(Index, Index),
}

const BASH: &[&str] = &[
    "true",
    "echo hi",
    "cargo test\nexit $?\n",
    "printf '%s' \"$ARCHON_MESSAGE\"",
];
const PROMPTS: &[&str] = &["Explain $ARGUMENTS", "Review: it's \"fine\"", "é 😀"];
const PROVIDERS: &[&str] = &["claude", "codex", "Claude", "gemini"];
const DESCRIPTIONS: &[&str] = &["Build, then test.", "", "x # not a comment"];

fn node_spec() -> impl Strategy<Value = NodeSpec> {
    (
        0..3u8,
        any::<Index>(),
        proptest::collection::vec(any::<Index>(), 0..3),
        any::<bool>(),
        proptest::option::of(any::<bool>()),
        any::<bool>(),
    )
        .prop_map(
            |(kind, action, depends_on, single, continue_on_error, flow)| NodeSpec {
                kind,
                action,
                depends_on,
                single,
                continue_on_error,
                flow,
            },
        )
}

fn workflow_spec() -> impl Strategy<Value = WorkflowSpec> {
    (
        any::<Index>(),
        proptest::option::of(any::<Index>()),
        proptest::option::of(any::<Index>()),
        proptest::collection::vec(node_spec(), 1..7),
        prop_oneof![
            6 => Just(Mistake::None),
            1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mistake::Cycle(a, b)),
            1 => any::<Index>().prop_map(Mistake::UnknownDependency),
            1 => (any::<Index>(), any::<Index>()).prop_map(|(a, b)| Mistake::DuplicateId(a, b)),
        ],
        any::<bool>(),
    )
        .prop_map(
            |(name, description, provider, nodes, mistake, comments)| WorkflowSpec {
                name,
                description,
                provider,
                nodes,
                mistake,
                comments,
            },
        )
}

/// `text` as a YAML double-quoted string.
fn quoted(text: &str) -> String {
    let mut quoted = String::from('"');
    for c in text.chars() {
        match c {
            '"' => quoted.push_str("\\\""),
            '\\' => quoted.push_str("\\\\"),
            '\n' => quoted.push_str("\\n"),
            c => quoted.push(c),
        }
    }
    quoted.push('"');
    quoted
}

impl WorkflowSpec {
    fn name(&self) -> &'static str {
        NAMES[self.name.index(NAMES.len())]
    }

    /// The node ids, after the mistake.
    fn ids(&self) -> Vec<String> {
        let mut ids: Vec<String> = (0..self.nodes.len()).map(|i| format!("n{i}")).collect();
        if let Mistake::DuplicateId(a, b) = &self.mistake {
            if ids.len() > 1 {
                let (a, b) = (a.index(ids.len()), b.index(ids.len()));
                if a != b {
                    ids[b] = ids[a].clone();
                }
            }
        }
        ids
    }

    /// The nodes it describes, as `load` should give them.
    fn nodes(&self) -> Vec<Node> {
        let ids = self.ids();
        let mut nodes: Vec<Node> = self
            .nodes
            .iter()
            .enumerate()
            .map(|(i, spec)| {
                let (kind, action) = match spec.kind {
                    0 => (NodeKind::Bash, *spec.action.get(BASH)),
                    1 => (NodeKind::Prompt, *spec.action.get(PROMPTS)),
                    _ => (NodeKind::Command, *spec.action.get(COMMANDS)),
                };
                let mut depends_on: Vec<String> = Vec::new();
                if i > 0 {
                    for d in &spec.depends_on {
                        let id = &ids[d.index(i)];
                        if !depends_on.contains(id) {
                            depends_on.push(id.clone());
                        }
                    }
                }
                Node {
                    id: ids[i].clone(),
                    kind,
                    action: action.to_owned(),
                    depends_on,
                    continue_on_error: spec.continue_on_error.unwrap_or(false),
                }
            })
            .collect();
        match &self.mistake {
            Mistake::Cycle(a, b) => {
                let (a, b) = (a.index(nodes.len()), b.index(nodes.len()));
                let (early, late) = (a.min(b), a.max(b));
                let (early_id, late_id) = (nodes[early].id.clone(), nodes[late].id.clone());
                for (node, dependency) in [(early, late_id), (late, early_id)] {
                    if !nodes[node].depends_on.contains(&dependency) {
                        nodes[node].depends_on.push(dependency);
                    }
                }
            }
            Mistake::UnknownDependency(at) => {
                let at = at.index(nodes.len());
                nodes[at].depends_on.push("nowhere".to_owned());
            }
            _ => {}
        }
        nodes
    }

    /// Whether `load` must accept it (given the local command `local-cmd` exists).
    fn is_valid(&self) -> bool {
        let nodes = self.nodes();
        let unique: HashSet<&str> = nodes.iter().map(|n| n.id.as_str()).collect();
        let cyclic = matches!(self.mistake, Mistake::Cycle(..));
        let commands_exist = nodes.iter().all(|n| {
            n.kind != NodeKind::Command
                || bundled_command_names().contains(&n.action.as_str())
                || n.action == "local-cmd"
        });
        let provider_ok = self
            .provider
            .as_ref()
            .is_none_or(|p| *p.get(PROVIDERS) != "gemini");
        unique.len() == nodes.len()
            && !cyclic
            && !matches!(self.mistake, Mistake::UnknownDependency(_))
            && commands_exist
            && provider_ok
    }

    fn render(&self) -> String {
        let mut text = String::new();
        if self.comments {
            text.push_str("# generated\n");
        }
        text.push_str(&format!("name: {}\n", quoted(self.name())));
        if let Some(description) = &self.description {
            text.push_str(&format!(
                "description: {}\n",
                quoted(DESCRIPTIONS[description.index(DESCRIPTIONS.len())])
            ));
        }
        if let Some(provider) = &self.provider {
            text.push_str(&format!("provider: {}\n", provider.get(PROVIDERS)));
        }
        text.push_str("nodes:\n");
        for (spec, node) in self.nodes.iter().zip(self.nodes()) {
            let mut pairs: Vec<(&str, String)> = vec![("id", quoted(&node.id))];
            let multi_line = node.action.contains('\n');
            let action = if multi_line && !spec.flow {
                let body: String = node
                    .action
                    .lines()
                    .map(|line| format!("      {line}\n"))
                    .collect();
                format!("|\n{}", body.trim_end_matches('\n'))
            } else {
                quoted(&node.action)
            };
            pairs.push((node.kind.as_str(), action));
            match (node.depends_on.as_slice(), spec.single) {
                ([], _) => {}
                ([one], true) => pairs.push(("depends_on", quoted(one))),
                (many, _) => pairs.push((
                    "depends_on",
                    format!(
                        "[{}]",
                        many.iter()
                            .map(|d| quoted(d))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                )),
            }
            if let Some(b) = spec.continue_on_error {
                pairs.push(("continue_on_error", b.to_string()));
            }
            if spec.flow {
                let inner: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}: {v}")).collect();
                text.push_str(&format!("  - {{{}}}\n", inner.join(", ")));
            } else {
                for (i, (key, value)) in pairs.iter().enumerate() {
                    let lead = if i == 0 { "  - " } else { "    " };
                    text.push_str(&format!("{lead}{key}: {value}\n"));
                }
                if self.comments {
                    text.push_str("    # end of node\n");
                }
            }
        }
        text
    }
}

/// The bundled workflows, as seeds to damage.
const BUNDLED: &[&str] = &[
    include_str!("../bundled/workflows/archon-assist.yaml"),
    include_str!("../bundled/workflows/archon-comprehensive-pr-review.yaml"),
    include_str!("../bundled/workflows/archon-fix-github-issue.yaml"),
];

/// The content of a workflow file.
fn content() -> impl Strategy<Value = Vec<u8>> {
    let generated = || workflow_spec().prop_map(|spec| spec.render().into_bytes());
    let bundled = proptest::sample::select(BUNDLED).prop_map(|yaml| yaml.as_bytes().to_vec());
    prop_oneof![
        1 => fuzzing::bytes(400),
        1 => fuzzing::text_bytes(200),
        3 => generated(),
        6 => fuzzing::mutated(prop_oneof![3 => generated(), 1 => bundled], WORKFLOW_TOKENS, 3),
    ]
}

/// File names in the workflow directory: ordinary, odd (spaces, newlines, escapes), and ones
/// `load` must skip (hidden, other extensions).
const FILE_NAMES: &[&str] = &[
    "a.yaml",
    "b.yml",
    "C.YAML",
    "with space.yaml",
    "new\nline.yaml",
    "esc\u{1b}[31m.yaml",
    "été.yml",
    ".hidden.yaml",
    "notes.txt",
    "a.yaml.bak",
];

/// One entry of the workflow directory.
#[derive(Debug, Clone)]
enum Entry {
    File(Vec<u8>),
    /// A symlink to itself (reading it loops).
    SelfLink,
    /// A symlink to nothing.
    Dangling,
    /// A directory with a workflow's name.
    Directory,
}

fn entries() -> impl Strategy<Value = HashMap<&'static str, Entry>> {
    let entry = prop_oneof![
        12 => content().prop_map(Entry::File),
        1 => Just(Entry::SelfLink),
        1 => Just(Entry::Dangling),
        1 => Just(Entry::Directory),
    ];
    proptest::collection::hash_map(proptest::sample::select(FILE_NAMES), entry, 1..4)
}

/// Writes the entries (and the local commands `local-cmd`, and `dir-cmd` as a directory).
fn write_entries(dir: &Dir, entries: &HashMap<&'static str, Entry>) -> Vec<PathBuf> {
    dir.command("local-cmd", "A local prompt. $ARGUMENTS");
    std::fs::create_dir_all(dir.path().join(".archon/commands/dir-cmd.md")).unwrap();
    let workflows = dir.path().join(".archon/workflows");
    std::fs::create_dir_all(&workflows).unwrap();
    let mut paths = Vec::new();
    for (name, entry) in entries {
        let path = workflows.join(name);
        match entry {
            Entry::File(bytes) => std::fs::write(&path, bytes).unwrap(),
            Entry::SelfLink => symlink(&path, &path),
            Entry::Dangling => symlink(&workflows.join("nothing-here"), &path),
            Entry::Directory => std::fs::create_dir(&path).unwrap(),
        }
        paths.push(path);
    }
    paths.sort();
    paths
}

#[cfg(unix)]
fn symlink(target: &Path, link: &Path) {
    std::os::unix::fs::symlink(target, link).unwrap();
}

#[cfg(not(unix))]
fn symlink(_: &Path, link: &Path) {
    std::fs::write(link, b"").unwrap();
}

/// `text` with control characters escaped, as archon shows text from files.
fn printable(text: &str) -> String {
    text.chars()
        .map(|c| {
            if c.is_control() {
                c.escape_default().to_string()
            } else {
                c.to_string()
            }
        })
        .collect()
}

/// Whether `load` reads the file at `path` (visible, `.yaml` or `.yml`).
fn is_workflow_file(path: &Path) -> bool {
    let name = path.file_name().unwrap().to_string_lossy();
    !name.starts_with('.')
        && path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("yaml") || e.eq_ignore_ascii_case("yml"))
}

/// Whether `nodes` can run in some order: Kahn's algorithm, written again here.
fn acyclic(nodes: &[Node]) -> bool {
    let mut waiting: HashMap<&str, usize> = nodes
        .iter()
        .map(|n| (n.id.as_str(), n.depends_on.len()))
        .collect();
    let mut ready: Vec<&str> = waiting
        .iter()
        .filter(|(_, &n)| n == 0)
        .map(|(id, _)| *id)
        .collect();
    let mut done = 0;
    while let Some(id) = ready.pop() {
        done += 1;
        for node in nodes {
            for dependency in &node.depends_on {
                if dependency == id {
                    let count = waiting.get_mut(node.id.as_str()).unwrap();
                    *count -= 1;
                    if *count == 0 {
                        ready.push(&node.id);
                    }
                }
            }
        }
    }
    done == nodes.len()
}

/// Checks what every load of any directory must satisfy.
fn check_loaded(dir: &Dir, paths: &[PathBuf], loaded: &Loaded) -> Result<(), TestCaseError> {
    let workflows_dir = dir.path().join(".archon/workflows").display().to_string();
    let shown_paths: Vec<String> = paths.iter().map(|p| p.display().to_string()).collect();

    for problem in &loaded.problems {
        prop_assert!(
            shown_paths.contains(&problem.file) || problem.file == workflows_dir,
            "a problem names no file of the directory: {:?}",
            problem
        );
        prop_assert!(!problem.problem.is_empty());
        prop_assert!(problem.line != Some(0), "{:?}", problem);
        let shown = problem.to_string();
        prop_assert!(
            !shown.chars().any(char::is_control),
            "a control character reaches the message raw: {:?}",
            shown
        );
    }

    for path in paths.iter().filter(|p| is_workflow_file(p)) {
        let shown = path.display().to_string();
        let loaded_from_it = loaded
            .workflows
            .iter()
            .any(|w| w.source == Source::File(path.clone()));
        let named = loaded
            .problems
            .iter()
            .any(|p| p.file == shown || p.problem.contains(&printable(&shown)));
        prop_assert!(loaded_from_it || named, "{} was silently ignored", shown);
    }

    let mut names = HashSet::new();
    for workflow in &loaded.workflows {
        prop_assert!(
            names.insert(&workflow.name),
            "two workflows named {}",
            workflow.name
        );
        prop_assert!(!workflow.name.trim().is_empty());
        prop_assert!(!workflow.name.chars().any(char::is_control));
        prop_assert!(!workflow.nodes.is_empty());
        let ids: HashSet<&str> = workflow.nodes.iter().map(|n| n.id.as_str()).collect();
        prop_assert_eq!(
            ids.len(),
            workflow.nodes.len(),
            "duplicate ids in {:?}",
            workflow
        );
        for node in &workflow.nodes {
            prop_assert!(!node.id.trim().is_empty() && !node.id.chars().any(char::is_control));
            prop_assert!(!node.action.trim().is_empty());
            for dependency in &node.depends_on {
                prop_assert!(
                    ids.contains(dependency.as_str()),
                    "unknown dependency in {:?}",
                    workflow
                );
            }
            if node.kind == NodeKind::Command {
                let local = dir
                    .path()
                    .join(format!(".archon/commands/{}.md", node.action));
                prop_assert!(
                    bundled_command_names().contains(&node.action.as_str()) || local.is_file(),
                    "missing command in {:?}",
                    workflow
                );
            }
        }
        prop_assert!(acyclic(&workflow.nodes), "a cycle in {:?}", workflow);
        if let Source::File(path) = &workflow.source {
            prop_assert!(paths.contains(path));
        }
        prop_assert_eq!(loaded.find(&workflow.name).ok(), Some(workflow));
    }

    for problem in &loaded.problems {
        if let Some(name) = &problem.workflow {
            prop_assert!(
                matches!(loaded.find(name), Err(FindError::Invalid(_))),
                "{} is broken but found",
                name
            );
        }
    }
    for name in BUNDLED_WORKFLOW_NAMES {
        let replaced = loaded
            .workflows
            .iter()
            .any(|w| w.name == *name && w.source != Source::Bundled)
            || loaded
                .problems
                .iter()
                .any(|p| p.workflow.as_deref() == Some(*name));
        if !replaced {
            let found = loaded.find(name);
            prop_assert!(
                matches!(
                    found,
                    Ok(Workflow {
                        source: Source::Bundled,
                        ..
                    })
                ),
                "bundled {} is missing: {:?}",
                name,
                found
            );
        }
    }
    let _ = loaded.find("");
    let _ = loaded.find("no such workflow\u{1b}");
    Ok(())
}

proptest! {
    #![proptest_config(fuzzing::config(256, "proptest-regressions/fuzz_workflows.txt"))]

    /// Any workflow directory: loading never fails as a whole, names the file of every
    /// problem, and gives only workflows that can run.
    #[test]
    fn any_workflow_directory_loads_safely(entries in entries()) {
        let dir = Dir::new();
        let paths = write_entries(&dir, &entries);
        let loaded = load(dir.path());
        check_loaded(&dir, &paths, &loaded)?;
        let again = load(dir.path());
        prop_assert_eq!(&again.workflows, &loaded.workflows);
        prop_assert_eq!(&again.problems, &loaded.problems);
    }

    /// Generated workflows, in files of distinct names: the valid ones load exactly as
    /// written, the others are problems of their file.
    #[test]
    fn generated_workflows_load_as_written(specs in proptest::collection::vec(workflow_spec(), 1..4)) {
        let dir = Dir::new();
        let mut by_name: HashMap<&str, usize> = HashMap::new();
        for spec in &specs {
            *by_name.entry(spec.name()).or_default() += 1;
        }
        let entries: HashMap<&'static str, Entry> = specs
            .iter()
            .enumerate()
            .map(|(i, spec)| (FILE_NAMES[i], Entry::File(spec.render().into_bytes())))
            .collect();
        let paths = write_entries(&dir, &entries);
        let loaded = load(dir.path());
        check_loaded(&dir, &paths, &loaded)?;
        for (i, spec) in specs.iter().enumerate() {
            let path = dir.path().join(".archon/workflows").join(FILE_NAMES[i]);
            if spec.is_valid() && by_name[spec.name()] == 1 {
                let workflow = loaded.find(spec.name());
                prop_assert!(workflow.is_ok(), "{}\n{:?}", spec.render(), workflow);
                let workflow = workflow.unwrap();
                prop_assert_eq!(&workflow.source, &Source::File(path));
                prop_assert_eq!(&workflow.nodes, &spec.nodes(), "{}", spec.render());
                prop_assert_eq!(
                    workflow.description.as_str(),
                    spec.description.as_ref().map_or("", |d| *d.get(DESCRIPTIONS))
                );
                let provider = spec.provider.as_ref().map(|p| p.get(PROVIDERS).to_lowercase());
                prop_assert_eq!(workflow.provider.map(|p| p.as_str()), provider.as_deref());
            } else {
                let shown = path.display().to_string();
                let problem = loaded
                    .problems
                    .iter()
                    .find(|p| p.file == shown || p.problem.contains(&printable(&shown)));
                prop_assert!(problem.is_some(), "no problem for {}\n{:#?}", spec.render(), loaded.problems);
                prop_assert!(
                    matches!(loaded.find(spec.name()), Err(FindError::Invalid(_))),
                    "{} should not be found", spec.name()
                );
            }
        }
    }
}

// Regressions: what fuzzing found, kept as plain tests (the seeds are also in
// `proptest-regressions/fuzz_workflows.txt`, but a seed only replays while the generators stay
// the same).

/// Two files declaring one name: the message names the second file with its control
/// characters escaped, like the first (it printed a file name holding a newline or an escape
/// sequence raw, so a file name could fake lines of archon's output or recolour the terminal).
#[test]
fn a_duplicate_name_shows_the_other_files_name_escaped() {
    let dir = Dir::new();
    let yaml = "name: twice\nnodes:\n  - {id: a, bash: 'true'}\n";
    dir.workflow("a.yaml", yaml);
    dir.workflow("new\nline\u{1b}[31m.yaml", yaml);
    let loaded = load(dir.path());
    assert_eq!(loaded.problems.len(), 1, "{:#?}", loaded.problems);
    let shown = loaded.problems[0].to_string();
    assert!(!shown.chars().any(char::is_control), "{shown:?}");
    assert!(shown.contains("new\\nline\\u{1b}[31m.yaml"), "{shown:?}");
}
