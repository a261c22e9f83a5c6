//! Power levels: who may do what in a room
//! (<https://spec.matrix.org/v1.16/client-server-api/#mroompower_levels>).
//!
//! Matrix has no roles, only numbers. Each user has a level (`users`, else
//! `users_default`); each action needs a level (`ban`, `kick`, `invite`,
//! `redact`, and per event type `events`, else `state_default` for state
//! events and `events_default` for the rest). You may act if your number
//! is at least the action's number.
//!
//! Room v10 is strict about the shape of the event: every level must be a
//! JSON integer. Older rooms also accepted `"50"` (a string), which made
//! servers disagree about odd values like `" 50"`; v10 rejects strings
//! (rules 9.1–9.3), and [`PowerLevels::from_state`] applies the same check.

use super::{AuthFailure, reject};
use crate::JsonObject;
use crate::ids::UserId;
use crate::pdu::Pdu;
use serde_json::Value;
use std::collections::BTreeMap;

/// The level of the room creator while there is no power levels event.
pub const CREATOR_LEVEL: i64 = 100;
/// `ban`, `kick` and `redact` default to 50; `invite` to 0.
pub const DEFAULT_MODERATION_LEVEL: i64 = 50;
/// `state_default` defaults to 50: changing the room needs some trust.
pub const DEFAULT_STATE_LEVEL: i64 = 50;

/// The top-level levels rule 9.1 requires to be integers, in spec order.
pub(super) const NAMED_LEVELS: [&str; 7] = [
    "users_default",
    "events_default",
    "state_default",
    "ban",
    "redact",
    "kick",
    "invite",
];

/// The levels in force, with the spec's defaults filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PowerLevels {
    users: BTreeMap<String, i64>,
    users_default: i64,
    events: BTreeMap<String, i64>,
    events_default: i64,
    state_default: i64,
    ban: i64,
    kick: i64,
    redact: i64,
    invite: i64,
}

impl PowerLevels {
    /// From the power levels event (`None` = no such event: the creator has
    /// 100, everyone else 0) and the create event, which names the creator.
    ///
    /// A malformed power levels event fails with the rule (9.1–9.3) it
    /// breaks; in a v10 room such an event could never have been accepted.
    pub fn from_state(
        power_levels: Option<&Pdu>,
        create: Option<&Pdu>,
    ) -> Result<Self, AuthFailure> {
        let Some(event) = power_levels else {
            let creator = create
                .and_then(|create| create.content().get("creator"))
                .and_then(Value::as_str);
            let users = creator
                .map(|creator| (creator.to_owned(), CREATOR_LEVEL))
                .into_iter()
                .collect();
            return Ok(Self::with_users(users, 0, BTreeMap::new()));
        };
        let content = event.content();
        validate(content).map_err(|failure| AuthFailure {
            reason: format!(
                "the room's power levels event {} is malformed: {}",
                event.event_id(),
                failure.reason
            ),
            ..failure
        })?;
        let named =
            |key: &str, default: i64| content.get(key).and_then(Value::as_i64).unwrap_or(default);
        Ok(Self {
            ban: named("ban", DEFAULT_MODERATION_LEVEL),
            kick: named("kick", DEFAULT_MODERATION_LEVEL),
            redact: named("redact", DEFAULT_MODERATION_LEVEL),
            invite: named("invite", 0),
            events_default: named("events_default", 0),
            state_default: named("state_default", DEFAULT_STATE_LEVEL),
            ..Self::with_users(
                integer_map(content.get("users")),
                named("users_default", 0),
                integer_map(content.get("events")),
            )
        })
    }

    fn with_users(
        users: BTreeMap<String, i64>,
        users_default: i64,
        events: BTreeMap<String, i64>,
    ) -> Self {
        Self {
            users,
            users_default,
            events,
            events_default: 0,
            state_default: DEFAULT_STATE_LEVEL,
            ban: DEFAULT_MODERATION_LEVEL,
            kick: DEFAULT_MODERATION_LEVEL,
            redact: DEFAULT_MODERATION_LEVEL,
            invite: 0,
        }
    }

    /// A user's level: their `users` entry, else `users_default`.
    pub fn user_level(&self, user: &UserId) -> i64 {
        self.level_of(user.as_str())
    }

    /// [`Self::user_level`] for a state key, which peers may fill with
    /// anything; a string that is no user ID simply gets the default.
    pub(crate) fn level_of(&self, user: &str) -> i64 {
        self.users.get(user).copied().unwrap_or(self.users_default)
    }

    /// The level needed to send an event of this type: `events[type]`,
    /// else `state_default` for state events, `events_default` otherwise.
    pub fn event_level(&self, event_type: &str, is_state: bool) -> i64 {
        match self.events.get(event_type) {
            Some(&level) => level,
            None if is_state => self.state_default,
            None => self.events_default,
        }
    }

    pub fn ban(&self) -> i64 {
        self.ban
    }
    pub fn kick(&self) -> i64 {
        self.kick
    }
    pub fn invite(&self) -> i64 {
        self.invite
    }
    /// Not used by the auth rules themselves; see [`super::redaction_takes_effect`].
    pub fn redact(&self) -> i64 {
        self.redact
    }
}

/// An object's entries, validated already to be integers.
fn integer_map(value: Option<&Value>) -> BTreeMap<String, i64> {
    value
        .and_then(Value::as_object)
        .map(|object| {
            object
                .iter()
                .filter_map(|(key, level)| Some((key.clone(), level.as_i64()?)))
                .collect()
        })
        .unwrap_or_default()
}

/// Rules 9.1–9.3: the shape room v10 requires of power levels content.
///
/// A checked [`Pdu`] holds no floats at all (canonical JSON refuses even
/// `50.0`), so in practice these rules catch strings, booleans, `null`,
/// lists and objects where a level should be.
pub(super) fn validate(content: &JsonObject) -> Result<(), AuthFailure> {
    for key in NAMED_LEVELS {
        if let Some(value) = content.get(key)
            && value.as_i64().is_none()
        {
            return Err(reject(
                "9.1",
                format!(
                    "power level {key:?} must be an integer, not {value}{}",
                    string_hint(value)
                ),
            ));
        }
    }
    for key in ["events", "notifications"] {
        if let Some(value) = content.get(key) {
            check_integer_object(key, value, "9.2")?;
        }
    }
    if let Some(users) = content.get("users") {
        check_integer_object("users", users, "9.3")?;
        for user in users.as_object().into_iter().flat_map(|users| users.keys()) {
            if let Err(error) = user.parse::<UserId>() {
                return Err(reject(
                    "9.3",
                    format!("\"users\" may only hold user IDs, but has {user:?}: {error}"),
                ));
            }
        }
    }
    Ok(())
}

fn check_integer_object(key: &str, value: &Value, rule: &'static str) -> Result<(), AuthFailure> {
    let Some(object) = value.as_object() else {
        return Err(reject(
            rule,
            format!("{key:?} must be an object of integers, not {value}"),
        ));
    };
    for (name, level) in object {
        if level.as_i64().is_none() {
            return Err(reject(
                rule,
                format!(
                    "{key:?}[{name:?}] must be an integer, not {level}{}",
                    string_hint(level)
                ),
            ));
        }
    }
    Ok(())
}

/// Explains the one mistake older rooms made legal.
fn string_hint(value: &Value) -> &'static str {
    if value.is_string() {
        " (room v10 no longer accepts levels written as strings)"
    } else {
        ""
    }
}
