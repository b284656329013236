//! `cargo xtask docs`: writes the policy page, docs/telemetry.md, or with `--check` fails when
//! the committed page is not what would be written.

use crate::catalog::Catalog;
use crate::diff;
use crate::failure::Failure;
use crate::policy_page;
use crate::workspace::{self, POLICY_PAGE, POLICY_TEMPLATE};

/// Runs the task.
pub fn run(check: bool) -> Result<(), Failure> {
    let catalog = Catalog::load()?;
    let template = workspace::read(POLICY_TEMPLATE)?;
    let page = generate(&catalog, &template)?;
    let committed = workspace::read_optional(POLICY_PAGE)?;
    if check {
        check_page(committed.as_deref(), &page).map_err(Failure::check)?;
        println!("{POLICY_PAGE} is up to date");
    } else if committed.as_deref() == Some(page.as_str()) {
        println!("{POLICY_PAGE} is up to date");
    } else {
        workspace::write(POLICY_PAGE, &page)?;
        println!(
            "wrote {POLICY_PAGE} ({} events); commit it with the change that caused it",
            catalog.events.len()
        );
    }
    Ok(())
}

/// The page for `catalog` from `template` (the text of docs/telemetry.template.md).
pub fn generate(catalog: &Catalog, template: &str) -> Result<String, Failure> {
    policy_page::render(catalog, template).map_err(|error| {
        let place = match error.line {
            Some(line) => format!("{POLICY_TEMPLATE}:{line}"),
            None => POLICY_TEMPLATE.to_owned(),
        };
        Failure::check(format!("{place}: {}", error.message))
    })
}

/// `Ok` when `committed` (the page in the work tree, if any) is exactly `generated`; otherwise
/// the message for the person who has to fix it, with a diff.
pub fn check_page(committed: Option<&str>, generated: &str) -> Result<(), String> {
    match committed {
        Some(committed) if committed == generated => Ok(()),
        Some(committed) => Err(format!(
            "{POLICY_PAGE} is not what `cargo xtask docs` generates from the event catalog and {POLICY_TEMPLATE}.\n\
             Edit the template or the event structs, not the page. Run `cargo xtask docs` and commit the result.\n\n{}",
            diff::unified(POLICY_PAGE, committed, generated)
        )),
        None => Err(format!(
            "{POLICY_PAGE} does not exist: run `cargo xtask docs` and commit it"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::edit;

    fn real_page() -> String {
        let template = workspace::read(POLICY_TEMPLATE).expect("the template is in the tree");
        generate(&edit::real(), &template).expect("the template is valid")
    }

    /// `cargo test` alone catches a stale page, not only `.ci/run`.
    #[test]
    fn the_committed_policy_page_is_current() {
        let committed = workspace::read_optional(POLICY_PAGE).unwrap();
        if let Err(message) = check_page(committed.as_deref(), &real_page()) {
            panic!("{message}");
        }
    }

    #[test]
    fn changing_a_field_doc_comment_fails_the_check() {
        let committed = real_page();
        let changed = edit::event(&edit::real(), "workflow.run_started", None, |fields| {
            edit::field(fields, "node_count").doc =
                "How many nodes the workflow has, counted twice.";
        });
        let template = workspace::read(POLICY_TEMPLATE).unwrap();
        let page = generate(&changed, &template).unwrap();
        let message = check_page(Some(&committed), &page).unwrap_err();
        assert!(message.contains("docs/telemetry.md is not what `cargo xtask docs` generates"));
        assert!(
            message.contains("--- docs/telemetry.md (committed)"),
            "{message}"
        );
        assert!(message.contains("-| `node_count` | integer | `0` to `4294967295` | Number of nodes in the workflow. |"), "{message}");
        assert!(message.contains("+| `node_count` | integer | `0` to `4294967295` | How many nodes the workflow has, counted twice. |"), "{message}");
    }

    #[test]
    fn changing_an_event_version_or_enum_value_doc_fails_the_check() {
        let committed = real_page();
        let template = workspace::read(POLICY_TEMPLATE).unwrap();
        let bumped = edit::event(&edit::real(), "setup.completed", Some(2), |_| {});
        assert!(check_page(Some(&committed), &generate(&bumped, &template).unwrap()).is_err());
        let values = edit::values(vec![telemetry_schema::EnumValue {
            value: "homebrew",
            doc: "Installed with Homebrew, renamed.",
        }]);
        let renamed = edit::event(&edit::real(), "setup.completed", None, |fields| {
            edit::field(fields, "install_method").property.kind =
                telemetry_schema::ValueKind::Enum { values };
        });
        assert!(check_page(Some(&committed), &generate(&renamed, &template).unwrap()).is_err());
    }

    #[test]
    fn a_missing_page_fails_the_check() {
        let message = check_page(None, "page").unwrap_err();
        assert!(message.contains("run `cargo xtask docs`"));
    }

    #[test]
    fn a_bad_placeholder_names_the_template_and_line() {
        let failure = generate(&edit::real(), "# Title\n{{events}}\n{{evnets}}\n").unwrap_err();
        assert_eq!(failure.code(), 1);
        assert!(
            failure
                .to_string()
                .starts_with("docs/telemetry.template.md:3: unknown placeholder `{{evnets}}`"),
            "{failure}"
        );
    }
}
