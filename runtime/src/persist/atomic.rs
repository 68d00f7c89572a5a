//! Crash-safe file replacement.
//!
//! The rule: a save either leaves the complete new file under the
//! destination's name or leaves the previous file untouched. Writing in place
//! breaks it (a crash halfway leaves a truncated file and loses the old one),
//! so the bytes go to a temporary file in the same directory (a rename is only
//! atomic within one file system), reach the disk through `sync_all`, and are
//! then renamed over the destination.
//!
//! A process killed mid-save leaves its temporary file behind, so every save
//! also removes the stale temporary files of its own destination. Temporary
//! files are named `.<name>.<pid>-<n>.constnet-tmp`, which says what they are
//! and whose they are; one is stale when it is older than the running
//! process's first save (so it cannot be one of this process's) and no writer
//! holds its lock: a writer keeps an exclusive lock on its temporary file from
//! creation until after the rename, and the lock dies with the process.

use std::ffi::{OsStr, OsString};
use std::fs::{self, File, OpenOptions, TryLockError};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use super::PersistError;

/// The suffix of every temporary file.
const TEMP_SUFFIX: &str = ".constnet-tmp";

/// Replaces `path` with `bytes` atomically: a temporary file in the same
/// directory is written, synced and renamed over `path`, so a crash leaves
/// either the old file or the new one, never a partial file. Stale temporary
/// files of `path` left by killed processes are removed first (see [the
/// module docs](super)).
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
    let started = *FIRST_SAVE.get_or_init(SystemTime::now);
    remove_stale(dir, name, started);
    let (temp, mut file) = create_temp(dir, name).map_err(fail("create a temporary file for"))?;
    let result = fill(&mut file)
        .map_err(fail("write"))
        .and_then(|()| file.sync_all().map_err(fail("flush to disk")))
        .and_then(|()| fs::rename(&temp, path).map_err(fail("replace")));
    // NOTE: the file stays open, and so locked, until after the rename: a
    // cleaner that gets the lock knows that no writer is using the file.
    drop(file);
    if result.is_err() {
        // Best effort: a leftover is removed by a later save anyway.
        let _ = fs::remove_file(&temp);
    }
    result?;
    sync_dir(dir);
    Ok(())
}

/// When this process first saved: temporary files older than that were not
/// written by it.
static FIRST_SAVE: OnceLock<SystemTime> = OnceLock::new();

/// The name of a temporary file of destination `name`: `.<name>.<pid>-<n>.constnet-tmp`.
fn temp_name(name: &OsStr, pid: u32, n: u64) -> OsString {
    let mut temp = OsString::from(".");
    temp.push(name);
    temp.push(std::format!(".{pid}-{n}{TEMP_SUFFIX}"));
    temp
}

/// Whether `file` is a temporary file of destination `name`: the exact
/// shape [`temp_name`] gives, so `model.cnet`'s cleaner never touches the
/// temporaries of `model.cnet.bak`.
fn is_temp_of(file: &OsStr, name: &OsStr) -> bool {
    let (Some(file), Some(name)) = (file.to_str(), name.to_str()) else {
        return false;
    };
    let Some(middle) = file
        .strip_prefix('.')
        .and_then(|f| f.strip_prefix(name))
        .and_then(|f| f.strip_prefix('.'))
        .and_then(|f| f.strip_suffix(TEMP_SUFFIX))
    else {
        return false;
    };
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    middle
        .split_once('-')
        .is_some_and(|(pid, n)| digits(pid) && digits(n))
}

/// Removes the temporary files of destination `name` in `dir` that are
/// stale: last modified before `started`, and not locked by a writer.
///
/// Best effort: a file that cannot be inspected, locked or removed is left
/// alone, and the save goes on.
fn remove_stale(dir: &Path, name: &OsStr, started: SystemTime) {
    let Ok(entries) = fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        if !is_temp_of(&entry.file_name(), name) {
            continue;
        }
        let path = entry.path();
        // Opened for writing, as Windows requires for an exclusive lock.
        let Ok(file) = OpenOptions::new().write(true).open(&path) else {
            continue;
        };
        match file.try_lock() {
            Ok(()) => {}
            // Without locks (some network file systems), the age decides.
            Err(TryLockError::Error(e)) if e.kind() == io::ErrorKind::Unsupported => {}
            Err(_) => continue,
        }
        let old = file
            .metadata()
            .and_then(|m| m.modified())
            .is_ok_and(|modified| modified < started);
        if old {
            // Removed while locked: its writer, if any, is gone.
            let _ = fs::remove_file(&path);
        }
    }
}

