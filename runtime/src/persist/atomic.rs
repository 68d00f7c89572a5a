//! Crash-safe file replacement.
//!
//! The rule: a save either leaves the complete new file under the
//! destination's name or leaves the previous file untouched. Writing in place
//! breaks it (a crash halfway leaves a truncated file and loses the old one),
//! so the bytes go to a temporary file in the same directory (a rename is only
//! atomic within one file system), reach the disk through `sync_all`, and are
//! then renamed over the destination.

use std::ffi::OsStr;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

use super::PersistError;

/// Replaces `path` with `bytes` atomically: a temporary file in the same
/// directory is written, synced and renamed over `path`, so a crash leaves
/// either the old file or the new one, never a partial file.
///
/// # Errors
/// On any I/O failure; the temporary file is removed and `path` untouched.
pub fn write(path: &Path, bytes: &[u8]) -> Result<(), PersistError> {
    write_with(path, |file| file.write_all(bytes))
}

/// Replaces `path` atomically with whatever `fill` writes into a fresh file.
///
/// On any error the temporary file is removed and `path` is untouched.
pub(super) fn write_with(
    path: &Path,
    fill: impl FnOnce(&mut File) -> io::Result<()>,
) -> Result<(), PersistError> {
    let fail = |action: &'static str| {
        move |source: io::Error| PersistError::Io {
            action,
            path: path.to_path_buf(),
            source,
        }
    };
    let name = path.file_name().ok_or_else(|| {
        fail("write")(io::Error::new(
            io::ErrorKind::InvalidInput,
            "the path names no file",
        ))
    })?;
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    let (temp, mut file) = create_temp(dir, name).map_err(fail("create a temporary file for"))?;
    let result = fill(&mut file)
        .map_err(fail("write"))
        .and_then(|()| file.sync_all().map_err(fail("flush to disk")));
    drop(file);
    let result = result.and_then(|()| fs::rename(&temp, path).map_err(fail("replace")));
    if result.is_err() {
        // Best effort: the temporary file is hidden and never read, so a
        // leftover one only costs disk space.
        let _ = fs::remove_file(&temp);
    }
    result?;
    sync_dir(dir);
    Ok(())
}

/// Creates `.<name>.<pid>.<n>.tmp` in `dir`; `create_new` guarantees it is
/// ours even if another process saves to the same destination concurrently.
fn create_temp(dir: &Path, name: &OsStr) -> io::Result<(PathBuf, File)> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let mut attempts = 0;
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let mut temp_name = std::ffi::OsString::from(".");
        temp_name.push(name);
        temp_name.push(std::format!(".{}.{n}.tmp", std::process::id()));
        let temp = dir.join(temp_name);
        match OpenOptions::new().write(true).create_new(true).open(&temp) {
            Ok(file) => return Ok((temp, file)),
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists && attempts < 100 => attempts += 1,
            Err(e) => return Err(e),
        }
    }
}

/// Makes the rename itself durable. Best effort: if it fails, the directory
/// still holds either the old or the new file, never a partial one.
fn sync_dir(dir: &Path) {
    #[cfg(unix)]
    if let Ok(d) = File::open(dir) {
        let _ = d.sync_all();
    }
    #[cfg(not(unix))]
    let _ = dir;
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::persist::test_net::TempDir;
    use std::string::ToString;

    #[test]
    fn write_replaces_the_file_and_leaves_no_temporary() {
        let dir = TempDir::new("atomic-ok");
        let path = dir.join("model.cnet");
        fs::write(&path, b"old").unwrap();
        write(&path, b"new contents").unwrap();
        assert_eq!(fs::read(&path).unwrap(), b"new contents");
        assert_eq!(dir.entries(), ["model.cnet"]);
    }

    #[test]
    fn failed_write_keeps_the_old_file_and_removes_the_temporary() {
        let dir = TempDir::new("atomic-fail");
        let path = dir.join("model.cnet");
        fs::write(&path, b"old").unwrap();
        let err = write_with(&path, |file| {
            file.write_all(b"half of the new")?;
            Err(io::Error::other("disk full (injected)"))
        })
        .unwrap_err();
        assert!(matches!(
            err,
            PersistError::Io {
                action: "write",
                ..
            }
        ));
        assert!(err.to_string().contains("model.cnet"), "{err}");
        assert!(err.to_string().contains("disk full (injected)"), "{err}");
        assert_eq!(fs::read(&path).unwrap(), b"old");
        assert_eq!(dir.entries(), ["model.cnet"]);
    }

    #[test]
    fn missing_directory_is_an_error_with_the_path() {
        let dir = TempDir::new("atomic-nodir");
        let path = dir.join("absent/model.cnet");
        let err = write(&path, b"x").unwrap_err();
        let msg = err.to_string();
        assert!(
            msg.starts_with("cannot create a temporary file for `"),
            "{msg}"
        );
        assert!(msg.contains("absent/model.cnet"), "{msg}");
    }

    #[test]
    fn replacing_a_directory_fails_cleanly() {
        let dir = TempDir::new("atomic-isdir");
        fs::create_dir(dir.join("model.cnet")).unwrap();
        let err = write(&dir.join("model.cnet"), b"x").unwrap_err();
        assert!(
            matches!(
                err,
                PersistError::Io {
                    action: "replace",
                    ..
                }
            ),
            "{err}"
        );
        assert_eq!(dir.entries(), ["model.cnet"]);
    }

    #[test]
    fn path_without_file_name_is_an_error() {
        let err = write(Path::new(""), b"x").unwrap_err();
        assert_eq!(err.to_string(), "cannot write ``: the path names no file");
    }
}
