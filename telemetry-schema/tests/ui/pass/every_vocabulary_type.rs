use serde_json::json;
use telemetry_schema::*;

/// The test's own enum.
#[derive(TelemetryEnum)]
pub enum Color {
    /// Red.
    Red,
    /// Light blue.
    LightBlue,
}

/// Every type the vocabulary allows, alone and in an `Option`.
#[telemetry_event(name = "test.every_type")]
pub struct EveryType {
    /// bool
    pub flag: bool,
    /// u8
    pub a: u8,
    /// u16
    pub b: u16,
    /// u32
    pub c: u32,
    /// u64
    pub d: u64,
    /// i8
    pub e: i8,
    /// i16
    pub f: i16,
    /// i32
    pub g: i32,
    /// i64
    pub h: i64,
    /// A duration.
    pub took: DurationMs,
    /// A workflow.
    pub workflow: WorkflowName,
    /// An error class.
    pub class: ErrorClass,
    /// An error site.
    pub site: ErrorSite,
    /// An enum of this crate.
    pub color: Color,
    /// Optional bool.
    pub maybe_flag: Option<bool>,
    /// Optional integer.
    pub maybe_count: Option<u32>,
    /// Optional duration.
    pub maybe_took: Option<DurationMs>,
    /// Optional workflow.
    pub maybe_workflow: Option<WorkflowName>,
    /// Optional enum.
    pub maybe_color: Option<Color>,
}

fn main() {
    let event = EveryType {
        flag: true,
        a: u8::MAX,
        b: 2,
        c: 3,
        d: u64::MAX,
        e: i8::MIN,
        f: -2,
        g: -3,
        h: i64::MIN,
        took: DurationMs::from_millis(1500),
        workflow: WorkflowName::sanitize("archon-assist"),
        class: ErrorClass::Io,
        site: ErrorSite::Main,
        color: Color::LightBlue,
        maybe_flag: None,
        maybe_count: Some(7),
        maybe_took: None,
        maybe_workflow: Some(WorkflowName::sanitize("acme-deploy")),
        maybe_color: None,
    };
    assert_eq!(
        serde_json::Value::Object(Properties::of(&event).into_map()),
        json!({
            "flag": true, "a": 255, "b": 2, "c": 3, "d": u64::MAX,
            "e": -128, "f": -2, "g": -3, "h": i64::MIN,
            "took": 1500, "workflow": "archon-assist", "class": "io", "site": "main",
            "color": "light_blue", "maybe_flag": null, "maybe_count": 7, "maybe_took": null,
            "maybe_workflow": "user-defined", "maybe_color": null
        })
    );
    assert!(event_by_name("test.every_type").is_some());
}
