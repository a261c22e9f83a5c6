//! The schema, versioned, and the checks that a file holds it.
//!
//! A database outlives the program that wrote it: the incident's server was
//! restored from a backup taken by an older program and then upgraded. So
//! the schema is a list of numbered steps, each recorded in the database
//! (`schema_version`) when it is applied. Opening a database applies the
//! steps it lacks, in order, each in its own transaction together with the
//! row recording it: a crash mid-migration leaves the previous version,
//! never half of the next one.
//!
//! Before writing anything, `open` asks whether the file is ours at all.
//! SQLite's header has a field for exactly that, `application_id`; a file
//! with tables but not our ID belongs to another program, and a file with
//! our ID but a schema newer than this program's must not be touched.

use rusqlite::{Connection, TransactionBehavior};

/// `PRAGMA application_id` of a Lost & Found database: "L&F!" in ASCII.
pub(super) const APPLICATION_ID: i32 = 0x4C26_4621;

/// `application_id` of a copy still being written: "L&F?" in ASCII. A copy
/// writes it before anything else and [`APPLICATION_ID`] after everything
/// else, so a copy that stops at any point, even before its first table,
/// says so.
pub(super) const UNFINISHED_COPY_ID: i32 = 0x4C26_463F;

/// Why a copy that never finished is refused.
pub(super) const UNFINISHED_COPY: &str = "an unfinished copy: it is marked as a copy in \
     progress and lacks the stamp a finished copy writes last (did a migration run out of \
     disk?); restore a backup instead";

/// One step of the schema's history.
pub(super) struct Migration {
    pub version: i64,
    pub description: &'static str,
    pub sql: &'static str,
}

/// Every step, oldest first. Append; never edit a published step, because
/// databases in the wild already ran it.
pub(super) const MIGRATIONS: &[Migration] = &[Migration {
    version: 1,
    description: "the whole schema: accounts, rooms, events, state groups, media, outbox",
    sql: include_str!("schema_v1.sql"),
}];

/// The version this program writes.
pub(super) fn latest_version() -> i64 {
    MIGRATIONS.last().map_or(0, |step| step.version)
}

/// The schema version of `conn`'s database, 0 for a brand-new empty one;
/// `Err` says why the file is not one this program may open.
pub(super) fn check_version(conn: &Connection) -> Result<i64, String> {
    let application_id: i32 = conn
        .pragma_query_value(None, "application_id", |row| row.get(0))
        .map_err(|e| e.to_string())?;
    let objects: i64 = conn
        .query_row("SELECT count(*) FROM sqlite_schema", [], |row| row.get(0))
        .map_err(|e| e.to_string())?;
    // A copy marks itself unfinished first and stamps itself ours last
    // (`migrate`); older unfinished copies had no mark, only our tables.
    if application_id == UNFINISHED_COPY_ID
        || (application_id == 0 && has_table(conn, "schema_version").map_err(|e| e.to_string())?)
    {
        return Err(UNFINISHED_COPY.to_owned());
    }
    if application_id == 0 && objects == 0 {
        return Ok(0);
    }
    if application_id == 0 {
        return Err(
            "no schema: not a Lost & Found database (its tables are another program's)".to_owned(),
        );
    }
    if application_id != APPLICATION_ID {
        return Err(format!(
            "no schema: not a Lost & Found database (application id {application_id:#x})"
        ));
    }
    let version: Option<i64> = conn
        .query_row("SELECT max(version) FROM schema_version", [], |row| {
            row.get(0)
        })
        .map_err(|e| format!("cannot read the schema version: {e}"))?;
    let latest = latest_version();
    match version {
        None => Err("the schema_version table is empty".to_owned()),
        Some(version) if version > latest => Err(format!(
            "schema version {version} is newer than this program's {latest}"
        )),
        Some(version) => Ok(version),
    }
}

/// Applies every step newer than the database's version.
pub(super) fn migrate(conn: &mut Connection) -> rusqlite::Result<()> {
    for step in MIGRATIONS {
        // IMMEDIATE takes the write lock first, then re-reads the version:
        // if two processes open a new file at once, the second finds the
        // step done and skips it instead of failing on CREATE TABLE.
        let tx = conn.transaction_with_behavior(TransactionBehavior::Immediate)?;
        if version_in_transaction(&tx)? >= step.version {
            continue;
        }
        tx.execute_batch(step.sql)?;
        tx.execute(
            "INSERT INTO schema_version (version, description) VALUES (?1, ?2)",
            (step.version, step.description),
        )?;
        tx.pragma_update(None, "application_id", APPLICATION_ID)?;
        tx.commit()?;
    }
    Ok(())
}

