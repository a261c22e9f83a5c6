//! Gaps: events whose parents B does not hold. This is how the federation
//! healed servers that were restored from old backups in 2021.

use super::fake::{Calls, FakePeers, ServerB};
use super::{ALICE, BOB, lobby};
use lostfound_protocol::state::slot;
use lostfound_server::federation::receive::{MISSING_EVENTS_LIMIT, Outcome};
use lostfound_store::Store;
use serde_json::json;

const CAROL: &str = "@carol:a.lab";

/// The incident, in miniature.
///
/// B was in Alice's room, then lost its database and was restored from a
/// backup: it knows the room only up to Bob's join. The room went on
/// without it: five events that B, after the restore, has never seen. No
/// one copies them back by hand. The next event a.lab sends names the
/// newest of them in its `prev_events`, B notices that it does not know
/// that parent, and asks a.lab for what lies between (`get_missing_events`).
/// Each event that comes back is checked like any other, oldest first,
/// and the room's history is whole again on B.
#[tokio::test]
async fn a_server_restored_from_an_old_backup_heals_through_get_missing_events() {
    let mut room = lobby();
    let backup = room.order.len();
    // What B forgot: the room carried on while B's database was lost.
    room.message(ALICE, "did everyone get the new schedule?");
    room.state(ALICE, "m.room.topic", "", json!({"topic": "schedule v2"}));
    room.message(BOB, "yes");
    room.state(CAROL, "m.room.member", CAROL, json!({"membership": "join"}));
    room.message(CAROL, "me too");
    let b = ServerB::holding(&room, backup);
    // The sixth event, sent to every server in the room, B included. Its
    // auth events cite Carol's join, which B lacks too.
    let sixth = room.message(CAROL, "welcome back, B");
    let peers = FakePeers::holding(&room);

    let outcome = b.receive(&peers, &sixth).await;

    assert_eq!(outcome.unwrap(), Outcome::Accepted);
    // One request filled the whole gap: no event fetched one by one, no
    // state asked for.
    let one_request = Calls {
        get_missing_events: 1,
        ..Calls::default()
    };
    assert_eq!(peers.calls(), one_request);
    // All six are back, in the room's order, visible to clients...
    assert_eq!(b.timeline(&room), room.order, "B's history is whole again");
    // ...and the room's state is what a.lab has: topic and Carol included.
    assert_eq!(b.current_state(&room), room.state_after[sixth.event_id()]);
    let extremities = b.store.forward_extremities(&room.room_id).unwrap();
    assert_eq!(
        extremities,
        vec![sixth.event_id().clone()],
        "one linear history"
    );
}

/// A longer absence: fifteen events B never saw. One `get_missing_events`
/// returns only the newest ten (the budget). B does not dig further: it
/// asks for the room's *state* at the oldest event it got (`state_ids`),
/// fetches the state event it lacks (the topic, set early in the gap) as an
/// outlier, and places the ten on that state. The five oldest stay missing
/// behind a backwards extremity, for backfill to bring when a client
/// scrolls back.
#[tokio::test]
async fn a_gap_longer_than_the_budget_is_bridged_by_the_state_at_its_newest_part() {
    let mut room = lobby();
    let backup = room.order.len();
    let topic = room.state(
        ALICE,
        "m.room.topic",
        "",
        json!({"topic": "while you were away"}),
    );
    for n in 2..=15 {
        room.message(ALICE, &format!("message {n} of the gap"));
    }
    let b = ServerB::holding(&room, backup);
    let sixteenth = room.message(BOB, "anyone there?");
    let peers = FakePeers::holding(&room);

    let outcome = b.receive(&peers, &sixteenth).await;

    assert_eq!(outcome.unwrap(), Outcome::Accepted);
    let expected = Calls {
        get_missing_events: 1,
        get_state_ids: 1,
        get_event: 1,
    };
    assert_eq!(peers.calls(), expected);
    // The timeline: B's old history, then the newest ten of the gap and the
    // sixteenth; the five oldest are not there.
    let limit = MISSING_EVENTS_LIMIT as usize;
    let mut timeline = room.order[..backup].to_vec();
    timeline.extend_from_slice(&room.order[room.order.len() - limit - 1..]);
    assert_eq!(b.timeline(&room), timeline);
    // The topic is known (an outlier, not in the timeline) and in force.
    let stored_topic = b.store.event(topic.event_id()).unwrap().expect("fetched");
    assert!(stored_topic.outlier);
    assert_eq!(
        b.current_state(&room)[&slot("m.room.topic", "")],
        *topic.event_id()
    );
    // Two extremities: B's old newest event, which nothing B holds follows
    // yet, and the sixteenth. B's next event will merge them.
    let extremities = b.store.forward_extremities(&room.room_id).unwrap();
    assert_eq!(extremities.len(), 2, "{extremities:?}");
    assert!(extremities.contains(sixteenth.event_id()));
}

/// Step 5 against step 6. Dan joined on a branch B never saw, and his
/// message cites that join as its proof of permission, but claims to
/// follow B's newest event, where Dan never joined. B fetches the join it
/// lacks (`/event`), checks it against *its* auth events (it is a valid
/// join, on its branch) and keeps it as an outlier; the message's own
/// proof holds. But in the state where the message claims to stand, Dan is
/// no member: rejected. Permission must hold where an event sits in
/// history, not only in the papers it carries.
#[tokio::test]
async fn an_auth_event_we_lack_is_fetched_but_the_state_before_the_event_decides() {
    let mut room = lobby();
    let tip = room.last();
    let b = ServerB::holding(&room, room.order.len());
    let dan = "@dan:a.lab";
    let join = room.send_after(
        std::slice::from_ref(&tip),
        dan,
        "m.room.member",
        Some(dan),
        json!({"membership": "join"}),
    );
    let joined = [join.event_id().clone()];
    let content = json!({"msgtype": "m.text", "body": "I was always here"});
    let message = room.send_citing(&[tip], &joined, dan, "m.room.message", None, content);
    let peers = FakePeers::holding(&room);

    let outcome = b.receive(&peers, &message).await;

    let Ok(Outcome::Rejected(reason)) = outcome else {
        panic!("{outcome:?}")
    };
    assert!(reason.starts_with("rejected by auth rule 5:"), "{reason}");
    assert_eq!(
        peers.calls(),
        Calls {
            get_event: 1,
            ..Calls::default()
        }
    );
    let stored_join = b.store.event(join.event_id()).unwrap().expect("fetched");
    assert!(stored_join.outlier, "kept, outside the timeline");
    assert!(b.store.event(message.event_id()).unwrap().is_none());
}
