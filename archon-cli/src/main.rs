//! The `archon` command-line tool.

fn main() {}
