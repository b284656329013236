//! Delivery to PostHog: `telemetry-runtime`'s delivery loop, sending through the `posthog-rs`
//! SDK.
//!
//! A crate of its own so that only the delivery program, `archon-telemetry-deliver`, links
//! posthog-rs and the HTTP/TLS stack under it (reqwest, hyper, rustls with aws-lc). `archon`
//! links `telemetry-runtime` alone: no command pays for loading that stack, or for its
//! start-up code, whether telemetry is on or not.
//!
//! Like the runtime, this crate takes no events from its caller: it sends what the queue holds.

mod sender;

use sender::PosthogSender;
use telemetry_runtime::delivery::{self, DeliveryConfig, DeliveryReport};
use telemetry_runtime::store::Store;
use telemetry_runtime::Environment;

/// The delivery program's `main`. Prints nothing; outcomes go to the state file for `status`.
pub fn run_delivery_process() {
    deliver_for_build(&Environment::from_process());
}

/// [`delivery::deliver_for_build`] through PostHog: this build's key, the host the settings
/// choose. A build without a key sends nothing.
pub fn deliver_for_build(env: &Environment) -> DeliveryReport {
    delivery::deliver_for_build(env, PosthogSender::connect)
}

/// [`delivery::deliver`] through PostHog: sends the queue of `store` with `config`, unless
/// another delivery is running or consent says no.
pub fn deliver(store: &Store, env: &Environment, config: &DeliveryConfig) -> DeliveryReport {
    delivery::deliver(store, env, config, PosthogSender::connect)
}
