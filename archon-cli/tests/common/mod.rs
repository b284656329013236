//! Running the real `archon` binary in a temporary home, against the capture server.
//!
//! Two binaries are used: the one `cargo test` builds (no PostHog key: it can never send), and
//! one built once per test run with a test key embedded, into `target/tmp/e2e-keyed/` (see
//! [`keyed_binary`]), for the tests that follow events to the server.

#![allow(dead_code)]

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The key embedded in the keyed binary.
pub const E2E_KEY: &str = "phc_e2e_test_key_not_a_real_project";

/// The binary `cargo test` built: no key.
pub fn keyless_binary() -> PathBuf {
    PathBuf::from(env!("CARGO_BIN_EXE_archon"))
}

/// archon built with [`E2E_KEY`] embedded, as a release would be with a real key. Built once
/// per test run (cargo's own lock orders parallel test binaries), into a separate target
/// folder under this build's own target folder (which may be `CARGO_TARGET_DIR`), so it never
/// replaces the keyless binary.
pub fn keyed_binary() -> PathBuf {
    static BUILT: OnceLock<PathBuf> = OnceLock::new();
    BUILT
        .get_or_init(|| {
            let workspace = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
            let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("e2e-keyed");
            let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
            let status = Command::new(cargo)
                .args(["build", "--quiet", "-p", "archon-cli"])
                .current_dir(workspace)
                .env("CARGO_TARGET_DIR", &target)
                .env("ARCHON_POSTHOG_KEY", E2E_KEY)
                .env_remove("ARCHON_POSTHOG_HOST")
                .status()
                .expect("cargo runs");
            assert!(status.success(), "building the keyed archon failed");
            target.join("debug").join("archon")
        })
        .clone()
}

/// A temporary user: a home folder, an `$ARCHON_HOME`, and a project folder to run in.
pub struct User {
    pub dir: tempfile::TempDir,
    pub binary: PathBuf,
    pub env: Vec<(String, String)>,
}

impl User {
    pub fn new(binary: PathBuf) -> User {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join("home")).unwrap();
        std::fs::create_dir_all(dir.path().join("project")).unwrap();
        User {
            dir,
            binary,
            env: Vec::new(),
        }
    }

    /// A user of the keyed binary whose events go to `server_url`.
    pub fn keyed(server_url: &str) -> User {
        let mut user = User::new(keyed_binary());
        user.set("ARCHON_TELEMETRY_HOST", server_url);
        user
    }

    pub fn set(&mut self, name: &str, value: &str) -> &mut Self {
        self.env.push((name.to_owned(), value.to_owned()));
        self
    }

    pub fn home(&self) -> PathBuf {
        self.dir.path().join("home")
    }

    pub fn archon_home(&self) -> PathBuf {
        self.home().join(".archon")
    }

    pub fn project(&self) -> PathBuf {
        self.dir.path().join("project")
    }

    /// `archon ARGS` with only this user's environment (plus PATH), in the project folder.
    pub fn command(&self, args: &[&str]) -> Command {
        self.command_of(&self.binary, args)
    }

    /// `PROGRAM ARGS` as [`User::command`] runs archon.
    pub fn command_of(&self, program: &Path, args: &[&str]) -> Command {
        let mut command = Command::new(program);
        command
            .args(args)
            .current_dir(self.project())
            .env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.home());
        for (name, value) in &self.env {
            command.env(name, value);
        }
        command
    }

    /// Writes `yaml` as `.archon/workflows/FILE` of the project.
    pub fn write_workflow(&self, file: &str, yaml: &str) {
        let workflows = self.project().join(".archon/workflows");
        std::fs::create_dir_all(&workflows).unwrap();
        std::fs::write(workflows.join(file), yaml).unwrap();
    }

    /// Starts `archon ARGS` without waiting, its output discarded.
    pub fn spawn_quietly(&self, args: &[&str]) -> std::process::Child {
        self.command(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("archon starts")
    }

    pub fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("archon runs")
    }

    /// Runs and expects exit code `code`; returns (stdout, stderr).
    pub fn expect(&self, args: &[&str], code: i32) -> (String, String) {
        let output = self.run(args);
        let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
        let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
        assert_eq!(
            output.status.code(),
            Some(code),
            "archon {args:?}\n--- stdout\n{stdout}\n--- stderr\n{stderr}"
        );
        (stdout, stderr)
    }

    /// Marks the first-run notice as seen, so a test's first command is an ordinary run.
    pub fn seen_notice(&self) {
        std::fs::create_dir_all(self.archon_home()).unwrap();
        std::fs::write(self.archon_home().join(".first-run-completed"), "").unwrap();
    }

    /// The `events` of `archon telemetry inspect`.
    pub fn inspect(&self) -> Vec<Value> {
        let (stdout, _) = self.expect(&["telemetry", "inspect"], 0);
        let json: Value = serde_json::from_str(&stdout).expect("inspect prints JSON");
        json["events"].as_array().unwrap().clone()
    }

    /// Every file under the temporary folder, with its contents (for leak checks).
    pub fn all_file_contents(&self) -> String {
        let mut text = String::new();
        collect(self.dir.path(), &mut text);
        text
    }
}

