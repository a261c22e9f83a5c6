//! The convergence and durability checker, run with every scenario.
//!
//! **Durability.** Every message a server acknowledged to a client (the
//! `200` with an event ID) must still be in that server's store, unless
//! the scenario destroyed the server's files on purpose after the message
//! (a cleanup or a restore): then the loss is the story, and the report
//! counts it. Checked after every step, so a violation names the step
//! where it first appeared.
//!
//! **Convergence.** Once the network is healed, servers that share a room
//! and hold the same latest events (forward extremities) must have
//! computed the same room state from them. Checked at the end.

use super::run::Runner;
use super::server_of;
use crate::error::LabError;
use lostfound_protocol::ids::{EventId, RoomId};
use lostfound_store::Store;
use serde::Serialize;
use std::collections::{BTreeMap, BTreeSet};

/// One broken promise.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Violation {
    /// `durability` or `convergence`.
    pub kind: &'static str,
    pub room: String,
    pub servers: Vec<String>,
    pub events: Vec<String>,
    /// The scenario line of the step after which it was first seen.
    pub step_line: usize,
    pub detail: String,
}

/// What the checker looked at and what it found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct CheckResult {
    /// Acknowledged messages checked on their origin server.
    pub messages_checked: usize,
    /// Messages the scenario destroyed on purpose (in the report instead).
    pub destroyed_on_purpose: usize,
    /// Room copies compared for convergence.
    pub room_copies_compared: usize,
    pub violations: Vec<Violation>,
}

impl CheckResult {
    pub fn passed(&self) -> bool {
        self.violations.is_empty()
    }
}

/// The durability check after the step on `line`; new violations are
/// appended to `result` (one per message, the first time it is missed).
pub(crate) async fn durability(
    runner: &Runner<'_>,
    line: usize,
    result: &mut CheckResult,
) -> Result<(), LabError> {
    let mut by_origin: BTreeMap<String, Vec<(String, String)>> = BTreeMap::new();
    let (mut checked, mut destroyed) = (0, 0);
    for message in &runner.tracked.messages {
        let origin = server_of(&message.sender).to_owned();
        // Destroyed by a later step: the loss is the story, in the report.
        let destroyed_after = runner
            .tracked
            .destroyed
            .get(&origin)
            .is_some_and(|step| *step > message.step);
        if destroyed_after {
            destroyed += 1;
            continue;
        }
        if !runner.lab.is_running(&origin) {
            continue;
        }
        checked += 1;
        by_origin
            .entry(origin)
            .or_default()
            .push((message.event_id.clone(), message.room.clone()));
    }
    result.messages_checked = checked;
    result.destroyed_on_purpose = destroyed;
    let already: BTreeSet<String> = result
        .violations
        .iter()
        .flat_map(|v| v.events.iter().cloned())
        .collect();
    for (origin, messages) in by_origin {
        let store = runner.lab.store(&origin)?;
        let ids: Vec<(String, String)> = messages
            .into_iter()
            .filter(|(id, _)| !already.contains(id))
            .collect();
        let missing = tokio::task::spawn_blocking(move || {
            let mut missing = Vec::new();
            for (id, room) in ids {
                let Ok(event_id) = id.parse::<EventId>() else {
                    missing.push((id, room));
                    continue;
                };
                if store.event(&event_id)?.is_none_or(|stored| stored.outlier) {
                    missing.push((id, room));
                }
            }
            Ok::<_, lostfound_store::StoreError>(missing)
        })
        .await
        .map_err(|e| LabError::Stopped {
            server: origin.clone(),
            message: e.to_string(),
        })?
        .map_err(|source| LabError::Store {
            server: origin.clone(),
            source,
        })?;
        for (event_id, room) in missing {
            result.violations.push(Violation {
                kind: "durability",
                room,
                servers: vec![origin.clone()],
                events: vec![event_id],
                step_line: line,
                detail: format!(
                    "{origin} acknowledged this message to its sender and no longer has it, \
                     though the scenario never destroyed its files afterwards"
                ),
            });
        }
    }
    Ok(())
}

/// A server's copy of a room: its latest events and its state.
#[derive(PartialEq, Eq)]
struct Copy {
    extremities: BTreeSet<EventId>,
    state: BTreeMap<(String, String), EventId>,
    /// Whether one of the server's own users is joined (so it should be
    /// sent everything), and the scenario never destroyed its files (so
    /// it should lack nothing it was sent).
    expects_everything: bool,
}

/// The convergence check, at the end of the run.
pub(crate) async fn convergence(
    runner: &Runner<'_>,
    line: usize,
    result: &mut CheckResult,
) -> Result<(), LabError> {
    for (label, room) in &runner.rooms {
        let Ok(room_id) = room.room_id.parse::<RoomId>() else {
            continue;
        };
        let mut copies: BTreeMap<String, Copy> = BTreeMap::new();
        for server in &runner.scenario.servers {
            if !runner.lab.is_reachable(server) {
                continue;
            }
            let store = runner.lab.store(server)?;
            let room_id = room_id.clone();
            let name = server.clone();
            let intact = !runner.tracked.destroyed.contains_key(server);
            let copy = tokio::task::spawn_blocking(move || {
                let state = store.current_state(&room_id)?;
                let extremities = store.forward_extremities(&room_id)?;
                let mut joined = false;
                for ((kind, user), event_id) in &state {
                    if kind == "m.room.member" && server_of(user) == name {
                        joined |= store
                            .event(event_id)?
                            .is_some_and(|e| e.event.content()["membership"] == "join");
                    }
                }
                Ok::<_, lostfound_store::StoreError>(Copy {
                    extremities: extremities.into_iter().collect(),
                    state: state.into_iter().collect(),
                    expects_everything: joined && intact,
                })
            })
            .await
            .map_err(|e| LabError::Stopped {
                server: server.clone(),
                message: e.to_string(),
            })?
            .map_err(|source| LabError::Store {
                server: server.clone(),
                source,
            })?;
            if !copy.state.is_empty() {
                copies.insert(server.clone(), copy);
            }
        }
        result.room_copies_compared += copies.len();
        compare_copies(label, &copies, line, result);
    }
    Ok(())
}

