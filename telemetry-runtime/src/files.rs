//! File operations with the safety rules telemetry's files need: private permissions, no
//! writing through symlinks, atomic replacement, size limits on reads, and locks between
//! parallel archon processes.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Permissions of every file telemetry writes: readable by the user only.
pub const PRIVATE_FILE_MODE: u32 = 0o600;
/// Permissions of a folder telemetry creates.
pub const PRIVATE_DIR_MODE: u32 = 0o700;

/// How long a lock held by another process is waited for. Every archon process holds the store's
/// lock for a fraction of a second at most (compacting a full queue takes longest); one held
/// longer belongs to a process that is stopped or hung, and must not hang archon's commands.
pub const LOCK_WAIT: Duration = Duration::from_secs(5);

/// Creates `dir` (and missing parents) readable by the user only. An existing folder is left as
/// it is: it is the user's.
pub fn ensure_private_dir(dir: &Path) -> io::Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut builder, PRIVATE_DIR_MODE);
    builder.create(dir)
}

/// Options that refuse to open the last path component when it is a symlink, so that a link
/// planted at one of telemetry's paths is never written (or read) through, and that do not
/// wait when the path is a FIFO with no reader (opening one for writing would block forever;
/// `O_NONBLOCK` changes nothing for regular files).
fn no_follow(options: &mut OpenOptions) -> &mut OpenOptions {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options
            .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK)
            .mode(PRIVATE_FILE_MODE);
    }
    options
}

/// Appends the line `bytes` to `path` (created 0600 if needed) in one write, and returns the
/// file's size afterwards. If the file does not end with a newline (a write cut short by a full
/// disk or a crash, or bytes that are not archon's), a newline is written first, so the new line
/// is never glued to the broken one and lost with it.
pub fn append(path: &Path, bytes: &[u8]) -> io::Result<u64> {
    append_unnamed(path, bytes).map_err(|error| about(path, error))
}

fn append_unnamed(path: &Path, bytes: &[u8]) -> io::Result<u64> {
    let mut file = no_follow(OpenOptions::new().read(true).append(true).create(true)).open(path)?;
    let metadata = file.metadata()?;
    if !metadata.is_file() {
        return Err(not_a_regular_file());
    }
    let len = metadata.len();
    if len > 0 && last_byte(&file, len)? != b'\n' {
        let mut line = Vec::with_capacity(bytes.len() + 1);
        line.push(b'\n');
        line.extend_from_slice(bytes);
        file.write_all(&line)?;
        return Ok(len + line.len() as u64);
    }
    file.write_all(bytes)?;
    Ok(len + bytes.len() as u64)
}

/// The byte at `len - 1` of `file` (opened for reading), read without moving the position.
fn last_byte(file: &File, len: u64) -> io::Result<u8> {
    let mut byte = [0u8];
    #[cfg(unix)]
    std::os::unix::fs::FileExt::read_exact_at(file, &mut byte, len - 1)?;
    #[cfg(not(unix))]
    {
        use std::io::{Seek, SeekFrom};
        let mut file = file;
        file.seek(SeekFrom::Start(len - 1))?;
        file.read_exact(&mut byte)?;
    }
    Ok(byte[0])
}

/// The contents of `path`, or `None` when it does not exist. Refuses symlinks, anything that
/// is not a regular file, and files over `max_bytes`.
pub fn read_limited(path: &Path, max_bytes: u64) -> io::Result<Option<Vec<u8>>> {
    read_limited_opened(
        no_follow(OpenOptions::new().read(true)).open(path),
        max_bytes,
    )
    .map_err(|error| about(path, error))
}

/// [`read_limited`] for a file of the user's own, such as config.yaml, which may be a symlink
/// (dotfile managers make it one): a link this user owns is followed (see [`link_target`]).
/// Anything that is not a regular file is still refused without blocking (a FIFO, say).
///
/// The path is opened as it is first: a file that is missing or is no link, as usual, costs one
/// `open`, which every archon command pays when it reads config.yaml. Only a link (refused by
/// that `open`) is followed, by [`link_target`]'s rules.
pub fn read_limited_following_links(path: &Path, max_bytes: u64) -> io::Result<Option<Vec<u8>>> {
    match no_follow(OpenOptions::new().read(true)).open(path) {
        Err(error) if is_a_link_refused(&error) => {}
        opened => return read_limited_opened(opened, max_bytes),
    }
    let target = link_target(path)?;
    read_limited_opened(
        no_follow(OpenOptions::new().read(true)).open(target),
        max_bytes,
    )
}

