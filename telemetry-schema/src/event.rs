//! Events and their properties: the traits the macros implement, the static descriptions the
//! policy page is built from, and the property map an event turns into.

use crate::property::{Property, PropertySchema};
use serde_json::{Map, Value};

/// The description of an event, fixed at compile time. `#[telemetry_event]` makes one for each
/// event and registers it in the [catalog](crate::EVENTS).
#[derive(Debug)]
pub struct EventSchema {
    /// The name sent as PostHog's `event`, such as `workflow.run_started`.
    pub name: &'static str,
    /// The schema version, sent as `event_version`: raised when the event changes in a way that
    /// breaks what a reader of the data expects (a property removed, renamed or narrowed).
    pub version: u32,
    /// The struct's Rust name, such as `WorkflowRunStarted`.
    pub rust_name: &'static str,
    /// When the event is sent: the struct's doc comment.
    pub doc: &'static str,
    /// The event's own properties, in declaration order (the base properties are separate).
    pub fields: &'static [FieldSchema],
}

/// The description of one property.
#[derive(Debug)]
pub struct FieldSchema {
    /// The property's name on the wire: the field's name.
    pub name: &'static str,
    /// What it means: the field's doc comment.
    pub doc: &'static str,
    /// The field's type as written in the struct, such as `Option<NodeType>`.
    pub type_name: &'static str,
    /// What values it can take.
    pub property: PropertySchema,
}

/// A struct whose fields are telemetry properties. Implemented by `#[telemetry_event]` and
/// `#[telemetry_base_properties]`; there is no reason to implement it by hand.
pub trait PropertySet {
    /// The struct's doc comment.
    const DOC: &'static str;
    /// The fields, in declaration order.
    const FIELDS: &'static [FieldSchema];

    /// Writes each field's value with [`PropertyWriter::write`].
    fn write_properties(&self, out: &mut PropertyWriter<'_>);
}

/// A telemetry event: implemented by `#[telemetry_event]`, and the only thing the runtime
/// accepts to record.
///
/// Even a hand-written implementation could not send free-form data: property names come from
/// the constant [`FIELDS`](PropertySet::FIELDS), values must implement the sealed [`Property`]
/// trait, and the runtime refuses events that are not in the catalog.
pub trait TelemetryEvent: PropertySet {
    /// The event's description, also registered in the catalog.
    const SCHEMA: &'static EventSchema;
}

/// Receives the properties of a [`PropertySet`], by field position. The name of each property
/// comes from the set's constant field list, never from the caller.
pub struct PropertyWriter<'a> {
    fields: &'static [FieldSchema],
    target: Target<'a>,
}

/// Where a [`PropertyWriter`] puts the properties.
enum Target<'a> {
    /// Into a map, for reading them back.
    Map(&'a mut Map<String, Value>),
    /// Straight into JSON text, as object members (see [`Properties::write_members`]): how the
    /// recorder writes an event, without building a map it would only serialise.
    Json(&'a mut Vec<u8>),
}

impl PropertyWriter<'_> {
    /// Records `value` as the property described by field number `index`, turned into JSON by
    /// `ops`, which only [`property`] can make, and only for a [`Property`] type. An index with
    /// no field (only possible in a hand-written implementation) is ignored.
    pub fn write<T>(&mut self, index: usize, value: &T, ops: PropertyOps<T>) {
        let Some(field) = self.fields.get(index) else {
            return;
        };
        let value = (ops.to_json)(value);
        match &mut self.target {
            Target::Map(map) => {
                map.insert(field.name.to_owned(), value);
            }
            Target::Json(out) => write_member(out, field.name, &value),
        }
    }
}

/// Appends `"name":value,` in compact JSON, exactly as serde_json writes that member of an
/// object.
pub(crate) fn write_member(out: &mut Vec<u8>, name: &str, value: &Value) {
    // Serialising into a `Vec` cannot fail: serde_json fails only on I/O errors and on map keys
    // that are not strings, and there are neither here.
    let _ = serde_json::to_writer(&mut *out, name);
    out.push(b':');
    let _ = serde_json::to_writer(&mut *out, value);
    out.push(b',');
}

/// What the expansion of `#[telemetry_event]` needs to know about a field's type: its schema and
/// how to turn a value into JSON.
///
/// The expansion asks for both through the one function [`property`], spanned at the field's
/// type, so that a refused type produces one error (the compiler merges identical ones) and
/// that error says the type is not a telemetry property.
pub struct PropertyOps<T> {
    /// The type's schema.
    pub schema: PropertySchema,
    to_json: fn(&T) -> Value,
}

/// The [`PropertyOps`] of a property type.
pub const fn property<T: Property>() -> PropertyOps<T> {
    PropertyOps {
        schema: T::SCHEMA,
        to_json: T::to_json,
    }
}

/// The properties of an event (or of the base set), as JSON, in declaration order.
#[derive(Debug, Clone, PartialEq)]
pub struct Properties(Map<String, Value>);

impl Properties {
    /// The properties of `set`.
    pub fn of<S: PropertySet + ?Sized>(set: &S) -> Self {
        let mut map = Map::new();
        set.write_properties(&mut PropertyWriter {
            fields: S::FIELDS,
            target: Target::Map(&mut map),
        });
        Properties(map)
    }

    /// Appends the properties of `set` to `out` as compact JSON object members, each followed
    /// by a comma (`"name":value,`), in declaration order: the text of [`Properties::of`]`(set)`
    /// serialised, without its braces, and without building the map. The recorder writes events
    /// this way; the caller adds the braces and drops the last comma.
    pub fn write_members<S: PropertySet + ?Sized>(set: &S, out: &mut Vec<u8>) {
        set.write_properties(&mut PropertyWriter {
            fields: S::FIELDS,
            target: Target::Json(out),
        });
    }

    /// Appends `"event_version":N,` for the event type `E`: the member [`Properties::of_event`]
    /// puts between the event's fields and the base properties.
    pub fn write_version_member<E: TelemetryEvent>(out: &mut Vec<u8>) {
        write_member(
            out,
            crate::base::EVENT_VERSION_PROPERTY,
            &Value::from(E::SCHEMA.version),
        );
    }

    /// Every property sent with `event` except PostHog's own `$` ones, in the order they go on
    /// the wire: the event's fields, its `event_version`, then the base properties.
    pub fn of_event<E: TelemetryEvent>(event: &E, base: &crate::BaseProperties) -> Self {
        let mut properties = Properties::of(event);
        properties.0.insert(
            crate::base::EVENT_VERSION_PROPERTY.to_owned(),
            Value::from(E::SCHEMA.version),
        );
        properties.0.extend(Properties::of(base).0);
        properties
    }

    /// Read access to the map.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.0
    }

    /// The map, for building the wire object around it.
    pub fn into_map(self) -> Map<String, Value> {
        self.0
    }

    /// The properties as one compact JSON object.
    pub fn to_json_string(&self) -> String {
        Value::Object(self.0.clone()).to_string()
    }
}
