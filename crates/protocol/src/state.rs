//! Room state as a map from `(event type, state key)` to an event.
//!
//! State is what a room *is* at a point in its history: who is a member,
//! who may do what, what the room is called. Each state event fills one
//! slot, named by its type and state key; a later event in the same slot
//! replaces it. Auth rules read state; state resolution computes it.

use crate::pdu::Pdu;
use std::collections::BTreeMap;

/// A state slot: `("m.room.member", "@alice:tomesh.lab")`, `("m.room.create", "")`.
pub type StateKey = (String, String);

/// Room state: one value (an event, or its ID) per slot. A `BTreeMap` so
/// that state prints, compares and iterates in one stable order.
pub type StateMap<T> = BTreeMap<StateKey, T>;

/// The slot `event` fills, or `None` for a non-state event.
pub fn slot_of(event: &Pdu) -> Option<StateKey> {
    event
        .state_key()
        .map(|state_key| (event.event_type().to_owned(), state_key.to_owned()))
}

/// Builds a slot from borrowed parts.
pub fn slot(event_type: &str, state_key: &str) -> StateKey {
    (event_type.to_owned(), state_key.to_owned())
}
