//! The sealed `Property` trait: the complete list of types a telemetry property may have.

use serde_json::Value;

/// Only this crate can implement [`Sealed`], so only this crate decides what may be sent.
mod sealed {
    #[diagnostic::on_unimplemented(
        message = "`{Self}` cannot implement `Property` outside telemetry-schema",
        label = "the telemetry vocabulary is closed",
        note = "for a set of named values, derive `TelemetryEnum` on a fieldless enum instead",
        note = "a new kind of property type belongs in telemetry-schema, where it is reviewed for what it could leak"
    )]
    pub trait Sealed {}
}
pub(crate) use sealed::Sealed;

/// A type whose values may be sent as a telemetry property.
///
/// Implemented for `bool`, `u8`–`u64`, `i8`–`i64`, [`DurationMs`](crate::DurationMs),
/// [`WorkflowName`](crate::WorkflowName), every `#[derive(TelemetryEnum)]` enum, and `Option<T>`
/// of any of those. It is sealed: no other crate can add a type. Strings, paths, floats,
/// collections and arbitrary `Serialize` types are refused because a free-form value can carry
/// what the user typed, their file layout or their company's names.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a telemetry property",
    label = "not in the telemetry vocabulary: free-form values can leak user data",
    note = "a property may be `bool`, `u8`-`u64` or `i8`-`i64` (not `usize`, whose range depends on the machine: a count from `.len()` is a `u32`), `DurationMs`, `WorkflowName`, `ErrorClass`, `ErrorSite`, a `#[derive(TelemetryEnum)]` fieldless enum, or `Option` of one of these; no floats (a time is `DurationMs`)",
    note = "for text, make a `#[derive(TelemetryEnum)]` enum of the values worth knowing (workflow names: `WorkflowName::sanitize`); paths, names and messages are never sent"
)]
pub trait Property: Sealed {
    /// How the policy page and the JSON Schema describe this type.
    const SCHEMA: PropertySchema;

    /// The value as it goes on the wire.
    fn to_json(&self) -> Value;
}

/// The description of a property type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PropertySchema {
    /// What values the property can take.
    pub kind: ValueKind,
    /// True for `Option<T>`: the property may be `null`.
    pub optional: bool,
}

/// The kinds of value a property can hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ValueKind {
    /// `true` or `false`.
    Boolean,
    /// A whole number in `minimum..=maximum`.
    Integer {
        /// The smallest value the type can hold.
        minimum: i64,
        /// The largest value the type can hold.
        maximum: u64,
    },
    /// A duration in whole milliseconds.
    Milliseconds,
    /// One of a fixed list of values, each known when archon is built.
    Enum {
        /// Every value the property can take.
        values: &'static [crate::EnumValue],
    },
    /// A text fixed when archon is built (its version or its own git commit), the same for every
    /// user of that build.
    BuildConstant,
}

impl PropertySchema {
    /// A required property of `kind`.
    pub const fn required(kind: ValueKind) -> Self {
        PropertySchema {
            kind,
            optional: false,
        }
    }
}

impl Sealed for bool {}
impl Property for bool {
    const SCHEMA: PropertySchema = PropertySchema::required(ValueKind::Boolean);

    fn to_json(&self) -> Value {
        Value::Bool(*self)
    }
}

/// Counts and exit codes. 128-bit integers and `usize`/`isize` are left out: the first do not fit
/// a JSON number, the second change size with the platform.
macro_rules! integer_properties {
    ($($ty:ty),*) => {$(
        impl Sealed for $ty {}
        impl Property for $ty {
            const SCHEMA: PropertySchema = PropertySchema::required(ValueKind::Integer {
                minimum: <$ty>::MIN as i64,
                maximum: <$ty>::MAX as u64,
            });

            fn to_json(&self) -> Value {
                Value::from(*self)
            }
        }
    )*};
}
integer_properties!(u8, u16, u32, u64, i8, i16, i32, i64);

impl<T: Property> Sealed for Option<T> {}
impl<T: Property> Property for Option<T> {
    const SCHEMA: PropertySchema = PropertySchema {
        kind: T::SCHEMA.kind,
        optional: true,
    };

    fn to_json(&self) -> Value {
        match self {
            Some(value) => value.to_json(),
            None => Value::Null,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn integers_are_json_numbers_with_their_range() {
        assert_eq!(7u32.to_json(), serde_json::json!(7));
        assert_eq!((-130i32).to_json(), serde_json::json!(-130));
        assert_eq!(u64::MAX.to_json(), serde_json::json!(u64::MAX));
        assert_eq!(
            <i8 as Property>::SCHEMA.kind,
            ValueKind::Integer {
                minimum: -128,
                maximum: 127
            }
        );
    }

    #[test]
    fn options_are_null_or_the_value() {
        assert_eq!(None::<bool>.to_json(), Value::Null);
        assert_eq!(Some(true).to_json(), Value::Bool(true));
        const { assert!(<Option<u8> as Property>::SCHEMA.optional) };
        const { assert!(!<u8 as Property>::SCHEMA.optional) };
    }
}
