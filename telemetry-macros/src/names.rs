//! The naming rules: event names, property names and enum values.

include!("../../telemetry-schema/src/base_property_names.rs");

/// Whether `name` is an event name of the form `area.action`: two lowercase snake_case words
/// joined by one dot, such as `workflow.run_started`.
pub fn is_valid_event_name(name: &str) -> bool {
    match name.split_once('.') {
        Some((area, action)) => is_snake_case_word(area) && is_snake_case_word(action),
        None => false,
    }
}

/// `[a-z][a-z0-9]*` words joined by single underscores.
fn is_snake_case_word(word: &str) -> bool {
    word.starts_with(|c: char| c.is_ascii_lowercase())
        && word.split('_').all(|part| {
            !part.is_empty()
                && part
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
}

/// `CreditExhausted` → `credit_exhausted`, `X86_64` → `x86_64`, `Ci` → `ci`.
pub fn snake_case(ident: &str) -> String {
    let mut out = String::with_capacity(ident.len() + 4);
    let mut previous: Option<char> = None;
    for c in ident.chars() {
        if c.is_ascii_uppercase() {
            if previous.is_some_and(|p| p.is_ascii_lowercase() || p.is_ascii_digit()) {
                out.push('_');
            }
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
        previous = Some(c);
    }
    out
}

/// A type as the developer wrote it, without the spaces `quote` puts between tokens:
/// `Option < WorkflowName >` → `Option<WorkflowName>`.
pub fn type_display(ty: &syn::Type) -> String {
    let spaced = quote::quote!(#ty).to_string();
    let mut out = String::with_capacity(spaced.len());
    for c in spaced.chars().filter(|c| !c.is_whitespace()) {
        out.push(c);
        if c == ',' {
            out.push(' ');
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_names() {
        for good in [
            "workflow.run_started",
            "binary.startup",
            "cli.command_invoked",
            "a1.b2_c3",
        ] {
            assert!(is_valid_event_name(good), "{good} should be valid");
        }
        for bad in [
            "",
            "workflow",
            "workflow.",
            ".run",
            "Workflow.run",
            "workflow.runStarted",
            "workflow.run-started",
            "workflow.run.started",
            "workflow.run__started",
            "workflow._run",
            "workflow.run_",
            "1workflow.run",
            "workflow .run",
        ] {
            assert!(!is_valid_event_name(bad), "{bad:?} should be invalid");
        }
    }

    #[test]
    fn snake_case_of_variants() {
        assert_eq!(snake_case("CreditExhausted"), "credit_exhausted");
        assert_eq!(snake_case("Claude"), "claude");
        assert_eq!(snake_case("X86_64"), "x86_64");
        assert_eq!(snake_case("Aarch64"), "aarch64");
        assert_eq!(snake_case("IoError"), "io_error");
    }

    #[test]
    fn type_display_drops_token_spaces() {
        let ty: syn::Type = syn::parse_quote!(Option<crate::WorkflowName>);
        assert_eq!(type_display(&ty), "Option<crate::WorkflowName>");
    }
}
