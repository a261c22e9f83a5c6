//! Rules 1–3: how a room begins, what an event may cite as its proof of
//! permission, and rooms that stay on one server.

use super::*;

/// Rule 1: the create event is judged on its own, with nothing before it.
#[test]
fn create_event_rules() {
    let empty = Room::created("!lobby:tomesh.lab", json!({}));
    // A create event, as the first event of the room: no prev_events.
    let create = |sender: &str, content: Value| {
        empty.event_with(sender, "m.room.create", Some(""), content, |b| {
            b.prev_events([]).depth(1)
        })
    };
    let report = assert_cases(vec![
        case(
            "create event of the lobby",
            &empty,
            empty.current("m.room.create", "").clone(),
            Allowed,
        ),
        case(
            "create without room_version (it defaults to \"1\")",
            &empty,
            create(ADA, json!({"creator": ADA})),
            Allowed,
        ),
        case(
            "create with prev_events",
            &empty,
            empty.event(
                ADA,
                "m.room.create",
                Some(""),
                json!({"creator": ADA, "room_version": "10"}),
            ),
            Rejected("1.1"),
        ),
        case(
            "create by a user of another server than the room ID's",
            &empty,
            create(CAROL, json!({"creator": CAROL, "room_version": "10"})),
            Rejected("1.2"),
        ),
        case(
            "create with an unknown room_version",
            &empty,
            create(ADA, json!({"creator": ADA, "room_version": "42"})),
            Rejected("1.3"),
        ),
        case(
            "create with room_version as a number",
            &empty,
            create(ADA, json!({"creator": ADA, "room_version": 10})),
            Rejected("1.3"),
        ),
        case(
            "create without creator",
            &empty,
            create(ADA, json!({"room_version": "10"})),
            Rejected("1.4"),
        ),
    ]);
    insta::assert_snapshot!(report);
}

/// Rule 2: an event may cite only the state the spec selects, once each,
/// from its own room.
#[test]
fn auth_events_rules() {
    let mut lobby = Room::lobby("public");
    let annex = Room::started("!annex:tomesh.lab", json!({}), lobby_power_levels());
    lobby.remember(annex.current("m.room.create", ""));
    let a_message = lobby.message(MO, "a message is not state");
    lobby.remember(&a_message);
    let id = |event: &Pdu| event.event_id().clone();
    let (create, power_levels) = (
        lobby.current("m.room.create", ""),
        lobby.current("m.room.power_levels", ""),
    );
    let alice = lobby.current("m.room.member", ALICE);
    let body = || json!({"msgtype": "m.text", "body": "hi"});
    let message_citing = |auth: Vec<EventId>| {
        lobby.event_with(ALICE, "m.room.message", None, body(), |b| {
            b.auth_events(auth)
        })
    };

    let join_rules = lobby.history("m.room.join_rules", "");
    let carol_join = json!({"membership": "join"});
    let two_join_rules: Vec<EventId> = [create, power_levels]
        .into_iter()
        .chain(join_rules)
        .map(id)
        .collect();

    let report = assert_cases(vec![
        case(
            "message citing exactly the selected auth events",
            &lobby,
            lobby.message(ALICE, "hi"),
            Allowed,
        ),
        case(
            "join citing two versions of the join rules",
            &lobby,
            lobby.event_with(CAROL, "m.room.member", Some(CAROL), carol_join, |b| {
                b.auth_events(two_join_rules)
            }),
            Rejected("2.1"),
        ),
        case(
            "message citing the join rules, which only membership events may",
            &lobby,
            message_citing(vec![
                id(create),
                id(power_levels),
                id(alice),
                id(lobby.current("m.room.join_rules", "")),
            ]),
            Rejected("2.2"),
        ),
        case(
            "message citing another member's membership",
            &lobby,
            message_citing(vec![
                id(create),
                id(power_levels),
                id(lobby.current("m.room.member", MO)),
            ]),
            Rejected("2.2"),
        ),
        case(
            "message citing no create event",
            &lobby,
            message_citing(vec![id(power_levels), id(alice)]),
            Rejected("2.4"),
        ),
        case(
            "message citing the create event of another room",
            &lobby,
            message_citing(vec![
                id(annex.current("m.room.create", "")),
                id(power_levels),
                id(alice),
            ]),
            Rejected("2.5"),
        ),
        case(
            "message citing a message, which is not state and so grants nothing",
            &lobby,
            message_citing(vec![id(create), id(&a_message)]),
            Rejected("2.2"),
        ),
    ]);
    insta::assert_snapshot!(report);
}

/// Without a create event in the state there is nothing to check against.
#[test]
fn state_without_a_create_event_is_rejected() {
    let lobby = Room::lobby("public");
    let failure = check_auth_rules(&lobby.message(ALICE, "hi"), &StateMap::new()).unwrap_err();
    assert_eq!(failure.rule, "2.4");
}

/// Rule 3: `m.federate: false` keeps a room on its creator's server.
#[test]
fn unfederated_rooms() {
    let quiet = Room::started(
        "!quiet:tomesh.lab",
        json!({"m.federate": false}),
        lobby_power_levels(),
    );
    let report = assert_cases(vec![
        case(
            "local user joins an unfederated public room",
            &quiet,
            quiet.member(ALICE, ALICE, "join"),
            Allowed,
        ),
        case(
            "remote user joins an unfederated public room",
            &quiet,
            quiet.member(CAROL, CAROL, "join"),
            Rejected("3"),
        ),
        case(
            "local creator messages the unfederated room",
            &quiet,
            quiet.message(ADA, "just us here"),
            Allowed,
        ),
    ]);
    insta::assert_snapshot!(report);
}
