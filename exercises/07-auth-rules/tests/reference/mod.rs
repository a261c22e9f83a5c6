//! The reference answer: the workbench's auth rules,
//! `lostfound_protocol::auth::check_auth_rules`, behind the exercise's
//! signature. For member events they run rules 2.4, 3 and 4, the same
//! numbering the exercise asks for.

use ex07_auth_rules::Denied;
use lostfound_protocol::auth;
use lostfound_protocol::pdu::Pdu;
use lostfound_protocol::state::StateMap;

pub fn check_membership(event: &Pdu, auth_state: &StateMap<&Pdu>) -> Result<(), Denied> {
    auth::check_auth_rules(event, auth_state).map_err(|failure| Denied {
        rule: failure.rule,
        reason: failure.reason,
    })
}
