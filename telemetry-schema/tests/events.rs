//! archon's catalog: which events exist, and exactly what each one sends.

use serde_json::json;
use std::time::Duration;
use telemetry_schema::*;

fn json_of<S: PropertySet>(set: &S) -> serde_json::Value {
    serde_json::Value::Object(Properties::of(set).into_map())
}

#[test]
fn the_catalog_holds_exactly_the_proposal_events() {
    let names: Vec<&str> = events().iter().map(|event| event.name).collect();
    assert_eq!(
        names,
        [
            "binary.startup",
            "cli.command_completed",
            "cli.command_invoked",
            "error.uncaught",
            "setup.completed",
            "workflow.node_failed",
            "workflow.run_completed",
            "workflow.run_failed",
            "workflow.run_started",
        ]
    );
    check_catalog(&events()).expect("event names are unique");
}

#[test]
fn every_event_and_property_is_documented() {
    for event in events() {
        assert!(
            !event.doc.trim().is_empty(),
            "{} has no description",
            event.name
        );
        for field in event.fields {
            assert!(
                !field.doc.trim().is_empty(),
                "{}.{} has no description",
                event.name,
                field.name
            );
        }
    }
}

#[test]
fn schema_describes_fields_in_declaration_order() {
    let schema = <WorkflowRunFailed as TelemetryEvent>::SCHEMA;
    assert_eq!(schema.name, "workflow.run_failed");
    assert_eq!(schema.rust_name, "WorkflowRunFailed");
    assert_eq!(schema.doc, "A workflow stops because something failed.");
    let fields: Vec<(&str, &str)> = schema
        .fields
        .iter()
        .map(|f| (f.name, f.type_name))
        .collect();
    assert_eq!(
        fields,
        [
            ("workflow_name", "WorkflowName"),
            ("error_class", "ErrorClass"),
            ("failed_node_type", "Option<NodeType>"),
            ("duration_ms", "DurationMs"),
        ]
    );
    let node_type = &schema.fields[2].property;
    assert!(node_type.optional);
    let ValueKind::Enum { values } = node_type.kind else {
        panic!("NodeType should be an enum, got {:?}", node_type.kind);
    };
    let values: Vec<&str> = values.iter().map(|v| v.value).collect();
    assert_eq!(values, ["bash", "prompt", "command"]);
    assert_eq!(
        event_by_name("workflow.run_failed").unwrap().rust_name,
        "WorkflowRunFailed"
    );
    assert!(event_by_name("workflow.unknown").is_none());
}

#[test]
fn binary_startup_has_no_properties() {
    assert_eq!(json_of(&BinaryStartup), json!({}));
    assert!(<BinaryStartup as TelemetryEvent>::SCHEMA.fields.is_empty());
}

#[test]
fn cli_events() {
    assert_eq!(
        json_of(&CliCommandInvoked {
            command: CliCommand::Workflow,
            subcommand: Some(CliSubcommand::Run),
        }),
        json!({"command": "workflow", "subcommand": "run"})
    );
    let completed = CliCommandCompleted {
        command: CliCommand::Version,
        subcommand: None,
        exit_code: 130,
        duration_ms: Duration::from_micros(12_345_678).into(),
    };
    // Field order is declaration order, so `inspect` reads like the struct.
    assert_eq!(
        Properties::of(&completed).to_json_string(),
        r#"{"command":"version","subcommand":null,"exit_code":130,"duration_ms":12345}"#
    );
}

