//! Reading the user's workflow and command files defensively.

use std::fs;
use std::io::Read;
use std::path::Path;

/// The largest workflow or command file archon reads. Real ones are a few KiB; the limit keeps a
/// mistaken or hostile file (a log, a multi-GiB blob) from being read into memory and parsed.
pub const MAX_FILE_BYTES: u64 = 1024 * 1024;

/// The text of the file at `path`, or a message saying why it cannot be used.
///
/// Symlinks are followed (the file is the user's, wherever it points). Anything but a regular
/// file is refused before reading, because reading a FIFO blocks forever and a device such as
/// `/dev/zero` never ends; and at most `MAX_FILE_BYTES + 1` bytes are read, so that a file
/// growing between the size check and the read is still refused.
pub(crate) fn read_text(path: &Path) -> Result<String, String> {
    let metadata = fs::metadata(path).map_err(|e| format!("cannot read the file: {e}"))?;
    if !metadata.is_file() {
        return Err("not a regular file".into());
    }
    if metadata.len() > MAX_FILE_BYTES {
        return Err(too_large(metadata.len()));
    }
    let file = fs::File::open(path).map_err(|e| format!("cannot read the file: {e}"))?;
    let mut bytes = Vec::new();
    file.take(MAX_FILE_BYTES + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| format!("cannot read the file: {e}"))?;
    if bytes.len() as u64 > MAX_FILE_BYTES {
        return Err(too_large(bytes.len() as u64));
    }
    String::from_utf8(bytes).map_err(|_| "not UTF-8 text".into())
}

fn too_large(bytes: u64) -> String {
    format!(
        "the file is too large ({} KiB; the limit is {} KiB)",
        bytes.div_ceil(1024),
        MAX_FILE_BYTES / 1024
    )
}
