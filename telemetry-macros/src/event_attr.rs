//! Parses the arguments of `#[telemetry_event(...)]`.

use crate::errors::Errors;
use crate::event_model::Purpose;
use crate::names::is_valid_event_name;
use proc_macro2::{Span, TokenStream};
use syn::{LitInt, LitStr};

/// The arguments of an event.
pub struct EventArgs {
    /// The wire name, such as `workflow.run_started`.
    pub name: LitStr,
    /// The schema version: 1 unless the event was changed in a breaking way.
    pub version: u32,
}

/// The validated arguments (`None` for base properties, or when they are wrong).
pub fn parse(purpose: Purpose, args: TokenStream, errors: &mut Errors) -> Option<EventArgs> {
    let mut name: Option<LitStr> = None;
    let mut version: Option<u32> = None;
    let parser = syn::meta::parser(|meta| {
        if purpose == Purpose::Event && meta.path.is_ident("name") {
            let value: LitStr = meta.value()?.parse()?;
            if name.is_some() {
                return Err(meta.error("`name` is given twice"));
            }
            name = Some(value);
            Ok(())
        } else if purpose == Purpose::Event && meta.path.is_ident("version") {
            let value: LitInt = meta.value()?.parse()?;
            if version.is_some() {
                return Err(meta.error("`version` is given twice"));
            }
            match value.base10_parse::<u32>() {
                Ok(n) if n >= 1 => version = Some(n),
                _ => {
                    return Err(syn::Error::new_spanned(
                        &value,
                        "`version` is a whole number from 1 up, raised on each breaking change",
                    ))
                }
            }
            Ok(())
        } else if purpose == Purpose::Event {
            Err(meta.error(
                "unknown argument: write #[telemetry_event(name = \"area.action\")], optionally with `version = N`",
            ))
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
        Some(lit) if !may_declare_events(std::env::var("CARGO_PKG_NAME").ok().as_deref()) => errors
            .at(
                &lit,
                format!(
                    "event {:?} is declared outside telemetry-schema: declare events in \
                     telemetry-schema/src/events/, where the policy page, the schema lock and the \
                     delivery program (which drops events it does not know) find them",
                    lit.value()
                ),
            ),
        Some(name) => {
            return Some(EventArgs {
                name,
                version: version.unwrap_or(1),
            })
        }
    }
    None
}

/// The packages that may declare events: `telemetry-schema`, and the crate trybuild builds from
/// its tests.
const EVENT_PACKAGES: &[&str] = &["telemetry-schema", "telemetry-schema-tests"];

/// Whether the package being compiled (`CARGO_PKG_NAME`) may declare events. Only those in
/// `telemetry-schema` are in the catalog that `cargo xtask docs` and `cargo xtask schema` read
/// and that the delivery program checks each event against: one declared in, say, archon-cli
/// would be recorded, missing from the policy page, and dropped unsent. A build outside cargo
/// (no package name) is not refused.
fn may_declare_events(package: Option<&str>) -> bool {
    package.is_none_or(|package| EVENT_PACKAGES.contains(&package))
}

#[cfg(test)]
mod tests {
    use super::may_declare_events;

    #[test]
    fn only_telemetry_schema_declares_events() {
        assert!(may_declare_events(Some("telemetry-schema")));
        assert!(may_declare_events(Some("telemetry-schema-tests")));
        assert!(may_declare_events(None));
        assert!(!may_declare_events(Some("archon-cli")));
        assert!(!may_declare_events(Some("telemetry-runtime")));
    }
}
