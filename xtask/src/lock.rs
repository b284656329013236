//! The schema lock: the committed docs/telemetry-schema.json is compared with the one the catalog
//! produces now, and each difference is sorted into breaking or compatible.
//!
//! The rule, for an event whose version did not change: every event the old file accepted must
//! still be accepted by the new one. Data already collected, and archon builds already installed,
//! keep sending the old shape under the same version, and whoever reads the data relies on it. So
//! removing an event or a property, narrowing an integer range, removing an enum value, forbidding
//! `null`, requiring a property that was optional or changing a property's type is breaking;
//! adding an event, a property or a value, widening a range and editing a description are
//! compatible (the lock must still be regenerated,
//! so that it always records the catalog). Raising an event's version allows any change to it.
//!
//! Both sides are read from JSON with the same code, so the comparison is of what the two files
//! say, whatever produced them.

use serde_json::Value;
use std::fmt;
use telemetry_schema::base::EVENT_VERSION_PROPERTY;

/// One event as a lock file records it.
#[derive(Debug, Clone, PartialEq)]
pub struct LockedEvent {
    /// The event's name.
    pub name: String,
    /// Its version (the `const` of its `event_version` property).
    pub version: u64,
    /// When it is sent.
    pub description: String,
    /// Its properties (event fields, base and `$` properties, not `event_version`), in file order.
    pub properties: Vec<LockedProperty>,
}

/// One property as a lock file records it.
#[derive(Debug, Clone, PartialEq)]
pub struct LockedProperty {
    /// The property's name on the wire.
    pub name: String,
    /// What it means.
    pub description: String,
    /// True when `null` is accepted.
    pub nullable: bool,
    /// True when the event must carry it (a property added after the event's version came out
    /// is optional).
    pub required: bool,
    /// What non-null values are accepted.
    pub shape: Shape,
}

/// The non-null values a property accepts.
#[derive(Debug, Clone, PartialEq)]
pub enum Shape {
    /// `true` or `false`.
    Boolean,
    /// A whole number in `minimum..=maximum` (wide enough for both `i64` and `u64` bounds).
    Integer {
        /// The smallest value accepted.
        minimum: i128,
        /// The largest value accepted.
        maximum: i128,
    },
    /// Text, possibly restricted by a pattern.
    Text {
        /// The regular expression the text must match, if any.
        pattern: Option<String>,
    },
    /// Exactly one of these values (an `enum`, or a `const` as a list of one).
    OneOf(Vec<Value>),
}

impl fmt::Display for Shape {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Shape::Boolean => write!(f, "boolean"),
            Shape::Integer { minimum, maximum } => write!(f, "integer ({minimum} to {maximum})"),
            Shape::Text { pattern: None } => write!(f, "text"),
            Shape::Text {
                pattern: Some(pattern),
            } => write!(f, "text matching `{pattern}`"),
            Shape::OneOf(values) => write!(f, "one of {}", list(values)),
        }
    }
}

/// One difference between the locked and the current catalog.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// The event it concerns.
    pub event: String,
    /// The event's version in the lock (for an added event, its new version).
    pub version: u64,
    /// What changed.
    pub kind: ChangeKind,
}

/// The kinds of difference. [`ChangeKind::is_breaking`] says which need a version bump.
#[derive(Debug, Clone, PartialEq)]
pub enum ChangeKind {
    /// The event is gone. Breaking.
    EventRemoved,
    /// A new event. Compatible.
    EventAdded,
    /// The event's version went up: any change to it is allowed. Compatible.
    VersionRaised {
        /// The new version.
        to: u64,
    },
    /// The event's version went down. Breaking: versions only go up.
    VersionLowered {
        /// The new version.
        to: u64,
    },
    /// A property is gone. Breaking.
    PropertyRemoved {
        /// The property.
        property: String,
    },
    /// A new property. Compatible.
    PropertyAdded {
        /// The property.
        property: String,
    },
    /// A property holds a different kind of value. Breaking.
    TypeChanged {
        /// The property.
        property: String,
        /// What it was.
        from: Shape,
        /// What it is.
        to: Shape,
    },
    /// An integer property accepts fewer values. Breaking.
    RangeNarrowed {
        /// The property.
        property: String,
        /// What it was.
        from: Shape,
        /// What it is.
        to: Shape,
    },
    /// An integer property accepts more values. Compatible.
    RangeWidened {
        /// The property.
        property: String,
        /// What it was.
        from: Shape,
        /// What it is.
        to: Shape,
    },
    /// A property that could be `null` no longer can. Breaking.
    NoLongerNullable {
        /// The property.
        property: String,
    },
    /// A property can now be `null`. Compatible.
    NowNullable {
        /// The property.
        property: String,
    },
    /// A property that events could leave out is now required. Breaking.
    NowRequired {
        /// The property.
        property: String,
    },
    /// A required property may now be left out. Compatible.
    NoLongerRequired {
        /// The property.
        property: String,
    },
    /// Values a property could take are gone. Breaking.
    ValuesRemoved {
        /// The property.
        property: String,
        /// The values removed.
        values: Vec<Value>,
    },
    /// A property can take new values. Compatible.
    ValuesAdded {
        /// The property.
        property: String,
        /// The values added.
        values: Vec<Value>,
    },
    /// The description of the event (`property: None`) or of a property changed. Compatible.
    DescriptionChanged {
        /// The property, or `None` for the event itself.
        property: Option<String>,
    },
}

