//! Read access to the room state an event is checked against.

use super::{AuthFailure, PowerLevels, reject};
use crate::pdu::Pdu;
use crate::state::{StateMap, slot};
use serde_json::Value;

/// Read access to the state an event is checked against.
pub(super) struct RoomState<'a> {
    state: &'a StateMap<&'a Pdu>,
    pub(super) create: &'a Pdu,
}

impl<'a> RoomState<'a> {
    /// Without a create event there is no room to check against (rule 2.4).
    pub(super) fn new(state: &'a StateMap<&'a Pdu>) -> Result<Self, AuthFailure> {
        let create = state
            .get(&slot("m.room.create", ""))
            .copied()
            .ok_or_else(|| {
                reject(
                    "2.4",
                    "the state the event is checked against has no m.room.create event",
                )
            })?;
        Ok(Self { state, create })
    }

    pub(super) fn get(&self, event_type: &str, state_key: &str) -> Option<&'a Pdu> {
        self.state.get(&slot(event_type, state_key)).copied()
    }

    /// A user's current membership (`join`, `invite`, ...), `None` if they
    /// have no member event or it is malformed.
    pub(super) fn membership(&self, user: &str) -> Option<&'a str> {
        self.get("m.room.member", user).and_then(Pdu::membership)
    }

    /// The join rule; `invite` when there is no join rules event (what
    /// Synapse and ruma assume), `None` when the event is malformed.
    pub(super) fn join_rule(&self) -> Option<&'a str> {
        match self.get("m.room.join_rules", "") {
            None => Some("invite"),
            Some(event) => match event.content().get("join_rule") {
                None => Some("invite"),
                Some(rule) => rule.as_str(),
            },
        }
    }

    /// The user ID in the create event's `creator`, if it is a string.
    pub(super) fn creator(&self) -> Option<&'a str> {
        self.create.content().get("creator").and_then(Value::as_str)
    }

    pub(super) fn power_levels_event(&self) -> Option<&'a Pdu> {
        self.get("m.room.power_levels", "")
    }

    pub(super) fn power_levels(&self) -> Result<PowerLevels, AuthFailure> {
        PowerLevels::from_state(self.power_levels_event(), Some(self.create))
    }
}
