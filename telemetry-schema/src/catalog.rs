//! The catalog: every event compiled into the program, collected without a hand-kept list.
//!
//! `#[telemetry_event]` adds each event's [`EventSchema`] to [`EVENTS`], a `linkme` distributed
//! slice that the linker assembles from wherever the events are declared.

use crate::EventSchema;
use std::fmt;

/// Every event in the program, in no particular order. Prefer [`events`].
// linkme collects the entries with `#[link_section]`, which the `unsafe_code` lint counts.
#[allow(unsafe_code)]
#[linkme::distributed_slice]
pub static EVENTS: [&'static EventSchema];

/// Every event in the program, sorted by name.
pub fn events() -> Vec<&'static EventSchema> {
    let mut events: Vec<_> = EVENTS.iter().copied().collect();
    events.sort_by(|a, b| a.name.cmp(b.name).then(a.rust_name.cmp(b.rust_name)));
    events
}

/// The event called `name`, if the program has one.
pub fn event_by_name(name: &str) -> Option<&'static EventSchema> {
    EVENTS.iter().copied().find(|event| event.name == name)
}

/// A catalog that is not consistent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CatalogError {
    /// Two structs declare the same event name: their data would be mixed up on the server.
    DuplicateName {
        /// The name both use.
        name: &'static str,
        /// The two structs.
        rust_names: [&'static str; 2],
    },
}

impl fmt::Display for CatalogError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CatalogError::DuplicateName { name, rust_names } => write!(
                f,
                "event name \"{name}\" is declared by both `{}` and `{}`; each event needs its own name",
                rust_names[0], rust_names[1]
            ),
        }
    }
}

impl std::error::Error for CatalogError {}

/// Checks that no two events share a name. The macros cannot see across structs, so this runs in
/// the test suite and before the policy page is generated.
pub fn check_catalog(events: &[&'static EventSchema]) -> Result<(), Vec<CatalogError>> {
    let mut sorted = events.to_vec();
    sorted.sort_by_key(|event| event.name);
    let errors: Vec<CatalogError> = sorted
        .windows(2)
        .filter(|pair| pair[0].name == pair[1].name)
        .map(|pair| CatalogError::DuplicateName {
            name: pair[0].name,
            rust_names: [pair[0].rust_name, pair[1].rust_name],
        })
        .collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(errors)
    }
}
