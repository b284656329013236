use serde_json::Value;
use telemetry_schema::{Property, PropertySchema, ValueKind};

pub struct Hostname(pub String);

impl Property for Hostname {
    const SCHEMA: PropertySchema = PropertySchema::required(ValueKind::BuildConstant);

    fn to_json(&self) -> Value {
        Value::from(self.0.clone())
    }
}

fn main() {}