impl ChangeKind {
    /// True when data already sent under this version would no longer match the lock.
    pub fn is_breaking(&self) -> bool {
        matches!(
            self,
            ChangeKind::EventRemoved
                | ChangeKind::VersionLowered { .. }
                | ChangeKind::PropertyRemoved { .. }
                | ChangeKind::TypeChanged { .. }
                | ChangeKind::RangeNarrowed { .. }
                | ChangeKind::NoLongerNullable { .. }
                | ChangeKind::NowRequired { .. }
                | ChangeKind::ValuesRemoved { .. }
        )
    }
}

impl fmt::Display for Change {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "event \"{}\" (version {}): ", self.event, self.version)?;
        match &self.kind {
            ChangeKind::EventRemoved => write!(f, "the event was removed"),
            ChangeKind::EventAdded => write!(f, "new event"),
            ChangeKind::VersionRaised { to } => write!(f, "version raised to {to}"),
            ChangeKind::VersionLowered { to } => {
                write!(f, "version lowered to {to}; versions only go up")
            }
            ChangeKind::PropertyRemoved { property } => {
                write!(f, "property \"{property}\" was removed")
            }
            ChangeKind::PropertyAdded { property } => write!(f, "new property \"{property}\""),
            ChangeKind::TypeChanged { property, from, to } => {
                write!(
                    f,
                    "property \"{property}\" changed type from {from} to {to}"
                )
            }
            ChangeKind::RangeNarrowed { property, from, to } => {
                write!(
                    f,
                    "property \"{property}\" was narrowed from {from} to {to}"
                )
            }
            ChangeKind::RangeWidened { property, from, to } => {
                write!(f, "property \"{property}\" was widened from {from} to {to}")
            }
            ChangeKind::NoLongerNullable { property } => {
                write!(f, "property \"{property}\" can no longer be null")
            }
            ChangeKind::NowNullable { property } => {
                write!(f, "property \"{property}\" can now be null")
            }
            ChangeKind::NowRequired { property } => {
                write!(
                    f,
                    "property \"{property}\" was optional and is now required"
                )
            }
            ChangeKind::NoLongerRequired { property } => {
                write!(f, "property \"{property}\" is no longer required")
            }
            ChangeKind::ValuesRemoved { property, values } => {
                write!(
                    f,
                    "property \"{property}\" lost the value(s) {}",
                    list(values)
                )
            }
            ChangeKind::ValuesAdded { property, values } => {
                write!(
                    f,
                    "property \"{property}\" gained the value(s) {}",
                    list(values)
                )
            }
            ChangeKind::DescriptionChanged { property: None } => write!(f, "description changed"),
            ChangeKind::DescriptionChanged {
                property: Some(property),
            } => write!(f, "description of property \"{property}\" changed"),
        }
    }
}

fn list(values: &[Value]) -> String {
    let values: Vec<String> = values.iter().map(Value::to_string).collect();
    values.join(", ")
}

/// How the committed lock relates to the catalog.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Byte for byte what `cargo xtask schema` would write.
    UpToDate,
    /// There is no lock file.
    Missing,
    /// The lock file is not one this code can read (edited by hand, or broken JSON).
    Unreadable(String),
    /// The lock records a different catalog. Both lists can be empty when only the layout of the
    /// file differs.
    Changed {
        /// Changes that need a version bump.
        breaking: Vec<Change>,
        /// Changes that only need the lock regenerated.
        compatible: Vec<Change>,
    },
}