/// Whether `error` is an `open` with `O_NOFOLLOW` refusing a symbolic link: `ELOOP` on Linux
/// and macOS, `EMLINK` on FreeBSD and `EFTYPE` on NetBSD.
#[cfg(unix)]
fn is_a_link_refused(error: &io::Error) -> bool {
    let refusals = [
        Some(libc::ELOOP),
        #[cfg(any(target_os = "freebsd", target_os = "dragonfly"))]
        Some(libc::EMLINK),
        #[cfg(target_os = "netbsd")]
        Some(libc::EFTYPE),
    ];
    refusals.contains(&error.raw_os_error())
}

#[cfg(not(unix))]
fn is_a_link_refused(_error: &io::Error) -> bool {
    false
}

fn read_limited_opened(opened: io::Result<File>, max_bytes: u64) -> io::Result<Option<Vec<u8>>> {
    let mut file = match opened {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(error),
    };
    let metadata = file.metadata()?;
    if !metadata.is_file() {
        return Err(not_a_regular_file());
    }
    // Sized from the metadata so the file is read in one or two calls, not in doubling chunks;
    // the size is only a hint (the file may change while it is read).
    let mut contents = Vec::with_capacity(metadata.len().min(max_bytes) as usize + 1);
    // Read one byte past the limit to tell "exactly the limit" from "too large" without
    // trusting the size in the metadata.
    Read::by_ref(&mut file)
        .take(max_bytes + 1)
        .read_to_end(&mut contents)?;
    if contents.len() as u64 > max_bytes {
        return Err(io::Error::new(
            io::ErrorKind::FileTooLarge,
            format!("larger than {max_bytes} bytes"),
        ));
    }
    Ok(Some(contents))
}

/// Replaces `path` with `contents` in one step (a temporary file renamed over it), so a reader
/// sees the old or the new contents, never a mix. Renaming over a symlink replaces the link
/// itself, not the file it points to.
pub fn write_atomic(path: &Path, contents: &[u8], mode: u32) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let mut temp = tempfile::Builder::new()
        .prefix(".archon-")
        .suffix(".tmp")
        .tempfile_in(dir)
        // Said in terms of the folder: the temporary file's random name means nothing to the
        // user reading the error.
        .map_err(|error| {
            let kind = error.kind();
            // The system's own words, without the temporary file's path that tempfile appends
            // (`… at path "…"`).
            let text = error.to_string();
            let reason = text.split(" at path ").next().unwrap_or(&text).to_owned();
            io::Error::new(
                kind,
                format!("no file can be created in {}: {reason}", dir.display()),
            )
        })?;
    temp.write_all(contents)
        .map_err(|error| about(path, error))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        temp.as_file()
            .set_permissions(fs::Permissions::from_mode(mode))?;
    }
    #[cfg(not(unix))]
    let _ = mode;
    // The file keeps its owner: root editing a user's config.yaml (`sudo archon setup` with
    // their `$HOME`) must not leave a file the user can no longer read. (Only root can give a
    // file away; for anyone else this changes nothing or is refused, which is fine.)
    #[cfg(unix)]
    if let Ok(old) = fs::symlink_metadata(path) {
        use std::os::unix::fs::MetadataExt;
        if old.is_file() {
            let _ = std::os::unix::fs::fchown(temp.as_file(), Some(old.uid()), Some(old.gid()));
        }
    }
    temp.persist(path)
        .map_err(|error| about(path, error.error))?;
    Ok(())
}

/// The file a symlink at `path` points to (through any chain of links, relative ones from the
/// link's folder), or `path` itself when it is not a link: where a read of the user's own file
/// goes, and where a write goes so that the link stays a link. A chain of more than 20 links is
/// an error.
///
/// Only links owned by the user archon runs as, or by root, are followed: `sudo archon` with the
/// user's `$HOME` must not be steered by a link the user planted into reading or replacing a
/// file of root's, and root's own links (a Nix store's, a shared `/etc` file's) are as
/// trustworthy as root. Where a link leads, the file's own permissions decide.
pub fn link_target(path: &Path) -> io::Result<PathBuf> {
    let mut current = path.to_owned();
    for _ in 0..20 {
        match fs::symlink_metadata(&current) {
            Ok(metadata) if metadata.file_type().is_symlink() => {
                if !owned_by_this_user_or_root(&metadata) {
                    return Err(foreign_link(&current));
                }
                let target = fs::read_link(&current)?;
                current = match current.parent() {
                    Some(dir) if target.is_relative() => dir.join(target),
                    _ => target,
                };
            }
            _ => return Ok(current),
        }
    }
    Err(io::Error::new(
        io::ErrorKind::InvalidInput,
        "a chain of more than 20 symbolic links",
    ))
}

