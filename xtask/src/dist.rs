//! `cargo xtask dist`: builds the release `archon` and `archon-telemetry-deliver` (the program
//! archon starts to send events), with the PostHog key and host, the version, the git commit and
//! the release flag baked in at compile time.
//!
//! The values come from the environment (in CI, from repository secrets) and reach the build the
//! same way, as environment variables that `telemetry-schema` and `telemetry-runtime` read with
//! `option_env!`. Without a key the binary cannot send anything, whatever the user chooses.

use crate::failure::Failure;
use crate::workspace;
use std::path::PathBuf;
use std::process::Command;
use telemetry_schema::build_info::{is_commit_like, is_version_like};

/// The variables a release build reads.
const KEY: &str = "ARCHON_POSTHOG_KEY";
const HOST: &str = "ARCHON_POSTHOG_HOST";
const VERSION: &str = "ARCHON_VERSION";
const COMMIT: &str = "ARCHON_GIT_COMMIT";
const RELEASE: &str = "ARCHON_RELEASE";

/// What a release build bakes in, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReleaseSettings {
    /// The PostHog project key (write-only, safe to embed); `None` builds a binary that cannot send.
    pub key: Option<String>,
    /// Where events go; `None` leaves the runtime's default (PostHog EU).
    pub host: Option<String>,
    /// archon's version; `None` leaves the crate version.
    pub version: Option<String>,
    /// The commit the binary is built from; `None` when it must be asked of git.
    pub commit: Option<String>,
}

/// Reads and checks the settings through `var` (the process environment, or a map in tests). An
/// empty or blank variable counts as unset: that is what CI passes for a secret that does not exist.
pub fn settings(var: impl Fn(&str) -> Option<String>) -> Result<ReleaseSettings, String> {
    let read = |name: &str| {
        var(name)
            .map(|value| value.trim().to_owned())
            .filter(|value| !value.is_empty())
    };
    let settings = ReleaseSettings {
        key: read(KEY),
        host: read(HOST),
        version: read(VERSION),
        commit: read(COMMIT),
    };
    check_host(settings.key.as_deref(), settings.host.as_deref())?;
    if let Some(version) = &settings.version {
        if !is_version_like(version) {
            return Err(format!(
                "{VERSION}={version:?} is not a version (letters, digits, `.`, `-` and `+`, at most 64): \
                 the binary would report `unknown`. Set it to something like 0.3.1"
            ));
        }
    }
    if let Some(commit) = &settings.commit {
        check_commit(commit)?;
    }
    Ok(settings)
}

/// A build that can send (it has a key) must send over https: the events are anonymous, but
/// nobody on the path should be able to read or alter them. A build without a key sends nothing,
/// so its host does not matter.
pub fn check_host(key: Option<&str>, host: Option<&str>) -> Result<(), String> {
    let (Some(_), Some(host)) = (key, host) else {
        return Ok(());
    };
    let authority = host
        .get(..8)
        .filter(|scheme| scheme.eq_ignore_ascii_case("https://"))
        .map(|_| host[8..].split(['/', '?', '#']).next().unwrap_or_default());
    match authority {
        Some(authority) if !authority.is_empty() && !host.contains(char::is_whitespace) => Ok(()),
        _ => Err(format!(
            "{HOST}={host:?} is not an https:// address, and {KEY} is set: a release build that can send \
             must send over https. Set {HOST} to https://eu.i.posthog.com or to your proxy's https address \
             (docs/telemetry-proxy.md), or leave it unset for the default."
        )),
    }
}

fn check_commit(commit: &str) -> Result<(), String> {
    if is_commit_like(commit) {
        Ok(())
    } else {
        Err(format!(
            "{COMMIT}={commit:?} is not a git commit hash (7 to 40 lowercase hexadecimal digits): \
             the binary would report `unknown`. Unset it to use `git rev-parse HEAD`"
        ))
    }
}

