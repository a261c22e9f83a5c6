//! The room v10 authorization rules: may this event be part of the room?
//! (<https://spec.matrix.org/v1.16/rooms/v10/#authorization-rules>)
//!
//! A Matrix room has no owner server that says yes or no. Every server in
//! the room decides for itself whether each event is allowed, by running
//! the same rules over the same inputs: the event and the room state it
//! claims to follow. Because the rules are deterministic, servers that see
//! the same events reach the same verdicts without ever talking about it.
//! That is why the rules must be implemented *exactly*: a server that is
//! more lenient or more strict than its peers ends up with a different room.
//!
//! A receiving server runs the rules up to three times per event: against
//! the event's own `auth_events` (reject if they fail), against the state
//! before the event (reject), and against the room's current state (soft
//! fail). This module does not know which of these it is doing; the caller
//! chooses the state.
//!
//! | rule | what it checks | where |
//! |---|---|---|
//! | 1 | the `m.room.create` event | `create.rs` |
//! | 2 | the `auth_events` list itself | [`check_auth_events`], `auth_events.rs` |
//! | 3 | `m.federate: false` keeps other servers out | [`check_auth_rules`] |
//! | 4 | `m.room.member`: join, invite, leave, ban, knock | `membership.rs` |
//! | 5–8 | senders must be joined and powerful enough; no writing to other users' state keys | [`check_auth_rules`] |
//! | 9 | `m.room.power_levels`: well-formed, no escalation | [`power_levels`], `power_level_changes.rs` |
//! | 10 | otherwise, allow | |
//!
//! Every rejection is an [`AuthFailure`] naming the spec's rule number, so
//! a student can look the rule up. When a spec rule says "allow if X" and
//! a later rule says "otherwise, reject", the failure names the rule that
//! rejected (the "otherwise") and its reason says which "allow" did not
//! apply.
//!
//! Deliberately absent here, because they are done elsewhere:
//! - "Events must be signed by the server denoted by the `sender`": the
//!   signature check on receipt ([`crate::signing`]) runs first.
//! - Rule 2.3 (auth events that were themselves rejected): only the caller
//!   knows which events it rejected, so it must not pass them in.
//! - The redact level: in room v3+ the auth rules do not consider it (see
//!   [`redaction_takes_effect`]).
//! - Third-party (email) invites, rule 4.4.1: rejected, see `membership.rs`.

use crate::pdu::Pdu;
use crate::state::StateMap;
use serde_json::Value;

mod auth_events;
mod create;
mod membership;
mod power_level_changes;
pub mod power_levels;
mod redaction;
mod room_state;

pub use auth_events::{auth_types_for_event, check_auth_events};
pub use power_levels::PowerLevels;
pub use redaction::redaction_takes_effect;
use room_state::RoomState;

/// Where the rules this module implements are written down.
pub const SPEC_URL: &str = "https://spec.matrix.org/v1.16/rooms/v10/#authorization-rules";

/// The room versions the spec defines (v1.16). Rule 1.3 only asks whether
/// a create event names a version that exists; this module implements the
/// v10 rules, and choosing the rules for a room is the caller's business.
pub const KNOWN_ROOM_VERSIONS: &[&str] = &[
    "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12",
];

/// Why an event is not allowed.
///
/// `rule` is the spec's rule number for room v10 (`"4.3.2"`), `reason` a
/// sentence saying what was wrong with this particular event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("rejected by auth rule {rule}: {reason}")]
pub struct AuthFailure {
    pub rule: &'static str,
    pub reason: String,
}

/// Shorthand for building a rejection.
fn reject(rule: &'static str, reason: impl Into<String>) -> AuthFailure {
    AuthFailure {
        rule,
        reason: reason.into(),
    }
}

/// Every v10 rule except rule 2, checked against `auth_state`: the event's
/// auth events keyed by slot, or the room state before the event, or the
/// room's current state.
///
/// Only the auth-relevant slots of `auth_state` are read (create, power
/// levels, join rules, members), so passing the whole room state is fine.
/// A state without an `m.room.create` event fails rule 2.4: there is no
/// room to be authorised in.
pub fn check_auth_rules(event: &Pdu, auth_state: &StateMap<&Pdu>) -> Result<(), AuthFailure> {
    if event.event_type() == "m.room.create" {
        return create::check_create(event);
    }
    let room = RoomState::new(auth_state)?;
    check_federate(event, room.create)?;
    if event.event_type() == "m.room.member" {
        return membership::check_membership(event, &room);
    }
    let sender = event.sender().as_str();
    // Rule 5: only members speak. Without it anyone could post to any room.
    if room.membership(sender) != Some("join") {
        return Err(reject(
            "5",
            format!("{sender} is not joined to the room, and only members may send events"),
        ));
    }
    let power_levels = room.power_levels()?;
    let sender_level = power_levels.level_of(sender);
    // Rule 6: a third-party invite event is an invitation waiting for an
    // email address to be claimed, so it needs the power to invite.
    if event.event_type() == "m.room.third_party_invite" {
        if sender_level >= power_levels.invite() {
            return Ok(());
        }
        return Err(reject(
            "6.1",
            format!(
                "{sender} has power level {sender_level}, but inviting needs {}",
                power_levels.invite()
            ),
        ));
    }
    // Rule 7: the power levels say who may send which kind of event.
    let required = power_levels.event_level(event.event_type(), event.is_state());
    if required > sender_level {
        return Err(reject(
            "7",
            format!(
                "sending {} needs power level {required}, but {sender} has {sender_level}",
                event.event_type()
            ),
        ));
    }
    // Rule 8: a state key that is a user ID is that user's own slot
    // (their profile, their settings); nobody else may write to it.
    if let Some(state_key) = event.state_key()
        && state_key.starts_with('@')
        && state_key != sender
    {
        return Err(reject(
            "8",
            format!("{sender} may not set state under another user's ID {state_key:?}"),
        ));
    }
    if event.event_type() == "m.room.power_levels" {
        return power_level_changes::check_power_levels(event, &room, sender_level);
    }
    // Rule 10.
    Ok(())
}

/// Rule 3: `m.federate: false` in the create event keeps a room on its
/// creator's server; events from users of any other server are rejected.
fn check_federate(event: &Pdu, create: &Pdu) -> Result<(), AuthFailure> {
    let federates = create.content().get("m.federate") != Some(&Value::Bool(false));
    let home = create.sender().server_name();
    if !federates && event.sender().server_name() != home {
        return Err(reject(
            "3",
            format!(
                "the room was created with m.federate false, so only users of {home} may take part, not {}",
                event.sender()
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests;