/// Compares the `committed` lock (if any) with the `generated` one.
pub fn judge(committed: Option<&str>, generated: &str) -> Verdict {
    let Some(committed) = committed else {
        return Verdict::Missing;
    };
    if committed == generated {
        return Verdict::UpToDate;
    }
    let old = match parse(committed) {
        Ok(events) => events,
        Err(problem) => return Verdict::Unreadable(problem),
    };
    let new = match parse(generated) {
        Ok(events) => events,
        Err(problem) => {
            return Verdict::Unreadable(format!(
                "the generated schema cannot be read back, a bug in xtask: {problem}"
            ))
        }
    };
    let (breaking, compatible) = compare(&old, &new)
        .into_iter()
        .partition(|change| change.kind.is_breaking());
    Verdict::Changed {
        breaking,
        compatible,
    }
}

/// The events recorded in a lock file's text.
pub fn parse(text: &str) -> Result<Vec<LockedEvent>, String> {
    let document: Value =
        serde_json::from_str(text).map_err(|error| format!("not valid JSON: {error}"))?;
    let defs = document
        .get("$defs")
        .and_then(Value::as_object)
        .ok_or("no `$defs` object")?;
    defs.iter()
        .map(|(name, def)| read_event(name, def))
        .collect()
}

fn read_event(name: &str, def: &Value) -> Result<LockedEvent, String> {
    let properties = def
        .pointer("/properties/properties/properties")
        .and_then(Value::as_object)
        .ok_or_else(|| format!("event \"{name}\": no `properties.properties.properties` object"))?;
    let version = properties
        .get(EVENT_VERSION_PROPERTY)
        .and_then(|p| p.get("const"))
        .and_then(Value::as_u64)
        .ok_or_else(|| {
            format!("event \"{name}\": no `{EVENT_VERSION_PROPERTY}` with a `const` version")
        })?;
    // A file without a `required` list predates optional properties: all were required.
    let required: Option<Vec<&str>> = def
        .pointer("/properties/properties/required")
        .and_then(Value::as_array)
        .map(|names| names.iter().filter_map(Value::as_str).collect());
    let properties = properties
        .iter()
        .filter(|(property, _)| *property != EVENT_VERSION_PROPERTY)
        .map(|(property, schema)| {
            let is_required = required
                .as_ref()
                .is_none_or(|names| names.contains(&property.as_str()));
            read_property(property, schema, is_required)
                .map_err(|problem| format!("event \"{name}\", property \"{property}\": {problem}"))
        })
        .collect::<Result<_, _>>()?;
    Ok(LockedEvent {
        name: name.to_owned(),
        version,
        description: description(def),
        properties,
    })
}

fn read_property(name: &str, schema: &Value, required: bool) -> Result<LockedProperty, String> {
    let property = |nullable, shape| LockedProperty {
        name: name.to_owned(),
        description: description(schema),
        nullable,
        required,
        shape,
    };
    if let Some(constant) = schema.get("const") {
        return Ok(property(false, Shape::OneOf(vec![constant.clone()])));
    }
    let types: Vec<&str> = match schema.get("type") {
        Some(Value::String(one)) => vec![one.as_str()],
        Some(Value::Array(many)) => many.iter().filter_map(Value::as_str).collect(),
        _ => return Err("no `type` and no `const`".to_owned()),
    };
    let nullable = types.contains(&"null");
    let non_null: Vec<&str> = types.into_iter().filter(|t| *t != "null").collect();
    let shape = match non_null.as_slice() {
        ["boolean"] => Shape::Boolean,
        ["integer"] => Shape::Integer {
            minimum: bound(schema, "minimum")?,
            maximum: bound(schema, "maximum")?,
        },
        ["string"] => match schema.get("enum").and_then(Value::as_array) {
            Some(values) => Shape::OneOf(values.iter().filter(|v| !v.is_null()).cloned().collect()),
            None => Shape::Text {
                pattern: schema
                    .get("pattern")
                    .and_then(Value::as_str)
                    .map(str::to_owned),
            },
        },
        other => return Err(format!("unsupported `type` {other:?}")),
    };
    Ok(property(nullable, shape))
}