/// Runs the task: checks the settings, then `cargo build --release --locked -p archon-cli`.
pub fn run(target: Option<&str>) -> Result<(), Failure> {
    let mut settings = settings(|name| std::env::var(name).ok()).map_err(Failure::environment)?;
    if settings.commit.is_none() {
        let commit = head_commit()?;
        check_commit(&commit).map_err(Failure::environment)?;
        settings.commit = Some(commit);
    }
    print_settings(&settings);

    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".to_owned());
    let mut build = Command::new(&cargo);
    build.current_dir(workspace::root()).args([
        "build",
        "--release",
        "--locked",
        "-p",
        "archon-cli",
    ]);
    if let Some(target) = target {
        build.args(["--target", target]);
    }
    // Set what was checked and remove what is unset, so that an empty variable in the environment
    // never reaches `option_env!` as an empty string.
    for (name, value) in [
        (KEY, &settings.key),
        (HOST, &settings.host),
        (VERSION, &settings.version),
        (COMMIT, &settings.commit),
    ] {
        match value {
            Some(value) => build.env(name, value),
            None => build.env_remove(name),
        };
    }
    build.env(RELEASE, "1");

    let status = build
        .status()
        .map_err(|error| Failure::environment(format!("cannot run `{cargo} build`: {error}")))?;
    if !status.success() {
        return Err(Failure::check(format!(
            "`cargo build --release -p archon-cli` failed ({status}); the errors are above"
        )));
    }
    let archon = binary_path(target);
    println!("built {}", archon.display());
    println!(
        "  and {} (ship it next to archon: it sends the events; without it nothing is sent)",
        archon.with_file_name("archon-telemetry-deliver").display()
    );
    Ok(())
}

fn head_commit() -> Result<String, Failure> {
    let output = Command::new("git")
        .current_dir(workspace::root())
        .args(["rev-parse", "HEAD"])
        .output();
    match output {
        Ok(output) if output.status.success() => {
            Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
        }
        Ok(output) => Err(Failure::environment(format!(
            "`git rev-parse HEAD` failed: {}; set {COMMIT} to the commit being built",
            String::from_utf8_lossy(&output.stderr).trim()
        ))),
        Err(error) => Err(Failure::environment(format!(
            "cannot run git ({error}); set {COMMIT} to the commit being built"
        ))),
    }
}

fn print_settings(settings: &ReleaseSettings) {
    // Only the start of the key: it is public by design, but build logs need not carry it whole.
    let key = match &settings.key {
        Some(key) => format!(
            "{}… (this build can send telemetry)",
            key.chars().take(8).collect::<String>()
        ),
        None => "not set: this build cannot send telemetry".to_owned(),
    };
    let or =
        |value: &Option<String>, default: &str| value.clone().unwrap_or_else(|| default.to_owned());
    println!("building a release archon with:");
    println!("  {KEY:<20} {key}");
    println!(
        "  {HOST:<20} {}",
        or(
            &settings.host,
            "not set: the runtime's default (PostHog EU)"
        )
    );
    println!(
        "  {VERSION:<20} {}",
        or(&settings.version, "not set: the crate version")
    );
    println!("  {COMMIT:<20} {}", or(&settings.commit, "unknown"));
    println!("  {RELEASE:<20} 1");
}

fn binary_path(target: Option<&str>) -> PathBuf {
    let target_dir = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace::root().join("target"));
    let mut path = target_dir;
    if let Some(target) = target {
        path.push(target);
    }
    path.join("release").join("archon")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |name| {
            pairs
                .iter()
                .find(|(key, _)| *key == name)
                .map(|(_, value)| (*value).to_owned())
        }
    }

    #[test]
    fn a_key_with_a_plain_http_host_is_refused() {
        for host in [
            "http://eu.i.posthog.com",
            "http://127.0.0.1:8080",
            "eu.i.posthog.com",
            "https://",
            "https:///batch/",
            "ftp://example.com",
            "https://exa mple.com",
        ] {
            let error = check_host(Some("phc_abc"), Some(host)).unwrap_err();
            assert!(
                error.contains("is not an https:// address"),
                "{host}: {error}"
            );
            assert!(error.contains("ARCHON_POSTHOG_HOST"), "{error}");
        }
    }

    #[test]
    fn https_hosts_and_keyless_builds_are_accepted() {
        assert_eq!(
            check_host(Some("phc_abc"), Some("https://eu.i.posthog.com")),
            Ok(())
        );
        assert_eq!(
            check_host(Some("phc_abc"), Some("HTTPS://t.example.com/ingest")),
            Ok(())
        );
        assert_eq!(check_host(Some("phc_abc"), None), Ok(()));
        // Without a key nothing can be sent, so the host is not checked.
        assert_eq!(check_host(None, Some("http://localhost:1")), Ok(()));
    }

    #[test]
    fn settings_treat_blank_as_unset_and_check_every_value() {
        let settings = settings(env(&[(KEY, "  "), (HOST, ""), (VERSION, "0.3.1")])).unwrap();
        assert_eq!(
            settings,
            ReleaseSettings {
                key: None,
                host: None,
                version: Some("0.3.1".to_owned()),
                commit: None,
            }
        );
        assert!(super::settings(env(&[(KEY, "phc_x"), (HOST, "http://h")])).is_err());
        assert!(super::settings(env(&[(VERSION, "0.3.1 /home/me")])).is_err());
        assert!(super::settings(env(&[(COMMIT, "main")])).is_err());
        assert!(super::settings(env(&[(COMMIT, "abc1234")])).is_ok());
    }
}
