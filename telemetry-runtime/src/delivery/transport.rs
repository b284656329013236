//! What a delivery sends batches through, and what the answer means for the queue.
//!
//! The delivery loop is in this crate (`delivery/mod.rs`); the request itself is not. PostHog's
//! `/batch/` endpoint is
//! reached through posthog-rs and its HTTP/TLS stack, in the `telemetry-posthog` crate, which
//! only the delivery program links. archon, which links this crate, never carries that stack.

use crate::wire::WireEvent;

/// One way to offer a batch of queued events to a server.
///
/// The events come from the queue, and only those that pass the catalog's check
/// (`conformance::conforms`): a queue line edited to carry anything else is never handed to a
/// transport.
pub trait Transport {
    /// Offers `batch` to the server once.
    fn send(&self, batch: &[WireEvent]) -> SendOutcome;
}

/// What to do after a batch was offered to the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SendOutcome {
    /// 2xx, with every event of the batch in the request: the events are stored; remove them
    /// from the queue.
    Delivered,
    /// 5xx, 408, 429 or no answer: keep them and try again later.
    Retry(&'static str),
    /// 400 or 413: the server refuses this batch as malformed or too large (or the client
    /// refuses an event in it before any request). A smaller batch may pass; a single event
    /// that is refused is dropped.
    Rejected,
    /// Any other refusal (a wrong key, a proxy that answers 404): keep the events, stop until
    /// the next delivery.
    Refused(String),
}
