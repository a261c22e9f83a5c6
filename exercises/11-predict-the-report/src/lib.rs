//! Exercise 11: predicting the lost & found report.
//!
//! Before you replay the incident, say what it will show. The lab's
//! built-in scenario `hypha-2021` (`crates/lab/scenarios/hypha-2021.toml`)
//! tells the story of June 2021 step by step: who registered, which rooms
//! were created on which server and who joined them, what was sent when,
//! the one backup of 4 January, the upgrade's copy onto a disk too small,
//! the cleanup, the restore, and what the users and the other servers did
//! afterwards. Its report counts, for the failed server `tomesh.lab`, what
//! it held before the disaster, right after the restore, and after the
//! federation healed it.

use std::collections::BTreeMap;

/// Your prediction of the report's `outcome` for every category, for the
/// scenario `hypha-2021` as written (`variant` is `None`) or changed by a
/// variant: `Some("verified-cleanup")` (the cleanup checks the copy first
/// and refuses an incomplete one) or `Some("daily-backups")` (tomesh.lab
/// is also backed up every night at 03:00 until the disaster, and the
/// restore takes the newest backup).
///
/// The map has one entry per category, keyed by its name as the report
/// prints it:
///
/// - `"federated rooms"`: public and private rooms (other servers may
///   join them), counted as rooms and their messages;
/// - `"unfederated rooms"`: rooms created with `m.federate: false`;
/// - `"direct messages"`: direct-message rooms;
/// - `"media and avatars"`: files uploaded to tomesh.lab (avatars of
///   users and of rooms);
/// - `"accounts"`: tomesh.lab's accounts (one registered again under the
///   same name is a new account, not the old one found again);
/// - `"password changes"`: users who changed their password, counted
///   while their newest password still logs in;
/// - `"memberships"`: tomesh.lab's users joined to the story's rooms.
///
/// Only what existed before the disaster counts. The outcome is one of
/// these words:
///
/// - `"kept"`: nothing of it was missing after the restore;
/// - `"healed"`: some was missing after the restore, and all of it came
///   back through the federation;
/// - `"partly healed"`: some of what was missing came back, not all;
/// - `"lost"`: missing after the restore, and none of it came back (the
///   category is empty at the end);
/// - `"partly lost"`: the restore kept some, the rest never came back;
/// - `"none"`: the story had nothing of this kind before the disaster.
pub fn predict(variant: Option<&str>) -> BTreeMap<&'static str, &'static str> {
    let _ = variant;
    todo!(
        "read crates/lab/scenarios/hypha-2021.toml and return, for each of the seven \
         categories, the outcome word you expect the report to show"
    )
}
