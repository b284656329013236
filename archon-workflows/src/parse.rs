//! Reading a workflow file's YAML into a [`Workflow`]: the shape of the file (which keys, which
//! types, one action per node). The checks that need the whole workflow (unique ids, known
//! dependencies, no cycle, known commands) are in `validate.rs`.
//!
//! The YAML is read into "raw" structs by hand-written serde visitors rather than derived ones,
//! for two reasons: an unknown key must become a message that names the key *and the node*
//! (`node `x`: unknown node type `python``), which a derived `deny_unknown_fields` cannot say,
//! and every key keeps its line so that messages can point at it.

use std::fmt;

use serde::de::{self, Deserialize, Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde_saphyr::{MessageFormatter, Spanned, UserMessageFormatter};

use crate::error::WorkflowError;
use crate::model::{Node, NodeKind, Provider, Source, Workflow};
use crate::text::printable;

/// A workflow read from YAML, with the line of each node for the messages of `validate.rs`.
#[derive(Debug)]
pub(crate) struct Parsed {
    pub workflow: Workflow,
    /// `node_lines[i]` is the line where `workflow.nodes[i]` starts.
    pub node_lines: Vec<Option<u64>>,
}

const WORKFLOW_KEYS: &str = "name, description, provider, nodes";
const NODE_KEYS: &str = "id, bash, prompt, command, depends_on, continue_on_error";
const NODE_TYPES: &str = "a node has one of bash:, prompt:, command:";

/// Parses one workflow file. `file` names it in errors (a path, or `bundled workflow <name>`).
///
/// serde-saphyr's default options are kept on purpose: its budget refuses alias bombs and
/// absurdly deep or large documents, and duplicate keys are errors.
pub(crate) fn parse(text: &str, file: &str, source: Source) -> Result<Parsed, WorkflowError> {
    let raw: RawWorkflow = serde_saphyr::from_str(text).map_err(|e| yaml_error(file, &e))?;
    raw.into_workflow(file, source)
}

fn yaml_error(file: &str, error: &serde_saphyr::Error) -> WorkflowError {
    // The message without the source snippet and without "at line X, column Y": the line goes
    // into `WorkflowError::line` so that every error reads `<file>:<line>: <problem>`.
    let error = error.without_snippet();
    let message = UserMessageFormatter.format_message(error);
    let message = match message.as_ref() {
        // The parser's words for a value of the wrong type, in the words of a workflow file.
        "expected mapping start" => "expected a mapping (`key: value` lines)",
        "expected sequence start" => "expected a list",
        "expected string scalar" => "expected text",
        other => other,
    };
    WorkflowError {
        line: error.location().map(|l| l.line()).filter(|&l| l > 0),
        ..WorkflowError::new(file, format!("invalid YAML: {}", printable(message)))
    }
}

/// The top level of a workflow file, as written.
#[derive(Debug, Default)]
struct RawWorkflow {
    name: Option<String>,
    description: Option<String>,
    provider: Option<(String, u64)>,
    /// The nodes, and the line of the `nodes:` key.
    nodes: Option<(Vec<Spanned<RawNode>>, u64)>,
    /// Keys that are not workflow keys, with their lines.
    unknown: Vec<(String, u64)>,
    /// Whether the document had any key at all (an empty file has none).
    any_key: bool,
}

/// One node, as written.
#[derive(Debug, Default)]
struct RawNode {
    id: Option<String>,
    /// The `bash:`, `prompt:` and `command:` keys present, in the order written.
    actions: Vec<(NodeKind, Option<String>)>,
    depends_on: Vec<String>,
    continue_on_error: bool,
    /// Keys that are not node keys, with their lines.
    unknown: Vec<(String, u64)>,
}

impl RawWorkflow {
    fn into_workflow(self, file: &str, source: Source) -> Result<Parsed, WorkflowError> {
        let fail = |line: Option<u64>, name: Option<&str>, problem: String| WorkflowError {
            line,
            workflow: name.map(str::to_owned),
            ..WorkflowError::new(file, problem)
        };

        if !self.any_key {
            return Err(fail(
                None,
                None,
                "the file is empty (a workflow has name: and nodes:)".into(),
            ));
        }
        // The name, when usable, goes into every later error: `Loaded::find` then reports "this
        // workflow is broken" rather than "no such workflow".
        let named = self.name.as_deref().filter(|n| check_label(n).is_ok());
        if let Some((key, line)) = self.unknown.first() {
            return Err(fail(
                Some(*line),
                named,
                format!(
                    "unknown key `{}` (a workflow has {WORKFLOW_KEYS})",
                    printable(key)
                ),
            ));
        }
        let name = match self.name.as_deref() {
            None => return Err(fail(None, None, "missing `name`".into())),
            Some(name) => name,
        };
        check_label(name).map_err(|p| fail(None, None, format!("`name` {p}")))?;
        let provider = match self.provider {
            None => None,
            Some((text, line)) => Some(
                text.parse::<Provider>()
                    .map_err(|e| fail(Some(line), named, e.to_string()))?,
            ),
        };
        let (raw_nodes, nodes_line) = match self.nodes {
            None => {
                return Err(fail(
                    None,
                    named,
                    "missing `nodes` (a workflow needs at least one node)".into(),
                ))
            }
            Some(nodes) => nodes,
        };
        if raw_nodes.is_empty() {
            return Err(fail(
                Some(nodes_line),
                named,
                "`nodes` is empty (a workflow needs at least one node)".into(),
            ));
        }

        let mut nodes = Vec::with_capacity(raw_nodes.len());
        let mut node_lines = Vec::with_capacity(raw_nodes.len());
        for (index, spanned) in raw_nodes.into_iter().enumerate() {
            let line = Some(spanned.referenced.line()).filter(|&l| l > 0);
            let node = spanned
                .value
                .into_node(index)
                .map_err(|(key_line, problem)| fail(key_line.or(line), named, problem))?;
            nodes.push(node);
            node_lines.push(line);
        }

        Ok(Parsed {
            workflow: Workflow {
                name: name.to_owned(),
                description: self.description.unwrap_or_default(),
                provider,
                nodes,
                source,
            },
            node_lines,
        })
    }
}

impl RawNode {
    /// The node, or what is wrong with it (with the line of the offending key when it is not the
    /// node's first line). `index` is the node's position (0-based) in `nodes:`, to name a node
    /// that has no id.
    fn into_node(self, index: usize) -> Result<Node, (Option<u64>, String)> {
        let id = match self.id {
            None => return Err((None, format!("node #{} has no `id`", index + 1))),
            Some(id) => id,
        };
        check_label(&id).map_err(|p| (None, format!("node #{}: `id` {p}", index + 1)))?;
        let label = format!("node `{id}`");

        let mut actions = self.actions.into_iter();
        let first = actions.next();
        let second = actions.next();
        if let Some((key, line)) = self.unknown.first() {
            let key = printable(key);
            // With no action at all the unknown key was most likely meant as the node's type
            // (`python:`); next to an action it is most likely a misspelt option.
            let problem = if first.is_none() {
                format!("{label}: unknown node type `{key}` ({NODE_TYPES})")
            } else {
                format!("{label}: unknown key `{key}` (a node has {NODE_KEYS})")
            };
            return Err((Some(*line), problem));
        }
        let (kind, action) = match (first, second) {
            (None, _) => return Err((None, format!("{label} has no action ({NODE_TYPES})"))),
            (Some((a, _)), Some((b, _))) => {
                return Err((
                    None,
                    format!("{label} has both {a}: and {b}: ({NODE_TYPES}, exactly one)"),
                ))
            }
            (Some((kind, action)), None) => (kind, action.unwrap_or_default()),
        };
        if action.trim().is_empty() {
            return Err((None, format!("{label}: `{kind}` is empty")));
        }
        if self.depends_on.iter().any(|d| d.trim().is_empty()) {
            return Err((None, format!("{label}: `depends_on` has an empty id")));
        }

        Ok(Node {
            id,
            kind,
            action,
            depends_on: self.depends_on,
            continue_on_error: self.continue_on_error,
        })
    }
}

/// Checks a workflow name or node id: something to type and to print, so not empty and no
/// control characters. Returns the end of a message ("is empty") when it is not.
fn check_label(label: &str) -> Result<(), &'static str> {
    if label.trim().is_empty() {
        Err("is empty")
    } else if label.chars().any(char::is_control) {
        Err("contains control characters")
    } else {
        Ok(())
    }
}

