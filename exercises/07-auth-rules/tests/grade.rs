//! The graded tests for exercise 7: a table of membership events sent into
//! small rooms with a known cast, each with the verdict the room v10 rules
//! give (allowed, or rejected by a named rule).
//!
//! The cast of the main room, `lobby` (public; ban and kick need 50,
//! inviting needs 0):
//!
//! | user | membership | power level |
//! |---|---|---|
//! | `@ada:tomesh.lab` | creator, joined | 100 |
//! | `@mo:tomesh.lab` | joined (moderator) | 50 |
//! | `@sam:hypha.lab` | joined (moderator) | 50 |
//! | `@alice:tomesh.lab` | joined | 0 |
//! | `@bob:hypha.lab` | joined | 0 |
//! | `@ivan:hypha.lab` | invited | 0 |
//! | `@eve:hypha.lab` | banned | 0 |
//! | `@zed:hypha.lab` | left | 0 |
//! | `@carol:hypha.lab` | never been in the room | 0 |
//!
//! `office` is invite-only: ban needs 75, kick 50, invite 50; Alice has 10.
//! `fresh` has only its create event (Ada created it): no power levels, no
//! join rules, no members.

#[cfg(not(feature = "reference"))]
use ex07_auth_rules as answer;
#[cfg(feature = "reference")]
mod reference;
#[cfg(feature = "reference")]
use reference as answer;

use ex07_auth_rules::Denied;
use lostfound_protocol::ids::EventId;
use lostfound_protocol::pdu::{Pdu, PduBuilder};
use lostfound_protocol::signing::SigningKey;
use lostfound_protocol::state::{StateMap, slot_of};
use serde_json::{Value, json};

const ADA: &str = "@ada:tomesh.lab";
const MO: &str = "@mo:tomesh.lab";
const SAM: &str = "@sam:hypha.lab";
const ALICE: &str = "@alice:tomesh.lab";
const BOB: &str = "@bob:hypha.lab";
const IVAN: &str = "@ivan:hypha.lab";
const EVE: &str = "@eve:hypha.lab";
const ZED: &str = "@zed:hypha.lab";
const CAROL: &str = "@carol:hypha.lab";
const DAVE: &str = "@dave:hypha.lab";

/// Each server signs its own users' events, as on the wire.
fn key_for(sender: &str) -> SigningKey {
    let server = sender.split_once(':').expect("a user ID has a server").1;
    let seed = if server == "tomesh.lab" {
        [1; 32]
    } else {
        [2; 32]
    };
    SigningKey::from_seed(
        server.parse().expect("a valid server name"),
        "ed25519:1".parse().expect("a valid key ID"),
        seed,
    )
}

/// A room built event by event. Later events replace earlier ones in the
/// same state slot; every event follows the previous one.
#[derive(Clone)]
struct Room {
    name: &'static str,
    events: Vec<Pdu>,
}

impl Room {
    fn create(name: &'static str) -> Self {
        let create = PduBuilder::new(
            format!("!{name}:tomesh.lab")
                .parse()
                .expect("a valid room ID"),
            ADA.parse().expect("a valid user ID"),
            "m.room.create",
            json!({"creator": ADA, "room_version": "10"}),
        )
        .state_key("")
        .origin_server_ts(1_610_000_000_000)
        .sign(&key_for(ADA))
        .expect("the create event signs");
        Self {
            name,
            events: vec![create],
        }
    }

    fn create_id(&self) -> EventId {
        self.events[0].event_id().clone()
    }

    fn last_id(&self) -> EventId {
        self.events
            .last()
            .expect("a room has its create event")
            .event_id()
            .clone()
    }

    /// A state event following the room's latest event.
    fn event(
        &self,
        sender: &str,
        event_type: &str,
        state_key: Option<&str>,
        content: Value,
    ) -> Pdu {
        self.event_after(sender, event_type, state_key, content, vec![self.last_id()])
    }

    fn event_after(
        &self,
        sender: &str,
        event_type: &str,
        state_key: Option<&str>,
        content: Value,
        prev_events: Vec<EventId>,
    ) -> Pdu {
        let mut builder = PduBuilder::new(
            format!("!{}:tomesh.lab", self.name)
                .parse()
                .expect("a valid room ID"),
            sender.parse().expect("a valid user ID"),
            event_type,
            content,
        )
        .depth(self.events.len() as u64 + 1)
        .origin_server_ts(1_610_000_000_000 + self.events.len() as u64)
        .auth_events([self.create_id()])
        .prev_events(prev_events);
        if let Some(state_key) = state_key {
            builder = builder.state_key(state_key);
        }
        builder
            .sign(&key_for(sender))
            .expect("the test event signs")
    }

