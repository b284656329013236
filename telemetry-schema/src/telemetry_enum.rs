//! Fieldless enums as property types: the only way to send something that reads as text.

use crate::property::{Property, PropertySchema, Sealed, ValueKind};
use serde_json::Value;

/// One value a [`TelemetryEnum`] can take.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EnumValue {
    /// The value as sent: the variant's name in snake_case.
    pub value: &'static str,
    /// The variant's doc comment, shown on the policy page (may be empty).
    pub doc: &'static str,
}

/// A property type with a fixed list of values; derive it with `#[derive(TelemetryEnum)]`.
///
/// What is sent is always an entry of [`VALUES`](Self::VALUES), looked up by
/// [`index`](Self::index). `VALUES` is a constant, so it is fixed when archon is built and cannot
/// hold anything that happens at run time; that is why this trait, unlike [`Property`], does not
/// need to be sealed.
pub trait TelemetryEnum {
    /// Every value, in declaration order.
    const VALUES: &'static [EnumValue];

    /// The position of `self` in [`VALUES`](Self::VALUES).
    fn index(&self) -> usize;

    /// The value as sent.
    fn as_str(&self) -> &'static str {
        Self::VALUES
            .get(self.index())
            .map_or("", |value| value.value)
    }
}

// `do_not_recommend`: when a type is refused, say it is not a property, rather than that it is
// not a `TelemetryEnum` (most refused types, such as `String`, should not become one).
#[diagnostic::do_not_recommend]
impl<T: TelemetryEnum> Sealed for T {}
#[diagnostic::do_not_recommend]
impl<T: TelemetryEnum> Property for T {
    const SCHEMA: PropertySchema = PropertySchema::required(ValueKind::Enum { values: T::VALUES });

    fn to_json(&self) -> Value {
        // An index out of range can only come from a hand-written implementation; send nothing
        // rather than panic.
        match T::VALUES.get(self.index()) {
            Some(value) => Value::from(value.value),
            None => Value::Null,
        }
    }
}
