//! The reference answer: the check the workbench's lab runs before a
//! verified cleanup (`lostfound_store::SqliteStore::verify_copy`).

use lostfound_store::{CopyCheck, SqliteStore, StoreError};
use std::path::Path;

pub fn verify_copy(original: &Path, copy: &Path) -> Result<CopyCheck, StoreError> {
    SqliteStore::verify_copy(original, copy)
}