    /// `sender` sets `target`'s membership.
    fn member(&self, sender: &str, membership: &str, target: &str) -> Pdu {
        self.event(
            sender,
            "m.room.member",
            Some(target),
            json!({"membership": membership}),
        )
    }

    /// Adds `event` to the room as it is, without checking it: the rooms
    /// below are built from events the rules allow (see `fixtures_are_legal`).
    fn with(mut self, event: Pdu) -> Self {
        self.events.push(event);
        self
    }

    fn with_member(self, sender: &str, membership: &str, target: &str) -> Self {
        let event = self.member(sender, membership, target);
        self.with(event)
    }

    fn with_state(self, sender: &str, event_type: &str, content: Value) -> Self {
        let event = self.event(sender, event_type, Some(""), content);
        self.with(event)
    }

    fn state(&self) -> StateMap<&Pdu> {
        let mut state = StateMap::new();
        for event in &self.events {
            if let Some(slot) = slot_of(event) {
                state.insert(slot, event);
            }
        }
        state
    }
}

/// Only the create event.
fn fresh() -> Room {
    Room::create("fresh")
}

/// Only the create event and Ada's first join: no power levels, no join rules.
fn fresh_with_ada() -> Room {
    let room = fresh();
    let join = room.event_after(
        ADA,
        "m.room.member",
        Some(ADA),
        json!({"membership": "join"}),
        vec![room.create_id()],
    );
    room.with(join)
}

fn lobby() -> Room {
    fresh_with_ada_named("lobby")
        .with_state(
            ADA,
            "m.room.power_levels",
            json!({"users": {ADA: 100, MO: 50, SAM: 50}}),
        )
        .with_state(ADA, "m.room.join_rules", json!({"join_rule": "public"}))
        .with_member(MO, "join", MO)
        .with_member(SAM, "join", SAM)
        .with_member(ALICE, "join", ALICE)
        .with_member(BOB, "join", BOB)
        .with_member(ZED, "join", ZED)
        .with_member(ZED, "leave", ZED)
        .with_member(ADA, "invite", IVAN)
        .with_member(ADA, "ban", EVE)
}

fn office() -> Room {
    fresh_with_ada_named("office")
        .with_state(
            ADA,
            "m.room.power_levels",
            json!({"users": {ADA: 100, MO: 50, ALICE: 10}, "ban": 75, "kick": 50, "invite": 50}),
        )
        .with_state(ADA, "m.room.join_rules", json!({"join_rule": "invite"}))
        .with_member(ADA, "invite", MO)
        .with_member(MO, "join", MO)
        .with_member(ADA, "invite", ALICE)
        .with_member(ALICE, "join", ALICE)
        .with_member(ADA, "invite", IVAN)
        .with_member(ADA, "ban", EVE)
}

/// `fresh_with_ada` under another room ID.
fn fresh_with_ada_named(name: &'static str) -> Room {
    let room = Room::create(name);
    let join = room.event_after(
        ADA,
        "m.room.member",
        Some(ADA),
        json!({"membership": "join"}),
        vec![room.create_id()],
    );
    room.with(join)
}

/// What a case expects: allowed, or rejected by this rule.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Expected {
    Allowed,
    Rejected(&'static str),
}
use Expected::{Allowed, Rejected};

struct Case {
    name: &'static str,
    room: Room,
    event: Pdu,
    expected: Expected,
}

fn case(name: &'static str, room: &Room, event: Pdu, expected: Expected) -> Case {
    Case {
        name,
        room: room.clone(),
        event,
        expected,
    }
}

