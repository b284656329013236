//! Procedural macros for archon's telemetry events.
//!
//! Everything here runs at compile time and knows nothing of consent, files or the network. The
//! macros turn annotated Rust items into implementations of the traits defined by
//! `telemetry-schema`, which is where the rules that protect users' privacy live: the macros only
//! check what can be checked on syntax (names, doc comments, the shape of the item) and leave type
//! checks to the sealed `Property` trait, so that a refused type is refused by the compiler with a
//! message that says what to use instead.
//!
//! Each macro is split the way `serde_derive` and `thiserror` are: parse the tokens, validate them
//! into a model (collecting every mistake, each a `syn::Error` spanned at the user's token), then
//! expand the model.

mod docs;
mod enum_derive;
mod errors;
mod event_attr;
mod event_expand;
mod event_model;
mod names;

use proc_macro::TokenStream;

/// Declares a telemetry event: `#[telemetry_event(name = "area.action")]` on a documented struct
/// with named fields (or a unit struct for an event with no properties).
///
/// Every field must be documented and of a type in the vocabulary of `telemetry_schema::Property`.
/// The struct gains implementations of `PropertySet` and `TelemetryEvent` and is registered in
/// the event catalog, from which the policy page is generated.
#[proc_macro_attribute]
pub fn telemetry_event(args: TokenStream, item: TokenStream) -> TokenStream {
    event_expand::expand(event_model::Purpose::Event, args.into(), item.into()).into()
}

/// Declares the base properties that the runtime adds to every event. Used once, by
/// `telemetry-schema`; it takes no arguments and registers nothing in the event catalog.
#[proc_macro_attribute]
pub fn telemetry_base_properties(args: TokenStream, item: TokenStream) -> TokenStream {
    event_expand::expand(
        event_model::Purpose::BaseProperties,
        args.into(),
        item.into(),
    )
    .into()
}

/// Makes a fieldless enum a telemetry property type whose values are its variants' names in
/// snake_case (`CreditExhausted` becomes `credit_exhausted`).
#[proc_macro_derive(TelemetryEnum)]
pub fn derive_telemetry_enum(item: TokenStream) -> TokenStream {
    enum_derive::expand(item.into()).into()
}
