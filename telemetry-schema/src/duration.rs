//! Durations, sent as whole milliseconds.

use crate::property::{Property, PropertySchema, Sealed, ValueKind};
use serde_json::Value;
use std::time::{Duration, Instant};

/// How long something took, sent as a whole number of milliseconds (rounded down).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Default)]
pub struct DurationMs(u64);

impl DurationMs {
    /// The time elapsed since `start`.
    pub fn since(start: Instant) -> Self {
        start.elapsed().into()
    }

    /// A duration of `millis` milliseconds.
    pub const fn from_millis(millis: u64) -> Self {
        DurationMs(millis)
    }

    /// The number of whole milliseconds.
    pub const fn as_millis(self) -> u64 {
        self.0
    }
}

impl From<Duration> for DurationMs {
    fn from(duration: Duration) -> Self {
        // Saturates after 584 million years.
        DurationMs(u64::try_from(duration.as_millis()).unwrap_or(u64::MAX))
    }
}

impl Sealed for DurationMs {}
impl Property for DurationMs {
    const SCHEMA: PropertySchema = PropertySchema::required(ValueKind::Milliseconds);

    fn to_json(&self) -> Value {
        Value::from(self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_milliseconds_rounded_down() {
        assert_eq!(DurationMs::from(Duration::from_micros(1_999)).to_json(), 1);
        assert_eq!(DurationMs::from(Duration::from_secs(3)).as_millis(), 3_000);
        assert_eq!(DurationMs::from(Duration::MAX).as_millis(), u64::MAX);
    }
}
