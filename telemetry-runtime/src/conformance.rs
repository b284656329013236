//! Whether a stored event is one archon could have recorded: the last check before anything
//! leaves the machine.
//!
//! Events are recorded only from `#[telemetry_event]` structs, so a queue that archon wrote
//! passes by construction. The queue is a file, though, and a file can be changed by other
//! programs or by hand: the delivery sends only events that are in the catalog and carry only
//! the catalog's properties for them, each with a value of its kind (a listed enum value, a
//! number in range, a boolean, a build constant). So even a queue line someone wrote cannot
//! send a path, a name or any other free-form text.

use crate::wire::WireEvent;
use serde_json::Value;
use telemetry_schema::base::EVENT_VERSION_PROPERTY;
use telemetry_schema::posthog::POSTHOG_PROPERTIES;
use telemetry_schema::{event_by_name, BaseProperties, FieldSchema, PropertySet, ValueKind};
use uuid::Uuid;

/// True when `event` is one archon could have recorded (see the module's description).
///
/// A property the catalog lists for the event may be missing: an event queued by an older
/// archon, before the property was added, is still sent. PostHog's fixed properties may not
/// (one of them keeps PostHog from placing the sender by IP address), and a property the
/// catalog does not list makes the event invalid.
pub fn conforms(event: &WireEvent) -> bool {
    let Some(schema) = event_by_name(&event.event) else {
        return false;
    };
    let known = |name: &str, value: &Value| {
        if let Some(field) = schema
            .fields
            .iter()
            .chain(BaseProperties::FIELDS)
            .find(|field| field.name == name)
        {
            return fits(field, value);
        }
        if name == EVENT_VERSION_PROPERTY {
            return value.as_u64().is_some();
        }
        POSTHOG_PROPERTIES
            .iter()
            .any(|fixed| fixed.name == name && *value == fixed.value.to_json())
    };
    event
        .properties
        .iter()
        .all(|(name, value)| known(name, value))
        && POSTHOG_PROPERTIES
            .iter()
            .all(|fixed| event.properties.contains_key(fixed.name))
        && event
            .distinct_id
            .as_deref()
            .is_none_or(|id| Uuid::parse_str(id).is_ok())
        && event.captured_at().is_some()
}

