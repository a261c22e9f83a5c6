//! Rule 9: changing the power levels without escalating anyone's power.
//!
//! Whoever may send `m.room.power_levels` could, without these rules, make
//! themselves (or a friend) more powerful than the room's admins, or lower
//! the bar for banning and then ban them. The rules compare the old event
//! with the new one entry by entry and allow a change only when the sender
//! already outranks both the old value and the new one:
//!
//! - you cannot touch a level that is above your own (9.5.1, 9.6.1);
//! - you cannot set any level above your own (9.5.2, 9.7.1, 9.9.1);
//! - you cannot change or remove a user whose level equals or exceeds
//!   yours (9.8.1), though you may lower yourself.
//!
//! Values are compared as written: a level that is absent and one written
//! with its default value are different, so *adding* `"ban": 50` is a
//! change, as the spec's "added, changed or removed" says.

use super::power_levels::{NAMED_LEVELS, validate};
use super::{AuthFailure, RoomState, reject};
use crate::JsonObject;
use crate::pdu::Pdu;
use serde_json::Value;
use std::collections::BTreeSet;

/// Rules 9.1–9.10 for an `m.room.power_levels` event from a sender whose
/// current level is `sender_level`.
pub(super) fn check_power_levels(
    event: &Pdu,
    room: &RoomState<'_>,
    sender_level: i64,
) -> Result<(), AuthFailure> {
    let new = event.content();
    validate(new)?;
    // 9.4: the first power levels event sets the room up from nothing.
    let Some(old_event) = room.power_levels_event() else {
        return Ok(());
    };
    let old = old_event.content();
    let sender = event.sender().as_str();
    let too_high = |what: &str, value: i64| {
        format!("{what} is {value}, above {sender}'s own power level {sender_level}")
    };

    // 9.5: the top-level levels.
    for key in NAMED_LEVELS {
        let (before, after) = (level(old.get(key)), level(new.get(key)));
        if before == after {
            continue;
        }
        if let Some(before) = before.filter(|&b| b > sender_level) {
            let what = format!("the current {key:?} level");
            return Err(reject("9.5.1", too_high(&what, before)));
        }
        if let Some(after) = after.filter(|&a| a > sender_level) {
            let what = format!("the new {key:?} level");
            return Err(reject("9.5.2", too_high(&what, after)));
        }
    }

    // 9.6 and 9.7: per-event-type and per-notification levels.
    for key in ["events", "notifications"] {
        for (name, before, _) in changes(old, new, key) {
            if let Some(before) = before.filter(|&b| b > sender_level) {
                let what = format!("the current level of {key}[{name:?}]");
                return Err(reject("9.6.1", too_high(&what, before)));
            }
        }
    }
    for key in ["events", "notifications"] {
        for (name, _, after) in changes(old, new, key) {
            if let Some(after) = after.filter(|&a| a > sender_level) {
                let what = format!("the new level of {key}[{name:?}]");
                return Err(reject("9.7.1", too_high(&what, after)));
            }
        }
    }

    // 9.8 and 9.9: users. Demoting yourself is always allowed; touching a
    // peer (or a superior) is not.
    let user_changes = changes(old, new, "users");
    for (user, before, _) in &user_changes {
        if user == sender {
            continue;
        }
        if let Some(before) = before.filter(|&b| b >= sender_level) {
            return Err(reject(
                "9.8.1",
                format!(
                    "{sender} (power level {sender_level}) may not change or remove {user}, whose level {before} is not below theirs"
                ),
            ));
        }
    }
    for (user, _, after) in &user_changes {
        if let Some(after) = after.filter(|&a| a > sender_level) {
            let what = format!("the new level of {user}");
            return Err(reject("9.9.1", too_high(&what, after)));
        }
    }
    // 9.10.
    Ok(())
}

/// A level as written; `validate` has already refused anything else.
fn level(value: Option<&Value>) -> Option<i64> {
    value.and_then(Value::as_i64)
}

/// Entries of `old[key]` and `new[key]` that were added, changed or
/// removed, as `(name, old level, new level)`.
fn changes(
    old: &JsonObject,
    new: &JsonObject,
    key: &str,
) -> Vec<(String, Option<i64>, Option<i64>)> {
    let entries = |content: &JsonObject| {
        content
            .get(key)
            .and_then(Value::as_object)
            .cloned()
            .unwrap_or_default()
    };
    let (old, new) = (entries(old), entries(new));
    let names: BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    names
        .into_iter()
        .filter_map(|name| {
            let (before, after) = (level(old.get(name)), level(new.get(name)));
            (before != after).then(|| (name.clone(), before, after))
        })
        .collect()
}
