//! A workflow file: loading never panics, every problem names the file, and a workflow that
//! loads has unique node ids whose dependencies exist.
#![no_main]

use libfuzzer_sys::fuzz_target;
use std::collections::HashSet;

fuzz_target!(|data: &[u8]| {
    let dir = tempfile::tempdir().unwrap();
    let workflows = archon_workflows::workflows_dir(dir.path());
    std::fs::create_dir_all(&workflows).unwrap();
    let path = workflows.join("fuzzed.yaml");
    std::fs::write(&path, data).unwrap();
    let loaded = archon_workflows::load(dir.path());
    for problem in &loaded.problems {
        assert_eq!(problem.file, path.display().to_string());
    }
    for workflow in &loaded.workflows {
        let ids: HashSet<&str> = workflow.nodes.iter().map(|n| n.id.as_str()).collect();
        assert_eq!(ids.len(), workflow.nodes.len());
        for node in &workflow.nodes {
            assert!(node.depends_on.iter().all(|d| ids.contains(d.as_str())));
        }
    }
});
