//! Shared set-up for the runtime's integration tests: a temporary `$ARCHON_HOME` and the
//! environment that goes with it.

#![allow(dead_code)]

use std::path::Path;
use std::time::Duration;
use telemetry_runtime::delivery::DeliveryConfig;
use telemetry_runtime::store::Store;
use telemetry_runtime::Environment;
use telemetry_schema::{BinaryStartup, CliCommand, CliCommandInvoked, CliSubcommand};

/// The uuids of wire events (as a server received them), in order.
pub fn uuids(events: &[serde_json::Value]) -> Vec<String> {
    events
        .iter()
        .map(|event| event["uuid"].as_str().unwrap().to_owned())
        .collect()
}

pub const TEST_KEY: &str = "phc_test_key_for_the_capture_server";

pub struct Home {
    pub dir: tempfile::TempDir,
}

impl Home {
    pub fn new() -> Home {
        Home {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self) -> &Path {
        self.dir.path()
    }

    pub fn store(&self) -> Store {
        Store::new(self.path())
    }

    /// An environment with this home and nothing else set.
    pub fn env(&self) -> Environment {
        Environment {
            archon_home: Some(self.path().into()),
            ..Environment::default()
        }
    }

    /// This home with `ARCHON_TELEMETRY=1`.
    pub fn env_on(&self) -> Environment {
        Environment {
            archon_telemetry: Some("1".into()),
            ..self.env()
        }
    }

    /// Every file under the home, relative, sorted.
    pub fn files(&self) -> Vec<String> {
        let mut found = Vec::new();
        collect(self.path(), self.path(), &mut found);
        found.sort();
        found
    }
}

fn collect(root: &Path, dir: &Path, found: &mut Vec<String>) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(root, &path, found);
        } else {
            found.push(path.strip_prefix(root).unwrap().display().to_string());
        }
    }
}

/// A delivery configuration for the test server, with short timeouts.
pub fn fast_config(url: &str) -> DeliveryConfig {
    DeliveryConfig {
        key: TEST_KEY.to_owned(),
        host: url.to_owned(),
        request_timeout: Duration::from_secs(1),
        time_limit: Duration::from_secs(5),
        first_backoff: Duration::from_millis(50),
        // Tests of lingering set their own.
        linger: Duration::ZERO,
    }
}

/// Records `count` events with telemetry on in `home` and returns the environment used.
pub fn record(home: &Home, count: usize) -> Environment {
    record_with(home.env_on(), count)
}

/// Opts in as a user does (`archon telemetry on`: config.yaml, no variable), records `count`
/// events, and returns the environment used.
pub fn record_opted_in(home: &Home, count: usize) -> Environment {
    telemetry_runtime::control::opt_in(&home.env()).unwrap();
    record_with(home.env(), count)
}

/// Records `count` events with `env` and writes them.
fn record_with(env: Environment, count: usize) -> Environment {
    let telemetry = telemetry_runtime::Telemetry::start_with_key(env.clone(), Some(TEST_KEY));
    for _ in 0..count {
        telemetry.record(&invoked());
    }
    telemetry.flush();
    env
}

/// Polls `condition` every few milliseconds until it holds (true) or `limit` passes (false).
pub fn wait_until(limit: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let until = std::time::Instant::now() + limit;
    while std::time::Instant::now() < until {
        if condition() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    false
}

pub fn invoked() -> CliCommandInvoked {
    CliCommandInvoked {
        command: CliCommand::Workflow,
        subcommand: Some(CliSubcommand::Run),
    }
}

pub fn startup() -> BinaryStartup {
    BinaryStartup
}