/// Refuses `folder` when it is a symbolic link owned by another user, by the rule of
/// [`link_target`]: for the folders archon writes in, `$ARCHON_HOME` and its `telemetry`
/// folder, which its other checks only look inside. Reached through such a link, `sudo archon`
/// with a user's `$HOME` would create, replace and delete files of root's wherever the link
/// leads. A real folder, a missing one, or a link of this user's or root's passes.
pub fn refuse_foreign_link(folder: &Path) -> io::Result<()> {
    match fs::symlink_metadata(folder) {
        Ok(metadata)
            if metadata.file_type().is_symlink() && !owned_by_this_user_or_root(&metadata) =>
        {
            Err(foreign_link(folder))
        }
        _ => Ok(()),
    }
}

fn foreign_link(path: &Path) -> io::Error {
    io::Error::new(
        io::ErrorKind::PermissionDenied,
        format!(
            "{} is a symbolic link owned by another user, which archon does not follow",
            path.display()
        ),
    )
}

#[cfg(unix)]
fn owned_by_this_user_or_root(metadata: &fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    metadata.uid() == rustix::process::geteuid().as_raw() || metadata.uid() == 0
}

#[cfg(not(unix))]
fn owned_by_this_user_or_root(_metadata: &fs::Metadata) -> bool {
    true
}

/// Removes `path` if it exists (a symlink is removed, not its target).
pub fn remove_if_exists(path: &Path) -> io::Result<()> {
    remove_if_exists_unnamed(path).map_err(|error| about(path, error))
}