/// Creates and locks a fresh temporary file for destination `name` in `dir`;
/// `create_new` guarantees it is ours even if another process saves to the
/// same destination concurrently.
fn create_temp(dir: &Path, name: &OsStr) -> io::Result<(PathBuf, File)> {
    static NEXT: AtomicU64 = AtomicU64::new(0);
    let mut attempts = 0;
    loop {
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let temp = dir.join(temp_name(name, std::process::id(), n));
        match OpenOptions::new().write(true).create_new(true).open(&temp) {
            Ok(file) => {
                // An unsupported lock (some network file systems) only
                // means that cleaners fall back on the file's age.
                let _ = file.lock();
                return Ok((temp, file));
            }
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
    use std::string::{String, ToString};
    use std::time::Duration;
    use std::vec::Vec;

    /// Names of the temporary files in `dir`.
    fn temps(dir: &TempDir) -> Vec<String> {
        dir.entries()
            .into_iter()
            .filter(|n| n.ends_with(TEMP_SUFFIX))
            .collect()
    }

    /// A temporary file of `name` as a process `pid` would leave it, last
    /// modified `age` ago.
    fn leave_temp(dir: &TempDir, name: &str, pid: u32, age: Duration) -> PathBuf {
        let path = dir.0.join(temp_name(OsStr::new(name), pid, 0));
        let file = File::create(&path).unwrap();
        file.set_modified(SystemTime::now() - age).unwrap();
        path
    }

    #[test]
    fn temp_names_are_recognized_exactly() {
        let name = OsStr::new("model.cnet");
        let temp = temp_name(name, 42, 7);
        assert_eq!(temp, ".model.cnet.42-7.constnet-tmp");
        assert!(is_temp_of(&temp, name));
        assert!(!is_temp_of(&temp, OsStr::new("model")));
        assert!(!is_temp_of(
            &temp_name(OsStr::new("model.cnet.bak"), 42, 7),
            name
        ));
        for other in [
            ".model.cnet.42.constnet-tmp",
            ".model.cnet.x-7.constnet-tmp",
            "model.cnet.42-7.constnet-tmp",
            ".model.cnet.42-7.tmp",
        ] {
            assert!(!is_temp_of(OsStr::new(other), name), "{other}");
        }
    }

    #[test]
    fn save_removes_stale_temporaries_of_its_destination_only() {
        let dir = TempDir::new("atomic-stale");
        let path = dir.join("model.cnet");
        write(&path, b"first").unwrap();
        let hour = Duration::from_secs(3600);
        leave_temp(&dir, "model.cnet", 1, hour);
        let other = leave_temp(&dir, "other.cnet", 1, hour);
        write(&path, b"second").unwrap();
        assert_eq!(temps(&dir), [other.file_name().unwrap().to_str().unwrap()]);
        assert_eq!(fs::read(&path).unwrap(), b"second");
    }

    #[test]
    fn save_keeps_temporaries_that_are_locked_or_new() {
        let dir = TempDir::new("atomic-live");
        let path = dir.join("model.cnet");
        write(&path, b"first").unwrap();
        // Another writer, still at work: its file is locked.
        let locked = leave_temp(&dir, "model.cnet", 2, Duration::from_secs(3600));
        let writer = OpenOptions::new().write(true).open(&locked).unwrap();
        writer.lock().unwrap();
        // One newer than this process's first save: not ours to judge.
        let fresh = dir.0.join(temp_name(OsStr::new("model.cnet"), 3, 0));
        File::create(&fresh).unwrap();
        write(&path, b"second").unwrap();
        assert_eq!(temps(&dir).len(), 2, "{:?}", dir.entries());
        drop(writer);
        write(&path, b"third").unwrap();
        assert_eq!(temps(&dir), [fresh.file_name().unwrap().to_str().unwrap()]);
    }

    /// The variable that turns [`sigkill_child`] into a saver.
    const CHILD_DIR: &str = "CONSTNET_ATOMIC_KILL_DIR";

    /// Not a test of its own: run by [`sigkill_during_saves_leaves_at_most_one_temporary`]
    /// as a child process, it saves 2 MB to `model.cnet` in a loop, touching
    /// `ready` after its first save, until it is killed.
    #[test]
    fn sigkill_child() {
        let Some(dir) = std::env::var_os(CHILD_DIR) else {
            return;
        };
        let dir = PathBuf::from(dir);
        let bytes = std::vec![7u8; 2 << 20];
        write(&dir.join("model.cnet"), &bytes).unwrap();
        File::create(dir.join("ready")).unwrap();
        loop {
            write(&dir.join("model.cnet"), &bytes).unwrap();
        }
    }

    #[cfg(unix)]
    #[test]
    fn sigkill_during_saves_leaves_at_most_one_temporary() {
        use std::process::{Command, Stdio};
        let dir = TempDir::new("atomic-kill");
        let exe = std::env::current_exe().unwrap();
        let mut mid_save = 0;
        for round in 0..100u64 {
            let _ = fs::remove_file(dir.join("ready"));
            let mut child = Command::new(&exe)
                .args([
                    "--exact",
                    "persist::atomic::tests::sigkill_child",
                    "--nocapture",
                ])
                .env(CHILD_DIR, &dir.0)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap();
            while !dir.join("ready").exists() {
                assert!(child.try_wait().unwrap().is_none(), "the saver died");
                std::thread::sleep(Duration::from_micros(200));
            }
            // 0 to 4.9 ms into the loop of saves.
            std::thread::sleep(Duration::from_micros(round * 4999 % 5000));
            child.kill().unwrap();
            child.wait().unwrap();
            let left = temps(&dir).len();
            mid_save += usize::from(left > 0);
            assert!(left <= 1, "round {round}: {:?}", dir.entries());
            assert_eq!(fs::read(dir.join("model.cnet")).unwrap().len(), 2 << 20);
        }
        // The test means something only if kills did land mid-save.
        assert!(mid_save > 0, "no kill interrupted a save");
    }

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
