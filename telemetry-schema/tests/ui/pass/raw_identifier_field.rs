use telemetry_schema::*;

/// Uses a keyword as a property name.
#[telemetry_event(name = "test.raw_names")]
pub struct RawNames {
    /// Where it happened.
    pub r#where: ErrorSite,
    /// Its type.
    pub r#type: NodeType,
}

fn main() {
    let event = RawNames {
        r#where: ErrorSite::Setup,
        r#type: NodeType::Command,
    };
    assert_eq!(
        Properties::of(&event).to_json_string(),
        r#"{"where":"setup","type":"command"}"#
    );
    let names: Vec<&str> = RawNames::FIELDS.iter().map(|field| field.name).collect();
    assert_eq!(names, ["where", "type"]);
}
