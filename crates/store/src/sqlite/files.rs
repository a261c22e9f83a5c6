//! Writing files so that they survive a crash.
//!
//! `write` returning is not "on disk": the bytes sit in the operating
//! system's cache, and a power cut loses them. Worse, the directory entry
//! can reach the disk before the data it names, leaving a file that exists
//! but is empty or cut short. So a file is written in four steps:
//!
//! 1. write it under a temporary name in the same directory;
//! 2. `fsync` it, so its bytes are on disk;
//! 3. `rename` it to its final name, which is atomic within a file system:
//!    a reader sees the old file or the new one, never half of one;
//! 4. `fsync` the directory, so the rename itself is on disk.
//!
//! Only then may the server answer the client: an upload it acknowledged
//! must not vanish in a crash a second later.

use crate::{Result, StoreError};
use std::fs::{self, File};
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// Wraps an I/O error with the path it concerns.
pub(super) fn io_error(path: &Path) -> impl FnOnce(io::Error) -> StoreError + '_ {
    move |source| StoreError::Io {
        path: path.display().to_string(),
        source,
    }
}

/// Makes temporary names unique within the process, so that two uploads
/// to the same directory never write into each other's file.
static TEMPORARY_FILES: AtomicU64 = AtomicU64::new(0);

/// Steps 1 and 2: writes `bytes` to a new, synced file in `dir`, named after
/// `stem` but starting with a dot, and returns its path.
pub(super) fn write_temporary(dir: &Path, stem: &str, bytes: &[u8]) -> Result<PathBuf> {
    let number = TEMPORARY_FILES.fetch_add(1, Ordering::Relaxed);
    let path = dir.join(format!(".{stem}.{}.{number}.tmp", std::process::id()));
    let written = File::create_new(&path).and_then(|mut file| {
        file.write_all(bytes)?;
        file.sync_all()
    });
    if let Err(error) = written {
        let _ = fs::remove_file(&path);
        return Err(io_error(&path)(error));
    }
    Ok(path)
}

/// Steps 3 and 4: renames `from` to `to` and syncs their directory.
pub(super) fn rename_durably(from: &Path, to: &Path) -> Result<()> {
    if let Err(error) = fs::rename(from, to) {
        let _ = fs::remove_file(from);
        return Err(io_error(to)(error));
    }
    match to.parent() {
        Some(dir) => sync_dir(dir),
        None => Ok(()),
    }
}

/// Syncs a directory: its entries (names) reach the disk.
pub(super) fn sync_dir(dir: &Path) -> Result<()> {
    File::open(dir)
        .and_then(|handle| handle.sync_all())
        .map_err(io_error(dir))
}

/// Creates `dir` if needed; when it is new, syncs its parent so that the
/// directory itself survives a crash.
pub(super) fn create_dir_durably(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    fs::create_dir_all(dir).map_err(io_error(dir))?;
    match dir.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => sync_dir(parent),
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_appears_whole_under_its_final_name() {
        let dir = tempfile::tempdir().unwrap();
        let temporary = write_temporary(dir.path(), "upload", b"hello").unwrap();
        assert!(
            temporary
                .file_name()
                .unwrap()
                .to_string_lossy()
                .starts_with('.')
        );
        let target = dir.path().join("upload");
        rename_durably(&temporary, &target).unwrap();
        assert_eq!(fs::read(&target).unwrap(), b"hello");
        assert!(!temporary.exists());
    }

    #[test]
    fn a_failed_rename_leaves_no_temporary_file_behind() {
        let dir = tempfile::tempdir().unwrap();
        let temporary = write_temporary(dir.path(), "upload", b"hello").unwrap();
        let error = rename_durably(&temporary, &dir.path().join("missing/upload")).unwrap_err();
        assert!(matches!(error, StoreError::Io { .. }));
        assert!(!temporary.exists());
    }
}
