//! Online backups: a consistent copy of the database while the server runs.
//!
//! Copying `homeserver.db` with `cp` while the server writes can copy a
//! torn file, pages from before and after a commit; and it misses the
//! newest commits, which live in `homeserver.db-wal` until a checkpoint.
//! SQLite's online backup API copies the database through SQLite itself,
//! as one snapshot, WAL included. While it runs we hold the store's lock,
//! so no write of ours lands half way through.
//!
//! The copy is written under a temporary name and renamed into place once
//! complete: a backup that failed half way (a full disk) never sits under
//! the name of a good one. The incident's lesson is that a backup is worth
//! only what a restore from it gives; the tests restore from this one.
//!
//! A restore turns the clock back for clients too: stream positions start
//! again from the backup's newest, so a client holding a `/sync` token from
//! before the disaster is *ahead* of the server until new events catch up.

use super::files::{self, io_error};
use super::{DATABASE_FILE, connection, errors};
use crate::{Result, StoreError};
use rusqlite::{Connection, MAIN_DB};
use std::io;
use std::path::Path;

/// Copies the database to `path`, which must not exist yet: overwriting a
/// file is how a bad backup destroys the last good one.
pub(super) fn backup_to(conn: &Connection, path: &Path) -> Result<()> {
    if path.exists() {
        return Err(io_error(path)(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "a backup never overwrites an existing file",
        )));
    }
    let Some(name) = path.file_name() else {
        return Err(io_error(path)(io::ErrorKind::InvalidInput.into()));
    };
    let temporary = path.with_file_name(format!(".{}.partial", name.to_string_lossy()));
    // A leftover from an interrupted backup is incomplete by definition.
    let _ = std::fs::remove_file(&temporary);
    // The destination connection uses SQLite's defaults, `synchronous=FULL`
    // among them, so the copy is on disk when `backup` returns.
    if let Err(error) = conn.backup(MAIN_DB, &temporary, None) {
        let _ = std::fs::remove_file(&temporary);
        return Err(match errors::from_sqlite(error) {
            StoreError::Database(error) => StoreError::Io {
                path: path.display().to_string(),
                source: io::Error::other(error),
            },
            other => other,
        });
    }
    files::rename_durably(&temporary, path)
}

/// Puts a checked copy of `backup` in place as `data_dir`'s database.
///
/// The order matters for the lesson of the incident: check the backup
/// first, and only then remove anything; copy under a temporary name and
/// rename, so a full disk half way leaves the old state, not a torn file.
pub(super) fn restore_database(backup: &Path, data_dir: &Path) -> Result<()> {
    connection::check_read_only(backup)?;
    files::create_dir_durably(data_dir)?;
    let database = data_dir.join(DATABASE_FILE);
    let temporary = data_dir.join(format!(".{DATABASE_FILE}.restoring"));
    let _ = std::fs::remove_file(&temporary);
    std::fs::copy(backup, &temporary).map_err(io_error(&temporary))?;
    std::fs::File::open(&temporary)
        .and_then(|file| file.sync_all())
        .map_err(io_error(&temporary))?;
    for suffix in ["-wal", "-shm"] {
        let stale = data_dir.join(format!("{DATABASE_FILE}{suffix}"));
        match std::fs::remove_file(&stale) {
            Ok(()) => {}
            Err(error) if error.kind() == io::ErrorKind::NotFound => {}
            Err(error) => return Err(io_error(&stale)(error)),
        }
    }
    files::rename_durably(&temporary, &database)
}