fn bound(schema: &Value, keyword: &str) -> Result<i128, String> {
    let value = schema.get(keyword);
    value
        .and_then(Value::as_i64)
        .map(i128::from)
        .or_else(|| value.and_then(Value::as_u64).map(i128::from))
        .ok_or_else(|| format!("integer without a whole-number `{keyword}`"))
}

fn description(schema: &Value) -> String {
    schema
        .get("description")
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_owned()
}

/// Every difference from `old` to `new`, event by event in the order of `old`, then new events.
pub fn compare(old: &[LockedEvent], new: &[LockedEvent]) -> Vec<Change> {
    let mut changes = Vec::new();
    for before in old {
        let change = |kind| Change {
            event: before.name.clone(),
            version: before.version,
            kind,
        };
        let Some(after) = new.iter().find(|event| event.name == before.name) else {
            changes.push(change(ChangeKind::EventRemoved));
            continue;
        };
        if after.version != before.version {
            // A new version is a new contract: what changed within it is not checked.
            changes.push(change(if after.version > before.version {
                ChangeKind::VersionRaised { to: after.version }
            } else {
                ChangeKind::VersionLowered { to: after.version }
            }));
            continue;
        }
        if after.description != before.description {
            changes.push(change(ChangeKind::DescriptionChanged { property: None }));
        }
        for old_property in &before.properties {
            match after
                .properties
                .iter()
                .find(|p| p.name == old_property.name)
            {
                None => changes.push(change(ChangeKind::PropertyRemoved {
                    property: old_property.name.clone(),
                })),
                Some(new_property) => changes.extend(
                    compare_property(old_property, new_property)
                        .into_iter()
                        .map(change),
                ),
            }
        }
        for new_property in &after.properties {
            if !before
                .properties
                .iter()
                .any(|p| p.name == new_property.name)
            {
                changes.push(change(ChangeKind::PropertyAdded {
                    property: new_property.name.clone(),
                }));
            }
        }
    }
    for after in new {
        if !old.iter().any(|event| event.name == after.name) {
            changes.push(Change {
                event: after.name.clone(),
                version: after.version,
                kind: ChangeKind::EventAdded,
            });
        }
    }
    changes
}

fn compare_property(old: &LockedProperty, new: &LockedProperty) -> Vec<ChangeKind> {
    let property = || old.name.clone();
    let mut changes = Vec::new();
    if old.nullable && !new.nullable {
        changes.push(ChangeKind::NoLongerNullable {
            property: property(),
        });
    } else if !old.nullable && new.nullable {
        changes.push(ChangeKind::NowNullable {
            property: property(),
        });
    }
    if !old.required && new.required {
        changes.push(ChangeKind::NowRequired {
            property: property(),
        });
    } else if old.required && !new.required {
        changes.push(ChangeKind::NoLongerRequired {
            property: property(),
        });
    }
    match (&old.shape, &new.shape) {
        (Shape::Boolean, Shape::Boolean) => {}
        (
            Shape::Integer {
                minimum: old_min,
                maximum: old_max,
            },
            Shape::Integer {
                minimum: new_min,
                maximum: new_max,
            },
        ) => {
            let (from, to) = (old.shape.clone(), new.shape.clone());
            if new_min > old_min || new_max < old_max {
                changes.push(ChangeKind::RangeNarrowed {
                    property: property(),
                    from,
                    to,
                });
            } else if from != to {
                changes.push(ChangeKind::RangeWidened {
                    property: property(),
                    from,
                    to,
                });
            }
        }
        (Shape::OneOf(old_values), Shape::OneOf(new_values)) => {
            let removed: Vec<Value> = old_values
                .iter()
                .filter(|v| !new_values.contains(v))
                .cloned()
                .collect();
            let added: Vec<Value> = new_values
                .iter()
                .filter(|v| !old_values.contains(v))
                .cloned()
                .collect();
            if !removed.is_empty() {
                changes.push(ChangeKind::ValuesRemoved {
                    property: property(),
                    values: removed,
                });
            }
            if !added.is_empty() {
                changes.push(ChangeKind::ValuesAdded {
                    property: property(),
                    values: added,
                });
            }
        }
        // Two patterns cannot be compared for which accepts more: any change counts as a new type.
        (from, to) if from != to => changes.push(ChangeKind::TypeChanged {
            property: property(),
            from: from.clone(),
            to: to.clone(),
        }),
        _ => {}
    }
    if old.description != new.description {
        changes.push(ChangeKind::DescriptionChanged {
            property: Some(property()),
        });
    }
    changes
}
