//! `archon` carries no HTTP or TLS code: only the delivery program, which archon starts
//! detached, does. Every archon command would otherwise load it, and run its start-up code
//! (aws-lc's CPU detection runs before `main`), whether telemetry is on or not.
//!
//! Checked in the binaries `cargo test` built, whose symbol names are not stripped.

#![cfg(feature = "telemetry")]

use memchr::memmem;

/// Names that only the HTTP/TLS stack under posthog-rs brings into a binary.
const STACK: [&str; 3] = ["posthog_rs", "reqwest", "aws_lc_"];

#[test]
fn archon_itself_links_no_http_or_tls_code() {
    let archon = std::fs::read(env!("CARGO_BIN_EXE_archon")).unwrap();
    for name in STACK {
        assert!(
            memmem::find(&archon, name.as_bytes()).is_none(),
            "archon contains {name}"
        );
    }
}

#[test]
fn the_delivery_program_does() {
    let deliver = std::fs::read(env!("CARGO_BIN_EXE_archon-telemetry-deliver")).unwrap();
    for name in STACK {
        assert!(
            memmem::find(&deliver, name.as_bytes()).is_some(),
            "the delivery program lacks {name}"
        );
    }
}