fn compare_copies(
    label: &str,
    copies: &BTreeMap<String, Copy>,
    line: usize,
    result: &mut CheckResult,
) {
    // Servers that were sent everything and lost nothing must hold the
    // same latest events once the network is quiet; a server restored
    // from a backup may legitimately lag until someone speaks (the report
    // counts that), so it is left out.
    let expecting: Vec<(&String, &Copy)> = copies
        .iter()
        .filter(|(_, copy)| copy.expects_everything)
        .collect();
    if let Some(((first, a), rest)) = expecting.split_first()
        && let Some((second, b)) = rest.iter().find(|(_, b)| b.extremities != a.extremities)
    {
        result.violations.push(Violation {
            kind: "convergence",
            room: label.to_owned(),
            servers: vec![(*first).clone(), (*second).clone()],
            events: a
                .extremities
                .symmetric_difference(&b.extremities)
                .map(ToString::to_string)
                .collect(),
            step_line: line,
            detail: "joined, never restored, and reachable, yet holding different latest \
                     events once the network was quiet: an event was not delivered or not \
                     accepted"
                .to_owned(),
        });
    }
    let servers: Vec<&String> = copies.keys().collect();
    for (index, first) in servers.iter().enumerate() {
        for second in &servers[index + 1..] {
            let (a, b) = (&copies[*first], &copies[*second]);
            if a.extremities != b.extremities || a.state == b.state {
                continue;
            }
            let differing: Vec<String> = a
                .state
                .keys()
                .chain(b.state.keys())
                .filter(|key| a.state.get(*key) != b.state.get(*key))
                .map(|(kind, key)| format!("({kind}, {key:?})"))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            result.violations.push(Violation {
                kind: "convergence",
                room: label.to_owned(),
                servers: vec![(*first).clone(), (*second).clone()],
                events: a.extremities.iter().map(ToString::to_string).collect(),
                step_line: line,
                detail: format!(
                    "the same latest events, different state at {}",
                    differing.join(", ")
                ),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(id: &str) -> EventId {
        format!("${id}").parse().expect("an event ID")
    }

    fn copy(extremities: &[&str], state: &[(&str, &str)]) -> Copy {
        Copy {
            expects_everything: false,
            extremities: extremities.iter().map(|id| event(id)).collect(),
            state: state
                .iter()
                .map(|(kind, id)| ((kind.to_string(), String::new()), event(id)))
                .collect(),
        }
    }

    #[test]
    fn same_latest_events_with_different_state_is_a_violation() {
        let copies = BTreeMap::from([
            (
                "a.lab".to_owned(),
                copy(&["tip"], &[("m.room.topic", "t1")]),
            ),
            (
                "b.lab".to_owned(),
                copy(&["tip"], &[("m.room.topic", "t2")]),
            ),
            // Behind the others (other latest events): not comparable yet.
            (
                "c.lab".to_owned(),
                copy(&["old"], &[("m.room.topic", "t0")]),
            ),
        ]);
        let mut result = CheckResult::default();
        compare_copies("garden", &copies, 42, &mut result);
        assert_eq!(result.violations.len(), 1, "{result:?}");
        let violation = &result.violations[0];
        assert_eq!(violation.kind, "convergence");
        assert_eq!(violation.servers, ["a.lab", "b.lab"]);
        assert_eq!(violation.step_line, 42);
        assert_eq!(
            violation.detail,
            "the same latest events, different state at (m.room.topic, \"\")"
        );
    }

    #[test]
    fn intact_joined_servers_with_different_latest_events_are_a_violation() {
        let mut a = copy(&["tip"], &[("m.room.topic", "t1")]);
        let mut b = copy(&["old"], &[("m.room.topic", "t1")]);
        let mut restored = copy(&["older"], &[("m.room.topic", "t0")]);
        a.expects_everything = true;
        b.expects_everything = true;
        restored.expects_everything = false;
        let copies = BTreeMap::from([
            ("a.lab".to_owned(), a),
            ("b.lab".to_owned(), b),
            ("c.lab".to_owned(), restored),
        ]);
        let mut result = CheckResult::default();
        compare_copies("garden", &copies, 7, &mut result);
        assert_eq!(result.violations.len(), 1, "{result:?}");
        assert_eq!(result.violations[0].servers, ["a.lab", "b.lab"]);
        assert_eq!(result.violations[0].events, ["$old", "$tip"]);
    }

    #[test]
    fn agreeing_copies_pass() {
        let copies = BTreeMap::from([
            (
                "a.lab".to_owned(),
                copy(&["tip"], &[("m.room.topic", "t1")]),
            ),
            (
                "b.lab".to_owned(),
                copy(&["tip"], &[("m.room.topic", "t1")]),
            ),
        ]);
        let mut result = CheckResult::default();
        compare_copies("garden", &copies, 1, &mut result);
        assert!(result.passed());
    }
}
