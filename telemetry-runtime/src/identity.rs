//! The anonymous id: a random UUID v4 in `$ARCHON_HOME/telemetry-id`, created only when
//! telemetry is on. Nothing about the machine or the person goes into it; deleting the file
//! (`archon telemetry clear`) makes the next one unrelated to the last.

use crate::files;
use crate::store::Store;
use crate::wire::WireEvent;
use std::io;
use std::time::SystemTime;
use uuid::Uuid;

/// An existing anonymous id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Identity {
    /// The id.
    pub id: Uuid,
    /// When the file was written, if the file system says.
    pub created: Option<SystemTime>,
}

/// The id file holds 36 characters and a newline; anything much larger is not ours.
const MAX_ID_BYTES: u64 = 128;

/// The current id and when it was made, if the file holds a valid UUID.
pub fn read(store: &Store) -> Option<Identity> {
    let id = read_id(store)?;
    let created = std::fs::symlink_metadata(store.identity_path())
        .and_then(|metadata| metadata.modified())
        .ok();
    Some(Identity { id, created })
}

/// The current id alone: what recording needs, without asking when it was made.
pub(crate) fn read_id(store: &Store) -> Option<Uuid> {
    let bytes = files::read_limited(&store.identity_path(), MAX_ID_BYTES).ok()??;
    Uuid::try_parse(std::str::from_utf8(&bytes).ok()?.trim()).ok()
}

/// Whether the queued `event` may still be sent when the current id is `current`: it carries
/// none, or the current one. An event under any other id was recorded before that id was
/// deleted (by `archon telemetry clear`, or by hand): sent, it would link the deleted id to the
/// new one, so the delivery discards it, and `inspect` and `status` say so.
pub(crate) fn still_linked(event: &WireEvent, current: Option<&Uuid>) -> bool {
    match (event.distinct_id.as_deref(), current) {
        (None, _) => true,
        // As archon writes ids: hyphenated, lower case.
        (Some(event_id), Some(current)) => {
            event_id
                == current
                    .hyphenated()
                    .encode_lower(&mut Uuid::encode_buffer())
        }
        (Some(_), None) => false,
    }
}

/// The id, created if there is none (or the file holds something that is not a UUID). Parallel
/// processes agree on one id: creation happens under the store's lock.
pub fn get_or_create(store: &Store) -> io::Result<Uuid> {
    get_or_create_noting(store).map(|(id, _)| id)
}

/// [`get_or_create`], and whether this call created the id.
pub fn get_or_create_noting(store: &Store) -> io::Result<(Uuid, bool)> {
    if let Some(id) = read_id(store) {
        return Ok((id, false));
    }
    let _lock = store.lock()?;
    if let Some(id) = read_id(store) {
        return Ok((id, false));
    }
    let id = Uuid::new_v4();
    files::write_atomic(
        &store.identity_path(),
        format!("{id}\n").as_bytes(),
        files::PRIVATE_FILE_MODE,
    )
    .map_err(|error| files::with_path(&store.identity_path(), error))?;
    Ok((id, true))
}

/// Deletes the id. Returns whether there was a file.
pub fn clear(store: &Store) -> io::Result<bool> {
    // Under the lock when telemetry's folder exists; deleting the id is no reason to create it.
    let _lock = if store.dir().is_dir() {
        Some(store.lock_existing()?)
    } else {
        None
    };
    clear_locked(store)
}

/// [`clear`] for a caller that holds the lock (or knows telemetry's folder is missing).
pub(crate) fn clear_locked(store: &Store) -> io::Result<bool> {
    let existed = std::fs::symlink_metadata(store.identity_path()).is_ok();
    files::remove_if_exists(&store.identity_path())?;
    Ok(existed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;
    use std::fs;

    #[test]
    fn clearing_an_id_does_not_create_telemetrys_folder() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        fs::write(store.identity_path(), Uuid::new_v4().to_string()).unwrap();
        assert!(clear(&store).unwrap());
        assert!(!store.identity_path().exists());
        assert!(!store.dir().exists());
        assert!(!clear(&store).unwrap());
    }

    #[test]
    fn created_once_then_reused() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        assert!(read(&store).is_none());
        let id = get_or_create(&store).unwrap();
        assert_eq!(id.get_version_num(), 4);
        assert_eq!(get_or_create(&store).unwrap(), id);
        assert_eq!(read(&store).unwrap().id, id);
        assert!(read(&store).unwrap().created.is_some());
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = fs::metadata(store.identity_path())
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }

    #[test]
    fn garbage_is_replaced() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        fs::write(store.identity_path(), "not-a-uuid /home/me").unwrap();
        let id = get_or_create(&store).unwrap();
        assert_eq!(
            fs::read_to_string(store.identity_path()).unwrap().trim(),
            id.to_string()
        );
    }

    #[test]
    fn clear_deletes_and_a_new_id_differs() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let first = get_or_create(&store).unwrap();
        assert!(clear(&store).unwrap());
        assert!(!clear(&store).unwrap());
        assert!(read(&store).is_none());
        assert_ne!(get_or_create(&store).unwrap(), first);
    }

    #[test]
    fn parallel_creation_agrees_on_one_id() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let ids: HashSet<Uuid> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..16)
                .map(|_| scope.spawn(|| get_or_create(&store).unwrap()))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert_eq!(ids.len(), 1);
    }

    #[cfg(unix)]
    #[test]
    fn a_symlinked_id_file_is_replaced_not_written_through() {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::new(dir.path());
        let target = dir.path().join("elsewhere");
        fs::write(&target, "precious").unwrap();
        std::os::unix::fs::symlink(&target, store.identity_path()).unwrap();
        let id = get_or_create(&store).unwrap();
        assert_eq!(fs::read_to_string(&target).unwrap(), "precious");
        assert_eq!(read(&store).unwrap().id, id);
    }
}
