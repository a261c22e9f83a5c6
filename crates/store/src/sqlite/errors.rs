//! Turning SQLite's failures into the store's.
//!
//! SQLite reports a failure as a numeric result code. The server must not
//! read those, yet it needs to know *why* a write failed: a full disk (the
//! write did not happen; tell the operator, retry later) is not a taken
//! username (tell the user) and neither is a bug. This module is the one
//! place that reads result codes.
//!
//! Every trait method runs through [`refine`] on its way out, so a
//! `SQLITE_FULL` raised by any statement, or by the final `COMMIT`, reaches
//! the caller as [`StoreError::DiskFull`], however deep the `?` that
//! carried it.

use crate::{Result, StoreError};
use rusqlite::{ErrorCode, ffi};
use std::fmt::Display;
use std::str::FromStr;

/// Gives a database error its meaning, if it has one; other errors pass.
pub(super) fn refine(error: StoreError) -> StoreError {
    match error {
        StoreError::Database(error) => from_sqlite(error),
        other => other,
    }
}

/// Classifies one SQLite error.
pub(super) fn from_sqlite(error: rusqlite::Error) -> StoreError {
    use rusqlite::Error as E;
    match error {
        E::SqliteFailure(code, message) if code.code == ErrorCode::DiskFull => {
            StoreError::DiskFull(message.unwrap_or_else(|| code.to_string()))
        }
        // These arise only when reading: a column did not hold what the
        // schema promises, so the file was damaged or edited by hand.
        E::FromSqlConversionFailure(..)
        | E::IntegralValueOutOfRange(..)
        | E::InvalidColumnType(..) => StoreError::Corrupt(error.to_string()),
        other => StoreError::Database(other),
    }
}

/// A PRIMARY KEY or UNIQUE constraint refused the row: the thing exists.
pub(super) fn is_unique_violation(error: &rusqlite::Error) -> bool {
    error.sqlite_error().is_some_and(|e| {
        e.extended_code == ffi::SQLITE_CONSTRAINT_PRIMARYKEY
            || e.extended_code == ffi::SQLITE_CONSTRAINT_UNIQUE
    })
}

/// A FOREIGN KEY constraint refused the row: what it refers to is missing.
pub(super) fn is_foreign_key_violation(error: &rusqlite::Error) -> bool {
    error
        .sqlite_error()
        .is_some_and(|e| e.extended_code == ffi::SQLITE_CONSTRAINT_FOREIGNKEY)
}

/// Parses an identifier read back from the database. The store wrote only
/// valid identifiers, so one that does not parse means damage: `Corrupt`,
/// never a panic.
pub(super) fn parse_stored<T>(text: &str, what: &str) -> Result<T>
where
    T: FromStr,
    T::Err: Display,
{
    text.parse()
        .map_err(|e| StoreError::Corrupt(format!("stored {what} {text:?}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn failure(code: i32, message: &str) -> rusqlite::Error {
        rusqlite::Error::SqliteFailure(ffi::Error::new(code), Some(message.to_owned()))
    }

    #[test]
    fn a_full_disk_is_disk_full_with_sqlites_words() {
        let error = refine(StoreError::Database(failure(
            ffi::SQLITE_FULL,
            "database or disk is full",
        )));
        assert!(
            matches!(&error, StoreError::DiskFull(m) if m == "database or disk is full"),
            "{error:?}"
        );
    }

    #[test]
    fn constraint_kinds_are_told_apart() {
        let unique = failure(ffi::SQLITE_CONSTRAINT_UNIQUE, "UNIQUE constraint failed");
        let primary = failure(ffi::SQLITE_CONSTRAINT_PRIMARYKEY, "PRIMARY KEY");
        let foreign = failure(ffi::SQLITE_CONSTRAINT_FOREIGNKEY, "FOREIGN KEY");
        assert!(is_unique_violation(&unique) && is_unique_violation(&primary));
        assert!(!is_unique_violation(&foreign) && is_foreign_key_violation(&foreign));
        assert!(matches!(
            refine(StoreError::Database(unique)),
            StoreError::Database(_)
        ));
    }

    #[test]
    fn unreadable_columns_are_corrupt() {
        let error = rusqlite::Error::IntegralValueOutOfRange(0, -1);
        assert!(matches!(from_sqlite(error), StoreError::Corrupt(_)));
    }

    #[test]
    fn a_damaged_identifier_is_corrupt_not_a_panic() {
        let parsed = parse_stored::<lostfound_protocol::ids::UserId>("alice", "user ID");
        assert!(matches!(parsed, Err(StoreError::Corrupt(m)) if m.contains("alice")));
    }
}
