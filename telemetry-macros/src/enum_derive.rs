//! `#[derive(TelemetryEnum)]`: a fieldless enum whose variants are the only values a property of
//! that type can take.

use crate::docs::doc_text;
use crate::errors::Errors;
use crate::names::snake_case;
use proc_macro2::TokenStream;
use quote::quote;
use syn::{Data, DeriveInput, Fields};

pub fn expand(input: TokenStream) -> TokenStream {
    let input: DeriveInput = match syn::parse2(input) {
        Ok(input) => input,
        Err(error) => return error.to_compile_error(),
    };
    let mut errors = Errors::default();
    let data = match &input.data {
        Data::Enum(data) => data,
        Data::Struct(data) => {
            errors.at(
                data.struct_token,
                "TelemetryEnum is derived for fieldless enums only: a struct could carry free-form data",
            );
            return errors.to_compile_errors();
        }
        Data::Union(data) => {
            errors.at(
                data.union_token,
                "TelemetryEnum is derived for fieldless enums only",
            );
            return errors.to_compile_errors();
        }
    };
    let ident = &input.ident;
    if !input.generics.params.is_empty() || input.generics.where_clause.is_some() {
        errors.at(
            &input.generics,
            "a TelemetryEnum cannot have generic or lifetime parameters",
        );
    }
    if data.variants.is_empty() {
        errors.at(
            ident,
            format!("`{ident}` has no variants, so a property of this type could never be sent"),
        );
    }

    let mut values: Vec<String> = Vec::new();
    let mut docs: Vec<String> = Vec::new();
    for variant in &data.variants {
        if !matches!(variant.fields, Fields::Unit) {
            errors.at(
                &variant.fields,
                format!(
                    "variant `{}` carries data: a TelemetryEnum's variants must be plain names, because the variant is the only thing sent (data could hold paths, names or messages)",
                    variant.ident
                ),
            );
        }
        let value = snake_case(&variant.ident.to_string());
        if values.contains(&value) {
            errors.at(
                &variant.ident,
                format!("two variants are both sent as \"{value}\""),
            );
        }
        values.push(value);
        match doc_text(&variant.attrs) {
            Some(doc) => docs.push(doc),
            None => errors.at(
                &variant.ident,
                format!(
                    "variant `{}` needs a doc comment (`/// ...`) saying what it means: the policy page lists every value a property can take, with its meaning",
                    variant.ident
                ),
            ),
        }
    }
    if !errors.is_empty() {
        return errors.to_compile_errors();
    }

    let variants = data.variants.iter().map(|variant| &variant.ident);
    let indices = 0..data.variants.len();
    quote! {
        impl ::telemetry_schema::TelemetryEnum for #ident {
            const VALUES: &'static [::telemetry_schema::EnumValue] = &[
                #(::telemetry_schema::EnumValue { value: #values, doc: #docs }),*
            ];

            fn index(&self) -> usize {
                match self {
                    #(Self::#variants => #indices,)*
                }
            }
        }
    }
}
