//! Doc comments, which become the plain-language text of the policy page.

use syn::{Attribute, Expr, ExprLit, Lit, Meta};

/// The text of the `///` comments (or `#[doc = "..."]` attributes) in `attrs`, one line per
/// attribute, with the single space after `///` removed. `None` when there is no text at all:
/// an empty comment documents nothing.
pub fn doc_text(attrs: &[Attribute]) -> Option<String> {
    let lines: Vec<String> = attrs
        .iter()
        .filter_map(|attr| match &attr.meta {
            Meta::NameValue(nv) if nv.path.is_ident("doc") => match &nv.value {
                Expr::Lit(ExprLit {
                    lit: Lit::Str(text),
                    ..
                }) => Some(text.value()),
                _ => None,
            },
            _ => None,
        })
        .map(|line| {
            line.strip_prefix(' ')
                .unwrap_or(&line)
                .trim_end()
                .to_owned()
        })
        .collect();
    let text = lines.join("\n").trim().to_owned();
    (!text.is_empty()).then_some(text)
}