fn remove_if_exists_unnamed(path: &Path) -> io::Result<()> {
    match fs::remove_file(path) {
        Err(error) if error.kind() == io::ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

/// `error`, saying which file it is about (for `archon telemetry status`), of the same kind.
/// An error that names `path` already is returned as it is.
pub(crate) fn with_path(path: &Path, error: io::Error) -> io::Error {
    let shown = path.display().to_string();
    if error.to_string().starts_with(&shown) {
        return error;
    }
    io::Error::new(error.kind(), format!("{shown}: {error}"))
}

/// The first folder on the way to `path` that is a file instead, if there is one (the cause of
/// "Not a directory").
pub(crate) fn file_in_the_way(path: &Path) -> Option<&Path> {
    path.ancestors()
        .skip(1)
        .filter(|dir| !dir.as_os_str().is_empty())
        .find(|dir| fs::metadata(dir).is_ok_and(|m| !m.is_dir()))
}

/// `error` from one of telemetry's own files at `path`, naming the file and, for the kinds of
/// file telemetry refuses, saying in plain words what is wrong and what to do: the system's
/// words are misleading here (a planted symlink shows as "Too many levels of symbolic links").
fn about(path: &Path, error: io::Error) -> io::Error {
    #[cfg(unix)]
    let plain = match error.raw_os_error() {
        Some(libc::ELOOP) => Some(
            "is a symbolic link, and telemetry never follows links for its own files; remove it"
                .to_owned(),
        ),
        Some(libc::EISDIR) => {
            Some("is a folder where telemetry keeps a file; remove it".to_owned())
        }
        // A file where a folder on the way belongs (telemetry's folder, or `$ARCHON_HOME`):
        // "Not a directory" about a file that does not exist would send the user looking for it.
        Some(libc::ENOTDIR) => file_in_the_way(path).map(|file| {
            format!(
                "cannot be made: {} is a file where a folder belongs; remove it (or, if it \
                     is $ARCHON_HOME, set ARCHON_HOME to a folder)",
                file.display()
            )
        }),
        _ => None,
    };
    #[cfg(not(unix))]
    let plain: Option<String> = None;
    match plain {
        Some(text) => with_path(path, io::Error::new(error.kind(), text)),
        None => with_path(path, error),
    }
}

fn require_regular_file(file: &File) -> io::Result<()> {
    if file.metadata()?.is_file() {
        Ok(())
    } else {
        Err(not_a_regular_file())
    }
}

fn not_a_regular_file() -> io::Error {
    io::Error::new(
        io::ErrorKind::InvalidInput,
        "is not a regular file (a folder or a pipe, say); remove it",
    )
}

/// An exclusive lock on a lock file, released when dropped. Locks are advisory: they order
/// archon processes among themselves.
#[derive(Debug)]
pub struct FileLock {
    _file: File,
}

/// A lock held on a lock file that stays open (so a process that records many events opens it
/// once), released when dropped.
#[derive(Debug)]
pub struct HeldLock<'a> {
    file: &'a File,
}

impl<'a> HeldLock<'a> {
    /// Takes the lock on the open lock file `file`, waiting at most [`LOCK_WAIT`].
    pub fn acquire(file: &'a File) -> io::Result<HeldLock<'a>> {
        lock_waiting_at_most(file, LOCK_WAIT)?;
        Ok(HeldLock { file })
    }
}

impl Drop for HeldLock<'_> {
    fn drop(&mut self) {
        let _ = self.file.unlock();
    }
}

impl FileLock {
    /// Takes the lock at `path`, waiting at most [`LOCK_WAIT`].
    pub fn acquire(path: &Path) -> io::Result<FileLock> {
        FileLock::hold(open_lock_file(path)?)
    }

    /// Takes the lock on `file`, an open lock file, waiting at most [`LOCK_WAIT`], and holds it
    /// until dropped.
    pub fn hold(file: File) -> io::Result<FileLock> {
        lock_waiting_at_most(&file, LOCK_WAIT)?;
        Ok(FileLock { _file: file })
    }

    /// Takes the lock at `path` if no other process holds it.
    pub fn try_acquire(path: &Path) -> io::Result<Option<FileLock>> {
        let file = open_lock_file(path)?;
        match file.try_lock() {
            Ok(()) => Ok(Some(FileLock { _file: file })),
            Err(fs::TryLockError::WouldBlock) => Ok(None),
            Err(fs::TryLockError::Error(error)) => Err(error),
        }
    }
}

/// Takes the lock on `file`, trying again with growing pauses while another process holds it,
/// for at most `limit`; then fails with [`io::ErrorKind::TimedOut`]. (A blocking `flock` cannot
/// be given a limit.) Uncontended, as usual, it is one call.
fn lock_waiting_at_most(file: &File, limit: Duration) -> io::Result<()> {
    let deadline = Instant::now() + limit;
    let mut pause = Duration::from_micros(200);
    loop {
        match file.try_lock() {
            Ok(()) => return Ok(()),
            Err(fs::TryLockError::Error(error)) => return Err(error),
            Err(fs::TryLockError::WouldBlock) if Instant::now() >= deadline => {
                return Err(io::Error::new(
                    io::ErrorKind::TimedOut,
                    format!(
                        "locked by another process for more than {} s (a stopped or hung archon? \
                         telemetry waits no longer)",
                        limit.as_secs()
                    ),
                ));
            }
            Err(fs::TryLockError::WouldBlock) => {
                std::thread::sleep(pause);
                pause = (pause * 2).min(Duration::from_millis(10));
            }
        }
    }
}

/// Opens (creating) the lock file at `path`, refusing anything that is not a regular file.
pub fn open_lock_file(path: &Path) -> io::Result<File> {
    let open = || {
        let file = no_follow(OpenOptions::new().read(true).write(true).create(true)).open(path)?;
        require_regular_file(&file)?;
        Ok(file)
    };
    open().map_err(|error| about(path, error))
}

#[cfg(all(test, unix))]
mod tests {
    use super::*;
    use std::os::unix::fs::{symlink, PermissionsExt};

    #[test]
    fn a_file_that_cannot_be_written_is_reported_by_its_folder() {
        let dir = tempfile::tempdir().unwrap();
        let missing = dir.path().join("missing");
        let error =
            write_atomic(&missing.join("config.yaml"), b"x", PRIVATE_FILE_MODE).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::NotFound);
        let message = error.to_string();
        assert!(
            message.starts_with(&format!("no file can be created in {}", missing.display())),
            "{message}"
        );
        assert!(!message.contains(".archon-"), "{message}");
        assert!(
            message.ends_with("(os error 2)"),
            "the system's words: {message}"
        );
    }

    #[test]
    fn never_writes_through_a_symlink() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("precious");
        fs::write(&target, "keep me").unwrap();
        let link = dir.path().join("queue");
        symlink(&target, &link).unwrap();

        // Refused, in words that name the file and say what is wrong with it.
        for error in [
            append(&link, b"x").unwrap_err(),
            read_limited(&link, 100).unwrap_err(),
            FileLock::acquire(&link).unwrap_err(),
        ] {
            let text = error.to_string();
            assert!(text.starts_with(&link.display().to_string()), "{text}");
            assert!(text.contains("is a symbolic link"), "{text}");
        }
        write_atomic(&link, b"new", PRIVATE_FILE_MODE).unwrap();

        assert_eq!(fs::read_to_string(&target).unwrap(), "keep me");
        assert!(!fs::symlink_metadata(&link).unwrap().is_symlink());
        assert_eq!(fs::read_to_string(&link).unwrap(), "new");
    }

    #[test]
    fn files_are_private() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home/.archon");
        ensure_private_dir(&home).unwrap();
        let mode = |p: &Path| fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&home), 0o700);
        let appended = home.join("a");
        assert_eq!(append(&appended, b"1\n").unwrap(), 2);
        assert_eq!(append(&appended, b"34\n").unwrap(), 5);
        assert_eq!(mode(&appended), 0o600);
        let replaced = home.join("b");
        write_atomic(&replaced, b"x", PRIVATE_FILE_MODE).unwrap();
        assert_eq!(mode(&replaced), 0o600);
    }

    #[test]
    fn an_append_after_a_line_cut_short_starts_a_new_line() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("queue");
        fs::write(&path, b"{\"cut sh").unwrap();
        assert_eq!(append(&path, b"{}\n").unwrap(), 12);
        assert_eq!(append(&path, b"[]\n").unwrap(), 15);
        assert_eq!(fs::read(&path).unwrap(), b"{\"cut sh\n{}\n[]\n");
    }

    #[test]
    fn reads_are_limited() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("f");
        fs::write(&path, vec![b'x'; 11]).unwrap();
        assert_eq!(read_limited(&path, 11).unwrap().unwrap().len(), 11);
        assert_eq!(
            read_limited(&path, 10).unwrap_err().kind(),
            io::ErrorKind::FileTooLarge
        );
        assert!(read_limited(&dir.path().join("missing"), 10)
            .unwrap()
            .is_none());
        assert!(read_limited(dir.path(), 10).is_err());
    }

    #[test]
    fn a_fifo_is_refused_without_blocking() {
        let dir = tempfile::tempdir().unwrap();
        let fifo = dir.path().join("queue");
        let c_path = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
        // SAFETY: a valid NUL-terminated path.
        #[allow(unsafe_code)]
        let made = unsafe { libc::mkfifo(c_path.as_ptr(), 0o600) };
        assert_eq!(made, 0);
        assert!(append(&fifo, b"x").is_err());
        assert!(read_limited(&fifo, 10).is_err());
        assert!(FileLock::acquire(&fifo).is_err());
    }

    #[test]
    fn a_lock_held_elsewhere_is_waited_for_a_bounded_time() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lock");
        let held = FileLock::acquire(&path).unwrap();
        let other = open_lock_file(&path).unwrap();
        let error = lock_waiting_at_most(&other, Duration::from_millis(50)).unwrap_err();
        assert_eq!(error.kind(), io::ErrorKind::TimedOut);
        assert!(error.to_string().contains("another process"), "{error}");
        // Let go of, it is taken.
        drop(held);
        lock_waiting_at_most(&other, Duration::from_millis(50)).unwrap();
    }

    #[test]
    fn a_lock_let_go_of_while_waiting_is_taken() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lock");
        let held = FileLock::acquire(&path).unwrap();
        let releaser = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            drop(held);
        });
        let other = open_lock_file(&path).unwrap();
        lock_waiting_at_most(&other, Duration::from_secs(20)).unwrap();
        releaser.join().unwrap();
    }

    #[test]
    fn try_acquire_sees_a_held_lock() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("lock");
        let held = FileLock::acquire(&path).unwrap();
        assert!(FileLock::try_acquire(&path).unwrap().is_none());
        drop(held);
        assert!(FileLock::try_acquire(&path).unwrap().is_some());
    }
}
