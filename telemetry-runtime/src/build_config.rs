//! What a build of archon is allowed to send to, fixed at compile time.
//!
//! A release build sets `ARCHON_POSTHOG_KEY` (PostHog's write-only ingestion key) and optionally
//! `ARCHON_POSTHOG_HOST`. Every other build, which includes every `cargo build` and `cargo run`
//! in a clone, has no key and so cannot send anything, whatever the user's consent says: a
//! developer's own use never pollutes the data. Cargo rebuilds this crate when they change.

/// The PostHog project key this build sends with; `None` in a build that cannot send.
pub const POSTHOG_KEY: Option<&str> = match option_env!("ARCHON_POSTHOG_KEY") {
    Some(key) if !key.trim_ascii().is_empty() => Some(key.trim_ascii()),
    _ => None,
};

/// Where events go unless the user names another host: PostHog's EU ingestion host, or the
/// proxy a release was built for.
pub const DEFAULT_HOST: &str = match option_env!("ARCHON_POSTHOG_HOST") {
    Some(host) if !host.trim_ascii().is_empty() => host.trim_ascii(),
    _ => "https://eu.i.posthog.com",
};

/// The first characters of the key, enough to tell builds apart without printing the key.
pub fn key_prefix(key: &str) -> String {
    let prefix: String = key.chars().take(8).collect();
    format!("{prefix}…")
}