fn has_table(conn: &Connection, name: &str) -> rusqlite::Result<bool> {
    conn.query_row(
        "SELECT count(*) > 0 FROM sqlite_schema WHERE type = 'table' AND name = ?1",
        [name],
        |row| row.get(0),
    )
}

fn version_in_transaction(conn: &Connection) -> rusqlite::Result<i64> {
    if !has_table(conn, "schema_version")? {
        return Ok(0);
    }
    conn.query_row(
        "SELECT coalesce(max(version), 0) FROM schema_version",
        [],
        |row| row.get(0),
    )
}

/// Checks that every table and index of the schema is there, as created.
///
/// A version number is a promise, not a proof: a copy that stopped half way
/// (the incident's full disk) can hold `schema_version` and miss `media`.
/// We build the expected schema in memory from the same steps and compare
/// the definitions SQLite keeps in `sqlite_schema`.
pub(super) fn check_shape(conn: &Connection) -> Result<(), String> {
    let mut reference = Connection::open_in_memory().map_err(|e| e.to_string())?;
    migrate(&mut reference).map_err(|e| e.to_string())?;
    let expected = schema_objects(&reference).map_err(|e| e.to_string())?;
    let found = schema_objects(conn).map_err(|e| e.to_string())?;
    for (name, sql) in &expected {
        match found.iter().find(|(found_name, _)| found_name == name) {
            None => return Err(format!("the schema lacks {name}")),
            Some((_, found_sql)) if found_sql != sql => {
                return Err(format!("{name} is not defined as this program defines it"));
            }
            Some(_) => {}
        }
    }
    if let Some((name, _)) = found.iter().find(|object| !expected.contains(object)) {
        return Err(format!("the schema has an unknown {name}"));
    }
    Ok(())
}

/// `(kind and name, definition)` of every table, index and trigger,
/// tables first: a missing table is the news, not its missing indexes.
fn schema_objects(conn: &Connection) -> rusqlite::Result<Vec<(String, String)>> {
    let mut statement = conn.prepare(
        "SELECT type || ' ' || name, coalesce(sql, '') FROM sqlite_schema
         WHERE name NOT LIKE 'sqlite_stat%' ORDER BY type <> 'table', type, name",
    )?;
    let rows = statement.query_map([], |row| Ok((row.get(0)?, row.get(1)?)))?;
    rows.collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_are_increasing_from_one() {
        for (index, step) in MIGRATIONS.iter().enumerate() {
            assert_eq!(step.version, index as i64 + 1, "{}", step.description);
        }
    }

    #[test]
    fn an_empty_database_is_version_zero_then_latest_after_migrating() {
        let mut conn = Connection::open_in_memory().unwrap();
        assert_eq!(check_version(&conn), Ok(0));
        migrate(&mut conn).unwrap();
        assert_eq!(check_version(&conn), Ok(latest_version()));
        assert_eq!(check_shape(&conn), Ok(()));
        // Migrating again is a no-op: every step is recorded.
        migrate(&mut conn).unwrap();
        assert_eq!(check_version(&conn), Ok(latest_version()));
    }

    #[test]
    fn a_missing_table_is_named() {
        let mut conn = Connection::open_in_memory().unwrap();
        migrate(&mut conn).unwrap();
        conn.execute_batch("PRAGMA foreign_keys = OFF; DROP TABLE outbox;")
            .unwrap();
        assert_eq!(
            check_shape(&conn),
            Err("the schema lacks table outbox".into())
        );
    }

    #[test]
    fn another_programs_database_is_refused_before_any_write() {
        let conn = Connection::open_in_memory().unwrap();
        conn.execute_batch("CREATE TABLE notes (text TEXT)")
            .unwrap();
        let reason = check_version(&conn).unwrap_err();
        assert!(
            reason.starts_with("no schema: not a Lost & Found database"),
            "{reason}"
        );
    }
}
