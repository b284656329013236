//! `cargo xtask schema`: writes the JSON Schema of every event, docs/telemetry-schema.json, which
//! is also the schema lock. `--check` fails when the lock does not record the current catalog.
//!
//! Writing refuses breaking changes made without raising the event's version (see `lock.rs`):
//! otherwise regenerating the lock would quietly accept them, and the check in CI would only
//! ever compare the catalog with itself. `--allow-breaking` is the deliberate way through, for
//! removing an event (which has no version left to raise) or a break that is truly intended.
//!
//! Both also compare the lock with its history in git (`lock_history`): which properties an
//! event's version requires is read back from the lock, so a hand edit there would otherwise go
//! unnoticed.

use crate::catalog::Catalog;
use crate::diff;
use crate::failure::Failure;
use crate::json_schema;
use crate::lock::{self, Change, ChangeKind, Verdict};
use crate::lock_history::{self, NoHistory};
use crate::workspace::{self, SCHEMA_LOCK};

/// Runs the task.
pub fn run(check: bool, allow_breaking: bool) -> Result<(), Failure> {
    let catalog = Catalog::load()?;
    let committed = workspace::read_optional(SCHEMA_LOCK)?;
    // Which properties each version requires is read back from the lock: it must not have
    // dropped any that an earlier version of it required (see `lock_history`).
    if let Some(current) = &committed {
        check_history(current)?;
    }
    let generated = json_schema::render(&catalog, committed.as_deref());
    let verdict = lock::judge(committed.as_deref(), &generated);
    if check {
        check_lock(&verdict, committed.as_deref(), &generated).map_err(Failure::check)?;
        println!("{SCHEMA_LOCK} is up to date");
        return Ok(());
    }
    match may_write(&verdict, allow_breaking) {
        Ok(None) => println!("{SCHEMA_LOCK} is up to date"),
        Ok(Some(summary)) => {
            workspace::write(SCHEMA_LOCK, &generated)?;
            println!(
                "wrote {SCHEMA_LOCK} ({} events){summary}",
                catalog.events.len()
            );
            println!("commit it with the change that caused it");
        }
        Err(message) => return Err(Failure::check(message)),
    }
    Ok(())
}

/// Compares `current` with the lock's committed versions. Without them (not a clone, or a
/// shallow one) it says so and goes on; git failing otherwise is an error, not a pass.
fn check_history(current: &str) -> Result<(), Failure> {
    match lock_history::committed_versions(&workspace::root(), SCHEMA_LOCK) {
        Ok(history) => lock_history::check(&history, current, SCHEMA_LOCK).map_err(Failure::check),
        Err(NoHistory::GitFailed(said)) => Err(Failure::environment(format!(
            "git cannot read the history of {SCHEMA_LOCK}, which the check compares it with: \
             {said}"
        ))),
        Err(why) => {
            let why = match why {
                NoHistory::Shallow => "this is a shallow clone, without the history",
                _ => "this is not a git clone (or git is not installed)",
            };
            eprintln!(
                "note: {why}, so whether {SCHEMA_LOCK} still requires what its earlier versions \
                 required is not checked"
            );
            Ok(())
        }
    }
}

/// `--check`: `Ok` only when the committed lock is exactly what would be written; otherwise what
/// changed, breaking changes first, and what to do.
pub fn check_lock(
    verdict: &Verdict,
    committed: Option<&str>,
    generated: &str,
) -> Result<(), String> {
    match verdict {
        Verdict::UpToDate => Ok(()),
        Verdict::Missing => Err(format!(
            "{SCHEMA_LOCK} does not exist: run `cargo xtask schema` and commit it"
        )),
        Verdict::Unreadable(problem) => Err(unreadable(problem)),
        Verdict::Changed {
            breaking,
            compatible,
        } if !breaking.is_empty() => Err(breaking_report(breaking, compatible)),
        Verdict::Changed { compatible, .. } if !compatible.is_empty() => Err(format!(
            "{SCHEMA_LOCK} does not record the current event catalog. These changes are compatible:\n{}\n\
             run `cargo xtask schema` (and `cargo xtask docs`) and commit the result",
            bullets(compatible)
        )),
        Verdict::Changed { .. } => Err(format!(
            "{SCHEMA_LOCK} records the same events but is not laid out as `cargo xtask schema` writes it:\n\
             run `cargo xtask schema` and commit the result\n\n{}",
            diff::unified(SCHEMA_LOCK, committed.unwrap_or_default(), generated)
        )),
    }
}

