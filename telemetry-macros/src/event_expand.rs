//! Turns a validated struct into its `PropertySet` / `TelemetryEvent` implementations and its
//! entry in the event catalog.

use crate::errors::Errors;
use crate::event_model::{self, Model, Purpose};
use crate::names::type_display;
use proc_macro2::TokenStream;
use quote::{quote, quote_spanned};
use syn::spanned::Spanned;
use syn::Type;

/// The whole macro: parse, validate, expand. The struct itself is always emitted, so a mistake in
/// it does not turn every later use of the struct into a second, unrelated error.
pub fn expand(purpose: Purpose, args: TokenStream, item: TokenStream) -> TokenStream {
    let mut errors = Errors::default();
    let item: syn::Item = match syn::parse2(item.clone()) {
        Ok(item) => item,
        // Not even an item: give rustc's own parser the tokens so it reports the real problem.
        Err(error) => {
            let error = error.to_compile_error();
            return quote!(#error #item);
        }
    };
    let event = crate::event_attr::parse(purpose, args, &mut errors);
    let mut field_types = Vec::new();
    let model = event_model::validate(purpose, event, &item, &mut errors, &mut field_types);

    let generated = match model {
        Some(model) => implementations(purpose, &model),
        // Still have the compiler check the field types, so that a refused type is reported in
        // the same build as the other mistakes.
        None => check_property_types(&field_types),
    };
    let compile_errors = errors.to_compile_errors();
    quote! {
        #item
        #generated
        #compile_errors
    }
}

fn implementations(purpose: Purpose, model: &Model) -> TokenStream {
    let ident = &model.ident;
    let doc = &model.doc;
    let field_schemas = model.fields.iter().map(|field| {
        let name = &field.property_name;
        let doc = &field.doc;
        let ty = &field.ty;
        let type_name = type_display(ty);
        let property_schema = quote_spanned! {ty.span()=>
            ::telemetry_schema::__private::property::<#ty>().schema
        };
        quote! {
            ::telemetry_schema::FieldSchema {
                name: #name,
                doc: #doc,
                type_name: #type_name,
                property: #property_schema,
            }
        }
    });
    let writes = model.fields.iter().enumerate().map(|(index, field)| {
        let member = &field.member;
        let ty = &field.ty;
        // The same call as in the schema above, at the same span: a refused type is reported
        // once.
        let ops = quote_spanned! {ty.span()=>
            ::telemetry_schema::__private::property::<#ty>()
        };
        quote! {
            ::telemetry_schema::PropertyWriter::write(out, #index, &self.#member, #ops);
        }
    });
    let property_set = quote! {
        impl ::telemetry_schema::PropertySet for #ident {
            const DOC: &'static str = #doc;
            const FIELDS: &'static [::telemetry_schema::FieldSchema] = &[#(#field_schemas),*];

            fn write_properties(&self, out: &mut ::telemetry_schema::PropertyWriter<'_>) {
                #(#writes)*
            }
        }
    };
    let Some(event) = &model.event else {
        debug_assert!(purpose == Purpose::BaseProperties);
        return property_set;
    };
    let event_name = &event.name;
    let version = event.version;
    quote! {
        #property_set

        impl ::telemetry_schema::TelemetryEvent for #ident {
            const SCHEMA: &'static ::telemetry_schema::EventSchema = &::telemetry_schema::EventSchema {
                name: #event_name,
                version: #version,
                rust_name: ::core::stringify!(#ident),
                doc: <Self as ::telemetry_schema::PropertySet>::DOC,
                fields: <Self as ::telemetry_schema::PropertySet>::FIELDS,
            };
        }

        // Registers the event in the catalog the policy page is generated from: declaring the
        // struct is all it takes for the event to be documented. linkme places the entry with
        // `#[link_section]`, which the `unsafe_code` lint counts as unsafe.
        #[allow(unsafe_code)]
        const _: () = {
            #[::telemetry_schema::__private::linkme::distributed_slice(::telemetry_schema::EVENTS)]
            #[linkme(crate = ::telemetry_schema::__private::linkme)]
            static CATALOG_ENTRY: &'static ::telemetry_schema::EventSchema =
                <#ident as ::telemetry_schema::TelemetryEvent>::SCHEMA;
        };
    }
}

fn check_property_types(types: &[Type]) -> TokenStream {
    if types.is_empty() {
        return TokenStream::new();
    }
    let checks = types.iter().map(|ty| {
        quote_spanned! {ty.span()=>
            ::telemetry_schema::__private::property::<#ty>();
        }
    });
    quote! {
        const _: () = {
            fn __telemetry_check_field_types() {
                #(#checks)*
            }
        };
    }
}