// ---- serde visitors -------------------------------------------------------------------------

impl<'de> Deserialize<'de> for RawWorkflow {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(RawWorkflowVisitor)
    }
}

struct RawWorkflowVisitor;

impl<'de> Visitor<'de> for RawWorkflowVisitor {
    type Value = RawWorkflow;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a workflow: a mapping with name: and nodes:")
    }

    /// An empty document (nothing, or only comments) reads as null.
    fn visit_unit<E: de::Error>(self) -> Result<RawWorkflow, E> {
        Ok(RawWorkflow::default())
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawWorkflow, A::Error> {
        let mut raw = RawWorkflow::default();
        while let Some(key) = map.next_key::<Spanned<String>>()? {
            raw.any_key = true;
            let line = key.referenced.line();
            match key.value.as_str() {
                "name" => raw.name = map.next_value()?,
                "description" => raw.description = map.next_value()?,
                "provider" => {
                    raw.provider = map.next_value::<Option<String>>()?.map(|p| (p, line));
                }
                "nodes" => {
                    let nodes: Option<Vec<Spanned<RawNode>>> = map.next_value()?;
                    raw.nodes = Some((nodes.unwrap_or_default(), line));
                }
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    raw.unknown.push((key.value, line));
                }
            }
        }
        Ok(raw)
    }
}

