//! The wire object: one element of the `batch` array of PostHog's `/batch/` endpoint.
//!
//! It is built once, when the event is recorded, with its uuid and timestamp fixed then; the
//! queue stores it as it is, `inspect` prints it as it is, and delivery sends it as it is.
//!
//! The recorder writes it as JSON text directly ([`write_json`]), because building the
//! [`WireEvent`] only to serialise it cost most of what recording an event costs archon's
//! shortest commands. The text is the same either way, byte for byte; a test holds the two to
//! that.

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
        WireEvent::with_uuid(event, base, distinct_id, Uuid::new_v4(), now)
    }

    fn with_uuid<E: TelemetryEvent>(
        event: &E,
        base: &BaseProperties,
        distinct_id: Option<Uuid>,
        uuid: Uuid,
        now: DateTime<Utc>,
    ) -> Self {
        let mut properties = Properties::of_event(event, base).into_map();
        for property in POSTHOG_PROPERTIES {
            properties.insert(property.name.to_owned(), property.value.to_json());
        }
        WireEvent {
            uuid,
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

/// The properties every event of a process ends with: the base properties, then PostHog's.
/// They are the same for each event, so they are serialised once.
#[derive(Debug, Clone)]
pub struct SharedProperties {
    /// Compact JSON object members, comma-separated, without braces.
    members: Vec<u8>,
}

impl SharedProperties {
    /// The shared properties for `base`.
    pub fn of(base: &BaseProperties) -> SharedProperties {
        let mut members = Vec::with_capacity(512);
        Properties::write_members(base, &mut members);
        telemetry_schema::posthog::write_members(&mut members);
        // Each member ends with a comma; the last one must not.
        if members.last() == Some(&b',') {
            members.pop();
        }
        SharedProperties { members }
    }
}

/// Appends the JSON text of the wire object of `event`, with `uuid`, recorded at `now` for
/// `distinct_id`, to `out`: exactly the bytes `serde_json::to_vec` makes of the [`WireEvent`]
/// [`WireEvent::new`] builds, without building it.
pub fn write_json<E: TelemetryEvent>(
    out: &mut Vec<u8>,
    event: &E,
    shared: &SharedProperties,
    distinct_id: Option<Uuid>,
    uuid: Uuid,
    now: DateTime<Utc>,
) {
    let mut uuid_text = Uuid::encode_buffer();
    out.extend_from_slice(b"{\"uuid\":\"");
    out.extend_from_slice(uuid.hyphenated().encode_lower(&mut uuid_text).as_bytes());
    out.extend_from_slice(b"\",\"event\":");
    // Serialising into a `Vec` cannot fail (serde_json fails only on I/O errors).
    let _ = serde_json::to_writer(&mut *out, E::SCHEMA.name);
    out.extend_from_slice(b",\"distinct_id\":");
    match distinct_id {
        Some(id) => {
            out.push(b'"');
            out.extend_from_slice(id.hyphenated().encode_lower(&mut uuid_text).as_bytes());
            out.push(b'"');
        }
        None => out.extend_from_slice(b"null"),
    }
    out.extend_from_slice(b",\"properties\":{");
    Properties::write_members(event, out);
    Properties::write_version_member::<E>(out);
    out.extend_from_slice(&shared.members);
    out.extend_from_slice(b"},\"timestamp\":");
    let _ = serde_json::to_writer(&mut *out, &format_timestamp(now));
    out.push(b'}');
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::{TimeZone, Timelike};
    use telemetry_schema::{
        BinaryStartup, CliCommand, CliCommandCompleted, CliCommandInvoked, CliSubcommand,
        DurationMs, ErrorClass, NodeType, Provider, WorkflowName, WorkflowRunFailed,
        WorkflowRunStarted,
    };

    /// The directly written text, and the serialised [`WireEvent`] for the same uuid and time.
    fn both<E: TelemetryEvent>(
        event: &E,
        base: &BaseProperties,
        distinct_id: Option<Uuid>,
        now: DateTime<Utc>,
    ) -> (String, String) {
        let uuid = Uuid::new_v4();
        let mut written = b"left alone".to_vec();
        write_json(
            &mut written,
            event,
            &SharedProperties::of(base),
            distinct_id,
            uuid,
            now,
        );
        let written = String::from_utf8(written[b"left alone".len()..].to_vec()).unwrap();
        let built = WireEvent::with_uuid(event, base, distinct_id, uuid, now);
        (written, serde_json::to_string(&built).unwrap())
    }

    #[test]
    fn written_text_is_the_serialised_wire_object_byte_for_byte() {
        let times = [
            Utc.with_ymd_and_hms(2026, 11, 25, 19, 50, 5).unwrap(),
            Utc.timestamp_millis_opt(1_795_000_000_123).unwrap(),
            Utc.timestamp_nanos(1_795_000_000_123_456_789),
        ];
        let bases = [
            BaseProperties::for_this_build(false),
            BaseProperties::for_this_build(true),
        ];
        let ids = [None, Some(Uuid::new_v4())];
        for now in times {
            for base in &bases {
                for id in ids {
                    let pairs = [
                        both(&BinaryStartup, base, id, now),
                        both(
                            &CliCommandInvoked {
                                command: CliCommand::Workflow,
                                subcommand: Some(CliSubcommand::Run),
                            },
                            base,
                            id,
                            now,
                        ),
                        both(
                            &CliCommandCompleted {
                                command: CliCommand::Version,
                                subcommand: None,
                                exit_code: -130,
                                duration_ms: DurationMs::from_millis(u64::MAX),
                            },
                            base,
                            id,
                            now,
                        ),
                        both(
                            &WorkflowRunStarted {
                                workflow_name: WorkflowName::sanitize("deploy \"prod\"\n"),
                                node_count: 0,
                                provider: Provider::Claude,
                                is_cli_invoked: true,
                            },
                            base,
                            id,
                            now,
                        ),
                        both(
                            &WorkflowRunFailed {
                                workflow_name: WorkflowName::user_defined(),
                                error_class: ErrorClass::WorkflowInvalid,
                                failed_node_type: Some(NodeType::Bash),
                                duration_ms: DurationMs::from_millis(0),
                            },
                            base,
                            id,
                            now,
                        ),
                    ];
                    for (written, built) in pairs {
                        assert_eq!(written, built);
                    }
                }
            }
        }
    }

    #[test]
    fn written_text_reads_back_as_the_wire_object() {
        let base = BaseProperties::for_this_build(false);
        let now = Utc::now();
        let id = Some(Uuid::new_v4());
        let (written, _) = both(&BinaryStartup, &base, id, now);
        let read: WireEvent = serde_json::from_str(&written).unwrap();
        assert_eq!(read.event, "binary.startup");
        assert_eq!(read.distinct_id, id.map(|id| id.to_string()));
        assert_eq!(
            read.captured_at(),
            Some(
                now.with_nanosecond(now.nanosecond() / 1_000_000 * 1_000_000)
                    .unwrap()
            )
        );
        assert_eq!(read.properties["$geoip_disable"], serde_json::json!(true));
    }
}
