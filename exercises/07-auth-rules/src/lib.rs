//! Exercise 7: the room version 10 authorization rules for `m.room.member`
//! (<https://spec.matrix.org/v1.16/rooms/v10/#authorization-rules>, rule 4).
//!
//! Every server in a room decides on its own whether each event is allowed,
//! by running the same rules over the same state. A membership event lets
//! someone in or out of the room, so these rules are the room's lock. Read
//! `exercises/07-auth-rules/README.md` first.
//!
//! # Scope
//!
//! [`check_membership`] is only ever called with `m.room.member` events, in
//! rooms whose join rule is `public`, `invite`, or something else that is
//! neither (such as `private`), with well-formed power levels. Knocking,
//! restricted rooms, third-party invites (`third_party_invite`), vouched
//! joins (`join_authorised_via_users_server`) and `m.federate` are out of
//! scope: no test sends them, so you need not handle them.
//!
//! # Reading the state
//!
//! `auth_state` maps `(event type, state key)` to the state event in that
//! slot, for instance `("m.room.member", "@alice:tomesh.lab")`.
//!
//! - **Membership** of a user: `content.membership` of their
//!   `m.room.member` event (`Pdu::membership()` reads it). A user with no
//!   member event has no membership at all; treat that like `leave`.
//! - **Join rule**: `content.join_rule` of the `("m.room.join_rules", "")`
//!   event; a room *without* a join rules event is `invite`-only.
//! - **Power levels**, from the `("m.room.power_levels", "")` event's content:
//!   a user's level is `users[user]`, else `users_default` (else 0);
//!   `ban` and `kick` default to 50, `invite` to 0. A room *without* a power
//!   levels event gives the creator (`content.creator` of the create event)
//!   level 100 and everyone else 0, with the same defaults for actions.
//!
//! # The rules, and the rule number each rejection carries
//!
//! The *sender* is `event.sender()`; the *target* is `event.state_key()`.
//! Check in this order; the first rule that decides, decides.
//!
//! | rule | check | verdict |
//! |---|---|---|
//! | 2.4 | `auth_state` has no `("m.room.create", "")` event | reject `"2.4"` |
//! | 4.1 | no `state_key`, or no `content.membership` | reject `"4.1"` |
//! | | **membership `join`** | |
//! | 4.3.1 | `prev_events` is exactly `[the create event's ID]` and the target is the creator | allow |
//! | 4.3.2 | sender is not the target | reject `"4.3.2"` |
//! | 4.3.3 | sender is banned | reject `"4.3.3"` |
//! | 4.3.4 | join rule `invite` and sender's membership is `invite` or `join` | allow |
//! | 4.3.6 | join rule `public` | allow |
//! | 4.3.7 | otherwise | reject `"4.3.7"` |
//! | | **membership `invite`** | |
//! | 4.4.2 | sender is not joined | reject `"4.4.2"` |
//! | 4.4.3 | target is joined or banned | reject `"4.4.3"` |
//! | 4.4.4 | sender's level ≥ the `invite` level | allow |
//! | 4.4.5 | otherwise | reject `"4.4.5"` |
//! | | **membership `leave`** | |
//! | 4.5.1 | sender is the target: allow if their membership is `invite`, `join` or `knock` | else reject `"4.5.1"` |
//! | 4.5.2 | sender is not joined | reject `"4.5.2"` |
//! | 4.5.3 | target is banned and sender's level < the `ban` level | reject `"4.5.3"` |
//! | 4.5.4 | sender's level ≥ the `kick` level and target's level < sender's level | allow |
//! | 4.5.5 | otherwise | reject `"4.5.5"` |
//! | | **membership `ban`** | |
//! | 4.6.1 | sender is not joined | reject `"4.6.1"` |
//! | 4.6.2 | sender's level ≥ the `ban` level and target's level < sender's level | allow |
//! | 4.6.3 | otherwise | reject `"4.6.3"` |
//! | 4.8 | any other `membership` value (or one that is not a string) | reject `"4.8"` |
//!
//! When a rule says "allow if X" and X does not hold, carry on to the next
//! rule; the rejection names the "otherwise" rule that ends the list.

use lostfound_protocol::pdu::Pdu;
use lostfound_protocol::state::StateMap;

/// Why a membership event is not allowed: the spec's rule number for room
/// v10 (such as `"4.3.3"`, see the table in the crate docs) and a sentence
/// saying what was wrong with this event.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("rejected by auth rule {rule}: {reason}")]
pub struct Denied {
    /// The rule number, exactly as in the crate docs' table.
    pub rule: &'static str,
    /// Any non-empty explanation, for the people reading your logs.
    pub reason: String,
}

impl Denied {
    /// Shorthand: `Err(Denied::new("4.3.3", "@eve:hypha.lab is banned"))`.
    pub fn new(rule: &'static str, reason: impl Into<String>) -> Self {
        Self {
            rule,
            reason: reason.into(),
        }
    }
}

/// Whether `event`, an `m.room.member` event, is allowed by the room v10
/// rules against `auth_state`, the room state the event is checked against.
///
/// `Ok(())` if it is allowed; otherwise the rule that rejects it, as in the
/// table in the crate docs.
pub fn check_membership(event: &Pdu, auth_state: &StateMap<&Pdu>) -> Result<(), Denied> {
    let _ = (event, auth_state);
    todo!(
        "find the create event (else 2.4), read state_key and content.membership \
         (else 4.1), then apply the join, invite, leave or ban rules from the table \
         in the crate docs, in order"
    )
}
