//! Opening the database file, and refusing it if it is not safe to use.
//!
//! The incident's server rebooted onto a database that a full disk had cut
//! short, and ran on it. Our `open` reads before it writes: first SQLite's
//! own consistency check, then whether the file is ours and of a version we
//! know, and only then does it switch on write-ahead logging and migrate.
//! A file that fails is reported as [`StoreError::Unusable`] with SQLite's
//! own words ("file is not a database", "database disk image is
//! malformed"), so the operator learns what is wrong before anything is
//! written on top of it.

use super::{errors, migrations};
use crate::{Result, StoreError};
use rusqlite::Connection;
use std::path::Path;
use std::time::Duration;

/// How long a statement waits for another connection's lock before failing
/// with `SQLITE_BUSY`. Within one process our mutex serialises access; this
/// covers other processes, such as a backup tool reading the same file.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

/// Opens `path`, checks it, configures it for durability and brings its
/// schema up to date.
pub(super) fn open(path: &Path) -> Result<Connection> {
    let unusable = |reason: String| StoreError::Unusable {
        path: path.display().to_string(),
        reason,
    };
    let mut conn = Connection::open(path).map_err(|e| unusable(e.to_string()))?;
    conn.busy_timeout(BUSY_TIMEOUT)
        .map_err(|e| unusable(e.to_string()))?;
    check_integrity(&conn).map_err(unusable)?;
    migrations::check_version(&conn).map_err(unusable)?;
    configure(&conn).map_err(errors::from_sqlite)?;
    migrations::migrate(&mut conn).map_err(errors::from_sqlite)?;
    migrations::check_shape(&conn).map_err(unusable)?;
    Ok(conn)
}

/// Checks a database file without writing to it: consistency and schema
/// version. Used on a backup before it replaces a live database.
pub(super) fn check_read_only(path: &Path) -> Result<()> {
    let unusable = |reason: String| StoreError::Unusable {
        path: path.display().to_string(),
        reason,
    };
    let conn = Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
        .map_err(|e| unusable(e.to_string()))?;
    check_integrity(&conn).map_err(unusable)?;
    migrations::check_version(&conn).map_err(unusable)?;
    Ok(())
}

/// `PRAGMA quick_check`: SQLite walks every page and index and reports what
/// does not add up. It reads the whole file (milliseconds for the lab's
/// databases; a large production server would run it on a schedule
/// instead), which is a fair price for not serving from a damaged file.
fn check_integrity(conn: &Connection) -> Result<(), String> {
    let mut findings: Vec<String> = Vec::new();
    conn.pragma_query(None, "quick_check", |row| {
        findings.push(row.get(0)?);
        Ok(())
    })
    .map_err(|e| e.to_string())?;
    if findings == ["ok"] {
        return Ok(());
    }
    // Findings can span lines; SQLite heads them with the schema's name.
    let shown: Vec<&str> = findings
        .iter()
        .flat_map(|finding| finding.lines())
        .filter(|line| !line.starts_with("***"))
        .take(3)
        .collect();
    Err(format!(
        "database disk image is malformed: {}",
        shown.join("; ")
    ))
}

/// The settings that make "the store returned `Ok`" mean "it is on disk".
///
/// - `journal_mode = WAL`: a commit appends to a log instead of rewriting
///   pages in place, so readers never block the writer and a crash leaves
///   either the old or the new state. The mode is stored in the file.
/// - `synchronous = FULL`: every commit waits for `fsync` of the log. With
///   `NORMAL`, a power cut can lose the last commits: a message the server
///   already acknowledged would vanish, a small incident of its own.
/// - `foreign_keys = ON`: SQLite enforces `REFERENCES` only when asked, per
///   connection. With it, a device cannot belong to a user who has no account.
fn configure(conn: &Connection) -> rusqlite::Result<()> {
    let mode: String =
        conn.pragma_update_and_check(None, "journal_mode", "WAL", |row| row.get(0))?;
    if !mode.eq_ignore_ascii_case("wal") {
        tracing::warn!(mode, "SQLite refused write-ahead logging");
    }
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", true)?;
    Ok(())
}
