//! One request to PostHog's `/batch/` endpoint through the `posthog-rs` SDK, and what its
//! outcome means for the queue.

use telemetry_runtime::delivery::{DeliveryConfig, SendOutcome, Transport};
use telemetry_runtime::wire::{allowed_property_names, WireEvent};

/// Sends batches to one host with one key. Private: the crate's callers can only deliver what
/// the queue holds.
pub(crate) struct PosthogSender {
    client: posthog_rs::Client,
}

impl PosthogSender {
    /// A sender for `config`'s host and key, giving up on a request after its
    /// `request_timeout`.
    pub(crate) fn connect(config: &DeliveryConfig) -> Option<PosthogSender> {
        let options = posthog_rs::ClientOptionsBuilder::default()
            .api_key(config.key.clone())
            .host(config.host.clone())
            .request_timeout_seconds(config.request_timeout.as_secs().max(1))
            // Retries are decided by the delivery loop, which knows the overall time limit.
            .max_capture_attempts(1)
            .disable_geoip(true)
            .is_server(false)
            .shutdown_timeout_ms(100)
            // The SDK adds properties of its own ($lib, $os, ...). Keep exactly the ones the
            // event was recorded with, so what `inspect` shows is what the server receives;
            // drop anything that is not a known event.
            .before_send(|mut event: posthog_rs::Event| {
                let allowed = allowed_property_names(event.event_name())?;
                let extra: Vec<String> = event
                    .properties()
                    .keys()
                    .filter(|key| !allowed.contains(&key.as_str()))
                    .cloned()
                    .collect();
                for key in extra {
                    event.remove_prop(&key);
                }
                Some(event)
            })
            .build()
            .ok()?;
        Some(PosthogSender {
            client: posthog_rs::client(options),
        })
    }
}

impl Transport for PosthogSender {
    fn send(&self, batch: &[WireEvent]) -> SendOutcome {
        // All of the batch or none of it: an event left out would be counted, and shown by
        // `inspect`, as sent. One the SDK refuses makes the batch rejected, so that the delivery
        // splits it and drops that event alone, with a count. (The delivery drops the events the
        // SDK would refuse just before it sends, so this is only the guarantee: no request is
        // made, though the report counts one.)
        let Some(events) = batch
            .iter()
            .map(to_sdk_event)
            .collect::<Option<Vec<posthog_rs::Event>>>()
        else {
            return SendOutcome::Rejected;
        };
        if events.is_empty() {
            return SendOutcome::Rejected;
        }
        let count = events.len();
        match self.client.capture_batch_immediate(events, false) {
            Ok(summary) if summary.submitted() == count => SendOutcome::Delivered,
            // The client left events out (its `before_send` filter, or a client it disabled):
            // none is counted as sent; they stay queued, and a resent one the server already
            // has is dropped there by its uuid.
            Ok(summary) => SendOutcome::Refused(format!(
                "the PostHog client sent {} of {count} events",
                summary.submitted()
            )),
            Err(error) => classify(&error),
        }
    }
}

fn to_sdk_event(wire: &WireEvent) -> Option<posthog_rs::Event> {
    let distinct_id = wire.distinct_id.clone()?;
    let mut event = posthog_rs::Event::new(wire.event.clone(), distinct_id);
    event.set_uuid(wire.uuid);
    event.set_timestamp(wire.captured_at()?).ok()?;
    for (key, value) in &wire.properties {
        event.insert_prop(key.clone(), value).ok()?;
    }
    Some(event)
}

fn classify(error: &posthog_rs::Error) -> SendOutcome {
    use posthog_rs::Error;
    match error {
        Error::RateLimit => SendOutcome::Retry("the server asked to slow down (429)"),
        Error::ServerError { .. } => SendOutcome::Retry("the server had an error (5xx)"),
        Error::BadRequest(_) | Error::Serialization(_) => SendOutcome::Rejected,
        Error::Unauthorized => {
            SendOutcome::Refused("the server refused the project key (401)".into())
        }
        Error::BillingLimitExceeded(_) => {
            SendOutcome::Refused("the PostHog project is over its quota (402)".into())
        }
        // The SDK reports statuses it has no variant for as "Unexpected HTTP status N: ...",
        // and transport failures (refused, timed out, DNS) as other messages.
        Error::Connection(message) => match unexpected_status(message) {
            Some(408) => SendOutcome::Retry("the server timed out (408)"),
            Some(status) => SendOutcome::Refused(format!("the server answered {status}")),
            None => SendOutcome::Retry("the server could not be reached"),
        },
        _ => SendOutcome::Retry("unexpected error"),
    }
}

fn unexpected_status(message: &str) -> Option<u16> {
    let rest = message.strip_prefix("Unexpected HTTP status ")?;
    rest.split(|c: char| !c.is_ascii_digit())
        .next()?
        .parse()
        .ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_without_a_variant_are_read_from_the_message() {
        let connection = |m: &str| classify(&posthog_rs::Error::Connection(m.into()));
        assert_eq!(
            connection("Unexpected HTTP status 408: slow"),
            SendOutcome::Retry("the server timed out (408)")
        );
        assert_eq!(
            connection("Unexpected HTTP status 404: nope"),
            SendOutcome::Refused("the server answered 404".into())
        );
        assert_eq!(
            connection("error sending request: connection refused"),
            SendOutcome::Retry("the server could not be reached")
        );
    }
}
