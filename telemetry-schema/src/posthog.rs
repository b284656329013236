//! PostHog's own `$` properties that archon puts on every event, so that the server processes
//! the event as anonymously as it can. Listed here, next to the other properties, so the policy
//! page documents them and the runtime sends exactly these.

/// A fixed PostHog property.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PosthogProperty {
    /// The property's name, such as `$geoip_disable`.
    pub name: &'static str,
    /// Its value on every event.
    pub value: PosthogValue,
    /// What it does, in plain language.
    pub doc: &'static str,
}

/// The value of a [`PosthogProperty`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PosthogValue {
    /// `true` or `false`.
    Bool(bool),
    /// A fixed text.
    Text(&'static str),
}

impl PosthogValue {
    /// The value as JSON.
    pub fn to_json(self) -> serde_json::Value {
        match self {
            PosthogValue::Bool(value) => serde_json::Value::Bool(value),
            PosthogValue::Text(value) => serde_json::Value::from(value),
        }
    }
}

/// Appends every [`POSTHOG_PROPERTIES`] member to `out` as compact JSON, each followed by a comma
/// (`"$name":value,`), in order.
pub fn write_members(out: &mut Vec<u8>) {
    for property in POSTHOG_PROPERTIES {
        crate::event::write_member(out, property.name, &property.value.to_json());
    }
}

/// Sent with every event, after the event's own and the base properties.
pub const POSTHOG_PROPERTIES: &[PosthogProperty] = &[
    PosthogProperty {
        name: "$process_person_profile",
        value: PosthogValue::Bool(false),
        doc: "Tells PostHog not to build a person profile: events stay anonymous and are not joined into a profile of you.",
    },
    PosthogProperty {
        name: "$geoip_disable",
        value: PosthogValue::Bool(true),
        doc: "Tells PostHog not to look up a location from the IP address the event came from.",
    },
];