/// Runs every case and reports all the wrong verdicts at once.
fn assert_cases(cases: Vec<Case>) {
    let mut wrong = Vec::new();
    for Case {
        name,
        room,
        event,
        expected,
    } in &cases
    {
        let got = answer::check_membership(event, &room.state());
        let right = match (expected, &got) {
            (Allowed, Ok(())) => true,
            (Rejected(rule), Err(Denied { rule: got, reason })) => {
                rule == got && !reason.trim().is_empty()
            }
            _ => false,
        };
        if !right {
            let got = match got {
                Ok(()) => "allowed".to_owned(),
                Err(denied) => format!("{denied} (rule {:?})", denied.rule),
            };
            wrong.push(format!("{name}: expected {expected:?}, got {got}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "{} of {} case(s) wrong:\n{}",
        wrong.len(),
        cases.len(),
        wrong.join("\n")
    );
}

#[test]
fn joining() {
    let (fresh, lobby, office) = (fresh(), lobby(), office());
    let private = fresh_with_ada_named("private").with_state(
        ADA,
        "m.room.join_rules",
        json!({"join_rule": "private"}),
    );
    let first_join_after = |prev: Vec<EventId>, user: &str| {
        fresh.event_after(
            user,
            "m.room.member",
            Some(user),
            json!({"membership": "join"}),
            prev,
        )
    };
    let other = lobby.last_id();
    assert_cases(vec![
        case(
            "the creator's first join, right after the create event",
            &fresh,
            first_join_after(vec![fresh.create_id()], ADA),
            Allowed,
        ),
        case(
            "the creator joining after the create event and another event is no first join",
            &fresh,
            first_join_after(vec![fresh.create_id(), other], ADA),
            Rejected("4.3.7"),
        ),
        case(
            "someone other than the creator joining right after the create event",
            &fresh,
            first_join_after(vec![fresh.create_id()], CAROL),
            Rejected("4.3.7"),
        ),
        case(
            "anyone may join a public room",
            &lobby,
            lobby.member(CAROL, "join", CAROL),
            Allowed,
        ),
        case(
            "a member may join again (a profile change)",
            &lobby,
            lobby.member(BOB, "join", BOB),
            Allowed,
        ),
        case(
            "a user who left may come back to a public room",
            &lobby,
            lobby.member(ZED, "join", ZED),
            Allowed,
        ),
        case(
            "nobody joins someone else",
            &lobby,
            lobby.member(ADA, "join", CAROL),
            Rejected("4.3.2"),
        ),
        case(
            "a banned user may not join, even a public room",
            &lobby,
            lobby.member(EVE, "join", EVE),
            Rejected("4.3.3"),
        ),
        case(
            "an invited user joins an invite-only room",
            &office,
            office.member(IVAN, "join", IVAN),
            Allowed,
        ),
        case(
            "joining an invite-only room without an invite",
            &office,
            office.member(CAROL, "join", CAROL),
            Rejected("4.3.7"),
        ),
        case(
            "a banned user is rejected as banned before the join rule is read",
            &office,
            office.member(EVE, "join", EVE),
            Rejected("4.3.3"),
        ),
        case(
            "no join rules event means invite-only",
            &fresh_with_ada(),
            fresh_with_ada().member(CAROL, "join", CAROL),
            Rejected("4.3.7"),
        ),
        case(
            "a join rule that is neither public nor invite lets nobody in",
            &private,
            private.member(CAROL, "join", CAROL),
            Rejected("4.3.7"),
        ),
    ]);
}

#[test]
fn inviting() {
    let (lobby, office) = (lobby(), office());
    let ada_alone = fresh_with_ada();
    assert_cases(vec![
        case(
            "a member invites when the invite level is 0",
            &lobby,
            lobby.member(ALICE, "invite", CAROL),
            Allowed,
        ),
        case(
            "an outsider may not invite",
            &lobby,
            lobby.member(CAROL, "invite", DAVE),
            Rejected("4.4.2"),
        ),
        case(
            "an invited user who has not joined may not invite",
            &lobby,
            lobby.member(IVAN, "invite", CAROL),
            Rejected("4.4.2"),
        ),
        case(
            "a user who left may not invite",
            &lobby,
            lobby.member(ZED, "invite", CAROL),
            Rejected("4.4.2"),
        ),
        case(
            "a joined member cannot be invited",
            &lobby,
            lobby.member(MO, "invite", BOB),
            Rejected("4.4.3"),
        ),
        case(
            "an invite does not lift a ban",
            &lobby,
            lobby.member(ADA, "invite", EVE),
            Rejected("4.4.3"),
        ),
        case(
            "inviting someone who is already invited is allowed",
            &office,
            office.member(MO, "invite", IVAN),
            Allowed,
        ),
        case(
            "a moderator at the invite level invites",
            &office,
            office.member(MO, "invite", CAROL),
            Allowed,
        ),
        case(
            "inviting without the invite level",
            &office,
            office.member(ALICE, "invite", CAROL),
            Rejected("4.4.5"),
        ),
        case(
            "without a power levels event the creator has 100",
            &ada_alone,
            ada_alone.member(ADA, "invite", CAROL),
            Allowed,
        ),
    ]);
}

#[test]
fn leaving_and_kicking() {
    let (lobby, office) = (lobby(), office());
    assert_cases(vec![
        case(
            "a member leaves",
            &lobby,
            lobby.member(ALICE, "leave", ALICE),
            Allowed,
        ),
        case(
            "an invited user declines",
            &lobby,
            lobby.member(IVAN, "leave", IVAN),
            Allowed,
        ),
        case(
            "leaving a room you were never in",
            &lobby,
            lobby.member(CAROL, "leave", CAROL),
            Rejected("4.5.1"),
        ),
        case(
            "leaving twice",
            &lobby,
            lobby.member(ZED, "leave", ZED),
            Rejected("4.5.1"),
        ),
        case(
            "a banned user cannot leave their ban away",
            &lobby,
            lobby.member(EVE, "leave", EVE),
            Rejected("4.5.1"),
        ),
        case(
            "a moderator kicks a member below them",
            &lobby,
            lobby.member(MO, "leave", ALICE),
            Allowed,
        ),
        case(
            "a moderator withdraws an invite",
            &lobby,
            lobby.member(MO, "leave", IVAN),
            Allowed,
        ),
        case(
            "the rules let a moderator 'kick' someone who is not in the room",
            &lobby,
            lobby.member(MO, "leave", CAROL),
            Allowed,
        ),
        case(
            "an outsider may not kick",
            &lobby,
            lobby.member(CAROL, "leave", ALICE),
            Rejected("4.5.2"),
        ),
        case(
            "an invited user may not kick",
            &lobby,
            lobby.member(IVAN, "leave", ALICE),
            Rejected("4.5.2"),
        ),
        case(
            "kicking without the kick level",
            &lobby,
            lobby.member(ALICE, "leave", BOB),
            Rejected("4.5.5"),
        ),
        case(
            "kicking someone above you",
            &lobby,
            lobby.member(MO, "leave", ADA),
            Rejected("4.5.5"),
        ),
        case(
            "kicking someone at your own level",
            &lobby,
            lobby.member(MO, "leave", SAM),
            Rejected("4.5.5"),
        ),
        case(
            "a moderator with the ban level lifts a ban",
            &lobby,
            lobby.member(MO, "leave", EVE),
            Allowed,
        ),
        case(
            "the kick level is not enough to lift a ban",
            &office,
            office.member(MO, "leave", EVE),
            Rejected("4.5.3"),
        ),
        case(
            "the kick level is enough to kick in the same room",
            &office,
            office.member(MO, "leave", ALICE),
            Allowed,
        ),
    ]);
}

#[test]
fn banning() {
    let (lobby, office) = (lobby(), office());
    let ada_alone = fresh_with_ada();
    assert_cases(vec![
        case(
            "a moderator bans a member below them",
            &lobby,
            lobby.member(MO, "ban", ALICE),
            Allowed,
        ),
        case(
            "a ban needs no membership in the target",
            &lobby,
            lobby.member(MO, "ban", CAROL),
            Allowed,
        ),
        case(
            "banning without the ban level",
            &lobby,
            lobby.member(ALICE, "ban", BOB),
            Rejected("4.6.3"),
        ),
        case(
            "banning someone above you",
            &lobby,
            lobby.member(MO, "ban", ADA),
            Rejected("4.6.3"),
        ),
        case(
            "banning someone at your own level",
            &lobby,
            lobby.member(MO, "ban", SAM),
            Rejected("4.6.3"),
        ),
        case(
            "an outsider may not ban",
            &lobby,
            lobby.member(CAROL, "ban", ALICE),
            Rejected("4.6.1"),
        ),
        case(
            "a user who left may not ban",
            &lobby,
            lobby.member(ZED, "ban", BOB),
            Rejected("4.6.1"),
        ),
        case(
            "the ban level is the room's, not the default 50",
            &office,
            office.member(MO, "ban", ALICE),
            Rejected("4.6.3"),
        ),
        case(
            "without a power levels event the creator may ban",
            &ada_alone,
            ada_alone.member(ADA, "ban", CAROL),
            Allowed,
        ),
    ]);
}

#[test]
fn malformed_events_and_state() {
    let lobby = lobby();
    let mut no_create = lobby.clone();
    no_create.events.remove(0);
    assert_cases(vec![
        case(
            "a member event with no state_key",
            &lobby,
            lobby.event(CAROL, "m.room.member", None, json!({"membership": "join"})),
            Rejected("4.1"),
        ),
        case(
            "a member event with no membership",
            &lobby,
            lobby.event(
                CAROL,
                "m.room.member",
                Some(CAROL),
                json!({"displayname": "C"}),
            ),
            Rejected("4.1"),
        ),
        case(
            "a membership the spec does not define",
            &lobby,
            lobby.member(CAROL, "dance", CAROL),
            Rejected("4.8"),
        ),
        case(
            "a membership that is not a string",
            &lobby,
            lobby.event(
                CAROL,
                "m.room.member",
                Some(CAROL),
                json!({"membership": 1}),
            ),
            Rejected("4.8"),
        ),
        case(
            "state without a create event is no room",
            &no_create,
            no_create.member(CAROL, "join", CAROL),
            Rejected("2.4"),
        ),
    ]);
}

/// Rules read the state they are given, and state moves on: a ban, then
/// the banned user's join; an invite, then the invited user's join.
#[test]
fn each_event_changes_what_the_next_may_do() {
    let lobby = lobby();
    let ban = lobby.member(MO, "ban", CAROL);
    let banned = lobby.clone().with(ban);
    let office = office();
    let invite = office.member(MO, "invite", CAROL);
    let invited = office.clone().with(invite);
    let kicked = office.clone().with_member(MO, "leave", ALICE);
    assert_cases(vec![
        case(
            "before the ban, Carol may join the public room",
            &lobby,
            lobby.member(CAROL, "join", CAROL),
            Allowed,
        ),
        case(
            "after the ban, she may not",
            &banned,
            banned.member(CAROL, "join", CAROL),
            Rejected("4.3.3"),
        ),
        case(
            "after an invite, Carol may join the invite-only room",
            &invited,
            invited.member(CAROL, "join", CAROL),
            Allowed,
        ),
        case(
            "after a kick, Alice may not rejoin the invite-only room",
            &kicked,
            kicked.member(ALICE, "join", ALICE),
            Rejected("4.3.7"),
        ),
        case(
            "after a kick, Alice may not invite",
            &kicked,
            kicked.member(ALICE, "invite", CAROL),
            Rejected("4.4.2"),
        ),
    ]);
}

/// The incident: a user whose account was lost re-registers the same name.
/// The room state every other server kept still says they are joined, so
/// the "new" user is a member already, and may speak for themselves...
/// while a forged join for someone else is still rejected.
#[test]
fn a_re_registered_user_is_still_a_member() {
    let lobby = lobby();
    assert_cases(vec![
        case(
            "Alice, re-registered, sets her membership again",
            &lobby,
            lobby.member(ALICE, "join", ALICE),
            Allowed,
        ),
        case(
            "Alice, re-registered, leaves",
            &lobby,
            lobby.member(ALICE, "leave", ALICE),
            Allowed,
        ),
        case(
            "a server forging a join for a user of another server",
            &lobby,
            lobby.member(BOB, "join", ALICE),
            Rejected("4.3.2"),
        ),
    ]);
}

/// The rooms above are built from events the workbench's rules allow, each
/// against the state before it, so every case starts from a legal room.
/// (This checks the fixtures, not your code.)
#[test]
fn fixtures_are_legal() {
    let private = fresh_with_ada_named("private").with_state(
        ADA,
        "m.room.join_rules",
        json!({"join_rule": "private"}),
    );
    for room in [fresh_with_ada(), lobby(), office(), private] {
        for (position, event) in room.events.iter().enumerate() {
            let before = Room {
                name: room.name,
                events: room.events[..position].to_vec(),
            };
            lostfound_protocol::auth::check_auth_rules(event, &before.state()).unwrap_or_else(
                |failure| panic!("{}: event {position} is not legal: {failure}", room.name),
            );
        }
    }
}