impl<'de> Deserialize<'de> for RawNode {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_map(RawNodeVisitor)
    }
}

struct RawNodeVisitor;

impl<'de> Visitor<'de> for RawNodeVisitor {
    type Value = RawNode;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a node: a mapping with id: and one of bash:, prompt:, command:")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<RawNode, A::Error> {
        let mut raw = RawNode::default();
        while let Some(key) = map.next_key::<Spanned<String>>()? {
            let kind = match key.value.as_str() {
                "id" => {
                    raw.id = map.next_value()?;
                    continue;
                }
                "depends_on" => {
                    raw.depends_on = map.next_value::<Option<Ids>>()?.unwrap_or_default().0;
                    continue;
                }
                "continue_on_error" => {
                    raw.continue_on_error = map.next_value::<Option<bool>>()?.unwrap_or(false);
                    continue;
                }
                "bash" => NodeKind::Bash,
                "prompt" => NodeKind::Prompt,
                "command" => NodeKind::Command,
                _ => {
                    map.next_value::<IgnoredAny>()?;
                    raw.unknown.push((key.value, key.referenced.line()));
                    continue;
                }
            };
            raw.actions.push((kind, map.next_value()?));
        }
        Ok(raw)
    }
}

/// `depends_on:` as a list of ids, or a single id (`depends_on: build`) for convenience.
#[derive(Debug, Default)]
struct Ids(Vec<String>);

impl<'de> Deserialize<'de> for Ids {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(IdsVisitor)
    }
}

struct IdsVisitor;

impl<'de> Visitor<'de> for IdsVisitor {
    type Value = Ids;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a list of node ids")
    }

    fn visit_str<E: de::Error>(self, id: &str) -> Result<Ids, E> {
        Ok(Ids(vec![id.to_owned()]))
    }

    // A plain scalar such as `1` may arrive as a number: ids are text, so take its spelling.
    fn visit_u64<E: de::Error>(self, id: u64) -> Result<Ids, E> {
        Ok(Ids(vec![id.to_string()]))
    }

    fn visit_i64<E: de::Error>(self, id: i64) -> Result<Ids, E> {
        Ok(Ids(vec![id.to_string()]))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Ids, A::Error> {
        let mut ids = Vec::new();
        while let Some(id) = seq.next_element::<String>()? {
            ids.push(id);
        }
        Ok(Ids(ids))
    }
}
