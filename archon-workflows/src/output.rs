//! Where a run writes: node output (prefixed with the node id) and status lines.

use std::io::{self, Write};
use std::sync::{Arc, Mutex, MutexGuard};

/// A writer shared by the threads that copy a node's stdout and stderr.
type Shared = Arc<Mutex<Box<dyn Write + Send>>>;

/// The two streams a run writes to: by default the process's stdout and stderr. Node stdout goes
/// to `stdout`; node stderr and archon's status lines go to `stderr`. Each line is written whole,
/// under a lock, so lines from different streams never mix mid-line.
#[derive(Clone)]
pub struct Output {
    stdout: Shared,
    stderr: Shared,
}

impl Output {
    /// The terminal: this process's stdout and stderr.
    pub fn terminal() -> Output {
        Output::new(io::stdout(), io::stderr())
    }

    /// Any two writers (tests capture output with this).
    pub fn new(stdout: impl Write + Send + 'static, stderr: impl Write + Send + 'static) -> Output {
        Output {
            stdout: Arc::new(Mutex::new(Box::new(stdout))),
            stderr: Arc::new(Mutex::new(Box::new(stderr))),
        }
    }

    /// Writes one status line (a newline is added) to the stderr stream.
    pub(crate) fn status(&self, line: &str) {
        let mut line = line.as_bytes().to_vec();
        line.push(b'\n');
        write_line(&self.stderr, &line);
    }

    pub(crate) fn stdout(&self) -> Shared {
        Arc::clone(&self.stdout)
    }

    pub(crate) fn stderr(&self) -> Shared {
        Arc::clone(&self.stderr)
    }
}

impl std::fmt::Debug for Output {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Output")
    }
}

/// Writes `line` (which ends with a newline) and flushes, so the user sees it now.
///
/// Write errors are ignored on purpose: when the user pipes archon into `head`, the node must
/// still run to its end, and its output must still be drained so that it does not block.
pub(crate) fn write_line(to: &Shared, line: &[u8]) {
    let mut writer = lock(to);
    let _ = writer.write_all(line);
    let _ = writer.flush();
}

/// Locks a writer even if a thread panicked while holding it: output is best effort, never a
/// reason to panic.
fn lock(shared: &Shared) -> MutexGuard<'_, Box<dyn Write + Send>> {
    shared
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}