/// Whether the lock may be rewritten: `Ok(None)` when there is nothing to write, `Ok(Some(text))`
/// with a summary of the changes to print, `Err` with the reason it may not.
pub fn may_write(verdict: &Verdict, allow_breaking: bool) -> Result<Option<String>, String> {
    match verdict {
        Verdict::UpToDate => Ok(None),
        Verdict::Missing => Ok(Some(String::new())),
        Verdict::Unreadable(_) if allow_breaking => Ok(Some(
            "; the previous file could not be read, so nothing was compared".to_owned(),
        )),
        Verdict::Unreadable(problem) => Err(unreadable(problem)),
        Verdict::Changed { breaking, .. } if !breaking.is_empty() && !allow_breaking => {
            Err(breaking_report(breaking, &[]))
        }
        Verdict::Changed {
            breaking,
            compatible,
        } => {
            let mut summary = String::new();
            if !breaking.is_empty() {
                summary.push_str(&format!(
                    "\nbreaking changes, accepted with --allow-breaking:\n{}",
                    bullets(breaking)
                ));
            }
            if !compatible.is_empty() {
                summary.push_str(&format!("\nchanges:\n{}", bullets(compatible)));
            }
            Ok(Some(summary))
        }
    }
}

fn breaking_report(breaking: &[Change], compatible: &[Change]) -> String {
    let mut report = format!(
        "{SCHEMA_LOCK}: breaking changes to events whose version was not raised:\n{}\n\
         Data already sent, and archon builds already installed, use these versions with the old shape.\n",
        bullets(breaking)
    );
    // The fix for a changed event is a version bump; show it with the first such event.
    if let Some(example) = breaking.iter().find(|c| c.kind != ChangeKind::EventRemoved) {
        report.push_str(&format!(
            "Raise the version of each changed event, for example\n\
             \x20   #[telemetry_event(name = \"{}\", version = {})]\n\
             then run `cargo xtask schema` and `cargo xtask docs` and commit the results.\n",
            example.event,
            example.version + 1,
        ));
    }
    report.push_str(
        "A removed event has no version left to raise: if a break is intended, run\n\
         `cargo xtask schema --allow-breaking` and say why in the commit message.",
    );
    if !compatible.is_empty() {
        report.push_str(&format!(
            "\n\nOther, compatible changes:\n{}",
            bullets(compatible)
        ));
    }
    report
}

fn unreadable(problem: &str) -> String {
    format!(
        "{SCHEMA_LOCK} cannot be compared with the catalog: {problem}.\n\
         If it was edited by hand, restore it from git. To replace it without comparing,\n\
         run `cargo xtask schema --allow-breaking` (breaking changes since the last good lock go unnoticed)."
    )
}

