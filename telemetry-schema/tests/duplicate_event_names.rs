//! Two structs that declare the same event name cannot be told apart on the server. The macro sees
//! one struct at a time, so the catalog check catches it; this test binary declares a duplicate on
//! purpose (it is its own program, so archon's catalog is unaffected).

use telemetry_schema::{check_catalog, events, telemetry_event, CatalogError};

/// archon starts.
#[telemetry_event(name = "binary.startup")]
pub struct SecondStartup;

#[test]
fn a_duplicate_name_fails_the_catalog_check() {
    let errors = check_catalog(&events()).expect_err("the duplicate must be caught");
    assert_eq!(
        errors,
        [CatalogError::DuplicateName {
            name: "binary.startup",
            rust_names: ["BinaryStartup", "SecondStartup"],
        }]
    );
    assert_eq!(
        errors[0].to_string(),
        "event name \"binary.startup\" is declared by both `BinaryStartup` and `SecondStartup`; each event needs its own name"
    );
}
