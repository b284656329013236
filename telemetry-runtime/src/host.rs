//! Where events are sent: the build's default host, or another PostHog instance or proxy named
//! by `telemetry.host` in config.yaml or `ARCHON_TELEMETRY_HOST`.

use crate::build_config;
use crate::config::{ConfigError, TelemetrySettings};
use std::fmt;
use std::net::IpAddr;
use std::path::PathBuf;

/// Which setting chose the host.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostSource {
    /// `ARCHON_TELEMETRY_HOST`.
    Environment,
    /// `telemetry.host` in config.yaml.
    ConfigFile,
    /// Fixed when archon was built.
    Build,
}

/// The chosen host, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    /// `scheme://host[:port][/path]`, without a trailing slash.
    pub url: String,
    /// Which setting chose it.
    pub source: HostSource,
}

/// Why there is no host to send to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HostError {
    /// The setting names a host that may not be used.
    Refused {
        /// Which setting named it.
        source: HostSource,
        /// Why it is refused.
        reason: String,
    },
    /// config.yaml, which may name the host (a proxy, say), cannot be read.
    ConfigUnreadable {
        /// config.yaml.
        path: PathBuf,
    },
}

impl fmt::Display for HostError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HostError::Refused { source, reason } => {
                let setting = match source {
                    HostSource::Environment => "ARCHON_TELEMETRY_HOST",
                    HostSource::ConfigFile => "telemetry.host in config.yaml",
                    HostSource::Build => "the host built into archon",
                };
                write!(f, "{setting} is not usable: {reason}")
            }
            HostError::ConfigUnreadable { path } => write!(
                f,
                "{} cannot be used, and it may name the host, so nothing is sent",
                path.display()
            ),
        }
    }
}

/// Picks the host: `from_env`, else `from_config`, else the build's default.
pub fn choose(from_env: Option<&str>, from_config: Option<&str>) -> Result<Host, HostError> {
    let (text, source) = match (from_env, from_config) {
        (Some(host), _) if !host.trim().is_empty() => (host, HostSource::Environment),
        (_, Some(host)) if !host.trim().is_empty() => (host, HostSource::ConfigFile),
        _ => (build_config::DEFAULT_HOST, HostSource::Build),
    };
    check(text.trim())
        .map(|url| Host { url, source })
        .map_err(|reason| HostError::Refused { source, reason })
}

/// The host deliveries use, from `ARCHON_TELEMETRY_HOST` (`from_env`) and config.yaml as read
/// (`settings`). A config.yaml that cannot be read leaves the host unknown, unless the variable
/// names one: the file may name a proxy, and the default host would go around it.
pub fn for_delivery(
    from_env: Option<&str>,
    settings: Result<&TelemetrySettings, &ConfigError>,
) -> Result<Host, HostError> {
    let from_env = from_env.filter(|host| !host.trim().is_empty());
    match settings {
        Err(error) if from_env.is_none() => Err(HostError::ConfigUnreadable {
            path: error.path.clone(),
        }),
        Err(_) => choose(from_env, None),
        Ok(settings) => choose(from_env, settings.host.as_deref()),
    }
}

/// `https://` anywhere, `http://` only to this machine (a local PostHog or a test server):
/// anything else would send events in clear text.
fn check(text: &str) -> Result<String, String> {
    let url = url::Url::parse(text).map_err(|e| format!("not a URL ({e})"))?;
    let loopback = match url.host() {
        Some(url::Host::Domain(domain)) => domain.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => return Err("the URL has no host".to_owned()),
    };
    match url.scheme() {
        "https" => {}
        "http" if loopback => {}
        "http" => {
            return Err(
                "plain http:// is only allowed for this machine (localhost); use https://"
                    .to_owned(),
            )
        }
        other => return Err(format!("`{other}://` is not http(s)")),
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err("the URL must not contain a user name or password".to_owned());
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err("the URL must not have a query or fragment".to_owned());
    }
    Ok(url.as_str().trim_end_matches('/').to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn environment_beats_config_beats_build() {
        let host = choose(Some("https://env.example"), Some("https://config.example")).unwrap();
        assert_eq!(
            (host.url.as_str(), host.source),
            ("https://env.example", HostSource::Environment)
        );
        let host = choose(None, Some("https://config.example/ingest/")).unwrap();
        assert_eq!(
            (host.url.as_str(), host.source),
            ("https://config.example/ingest", HostSource::ConfigFile)
        );
        let host = choose(Some(" "), None).unwrap();
        assert_eq!(host.source, HostSource::Build);
    }

    #[test]
    fn a_config_that_cannot_be_read_leaves_the_host_unknown_unless_the_variable_names_one() {
        let broken = ConfigError {
            path: "/h/config.yaml".into(),
            line: Some(2),
            reason: "bad".into(),
            io: false,
        };
        let error = for_delivery(None, Err(&broken)).unwrap_err();
        assert_eq!(
            error.to_string(),
            "/h/config.yaml cannot be used, and it may name the host, so nothing is sent"
        );
        assert!(for_delivery(Some(" "), Err(&broken)).is_err());
        let host = for_delivery(Some("https://env.example"), Err(&broken)).unwrap();
        assert_eq!(host.source, HostSource::Environment);

        let settings = TelemetrySettings {
            enabled: Some(true),
            host: Some("https://proxy.example".into()),
        };
        let host = for_delivery(None, Ok(&settings)).unwrap();
        assert_eq!(host.url, "https://proxy.example");
        let host = for_delivery(None, Ok(&TelemetrySettings::default())).unwrap();
        assert_eq!(host.source, HostSource::Build);
    }

    #[test]
    fn plain_http_only_for_loopback() {
        for ok in [
            "http://127.0.0.1:8080",
            "http://localhost:1",
            "http://[::1]:9",
            "http://127.5.0.1",
        ] {
            assert!(choose(Some(ok), None).is_ok(), "{ok}");
        }
        for refused in [
            "http://ph.acme.dev",
            "http://10.0.0.1",
            "ftp://ph.acme.dev",
            "https://user:pw@ph.acme.dev",
            "https://ph.acme.dev/?token=x",
            "not a url",
        ] {
            let error = choose(None, Some(refused)).unwrap_err();
            assert!(
                matches!(
                    error,
                    HostError::Refused {
                        source: HostSource::ConfigFile,
                        ..
                    }
                ),
                "{refused}"
            );
        }
    }
}
