//! Helpers shared by the integration tests: a temporary working directory with workflow and
//! command files, fake assistant programs, captured output.

#![allow(dead_code)] // each test file uses a different part

use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use archon_workflows::Output;
use tempfile::TempDir;

/// A temporary working directory.
pub struct Dir {
    pub temp: TempDir,
}

impl Dir {
    pub fn new() -> Dir {
        Dir {
            temp: tempfile::tempdir().unwrap(),
        }
    }

    pub fn path(&self) -> &Path {
        self.temp.path()
    }

    /// Writes `.archon/workflows/<file>` and returns its path.
    pub fn workflow(&self, file: &str, yaml: &str) -> PathBuf {
        self.write(&format!(".archon/workflows/{file}"), yaml.as_bytes())
    }

    /// Writes `.archon/commands/<name>.md`.
    pub fn command(&self, name: &str, prompt: &str) -> PathBuf {
        self.write(&format!(".archon/commands/{name}.md"), prompt.as_bytes())
    }

    pub fn write(&self, relative: &str, bytes: &[u8]) -> PathBuf {
        let path = self.path().join(relative);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, bytes).unwrap();
        path
    }

    pub fn read(&self, relative: &str) -> String {
        std::fs::read_to_string(self.path().join(relative))
            .unwrap_or_else(|e| panic!("{relative}: {e}"))
    }

    pub fn exists(&self, relative: &str) -> bool {
        self.path().join(relative).exists()
    }

    /// A fake assistant: a shell script that records its arguments (NUL-separated, in
    /// `<cwd>/<name>.args`), its working directory and `ARCHON_MESSAGE`, then runs `body`.
    pub fn fake_assistant(&self, name: &str, body: &str) -> PathBuf {
        let script = format!(
            "#!/bin/sh\n\
             [ \"$1\" = --archon-test-probe ] && exit 0\n\
             for a in \"$@\"; do printf '%s\\0' \"$a\"; done > \"$PWD/{name}.args\"\n\
             pwd > \"$PWD/{name}.cwd\"\n\
             printf '%s' \"$ARCHON_MESSAGE\" > \"$PWD/{name}.message\"\n\
             {body}\n"
        );
        let path = self.write(&format!("bin/{name}"), script.as_bytes());
        make_executable(&path);
        wait_until_executable(&path);
        path
    }

    /// The arguments a fake assistant received.
    pub fn fake_args(&self, name: &str) -> Vec<String> {
        let raw = self.read(&format!("{name}.args"));
        raw.split_terminator('\0').map(str::to_owned).collect()
    }
}

#[cfg(unix)]
fn make_executable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o755)).unwrap();
}

#[cfg(not(unix))]
fn make_executable(_: &Path) {}

/// Tests run in parallel threads: a thread that forks while this one still has the script open
/// for writing gives its child a copy of that descriptor, and executing the script fails with
/// ETXTBSY ("text file busy") until that child has exec'd. Run it once until it works, so the
/// test itself never sees that.
fn wait_until_executable(path: &Path) {
    for _ in 0..200 {
        match std::process::Command::new(path)
            .arg("--archon-test-probe")
            .status()
        {
            Ok(_) => return,
            Err(e) if e.kind() == io::ErrorKind::ExecutableFileBusy => {
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
            Err(e) => panic!("{}: {e}", path.display()),
        }
    }
    panic!("{} stayed busy", path.display());
}

/// A writer whose bytes the test can read afterwards.
#[derive(Clone, Default)]
pub struct Captured(Arc<Mutex<Vec<u8>>>);

impl Captured {
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap()).into_owned()
    }
}

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        Ok(())
    }
}

/// An `Output` that captures, and the two captured streams (stdout, stderr).
pub fn captured_output() -> (Output, Captured, Captured) {
    let (stdout, stderr) = (Captured::default(), Captured::default());
    (Output::new(stdout.clone(), stderr.clone()), stdout, stderr)
}
