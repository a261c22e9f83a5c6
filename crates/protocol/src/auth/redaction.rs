//! Redactions: allowed by the auth rules, applied only if permitted
//! (<https://spec.matrix.org/v1.16/rooms/v10/#handling-redactions>).
//!
//! An `m.room.redaction` event goes through the auth rules like any other
//! message: rule 7 checks the level for *sending* it (`events_default`
//! unless `events["m.room.redaction"]` says otherwise), and rule 10 allows
//! it. The *redact level* is not part of the auth rules, because whether a
//! redaction may take effect depends on the event it redacts, which a
//! server may not have yet. So the redaction is accepted into the room, and
//! applied (the target's content stripped) only once both events are at
//! hand and [`redaction_takes_effect`] says so.

use super::PowerLevels;
use crate::pdu::Pdu;

/// Whether `redaction`, already accepted by the auth rules, may strip
/// `redacted`: if its sender has at least the redact level, or is on the
/// same server as `redacted`'s sender (a server may clean up after its own
/// users, and users may delete their own messages).
///
/// `power_levels` are those in force for the redaction (its state before).
pub fn redaction_takes_effect(redaction: &Pdu, redacted: &Pdu, power_levels: &PowerLevels) -> bool {
    let targets_it = redaction.event_type() == "m.room.redaction"
        && redaction.redacts() == Some(redacted.event_id())
        && redaction.room_id() == redacted.room_id();
    let powerful = power_levels.user_level(redaction.sender()) >= power_levels.redact();
    let same_server = redaction.sender().server_name() == redacted.sender().server_name();
    targets_it && (powerful || same_server)
}