/// Whether `value` is one `field` can take.
fn fits(field: &FieldSchema, value: &Value) -> bool {
    if value.is_null() {
        return field.property.optional;
    }
    match field.property.kind {
        ValueKind::Boolean => value.is_boolean(),
        ValueKind::Integer { minimum, maximum } => match (value.as_i64(), value.as_u64()) {
            (_, Some(unsigned)) => unsigned <= maximum,
            (Some(signed), None) => signed >= minimum,
            (None, None) => false,
        },
        ValueKind::Milliseconds => value.as_u64().is_some(),
        ValueKind::Enum { values } => value
            .as_str()
            .is_some_and(|text| values.iter().any(|allowed| allowed.value == text)),
        // archon's version or git commit, as built: short, and no character a path or a
        // sentence needs. (Events queued by an older version carry its version, so the check
        // is on the form, not on this build's value.)
        ValueKind::BuildConstant => value.as_str().is_some_and(|text| {
            (1..=64).contains(&text.len())
                && text
                    .chars()
                    .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '+' | '_'))
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use telemetry_schema::{
        CliCommand, CliCommandCompleted, CliSubcommand, DurationMs, Provider, WorkflowName,
        WorkflowRunStarted,
    };

    fn recorded() -> WireEvent {
        let event = CliCommandCompleted {
            command: CliCommand::Workflow,
            subcommand: Some(CliSubcommand::Run),
            exit_code: 1,
            duration_ms: DurationMs::from_millis(1234),
        };
        WireEvent::new(
            &event,
            &BaseProperties::for_this_build(false),
            Some(Uuid::new_v4()),
            chrono::Utc::now(),
        )
    }

    #[test]
    fn what_archon_records_conforms() {
        assert!(conforms(&recorded()));
        let started = WorkflowRunStarted {
            workflow_name: WorkflowName::user_defined(),
            node_count: 3,
            provider: Provider::Codex,
            is_cli_invoked: true,
        };
        let wire = WireEvent::new(
            &started,
            &BaseProperties::for_this_build(true),
            None,
            chrono::Utc::now(),
        );
        assert!(conforms(&wire), "{wire:?}");
    }

    #[test]
    fn every_event_in_the_catalog_conforms_as_recorded() {
        use telemetry_schema::*;
        let base = BaseProperties::for_this_build(false);
        let id = Some(Uuid::new_v4());
        let now = chrono::Utc::now();
        let name = WorkflowName::user_defined;
        let ms = DurationMs::from_millis(5);
        let recorded = [
            WireEvent::new(&BinaryStartup, &base, id, now),
            WireEvent::new(
                &CliCommandInvoked {
                    command: CliCommand::Setup,
                    subcommand: None,
                },
                &base,
                id,
                now,
            ),
            recorded(),
            WireEvent::new(
                &ErrorUncaught {
                    error_class: ErrorClass::Other,
                    r#where: ErrorSite::Main,
                },
                &base,
                id,
                now,
            ),
            WireEvent::new(
                &SetupCompleted {
                    install_method: InstallMethod::Unknown,
                    default_assistant: Provider::Claude,
                },
                &base,
                id,
                now,
            ),
            WireEvent::new(
                &WorkflowRunStarted {
                    workflow_name: name(),
                    node_count: 1,
                    provider: Provider::Claude,
                    is_cli_invoked: true,
                },
                &base,
                id,
                now,
            ),
            WireEvent::new(
                &WorkflowRunCompleted {
                    workflow_name: name(),
                    duration_ms: ms,
                    node_count: 2,
                    nodes_completed: 2,
                },
                &base,
                id,
                now,
            ),
            WireEvent::new(
                &WorkflowRunFailed {
                    workflow_name: name(),
                    error_class: ErrorClass::Other,
                    failed_node_type: Some(NodeType::Bash),
                    duration_ms: ms,
                },
                &base,
                id,
                now,
            ),
            WireEvent::new(
                &WorkflowNodeFailed {
                    workflow_name: name(),
                    node_type: NodeType::Prompt,
                    error_classification: ErrorClassification::Transient,
                    provider: Provider::Codex,
                },
                &base,
                id,
                now,
            ),
        ];
        let names: std::collections::HashSet<&str> =
            recorded.iter().map(|event| event.event.as_str()).collect();
        assert_eq!(
            names.len(),
            telemetry_schema::events().len(),
            "one of each event"
        );
        for event in &recorded {
            assert!(conforms(event), "{event:?}");
        }
    }

    #[test]
    fn an_event_queued_before_a_property_was_added_still_conforms() {
        let mut event = recorded();
        event.properties.remove("duration_ms");
        assert!(conforms(&event));
    }

    #[test]
    fn free_form_text_does_not_conform_wherever_it_is_put() {
        type Change = (&'static str, fn(&mut WireEvent));
        let changes: [Change; 9] = [
            ("enum value", |e| {
                e.properties["command"] = "/home/me/acme".into();
            }),
            ("number", |e| e.properties["exit_code"] = "secret".into()),
            ("extra property", |e| {
                e.properties.insert("path".into(), "/home/me".into());
            }),
            ("PostHog property missing", |e| {
                e.properties.remove("$geoip_disable");
            }),
            ("build constant", |e| {
                e.properties["archon_version"] = "/home/me/secret project".into();
            }),
            ("PostHog property", |e| {
                e.properties["$geoip_disable"] = false.into();
            }),
            ("event name", |e| e.event = "my.custom_event".into()),
            ("distinct id", |e| {
                e.distinct_id = Some("me@example.com".into())
            }),
            ("timestamp", |e| e.timestamp = "yesterday".into()),
        ];
        for (what, change) in changes {
            let mut event = recorded();
            change(&mut event);
            assert!(!conforms(&event), "{what}: {event:?}");
        }
    }
}
