//! Copying a database into a new file, as the incident's upgrade did, and
//! checking a copy before trusting it.
//!
//! In June 2021 the upgrade copied the server's database into a new
//! PostgreSQL cluster. The disk filled up half way; the copy stopped with
//! an error nobody read; the next step of the guide deleted the old
//! database. [`copy_database`] does the same to a SQLite file, for real:
//! the new file is capped with `PRAGMA max_page_count`, so when it is full
//! SQLite itself answers "database or disk is full". Like a dump being
//! restored, the copy goes table by table, each in its own transaction,
//! so a copy that fails leaves the tables before the failure complete and
//! the rest empty: a file that looks like a database and is not the one
//! that was copied.
//!
//! What makes the difference visible is the **stamp**: a finished copy
//! writes our `application_id` into the file header as its very last
//! step. [`SqliteStore::open`](super::SqliteStore::open) refuses a file
//! that has our tables but no stamp, naming it an unfinished copy.
//!
//! [`verify_copy`] is the check the guide left out: the copy must be
//! stamped, sound, and hold the same rows as the original, table by
//! table. It is the reference answer of the exercise *A verified
//! migration*.

use super::connection;
use super::errors;
use super::files::io_error;
use super::migrations::{APPLICATION_ID, UNFINISHED_COPY_ID};
use crate::{Result, StoreError};
use rusqlite::{Connection, OpenFlags};
use sha2::{Digest, Sha256};
use std::io;
use std::path::Path;

/// What [`copy_database`] did, table by table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CopyReport {
    /// Every table of the original, in the order they were copied.
    pub tables: Vec<TableCopy>,
    /// Why the copy stopped early ("database or disk is full"), or `None`
    /// if every table was copied and the copy was stamped.
    pub failure: Option<String>,
    /// The size of the copy on disk when the copy ended, in bytes.
    pub bytes_written: u64,
}

/// One table of a [`CopyReport`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableCopy {
    pub table: String,
    pub rows_in_original: u64,
    /// Rows committed in the copy (0 for a table whose copy failed or was
    /// never reached).
    pub rows_copied: u64,
}

impl CopyReport {
    /// Whether the copy is complete and stamped.
    pub fn is_complete(&self) -> bool {
        self.failure.is_none()
    }
}

/// Copies the database `original` (which no server may be writing) into
/// the new file `copy`, whose size is capped at `max_bytes` if given.
///
/// A full "disk" is not an `Err`: it is the story. The report says where
/// the copy stopped, and the incomplete file stays, as it did in 2021.
/// `Err` is for everything else (the original cannot be read, `copy`
/// already exists).
pub fn copy_database(original: &Path, copy: &Path, max_bytes: Option<u64>) -> Result<CopyReport> {
    if copy.exists() {
        return Err(io_error(copy)(io::Error::new(
            io::ErrorKind::AlreadyExists,
            "a copy never overwrites an existing file",
        )));
    }
    connection::check_read_only(original)?;
    let conn = Connection::open(copy).map_err(errors::from_sqlite)?;
    // First of all, the mark of a copy in progress (see `migrations`): from
    // now on the file can never pass for a new, empty database.
    conn.pragma_update(None, "application_id", UNFINISHED_COPY_ID)
        .map_err(errors::from_sqlite)?;
    // Tables are copied one at a time, so a row may arrive before the row
    // it refers to; a dump restore defers the same checks.
    conn.pragma_update(None, "foreign_keys", false)
        .map_err(errors::from_sqlite)?;
    if let Some(max_bytes) = max_bytes {
        cap_size(&conn, max_bytes)?;
    }
    attach_read_only(&conn, original)?;
    let outcome = copy_everything(&conn);
    let tables = count_rows(&conn)?;
    drop(conn);
    let bytes_written = std::fs::metadata(copy).map_err(io_error(copy))?.len();
    Ok(CopyReport {
        tables,
        failure: outcome.err(),
        bytes_written,
    })
}

/// Attaches `original` as `original`, read-only: a copy must never write
/// to what it copies.
fn attach_read_only(conn: &Connection, original: &Path) -> Result<()> {
    let uri = format!("file:{}?mode=ro", uri_path(original));
    conn.execute("ATTACH DATABASE ?1 AS original", [&uri])
        .map_err(errors::from_sqlite)?;
    Ok(())
}

