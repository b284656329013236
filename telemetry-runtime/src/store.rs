//! Where telemetry keeps its files, and the lock that orders archon processes using them.
//!
//! ```text
//! $ARCHON_HOME/config.yaml          the user's settings (edited losslessly)
//! $ARCHON_HOME/telemetry-id         the anonymous id (0600), only while telemetry is on
//! $ARCHON_HOME/telemetry/           telemetry's own folder (0700)
//!     queue.jsonl                   events waiting to be sent, one wire object a line
//!     recent.jsonl                  the last events kept locally or gone from the queue, for `inspect`
//!     state.json                    opt-in time, delivery outcomes, dropped-event counts
//!     withdrawn                     replaced at each withdrawal of the waiting events (see `withdrawal`)
//!     lock                          held briefly while the queue, the recent events, the state or the id is changed (not config.yaml)
//!     delivery.lock                 held by the delivery process for as long as it runs
//! ```

use crate::files::{self, FileLock};
use std::io;
use std::path::{Path, PathBuf};

/// The files under one `$ARCHON_HOME`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Store {
    home: PathBuf,
}

impl Store {
    /// The store under `home` (`$ARCHON_HOME`).
    pub fn new(home: impl Into<PathBuf>) -> Self {
        Store { home: home.into() }
    }

    /// `$ARCHON_HOME`.
    pub fn home(&self) -> &Path {
        &self.home
    }

    /// The user's config file.
    pub fn config_path(&self) -> PathBuf {
        self.home.join("config.yaml")
    }

    /// The anonymous id.
    pub fn identity_path(&self) -> PathBuf {
        self.home.join("telemetry-id")
    }

    /// Telemetry's own folder.
    pub fn dir(&self) -> PathBuf {
        self.home.join("telemetry")
    }

    pub(crate) fn queue_path(&self) -> PathBuf {
        self.dir().join("queue.jsonl")
    }

    pub(crate) fn recent_path(&self) -> PathBuf {
        self.dir().join("recent.jsonl")
    }

    pub(crate) fn state_path(&self) -> PathBuf {
        self.dir().join("state.json")
    }

    pub(crate) fn withdrawal_mark_path(&self) -> PathBuf {
        self.dir().join("withdrawn")
    }

    pub(crate) fn delivery_lock_path(&self) -> PathBuf {
        self.dir().join("delivery.lock")
    }

    /// Takes the delivery lock (created if missing) if it is free; `None` when a delivery
    /// holds it. Refused, like the store's lock, when a folder is another user's link.
    pub(crate) fn try_lock_delivery(&self) -> io::Result<Option<FileLock>> {
        self.refuse_foreign_links()?;
        FileLock::try_acquire(&self.delivery_lock_path())
    }

    /// Takes the store's lock, creating telemetry's folder if needed. Every change to the
    /// queue, the recent events, the state or the identity happens while it is held, so
    /// parallel archon processes never interleave or lose writes.
    pub(crate) fn lock(&self) -> io::Result<FileLock> {
        FileLock::hold(self.open_lock_file()?).map_err(|e| files::with_path(&self.lock_path(), e))
    }

    /// Takes the store's lock only if telemetry's folder exists: for the delivery process, which
    /// must not bring back a home the user deleted while it ran.
    pub(crate) fn lock_existing(&self) -> io::Result<FileLock> {
        self.require_dir()?;
        FileLock::acquire(&self.lock_path()).map_err(|e| files::with_path(&self.lock_path(), e))
    }

    /// Takes the store's lock if it is free and telemetry's folder exists; `None` when another
    /// process holds it.
    pub(crate) fn try_lock_existing(&self) -> io::Result<Option<FileLock>> {
        self.require_dir()?;
        FileLock::try_acquire(&self.lock_path()).map_err(|e| files::with_path(&self.lock_path(), e))
    }

    /// Refuses `$ARCHON_HOME` or telemetry's folder when either is a symbolic link owned by
    /// another user (see [`files::refuse_foreign_link`]). Checked before anything in the store
    /// is locked, and so before anything in it is written.
    pub fn refuse_foreign_links(&self) -> io::Result<()> {
        files::refuse_foreign_link(&self.home)?;
        files::refuse_foreign_link(&self.dir())
    }

    /// NotFound unless telemetry's folder exists.
    fn require_dir(&self) -> io::Result<()> {
        self.refuse_foreign_links()?;
        if self.dir().is_dir() {
            Ok(())
        } else {
            Err(io::Error::new(
                io::ErrorKind::NotFound,
                "telemetry's folder is gone",
            ))
        }
    }

    /// The store's lock file, opened (and telemetry's folder created if it is missing), for
    /// [`Store::lock`] and for a caller that takes the lock many times.
    pub(crate) fn open_lock_file(&self) -> io::Result<std::fs::File> {
        self.refuse_foreign_links()?;
        // Opened first, the folder made only when that fails: on every run but the first, one
        // call fewer on archon's exit path.
        match files::open_lock_file(&self.lock_path()) {
            Err(error) if error.kind() == io::ErrorKind::NotFound => {
                files::ensure_private_dir(&self.dir())
                    .map_err(|e| files::with_path(&self.dir(), e))?;
                files::open_lock_file(&self.lock_path())
            }
            other => other,
        }
        .map_err(|e| files::with_path(&self.lock_path(), e))
    }

    fn lock_path(&self) -> PathBuf {
        self.dir().join("lock")
    }
}