#[test]
fn workflow_events() {
    assert_eq!(
        json_of(&WorkflowRunStarted {
            workflow_name: WorkflowName::sanitize("archon-assist"),
            node_count: 4,
            provider: Provider::Codex,
            is_cli_invoked: true,
        }),
        json!({"workflow_name": "archon-assist", "node_count": 4, "provider": "codex", "is_cli_invoked": true})
    );
    assert_eq!(
        json_of(&WorkflowRunCompleted {
            workflow_name: WorkflowName::sanitize("deploy-customer-x"),
            duration_ms: DurationMs::from_millis(90_000),
            node_count: 3,
            nodes_completed: 3,
        }),
        json!({"workflow_name": "user-defined", "duration_ms": 90000, "node_count": 3, "nodes_completed": 3})
    );
    assert_eq!(
        json_of(&WorkflowRunFailed {
            workflow_name: WorkflowName::sanitize("archon-fix-github-issue"),
            error_class: ErrorClass::AssistantNotInstalled,
            failed_node_type: Some(NodeType::Prompt),
            duration_ms: DurationMs::from_millis(5),
        }),
        json!({
            "workflow_name": "archon-fix-github-issue",
            "error_class": "assistant_not_installed",
            "failed_node_type": "prompt",
            "duration_ms": 5
        })
    );
    assert_eq!(
        json_of(&WorkflowNodeFailed {
            workflow_name: WorkflowName::sanitize("my-secret-flow"),
            node_type: NodeType::Bash,
            error_classification: ErrorClassification::CreditExhausted,
            provider: Provider::Claude,
        }),
        json!({
            "workflow_name": "user-defined",
            "node_type": "bash",
            "error_classification": "credit_exhausted",
            "provider": "claude"
        })
    );
}

#[test]
fn error_uncaught_sends_where_without_raw_prefix() {
    assert_eq!(
        json_of(&ErrorUncaught {
            error_class: ErrorClass::Panic,
            r#where: ErrorSite::WorkflowRun,
        }),
        json!({"error_class": "panic", "where": "workflow_run"})
    );
}

#[test]
fn setup_completed() {
    assert_eq!(
        json_of(&SetupCompleted {
            install_method: InstallMethod::Homebrew,
            default_assistant: Provider::Claude,
        }),
        json!({"install_method": "homebrew", "default_assistant": "claude"})
    );
}

#[test]
fn base_properties() {
    let base = json_of(&BaseProperties::for_this_build(true));
    let keys: Vec<&str> = base
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(keys, base::BASE_PROPERTY_NAMES);
    assert_eq!(base["archon_version"], build_info::VERSION);
    assert_eq!(base["archon_git_commit"], build_info::GIT_COMMIT);
    assert_eq!(base["archon_is_binary"], build_info::IS_RELEASE);
    assert_eq!(base["is_ci"], true);
    let platform = base["platform"].as_str().unwrap();
    assert!(["linux", "macos", "windows", "other"].contains(&platform));
    let arch = base["arch"].as_str().unwrap();
    assert!(["x86_64", "aarch64", "other"].contains(&arch));
    if cfg!(all(target_os = "linux", target_arch = "x86_64")) {
        assert_eq!((platform, arch), ("linux", "x86_64"));
    }
}

#[test]
fn enum_values_are_snake_case_with_docs() {
    let values: Vec<&str> = ErrorClassification::VALUES
        .iter()
        .map(|v| v.value)
        .collect();
    assert_eq!(values, ["transient", "fatal", "credit_exhausted"]);
    assert_eq!(
        ErrorClassification::CreditExhausted.as_str(),
        "credit_exhausted"
    );
    assert_eq!(
        ErrorClassification::VALUES[2].doc,
        "The assistant account has run out of credit."
    );
}

#[test]
fn wire_properties_are_fields_then_version_then_base() {
    let event = CliCommandInvoked {
        command: CliCommand::Telemetry,
        subcommand: Some(CliSubcommand::Inspect),
    };
    let base = BaseProperties::for_this_build(false);
    let wire = Properties::of_event(&event, &base).into_map();
    let keys: Vec<&str> = wire.keys().map(String::as_str).collect();
    assert_eq!(
        keys,
        [
            "command",
            "subcommand",
            "event_version",
            "archon_version",
            "archon_git_commit",
            "archon_is_binary",
            "platform",
            "arch",
            "is_ci"
        ]
    );
    assert_eq!(wire["event_version"], 1);
    assert_eq!(wire["is_ci"], false);
}