/// A path as the path part of an SQLite `file:` URI.
fn uri_path(path: &Path) -> String {
    let text = path.to_string_lossy();
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '%' => out.push_str("%25"),
            '?' => out.push_str("%3f"),
            '#' => out.push_str("%23"),
            c => out.push(c),
        }
    }
    out
}

/// The size of the database at `path` as SQLite sees it (pages × page
/// size), write-ahead log included, whether or not it was checkpointed
/// into the file: what a copy of it needs.
pub fn database_size(path: &Path) -> Result<u64> {
    let conn = open_read_only(path)?;
    let size: i64 = conn
        .query_row(
            "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()",
            [],
            |row| row.get(0),
        )
        .map_err(errors::from_sqlite)?;
    Ok(u64::try_from(size).unwrap_or(0))
}

/// `max_page_count` counts pages, so the cap is the number of whole
/// pages that fit in `max_bytes` (at least one: SQLite needs a header).
fn cap_size(conn: &Connection, max_bytes: u64) -> Result<()> {
    let page_size: u64 = conn
        .pragma_query_value(None, "page_size", |row| row.get(0))
        .map_err(errors::from_sqlite)?;
    let pages = (max_bytes / page_size.max(1)).max(1);
    conn.pragma_update(None, "max_page_count", pages)
        .map_err(errors::from_sqlite)
}

/// Schema, then each table's rows, then indexes, then the stamp; the first
/// failure ends the copy and is returned in SQLite's words.
fn copy_everything(conn: &Connection) -> Result<(), String> {
    // SQLite's own words, such as "database or disk is full".
    let words = |e: rusqlite::Error| e.to_string();
    for sql in schema_sql(conn, "table").map_err(words)? {
        conn.execute(&sql, []).map_err(words)?;
    }
    for table in table_names(conn, "original").map_err(words)? {
        copy_rows(conn, &table).map_err(words)?;
    }
    for sql in schema_sql(conn, "index").map_err(words)? {
        conn.execute(&sql, []).map_err(words)?;
    }
    // AUTOINCREMENT counters: without them the copy would hand out outbox
    // IDs and stream positions again from where its surviving rows end.
    if has_sequences(conn, "original").map_err(words)? {
        conn.execute("DELETE FROM main.sqlite_sequence", [])
            .map_err(words)?;
        copy_rows(conn, "sqlite_sequence").map_err(words)?;
    }
    // Last of all, the stamp: only a finished copy says it is ours.
    conn.pragma_update(None, "application_id", APPLICATION_ID)
        .map_err(words)
}

/// Copies every row of `table` in one transaction (all or none).
fn copy_rows(conn: &Connection, table: &str) -> rusqlite::Result<()> {
    let quoted = quote(table);
    let tx = conn.unchecked_transaction()?;
    tx.execute(
        &format!("INSERT INTO main.{quoted} SELECT * FROM original.{quoted}"),
        [],
    )?;
    tx.commit()
}

/// `name` as an SQL identifier, whatever characters it holds.
fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn has_sequences(conn: &Connection, schema: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        &format!(
            "SELECT count(*) > 0 FROM {}.sqlite_schema WHERE name = 'sqlite_sequence'",
            quote(schema)
        ),
        [],
        |row| row.get(0),
    )
}

/// The `CREATE` statements of the original's tables or indexes, in the
/// order they were created (SQLite's internal tables excluded).
fn schema_sql(conn: &Connection, kind: &str) -> rusqlite::Result<Vec<String>> {
    let mut statement = conn.prepare(
        "SELECT sql FROM original.sqlite_schema
         WHERE type = ?1 AND sql IS NOT NULL AND name NOT LIKE 'sqlite_%'
         ORDER BY rowid",
    )?;
    let rows = statement.query_map([kind], |row| row.get::<_, String>(0))?;
    let statements: Vec<String> = rows.collect::<rusqlite::Result<_>>()?;
    // The schema is data: run only what a schema holds, one statement each.
    let allowed = ["CREATE TABLE ", "CREATE INDEX ", "CREATE UNIQUE INDEX "];
    match statements
        .iter()
        .find(|sql| !allowed.iter().any(|a| sql.starts_with(a)))
    {
        Some(odd) => Err(rusqlite::Error::InvalidParameterName(format!(
            "the original's schema holds a statement a copy will not run: {odd}"
        ))),
        None => Ok(statements),
    }
}

fn table_names(conn: &Connection, schema: &str) -> rusqlite::Result<Vec<String>> {
    let mut statement = conn.prepare(&format!(
        "SELECT name FROM {}.sqlite_schema
         WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY rowid",
        quote(schema)
    ))?;
    let rows = statement.query_map([], |row| row.get(0))?;
    rows.collect()
}

