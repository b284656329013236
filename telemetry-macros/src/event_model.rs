//! Validates an annotated struct into the model the expansion works from.
//!
//! Everything that can be decided on syntax is decided here; whether a field's *type* may be sent
//! is decided by the compiler through the sealed `Property` trait, so that there is exactly one
//! list of allowed types (the trait's implementations) and its refusal can say what to use instead.

use crate::docs::doc_text;
use crate::errors::Errors;
use crate::event_attr::EventArgs;
use crate::names::{BASE_PROPERTY_NAMES, EVENT_VERSION_PROPERTY};
use syn::ext::IdentExt;
use syn::{Fields, Ident, Item, ItemStruct, Type};

/// What the annotated struct is for.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    /// An event in the catalog: `#[telemetry_event(name = "...")]`.
    Event,
    /// The properties added to every event: `#[telemetry_base_properties]`.
    BaseProperties,
}

/// A struct that passed every syntactic rule.
pub struct Model {
    pub ident: Ident,
    pub doc: String,
    /// The wire name and version; `None` for base properties.
    pub event: Option<EventArgs>,
    pub fields: Vec<FieldModel>,
}

/// One property.
pub struct FieldModel {
    /// The field as written (possibly a raw identifier such as `r#where`).
    pub member: Ident,
    /// The property's name on the wire: the field name without `r#`.
    pub property_name: String,
    pub doc: String,
    pub ty: Type,
}

/// Checks `item`, recording every mistake in `errors`. Returns the model only when there were
/// none; `field_types` receives every field type found either way, so the caller can still have
/// the compiler check them.
pub fn validate(
    purpose: Purpose,
    event: Option<EventArgs>,
    item: &Item,
    errors: &mut Errors,
    field_types: &mut Vec<Type>,
) -> Option<Model> {
    let attribute = match purpose {
        Purpose::Event => "#[telemetry_event]",
        Purpose::BaseProperties => "#[telemetry_base_properties]",
    };
    let item = match item {
        Item::Struct(item) => item,
        Item::Enum(item) => {
            errors.at(
                item.enum_token,
                format!("{attribute} goes on a struct, not an enum: an event is a struct whose fields are its properties (to make an enum a property type, derive TelemetryEnum)"),
            );
            return None;
        }
        Item::Union(item) => {
            errors.at(
                item.union_token,
                format!("{attribute} goes on a struct with named fields, not a union"),
            );
            return None;
        }
        other => {
            errors.at(
                other,
                format!("{attribute} goes on a struct with named fields"),
            );
            return None;
        }
    };
    // A generic struct's field types name its parameters, which mean nothing outside it.
    let generic = !check_not_generic(item, attribute, errors);

    let doc = doc_text(&item.attrs);
    if doc.is_none() {
        errors.at(
            &item.ident,
            format!(
                "`{}` needs a doc comment (`/// ...`) saying when it is sent: it is the text of the policy page, docs/telemetry.md",
                item.ident
            ),
        );
    }

    let fields = match &item.fields {
        Fields::Named(named) => named
            .named
            .iter()
            .filter_map(|field| {
                if !generic {
                    field_types.push(field.ty.clone());
                }
                validate_field(purpose, field, errors)
            })
            .collect(),
        Fields::Unit => Vec::new(),
        Fields::Unnamed(unnamed) => {
            errors.at(
                unnamed,
                format!("{attribute} needs named fields: the field names are the property names sent with the event (a unit struct is fine for an event with no properties)"),
            );
            Vec::new()
        }
    };

    if purpose == Purpose::Event && event.is_none() {
        return None;
    }
    if !errors.is_empty() {
        return None;
    }
    Some(Model {
        ident: item.ident.clone(),
        doc: doc?,
        event,
        fields,
    })
}

/// False (and an error recorded) when the struct has parameters or a where clause.
fn check_not_generic(item: &ItemStruct, attribute: &str, errors: &mut Errors) -> bool {
    let generics = &item.generics;
    if !generics.params.is_empty() {
        errors.at(
            generics,
            format!("{attribute} structs cannot have generic or lifetime parameters: every property needs one fixed, documented type (and a borrowed field could only hold free-form data)"),
        );
    } else if let Some(where_clause) = &generics.where_clause {
        errors.at(
            where_clause,
            format!("{attribute} structs cannot have a where clause"),
        );
    } else {
        return true;
    }
    false
}

fn validate_field(purpose: Purpose, field: &syn::Field, errors: &mut Errors) -> Option<FieldModel> {
    // Only named fields reach here.
    let member = field.ident.clone()?;
    let property_name = member.unraw().to_string();
    let mut ok = true;

    if purpose == Purpose::Event && BASE_PROPERTY_NAMES.contains(&property_name.as_str()) {
        errors.at(
            &member,
            format!("`{property_name}` is a base property that archon adds to every event; name this field something else"),
        );
        ok = false;
    }
    if purpose == Purpose::Event && property_name == EVENT_VERSION_PROPERTY {
        errors.at(
            &member,
            format!("`{property_name}` is added to every event from `#[telemetry_event(version = N)]`; name this field something else"),
        );
        ok = false;
    }
    if property_name.starts_with('$') || property_name.starts_with('_') {
        errors.at(
            &member,
            format!("`{property_name}`: property names starting with `$` or `_` are reserved for PostHog"),
        );
        ok = false;
    }
    let doc = doc_text(&field.attrs);
    if doc.is_none() {
        errors.at(
            &member,
            format!("field `{property_name}` needs a doc comment (`/// ...`) saying what it means in plain language: it is listed on the policy page, docs/telemetry.md"),
        );
        ok = false;
    }
    ok.then(|| FieldModel {
        member,
        property_name,
        doc: doc.unwrap_or_default(),
        ty: field.ty.clone(),
    })
}