fn collect(dir: &Path, text: &mut String) {
    for entry in std::fs::read_dir(dir).into_iter().flatten().flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, text);
        } else if let Ok(bytes) = std::fs::read(&path) {
            text.push_str(&String::from_utf8_lossy(&bytes));
        }
    }
}

/// Waits (up to `limit`) for `condition`. A bound on waiting for a detached process, not a
/// speed assertion.
pub fn wait_until(limit: Duration, mut condition: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < limit {
        if condition() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    condition()
}

/// Sends SIGTERM to `child` (an archon this test started) and returns how it ended, waiting
/// at most 10 s for it to end.
#[cfg(unix)]
pub fn terminate(child: &mut std::process::Child) -> std::process::ExitStatus {
    send_signal(child, libc::SIGTERM);
    ended_within(child, Duration::from_secs(10)).expect("archon ends after SIGTERM")
}

/// Sends `signal` to `child`, an archon this test started.
#[cfg(unix)]
pub fn send_signal(child: &std::process::Child, signal: libc::c_int) {
    // SAFETY: sending a signal to our own child process.
    #[allow(unsafe_code)]
    unsafe {
        libc::kill(child.id() as libc::pid_t, signal);
    }
}

/// How `child` ended, if it ends within `limit`.
pub fn ended_within(
    child: &mut std::process::Child,
    limit: Duration,
) -> Option<std::process::ExitStatus> {
    let mut status = None;
    wait_until(limit, || {
        status = child.try_wait().unwrap();
        status.is_some()
    });
    status
}

/// Takes telemetry's store lock in `archon_home` as another archon process would, so that an
/// archon started meanwhile waits at its next write; released when the file is dropped.
pub fn hold_store_lock(archon_home: &Path) -> std::fs::File {
    let dir = archon_home.join("telemetry");
    std::fs::create_dir_all(&dir).unwrap();
    let file = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(dir.join("lock"))
        .unwrap();
    file.lock().unwrap();
    file
}

/// Takes the delivery lock in `archon_home` as a running delivery holds it, so that the archon
/// commands run meanwhile start none; released when the file is dropped.
pub fn hold_delivery_lock(archon_home: &Path) -> std::fs::File {
    let dir = archon_home.join("telemetry");
    std::fs::create_dir_all(&dir).unwrap();
    let file = std::fs::File::create(dir.join("delivery.lock")).unwrap();
    file.lock().unwrap();
    file
}

/// Whether process `pid` has telemetry's store lock in `archon_home` open (it opens it just
/// before it waits for the lock).
#[cfg(target_os = "linux")]
pub fn has_store_lock_open(pid: u32, archon_home: &Path) -> bool {
    // As /proc shows it: without symbolic links in the way.
    let Ok(lock) = std::fs::canonicalize(archon_home.join("telemetry").join("lock")) else {
        return false;
    };
    std::fs::read_dir(format!("/proc/{pid}/fd")).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|entry| std::fs::read_link(entry.path()).is_ok_and(|target| target == lock))
    })
}

/// How long tests wait for the detached delivery process.
pub const DELIVERY_WAIT: Duration = Duration::from_secs(30);

/// Event names in `events`.
pub fn names(events: &[Value]) -> Vec<String> {
    events
        .iter()
        .map(|e| e["event"].as_str().unwrap_or_default().to_owned())
        .collect()
}
