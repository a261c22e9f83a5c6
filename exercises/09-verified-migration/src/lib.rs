//! Exercise 9: a verified migration.
//!
//! On 6 June 2021 the upgrade's database copy had stopped half way, on a
//! full disk, and the upgrade guide's next step deleted the old database
//! without looking at the copy. You write the look: the check a cleanup
//! runs before it trusts a copy with the server's only data.

use std::path::Path;

pub use lostfound_store::{CopyCheck, SqliteStore, StoreError};

/// Checks whether the database file `copy` can replace the database file
/// `original`. Neither file may be written to (open them read-only).
///
/// Returns `Ok` with the list of problems found (`CopyCheck::problems`,
/// empty when the copy is sound), in this order:
///
/// 1. **The copy must exist.** If it does not, the check is one problem
///    that names the copy's path, and nothing else is checked.
/// 2. **The copy must pass the checks our server makes before it opens a
///    database:** SQLite's consistency check, and ours (a Lost & Found
///    database of a schema version we know, *stamped* as a finished copy:
///    `SqliteStore::copy_database` writes the stamp as its very last
///    step, so a copy cut short has none). `SqliteStore::check_file` does
///    both; if it refuses the copy (`StoreError::Unusable { reason, ..
///    }`), the check is one problem whose text includes that `reason`
///    (`"the copy is unusable: file is not a database"`), and nothing
///    else is checked.
/// 3. **Every table of the original must hold exactly the same rows in
///    the copy**, in any order. Each table that does not gives one
///    problem whose text names the table (`"table events: 300 rows in
///    the original, 150 in the copy"`): a table missing from the copy, a
///    different number of rows, or the same number with different
///    contents (count *and* compare the rows: a copy can lose one row and
///    gain another). Report every such table, not only the first. The
///    tables are those in the original's `sqlite_schema` of type
///    `'table'`, without SQLite's own (`name NOT LIKE 'sqlite_%'`).
///
/// `Err` only when the *original* cannot be read or fails
/// `SqliteStore::check_file`: then nothing can be verified (and nothing
/// should be deleted either).
pub fn verify_copy(original: &Path, copy: &Path) -> Result<CopyCheck, StoreError> {
    let _ = (original, copy);
    todo!(
        "check that `copy` exists, that `SqliteStore::check_file` accepts it, and that every \
         table of `original` holds the same rows in `copy`; one problem per thing wrong"
    )
}
