//! Consent, identity, the local queue and delivery for archon's telemetry.