fn bullets(changes: &[Change]) -> String {
    let lines: Vec<String> = changes
        .iter()
        .map(|change| format!("  - {change}"))
        .collect();
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{edit, Catalog};
    use telemetry_schema::{EnumValue, ValueKind};

    fn lock_of(catalog: &Catalog) -> String {
        json_schema::render(catalog, None)
    }

    /// The verdict on a lock made from the real catalog, once the catalog has become `changed`.
    fn changes_after(changed: &Catalog) -> (Vec<Change>, Vec<Change>) {
        match lock::judge(Some(&lock_of(&edit::real())), &lock_of(changed)) {
            Verdict::Changed {
                breaking,
                compatible,
            } => (breaking, compatible),
            other => panic!("expected changes, got {other:?}"),
        }
    }

    /// A new property for the tests that add one.
    fn retry_count() -> telemetry_schema::FieldSchema {
        edit::new_field(
            "retry_count",
            "How many times it was retried.",
            edit::property(
                ValueKind::Integer {
                    minimum: 0,
                    maximum: 255,
                },
                false,
            ),
        )
    }

    fn breaking_kinds(changed: &Catalog) -> Vec<(String, ChangeKind)> {
        let (breaking, _) = changes_after(changed);
        breaking.into_iter().map(|c| (c.event, c.kind)).collect()
    }

    /// `cargo test` alone catches a stale lock, not only `.ci/run`.
    #[test]
    fn the_committed_schema_lock_is_current() {
        let committed = workspace::read_optional(SCHEMA_LOCK).unwrap();
        let generated = json_schema::render(&edit::real(), committed.as_deref());
        let verdict = lock::judge(committed.as_deref(), &generated);
        if let Err(message) = check_lock(&verdict, committed.as_deref(), &generated) {
            panic!("{message}");
        }
    }

    #[test]
    fn removing_an_event_is_breaking() {
        let mut changed = edit::real();
        changed
            .events
            .retain(|event| event.name != "setup.completed");
        assert_eq!(
            breaking_kinds(&changed),
            [("setup.completed".to_owned(), ChangeKind::EventRemoved)]
        );
        let verdict = lock::judge(Some(&lock_of(&edit::real())), &lock_of(&changed));
        let message = check_lock(&verdict, None, "").unwrap_err();
        assert!(message.contains("event \"setup.completed\" (version 1): the event was removed"));
        // There is no version to raise, only the deliberate way through.
        assert!(!message.contains("Raise the version"), "{message}");
        assert!(
            message.contains("cargo xtask schema --allow-breaking"),
            "{message}"
        );
    }

    #[test]
    fn removing_a_property_is_breaking_and_the_message_names_event_and_property() {
        let changed = edit::event(&edit::real(), "workflow.run_started", None, |fields| {
            fields.retain(|field| field.name != "node_count");
        });
        assert_eq!(
            breaking_kinds(&changed),
            [(
                "workflow.run_started".to_owned(),
                ChangeKind::PropertyRemoved {
                    property: "node_count".to_owned()
                }
            )]
        );
        let verdict = lock::judge(Some(&lock_of(&edit::real())), &lock_of(&changed));
        let message = check_lock(&verdict, None, "").unwrap_err();
        assert!(
            message.contains(
                "event \"workflow.run_started\" (version 1): property \"node_count\" was removed"
            ),
            "{message}"
        );
        assert!(
            message.contains("#[telemetry_event(name = \"workflow.run_started\", version = 2)]"),
            "{message}"
        );
        // Writing refuses it too, unless told otherwise.
        assert!(may_write(&verdict, false)
            .unwrap_err()
            .contains("node_count"));
        assert!(may_write(&verdict, true).unwrap().is_some());
    }

    #[test]
    fn removing_a_base_property_breaks_every_event() {
        let mut changed = edit::real();
        let base: Vec<_> = changed
            .base_fields
            .iter()
            .filter(|field| field.name != "is_ci")
            .map(|f| telemetry_schema::FieldSchema {
                name: f.name,
                doc: f.doc,
                type_name: f.type_name,
                property: f.property,
            })
            .collect();
        changed.base_fields = Box::leak(base.into_boxed_slice());
        let breaking = breaking_kinds(&changed);
        assert_eq!(breaking.len(), changed.events.len());
        assert!(breaking.iter().all(|(_, kind)| *kind
            == ChangeKind::PropertyRemoved {
                property: "is_ci".to_owned()
            }));
    }

    #[test]
    fn narrowing_an_integer_is_breaking() {
        let changed = edit::event(&edit::real(), "workflow.run_started", None, |fields| {
            edit::field(fields, "node_count").property.kind = ValueKind::Integer {
                minimum: 0,
                maximum: 255,
            };
        });
        let breaking = breaking_kinds(&changed);
        assert!(
            matches!(&breaking[..], [(event, ChangeKind::RangeNarrowed { property, .. })]
                if event == "workflow.run_started" && property == "node_count"),
            "{breaking:?}"
        );
    }

    #[test]
    fn changing_a_type_or_forbidding_null_is_breaking() {
        let changed = edit::event(&edit::real(), "workflow.run_started", None, |fields| {
            edit::field(fields, "is_cli_invoked").property.kind = ValueKind::Integer {
                minimum: 0,
                maximum: 1,
            };
        });
        assert!(matches!(&breaking_kinds(&changed)[..],
            [(_, ChangeKind::TypeChanged { property, .. })] if property == "is_cli_invoked"));

        let changed = edit::event(&edit::real(), "workflow.run_failed", None, |fields| {
            edit::field(fields, "failed_node_type").property.optional = false;
        });
        assert_eq!(
            breaking_kinds(&changed),
            [(
                "workflow.run_failed".to_owned(),
                ChangeKind::NoLongerNullable {
                    property: "failed_node_type".to_owned()
                }
            )]
        );
    }

    #[test]
    fn removing_an_enum_value_is_breaking() {
        let values = edit::values(vec![
            EnumValue {
                value: "bash",
                doc: "A shell script.",
            },
            EnumValue {
                value: "prompt",
                doc: "A prompt sent to the assistant.",
            },
        ]);
        let changed = edit::event(&edit::real(), "workflow.node_failed", None, |fields| {
            edit::field(fields, "node_type").property.kind = ValueKind::Enum { values };
        });
        assert_eq!(
            breaking_kinds(&changed),
            [(
                "workflow.node_failed".to_owned(),
                ChangeKind::ValuesRemoved {
                    property: "node_type".to_owned(),
                    values: vec!["command".into()]
                }
            )]
        );
    }

    #[test]
    fn a_raised_version_allows_a_breaking_change() {
        let changed = edit::event(&edit::real(), "workflow.run_started", Some(2), |fields| {
            fields.retain(|field| field.name != "node_count");
        });
        let (breaking, compatible) = changes_after(&changed);
        assert!(breaking.is_empty(), "{breaking:?}");
        assert_eq!(compatible[0].kind, ChangeKind::VersionRaised { to: 2 });
    }

    #[test]
    fn lowering_a_version_is_breaking() {
        let locked = edit::event(&edit::real(), "setup.completed", Some(3), |_| {});
        let verdict = lock::judge(Some(&lock_of(&locked)), &lock_of(&edit::real()));
        let Verdict::Changed { breaking, .. } = verdict else {
            panic!("{verdict:?}");
        };
        assert_eq!(breaking[0].kind, ChangeKind::VersionLowered { to: 1 });
    }

    #[test]
    fn additions_need_regeneration_and_are_then_accepted() {
        let more_values = edit::values(vec![
            EnumValue {
                value: "claude",
                doc: "Claude.",
            },
            EnumValue {
                value: "codex",
                doc: "Codex.",
            },
            EnumValue {
                value: "gemini",
                doc: "A new assistant.",
            },
        ]);
        let changed = edit::event(&edit::real(), "workflow.run_started", None, |fields| {
            fields.push(retry_count());
            edit::field(fields, "provider").property.kind = ValueKind::Enum {
                values: more_values,
            };
            edit::field(fields, "node_count").property = edit::property(
                ValueKind::Integer {
                    minimum: 0,
                    maximum: u64::from(u32::MAX) * 2,
                },
                true,
            );
            edit::field(fields, "is_cli_invoked").doc = "Reworded.";
        });
        let mut changed = changed;
        changed
            .events
            .push(Box::leak(Box::new(telemetry_schema::EventSchema {
                name: "zz.new_event",
                version: 1,
                rust_name: "NewEvent",
                doc: "Something new happens.",
                fields: &[],
            })));

        let old_lock = lock_of(&edit::real());
        let new_lock = lock_of(&changed);
        let verdict = lock::judge(Some(&old_lock), &new_lock);
        let Verdict::Changed {
            breaking,
            compatible,
        } = &verdict
        else {
            panic!("{verdict:?}");
        };
        assert!(breaking.is_empty(), "{breaking:?}");
        let kinds: Vec<&ChangeKind> = compatible.iter().map(|c| &c.kind).collect();
        assert!(kinds.contains(&&ChangeKind::PropertyAdded {
            property: "retry_count".to_owned()
        }));
        assert!(kinds.contains(&&ChangeKind::ValuesAdded {
            property: "provider".to_owned(),
            values: vec!["gemini".into()]
        }));
        assert!(kinds.contains(&&ChangeKind::NowNullable {
            property: "node_count".to_owned()
        }));
        assert!(kinds.iter().any(
            |k| matches!(k, ChangeKind::RangeWidened { property, .. } if property == "node_count")
        ));
        assert!(kinds.contains(&&ChangeKind::DescriptionChanged {
            property: Some("is_cli_invoked".to_owned())
        }));
        assert!(kinds.contains(&&ChangeKind::EventAdded));

        // The check still fails, saying to regenerate...
        let message = check_lock(&verdict, Some(&old_lock), &new_lock).unwrap_err();
        assert!(message.contains("run `cargo xtask schema`"), "{message}");
        assert!(
            message.contains("new property \"retry_count\""),
            "{message}"
        );
        // ...writing is allowed without --allow-breaking, and afterwards the check passes.
        assert!(may_write(&verdict, false).unwrap().is_some());
        let after = lock::judge(Some(&new_lock), &new_lock);
        assert_eq!(after, Verdict::UpToDate);
        assert!(check_lock(&after, Some(&new_lock), &new_lock).is_ok());
    }

    /// The properties the lock `text` requires of `event`.
    fn required_of(text: &str, event: &str) -> Vec<String> {
        let lock: serde_json::Value = serde_json::from_str(text).unwrap();
        lock["$defs"][event]["properties"]["properties"]["required"]
            .as_array()
            .unwrap()
            .iter()
            .map(|name| name.as_str().unwrap().to_owned())
            .collect()
    }

    #[test]
    fn a_property_added_to_a_released_version_is_optional_until_the_version_is_raised() {
        let old_lock = lock_of(&edit::real());
        let added = edit::event(&edit::real(), "workflow.run_started", None, |fields| {
            fields.push(retry_count());
        });
        // Archons installed before send version 1 without it: their events must still match.
        let new_lock = json_schema::render(&added, Some(&old_lock));
        let required = required_of(&new_lock, "workflow.run_started");
        assert!(
            !required.contains(&"retry_count".to_owned()),
            "{required:?}"
        );
        assert!(required.contains(&"node_count".to_owned()), "{required:?}");
        assert!(new_lock.contains("\"retry_count\""));
        // Other events are untouched, and regenerating from the new lock changes nothing.
        assert_eq!(
            required_of(&new_lock, "setup.completed"),
            required_of(&old_lock, "setup.completed")
        );
        assert_eq!(json_schema::render(&added, Some(&new_lock)), new_lock);
        // Requiring it later at the same version is breaking (as in a lock regenerated without
        // the committed one).
        let Verdict::Changed { breaking, .. } = lock::judge(Some(&new_lock), &lock_of(&added))
        else {
            panic!("expected changes");
        };
        assert_eq!(
            breaking.iter().map(|c| &c.kind).collect::<Vec<_>>(),
            [&ChangeKind::NowRequired {
                property: "retry_count".to_owned()
            }]
        );
        // A new version comes out with every property.
        let raised = edit::event(&added, "workflow.run_started", Some(2), |_| {});
        let raised_lock = json_schema::render(&raised, Some(&new_lock));
        assert!(
            required_of(&raised_lock, "workflow.run_started").contains(&"retry_count".to_owned())
        );
    }

    #[test]
    fn a_missing_or_unreadable_lock_is_reported() {
        let generated = lock_of(&edit::real());
        let missing = lock::judge(None, &generated);
        assert!(check_lock(&missing, None, &generated)
            .unwrap_err()
            .contains("does not exist"));
        assert_eq!(may_write(&missing, false), Ok(Some(String::new())));

        let broken = lock::judge(Some("{\"$defs\": 3}"), &generated);
        let message = check_lock(&broken, None, &generated).unwrap_err();
        assert!(
            message.contains("cannot be compared") && message.contains("no `$defs` object"),
            "{message}"
        );
        assert!(may_write(&broken, false).is_err());
        assert!(may_write(&broken, true).is_ok());
    }

    #[test]
    fn a_layout_only_difference_shows_a_diff() {
        let generated = lock_of(&edit::real());
        let reformatted =
            serde_json::to_string(&serde_json::from_str::<serde_json::Value>(&generated).unwrap())
                .unwrap();
        let verdict = lock::judge(Some(&reformatted), &generated);
        assert_eq!(
            verdict,
            Verdict::Changed {
                breaking: vec![],
                compatible: vec![]
            }
        );
        let message = check_lock(&verdict, Some(&reformatted), &generated).unwrap_err();
        assert!(
            message.contains("--- docs/telemetry-schema.json (committed)"),
            "{message}"
        );
    }
}
