//! The order nodes run in, and the cycles that make an order impossible.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};

use crate::model::Node;

/// Why there is no order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum OrderError {
    /// `node` depends on `dependency`, which is not a node of the workflow.
    UnknownDependency { node: String, dependency: String },
    /// The nodes of a cycle, in dependency order, the first repeated at the end
    /// (`[a, b, a]`: a needs b, b needs a).
    Cycle(Vec<String>),
}

/// The indices of `nodes` in the order they run: every node after all its dependencies, and
/// among the nodes that are ready at the same time, the one declared first. This keeps runs
/// predictable and the same from one run to the next: a workflow written in dependency order
/// runs exactly top to bottom.
///
/// Duplicate ids are the validator's concern; here the last node with an id wins.
pub(crate) fn execution_order(nodes: &[Node]) -> Result<Vec<usize>, OrderError> {
    let index: HashMap<&str, usize> = nodes
        .iter()
        .enumerate()
        .map(|(i, n)| (n.id.as_str(), i))
        .collect();

    // Kahn's algorithm: count each node's unfinished dependencies, release a node when its count
    // reaches zero. A min-heap of indices picks the earliest declared ready node.
    let mut waiting_on = vec![0usize; nodes.len()];
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); nodes.len()];
    for (i, node) in nodes.iter().enumerate() {
        for dependency in &node.depends_on {
            let Some(&d) = index.get(dependency.as_str()) else {
                return Err(OrderError::UnknownDependency {
                    node: node.id.clone(),
                    dependency: dependency.clone(),
                });
            };
            waiting_on[i] += 1;
            dependents[d].push(i);
        }
    }

    let mut ready: BinaryHeap<Reverse<usize>> = (0..nodes.len())
        .filter(|&i| waiting_on[i] == 0)
        .map(Reverse)
        .collect();
    let mut order = Vec::with_capacity(nodes.len());
    while let Some(Reverse(i)) = ready.pop() {
        order.push(i);
        for &dependent in &dependents[i] {
            waiting_on[dependent] -= 1;
            if waiting_on[dependent] == 0 {
                ready.push(Reverse(dependent));
            }
        }
    }

    if order.len() == nodes.len() {
        Ok(order)
    } else {
        Err(OrderError::Cycle(find_cycle(nodes, &index, &waiting_on)))
    }
}

/// A cycle among the nodes Kahn's algorithm could not release. Each of them still waits on a
/// dependency that is itself unreleased, so following "first unreleased dependency" from any of
/// them must come back to a node already visited: the path from that node on is a cycle. (A walk,
/// not a recursion, so that a hostile file cannot overflow the stack.)
fn find_cycle(nodes: &[Node], index: &HashMap<&str, usize>, waiting_on: &[usize]) -> Vec<String> {
    let unreleased = |i: usize| waiting_on[i] > 0;
    let Some(start) = (0..nodes.len()).find(|&i| unreleased(i)) else {
        return Vec::new();
    };
    let mut position_in_path: HashMap<usize, usize> = HashMap::new();
    let mut path = Vec::new();
    let mut current = start;
    while !position_in_path.contains_key(&current) {
        position_in_path.insert(current, path.len());
        path.push(current);
        let next = nodes[current]
            .depends_on
            .iter()
            .filter_map(|d| index.get(d.as_str()).copied())
            .find(|&d| unreleased(d));
        match next {
            Some(next) => current = next,
            None => return Vec::new(), // cannot happen: see above
        }
    }
    let first = position_in_path[&current];
    let mut cycle: Vec<String> = path[first..].iter().map(|&i| nodes[i].id.clone()).collect();
    cycle.push(nodes[current].id.clone());
    cycle
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::NodeKind;

    fn node(id: &str, depends_on: &[&str]) -> Node {
        Node {
            id: id.into(),
            kind: NodeKind::Bash,
            action: "true".into(),
            depends_on: depends_on.iter().map(|d| d.to_string()).collect(),
            continue_on_error: false,
        }
    }

    fn ids(nodes: &[Node], order: Vec<usize>) -> Vec<&str> {
        order.into_iter().map(|i| nodes[i].id.as_str()).collect()
    }

    #[test]
    fn dependencies_first_then_declaration_order() {
        let nodes = [
            node("report", &["test", "lint"]),
            node("test", &["build"]),
            node("lint", &[]),
            node("build", &[]),
        ];
        let order = execution_order(&nodes).unwrap();
        assert_eq!(ids(&nodes, order), ["lint", "build", "test", "report"]);
    }

    #[test]
    fn independent_nodes_keep_declaration_order() {
        let nodes = [node("c", &[]), node("a", &[]), node("b", &[])];
        assert_eq!(
            ids(&nodes, execution_order(&nodes).unwrap()),
            ["c", "a", "b"]
        );
    }

    #[test]
    fn a_cycle_is_named_node_by_node() {
        let nodes = [
            node("start", &[]),
            node("a", &["start", "c"]),
            node("b", &["a"]),
            node("c", &["b"]),
        ];
        let Err(OrderError::Cycle(cycle)) = execution_order(&nodes) else {
            panic!("expected a cycle");
        };
        assert_eq!(cycle, ["a", "c", "b", "a"]);
    }

    #[test]
    fn a_node_depending_on_itself_is_a_cycle() {
        let nodes = [node("a", &["a"])];
        assert_eq!(
            execution_order(&nodes),
            Err(OrderError::Cycle(vec!["a".into(), "a".into()]))
        );
    }

    #[test]
    fn an_unknown_dependency_is_named() {
        let nodes = [node("a", &["nope"])];
        assert_eq!(
            execution_order(&nodes),
            Err(OrderError::UnknownDependency {
                node: "a".into(),
                dependency: "nope".into()
            })
        );
    }

    #[test]
    fn a_long_chain_does_not_overflow_anything() {
        let nodes: Vec<Node> = (0..50_000)
            .map(|i| {
                let dep = format!("n{}", (i + 1) % 50_000);
                Node {
                    depends_on: vec![dep],
                    ..node(&format!("n{i}"), &[])
                }
            })
            .collect();
        let Err(OrderError::Cycle(cycle)) = execution_order(&nodes) else {
            panic!("expected a cycle");
        };
        assert_eq!(cycle.len(), 50_001);
    }
}
