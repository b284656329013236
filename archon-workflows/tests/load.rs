//! Loading workflows: parsing, every validation error (naming the file and the problem, nothing
//! run), bundled workflows, overrides and duplicate names.

mod support;

use archon_workflows::{
    load, FindError, Loaded, NodeKind, Provider, Source, WorkflowError, BUNDLED_WORKFLOW_NAMES,
};
use support::Dir;

/// The one problem `load` reports for `dir`.
fn only_problem(loaded: &Loaded) -> &WorkflowError {
    assert_eq!(loaded.problems.len(), 1, "{:#?}", loaded.problems);
    &loaded.problems[0]
}

#[test]
fn a_workflow_file_is_read_completely() {
    let dir = Dir::new();
    dir.command("explain", "Explain $ARGUMENTS");
    let path = dir.workflow(
        "ci.yml",
        r#"
# a comment
name: ci
description: Build and test.
provider: codex
nodes:
  - id: build
    bash: |
      cargo build
  - id: test
    depends_on: build       # a single id is accepted too
    continue_on_error: true
    bash: cargo test
  - id: explain
    depends_on: [build, test]
    command: explain
  - id: ask
    prompt: "Why? $ARGUMENTS"
"#,
    );
    let loaded = load(dir.path());
    assert!(loaded.problems.is_empty(), "{:#?}", loaded.problems);
    let workflow = loaded.find("ci").unwrap();

    assert_eq!(workflow.description, "Build and test.");
    assert_eq!(workflow.provider, Some(Provider::Codex));
    assert_eq!(workflow.source, Source::File(path));
    let summary: Vec<(&str, NodeKind, &str, Vec<&str>, bool)> = workflow
        .nodes
        .iter()
        .map(|n| {
            let deps = n.depends_on.iter().map(String::as_str).collect();
            (
                n.id.as_str(),
                n.kind,
                n.action.as_str(),
                deps,
                n.continue_on_error,
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("build", NodeKind::Bash, "cargo build\n", vec![], false),
            ("test", NodeKind::Bash, "cargo test", vec!["build"], true),
            (
                "explain",
                NodeKind::Command,
                "explain",
                vec!["build", "test"],
                false
            ),
            ("ask", NodeKind::Prompt, "Why? $ARGUMENTS", vec![], false),
        ]
    );
}

#[test]
fn description_and_provider_are_optional() {
    let dir = Dir::new();
    dir.workflow("min.yaml", "name: min\nnodes:\n  - {id: a, bash: 'true'}\n");
    let loaded = load(dir.path());
    let workflow = loaded.find("min").unwrap();
    assert_eq!(workflow.description, "");
    assert_eq!(workflow.provider, None);
}

/// Each invalid file: (YAML, the text the problem must contain, the line it must name).
const INVALID: &[(&str, &str, Option<u64>)] = &[
    (
        "name: x\nnodes: [\n",
        "invalid YAML: unclosed bracket",
        Some(2),
    ),
    (
        "name: x\nnodes:\n  - id: a\n    python: print(1)\n",
        "node `a`: unknown node type `python` (a node has one of bash:, prompt:, command:)",
        Some(4),
    ),
    (
        "name: x\nnodes:\n  - id: a\n    bash: 'true'\n    depend_on: [b]\n",
        "node `a`: unknown key `depend_on`",
        Some(5),
    ),
    (
        "name: x\nstages: []\nnodes:\n  - {id: a, bash: 'true'}\n",
        "unknown key `stages` (a workflow has name, description, provider, nodes)",
        Some(2),
    ),
    (
        "name: x\nnodes:\n  - {id: a, bash: 'true'}\n  - bash: 'true'\n",
        "node #2 has no `id`",
        Some(4),
    ),
    (
        "name: x\nnodes:\n  - {id: a, bash: 'true'}\n  - {id: a, bash: 'false'}\n",
        "duplicate node id `a` (nodes #1 and #2)",
        Some(4),
    ),
    (
        "name: x\nnodes:\n  - id: a\n    bash: 'true'\n    depends_on: [lint]\n",
        "node `a` depends on `lint`, which is not a node of this workflow",
        Some(3),
    ),
    (
        "name: x\nnodes:\n  - {id: a, bash: 'true', depends_on: [c]}\n  - {id: b, bash: 'true', depends_on: [a]}\n  - {id: c, bash: 'true', depends_on: [b]}\n",
        "dependency cycle: a -> c -> b -> a",
        Some(3),
    ),
    (
        "name: x\nnodes:\n  - {id: a, command: no-such-command}\n",
        "node `a`: command `no-such-command` not found",
        Some(3),
    ),
    (
        "name: x\nnodes:\n  - {id: a, command: ../../etc/passwd}\n",
        "is not a command name",
        Some(3),
    ),
    (
        "name: x\nnodes: []\n",
        "`nodes` is empty (a workflow needs at least one node)",
        Some(2),
    ),
    ("name: x\n", "missing `nodes`", None),
    (
        "description: no name\nnodes:\n  - {id: a, bash: 'true'}\n",
        "missing `name`",
        None,
    ),
    ("# nothing here\n", "the file is empty", None),
    (
        "name: x\nnodes:\n  - {id: a, bash: 'true', prompt: hi}\n",
        "node `a` has both bash: and prompt:",
        Some(3),
    ),
    (
        "name: x\nnodes:\n  - {id: a}\n",
        "node `a` has no action",
        Some(3),
    ),
    (
        "name: x\nnodes:\n  - {id: a, bash: ''}\n",
        "node `a`: `bash` is empty",
        Some(3),
    ),
    (
        "name: x\nprovider: gemini\nnodes:\n  - {id: a, bash: 'true'}\n",
        "unknown provider `gemini` (use claude or codex)",
        Some(2),
    ),
    (
        "- just\n- a list\n",
        "invalid YAML: expected a mapping (`key: value` lines)",
        Some(1),
    ),
    (
        "name: x\nnodes: 3\n",
        "invalid YAML: expected a list",
        Some(2),
    ),
    (
        "name: x\nnodes:\n  - {id: a, bash: 'true', continue_on_error: maybe}\n",
        "invalid YAML",
        Some(3),
    ),
];

#[test]
fn every_invalid_file_is_an_error_naming_the_file_the_line_and_the_problem() {
    for (yaml, expected, line) in INVALID {
        let dir = Dir::new();
        // Every invalid workflow would leave a trace if any node ran.
        let yaml = yaml.replace("'true'", "'touch ran'");
        let path = dir.workflow("broken.yaml", &yaml);
        let loaded = load(dir.path());

        let problem = only_problem(&loaded);
        assert_eq!(problem.file, path.display().to_string(), "{yaml}");
        assert!(
            problem.problem.contains(expected),
            "for\n{yaml}\nexpected `{expected}` in `{}`",
            problem.problem
        );
        assert_eq!(
            problem.line, *line,
            "line of `{}` in\n{yaml}",
            problem.problem
        );
        let shown = problem.to_string();
        assert!(shown.starts_with(&path.display().to_string()), "{shown}");
        assert!(
            loaded.workflows.iter().all(|w| w.source == Source::Bundled),
            "{yaml}"
        );
        assert!(!dir.exists("ran"), "a node ran for\n{yaml}");
    }
}

#[test]
fn the_display_is_file_line_problem() {
    let dir = Dir::new();
    let path = dir.workflow("x.yaml", "name: x\nnodes:\n  - {id: a, python: x}\n");
    let loaded = load(dir.path());
    assert_eq!(
        only_problem(&loaded).to_string(),
        format!(
            "{}:3: node `a`: unknown node type `python` (a node has one of bash:, prompt:, command:)",
            path.display()
        )
    );
}

#[test]
fn a_broken_workflow_is_found_as_invalid_not_as_missing() {
    let dir = Dir::new();
    dir.workflow(
        "deploy.yaml",
        "name: deploy\nnodes:\n  - {id: a, bash: 'true', depends_on: [b]}\n",
    );
    let error = load(dir.path()).find("deploy").unwrap_err();
    let FindError::Invalid(problem) = &error else {
        panic!("{error:?}");
    };
    assert_eq!(problem.workflow.as_deref(), Some("deploy"));
    assert!(error.to_string().contains("depends on `b`"), "{error}");
}

#[test]
fn an_unknown_name_lists_the_workflows_and_the_broken_files() {
    let dir = Dir::new();
    let broken = dir.workflow("broken.yaml", "name: [\n");
    let error = load(dir.path()).find("nope").unwrap_err();
    let FindError::NotFound {
        name,
        available,
        problems,
    } = &error
    else {
        panic!("{error:?}");
    };
    assert_eq!(name, "nope");
    assert_eq!(available, BUNDLED_WORKFLOW_NAMES);
    assert_eq!(problems.len(), 1);
    let shown = error.to_string();
    assert!(
        shown.starts_with("no workflow named `nope`; available: archon-assist, "),
        "{shown}"
    );
    assert!(shown.contains(&broken.display().to_string()), "{shown}");
}

#[test]
fn the_bundled_workflows_all_load_and_validate() {
    let dir = Dir::new();
    let loaded = load(dir.path());
    assert!(loaded.problems.is_empty(), "{:#?}", loaded.problems);
    let names: Vec<&str> = loaded.workflows.iter().map(|w| w.name.as_str()).collect();
    assert_eq!(names, BUNDLED_WORKFLOW_NAMES);
    for workflow in &loaded.workflows {
        assert_eq!(workflow.source, Source::Bundled);
        assert!(!workflow.description.is_empty(), "{}", workflow.name);
        assert_eq!(
            workflow.provider, None,
            "{}: the user's default decides",
            workflow.name
        );
    }

    let assist = loaded.find("archon-assist").unwrap();
    assert_eq!(assist.nodes.len(), 1);
    assert_eq!(assist.nodes[0].kind, NodeKind::Prompt);
    assert!(assist.nodes[0].action.contains("$ARGUMENTS"));

    let fix = loaded.find("archon-fix-github-issue").unwrap();
    let kinds: Vec<NodeKind> = fix.nodes.iter().map(|n| n.kind).collect();
    assert_eq!(
        kinds,
        [
            NodeKind::Bash,
            NodeKind::Command,
            NodeKind::Bash,
            NodeKind::Bash
        ]
    );
    assert!(fix.nodes[0]
        .action
        .contains("gh issue view \"$ARCHON_MESSAGE\""));
    assert!(
        fix.nodes[2].continue_on_error,
        "the test node reports, it does not stop"
    );

    let review = loaded.find("archon-comprehensive-pr-review").unwrap();
    let summary = review.nodes.last().unwrap();
    assert_eq!(summary.id, "summary");
    assert_eq!(summary.depends_on.len(), 3);
    assert!(review.nodes[0].action.contains("git diff"));
}

#[test]
fn a_user_workflow_replaces_the_bundled_one_of_the_same_name() {
    let dir = Dir::new();
    let path = dir.workflow(
        "assist.yaml",
        "name: archon-assist\nnodes:\n  - {id: mine, bash: 'true'}\n",
    );
    let loaded = load(dir.path());
    assert!(loaded.problems.is_empty(), "{:#?}", loaded.problems);
    let matching: Vec<_> = loaded
        .workflows
        .iter()
        .filter(|w| w.name == "archon-assist")
        .collect();
    assert_eq!(matching.len(), 1);
    assert_eq!(matching[0].source, Source::File(path));
    assert_eq!(matching[0].nodes[0].id, "mine");
}

#[test]
fn a_broken_replacement_of_a_bundled_workflow_does_not_fall_back_to_it() {
    let dir = Dir::new();
    dir.workflow("assist.yaml", "name: archon-assist\nnodes: []\n");
    let loaded = load(dir.path());
    assert!(matches!(
        loaded.find("archon-assist"),
        Err(FindError::Invalid(_))
    ));
    assert!(loaded.workflows.iter().all(|w| w.name != "archon-assist"));
}

#[test]
fn two_files_with_the_same_name_are_an_error_naming_both() {
    let dir = Dir::new();
    let first = dir.workflow("a.yaml", "name: same\nnodes:\n  - {id: a, bash: 'true'}\n");
    let second = dir.workflow("b.yml", "name: same\nnodes:\n  - {id: b, bash: 'true'}\n");
    let loaded = load(dir.path());
    let problem = only_problem(&loaded);
    let shown = problem.to_string();
    assert!(shown.contains(&first.display().to_string()), "{shown}");
    assert!(shown.contains(&second.display().to_string()), "{shown}");
    assert!(
        shown.contains("workflow `same` is also declared in"),
        "{shown}"
    );
    assert!(matches!(loaded.find("same"), Err(FindError::Invalid(_))));
}

#[test]
fn a_local_command_prompt_makes_a_command_node_valid() {
    let dir = Dir::new();
    dir.workflow("w.yaml", "name: w\nnodes:\n  - {id: a, command: mine}\n");
    assert_eq!(load(dir.path()).problems.len(), 1);
    dir.command("mine", "Do it.");
    assert!(load(dir.path()).problems.is_empty());
}

#[test]
fn other_files_and_hidden_files_are_ignored() {
    let dir = Dir::new();
    dir.workflow("notes.txt", "not a workflow");
    dir.workflow(".#w.yaml", "not a workflow either");
    let loaded = load(dir.path());
    assert!(loaded.problems.is_empty(), "{:#?}", loaded.problems);
    assert_eq!(loaded.workflows.len(), BUNDLED_WORKFLOW_NAMES.len());
}

#[test]
fn a_file_over_one_mib_is_refused_unread() {
    let dir = Dir::new();
    let mut yaml = String::from("name: big\nnodes:\n  - {id: a, bash: 'true'}\n");
    yaml.push_str(&"#".repeat(1024 * 1024));
    dir.workflow("big.yaml", &yaml);
    let loaded = load(dir.path());
    assert!(
        only_problem(&loaded).problem.contains("too large"),
        "{}",
        only_problem(&loaded)
    );
}

#[test]
fn a_file_that_is_not_utf8_is_refused() {
    let dir = Dir::new();
    dir.write(".archon/workflows/latin1.yaml", b"name: caf\xe9\n");
    let loaded = load(dir.path());
    assert_eq!(only_problem(&loaded).problem, "not UTF-8 text");
}

#[test]
fn an_alias_bomb_is_refused_quickly() {
    let dir = Dir::new();
    let mut yaml = String::from("a: &a [x, x, x, x, x, x, x, x, x]\n");
    for (name, previous) in [
        ("b", "a"),
        ("c", "b"),
        ("d", "c"),
        ("e", "d"),
        ("f", "e"),
        ("g", "f"),
        ("h", "g"),
        ("i", "h"),
    ] {
        let refs = vec![format!("*{previous}"); 9].join(", ");
        yaml.push_str(&format!("{name}: &{name} [{refs}]\n"));
    }
    yaml.push_str("name: bomb\nnodes: *i\n");
    dir.workflow("bomb.yaml", &yaml);
    let started = std::time::Instant::now();
    let loaded = load(dir.path());
    assert!(started.elapsed().as_secs() < 20);
    assert!(
        only_problem(&loaded).problem.contains("invalid YAML"),
        "{}",
        only_problem(&loaded)
    );
}

#[test]
fn control_characters_in_a_file_do_not_reach_the_message_raw() {
    let dir = Dir::new();
    dir.workflow(
        "evil.yaml",
        "name: x\nnodes:\n  - id: a\n    \"\\e[31mpython\": x\n",
    );
    let loaded = load(dir.path());
    let shown = only_problem(&loaded).to_string();
    assert!(!shown.contains('\u{1b}'), "{shown:?}");
    assert!(shown.contains("\\u{1b}[31mpython"), "{shown:?}");
}

#[cfg(unix)]
#[test]
fn a_symlinked_workflow_is_read_and_a_fifo_is_refused() {
    let dir = Dir::new();
    let target = dir.write(
        "elsewhere/w.yaml",
        b"name: linked\nnodes:\n  - {id: a, bash: 'true'}\n",
    );
    std::fs::create_dir_all(dir.path().join(".archon/workflows")).unwrap();
    std::os::unix::fs::symlink(&target, dir.path().join(".archon/workflows/w.yaml")).unwrap();
    assert!(load(dir.path()).find("linked").is_ok());

    let fifo = dir.path().join(".archon/workflows/pipe.yaml");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status();
    if made.is_ok_and(|s| s.success()) {
        let loaded = load(dir.path()); // would block forever if the FIFO were opened
        assert_eq!(only_problem(&loaded).problem, "not a regular file");
    }
}
