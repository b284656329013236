//! Compile-time rules: every refused event is a file in `ui/fail/` with the compiler's expected
//! output beside it, every accepted shape a program in `ui/pass/` that runs.
//!
//! After an intended change in a message, regenerate the snapshots with
//! `TRYBUILD=overwrite cargo test -p telemetry-schema --test ui` and review the diff.

#[test]
fn ui() {
    let cases = trybuild::TestCases::new();
    cases.pass("tests/ui/pass/*.rs");
    cases.compile_fail("tests/ui/fail/*.rs");
}
