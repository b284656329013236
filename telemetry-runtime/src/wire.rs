//! The wire object: one element of the `batch` array of PostHog's `/batch/` endpoint.
//!
//! It is built once, when the event is recorded, with its uuid and timestamp fixed then; the
//! queue stores it as it is, `inspect` prints it as it is, and delivery sends it as it is.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use telemetry_schema::posthog::POSTHOG_PROPERTIES;
use telemetry_schema::{BaseProperties, Properties, TelemetryEvent};
use uuid::Uuid;

/// An event exactly as it goes on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireEvent {
    /// Unique per event; PostHog drops a second event with the same uuid, so a retry after a
    /// lost response is not counted twice.
    pub uuid: Uuid,
    /// The event's name, such as `cli.command_invoked`.
    pub event: String,
    /// The anonymous id; `null` for an event recorded before you opted in, which is never
    /// sent.
    pub distinct_id: Option<String>,
    /// Every property, as listed on the policy page.
    pub properties: Map<String, Value>,
    /// When the event happened, in UTC, to the millisecond.
    pub timestamp: String,
}

impl WireEvent {
    /// The wire object of `event`, recorded at `now` for `distinct_id`.
    pub fn new<E: TelemetryEvent>(
        event: &E,
        base: &BaseProperties,
        distinct_id: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> Self {
        let mut properties = Properties::of_event(event, base).into_map();
        for property in POSTHOG_PROPERTIES {
            properties.insert(property.name.to_owned(), property.value.to_json());
        }
        WireEvent {
            uuid: Uuid::new_v4(),
            event: E::SCHEMA.name.to_owned(),
            distinct_id: distinct_id.map(|id| id.to_string()),
            properties,
            timestamp: format_timestamp(now),
        }
    }

    /// The capture time, if the stored text is a valid timestamp.
    pub fn captured_at(&self) -> Option<DateTime<Utc>> {
        DateTime::parse_from_rfc3339(&self.timestamp)
            .ok()
            .map(|time| time.with_timezone(&Utc))
    }
}

/// RFC 3339 in UTC, truncated to milliseconds and written the way the PostHog SDK writes it
/// (`chrono`'s shortest form), so the timestamp `inspect` shows is the one the server receives.
pub fn format_timestamp(time: DateTime<Utc>) -> String {
    let millis = time.timestamp_millis();
    let truncated = DateTime::from_timestamp_millis(millis).unwrap_or(time);
    truncated.to_rfc3339_opts(SecondsFormat::AutoSi, true)
}

/// Every property name an event called `event_name` may carry on the wire: its fields, its
/// version, the base properties and PostHog's fixed ones. `None` for an event that is not in
/// the catalog.
pub fn allowed_property_names(event_name: &str) -> Option<Vec<&'static str>> {
    let schema = telemetry_schema::event_by_name(event_name)?;
    let base = <BaseProperties as telemetry_schema::PropertySet>::FIELDS;
    Some(
        schema
            .fields
            .iter()
            .chain(base)
            .map(|field| field.name)
            .chain([telemetry_schema::base::EVENT_VERSION_PROPERTY])
            .chain(POSTHOG_PROPERTIES.iter().map(|property| property.name))
            .collect(),
    )
}
