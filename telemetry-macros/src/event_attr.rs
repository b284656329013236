//! Parses the arguments of `#[telemetry_event(...)]`.

use crate::errors::Errors;
use crate::event_model::Purpose;
use crate::names::is_valid_event_name;
use proc_macro2::{Span, TokenStream};
use syn::LitStr;

/// The validated arguments: the event's wire name (`None` for base properties).
pub fn parse(purpose: Purpose, args: TokenStream, errors: &mut Errors) -> Option<LitStr> {
    let mut name: Option<LitStr> = None;
    let parser = syn::meta::parser(|meta| {
        if purpose == Purpose::Event && meta.path.is_ident("name") {
            let value: LitStr = meta.value()?.parse()?;
            if name.is_some() {
                return Err(meta.error("`name` is given twice"));
            }
            name = Some(value);
            Ok(())
        } else if purpose == Purpose::Event {
            Err(meta.error("unknown argument: the only one is `name = \"area.action\"`"))
        } else {
            Err(meta.error("#[telemetry_base_properties] takes no arguments"))
        }
    });
    if let Err(error) = syn::parse::Parser::parse2(parser, args) {
        errors.push(error);
        return None;
    }
    if purpose == Purpose::BaseProperties {
        return None;
    }
    match name {
        None => errors.push(syn::Error::new(
            Span::call_site(),
            "missing event name: write #[telemetry_event(name = \"area.action\")], \
             for example name = \"workflow.run_started\"",
        )),
        Some(lit) if !is_valid_event_name(&lit.value()) => errors.at(
            &lit,
            format!(
                "event name {:?} must be `area.action` in lowercase snake_case, \
                 for example \"workflow.run_started\"",
                lit.value()
            ),
        ),
        Some(lit) => return Some(lit),
    }
    None
}
