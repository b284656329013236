//! What the generators describe: archon's events, the base properties and PostHog's `$`
//! properties, all taken from `telemetry-schema`, the crate the runtime sends from.
//!
//! The generators take a [`Catalog`] value rather than reading the schema crate themselves, so
//! that tests can hand them a changed catalog (an edited doc comment, a removed property) without
//! editing any source file.

use crate::failure::Failure;
use telemetry_schema::base::EVENT_VERSION_PROPERTY;
use telemetry_schema::posthog::{PosthogProperty, POSTHOG_PROPERTIES};
use telemetry_schema::{check_catalog, BaseProperties, EventSchema, FieldSchema, PropertySet};

/// Everything the policy page and the schema lock are generated from.
#[derive(Debug, Clone)]
pub struct Catalog {
    /// Every event, sorted by name.
    pub events: Vec<&'static EventSchema>,
    /// What the base properties are for: the doc comment of `BaseProperties`.
    pub base_doc: &'static str,
    /// The properties sent with every event, in wire order.
    pub base_fields: &'static [FieldSchema],
    /// The name of the property that carries each event's schema version.
    pub event_version_property: &'static str,
    /// PostHog's `$` properties, fixed on every event.
    pub posthog_properties: &'static [PosthogProperty],
    /// The workflow names sent as they are; every other workflow is sent as `user-defined`.
    pub bundled_workflows: &'static [&'static str],
}

impl Catalog {
    /// archon's catalog, after checking that it is consistent (no two events share a name: the
    /// page and the lock are keyed by name, and so is the data on the server).
    pub fn load() -> Result<Catalog, Failure> {
        let events = telemetry_schema::events();
        if let Err(errors) = check_catalog(&events) {
            let list: Vec<String> = errors.iter().map(|e| format!("  - {e}")).collect();
            return Err(Failure::check(format!(
                "the event catalog in telemetry-schema/src/events/ is inconsistent:\n{}\nrename one of the events, then run this again",
                list.join("\n")
            )));
        }
        Ok(Catalog {
            events,
            base_doc: <BaseProperties as PropertySet>::DOC,
            base_fields: <BaseProperties as PropertySet>::FIELDS,
            event_version_property: EVENT_VERSION_PROPERTY,
            posthog_properties: POSTHOG_PROPERTIES,
            bundled_workflows: telemetry_schema::BUNDLED_WORKFLOWS,
        })
    }
}

/// A doc comment as flowing text: the lines of each paragraph joined by spaces, paragraphs
/// separated by one blank line. Doc comments are wrapped at 100 columns in the source; the page
/// and the JSON Schema should not inherit those line breaks.
pub fn prose(doc: &str) -> String {
    doc.split("\n\n")
        .map(|paragraph| {
            paragraph
                .lines()
                .map(str::trim)
                .filter(|line| !line.is_empty())
                .collect::<Vec<_>>()
                .join(" ")
        })
        .filter(|paragraph| !paragraph.is_empty())
        .collect::<Vec<_>>()
        .join("\n\n")
}

/// Changed copies of the real catalog, for tests. The schema types hold `&'static` data, so the
/// changed parts are leaked: a few bytes per test, freed when the test process ends.
#[cfg(test)]
pub mod edit {
    use super::*;
    use telemetry_schema::{EnumValue, PropertySchema};

    /// The real catalog. It is consistent, or every test would say so.
    pub fn real() -> Catalog {
        Catalog::load().expect("archon's catalog is consistent")
    }

    fn copy(field: &FieldSchema) -> FieldSchema {
        FieldSchema {
            name: field.name,
            doc: field.doc,
            type_name: field.type_name,
            property: field.property,
        }
    }

    /// `catalog` with the event called `name` replaced by the result of `change` on a copy of
    /// its fields; `version` replaces the event's version when given.
    pub fn event(
        catalog: &Catalog,
        name: &str,
        version: Option<u32>,
        change: impl FnOnce(&mut Vec<FieldSchema>),
    ) -> Catalog {
        let mut catalog = catalog.clone();
        let slot = catalog
            .events
            .iter_mut()
            .find(|event| event.name == name)
            .unwrap_or_else(|| panic!("no event {name} in the catalog"));
        let mut fields: Vec<FieldSchema> = slot.fields.iter().map(copy).collect();
        change(&mut fields);
        *slot = Box::leak(Box::new(EventSchema {
            name: slot.name,
            version: version.unwrap_or(slot.version),
            rust_name: slot.rust_name,
            doc: slot.doc,
            fields: Box::leak(fields.into_boxed_slice()),
        }));
        catalog
    }

    /// The field called `name` in `fields`.
    pub fn field<'a>(fields: &'a mut [FieldSchema], name: &str) -> &'a mut FieldSchema {
        fields
            .iter_mut()
            .find(|field| field.name == name)
            .unwrap_or_else(|| panic!("no field {name}"))
    }

    /// A property schema of `kind`, required or optional.
    pub fn property(kind: telemetry_schema::ValueKind, optional: bool) -> PropertySchema {
        PropertySchema { kind, optional }
    }

    /// A leaked list of enum values.
    pub fn values(values: Vec<EnumValue>) -> &'static [EnumValue] {
        Box::leak(values.into_boxed_slice())
    }

    /// A new documented field, as if added to a struct.
    pub fn new_field(
        name: &'static str,
        doc: &'static str,
        property: PropertySchema,
    ) -> FieldSchema {
        FieldSchema {
            name,
            doc,
            type_name: "NewType",
            property,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prose_joins_wrapped_lines_and_keeps_paragraphs() {
        assert_eq!(prose("one\ntwo\n\nthree  \n four"), "one two\n\nthree four");
        assert_eq!(prose("  single  "), "single");
        assert_eq!(prose(""), "");
    }

    #[test]
    fn the_real_catalog_loads() {
        let catalog = edit::real();
        assert!(!catalog.events.is_empty());
        assert_eq!(catalog.event_version_property, "event_version");
    }
}
