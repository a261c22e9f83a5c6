//! The auth rules, case by case, through one helper: [`check`].
//!
//! Every case is an event sent into a small room with a known cast, and
//! the rule number the spec says decides it. The rooms are built by
//! *replaying* a legal history through the same checks, so the fixture
//! itself shows which events the rules allow.
//!
//! The cast (users on `tomesh.lab` are local to the room's creator):
//!
//! | user | in the room | power level |
//! |---|---|---|
//! | `@ada:tomesh.lab` | creator, joined | 100 |
//! | `@mo:tomesh.lab` | joined (moderator) | 50 |
//! | `@alice:tomesh.lab` | joined | 0 |
//! | `@bob:hypha.lab` | joined, from another server | 0 |
//! | `@carol:hypha.lab` | never been in the room | 0 |
//! | `@ivan:hypha.lab` | invited by ada | 0 |
//! | `@eve:hypha.lab` | banned by ada | 0 |
//! | `@kim:hypha.lab` | knocking | 0 |

use super::*;
use crate::ids::{EventId, RoomId};
use crate::pdu::PduBuilder;
use crate::signing::{self, SigningKey};
use serde_json::json;
use std::collections::BTreeMap;
use std::fmt::Write;

mod create_and_auth_events;
mod events;
mod joining;
mod malformed;
mod membership;
mod power_levels;
mod room;
mod selection_and_defaults;

use room::{Room, cosigned, key, lobby_power_levels};

const ADA: &str = "@ada:tomesh.lab";
const MO: &str = "@mo:tomesh.lab";
const ALICE: &str = "@alice:tomesh.lab";
const BOB: &str = "@bob:hypha.lab";
const CAROL: &str = "@carol:hypha.lab";
const IVAN: &str = "@ivan:hypha.lab";
const EVE: &str = "@eve:hypha.lab";
const KIM: &str = "@kim:hypha.lab";

/// THE helper: rule 2 on the event's auth events, then all other rules
/// against the room's state before the event.
fn check(room: &Room, event: &Pdu) -> Result<(), AuthFailure> {
    let auth_events: Vec<&Pdu> = event
        .auth_events()
        .iter()
        .map(|id| {
            room.events
                .get(id)
                .unwrap_or_else(|| panic!("fixture does not know auth event {id}"))
        })
        .collect();
    check_auth_events(event, &auth_events)?;
    let state: StateMap<&Pdu> = room
        .state
        .iter()
        .map(|(key, event)| (key.clone(), event))
        .collect();
    check_auth_rules(event, &state)
}

/// What a case expects: allowed, or rejected by this rule number.
enum Expected {
    Allowed,
    Rejected(&'static str),
}
use Expected::{Allowed, Rejected};

struct Case<'r> {
    name: &'static str,
    room: &'r Room,
    event: Pdu,
    expected: Expected,
}

fn case<'r>(name: &'static str, room: &'r Room, event: Pdu, expected: Expected) -> Case<'r> {
    Case {
        name,
        room,
        event,
        expected,
    }
}

/// Checks every case, reports all mismatches at once, and returns the
/// verdicts as text for a reviewed snapshot of the reasons.
fn assert_cases(cases: Vec<Case<'_>>) -> String {
    let (mut report, mut wrong) = (String::new(), Vec::new());
    for Case {
        name,
        room,
        event,
        expected,
    } in cases
    {
        let got = check(room, &event);
        let verdict = match &got {
            Ok(()) => "allowed".to_owned(),
            Err(failure) => failure.to_string(),
        };
        writeln!(report, "{name}\n    {verdict}").unwrap_or(());
        let matches = match (&expected, &got) {
            (Allowed, Ok(())) => true,
            (Rejected(rule), Err(failure)) => *rule == failure.rule && !failure.reason.is_empty(),
            _ => false,
        };
        if !matches {
            let expected = match expected {
                Allowed => "allowed".to_owned(),
                Rejected(rule) => format!("rejected by rule {rule}"),
            };
            wrong.push(format!("{name}: expected {expected}, got {verdict}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} case(s) wrong:\n{}",
        wrong.len(),
        wrong.join("\n")
    );
    report
}