/// Rows in the original and in the copy, per table of the original.
fn count_rows(conn: &Connection) -> Result<Vec<TableCopy>> {
    let count = |schema: &str, table: &str| -> rusqlite::Result<u64> {
        conn.query_row(
            &format!("SELECT count(*) FROM {}.{}", quote(schema), quote(table)),
            [],
            |row| row.get(0),
        )
    };
    let copied = table_names(conn, "main").map_err(errors::from_sqlite)?;
    let mut tables = Vec::new();
    for table in table_names(conn, "original").map_err(errors::from_sqlite)? {
        let rows_copied = if copied.contains(&table) {
            count("main", &table).map_err(errors::from_sqlite)?
        } else {
            0
        };
        tables.push(TableCopy {
            rows_in_original: count("original", &table).map_err(errors::from_sqlite)?,
            rows_copied,
            table,
        });
    }
    Ok(tables)
}

/// What [`verify_copy`] found wrong with a copy; empty means the copy can
/// replace the original.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CopyCheck {
    pub problems: Vec<String>,
}

impl CopyCheck {
    pub fn is_sound(&self) -> bool {
        self.problems.is_empty()
    }
}

/// Checks that `copy` can replace `original`: it opens, passes SQLite's
/// consistency check and ours (stamped, a schema we know), and every table
/// of the original holds exactly the same rows in the copy. Neither file
/// is written to.
///
/// `Err` only when the original itself cannot be read: then nothing can
/// be verified, and nothing should be deleted either.
pub fn verify_copy(original: &Path, copy: &Path) -> Result<CopyCheck> {
    connection::check_read_only(original)?;
    let mut problems = Vec::new();
    if !copy.exists() {
        problems.push(format!("the copy {} does not exist", copy.display()));
        return Ok(CopyCheck { problems });
    }
    if let Err(error) = connection::check_read_only(copy) {
        problems.push(match error {
            StoreError::Unusable { reason, .. } => format!("the copy is unusable: {reason}"),
            other => other.to_string(),
        });
        return Ok(CopyCheck { problems });
    }
    let original_conn = open_read_only(original)?;
    let copy_conn = open_read_only(copy)?;
    let mut tables = table_names(&original_conn, "main").map_err(errors::from_sqlite)?;
    if has_sequences(&original_conn, "main").map_err(errors::from_sqlite)? {
        tables.push("sqlite_sequence".to_owned());
    }
    for table in tables {
        let theirs = table_digest(&original_conn, &table).map_err(errors::from_sqlite)?;
        match table_digest(&copy_conn, &table) {
            Err(_) => problems.push(format!("table {table} is missing from the copy")),
            Ok(ours) if ours.rows != theirs.rows => problems.push(format!(
                "table {table}: {} rows in the original, {} in the copy",
                theirs.rows, ours.rows
            )),
            Ok(ours) if ours.sha256 != theirs.sha256 => problems.push(format!(
                "table {table}: the same number of rows ({}) but different contents",
                ours.rows
            )),
            Ok(_) => {}
        }
    }
    Ok(CopyCheck { problems })
}

fn open_read_only(path: &Path) -> Result<Connection> {
    Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY).map_err(|e| {
        StoreError::Unusable {
            path: path.display().to_string(),
            reason: e.to_string(),
        }
    })
}

/// A table's row count and a SHA-256 over its rows, independent of the
/// order the rows are stored in.
struct TableDigest {
    rows: u64,
    sha256: [u8; 32],
}

fn table_digest(conn: &Connection, table: &str) -> rusqlite::Result<TableDigest> {
    let mut statement = conn.prepare(&format!("SELECT * FROM {}", quote(table)))?;
    let columns = statement.column_count();
    let mut rows: Vec<String> = statement
        .query_map([], |row| {
            let mut text = String::new();
            for index in 0..columns {
                let value: rusqlite::types::Value = row.get(index)?;
                text.push_str(&format!("{value:?}\u{1f}"));
            }
            Ok(text)
        })?
        .collect::<rusqlite::Result<_>>()?;
    rows.sort_unstable();
    let mut hasher = Sha256::new();
    for row in &rows {
        hasher.update(row.as_bytes());
        hasher.update(b"\x1e");
    }
    Ok(TableDigest {
        rows: rows.len() as u64,
        sha256: hasher.finalize().into(),
    })
}
